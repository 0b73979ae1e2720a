r"""Attributed quotes for writing up: ``"…extract…" (P7: Community support worker, 2 years)``.

The attribution follows a template, a project setting (``tuiqa settings DIR quote-template``):

* ``{participant}`` is the participant's ID; ``{Role}`` (any attribute, matched ignoring case) its
  value for that participant;
* filters change a value, left to right: ``{Setting|lower}``, ``|upper``, ``|title``,
  ``|capitalize``, ``|strip``, and ``{Role|map:Senior support worker=Senior ;Support worker=}``,
  which replaces the values listed (matched ignoring case and repeated spaces; ``TO`` is kept as
  written, spaces too, and may be empty) and passes any other value unchanged (``\;``, ``\=``,
  ``\|`` and ``\\`` write those characters in a map);
* an optional section ``[...]`` is left out when an attribute inside it is blank *in the data*
  (before any filter, so a map to "" does not drop it); sections nest. In a run of sections written
  one after another, the first one shown opens the way the first one written does, so
  ``({participant}[: {Role}][, {Setting}])`` gives ``(P1: Community)`` when the role is blank;
* ``{{``, ``}}``, ``[[``, ``]]`` write a literal brace or bracket.

The paper style ``({participant}[: {Role|map:Senior support worker=Senior ;Support worker=}{Setting|lower} SW][, {Experience}' experience])``
gives ``(P21: Senior community SW, 3.5 years' experience)``, and ``(P2)`` for a participant with no
attributes. The default template uses the participant and every attribute, in column order.

Quotation marks follow APA style: the extract goes in double marks, and double marks inside it
become single ones (curly or straight, as they were), so a quote never opens with two double marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

CASE_FILTERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "capitalize": lambda s: s[:1].upper() + s[1:],
    "strip": str.strip,
}
FILTERS = (*CASE_FILTERS, "map")
TRANSFORMS = CASE_FILTERS  # the name earlier versions used


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str
    filters: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (name, map pairs)


@dataclass(frozen=True)
class _Group:
    parts: tuple


def default_template(attributes: list[str]) -> str:
    groups = "".join(f"[, {{{_escape_name(a)}}}]" for a in attributes)
    if groups:
        groups = "[: " + groups[3:]  # the first group opens with ": " instead of ", "
    return "({participant}" + groups + ")"


def _escape_name(name: str) -> str:
    return name.replace("{", "{{").replace("}", "}}").replace("[", "[[").replace("]", "]]").replace("|", "¦")


def parse(template: str, attributes: list[str]) -> tuple:
    """Parse and check a template; unknown fields and filters are errors naming them."""
    return _parse(template, tuple(attributes))


def _split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` not preceded by a backslash (escapes are kept, for :func:`_unescape`)."""
    parts, buf, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            buf.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _match_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def _filter(spec: str, attributes: tuple[str, ...]):
    name, colon, arg = spec.partition(":")
    name = name.strip()
    if name not in FILTERS:
        raise TemplateError(f"unknown filter |{name}: use " + ", ".join("|" + k for k in CASE_FILTERS)
                            + " or |map:FROM=TO;FROM=TO")
    if name != "map":
        if colon:
            raise TemplateError(f"the filter |{name} takes nothing after it (|{name}:{arg})")
        return (name, ())
    pairs = []
    for item in _split(arg, ";"):
        if not item.strip():
            continue
        before, *after = _split(item, "=")
        if not after:
            raise TemplateError(f"|map:{arg} needs map:FROM=TO pairs separated by ';' "
                                f"(\"{item.strip()}\" has no '=')")
        pairs.append((_match_key(_unescape(before)), _unescape("=".join(after))))
    if not pairs:
        raise TemplateError("an empty |map: give map:FROM=TO pairs separated by ';'")
    return ("map", tuple(pairs))


@lru_cache(maxsize=64)
def _parse(template: str, attributes: tuple[str, ...]) -> tuple:
    known = {a.casefold(): a for a in attributes}
    known["participant"] = "participant"
    pos = 0
    stack: list[list] = [[]]
    buf: list[str] = []

    def flush() -> None:
        if buf:
            stack[-1].append(_Literal("".join(buf)))
            buf.clear()

    n = len(template)
    while pos < n:
        ch = template[pos]
        pair = template[pos:pos + 2]
        if pair in ("{{", "}}", "[[", "]]"):
            buf.append(ch)
            pos += 2
            continue
        if ch == "{":
            end = template.find("}", pos + 1)
            while end != -1 and template[end:end + 2] == "}}":
                end = template.find("}", end + 2)
            if end == -1:
                raise TemplateError(f"a '{{' at character {pos + 1} is never closed")
            inner = template[pos + 1:end].replace("{{", "{").replace("}}", "}") \
                .replace("[[", "[").replace("]]", "]")  # as _escape_name wrote them
            name, *specs = _split(inner, "|")
            name = name.strip().replace("¦", "|")
            key = name.casefold()
            if key not in known:
                raise TemplateError(f"unknown field {{{name}}}: use {{participant}} or one of "
                                    + ", ".join("{" + a + "}" for a in attributes))
            flush()
            stack[-1].append(_Field(known[key], tuple(_filter(f, attributes) for f in specs)))
            pos = end + 1
            continue
        if ch == "}":
            raise TemplateError(f"a '}}' at character {pos + 1} has no opening '{{' (write '}}}}' for a literal one)")
        if ch == "[":
            flush()
            stack.append([])
            pos += 1
            continue
        if ch == "]":
            if len(stack) == 1:
                raise TemplateError(f"a ']' at character {pos + 1} has no opening '['")
            flush()
            group = _Group(tuple(stack.pop()))
            stack[-1].append(group)
            pos += 1
            continue
        buf.append(ch)
        pos += 1
    if len(stack) != 1:
        raise TemplateError("a '[' is never closed")
    flush()
    return tuple(stack[0])


