"""Inter-coder agreement for coded survey responses (pure Python, stdlib only).

Definitions
===========

Units
    The caller passes only the responses that every compared coder marked
    *done*; ``units_excluded`` (responses left out for not being done) is only
    carried through into the report.

Response as unit (``unit="response"``, the default)
    For each code, every unit gives one binary *decision* per coder: *present*
    if that coder applied the code anywhere in the response, else *absent*.
    Offsets are ignored in this mode.

Character as unit (``unit="character"``, NVivo's way)
    For each code, every character (code point) of every compared response is
    one decision per coder: *present* if it lies in the union of that coder's
    spans of that code in that response (spans are half-open ``[start, end)``
    code-point offsets).  Characters are pooled over the responses, so a code's
    ``units`` is the total length of all compared responses.

Codes
    A code is reported if at least one compared coder applied it on at least
    one unit.  A code nobody applied is not listed (its statistics would all be
    undefined).  Codes are sorted by name.

Per-code counts
    ``units``; ``both`` = units where all compared coders say present;
    ``neither`` = all absent; ``only[c]`` = units where coder ``c`` alone says
    present.  With more than two coders, units where some but not all (and
    more than one) coders say present are in none of these counts.

Percent agreement
    The share of units on which ALL compared coders give the same value
    (``(both + neither) / units`` for one code).  This is *not* Fleiss'
    mean of pairwise agreement (P-bar) and not Krippendorff's A_o; the three
    coincide only for two coders with complete data.

Cohen's kappa (exactly two coders)
    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share of units on the
    diagonal of the coder1 x coder2 contingency table and
    ``p_e = sum_k (row_k / n) * (col_k / n)`` from each coder's *own*
    marginals.  Computed as ``(n * trace - S) / (n**2 - S)`` with
    ``S = sum_k row_k * col_k``.  Undefined when ``p_e = 1`` (both coders gave
    every unit the same single value).  A code that only one coder used has
    ``p_o = p_e`` and therefore kappa exactly 0: it is defined.

Krippendorff's alpha (nominal, any number of coders >= 2)
    Only *pairable* values count (units with at least two values).  Unit ``u``
    with ``m_u`` values contributes ``1 / (m_u - 1)`` to the coincidence
    matrix ``o[c][k]`` for every ordered pair of its values from different
    coders.  With ``n_c`` the number of pairable values ``c`` and ``n`` their
    total::

        alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_{c != k} o[c][k]
                                     / sum_{c != k} n_c * n_k

    Undefined when there is no pairable value or no variation
    (``sum_{c != k} n_c n_k = 0``).  For the binary complete data of one code
    with ``m`` coders the coincidences follow from how many units have ``k``
    coders present: ``o[present][absent] = sum_u k_u (m - k_u) / (m - 1)``,
    ``n_present = sum_u k_u``.

Overall (pooled)
    Every (unit, code) pair of the listed codes is one item: the pooled 2x2
    table (kappa), the pooled coincidences (alpha) and the pooled agreement
    are the sums of the per-code counts.  ``mean_cohen_kappa`` and
    ``mean_krippendorff_alpha`` are the plain means of the per-code values
    over the codes where they are defined, reported with the number of codes
    where they are undefined.

Undefined statistics
    Every statistic is a :class:`Stat`: ``value`` is a float64 (never rounded
    here) or ``None``, and then ``reason`` says why ("no units",
    "no variation: every decision was 'absent'", "Cohen's kappa needs exactly
    two coders", ...).  Undefined values are never coerced to 0 or 1.

Public API
    ``compute_agreement(units, coders, *, unit, lengths, units_excluded)``
    -> :class:`AgreementReport` (``.to_dict()``, and ``to_csv_rows(report)``);
    general primitives ``cohen_kappa_from_table(table)``,
    ``cohen_kappa(y1, y2)``, ``krippendorff_alpha_nominal(values)`` and
    ``percent_agreement(values)`` (``values[coder][unit]``, ``None`` =
    missing).  Every statistic is a ``Stat(value, reason)``.

Speed
    Per code only the units where at least one coder applied it are visited
    (``neither = units - the rest``), and everything is computed from counts;
    character coverage uses merged intervals and a sweep over their ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import fsum

__all__ = [
    "Stat",
    "CodeAgreement",
    "OverallAgreement",
    "AgreementReport",
    "cohen_kappa_from_table",
    "cohen_kappa",
    "krippendorff_alpha_nominal",
    "percent_agreement",
    "compute_agreement",
    "to_csv_rows",
    "NO_UNITS",
    "NO_PAIRABLE",
    "KAPPA_NEEDS_TWO",
]

NO_UNITS = "no units"
NO_PAIRABLE = "no unit coded by >= 2 coders"
KAPPA_NEEDS_TWO = "Cohen's kappa needs exactly two coders"
NO_CODES = "no code was applied by any compared coder"
PRESENT, ABSENT = "present", "absent"


@dataclass(frozen=True)
class Stat:
    """A statistic: ``value`` (float64) when defined, else ``None`` and a ``reason``."""

    value: float | None
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None


def _undefined(reason: str) -> Stat:
    return Stat(None, reason)


def _no_variation(label: object) -> Stat:
    return Stat(None, f"no variation: every decision was {label!r}")


# --------------------------------------------------------------------------
# General primitives
# --------------------------------------------------------------------------


def cohen_kappa_from_table(
    table: Sequence[Sequence[float]], categories: Sequence[object] | None = None
) -> Stat:
    """Cohen's kappa of a square contingency table (``table[i][j]``: coder 1
    said category ``i``, coder 2 category ``j``).  ``categories`` only names
    the categories in the reason when kappa is undefined."""
    k = len(table)
    if any(len(row) != k for row in table):
        raise ValueError("contingency table must be square")
    n = sum(sum(row) for row in table)
    if n == 0:
        return _undefined(NO_UNITS)
    rows = [sum(row) for row in table]
    cols = [sum(table[i][j] for i in range(k)) for j in range(k)]
    trace = sum(table[i][i] for i in range(k))
    s = sum(r * c for r, c in zip(rows, cols))
    if s == n * n:  # p_e = 1: both coders used one and the same category only
        i = rows.index(n) if n in rows else max(range(k), key=rows.__getitem__)
        return _no_variation(categories[i] if categories else f"category {i}")
    return Stat((n * trace - s) / (n * n - s))


def cohen_kappa(y1: Sequence[Hashable | None], y2: Sequence[Hashable | None]) -> Stat:
    """Cohen's kappa of two coders' values per unit (``None`` = not coded);
    units that either coder did not code are dropped (listwise)."""
    if len(y1) != len(y2):
        raise ValueError("both coders need one value per unit")
    pairs = [(a, b) for a, b in zip(y1, y2) if a is not None and b is not None]
    if not pairs:
        return _undefined(NO_UNITS if not any(v is not None for v in (*y1, *y2)) else NO_PAIRABLE)
    cats = list(dict.fromkeys(v for p in pairs for v in p))
    index = {c: i for i, c in enumerate(cats)}
    table = [[0] * len(cats) for _ in cats]
    for a, b in pairs:
        table[index[a]][index[b]] += 1
    return cohen_kappa_from_table(table, cats)


def _alpha_from_coincidences(value_counts: Mapping[object, int], disagreement: float) -> Stat:
    """Nominal alpha from the pairable values per category (``n_c``) and the
    off-diagonal sum of the coincidence matrix (``sum_{c != k} o[c][k]``)."""
    n = sum(value_counts.values())
    if n == 0:
        return _undefined(NO_PAIRABLE)
    expected = n * n - sum(v * v for v in value_counts.values())  # sum_{c != k} n_c n_k
    if expected == 0:
        return _no_variation(next(c for c, v in value_counts.items() if v))
    return Stat(1.0 - (n - 1) * disagreement / expected)


def krippendorff_alpha_nominal(values: Sequence[Sequence[Hashable | None]]) -> Stat:
    """Krippendorff's alpha, nominal level.  ``values[c][u]`` is coder ``c``'s
    value for unit ``u`` (``None`` = missing; any hashable categories).
    Units with fewer than two values are dropped."""
    n_units = _check_matrix(values)
    if n_units == 0 or all(v is None for row in values for v in row):
        return _undefined(NO_UNITS)
    value_counts: Counter = Counter()
    disagreement = 0.0
    for u in range(n_units):
        unit_counts = Counter(row[u] for row in values if row[u] is not None)
        m_u = sum(unit_counts.values())
        if m_u < 2:
            continue
        value_counts.update(unit_counts)
        # ordered pairs of values from different coders that disagree
        disagreement += (m_u * m_u - sum(v * v for v in unit_counts.values())) / (m_u - 1)
    return _alpha_from_coincidences(value_counts, disagreement)


def percent_agreement(values: Sequence[Sequence[Hashable | None]]) -> Stat:
    """Share of units on which all coders that coded the unit gave the same
    value, over the units coded by at least two coders (``values[c][u]``,
    ``None`` = missing).  Not Fleiss' mean pairwise agreement."""
    n_units = _check_matrix(values)
    if n_units == 0 or all(v is None for row in values for v in row):
        return _undefined(NO_UNITS)
    agree = pairable = 0
    for u in range(n_units):
        present = [row[u] for row in values if row[u] is not None]
        if len(present) >= 2:
            pairable += 1
            agree += len(set(present)) == 1
    return Stat(agree / pairable) if pairable else _undefined(NO_PAIRABLE)


