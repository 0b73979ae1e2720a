"""``tuiqa doctor DIR``: check a project's files, and restore a damaged one from a backup.

Checking only reads. Restoring never deletes anything: the damaged file is moved to
``backups/damaged-…`` first, then the newest backup that parses is copied into place; the journals
stay and replay on top of it at the next open, so changes made after that backup are kept too.
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
from .store.files import atomic_write, file_lock
from .store.store import (
    BACKUP_DIR,
    DATA_FILE,
    FORMAT,
    JOURNAL_DIR,
    LOCK_FILE,
    META_FILE,
    SCHEMA_VERSION,
    SURVEY_FILE,
    is_project,
)
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


def backups_of(directory: Path, name: str) -> list[Path]:
    folder = directory / BACKUP_DIR
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.startswith(name + ".")), reverse=True)


def _parses(path: Path) -> str | None:
    """None if ``path`` is a readable TinyDB file, else what is wrong."""
    try:
        decode_file(path)
    except FileNotFoundError:
        return "is missing"
    except FileDamaged as exc:
        return exc.detail
    return None


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
    try:
        meta = orjson.loads((directory / META_FILE).read_bytes())
        version = meta.get("schema_version")
        if meta.get("format") != FORMAT or not isinstance(version, int):
            raise ValueError("not a tuiqa project file")
        if version > SCHEMA_VERSION:
            up.add(PROBLEM, f"written by a newer tuiqa (schema {version})", "upgrade tuiqa")
        else:
            up.add(OK, f"{META_FILE}: schema {version}")
    except (orjson.JSONDecodeError, ValueError, AttributeError) as exc:
        up.add(PROBLEM, f"{META_FILE} is damaged ({exc})", "restore it from a copy of the project")
    for name in (SURVEY_FILE, DATA_FILE):
        problem = _parses(directory / name)
        if problem is None:
            up.add(OK, f"{name} reads cleanly")
            continue
        up.damaged.append(name)
        good = next((b for b in backups_of(directory, name) if _parses(b) is None), None)
        fix = (f"`tuiqa doctor {directory} --restore` puts back the backup {good.name}; the journals "
               "replay on top of it") if good else "no good backup: restore the folder from a copy"
        up.add(PROBLEM, f"{name} {problem}", fix)
    _check_journals(directory, up)
    if not up.damaged:
        _check_references(directory, up)
    _check_permissions(directory, up)
    return up


def _check_journals(directory: Path, up: Checkup) -> None:
    folder = directory / JOURNAL_DIR
    files = sorted(folder.glob("*" + jn.JOURNAL_SUFFIX)) if folder.is_dir() else []
    live = 0
    for path in files:
        if jn.is_live(path):
            live += 1
        try:
            result = jn.read_from(path, 0)
        except jn.JournalDamaged as exc:
            up.damaged.append(f"{JOURNAL_DIR}/{path.name}")
            up.add(PROBLEM, f"{JOURNAL_DIR}/{path.name}: line {exc.line_no} is damaged ({exc.detail})",
                   f"`tuiqa doctor {directory} --restore` sets the damaged lines aside and keeps the rest")
            continue
        if jn.tail_is_torn(path, result.offset):
            up.add(WARNING, f"{JOURNAL_DIR}/{path.name} ends with an unfinished write (a crash); it was "
                   "never acknowledged and is ignored")
    up.add(OK, f"{len(files)} journal file(s), {live} of them in use by a running session")


def _check_references(directory: Path, up: Checkup) -> None:
    from .project import Project, name_key

    try:
        # as the files hold it: what concurrent changes left behind is found, not repaired
        project = Project.open(directory, readonly=True, repair=False)
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
    """Put back the newest good backup of each damaged file; set damaged journal lines aside."""
    directory = Path(directory)
    up = check(directory)
    if not up.damaged:
        return ["Nothing to restore: the project files read cleanly."]
    done: list[str] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = directory / BACKUP_DIR
    aside.mkdir(mode=0o700, exist_ok=True)
    with file_lock(directory / LOCK_FILE, timeout_s=10):
        for name in up.damaged:
            path = directory / name
            if name.startswith(JOURNAL_DIR + "/"):
                done.append(_repair_journal(path, aside, stamp))
                continue
            good = next((b for b in backups_of(directory, name) if _parses(b) is None), None)
            if good is None:
                done.append(f"{name}: no good backup found; left as it is")
                continue
            if path.exists():
                shutil.move(str(path), aside / f"damaged-{name}-{stamp}")
            shutil.copy2(good, path)
            os.chmod(path, stat.S_IMODE(good.stat().st_mode))
            done.append(f"{name}: restored from {good.name} (the damaged file is in {BACKUP_DIR}/)")
            if name == DATA_FILE:
                done.extend(_replay_archive(directory, path))
        cache = directory / ".cache"
        if cache.is_dir():
            shutil.rmtree(cache)  # derived from the old files; rebuilt on the next open
    return done


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
    return (f"journal/{path.name}: set aside {len(dropped)} damaged line(s) (a copy of the whole "
            f"file is in backups/), kept {len(kept)}")


def _replay_archive(directory: Path, restored: Path) -> list[str]:
    """Journals folded after the restored backup go back into journal/ to be replayed."""
    from .store.store import ARCHIVE_DIR, JOURNALS_TABLE
    from .store.tinyjson import table_docs

    archive = directory / BACKUP_DIR / ARCHIVE_DIR
    if not archive.is_dir():
        return []
    folded = {d["file"]: int(d["offset"]) for d in table_docs(decode_file(restored), JOURNALS_TABLE)}
    back = []
    for path in sorted(archive.iterdir()):
        if path.stat().st_size > folded.get(path.name, 0):
            target = directory / JOURNAL_DIR / path.name
            if not target.exists():
                shutil.copy2(path, target)
                back.append(path.name)
    return [f"journal: {len(back)} journal(s) folded after that backup put back to replay"] if back else []
