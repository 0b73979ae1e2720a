"""The item behind an OptionList's highlighted row."""

from __future__ import annotations

from typing import Sequence, TypeVar

from textual.widgets import OptionList

Item = TypeVar("Item")


def highlighted(option_list: OptionList, items: Sequence[Item]) -> Item | None:
    """``items[i]`` for the highlighted row ``i`` (the list shows one row per item), or None
    when nothing is highlighted or the rows are being replaced."""
    i = option_list.highlighted
    return None if i is None or i >= len(items) else items[i]
