"""Screens drawn from the project, and kept in step with it."""

from __future__ import annotations


class ProjectView:
    """Mixed into a screen drawn from the project (before ``Screen`` in its bases).

    The screen's ``redraw()`` draws it and calls :meth:`drawn`. Another session's change redraws
    it at once (:meth:`project_changed`, called by the app on the screen in front); coming back
    to it from a screen above redraws it only if the project changed meanwhile.
    """

    _seen_generation: int | None = None

    def redraw(self) -> None:
        raise NotImplementedError

    def drawn(self) -> None:
        self._seen_generation = self.app.project.generation  # type: ignore[attr-defined]

    def project_changed(self) -> None:
        self.redraw()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self._seen_generation != self.app.project.generation:  # type: ignore[attr-defined]
            self.redraw()
