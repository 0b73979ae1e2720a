"""``tuiqa doctor DIR``: check a project's files, and restore a damaged one from a backup.

Checking only reads. It looks at every machine's files (see :mod:`tuiqa.store.layout`): this
machine's damaged files are problems (every command stops on them) that ``--restore`` can put
right from this machine's backups; another machine's damaged file is a warning (opening skips it,
and it is replaced when that machine writes it again, or arrives whole). Restoring never deletes
anything: the damaged file is moved to this machine's ``backups/damaged-…`` first, then the newest
backup that parses is copied into place; the journals stay and replay on top of it at the next
open, so changes made after that backup are kept too.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .store import journal as jn
from .store import layout as L
from .store.files import atomic_write, file_lock
from .store.store import FORMAT, META_FILE, SCHEMA_VERSION, is_project
from .store.tinyjson import FileDamaged, decode_file

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass
class Finding:
    level: str
    what: str
    fix: str = ""


@dataclass
class Checkup:
    directory: Path
    findings: list[Finding] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # file names that could be restored

    def add(self, level: str, what: str, fix: str = "") -> None:
        self.findings.append(Finding(level, what, fix))

    @property
    def healthy(self) -> bool:
        return not any(f.level == PROBLEM for f in self.findings)

    def lines(self) -> list[str]:
        out = [f"Checking {self.directory}"]
        marks = {OK: "  ok     ", WARNING: "  warning", PROBLEM: "  PROBLEM"}
        for f in self.findings:
            out.append(f"{marks[f.level]}  {f.what}")
            if f.fix:
                out.append(f"           → {f.fix}")
        out.append("The project is healthy." if self.healthy else
                   "The project needs attention (see above); nothing was changed.")
        return out


def backups_of(folder: Path, name: str) -> list[Path]:
    """Backups of the file ``name`` in a machine's folder, newest first."""
    backups = folder / L.BACKUP_DIR
    if not backups.is_dir():
        return []
    return sorted((p for p in backups.iterdir() if p.name.startswith(name + ".")
                   or (name.startswith(L.IMPORT_PREFIX) and p.name == name)), reverse=True)


def _parses(path: Path) -> str | None:
    """None if ``path`` is a readable TinyDB file, else what is wrong."""
    try:
        decode_file(path)
    except FileNotFoundError:
        return "is missing"
    except FileDamaged as exc:
        return exc.detail
    return None


def _own_machine() -> str:
    from .store.machine import this_machine

    return this_machine().id


def check(directory: Path) -> Checkup:
    directory = Path(directory)
    up = Checkup(directory)
    if not directory.is_dir():
        up.add(PROBLEM, f"{directory} is not a folder")
        return up
    if not is_project(directory):
        up.add(PROBLEM, f"no {META_FILE}: not a tuiqa project (or its identity file was deleted)",
               "if this is a project, restore tuiqa.json from a copy of it")
        return up
    version = None
    try:
        meta = orjson.loads((directory / META_FILE).read_bytes())
        version = meta.get("schema_version")
        if meta.get("format") != FORMAT or not isinstance(version, int):
            raise ValueError("not a tuiqa project file")
        if version > SCHEMA_VERSION:
            up.add(PROBLEM, f"written by a newer tuiqa (schema {version})", "upgrade tuiqa")
        else:
            up.add(OK, f"{META_FILE}: schema {version}" + (
                " (brought up to date the next time the project is opened)"
                if version < SCHEMA_VERSION else ""))
    except (orjson.JSONDecodeError, ValueError, AttributeError) as exc:
        up.add(PROBLEM, f"{META_FILE} is damaged ({exc})", "restore it from a copy of the project")
    if isinstance(version, int) and version < SCHEMA_VERSION:
        _check_v1(directory, up)
    else:
        _check_machines(directory, up)
    if not any(f.level == PROBLEM for f in up.findings):
        _check_references(directory, up)
    _check_permissions(directory, up)
    return up


