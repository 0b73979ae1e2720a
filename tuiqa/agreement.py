"""Inter-coder agreement for coded survey answers: the report (pure Python; numpy only for the
bootstrap intervals, :mod:`tuiqa.bootstrap`).

Definitions
===========

Coders and units
    Any number ``m >= 2`` of coders. The caller passes the answers and, per answer, which of the
    compared coders marked it *done* (``done``; ``None``: all of them, every answer). An answer
    not finished by a coder is *missing* for that coder, never read as "no code". Answers
    finished by fewer than two compared coders are no units at all (there is nothing to
    compare). ``units_compared`` counts the answers finished by every compared coder;
    ``units_pairable`` those finished by at least two.

Answer as unit (``unit="answer"``; ``"response"`` is its older name and still accepted)
    For each code, every answer gives one binary *decision* per coder who finished it:
    *present* if that coder applied the code anywhere in the answer, else *absent*.

Character as unit (``unit="character"``, NVivo's way)
    For each code, every character (code point) of every answer is one decision per coder who
    finished the answer: *present* if it lies in the union of that coder's spans of that code
    (half-open ``[start, end)`` code-point offsets). Characters are pooled over answers.

Codes
    A code is reported if at least one compared coder applied it on at least one unit; a code
    nobody applied is not listed (its statistics would all be undefined). Codes sorted by name.

Per-code counts (on the units finished by every compared coder)
    ``units``; ``both`` = all present; ``neither`` = all absent; ``only[c]`` = coder ``c`` alone
    present. With more than two coders, units where some but not all (and more than one) coders
    say present are in none of these counts.

Which units each statistic uses
    * Krippendorff's alpha: every unit finished by at least two coders; a coder's missing
      answers are missing values (nominal alpha, any number of coders).
    * Cohen's kappa for each pair of coders: the units both finished (listwise per pair).
    * Everything else (percent agreement, Fleiss' kappa, Gwet's AC1, Brennan-Prediger, Scott's
      pi, prevalence): the units finished by every compared coder.
    With two coders all of these are the same units.

Statistics (present/absent, ``q = 2`` categories; ``n`` units finished by all, ``k_u`` coders
present on unit ``u``)
    * percent agreement: the share of units on which ALL compared coders give the same value,
      ``(both + neither) / units``. Not Fleiss' mean pairwise agreement ``P`` below (they
      coincide for two coders).
    * ``P = (1/n) sum_u [k_u (k_u - 1) + (m - k_u)(m - k_u - 1)] / (m (m - 1))`` (the share of
      agreeing coder pairs); ``pi = sum_u k_u / (m n)`` is the *prevalence* (share of present
      decisions).
    * Cohen's kappa (exactly two coders) ``(p_o - p_e) / (1 - p_e)``, ``p_e`` from each coder's
      own marginals; computed as ``(n trace - S) / (n^2 - S)``, ``S = sum_k row_k col_k``.
      Undefined when ``p_e = 1``. A code only one coder used has kappa exactly 0: defined.
    * Mean pairwise Cohen's kappa (Light's kappa): the mean over every pair of coders of their
      Cohen's kappa on the units both finished, over the pairs where it is defined.
    * Fleiss' kappa ``(P - p_e) / (1 - p_e)``, ``p_e = pi^2 + (1 - pi)^2``; with two coders it
      equals Scott's pi.
    * Scott's pi: Fleiss' kappa of exactly two coders (undefined, with that reason, for more).
    * Gwet's AC1 ``(P - p_e) / (1 - p_e)``, ``p_e = 2 pi (1 - pi)`` (``q = 2``): defined even
      when a code is rare (``p_e <= 1/2``).
    * Brennan-Prediger kappa ``(P - 1/2) / (1/2)``.
    * Krippendorff's alpha (nominal) ``1 - (N - 1) sum_{c != k} o_ck / sum_{c != k} n_c n_k``
      over the coincidences of pairable values: unit ``u`` with ``r_u`` values of which
      ``k_u`` present adds ``k_u (r_u - k_u) / (r_u - 1)`` to ``o[present][absent]``.
      Undefined without a pairable value or without variation.

Kappa paradox flag
    ``kappa_paradox`` is true for a code whose kappa (Cohen's with two coders, Fleiss' with more)
    is below 0.40 while percent agreement is at least 0.80 and the prevalence is extreme (at
    most 0.15 or at least 0.85): kappa is low because the code is rare (or nearly universal),
    not because coders disagree; AC1 and Brennan-Prediger (which do not collapse then) stand
    beside it. The thresholds are :data:`PARADOX_KAPPA_BELOW` (Cicchetti's "poor"),
    :data:`PARADOX_AGREEMENT_AT_LEAST` and :data:`PARADOX_PREVALENCE`.

Extract overlap and segments
    Per code (and pooled) :mod:`tuiqa.overlap`: mean Jaccard and MASI overlap of the coders'
    extracts where both applied the code, and MAXQDA-style segment agreement (threshold
    ``overlap_threshold``); pooled, the segment kappa (Brennan-Prediger, ``q`` = codes).

Character units, NVivo's per-answer kappa
    With characters as units and two coders, ``cohen_kappa_mean_over_answers`` and
    ``cohen_kappa_length_weighted_over_answers`` average the kappa of each answer where the code
    was applied (where it is defined), plainly and weighted by the answer's length: the
    numbers NVivo users get by averaging its per-source results. The pooled-characters kappa
    (``cohen_kappa``) is the one to report; the averages are there to compare.

Overall (pooled)
    Every (unit, code) pair of the listed codes is one item: the pooled statistics are those of
    the summed counts. ``mean_<statistic>`` is the plain mean of the per-code values over the
    codes where they are defined, with ``codes_undefined`` counting the others.

Uncertainty
    With ``intervals`` (the default), a seeded percentile bootstrap 95% interval (1000 resamples
    of the answers by default; :mod:`tuiqa.bootstrap`) for Krippendorff's alpha and the kappa
    (Cohen's with two coders, Fleiss' with more), per code and pooled, in ``intervals``.

Undefined statistics
    Every statistic is a :class:`Stat`: a float64 ``value`` (never rounded here) or ``None``
    with the ``reason``. Undefined values are never coerced to 0 or 1.

Public API
    ``compute_agreement(units, coders, *, unit, lengths, done, units_excluded, step, intervals,
    resamples, seed, overlap_threshold)`` -> :class:`AgreementReport` (``.to_dict()``,
    ``to_csv_rows(report)``); ``agreement_from_rows`` takes the answers as :data:`Row`\\s (what
    :mod:`tuiqa.coders` reads from a project); the general coefficients are in
    :mod:`tuiqa.coefficients` (those of the first version are re-exported here).

Speed
    Per code only the units where at least one coder applied it are visited (the rest is
    derived from per-answer totals); everything is computed from counts keyed by (coders who
    finished, coders who applied); character coverage uses merged intervals and a sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import fsum

from .coefficients import (
    NO_PAIRABLE,
    NO_UNITS,
    Interval,
    Stat,
    alpha_from_coincidences,
    chance_corrected,
    cohen_kappa,
    cohen_kappa_from_table,
    krippendorff_alpha_nominal,
    mean_of,
    no_variation,
    percent_agreement,
    undefined,
)
from .overlap import DEFAULT_THRESHOLD, Overlap, OverlapCounts, answer_overlap, merge, segment_kappa

__all__ = [
    "Stat",
    "CodeAgreement",
    "OverallAgreement",
    "AgreementReport",
    "PairAgreement",
    "cohen_kappa_from_table",
    "cohen_kappa",
    "krippendorff_alpha_nominal",
    "percent_agreement",
    "compute_agreement",
    "normalise_unit",
    "to_csv_rows",
    "NO_UNITS",
    "NO_PAIRABLE",
    "KAPPA_NEEDS_TWO",
    "PI_NEEDS_TWO",
]

KAPPA_NEEDS_TWO = "Cohen's kappa needs exactly two coders"
PI_NEEDS_TWO = "Scott's pi is for two coders (Fleiss' kappa is its extension to more)"
NO_CODES = "no code was applied by any compared coder"
NO_COMPLETE = "no unit finished by every compared coder"
CHARACTERS_ONLY = "only with characters as units"
PRESENT, ABSENT = "present", "absent"

UNITS = ("answer", "character")
UNIT_ALIASES = {"response": "answer"}

PARADOX_KAPPA_BELOW = 0.40
PARADOX_AGREEMENT_AT_LEAST = 0.80
PARADOX_PREVALENCE = 0.15  # extreme: at most this share of present decisions, or at least 1 - it

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 17

# statistics every code and the pooled figures have, in the order tables show them
STATS = ("percent_agreement", "cohen_kappa", "mean_pairwise_cohen_kappa", "fleiss_kappa", "scott_pi",
         "gwet_ac1", "brennan_prediger", "krippendorff_alpha")
INTERVAL_STATS = ("krippendorff_alpha", "cohen_kappa", "fleiss_kappa")  # the CSV's interval columns
PER_ANSWER = ("cohen_kappa_mean_over_answers", "cohen_kappa_length_weighted_over_answers")


def interval_stats(coders: int) -> tuple[str, str]:
    """The statistics that get intervals: alpha and the kappa (Cohen's for two coders, else
    Fleiss')."""
    return ("krippendorff_alpha", "cohen_kappa" if coders == 2 else "fleiss_kappa")


def normalise_unit(unit: str) -> str:
    """``answer`` or ``character`` (``response`` is the older name of ``answer``)."""
    name = UNIT_ALIASES.get(unit, unit)
    if name not in UNITS:
        raise ValueError(f"unknown unit {unit!r} (use 'answer' or 'character')")
    return name


def _combine_reasons(stats: Iterable[Stat]) -> str | None:
    reasons = list(dict.fromkeys(s.reason for s in stats if s.value is None and s.reason))
    return "; ".join(reasons) or None


NO_INTERVALS = "intervals were not asked for"


@dataclass(frozen=True)
class PairAgreement:
    """Cohen's kappa of one pair of coders on the units both finished."""

    coders: tuple[str, str]
    units: int
    both: int
    only: tuple[int, int]
    neither: int
    cohen_kappa: Stat

    def to_dict(self) -> dict:
        return {"coders": list(self.coders), "units": self.units, "both": self.both,
                "only": dict(zip(self.coders, self.only)), "neither": self.neither,
                "cohen_kappa": self.cohen_kappa.value, "reason": self.cohen_kappa.reason}


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code (or, named ``(overall)``, pooled over codes). ``units`` counts
    characters in character mode."""

    code: str
    units: int
    both: int
    neither: int
    only: Mapping[str, int]
    percent_agreement: Stat
    cohen_kappa: Stat
    krippendorff_alpha: Stat
    units_pairable: int = 0
    prevalence: Stat = Stat(None, NO_UNITS)
    fleiss_kappa: Stat = Stat(None, NO_UNITS)
    scott_pi: Stat = Stat(None, NO_UNITS)
    gwet_ac1: Stat = Stat(None, NO_UNITS)
    brennan_prediger: Stat = Stat(None, NO_UNITS)
    mean_pairwise_cohen_kappa: Stat = Stat(None, NO_UNITS)
    pairwise: tuple[PairAgreement, ...] = ()
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    overlap: Overlap | None = None
    cohen_kappa_mean_over_answers: Stat = Stat(None, CHARACTERS_ONLY)
    cohen_kappa_length_weighted_over_answers: Stat = Stat(None, CHARACTERS_ONLY)

    @property
    def undefined_reason(self) -> str | None:
        """The reasons of the three first statistics (percent agreement, kappa, alpha)."""
        return _combine_reasons((self.percent_agreement, self.cohen_kappa, self.krippendorff_alpha))

    @property
    def kappa(self) -> Stat:
        """The kappa the paradox flag looks at: Cohen's with two coders, else Fleiss'."""
        return self.cohen_kappa if len(self.only) == 2 else self.fleiss_kappa

    @property
    def kappa_paradox(self) -> bool:
        k, pa, prev = self.kappa.value, self.percent_agreement.value, self.prevalence.value
        return (k is not None and pa is not None and prev is not None and k < PARADOX_KAPPA_BELOW
                and pa >= PARADOX_AGREEMENT_AT_LEAST
                and (prev <= PARADOX_PREVALENCE or prev >= 1 - PARADOX_PREVALENCE))

    def stat(self, name: str) -> Stat:
        return getattr(self, name)

    @property
    def undefined_reasons(self) -> dict[str, str]:
        out = {name: self.stat(name).reason for name in (*STATS, "prevalence", *PER_ANSWER)
               if self.stat(name).value is None and self.stat(name).reason}
        for name, iv in self.intervals.items():
            if iv.low is None and iv.reason:
                out[f"{name}_interval"] = iv.reason
        if self.overlap is not None:
            out.update(self.overlap.reasons())
        return out

    def to_dict(self) -> dict:
        out = {
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
        out.update(self._new_keys())
        return out

    def _new_keys(self) -> dict:
        return {
            "units_pairable": self.units_pairable,
            "prevalence": self.prevalence.value,
            "fleiss_kappa": self.fleiss_kappa.value,
            "scott_pi": self.scott_pi.value,
            "gwet_ac1": self.gwet_ac1.value,
            "brennan_prediger": self.brennan_prediger.value,
            "mean_pairwise_cohen_kappa": self.mean_pairwise_cohen_kappa.value,
            "pairwise_cohen_kappa": [p.to_dict() for p in self.pairwise],
            "kappa_paradox": self.kappa_paradox,
            "intervals": {k: v.to_dict() for k, v in self.intervals.items()},
            "overlap": self.overlap.to_dict() if self.overlap is not None else None,
            "cohen_kappa_mean_over_answers": self.cohen_kappa_mean_over_answers.value,
            "cohen_kappa_length_weighted_over_answers": self.cohen_kappa_length_weighted_over_answers.value,
            "undefined_reasons": self.undefined_reasons,
        }


@dataclass(frozen=True)
class OverallAgreement:
    """Pooled statistics over all (unit, code) items of the listed codes, and the means of the
    per-code values over the codes where they are defined."""

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
    pooled: CodeAgreement | None = None
    means: Mapping[str, Stat] = field(default_factory=dict)
    codes_undefined: Mapping[str, int] = field(default_factory=dict)
    segment_kappa: Stat = Stat(None, NO_CODES)

    STATS = (
        "percent_agreement",
        "cohen_kappa",
        "krippendorff_alpha",
        "mean_cohen_kappa",
        "mean_krippendorff_alpha",
    )

    @property
    def undefined_reasons(self) -> dict[str, str]:
        out = {k: getattr(self, k).reason for k in self.STATS if getattr(self, k).value is None}
        if self.pooled is not None:
            for k, reason in self.pooled.undefined_reasons.items():
                if k not in PER_ANSWER:  # per code only
                    out.setdefault(k, reason)
        for k, s in self.means.items():
            if s.value is None and s.reason:
                out.setdefault(f"mean_{k}", s.reason)
        if self.segment_kappa.value is None and self.segment_kappa.reason:
            out["segment_kappa"] = self.segment_kappa.reason
        return out

    @property
    def undefined_reason(self) -> str | None:
        return _combine_reasons(getattr(self, k) for k in self.STATS)

    def to_dict(self) -> dict:
        out: dict = {k: getattr(self, k).value for k in self.STATS}
        codes_undefined = {"cohen_kappa": self.codes_undefined_cohen_kappa,
                           "krippendorff_alpha": self.codes_undefined_krippendorff_alpha}
        codes_undefined.update(self.codes_undefined)
        out.update(
            undefined_reasons=self.undefined_reasons,
            codes_undefined=codes_undefined,
            items=self.items,
            both=self.both,
            only=dict(self.only),
            neither=self.neither,
        )
        if self.pooled is not None:
            new = self.pooled._new_keys()
            new.pop("undefined_reasons")
            new.pop("cohen_kappa_mean_over_answers")
            new.pop("cohen_kappa_length_weighted_over_answers")
            out.update(new)
        out["means"] = {k: s.value for k, s in self.means.items()}
        out["segment_kappa"] = self.segment_kappa.value
        return out


@dataclass(frozen=True)
class AgreementReport:
    unit: str
    coders: tuple[str, ...]
    units_compared: int
    units_excluded: int
    overall: OverallAgreement
    codes: tuple[CodeAgreement, ...]
    units_pairable: int = 0
    units_by_pair: Mapping[tuple[str, str], int] = field(default_factory=dict)
    intervals: bool = False
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    overlap_threshold: float = DEFAULT_THRESHOLD

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "coders": list(self.coders),
            "units_compared": self.units_compared,
            "units_excluded": self.units_excluded,
            "overall": self.overall.to_dict(),
            "codes": [c.to_dict() for c in self.codes],
            "units_pairable": self.units_pairable,
            "units_by_pair": [{"coders": list(k), "units": v} for k, v in self.units_by_pair.items()],
            "bootstrap": ({"resamples": self.resamples, "seed": self.seed, "level": 0.95,
                           "method": "percentile; answers resampled with replacement"}
                          if self.intervals else None),
            "overlap_threshold": self.overlap_threshold,
            "kappa_paradox_rule": {"kappa_below": PARADOX_KAPPA_BELOW,
                                   "percent_agreement_at_least": PARADOX_AGREEMENT_AT_LEAST,
                                   "prevalence_at_most": PARADOX_PREVALENCE,
                                   "or_at_least": 1 - PARADOX_PREVALENCE},
        }


# --------------------------------------------------------------------------
# From counts to statistics
# --------------------------------------------------------------------------
#
# A *table* maps ``done << m | present`` (bit masks of the coders who finished the unit and of
# those of them who applied the code; present != 0) to a number of units; ``totals`` maps each
# ``done`` mask to its number of units (answers, or characters), for every code alike.


def _kappa_2x2(both: int, only_1: int, only_2: int, neither: int) -> Stat:
    """Cohen's kappa of present/absent decisions (as :func:`cohen_kappa_from_table`, quicker)."""
    n = both + only_1 + only_2 + neither
    s = (both + only_1) * (both + only_2) + (only_2 + neither) * (only_1 + neither)
    if s == n * n:
        return undefined(NO_UNITS) if n == 0 else no_variation(PRESENT if both else ABSENT)
    return Stat((n * (both + neither) - s) / (n * n - s))


def _analyse(name: str, table: Mapping[int, int], totals: Mapping[int, int], coders: Sequence[str],
             empty_reason: str = NO_UNITS, found: Mapping[str, Interval] | None = None,
             **extra) -> CodeAgreement:
    """One code's (or the pooled) statistics from its counts; ``found`` its bootstrap
    intervals, ``extra`` further fields (overlap, per-answer kappas)."""
    m = len(coders)
    full = (1 << m) - 1
    n_all = totals.get(full, 0)
    pairable_units = sum(totals.values())
    hist = [0] * (m + 1)
    only = [0] * m
    n_present = 0
    mixed_by_r: dict[int, int] = {}
    for key, c in table.items():
        done, present = key >> m, key & full
        r, k = done.bit_count(), present.bit_count()
        n_present += k * c
        if k < r:
            mixed_by_r[r] = mixed_by_r.get(r, 0) + k * (r - k) * c
        if done == full:
            hist[k] += c
            if k == 1:
                only[present.bit_length() - 1] += c
    hist[0] = n_all - sum(hist[1:])
    only_map = dict(zip(coders, only))
    if pairable_units == 0:
        bad = undefined(empty_reason)
        return CodeAgreement(name, 0, 0, 0, only_map, bad, bad, bad, 0, bad, bad, bad, bad, bad, bad,
                             intervals={k: Interval(None, None, bad.reason) for k in interval_stats(m)}, **extra)

    # alpha over every pairable unit
    n_values = sum(d.bit_count() * t for d, t in totals.items())
    disagreement = fsum(2 * x / (r - 1) for r, x in sorted(mixed_by_r.items()))
    alpha = alpha_from_coincidences({PRESENT: n_present, ABSENT: n_values - n_present}, disagreement)

    # pairs of coders, each on the units both finished
    pairs = []
    if m == 2:
        kappa = _kappa_2x2(hist[2], only[0], only[1], hist[0])
        pairs.append(PairAgreement(tuple(coders), n_all, hist[2], (only[0], only[1]), hist[0], kappa))
    for i in range(m if m > 2 else 0):
        for j in range(i + 1, m):
            bits = (1 << i) | (1 << j)
            units = sum(t for d, t in totals.items() if d & bits == bits)
            both = oi = oj = 0
            for key, c in table.items():
                if (key >> m) & bits != bits:
                    continue
                p = key & bits
                if p == bits:
                    both += c
                elif p == 1 << i:
                    oi += c
                elif p:
                    oj += c
            neither = units - both - oi - oj
            pairs.append(PairAgreement((coders[i], coders[j]), units, both, (oi, oj), neither,
                                       _kappa_2x2(both, oi, oj, neither) if units else undefined(NO_PAIRABLE)))
    mean_pairwise = mean_of([p.cohen_kappa for p in pairs], NO_PAIRABLE)[0]

    # everything else on the units finished by all
    if n_all == 0:
        bad = undefined(NO_COMPLETE)
        pa = prevalence = fleiss = pi = ac1 = bp = kappa = bad
    else:
        pa = Stat((hist[0] + hist[m]) / n_all)
        present_share = sum(k * h for k, h in enumerate(hist)) / (m * n_all)
        prevalence = Stat(present_share)
        agree = sum(h * (k * (k - 1) + (m - k) * (m - k - 1)) for k, h in enumerate(hist)) / (m * (m - 1) * n_all)
        label = PRESENT if present_share >= 1 else ABSENT
        fleiss = chance_corrected(agree, present_share ** 2 + (1 - present_share) ** 2, label)
        ac1 = chance_corrected(agree, 2 * present_share * (1 - present_share), label)
        bp = chance_corrected(agree, 0.5, label)
        pi = fleiss if m == 2 else undefined(PI_NEEDS_TWO)
        kappa = pairs[0].cohen_kappa if m == 2 else undefined(KAPPA_NEEDS_TWO)
    stats = {"krippendorff_alpha": alpha, "cohen_kappa": kappa, "fleiss_kappa": fleiss}
    intervals = {}
    for key in interval_stats(m):
        stat = stats[key]
        if stat.value is None:
            intervals[key] = Interval(None, None, stat.reason)
        elif found is None:
            intervals[key] = Interval(None, None, NO_INTERVALS)
        else:
            intervals[key] = found[key]
    return CodeAgreement(
        code=name, units=n_all, both=hist[m], neither=hist[0], only=only_map,
        percent_agreement=pa, cohen_kappa=kappa, krippendorff_alpha=alpha,
        units_pairable=pairable_units, prevalence=prevalence, fleiss_kappa=fleiss, scott_pi=pi,
        gwet_ac1=ac1, brennan_prediger=bp, mean_pairwise_cohen_kappa=mean_pairwise,
        pairwise=tuple(pairs), intervals=intervals, **extra,
    )


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------

Step = Callable[[int], None]
STEP_EVERY = 1024  # units between calls of a progress ``step``


@dataclass
class _Tally:
    """Everything counted in one pass over the units."""

    m: int
    unit: str = "answer"
    totals: dict[int, int] = field(default_factory=dict)          # done mask -> units
    tables: dict[str, dict[int, int]] = field(default_factory=dict)
    overlap: dict[str, OverlapCounts] = field(default_factory=dict)
    corrections: dict[str, int] = field(default_factory=dict)     # see _segment_checks
    answers: int = 0                                               # answers with >= 2 finished
    answers_by_done: dict[int, int] = field(default_factory=dict)  # done mask -> answers
    # per-answer kappa (characters, two coders): code -> [sum, n, weighted sum, weight]
    answer_kappas: dict[str, list[float]] = field(default_factory=dict)
    # kept for the bootstrap (``keep``): per answer (done, size, who applied each code: a tuple
    # of masks with answers as units, {mask: characters} with characters); per code
    # [(answer, {mask: characters})] with characters
    keep: bool = False
    answer_rows: list[tuple[int, int, dict[int, int]]] = field(default_factory=list)
    code_rows: dict[str, list[tuple[int, dict[int, int]]]] = field(default_factory=dict)

    def start_answer(self, done: int) -> None:
        self.answers += 1
        self.answers_by_done[done] = self.answers_by_done.get(done, 0) + 1


Row = tuple[str, int, Sequence[tuple[int, Hashable, int, int]]]
"""One answer for the counters: (id, bit mask of the coders who finished it, its codings as
``(coder index, code, start, end)``)."""


def _count_answers(rows: Iterable[Row], step, tally: _Tally, threshold: float) -> None:
    m = tally.m
    tables, answers_by_done = tally.tables, tally.answers_by_done
    keep = tally.answer_rows if tally.keep else None
    finished_of: dict[int, list[int]] = {}
    for n, (uid, d, items) in enumerate(rows):
        if step is not None and not n % STEP_EVERY:
            step(n)
        if d & (d - 1) == 0:  # fewer than two coders finished it: no unit
            continue
        answers_by_done[d] = answers_by_done.get(d, 0) + 1
        masks: dict = {}
        several: list | None = None   # codes with more than one coding here
        empty: list | None = None     # codes whose first coding here is empty
        for i, code, start, end in items:
            if not d >> i & 1:  # not finished by this coder: missing
                continue
            old = masks.get(code)
            if old is None:
                masks[code] = 1 << i
                if end <= start:
                    empty = (empty or []) + [code]
            else:
                masks[code] = old | 1 << i
                several = (several or []) + [code]
        shift = d << m
        for code, present in masks.items():
            key = shift | present
            table = tables.get(code)
            if table is None:
                tables[code] = {key: 1}
            else:
                table[key] = table.get(key, 0) + 1
        if several or empty:
            finished = finished_of.get(d)
            if finished is None:
                finished = finished_of[d] = [i for i in range(m) if d >> i & 1]
            _answer_extras(tally, items, d, masks, set(several or ()), empty or (), finished, threshold)
        if keep is not None:
            keep.append((d, 1, tuple(masks.values())))
    tally.answers = sum(answers_by_done.values())
    tally.totals.update(answers_by_done)


def _answer_extras(tally: _Tally, items, d: int, masks, several: set, empty, finished: list[int],
                   threshold: float) -> None:
    """Overlap of the codes with several codings in one answer (answers as units), and the
    corrections to the segment checks :func:`_segment_checks` derives from the counts."""
    r = len(finished)
    for code in empty:
        if code not in several:  # one empty coding: no segment to check
            tally.corrections[code] = tally.corrections.get(code, 0) + r - 1
    if not several:
        return
    spans: dict = {code: {} for code in several}
    for i, code, start, end in items:
        found = spans.get(code)
        if found is not None and d >> i & 1:
            found.setdefault(i, []).append((start, end))
    for code, by_index in spans.items():
        counts = tally.overlap.get(code)
        if counts is None:
            counts = tally.overlap[code] = OverlapCounts()
        answer_overlap(by_index, finished, counts, threshold)
        if masks[code] & (masks[code] - 1) == 0:  # one coder: counted here, not from the counts
            tally.corrections[code] = tally.corrections.get(code, 0) + r - 1


def _segment_checks(tally: _Tally, code) -> OverlapCounts:
    """A code's overlap counts: with answers as units, an answer where exactly one coder applied
    the code with one coding has one segment checked against each other coder who finished it
    (and no match), which the counts give; the rest was counted answer by answer."""
    counts = OverlapCounts()
    counts += tally.overlap.get(code) or OverlapCounts()
    if tally.unit == "answer":
        m = tally.m
        full = (1 << m) - 1
        single = 0
        for key, c in tally.tables[code].items():
            present = key & full
            if present & (present - 1) == 0:
                single += c * ((key >> m).bit_count() - 1)
        counts.checked += single - tally.corrections.get(code, 0)
    return counts


def _count_characters(rows: Iterable[Row], lengths: Mapping[str, int], coders: Sequence[str], step,
                      tally: _Tally, threshold: float) -> None:
    m = tally.m
    totals, tables, overlaps = tally.totals, tally.tables, tally.overlap
    for n, (uid, d, items) in enumerate(rows):
        if step is not None and not n % STEP_EVERY:
            step(n)
        try:
            length = lengths[uid]
        except KeyError:
            raise ValueError(f"no text length for unit {uid!r}") from None
        spans: dict = {}
        for i, code, start, end in items:
            if not 0 <= start <= end <= length:
                raise ValueError(
                    f"span [{start}, {end}) of code {code!r} by {coders[i]!r} in unit {uid!r} "
                    f"is outside the text (length {length})"
                )
            if d >> i & 1:
                spans.setdefault(code, {}).setdefault(i, []).append((start, end))
        if d & (d - 1) == 0:
            continue
        tally.start_answer(d)
        totals[d] = totals.get(d, 0) + length
        shift = d << m
        finished = [i for i in range(m) if d >> i & 1]
        row: dict[int, int] | None = {} if tally.keep else None
        for code, by_index in spans.items():
            table = tables.get(code)
            if table is None:
                table = tables[code] = {}
            counts = overlaps.get(code)
            if counts is None:
                counts = overlaps[code] = OverlapCounts()
            answer_overlap(by_index, finished, counts, threshold)
            # Sweep over interval ends; each coder's intervals are disjoint and non-touching, so
            # every end toggles that coder's bit.
            events = sorted((pos, 1 << i) for i, ivs in by_index.items() for iv in merge(ivs) for pos in iv)
            mask = prev = 0
            here: dict[int, int] = {}
            for pos, bit in events:
                if mask and pos > prev:
                    here[mask] = here.get(mask, 0) + pos - prev
                mask ^= bit
                prev = pos
            for present, chars in here.items():
                key = shift | present
                table[key] = table.get(key, 0) + chars
                if row is not None:
                    row[present] = row.get(present, 0) + chars
            if m == 2 and length:
                a, b, c = here.get(3, 0), here.get(1, 0), here.get(2, 0)
                k = cohen_kappa_from_table([[a, b], [c, length - a - b - c]])
                if k.value is not None:
                    acc = tally.answer_kappas.setdefault(code, [0.0, 0, 0.0, 0])
                    acc[0] += k.value
                    acc[1] += 1
                    acc[2] += k.value * length
                    acc[3] += length
            if row is not None:
                tally.code_rows.setdefault(code, []).append((len(tally.answer_rows), here))
        if row is not None:
            tally.answer_rows.append((d, length, row))


def _relabel(tally: _Tally, labels: Mapping[Hashable, str]) -> None:
    """Key everything by the codes' names (one name per code: the caller gives codes that share
    a name one key, so that they are one code)."""
    if len(set(labels.get(code, "?") for code in tally.tables)) < len(tally.tables):
        raise ValueError("two codes share a name: key them as one code")
    tally.tables = {labels.get(c, "?"): v for c, v in tally.tables.items()}
    tally.overlap = {labels.get(c, "?"): v for c, v in tally.overlap.items()}
    tally.corrections = {labels.get(c, "?"): v for c, v in tally.corrections.items()}
    tally.answer_kappas = {labels.get(c, "?"): v for c, v in tally.answer_kappas.items()}
    tally.code_rows = {labels.get(c, "?"): v for c, v in tally.code_rows.items()}


# --------------------------------------------------------------------------
# Intervals
# --------------------------------------------------------------------------


def _intervals(tally: _Tally, codes: list[str], unit: str, resamples: int, seed: int,
               check: Callable[[], None] | None) -> tuple[list[dict], dict]:
    from . import bootstrap as B

    m = tally.m
    space = B.TypeSpace(m)
    type_of: dict[int, int] = {}

    def kind(key: int) -> int:
        t = type_of.get(key)
        if t is None:
            t = type_of[key] = space.type_of(key >> m, key & ((1 << m) - 1))
        return t

    width = len(space)
    n_codes = len(codes)
    # pooled: every answer with all its codes
    rows = tally.answer_rows
    sizes = None
    if unit == "answer":  # row: who applied each code applied in the answer; answers alike group
        kinds: dict[tuple, int] = {}
        for d, _, row in rows:
            k = (d, tuple(sorted(row)))
            kinds[k] = kinds.get(k, 0) + 1
        pooled, sizes = [], []
        for (d, row), size in sorted(kinds.items()):  # the same order each run: the same draws
            vec = [0] * width
            shift = d << m
            for present in row:
                vec[kind(shift | present)] += 1
            vec[kind(shift)] += n_codes - len(row)
            pooled.append(vec)
            sizes.append(size)
    else:  # row: {who applied: characters}
        pooled = []
        for d, size, row in rows:
            vec = [0] * width
            shift = d << m
            for present, x in row.items():
                vec[kind(shift | present)] += x
            vec[kind(shift)] += n_codes * size - sum(row.values())
            pooled.append(vec)
    overall = B.cluster_intervals(pooled, space, sizes=sizes, resamples=resamples, seed=seed, check=check)
    if unit == "answer":
        counts = []
        for code in codes:
            vec = [0] * width
            seen: dict[int, int] = {}
            for key, x in tally.tables[code].items():
                vec[kind(key)] += x
                seen[key >> m] = seen.get(key >> m, 0) + x
            for d, t in tally.totals.items():
                vec[kind(d << m)] += t - seen.get(d, 0)
            counts.append(vec)
        per_code = B.code_intervals(counts, space, resamples=resamples, seed=seed, check=check)
    else:
        base = []
        for d, size, _ in tally.answer_rows:
            vec = [0] * width
            vec[kind(d << m)] = size
            base.append(vec)
        active = []
        for code in codes:
            answers, vectors = [], []
            for a, row in tally.code_rows.get(code, ()):
                d, size, _ = tally.answer_rows[a]
                vec = [0] * width
                used = 0
                shift = d << m
                for present, x in row.items():
                    vec[kind(shift | present)] += x
                    used += x
                vec[kind(shift)] += size - used
                answers.append(a)
                vectors.append(vec)
            active.append((answers, vectors))
        per_code = B.code_cluster_intervals(base, active, space, resamples=resamples, seed=seed, check=check)

    return per_code, overall


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def compute_agreement(
    units: Mapping[str, Mapping[str, Iterable[tuple[str, int, int]]]],
    coders: Sequence[str],
    *,
    unit: str = "answer",
    lengths: Mapping[str, int] | None = None,
    done: Mapping[str, Iterable[str]] | None = None,
    units_excluded: int = 0,
    step: Step | None = None,
    intervals: bool = True,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    overlap_threshold: float = DEFAULT_THRESHOLD,
) -> AgreementReport:
    """Agreement between ``coders`` on ``units``.

    ``units[unit_id][coder]`` holds the ``(code, start, end)`` codings of that coder in that
    answer; a coder missing from the inner mapping coded nothing there. ``done[unit_id]`` names
    the compared coders who finished that answer (``None``: every coder finished every answer);
    codings of a coder who did not finish an answer are not read. Coders in the data that are
    not in ``coders`` are ignored. ``unit`` is ``"answer"`` (or ``"response"``, its older name,
    which the report keeps) or ``"character"``; the latter needs ``lengths[unit_id]`` (text
    length in code points) and raises ValueError for spans outside ``[0, length]``.
    ``step(n)``, if given, is called with the number of units counted so far every
    :data:`STEP_EVERY` units (a progress bar; it may raise to stop the work), and between
    bootstrap chunks. ``intervals`` adds the bootstrap intervals (``resamples``, ``seed``).
    """
    coders = _check_coders(coders)
    index = {c: i for i, c in enumerate(coders)}
    full = (1 << len(coders)) - 1

    def rows() -> Iterable[Row]:
        for uid, by_coder in units.items():
            if done is None:
                d = full
            else:
                d = 0
                for coder in done.get(uid, ()):
                    i = index.get(coder)
                    if i is not None:
                        d |= 1 << i
            items = []
            for coder, codings in by_coder.items():
                i = index.get(coder)
                if i is not None:
                    items.extend((i, code, start, end) for code, start, end in codings)
            yield uid, d, items

    return agreement_from_rows(rows(), coders, unit=unit, lengths=lengths, units_excluded=units_excluded,
                               step=step, intervals=intervals, resamples=resamples, seed=seed,
                               overlap_threshold=overlap_threshold, total=len(units))


def _check_coders(coders: Sequence[str]) -> tuple[str, ...]:
    coders = tuple(coders)
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    if len(set(coders)) != len(coders):
        raise ValueError("duplicate coders")
    return coders


def agreement_from_rows(
    rows: Iterable[Row],
    coders: Sequence[str],
    *,
    unit: str = "answer",
    labels: Mapping[Hashable, str] | None = None,
    lengths: Mapping[str, int] | None = None,
    units_excluded: int = 0,
    step: Step | None = None,
    intervals: bool = True,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    overlap_threshold: float = DEFAULT_THRESHOLD,
    total: int = 0,
) -> AgreementReport:
    """:func:`compute_agreement` on answers given as :data:`Row`\\s (what :mod:`tuiqa.coders` reads
    from a project without building the nested mappings). ``labels`` names the codes (codes with
    the same name are one code); ``total`` is what ``step`` hears while the intervals are drawn."""
    coders = _check_coders(coders)
    kind = normalise_unit(unit)
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    m = len(coders)
    tally = _Tally(m, unit=kind, keep=intervals)
    if kind == "answer":
        _count_answers(rows, step, tally, overlap_threshold)
    else:
        if lengths is None:
            raise ValueError("character units need the text lengths")
        _count_characters(rows, lengths, coders, step, tally, overlap_threshold)
    if labels is not None:
        _relabel(tally, labels)

    names = sorted(tally.tables)
    empty_reason = NO_CODES if tally.answers and not names else NO_UNITS
    found_codes: list | None = None
    found_pooled = None
    if intervals and names:
        check = (lambda: step(total)) if step is not None else None
        found_codes, found_pooled = _intervals(tally, names, kind, resamples, seed, check)
    pooled_table: dict[int, int] = {}
    pooled_overlap = OverlapCounts()
    codes = []
    for i, code in enumerate(names):
        table = tally.tables[code]
        for key, c in table.items():
            pooled_table[key] = pooled_table.get(key, 0) + c
        counts = _segment_checks(tally, code)
        pooled_overlap += counts
        extra = _answer_kappas(tally, code, m) if kind == "character" else {}
        codes.append(_analyse(code, table, tally.totals, coders, found=found_codes[i] if found_codes else None,
                              overlap=counts.result(), **extra))
    pooled_totals = {d: t * len(names) for d, t in tally.totals.items()}
    pooled = _analyse("(overall)", pooled_table, pooled_totals, coders, empty_reason, found=found_pooled,
                      overlap=pooled_overlap.result())

    means, undefined_counts = {}, {}
    for name in STATS:
        means[name], undefined_counts[name] = mean_of([c.stat(name) for c in codes], empty_reason)
    overall = OverallAgreement(
        items=pooled.units,
        both=pooled.both,
        neither=pooled.neither,
        only=pooled.only,
        percent_agreement=pooled.percent_agreement,
        cohen_kappa=pooled.cohen_kappa,
        krippendorff_alpha=pooled.krippendorff_alpha,
        mean_cohen_kappa=means["cohen_kappa"],
        mean_krippendorff_alpha=means["krippendorff_alpha"],
        codes_undefined_cohen_kappa=undefined_counts["cohen_kappa"],
        codes_undefined_krippendorff_alpha=undefined_counts["krippendorff_alpha"],
        pooled=pooled,
        means=means,
        codes_undefined=undefined_counts,
        segment_kappa=segment_kappa(pooled.overlap.segment_agreement, len(names))
        if names else undefined(empty_reason),
    )
    by_pair = {}
    for i in range(m):
        for j in range(i + 1, m):
            bits = (1 << i) | (1 << j)
            by_pair[(coders[i], coders[j])] = sum(n for d, n in tally.answers_by_done.items() if d & bits == bits)
    return AgreementReport(
        unit=unit, coders=coders, units_compared=tally.answers_by_done.get((1 << m) - 1, 0),
        units_excluded=units_excluded,
        overall=overall, codes=tuple(codes), units_pairable=tally.answers, units_by_pair=by_pair,
        intervals=intervals, resamples=resamples, seed=seed, overlap_threshold=overlap_threshold,
    )


def _answer_kappas(tally: _Tally, code: str, m: int) -> dict[str, Stat]:
    if m != 2:
        bad = undefined(KAPPA_NEEDS_TWO)
        return {"cohen_kappa_mean_over_answers": bad, "cohen_kappa_length_weighted_over_answers": bad}
    acc = tally.answer_kappas.get(code)
    if not acc or not acc[1]:
        bad = undefined("no answer where the code was applied has a defined kappa")
        return {"cohen_kappa_mean_over_answers": bad, "cohen_kappa_length_weighted_over_answers": bad}
    return {"cohen_kappa_mean_over_answers": Stat(acc[0] / acc[1]),
            "cohen_kappa_length_weighted_over_answers": Stat(acc[2] / acc[3])}


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

CSV_NEW = ("units_pairable", "prevalence", "fleiss_kappa", "scott_pi", "gwet_ac1", "brennan_prediger",
           "mean_pairwise_cohen_kappa", "kappa_paradox",
           "krippendorff_alpha_low", "krippendorff_alpha_high", "cohen_kappa_low", "cohen_kappa_high",
           "fleiss_kappa_low", "fleiss_kappa_high",
           "overlap_jaccard", "overlap_masi", "segments_checked", "segments_matched", "segment_agreement")


def _csv_new(entry: CodeAgreement) -> list[object]:
    o = entry.overlap
    out: list[object] = [entry.units_pairable, entry.prevalence.value, entry.fleiss_kappa.value,
                         entry.scott_pi.value, entry.gwet_ac1.value, entry.brennan_prediger.value,
                         entry.mean_pairwise_cohen_kappa.value, entry.kappa_paradox]
    for name in INTERVAL_STATS:
        iv = entry.intervals.get(name)
        out += [iv.low if iv else None, iv.high if iv else None]
    out += [o.jaccard.value, o.masi.value, o.segments_checked, o.segments_matched, o.segment_agreement.value] \
        if o is not None else [None] * 5
    return out


def to_csv_rows(report: AgreementReport) -> list[list[object]]:
    """Header, one row per code, and a last ``(overall)`` row (pooled figures; ``units`` there
    is the number of pooled items).  ``None`` = undefined.  The first columns are those of the
    first version; the new ones follow."""
    header = ["code", "units", "both", *(f"only_{c}" for c in report.coders), "neither",
              "percent_agreement", "cohen_kappa", "krippendorff_alpha", "undefined_reason",
              "mean_cohen_kappa", "mean_krippendorff_alpha", *CSV_NEW]
    rows: list[list[object]] = [header]
    for c in report.codes:
        rows.append([c.code, c.units, c.both, *(c.only[k] for k in report.coders), c.neither,
                     c.percent_agreement.value, c.cohen_kappa.value, c.krippendorff_alpha.value,
                     c.undefined_reason, None, None, *_csv_new(c)])
    o = report.overall
    pooled = o.pooled
    rows.append(["(overall)", o.items, o.both, *(o.only[k] for k in report.coders), o.neither,
                 o.percent_agreement.value, o.cohen_kappa.value, o.krippendorff_alpha.value,
                 o.undefined_reason, o.mean_cohen_kappa.value, o.mean_krippendorff_alpha.value,
                 *(_csv_new(pooled) if pooled is not None else [None] * len(CSV_NEW))])
    return rows
