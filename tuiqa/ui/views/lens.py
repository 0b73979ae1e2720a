"""Whose work a coder sees: the blind-coding rules, in one place.

In blind mode a coder sees only their own codings, memos, review marks and counts, while code
names and descriptions stay visible (coders must share codes for agreement to mean anything).
Every view and screen asks the lens rather than checking ``blind`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, TypeVar

from ...model import Code, Memo

M = TypeVar("M", bound=Memo)


@dataclass(frozen=True)
class Lens:
    coder: str
    blind: bool

    @property
    def counted_coder(self) -> str | None:
        """Whose codings counts and lists show: only yours in blind mode, else everyone's."""
        return self.coder if self.blind else None

    def sees(self, coder: str) -> bool:
        """Whether work by ``coder`` may be shown."""
        return not self.blind or coder == self.coder

    def memos(self, memos: Iterable[M]) -> list[M]:
        """The memos that may be shown."""
        return [m for m in memos if self.sees(m.coder)]

    def others_memos(self, memos: Iterable[M]) -> list[M]:
        """Other coders' memos that may be shown beside yours (none in blind mode)."""
        return [m for m in memos if m.coder != self.coder and not self.blind]

    def creator(self, code: Code) -> str:
        """Who created a code, where that may be shown."""
        return code.created_by if self.sees(code.created_by) else ""

    def codings_coder(self, show_all: bool) -> str | None:
        """Whose codings the coding screen lists: everyone's when asked for and allowed."""
        return None if show_all and not self.blind else self.coder

    def refusal(self, what: str) -> str | None:
        """Why ``what`` (something that shows other coders' work) cannot open, or None."""
        if self.blind:
            return f"Blind coding: {what} shows other coders' work (turn blind coding off in Ctrl+P)"
        return None
