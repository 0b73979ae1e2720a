"""A private, disposable binary copy of the loaded state, so a large project opens at once.

The project's files are the truth; this cache only makes opening them fast (marshal decodes about
four times faster than JSON, and its sections can be decoded separately). It lives outside the
project, in the user's cache folder (``platformdirs.user_cache_dir("tuiqa")/projects/``), one file
per project and machine, owner-only: it never travels with a synced project folder, and two
machines never share one. Deleting it is always safe.

It records exactly what it holds: the version vector of the journals folded in, the survey
imports, and the snapshot files it read (by modification time and size). Opening uses it when
everything it holds is still in the project (a copy of the project on this machine shares it);
whatever has arrived since (another machine's journal lines, snapshot or import) is read on top
of it (see :class:`~tuiqa.store.store.ProjectStore`).

Sections (each a separate marshal blob):

* ``survey``: participants, questions, responses.
* ``small``: every entity kind except codings and statuses.
* ``done``: per coder, the responses marked done.
* ``bulk``: codings (grouped by response) and statuses, in chunks of about 5,000, decoded in the
  background (see ``Project``);
* ``where``: for each response, the chunk and rows holding its codings, so the first answer can
  be shown with its codings by decoding one chunk, before the rest is ready.
"""

from __future__ import annotations

import marshal
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model import ENTITY_TYPES, Entity, Participant, Question, Responses, TextChunk
from .files import atomic_write

if TYPE_CHECKING:
    from .state import State
    from .store import ProjectStore

MAGIC = "tuiqa-cache"
VERSION = 5
BULK_KINDS = ("coding", "status")
TEXT_CHUNK = 1_000  # answers per text chunk
CHUNK = 5_000  # rows per chunk: one chunk decodes in a few ms, so the UI stays responsive
MARSHAL_VERSION = 4


def cache_dir() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("tuiqa", appauthor=False) / "projects"


def cache_path(store: ProjectStore) -> Path:
    ident = "".join(ch for ch in str(store.meta.get("project_id", "")) if ch.isalnum() or ch == "-")
    return cache_dir() / f"{ident or 'project'}-{store.machine or 'reader'}.bin"


def _schema() -> dict[str, tuple[str, ...]]:
    return {kind: cls.FIELDS for kind, cls in ENTITY_TYPES.items()}


def _row(obj: Entity) -> tuple:
    return (obj.id, obj._s, obj._fh, *[getattr(obj, f) for f in obj.FIELDS])


def _rows(objs) -> list[tuple]:
    return [_row(o) for o in objs]


def clone(obj: Entity) -> Entity:
    """A copy of an entity that shares nothing a change could touch."""
    copy = make_entity(type(obj), _row(obj))
    if copy._fh is not None:
        copy._fh = dict(copy._fh)
    return copy


def make_entity(cls: type[Entity], row: tuple) -> Entity:
    obj = object.__new__(cls)
    obj.id, obj._s, obj._fh = row[0], row[1], row[2]
    for name, value in zip(cls.FIELDS, row[3:]):
        setattr(obj, name, value)
    return obj


