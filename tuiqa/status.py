"""``tuiqa status DIR``: what has arrived in a synced project folder, from whom, and when.

For a Dropbox, OneDrive or Syncthing user (or anyone) to see that a colleague's work is in:
every machine whose files are in the folder, who codes on it, its sessions (still arriving or
not), when it last folded and last changed something, and whatever a sync tool left behind.
Reading only: nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .store import journal as jn
from .store import layout as L
from .store.snapshot import SnapshotDamaged, covers, read_head
from .store.stamps import stamp_local
from .text import one_line


@dataclass
class MachineStatus:
    id: str
    mine: bool
    host: str = ""
    user: str = ""
    coders: list[str] = field(default_factory=list)
    journals: int = 0
    arriving: list[str] = field(default_factory=list)  # journals ending mid-line
    damaged: list[str] = field(default_factory=list)
    folded: str = ""  # stamp the snapshot was written
    last_change: str = ""  # latest stamp seen in its files
    imports: int = 0
    covered_by: str = ""  # another machine whose snapshot holds all this one's
    conflicted: list[str] = field(default_factory=list)


@dataclass
class Status:
    directory: Path
    machines: list[MachineStatus]
    conflicted: list[str]
    legacy: bool

    def lines(self) -> list[str]:
        out = [f"Project {self.directory}: {len(self.machines)} machine(s)"]
        for m in self.machines:
            who = ", ".join(one_line(c) for c in m.coders) or "no coder yet"
            where = " on ".join(x for x in (one_line(m.user), one_line(m.host)) if x)
            head = f"{'* ' if m.mine else '  '}{m.id}" + (" (this machine)" if m.mine else "")
            out.append(f"{head}: {who}" + (f" ({where})" if where else ""))
            facts = [f"{m.journals} session(s) not yet folded" if m.journals else "all sessions folded"]
            if m.folded:
                facts.append(f"snapshot of {stamp_local(m.folded)}")
            if m.last_change:
                facts.append(f"last change {stamp_local(m.last_change)}")
            if m.imports:
                facts.append(f"{m.imports} survey import(s)")
            out.append("      " + "; ".join(facts))
            for name in m.arriving:
                out.append(f"      partial: {name} ends mid-line (still arriving, or a crash); "
                           "its complete lines are in")
            for name in m.damaged:
                out.append(f"      damaged: {name} cannot be read; opening skips it")
            if m.covered_by:
                out.append(f"      everything in its snapshot is also in {m.covered_by}'s")
        if self.conflicted:
            out.append(f"Conflicted copies left by a sync tool ({len(self.conflicted)}); journals and "
                       "snapshots among them are read, the rest ignored:")
            out.extend(f"  {one_line(name)}" for name in self.conflicted)
        if self.legacy:
            out.append("Files of the schema-1 layout are at the top of the folder: an older tuiqa "
                       "is still in use somewhere; their changes are read too.")
        return out


def _last_stamp(path: Path) -> str:
    """The stamp of a journal's last complete transaction (read from its end)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 65536))
            tail = fh.read()
    except OSError:
        return ""
    for line in reversed(tail.split(b"\n")[:-1]):
        try:
            txn = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(txn, dict):
            stamp = txn.get("t") or txn.get("started") or ""
            if isinstance(stamp, str):
                return stamp
    return ""


def status(directory: Path) -> Status:
    from .store.machine import this_machine

    directory = Path(directory)
    me = this_machine().id
    found = L.scan(directory, me)
    machines: list[MachineStatus] = []
    heads = {}
    for mid, files in sorted(found.machines.items(), key=lambda kv: (kv[0] != me, kv[0])):
        m = MachineStatus(mid, mid == me, imports=len(files.imports))
        try:
            about = orjson.loads((files.dir / L.ABOUT_FILE).read_bytes())
            m.host, m.user = str(about.get("host", "")), str(about.get("user", ""))
            m.coders = [str(c) for c in about.get("coders") or []]
        except (OSError, orjson.JSONDecodeError, AttributeError):
            pass
        latest = ""
        for path in files.journals:
            m.journals += 1
            try:
                result = jn.read_from(path, 0, tolerant=True)
            except OSError:
                continue
            if result.damage is not None:
                m.damaged.append(str(path.relative_to(directory)))
            elif jn.tail_is_torn(path, result.offset):
                m.arriving.append(str(path.relative_to(directory)))
            latest = max(latest, _last_stamp(path))
        for path in files.snapshots:
            try:
                head = read_head(path)
            except (OSError, SnapshotDamaged):
                m.damaged.append(str(path.relative_to(directory)))
                continue
            if path.name == L.SNAPSHOT_FILE:
                heads[mid] = head
                m.folded = str(head.meta.get("written", ""))
                latest = max(latest, m.folded)
        m.last_change = latest
        machines.append(m)
    for m in machines:
        mine = heads.get(m.id)
        if mine is None or not mine.vv:
            continue
        for other, head in heads.items():
            if other != m.id and head.vv != mine.vv and covers(head.vv, mine.vv):
                m.covered_by = other
                break
    conflicted = [str(p.relative_to(directory)) for p in found.conflicted]
    legacy = bool(found.legacy_journals or found.legacy_data or found.legacy_survey)
    return Status(directory, machines, conflicted, legacy)
