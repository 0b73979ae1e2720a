"""Agreement coefficients on any coded data (pure Python, standard library only).

These are the general forms the project report (:mod:`tuiqa.agreement`) is checked against; the
report itself works from counts. Every function returns a :class:`Stat`: a float64 ``value``
(never rounded here) or ``None`` with the ``reason``. Undefined values are never coerced to 0 or 1.

Data shapes
    ``values[c][u]``: coder ``c``'s value for unit ``u``; ``None`` = missing (not coded). Values
    are any hashable categories (numbers for the interval and ratio levels of alpha; sets, as
    frozensets, for the MASI distance).
    ``table[i][j]``: a two-coder contingency table (coder 1 said category ``i``, coder 2 ``j``).
    ``counts[u][k]``: how many coders put unit ``u`` in category ``k`` (Fleiss' form, where the
    coders need not be the same people from unit to unit).

Two coders (a table, or two rows with the units either left out dropped)
    Cohen's kappa ``(p_o - p_e) / (1 - p_e)``, ``p_e = sum_k p_k. p_.k`` (each coder's own
    marginals); its asymptotic standard error (Fleiss, Cohen & Everitt 1969, SAS's ``ASE``);
    weighted kappa with linear (``1 - |i-j|/(q-1)``) or quadratic agreement weights;
    Bangdiwala's B ``sum_k n_kk^2 / sum_k n_k. n_.k``.

Any number of coders, missing values allowed (Gwet 2014, the formulas of irrCAC)
    ``r_uk`` coders put unit ``u`` in category ``k``; ``r_u = sum_k r_uk``; ``q`` categories
    (those observed, unless ``categories`` fixes them: a code is present or absent, ``q = 2``,
    even if nobody used it).

    * observed agreement ``p_a`` (Fleiss' P-bar): the mean, over the units with ``r_u >= 2``, of
      the share of agreeing coder pairs ``sum_k r_uk (r_uk - 1) / (r_u (r_u - 1))``;
    * ``pi_k``: the mean, over the units with ``r_u >= 1``, of ``r_uk / r_u``;
    * Fleiss' kappa: ``p_e = sum_k pi_k^2`` (with every unit rated by the same number of coders
      this is Fleiss (1971) exactly; with missing values, Gwet's generalisation; with two coders
      and no missing value it is Scott's pi);
    * Gwet's AC1: ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``;
    * Brennan-Prediger kappa (Bennett's S): ``p_e = 1 / q``;
    * Conger's kappa (Fleiss' kappa with each coder's own marginals): ``p_e = sum_k (pbar_k^2 -
      s2_k / r)``, ``p_gk`` coder ``g``'s share of category ``k`` over the units ``g`` coded,
      ``pbar_k`` and ``s2_k`` their mean and variance (denominator ``r - 1``) over the ``r``
      coders;
    * each coefficient is ``(p_a - p_e) / (1 - p_e)``; undefined with no unit coded by two
      coders, with ``p_e = 1`` (no variation), or (AC1, Brennan-Prediger) with one category.

    Mean pairwise Cohen's kappa (Light 1971): the mean of Cohen's kappa over every pair of coders,
    each pair on the units both coded, over the pairs where it is defined.

Percent agreement
    ``percent_agreement``: the share of units on which all coders who coded it agree (over units
    coded by at least two). ``mean_pairwise_agreement``: Fleiss' P-bar above. They coincide for
    two coders.

Krippendorff's alpha (any coders, missing values, levels)
    Unit ``u`` with ``m_u >= 2`` values adds ``n_uc n_uk / (m_u - 1)`` to the coincidence
    ``o_ck`` (``n_uc (n_uc - 1) / (m_u - 1)`` on the diagonal); ``n_c = sum_k o_ck``, ``n`` the
    pairable values. ``D_o = sum_ck o_ck d_ck / n``, ``D_e = sum_ck n_c n_k d_ck / (n (n - 1))``,
    ``alpha = 1 - D_o / D_e``. The distance ``d_ck`` (squared, as Krippendorff writes it) is
    nominal ``[c != k]``; ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`` over the sorted
    values; interval ``(c - k)^2``; ratio ``((c - k) / (c + k))^2``; or any function given
    (``distance=masi_distance`` for sets). Undefined with no pairable value or ``D_e = 0``.

Sets
    ``jaccard(a, b) = |a & b| / |a | b|`` (1 for two empty sets); MASI (Passonneau 2006)
    ``masi_distance = 1 - J * M`` with ``M`` 1 (identical), 2/3 (one contains the other), 1/3
    (they overlap otherwise), 0 (disjoint); ``masi_distance(set(), set()) = 0``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from math import fsum, sqrt

NO_UNITS = "no units"
NO_PAIRABLE = "no unit coded by >= 2 coders"
ONE_CATEGORY = "only one category: it needs at least two"


@dataclass(frozen=True)
class Stat:
    """A statistic: ``value`` (float64) when defined, else ``None`` and a ``reason``."""

    value: float | None
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Interval:
    """A 95% interval: ``low`` and ``high``, or ``None`` bounds and the ``reason``."""

    low: float | None
    high: float | None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "reason": self.reason}


def undefined(reason: str) -> Stat:
    return Stat(None, reason)


def no_variation(label: object) -> Stat:
    return Stat(None, f"no variation: every decision was {label!r}")


def chance_corrected(p_a: float, p_e: float, label: object = "one category") -> Stat:
    """``(p_a - p_e) / (1 - p_e)``; undefined (no variation) when ``p_e`` is 1."""
    if p_e >= 1.0:
        return no_variation(label)
    return Stat((p_a - p_e) / (1.0 - p_e))


def check_matrix(values: Sequence[Sequence[object]]) -> int:
    lengths = {len(row) for row in values}
    if len(lengths) > 1:
        raise ValueError("every coder needs one value per unit")
    return lengths.pop() if lengths else 0


def _empty(values: Sequence[Sequence[object]]) -> bool:
    return check_matrix(values) == 0 or all(v is None for row in values for v in row)


# --------------------------------------------------------------------------
# Two coders
# --------------------------------------------------------------------------


def _margins(table: Sequence[Sequence[float]]) -> tuple[int, float, list[float], list[float]]:
    """(categories, units, row sums, column sums) of a square table."""
    k = len(table)
    if any(len(row) != k for row in table):
        raise ValueError("contingency table must be square")
    rows = [sum(row) for row in table]
    return k, sum(rows), rows, [sum(table[i][j] for i in range(k)) for j in range(k)]


def cohen_kappa_from_table(
    table: Sequence[Sequence[float]], categories: Sequence[object] | None = None
) -> Stat:
    """Cohen's kappa of a square contingency table (``table[i][j]``: coder 1 said category ``i``,
    coder 2 category ``j``).  ``categories`` only names the categories in the reason when kappa
    is undefined.  Computed as ``(n * trace - S) / (n**2 - S)``, ``S = sum_k row_k col_k``."""
    k, n, rows, cols = _margins(table)
    if n == 0:
        return undefined(NO_UNITS)
    trace = sum(table[i][i] for i in range(k))
    s = sum(r * c for r, c in zip(rows, cols))
    if s == n * n:  # p_e = 1: both coders used one and the same category only
        i = rows.index(n) if n in rows else max(range(k), key=rows.__getitem__)
        return no_variation(categories[i] if categories else f"category {i}")
    return Stat((n * trace - s) / (n * n - s))


def _pairs(y1: Sequence[Hashable | None], y2: Sequence[Hashable | None]) -> list[tuple]:
    if len(y1) != len(y2):
        raise ValueError("both coders need one value per unit")
    return [(a, b) for a, b in zip(y1, y2) if a is not None and b is not None]


def contingency(y1: Sequence[Hashable | None], y2: Sequence[Hashable | None],
                categories: Sequence[Hashable] | None = None) -> tuple[list[list[int]], list]:
    """The contingency table of two coders' values (units either left out dropped)."""
    pairs = _pairs(y1, y2)
    cats = list(categories) if categories is not None else list(dict.fromkeys(v for p in pairs for v in p))
    index = {c: i for i, c in enumerate(cats)}
    table = [[0] * len(cats) for _ in cats]
    for a, b in pairs:
        table[index[a]][index[b]] += 1
    return table, cats


