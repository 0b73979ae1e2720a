"""TinyDB storage for project files: stable, diffable JSON written atomically.

The files are ordinary TinyDB databases (``{"table": {"doc_id": {...}}}``) and open with
``TinyDB(path, storage=ProjectStorage)``. What differs from TinyDB's own ``JSONStorage``:

* one document per line, keys sorted, tables in name order: a ``diff`` of two versions shows
  exactly the documents that changed;
* written with :func:`~tuiqa.store.files.atomic_write` (temp file, fsync, ``os.replace``), so a
  crash leaves the old file or the new one, never half of one; owner-only permissions;
* parsed with orjson (about 8x faster than ``json`` on writes); UTF-8 throughout.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson
from tinydb import Storage

from .files import atomic_write


class FileDamaged(Exception):
    """A project file cannot be read. Never overwrite it; tell the user and point to doctor."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail


def encode_tables(tables: dict[str, Iterable[tuple[str, dict[str, Any]]]]) -> bytes:
    """Serialise ``{table: [(doc_id, doc), ...]}`` one document per line."""
    dumps = orjson.dumps
    opt = orjson.OPT_SORT_KEYS
    parts: list[bytes] = [b"{"]
    first_table = True
    for name in sorted(tables):
        parts.append(b"\n" if first_table else b",\n")
        first_table = False
        parts.append(dumps(name) + b": {")
        first_doc = True
        for doc_id, doc in tables[name]:
            parts.append(b"\n" if first_doc else b",\n")
            first_doc = False
            parts.append(dumps(str(doc_id)) + b": " + dumps(doc, option=opt))
        parts.append(b"\n}" if not first_doc else b"}")
    parts.append(b"\n}\n")
    return b"".join(parts)


def read_raw(path: Path) -> bytes:
    """A project file's bytes; :class:`FileDamaged` if it cannot be read or is empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FileDamaged(path, f"cannot be read: {exc.strerror}") from exc
    if not data.strip():
        raise FileDamaged(path, "is empty")
    return data


def decode_file(path: Path) -> dict[str, dict[str, Any]]:
    data = read_raw(path)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        tables = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FileDamaged(path, f"is not valid JSON ({exc})") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise FileDamaged(path, "is not a TinyDB database (expected an object of tables)")
    return tables


class NotStreamable(Exception):
    """The file is not in our one-document-per-line layout; parse it whole instead."""


def iter_docs(data: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(table, document)`` from a file in the layout :func:`encode_tables` writes.

    About twice as fast as parsing the whole file and never holds every document at once. Raises
    :class:`NotStreamable` as soon as a line does not fit the layout (a file edited by hand or
    written by TinyDB's own storage), so the caller can fall back to :func:`decode_file`.
    """
    return iter_line_docs(data.split(b"\n"))


def iter_line_docs(lines: Iterable[bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    """:func:`iter_docs` over lines (without their newlines), e.g. read one by one from a file
    to stop after the first tables."""
    loads = orjson.loads
    lines = iter(lines)
    if next(lines, None) != b"{":
        raise NotStreamable("first line")
    table: str | None = None
    closed = False
    for line in lines:
        if table is not None:
            if line[:1] == b'"':  # a document: "<doc id>": {...} with an optional comma
                cut = line.find(b'": {')
                if cut < 0:
                    raise NotStreamable("document key")
                try:
                    doc = loads(line[cut + 3 : -1] if line[-1:] == b"," else line[cut + 3 :])
                except orjson.JSONDecodeError:
                    raise NotStreamable("document") from None
                if doc.__class__ is not dict:
                    raise NotStreamable("document type")
                yield table, doc
            elif line == b"}" or line == b"},":
                table = None
            else:
                raise NotStreamable("expected a document")
            continue
        if not line:
            continue
        if closed:
            raise NotStreamable("data after the end")
        if line == b"}":
            closed = True
            continue
        cut = line.rfind(b": {")
        if cut < 0 or line[:1] != b'"':
            raise NotStreamable("expected a table")
        try:
            name = loads(line[:cut])
        except orjson.JSONDecodeError:
            raise NotStreamable("table name") from None
        if not isinstance(name, str):
            raise NotStreamable("table name")
        rest = line[cut + 3 :]
        if rest == b"":
            table = name
        elif rest not in (b"}", b"},"):
            raise NotStreamable("table start")
    if not closed or table is not None:
        raise NotStreamable("unterminated")


def read_docs(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every table's documents, streamed where the file is in our layout, else parsed whole.
    Raises :class:`FileDamaged` (and ``FileNotFoundError``)."""
    from itertools import groupby
    from operator import itemgetter

    raw = read_raw(path)
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        for table, group in groupby(iter_docs(raw), key=itemgetter(0)):
            tables.setdefault(table, []).extend(doc for _, doc in group)
    except NotStreamable:
        whole = decode_file(path)
        tables = {name: table_docs(whole, name) for name in whole}
    return tables


def write_tables(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Write tables of documents (doc ids 1..n in the given order), atomically."""
    atomic_write(path, encode_tables({name: enumerate(docs, 1) for name, docs in tables.items()}))


def table_docs(tables: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    table = tables.get(name) or {}
    try:
        return [table[k] for k in sorted(table, key=int)]
    except ValueError:
        return list(table.values())


class ProjectStorage(Storage):
    """A TinyDB ``Storage`` over the same format, for anyone who wants TinyDB's query API."""

    def __init__(self, path: str, access_mode: str = "r+", **_: Any) -> None:
        self.path = Path(path)
        self.access_mode = access_mode

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            return decode_file(self.path)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.access_mode == "r":
            raise OSError(f"{self.path} was opened read-only")
        atomic_write(self.path, encode_tables({k: v.items() for k, v in data.items()}))
