"""Where sentences end in a survey answer, for selecting an extract a sentence at a time.

The boundaries come from pysbd (rule-based sentence boundary detection, 22 languages), so the
abbreviations clinicians write all the time ("Dr.", "e.g.", "i.e.", "vs.", "St.", "approx.") do
not end a sentence. Around it, three rules that hold in any project language:

* a line break always ends a sentence (answers are typed as paragraphs and lists);
* the full stops of scripts that have their own (``。！？｡``) always end one, so a Japanese or
  Chinese phrase inside an English project is not one long sentence;
* an ellipsis followed by a capital letter ends one ("Then she left… And?"), as pysbd already does
  for three dots; followed by a lower-case word it is a pause ("It takes time… and hope").

pysbd's cost grows faster than the length of what it is given, so a very long line is first cut
into pieces of about :data:`PIECE` characters at unmistakable sentence ends (a full stop after a
word of four letters or more, then a capital letter); an answer of 14,000 characters on one line
then costs about as much per character as a short one (pysbd takes ~13 µs a character).

Spans are code-point offsets into the text, end-exclusive, trimmed of white space; the caller
snaps them to character clusters. pysbd is imported on first use (it costs ~30 ms at start-up).
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_LANGUAGE = "en"
#: The languages pysbd knows (ISO 639-1), for checking the project setting without importing it.
LANGUAGES = ("am", "ar", "bg", "da", "de", "el", "en", "es", "fa", "fr", "hi", "hy", "it", "ja",
             "kk", "mr", "my", "nl", "pl", "ru", "sk", "ur", "zh")
PIECE = 500

_LINE = re.compile(r"[^\n]+")
# Full stops of other scripts, with the closing marks that belong to the sentence they end.
_OTHER_STOPS = re.compile(r"[。！？｡]+[」』）〕】〉》\"”’)]*")
# An ellipsis that ends a sentence: white space and a capital letter (or an opening quote) follow.
_ELLIPSIS = re.compile(r"…(?=\s+[\"“‘(\[]?(\w))")
# A safe place to cut a long line: a full stop after a word of 4+ letters, then a capital.
_SAFE_CUT = re.compile(r"(?<=[^\W\d_]{4})[.!?]+[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z])")


def normal_language(language: str | None) -> str:
    """The language code to segment with: the project's if pysbd knows it, else English."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@lru_cache(maxsize=8)
def _segmenter(language: str):
    import pysbd

    return pysbd.Segmenter(language=language, clean=False, char_span=True)


def sentence_spans(text: str, language: str = DEFAULT_LANGUAGE) -> list[tuple[int, int]]:
    """Untrimmed sentence spans covering each line of ``text``, in order."""
    language = normal_language(language)
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        for start, end in _pieces(line.group(), line.start()):
            spans.extend(_segment(text[start:end], start, language))
    return spans


def _pieces(line: str, offset: int) -> list[tuple[int, int]]:
    if len(line) <= PIECE:
        return [(offset, offset + len(line))]
    pieces = []
    start = 0
    for cut in _SAFE_CUT.finditer(line):
        if cut.end() - start >= PIECE:
            pieces.append((offset + start, offset + cut.end()))
            start = cut.end()
    pieces.append((offset + start, offset + len(line)))
    return pieces


def _ellipsis_end(m: re.Match) -> str:
    return "." if m.group(1).isupper() else "…"


def _segment(piece: str, offset: int, language: str) -> list[tuple[int, int]]:
    # "…" before a capital becomes "." for pysbd: one code point for one, so offsets stay true.
    shown = _ELLIPSIS.sub(_ellipsis_end, piece)
    out: list[tuple[int, int]] = []
    for span in _segmenter(language).segment(shown):
        start, end = span.start, span.end
        for stop in _OTHER_STOPS.finditer(piece, start, end):
            if piece[stop.end():end].strip():
                out.append((offset + start, offset + stop.end()))
                start = stop.end()
        out.append((offset + start, offset + end))
    return out