def cohen_kappa(y1: Sequence[Hashable | None], y2: Sequence[Hashable | None]) -> Stat:
    """Cohen's kappa of two coders' values per unit (``None`` = not coded); units that either
    coder did not code are dropped (listwise)."""
    pairs = _pairs(y1, y2)
    if not pairs:
        return undefined(NO_UNITS if not any(v is not None for v in (*y1, *y2)) else NO_PAIRABLE)
    table, cats = contingency(y1, y2)
    return cohen_kappa_from_table(table, cats)


def cohen_kappa_ase(table: Sequence[Sequence[float]]) -> Stat:
    """The asymptotic standard error of Cohen's kappa (Fleiss, Cohen & Everitt 1969; SAS's
    ``ASE``): ``sqrt(A + B - C) / ((1 - p_e) sqrt(n))`` with ``A = sum_i p_ii (1 - (p_i. +
    p_.i)(1 - kappa))^2``, ``B = (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2``, ``C = (kappa -
    p_e (1 - kappa))^2``."""
    kappa = cohen_kappa_from_table(table)
    if kappa.value is None:
        return kappa
    k, n, rows, cols = _margins(table)
    p = [[table[i][j] / n for j in range(k)] for i in range(k)]
    rows, cols = [r / n for r in rows], [c / n for c in cols]
    pe = sum(r * c for r, c in zip(rows, cols))
    kv = kappa.value
    a = fsum(p[i][i] * (1 - (rows[i] + cols[i]) * (1 - kv)) ** 2 for i in range(k))
    b = (1 - kv) ** 2 * fsum(p[i][j] * (cols[i] + rows[j]) ** 2 for i in range(k) for j in range(k) if i != j)
    c = (kv - pe * (1 - kv)) ** 2
    return Stat(sqrt(max(a + b - c, 0.0)) / ((1 - pe) * sqrt(n)))


