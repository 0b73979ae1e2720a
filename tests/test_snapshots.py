"""Snapshot tests: each main screen at 80×24, in colour and with ``NO_COLOR`` (issue 8).

The pictures live in ``tests/__snapshots__/test_snapshots/``. After a deliberate change to a
screen, look at the report pytest writes on failure, then accept the new pictures with
``pytest tests/test_snapshots.py --snapshot-update`` and review the SVG diff before committing.

The project is the demo (the sample survey, two coders who double coded Q1, draft themes), built
afresh for each test so nothing depends on the order tests run in. Textual is pinned exactly in
``pyproject.toml`` because its rendering changes between releases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tuiqa.ui.factory import make_app

SIZE = (80, 24)

# (name, keys pressed after opening, coder)
SCREENS = [
    ("coding", (), "lead"),
    ("coding_light", ("f3",), "lead"),
    ("coding_selection", ("n", "down", "shift+down"), "lead"),
    ("picker", ("down", "c", "h", "o"), "lead"),
    ("codebook", ("b",), "lead"),
    ("themes", ("t",), "lead"),
    ("themes_map", ("t", "M"), "lead"),
    ("agreement", ("A",), "lead"),
    ("disagreements", ("A", "d"), "lead"),
    ("help", ("question_mark",), "lead"),
]


def quiet_app(directory: Path, coder: str):
    # no welcome hint, no background polling: the picture depends only on the keys pressed
    return make_app(directory, coder, refresh_seconds=0, welcome=False)


@pytest.mark.parametrize("colour", ["colour", "no_color"])
@pytest.mark.parametrize("name,keys,coder", SCREENS, ids=[s[0] for s in SCREENS])
def test_screen(snap_compare, monkeypatch, demo, name, keys, coder, colour):
    if colour == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")  # read (and removed) by Textual when the app is made
    app = quiet_app(demo, coder)
    try:
        assert snap_compare(app, press=keys, terminal_size=SIZE)
    finally:
        app.project.close()


@pytest.mark.parametrize("name,keys", [("coding", ("down",)), ("themes", ("t",)), ("agreement", ("A",)),
                                       ("help", ("question_mark",))],
                         ids=["coding", "themes", "agreement", "help"])
def test_screen_at_200x60(snap_compare, demo, name, keys):
    """A big terminal: the same screens use the room (wider columns, more rows), nothing stretched."""
    app = quiet_app(demo, "lead")
    try:
        assert snap_compare(app, press=keys, terminal_size=(200, 60))
    finally:
        app.project.close()
