"""The team review step: appropriateness review, questions to resolve, agreement, disagreements."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import coders as C
from ... import review as RV
from ... import themes as T
from ...colours import colour_for
from ...project import CONSENSUS, ChangeError
from ...text import display_text, one_line
from ..render import Mark, plain
from ..widgets.highlighted import highlighted
from ..widgets.response_view import ResponseView
from ..widgets.rowlist import RowList, cells
from .dialogs import ConfirmScreen, InputScreen
from .progress import BIG_WORK, ProgressScreen, wait_until_loaded
from .picker import PickerItem, PickerScreen, PickResult

if TYPE_CHECKING:
    from ..app import TuiqaApp


def pick_coder(app, title: str, then, *, exclude: set[str] = frozenset(), multi: bool = False) -> None:
    names = [c for c in sorted(set(app.project.coders()) | set(app.project.done)) if c not in exclude]
    items = [PickerItem(c, c, f"{len(app.project.done.get(c, ()))} done, "
                        f"{app.project.coder_counts.get(c, 0)} codings", payload=c) for c in names]
    if not items:
        app.screen.say("There is no other coder in this project yet")
        return

    def chosen(result: PickResult | None) -> None:
        if result and result.items:
            then([i.payload for i in result.items] if multi else result.items[0].payload)

    app.push_screen(PickerScreen(title, items, multi=multi), chosen)


def response_header(app, response_id: str) -> Text:
    project = app.project
    r = project.responses[response_id]
    q = project.questions.get(r.question_id)
    part = project.participants.get(r.participant_id)
    head = Text(end="")
    head.append(f"{q.key if q else '?'} ", style="bold reverse")
    head.append(" ")
    head.append_text(plain(q.text if q else "?", style="bold", limit=120))
    head.append("\n")
    head.append(part.pid if part else "?", style="bold")
    if part:
        for attr in project.attributes:
            head.append(f" · {attr}: ", style="dim")
            head.append_text(plain(part.attrs.get(attr, "") or "—"))
    return head


# -- appropriateness review ----------------------------------------------------------------------


class ReviewScreen(Screen):
    """Walk through another coder's codings (or themes) and mark each appropriate or
    questionable. Progress is kept in the project."""

    HELP_GROUP = "Appropriateness review"
    BINDINGS = [
        Binding("escape", "back", "Back", id="review.back"),
        Binding("a", "verdict('appropriate')", "Appropriate", id="review.appropriate"),
        Binding("q", "verdict('questionable')", "Questionable", id="review.questionable"),
        Binding("c", "comment", "Comment", id="review.comment"),
        Binding("s", "suggest", "Suggest code", id="review.suggest"),
        Binding("n,right", "move(1)", "Next", id="review.next"),
        Binding("p,left", "move(-1)", "Previous", id="review.previous"),
        Binding("N", "next_unreviewed", "Next unreviewed", show=False, id="review.next_unreviewed"),
        Binding("t", "toggle_kind", "Codings/themes", show=False, id="review.kind"),
    ]

    def __init__(self, coder: str) -> None:
        super().__init__()
        self.coder = coder
        self.kind = "coding"
        self.index = 0
        self.items: list[RV.ReviewItem] = []
        self._message = ""

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="review-progress")
        yield Static(id="review-context")
        yield ResponseView(id="review-answer", glyphs=self.tapp.glyphs)
        yield Static(id="review-mark")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ResponseView).focus()
        first = next((i for i, item in enumerate(self.items) if item.mark is None), 0)
        self.index = first
        self.draw()

    def reload(self) -> None:
        self.items = RV.items_to_review(self.tapp.project, self.coder, self.tapp.session.coder,
                                        kind=self.kind)
        self.index = min(self.index, max(len(self.items) - 1, 0))

    def project_changed(self) -> None:
        self.reload()
        self.draw()

    def say(self, message: str) -> None:
        self._message = message
        self.draw()

    def current(self) -> RV.ReviewItem | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def draw(self) -> None:
        app = self.tapp
        project = app.project
        done, total = RV.progress(self.items)
        head = Text(end="", no_wrap=not self._message, overflow="ellipsis")
        head.append(f"Reviewing {self.coder}'s {self.kind}s", style="bold")
        head.append(f"  {self.index + 1 if total else 0} of {total} · {done} of {total} reviewed", style="bold")
        if self._message:
            head.append("  │ ", style="dim")
            head.append_text(plain(self._message, style="italic"))
        self.query_one("#review-progress", Static).update(head)
        item = self.current()
        view = self.query_one(ResponseView)
        context = self.query_one("#review-context", Static)
        mark_box = self.query_one("#review-mark", Static)
        if item is None:
            context.update(Text(f"{self.coder} has no {self.kind}s to review.", style="italic"))
            view.show("", [], 0, 0, response_key="")
            mark_box.update("")
            return
        info = Text(end="")
        if item.kind == "coding":
            c = project.state.table("coding")[item.target_id]
            r = project.responses[c.response_id]
            code = project.code(c.code_id)
            context.update(response_header(app, r.id))
            colour = colour_for(c.code_id, code.colour if code else "")
            view.show(r.text, [Mark(1, c.start, c.end, colour)], c.start, c.end, response_key=c.id)
            info.append("Code: ", style="bold")
            info.append_text(plain(project.code_name(c.code_id), style=f"bold {colour}"))
            if code and code.description:
                info.append("  ")
                info.append_text(plain(code.description, style="italic dim", limit=120))
        else:
            m = T.build(project)
            node = m.by_id.get(item.target_id)
            if node is None:
                context.update(Text("This theme no longer exists", style="italic"))
                view.show("", [], 0, 0, response_key="")
            else:
                t = node.theme
                head2 = Text(end="")
                head2.append(f"{node.level}: ", style="dim")
                head2.append_text(plain(t.name, style="bold"))
                head2.append(f" · {t.status}", style="dim")
                context.update(head2)
                body = f"Concept: {t.concept or '—'}\n\n{t.description or ''}\n\nCodes: " + \
                    ", ".join(project.code_name(cid) for cid in sorted(node.all_code_ids()))
                view.show(body, [], 0, len(body), response_key=f"theme:{t.id}")
        mark = item.mark
        if mark is None:
            info.append("\nNot reviewed yet: a appropriate · q questionable · c comment · s suggest a code",
                        style="dim")
        else:
            style = "bold green" if mark.verdict == "appropriate" else "bold yellow"
            info.append(f"\nYour mark: {mark.verdict}", style=style)
            if mark.comment:
                info.append(" · ")
                info.append_text(plain(mark.comment, style="italic", limit=150))
            if mark.suggested_code_id:
                info.append(f" · suggests {one_line(project.code_name(mark.suggested_code_id))}")
            if mark.resolution:
                info.append(f"\n{self.coder}: {mark.resolution}", style="bold")
                if mark.reply:
                    info.append(" · ")
                    info.append_text(plain(mark.reply, style="italic", limit=150))
        mark_box.update(info)

    def action_move(self, delta: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + delta))
            self._message = ""
            self.draw()

    def action_next_unreviewed(self) -> None:
        for step in range(1, len(self.items) + 1):
            i = (self.index + step) % len(self.items)
            if self.items[i].mark is None:
                self.index = i
                self.draw()
                return
        self.say("Everything here is reviewed")

    def _mark(self, verdict: str, **kw) -> None:
        item = self.current()
        if item is None:
            return
        outcome = self.tapp.session.review_mark(item.kind, item.target_id, verdict, **kw)
        self.reload()
        self._message = outcome.message
        if verdict == "appropriate" and outcome.changed:
            self.action_move(1)
            return
        self.draw()

    def action_verdict(self, verdict: str) -> None:
        if verdict == "questionable":
            item = self.current()
            if item is None:
                return
            current = item.mark.comment if item.mark else ""

            def answered(comment: str | None) -> None:
                if comment is not None:
                    self._mark("questionable", comment=comment)

            self.app.push_screen(InputScreen("Questionable: why? (a comment for the coder; may be empty)",
                                             current), answered)
        else:
            self._mark(verdict)

    def action_comment(self) -> None:
        item = self.current()
        if item is None:
            return

        def answered(comment: str | None) -> None:
            if comment is not None:
                verdict = item.mark.verdict if item.mark else "questionable"
                self._mark(verdict, comment=comment)

        self.app.push_screen(InputScreen("Comment", item.mark.comment if item.mark else ""), answered)

    def action_suggest(self) -> None:
        item = self.current()
        if item is None or item.kind != "coding":
            return
        items = [PickerItem(c.id, c.name, c.kind, payload=c.id) for c in self.tapp.project.codes()]

        def chosen(result: PickResult | None) -> None:
            if result and result.item:
                self._mark("questionable", suggested_code_id=result.item.payload)

        self.app.push_screen(PickerScreen("Suggest another code", items), chosen)

    def action_toggle_kind(self) -> None:
        self.kind = "theme" if self.kind == "coding" else "coding"
        self.index = 0
        self.reload()
        self.draw()

    def action_back(self) -> None:
        self.app.pop_screen()


class QuestionsScreen(Screen):
    """Questionable marks on your work, to resolve: keep, change or remove, with a reply."""

    HELP_GROUP = "Questions on your work"
    BINDINGS = [
        Binding("escape", "back", "Back", id="questions.back"),
        Binding("k", "resolve('keep')", "Keep", id="questions.keep"),
        Binding("c", "resolve('change')", "Change code", id="questions.change"),
        Binding("r", "resolve('remove')", "Remove", id="questions.remove"),
        Binding("enter,o", "open", "In context", id="questions.open"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._marks: list = []
        self._message = ""

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="questions-title")
        yield OptionList(id="questions-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()
        self.query_one(OptionList).focus()

    def project_changed(self) -> None:
        self.refresh_list()

    def say(self, message: str) -> None:
        self._message = message
        self.refresh_list()

    def refresh_list(self) -> None:
        app = self.tapp
        project = app.project
        self._marks = RV.open_questions(project, app.session.coder)
        options = []
        for m in self._marks:
            t = Text(end="")
            t.append(f"{m.reviewer}: ", style="bold")
            t.append_text(plain(m.comment or "(no comment)", style="italic"))
            if m.suggested_code_id:
                t.append(f"  → suggests “{one_line(project.code_name(m.suggested_code_id))}”", style="bold")
            if m.target_kind == "coding":
                c = project.state.table("coding").get(m.target_id)
                if c is not None:
                    r = project.responses[c.response_id]
                    part = project.participants.get(r.participant_id)
                    q = project.questions.get(r.question_id)
                    t.append(f"\n  {part.pid if part else '?'} {q.key if q else '?'} · ", style="dim")
                    t.append_text(plain(project.code_name(c.code_id), style="bold"))
                    t.append(": ")
                    t.append(display_text(" ".join(r.text[c.start:c.end].split())[:200]))
            else:
                t.append(f"\n  theme {one_line(project.state.table('theme')[m.target_id].name)}", style="dim")
            options.append(Option(t))
        ol = self.query_one(OptionList)
        keep = ol.highlighted
        ol.set_options(options)
        if options:
            ol.highlighted = min(keep or 0, len(options) - 1)
        title = Text(end="")
        title.append("Questions on your work", style="bold")
        title.append(f"  {len(self._marks)} to resolve · k keep · c change · r remove (each with a reply)",
                     style="dim")
        if self._message:
            title.append("\n")
            title.append_text(plain(self._message, style="italic"))
        self.query_one("#questions-title", Static).update(title)

    def current(self):
        return highlighted(self.query_one(OptionList), self._marks)

    def action_resolve(self, action: str) -> None:
        m = self.current()
        if m is None:
            return
        session = self.tapp.session

        def with_reply(new_code: str | None) -> None:
            def answered(reply: str | None) -> None:
                if reply is None:
                    return
                try:
                    self.say(session.resolve_question(m.id, action, reply, new_code).message)
                except ChangeError as exc:
                    self.say(str(exc))

            self.app.push_screen(InputScreen(f"{action.capitalize()}: your reply to {m.reviewer}"), answered)

        if action == "change":
            items = [PickerItem(c.id, c.name, c.kind, payload=c.id) for c in self.tapp.project.codes()]
            if m.suggested_code_id:
                items.sort(key=lambda i: i.payload != m.suggested_code_id)

            def chosen(result: PickResult | None) -> None:
                if result and result.item:
                    with_reply(result.item.payload)

            self.app.push_screen(PickerScreen("Change the code to…", items), chosen)
        else:
            with_reply(None)

    @on(OptionList.OptionSelected)
    def _selected(self, event) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from .extracts import open_in_context

        m = self.current()
        if m is None or m.target_kind != "coding":
            return
        c = self.tapp.project.state.table("coding").get(m.target_id)
        if c is not None:
            open_in_context(self.tapp, c.response_id, c.start, c.end)

    def action_back(self) -> None:
        self.app.pop_screen()


# -- agreement -----------------------------------------------------------------------------------

SORTS = ("code", "kappa", "alpha", "agreement")


class AgreementScreen(Screen):
    """Agreement between coders on the responses they all marked done."""

    HELP_GROUP = "Agreement"
    BINDINGS = [
        Binding("escape", "back", "Back", id="agreement.back"),
        Binding("c", "coders", "Coders", id="agreement.coders"),
        Binding("u", "unit", "Response/character", id="agreement.unit"),
        Binding("s", "sort", "Sort", id="agreement.sort"),
        Binding("d", "disagreements", "Disagreements", id="agreement.disagreements"),
        Binding("enter", "code_disagreements", "This code's", show=False, id="agreement.code"),
        Binding("r", "recompute", "Work out again", show=False, id="agreement.recompute"),
    ]

    def __init__(self, coders: list[str] | None = None) -> None:
        super().__init__()
        self.coders = coders or []
        self.unit = "response"
        self.sort = "code"
        self.report = None
        self.stale = False  # the project changed since the figures shown (large projects)

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="agreement-title")
        yield Static(id="agreement-header")
        yield RowList(self._row, id="agreement-table", key=lambda c: c.code)
        yield Footer()

    def on_mount(self) -> None:
        if len(self.coders) < 2:
            ranked = sorted((c for c in self.tapp.project.done if c != CONSENSUS and self.tapp.project.done[c]),
                            key=lambda c: -len(self.tapp.project.done[c]))
            self.coders = ranked[:2]
        self.recompute()
        self.query_one(RowList).focus()

    def project_changed(self) -> None:
        if len(self.coders) >= 2 and C.shared_done(self.tapp.project, self.coders) > BIG_WORK:
            # not seconds behind a bar each time a colleague codes: say so, r when wanted
            self.stale = True
            self.show_report()
            return
        self.recompute()

    def action_recompute(self) -> None:
        self.recompute()

    def recompute(self) -> None:
        title = Text(end="")
        table = self.query_one(RowList)
        if len(self.coders) < 2:
            title.append("Agreement needs two coders who have marked responses done.", style="bold")
            title.append("\nc chooses the coders.", style="dim")
            self.query_one("#agreement-title", Static).update(title)
            table.set_rows([])
            return
        project, coders, unit = self.tapp.project, list(self.coders), self.unit
        size = C.shared_done(project, coders)
        if size > BIG_WORK:  # seconds on a large project: a thread, a bar, and Esc stops it
            def work(progress, cancel):
                wait_until_loaded(project, cancel)
                return C.project_agreement(project, coders, unit, progress, cancel)

            def finished(report) -> None:
                if report is not None:
                    self.report, self.stale = report, False
                    self.show_report()
                elif self.report is None:
                    if self.is_current:
                        self.app.pop_screen()  # stopped before there was anything to show
                else:  # stopped: keep showing the last figures, for what they were
                    self.coders, self.unit = list(self.report.coders), self.report.unit

            self.app.push_screen(ProgressScreen(
                f"Comparing {', '.join(coders)} over {size:,} responses…", work,
                report=False, writes=False), finished)
            return
        project.finish_loading()
        try:
            self.report = C.project_agreement(project, coders, unit)
        except (ValueError, ChangeError) as exc:
            title.append(str(exc), style="bold red")
            self.query_one("#agreement-title", Static).update(title)
            return
        self.stale = False
        self.show_report()

    def show_report(self) -> None:
        title = Text(end="")
        table = self.query_one(RowList)
        r = self.report
        if r is None:
            return
        o = r.overall
        title.append(f"Agreement: {', '.join(r.coders)}", style="bold")
        title.append(f" · {r.unit} as unit · {r.units_compared} responses compared "
                     f"(done by all), {r.units_excluded} excluded\n", style="dim")

        def fmt(stat) -> str:
            return "—" if stat.value is None else f"{stat.value:.3f}"

        title.append(f"Pooled over codes: agreement {fmt(o.percent_agreement)} · Cohen's κ {fmt(o.cohen_kappa)}"
                     f" · Krippendorff's α {fmt(o.krippendorff_alpha)}\n")
        title.append(f"Mean of per-code values: κ {fmt(o.mean_cohen_kappa)} · α {fmt(o.mean_krippendorff_alpha)}",
                     style="dim")
        if self.stale:
            title.append("\nThe project has changed since: r works the figures out again", style="bold yellow")
        self.query_one("#agreement-title", Static).update(title)
        head = cells(("code", 24), (Text("units", justify="right"), 6), (Text("both", justify="right"), 5),
                     *[(Text(f"{c[:6]}", justify="right"), 6) for c in r.coders],
                     (Text("none", justify="right"), 6), (Text("%agr", justify="right"), 5),
                     (Text("κ", justify="right"), 6), (Text("α", justify="right"), 6), ("why —", 0))
        head.stylize("bold dim")
        self.query_one("#agreement-header", Static).update(head)
        codes = list(r.codes)
        key = {
            "code": lambda c: c.code.casefold(),
            "kappa": lambda c: (c.cohen_kappa.value is None, c.cohen_kappa.value or 0),
            "alpha": lambda c: (c.krippendorff_alpha.value is None, c.krippendorff_alpha.value or 0),
            "agreement": lambda c: (c.percent_agreement.value is None, c.percent_agreement.value or 0),
        }[self.sort]
        codes.sort(key=key)
        table.set_rows(codes, keep=table.current_key)

    def _row(self, c, width: int) -> Text:
        coders = self.report.coders if self.report is not None else self.coders
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

    def action_coders(self) -> None:
        def chosen(names) -> None:
            if len(names) < 2:
                self.app.notify("Choose at least two coders (Tab marks several)", timeout=4)
                return
            self.coders = names
            self.recompute()

        pick_coder(self.tapp, "Compare which coders? (Tab marks several)", chosen, multi=True)

    def action_unit(self) -> None:
        self.unit = "character" if self.unit == "response" else "response"
        self.recompute()

    def action_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.show_report()

    def action_disagreements(self, code_name: str | None = None) -> None:
        if len(self.coders) >= 2:
            self.app.push_screen(DisagreementScreen(self.coders, code_name=code_name))

    def action_code_disagreements(self) -> None:
        current = self.query_one(RowList).current
        self.action_disagreements(current.code if current else None)

    @on(RowList.Selected)
    def _selected(self, event) -> None:
        event.stop()
        self.action_code_disagreements()

    def action_back(self) -> None:
        self.app.pop_screen()


class DisagreementScreen(Screen):
    """One disagreement at a time, each coder's extracts side by side; resolve into consensus."""

    HELP_GROUP = "Disagreements"
    BINDINGS = [
        Binding("escape", "back", "Back", id="disagree.back"),
        Binding("n,right", "move(1)", "Next", id="disagree.next"),
        Binding("p,left", "move(-1)", "Previous", id="disagree.previous"),
        *[Binding(str(i), f"keep({i})", f"Keep coder {i}'s version", show=False, id=f"disagree.keep_{i}")
          for i in range(1, 10)],
        Binding("b", "both", "Keep both", id="disagree.both"),
        Binding("x", "discuss", "Discuss", id="disagree.discuss"),
        Binding("s", "spans", "Span differences", show=False, id="disagree.spans"),
        Binding("r", "reload", "Find again", show=False, id="disagree.reload"),
    ]

    def __init__(self, coders: list[str], code_name: str | None = None) -> None:
        super().__init__()
        self.coders = coders
        self.code_name = code_name
        self.show_spans = True
        self.shown_spans: bool | None = None  # as last found (None: nothing found yet)
        self.stale = False  # the project changed since the queue was found (large projects)
        self.items: list[C.Disagreement] = []
        self.index = 0
        self._message = ""

    @property
    def tapp(self) -> TuiqaApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="disagree-title")
        yield Static(id="disagree-context")
        with Horizontal(id="disagree-panes"):
            for i, coder in enumerate(self.coders[:4], 1):
                with Vertical(classes="pane"):
                    yield Static(Text(f"{i} · {coder}", style="bold"), classes="pane-title")
                    yield ResponseView(id=f"pane-{i}", glyphs=self.tapp.glyphs)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Find every open disagreement again (on a thread behind a bar on a large project),
        then draw."""
        project, coders, spans, code_name = self.tapp.project, list(self.coders), self.show_spans, self.code_name

        def find(progress=None, cancel=None) -> list[C.Disagreement]:
            items = C.disagreements(project, coders, spans=spans, progress=progress, cancel=cancel)
            if code_name:
                items = [d for d in items if project.code_name(d.code_id) == code_name]
            return items

        def found(items: list[C.Disagreement] | None) -> None:
            if items is None:  # stopped (or failed: the user has been told)
                if self.shown_spans is None:
                    if self.is_current:
                        self.app.pop_screen()  # nothing to show yet: back where the user was
                    return
                self.show_spans = self.shown_spans  # what is on screen stays as it was
                return
            self.shown_spans, self.stale = spans, False
            self.items = items
            self.index = min(self.index, max(len(items) - 1, 0))
            self.draw()

        size = C.shared_done(project, coders)
        if size > BIG_WORK:
            def work(progress, cancel):
                wait_until_loaded(project, cancel)
                return find(progress, cancel)

            self.app.push_screen(ProgressScreen(
                f"Finding where {', '.join(coders)} differ, over {size:,} responses…", work,
                report=False, writes=False), found)
            return
        project.finish_loading()
        found(find())

    def project_changed(self) -> None:
        if C.shared_done(self.tapp.project, self.coders) > BIG_WORK:
            self.stale = True  # as for the agreement figures: say so, r when wanted
            self.draw()
            return
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def say(self, message: str) -> None:
        self._message = message
        self.draw()

    def draw(self) -> None:
        app = self.tapp
        project = app.project
        title = Text(end="")
        total = len(self.items)
        title.append("Disagreements", style="bold")
        if self.code_name:
            title.append(" on ")
            title.append_text(plain(self.code_name, style="bold"))
        title.append(f"  {self.index + 1 if total else 0} of {total}"
                     f"{' (span differences shown)' if self.show_spans else ''}", style="dim")
        if self._message:
            title.append("  │ ", style="dim")
            title.append_text(plain(self._message, style="italic"))
        if self.stale:
            title.append("\nThe project has changed since: r finds the disagreements again",
                         style="bold yellow")
        self.query_one("#disagree-title", Static).update(title)
        context = self.query_one("#disagree-context", Static)
        if not self.items:
            context.update(Text("No open disagreements: every difference is resolved.", style="italic"))
            for view in self.query(ResponseView):
                view.show("", [], 0, 0, response_key="")
            return
        item = self.items[self.index]
        head = response_header(app, item.response_id)
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
        context.update(head)
        text = project.responses[item.response_id].text
        for i, coder in enumerate(self.coders[:4], 1):
            marks = [Mark(i, c.start, c.end, colour) for c in item.codings.get(coder, [])]
            self.query_one(f"#pane-{i}", ResponseView).show(
                text, marks, 0, len(text), response_key=f"{item.response_id}:{item.code_id}:{coder}")

    def action_move(self, delta: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + delta))
            self._message = ""
            self.draw()

    def _resolve(self, decision: str, comment: str = "") -> None:
        if not self.items:
            return
        item = self.items[self.index]
        try:
            outcome = self.tapp.session.resolve_disagreement(item, decision, comment)
        except ChangeError as exc:
            self.say(str(exc))
            return
        # Only this response's disagreements can have changed: find those again, not all
        rid = item.response_id
        fresh = C.response_disagreements(self.tapp.project, self.coders, rid, spans=self.show_spans)
        if self.code_name:
            fresh = [d for d in fresh if self.tapp.project.code_name(d.code_id) == self.code_name]
        at = next(i for i, d in enumerate(self.items) if d.response_id == rid)
        self.items = self.items[:at] + fresh + [d for d in self.items[at:] if d.response_id != rid]
        self.index = min(self.index, max(len(self.items) - 1, 0))
        self.say(outcome.message)

    def action_keep(self, number: int) -> None:
        if number <= len(self.coders):
            self._resolve(f"keep:{self.coders[number - 1]}")

    def action_both(self) -> None:
        self._resolve("both")

    def action_discuss(self) -> None:
        def answered(comment: str | None) -> None:
            if comment is not None and comment.strip():
                self._resolve("discuss", comment)

        self.app.push_screen(InputScreen("What should the team discuss?"), answered)

    def action_spans(self) -> None:
        self.show_spans = not self.show_spans
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


def confirm_blind_off(app) -> None:
    def answered(yes: bool | None) -> None:
        if yes:
            app.session.set_blind(False)
            app.blind = False
            app.notify("Blind coding is off: you now see everyone's work", timeout=5)
            app.redraw_screen()

    app.push_screen(ConfirmScreen(
        "Turn blind coding off?",
        "You will see the other coders' codings, memos, review marks and counts. Do this only "
        "once your independent coding is finished.", yes="Turn it off", no="Stay blind"), answered)