def weighted_kappa(table: Sequence[Sequence[float]], weights: str = "linear") -> Stat:
    """Weighted kappa of an ordered table with agreement weights ``1 - |i-j|/(q-1)`` (linear,
    Cicchetti-Allison) or ``1 - ((i-j)/(q-1))^2`` (quadratic, Fleiss-Cohen)."""
    k, n, rows, cols = _margins(table)
    if n == 0:
        return undefined(NO_UNITS)
    if k < 2:
        return no_variation("category 0")
    power = {"linear": 1, "quadratic": 2}.get(weights)
    if power is None:
        raise ValueError(f"unknown weights {weights!r} (use 'linear' or 'quadratic')")
    w = [[1 - (abs(i - j) / (k - 1)) ** power for j in range(k)] for i in range(k)]
    rows, cols = [r / n for r in rows], [c / n for c in cols]
    po = fsum(w[i][j] * table[i][j] / n for i in range(k) for j in range(k))
    pe = fsum(w[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    return chance_corrected(po, pe)


def bangdiwala_b(table: Sequence[Sequence[float]]) -> Stat:
    """Bangdiwala's B: ``sum_k n_kk^2 / sum_k n_k. n_.k`` (the agreement chart's area ratio)."""
    k, n, rows, cols = _margins(table)
    if n == 0:
        return undefined(NO_UNITS)
    return Stat(sum(table[i][i] ** 2 for i in range(k)) / sum(r * c for r, c in zip(rows, cols)))


# --------------------------------------------------------------------------
# Any number of coders (Gwet's framework)
# --------------------------------------------------------------------------


def category_counts(values: Sequence[Sequence[Hashable | None]],
                    categories: Sequence[Hashable] | None = None) -> tuple[list[list[int]], list]:
    """``counts[u][k]`` (coders who put unit ``u`` in category ``k``) and the categories (those
    given, else those observed, in order of first appearance)."""
    n_units = check_matrix(values)
    cats = list(categories) if categories is not None else list(
        dict.fromkeys(v for row in values for v in row if v is not None))
    index = {c: i for i, c in enumerate(cats)}
    counts = [[0] * len(cats) for _ in range(n_units)]
    for row in values:
        for u, v in enumerate(row):
            if v is not None:
                try:
                    counts[u][index[v]] += 1
                except KeyError:
                    raise ValueError(f"value {v!r} is not one of the categories {cats!r}") from None
    return counts, cats


@dataclass(frozen=True)
class MultiRater:
    """Gwet's quantities of a units x categories count table (see the module docstring)."""

    units: int              # units with at least one value
    units_pairable: int     # units with at least two
    categories: int         # q
    p_a: float | None       # mean pairwise agreement (Fleiss' P-bar); None without pairable units
    pi: tuple[float, ...]   # classification probabilities
    names: tuple = ()       # the categories, to name one in a reason

    @classmethod
    def from_counts(cls, counts: Iterable[Sequence[int]], categories: int | None = None) -> MultiRater:
        rated = pairable = 0
        agree: list[float] = []
        pi_sum: list[float] | None = None
        for row in counts:
            if pi_sum is None:
                pi_sum = [0.0] * len(row)
            r = sum(row)
            if r == 0:
                continue
            rated += 1
            for k, x in enumerate(row):
                pi_sum[k] += x / r
            if r >= 2:
                pairable += 1
                agree.append(sum(x * (x - 1) for x in row) / (r * (r - 1)))
        width = len(pi_sum or ())
        q = width if categories is None else categories
        pi = tuple(s / rated for s in pi_sum) if rated and pi_sum else (0.0,) * width
        return cls(rated, pairable, q, fsum(agree) / pairable if pairable else None, pi)

    @classmethod
    def from_values(cls, values: Sequence[Sequence[Hashable | None]],
                    categories: Sequence[Hashable] | None = None) -> MultiRater:
        counts, cats = category_counts(values, categories)
        found = cls.from_counts(counts, len(cats))
        return cls(found.units, found.units_pairable, found.categories, found.p_a, found.pi, tuple(cats))

    def _undefined(self) -> Stat | None:
        if self.units == 0:
            return undefined(NO_UNITS)
        if self.p_a is None:
            return undefined(NO_PAIRABLE)
        return None

    @property
    def pe_fleiss(self) -> float:
        return fsum(p * p for p in self.pi)

    @property
    def pe_ac1(self) -> float | None:
        return fsum(p * (1 - p) for p in self.pi) / (self.categories - 1) if self.categories > 1 else None

    @property
    def pe_brennan_prediger(self) -> float | None:
        return 1 / self.categories if self.categories > 1 else None

    def _coefficient(self, pe: float | None) -> Stat:
        """``(p_a - p_e) / (1 - p_e)``, or why it is undefined."""
        bad = self._undefined()
        if bad:
            return bad
        if pe is None:
            return undefined(ONE_CATEGORY)
        label = self.names[max(range(len(self.pi)), key=self.pi.__getitem__)] if self.names else "one category"
        return chance_corrected(self.p_a, pe, label)  # type: ignore[arg-type]

    def fleiss_kappa(self) -> Stat:
        return self._coefficient(self.pe_fleiss)

    def gwet_ac1(self) -> Stat:
        return self._coefficient(self.pe_ac1)

    def brennan_prediger(self) -> Stat:
        return self._coefficient(self.pe_brennan_prediger)

    def mean_pairwise_agreement(self) -> Stat:
        return self._undefined() or Stat(self.p_a)


def fleiss_kappa(values, categories=None) -> Stat:
    """Fleiss' kappa (Gwet's generalisation when some coders left units out)."""
    return MultiRater.from_values(values, categories).fleiss_kappa()


def gwet_ac1(values, categories=None) -> Stat:
    """Gwet's AC1 (``categories`` fixes q, e.g. ``[0, 1]`` for present/absent)."""
    return MultiRater.from_values(values, categories).gwet_ac1()


def brennan_prediger(values, categories=None) -> Stat:
    """Brennan-Prediger kappa (Bennett's S), chance agreement ``1/q``."""
    return MultiRater.from_values(values, categories).brennan_prediger()


def mean_pairwise_agreement(values, categories=None) -> Stat:
    """Fleiss' P-bar: per unit the share of coder pairs that agree, averaged over units."""
    return MultiRater.from_values(values, categories).mean_pairwise_agreement()


def scott_pi(y1: Sequence[Hashable | None], y2: Sequence[Hashable | None]) -> Stat:
    """Scott's pi of two coders on the units both coded (Fleiss' kappa of those two rows)."""
    pairs = _pairs(y1, y2)
    if not pairs:
        return cohen_kappa(y1, y2)  # the same reason
    return fleiss_kappa([[a for a, _ in pairs], [b for _, b in pairs]])


def conger_kappa(values: Sequence[Sequence[Hashable | None]], categories=None) -> Stat:
    """Conger's kappa: Fleiss' kappa with each coder's own marginals (irrCAC's formulas)."""
    counts, cats = category_counts(values, categories)
    base = MultiRater.from_counts(counts, len(cats))
    bad = base._undefined()
    if bad:
        return bad
    shares = []
    for row in values:
        rated = [v for v in row if v is not None]
        if rated:
            c = Counter(rated)
            shares.append([c.get(k, 0) / len(rated) for k in cats])
    r = len(shares)
    pe = 0.0
    for k in range(len(cats)):
        col = [s[k] for s in shares]
        mean = fsum(col) / r
        var = fsum((x - mean) ** 2 for x in col) / (r - 1) if r > 1 else 0.0
        pe += mean * mean - var / r
    return chance_corrected(base.p_a, pe)  # type: ignore[arg-type]


def mean_pairwise_cohen_kappa(values: Sequence[Sequence[Hashable | None]]) -> tuple[Stat, int]:
    """(mean of Cohen's kappa over the coder pairs where it is defined, pairs undefined)."""
    kappas = [cohen_kappa(values[i], values[j]) for i in range(len(values)) for j in range(i + 1, len(values))]
    return mean_of(kappas, NO_UNITS)


def mean_of(stats: Sequence[Stat], empty_reason: str) -> tuple[Stat, int]:
    """(plain mean of the defined values, how many were undefined); undefined if none is."""
    values = [s.value for s in stats if s.value is not None]
    missing = len(stats) - len(values)
    if values:
        return Stat(fsum(values) / len(values)), missing
    if not stats:
        return undefined(empty_reason), 0
    reasons = {s.reason for s in stats}
    return undefined(reasons.pop() if len(reasons) == 1 else "undefined for every one"), missing  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# Percent agreement
# --------------------------------------------------------------------------


def percent_agreement(values: Sequence[Sequence[Hashable | None]]) -> Stat:
    """Share of units on which all coders that coded the unit gave the same value, over the
    units coded by at least two coders (``None`` = missing).  Not Fleiss' mean pairwise
    agreement (see :func:`mean_pairwise_agreement`)."""
    n_units = check_matrix(values)
    if _empty(values):
        return undefined(NO_UNITS)
    agree = pairable = 0
    for u in range(n_units):
        present = [row[u] for row in values if row[u] is not None]
        if len(present) >= 2:
            pairable += 1
            agree += len(set(present)) == 1
    return Stat(agree / pairable) if pairable else undefined(NO_PAIRABLE)


# --------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def alpha_from_coincidences(value_counts: Mapping[object, float], disagreement: float) -> Stat:
    """Nominal alpha from the pairable values per category (``n_c``) and the off-diagonal sum of
    the coincidence matrix (``sum_{c != k} o_ck``)."""
    n = sum(value_counts.values())
    if n == 0:
        return undefined(NO_PAIRABLE)
    expected = n * n - sum(v * v for v in value_counts.values())  # sum_{c != k} n_c n_k
    if expected == 0:
        return no_variation(next(c for c, v in value_counts.items() if v))
    return Stat(1.0 - (n - 1) * disagreement / expected)


def _pairable(values: Sequence[Sequence[Hashable | None]], n_units: int):
    """Each unit with at least two values: (its values counted, how many)."""
    for u in range(n_units):
        unit = Counter(row[u] for row in values if row[u] is not None)
        m_u = sum(unit.values())
        if m_u >= 2:
            yield unit, m_u


def krippendorff_alpha_nominal(values: Sequence[Sequence[Hashable | None]]) -> Stat:
    """Krippendorff's alpha, nominal level (fast path of :func:`krippendorff_alpha`)."""
    n_units = check_matrix(values)
    if _empty(values):
        return undefined(NO_UNITS)
    value_counts: Counter = Counter()
    disagreement = 0.0
    for unit_counts, m_u in _pairable(values, n_units):
        value_counts.update(unit_counts)
        # ordered pairs of values from different coders that disagree
        disagreement += (m_u * m_u - sum(v * v for v in unit_counts.values())) / (m_u - 1)
    return alpha_from_coincidences(value_counts, disagreement)


@dataclass(frozen=True)
class AlphaDetails:
    """Krippendorff's alpha with its parts: ``n`` pairable values in ``pairable_units`` units,
    observed and expected disagreement; ``observed_agreement = 1 - D_o`` (Krippendorff's A_o)."""

    alpha: Stat
    n: int
    pairable_units: int
    observed_disagreement: float | None
    expected_disagreement: float | None

    @property
    def observed_agreement(self) -> float | None:
        d = self.observed_disagreement
        return None if d is None else 1.0 - d


def _distance(level: str, marginals: Mapping[Hashable, float]) -> Callable[[Hashable, Hashable], float]:
    if level == "nominal":
        return lambda a, b: 0.0 if a == b else 1.0
    if level == "interval":
        return lambda a, b: float(a - b) ** 2  # type: ignore[operator]
    if level == "ratio":
        return lambda a, b: 0.0 if a == b else (float(a - b) / float(a + b)) ** 2  # type: ignore[operator]
    if level == "ordinal":
        ranks = sorted(marginals)
        cum, total = {}, 0.0
        for v in ranks:
            cum[v] = total
            total += marginals[v]

        def ordinal(a, b):
            lo, hi = (a, b) if a <= b else (b, a)
            between = cum[hi] + marginals[hi] - cum[lo]  # sum of n_g for g from lo to hi
            return (between - (marginals[lo] + marginals[hi]) / 2) ** 2

        return ordinal
    raise ValueError(f"unknown level {level!r} (use one of {', '.join(LEVELS)})")


def alpha_details(values: Sequence[Sequence[Hashable | None]], level: str = "nominal", *,
                  distance: Callable[[Hashable, Hashable], float] | None = None) -> AlphaDetails:
    """Krippendorff's alpha at a level of measurement, or with any ``distance`` (squared, as in
    Krippendorff's delta^2; ``masi_distance`` for sets), with its parts."""
    n_units = check_matrix(values)
    if _empty(values):
        return AlphaDetails(undefined(NO_UNITS), 0, 0, None, None)
    coincidences: dict[tuple, float] = {}
    marginals: dict[Hashable, float] = {}
    pairable = 0
    for unit, m_u in _pairable(values, n_units):
        pairable += 1
        for c, nc in unit.items():
            marginals[c] = marginals.get(c, 0) + nc
            for k, nk in unit.items():
                pairs = nc * (nk - (c == k)) / (m_u - 1)
                if pairs:
                    coincidences[(c, k)] = coincidences.get((c, k), 0.0) + pairs
    n = int(round(sum(marginals.values())))
    if n == 0:
        return AlphaDetails(undefined(NO_PAIRABLE), 0, 0, None, None)
    delta = distance or _distance(level, marginals)
    observed = fsum(o * delta(c, k) for (c, k), o in coincidences.items()) / n
    cats = list(marginals)
    expected = fsum(marginals[c] * marginals[k] * delta(c, k) for c in cats for k in cats) / (n * (n - 1))
    if expected == 0:
        stat = no_variation(cats[0]) if len(cats) == 1 else undefined("no expected disagreement")
    else:
        stat = Stat(1.0 - observed / expected)
    return AlphaDetails(stat, n, pairable, observed, expected)


def krippendorff_alpha(values: Sequence[Sequence[Hashable | None]], level: str = "nominal", *,
                       distance: Callable[[Hashable, Hashable], float] | None = None) -> Stat:
    """Krippendorff's alpha (``level`` nominal, ordinal, interval or ratio, or a ``distance``)."""
    return alpha_details(values, level, distance=distance).alpha


# --------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------


def jaccard(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """``|a & b| / |a | b|``; two empty sets are identical (1)."""
    a, b = set(a), set(b)
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def masi_similarity(inter: int, size_a: int, size_b: int) -> float:
    """``J * M`` from the sizes of two sets and of their intersection (1 for two empty sets)."""
    union = size_a + size_b - inter
    if union == 0:
        return 1.0
    if inter == size_a == size_b:
        m = 1.0
    elif inter == size_a or inter == size_b:
        m = 2 / 3
    elif inter:
        m = 1 / 3
    else:
        return 0.0
    return inter / union * m


def masi_distance(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """Passonneau's MASI distance ``1 - J * M``; 0 for two empty sets."""
    a, b = set(a), set(b)
    return 1.0 - masi_similarity(len(a & b), len(a), len(b))
