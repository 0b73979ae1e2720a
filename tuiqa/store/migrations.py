"""Schema migrations: every project written by an earlier tuiqa opens, and nothing is stranded.

``tuiqa.json`` records the schema version. When a project is older than this tuiqa, each step in
``MIGRATIONS`` runs in order; before the first step the project's files (everything but
``machines/`` and ``exports/``) are copied to this machine's ``backups/pre-migration-v<N>/``, so
the original is always kept. A project written by a *newer* tuiqa is refused with a clear message
and left untouched.

Version history:

* 1 — the first layout: ``tuiqa.json``, ``survey.json``, ``data.json``, ``journal/`` at the top
  of the folder, shared by every session.
* 2 — a folder that sync tools and git can carry: everything written after creation belongs to
  one machine, under ``machines/<machine>/`` (see :mod:`tuiqa.store.layout`). The schema-1 survey
  becomes this machine's first import, and its data (with the journals not yet folded) this
  machine's first snapshot; the schema-1 files leave the top of the folder.

Two machines migrating the same synced folder at once both write the same ``tuiqa.json`` (same
bytes), each its own ``machines/<machine>/``; the survey import gets an id made from the file's
bytes and the snapshot a version-vector key made from ``data.json``'s, so if both read the same
files, one snapshot covers the other and the import is one import; if one had newer files, the
two are united on opening. Schema-1 files that arrive after a migration (an older tuiqa still
running elsewhere) are read as they are (see :class:`~tuiqa.store.store.ProjectStore`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import orjson

from . import imports, journal as jn, layout as L, snapshot, v1
from .files import file_lock, make_private_dir, remove_stale_temp_files
from .state import State

if TYPE_CHECKING:
    from .store import ProjectStore

KEEP_OUT = {L.MACHINES_DIR, "exports"}
V1_LOCK = ".lock"


def v1_to_v2(store: ProjectStore) -> None:
    """Schema 1 -> 2 (see the module's docstring). Runs under the schema-1 lock."""
    from .store import ProjectError, doctor_hint

    directory = store.dir
    live = [p.name for p in sorted((directory / v1.JOURNAL_DIR).glob("*" + jn.JOURNAL_SUFFIX))
            if jn.is_live(p)]
    if live:
        raise ProjectError(f"{directory} is open in an older tuiqa (session {live[0]})",
                           "Close it there first; this tuiqa then brings the project up to date. "
                           "Nothing was changed.")
    state = State()
    try:
        read = v1.read(directory, state, str(store.meta.get("created", "")))
    except FileNotFoundError as exc:
        raise ProjectError(f"{exc.filename} is missing (deleted by hand?)",
                           doctor_hint(directory)) from None
    except v1.V1Damaged as exc:
        raise ProjectError(f"{exc.path} is damaged: {exc.detail}", doctor_hint(directory)) from None
    store._ensure_machine_dir()
    survey = read.survey
    record = {**survey.record, "machine": store.machine}
    from .tinyjson import write_tables

    write_tables(store.imports_dir / imports.file_name(survey.id), {
        imports.IMPORT_TABLE: [record], "participants": survey.participants,
        "questions": survey.questions, "responses": survey.responses})
    snapshot.write(store.data_path, state, vv=read.vv, imports={survey.id},
                   machine=store.machine or "", written=store.clock.next(), foreign=read.foreign)
    store.warnings.extend(read.warnings)


#: from_version -> step(store) that upgrades the project to from_version + 1
MIGRATIONS: dict[int, Callable[[ProjectStore], None]] = {1: v1_to_v2}
#: what a step leaves behind at the top of the folder (removed once the new version is written;
#: kept in the backup made before)
LEFT_BEHIND: dict[int, tuple[str, ...]] = {1: (v1.SURVEY_FILE, v1.DATA_FILE, v1.JOURNAL_DIR,
                                               L.BACKUP_DIR, ".cache")}


def migrate_if_needed(store: ProjectStore) -> list[int]:
    from .store import SCHEMA_VERSION, ProjectError, doctor_hint, meta_bytes, write_ignore_files
    from .files import atomic_write

    version = int(store.meta["schema_version"])
    if version >= SCHEMA_VERSION:
        return []
    done: list[int] = []
    first = version
    with file_lock(store.dir / V1_LOCK):
        meta = orjson.loads(store.meta_path.read_bytes())
        if int(meta.get("schema_version", 0)) >= SCHEMA_VERSION:  # another process did it
            store.meta = meta
            return []
        backup = _keep_original(store, version)
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise ProjectError(f"{store.dir}: no migration from schema {version}",
                                   doctor_hint(store.dir))
            step(store)
            version += 1
            store.meta["schema_version"] = version
            done.append(version)
        write_ignore_files(store.dir)
        atomic_write(store.meta_path, meta_bytes(store.meta))
        for old in range(first, version):
            for name in LEFT_BEHIND.get(old, ()):
                path = store.dir / name
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                elif path.exists():
                    path.unlink()
        remove_stale_temp_files(store.dir)
    store.warnings.append(f"migrated the project to schema {version}; the original is in {backup}")
    return done


def _keep_original(store: ProjectStore, version: int) -> Path:
    """Copy the project as it is to ``backups/pre-migration-v<N>/`` of this machine (through a
    temporary name, so a migration cut short never leaves half a copy that looks whole)."""
    store._ensure_machine_dir()
    backup = store.backup_dir / f"pre-migration-v{version}"
    if backup.exists():
        return backup
    partial = store.backup_dir / f".pre-migration-v{version}.partial"
    if partial.exists():
        shutil.rmtree(partial)
    make_private_dir(partial, shared_root=store.dir)
    for src in sorted(store.dir.iterdir()):
        if src.name in KEEP_OUT or src.name == V1_LOCK:
            continue
        if src.is_dir():
            shutil.copytree(src, partial / src.name)
        else:
            shutil.copy2(src, partial / src.name)
    partial.rename(backup)
    return backup
