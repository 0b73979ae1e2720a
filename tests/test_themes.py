"""Themes: the tree, assigning codes, miscellaneous, the map, versions, the screens."""

from __future__ import annotations

import json
import re

import pytest

from tuiqa import themes as T
from tuiqa.cli import main
from tuiqa.project import ChangeError, Project
from tuiqa.session import Session
from tuiqa.ui.factory import make_app
from tuiqa.ui.screens.map import MapScreen, VersionsScreen
from tuiqa.ui.screens.theme_review import ThemeReviewScreen
from tuiqa.ui.screens.themes import ThemesScreen

from .helpers import build_map
from .helpers import code_id as cid
from .test_app import screen_text


def test_levels_counts_piles_and_codes_under_several_themes(project):
    ids = build_map(project)
    m = T.build(project)
    assert [n.level for n in m.by_id.values()].count(T.OVERARCHING) == 1
    assert m.by_id[ids["trust"]].level == T.THEME
    assert m.by_id[ids["honest"]].level == T.SUBTHEME
    assert sorted(m.themes_of_code[cid(project, "hope")]) == sorted([ids["trust"], ids["rules"]])
    assert [c.name for c in m.miscellaneous] == ["staff burnout"]
    assert "staff burnout" not in [c.name for c in m.unassigned]  # parked is not forgotten
    assert len(m.unassigned) == 13 - 5 - 1
    counts = T.counts(project, m)
    trust = counts[ids["trust"]]  # building trust (7) + hope (4) + its sub-theme's 4
    assert (trust.codes, trust.extracts) == (3, 15)
    assert counts[ids["over"]].codes == 3


def test_map_text_fits_80_columns_and_json_has_the_shape(project):
    build_map(project)
    m = T.build(project)
    lines = T.map_lines(project, m, width=80)
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("OVERARCHING: Recovery as a relationship")
    assert any(line.startswith("    └── sub-theme: Honesty is risky") for line in lines)
    assert "Unassigned (7 codes)" in lines and "Miscellaneous (1 code)" in lines
    narrow = T.map_lines(project, m, width=40, ascii_only=True)
    assert max(len(line) for line in narrow) <= 40 and any("`-- " in line for line in narrow)
    data = T.map_json(project, m)
    assert set(data) == {"themes", "unassigned", "miscellaneous"}
    over = data["themes"][0]
    assert {"id", "name", "description", "concept", "status", "codes", "children"} <= set(over)
    assert over["children"][0]["codes"] == ["building trust", "hope"]
    assert over["children"][0]["children"][0]["name"] == "Honesty is risky"
    assert data["miscellaneous"] == ["staff burnout"]


def test_move_reorder_and_no_cycles(project):
    ids = build_map(project)
    s = Session(project, "lead")
    with pytest.raises(ChangeError):
        s.move_theme(ids["over"], ids["honest"])  # under its own descendant
    s.move_theme(ids["rules"], ids["over"])
    m = T.build(project)
    assert [c.theme.name for c in m.by_id[ids["over"]].children] == \
        ["Trust is slow to build", "Rules and autonomy"]
    s.reorder_theme(ids["rules"], -1)
    m = T.build(project)
    assert [c.theme.name for c in m.by_id[ids["over"]].children][0] == "Rules and autonomy"


def test_delete_releases_codes_moves_subthemes_up_and_undo_restores(project):
    ids = build_map(project)
    s = Session(project, "lead")
    before = T.snapshot(project)
    outcome = s.delete_theme(ids["trust"])
    assert "2 code(s) released" in outcome.message and "1 sub-theme(s) moved up" in outcome.message
    m = T.build(project)
    assert ids["trust"] not in m.by_id
    assert m.by_id[ids["honest"]].theme.parent_id == ids["over"]
    assert "building trust" in [c.name for c in m.unassigned]
    assert "hope" not in [c.name for c in m.unassigned]  # still under Rules and autonomy
    s.undo()
    assert T.snapshot(project) == before


def test_versions_diff_and_restore_is_undoable(project):
    ids = build_map(project)
    s = Session(project, "lead")
    s.save_map_version("initial themes, community staff")
    first = T.snapshot(project)
    s.edit_theme(ids["rules"], name="Rules as care")
    s.move_theme(ids["rules"], ids["over"])
    s.unassign_code(ids["trust"], cid(project, "hope"))
    s.create_theme("Stigma everywhere")
    versions = T.versions(project)
    assert [v.label for v in versions] == ["initial themes, community staff"]
    d = T.diff(versions[0].snapshot, T.snapshot(project))
    assert d.added == ["Stigma everywhere"]
    assert d.renamed == [("Rules and autonomy", "Rules as care")]
    assert d.moved == [("Rules as care", "", "Recovery as a relationship")]
    assert d.codes_moved == [("hope", ["Rules and autonomy", "Trust is slow to build"], ["Rules as care"])]
    after = T.snapshot(project)
    s.restore_map_version(versions[0].id)
    assert T.snapshot(project) == first
    assert T.diff(first, T.snapshot(project)).empty
    s.undo()
    assert T.snapshot(project) == after


