"""Every coding as a spreadsheet row; ``tuiqa import-codings`` reads it back exactly.

What a row repeats (the participant, the question, the code's name, themes and memos, the answer's
memos) is worked out once per answer and once per code, already made formula-safe, so a row costs
a slice of the answer's text and a list: 150,000 codings take little more than the standard
library's ``csv`` writer needs to write them (``bench/run.py``: ``export_csv_ratio``).
"""

from __future__ import annotations

import csv
import io
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
        return _safe(" | ".join(f"{mm.coder}: {mm.text}" for mm in project.memos_for(kind, target)))

    paths = {tid: path_of(tid) for tid in m.by_id}
    codings = [c for c in project.all_codings() if ctx.coder is None or c.coder == ctx.coder]
    ctx.step(0, len(codings))

    # per code: its name (and the key it sorts by), kind, themes, memos
    code_cells: dict[str, tuple[str, str, str, str]] = {}
    code_sort: dict[str, str] = {}
    for cid in {c.code_id for c in codings}:
        code = project.code(cid)
        name = code.name if code is not None and code.name else "?"
        code_sort[cid] = name.casefold()
        code_cells[cid] = (_safe(name), _safe(code.kind if code else ""),
                           _safe(" ; ".join(sorted(paths[t] for t in m.themes_of_code.get(cid, [])))),
                           memos("code", cid))
    # per answer: where it sorts, and its participant, question and memos
    porder = {pid: p.order for pid, p in project.participants.items()}
    qorder = {qid: q.order for qid, q in project.questions.items()}
    responses, participants, questions = project.responses, project.participants, project.questions
    answer_cells: dict[str, tuple] = {}
    for rid in {c.response_id for c in codings}:
        r = responses[rid]
        q = questions[r.question_id]
        answer_cells[rid] = ((porder.get(r.participant_id, 0), qorder.get(r.question_id, 0)),
                             _safe(participants[r.participant_id].pid), _safe(q.text), _safe(q.key),
                             memos("response", rid), r.text)
    codings.sort(key=lambda c: (answer_cells[c.response_id][0], c.start, c.end,
                                code_sort[c.code_id], c.coder))
    coders = {name: _safe(name) for name in {c.coder for c in codings}}
    when = IsoTimes()
    rows = []
    append = rows.append
    for i, c in enumerate(codings):
        if not i % 5000:
            ctx.step(i, len(codings))
        _, pid, question, key, memos_r, text = answer_cells[c.response_id]
        name, kind, themes, memos_c = code_cells[c.code_id]
        extract = text[c.start:c.end]
        if extract and extract[0] in _TRIGGERS:
            extract = escape(extract)
        append((pid, question, name, coders[c.coder], c.start, c.end, extract, key, kind, themes,
                memos_r, memos_c, when(c.created)))
    ctx.step(len(codings), len(codings))
    buf = io.StringIO()
    buf.write("\ufeff")  # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    ctx.save(out, buf.getvalue())
