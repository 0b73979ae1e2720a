"""The team review step: appropriateness review, questions to resolve, agreement, disagreements."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ... import coders as C
from ... import review as RV
from ...agreement import AgreementReport
from ...model import ReviewMark
from ...project import ChangeError
from .. import loading
from ..actions import pick_code, pick_coder
from ..base import ListScreen, ProjectScreen
from ..dialogs.basic import InputScreen
from ..dialogs.progress import BIG_WORK, ProgressScreen
from ..render import Mark
from ..views import team as view
from ..widgets.lists import fill_keeping_place
from ..widgets.response_view import ResponseView
from ..widgets.rowlist import RowList

# -- appropriateness review ----------------------------------------------------------------------


class ReviewScreen(ProjectScreen):
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

    def compose(self) -> ComposeResult:
        yield Static(id="review-progress")
        yield Static(id="review-context")
        yield ResponseView(id="review-answer", glyphs=self.glyphs)
        yield Static(id="review-mark")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.query_one(ResponseView).focus()
        first = next((i for i, item in enumerate(self.items) if item.mark is None), 0)
        self.index = first
        self.draw()

    def reload(self) -> None:
        self.drawn()
        self.items = RV.items_to_review(self.project, self.coder, self.session.coder, kind=self.kind)
        self.index = min(self.index, max(len(self.items) - 1, 0))

    def redraw(self) -> None:
        self.reload()
        self.draw()

    def show_message(self) -> None:
        self.draw()

    def current(self) -> RV.ReviewItem | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def draw(self) -> None:
        self.query_one("#review-progress", Static).update(
            view.review_progress(self.coder, self.kind, self.index, self.items, self.message))
        item = self.current()
        answer = self.query_one(ResponseView)
        context = self.query_one("#review-context", Static)
        mark_box = self.query_one("#review-mark", Static)
        if item is None:
            context.update(Text(f"{self.coder} has no {self.kind}s to review.", style="italic"))
            answer.show("", [], 0, 0, response_key="")
            mark_box.update("")
            return
        shown = view.reviewed_item(self.project, item, self.coder, self.glyphs)
        context.update(shown.context)
        answer.show(shown.text, shown.marks, *shown.selection, response_key=shown.key)
        mark_box.update(shown.info)

    def action_move(self, delta: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + delta))
            self.message = ""
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
        outcome = self.session.review_mark(item.kind, item.target_id, verdict, **kw)
        self.reload()
        self.message = outcome.message
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
        pick_code(self, "Suggest another code",
                  lambda picked, _query: self._mark("questionable", suggested_code_id=picked.payload))

    def action_toggle_kind(self) -> None:
        self.kind = "theme" if self.kind == "coding" else "coding"
        self.index = 0
        self.reload()
        self.draw()


class QuestionsScreen(ListScreen):
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
        self._marks: list[ReviewMark] = []

    def compose(self) -> ComposeResult:
        yield Static(id="questions-title")
        yield OptionList(id="questions-list", markup=False)
        yield Footer()

    def redraw(self) -> None:
        self.refresh_list()

    def refresh_list(self) -> None:
        self.drawn()
        self._marks = RV.open_questions(self.project, self.session.coder)
        fill_keeping_place(self.query_one(OptionList),
                           [Option(view.question(self.project, m)) for m in self._marks])
        self.query_one("#questions-title", Static).update(view.questions_title(len(self._marks), self.message))

    def current(self) -> ReviewMark | None:
        return self.highlighted_item(self._marks)

    def action_resolve(self, action: str) -> None:
        m = self.current()
        if m is None:
            return
        session = self.session

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
            pick_code(self, "Change the code to…", lambda item, _query: with_reply(item.payload),
                      first=m.suggested_code_id)
        else:
            with_reply(None)

    def action_open(self) -> None:
        m = self.current()
        if m is None or m.target_kind != "coding":
            return
        c = self.project.coding(m.target_id)
        if c is not None:
            self.show_in_context(c.response_id, c.start, c.end)


# -- agreement -----------------------------------------------------------------------------------


class AgreementScreen(ProjectScreen):
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
        self.report: AgreementReport | None = None
        self.stale = False  # the project changed since the figures shown (large projects)

    def compose(self) -> ComposeResult:
        yield Static(id="agreement-title")
        yield Static(id="agreement-header")
        yield RowList(self._row, id="agreement-table", key=lambda c: c.code)
        yield Footer()

    def on_mount(self) -> None:
        if len(self.coders) < 2:
            self.coders = view.coders_to_compare(self.project)
        self.recompute()
        self.query_one(RowList).focus()

    def redraw(self) -> None:
        self.recompute()

    def resumed(self) -> None:
        """Coming back does not work the figures out again (seconds on a large project)."""

    def show_message(self) -> None:
        if self.report is None:
            self.query_one("#agreement-title", Static).update(view.agreement_needs_coders(self.message))
        else:
            self.show_report()

    def project_changed(self) -> None:
        if len(self.coders) >= 2 and C.shared_done(self.project, self.coders) > BIG_WORK:
            # not seconds behind a bar each time a colleague codes: say so, r when wanted
            self.stale = True
            self.show_report()
            return
        self.recompute()

    def action_recompute(self) -> None:
        self.recompute()

    def recompute(self) -> None:
        table = self.query_one(RowList)
        if len(self.coders) < 2:
            self.query_one("#agreement-title", Static).update(view.agreement_needs_coders(self.message))
            table.set_rows([])
            return
        project, coders, unit = self.project, list(self.coders), self.unit
        size = C.shared_done(project, coders)
        if size > BIG_WORK:  # seconds on a large project: a thread, a bar, and Esc stops it
            def work(progress, cancel):
                loading.wait_until_whole(project, cancel)
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
        loading.make_whole(project)
        try:
            self.report = C.project_agreement(project, coders, unit)
        except (ValueError, ChangeError) as exc:
            self.query_one("#agreement-title", Static).update(Text(str(exc), style="bold red", end=""))
            return
        self.stale = False
        self.show_report()

    def show_report(self) -> None:
        r = self.report
        if r is None:
            return
        self.drawn()
        self.query_one("#agreement-title", Static).update(view.agreement_title(r, self.stale, self.message))
        self.query_one("#agreement-header", Static).update(view.agreement_header(list(r.coders)))
        table = self.query_one(RowList)
        table.set_rows(view.sorted_codes(r, self.sort), keep=table.current_key)

    def _row(self, c, width: int) -> Text:
        return view.agreement_row(c, list(self.report.coders) if self.report is not None else self.coders)

    def action_coders(self) -> None:
        def chosen(names) -> None:
            if len(names) < 2:
                self.app.notify("Choose at least two coders (Tab marks several)", timeout=4)
                return
            self.coders = names
            self.recompute()

        pick_coder(self, "Compare which coders? (Tab marks several)", chosen, multi=True)

    def action_unit(self) -> None:
        self.unit = "character" if self.unit == "response" else "response"
        self.recompute()

    def action_sort(self) -> None:
        self.sort = view.SORTS[(view.SORTS.index(self.sort) + 1) % len(view.SORTS)]
        self.show_report()

    def action_disagreements(self, code_name: str | None = None) -> None:
        if len(self.coders) >= 2:
            self.open("disagreements", coders=self.coders, code_name=code_name)

    def action_code_disagreements(self) -> None:
        current = self.query_one(RowList).current
        self.action_disagreements(current.code if current else None)

    @on(RowList.Selected)
    def _selected(self, event) -> None:
        event.stop()
        self.action_code_disagreements()


class DisagreementScreen(ProjectScreen):
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

    def compose(self) -> ComposeResult:
        yield Static(id="disagree-title")
        yield Static(id="disagree-context")
        with Horizontal(id="disagree-panes"):
            for i, coder in enumerate(self.coders[:4], 1):
                with Vertical(classes="pane"):
                    yield Static(Text(f"{i} · {coder}", style="bold"), classes="pane-title")
                    yield ResponseView(id=f"pane-{i}", glyphs=self.glyphs)
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def redraw(self) -> None:
        self.reload()

    def resumed(self) -> None:
        """Coming back does not find the disagreements again (seconds on a large project)."""

    def show_message(self) -> None:
        self.draw()

    def reload(self) -> None:
        """Find every open disagreement again (on a thread behind a bar on a large project),
        then draw."""
        project, coders, spans, code_name = self.project, list(self.coders), self.show_spans, self.code_name

        def find(progress=None, cancel=None) -> list[C.Disagreement]:
            items = C.disagreements(project, coders, spans=spans, progress=progress, cancel=cancel)
            return view.of_code(project, items, code_name)

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
                loading.wait_until_whole(project, cancel)
                return find(progress, cancel)

            self.app.push_screen(ProgressScreen(
                f"Finding where {', '.join(coders)} differ, over {size:,} responses…", work,
                report=False, writes=False), found)
            return
        loading.make_whole(project)
        found(find())

    def project_changed(self) -> None:
        if C.shared_done(self.project, self.coders) > BIG_WORK:
            self.stale = True  # as for the agreement figures: say so, r when wanted
            self.draw()
            return
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def draw(self) -> None:
        self.drawn()
        project = self.project
        self.query_one("#disagree-title", Static).update(view.disagreements_title(
            self.code_name, self.index, len(self.items), spans=self.show_spans, message=self.message,
            stale=self.stale))
        context = self.query_one("#disagree-context", Static)
        if not self.items:
            context.update(Text(view.NO_DISAGREEMENTS, style="italic"))
            for pane in self.query(ResponseView):
                pane.show("", [], 0, 0, response_key="")
            return
        item = self.items[self.index]
        head, colour = view.disagreement(project, item, self.glyphs)
        context.update(head)
        text = project.responses[item.response_id].text
        for i, coder in enumerate(self.coders[:4], 1):
            marks = [Mark(i, c.start, c.end, colour) for c in item.codings.get(coder, [])]
            self.query_one(f"#pane-{i}", ResponseView).show(
                text, marks, 0, len(text), response_key=f"{item.response_id}:{item.code_id}:{coder}")

    def action_move(self, delta: int) -> None:
        if self.items:
            self.index = max(0, min(len(self.items) - 1, self.index + delta))
            self.message = ""
            self.draw()

    def _resolve(self, decision: str, comment: str = "") -> None:
        if not self.items:
            return
        item = self.items[self.index]
        try:
            outcome = self.session.resolve_disagreement(item, decision, comment)
        except ChangeError as exc:
            self.say(str(exc))
            return
        # Only this response's disagreements can have changed: find those again, not all
        rid = item.response_id
        fresh = view.of_code(self.project, C.response_disagreements(
            self.project, self.coders, rid, spans=self.show_spans), self.code_name)
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
