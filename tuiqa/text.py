"""Response text: normalisation at import, character clusters, sentences, words, safe display.

Offsets everywhere in tuiqa are Unicode code-point offsets into the *normalised* text, end-exclusive.
Normalisation happens once, at import: every line separator becomes ``\\n``. Nothing else changes,
so an extract copied out of the response is verbatim.

A selection never splits a character cluster (an emoji with modifiers, a letter with combining
accents): :func:`cluster_bounds` gives the allowed cut points and :func:`snap_span` moves a span
outwards onto them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from bisect import bisect_left, bisect_right
from functools import lru_cache

import re

# Everything Python's str.splitlines() treats as a line break, so what a widget shows line by line
# agrees with our offsets.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_WORD = re.compile(r"[\w'’\-]+")


@lru_cache(maxsize=1)
def _cluster_pattern():
    """Grapheme clusters need the ``regex`` module (``\\X``); imported on first need."""
    import regex

    return regex.compile(r"\X", regex.DOTALL)


def normalise(text: str) -> str:
    """Turn every line separator into ``\\n``. Applied once, when text enters a project."""
    return _LINE_BREAKS.sub("\n", text)


def text_hash(text: str) -> str:
    """A short fingerprint of a response text, stored with each coding to check its offsets."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=256)
def cluster_bounds(text: str) -> tuple[int, ...]:
    """All code-point offsets where a cut does not split a character cluster (0 and len included)."""
    if text.isascii() and "\r" not in text:
        return tuple(range(len(text) + 1))
    bounds = [0]
    bounds.extend(m.end() for m in _cluster_pattern().finditer(text))
    return tuple(bounds)


def snap_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Clamp a span to the text and widen it to whole character clusters."""
    n = len(text)
    start = max(0, min(start, n))
    end = max(start, min(end, n))
    bounds = cluster_bounds(text)
    i = bisect_right(bounds, start) - 1
    j = bisect_left(bounds, end)
    return bounds[max(i, 0)], bounds[min(j, len(bounds) - 1)]


def is_cluster_aligned(text: str, start: int, end: int) -> bool:
    bounds = cluster_bounds(text)
    return _contains(bounds, start) and _contains(bounds, end)


def _contains(sorted_values: tuple[int, ...], value: int) -> bool:
    i = bisect_left(sorted_values, value)
    return i < len(sorted_values) and sorted_values[i] == value


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so it neither starts nor ends with white space (unless it is all white space)."""
    s, e = start, end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return (s, e) if s < e else (start, end)


@lru_cache(maxsize=256)
def sentences(text: str, language: str = "en") -> tuple[tuple[int, int], ...]:
    """Sentence spans, trimmed of surrounding white space and snapped to character clusters, in
    order (see :mod:`tuiqa.sentences` for where a sentence ends). Never empty for non-blank text."""
    from .sentences import sentence_spans

    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text, language):
        _add_trimmed(text, start, end, spans)
    if not spans and text:
        spans.append((0, len(text)))
    return tuple(spans)


def _add_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    s, e = trim_span(text, start, end)
    if s < e and not text[s:e].isspace():
        out.append(snap_span(text, s, e))


@lru_cache(maxsize=256)
def words(text: str) -> tuple[tuple[int, int], ...]:
    """Word spans (letters, digits, apostrophes, hyphens), snapped to character clusters."""
    return tuple(snap_span(text, m.start(), m.end()) for m in _WORD.finditer(text))


#: What :func:`display_text` makes visible: C0 controls but newline and tab, DEL, C1 controls,
#: and the line and paragraph separators.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def display_text(text: str) -> str:
    """The text as it may be put on a terminal: one code point out for each code point in.

    Control characters (C0 except newline and tab, DEL, C1) become visible symbols, so an answer
    holding ANSI escape sequences shows them literally and cannot move the cursor. Rich markup needs
    no treatment here: callers build ``rich.text.Text`` objects, which never parse markup.
    """
    if text.isprintable() or not CONTROLS.search(text):
        return text
    return CONTROLS.sub(_display_match, text)


def _display_match(match: re.Match) -> str:
    o = ord(match.group())
    if o < 0x20:
        return chr(0x2400 + o)  # ␀ … ␟ (U+241B is ␛ for ESC)
    if o == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def one_line(text: str, limit: int | None = None) -> str:
    """A single-line, display-safe rendering (for lists and status lines), at most ``limit``
    terminal cells wide (a CJK letter or an emoji takes two)."""
    flat = display_text(text).replace("\n", " ⏎ ").replace("\t", " ")
    if limit is None or (len(flat) <= limit // 2) or cells(flat) <= limit:
        return flat
    out, used = [], 0
    for ch in flat:
        width = _cell_width(ch)
        if used + width > limit - 1:
            break
        out.append(ch)
        used += width
    return "".join(out) + "…"


def quoted(name: object) -> str:
    """A name in a message, as it is (not its repr, which doubles backslashes and shows quotes
    as escapes), between curly quotes, on one line and display-safe."""
    return f"“{one_line(name)}”" if isinstance(name, str) else str(name)


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (wide East Asian letters and emoji take two,
    combining marks none): the same rule terminals and Rich use, without Rich."""
    return sum(_cell_width(ch) for ch in text)


@lru_cache(maxsize=4096)
def _cell_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_QUOTE_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
                             "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "″": '"'})


def loose_key(text: str) -> tuple[str, list[int]]:
    """Fold quote styles, ellipses and runs of white space, keeping a map back to the original.

    Returns ``(folded, origin)`` where ``origin[i]`` is the offset in ``text`` of folded character
    ``i`` and ``origin[len(folded)] == len(text)``. Used to find an extract in a response when only
    its text is known and it was retyped with other quotes, ``...`` for ``…`` or other spacing.
    """
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            out.append(" ")
            origin.append(i)
            i = j
            continue
        if ch == "…":
            out.extend("...")
            origin.extend((i, i, i))
        else:
            out.append(ch.translate(_QUOTE_FOLD))
            origin.append(i)
        i += 1
    origin.append(n)
    return "".join(out), origin


def find_extract(text: str, extract: str) -> list[tuple[int, int]]:
    """Every place ``extract`` occurs in ``text``: exact matches, else loose matches (see loose_key)."""
    hits = _find_all(text, extract)
    if hits:
        return [(s, s + len(extract)) for s in hits]
    hay, origin = loose_key(text)
    needle, _ = loose_key(extract.strip())
    if not needle.strip():
        return []
    spans = []
    for s in _find_all(hay, needle):
        e = s + len(needle)
        start = origin[s]
        end = origin[e - 1] + 1 if e > 0 else start
        spans.append((start, end))
    return spans


def _find_all(hay: str, needle: str) -> list[int]:
    if not needle:
        return []
    hits, pos = [], hay.find(needle)
    while pos != -1:
        hits.append(pos)
        pos = hay.find(needle, pos + 1)
    return hits


def ascii_terminal() -> bool:
    """The Linux console (TERM=linux) lacks most symbols; TUIQA_ASCII=1 forces ASCII too."""
    import os

    return os.environ.get("TERM", "") == "linux" or os.environ.get("TUIQA_ASCII") == "1"
