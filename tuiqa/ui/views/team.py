"""The team review step: an item under appropriateness review, the questions on your work,
agreement figures, one disagreement at a time."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ... import coders as C
from ... import review as RV
from ... import themes as T
from ...colours import colour_for
from ...model import ReviewMark
from ...project import CONSENSUS
from ...text import display_text, one_line
from ..render import Glyphs, Mark, cells, plain
from .header import response_header

# -- the appropriateness review -------------------------------------------------------------------


def header(project, response_id: str, glyphs: Glyphs) -> Text:
    """An answer's question and participant, as the team screens head it."""
    question, who = response_header(project, response_id, glyphs=glyphs)
    question.append("\n")
    question.append_text(who)
    return question


def review_progress(coder: str, kind: str, index: int, items: list[RV.ReviewItem], message: str) -> Text:
    done, total = RV.progress(items)
    head = Text(end="", no_wrap=not message, overflow="ellipsis")
    head.append(f"Reviewing {coder}'s {kind}s", style="bold")
    head.append(f"  {index + 1 if total else 0} of {total} · {done} of {total} reviewed", style="bold")
    if message:
        head.append("  │ ", style="dim")
        head.append_text(plain(message, style="italic"))
    return head


@dataclass
class ReviewedItem:
    """What the review screen shows of one item: its context, the text (with the extract
    marked), and what has been said about it."""

    context: Text
    text: str
    marks: list[Mark]
    selection: tuple[int, int]
    key: str
    info: Text


def reviewed_item(project, item: RV.ReviewItem, coder: str, glyphs: Glyphs) -> ReviewedItem:
    info = Text(end="")
    if item.kind == "coding":
        c = project.coding(item.target_id)
        assert c is not None
        r = project.responses[c.response_id]
        code = project.code(c.code_id)
        colour = colour_for(c.code_id, code.colour if code else "")
        shown = ReviewedItem(header(project, r.id, glyphs), r.text, [Mark(1, c.start, c.end, colour)],
                             (c.start, c.end), c.id, info)
        info.append("Code: ", style="bold")
        info.append_text(plain(project.code_name(c.code_id), style=f"bold {colour}"))
        if code and code.description:
            info.append("  ")
            info.append_text(plain(code.description, style="italic dim", limit=120))
    else:
        node = T.build(project).by_id.get(item.target_id)
        if node is None:
            shown = ReviewedItem(Text("This theme no longer exists", style="italic"), "", [], (0, 0),
                                 "", info)
        else:
            t = node.theme
            head = Text(end="")
            head.append(f"{node.level}: ", style="dim")
            head.append_text(plain(t.name, style="bold"))
            head.append(f" · {t.status}", style="dim")
            body = f"Concept: {t.concept or '—'}\n\n{t.description or ''}\n\nCodes: " + \
                ", ".join(project.code_name(cid) for cid in sorted(node.all_code_ids()))
            shown = ReviewedItem(head, body, [], (0, len(body)), f"theme:{t.id}", info)
    _verdict(project, item.mark, coder, info)
    return shown


def _verdict(project, mark: ReviewMark | None, coder: str, info: Text) -> None:
    if mark is None:
        info.append("\nNot reviewed yet: a appropriate · q questionable · c comment · s suggest a code",
                    style="dim")
        return
    style = "bold green" if mark.verdict == "appropriate" else "bold yellow"
    info.append(f"\nYour mark: {mark.verdict}", style=style)
    if mark.comment:
        info.append(" · ")
        info.append_text(plain(mark.comment, style="italic", limit=150))
    if mark.suggested_code_id:
        info.append(f" · suggests {one_line(project.code_name(mark.suggested_code_id))}")
    if mark.resolution:
        info.append(f"\n{coder}: {mark.resolution}", style="bold")
        if mark.reply:
            info.append(" · ")
            info.append_text(plain(mark.reply, style="italic", limit=150))


# -- questions on your work -----------------------------------------------------------------------


def question(project, m: ReviewMark) -> Text:
    t = Text(end="")
    t.append(f"{m.reviewer}: ", style="bold")
    t.append_text(plain(m.comment or "(no comment)", style="italic"))
    if m.suggested_code_id:
        t.append(f"  → suggests “{one_line(project.code_name(m.suggested_code_id))}”", style="bold")
    if m.target_kind == "coding":
        c = project.coding(m.target_id)
        if c is not None:
            r = project.responses[c.response_id]
            part = project.participants.get(r.participant_id)
            q = project.questions.get(r.question_id)
            t.append(f"\n  {part.pid if part else '?'} {q.key if q else '?'} · ", style="dim")
            t.append_text(plain(project.code_name(c.code_id), style="bold"))
            t.append(": ")
            t.append(display_text(" ".join(r.text[c.start:c.end].split())[:200]))
    else:
        theme = project.theme(m.target_id)
        t.append(f"\n  theme {one_line(theme.name if theme else '?')}", style="dim")
    return t


def questions_title(count: int, message: str) -> Text:
    title = Text(end="")
    title.append("Questions on your work", style="bold")
    title.append(f"  {count} to resolve · k keep · c change · r remove (each with a reply)", style="dim")
    _message_line(title, message)
    return title


# -- agreement ------------------------------------------------------------------------------------

SORTS = ("code", "kappa", "alpha", "agreement")


