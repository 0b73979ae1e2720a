"""Seeded bootstrap intervals for agreement on present/absent decisions (numpy).

What is resampled
    Answers (the units), with replacement, as many as there are: the answers are the independent
    draws of a study; characters of one answer are not (an interval from resampled characters
    would be far too narrow). With answers as units each answer is one decision per coder and
    code, so a code's counts in a resample are one multinomial draw over its decision *types*; with
    characters as units each answer brings a vector of character counts, and the answers
    themselves are drawn (a cluster bootstrap). The pooled figures always draw whole answers with
    all their codes.

Types
    A decision type is how many coders finished the answer (``r``) and how many of them applied
    the code (``k``); with two coders, which of them did (both, only the first, only the second,
    neither: Cohen's kappa needs each coder's marginals). Krippendorff's alpha and the kappa
    (Cohen's with two coders, Fleiss' with more) are functions of the type counts
    (:class:`TypeSpace`), computed for every resample at once.

Interval
    The percentile interval: the 2.5th and 97.5th percentiles (linear interpolation) of the
    statistic over ``resamples`` resamples (1000 by default: a percentile interval rests on its
    tails, and a thousand resamples put about 25 in each, which keeps the bounds stable to about
    0.01 for a kappa over a few hundred answers; Efron & Tibshirani 1993, ch. 13 and 19, advise
    at least that many for percentile intervals, against 50 to 200 for a standard error). If the
    statistic is undefined in any resample (a rare code can vanish from a resample) the
    interval is undefined, with how many resamples it failed in.

Seeding
    Every draw comes from ``numpy.random.PCG64`` seeded with ``(seed, stream)``: the same data,
    seed and numpy give the same intervals, run after run.

Speed
    A code's multinomial is drawn without visiting every answer: one shared process counts how
    many of ``n`` draws land at each of the first ``s`` positions (``s`` = the largest number of
    answers any code has outside its most common type), and a code's types are consecutive
    ranges of those positions, its most common type the rest. Each code's counts are then an
    exact multinomial draw (codes share the random numbers, which does not matter for a code's
    own interval). Arrays are laid out (code, type, resample) and worked in chunks of resamples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .coefficients import Interval

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 17
LEVEL = 0.95
CHUNK_CELLS = 1 << 22  # cells per temporary array (~32 MB of int64)

Stat = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class TypeSpace:
    """The decision types of ``m`` coders (see the module docstring)."""

    def __init__(self, m: int) -> None:
        self.m = m
        if m == 2:  # both, only the first, only the second, neither
            self.types = [(2, 2), (2, 1), (2, 1), (2, 0)]
            self.patterns = {3: 0, 1: 1, 2: 2, 0: 3}
            self.index: dict[tuple[int, int], int] = {}
        else:
            self.types = [(m, k) for k in range(m + 1)] + [(r, k) for r in range(2, m) for k in range(r + 1)]
            self.patterns = {}
            self.index = {t: i for i, t in enumerate(self.types)}

    def __len__(self) -> int:
        return len(self.types)

    def type_of(self, done: int, present: int) -> int:
        """The type of a decision: bit masks of the coders who finished and who applied."""
        if self.m == 2:
            return self.patterns[present]
        return self.index[(done.bit_count(), present.bit_count())]

    @staticmethod
    def _sum(x: np.ndarray, coef: Sequence[float], only: Sequence[bool] | None = None) -> np.ndarray:
        """``sum_t coef[t] * x[..., t, :]`` (over the types where ``only`` holds)."""
        return np.array([c if only is None or only[t] else 0.0 for t, c in enumerate(coef)]) @ x

    # each takes counts (..., T, resamples) as floats and returns (values, defined) (..., resamples)

    def alpha(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rs = [r for r, _ in self.types]
        ks = [k for _, k in self.types]
        n = self._sum(x, rs)
        present = self._sum(x, ks)
        mixed = self._sum(x, [2 * k * (r - k) / (r - 1) for r, k in self.types])
        absent = n - present
        expected = n * n - present * present - absent * absent
        ok = expected > 0
        return 1.0 - (n - 1) * mixed / np.where(ok, expected, 1.0), ok

    def fleiss(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = self.m
        complete = [r == m for r, _ in self.types]
        units = self._sum(x, [1.0] * len(self.types), complete)
        safe = np.maximum(units, 1)
        pi = self._sum(x, [k for _, k in self.types], complete) / safe / m
        agree = self._sum(x, [k * (k - 1) + (m - k) * (m - k - 1) for _, k in self.types], complete) \
            / safe / (m * (m - 1))
        pe = pi * pi + (1 - pi) * (1 - pi)
        ok = (units > 0) & (pe < 1)
        return (agree - pe) / np.where(ok, 1 - pe, 1.0), ok

    def cohen(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, c, d = (x[..., i, :] for i in range(4))
        n = a + b
        n += c
        n += d
        s = (a + b) * (a + c)
        s += (c + d) * (b + d)
        den = n * n
        den -= s
        ok = den != 0
        ok &= n > 0
        den[~ok] = 1.0
        num = a + d
        num *= n
        num -= s
        num /= den
        return num, ok

    def statistics(self) -> dict[str, Stat]:
        """Alpha and kappa: Cohen's with two coders, Fleiss' with more."""
        if self.m == 2:
            return {"krippendorff_alpha": self.alpha, "cohen_kappa": self.cohen}
        return {"krippendorff_alpha": self.alpha, "fleiss_kappa": self.fleiss}


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream])))


def _intervals(values: np.ndarray, ok: np.ndarray) -> list[Interval]:
    """Percentile intervals of each row of ``values`` (rows x resamples; reordered in place); a
    row with an undefined resample gets none. Linear interpolation between order statistics, as
    ``numpy.quantile`` does."""
    bad = (~ok).sum(axis=1)
    values[~ok] = 0.0
    resamples = values.shape[1]
    tail = (1 - LEVEL) / 2
    where = [(resamples - 1) * q for q in (tail, 1 - tail)]
    ranks = sorted({k for h in where for k in (int(h), min(int(h) + 1, resamples - 1))})
    values.partition(ranks, axis=1)
    bounds = [values[:, int(h)] + (h - int(h)) * (values[:, min(int(h) + 1, resamples - 1)] - values[:, int(h)])
              for h in where]
    out = []
    for j in range(values.shape[0]):
        if bad[j]:
            out.append(Interval(None, None, f"undefined in {int(bad[j])} of {resamples} resamples "
                                            "(too few answers where the decisions vary)"))
        else:
            out.append(Interval(float(bounds[0][j]), float(bounds[1][j])))
    return out


def _collect(space: TypeSpace, chunks, width: int, resamples: int) -> list[dict[str, Interval]]:
    """Statistics of every chunk of resamples (counts ``(width, T, b)``) -> intervals per row."""
    stats = space.statistics()
    values = {name: np.empty((width, resamples)) for name in stats}
    oks = {name: np.empty((width, resamples), dtype=bool) for name in stats}
    b0 = 0
    for x in chunks:
        b = x.shape[-1]
        x = x.astype(np.float64)
        for name, fn in stats.items():
            v, ok = fn(x)
            values[name][:, b0:b0 + b] = v
            oks[name][:, b0:b0 + b] = ok
        b0 += b
    found = {name: _intervals(values[name], oks[name]) for name in stats}
    return [{name: found[name][j] for name in stats} for j in range(width)]


def _none(space: TypeSpace, reason: str) -> dict[str, Interval]:
    return {name: Interval(None, None, reason) for name in space.statistics()}


def code_intervals(counts: Sequence[Sequence[int]], space: TypeSpace, *, resamples: int = DEFAULT_RESAMPLES,
                   seed: int = DEFAULT_SEED, check: Callable[[], None] | None = None) -> list[dict[str, Interval]]:
    """Intervals per code, answers as units: ``counts[code][type]`` decisions of each type (every
    row sums to the number of answers, and the answers finished by ``r`` coders are the same
    for every code).

    A resample first draws how many of its answers were finished by each number of coders (one
    multinomial, shared by every code, as those numbers are), then within each such group the
    types of each code by the shared-positions process of the module docstring."""
    counts = np.asarray(counts, dtype=np.int64).reshape(-1, len(space))
    codes, types = counts.shape
    if codes == 0:
        return []
    n = int(counts[0].sum())
    if n == 0:
        return [_none(space, "no units") for _ in range(codes)]
    rows = np.arange(codes)
    group_of = np.array([r for r, _ in space.types])
    groups = sorted(set(group_of.tolist()))
    sizes = np.array([int(counts[0, group_of == g].sum()) for g in groups], dtype=np.int64)
    layout = []  # per group: its types, each code's most common of them, position ends, s
    for g, size in zip(groups, sizes):
        cols = np.flatnonzero(group_of == g)
        part = counts[:, cols]
        dom = part.argmax(axis=1)
        masked = part.copy()
        masked[rows, dom] = 0
        hi = np.cumsum(masked, axis=1)  # type t takes positions hi[t-1] .. hi[t]
        layout.append((cols, cols[dom], hi.ravel(), int(hi.max()) if size else 0, int(size)))
    rng = _rng(seed, 1)
    widest = max(s for *_, s, _ in layout)
    per_chunk = max(1, min(resamples, CHUNK_CELLS // max(codes * types, widest + 1)))

    def chunks():
        for b0 in range(0, resamples, per_chunk):
            if check is not None:
                check()
            b = min(per_chunk, resamples - b0)
            drawn = rng.multinomial(n, sizes / n, size=b) if len(groups) > 1 else np.full((b, 1), n)
            x = np.empty((codes, types, b), dtype=np.int32)
            for g, (cols, dom, hi, s, size) in enumerate(layout):
                total = drawn[:, g]
                # cum[j, r]: answers of this group drawn in resample r at positions before j
                cum = np.zeros((s + 1, b), dtype=np.int32)
                if s:
                    landed = rng.binomial(total, s / size)
                    pos = rng.integers(0, s, size=int(landed.sum()))
                    which = np.repeat(np.arange(b), landed)
                    hits = np.bincount(pos * b + which, minlength=s * b).reshape(s, b)
                    np.cumsum(hits, axis=0, out=cum[1:], dtype=np.int32)
                ends = cum[hi].reshape(codes, len(cols), b)
                part = x[:, cols[0]:cols[-1] + 1, :]  # the group's types are consecutive
                part[:, 0, :] = ends[:, 0, :]
                np.subtract(ends[:, 1:, :], ends[:, :-1, :], out=part[:, 1:, :])
                part[rows, dom - cols[0], :] = total - part.sum(axis=1, dtype=np.int64)
            yield x

    return _collect(space, chunks(), codes, resamples)


def _weights(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """How often each of ``n`` answers is drawn in each of ``b`` resamples of ``n`` draws: (n, b)."""
    picks = rng.integers(0, n, size=(b, n)) * b
    picks += np.arange(b)[:, None]
    return np.bincount(picks.ravel(), minlength=n * b).reshape(n, b)


def cluster_intervals(vectors: Sequence[Sequence[int]], space: TypeSpace, *, sizes: Sequence[int] | None = None,
                      resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      check: Callable[[], None] | None = None) -> dict[str, Interval]:
    """Intervals of a pooled figure: ``vectors[answer][type]`` what each answer brings (or, with
    ``sizes``, what each of ``sizes[i]`` alike answers brings)."""
    vectors = np.asarray(vectors, dtype=np.int64).reshape(-1, len(space))
    if sizes is None:
        groups, counts = np.unique(vectors, axis=0, return_counts=True)
    else:
        groups, counts = vectors, np.asarray(sizes, dtype=np.int64)
    n = int(counts.sum())
    if n == 0:
        return _none(space, "no units")
    rng = _rng(seed, 2)
    if len(groups) <= 4096:  # few kinds of answer: one multinomial over the kinds
        per_chunk = max(1, min(resamples, CHUNK_CELLS // len(groups)))
        p = counts / n

        def chunks():
            for b0 in range(0, resamples, per_chunk):
                if check is not None:
                    check()
                drawn = rng.multinomial(n, p, size=min(per_chunk, resamples - b0))  # (b, kinds)
                yield (groups.T @ drawn.T)[None]
    else:
        per_chunk = max(1, min(resamples, CHUNK_CELLS // n))
        if sizes is not None:
            vectors = np.repeat(groups, counts, axis=0)

        def chunks():
            for b0 in range(0, resamples, per_chunk):
                if check is not None:
                    check()
                yield (vectors.T @ _weights(rng, n, min(per_chunk, resamples - b0)))[None]

    return _collect(space, chunks(), 1, resamples)[0]


def code_cluster_intervals(base: Sequence[Sequence[int]], active: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]],
                           space: TypeSpace, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                           check: Callable[[], None] | None = None) -> list[dict[str, Interval]]:
    """Intervals per code with characters as units, answers drawn: ``base[answer]`` what an
    answer brings to a code nobody applied in it, ``active[code] = (answers, vectors)`` what
    the answers where someone applied it bring instead."""
    base = np.asarray(base, dtype=np.int64).reshape(-1, len(space))
    n = base.shape[0]
    codes = len(active)
    if codes == 0:
        return []
    if n == 0:
        return [_none(space, "no units") for _ in range(codes)]
    deltas = []
    for answers, vectors in active:
        idx = np.asarray(answers, dtype=np.int64)
        deltas.append((idx, (np.asarray(vectors, dtype=np.int64).reshape(-1, len(space)) - base[idx]).T))
    rng = _rng(seed, 3)
    per_chunk = max(1, min(resamples, CHUNK_CELLS // max(n, codes * len(space))))

    def chunks():
        for b0 in range(0, resamples, per_chunk):
            if check is not None:
                check()
            w = _weights(rng, n, min(per_chunk, resamples - b0))  # (answers, b)
            z = base.T @ w                                        # (T, b)
            x = np.empty((codes, len(space), w.shape[1]), dtype=np.int64)
            for j, (idx, delta) in enumerate(deltas):
                x[j] = z + delta @ w[idx]
            yield x

    return _collect(space, chunks(), codes, resamples)