def write_cache(store: ProjectStore, held: dict[str, Any],
                foreign: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Write the cache for the state as it is now. ``held``: what it holds (``vv``, ``imports``,
    ``snapshots``: see :meth:`ProjectStore.holding`)."""
    st = store.state
    from ..navigation import ORDERS, reading_order

    responses = list(st.responses.values())
    texts = [r.text for r in responses]
    survey = (
        [(p.id, p.pid, p.attrs, p.order) for p in st.participants.values()],
        [(q.id, q.key, q.text, q.column, q.order) for q in st.questions.values()],
        [(r.id, r.participant_id, r.question_id, r.hash) for r in responses],
        st.attributes,
        st.survey_meta,
        # the reading orders, so the app need not sort 50,000 answers before its first paint
        {order: reading_order(st, order) for order in ORDERS},
        TEXT_CHUNK,
    )
    small = {kind: _rows(table.values()) for kind, table in st.entities.items()
             if kind not in BULK_KINDS}
    done: dict[str, list[str]] = {}
    for s in st.table("status").values():
        if s.done and s.coder and s.response_id:  # type: ignore[attr-defined]
            done.setdefault(s.coder, []).append(s.response_id)  # type: ignore[attr-defined]
    # Codings grouped by response; a chunk never splits a response's codings.
    grouped: dict[str, list[tuple]] = {}
    for c in st.table("coding").values():
        grouped.setdefault(c.response_id or "", []).append(_row(c))  # type: ignore[attr-defined]
    coding_chunks: list[bytes] = []
    where: dict[str, tuple[int, int, int]] = {}
    chunk: list[tuple] = []
    for rid, rows in grouped.items():
        where[rid] = (len(coding_chunks), len(chunk), len(chunk) + len(rows))
        chunk.extend(rows)
        if len(chunk) >= CHUNK:
            coding_chunks.append(marshal.dumps(chunk, MARSHAL_VERSION))
            chunk = []
    if chunk:
        coding_chunks.append(marshal.dumps(chunk, MARSHAL_VERSION))
    status_rows = _rows(st.table("status").values())
    bulk = {
        "coding": coding_chunks,
        "status": [marshal.dumps(status_rows[i:i + CHUNK], MARSHAL_VERSION)
                   for i in range(0, len(status_rows), CHUNK)],
    }
    sections: dict[str, bytes] = {
        "survey": marshal.dumps(survey, MARSHAL_VERSION),
        "small": marshal.dumps(small, MARSHAL_VERSION),
        "where": marshal.dumps(where, MARSHAL_VERSION),
        "done": marshal.dumps(done, MARSHAL_VERSION),
    }
    for kind, chunks in bulk.items():
        for i, blob in enumerate(chunks):
            sections[f"{kind}:{i}"] = blob
    for i in range(0, len(texts), TEXT_CHUNK):
        sections[f"text:{i // TEXT_CHUNK}"] = marshal.dumps(texts[i:i + TEXT_CHUNK], MARSHAL_VERSION)
    header = {
        "magic": MAGIC, "version": VERSION, "uid": os.getuid(), "schema": _schema(),
        "project_id": store.meta.get("project_id"), "machine": store.machine,
        "vv": held["vv"], "imports": sorted(held["imports"]), "snapshots": held["snapshots"],
        "sessions": st.sessions, "unknown_ops": st.unknown_ops, "clock": st.latest_stamp(),
        "foreign": foreign or {}, "chunks": {kind: len(chunks) for kind, chunks in bulk.items()},
    }
    # Layout: header length (8 bytes), header, then each section; the header's table says where.
    table: dict[str, tuple[int, int]] = {}
    position = 0
    for name, blob in sections.items():
        table[name] = (position, len(blob))
        position += len(blob)
    header["sections"] = table
    head = marshal.dumps(header, MARSHAL_VERSION)
    path = cache_path(store)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, b"".join([len(head).to_bytes(8, "little"), head, *sections.values()]),
                 mode=0o600)


def file_ident(path: Path) -> list[int] | None:
    """Modification time and size, as Python's own bytecode cache does: a copy that keeps times
    (cp -a, rsync -a, a backup restore) is the same file; any rewrite is another."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_mtime_ns, st.st_size]


class Cached:
    """A valid cache. Sections are read from the open file only when asked for, so opening
    reads the survey and the small tables and leaves the bulk for later (another process may
    replace the file meanwhile: the open descriptor still reads this version)."""

    def __init__(self, fd: int, header: dict[str, Any], base: int) -> None:
        self._fd = fd
        self.header = header
        self._base = base

    def _section(self, name: str) -> Any:
        offset, length = self.header["sections"][name]
        data = os.pread(self._fd, length, self._base + offset)
        if len(data) != length:
            raise ValueError(f"cache section {name} is short")
        return marshal.loads(data)

    def _loader(self, name: str):
        offset, length = self.header["sections"][name]
        fd, base = self._fd, self._base
        data = os.pread(fd, length, base + offset)  # read now: the descriptor is closed later
        return lambda: marshal.loads(data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    @property
    def vv(self) -> dict[str, int]:
        return dict(self.header["vv"])

    @property
    def imports(self) -> set[str]:
        return set(self.header["imports"])

    @property
    def snapshots(self) -> dict[str, list[int]]:
        """The snapshot files it read (project-relative path -> modification time and size)."""
        return dict(self.header["snapshots"])

    @property
    def sessions(self) -> dict[str, dict[str, str]]:
        return dict(self.header.get("sessions") or {})

    @property
    def latest_stamp(self) -> str:
        """The latest stamp in the cached state (the clock moves past it at once)."""
        return str(self.header.get("clock") or "")

    @property
    def foreign(self) -> dict[str, Any]:
        return dict(self.header.get("foreign") or {})

    def load_survey(self, st: State) -> None:
        parts, questions, responses, attributes, meta, sequences, per_chunk = self._section("survey")
        st.participants = {row[0]: Participant(*row) for row in parts}
        st.questions = {row[0]: Question(*row) for row in questions}
        # Answer texts (most of the survey's bytes) are decoded a chunk at a time, on first use,
        # and each Response object is made when first asked for.
        rows = {}
        chunk = None
        for i, (rid, pid, qid, hash_) in enumerate(responses):
            index = i % per_chunk
            if index == 0:
                chunk = TextChunk(self._loader(f"text:{i // per_chunk}"))
            rows[rid] = (pid, qid, hash_, index, chunk)
        st.responses = Responses(rows)
        st.attributes = list(attributes)
        st.survey_meta = dict(meta)
        st.sequences = dict(sequences)

    def load_small(self, st: State) -> None:
        for kind, rows in self._section("small").items():
            cls = ENTITY_TYPES[kind]
            table = st.table(kind)
            for row in rows:
                table[row[0]] = make_entity(cls, row)
        st.unknown_ops = list(self.header.get("unknown_ops") or [])

    def done(self) -> dict[str, list[str]]:
        return self._section("done")

    def where(self) -> dict[str, tuple[int, int, int]]:
        return self._section("where")

    def coding_rows(self, chunk_no: int) -> list[tuple]:
        return self._section(f"coding:{chunk_no}")

    def load_bulk(self, tables: dict[str, dict[str, Entity]]) -> None:
        """Decode every bulk chunk into ``tables`` (fresh dicts; safe off the main thread)."""
        for kind in BULK_KINDS:
            cls = ENTITY_TYPES[kind]
            table = tables.setdefault(kind, {})
            for i in range(self.header["chunks"].get(kind, 0)):
                for row in self._section(f"{kind}:{i}"):
                    table[row[0]] = make_entity(cls, row)
        self.close()


def read_cache(store: ProjectStore) -> Cached | None:
    """This project's cache on this machine, if it is whole and of this version; else None
    (never raises). Whether what it holds is still in the project is the store's to check."""
    path = cache_path(store)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
            raise ValueError("not our own private file")
        size = int.from_bytes(os.pread(fd, 8, 0), "little")
        if not 0 < size < info.st_size:
            raise ValueError("bad header length")
        header = marshal.loads(os.pread(fd, size, 8))
        if (not isinstance(header, dict) or header.get("magic") != MAGIC
                or header.get("version") != VERSION or header.get("uid") != os.getuid()
                or header.get("schema") != _schema()):
            raise ValueError("another cache version")
        if header.get("project_id") != store.meta.get("project_id") or \
                header.get("machine") != store.machine:
            raise ValueError("another project")
        sections = header.get("sections")
        if not isinstance(sections, dict) or not isinstance(header.get("vv"), dict) or \
                not isinstance(header.get("snapshots"), dict):
            raise ValueError("no section table")
        for name in ("survey", "small", "where", "done"):
            if name not in sections:
                raise ValueError("section missing")
        if any(offset + length + size + 8 > info.st_size for offset, length in sections.values()):
            raise ValueError("truncated")
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        os.close(fd)
        return None
    return Cached(fd, header, 8 + size)


def remove_cache(store: ProjectStore) -> None:
    try:
        cache_path(store).unlink()
    except OSError:
        pass
