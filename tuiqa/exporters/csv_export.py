"""Every coding as a spreadsheet row; ``tuiqa import-codings`` reads it back exactly.

What a row repeats (the participant, the question, the code's name, themes and memos, the answer's
memos) is worked out once per answer and once per code, already formula-safe and quoted as the
standard library's ``csv`` writer quotes (:func:`cell`), so a row costs a slice of the answer's
text, its quoting and one formatted string: 150,000 codings are written faster than the ``csv``
writer writes the same rows (``bench/run.py``: ``floor_export_csv_s``, ``export_csv_ratio``).
The bytes are exactly what ``csv.writer(lineterminator="\r\n")`` writes.
"""

from __future__ import annotations

import re
from operator import attrgetter
from pathlib import Path

from .. import themes as T
from ..csvsafe import escape
from ..project import Project
from . import ExportContext, IsoTimes, register

COLUMNS = ["participant", "question", "code", "coder", "start", "end", "text", "question_key",
           "kind", "themes", "response_memos", "code_memos", "created"]

_TRIGGERS = frozenset("=+-@\t\r'")  # a cell starting so may need csvsafe.escape


def _safe(value: str) -> str:
    return escape(value) if value and value[0] in _TRIGGERS else value


_QUOTE = re.compile('[,"\r\n]')


def cell(value: str) -> str:
    """A field as ``csv.writer`` (excel dialect, minimal quoting) writes it in a row of several:
    in double quotes, its own doubled, when it holds a comma, a quote or a line break."""
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if _QUOTE.search(value) else value


def _ready(value: str) -> str:
    """Formula-safe, then quoted as the csv writer would."""
    return cell(_safe(value))


@register("csv", "csv", "every coding as a row (import-codings reads it back exactly)",
          stem="codings", layered=False)
def write_csv(project: Project, out: Path, ctx: ExportContext) -> None:
    m = T.build(project)

    def path_of(theme_id: str) -> str:
        names = []
        seen: set[str] = set()
        node = m.by_id.get(theme_id)
        while node is not None and node.id not in seen:  # parents can form a cycle (two moves at once)
            seen.add(node.id)
            names.append(node.theme.name)
            node = m.by_id.get(node.theme.parent_id) if node.theme.parent_id else None
        return " > ".join(reversed(names))

    def memos(kind: str, target: str) -> str:
        return _ready(" | ".join(f"{mm.coder}: {mm.text}" for mm in project.memos_for(kind, target)))

    paths = {tid: path_of(tid) for tid in m.by_id}
    project.finish_loading()
    coder = ctx.coder
    responses, participants, questions = project.responses, project.participants, project.questions
    # the answers with codings, in reading order (participant, then question); each answer's
    # codings are listed together, so a row need not be sorted among all the others
    porder = {pid: p.order for pid, p in project.participants.items()}
    qorder = {qid: q.order for qid, q in project.questions.items()}
    answers: dict[str, tuple] = {}
    found_response = {}
    for rid, found in project.codings_by_response.items():
        if found and rid in responses:
            r = found_response[rid] = responses[rid]
            answers[rid] = (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0))
    order = sorted(answers, key=answers.__getitem__)
    total = sum(map(len, map(project.codings_by_response.__getitem__, order)))
    ctx.step(0, total)

    code_cells: dict[str, tuple[str, str, str, str]] = {}  # name, kind, themes, memos
    code_sort: dict[str, str] = {}
    for cid in project.codings_by_code:
        code = project.code(cid)
        name = code.name if code is not None and code.name else "?"
        code_sort[cid] = name.casefold()
        # the cells before and after a row's coder, start, end and text
        code_cells[cid] = (
            _ready(name) + ",",
            "," + ",".join((_ready(code.kind if code else ""),
                            _ready(" ; ".join(sorted(paths[t] for t in m.themes_of_code.get(cid, [])))))),
            (memos("code", cid) if ("code", cid) in project.memos_by_target else "") + ",")
    coders = {name: _ready(name) for name in project.coder_counts}

    pid_cells = {ident: _ready(p.pid) + "," for ident, p in participants.items()}
    question_cells = {ident: (_ready(q.text) + ",", "," + _ready(q.key)) for ident, q in questions.items()}
    with_memos = {target for kind, target in project.memos_by_target if kind == "response"}
    span = attrgetter("start", "end")
    when = IsoTimes()
    seen = when.seen
    lines: list[str] = []
    extend = lines.extend
    done = 0
    for rid in order:
        items = list(project.codings_by_response[rid].values())
        if coder is not None:
            items = [c for c in items if c.coder == coder]
            if not items:
                continue
        if len(items) > 1:
            items.sort(key=span)
            if len(set(map(span, items))) < len(items):  # one extract, several codes or coders
                items.sort(key=lambda c: (c.start, c.end, code_sort[c.code_id], c.coder))
        r = found_response[rid]
        text = r.text
        head = pid_cells[r.participant_id] + question_cells[r.question_id][0]
        key = question_cells[r.question_id][1]
        memos_r = f",{memos('response', rid)}," if rid in with_memos else ",,"
        # one formatted line per coding: the code's cells (cc); the extract, formula-safe and
        # quoted only if it must be (x); the time, looked up by its second
        extend([f"{head}{(cc := code_cells[c.code_id])[0]}{coders[c.coder]},{c.start},{c.end},"
                f"{x if not (x := text[c.start:c.end]) or (x[0] not in _TRIGGERS and not _QUOTE.search(x)) else _ready(x)}"
                f"{key}{cc[1]}{memos_r}{cc[2]}{seen.get(c.created[:10]) or when(c.created)}\r\n"
                for c in items])
        done += len(items)
        if done >= 5000:
            ctx.step(len(lines), total)
            done = 0
    ctx.step(total, total)
    # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly
    ctx.save(out, "\ufeff" + ",".join(COLUMNS) + "\r\n" + "".join(lines))
