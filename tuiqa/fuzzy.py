"""Fuzzy matching for pickers: find a code (or participant, question) from a few typed letters.

The query's characters must appear in order in the candidate (case-insensitive). The score
rewards matches at the start of the candidate and of words, and runs of consecutive letters, and
penalises gaps, so "rvl" finds "recovery is non-linear" and "trust" ranks "building trust" above
"distrust of services". Space-separated query words must each match (in any order).
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from typing import Callable, Iterable, Sequence, TypeVar

T = TypeVar("T")


@lru_cache(maxsize=16384)
def _prepared(candidate: str) -> tuple[str, frozenset[int]]:
    """The casefolded candidate and where its words start (cached: a picker of 2,000 codes is
    ranked again on every keystroke)."""
    text = candidate.casefold()
    starts = {0}
    for i in range(1, len(text)):
        if not text[i - 1].isalnum() and text[i].isalnum():
            starts.add(i)
    return text, frozenset(starts)


def score_word(query: str, candidate: str) -> tuple[float, list[int]] | None:
    """Score one query word against a candidate; None if it does not match."""
    if not query:
        return 0.0, []
    cand, starts = _prepared(candidate)
    q = query.casefold()
    exact = cand.find(q)
    if exact >= 0:
        # A contiguous hit: best at the start, then at a word start.
        bonus = 3.0 if exact == 0 else 2.0 if exact in starts else 1.0
        return 10.0 * len(q) * bonus - 0.01 * len(cand), list(range(exact, exact + len(q)))
    positions: list[int] = []
    pos = 0
    for ch in q:
        found = cand.find(ch, pos)
        if found < 0:
            return None
        # Prefer a later word start for this letter if one exists before the next letters run out.
        positions.append(found)
        pos = found + 1
    score = 0.0
    prev = -2
    for p in positions:
        if p in starts:
            score += 6.0
        if p == prev + 1:
            score += 4.0
        else:
            score -= 0.5 * min(p - prev, 10)
        score += 1.0
        prev = p
    return score - 0.01 * len(cand), positions


def score(query: str, candidate: str) -> tuple[float, list[int]] | None:
    words = query.split()
    if not words:
        return 0.0, []
    total = 0.0
    marks: set[int] = set()
    for word in words:
        hit = score_word(word, candidate)
        if hit is None:
            return None
        total += hit[0]
        marks.update(hit[1])
    return total, sorted(marks)


def rank(query: str, items: Iterable[T], key: Callable[[T], str], limit: int | None = None
         ) -> list[tuple[T, list[int]]]:
    """Items that match, best first (ties keep the input order)."""
    scored = []
    for index, item in enumerate(items):
        hit = score(query, key(item))
        if hit is not None:
            scored.append((-hit[0], index, item, hit[1]))
    scored.sort(key=lambda t: (t[0], t[1]))
    if limit is not None:
        scored = scored[:limit]
    return [(item, marks) for _, _, item, marks in scored]


def closest(name: str, names: Sequence[str], n: int = 3) -> list[str]:
    """Names that look like ``name`` (for "unknown code" messages)."""
    folded = {c.casefold(): c for c in names}
    hits = difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.5)
    fuzzy = [item for item, _ in rank(name, names, key=lambda s: s, limit=n)]
    out: list[str] = []
    for candidate in [folded[h] for h in hits] + fuzzy:
        if candidate not in out:
            out.append(candidate)
    return out[:n]