def _check_v1(directory: Path, up: Checkup) -> None:
    for name in ("survey.json", "data.json"):
        problem = _parses(directory / name)
        if problem is None:
            up.add(OK, f"{name} reads cleanly")
        else:
            up.add(PROBLEM, f"{name} {problem}", "restore the folder from a copy")


def _check_machines(directory: Path, up: Checkup) -> None:
    me = _own_machine()
    found = L.scan(directory, me)
    if not found.machines:
        up.add(PROBLEM, f"no {L.MACHINES_DIR}/ folder: the project's files are missing",
               "restore the folder from a copy of the project")
        return
    for mid, files in sorted(found.machines.items()):
        mine = mid == me
        who = "this machine" if mine else f"machine {mid}"
        rel = f"{L.MACHINES_DIR}/{mid}"
        for path in files.snapshots:
            _check_file(up, directory, path, mine and path.name == L.SNAPSHOT_FILE, who)
        if mine and not files.snapshots and (files.dir / L.ABOUT_FILE).exists():
            up.damaged.append(f"{rel}/{L.SNAPSHOT_FILE}")
            up.add(PROBLEM, f"{rel}/{L.SNAPSHOT_FILE} is missing (deleted by hand?)",
                   _restore_hint(directory, files.dir, L.SNAPSHOT_FILE))
        for path in files.imports:
            _check_file(up, directory, path, mine and L.conflict_base(path.name) is None, who)
        live = 0
        for path in files.journals:
            if mine and jn.is_live(path):
                live += 1
            name = str(path.relative_to(directory))
            try:
                result = jn.read_from(path, 0)
            except jn.JournalDamaged as exc:
                if mine:
                    up.damaged.append(name)
                    up.add(PROBLEM, f"{name}: line {exc.line_no} is damaged ({exc.detail})",
                           f"`tuiqa doctor {directory} --restore` sets the damaged lines aside "
                           "and keeps the rest")
                else:
                    up.add(WARNING, f"{name}: line {exc.line_no} is damaged ({exc.detail}); what "
                           f"comes before it is used ({who}'s file: fixed when it arrives whole)")
                continue
            if jn.tail_is_torn(path, result.offset):
                up.add(WARNING, f"{name} ends with an unfinished write ("
                       + ("a crash; it was never acknowledged and is ignored)" if mine else
                          "still arriving, or that machine crashed); the complete lines are used"))
        up.add(OK, f"{rel}: {len(files.journals)} journal(s)"
               + (f", {live} in use by a running session" if mine else "")
               + (" (this machine)" if mine else ""))
    for path in found.conflicted:
        up.add(WARNING, f"{path.relative_to(directory)} is a sync tool's conflicted copy: "
               "journals and snapshots among them are read too, anything else is ignored",
               "once every machine has synced, it can be deleted")
    if found.legacy_journals or found.legacy_data or found.legacy_survey:
        up.add(WARNING, "files of the schema-1 layout are at the top of the folder (an older "
               "tuiqa still in use somewhere?); their changes are read too",
               "upgrade tuiqa on every machine")


def _restore_hint(directory: Path, folder: Path, name: str) -> str:
    good = next((b for b in backups_of(folder, name) if _parses(b) is None), None)
    return (f"`tuiqa doctor {directory} --restore` puts back the backup {good.name}; the "
            "journals replay on top of it") if good else \
        "no good backup here: restore the folder from a copy"


def _check_file(up: Checkup, directory: Path, path: Path, restorable: bool, who: str) -> None:
    name = str(path.relative_to(directory))
    problem = _parses(path)
    if problem is None:
        up.add(OK, f"{name} reads cleanly")
    elif restorable:
        up.damaged.append(name)
        up.add(PROBLEM, f"{name} {problem}", _restore_hint(directory, path.parent.parent
                                                           if path.parent.name == L.IMPORTS_DIR
                                                           else path.parent, path.name))
    else:
        up.add(WARNING, f"{name} {problem}: opening skips it ({who}'s file, perhaps still "
               "arriving; fixed when it arrives whole or that machine writes it again)")