def _check_matrix(values: Sequence[Sequence[object]]) -> int:
    lengths = {len(row) for row in values}
    if len(lengths) > 1:
        raise ValueError("every coder needs one value per unit")
    return lengths.pop() if lengths else 0


# --------------------------------------------------------------------------
# Binary (present/absent) counts -> statistics: one path for codes and pooled
# --------------------------------------------------------------------------


class _Counts:
    """Decisions of one code (or of pooled codes) among ``m`` coders:
    ``hist[k]`` = units where exactly ``k`` coders said present (``hist[0]``
    is derived from ``units`` at the end), ``only[i]`` = units where coder
    ``i`` alone said present."""

    __slots__ = ("m", "units", "hist", "only")

    def __init__(self, m: int) -> None:
        self.m, self.units = m, 0
        self.hist = [0] * (m + 1)
        self.only = [0] * m

    def add(self, mask: int, weight: int = 1) -> None:
        """Record ``weight`` units on which the coders in bit set ``mask`` said present."""
        k = mask.bit_count()
        self.hist[k] += weight
        if k == 1:
            self.only[mask.bit_length() - 1] += weight

    def finish(self, units: int) -> _Counts:
        self.units = units
        self.hist[0] = units - sum(self.hist[1:])
        return self

    def __iadd__(self, other: _Counts) -> _Counts:
        self.units += other.units
        self.hist = [a + b for a, b in zip(self.hist, other.hist)]
        self.only = [a + b for a, b in zip(self.only, other.only)]
        return self

    def stats(self, empty_reason: str = NO_UNITS) -> tuple[Stat, Stat, Stat]:
        """(percent agreement, Cohen's kappa, Krippendorff's alpha)."""
        m, h = self.m, self.hist
        if self.units == 0:
            return (_undefined(empty_reason),) * 3
        pa = Stat((h[0] + h[m]) / self.units)
        if m == 2:
            table = [[h[2], self.only[0]], [self.only[1], h[0]]]
            kappa = cohen_kappa_from_table(table, (PRESENT, ABSENT))
        else:
            kappa = _undefined(KAPPA_NEEDS_TWO)
        n_present = sum(k * h[k] for k in range(m + 1))
        n_absent = m * self.units - n_present
        mixed = sum(k * (m - k) * h[k] for k in range(1, m))
        alpha = _alpha_from_coincidences({PRESENT: n_present, ABSENT: n_absent}, 2 * mixed / (m - 1))
        return pa, kappa, alpha


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _combine_reasons(stats: Iterable[Stat]) -> str | None:
    reasons = list(dict.fromkeys(s.reason for s in stats if s.value is None and s.reason))
    return "; ".join(reasons) or None


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code.  ``units`` counts characters in character mode."""

    code: str
    units: int
    both: int
    neither: int
    only: Mapping[str, int]
    percent_agreement: Stat
    cohen_kappa: Stat
    krippendorff_alpha: Stat

    @property
    def undefined_reason(self) -> str | None:
        return _combine_reasons((self.percent_agreement, self.cohen_kappa, self.krippendorff_alpha))

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "units": self.units,
            "both": self.both,
            "only": dict(self.only),
            "neither": self.neither,
            "percent_agreement": self.percent_agreement.value,
            "cohen_kappa": self.cohen_kappa.value,
            "krippendorff_alpha": self.krippendorff_alpha.value,
            "undefined_reason": self.undefined_reason,
        }


@dataclass(frozen=True)
class OverallAgreement:
    """Pooled statistics over all (unit, code) items of the listed codes, and
    the means of the per-code values over the codes where they are defined."""

    items: int
    both: int
    neither: int
    only: Mapping[str, int]
    percent_agreement: Stat
    cohen_kappa: Stat
    krippendorff_alpha: Stat
    mean_cohen_kappa: Stat
    mean_krippendorff_alpha: Stat
    codes_undefined_cohen_kappa: int
    codes_undefined_krippendorff_alpha: int

    STATS = (
        "percent_agreement",
        "cohen_kappa",
        "krippendorff_alpha",
        "mean_cohen_kappa",
        "mean_krippendorff_alpha",
    )

    @property
    def undefined_reasons(self) -> dict[str, str]:
        return {k: getattr(self, k).reason for k in self.STATS if getattr(self, k).value is None}

    @property
    def undefined_reason(self) -> str | None:
        return _combine_reasons(getattr(self, k) for k in self.STATS)

    def to_dict(self) -> dict:
        out: dict = {k: getattr(self, k).value for k in self.STATS}
        out.update(
            undefined_reasons=self.undefined_reasons,
            codes_undefined={
                "cohen_kappa": self.codes_undefined_cohen_kappa,
                "krippendorff_alpha": self.codes_undefined_krippendorff_alpha,
            },
            items=self.items,
            both=self.both,
            only=dict(self.only),
            neither=self.neither,
        )
        return out


@dataclass(frozen=True)
class AgreementReport:
    unit: str
    coders: tuple[str, ...]
    units_compared: int
    units_excluded: int
    overall: OverallAgreement
    codes: tuple[CodeAgreement, ...]

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "coders": list(self.coders),
            "units_compared": self.units_compared,
            "units_excluded": self.units_excluded,
            "overall": self.overall.to_dict(),
            "codes": [c.to_dict() for c in self.codes],
        }


def _mean(stats: list[Stat], empty_reason: str) -> tuple[Stat, int]:
    values = [s.value for s in stats if s.value is not None]
    undefined = len(stats) - len(values)
    if values:
        return Stat(fsum(values) / len(values)), undefined
    reasons = {s.reason for s in stats}
    if not stats:
        return _undefined(empty_reason), 0
    return _undefined(reasons.pop() if len(reasons) == 1 else "undefined for every code"), undefined


def _code_entry(
    code: str, counts: _Counts, coders: Sequence[str], empty_reason: str = NO_UNITS
) -> CodeAgreement:
    pa, kappa, alpha = counts.stats(empty_reason)
    return CodeAgreement(
        code=code,
        units=counts.units,
        both=counts.hist[counts.m],
        neither=counts.hist[0],
        only=dict(zip(coders, counts.only)),
        percent_agreement=pa,
        cohen_kappa=kappa,
        krippendorff_alpha=alpha,
    )


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------

Step = Callable[[int], None]
STEP_EVERY = 1024  # units between calls of a progress ``step``


def _count_responses(units, index: Mapping[str, int], step: Step | None) -> dict[str, _Counts]:
    m = len(index)
    per_code: dict[str, _Counts] = {}
    for n, by_coder in enumerate(units.values()):
        if step is not None and not n % STEP_EVERY:
            step(n)
        masks: dict[str, int] = {}
        for coder, codings in by_coder.items():
            i = index.get(coder)
            if i is None:  # a coder that is not compared
                continue
            bit = 1 << i
            for coding in codings:
                code = coding[0]
                masks[code] = masks.get(code, 0) | bit
        for code, mask in masks.items():
            counts = per_code.get(code)
            if counts is None:
                counts = per_code[code] = _Counts(m)
            counts.add(mask)
    n = len(units)
    return {code: c.finish(n) for code, c in per_code.items()}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals as sorted, disjoint, non-touching intervals."""
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1][1] = e
        elif e > s:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _count_characters(units, index: Mapping[str, int], lengths: Mapping[str, int],
                      step: Step | None) -> dict[str, _Counts]:
    m = len(index)
    per_code: dict[str, _Counts] = {}
    total = 0
    for n, (uid, by_coder) in enumerate(units.items()):
        if step is not None and not n % STEP_EVERY:
            step(n)
        try:
            length = lengths[uid]
        except KeyError:
            raise ValueError(f"no text length for unit {uid!r}") from None
        total += length
        spans: dict[str, dict[int, list[tuple[int, int]]]] = {}
        for coder, codings in by_coder.items():
            i = index.get(coder)
            if i is None:
                continue
            for code, start, end in codings:
                if not 0 <= start <= end <= length:
                    raise ValueError(
                        f"span [{start}, {end}) of code {code!r} by {coder!r} in unit {uid!r} "
                        f"is outside the text (length {length})"
                    )
                spans.setdefault(code, {}).setdefault(i, []).append((start, end))
        for code, by_index in spans.items():
            counts = per_code.get(code)
            if counts is None:
                counts = per_code[code] = _Counts(m)
            # Sweep over interval ends; each coder's intervals are disjoint and
            # non-touching, so every end toggles that coder's bit.
            events = sorted(
                (pos, 1 << i) for i, ivs in by_index.items() for iv in _merge(ivs) for pos in iv
            )
            mask = prev = 0
            for pos, bit in events:
                if mask and pos > prev:
                    counts.add(mask, pos - prev)
                mask ^= bit
                prev = pos
    return {code: c.finish(total) for code, c in per_code.items()}


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def compute_agreement(
    units: Mapping[str, Mapping[str, Iterable[tuple[str, int, int]]]],
    coders: Sequence[str],
    *,
    unit: str = "response",
    lengths: Mapping[str, int] | None = None,
    units_excluded: int = 0,
    step: Step | None = None,
) -> AgreementReport:
    """Agreement between ``coders`` on the done ``units``.

    ``units[unit_id][coder]`` holds the ``(code, start, end)`` codings of that
    coder in that response; a coder missing from the inner mapping coded
    nothing there.  Coders in the data that are not in ``coders`` are ignored.
    ``unit`` is ``"response"`` or ``"character"``; the latter needs
    ``lengths[unit_id]`` (text length in code points) and raises ValueError for
    spans outside ``[0, length]``.  ``step(n)``, if given, is called with the
    number of units counted so far every :data:`STEP_EVERY` units (a progress
    bar; it may raise to stop the work).
    """
    coders = tuple(coders)
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    if len(set(coders)) != len(coders):
        raise ValueError("duplicate coders")
    index = {c: i for i, c in enumerate(coders)}
    if unit == "response":
        per_code = _count_responses(units, index, step)
    elif unit == "character":
        if lengths is None:
            raise ValueError("character units need the text lengths")
        per_code = _count_characters(units, index, lengths, step)
    else:
        raise ValueError(f"unknown unit {unit!r} (use 'response' or 'character')")

    codes = tuple(_code_entry(code, per_code[code], coders) for code in sorted(per_code))
    pooled = _Counts(len(coders))
    for c in per_code.values():
        pooled += c
    empty_reason = NO_CODES if units and not per_code else NO_UNITS
    entry = _code_entry("(overall)", pooled, coders, empty_reason)
    mean_kappa, undefined_kappa = _mean([c.cohen_kappa for c in codes], empty_reason)
    mean_alpha, undefined_alpha = _mean([c.krippendorff_alpha for c in codes], empty_reason)
    overall = OverallAgreement(
        items=entry.units,
        both=entry.both,
        neither=entry.neither,
        only=entry.only,
        percent_agreement=entry.percent_agreement,
        cohen_kappa=entry.cohen_kappa,
        krippendorff_alpha=entry.krippendorff_alpha,
        mean_cohen_kappa=mean_kappa,
        mean_krippendorff_alpha=mean_alpha,
        codes_undefined_cohen_kappa=undefined_kappa,
        codes_undefined_krippendorff_alpha=undefined_alpha,
    )
    return AgreementReport(unit, coders, len(units), units_excluded, overall, codes)


def to_csv_rows(report: AgreementReport) -> list[list[object]]:
    """Header, one row per code, and a last ``(overall)`` row (pooled figures;
    ``units`` there is the number of pooled items).  ``None`` = undefined."""
    header = ["code", "units", "both", *(f"only_{c}" for c in report.coders), "neither",
              "percent_agreement", "cohen_kappa", "krippendorff_alpha", "undefined_reason",
              "mean_cohen_kappa", "mean_krippendorff_alpha"]
    rows: list[list[object]] = [header]
    for c in report.codes:
        d = c.to_dict()
        rows.append([c.code, c.units, c.both, *(c.only[k] for k in report.coders), c.neither,
                     d["percent_agreement"], d["cohen_kappa"], d["krippendorff_alpha"],
                     d["undefined_reason"], None, None])
    o = report.overall
    rows.append(["(overall)", o.items, o.both, *(o.only[k] for k in report.coders), o.neither,
                 o.percent_agreement.value, o.cohen_kappa.value, o.krippendorff_alpha.value,
                 o.undefined_reason, o.mean_cohen_kappa.value, o.mean_krippendorff_alpha.value])
    return rows
