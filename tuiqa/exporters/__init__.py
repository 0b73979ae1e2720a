"""Writing a project out: reports for the write-up, spreadsheets, REFI-QDA, map pictures.

Every format is a function ``write(project, out: Path, ctx: ExportContext) -> None`` registered
in :data:`FORMATS` with its file extension and the stem of its default file name. Writers build
the whole output in memory and hand it to :func:`ExportContext.save`, which writes it atomically
and privately (like every file tuiqa writes), so a cancelled or failed export leaves nothing
half-written. Long writers call ``ctx.step(done, total)`` now and then: it reports progress and
raises :class:`Cancelled` when the user asked to stop.

Default names (``DIR/exports/NAME[-stem][-coder].ext``) differ between formats, so one export
never replaces another kind (the codings CSV is ``NAME-codings.csv``, the codebook
``NAME-codebook.csv``); :func:`target` says where an export goes before it runs, so a caller
can tell the user when an earlier file of that name is replaced.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..longwork import Cancelled  # noqa: F401  (raised by ExportContext.step; callers catch it here)
from ..project import Project
from ..store.files import atomic_write, file_mode, make_private_dir
from ..store.stamps import stamp_iso

if TYPE_CHECKING:
    from ..layers import Layer


class ExportError(Exception):
    pass


@dataclass
class ExportContext:
    # Write-ups (markdown, docx, html, codebooks, map pictures): the layer to quote and count
    # ("lead", "consensus+lead"; None: the project's primary layer). Data exports (csv, qdpx):
    # only this coder's codings (None: everyone's).
    coder: str | None = None
    session_coder: str = "tuiqa"  # who exports
    quote_template: str | None = None  # attribute quotes this way (None: the project's setting)
    progress: Callable[[int, int], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    replaced: bool = False  # set by save: an existing file was replaced

    def step(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        if self.progress is not None:
            self.progress(done, total)

    def layer(self, project: Project) -> Layer | None:
        """The coder layer a write-up quotes (see :mod:`tuiqa.layers`)."""
        from .. import layers

        if self.coder:
            return layers.parse(project, self.coder, check=False)
        return layers.primary_layer(project)

    def save(self, out: Path, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        out = Path(out)
        if out.is_dir():
            raise ExportError(f"{out} is a folder; give a file name")
        if not out.parent.exists():  # made now, at the end: a stopped export leaves no folder
            make_private_dir(out.parent)
        self.replaced = out.exists()
        atomic_write(out, data, mode=file_mode(out.parent))


class IsoTimes:
    """ISO 8601 times of stamps (:func:`~tuiqa.store.stamps.stamp_iso`), worked out once per
    second: a stamp starts with its milliseconds since the epoch, 13 digits, so its first 10 are
    the second. ``seen`` maps those digits to the time, for a caller's own quick look-up."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, stamp: str) -> str:
        if len(stamp) > 13 and stamp[13] == "." and stamp[:13].isdigit():
            second = stamp[:10]
            found = self.seen.get(second)
            if found is None:
                found = self.seen[second] = stamp_iso(stamp)
            return found
        return stamp_iso(stamp)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    description: str
    write: Callable[[Project, Path, ExportContext], None]
    stem: str = ""  # the default file name's part after the project's: NAME-codings.csv
    layered: bool = True  # quotes or counts one coder layer (False: every coding, as data)


FORMATS: dict[str, Format] = {}


def register(name: str, extension: str, description: str, *, stem: str = "", layered: bool = True):
    def wrap(fn: Callable[[Project, Path, ExportContext], None]):
        FORMATS[name] = Format(name, extension, description, fn, stem, layered)
        return fn

    return wrap


def load_all() -> dict[str, Format]:
    """Import every writer module (each registers its formats)."""
    from . import csv_export  # noqa: F401

    for module in ("report", "refi", "picture"):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
    return FORMATS


def _format(fmt: str) -> Format:
    formats = load_all()
    if fmt not in formats:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(sorted(formats))}")
    return formats[fmt]


def default_name(project: Project, fmt: str, ctx: ExportContext) -> str:
    f = _format(fmt)
    parts = [project.dir.name] + ([f.stem] if f.stem else []) + ([ctx.coder] if ctx.coder else [])
    return "-".join(parts) + f".{f.extension}"


def target(project: Project, fmt: str, out: Path | str | None, ctx: ExportContext) -> Path:
    """Where an export goes: ``out``; inside it under the default name when it is a folder
    (one that exists, or a path ending in ``/``); else ``DIR/exports/`` under the default name."""
    if out is None:
        return project.dir / "exports" / default_name(project, fmt, ctx)
    text = str(out)
    out = Path(out).expanduser()
    if out.is_dir() or text.endswith((os.sep, "/")):
        return out / default_name(project, fmt, ctx)
    return out


def export(project: Project, fmt: str, out: Path | None, ctx: ExportContext) -> Path:
    f = _format(fmt)
    path = target(project, fmt, out, ctx)
    if out is None:
        make_private_dir(path.parent, shared_root=project.dir)
    f.write(project, path, ctx)
    return path
