"""A project on disk: a folder that any file-sync tool or git can carry between machines.

Every file tuiqa changes after creating the project belongs to exactly one *machine* (one user
on one host, see :mod:`.machine`), under ``machines/<machine>/`` (see :mod:`.layout`): its
journals, its snapshot, its survey imports, its backups. No path is ever written by two machines,
so Dropbox, OneDrive, Syncthing or git never meet a conflict, and coders on several machines can
work at the same time, offline.

**Opening is the union of whatever has arrived.** The survey is every machine's imports
(:mod:`.imports`); the rest is every machine's snapshot that another does not already cover
(version vectors, :mod:`.snapshot`), united field by field by the one rule every change obeys
(:meth:`State.apply`), then every journal replayed past what those snapshots hold. Whatever
arrived half-way (a journal cut at any byte, a stale copy shorter than what a snapshot holds,
another machine's snapshot damaged mid-sync) is used as far as it is complete, with a warning;
this machine's own damaged files stop every command with a pointer to ``tuiqa doctor``.

**Writing**: each session appends to its own journal (one line per transaction, fdatasync
before the change is shown). **Folding** (on close) writes this machine's snapshot: everything
it has seen, with its version vector; its own ended sessions' journals are then moved to its own
backups. It needs no other machine and touches no other machine's files. Two processes of one
machine (two coders as one user on one server) share its folder and coordinate with its
``.lock``.

A private cache outside the project (:mod:`.cache`) makes opening fast; anything that has arrived
since it was written is read on top of it.
"""

from __future__ import annotations

import gc
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from .. import __version__
from . import imports as imp
from . import journal as jn
from . import layout as L
from . import snapshot as snap
from .arrivals import Arrivals
from .cache import Cached, file_ident, read_cache, remove_cache, write_cache
from .files import atomic_write, file_lock, fsync_dir, make_private_dir, remove_stale_temp_files
from .machine import this_machine, valid_machine_id
from .stamps import Clock
from .state import ConflictInfo, State, conflict_fields, conflict_id

SCHEMA_VERSION = 2
FORMAT = "tuiqa-project"
META_FILE = L.META_FILE
BACKUPS_KEPT = 5