def _raw(field: _Field, pid: str, attrs: dict[str, str]) -> str:
    value = pid if field.name == "participant" else (attrs.get(field.name) or "")
    return " ".join(value.split())


def _apply(field: _Field, value: str) -> str:
    for name, pairs in field.filters:
        if name == "map":
            key = _match_key(value)
            for before, after in pairs:
                if before == key:
                    value = after
                    break
        else:
            value = CASE_FILTERS[name](value)
    return value


_PUNCTUATION_ONLY = re.compile(r"[^\w]*\Z")


def _lead(group: _Group) -> str | None:
    """A group's opening separator (``": "``, ``", "``): its leading literal, if that holds no
    letters or digits."""
    first = group.parts[0] if group.parts else None
    if isinstance(first, _Literal) and _PUNCTUATION_ONLY.match(first.text):
        return first.text
    return None


def _render(parts: tuple, pid: str, attrs: dict[str, str]) -> str:
    out: list[str] = []
    run_open: str | None = None  # the opening of the first group of the current run
    in_run = shown = False
    for part in parts:
        if isinstance(part, _Group):
            if not in_run:
                run_open, in_run, shown = _lead(part), True, False
            text = _group(part, pid, attrs)
            if text is None:
                continue
            lead = _lead(part)
            if not shown and run_open is not None and lead is not None and lead != run_open:
                text = run_open + text[len(lead):]
            shown = True
            out.append(text)
            continue
        in_run = False
        if isinstance(part, _Literal):
            out.append(part.text)
        else:
            out.append(_apply(part, _raw(part, pid, attrs)))
    return "".join(out)


def _group(group: _Group, pid: str, attrs: dict[str, str]) -> str | None:
    """A section's text, or None when an attribute directly inside it is blank in the data."""
    emptied = False
    for part in group.parts:
        if isinstance(part, _Field):
            raw = _raw(part, pid, attrs)
            if not raw:
                return None
            emptied = emptied or not _apply(part, raw)
    text = _render(group.parts, pid, attrs)
    return _tidy(text) if emptied else text


_SPACES = re.compile(r"[ \t]{2,}")


def _tidy(text: str) -> str:
    """A section some of whose values a filter emptied: no doubled or dangling spaces."""
    text = _SPACES.sub(" ", text)
    return re.sub(r" ([,;:.)])", r"\1", text).rstrip(" ") if text.strip() else text


def attribution(template: str, attributes: list[str], pid: str, attrs: dict[str, str]) -> str:
    return _render(parse(template, attributes), pid, attrs)


class Attributor:
    """Attributions for many quotes: the template parsed once, one rendering per participant.
    A template that no longer parses (an attribute renamed by a re-import) falls back to the
    default, as :meth:`tuiqa.session.Session.attribution` does."""

    def __init__(self, template: str, attributes: list[str]) -> None:
        try:
            self.parts = parse(template, attributes)
        except TemplateError:
            self.parts = parse(default_template(attributes), attributes)
        self._done: dict[str, str] = {}

    def __call__(self, pid: str, attrs: dict[str, str]) -> str:
        found = self._done.get(pid)
        if found is None:
            found = self._done[pid] = _render(self.parts, pid, attrs)
        return found


_DOUBLE_TO_SINGLE = str.maketrans({'"': "'", "\u201c": "\u2018", "\u201d": "\u2019",
                                    "\u201e": "\u201a", "\u00ab": "\u2039", "\u00bb": "\u203a"})
_DOUBLE = re.compile('["\u201c\u201d\u201e\u00ab\u00bb]')


def quote(extract: str, attribution_text: str) -> str:
    """One quote on one line: line breaks inside the extract become spaces. Double quotation
    marks inside it become single (APA), so the outer marks are the only double ones; they are
    curly (“…”) when the extract had double marks of its own (which become ‘…’ or '…' as they
    were curly or straight), straight otherwise."""
    flat = " ".join(extract.split())
    if _DOUBLE.search(flat):
        return f"\u201c{flat.translate(_DOUBLE_TO_SINGLE)}\u201d {attribution_text}".rstrip()
    return f'"{flat}" {attribution_text}'.rstrip()
