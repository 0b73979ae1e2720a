"""A project on disk: a directory of TinyDB files plus per-session journals.

Layout (see the README, "Your data on disk")::

    DIR/tuiqa.json      project identity and schema version
    DIR/survey.json     participants, questions, responses (TinyDB; written by import only)
    DIR/data.json       codes, codings, memos, statuses, … folded from the journals (TinyDB)
    DIR/journal/*.jsonl one append-only file per session: every change, durable before it is shown
    DIR/backups/        the last few good versions of survey.json and data.json
    DIR/.lock           flock: shared while loading, exclusive while import/compaction rewrite files

Opening reads the snapshot files and replays every journal past the offset the snapshot has
folded. Each session writes only its own journal, so two coders on one server never write the
same file; each reads the others' journals as they grow (:meth:`ProjectStore.refresh`). Closing
folds the journals of sessions that have ended into ``data.json`` (compaction) and deletes them.
"""

from __future__ import annotations

import gc
import os
import shutil
from itertools import groupby
from operator import itemgetter
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from ..model import ENTITY_TYPES, Participant, Question, Response
from . import journal as jn
from .files import (
    atomic_write,
    file_lock,
    make_private_dir,
    remove_stale_temp_files,
)
from .stamps import Clock
from .state import ConflictInfo, State
from .cache import Cached, read_cache, remove_cache, write_cache
from .tinyjson import FileDamaged, NotStreamable, decode_file, iter_docs, table_docs, write_tables

SCHEMA_VERSION = 1
FORMAT = "tuiqa-project"
META_FILE = "tuiqa.json"
SURVEY_FILE = "survey.json"
DATA_FILE = "data.json"
JOURNAL_DIR = "journal"
BACKUP_DIR = "backups"
LOCK_FILE = ".lock"
BACKUPS_KEPT = 5
ARCHIVE_DIR = "journals"  # under backups/: journals already folded into data.json
JOURNALS_TABLE = "_journals"
UNKNOWN_TABLE = "_unknown"
SURVEY_META_TABLE = "_survey"


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

    @property
    def changed(self) -> bool:
        return bool(self.changed_kinds) or self.reloaded or self.survey_reloaded


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def is_project(directory: Path) -> bool:
    return (directory / META_FILE).is_file()


