"""How far coders' extracts of the same code overlap (pure Python, standard library only).

An *extract* is the union of one coder's spans of one code in one answer (half-open ``[start,
end)`` code-point offsets; overlapping or touching spans merge; empty spans code no character).
A *segment* is one maximal piece of that union.

Extract overlap (per code, over answers and pairs of coders who both applied the code there)
    ``jaccard = |A & B| / |A | B|`` of the two coders' coded characters, and MASI similarity
    ``J * M`` (``M`` 1 identical, 2/3 one inside the other, 1/3 overlapping, 0 apart;
    Passonneau 2006). Both are 1 for identical extracts; they measure where coders put a code
    they agree is there, and say nothing of answers where only one of them used it (that is what
    kappa and alpha measure).

Segment agreement (MAXQDA's segment level, with an explicit overlap rule)
    Every segment of every coder is checked once against each other coder who finished the
    answer: it *matches* if that coder has a segment of the same code whose Jaccard overlap with
    it is at least ``threshold`` (default 0.9). ``agreement = matched / checked`` per code and
    pooled; the pooled figure also gives Brennan-Prediger's kappa with chance ``1 / q``, ``q`` the
    number of codes (MAXQDA's kappa for segments).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from math import fsum

from .coefficients import Stat, masi_similarity, undefined

DEFAULT_THRESHOLD = 0.9
NO_SEGMENTS = "no coded segment in an answer finished by two coders"
NO_SHARED = "no answer where two coders both applied the code"


def merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open intervals as sorted, disjoint, non-touching, non-empty intervals."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def covered(intervals: Sequence[tuple[int, int]]) -> int:
    return sum(e - s for s, e in intervals)


def intersection(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> int:
    """Characters in both of two merged interval lists."""
    i = j = total = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if hi > lo:
            total += hi - lo
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return total


def span_jaccard(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union else 1.0


@dataclass(frozen=True)
class SegmentCheck:
    """One segment of ``coder`` checked against ``other``'s segments of the same code."""

    coder: str
    other: str
    code: str
    span: tuple[int, int]
    best_jaccard: float
    match: bool


def check_segments(extracts: Mapping[str, Mapping[str, Sequence[tuple[int, int]]]],
                   coders: Sequence[str], threshold: float = DEFAULT_THRESHOLD) -> list[SegmentCheck]:
    """Every segment of every coder of one answer against every other coder.

    ``extracts[coder][code]`` are that coder's merged segments; ``coders`` are those who finished
    the answer (a coder absent from ``extracts`` coded nothing there)."""
    out = []
    for coder in coders:
        for code, segments in sorted((extracts.get(coder) or {}).items()):
            for seg in segments:
                for other in coders:
                    if other == coder:
                        continue
                    theirs = (extracts.get(other) or {}).get(code, ())
                    best = max((span_jaccard(seg, t) for t in theirs), default=0.0)
                    out.append(SegmentCheck(coder, other, code, seg, best, best >= threshold))
    return out


@dataclass
class OverlapCounts:
    """Running counts for one code (or pooled): extract overlap and segment checks. The
    overlaps are kept and summed exactly at the end, so that the order of the answers cannot
    change the last digit."""

    jaccards: list[float] = field(default_factory=list)
    masis: list[float] = field(default_factory=list)
    checked: int = 0
    matched: int = 0

    @property
    def pairs(self) -> int:
        return len(self.jaccards)

    def add_pair(self, inter: int, size_a: int, size_b: int) -> None:
        union = size_a + size_b - inter
        self.jaccards.append(inter / union if union else 1.0)
        self.masis.append(masi_similarity(inter, size_a, size_b))

    def __iadd__(self, other: OverlapCounts) -> OverlapCounts:
        self.jaccards.extend(other.jaccards)
        self.masis.extend(other.masis)
        self.checked += other.checked
        self.matched += other.matched
        return self

    def result(self) -> Overlap:
        if self.jaccards:
            jac, masi = Stat(fsum(self.jaccards) / self.pairs), Stat(fsum(self.masis) / self.pairs)
        else:
            jac = masi = undefined(NO_SHARED)
        seg = Stat(self.matched / self.checked) if self.checked else undefined(NO_SEGMENTS)
        return Overlap(self.pairs, jac, masi, self.checked, self.matched, seg)


@dataclass(frozen=True)
class Overlap:
    """Extract overlap and segment agreement of one code (or pooled over codes)."""

    pairs: int
    jaccard: Stat
    masi: Stat
    segments_checked: int
    segments_matched: int
    segment_agreement: Stat

    def to_dict(self) -> dict:
        return {"pairs": self.pairs, "jaccard": self.jaccard.value, "masi": self.masi.value,
                "segments_checked": self.segments_checked, "segments_matched": self.segments_matched,
                "segment_agreement": self.segment_agreement.value}

    def reasons(self, prefix: str = "overlap.") -> dict[str, str]:
        return {prefix + k: s.reason for k, s in (("jaccard", self.jaccard), ("masi", self.masi),
                                                   ("segment_agreement", self.segment_agreement))
                if s.value is None and s.reason}


def segment_kappa(agreement: Stat, codes: int) -> Stat:
    """Brennan-Prediger kappa of segment agreement with ``q`` = the number of codes (MAXQDA)."""
    if agreement.value is None:
        return agreement
    if codes < 2:
        return undefined("segment kappa needs at least two codes (chance agreement 1/q)")
    pe = 1 / codes
    return Stat((agreement.value - pe) / (1 - pe))


def answer_overlap(spans: Mapping[int, list[tuple[int, int]]], finished: Sequence[int],
                   counts: OverlapCounts, threshold: float) -> None:
    """Add one answer and one code: ``spans[coder index]`` the raw spans of the coders who
    applied the code, ``finished`` every coder index that finished the answer."""
    merged = {i: merge(s) for i, s in spans.items()}
    sizes = {i: covered(m) for i, m in merged.items()}
    for i, segs in merged.items():
        for j in finished:
            if j == i:
                continue
            counts.checked += len(segs)
            theirs = merged.get(j)
            if not theirs:
                continue
            for seg in segs:
                if max(span_jaccard(seg, t) for t in theirs) >= threshold:
                    counts.matched += 1
    coders = sorted(merged)
    for x in range(len(coders)):
        for y in range(x + 1, len(coders)):
            a, b = coders[x], coders[y]
            counts.add_pair(intersection(merged[a], merged[b]), sizes[a], sizes[b])
