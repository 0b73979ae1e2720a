"""Zip archives (.xlsx survey exports, .qdpx REFI-QDA projects) are judged by their directory
before a byte is unpacked: how many members, where they say they go, how large they would
become, and how much each is compressed. A "zip bomb" of a few MB that unpacks to gigabytes is
refused at once, instead of being read for minutes.
"""

from __future__ import annotations

import re
import zipfile

#: A member over 1 MB may not be compressed more than this (real spreadsheets and projects: 2–20).
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024


def zip_problem(infos: list[zipfile.ZipInfo], *, max_total: int, max_members: int,
                what: str) -> str | None:
    """Why an archive with these members must not be read, or None if it may be."""
    if len(infos) > max_members:
        return f"the archive holds {len(infos)} files, more than the {max_members} {what} may have"
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) \
                or ".." in re.split(r"[\\/]", name) or "\x00" in name:
            return (f"the archive holds a file with an unsafe path, {name!r} (absolute or with "
                    "'..': a 'zip slip' archive that could write outside its folder); refused")
        total += info.file_size
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return (f"the archive looks like a zip bomb: {name!r} would expand from "
                    f"{info.compress_size:,} bytes to {info.file_size:,} bytes (more than "
                    f"{MAX_RATIO} times); refused")
    if total > max_total:
        return (f"the archive would expand to {total / 1e6:.0f} MB, over the "
                f"{max_total / 1e6:.0f} MB limit for {what} (a zip bomb?); refused")
    return None
