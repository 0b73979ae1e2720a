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
from itertools import chain
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
    responses, participants, questions = project.responses, project.participants, project.questions
    by_response = project.codings_by_response
    codings = [c for c in chain.from_iterable(map(dict.values, by_response.values()))
               if c.response_id in responses] if ctx.coder is None else \
        [c for c in project.all_codings() if c.coder == ctx.coder and c.response_id in responses]
    ctx.step(0, len(codings))

    # what a row repeats, worked out once, formula-safe and quoted: per code the cells before
    # and after the row's own (coder, start, end, text), per answer its participant, question and
    # memos, per coder the name
    code_cells: dict[str, tuple[str, str, str]] = {}
    code_names: dict[str, str] = {}
    for cid in project.codings_by_code:
        code = project.code(cid)
        name = code.name if code is not None and code.name else "?"
        code_names[cid] = name.casefold()
        code_cells[cid] = (
            _ready(name) + ",",
            "," + ",".join((_ready(code.kind if code else ""),
                            _ready(" ; ".join(sorted(paths[t] for t in m.themes_of_code.get(cid, [])))))),
            (memos("code", cid) if ("code", cid) in project.memos_by_target else "") + ",")
    code_rank = {cid: i for i, cid in enumerate(sorted(code_names, key=code_names.__getitem__))}
    coders = {name: _ready(name) for name in project.coder_counts}
    pid_cells = {ident: _ready(p.pid) + "," for ident, p in participants.items()}
    question_cells = {ident: (_ready(q.text) + ",", "," + _ready(q.key)) for ident, q in questions.items()}
    with_memos = {target for kind, target in project.memos_by_target if kind == "response"}
    porder = {pid: p.order for pid, p in participants.items()}
    qorder = {qid: q.order for qid, q in questions.items()}
    place: dict[str, tuple[int, int]] = {}  # answer -> (participant's place, question's place)
    answer: dict[str, tuple[str, str, str, str]] = {}  # answer -> head, key, memos, text
    for rid in set(map(_RESPONSE, codings)):
        r = responses[rid]
        place[rid] = (porder.get(r.participant_id, 0), qorder.get(r.question_id, 0))
        pq, key = question_cells[r.question_id]
        answer[rid] = (pid_cells[r.participant_id] + pq, key,
                       f",{memos('response', rid)}," if rid in with_memos else ",,", r.text)

    # reading order (participant, question, start, end, code name, coder), the keys made in C
    rids = list(map(_RESPONSE, codings))
    keys = list(zip(map(place.__getitem__, rids), map(_SPAN, codings),
                    map(code_rank.__getitem__, map(_CODE, codings)), map(_CODER, codings)))
    codings = [codings[i] for i in sorted(range(len(codings)), key=keys.__getitem__)]

    when = IsoTimes()
    seen = when.seen
    # UTF-8 with a BOM, so Excel opens curly quotes and accents correctly; encoded a block of
    # rows at a time (one emoji makes a whole string four bytes a character: 150 MB for 37)
    blocks = [("\ufeff" + ",".join(COLUMNS) + "\r\n").encode("utf-8")]
    for at in range(0, len(codings), 20_000):
        ctx.step(at, len(codings))
        # a line per coding: the answer's cells (a), the code's (cc), the extract formula-safe
        # and quoted only if it must be (x), the time looked up by its second
        blocks.append("".join([
            f"{(a := answer[c.response_id])[0]}{(cc := code_cells[c.code_id])[0]}{coders[c.coder]},"
            f"{c.start},{c.end},"
            f"{x if not (x := a[3][c.start:c.end]) or (x[0] not in _TRIGGERS and not _QUOTE.search(x)) else _ready(x)}"
            f"{a[1]}{cc[1]}{a[2]}{cc[2]}{seen.get(c.created[:10]) or when(c.created)}\r\n"
            for c in codings[at:at + 20_000]]).encode("utf-8"))
    ctx.step(len(codings), len(codings))
    ctx.save(out, b"".join(blocks))


_RESPONSE = attrgetter("response_id")
_SPAN = attrgetter("start", "end")
_CODE = attrgetter("code_id")
_CODER = attrgetter("coder")
