"""Import codings done elsewhere (many teams start in a spreadsheet).

Columns (header names, any case; others are ignored): ``participant, question, code, coder,
start, end, text``. ``question`` is a question key (``Q3``) or its header text as imported; a
``question_key`` column (as ``tuiqa export --format csv`` writes) wins over it when filled.
``start``/``end`` are code-point offsets, end-exclusive. Where they and ``text`` are both given they
must agree; where they are empty and ``text`` is given, the extract is found in the response (exact
first, then ignoring differences in white space, quote style and ellipsis characters); where all
three are empty the whole response is coded. Cells escaped against formulas (``'=…``) are read
back exactly (see :mod:`tuiqa.csvsafe`).

All or nothing: every row is checked first; if any row cannot be placed, every such row is
reported with its line number and nothing is imported. Importing the same rows twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..csvsafe import unescape
from ..model import CODE_KINDS
from ..project import ChangeError, Project, clean_name
from ..text import find_extract, loose_key, normalise, snap_span
from .tabular import TableError, read_table

REQUIRED = ("participant", "question", "code")
DONE_MODES = ("all", "coded", "none")


class CodingsImportError(Exception):
    def __init__(self, path: Path, problems: list[str]) -> None:
        shown = problems[:25]
        more = len(problems) - len(shown)
        text = f"{path}: {len(problems)} row(s) cannot be placed; nothing was imported.\n  " + \
            "\n  ".join(shown) + (f"\n  … and {more} more" if more > 0 else "")
        super().__init__(text)
        self.problems = problems


@dataclass
class PlacedRow:
    where: str
    response_id: str
    code_name: str
    kind: str
    coder: str
    start: int
    end: int


@dataclass
class CodingsResult:
    rows: int = 0
    added: int = 0
    already: int = 0
    new_codes: list[str] = field(default_factory=list)
    coders: list[str] = field(default_factory=list)
    marked_done: int = 0
    warnings: list[str] = field(default_factory=list)

    def lines(self, path: Path) -> list[str]:
        out = [f"Read {self.rows} coding row(s) from {path.name}: {self.added} added, "
               f"{self.already} already in the project"]
        if self.new_codes:
            out.append(f"  new codes ({len(self.new_codes)}): " + ", ".join(self.new_codes))
        out.append("  coders: " + (", ".join(self.coders) or "none"))
        if self.marked_done:
            out.append(f"  responses marked done: {self.marked_done}")
        out.extend(f"  warning: {w}" for w in self.warnings)
        return out


def _coder_name(name: str, with_consensus: bool) -> str:
    """The coder rule of ``--coder`` (session.valid_coder_name) for every row; the consensus
    layer only when asked for (a tuiqa CSV export holds it as the coder ``consensus``)."""
    from ..project import CONSENSUS
    from ..session import valid_coder_name

    if " ".join(name.split()).casefold() == CONSENSUS:
        if with_consensus:
            return CONSENSUS
        raise ChangeError(f"coder {name!r} is reserved for the team's agreed layer (rows from a "
                          "tuiqa CSV export hold it so: import them with --with-consensus)")
    try:
        return valid_coder_name(name)
    except ChangeError as exc:
        raise ChangeError(f"coder {name!r}: {exc}") from None


def place_rows(project: Project, path: Path, *, coder: str | None, default_coder: str,
               with_consensus: bool = False) -> tuple[list[PlacedRow], list[str], list[str], int]:
    try:
        table = read_table(path)
    except TableError as exc:
        raise CodingsImportError(path, [str(exc)]) from None
    columns = {h.strip().casefold(): i for i, h in reversed(list(enumerate(table.header)))}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CodingsImportError(path, [f"the header lacks the column(s) {', '.join(missing)}; "
                                        f"found: {', '.join(table.header)}"])
    warnings = list(table.warnings)

    def cell(row: list[str], name: str) -> str:
        i = columns.get(name)
        return unescape(row[i]) if i is not None else ""

    placed: list[PlacedRow] = []
    problems: list[str] = []
    warned_refs: set[str] = set()
    checked: dict[str, str | ChangeError] = {}  # coder as written -> the name, or why not
    for r, row in enumerate(table.rows):
        where = table.where(r)
        pid = cell(row, "participant").strip()
        qref = cell(row, "question")
        name = clean_name(cell(row, "code"))
        kind = cell(row, "kind").strip().lower() or "semantic"
        who = coder if coder is not None else (cell(row, "coder").strip() or default_coder)
        if who not in checked:
            try:
                checked[who] = _coder_name(who, with_consensus)
            except ChangeError as exc:
                checked[who] = exc
        if isinstance(checked[who], ChangeError):
            problems.append(f"{where}: {checked[who]}")
            continue
        who = checked[who]
        if not name:
            problems.append(f"{where}: the code is empty")
            continue
        if kind not in CODE_KINDS:
            problems.append(f"{where}: kind {kind!r} is not one of {', '.join(CODE_KINDS)}")
            continue
        participant = project.participant_by_pid(pid) if pid else None
        if participant is None:
            problems.append(f"{where}: no participant {pid!r} in the project")
            continue
        key = cell(row, "question_key").strip()
        question = _find_question(project, key) if key else _find_question(project, qref)
        if isinstance(question, str):
            problems.append(f"{where}: {question}")
            continue
        read_as_key = not key and question.key.casefold() == normalise(qref).strip().casefold()
        clash = [q.key for q in project.questions.values()
                 if read_as_key and q is not question and q.text.strip() == normalise(qref).strip()]
        if clash and qref.strip() not in warned_refs:
            warned_refs.add(qref.strip())
            warnings.append(f"{qref.strip()!r} is read as the key {question.key} "
                            f"({_clip(question.text)!r}), though it is also the header of "
                            f"{', '.join(clash)}; check that this is what the file means")
        response = project.response_for(participant, question)
        if response is None:
            problems.append(f"{where}: {pid} has no answer to {question.key} (empty in the survey)")
            continue
        span = _locate(response.text, cell(row, "start").strip(), cell(row, "end").strip(),
                       normalise(cell(row, "text")))
        if isinstance(span, str):
            problems.append(f"{where}: {pid} {question.key}: {span}")
            continue
        (start, end), note = span
        if note:
            warnings.append(f"{where}: {note}")
        placed.append(PlacedRow(where, response.id, name, kind, who, start, end))
    return placed, problems, warnings, len(table.rows)


def _find_question(project: Project, ref: str):
    ref_s = normalise(ref).strip()
    if not ref_s:
        return "the question is empty"
    by_key = [q for q in project.questions.values() if q.key.casefold() == ref_s.casefold()]
    if by_key:
        return by_key[0]  # a header equal to another question's key is warned about by the caller
    matches = [q for q in project.questions_in_order() if q.text.strip() == ref_s]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        keys = ", ".join(q.key for q in matches)
        return f"the question text matches {keys}; give the key instead"
    return f"no question {ref_s!r} (give its key, e.g. Q3, or its full header text)"


def _locate(text: str, start_s: str, end_s: str, extract: str):
    if start_s or end_s:
        if not (start_s and end_s):
            return "give both start and end, or neither"
        try:
            start, end = int(start_s), int(end_s)
        except ValueError:
            return f"start/end must be whole numbers (got {start_s!r}, {end_s!r})"
        if not (0 <= start < end <= len(text)):
            return f"span {start}-{end} is outside the answer ({len(text)} characters)"
        if extract.strip():
            actual = text[start:end]
            if actual != extract and loose_key(actual)[0].strip() != loose_key(extract)[0].strip():
                return (f"text does not match characters {start}-{end}: the answer has "
                        f"{_clip(actual)!r} there, the row says {_clip(extract)!r}")
        snapped = snap_span(text, start, end)
        note = "" if snapped == (start, end) else \
            f"span {start}-{end} split a character; widened to {snapped[0]}-{snapped[1]}"
        return snapped, note
    if extract.strip():
        hits = find_extract(text, extract)
        if not hits:
            return f"extract {_clip(extract)!r} is not in the answer"
        note = ""
        if len(hits) > 1:
            note = f"extract {_clip(extract)!r} occurs {len(hits)} times; the first was coded"
        return snap_span(text, *hits[0]), note
    return (0, len(text)), ""


def _clip(s: str, n: int = 50) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def import_codings(project: Project, path: Path, *, coder: str | None, default_coder: str,
                   done: str = "all", acting_coder: str | None = None,
                   with_consensus: bool = False) -> CodingsResult:
    if done not in DONE_MODES:
        raise ValueError(f"--done must be one of {', '.join(DONE_MODES)}")
    placed, problems, warnings, nrows = place_rows(project, path, coder=coder,
                                                   default_coder=default_coder,
                                                   with_consensus=with_consensus)
    if problems:
        raise CodingsImportError(path, problems)
    result = CodingsResult(rows=nrows, warnings=warnings)
    change = project.change(f"import codings from {path.name}")
    code_ids: dict[str, str] = {}
    coded: dict[str, set[str]] = {}
    for row in placed:
        key = row.code_name.casefold()
        if key not in code_ids:
            before = project.code_by_name(row.code_name)
            code_ids[key] = project.ensure_code(change, row.code_name, kind=row.kind, coder=row.coder)
            if before is None:
                result.new_codes.append(row.code_name)
        added = project.add_coding(change, row.response_id, code_ids[key], row.coder, row.start, row.end)
        if added is None:
            result.already += 1
        else:
            result.added += 1
        coded.setdefault(row.coder, set()).add(row.response_id)
    result.coders = sorted(coded)
    for who, responses in coded.items():
        targets = project.responses.keys() if done == "all" else responses if done == "coded" else ()
        for rid in targets:
            if not project.is_done(rid, who):
                project.set_done(change, rid, who, True)
                result.marked_done += 1
    project.commit(change, acting_coder or default_coder)
    return result