def test_versions_survive_a_restart(sample_project):
    with Project.open(sample_project) as p:
        build_map(p)
        Session(p, "lead").save_map_version("after review")
    with Project.open(sample_project) as p:
        (v,) = T.versions(p)
        assert v.label == "after review" and len(v.snapshot["themes"]) == 4
        lines = T.map_lines(p, T.map_from_snapshot(p, v.snapshot))
        assert lines[0].startswith("OVERARCHING: Recovery as a relationship")


def test_cli_themes_text_and_json(sample_project, capsys):
    with Project.open(sample_project) as p:
        build_map(p)
    assert main(["themes", str(sample_project)]) == 0
    out = capsys.readouterr().out
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "Trust is slow to build" in out
    assert main(["themes", str(sample_project), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["themes"][0]["name"] == "Recovery as a relationship"


# -- screens ---------------------------------------------------------------------------------


@pytest.fixture
async def themes_app(sample_project):
    app = make_app(sample_project, "lead", refresh_seconds=0)
    async with app.run_test(size=(100, 34), notifications=False) as pilot:
        await pilot.pause()
        await pilot.press("t")
        assert isinstance(app.screen, ThemesScreen)
        yield app, pilot
    app.project.close()


async def test_create_assign_move_and_delete_with_undo_from_the_keyboard(themes_app):
    app, pilot = themes_app
    project = app.project
    await pilot.press("O", *"Recovery as a relationship", "enter")
    await pilot.press("n", *"Trust is slow to build", "enter")  # under the overarching theme
    m = T.build(project)
    trust = next(n for n in m.by_id.values() if n.theme.name == "Trust is slow to build")
    assert trust.level == T.THEME and trust.theme.parent_id is not None
    await pilot.press("a", *"building trust", "tab")
    await pilot.press(*["backspace"] * 14, *"hope", "tab", "enter")
    m = T.build(project)
    assert sorted(project.code_name(c) for c in m.by_id[trust.id].code_ids) == ["building trust", "hope"]
    await pilot.press("s", *"Honesty is risky", "enter")
    m = T.build(project)
    honest = next(n for n in m.by_id.values() if n.theme.name == "Honesty is risky")
    assert honest.level == T.SUBTHEME
    await pilot.press("v", *"top", "enter")  # move it to the top level: now a theme
    assert T.build(project).by_id[honest.id].level == T.THEME
    await pilot.press("D", "y")
    assert honest.id not in T.build(project).by_id
    await pilot.press("u")
    assert honest.id in T.build(project).by_id
    assert "Honesty is risky" in screen_text(app)


async def test_park_a_code_and_review_a_theme(themes_app):
    app, pilot = themes_app
    project = app.project
    build_map(project)
    screen = app.screen
    screen.refresh_tree()
    await pilot.pause()
    tree = screen.query_one("#themes-tree")
    # go to the unassigned pile's first code and park it
    node = next(n for n in screen._all_nodes(tree.root)
                if n.data and n.data[0] == "code" and n.data[1].startswith("pile:unassigned/"))
    tree.move_cursor(node)
    await pilot.pause()
    code_id = node.data[1].split("/", 1)[1]
    await pilot.press("p")
    assert project.code(code_id).parked
    await pilot.press("p")  # and back
    assert not project.code(code_id).parked
    theme_node = next(n for n in screen._all_nodes(tree.root)
                      if n.data and n.data[0] == "theme" and "Trust" in str(n.label))
    tree.move_cursor(theme_node)
    await pilot.pause()
    await pilot.press("enter")
    assert isinstance(app.screen, ThemeReviewScreen)
    text = screen_text(app)
    assert "building trust · 7 extract(s)" in text and "(P" in text
    await pilot.press("y")
    await app.workers.wait_for_complete()
    assert app.clipboard.startswith('"') and "(P" in app.clipboard


async def test_map_and_versions_screens(themes_app):
    app, pilot = themes_app
    build_map(app.project)
    await pilot.press("M")
    assert isinstance(app.screen, MapScreen)
    assert "OVERARCHING: Recovery as a relationship" in screen_text(app)
    await pilot.press("escape", "V", "s", *"first", "enter")
    assert isinstance(app.screen, VersionsScreen)
    assert "first" in screen_text(app)
    await pilot.press("escape", "n", *"Late idea", "enter", "V", "c")
    assert "theme added: Late idea" in screen_text(app)


# -- the map at 80 columns (#15 item 14) ---------------------------------------------------------


def long_map(project) -> dict[str, str]:
    ids = build_map(project)
    s = Session(project, "lead")
    s.edit_theme(ids["trust"], name="Trust is slow to build and quick to lose, especially when staff "
                                    "change shifts every week 🙂")
    s.edit_theme(ids["honest"], name="Honesty is risky for participants who fear losing their place")
    s.rename_code(cid(project, "building trust"),
                  "building trust over months of small kept promises and shared meals")
    return ids


def test_map_lines_are_laid_out_to_the_width_once_with_counts_whole(project):
    from tuiqa.text import cells

    ids = long_map(project)
    m = T.build(project)
    counts = T.counts(project, m)
    for width in (80, 60):
        lines = T.map_lines(project, m, width=width, counts_by=counts)
        assert max(cells(line) for line in lines) <= width, width
        text = "\n".join(lines)
        for tid in ids.values():  # every theme's counts, whole, once
            c = counts[tid]
            whole = f"({T.plural(c.codes, 'code')}, {T.plural(c.extracts, 'extract')}, " \
                    f"{T.plural(c.participants, 'participant')})"
            assert text.count(whole) >= 1, (width, whole)
        for line in lines:
            bare = line.strip(" │├└─")
            assert bare not in ("…", "") or not line.strip(), repr(line)  # no stray pieces
            assert not re.search(r"\(\d+ code…|\(\d+…", line)  # counts are never cut
        # a cut name ends with … on its own line; what follows is a counts line, not the rest
        cut = [i for i, line in enumerate(lines) if line.endswith("…")]
        assert cut, width
        for i in cut:
            assert lines[i + 1].strip(" │├└─").startswith("(")
        code_lines = [line for line in lines if "building trust" in line]
        assert len(code_lines) == 1 and code_lines[0].endswith("(7)")


def test_map_pages_hold_each_overarching_theme_and_no_empty_page(project):
    build_map(project)
    m = T.build(project)
    pages = T.map_pages(project, m, width=80)
    assert [p[0].split(" (")[0] for p in pages] == ["OVERARCHING: Recovery as a relationship",
                                                    "Rules and autonomy", "Miscellaneous"]
    assert all(pages) and all(line.strip() for page in pages for line in page[:1])
    assert "Unassigned (7 codes)" in pages[-1]
    # with every code placed there is no page of piles (and no "(no codes outside themes)")
    s = Session(project, "lead")
    for code in m.unassigned + m.miscellaneous:
        s.assign_codes(next(iter(m.by_id)), [code.id])
    pages = T.map_pages(project, T.build(project), width=80)
    assert len(pages) == 2 and not any("Unassigned" in line or "no codes" in line
                                       for page in pages for line in page)


# -- map versions are snapshots (#14 item 6) -----------------------------------------------------


def test_a_version_keeps_its_names_and_counts_and_the_diff_lists_every_change(project):
    ids = build_map(project)
    s = Session(project, "lead")
    s.save_map_version("first draft")
    (first,) = T.versions(project)
    before = "\n".join(T.version_lines(project, first.snapshot, width=80))
    # a rename of a theme and of a code, a merge out of a theme, a new code, a code parked
    s.edit_theme(ids["rules"], name="Rules as care")
    s.rename_code(cid(project, "following rules"), "rule following")
    s.merge_codes([cid(project, "risk vs autonomy")], cid(project, "harm reduction"))
    s.park_code(cid(project, "stigma"))
    s.create_theme("Stigma everywhere")
    d = T.diff(first.snapshot, T.snapshot(project))
    assert d.added == ["Stigma everywhere"] and d.renamed == [("Rules and autonomy", "Rules as care")]
    assert d.codes_renamed == [("following rules", "rule following")]
    assert d.codes_removed == [("risk vs autonomy", ["Rules and autonomy"])]
    assert d.codes_moved == [("stigma", ["(unassigned)"], ["(miscellaneous)"])]
    lines = d.lines()
    assert "~ theme renamed: Rules and autonomy → Rules as care" in lines
    assert "~ code renamed: following rules → rule following" in lines
    assert "- code removed: risk vs autonomy (was under Rules and autonomy)" in lines
    assert "• code moved: stigma: (unassigned) → (miscellaneous)" in lines
    # opening the old version shows it as it was: its names, its counts
    old = "\n".join(T.version_lines(project, first.snapshot, width=80))
    assert old == before
    assert "Rules and autonomy (3 codes, 15 extracts, 11 participants)" in old
    assert "risk vs autonomy (4)" in old and "following rules (7)" in old
    assert "Rules as care" not in old and "rule following" not in old
    # and from an old version to a newer one, the code added since shows
    s.save_map_version("second")
    later = T.diff(first.snapshot, T.versions(project)[1].snapshot)
    assert later.codes_removed and later.codes_renamed and later.added == ["Stigma everywhere"]


def test_versions_saved_before_they_kept_counts_still_open_and_diff(project):
    """A snapshot from an older tuiqa: no counts, no code kinds, and links to a code since merged
    away (the old snapshot kept those)."""
    build_map(project)
    snap = T.snapshot(project)
    old = {k: snap[k] for k in ("themes", "links", "parked", "code_names")}
    s = Session(project, "lead")
    s.merge_codes([cid(project, "risk vs autonomy")], cid(project, "harm reduction"))
    lines = T.version_lines(project, old, width=80)
    assert lines[0] == "(saved before map versions kept their counts: names only)"
    assert any(line.endswith("risk vs autonomy") for line in lines)
    assert not any("(0)" in line for line in lines)  # no counts of today against the old map
    d = T.diff(old, T.snapshot(project))
    assert d.codes_removed == [("risk vs autonomy", ["Rules and autonomy"])]
    assert T.diff(old, old).empty