def coders_to_compare(project) -> list[str]:
    """The two coders (not the consensus layer) with the most answers marked done."""
    ranked = sorted((c for c in project.done if c != CONSENSUS and project.done[c]),
                    key=lambda c: -len(project.done[c]))
    return ranked[:2]


def agreement_needs_coders(message: str = "") -> Text:
    title = Text(end="")
    title.append("Agreement needs two coders who have marked responses done.", style="bold")
    title.append("\nc chooses the coders.", style="dim")
    _message_line(title, message)
    return title


def _message_line(title: Text, message: str) -> None:
    if message:
        title.append("\n")
        title.append_text(plain(message, style="italic"))


def _fmt(stat) -> str:
    return "—" if stat.value is None else f"{stat.value:.3f}"


def agreement_title(r, stale: bool, message: str = "") -> Text:
    o = r.overall
    title = Text(end="")
    title.append(f"Agreement: {', '.join(r.coders)}", style="bold")
    title.append(f" · {r.unit} as unit · {r.units_compared} responses compared "
                 f"(done by all), {r.units_excluded} excluded\n", style="dim")
    title.append(f"Pooled over codes: agreement {_fmt(o.percent_agreement)} · Cohen's κ {_fmt(o.cohen_kappa)}"
                 f" · Krippendorff's α {_fmt(o.krippendorff_alpha)}\n")
    title.append(f"Mean of per-code values: κ {_fmt(o.mean_cohen_kappa)} · α {_fmt(o.mean_krippendorff_alpha)}",
                 style="dim")
    if stale:
        title.append("\nThe project has changed since: r works the figures out again", style="bold yellow")
    _message_line(title, message)
    return title


def agreement_header(coders: list[str]) -> Text:
    head = cells(("code", 24), (Text("units", justify="right"), 6), (Text("both", justify="right"), 5),
                 *[(Text(f"{c[:6]}", justify="right"), 6) for c in coders],
                 (Text("none", justify="right"), 6), (Text("%agr", justify="right"), 5),
                 (Text("κ", justify="right"), 6), (Text("α", justify="right"), 6), ("why —", 0))
    head.stylize("bold dim")
    return head


def sorted_codes(r, sort: str) -> list:
    codes = list(r.codes)
    key = {
        "code": lambda c: c.code.casefold(),
        "kappa": lambda c: (c.cohen_kappa.value is None, c.cohen_kappa.value or 0),
        "alpha": lambda c: (c.krippendorff_alpha.value is None, c.krippendorff_alpha.value or 0),
        "agreement": lambda c: (c.percent_agreement.value is None, c.percent_agreement.value or 0),
    }[sort]
    codes.sort(key=key)
    return codes


def agreement_row(c, coders: list[str]) -> Text:
    def num(stat) -> Text:
        if stat.value is None:
            return Text("—", justify="right", style="dim")
        style = "red" if stat.value < 0.4 else "yellow" if stat.value < 0.7 else ""
        return Text(f"{stat.value:.2f}", justify="right", style=style)

    return cells((plain(c.code), 24), (Text(str(c.units), justify="right"), 6),
                 (Text(str(c.both), justify="right"), 5),
                 *[(Text(str(c.only.get(k, 0)), justify="right"), 6) for k in coders],
                 (Text(str(c.neither), justify="right"), 6), (num(c.percent_agreement), 5),
                 (num(c.cohen_kappa), 6), (num(c.krippendorff_alpha), 6),
                 (plain(c.undefined_reason or "", style="dim"), 0))


# -- disagreements --------------------------------------------------------------------------------


def disagreements_title(code_name: str | None, index: int, total: int, *, spans: bool,
                        message: str, stale: bool) -> Text:
    title = Text(end="")
    title.append("Disagreements", style="bold")
    if code_name:
        title.append(" on ")
        title.append_text(plain(code_name, style="bold"))
    title.append(f"  {index + 1 if total else 0} of {total}"
                 f"{' (span differences shown)' if spans else ''}", style="dim")
    if message:
        title.append("  │ ", style="dim")
        title.append_text(plain(message, style="italic"))
    if stale:
        title.append("\nThe project has changed since: r finds the disagreements again",
                     style="bold yellow")
    return title


NO_DISAGREEMENTS = "No open disagreements: every difference is resolved."


def disagreement(project, item: C.Disagreement, glyphs: Glyphs) -> tuple[Text, str]:
    """The head (answer, code, who applied it) and the code's colour."""
    head = header(project, item.response_id, glyphs)
    head.append("\nCode: ", style="bold")
    code = project.code(item.code_id)
    colour = colour_for(item.code_id, code.colour if code else "")
    head.append_text(plain(project.code_name(item.code_id), style=f"bold {colour}"))
    if item.kind == C.PRESENCE:
        has = ", ".join(item.present()) or "nobody"
        head.append(f" · applied by {has} only", style="yellow")
    else:
        head.append(" · all applied it, to different extracts (a lighter difference)", style="dim")
    head.append("\n1–9 keep that coder's version · b keep both · x discuss · n/p move", style="dim")
    return head, colour


def of_code(project, items: list[C.Disagreement], code_name: str | None) -> list[C.Disagreement]:
    """Only the disagreements on the code called ``code_name`` (all of them for None)."""
    if not code_name:
        return items
    return [d for d in items if project.code_name(d.code_id) == code_name]