class ProjectError(Exception):
    """Anything wrong with a project directory, with what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


def doctor_hint(directory: Path) -> str:
    return (f"Nothing was changed. Run `tuiqa doctor {directory}` to check the project, and "
            f"`tuiqa doctor {directory} --restore` to restore the last good backup.")


@dataclass
class RefreshResult:
    changed_kinds: set[str] = field(default_factory=set)
    reloaded: bool = False
    survey_reloaded: bool = False
    conflicts: list[ConflictInfo] = field(default_factory=list)
    #: what arrived from other machines and sessions, by who made it
    arrivals: Arrivals = field(default_factory=Arrivals)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changed_kinds) or self.reloaded or self.survey_reloaded


@dataclass
class _Extra:
    """What a cache did not hold: read on top of it once the bulk of it is loaded."""

    snapshots: list[tuple[Path, snap.Head]]
    journals: bool


@dataclass
class Caught:
    """What reading the extra sources into a state found (applied to the store with
    :meth:`ProjectStore.take`, on the thread that owns it)."""

    vv: dict[str, int]
    snapshots: dict[str, tuple[Any, dict[str, int], list[str]]] = field(default_factory=dict)
    foreign: dict[str, Any] = field(default_factory=dict)
    conflicts: list[ConflictInfo] = field(default_factory=list)
    arrivals: Arrivals = field(default_factory=Arrivals)
    warnings: list[str] = field(default_factory=list)
    latest: str = ""
    absorbed: bool = False


def is_project(directory: Path) -> bool:
    return (directory / META_FILE).is_file()


def meta_bytes(meta: dict[str, Any]) -> bytes:
    """``tuiqa.json``: the same bytes wherever, whenever it is written for the same project."""
    return orjson.dumps(meta, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_ignore_files(directory: Path) -> None:
    """``.gitignore`` and ``.stignore`` (Syncthing): what must not travel. Same bytes every
    time, so two machines writing them never differ."""
    for name, lines in ((".gitignore", L.IGNORE_LINES), (".stignore", L.STIGNORE_LINES)):
        path = directory / name
        data = ("\n".join(lines) + "\n").encode()
        try:
            if path.read_bytes() == data:
                continue
        except OSError:
            pass
        atomic_write(path, data)


class ProjectStore:
    """Owns the files of one project; everything else sees only :class:`State`."""

    def __init__(self, directory: Path, state: State, machine: str | None = None) -> None:
        self.dir = directory
        self.state = state
        self.machine = machine
        self.meta: dict[str, Any] = {}
        self.session = uuid.uuid4().hex[:8]
        self.clock = Clock(self.session)
        self._writer: jn.JournalWriter | None = None
        self._coder = ""
        #: journal key -> bytes of it the state holds (the version vector)
        self.vv: dict[str, int] = {}
        #: survey imports the state holds
        self.imports: set[str] = set()
        #: snapshot files read or found covered: relative path -> (identity, vv, imports)
        self._snapshots: dict[str, tuple[Any, dict[str, int], list[str]]] = {}
        self._warned: set[str] = set()
        self.on_conflicts: Callable[[list[ConflictInfo]], None] | None = None
        self.warnings: list[str] = []
        #: Tables written by a newer tuiqa: kept verbatim on every rewrite.
        self._foreign_tables: dict[str, Any] = {}
        #: A lazily opened cache whose bulk (codings, statuses) is still to be decoded.
        self.pending: Cached | None = None
        self._extra: _Extra | None = None
        self.on_complete: Callable[[], None] | None = None
        #: The cache is behind the project: write a fresh one when closing.
        self.cache_stale = False
        #: Opened only to read (see :meth:`open`): every write is refused.
        self.readonly = False
        #: conflicts found while reading (opening, folding) and not yet recorded in the project
        self.unrecorded: list[ConflictInfo] = []
        #: what was read from elsewhere when opening on top of the cache
        self.arrived = Arrivals()

    # -- paths -------------------------------------------------------------------------------

    @property
    def meta_path(self) -> Path:
        return self.dir / META_FILE

    @property
    def machine_dir(self) -> Path:
        return self.dir / L.MACHINES_DIR / (self.machine or "-")

    @property
    def data_path(self) -> Path:
        return self.machine_dir / L.SNAPSHOT_FILE

    @property
    def journal_dir(self) -> Path:
        return self.machine_dir / L.JOURNAL_DIR

    @property
    def imports_dir(self) -> Path:
        return self.machine_dir / L.IMPORTS_DIR

    @property
    def backup_dir(self) -> Path:
        return self.machine_dir / L.BACKUP_DIR

    @property
    def lock_path(self) -> Path:
        return self.machine_dir / L.LOCK_FILE

    @property
    def about_path(self) -> Path:
        return self.machine_dir / L.ABOUT_FILE

    # -- create / open -----------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, state: State | None = None, *,
               machine: str | None = None) -> ProjectStore:
        directory = Path(directory)
        if is_project(directory):
            raise ProjectError(f"{directory} is already a tuiqa project")
        if directory.exists() and not directory.is_dir():
            raise ProjectError(f"{directory} is a file, not a folder",
                               "Give a new folder for the project (it will be created).")
        if directory.exists() and any(p for p in directory.iterdir() if p.name != ".lock"):
            raise ProjectError(f"{directory} exists and is not empty",
                               "Choose a new folder for the project (it will be created).")
        if not directory.exists():
            make_private_dir(directory)
        store = cls(directory, state or State(), _machine(machine))
        store.meta = {"format": FORMAT, "schema_version": SCHEMA_VERSION,
                      "project_id": str(uuid.uuid4()), "created": store.clock.next()}
        store._ensure_machine_dir()
        write_ignore_files(directory)
        atomic_write(store.meta_path, meta_bytes(store.meta))  # last: now it is a project
        return store

    @classmethod
    def open(cls, directory: Path, state: State | None = None, *, lazy: bool = False,
             readonly: bool = False, machine: str | None = None) -> ProjectStore:
        """Open a project. With ``lazy`` and a cache, codings and statuses are left for
        :attr:`pending` to decode (the app shows the first answer meanwhile). With ``readonly``
        nothing in the folder is written (no migration, no tidying), and no machine's files are
        treated as this machine's unless ``machine`` says which: for reading another copy, e.g.
        in a merge. ``machine``: act as that machine (tests simulate several in one process)."""
        directory = Path(directory)
        if not directory.exists():
            raise ProjectError(f"{directory} does not exist",
                               f"Create a project with `tuiqa import SURVEY.csv --project {directory}`.")
        if not is_project(directory):
            raise ProjectError(f"{directory} is not a tuiqa project (no {META_FILE})",
                               _not_project_hint(directory))
        ident = (machine if machine or readonly else None)
        store = cls(directory, state or State(), ident if readonly else _machine(ident))
        store._read_meta()
        if readonly:
            store.readonly = True
            if store.meta["schema_version"] < SCHEMA_VERSION:
                store._load_v1()
            else:
                store._load(lazy=False, use_cache=False)
            return store
        from .migrations import migrate_if_needed

        try:
            migrate_if_needed(store)
        except OSError as exc:
            raise ProjectError(f"{directory} was written by an older tuiqa and cannot be brought "
                               f"up to date here ({exc.strerror or exc})",
                               "It needs a folder you can write to; `tuiqa merge` can still read "
                               "it into another project. The project as it was is untouched.") from None
        if store.machine_dir.is_dir():
            remove_stale_temp_files(store.machine_dir)
            with file_lock(store.lock_path, exclusive=False):
                store._load(lazy=lazy, use_cache=True)
        else:
            store._load(lazy=lazy, use_cache=True)
        return store

    def _read_meta(self) -> None:
        try:
            meta = orjson.loads(self.meta_path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ProjectError(f"{self.meta_path} is damaged: not valid JSON ({exc})",
                               doctor_hint(self.dir)) from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ProjectError(f"{self.meta_path} is not a tuiqa project file",
                               doctor_hint(self.dir))
        version = meta.get("schema_version")
        if not isinstance(version, int) or version < 1:
            raise ProjectError(f"{self.meta_path}: unknown schema version {version!r}",
                               doctor_hint(self.dir))
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"{self.dir} was written by a newer tuiqa (schema {version}; this one reads "
                f"up to {SCHEMA_VERSION})", "Upgrade tuiqa to open it. Nothing was changed.")
        self.meta = meta

    # -- what is there -----------------------------------------------------------------------

    def _own(self, path: Path) -> bool:
        """Is ``path`` one of this machine's own files, by the very name tuiqa gives it (its
        damage stops every command)? A copy a sync tool made of one is not."""
        if self.machine is None or self.readonly:
            return False
        parent, name = path.parent, path.name
        return (parent == self.machine_dir and name == L.SNAPSHOT_FILE) or \
            (parent == self.journal_dir and bool(L.JOURNAL_NAME.match(name))) or \
            (parent == self.imports_dir and bool(L.IMPORT_NAME.match(name)))

    def _damaged(self, path: Path, detail: str, into: list[str] | None = None,
                 what: str = "it is skipped (another machine's file, perhaps still arriving)") -> None:
        """A file that cannot be read: this machine's own stops everything (with the doctor's
        help); another machine's is skipped with a warning (it may still be arriving)."""
        if self._own(path):
            raise ProjectError(f"{path} is damaged: it {detail}", doctor_hint(self.dir))
        self._warn_once(f"damaged:{path}:{file_ident(path)}",
                        f"{self._rel(path)} cannot be read ({detail}); {what}", into)

    def _warn_once(self, key: str, message: str, into: list[str] | None = None) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        self.warnings.append(message)
        if into is not None:
            into.append(message)

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.dir))

    def _journal_sources(self, found: L.Scan) -> list[tuple[str, str, Path]]:
        """(machine, version-vector key, path) of every journal there is to read."""
        out = []
        for mid, files in found.machines.items():
            present = set()
            for path in files.journals:
                out.append((mid, L.journal_key(mid, path), path))
                present.add(path.name)
            if mid == self.machine:
                # folded by another process of this machine since we read them (or before we
                # could): the rest of them is in its archive
                for name, path in files.archived.items():
                    if name not in present:
                        out.append((mid, f"{mid}/{name}", path))
        for path in found.legacy_journals:
            out.append(("v1", f"v1/{path.name}", path))
        return out

    def _legacy_survey(self, found: L.Scan | None) -> imp.ImportFile | None:
        """A schema-1 ``survey.json`` at the top of the folder, as the import it became."""
        path = found.legacy_survey if found is not None else self.dir / L.LEGACY_SURVEY
        ident = file_ident(path) if path is not None else None
        if ident is None:
            return None
        memo = self.__dict__.get("_legacy_memo")
        if memo is not None and memo[0] == ident:
            return memo[1]
        from . import v1

        try:
            survey = v1.survey_import(self.dir, str(self.meta.get("created", "")))
        except (OSError, v1.V1Damaged) as exc:
            self._warn_once(f"legacy-survey:{ident}", f"{L.LEGACY_SURVEY} (schema 1) cannot be "
                            f"read ({exc}); it is skipped")
            survey = None
        self.__dict__["_legacy_memo"] = (ident, survey)
        return survey

    def _import_files(self, found: L.Scan) -> dict[str, Path]:
        """import id -> file (the canonical name first when a copy exists too)."""
        out: dict[str, Path] = {}
        legacy = self._legacy_survey(found)
        if legacy is not None:
            out[legacy.id] = legacy.path
        for mid in sorted(found.machines, key=lambda m: (m != self.machine, m)):
            for path in found.machines[mid].imports:
                name = L.conflict_base(path.name) or path.name
                ident = name[len(L.IMPORT_PREFIX):-len(".json")]
                if ident not in out or L.conflict_base(out[ident].name) is not None:
                    out[ident] = path
        return out

    def _snapshot_paths(self, found: L.Scan) -> list[Path]:
        """Every snapshot: this machine's first, then the others by machine id."""
        order = sorted(found.machines, key=lambda m: (m != self.machine, m))
        paths = [p for mid in order for p in found.machines[mid].snapshots]
        if found.legacy_data is not None:
            paths.append(found.legacy_data)
        return paths

    def _head(self, path: Path, warnings: list[str] | None = None) -> snap.Head | None:
        """A snapshot's version vector (None, with a warning, if it cannot be read)."""
        try:
            if path.parent == self.dir:  # schema 1, left at the top of the folder
                from . import v1

                head = v1.head_of(path)
                survey = self._legacy_survey(None)
                head.imports = {survey.id} if survey is not None else set()
                return head
            return snap.read_head(path)
        except FileNotFoundError:
            return None
        except snap.SnapshotDamaged as exc:
            self._damaged(path, exc.detail, warnings)
            return None

    # -- loading -----------------------------------------------------------------------------

    def _load(self, *, lazy: bool, use_cache: bool) -> None:
        found = L.scan(self.dir, self.machine)
        self._check_own_files(found)
        if found.conflicted:
            names = ", ".join(self._rel(p) for p in found.conflicted[:3])
            self._warn_once("conflicted", f"{len(found.conflicted)} conflicted cop"
                            f"{'y' if len(found.conflicted) == 1 else 'ies'} left by a sync tool "
                            f"({names}); journals and snapshots among them are read too, the rest "
                            "is ignored (see `tuiqa status`)")
        if found.legacy_journals:
            self._warn_once("legacy", f"{len(found.legacy_journals)} journal(s) in {L.JOURNAL_DIR}/ "
                            "were written by an older tuiqa (schema 1); their changes are "
                            "included: upgrade tuiqa on the machine that wrote them")
        cached = read_cache(self) if use_cache else None
        if cached is not None:
            plan = self._cache_plan(cached, found)
            if plan is not None:
                self._load_from_cache(cached, plan, lazy=lazy)
                return
            cached.close()
        self._load_files(found)
        # the app (lazy) writes a fresh cache when it closes; one-shot commands don't
        self.cache_stale = lazy

    def _check_own_files(self, found: L.Scan) -> None:
        """This machine's snapshot must be there once its folder is (deleted by hand?), and some
        machine's files must be there at all."""
        if not found.machines and not (found.legacy_data or found.legacy_survey):
            raise ProjectError(f"{self.dir / L.MACHINES_DIR} is missing or empty: the project's "
                               "files are gone (deleted by hand?)", doctor_hint(self.dir))
        if self.machine is None or self.readonly:
            return
        mine = found.machines.get(self.machine)
        if mine is not None and (self.about_path.exists() or (self.backup_dir).is_dir()) \
                and not self.data_path.exists():
            raise ProjectError(f"{self.data_path} is missing (deleted by hand?)",
                               doctor_hint(self.dir))

    def _load_files(self, found: L.Scan) -> None:
        """(Re)build the state from every snapshot and every journal. The garbage collector is
        paused while hundreds of thousands of objects are made (it would rescan them over and
        over), and what was loaded is then frozen out of later collections."""
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._read_files(found)
        finally:
            if was_enabled:
                gc.enable()
        gc.freeze()

    def _read_files(self, found: L.Scan) -> None:
        st = self.state
        st.reset()
        self._foreign_tables = {}
        self.vv, self.imports, self._snapshots = {}, set(), {}
        self._read_survey(found)
        heads: list[tuple[Path, snap.Head]] = []
        for path in self._snapshot_paths(found):
            head = self._head(path)
            if head is not None:
                heads.append((path, head))
        for path, head in heads:
            missing = head.imports - self.imports
            if missing and self._own(path):
                raise ProjectError(f"the survey import {sorted(missing)[0]} that {self._rel(path)} "
                                   "holds is missing (deleted by hand?)", doctor_hint(self.dir))
            if missing:
                self._warn_once(f"missing-import:{sorted(missing)[0]}",
                                f"{self._rel(path)} holds a survey import that has not arrived "
                                f"yet ({sorted(missing)[0]}); its answers appear once it does")
        chosen = _not_covered(heads)
        first = True
        unknown: dict[str, dict[str, Any]] = {}
        for path, head in heads:
            ident = file_ident(path)
            if path not in chosen:
                self._snapshots[self._rel(path)] = (ident, head.vv, sorted(head.imports))
                continue
            try:
                loaded = snap.load(path, st, first=first, bulk=True)
            except FileNotFoundError:
                continue
            except snap.SnapshotDamaged as exc:
                self._damaged(path, exc.detail, what="what could be read of it is used")
                first = False
                continue
            first = False
            self.unrecorded.extend(loaded.conflicts)
            _max_into(self.vv, head.vv)
            self._snapshots[self._rel(path)] = (ident, head.vv, sorted(head.imports))
            for op in loaded.head.unknown:
                unknown.setdefault(f"{op.get('s')}/{op.get('i')}", op)
            for name, docs in loaded.foreign.items():
                self._foreign_tables.setdefault(name, docs)
        st.unknown_ops = list(unknown.values())
        for name in self._foreign_tables:
            self._warn_once(f"foreign:{name}", f"table {name!r} is not known to this version of "
                            "tuiqa; it is kept as it is")
        st.end_load()
        self.clock.observe(st.latest_stamp())
        _, conflicts = self._catch_up(found, include_own=True)
        self.unrecorded.extend(conflicts)

    def _read_survey(self, found: L.Scan, *, into: list[str] | None = None) -> None:
        files = []
        legacy = self._legacy_survey(found)
        for ident, path in sorted(self._import_files(found).items()):
            if legacy is not None and ident == legacy.id:
                files.append(legacy)
                continue
            try:
                files.append(imp.read(path))
            except FileNotFoundError:
                continue
            except imp.SurveyDamaged as exc:
                self._damaged(path, exc.detail, into)
        try:
            for warning in imp.replay(self.state, files):
                self._warn_once(f"survey:{warning}", warning, into)
        except imp.SurveyDamaged as exc:
            raise ProjectError(f"{exc.path} is damaged: {exc.detail}", doctor_hint(self.dir)) from None
        self.imports = {f.id for f in files}

    def _cache_plan(self, cached: Cached, found: L.Scan) -> _Extra | None:
        """Can the cache be the base? Only if all it holds is still in the project (a copy of
        the project on this machine, or one a restore took back, must not gain its changes) and
        no import arrived since. Returns what to read on top of it."""
        files = self._import_files(found)
        if cached.imports != set(files):
            return None
        known = cached.snapshots
        for path in files.values():  # this machine's own imports: changed only if damaged
            record = known.get(self._rel(path))
            if self._own(path) and (record is None or record[0] != file_ident(path)):
                return None
        available: dict[str, int] = {}
        extra: list[tuple[Path, snap.Head]] = []
        seen: dict[str, tuple[Any, dict[str, int], list[str]]] = {}
        for path in self._snapshot_paths(found):
            rel = self._rel(path)
            ident = file_ident(path)
            record = known.get(rel)
            if record is not None and record[0] == ident:
                vv, imports = record[1], record[2]
            elif self._own(path):
                return None  # this machine's snapshot changed behind its back: read it whole
            else:
                head = self._head(path)
                if head is None:
                    continue
                vv, imports = head.vv, sorted(head.imports)
                if not (snap.covers(cached.vv, vv) and set(imports) <= cached.imports):
                    extra.append((path, head))
            seen[rel] = (ident, vv, imports)
            _max_into(available, vv)
        for _, key, path in self._journal_sources(found):
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            available[key] = max(available.get(key, 0), size)
        if not snap.covers(available, cached.vv):
            return None
        self._snapshots = seen
        return _Extra(extra, journals=True)

    def _load_from_cache(self, cached: Cached, extra: _Extra, *, lazy: bool) -> None:
        st = self.state
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            st.reset()
            self._foreign_tables = cached.foreign
            cached.load_survey(st)
            cached.load_small(st)
            st.sessions = cached.sessions
            self.vv = cached.vv
            self.imports = cached.imports
            self.clock.observe(cached.latest_stamp)
            self._extra = extra
            if lazy:
                self.pending = cached
            else:
                self._load_bulk_or_files(cached)
        finally:
            if was_enabled:
                gc.enable()
        if not lazy:
            gc.freeze()

    def _load_bulk_or_files(self, cached: Cached) -> None:
        """Finish a load from the cache; if any part of it fails to decode, read the files.
        What arrived since the cache was written is read in before the indexes are built."""
        try:
            cached.load_bulk(self.state.entities)
        except (ValueError, EOFError, TypeError, KeyError, IndexError, OSError):
            cached.close()
            self.reload()
            self.cache_stale = True
            self._extra = None
            return
        extra, self._extra = self._extra, None
        if extra is not None:
            self.take(self.read_extra(self.state, extra))
        self.state.end_load()

    def take_extra(self) -> _Extra | None:
        """What a lazy open still has to read on top of the cache (for the thread that decodes
        it: :meth:`read_extra` on a state of its own, then :meth:`take` here)."""
        extra, self._extra = self._extra, None
        return extra

    def read_extra(self, state: State, extra: _Extra) -> Caught:
        """Read the snapshots and journal lines a cache did not hold into ``state`` (taken as
        they are where ``state`` lacks an entity: call before its indexes are built). Touches
        nothing of this store's but what is returned: safe on another thread with a state of
        its own."""
        caught = Caught(vv=dict(self.vv))
        for path, head in extra.snapshots:
            ident = file_ident(path)
            try:
                loaded = snap.load(path, state, first=False, bulk=True)
            except FileNotFoundError:
                continue
            except snap.SnapshotDamaged as exc:
                caught.warnings.append(f"{self._rel(path)} cannot be read ({exc.detail}); it is "
                                       "skipped (another machine's file, perhaps still arriving)")
                continue
            caught.absorbed = True
            _max_into(caught.vv, head.vv)
            caught.snapshots[self._rel(path)] = (ident, head.vv, sorted(head.imports))
            for name, docs in loaded.foreign.items():
                caught.foreign.setdefault(name, docs)
            known = {f"{op.get('s')}/{op.get('i')}" for op in state.unknown_ops}
            state.unknown_ops.extend(op for op in loaded.head.unknown
                                     if f"{op.get('s')}/{op.get('i')}" not in known)
            caught.conflicts.extend(loaded.conflicts)
            self._count(state, loaded.applied, caught.arrivals)
            if loaded.applied:
                caught.latest = max(caught.latest, max(op["s"] for op in loaded.applied))
        if extra.journals:
            found = L.scan(self.dir, self.machine)
            _, conflicts = self._catch_up(found, include_own=True, arrivals=caught.arrivals,
                                          warnings=caught.warnings, state=state, vv=caught.vv)
            caught.conflicts.extend(conflicts)
        return caught

    def take(self, caught: Caught) -> None:
        """Apply what :meth:`read_extra` found to this store (on the thread that owns it)."""
        self.vv = caught.vv
        self._snapshots.update(caught.snapshots)
        for name, docs in caught.foreign.items():
            self._foreign_tables.setdefault(name, docs)
        self.unrecorded.extend(caught.conflicts)
        self.arrived.merge(caught.arrivals)
        for warning in caught.warnings:
            self._warn_once(warning, warning)
        if caught.latest:
            self.clock.observe(caught.latest)
        if caught.absorbed:
            self.cache_stale = True

    def _count(self, state: State, ops: list[dict[str, Any]], arrivals: Arrivals) -> None:
        """Count changes read from a snapshot, by the session that made each."""
        by_session: dict[str, list[dict[str, Any]]] = {}
        for op in ops:
            by_session.setdefault(_tag_of(op["s"]), []).append(op)
        for tag, group in by_session.items():
            info = state.sessions.get(tag, {})
            arrivals.add(info.get("machine", ""), info.get("coder", ""), tag, group)

    def reload(self) -> None:
        """Read everything again from the files (a damaged cache; a restore)."""
        self._load_files(L.scan(self.dir, self.machine))

    def complete(self) -> None:
        """Make sure the state is whole (the owner of a lazy open finishes it first)."""
        if self.pending is not None and self.on_complete is not None:
            self.on_complete()
        if self.pending is not None:  # nobody took it over: decode here
            cached, self.pending = self.pending, None
            self._load_bulk_or_files(cached)

    def _load_v1(self) -> None:
        """A schema-1 copy opened to read: read in memory, nothing written."""
        from . import v1

        st = self.state
        st.reset()
        try:
            read = v1.read(self.dir, st, str(self.meta.get("created", "")))
        except FileNotFoundError as exc:
            raise ProjectError(f"{exc.filename} is missing", doctor_hint(self.dir)) from None
        except v1.V1Damaged as exc:
            raise ProjectError(f"{exc.path} is damaged: {exc.detail}", doctor_hint(self.dir)) from None
        self.warnings.extend(read.warnings)
        self.imports = {read.survey.id}
        self.vv = dict(read.vv)
        st.end_load()
        self.clock.observe(st.latest_stamp())

    # -- reading what others wrote -----------------------------------------------------------

    def _catch_up(self, found: L.Scan, *, include_own: bool = False,
                  arrivals: Arrivals | None = None, warnings: list[str] | None = None,
                  state: State | None = None,
                  vv: dict[str, int] | None = None) -> tuple[set[str], list[ConflictInfo]]:
        """Read what every journal holds past what the state holds; apply it in stamp order.

        ``include_own``: this session's own journal too (after a (re)load, which read only what
        some fold had put in a snapshot)."""
        st = self.state if state is None else state
        vv = self.vv if vv is None else vv
        own = None if include_own or self._writer is None else \
            L.journal_key(self.machine or "", self._writer.path)
        batch: list[tuple[str, dict[str, Any], str, str, str]] = []
        for machine, key, path in self._journal_sources(found):
            if key == own:
                continue
            offset = vv.get(key, 0)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if size <= offset:
                if size < offset and machine == self.machine and path.parent == self.journal_dir:
                    self._warn_once(f"short:{key}:{size}", f"{self._rel(path)} is shorter than "
                                    f"the part already folded ({size} < {offset} bytes): an old "
                                    "copy? Its changes are in the snapshot; nothing is lost",
                                    warnings)
                continue
            mine = self._own(path) or path.parent.name == L.ARCHIVE_DIR
            try:
                result = jn.read_from(path, offset, tolerant=not mine)
            except jn.JournalDamaged as exc:
                raise ProjectError(f"{exc.path} is damaged at line {exc.line_no}: {exc.detail}",
                                   doctor_hint(self.dir)) from None
            if result.damage is not None:
                self._warn_once(f"jdamage:{key}:{result.offset}",
                                f"{self._rel(path)} is damaged at line {result.damage.line_no} "
                                f"({result.damage.detail}); what comes before it is used",
                                warnings)
            tag = _session_of(path)
            header = result.header
            if tag and tag not in st.sessions:
                header = header or jn.read_header(path)
            if header and header.get("session"):
                st.sessions.setdefault(str(header["session"]), {
                    "coder": str(header.get("coder", "")), "machine": str(header.get("machine") or machine),
                    "started": str(header.get("started", ""))})
            vv[key] = result.offset
            for txn in result.txns:
                by = txn.get("u", "")
                for op in txn["ops"]:
                    batch.append((op["s"], op, by, machine, tag))
        if not batch:
            return set(), []
        batch.sort(key=itemgetter(0))
        kinds: set[str] = set()
        conflicts: list[ConflictInfo] = []
        apply = st.apply
        if state is None:
            self.clock.observe(batch[-1][0])
        for stamp, op, by, machine, tag in batch:
            found_conflicts = apply(op, by)
            kinds.add(op["k"])
            if found_conflicts:
                conflicts.extend(found_conflicts)
        if arrivals is not None:
            own_tag = self.session
            for machine, tag in {(m, t) for _, _, _, m, t in batch}:
                if tag == own_tag:
                    continue
                coder = st.sessions.get(tag, {}).get("coder", "")
                arrivals.add(machine, coder, tag, (op for _, op, _, m, t in batch
                                                  if m == machine and t == tag))
        return kinds, conflicts

    def _absorb(self, path: Path, head: snap.Head, arrivals: Arrivals,
                warnings: list[str]) -> tuple[set[str], list[ConflictInfo]]:
        """Unite another snapshot with the state (it holds changes the state does not)."""
        ident = file_ident(path)
        try:
            loaded = snap.load(path, self.state, first=False, bulk=False)
        except FileNotFoundError:
            return set(), []
        except snap.SnapshotDamaged as exc:
            self._damaged(path, exc.detail, warnings)
            return set(), []
        _max_into(self.vv, head.vv)
        self._snapshots[self._rel(path)] = (ident, head.vv, sorted(head.imports))
        for name, docs in loaded.foreign.items():
            self._foreign_tables.setdefault(name, docs)
        known = {f"{op.get('s')}/{op.get('i')}" for op in self.state.unknown_ops}
        self.state.unknown_ops.extend(op for op in loaded.head.unknown
                                      if f"{op.get('s')}/{op.get('i')}" not in known)
        self._count(self.state, loaded.applied, arrivals)
        if loaded.applied:
            self.clock.observe(max(op["s"] for op in loaded.applied))
        return {op["k"] for op in loaded.applied}, loaded.conflicts

    def _catch_up_all(self, result: RefreshResult) -> None:
        """Everything that arrived: imports, snapshots not covered, journal lines."""
        found = L.scan(self.dir, self.machine)
        ids = self._import_files(found)
        if set(ids) - self.imports:
            self._read_survey(found, into=result.warnings)
            result.survey_reloaded = True
            self.cache_stale = True
        # journal lines first: a snapshot that holds no more than them need not be read
        kinds, conflicts = self._catch_up(found, arrivals=result.arrivals, warnings=result.warnings)
        result.changed_kinds |= kinds
        result.conflicts.extend(conflicts)
        for path in self._snapshot_paths(found):
            rel = self._rel(path)
            ident = file_ident(path)
            known = self._snapshots.get(rel)
            if known is not None and known[0] == ident:
                continue
            head = self._head(path, result.warnings)
            if head is None:
                continue
            if snap.covers(self.vv, head.vv) and head.imports <= self.imports:
                self._snapshots[rel] = (ident, head.vv, sorted(head.imports))
                continue
            kinds, conflicts = self._absorb(path, head, result.arrivals, result.warnings)
            result.changed_kinds |= kinds
            result.conflicts.extend(conflicts)
            self.cache_stale = True

    def refresh(self) -> RefreshResult:
        """Pick up what other sessions and machines wrote since we last looked."""
        result = RefreshResult()
        self.complete()
        self._catch_up_all(result)
        return result

    # -- writing -----------------------------------------------------------------------------

    def _ensure_machine_dir(self) -> None:
        """This machine's folder, made the first time it writes anything in the project."""
        if self.readonly or self.machine is None:
            raise ProjectError(f"{self.dir} was opened read-only")
        if self.data_path.exists():
            return
        root = self.dir
        make_private_dir(root / L.MACHINES_DIR, shared_root=root)
        make_private_dir(self.machine_dir, shared_root=root)
        # Two processes of this machine may both be making it: one does, under its lock. Its
        # (empty) snapshot comes first: a folder with about.json and no data.json is damage.
        with file_lock(self.lock_path):
            if not self.data_path.exists():
                snap.write(self.data_path, State(), vv={}, imports=set(), machine=self.machine,
                           written=self.clock.next())
            for sub in (self.journal_dir, self.backup_dir, self.imports_dir):
                make_private_dir(sub, shared_root=root)
            self._write_about(set())
        fsync_dir(self.dir / L.MACHINES_DIR)

    def _write_about(self, coders: set[str]) -> None:
        about: dict[str, Any] = {}
        try:
            about = orjson.loads(self.about_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            pass
        if not isinstance(about, dict):
            about = {}
        known = set(about.get("coders") or [])
        if about and coders <= known:
            return
        me = this_machine()
        about.update({"machine": self.machine, "coders": sorted(known | coders),
                      "tuiqa": __version__})
        if me.id == self.machine:
            about.update({"host": me.host, "user": me.user})
        about.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        atomic_write(self.about_path, orjson.dumps(about, option=orjson.OPT_INDENT_2
                                                   | orjson.OPT_SORT_KEYS) + b"\n")

    def begin_session(self, coder: str) -> None:
        """Start this session's journal (done lazily, at the first change)."""
        if self._writer is None:
            self._ensure_machine_dir()
            self._coder = coder
            self._write_about({coder})
            started = self.clock.next()
            self._writer = jn.JournalWriter(self.journal_dir, self.session, coder, started,
                                            self.machine or "")
            key = L.journal_key(self.machine or "", self._writer.path)
            self.vv[key] = self._writer.size
            self.state.sessions[self.session] = {"coder": coder, "machine": self.machine or "",
                                                 "started": started}

    def new_stamp(self, after: Iterable[str] = ()) -> str:
        """A fresh stamp, later than every stamp in ``after`` (the values a change replaces: an
        edit made after seeing a value wins over it, even if that value is stamped ahead of this
        machine's clock)."""
        for stamp in after:
            if stamp:
                self.clock.observe(stamp)
        return self.clock.next()

    def commit(self, ops: list[dict[str, Any]], coder: str) -> list[ConflictInfo]:
        """Make ``ops`` durable (one journal line, fdatasync), then apply them in memory."""
        if not ops:
            return []
        if self.readonly:
            raise ProjectError(f"{self.dir} was opened read-only")
        self.complete()
        self.begin_session(coder)
        assert self._writer is not None
        self._writer.append({"t": ops[0]["s"], "u": coder, "ops": ops})
        self.vv[L.journal_key(self.machine or "", self._writer.path)] = self._writer.size
        return self.state.apply_all(ops, coder)

    def record_unrecorded(self, coder: str = "") -> None:
        """Write down the conflicts found while reading (one record each, the same on every
        machine that finds it)."""
        found, self.unrecorded = self.unrecorded, []
        if self.readonly or not found:
            return
        table = self.state.table("conflict")
        ops, made = [], set()
        for c in found:
            ident = conflict_id(c)
            if c.kind == "conflict" or ident in table or ident in made:
                continue
            made.add(ident)
            ops.append({"s": self.clock.next(), "k": "conflict", "i": ident, "f": conflict_fields(c)})
        if ops:
            self.commit(ops, coder or self._coder)

    # -- survey (import) ---------------------------------------------------------------------

    def replace_survey(self, mutate: Callable[[State], Any], *, kind: str = "import") -> Any:
        """Run ``mutate`` on the survey under this machine's lock, then write what it added or
        changed as a new import file of this machine."""
        if self.readonly:
            raise ProjectError(f"{self.dir} was opened read-only")
        self._ensure_machine_dir()
        with file_lock(self.lock_path):
            found = L.scan(self.dir, self.machine)
            if set(self._import_files(found)) - self.imports:
                self._read_survey(found)  # an import from another process or machine arrived
            st = self.state
            old = imp.before(st)
            outcome = mutate(st)
            st.sequences = {}
            participants, questions, responses = imp.delta(old, st)
            meta = {k: v for k, v in st.survey_meta.items() if k not in ("imports", "attributes")}
            old_meta = {k: v for k, v in old.meta.items() if k not in ("imports", "attributes")}
            if participants or questions or responses or meta != old_meta \
                    or list(st.attributes) != old.attributes:
                ident = self.clock.next()
                entries = st.survey_meta.get("imports") or []
                last = entries[-1] if entries and entries != old.meta.get("imports") else {}
                record = {"id": ident, "kind": kind, "file": str(last.get("file", "")),
                          "machine": self.machine, "coder": self._coder,
                          "participants": last.get("participants", len(participants)),
                          "new_responses": len(responses), "attributes": list(st.attributes),
                          "meta": meta}
                path = self.imports_dir / imp.file_name(ident)
                imp.write(path, record, participants, questions, responses)
                self._keep_backup_link(path)
                self.imports.add(ident)
                others = [p for mid, files in found.machines.items() if mid != self.machine
                          for p in files.imports]
                if others:  # imports from elsewhere too: the order of all of them decides
                    self._read_survey(L.scan(self.dir, self.machine))
            self.cache_stale = True
        return outcome

    def _keep_backup_link(self, path: Path) -> None:
        """A second name for a survey import in this machine's backups (written once, so a hard
        link costs nothing and survives the file being damaged or deleted by hand)."""
        target = self.backup_dir / path.name
        try:
            make_private_dir(self.backup_dir, shared_root=self.dir)
            if not target.exists():
                os.link(path, target)
        except OSError:
            try:
                shutil.copy2(path, target)
            except OSError:
                pass

    # -- folding -----------------------------------------------------------------------------

    def compact(self) -> None:
        """Fold: write this machine's snapshot and archive its own ended sessions' journals."""
        if self.readonly:
            return
        self._ensure_machine_dir()
        with file_lock(self.lock_path):
            self._compact_locked()

    def _dead_own_journals(self) -> list[Path]:
        own = self._writer.name if self._writer else None
        try:
            files = sorted(p for p in self.journal_dir.iterdir()
                           if p.name.endswith(L.JOURNAL_SUFFIX) and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        return [p for p in files if p.name != own and not jn.is_live(p)]

    def _compact_locked(self) -> None:
        self.complete()
        # Which sessions have ended is settled first, then their journals are read to the end:
        # an ended session appends nothing more, so what is archived below is exactly what was
        # read. (Listed after the reading, a session that appended and ended in between was
        # archived with its last change unread.)
        dead = self._dead_own_journals()
        result = RefreshResult()
        self._catch_up_all(result)
        self.unrecorded.extend(result.conflicts)
        if self.unrecorded:
            self.record_unrecorded(self._coder)
        own = self._writer
        if own is not None:
            self.vv[L.journal_key(self.machine or "", own.path)] = own.size
        self._backup(self.data_path)
        snap.write(self.data_path, self.state, vv=self.vv, imports=self.imports,
                   machine=self.machine or "", written=self.clock.next(),
                   foreign=self._foreign_tables)
        self._snapshots[self._rel(self.data_path)] = (file_ident(self.data_path), dict(self.vv),
                                                      sorted(self.imports))
        # The dead journals are folded (the snapshot records how far); move them to this
        # machine's backups. A crash from here on only leaves files that replay to nothing new.
        archive = self.backup_dir / L.ARCHIVE_DIR
        for path in dead:
            offset = self.vv.get(L.journal_key(self.machine or "", path), 0)
            if jn.tail_is_torn(path, offset):
                # A write cut short by a crash: never acknowledged, but keep the bytes for forensics.
                self._keep_torn_tail(path, offset)
            # Folded journals are kept as long as the backups they complete: restoring an older
            # snapshot from backups/ replays them, so no acknowledged change is ever lost.
            make_private_dir(archive, shared_root=self.dir)
            try:
                os.replace(path, archive / path.name)
            except FileNotFoundError:
                pass
        if dead:
            fsync_dir(self.journal_dir)
        self._prune_archive()
        self.write_cache()

    def _prune_archive(self) -> None:
        archive = self.backup_dir / L.ARCHIVE_DIR
        backups = sorted(self.backup_dir.glob(L.SNAPSHOT_FILE + ".*"))
        if not archive.is_dir() or len(backups) < BACKUPS_KEPT:
            return
        oldest = backups[0].stat().st_mtime
        for path in archive.iterdir():
            try:
                if path.stat().st_mtime < oldest:
                    path.unlink()
            except FileNotFoundError:
                pass

    def holding(self) -> dict[str, Any]:
        """What the state holds: journals (version vector), imports, the snapshot files read
        and this machine's import files (by modification time and size)."""
        files = {rel: [ident, vv, imports] for rel, (ident, vv, imports) in self._snapshots.items()}
        try:
            for path in self.imports_dir.iterdir():
                files[self._rel(path)] = [file_ident(path), {}, []]
        except FileNotFoundError:
            pass
        return {"vv": dict(self.vv), "imports": set(self.imports), "snapshots": files}

    def write_cache(self) -> None:
        """Refresh the private fast-open cache (never fails the caller: it is only a cache)."""
        if self.pending is not None or self.readonly or self.machine is None:
            return
        try:
            write_cache(self, self.holding(), self._foreign_tables)
            self.cache_stale = False
        except OSError as exc:
            remove_cache(self)
            self.warnings.append(f"could not write the fast-open cache: {exc}")

    def _backup(self, path: Path) -> None:
        if not path.exists():
            return
        make_private_dir(self.backup_dir, shared_root=self.dir)
        target = self.backup_dir / f"{path.name}.{self.clock.next().replace('.', '-')}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        kept = sorted(p for p in self.backup_dir.iterdir() if p.name.startswith(path.name + "."))
        for old in kept[:-BACKUPS_KEPT]:
            old.unlink()

    def _keep_torn_tail(self, path: Path, offset: int) -> None:
        with open(path, "rb") as fh:
            fh.seek(offset)
            tail = fh.read()
        make_private_dir(self.backup_dir, shared_root=self.dir)
        atomic_write(self.backup_dir / f"torn-{path.name}", tail)

    # -- close -------------------------------------------------------------------------------

    def close(self, *, compact: bool = True) -> None:
        """End the session. With ``compact``, fold this machine's ended sessions' journals into
        its snapshot (nothing else is written: no other machine's files, ever)."""
        writer = self._writer
        if compact and not self.readonly and self.unrecorded:
            try:
                self.record_unrecorded(self._coder)
                writer = writer or self._writer
            except (OSError, ProjectError):
                pass
        writer = self._writer
        if writer is not None:
            writer.close()
        self._writer = None
        if not compact or self.readonly:
            return
        if writer is not None or self._dead_own_journals():
            self.compact()
        elif self.cache_stale and self.machine_dir.is_dir():
            try:
                with file_lock(self.lock_path, exclusive=False, timeout_s=2.0):
                    self.complete()
                    self.write_cache()
            except OSError:
                pass
        elif self.cache_stale:
            self.complete()
            self.write_cache()

    @property
    def coder(self) -> str:
        """Who this session's journal is written for ("" before its first change)."""
        return self._coder

    @property
    def has_session(self) -> bool:
        return self._writer is not None

    @property
    def journal_path(self) -> Path | None:
        return self._writer.path if self._writer else None


def _machine(ident: str | None) -> str:
    if ident is None:
        return this_machine().id
    if not valid_machine_id(ident):
        raise ProjectError(f"{ident!r} is not a machine id (lower-case letters, digits and dashes)")
    return ident


def _max_into(target: dict[str, int], other: dict[str, int]) -> None:
    for key, offset in other.items():
        if offset > target.get(key, -1):
            target[key] = offset


def _not_covered(heads: list[tuple[Path, snap.Head]]) -> set[Path]:
    """The snapshots no other one covers (of two that cover each other, the first)."""
    keep = set()
    for i, (path, head) in enumerate(heads):
        covered = False
        for j, (other, big) in enumerate(heads):
            if i == j or not (snap.covers(big.vv, head.vv) and head.imports <= big.imports):
                continue
            if big.vv != head.vv or big.imports != head.imports or j < i:
                covered = True
                break
        if not covered:
            keep.add(path)
    return keep


def _session_of(path: Path) -> str:
    """The session tag in a journal's name (``<started>-<session>.jsonl``)."""
    name = L.conflict_base(path.name) or path.name
    stem = name[: -len(L.JOURNAL_SUFFIX)] if name.endswith(L.JOURNAL_SUFFIX) else name
    tag = stem.rsplit("-", 1)[-1]
    return tag[:8] if len(tag) >= 8 else ""


def _tag_of(stamp: str) -> str:
    parts = stamp.split(".", 2)
    return parts[2][:8] if len(parts) == 3 else ""


def _not_project_hint(directory: Path) -> str:
    return (f"Create a project there with `tuiqa import SURVEY.csv --project {directory}`, "
            "or pass the folder that holds tuiqa.json.")
