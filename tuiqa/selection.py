"""Keyboard selection of an extract: whole response, sentence by sentence, word by word.

A selection is a non-empty span ``[start, end)`` of code points that never splits a character
cluster. Every operation returns a new :class:`Selection`; the text is not changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text import sentences, snap_span, words


@dataclass(frozen=True)
class Selection:
    start: int
    end: int

    @classmethod
    def whole(cls, text: str) -> Selection:
        return cls(0, len(text))

    def is_whole(self, text: str) -> bool:
        return self.start == 0 and self.end == len(text)

    def clamp(self, text: str) -> Selection:
        if not text:
            return Selection(0, 0)
        s, e = snap_span(text, self.start, self.end)
        if s >= e:
            return Selection.whole(text)
        return Selection(s, e)

    # -- sentences ---------------------------------------------------------------------------

    def next_sentence(self, text: str, language: str = "en") -> Selection:
        """Select the sentence after the current selection (or the first one)."""
        spans = sentences(text, language)
        if not spans:
            return self
        if self.is_whole(text) and len(spans) > 1:
            return Selection(*spans[0])
        for s, e in spans:
            if s >= self.end or (s >= self.start and e > self.end):
                return Selection(s, e)
        return Selection(*spans[-1]) if (self.start, self.end) != spans[-1] else self

    def prev_sentence(self, text: str, language: str = "en") -> Selection:
        spans = sentences(text, language)
        if not spans:
            return self
        if self.is_whole(text) and len(spans) > 1:
            return Selection(*spans[-1])
        for s, e in reversed(spans):
            if e <= self.start or (s < self.start and e <= self.end):
                return Selection(s, e)
        return Selection(*spans[0]) if (self.start, self.end) != spans[0] else self

    @classmethod
    def sentence_at(cls, text: str, offset: int, language: str = "en") -> Selection:
        """The sentence at ``offset`` (a click): the first one that ends after it."""
        spans = sentences(text, language)
        if not spans:
            return cls.whole(text)
        for s, e in spans:
            if offset < e:
                return cls(s, e)
        return cls(*spans[-1])

    def extend_to(self, text: str, offset: int, language: str = "en") -> Selection:
        """Grow the selection to take in the sentence at ``offset`` (a shift-click)."""
        other = Selection.sentence_at(text, offset, language)
        return Selection(min(self.start, other.start), max(self.end, other.end))

    def extend_sentence(self, text: str, language: str = "en") -> Selection:
        """Grow the end to the end of the next sentence."""
        for _, e in sentences(text, language):
            if e > self.end:
                return Selection(self.start, e)
        return Selection(self.start, len(text)) if self.end < len(text) else self

    def shrink_sentence(self, text: str, language: str = "en") -> Selection:
        """Pull the end back to the end of the previous sentence (never below the first)."""
        for _, e in reversed(sentences(text, language)):
            if self.start < e < self.end:
                return Selection(self.start, e)
        return self

    # -- words -------------------------------------------------------------------------------

    def extend_word(self, text: str) -> Selection:
        """Grow the end to the end of the next word."""
        for _, e in words(text):
            if e > self.end:
                return Selection(self.start, e)
        return Selection(self.start, len(text)) if self.end < len(text) else self

    def shrink_word(self, text: str) -> Selection:
        """Pull the end back to the end of the previous word."""
        for _, e in reversed(words(text)):
            if self.start < e < self.end:
                return Selection(self.start, e)
        return self

    def start_back_word(self, text: str) -> Selection:
        """Move the start to the beginning of the previous word (grows the selection)."""
        for s, _ in reversed(words(text)):
            if s < self.start:
                return Selection(s, self.end)
        return Selection(0, self.end) if self.start > 0 else self

    def start_forward_word(self, text: str) -> Selection:
        """Move the start to the beginning of the next word (shrinks the selection)."""
        for s, _ in words(text):
            if self.start < s < self.end:
                return Selection(s, self.end)
        return self

    def extract(self, text: str) -> str:
        return text[self.start:self.end]
