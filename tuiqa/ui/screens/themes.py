"""The themes screen: overarching themes → themes → sub-themes → codes, built from the keyboard."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, RadioButton, RadioSet, Static, TextArea, Tree

from ... import themes as T
from ...colours import colour_for
from ...model import THEME_STATUSES
from ...project import ChangeError
from ...text import one_line
from ..actions import open_memo
from ..base import ProjectModal, ProjectScreen
from ..dialogs.basic import ConfirmScreen, InputScreen
from ..dialogs.picker import PickerItem, PickerScreen, PickResult
from ..views import themes as view
from ..views.status import status_line

UNASSIGNED = "pile:unassigned"
INLINE_CODES = 400
MISC = "pile:misc"


class ThemesScreen(ProjectScreen):
    """Build the thematic map. Enter reviews a theme (or a code's extracts)."""

    HELP_GROUP = "Themes"
    BINDINGS = [
        Binding("escape,t", "back", "Back", id="themes.back"),
        Binding("n", "new_theme", "New theme", id="themes.new"),
        Binding("O", "new_overarching", "New overarching", show=False, id="themes.new_overarching"),
        Binding("s", "new_subtheme", "New sub-theme", show=False, id="themes.new_sub"),
        Binding("a", "assign", "Assign codes", id="themes.assign"),
        Binding("x", "unassign", "Take code out", show=False, id="themes.unassign"),
        Binding("p", "park", "Park in misc", show=False, id="themes.park"),
        Binding("r", "rename", "Rename", show=False, id="themes.rename"),
        Binding("e", "edit", "Edit", id="themes.edit"),
        Binding("v", "move", "Move under…", show=False, id="themes.move"),
        Binding("K,ctrl+up", "reorder(-1)", "Move up", show=False, id="themes.up"),
        Binding("J,ctrl+down", "reorder(1)", "Move down", show=False, id="themes.down"),
        Binding("D,delete", "delete", "Delete", show=False, id="themes.delete"),
        Binding("M", "map", "Map", id="themes.map"),
        Binding("V", "versions", "Versions", id="themes.versions"),
        Binding("g", "groups", "Group check", show=False, id="themes.groups"),
        Binding("m", "memo", "Memo on theme", show=False, id="themes.memo"),
        Binding("u,ctrl+z", "undo", "Undo", show=False, id="themes.undo"),
        Binding("U,ctrl+r,ctrl+y", "redo", "Redo", show=False, id="themes.redo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._map: T.ThemeMap | None = None
        self._counts: dict[str, T.Counts] = {}
        self._collapsed: set[str] = set()
        self._expanded: set[str] = set()
        self._lazy: dict[str, list[str]] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="themes-title")
        tree: Tree[Any] = Tree(Text("Thematic map"), id="themes-tree")
        tree.show_root = False
        tree.guide_depth = 3
        tree.auto_expand = False  # Enter reviews; Space folds and unfolds
        yield tree
        yield Static(id="themes-detail")
        yield Static(id="themes-status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_tree()
        self.query_one(Tree).focus()

    def redraw(self) -> None:
        self.refresh_tree()

    # -- drawing -----------------------------------------------------------------------------

    def refresh_tree(self, keep: str | None = None) -> None:
        self.drawn()
        project = self.project
        tree = self.query_one(Tree)
        if keep is None:
            keep = self.current_key()
        for node in self._all_nodes(tree.root):
            if node.data and node.allow_expand:
                (self._collapsed.add if not node.is_expanded else self._collapsed.discard)(node.data[1])
                (self._expanded.add if node.is_expanded else self._expanded.discard)(node.data[1])
        self._map = T.build(project)
        self._counts = view.counts(project, self._map, self.lens)
        tree.clear()
        cursor_node = None
        # With many codes, a theme's code leaves are made when it is first unfolded (Textual's
        # tree costs ~0.1 ms a node); small projects show everything at once.
        many = len(project.codes()) > INLINE_CODES
        self._lazy = {}

        def add_codes(branch, key: str, code_ids: list[str]) -> None:
            nonlocal cursor_node
            for cid in code_ids:
                leaf = branch.add_leaf(self._code_label(cid), data=("code", f"{key}/{cid}"))
                if f"{key}/{cid}" == keep:
                    cursor_node = leaf

        def wants_open(key: str) -> bool:
            return key in self._expanded if many else key not in self._collapsed

        def add_theme(parent, node: T.Node) -> None:
            nonlocal cursor_node
            key = node.id
            keep_here = keep is not None and keep.startswith(key + "/")
            open_ = wants_open(key) or keep_here or (many and bool(node.children))
            branch = parent.add(self._theme_label(node), data=("theme", key), expand=open_,
                                allow_expand=bool(node.code_ids or node.children))
            if key == keep:
                cursor_node = branch
            if open_ or not many:
                add_codes(branch, key, node.code_ids)
            else:
                self._lazy[key] = node.code_ids
            for child in node.children:
                add_theme(branch, child)

        for root in self._map.roots:
            add_theme(tree.root, root)
        for key, title, codes in ((MISC, "Miscellaneous (parked on purpose)", self._map.miscellaneous),
                                  (UNASSIGNED, "Unassigned codes", self._map.unassigned)):
            keep_here = keep is not None and keep.startswith(key + "/")
            open_ = wants_open(key) or keep_here
            pile = tree.root.add(view.pile_label(title, len(codes)), data=("pile", key),
                                 expand=open_, allow_expand=bool(codes))
            if key == keep:
                cursor_node = pile
            ids = [c.id for c in codes]
            if open_ or not many:
                add_codes(pile, key, ids)
            else:
                self._lazy[key] = ids
        if cursor_node is not None:
            self._put_cursor(tree, cursor_node)
        self._update_title()
        self._update_detail()

    @staticmethod
    def _put_cursor(tree, node) -> None:
        tree.last_line  # (re)number the lines now: a node's line is known only after that
        tree.move_cursor(node)

    def _all_nodes(self, node):
        for child in node.children:
            yield child
            yield from self._all_nodes(child)

    def _theme_label(self, node: T.Node) -> Text:
        return view.theme_label(node, self._counts.get(node.id))

    def _code_label(self, cid: str) -> Text:
        return view.code_label(self.project, self._map, cid, self._counts.get(f"code:{cid}"))

    def _update_title(self) -> None:
        if self._map is None:
            return
        self.query_one("#themes-title", Static).update(view.title(self._map))
        self.show_message()

    def show_message(self) -> None:
        self.query_one("#themes-status", Static).update(status_line(self.message, view.HINT))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event) -> None:
        self._update_detail()

    @on(Tree.NodeExpanded)
    def _expanded_node(self, event) -> None:
        node = event.node
        if not node.data:
            return
        key = node.data[1]
        codes = self._lazy.pop(key, None)
        if codes is not None:
            for cid in codes:
                node.add_leaf(self._code_label(cid), data=("code", f"{key}/{cid}"))

    def _update_detail(self) -> None:
        kind, key = self.current() or (None, None)
        detail = Text(end="")
        if kind == "theme" and self._map and key in self._map.by_id:
            detail = view.theme_detail(self.project, self._map.by_id[key], self.lens)
        elif kind == "code" and self._map and key:
            detail = view.code_detail(self.project, self._map, key.split("/", 1)[1])
        self.query_one("#themes-detail", Static).update(detail)

    # -- where am I ----------------------------------------------------------------------------

    def current(self) -> tuple[str, str] | None:
        node = self.query_one(Tree).cursor_node
        return node.data if node is not None and node.data else None

    def current_key(self) -> str | None:
        cur = self.current()
        return cur[1] if cur else None

    def current_theme_id(self) -> str | None:
        """The highlighted theme, or the theme of the highlighted code."""
        cur = self.current()
        if cur is None:
            return None
        kind, key = cur
        if kind == "theme":
            return key
        if kind == "code" and not key.startswith("pile:"):
            return key.split("/", 1)[0]
        return None

    def current_code(self) -> tuple[str, str] | None:
        """(where, code id) for a highlighted code: where is a theme id or a pile key."""
        cur = self.current()
        if cur is None or cur[0] != "code":
            return None
        where, cid = cur[1].split("/", 1)
        return where, cid

    # -- actions -----------------------------------------------------------------------------

    def _ask_name(self, title: str, then) -> None:
        def answered(value: str | None) -> None:
            if value is not None and value.strip():
                then(value)

        self.app.push_screen(InputScreen(title), answered)

    def _create(self, name: str, parent_id: str | None, overarching: bool) -> None:
        try:
            outcome, ident = self.session.create_theme(name, parent_id=parent_id,
                                                            overarching=overarching)
        except ChangeError as exc:
            self.say(str(exc))
            return
        self.say(outcome.message)
        self.refresh_tree(keep=ident)

    def action_new_theme(self) -> None:
        parent = None
        tid = self.current_theme_id()
        if tid and self._map and tid in self._map.by_id and self._map.by_id[tid].level == T.OVERARCHING:
            parent = tid
        where = f" under “{one_line(self._map.by_id[parent].theme.name, 30)}”" if parent and self._map else ""
        self._ask_name(f"New theme{where}: its name", lambda name: self._create(name, parent, False))

    def action_new_overarching(self) -> None:
        self._ask_name("New overarching theme: its name", lambda name: self._create(name, None, True))

    def action_new_subtheme(self) -> None:
        tid = self.current_theme_id()
        if tid is None:
            self.say("Highlight a theme first")
            return
        name = one_line(self._map.by_id[tid].theme.name, 30) if self._map else ""
        self._ask_name(f"New sub-theme under “{name}”", lambda value: self._create(value, tid, False))

    def action_assign(self) -> None:
        tid = self.current_theme_id()
        if tid is None:
            self.say("Highlight the theme to assign codes to")
            return
        project = self.project
        here = set(self._map.by_id[tid].code_ids) if self._map else set()
        held = self._map.themes_of_code if self._map else {}
        items = []
        for c in project.codes():
            if c.id in here:
                continue
            where = ", ".join(one_line(self._map.by_id[t].theme.name, 20) for t in held.get(c.id, [])
                              if self._map and t in self._map.by_id)
            items.append(PickerItem(c.id, c.name, f"in {where}" if where else
                                    ("miscellaneous" if c.parked else "unassigned"),
                                    payload=c.id, style=colour_for(c.id, c.colour)))
        # unassigned codes first: they are the ones waiting for a place
        items.sort(key=lambda i: (not i.detail.startswith("unassigned"), i.label.casefold()))

        def chosen(result: PickResult | None) -> None:
            if result and result.items:
                self.say(self.session.assign_codes(tid, [i.payload for i in result.items]).message)
                self.refresh_tree(keep=tid)

        name = one_line(self._map.by_id[tid].theme.name, 40) if self._map else ""
        self.app.push_screen(PickerScreen(f"Codes for “{name}” (Tab marks several)", items,
                                          multi=True), chosen)

    def action_unassign(self) -> None:
        code = self.current_code()
        if code is None:
            self.say("Highlight a code under a theme")
            return
        where, cid = code
        if where == MISC:
            self.say(self.session.park_code(cid, False).message)
        elif where == UNASSIGNED:
            self.say("That code is under no theme")
            return
        else:
            self.say(self.session.unassign_code(where, cid).message)
        self.refresh_tree()

    def action_park(self) -> None:
        code = self.current_code()
        if code is None:
            self.say("Highlight a code")
            return
        where, cid = code
        if where == MISC:
            self.say(self.session.park_code(cid, False).message)
        elif where == UNASSIGNED:
            self.say(self.session.park_code(cid, True).message)
        else:
            self.say("Only codes under no theme can be parked: take it out of its themes first (x)")
            return
        self.refresh_tree(keep=f"{MISC if where == UNASSIGNED else UNASSIGNED}/{cid}")

    def _theme_or_say(self) -> str | None:
        cur = self.current()
        if cur is None or cur[0] != "theme":
            self.say("Highlight a theme")
            return None
        return cur[1]

    def action_rename(self) -> None:
        tid = self._theme_or_say()
        if tid is None:
            return
        name = self._map.by_id[tid].theme.name if self._map else ""

        def answered(value: str | None) -> None:
            if value is not None:
                try:
                    self.say(self.session.edit_theme(tid, name=value).message)
                except ChangeError as exc:
                    self.say(str(exc))
                self.refresh_tree(keep=tid)

        self.app.push_screen(InputScreen("Rename the theme", name), answered)

    def action_edit(self) -> None:
        tid = self._theme_or_say()
        if tid is not None:
            self.app.push_screen(ThemeEditScreen(tid), lambda message: self.say(message) if message else None)

    def action_memo(self) -> None:
        tid = self._theme_or_say()
        if tid is not None:
            open_memo(self, "theme", tid, "Memo on the theme", then=self._update_detail)

    def action_move(self) -> None:
        tid = self._theme_or_say()
        if tid is None or self._map is None:
            return
        banned = T.descendants(self.project, tid) | {tid}
        items = [PickerItem("top", "(the top level)", payload=None)]
        for node in self._map.by_id.values():
            if node.id in banned:
                continue
            items.append(PickerItem(node.id, node.theme.name, node.level, payload=node.id))

        def chosen(result: PickResult | None) -> None:
            if result and result.item:
                try:
                    self.say(self.session.move_theme(tid, result.item.payload).message)
                except ChangeError as exc:
                    self.say(str(exc))
                self.refresh_tree(keep=tid)

        self.app.push_screen(PickerScreen(f"Move “{one_line(self._map.by_id[tid].theme.name, 40)}” under…",
                                          items), chosen)

    def action_reorder(self, delta: int) -> None:
        tid = self._theme_or_say()
        if tid is not None:
            self.say(self.session.reorder_theme(tid, delta).message)
            self.refresh_tree(keep=tid)

    def action_delete(self) -> None:
        tid = self._theme_or_say()
        if tid is None or self._map is None:
            return
        node = self._map.by_id[tid]

        def answered(yes: bool | None) -> None:
            if yes:
                self.say(self.session.delete_theme(tid).message)
                self.refresh_tree()

        self.app.push_screen(ConfirmScreen(
            f"Delete the {node.level} “{node.theme.name}”?",
            f"Its {len(node.code_ids)} code(s) return to the unassigned pile (unless placed elsewhere); "
            f"its {len(node.children)} sub-theme(s) move up. u undoes it.", yes="Delete", no="Keep"),
            answered)

    def action_map(self) -> None:
        self.open("map")

    def action_versions(self) -> None:
        self.open("versions")

    def action_groups(self) -> None:
        self.open("compare", what="theme")

    @on(Tree.NodeSelected)
    def _selected(self, event) -> None:
        event.stop()
        cur = self.current()
        if cur is None:
            return
        kind, key = cur
        if kind == "theme":
            self.open("theme_review", theme_id=key)
        elif kind == "code":
            self.open("extracts", code_id=key.split("/", 1)[1])

    def action_undo(self) -> None:
        self.say(self.session.undo().message)
        self.refresh_tree()

    def action_redo(self) -> None:
        self.say(self.session.redo().message)
        self.refresh_tree()


class ThemeEditScreen(ProjectModal[str]):
    """Name, central organising concept, description, status of a theme (dismissed with what
    saving it did, for the screen below to say)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="theme_edit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="theme_edit.cancel"),
    ]

    def __init__(self, theme_id: str) -> None:
        super().__init__()
        self.theme_id = theme_id

    def compose(self) -> ComposeResult:
        theme = self.project.theme(self.theme_id)
        assert theme is not None
        with Vertical(id="theme-edit", classes="dialog"):
            yield Static(Text(f"Edit the theme “{one_line(theme.name, 50)}”", style="bold"))
            yield Static(Text("Name", style="dim"))
            yield Input(theme.name, id="theme-name")
            yield Static(Text("Central organising concept (one sentence)", style="dim"))
            yield Input(theme.concept or "", id="theme-concept")
            yield Static(Text("Description", style="dim"))
            yield TextArea(theme.description or "", id="theme-description", soft_wrap=True)
            with RadioSet(id="theme-status"):
                for status in THEME_STATUSES:
                    yield RadioButton(status, value=theme.status == status, id=f"status-{status}")
            yield Static(Text("Ctrl+S saves · Esc cancels", style="dim"), id="theme-hint")

    def on_mount(self) -> None:
        for widget in [*self.query(Input), *self.query(TextArea)]:
            widget.cursor_blink = False
        self.query_one("#theme-name", Input).focus()

    def action_save(self) -> None:
        status = next((s for s in THEME_STATUSES if self.query_one(f"#status-{s}", RadioButton).value),
                      "candidate")
        try:
            outcome = self.session.edit_theme(
                self.theme_id, name=self.query_one("#theme-name", Input).value,
                concept=self.query_one("#theme-concept", Input).value,
                description=self.query_one("#theme-description", TextArea).text, status=status)
        except ChangeError as exc:
            self.query_one("#theme-hint", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(outcome.message)

    def action_cancel(self) -> None:
        self.dismiss("")
