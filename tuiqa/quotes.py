"""Attributed quotes for writing up: ``"…extract…" (P7: Community support worker, 2 years)``.

The attribution follows a template the user sets per project:

* ``{participant}`` is the participant's ID; ``{Role}`` (any attribute, matched ignoring case) its
  value for that participant;
* a field can be transformed: ``{Setting|lower}``, ``{Role|title}``, ``|upper``, ``|capitalize``;
* a ``[...]`` group vanishes when all its fields are empty; when some are, the empty ones leave no
  double spaces behind: ``({participant}[: {Setting} {Role}][, {Length of experience} experience])``
  gives ``(P7: Community support worker, 2 years experience)``, ``(P7: support worker)`` …;
* ``{{``, ``}}``, ``[[``, ``]]`` write a literal brace or bracket.

The default template uses the participant and every attribute, in column order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

TRANSFORMS = {
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "capitalize": lambda s: s[:1].upper() + s[1:],
    "strip": str.strip,
}


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class _Literal:
    text: str


@dataclass(frozen=True)
class _Field:
    name: str
    transforms: tuple[str, ...]


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
    """Parse and check a template; unknown fields and transforms are errors naming them."""
    return _parse(template, tuple(attributes))


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
            name, *transforms = [part.strip() for part in inner.split("|")]
            name = name.replace("¦", "|")
            key = name.casefold()
            if key not in known:
                raise TemplateError(f"unknown field {{{name}}}: use {{participant}} or one of "
                                    + ", ".join("{" + a + "}" for a in attributes))
            for t in transforms:
                if t not in TRANSFORMS:
                    raise TemplateError(f"unknown transform |{t}: use " + ", ".join("|" + k for k in TRANSFORMS))
            flush()
            stack[-1].append(_Field(known[key], tuple(transforms)))
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


def _value(field: _Field, pid: str, attrs: dict[str, str]) -> str:
    value = pid if field.name == "participant" else (attrs.get(field.name) or "")
    value = " ".join(value.split())
    for t in field.transforms:
        value = TRANSFORMS[t](value)
    return value


def _render(parts: tuple, pid: str, attrs: dict[str, str]) -> tuple[str, bool]:
    """(text, whether any field in it had a value)."""
    out: list[str] = []
    any_value = False
    has_fields = False
    for part in parts:
        if isinstance(part, _Literal):
            out.append(part.text)
        elif isinstance(part, _Field):
            has_fields = True
            value = _value(part, pid, attrs)
            any_value = any_value or bool(value)
            out.append(value)
        else:
            text, filled = _render(part.parts, pid, attrs)
            if filled:
                out.append(_tidy(text))
                any_value = True
    return "".join(out), any_value or not has_fields


_SPACES = re.compile(r"[ \t]{2,}")


def _tidy(text: str) -> str:
    """Inside a group whose fields were partly empty: no doubled or dangling spaces."""
    text = _SPACES.sub(" ", text)
    return re.sub(r" ([,;:.)])", r"\1", text).rstrip(" ") if text.strip() else text


def attribution(template: str, attributes: list[str], pid: str, attrs: dict[str, str]) -> str:
    parts = parse(template, attributes)
    text, _ = _render(parts, pid, attrs)
    return text


def quote(extract: str, attribution_text: str) -> str:
    """One quote on one line: line breaks inside the extract become spaces. The extract is kept
    verbatim; when it holds double quotes itself, the outer quotes are typographic (“…”) so the
    two cannot be confused."""
    flat = " ".join(extract.split())
    left, right = ("“", "”") if '"' in flat or flat[:1] in "“”" else ('"', '"')
    return f"{left}{flat}{right} {attribution_text}".rstrip()
