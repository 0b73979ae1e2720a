"""Read a spreadsheet-like file (CSV, TSV, XLSX) into a header and rows of strings.

Copes with what survey platforms and spreadsheets actually write: a UTF-8 BOM, UTF-16 "Unicode
text" from Excel, Windows-1252 (with a warning), ``;`` as the separator, line breaks and
separators inside quoted cells, short rows. Refuses with a clear message, naming the file and the
row: empty files, binary files, NUL bytes, rows longer than the header, files over the size limit.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..text import normalise
from .ziplimits import zip_problem

MAX_BYTES = 100 * 1024 * 1024
#: An .xlsx may unpack to this much: XML takes about twice the room of CSV for the same cells,
#: and openpyxl reads ~5 MB of it a second. Checked from the zip's directory before reading.
MAX_XLSX_UNZIPPED = 2 * MAX_BYTES
MAX_XLSX_MEMBERS = 10_000
#: Python's csv module refuses longer fields by default; a longer answer is read, with a warning.
LONG_CELL = 131_072
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
TSV_SUFFIXES = {".tsv", ".tab"}


class TableError(Exception):
    """A file that cannot be read as a table; the message names the file and where."""


@dataclass
class Table:
    path: Path
    header: list[str]
    rows: list[list[str]]
    #: the file line (CSV) or sheet row (XLSX) where each row starts, for messages
    row_lines: list[int]
    warnings: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def where(self, index: int) -> str:
        unit = "row" if self.path.suffix.lower() in EXCEL_SUFFIXES else "line"
        return f"{self.path}, {unit} {self.row_lines[index]}"


def read_table(path: Path, *, max_bytes: int = MAX_BYTES, sheet: str | None = None) -> Table:
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TableError(f"{path}: no such file") from None
    except OSError as exc:
        raise TableError(f"{path}: cannot be read ({exc.strerror})") from None
    if path.is_dir():
        raise TableError(f"{path} is a folder, not a file")
    if size == 0:
        raise TableError(f"{path} is empty")
    if size > max_bytes:
        raise TableError(f"{path} is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                         "for a survey export; split it, or check this is the right file")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return _read_xlsx(path, sheet)
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(path, sheet)
    text, encoding, warnings = decode_bytes(path, data)
    delimiter = "\t" if path.suffix.lower() in TSV_SUFFIXES else sniff_delimiter(text)
    table = parse_delimited(path, text, delimiter)
    table.warnings[:0] = warnings
    table.encoding = encoding
    return table


def decode_bytes(path: Path, data: bytes) -> tuple[str, str, list[str]]:
    """Bytes to text: BOMs first, then UTF-8, then Windows-1252 with a warning."""
    warnings: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig", warnings
        except UnicodeDecodeError:
            return _decode_mixed(path, data[3:])
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(path, data, "utf-16"), "utf-16", warnings
    if b"\x00" in data[:8192]:
        raise TableError(f"{path} looks like a binary file (it contains NUL bytes), not a "
                         "CSV/TSV export; for Excel files use .xlsx")
    try:
        return data.decode("utf-8"), "utf-8", warnings
    except UnicodeDecodeError:
        return _decode_mixed(path, data)


def _decode_mixed(path: Path, data: bytes) -> tuple[str, str, list[str]]:
    """Not UTF-8 throughout: Windows-1252, or (rows pasted together from two exports) a mix.
    Each line is read as UTF-8 where it is valid UTF-8, else as Windows-1252, and the warning
    says which lines were which: decoding the whole file as Windows-1252 turned the UTF-8 lines
    into mojibake (``cafÃ©``) without a word."""
    parts: list[str] = []
    utf8_lines: list[int] = []  # lines with non-ASCII text that is valid UTF-8
    cp1252_lines: list[int] = []
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        if line.isascii():
            parts.append(line.decode("ascii"))
            continue
        try:
            parts.append(line.decode("utf-8"))
            utf8_lines.append(number)
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                raise TableError(f"{path}: line {number} is neither UTF-8 nor Windows-1252 "
                                 "text; save the file as CSV UTF-8 and import it again") from None
            cp1252_lines.append(number)
    if utf8_lines:
        warning = (f"{path.name} mixes encodings: {_lines(cp1252_lines)} read as Windows-1252, "
                   f"{_lines(utf8_lines)} as UTF-8 (each line as what it is). Check accented "
                   "letters and curly quotes on those lines, or save the file as CSV UTF-8 and "
                   "import again")
        return "".join(parts), "mixed", [warning]
    warning = (f"{path.name} is not UTF-8 (first at line {cp1252_lines[0]}); read it as "
               "Windows-1252. Check accented letters and curly quotes, or save it as "
               "CSV UTF-8 and import again")
    return "".join(parts), "cp1252", [warning]


def _lines(numbers: list[int], shown: int = 10) -> str:
    """'line 3', 'lines 2, 5', 'lines 2, 5, … (14 in all)'."""
    head = ", ".join(str(n) for n in numbers[:shown])
    more = f", … ({len(numbers)} in all)" if len(numbers) > shown else ""
    return f"line {head}" if len(numbers) == 1 else f"lines {head}{more}"


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TableError(f"{path}: byte {exc.start} is not valid {encoding}") from None


def sniff_delimiter(text: str) -> str:
    """The separator that occurs most in the header line, outside quotes (`,` by default)."""
    counts = {",": 0, ";": 0, "\t": 0}
    in_quotes = False
    for ch in text[:65536]:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes:
            if ch in "\r\n":
                break
            if ch in counts:
                counts[ch] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] > 0 else ","


def parse_delimited(path: Path, text: str, delimiter: str) -> Table:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TableError(f"{path}: line {line} contains a NUL byte; the file is damaged or binary")
    if len(text) >= csv.field_size_limit():  # a field may be as long as the file allows
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    lines: list[int] = []
    line_start = 1
    try:
        for record in reader:
            lines.append(line_start)
            line_start = reader.line_num + 1
            rows.append(record)
    except csv.Error as exc:
        raise TableError(f"{path}: line {reader.line_num}: {exc}") from None
    if lines and _unclosed_quote(text, delimiter, lines[-1]):
        raise TableError(f"{path}: line {lines[-1]}: a quoted cell opened in this row is never "
                         "closed, so the rest of the file would be read as one cell; check the "
                         "quote marks in that row")
    return _to_table(path, rows, lines)


def _unclosed_quote(text: str, delimiter: str, last_line: int) -> bool:
    """Whether the last record runs to the end of the file inside quotes (the lenient reader
    silently keeps such a cell, swallowing every row after the stray quote)."""
    chunk = "".join(io.StringIO(text, newline="").readlines()[last_line - 1:])
    try:
        for _ in csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _to_table(path: Path, rows: list[list[str]], lines: list[int]) -> Table:
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
        lines.pop(0)
    if not rows:
        raise TableError(f"{path} has no header row (the file holds only blank lines)")
    # Header text is survey text too: its line separators are normalised like the answers'.
    header = [normalise(h).strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise TableError(f"{path}: the header row is empty")
    header = [h or f"Column {i + 1}" for i, h in enumerate(header)]
    width = len(header)
    body: list[list[str]] = []
    body_lines: list[int] = []
    warnings: list[str] = []
    short = 0
    for record, line in zip(rows[1:], lines[1:]):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > width:
            extra = record[width:]
            if any(cell.strip() for cell in extra):
                raise TableError(f"{path}: line {line} has {len(record)} cells but the header has "
                                 f"{width}; a separator inside an unquoted cell?")
            record = record[:width]
        elif len(record) < width:
            short += 1
            record = record + [""] * (width - len(record))
        if max(map(len, record)) > LONG_CELL:
            warnings.extend(_long_cells(path, line, header, record))
        body.append(record)
        body_lines.append(line)
    if short:
        warnings.append(f"{path.name}: {short} row(s) had fewer cells than the header; the "
                        "missing cells were read as blank")
    return Table(path, header, body, body_lines, warnings)


def _long_cells(path: Path, line: int, header: list[str], record: list[str]) -> list[str]:
    return [f"{path}, line {line}: the cell under {header[i]!r} is {len(cell):,} characters "
            f"long (more than {LONG_CELL:,}); imported as it is. If it holds the text of other "
            "rows, a quote mark left open in that row swallowed them: check its quotes"
            for i, cell in enumerate(record) if len(cell) > LONG_CELL]


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a declared dependency
        raise TableError("reading .xlsx needs openpyxl (pip install openpyxl)") from None
    try:
        with zipfile.ZipFile(path) as archive:
            problem = zip_problem(archive.infolist(), max_total=MAX_XLSX_UNZIPPED,
                                  max_members=MAX_XLSX_MEMBERS, what="a survey export")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise TableError(f"{path} is not a valid .xlsx file (not a zip archive)") from None
    if problem:
        raise TableError(f"{path}: {problem}. If it is a real export, save it as CSV (UTF-8) "
                         "and import that")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise TableError(f"{path} cannot be read as an Excel workbook ({exc})") from None
    try:
        if sheet is not None:
            if sheet not in book.sheetnames:
                raise TableError(f"{path} has no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
            ws = book[sheet]
        else:
            ws = book.worksheets[0]
        rows: list[list[str]] = []
        lines: list[int] = []
        for index, values in enumerate(ws.iter_rows(values_only=True), 1):
            rows.append([_cell_text(v) for v in values])
            lines.append(index)
    finally:
        book.close()
    return _to_table(path, rows, lines)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
