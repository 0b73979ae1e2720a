"""Small helpers for Textual's OptionList as the screens use it: one row per item."""

from __future__ import annotations

from typing import Sequence, TypeVar

from textual.widgets import OptionList
from textual.widgets.option_list import Option

Item = TypeVar("Item")


def highlighted(option_list: OptionList, items: Sequence[Item]) -> Item | None:
    """``items[i]`` for the highlighted row ``i`` (the list shows one row per item), or None
    when nothing is highlighted or the rows are being replaced."""
    i = option_list.highlighted
    return None if i is None or i >= len(items) else items[i]


def fill_keeping_place(option_list: OptionList, options: Sequence[Option]) -> None:
    """Replace the rows, the highlight staying on the same row number (or the last row)."""
    keep = option_list.highlighted
    option_list.set_options(options)
    if options:
        option_list.highlighted = min(keep or 0, len(options) - 1)
