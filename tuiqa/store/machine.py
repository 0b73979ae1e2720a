"""Which machine this is: the identity under which a machine writes its own files in a project.

A project folder can travel between machines (Dropbox, OneDrive, Syncthing, git): every file that
tuiqa changes after creating the project belongs to exactly one machine, under
``machines/<machine id>/``, so no path is ever written by two machines and a sync tool never has a
conflict to resolve. A *machine* is one user on one host: two people on one server (two Unix
users) are two machines; one person's laptop and the university server are two machines.

The identity is kept outside every project, in the user's data folder
(``platformdirs.user_data_dir("tuiqa")/machine.json``, owner-only), keyed by the host (its name and
``/etc/machine-id``) and the user id, so a home folder copied to another computer, or shared over
NFS by two servers, gives each host its own identity. Where that folder cannot be written (a user
without a home), the identity is derived from the same host key instead, which is just as stable.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import secrets
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from .files import atomic_write, file_lock

MACHINE_FILE = "machine.json"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Machine:
    id: str
    host: str
    user: str


def valid_machine_id(ident: str) -> bool:
    """Machine ids name folders on every operating system and in git: lower-case letters,
    digits and dashes."""
    return bool(_ID.match(ident))


def slug(text: str, limit: int = 20) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return cleaned[:limit].strip("-") or "x"


def _host_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return ""


def host_key() -> str:
    """This host and user: what an identity is kept for."""
    return f"{socket.gethostname()}/{_host_id()}/{os.getuid()}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid{os.getuid()}"


def _data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("tuiqa", appauthor=False)


def this_machine() -> Machine:
    """This machine's identity, made on first use."""
    host, user, key = socket.gethostname(), _user(), host_key()
    folder = _data_dir()
    path = folder / MACHINE_FILE
    known = _read(path).get(key)
    if isinstance(known, dict) and valid_machine_id(str(known.get("id", ""))):
        return Machine(str(known["id"]), host, user)
    fresh = f"{slug(user)}-{slug(host)}-{secrets.token_hex(3)}"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(folder / ".machine.lock", timeout_s=10.0):
            entries = _read(path)  # again, under the lock: another process may have made it
            known = entries.get(key)
            if isinstance(known, dict) and valid_machine_id(str(known.get("id", ""))):
                return Machine(str(known["id"]), host, user)
            entries[key] = {"id": fresh, "host": host, "user": user,
                            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            atomic_write(path, orjson.dumps({"hosts": entries}, option=orjson.OPT_INDENT_2),
                         mode=0o600)
        return Machine(fresh, host, user)
    except OSError:
        # No writable data folder (a user without a home): the same host key, derived.
        digest = hashlib.sha256(key.encode()).hexdigest()[:6]
        return Machine(f"{slug(user)}-{slug(host)}-{digest}", host, user)


def _read(path: Path) -> dict:
    """The identities in ``path``, if it is this user's own file (never another user's)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid() or not stat.S_ISREG(info.st_mode):
            return {}
        data = orjson.loads(os.read(fd, 1 << 20))
    except (OSError, orjson.JSONDecodeError):
        return {}
    finally:
        os.close(fd)
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return dict(hosts) if isinstance(hosts, dict) else {}