class ProjectStore:
    """Owns the files of one project; everything else sees only :class:`State`."""

    def __init__(self, directory: Path, state: State) -> None:
        self.dir = directory
        self.state = state
        self.meta: dict[str, Any] = {}
        self.session = uuid.uuid4().hex[:8]
        self.clock = Clock(self.session)
        self._writer: jn.JournalWriter | None = None
        self._coder = ""
        self._offsets: dict[str, int] = {}
        self._data_ident: tuple[int, int, int] | None = None
        self._survey_ident: tuple[int, int, int] | None = None
        self.on_conflicts: Callable[[list[ConflictInfo]], None] | None = None
        self.warnings: list[str] = []
        #: Tables written by a newer tuiqa: kept verbatim on every rewrite.
        self._foreign_tables: dict[str, Any] = {}
        #: A lazily opened cache whose bulk (codings, statuses) is still to be decoded.
        self.pending: Cached | None = None
        self.on_complete: Callable[[], None] | None = None
        #: The cache did not match the files: write a fresh one when closing.
        self.cache_stale = False
        #: Opened only to read (see :meth:`open`): every write is refused.
        self.readonly = False

    # -- paths -------------------------------------------------------------------------------

    @property
    def meta_path(self) -> Path:
        return self.dir / META_FILE

    @property
    def survey_path(self) -> Path:
        return self.dir / SURVEY_FILE

    @property
    def data_path(self) -> Path:
        return self.dir / DATA_FILE

    @property
    def journal_dir(self) -> Path:
        return self.dir / JOURNAL_DIR

    @property
    def backup_dir(self) -> Path:
        return self.dir / BACKUP_DIR

    @property
    def lock_path(self) -> Path:
        return self.dir / LOCK_FILE

    # -- create / open -----------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path, state: State | None = None) -> ProjectStore:
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
        store = cls(directory, state or State())
        make_private_dir(store.journal_dir, shared_root=directory)
        make_private_dir(store.backup_dir, shared_root=directory)
        with file_lock(store.lock_path):
            store.meta = {"format": FORMAT, "schema_version": SCHEMA_VERSION,
                          "project_id": str(uuid.uuid4()), "created": store.clock.next()}
            atomic_write(store.meta_path, orjson.dumps(store.meta, option=orjson.OPT_INDENT_2
                                                       | orjson.OPT_SORT_KEYS))
            store._write_survey_locked()
            store._write_data_locked()
        return store

    @classmethod
    def open(cls, directory: Path, state: State | None = None, *, lazy: bool = False,
             readonly: bool = False) -> ProjectStore:
        """Open a project. With ``lazy`` and a valid cache, codings and statuses are left for
        :attr:`pending` to decode (the app shows the first answer meanwhile). With ``readonly``
        nothing in the folder is written (no tidying of journals, no migration): for reading
        another copy, e.g. in a merge."""
        directory = Path(directory)
        if not directory.exists():
            raise ProjectError(f"{directory} does not exist",
                               f"Create a project with `tuiqa import SURVEY.csv --project {directory}`.")
        if not is_project(directory):
            raise ProjectError(f"{directory} is not a tuiqa project (no {META_FILE})",
                               _not_project_hint(directory))
        store = cls(directory, state or State())
        store._read_meta()
        if readonly:
            store.readonly = True
            if store.meta["schema_version"] < SCHEMA_VERSION:
                raise ProjectError(f"{directory} was written by an older tuiqa",
                                   f"Open it once with `tuiqa stats {directory}` to bring it up to date.")
            try:
                with file_lock(store.lock_path, exclusive=False, timeout_s=5.0):
                    store._load_locked()
            except OSError:  # a read-only copy (no lock file can be made): read it as it is
                store._load_locked()
            return store
        from .migrations import migrate_if_needed

        migrate_if_needed(store)
        make_private_dir(store.journal_dir, shared_root=directory)
        make_private_dir(store.backup_dir, shared_root=directory)
        remove_stale_temp_files(directory)
        with file_lock(store.lock_path, exclusive=False):
            cached = read_cache(store)
            if cached is not None and not store._journals_at(cached.offsets):
                cached.close()  # journals hold changes the cache has not seen: read the files
                cached = None
            if cached is not None:
                store._load_from_cache(cached, lazy=lazy)
            else:
                store._load_locked()
                # the app (lazy) writes a fresh cache when it closes; one-shot commands don't
                store.cache_stale = lazy
        if store._dead_journals():
            # Fold what ended sessions (or a crash) left behind, so journals never pile up.
            try:
                store.complete()
                with file_lock(store.lock_path, timeout_s=2.0):
                    store._compact_locked()
            except (OSError, ProjectError) as exc:  # a busy or read-only project still opens
                store.warnings.append(f"could not tidy the journals: {exc}")
        return store

    def _journals_at(self, offsets: dict[str, int]) -> bool:
        """Does every journal end exactly where the snapshot's fold stopped (nothing to replay)?"""
        files = {p.name: p for p in self._journal_files()}
        for name, path in files.items():
            try:
                if path.stat().st_size != offsets.get(name, -1):
                    return False
            except FileNotFoundError:
                return False
        return True

    def _load_from_cache(self, cached: Cached, *, lazy: bool) -> None:
        st = self.state
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            st.reset()
            self._foreign_tables = cached.foreign
            cached.load_survey(st)
            cached.load_small(st)
            self._offsets = cached.offsets
            self.clock.observe(cached.latest_stamp)
            self._data_ident = _identity(self.data_path)
            self._survey_ident = _identity(self.survey_path)
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
        """Finish a load from the cache; if any part of it fails to decode, read the files."""
        try:
            cached.load_bulk(self.state.entities)
        except (ValueError, EOFError, TypeError, KeyError, IndexError, OSError):
            cached.close()
            self._load_locked()
            self.cache_stale = True
            return
        self.state.end_load()

    def complete(self) -> None:
        """Make sure the state is whole (the owner of a lazy open finishes it first)."""
        if self.pending is not None and self.on_complete is not None:
            self.on_complete()
        if self.pending is not None:  # nobody took it over: decode here
            cached, self.pending = self.pending, None
            with file_lock(self.lock_path, exclusive=False):
                self._load_bulk_or_files(cached)

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

    def _load_locked(self) -> None:
        """(Re)build the state from the snapshot files and every journal. Caller holds a lock.

        The garbage collector is paused while hundreds of thousands of objects are made (it would
        rescan them over and over), and what was loaded is then frozen out of later collections.
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._load_files_locked()
        finally:
            if was_enabled:
                gc.enable()
        gc.freeze()

    def _load_files_locked(self) -> None:
        st = self.state
        st.reset()
        self._foreign_tables = {}
        self._load_survey_locked()
        small: dict[str, list[dict[str, Any]]] = {}
        self._data_ident = _identity(self.data_path)
        raw = self._read_bytes(self.data_path)
        try:
            for table, group in groupby(iter_docs(raw), key=itemgetter(0)):
                docs = (doc for _, doc in group)
                if table in ENTITY_TYPES:
                    st.load_entity_docs(table, docs)
                else:
                    small.setdefault(table, []).extend(docs)
        except NotStreamable:
            # Not our one-document-per-line layout (edited by hand?): parse it whole.
            for table in st.entities.values():
                table.clear()
            tables = self._decode(self.data_path)
            small = {}
            for name in tables:
                if name in ENTITY_TYPES:
                    st.load_entity_docs(name, table_docs(tables, name))
                else:
                    small[name] = table_docs(tables, name)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProjectError(f"{self.data_path} is damaged: a document is malformed ({exc!r})",
                               doctor_hint(self.dir)) from None
        del raw
        try:
            self._offsets = {d["file"]: int(d["offset"]) for d in small.pop(JOURNALS_TABLE, [])}
        except (KeyError, TypeError, ValueError):
            raise ProjectError(f"{self.data_path} is damaged: the journal table is malformed",
                               doctor_hint(self.dir)) from None
        st.unknown_ops = small.pop(UNKNOWN_TABLE, [])
        for kind, docs in small.items():
            self.warnings.append(f"{self.data_path}: table {kind!r} is not known to this "
                                 "version of tuiqa; it is kept as it is")
            self._foreign_tables[kind] = docs
        st.end_load()
        self.clock.observe(st.latest_stamp())
        self._catch_up(include_own=True)

    def _read_bytes(self, path: Path) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ProjectError(f"{path} is missing (deleted by hand?)", doctor_hint(self.dir)) from None
        except OSError as exc:
            raise ProjectError(f"{path} cannot be read: {exc.strerror}", doctor_hint(self.dir)) from None
        if not data.strip():
            raise ProjectError(f"{path} is damaged: it is empty", doctor_hint(self.dir))
        return data

    def _load_survey_locked(self) -> None:
        st = self.state
        self._survey_ident = _identity(self.survey_path)
        raw = self._read_bytes(self.survey_path)
        tables: dict[str, list[dict[str, Any]]] = {}
        try:
            for table, group in groupby(iter_docs(raw), key=itemgetter(0)):
                tables.setdefault(table, []).extend(doc for _, doc in group)
        except NotStreamable:
            full = self._decode(self.survey_path)
            tables = {name: table_docs(full, name) for name in full}
        del raw
        canon = st._canon
        try:
            st.participants = {d["id"]: Participant.from_doc(d) for d in tables.get("participants", [])}
            st.questions = {d["id"]: Question.from_doc(d) for d in tables.get("questions", [])}
            for ident in st.participants:
                canon[ident] = ident
            for ident in st.questions:
                canon[ident] = ident
            responses = {}
            for d in tables.get("responses", []):
                r = Response.from_doc(d)
                r.participant_id = canon.get(r.participant_id, r.participant_id)
                r.question_id = canon.get(r.question_id, r.question_id)
                responses[r.id] = r
                canon[r.id] = r.id
            st.responses = responses
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProjectError(f"{self.survey_path} is damaged: a document is malformed ({exc!r})",
                               doctor_hint(self.dir)) from None
        meta = tables.get(SURVEY_META_TABLE) or []
        st.survey_meta = dict(meta[0]) if meta else {}
        st.attributes = list(st.survey_meta.get("attributes", []))
        st.sequences = {}

    def _decode(self, path: Path) -> dict[str, dict[str, Any]]:
        try:
            return decode_file(path)
        except FileNotFoundError:
            raise ProjectError(f"{path} is missing (deleted by hand?)", doctor_hint(self.dir)) from None
        except FileDamaged as exc:
            raise ProjectError(f"{exc.path} is damaged: it {exc.detail}", doctor_hint(self.dir)) from None
        except KeyError as exc:
            raise ProjectError(f"{path} is damaged: a document lacks {exc}", doctor_hint(self.dir)) from None

    # -- journals ----------------------------------------------------------------------------

    def _journal_files(self) -> list[Path]:
        try:
            return sorted(p for p in self.journal_dir.iterdir() if p.name.endswith(jn.JOURNAL_SUFFIX))
        except FileNotFoundError:
            return []

    def _catch_up(self, *, include_own: bool = False) -> tuple[set[str], list[ConflictInfo]]:
        """Read what other sessions appended since we last looked, apply it in stamp order.

        After a (re)load, ``include_own`` replays this session's own journal too: the state was
        rebuilt from data.json, which holds only what some compaction has folded so far.
        """
        own = None if include_own or self._writer is None else self._writer.name
        batch: list[tuple[str, dict[str, Any], str]] = []
        for path in self._journal_files():
            name = path.name
            if name == own:
                continue
            offset = self._offsets.get(name, 0)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue
            if size < offset:
                raise ProjectError(f"{path} is shorter than the part already folded "
                                   f"({size} < {offset} bytes)", doctor_hint(self.dir))
            if size == offset:
                continue
            try:
                result = jn.read_from(path, offset)
            except jn.JournalDamaged as exc:
                raise ProjectError(f"{exc.path} is damaged at line {exc.line_no}: {exc.detail}",
                                   doctor_hint(self.dir)) from None
            self._offsets[name] = result.offset
            for txn in result.txns:
                by = txn.get("u", "")
                for op in txn["ops"]:
                    batch.append((op["s"], op, by))
        if not batch:
            return set(), []
        batch.sort(key=lambda item: item[0])
        kinds: set[str] = set()
        conflicts: list[ConflictInfo] = []
        apply = self.state.apply
        for stamp, op, by in batch:
            self.clock.observe(stamp)
            found = apply(op, by)
            kinds.add(op["k"])
            if found:
                conflicts.extend(found)
        return kinds, conflicts

    def _dead_journals(self) -> list[Path]:
        own = self._writer.name if self._writer else None
        return [p for p in self._journal_files() if p.name != own and not jn.is_live(p)]

    # -- writing -----------------------------------------------------------------------------

    def begin_session(self, coder: str) -> None:
        """Start this session's journal (done lazily, at the first change)."""
        if self._writer is None:
            self._coder = coder
            make_private_dir(self.journal_dir, shared_root=self.dir)
            self._writer = jn.JournalWriter(self.journal_dir, self.session, coder, self.clock.next())

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
        return self.state.apply_all(ops, coder)

    def refresh(self) -> RefreshResult:
        """Pick up other sessions' changes (and a re-import or a compaction by someone else)."""
        result = RefreshResult()
        self.complete()
        if _identity(self.survey_path) != self._survey_ident or _identity(self.data_path) != self._data_ident:
            with file_lock(self.lock_path, exclusive=False):
                self._load_locked()
                result.reloaded = True
            return result
        kinds, conflicts = self._catch_up()
        result.changed_kinds = kinds
        result.conflicts = conflicts
        return result

    # -- survey (import) ---------------------------------------------------------------------

    def replace_survey(self, mutate: Callable[[State], Any]) -> Any:
        """Run ``mutate`` on a fresh copy of the survey under the exclusive lock, then write it."""
        with file_lock(self.lock_path):
            if _identity(self.survey_path) != self._survey_ident:
                self._load_survey_locked()
            outcome = mutate(self.state)
            self.state.sequences = {}
            self._backup(self.survey_path)
            self._write_survey_locked()
            self.cache_stale = True
        return outcome

    def _write_survey_locked(self) -> None:
        st = self.state
        meta = dict(st.survey_meta)
        meta["attributes"] = list(st.attributes)
        tables = {
            "participants": [p.to_doc() for p in sorted(st.participants.values(), key=lambda p: p.order)],
            "questions": [q.to_doc() for q in sorted(st.questions.values(), key=lambda q: q.order)],
            "responses": [r.to_doc() for r in _responses_in_file_order(st)],
            SURVEY_META_TABLE: [meta],
        }
        write_tables(self.survey_path, tables)
        self._survey_ident = _identity(self.survey_path)

    # -- compaction --------------------------------------------------------------------------

    def compact(self) -> None:
        with file_lock(self.lock_path):
            self._compact_locked()

    def _compact_locked(self) -> None:
        self.complete()
        # Which sessions have ended is settled first, then their journals are read to the end:
        # an ended session appends nothing more, so what is archived below is exactly what was
        # read. (Listed after the reading, a session that appended and ended in between was
        # archived with its last change unread.)
        dead = self._dead_journals()
        if _identity(self.data_path) != self._data_ident or _identity(self.survey_path) != self._survey_ident:
            self._load_locked()
        else:
            self._catch_up()
        own = self._writer
        if own is not None:
            self._offsets[own.name] = own.size
        existing = {p.name for p in self._journal_files()}
        self._offsets = {name: off for name, off in self._offsets.items() if name in existing}
        self._backup(self.data_path)
        self._write_data_locked()
        # The dead journals are folded (data.json records how far); delete them. A crash from here
        # on only leaves files that replay to nothing new (every change is applied once).
        archive = self.backup_dir / ARCHIVE_DIR
        for path in dead:
            offset = self._offsets.get(path.name, 0)
            if jn.tail_is_torn(path, offset):
                # A write cut short by a crash: never acknowledged, but keep the bytes for forensics.
                self._keep_torn_tail(path, offset)
            # Folded journals are kept as long as the backups they complete: restoring an older
            # data.json from backups/ replays them, so no acknowledged change is ever lost.
            make_private_dir(archive, shared_root=self.dir)
            try:
                os.replace(path, archive / path.name)
            except FileNotFoundError:
                pass
        self._prune_archive()
        self.write_cache()

    def _prune_archive(self) -> None:
        archive = self.backup_dir / ARCHIVE_DIR
        backups = sorted(p for p in self.backup_dir.glob(DATA_FILE + ".*"))
        if not archive.is_dir() or len(backups) < BACKUPS_KEPT:
            return
        oldest = backups[0].stat().st_mtime
        for path in archive.iterdir():
            try:
                if path.stat().st_mtime < oldest:
                    path.unlink()
            except FileNotFoundError:
                pass

    def write_cache(self) -> None:
        """Refresh the private fast-open cache (never fails the caller: it is only a cache)."""
        if self.pending is not None:
            return
        try:
            write_cache(self, dict(self._offsets), self._foreign_tables)
            self.cache_stale = False
        except OSError as exc:
            remove_cache(self.dir)
            self.warnings.append(f"could not write the fast-open cache: {exc}")

    def _write_data_locked(self) -> None:
        st = self.state
        tables: dict[str, list[dict[str, Any]]] = {kind: st.entity_docs(kind) for kind in ENTITY_TYPES}
        tables[JOURNALS_TABLE] = [{"file": name, "offset": off} for name, off in sorted(self._offsets.items())]
        tables[UNKNOWN_TABLE] = list(st.unknown_ops)
        write_tables(self.data_path, {**{k: list(v) for k, v in self._foreign_tables.items()},
                                      **tables})
        self._data_ident = _identity(self.data_path)

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
        """End the session. With ``compact``, fold ended sessions' journals into data.json."""
        writer = self._writer
        if writer is not None:
            writer.close()
        self._writer = None
        if not compact or self.readonly:
            return
        if writer is not None or self._dead_journals():
            self.compact()
        elif self.cache_stale:
            try:
                with file_lock(self.lock_path, exclusive=False, timeout_s=2.0):
                    if _identity(self.data_path) == self._data_ident and \
                            _identity(self.survey_path) == self._survey_ident:
                        self.complete()
                        self.write_cache()
            except OSError:
                pass

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


def _responses_in_file_order(st: State) -> list[Response]:
    porder = {pid: p.order for pid, p in st.participants.items()}
    qorder = {qid: q.order for qid, q in st.questions.items()}
    return sorted(st.responses.values(),
                  key=lambda r: (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0)))


def _not_project_hint(directory: Path) -> str:
    return (f"Create a project there with `tuiqa import SURVEY.csv --project {directory}`, "
            "or pass the folder that holds tuiqa.json.")
