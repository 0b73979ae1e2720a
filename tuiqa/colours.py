"""Code colours: a palette readable on dark and light backgrounds, chosen stably per code."""

from __future__ import annotations

import re
import zlib

PALETTE = (
    "#4e9a06", "#3465a4", "#c4a000", "#ad7fa8", "#06989a", "#cc0000",
    "#ce5c00", "#75507b", "#8ae234", "#729fcf", "#e9b96e", "#ef2929",
)
NAMES = {
    "green": "#4e9a06", "blue": "#3465a4", "yellow": "#c4a000", "pink": "#ad7fa8",
    "teal": "#06989a", "red": "#cc0000", "orange": "#ce5c00", "purple": "#75507b",
    "lime": "#8ae234", "sky": "#729fcf", "sand": "#e9b96e", "scarlet": "#ef2929",
}
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def is_colour(value: str) -> bool:
    return bool(_HEX.match(value or ""))


def parse_colour(value: str) -> str:
    """A colour name from :data:`NAMES` or ``#RGB``/``#RRGGBB``; raises ValueError otherwise."""
    v = (value or "").strip()
    if v.lower() in NAMES:
        return NAMES[v.lower()]
    if is_colour(v):
        if len(v) == 4:
            v = "#" + "".join(ch * 2 for ch in v[1:])
        return v.lower()
    raise ValueError(f"{value!r} is not a colour: use #RRGGBB or one of {', '.join(NAMES)}")


def colour_for(code_id: str, chosen: str = "") -> str:
    if chosen and is_colour(chosen):
        return chosen
    return PALETTE[zlib.crc32(code_id.encode()) % len(PALETTE)]
