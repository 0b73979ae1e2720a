"""Schema migrations: every project written by an earlier tuiqa opens, and nothing is stranded.

``tuiqa.json`` records the schema version. When a project is older than this tuiqa, each step in
``MIGRATIONS`` runs in order under the project lock; before the first step the files it will
change are copied to ``backups/pre-migration-v<N>/`` so the original is always kept. A project
written by a *newer* tuiqa is refused with a clear message and left untouched.

Version history:

* 1 — the first layout (``tuiqa.json``, ``survey.json``, ``data.json``, ``journal/``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import orjson

from .files import atomic_write, file_lock, make_private_dir

if TYPE_CHECKING:
    from .store import ProjectStore

#: from_version -> function(project_dir) that upgrades the files to from_version + 1
MIGRATIONS: dict[int, Callable[[Path], None]] = {}


def migrate_if_needed(store: ProjectStore) -> list[int]:
    from .store import SCHEMA_VERSION, ProjectError, doctor_hint

    version = int(store.meta["schema_version"])
    if version >= SCHEMA_VERSION:
        return []
    done: list[int] = []
    with file_lock(store.lock_path):
        backup = store.backup_dir / f"pre-migration-v{version}"
        if not backup.exists():
            make_private_dir(backup, shared_root=store.dir)
            for name in ("tuiqa.json", "survey.json", "data.json", "journal"):
                src = store.dir / name
                if src.is_dir():
                    shutil.copytree(src, backup / name)
                elif src.exists():
                    shutil.copy2(src, backup / name)
        while version < SCHEMA_VERSION:
            step = MIGRATIONS.get(version)
            if step is None:
                raise ProjectError(f"{store.dir}: no migration from schema {version}",
                                   doctor_hint(store.dir))
            step(store.dir)
            version += 1
            store.meta["schema_version"] = version
            atomic_write(store.meta_path, orjson.dumps(store.meta, option=orjson.OPT_INDENT_2
                                                       | orjson.OPT_SORT_KEYS))
            done.append(version)
    store.warnings.append(f"migrated the project to schema {version}; the original is in {backup}")
    return done
