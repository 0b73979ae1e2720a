"""The user's own keys: ``keymap.toml`` in the user's config folder, applied by binding id.

Every binding in tuiqa has an id (``coding.next``, ``codebook.search``, ``app.quit`` …; the help
screen lists them with ``?``). The file gives an id new keys, e.g.::

    # ~/.config/tuiqa/keymap.toml
    [coding]
    next = "space"               # Space goes on to the next answer (n and PgDn no longer do)
    codebook = ["B", "f5"]       # several keys: a list, or "B,f5"
    "app.journal" = "f2"         # or the whole id, quoted

A file that cannot be read or parsed is reported with its line, and the default keys are used;
an unknown id or something that is not a key is reported by name, and the rest of the file is
used. The app opens either way. TOML is read with the standard library's ``tomllib`` (Python
3.11 and later) or, on 3.10, ``tomli``, the same parser published separately.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

FILE_NAME = "keymap.toml"
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


def keymap_path() -> Path:
    """Where the user's keymap lives (``~/.config/tuiqa/keymap.toml`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("tuiqa")) / FILE_NAME


@dataclass
class Keymap:
    """What a keymap file asks for: binding id -> keys (comma-separated, as Textual takes
    them), and what was wrong with it, in words for the user."""

    path: Path
    keys: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_keymap(path: Path) -> Keymap:
    """Read and parse ``path`` (a missing file is an empty keymap). Only the file's own form is
    checked here; :func:`check_keymap` checks the ids against the app's bindings."""
    keymap = Keymap(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return keymap
    except OSError as exc:
        keymap.problems.append(f"{path}: cannot be read ({exc.strerror or exc}); the default keys are used")
        return keymap
    if sys.version_info >= (3, 11):  # (imported only for someone with a keymap)
        import tomllib
    else:  # pragma: no cover - the same parser, packaged separately for 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        keymap.problems.append(f"{path}: not UTF-8 text (byte {exc.start}); the default keys are used")
        return keymap
    except tomllib.TOMLDecodeError as exc:
        keymap.problems.append(f"{path}: {_toml_reason(exc)}; the default keys are used")
        return keymap
    for binding_id, value in _flatten(data):
        keys = _keys_of(value)
        if keys is None:
            keymap.problems.append(f"{path}: {binding_id} = {value!r} is not a key (write keys as "
                                   'text, e.g. "ctrl+n", or several as a list, ["n", "space"])')
            continue
        bad = [k for k in keys.split(",") if not is_key(k)]
        if bad:
            keymap.problems.append(f"{path}: {binding_id}: {', '.join(map(repr, bad))} "
                                   "is not a key Textual knows (e.g. \"x\", \"X\", \"ctrl+x\", "
                                   "\"f5\", \"space\", \"pagedown\")")
            continue
        keymap.keys[binding_id] = keys
    return keymap


def check_keymap(keymap: Keymap, bindings: Mapping[str, Iterable[Any]]) -> None:
    """Report ids the app does not have (with the closest ones) and keys that now clash within
    a screen. ``bindings``: each screen's (group name's) bindings."""
    known = {b.id for group in bindings.values() for b in group if b.id}
    for binding_id in list(keymap.keys):
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, sorted(known), n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(close)}?)" if close else \
                " (? in the app lists every key; the README names the ids)"
            keymap.problems.append(f"{keymap.path}: there is no binding {binding_id}{hint}")
            del keymap.keys[binding_id]
    for group, group_bindings in bindings.items():
        by_key: dict[str, list[str]] = {}
        for b in group_bindings:
            if not b.id:
                continue
            for key in keymap.keys.get(b.id, b.key).split(","):
                by_key.setdefault(key.strip(), []).append(b.id)
        for key, ids in by_key.items():
            if len(ids) > 1 and any(i in keymap.keys for i in ids):
                keymap.problems.append(f"{keymap.path}: in {group}, {key} is now both "
                                       f"{' and '.join(ids)}; the first of them wins")


def is_key(key: str) -> bool:
    from textual.keys import Keys, key_to_character

    parts = key.strip().split("+")
    base = parts[-1]
    if not base or any(p not in MODIFIERS for p in parts[:-1]):
        return False
    return len(base) == 1 or base in {k.value for k in Keys} or key_to_character(base) is not None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """``[coding] next = "x"`` and ``"coding.next" = "x"`` both give ``coding.next``."""
    for name, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def _keys_of(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return ",".join(k.strip() for k in value.split(",") if k.strip())
    if isinstance(value, list) and value and all(isinstance(k, str) and k.strip() for k in value):
        return ",".join(k.strip() for k in value)
    return None


def _toml_reason(exc: Exception) -> str:
    """tomllib says e.g. "Invalid value (at line 3, column 12)": lead with where."""
    text = str(exc)
    if "(at line" in text:
        reason, _, where = text.rpartition(" (at ")
        return f"{where.rstrip(')')}: {reason[:1].lower()}{reason[1:]}"
    return text