def _check_references(directory: Path, up: Checkup) -> None:
    from .project import Project, name_key

    try:
        # as the files hold it: what concurrent changes left behind is found, not repaired
        project = Project.open(directory, readonly=True, repair=False)
        for warning in project.store.warnings:
            if "cannot be read" in warning or "damaged" in warning:
                continue  # reported above, file by file
            up.add(WARNING, warning)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        up.add(PROBLEM, f"the project does not open: {exc}")
        return
    try:
        from .repairs import FOLLOW, REVIVE, resolve_code

        codes = {c.id: c for c in project.state.table("code").values()}
        dangling = hashes = no_code = 0
        on_deleted: dict[str, int] = {}
        for c in project.state.table("coding").values():
            if c.deleted:
                continue
            r = project.responses.get(c.response_id)
            if c.code_id not in codes:
                no_code += 1
            elif codes[c.code_id].deleted:
                action, target = resolve_code(codes, c.code_id)
                what = (f"moved to {codes[target].name!r}, the code it was merged into"
                        if action == FOLLOW else f"{codes[c.code_id].name!r} brought back"
                        if action == REVIVE else "left until the code it was merged into arrives")
                on_deleted[what] = on_deleted.get(what, 0) + 1
            elif r is None:
                dangling += 1
            elif c.text_hash and c.text_hash != r.hash:
                hashes += 1
            elif not (0 <= c.start < c.end <= len(r.text)):
                dangling += 1
        if no_code:
            up.add(WARNING, f"{no_code} coding(s) point at a code that does not exist (deleted by "
                   "hand, or a copy still arriving); they are not shown",
                   "if a synced copy is still arriving, wait for it; else restore the code from a backup")
        for what, n in sorted(on_deleted.items()):
            up.add(WARNING, f"{n} coding(s) on a deleted code, made while it was merged or deleted "
                   f"elsewhere: {what} when the project is next opened")
        if dangling:
            up.add(WARNING, f"{dangling} coding(s) point to an answer that is missing or to "
                   "characters outside the answer; they are not shown")
        if hashes:
            up.add(WARNING, f"{hashes} coding(s) were made on a different text of their answer")
        names: dict[str, int] = {}
        for c in project.codes():
            names[name_key(c.name)] = names.get(name_key(c.name), 0) + 1
        twins = [n for n, k in names.items() if k > 1]
        if twins:
            up.add(WARNING, f"{len(twins)} code name(s) used by two codes at once: {', '.join(twins[:5])}",
                   "merge them in the codebook (b, then M)")
        _check_future_stamps(project, up)
        conflicts = project.conflicts()
        if conflicts:
            up.add(WARNING, f"{len(conflicts)} conflicting change(s) were resolved by time; see "
                   "`tuiqa stats` or the app's notices")
        up.add(OK, f"{len(project.responses)} answers, {len(project.codes())} codes, "
               f"{sum(1 for _ in project.all_codings())} codings")
    finally:
        project.close(compact=False)


FUTURE_LIMIT_S = 86_400  # a stamp more than a day ahead of this machine's clock is reported


def _check_future_stamps(project, up: Checkup) -> None:
    """Changes stamped far ahead of now: a machine whose clock was wrong. Nothing is lost (the
    clock moves past them, and an edit made after seeing a value always wins over it), but what
    such a machine did looks later than it was."""
    from .store.stamps import parse, stamp_local

    limit_ms = int((time.time() + FUTURE_LIMIT_S) * 1000)
    ahead: set[str] = set()
    for table in project.state.entities.values():
        for obj in table.values():
            stamps = [obj._s, *(hist[0] for hist in (obj._fh or {}).values() if hist)]
            ahead.update(s for s in stamps if s and parse(s)[0] > limit_ms)
    if ahead:
        latest = max(ahead)
        up.add(WARNING, f"{len(ahead)} change(s) are stamped more than a day in the future (the "
               f"latest {stamp_local(latest)}): a machine's clock was wrong when they were made",
               "set that machine's clock right; nothing is lost, and later edits still win")


