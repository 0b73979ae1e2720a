"""Helpers for tests of projects kept by several machines (tests simulate machines with their
own data folders, or with ``machine=`` in-process)."""

from __future__ import annotations

from pathlib import Path

from tuiqa.store.layout import MACHINES_DIR


def this_id() -> str:
    from tuiqa.store.machine import this_machine

    return this_machine().id


def own(directory: Path) -> Path:
    """This machine's folder in a project."""
    return Path(directory) / MACHINES_DIR / this_id()


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(Path(directory).rglob("*")) if p.is_file()}


def cache_file(directory: Path) -> Path:
    """This machine's fast-open cache of a project (outside the project)."""
    import orjson

    from tuiqa.store.cache import cache_path
    from tuiqa.store.state import State
    from tuiqa.store.store import ProjectStore

    store = ProjectStore(Path(directory), State(), this_id())
    store.meta = orjson.loads((Path(directory) / "tuiqa.json").read_bytes())
    return cache_path(store)


def drop_cache(directory: Path) -> None:
    cache_file(directory).unlink(missing_ok=True)


def write_v1_journal(folder: Path, session: str, stamp: str, memo_id: str, text: str) -> None:
    """A schema-1 journal (``folder/journal/``) holding one memo, as an older tuiqa wrote them."""
    import json

    (folder / "journal").mkdir(exist_ok=True)
    ms = stamp.split(".")[0]
    (folder / "journal" / f"{ms}-{session}.jsonl").write_bytes(
        json.dumps({"journal": 1, "session": session, "coder": "old", "started": stamp}).encode()
        + b"\n" + json.dumps({"t": stamp, "u": "old", "ops": [
            {"s": stamp, "k": "memo", "i": memo_id, "f": {"target_kind": "project", "target_id": "",
                                                          "coder": "old", "text": text}}]}).encode()
        + b"\n")
