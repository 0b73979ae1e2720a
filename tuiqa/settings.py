"""Project settings a user sets by name: whose layer a write-up quotes, how quotes are attributed,
and the write-up's title, authors and date.

Each setting is a :class:`~tuiqa.model.Setting` entity (one per key), so setting one is a
journaled change like any other: durable at once, merged and synced with the rest of the
project. A value is checked before it is kept (an unknown coder, a template that does not parse,
are refused with the reason). An empty value removes the setting, and its default applies again.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Callable

from . import layers, quotes
from .project import ChangeError, Project, clean_name

QUOTE_TEMPLATE = "quote_template"


class SettingError(ChangeError):
    pass


@dataclass(frozen=True)
class Spec:
    name: str                                   # as typed: primary-layer
    key: str                                    # the stored Setting key: primary_layer
    help: str
    check: Callable[[Project, str], str]        # the value to keep, or SettingError/… raised
    default: Callable[[Project], str]           # what applies while it is not set


def _layer(project: Project, value: str) -> str:
    return layers.parse(project, value).spec


def _layer_default(project: Project) -> str:
    first = layers.first_coder(project)
    return first or ""


def _template(project: Project, value: str) -> str:
    quotes.parse(value, project.attributes)  # raises TemplateError with the reason
    return value


def _line(project: Project, value: str) -> str:
    return clean_name(value)


def title_default(project: Project) -> str:
    """The project's name as the user gave it: its folder's name."""
    return project.dir.name


def today() -> str:
    return _dt.date.today().isoformat()


SPECS: dict[str, Spec] = {s.name: s for s in (
    Spec("primary-layer", layers.PRIMARY_LAYER,
         "whose codings a write-up quotes and counts: a coder, or consensus+CODER (the team's "
         "resolutions, that coder's codings elsewhere); default: the first coder",
         _layer, _layer_default),
    Spec("quote-template", QUOTE_TEMPLATE,
         "how a quote is attributed, e.g. ({participant}[: {Role|lower}][, {Experience}]); "
         "default: the participant and every attribute",
         _template, lambda p: quotes.default_template(p.attributes)),
    Spec("title", "title", "the write-up's title; default: the project's name",
         _line, title_default),
    Spec("authors", "authors", "the write-up's authors, as they should appear "
         "(e.g. \"A. Smith, B. Jones\"); default: none", _line, lambda p: ""),
    Spec("date", "date", "the write-up's date (e.g. 2026-11-28 or \"November 2026\"); default: "
         "the day of the export", _line, lambda p: today()),
)}


def spec(name: str) -> Spec:
    wanted = name.strip().replace("_", "-").casefold()
    found = SPECS.get(wanted)
    if found is None:
        raise SettingError(f"no setting {name!r}; settings: {', '.join(SPECS)}")
    return found


def get(project: Project, name: str) -> str | None:
    """The value set, or None while the default applies."""
    value = project.setting(spec(name).key)
    return value if isinstance(value, str) and value != "" else None


def value(project: Project, name: str) -> str:
    """The value in force: the one set, else the default."""
    found = get(project, name)
    return found if found is not None else spec(name).default(project)


def listing(project: Project) -> list[dict[str, object]]:
    return [{"name": s.name, "value": value(project, s.name), "set": get(project, s.name) is not None,
             "help": s.help} for s in SPECS.values()]


def set_value(project: Project, name: str, new: str, coder: str) -> str | None:
    """Check and keep a value ("" removes the setting). Returns the value kept (None: removed)."""
    s = spec(name)
    kept: str | None = s.check(project, new) if new.strip() else None
    if kept == "":
        kept = None
    change = project.change(f"setting {s.name}")
    project.set_setting(change, s.key, kept)
    project.commit(change, coder)
    return kept
