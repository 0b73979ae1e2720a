"""Writing a project out: reports for the write-up, spreadsheets, REFI-QDA, map pictures.

Every format is a function ``write(project, out: Path, ctx: ExportContext) -> None`` registered
in :data:`FORMATS` with its file extension. Writers build the whole output in memory and hand it
to :func:`ExportContext.save`, which writes it atomically and privately (like every file tuiqa
writes), so a cancelled or failed export leaves nothing half-written. Long writers call
``ctx.step(done, total)`` now and then: it reports progress and raises :class:`Cancelled` when
the user asked to stop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..longwork import Cancelled  # noqa: F401  (raised by ExportContext.step; callers catch it here)
from ..project import Project
from ..store.files import atomic_write, file_mode


class ExportError(Exception):
    pass


@dataclass
class ExportContext:
    coder: str | None = None  # only this coder's codings (None: everyone's)
    session_coder: str = "tuiqa"  # for the quote template and attribution
    progress: Callable[[int, int], None] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def step(self, done: int, total: int) -> None:
        if self.cancel.is_set():
            raise Cancelled()
        if self.progress is not None:
            self.progress(done, total)

    @staticmethod
    def save(out: Path, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        out = Path(out)
        if out.is_dir():
            raise ExportError(f"{out} is a folder; give a file name")
        if not out.parent.exists():
            raise ExportError(f"{out.parent} does not exist")
        atomic_write(out, data, mode=file_mode(out.parent))


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    description: str
    write: Callable[[Project, Path, ExportContext], None]


FORMATS: dict[str, Format] = {}


def register(name: str, extension: str, description: str):
    def wrap(fn: Callable[[Project, Path, ExportContext], None]):
        FORMATS[name] = Format(name, extension, description, fn)
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


def export(project: Project, fmt: str, out: Path | None, ctx: ExportContext) -> Path:
    formats = load_all()
    if fmt not in formats:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(sorted(formats))}")
    f = formats[fmt]
    if out is None:
        exports = project.dir / "exports"
        from ..store.files import make_private_dir

        make_private_dir(exports, shared_root=project.dir)
        out = exports / f"{project.dir.name}{'-' + ctx.coder if ctx.coder else ''}.{f.extension}"
    f.write(project, Path(out), ctx)
    return Path(out)
