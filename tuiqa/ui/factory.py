"""The one way to build the app: the command line, the tests and the benchmark all call
:func:`make_app`."""

from __future__ import annotations

from pathlib import Path

from ..navigation import BY_PARTICIPANT
from ..project import Project
from ..session import Session, default_coder
from .app import REFRESH_SECONDS, TuiqaApp


def make_app(project: Project | Path | str, coder: str | None = None, *,
             blind: bool = False, order: str = BY_PARTICIPANT,
             refresh_seconds: float = REFRESH_SECONDS, welcome: bool = True,
             keymap: Path | None = None, lazy: bool = False,
             app_class: type[TuiqaApp] = TuiqaApp) -> TuiqaApp:
    """The app over ``project`` (an open :class:`Project`, or its folder, then opened here,
    ``lazy`` as ``tuiqa open`` does) for ``coder`` (default: ``$TUIQA_CODER``, else the login).

    ``blind`` starts blind coding (remembered for the coder); ``order`` is how answers are
    read; ``refresh_seconds`` how often other sessions' changes are looked for (0: never, for
    pictures that depend only on the keys pressed); ``welcome`` shows the first-run hint;
    ``keymap`` is the user's keymap file (default: ``keymap.toml`` in the user's config
    folder); ``app_class`` a subclass to build (the benchmark's probe). Whoever opened the
    project closes it.
    """
    if not isinstance(project, Project):
        project = Project.open(Path(project), lazy=lazy)
    session = Session(project, coder or default_coder())
    return app_class(project, session, order=order, blind=blind, refresh_seconds=refresh_seconds,
                     welcome=welcome, keymap=keymap)
