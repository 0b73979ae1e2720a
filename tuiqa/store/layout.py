"""Where a project's files are, and what a look at the folder finds.

Layout (schema 2; see the README, "Your data on disk")::

    DIR/tuiqa.json                         the project's identity (written once; same bytes
                                           wherever it is written)
    DIR/.gitignore, DIR/.stignore          what must not travel (locks, temp files, backups)
    DIR/machines/<machine>/                everything one machine writes, and nothing else:
        about.json                         who: host, user, coders
        data.json                          its snapshot: everything it had seen when it last
                                           folded, with the version vector that says so
        imports/survey-<stamp>.json        each import of survey answers made on it (written once)
        journal/<started>-<session>.jsonl  one append-only file per session
        backups/                           its own backups (not synced)
        .lock                              its processes' lock (not synced)

A sync tool may leave *conflicted copies* (Dropbox ``x (conflicted copy 2024-05-01).json``,
``x (bea's conflicted copy …)``, Syncthing ``x.sync-conflict-20240501-120000-ABCDEFG.json``,
OneDrive ``x-LAPTOP.json``, Nextcloud ``x (conflicted copy 2024-05-01 120000).json``, ownCloud
``x_conflict-20240501-120000.json``). Nothing tuiqa writes should ever produce one (no path has two
writers), but an older version, a cloned identity or a hand copy can: a copied journal is another
(possibly partial) version of the same append-only file and a copied snapshot another snapshot, so
both are read like the originals; anything else is reported and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

META_FILE = "tuiqa.json"
MACHINES_DIR = "machines"
SNAPSHOT_FILE = "data.json"
IMPORTS_DIR = "imports"
IMPORT_PREFIX = "survey-"
JOURNAL_DIR = "journal"
JOURNAL_SUFFIX = ".jsonl"
BACKUP_DIR = "backups"
ABOUT_FILE = "about.json"
LOCK_FILE = ".lock"
ARCHIVE_DIR = "journals"  # under backups/: own journals already folded into data.json
LEGACY_DATA = "data.json"  # schema 1, at the top of the folder
LEGACY_SURVEY = "survey.json"

#: Exactly what tuiqa names its journals: ``<13-digit ms>-<8 hex session>.jsonl``.
JOURNAL_NAME = re.compile(r"^\d{13}-[0-9a-f]{8}\.jsonl$")
#: … and its survey imports: ``survey-<stamp>.json``.
IMPORT_NAME = re.compile(r"^survey-\d{13}\.\d{4}\.[0-9a-z]{8}\.json$")

_CONFLICT_MARKS = (
    re.compile(r" \((?:[^()]*'s )?conflicted copy[^()]*\)(?: \(\d+\))?", re.I),  # Dropbox, Nextcloud
    re.compile(r"\.sync-conflict-\d{8}-\d{6}-[A-Z0-9]{7}"),  # Syncthing
    re.compile(r"_conflict-\d{8}-\d{6}"),  # ownCloud
    re.compile(r" \(Case Conflict(?: \d+)?\)", re.I),  # Dropbox, case-only clashes
)

IGNORE_LINES = (
    "# Written by tuiqa: machine-local files that must not travel between machines.",
    "machines/*/.lock",
    "machines/*/backups/",
    "**/.*.tmp",
    "**/.*.jsonl.new",
    ".lock",
    ".cache/",
    "# exports are made from the project again on any machine; each machine keeps its own",
    "exports/",
)
STIGNORE_LINES = (
    "// Written by tuiqa: machine-local files that must not travel between machines.",
    "(?d)machines/*/.lock",
    "(?d)machines/*/backups",
    "(?d).*.tmp",
    "(?d).*.jsonl.new",
    "(?d)/.lock",
    "(?d)/.cache",
    "(?d)/exports",
)


def conflict_base(name: str) -> str | None:
    """The original name if ``name`` is a sync tool's conflicted copy of it, else None."""
    for mark in _CONFLICT_MARKS:
        if mark.search(name):
            return mark.sub("", name, count=1)
    return None


@dataclass
class MachineFiles:
    """One machine's files, as found."""

    id: str
    dir: Path
    snapshots: list[Path] = field(default_factory=list)  # data.json first, then copies
    imports: list[Path] = field(default_factory=list)
    journals: list[Path] = field(default_factory=list)
    archived: dict[str, Path] = field(default_factory=dict)  # own folded journals (backups)

    @property
    def snapshot(self) -> Path:
        return self.dir / SNAPSHOT_FILE


@dataclass
class Scan:
    machines: dict[str, MachineFiles] = field(default_factory=dict)
    #: conflicted copies found (read as sources where they are journals or snapshots)
    conflicted: list[Path] = field(default_factory=list)
    #: schema-1 files still at the top of a schema-2 project (an older tuiqa, or a half-done
    #: migration): their journals are read like another machine's
    legacy_journals: list[Path] = field(default_factory=list)
    legacy_data: Path | None = None
    legacy_survey: Path | None = None


def _listdir(path: Path) -> list[Path]:
    try:
        return sorted(path.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError:
        return []


def journal_key(machine: str, path: Path) -> str:
    """How a version vector names a journal: ``<machine>/<file name>``."""
    return f"{machine}/{path.name}"


def scan(directory: Path, own: str | None = None) -> Scan:
    """What is in the project folder now (a few directory listings; nothing is parsed)."""
    found = Scan()
    for mdir in _listdir(directory / MACHINES_DIR):
        if not mdir.is_dir() or mdir.name.startswith("."):
            continue
        files = MachineFiles(mdir.name, mdir)
        if conflict_base(mdir.name) is not None:
            found.conflicted.append(mdir)
        for path in _listdir(mdir):
            name = path.name
            if name.startswith(".") or not path.is_file():
                continue
            if name == SNAPSHOT_FILE:
                files.snapshots.insert(0, path)
            elif name.startswith("data") and name.endswith(".json"):
                files.snapshots.append(path)  # a conflicted copy of the snapshot
                found.conflicted.append(path)
            elif name != ABOUT_FILE and conflict_base(name) is not None:
                found.conflicted.append(path)  # e.g. a copy of about.json: reported, not read
        for path in _listdir(mdir / IMPORTS_DIR):
            name = path.name
            if name.startswith(IMPORT_PREFIX) and name.endswith(".json") and path.is_file():
                files.imports.append(path)
                if conflict_base(name) is not None:
                    found.conflicted.append(path)
        for path in _listdir(mdir / JOURNAL_DIR):
            name = path.name
            if name.startswith(".") or not name.endswith(JOURNAL_SUFFIX) or not path.is_file():
                continue
            files.journals.append(path)
            if not JOURNAL_NAME.match(name):
                found.conflicted.append(path)
        if mdir.name == own:
            for path in _listdir(mdir / BACKUP_DIR / ARCHIVE_DIR):
                files.archived[path.name] = path
        found.machines[mdir.name] = files
    for path in _listdir(directory / JOURNAL_DIR):
        if path.name.endswith(JOURNAL_SUFFIX) and not path.name.startswith(".") and path.is_file():
            found.legacy_journals.append(path)
    for path in _listdir(directory):
        if path.is_file() and conflict_base(path.name) is not None:
            found.conflicted.append(path)
        elif path.name == LEGACY_DATA and path.is_file():
            found.legacy_data = path
        elif path.name == LEGACY_SURVEY and path.is_file():
            found.legacy_survey = path
    return found