def _check_permissions(directory: Path, up: Checkup) -> None:
    open_to_others = [p for p in [directory, *directory.rglob("*")]
                      if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o007]
    if open_to_others:
        up.add(WARNING, f"{len(open_to_others)} file(s) can be read by anyone on this machine "
               f"(e.g. {open_to_others[0].relative_to(directory) if open_to_others[0] != directory else '.'})",
               f"chmod -R o-rwx {directory}")


def restore(directory: Path) -> list[str]:
    """Put back the newest good backup of each of this machine's damaged files; set damaged
    journal lines aside. Other machines' files are theirs: never touched."""
    directory = Path(directory)
    up = check(directory)
    if not up.damaged:
        return ["Nothing to restore: this machine's files read cleanly."]
    done: list[str] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = directory / L.MACHINES_DIR / _own_machine()
    aside = folder / L.BACKUP_DIR
    aside.mkdir(mode=0o700, parents=True, exist_ok=True)
    with file_lock(folder / L.LOCK_FILE, timeout_s=10):
        for name in up.damaged:
            path = directory / name
            if path.parent.name == L.JOURNAL_DIR:
                done.append(_repair_journal(path, aside, stamp))
                continue
            good = next((b for b in backups_of(folder, path.name) if _parses(b) is None), None)
            if good is None:
                done.append(f"{name}: no good backup found; left as it is")
                continue
            if path.exists():
                shutil.move(str(path), aside / f"damaged-{path.name}-{stamp}")
            shutil.copy2(good, path)
            os.chmod(path, stat.S_IMODE(good.stat().st_mode))
            done.append(f"{name}: restored from {good.name} (the damaged file is in "
                        f"{aside.relative_to(directory)}/)")
            if path.name == L.SNAPSHOT_FILE:
                done.extend(_replay_archive(folder, path))
    _drop_cache(directory)
    return done


def _drop_cache(directory: Path) -> None:
    """The cache is derived from the old files: rebuilt on the next open."""
    from .store.cache import remove_cache
    from .store.store import ProjectStore
    from .store.state import State

    store = ProjectStore(directory, State(), _own_machine())
    try:
        store.meta = orjson.loads((directory / META_FILE).read_bytes())
        remove_cache(store)
    except (OSError, orjson.JSONDecodeError):
        pass


def _repair_journal(path: Path, aside: Path, stamp: str) -> str:
    data = path.read_bytes()
    kept: list[bytes] = []
    dropped: list[bytes] = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            orjson.loads(line)
            kept.append(line)
        except orjson.JSONDecodeError:
            dropped.append(line)
    atomic_write(aside / f"damaged-{path.name}-{stamp}", data)
    atomic_write(path, b"\n".join(kept) + b"\n")
    return (f"{L.JOURNAL_DIR}/{path.name}: set aside {len(dropped)} damaged line(s) (a copy of the "
            f"whole file is in {aside.name}/), kept {len(kept)}")


def _replay_archive(folder: Path, restored: Path) -> list[str]:
    """This machine's journals folded after the restored backup go back into its journal/ to
    be replayed."""
    from .store.snapshot import read_head

    archive = folder / L.BACKUP_DIR / L.ARCHIVE_DIR
    if not archive.is_dir():
        return []
    folded = read_head(restored).vv
    back = []
    for path in sorted(archive.iterdir()):
        if path.stat().st_size > folded.get(f"{folder.name}/{path.name}", 0):
            target = folder / L.JOURNAL_DIR / path.name
            if not target.exists():
                shutil.copy2(path, target)
                back.append(path.name)
    return [f"journal: {len(back)} journal(s) folded after that backup put back to replay"] if back else []
