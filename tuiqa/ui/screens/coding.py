"""The coding screen: one response at a time, coded from the keyboard."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from ...colours import colour_for
from ...model import CODE_KINDS
from ...navigation import Filter, Navigator
from ...selection import Selection
from ...text import one_line
from ..actions import new_code_items, new_code_kind, open_memo, pick_coder
from ..base import ProjectScreen
from ..dialogs.picker import PickerItem, PickerScreen, PickResult
from ..views.coding import codings_view, recent_line, status_lines
from ..views.header import question_room, response_header
from ..widgets.response_view import ResponseView


class CodingScreen(ProjectScreen):
    """Read, select, code. All keys are listed in the help screen (``?``)."""

    HELP_GROUP = "Coding screen"
    BINDINGS = [
        # moving between responses
        Binding("n,pagedown", "next", "Next", id="coding.next"),
        Binding("p,pageup", "previous", "Prev", id="coding.previous"),
        Binding("N", "next_not_done", "Next not done", show=False, id="coding.next_not_done"),
        Binding("o", "toggle_order", "Order", show=False, id="coding.order"),
        Binding("g", "jump", "Go to", show=False, id="coding.jump"),
        Binding("f", "filter", "Filter", show=False, id="coding.filter"),
        # selecting an extract
        Binding("down,j", "sentence(1)", "Next sentence", show=False, id="coding.sentence_next"),
        Binding("up,k", "sentence(-1)", "Previous sentence", show=False, id="coding.sentence_prev"),
        Binding("shift+down,J", "extend_sentence(1)", "Extend by sentence", show=False,
                id="coding.extend_sentence"),
        Binding("shift+up,K", "extend_sentence(-1)", "Shrink by sentence", show=False,
                id="coding.shrink_sentence"),
        Binding("shift+right,L", "extend_word(1)", "Extend end by word", show=False,
                id="coding.extend_word"),
        Binding("shift+left,H", "extend_word(-1)", "Shrink end by word", show=False,
                id="coding.shrink_word"),
        Binding("left_square_bracket", "start_word(-1)", "Start back a word", show=False,
                id="coding.start_back"),
        Binding("right_square_bracket", "start_word(1)", "Start forward a word", show=False,
                id="coding.start_forward"),
        Binding("a,escape", "select_all", "Whole answer", show=False, id="coding.select_all"),
        # coding
        Binding("c,enter", "code", "Code", id="coding.code"),
        *[Binding(str(i), f"recent({i})", f"Apply recent code {i}", show=False,
                  id=f"coding.recent_{i}") for i in range(1, 10)],
        Binding("x,delete", "remove", "Uncode", id="coding.remove"),
        Binding("d", "toggle_done", "Done", id="coding.done"),
        Binding("u,ctrl+z", "undo", "Undo", id="coding.undo"),
        Binding("U,ctrl+r,ctrl+y", "redo", "Redo", show=False, id="coding.redo"),
        Binding("m", "memo", "Memo", id="coding.memo"),
        Binding("v", "toggle_view", "Mine/all", show=False, id="coding.view"),
        Binding("y", "copy_quote", "Copy quote", show=False, id="coding.copy"),
        Binding("b", "codebook", "Codebook", id="coding.codebook"),
        Binding("t", "themes", "Themes", id="coding.themes"),
        Binding("A", "agreement", "Agreement", show=False, id="coding.agreement"),
        Binding("R", "review", "Review a coder", show=False, id="coding.review"),
        Binding("Q", "questions", "Questions on my work", show=False, id="coding.questions"),
        Binding("backspace", "back", "Back", show=False, id="coding.back"),
    ]

    def __init__(self, *, in_context: bool = False) -> None:
        super().__init__()
        #: opened from a list (collated extracts …) to show an answer in context: Backspace returns
        self.in_context = in_context
        self.selection = Selection(0, 0)
        self.show_all_coders = True
        self._numbers: dict[str, int] = {}

    @property
    def nav(self) -> Navigator:
        return self.navigator

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="question")
        yield Static(id="participant")
        yield ResponseView(id="answer", glyphs=self.glyphs)
        yield Static(id="codings")
        yield Static(id="recent")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.show_all_coders = not self.lens.blind
        if not self.in_context:
            self._reset_selection()
        else:
            self.message = "In context · Backspace goes back"
        self.refresh_view()
        self.query_one(ResponseView).focus()

    def resumed(self) -> None:
        self.nav.sync()
        self.refresh_view()

    # -- drawing -----------------------------------------------------------------------------

    def _reset_selection(self) -> None:
        r = self.nav.current
        self.selection = Selection.whole(r.text) if r else Selection(0, 0)

    def visible_codings(self, response_id: str):
        return self.project.codings_for(response_id, self.lens.codings_coder(self.show_all_coders))

    def redraw(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        self.drawn()
        project = self.project
        r = self.nav.current
        question = self.query_one("#question", Static)
        participant = self.query_one("#participant", Static)
        codings_box = self.query_one("#codings", Static)
        view = self.query_one(ResponseView)
        if r is None:
            question.update(Text("No responses", style="bold"))
            participant.update(Text(self._empty_reason(), style="italic"))
            view.show("", [], 0, 0, response_key="")
            codings_box.update("")
            self.show_message()
            return
        q = project.questions.get(r.question_id)
        qline, pline = response_header(project, r.id, glyphs=self.glyphs, one_line=True,
                                       question_limit=question_room(self.size.width, q.key if q else "?"))
        question.update(qline)
        participant.update(pline)
        codings = codings_view(project, r, self.visible_codings(r.id), me=self.session.coder,
                               glyphs=self.glyphs, width=self.size.width, rows=self._codings_rows())
        self._numbers = codings.numbers
        codings_box.update(codings.lines)
        self.selection = self.selection.clamp(r.text)
        view.show(r.text, codings.marks, self.selection.start, self.selection.end, response_key=r.id)
        self.query_one("#recent", Static).update(recent_line(project, self.session.recent_codes))
        self.show_message()

    def _codings_rows(self) -> int:
        """Rows for the list of codings: 4 on a small terminal, more on a tall one.

        Fixed for a given terminal size, so moving between answers never shifts the screen."""
        height = self.app.size.height
        return 4 if height < 36 else min(12, height // 5)

    def on_resize(self) -> None:
        rows = self._codings_rows()
        box = self.query_one("#codings", Static)
        if box.styles.height is None or box.styles.height.value != rows:
            box.styles.height = rows
            self.refresh_view()

    def _empty_reason(self) -> str:
        if self.nav.filter is not None:
            return f"No participant has {self.nav.filter.describe()}. Press f to change the filter."
        return "This project has no responses yet: import a survey with `tuiqa import`."

    def show_message(self) -> None:
        r = self.nav.current
        selection = (self.selection.start, self.selection.end) \
            if r and not self.selection.is_whole(r.text) else None
        self.query_one("#status", Static).update(status_lines(
            self.project, self.nav, self.lens, self.glyphs, mine_only=not self.show_all_coders,
            selection=selection, message=self.message))

    # -- moving ------------------------------------------------------------------------------

    def _moved(self, moved: bool, otherwise: str = "") -> None:
        if moved:
            self.message = ""
            self._reset_selection()
            self.refresh_view()
        elif otherwise:
            self.say(otherwise)

    def action_next(self) -> None:
        self._moved(self.nav.move(1), "Last response")

    def action_previous(self) -> None:
        self._moved(self.nav.move(-1), "First response")

    def action_next_not_done(self) -> None:
        self._moved(self.nav.next_not_done(), "Every response here is done")

    def action_toggle_order(self) -> None:
        order = self.nav.toggle_order()
        self.message = f"Reading by {order}"
        self.refresh_view()

    def action_jump(self) -> None:
        project = self.project
        items: list[PickerItem] = []
        for q in project.questions_in_order():
            items.append(PickerItem(f"q:{q.id}", f"{q.key}  {one_line(q.text, 70)}",
                                    payload=("question", q.id), search=f"{q.key} {q.text}"))
        for part in project.participants_in_order():
            attrs = ", ".join(v for a in project.attributes if (v := part.attrs.get(a)))
            items.append(PickerItem(f"p:{part.id}", part.pid, attrs, payload=("participant", part.id),
                                    search=f"{part.pid} {attrs}"))

        def chosen(result: PickResult | None) -> None:
            if not result or not result.item:
                return
            kind, ident = result.item.payload
            ok = self.nav.first_of_question(ident) if kind == "question" else \
                self.nav.first_of_participant(ident)
            if ok:
                self._moved(True)
            else:
                self.say("No answers there" + (" with the current filter" if self.nav.filter else ""))

        self.app.push_screen(PickerScreen("Go to a question or participant", items), chosen)

    def action_filter(self) -> None:
        items = [PickerItem("all", "Show everyone (no filter)", payload=None)]
        for attr, value, count in self.nav.attribute_values():
            items.append(PickerItem(f"{attr}={value}", f"{attr} = {value or '(blank)'}",
                                    f"{count} participant(s)", payload=Filter(attr, value)))

        def chosen(result: PickResult | None) -> None:
            if not result or not result.item:
                return
            self.nav.set_filter(result.item.payload)
            self.message = f"Filter: {result.item.payload.describe()}" if result.item.payload else "No filter"
            self._reset_selection()
            self.refresh_view()

        self.app.push_screen(PickerScreen("Show only participants with…", items), chosen)

    # -- selecting ---------------------------------------------------------------------------

    def _select(self, new: Selection) -> None:
        r = self.nav.current
        if r is None:
            return
        self.message = ""
        self.selection = new.clamp(r.text)
        self.refresh_view()

    def on_response_view_clicked(self, event: ResponseView.Clicked) -> None:
        r = self.nav.current
        if r:
            self._select(self.selection.extend_to(r.text, event.offset) if event.extend
                         else Selection.sentence_at(r.text, event.offset))

    def action_sentence(self, step: int) -> None:
        r = self.nav.current
        if r:
            self._select(self.selection.next_sentence(r.text) if step > 0
                         else self.selection.prev_sentence(r.text))

    def action_extend_sentence(self, step: int) -> None:
        r = self.nav.current
        if r:
            self._select(self.selection.extend_sentence(r.text) if step > 0
                         else self.selection.shrink_sentence(r.text))

    def action_extend_word(self, step: int) -> None:
        r = self.nav.current
        if r:
            self._select(self.selection.extend_word(r.text) if step > 0
                         else self.selection.shrink_word(r.text))

    def action_start_word(self, step: int) -> None:
        r = self.nav.current
        if r:
            self._select(self.selection.start_back_word(r.text) if step < 0
                         else self.selection.start_forward_word(r.text))

    def action_select_all(self) -> None:
        r = self.nav.current
        if r:
            self._select(Selection.whole(r.text))

    # -- coding ------------------------------------------------------------------------------

    def _code_items(self) -> list[PickerItem]:
        recent = self.session.recent_codes
        rank_of = {cid: i for i, cid in enumerate(recent)}
        codes = self.project.codes()
        codes.sort(key=lambda c: (rank_of.get(c.id, 99), c.name.casefold()))
        return [PickerItem(c.id, c.name, c.kind + (f" · {one_line(c.description, 50)}"
                                                   if c.description else ""),
                           payload=c.id, style=colour_for(c.id, c.colour)) for c in codes]

    def action_code(self) -> None:
        r = self.nav.current
        if r is None:
            return
        extract = self.selection.extract(r.text)
        title = "Code " + ("the whole answer" if self.selection.is_whole(r.text)
                           else f"“{one_line(extract, 50)}”")

        def chosen(result: PickResult | None) -> None:
            if not result or not result.items:
                return
            kind = new_code_kind(result.items[0])
            session = self.session
            if kind is not None:
                assert kind in CODE_KINDS
                name = " ".join(result.query.split())
                outcome = session.create_and_apply(r.id, self.selection.start, self.selection.end,
                                                   name, kind)
            else:
                outcome = session.apply_codes(r.id, self.selection.start, self.selection.end,
                                              [item.payload for item in result.items])
            self.say(outcome.message)
            self.refresh_view()

        self.app.push_screen(PickerScreen(title, self._code_items(), multi=True,
                                          extra=lambda query: new_code_items(self.project, query),
                                          placeholder="type a code (new names can be created)…"),
                             chosen)

    def action_recent(self, number: int) -> None:
        r = self.nav.current
        recent = self.session.recent_codes
        if r is None:
            return
        if number > len(recent):
            self.say(f"No recent code on {number} yet")
            return
        outcome = self.session.apply_codes(r.id, self.selection.start, self.selection.end,
                                                [recent[number - 1]])
        self.say(outcome.message)
        self.refresh_view()

    def _mine_here(self):
        r = self.nav.current
        if r is None:
            return []
        return [c for c in self.project.codings_for(r.id) if c.coder == self.session.coder]

    def action_remove(self) -> None:
        r = self.nav.current
        mine = self._mine_here()
        if r is None or not mine:
            self.say("You have no codings on this answer")
            return
        overlapping = [c for c in mine if c.start < self.selection.end and self.selection.start < c.end]
        if len(mine) == 1 or (len(overlapping) == 1 and not self.selection.is_whole(r.text)):
            target = mine[0] if len(mine) == 1 else overlapping[0]
            self.say(self.session.remove_coding(target.id).message + " (u undoes)")
            self.refresh_view()
            return
        items = []
        for c in mine:
            n = self._numbers.get(c.id, 0)
            items.append(PickerItem(c.id, f"{n}  {self.project.code_name(c.code_id)}",
                                    one_line(r.text[c.start:c.end], 50), payload=c.id))

        def chosen(result: PickResult | None) -> None:
            if not result:
                return
            messages = [self.session.remove_coding(item.payload).message for item in result.items]
            self.say("; ".join(messages) + " (u undoes)")
            self.refresh_view()

        self.app.push_screen(PickerScreen("Remove which coding?", items, multi=True), chosen)

    def action_toggle_done(self) -> None:
        r = self.nav.current
        if r:
            self.say(self.session.toggle_done(r.id).message)

    def action_undo(self) -> None:
        self.say(self.session.undo().message)
        self.refresh_view()

    def action_redo(self) -> None:
        self.say(self.session.redo().message)
        self.refresh_view()

    def action_memo(self) -> None:
        r = self.nav.current
        if r is None:
            return
        part = self.project.participants.get(r.participant_id)
        q = self.project.questions.get(r.question_id)
        open_memo(self, "response", r.id, f"Memo on {part.pid if part else '?'} {q.key if q else '?'}",
                  dated=True)

    def action_toggle_view(self) -> None:
        if self.lens.blind:
            self.say("Blind coding: only your own codings are shown")
            return
        self.show_all_coders = not self.show_all_coders
        self.message = "Showing everyone's codings" if self.show_all_coders else "Showing only yours"
        self.refresh_view()

    def action_copy_quote(self) -> None:
        from ...quotes import quote

        r = self.nav.current
        if r is None:
            return
        extract = self.selection.extract(r.text)
        text = quote(extract, self.session.attribution(r))
        self.copy(text, "the quote" if not self.selection.is_whole(r.text) else "the answer as a quote")

    def action_codebook(self) -> None:
        self.open("codebook")

    def action_themes(self) -> None:
        self.open("themes")

    def action_agreement(self) -> None:
        if not self.refuse_if_blind("agreement"):
            self.open("agreement")

    def action_review(self) -> None:
        if not self.refuse_if_blind("the review"):
            pick_coder(self, "Review whose work?", lambda coder: self.open("review", coder=coder),
                       exclude={self.session.coder, "consensus"})

    def action_questions(self) -> None:
        if not self.refuse_if_blind("the reviewers' questions"):
            self.open("questions")

    def action_back(self) -> None:
        if self.in_context:
            self.app.pop_screen()
        else:
            self.say("Backspace goes back from an answer opened in context")

    # -- outside changes ---------------------------------------------------------------------

    def project_changed(self) -> None:
        """Another session's change or a reload arrived."""
        self.nav.sync()
        self.refresh_view()
