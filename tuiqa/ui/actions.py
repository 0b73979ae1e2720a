"""Steps that several screens take the same way: choose a coder, choose a code, write a memo on
a code, copy a code's quotes, confirm leaving blind coding. Each opens a dialog over the screen
that asked and hands the answer back to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from .. import codebook
from ..colours import colour_for
from ..model import LATENT, SEMANTIC, Code
from ..text import one_line
from .dialogs.picker import PickerItem, PickerScreen, PickResult

if TYPE_CHECKING:
    from .app import TuiqaApp
    from .base import ProjectScreen

NEW = "new:"


def pick_coder(screen: ProjectScreen, title: str, then: Callable, *,
               exclude: Iterable[str] = (), multi: bool = False) -> None:
    """Choose a coder (or several, ``multi``) among those with codings or done marks."""
    project = screen.project
    names = [c for c in sorted(set(project.coders()) | set(project.done)) if c not in set(exclude)]
    items = [PickerItem(c, c, f"{len(project.done.get(c, ()))} done, "
                        f"{project.coder_counts.get(c, 0)} codings", payload=c) for c in names]
    if not items:
        screen.say("There is no other coder in this project yet")
        return

    def chosen(result: PickResult | None) -> None:
        if result and result.items:
            then([i.payload for i in result.items] if multi else result.items[0].payload)

    screen.app.push_screen(PickerScreen(title, items, multi=multi), chosen)


def code_items(codes: Iterable[Code]) -> list[PickerItem]:
    """Picker rows for codes: the name, its kind."""
    return [PickerItem(c.id, c.name, c.kind, payload=c.id, style=colour_for(c.id, c.colour))
            for c in codes]


def new_code_kind(item: PickerItem) -> str | None:
    """The kind of code a "+ new … code" row creates (None for an existing code's row)."""
    return item.key[len(NEW):] if item.key.startswith(NEW) else None


def new_code_items(project, query: str) -> list[PickerItem]:
    """"+ new semantic/latent code “…”" rows for a name no code has yet."""
    name = " ".join(query.split())
    if not name or project.code_by_name(name) is not None:
        return []
    return [PickerItem(f"{NEW}{kind}", f"+ new {kind} code “{name}”", payload=None, sticky=True,
                       search=name, style="bold") for kind in (SEMANTIC, LATENT)]


def pick_code(screen: ProjectScreen, title: str, then: Callable[[PickerItem, str], None], *,
              exclude: Iterable[str] = (), allow_new: bool = False, first: str | None = None) -> None:
    """Choose a code (or, ``allow_new``, name a new one: see :func:`new_code_kind`);
    ``then(item, the name typed)``. ``first``: a code id listed first (a suggestion)."""
    project = screen.project
    left_out = set(exclude)
    items = code_items([c for c in project.codes() if c.id not in left_out])
    if first:
        items.sort(key=lambda i: i.payload != first)

    def chosen(result: PickResult | None) -> None:
        if result and result.item:
            then(result.item, " ".join(result.query.split()))

    extra = (lambda query: new_code_items(project, query)) if allow_new else None
    screen.app.push_screen(PickerScreen(title, items, extra=extra), chosen)


def open_memo(screen: ProjectScreen, target_kind: str, target_id: str, title: str, *,
              dated: bool = False, then: Callable[[], None] | None = None) -> None:
    """Your memo on an answer, a code or a theme, with the other coders' beside it (none in
    blind mode; ``dated``: headed with their date); the screen says what saving did, then
    ``then()``."""
    from ..store.stamps import stamp_local
    from .dialogs.basic import MemoScreen  # (TextArea loads when first needed, not at start-up)

    session = screen.session
    mine = session.my_memo(target_kind, target_id)
    others = [(f"{m.coder}, {stamp_local(m.created)}" if dated else m.coder, m.text)
              for m in screen.lens.others_memos(screen.project.memos_for(target_kind, target_id))]

    def saved(text: str | None) -> None:
        if text is not None:
            screen.say(session.save_memo(target_kind, target_id, text).message)
            if then is not None:
                then()

    screen.app.push_screen(MemoScreen(f"{title} (by {session.coder})", mine.text if mine else "",
                                      others), saved)


def open_code_memo(screen: ProjectScreen, code_id: str) -> None:
    """Your memo on a code; the screen redraws after saving."""
    name = screen.project.code_name(code_id)
    open_memo(screen, "code", code_id, f"Memo on the code “{one_line(name, 40)}”", then=screen.redraw)


def copy_code_quotes(screen: ProjectScreen, code_id: str) -> None:
    """Every extract of a code (that this coder may see) as attributed quotes, one a line."""
    project, session = screen.project, screen.session
    extracts = codebook.extracts_of(project, code_id, screen.lens.counted_coder)
    if not extracts:
        screen.say("This code has no extracts to copy")
        return
    text = "\n".join(session.quote(c) for c in extracts)
    screen.copy(text, f"{len(extracts)} quote(s) of “{project.code_name(code_id)}”")


def confirm_blind_off(app: TuiqaApp, then: Callable[[], None]) -> None:
    """Leaving blind coding shows everyone's work at once: ask first."""
    from .dialogs.basic import ConfirmScreen

    def answered(yes: bool | None) -> None:
        if yes:
            then()

    app.push_screen(ConfirmScreen(
        "Turn blind coding off?",
        "You will see the other coders' codings, memos, review marks and counts. Do this only "
        "once your independent coding is finished.", yes="Turn it off", no="Stay blind"), answered)
