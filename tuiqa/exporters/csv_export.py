"""Every coding as a spreadsheet row; ``tuiqa import-codings`` reads it back exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .. import themes as T
from ..csvsafe import escape
from ..project import Project
from ..store.stamps import stamp_iso
from . import ExportContext, register

COLUMNS = ["participant", "question", "code", "coder", "start", "end", "text", "question_key",
           "kind", "themes", "response_memos", "code_memos", "created"]


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

    porder = {pid: p.order for pid, p in project.participants.items()}
    qorder = {qid: q.order for qid, q in project.questions.items()}
    codings = [c for c in project.all_codings() if ctx.coder is None or c.coder == ctx.coder]
    responses = project.responses
    codings.sort(key=lambda c: (porder.get(responses[c.response_id].participant_id, 0),
                                qorder.get(responses[c.response_id].question_id, 0), c.start, c.end,
                                project.code_name(c.code_id).casefold(), c.coder))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for i, c in enumerate(codings):
        if i % 2000 == 0:
            ctx.step(i, len(codings))
        r = responses[c.response_id]
        part = project.participants[r.participant_id]
        q = project.questions[r.question_id]
        code = project.code(c.code_id)
        memos_r = " | ".join(f"{mm.coder}: {mm.text}" for mm in project.memos_for("response", r.id))
        memos_c = " | ".join(f"{mm.coder}: {mm.text}" for mm in project.memos_for("code", c.code_id))
        row = [part.pid, q.text, code.name if code else "?", c.coder, str(c.start), str(c.end),
               r.text[c.start:c.end], q.key, code.kind if code else "",
               " ; ".join(sorted(path_of(t) for t in m.themes_of_code.get(c.code_id, []))),
               memos_r, memos_c, stamp_iso(c.created)]
        writer.writerow([escape(v) for v in row])
    ctx.step(len(codings), len(codings))
    # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly
    ctx.save(out, "\ufeff" + buf.getvalue())
