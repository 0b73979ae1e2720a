"""Text handling: normalisation, clusters, sentences, words, selection, safe display, matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuiqa.fuzzy import closest, rank
from tuiqa.selection import Selection
from tuiqa.text import (
    cluster_bounds,
    display_text,
    find_extract,
    is_cluster_aligned,
    normalise,
    sentences,
    snap_span,
    words,
)

FAMILY = "👨‍👩‍👧"  # one cluster, five code points
THUMBS = "👍🏽"  # emoji + skin tone
ZOE = "Zoe\u0308"  # e + combining diaeresis


def test_line_separators_become_newlines_and_nothing_else_changes():
    raw = "a\r\nb\rc\u2028d\u2029e\x85f\nstill “curly” … here"
    assert normalise(raw) == "a\nb\nc\nd\ne\nf\nstill “curly” … here"


def test_snapping_never_splits_a_cluster():
    text = f"Hi {FAMILY} and {ZOE} {THUMBS}!"
    start = text.index(FAMILY) + 2  # inside the family emoji
    s, e = snap_span(text, start, start + 1)
    assert text[s:e] == FAMILY
    z = text.index("e\u0308")
    assert text[slice(*snap_span(text, z, z + 1))] == "e\u0308"


def test_sentences_and_words():
    text = "Recovery isn't a straight line. It takes time… and “hope”! Then:\nnew paragraph"
    got = [text[s:e] for s, e in sentences(text)]
    # an ellipsis followed by a lower-case word is a pause, not the end of a sentence
    assert got == ["Recovery isn't a straight line.", "It takes time… and “hope”!",
                   "Then:", "new paragraph"]
    assert [text[s:e] for s, e in words(text)][:3] == ["Recovery", "isn't", "a"]


@pytest.mark.parametrize("text, expected", [
    # clinicians' answers are full of abbreviations: none of them ends a sentence
    ("Dr. Smith helped. E.g. Sam could try DBT, i.e. therapy.",
     ["Dr. Smith helped.", "E.g. Sam could try DBT, i.e. therapy."]),
    ("We tried CBT vs. DBT. It worked.", ["We tried CBT vs. DBT.", "It worked."]),
    ("I work at St. Mary’s with Mrs. Khan. It is ok.",
     ["I work at St. Mary’s with Mrs. Khan.", "It is ok."]),
    ("Then she left… And? ok", ["Then she left…", "And?", "ok"]),
    ("He said “stop.” She did.", ["He said “stop.”", "She did."]),
    # full stops of other scripts end sentences in any project language
    ("彼は来た。彼女も来た。", ["彼は来た。", "彼女も来た。"]),
    ("Staff said 我们很累！Then left.", ["Staff said 我们很累！", "Then left."]),
    ("Yes. Yes. Yes.", ["Yes.", "Yes.", "Yes."]),
])
def test_sentences_know_abbreviations_and_other_scripts(text, expected):
    assert [text[s:e] for s, e in sentences(text)] == expected


def test_sentences_follow_the_project_language():
    text = "Der Patient kam z. B. am Montag. Er war müde."
    assert [text[s:e] for s, e in sentences(text, "de")] == [
        "Der Patient kam z. B. am Montag.", "Er war müde."]
    # an unknown language falls back to English rules rather than failing
    assert sentences("One. Two.", "xx") == sentences("One. Two.", "en")


def test_a_very_long_answer_is_split_without_losing_text():
    unit = "I felt supported by the team. Dr. Patel explained it, e.g. the plan. Hard 😊 but ok! "
    text = unit * 160  # ~14,000 characters on one line
    spans = sentences(text)
    assert len(spans) == 3 * 160
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)
    assert [text[s:e] for s, e in spans[:3]] == [
        "I felt supported by the team.", "Dr. Patel explained it, e.g. the plan.", "Hard 😊 but ok!"]


def test_display_text_makes_controls_visible_one_for_one():
    raw = "red \x1b[31mX\x1b[0m bell\x07 del\x7f c1\x9b tab\tnl\n"
    shown = display_text(raw)
    assert len(shown) == len(raw)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "␛[31mX␛[0m" in shown and "␇" in shown and "\t" in shown and "\n" in shown
    assert display_text("[bold]plain[/]") == "[bold]plain[/]"


def test_find_extract_exact_then_loose():
    text = "She said “I’m fine” … but  she wasn't."
    assert find_extract(text, "I’m fine") == [(text.index("I’m"), text.index("I’m") + 8)]
    (s, e), = find_extract(text, '"I\'m fine" ... but she')
    assert text[s:e] == "“I’m fine” … but  she"
    assert find_extract(text, "not there") == []


def test_fuzzy_ranking_prefers_word_starts_and_closest_names():
    names = ["distrust of services", "building trust", "recovery is non-linear", "hope"]
    assert rank("trust", names, key=str)[0][0] == "building trust"
    assert rank("rinl", names, key=str)[0][0] == "recovery is non-linear"
    assert rank("zzz", names, key=str) == []
    assert closest("buildng trust", names)[0] == "building trust"


# -- property tests on the span model --------------------------------------------------------

texts = st.lists(st.sampled_from(
    list("abc .!?\n'") + ["…", "“", "”", FAMILY, THUMBS, "e\u0308", "é", "\u200d", "🙂", "\u0301"]),
    min_size=1, max_size=40).map("".join)
moves = st.lists(st.sampled_from(
    ["next_sentence", "prev_sentence", "extend_sentence", "shrink_sentence", "extend_word",
     "shrink_word", "start_back_word", "start_forward_word"]), max_size=25)


@settings(max_examples=300, deadline=None)
@given(text=texts, ops=moves)
def test_any_sequence_of_selection_moves_stays_a_valid_extract(text, ops):
    sel = Selection.whole(text)
    for op in ops:
        sel = getattr(sel, op)(text).clamp(text)
        assert 0 <= sel.start < sel.end <= len(text)
        assert is_cluster_aligned(text, sel.start, sel.end)


@settings(max_examples=300, deadline=None)
@given(text=texts, a=st.integers(-5, 80), b=st.integers(-5, 80))
def test_snap_span_is_within_bounds_aligned_and_covers_the_request(text, a, b):
    lo, hi = sorted((a, b))
    s, e = snap_span(text, lo, hi)
    assert 0 <= s <= e <= len(text)
    assert is_cluster_aligned(text, s, e)
    clamped_lo, clamped_hi = max(0, min(lo, len(text))), max(0, min(hi, len(text)))
    assert s <= clamped_lo and e >= clamped_hi
    assert cluster_bounds(text)[0] == 0 and cluster_bounds(text)[-1] == len(text)


# -- clicks: the sentence under the pointer ----------------------------------------------------


def test_sentence_at_and_shift_click_extend():
    text = "One. Two words here! Three?"
    assert Selection.sentence_at(text, 0) == Selection(0, 4)
    assert Selection.sentence_at(text, 7) == Selection(5, 20)
    assert Selection.sentence_at(text, 4) == Selection(5, 20)  # the gap belongs to what follows
    assert Selection.sentence_at(text, len(text)) == Selection(21, 27)
    assert Selection(0, 4).extend_to(text, 22) == Selection(0, 27)
    assert Selection(21, 27).extend_to(text, 1) == Selection(0, 27)  # backwards too
    assert Selection.sentence_at("", 0) == Selection(0, 0)


def test_offset_at_maps_cells_back_to_the_answer_through_tags_wide_letters_and_lines():
    from tuiqa.ui.render import Mark, offset_at, response_text

    text = "日本語 is wide. Second line\nthird"
    sources: list[int] = []
    shown = response_text(text, [Mark(1, 4, 6, "red")], 0, len(text), show_selection=False,
                          sources=sources).plain
    assert shown.startswith("日本語 ⟨1⟩is") and len(sources) == len(shown)
    assert offset_at(shown, sources, 0, 0, 40) == 0
    assert offset_at(shown, sources, 1, 0, 40) == 0  # the right half of a wide letter
    assert offset_at(shown, sources, 2, 0, 40) == 1
    assert offset_at(shown, sources, 7, 0, 40) == 4  # on the tag: the coded word it marks
    assert offset_at(shown, sources, 10, 0, 40) == 4  # "i" of "is"
    assert offset_at(shown, sources, 0, 1, 40) == text.index("third")
    assert offset_at(shown, sources, 79, 1, 40) == len(text) - 1  # past the end of a line
    assert offset_at(shown, sources, 0, 2, 40) is None  # below the text
    narrow = offset_at(shown, sources, 0, 1, 12)  # wrapped at 12 cells: row 1 starts later
    assert text[narrow:].startswith("wide.")


def test_one_line_limits_by_terminal_cells():
    from rich.cells import cell_len

    from tuiqa.text import one_line

    assert one_line("plain words", 20) == "plain words"
    assert one_line("abcdefghij", 5) == "abcd…"
    cut = one_line("日本語の回答はとても長いです", 9)
    assert cut.endswith("…") and cell_len(cut) <= 9
    emoji = one_line("🙂🙂🙂🙂🙂🙂", 7)
    assert cell_len(emoji) <= 7 and emoji.startswith("🙂🙂")
    for text in ("e\u0301te\u0301 long enough", "mixed 日本 and 🙂 text here", "a\nb\tc"):
        for limit in range(2, 20):
            assert cell_len(one_line(text, limit)) <= limit


def test_the_project_language_is_a_setting(tmp_path):
    from tuiqa.project import Project

    project = Project.create(tmp_path / "p")
    assert project.language == "en"
    change = project.change("language")
    project.set_setting(change, "language", "de")
    project.commit(change, "ann")
    assert project.language == "de"
    text = "Er kam z. B. am Montag. Dann ging er."
    assert Selection.whole(text).next_sentence(text, project.language) == Selection(0, 23)
    project.close()
