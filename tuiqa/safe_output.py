"""What the command line prints reaches a terminal as text, never as a command to the terminal.

User-supplied text (answers, column headers, participant IDs, attribute values, coder names, file
names) can hold escape sequences: ``ESC ]0;… BEL`` sets the terminal's title, ``ESC ]52;… BEL``
writes its clipboard, ``ESC [2J`` clears the screen, and the 8-bit C1 controls do the same on some
terminals. Rather than every print of every command (and of every command still to come) making
its text safe, :func:`safe_output` puts writers in front of ``sys.stdout`` and ``sys.stderr``
while a command runs, which make each character safe on its way out:

* **text** (tables, lists, Markdown, messages, warnings, errors, argparse's own): control
  characters are shown as the app shows them (``␛``, ``␇``, ``␍`` …; see
  :func:`tuiqa.text.display_text`); newline and tab are kept;
* **JSON** (``--format json``): the JSON stays exact. ``json.dumps`` already escapes C0 controls;
  the others it leaves raw (DEL, C1, the line and paragraph separators) are written as ``\\uXXXX``
  escapes, which every JSON reader reads back as the very same characters;
* **CSV** (``--format csv``): the exact cells when written to a file or a pipe (it is data),
  visible symbols when written to a terminal.

The one control character tuiqa writes on purpose, the progress line's carriage return, is
written to the stream underneath (:func:`raw`).
"""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

from .text import CONTROLS, display_text

#: Formats whose output is exact data rather than text to read.
JSON_FORMATS = {"json"}
DATA_FORMATS = {"csv", "tsv"}

_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def json_escape(text: str) -> str:
    """JSON text with each control character written as its ``\\uXXXX`` escape. Only valid for
    the output of ``json.dumps``, which puts such characters nowhere but inside strings."""
    return CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def styles_only(text: str) -> str:
    """Text with colour and style sequences (SGR: ``ESC [ … m``, all that Rich writes) kept and
    every other control character shown visibly: for Rich output such as a traceback."""
    out, pos = [], 0
    for m in _SGR.finditer(text):
        out.append(display_text(text[pos:m.start()]))
        out.append(m.group())
        pos = m.end()
    out.append(display_text(text[pos:]))
    return "".join(out)


class SafeStream:
    """A text stream that passes everything written through ``translate`` on to ``stream``."""

    def __init__(self, stream: TextIO, translate: Callable[[str], str]) -> None:
        self.raw = stream
        self.translate = translate

    def write(self, text: str) -> int:
        self.raw.write(self.translate(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def __getattr__(self, name: str):  # fileno, encoding, errors, buffer …
        return getattr(self.raw, name)


def raw(stream: TextIO) -> TextIO:
    """The stream underneath a safe one (for tuiqa's own control characters)."""
    return stream.raw if isinstance(stream, SafeStream) else stream


def _exact(text: str) -> str:
    return text


class Output:
    """The safe streams of one command; :meth:`for_format` sets how stdout treats its data."""

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self.stdout = SafeStream(stdout, display_text)
        self.stderr = SafeStream(stderr, display_text)

    def for_format(self, fmt: str | None) -> None:
        if fmt in JSON_FORMATS:
            self.stdout.translate = json_escape
        elif fmt in DATA_FORMATS and not _isatty(self.stdout.raw):
            self.stdout.translate = _exact
        else:
            self.stdout.translate = display_text


@contextmanager
def safe_output() -> Iterator[Output]:
    """Safe ``sys.stdout`` and ``sys.stderr`` for the duration; the originals back afterwards."""
    saved = sys.stdout, sys.stderr
    output = Output(raw(sys.stdout), raw(sys.stderr))
    sys.stdout, sys.stderr = output.stdout, output.stderr
    try:
        yield output
    finally:
        sys.stdout, sys.stderr = saved


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False
