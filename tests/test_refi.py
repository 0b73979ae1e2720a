"""REFI-QDA: the .qdc and .qdpx exports (schemas, the rules the schemas cannot express, stable
bytes) and the codebook import (round trip, other tools' quirks, refusals, hostile files)."""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tuiqa import themes as T
from tuiqa.colours import colour_for
from tuiqa.exporters import ExportContext, ExportError, export
from tuiqa.importers.codebook import CodebookImportError, MAX_BYTES, import_codebook
from tuiqa.importers.survey import import_survey
from tuiqa.model import derived_id
from tuiqa.project import Project
from tuiqa.samples import SURVEY, sample_dir
from tuiqa.session import Session

# the official schemas, in shared/refi beside the checkout (or beside a folder holding it, as
# for a git worktree); TUIQA_REFI_DIR says where else
REFI_DIR = Path(os.environ.get("TUIQA_REFI_DIR") or next(
    (up / "shared" / "refi" for up in Path(__file__).resolve().parents[2:]
     if (up / "shared" / "refi" / "Project.xsd").is_file()),
    Path(__file__).resolve().parents[2] / "shared" / "refi"))
DATA = Path(__file__).resolve().parent / "data" / "refi"
P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"


# -- helpers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas():
    if not REFI_DIR.is_dir():
        pytest.skip(f"the REFI-QDA schemas are not at {REFI_DIR} (../shared/refi beside the checkout)")
    import xmlschema

    return {"qdc": xmlschema.XMLSchema(str(REFI_DIR / "Codebook.xsd")),
            "qdpx": xmlschema.XMLSchema(str(REFI_DIR / "Project.xsd"))}


def run_export(project_dir: Path, fmt: str, out: Path, coder: str | None = None) -> bytes:
    with Project.open(project_dir) as project:
        export(project, fmt, out, ExportContext(coder=coder))
    return out.read_bytes()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def fresh_survey(tmp_path: Path) -> Path:
    directory = tmp_path / "fresh"
    import_survey(directory, sample_dir() / SURVEY)
    return directory


@pytest.fixture
def themed(sample_project) -> Path:
    """The sample project with a thematic map: an overarching theme, a theme with a sub-theme, a
    second theme sharing a code with the first, a parked code, and memos of every kind."""
    with Project.open(sample_project) as p:
        code = {c.name: c.id for c in p.codes()}
        change = p.change("map")
        rel = T.create(p, change, "Relationships", overarching=True, coder="lead")
        trust = T.create(p, change, "Trust takes time", parent_id=rel, coder="lead")
        listen = T.create(p, change, "Being listened to", parent_id=trust, coder="lead")
        press = T.create(p, change, "Pressures on staff", coder="lead")
        T.assign(change, trust, [code["building trust"], code["team support"]])
        T.assign(change, listen, [code["person-led goals"]])
        T.assign(change, press, [code["time pressure"], code["staff burnout"], code["team support"]])
        p.commit(change, "lead")
        s = Session(p, "lead")
        s.edit_theme(trust, description="Trust is built slowly.", concept="trust is earned by "
                     "small kept promises", status="reviewed")
        s.edit_code(code["building trust"], kind="latent", description="Earned, not given;\n"
                    "lost quickly", colour="#123abc")
        s.edit_code(code["stigma"], description='Shame & <blame>, "quoted"')
        s.park_code(code["training gaps"])
        first = p.responses[next(iter(p.codings_by_response))]
        s.save_memo("response", first.id, "Ask the team about this answer")
        s.save_memo("code", code["hope"], "Hope turns up late in the answers")
        s.save_memo("theme", press, "Maybe split into workload and morale")
        s.add_journal_entry("Day 1: I expected more about rules than about trust.")
    return sample_project


def check_rules(root: ET.Element, texts: dict[str, str] | None = None) -> dict[str, ET.Element]:
    """What the schemas cannot say: GUIDs unique, every reference resolves to the right kind of
    element, every plainTextPath is in the archive. Returns the elements by GUID."""
    by_guid: dict[str, ET.Element] = {}
    for e in root.iter():
        guid = e.get("guid")
        if guid and local(e.tag) != "MemberCode":  # a codebook MemberCode's guid is a reference
            assert guid not in by_guid, f"GUID {guid} used twice"
            by_guid[guid] = e
    wanted = {"CodeRef": "Code", "MemberCode": "Code", "SourceRef": "TextSource", "NoteRef": "Note",
              "VariableRef": "Variable"}
    refs = 0
    for e in root.iter():
        target = e.get("targetGUID") or (e.get("guid") if local(e.tag) == "MemberCode" else None)
        if target is not None:
            assert target in by_guid, f"{local(e.tag)} points at the unknown GUID {target}"
            assert local(by_guid[target].tag) == wanted[local(e.tag)]
            refs += 1
        for attr in ("creatingUser", "modifyingUser", "creatingUserGUID", "modifyingUserGUID"):
            if e.get(attr):
                assert local(by_guid[e.get(attr)].tag) == "User"
        if e.get("plainTextPath") is not None:
            assert texts is not None and e.get("plainTextPath").startswith("internal://")
            assert e.get("plainTextPath")[len("internal://"):] in texts
    assert refs > 0
    return by_guid


# -- the exports ---------------------------------------------------------------------------------


def test_qdc_validates_and_nests_themes(themed, tmp_path, schemas):
    data = run_export(themed, "qdc", tmp_path / "book.qdc")
    schemas["qdc"].validate(io.BytesIO(data))
    root = ET.fromstring(data)
    assert root.tag == C + "CodeBook" and root.get("origin") == "tuiqa"
    check_rules(root)
    codes = root.find(C + "Codes")
    top = [(e.get("name"), e.get("isCodable")) for e in codes]
    assert top[:2] == [("Relationships", "false"), ("Pressures on staff", "false")]
    assert [n for n, _ in top[2:]] == sorted((n for n, _ in top[2:]), key=str.casefold)
    assert all(codable == "true" for _, codable in top[2:]) and len(top) == 2 + 13 - 5

    def names(e):
        return [c.get("name") for c in e.findall(C + "Code")]

    rel = codes[0]
    (trust,) = rel.findall(C + "Code")
    assert names(trust) == ["building trust", "team support", "Being listened to"]
    assert names(trust.findall(C + "Code")[2]) == ["person-led goals"]
    assert names(codes[1]) == ["staff burnout", "time pressure"]  # team support is nested in Trust
    assert rel.find(C + "Description").text == "[overarching theme]"
    assert trust.find(C + "Description").text == (
        "Trust is built slowly.\n\nCentral organising concept: trust is earned by small kept "
        "promises\n\n[theme, reviewed]")
    built = trust.findall(C + "Code")[0]
    assert built.get("color") == "#123abc"
    assert built.find(C + "Description").text == "Earned, not given;\nlost quickly\n\n[latent code]"
    by_name = {e.get("name"): e for e in root.iter(C + "Code")}
    assert by_name["training gaps"].find(C + "Description").text == "[semantic code, miscellaneous]"
    assert by_name["stigma"].find(C + "Description").text.startswith('Shame & <blame>, "quoted"')
    with Project.open(themed) as p:
        for c in p.codes():
            assert by_name[c.name].get("guid") == c.id  # GUIDs are the code ids
            assert by_name[c.name].get("color") == colour_for(c.id, c.colour)
        pressures = next(t for t in T.active_themes(p).values() if t.name == "Pressures on staff")
    # team support also sits under Pressures: a set of that theme's codes says so
    (s,) = root.find(C + "Sets")
    assert s.get("guid") == derived_id("refi-set", pressures.id)
    assert s.get("name") == "Pressures on staff"
    assert {m.get("guid") for m in s} - {None} == {by_name[n].get("guid") for n in
                                                  ("staff burnout", "team support", "time pressure")}


def test_qdpx_validates_with_every_part(themed, tmp_path, schemas):
    data = run_export(themed, "qdpx", tmp_path / "p.qdpx")
    files = unzip(data)
    schemas["qdpx"].validate(io.BytesIO(files["project.qde"]))
    root = ET.fromstring(files["project.qde"])
    texts = {name[len("sources/"):]: b.decode("utf-8") for name, b in files.items()
             if name.startswith("sources/")}
    by_guid = check_rules(root, texts)
    assert [local(e.tag) for e in root] == ["Users", "CodeBook", "Variables", "Cases", "Sources",
                                            "Notes", "Sets", "Description", "NoteRef"]
    assert root.get("origin") == "tuiqa" and root.get("name") == "sample"
    assert [u.get("name") for u in root.find(P + "Users")] == ["lead"]
    assert root.find(P + "Users")[0].get("guid") == derived_id("user", "lead")
    with Project.open(themed) as p:
        assert [v.get("name") for v in root.find(P + "Variables")] == p.attributes
        cases = root.find(P + "Cases")
        assert len(cases) == len(p.participants)
        first = p.participants_in_order()[0]
        case = by_guid[first.id]
        assert case.get("name") == first.pid
        values = {by_guid[vv.find(P + "VariableRef").get("targetGUID")].get("name"):
                  vv.find(P + "TextValue").text for vv in case.findall(P + "VariableValue")}
        assert values == first.attrs
        assert len(root.find(P + "Sources")) == len(p.responses) == len(texts) - 4
        r = p.responses[next(iter(p.codings_by_response))]
        src = by_guid[r.id]
        q = p.questions[r.question_id]
        assert src.get("name") == f"{p.participants[r.participant_id].pid} {q.key}"
        assert texts[f"{r.id}.txt"] == r.text
        # memos: on the response, the code, the theme, and the journal at project level
        notes = {n.get("name"): n for n in root.find(P + "Notes")}
        assert len(notes) == 4
        (on_response,) = src.findall(P + "NoteRef")
        assert texts[f"{on_response.get('targetGUID')}.txt"] == "Ask the team about this answer"
        hope = p.code_by_name("hope")
        assert texts[f"{by_guid[hope.id].find(P + 'NoteRef').get('targetGUID')}.txt"] == \
            "Hope turns up late in the answers"
        journal = root.findall(P + "NoteRef")
        assert len(journal) == 1 and by_guid[journal[0].get("targetGUID")].get("name") == \
            "Journal entry by lead"
        theme_notes = [n for n in root.iter(P + "Code") if n.get("isCodable") == "false"
                       and n.find(P + "NoteRef") is not None]
        assert [n.get("name") for n in theme_notes] == ["Pressures on staff"]
        (s,) = root.find(P + "Sets")
        assert len(s.findall(P + "MemberCode")) == 3


def test_selections_are_code_points_end_exclusive_within_the_text(themed, tmp_path):
    files = unzip(run_export(themed, "qdpx", tmp_path / "p.qdpx"))
    root = ET.fromstring(files["project.qde"])
    with Project.open(themed) as p:
        extracts = {c.id: p.responses[c.response_id].text[c.start:c.end] for c in p.all_codings()}
        code_of = {c.id: c.code_id for c in p.all_codings()}
        seen = 0
        for src in root.iter(P + "TextSource"):
            text = files["sources/" + src.get("plainTextPath")[len("internal://"):]].decode("utf-8")
            for sel in src.findall(P + "PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                assert 0 <= start < end <= len(text)
                assert text[start:end] == extracts[sel.get("guid")]
                (coding,) = sel.findall(P + "Coding")
                assert coding.get("guid") == derived_id("refi-coding", sel.get("guid"))
                assert coding.find(P + "CodeRef").get("targetGUID") == code_of[sel.get("guid")]
                assert sel.get("creatingUser") == derived_id("user", "lead")
                assert sel.get("creationDateTime").endswith("Z")
                seen += 1
    assert seen == len(extracts) == 59


def test_two_exports_of_the_same_project_are_identical(themed, tmp_path):
    for fmt in ("qdc", "qdpx"):
        first = run_export(themed, fmt, tmp_path / f"a.{fmt}")
        again = run_export(themed, fmt, tmp_path / f"b.{fmt}")  # reopened: read back from disk
        assert first == again, fmt


def test_qdpx_for_one_coder(themed, tmp_path, schemas):
    files = unzip(run_export(themed, "qdpx", tmp_path / "nobody.qdpx", coder="nobody"))
    schemas["qdpx"].validate(io.BytesIO(files["project.qde"]))
    root = ET.fromstring(files["project.qde"])
    assert root.find(P + "Users") is None and root.find(P + "Notes") is None
    assert not list(root.iter(P + "PlainTextSelection"))
    assert root.find(P + "CodeBook") is not None  # the codebook is shared
    files = unzip(run_export(themed, "qdpx", tmp_path / "lead.qdpx", coder="lead"))
    assert len(list(ET.fromstring(files["project.qde"]).iter(P + "PlainTextSelection"))) == 59


def test_a_theme_parent_cycle_still_exports(sample_project, tmp_path, schemas):
    """Two concurrent moves can leave two themes each under the other (themes.build cuts the
    cycle); the exports must still finish and be valid."""
    with Project.open(sample_project) as p:
        change = p.change("map")
        a = T.create(p, change, "A")
        b = T.create(p, change, "B", parent_id=a)
        T.assign(change, a, [p.code_by_name("hope").id])
        T.assign(change, b, [p.code_by_name("hope").id])
        p.commit(change, "lead")
        change = p.change("the other coder's move")
        change.update("theme", a, parent_id=b)
        p.commit(change, "lead")
    data = run_export(sample_project, "qdc", tmp_path / "c.qdc")
    schemas["qdc"].validate(io.BytesIO(data))
    check_rules(ET.fromstring(data))
    files = unzip(run_export(sample_project, "qdpx", tmp_path / "c.qdpx"))
    schemas["qdpx"].validate(io.BytesIO(files["project.qde"]))


def test_no_codes_no_qdc_but_a_valid_qdpx(tiny_project, tmp_path, schemas):
    with Project.open(tiny_project) as p:
        with pytest.raises(ExportError, match="no codes or themes"):
            export(p, "qdc", tmp_path / "x.qdc", ExportContext())
    assert not (tmp_path / "x.qdc").exists()
    files = unzip(run_export(tiny_project, "qdpx", tmp_path / "x.qdpx"))
    schemas["qdpx"].validate(io.BytesIO(files["project.qde"]))
    assert ET.fromstring(files["project.qde"]).find(P + "CodeBook") is None


def test_control_characters_and_astral_text(tmp_path, schemas):
    """XML 1.0 cannot hold most control characters: the texts go verbatim into sources/, and in
    the XML each such character becomes U+FFFD (one for one), which the Description reports.
    Positions count code points, so an emoji before a coded word counts once."""
    survey = tmp_path / "s.csv"
    survey.write_text("id,role,Q\r\nP1,\"nurse\x07bell & \"\"co\"\" <b>\",\"I \U0001F499 my team\x1b[0m, they "
                      "\x01help\"\r\n",
                      encoding="utf-8")
    directory = tmp_path / "ctl"
    import_survey(directory, survey)
    with Project.open(directory) as p:
        (r,) = p.responses.values()
        start = r.text.index("team")
        s = Session(p, "me")
        s.create_and_apply(r.id, start, start + 4, "team\x02mates \"&\" <co>", "semantic")
        s.edit_code(p.codes()[0].id, description="odd\x0bchars\r\nnext line\tend")
        s.save_memo("response", r.id, "memo with \x1f unit separator")
        export(p, "qdpx", tmp_path / "c.qdpx", ExportContext())
        export(p, "qdc", tmp_path / "c.qdc", ExportContext())
        text = r.text
    assert start == 7  # code points: the emoji is one, not two UTF-16 units
    files = unzip((tmp_path / "c.qdpx").read_bytes())
    schemas["qdpx"].validate(io.BytesIO(files["project.qde"]))
    schemas["qdc"].validate(str(tmp_path / "c.qdc"))
    root = ET.fromstring(files["project.qde"])
    texts = {k[len("sources/"):]: v.decode("utf-8") for k, v in files.items() if k != "project.qde"}
    check_rules(root, texts)
    assert texts[f"{r.id}.txt"] == text and "\x1b" in text  # verbatim
    (sel,) = root.iter(P + "PlainTextSelection")
    assert (sel.get("startPosition"), sel.get("endPosition")) == ("7", "11")
    assert root.find(f"{P}Cases/{P}Case/{P}VariableValue/{P}TextValue").text == 'nurse\ufffdbell & "co" <b>'
    # code names lose control characters when they are made (the answer text keeps them)
    assert root.find(f"{P}CodeBook/{P}Codes/{P}Code").get("name") == 'team mates "&" <co>'
    assert "2 character(s) that XML 1.0 cannot hold" in root.find(P + "Description").text
    assert "memo with \x1f unit separator" in texts.values()
    book = ET.parse(tmp_path / "c.qdc").getroot()
    assert book.find(f"{C}Codes/{C}Code/{C}Description").text.startswith("odd\ufffdchars\r\nnext line\tend")


# -- importing a codebook ------------------------------------------------------------------------


def codebook_state(project: Project) -> tuple:
    codes = {c.name: (c.id, c.kind, c.description, colour_for(c.id, c.colour), bool(c.parked))
             for c in project.codes()}
    return codes, T.map_json(project, T.build(project))


def test_qdc_round_trip_into_a_fresh_import(themed, tmp_path):
    exported = run_export(themed, "qdc", tmp_path / "book.qdc")
    with Project.open(themed) as p:
        expected = codebook_state(p)
    fresh = fresh_survey(tmp_path)
    with Project.open(fresh) as p:
        result = import_codebook(p, tmp_path / "book.qdc", coder="bea")
        assert len(result.new_codes) == 13 and len(result.new_themes) == 4
        assert result.warnings == []
        assert codebook_state(p) == expected  # ids, kinds, descriptions, colours, the whole map
        again = import_codebook(p, tmp_path / "book.qdc", coder="bea")
        assert (again.new_codes, again.updated_codes, again.new_themes, again.placed) == ([], [], [], 0)
    assert run_export(fresh, "qdc", tmp_path / "again.qdc") == exported


def test_qdpx_codebook_import(themed, tmp_path):
    run_export(themed, "qdpx", tmp_path / "p.qdpx")
    with Project.open(themed) as p:
        expected = codebook_state(p)
    fresh = fresh_survey(tmp_path)
    with Project.open(fresh) as p:
        import_codebook(p, tmp_path / "p.qdpx", coder="bea")
        assert codebook_state(p) == expected


def test_import_matches_existing_codes_by_guid_then_name(sample_project, tmp_path):
    (tmp_path / "b.qdc").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
  <Code guid="{derived_id('code', 'hope', '0')}" name="Hopefulness" isCodable="true" color="#ff0000"/>
  <Code guid="11111111-1111-4111-8111-111111111111" name="STIGMA" isCodable="true">
    <Description>Felt and enacted</Description></Code>
</Codes></CodeBook>""", encoding="utf-8")
    with Project.open(sample_project) as p:
        hope, stigma = p.code_by_name("hope").id, p.code_by_name("stigma").id
        result = import_codebook(p, tmp_path / "b.qdc", coder="lead")
        assert result.new_codes == [] and sorted(result.updated_codes) == ["Hopefulness", "STIGMA"]
        assert any("renamed 'Hopefulness'" in w for w in result.warnings)
        assert p.code(hope).name == "Hopefulness" and p.code(hope).colour == "#ff0000"
        assert p.code(stigma).description == "Felt and enacted"
        assert p.code(stigma).name == "stigma"  # matched by name: the project's spelling stays
        assert len(p.codes()) == 13


def imported(tmp_path: Path, name: str):
    """Import a fixture into a fresh copy of the sample survey; (result, project dir)."""
    fresh = fresh_survey(tmp_path)
    with Project.open(fresh) as p:
        return import_codebook(p, DATA / name, coder="bea"), fresh


def themes_by_path(project: Project) -> dict[str, tuple[str, list[str]]]:
    m = T.build(project)
    out = {}
    for root in m.roots:
        for node in root.walk():
            path, cur = [node.theme.name], node
            while cur.theme.parent_id:
                cur = m.by_id[cur.theme.parent_id]
                path.insert(0, cur.theme.name)
            out[" > ".join(path)] = (node.level, [m.code_name(c) for c in node.code_ids])
    return out


@pytest.mark.parametrize("name, warning", [
    ("taguette_empty_sets.qdc", "empty <Sets/>"),
    ("namespace_0_4.qdc", "'urn:QDA-XML:codebook:0:4'"),
    ("namespace_1_0_colons.qdc", "'urn:QDA-XML:codebook:1:0'"),
    ("guids_upper_braces.qdc", "3 GUID(s) are in upper case or braces"),
    ("bom.qdc", "byte-order mark"),
    ("no_colours.qdc", "2 code(s) have no colour"),
    ("same_name_two_branches.qdc", "'support' appears 2 times (under Staff, Clients): fused"),
    ("nested_codes.qdc", "'broken trust' is nested under the code 'trust'"),
    ("hierarchy.qdc", "the set 'Codes for the report' is left out"),
])
def test_quirks_import_with_a_warning(tmp_path, name, warning):
    result, fresh = imported(tmp_path, name)
    assert any(warning in w for w in result.warnings), result.warnings
    assert len(result.new_codes) == result.codes_read > 0
    with Project.open(fresh) as p:
        tree = themes_by_path(p)
        codes = {c.name: c for c in p.codes()}
    if name == "guids_upper_braces.qdc":
        assert codes["cost"].id == "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c51"
        assert tree == {"Barriers": ("theme", ["cost", "distance"])}
    if name == "bom.qdc":
        assert codes["café culture"].description.endswith("“where things get said”")
    if name == "no_colours.qdc":
        assert codes["housing"].colour == "" and codes["benefits"].description == "Money worries"
    if name == "same_name_two_branches.qdc":
        assert len(codes) == 1 and codes["support"].id == "c0ffee00-0000-4000-8000-000000000002"
        assert tree == {"Staff": ("theme", ["support"]), "Clients": ("theme", ["support"])}
    if name == "nested_codes.qdc":
        assert tree == {"Relationships": ("theme", ["broken trust", "trust"])}
        assert {"Context", "rural"} <= set(codes) and codes["Context"].colour == "#888888"
    if name == "hierarchy.qdc":
        assert tree == {
            "Working with risk": ("overarching theme", []),
            "Working with risk > Following the rules": ("theme", ["policy first"]),
            "Working with risk > Following the rules > Bending rules": ("sub-theme", ["common sense"]),
            "Hope": ("theme", ["small steps"])}
    if name == "namespace_0_4.qdc":
        assert tree == {"Feelings": ("theme", ["frustration", "pride"])}
        assert codes["pride"].colour == "#4e9a06"
    if name == "taguette_empty_sets.qdc":
        assert codes["interesting"].description == "Further notes about this code"


def test_codebook_csv(tmp_path):
    result, fresh = imported(tmp_path, "codebook.csv")
    assert result.warnings == []
    with Project.open(fresh) as p:
        codes = {c.name: c for c in p.codes()}
        assert set(codes) == {"building trust", "peer support", "=cost", "time pressure"}
        assert codes["building trust"].kind == "latent" and codes["building trust"].colour == "#4e9a06"
        assert codes["peer support"].colour == "#06989a"  # "teal"
        assert codes["=cost"].description.startswith("Money as a barrier")
        assert themes_by_path(p) == {
            "Relationships": ("overarching theme", []),
            "Relationships > Trust": ("theme", ["building trust", "peer support"]),
            "Pressures": ("theme", ["=cost", "peer support"])}


def test_codebook_csv_twice_changes_nothing_more(tmp_path):
    _, fresh = imported(tmp_path, "codebook.csv")
    with Project.open(fresh) as p:
        before = codebook_state(p)
        again = import_codebook(p, DATA / "codebook.csv", coder="bea")
        assert (again.new_codes, again.updated_codes, again.new_themes, again.placed) == ([], [], [], 0)
        assert codebook_state(p) == before


def test_a_deleted_code_comes_back_by_its_guid(themed, tmp_path):
    run_export(themed, "qdc", tmp_path / "book.qdc")
    with Project.open(themed) as p:
        expected = codebook_state(p)
        hope = p.code_by_name("hope").id
        Session(p, "lead").delete_code(hope)
        assert p.code_by_name("hope") is None
        result = import_codebook(p, tmp_path / "book.qdc", coder="lead")
        assert "the code 'hope' had been deleted; it is restored" in result.warnings
        assert result.updated_codes == ["hope"] and p.code_by_name("hope").id == hope
        assert codebook_state(p) == expected


@pytest.mark.parametrize("name, message", [
    ("bad_not_xml.qdc", "not well-formed XML"),
    ("bad_truncated.qdc", "not well-formed XML"),
    ("bad_wrong_root.qdc", "the root element is <html>, not <CodeBook>"),
    ("bad_wrong_namespace.qdc", "'http://example.org/not-refi', which is not REFI-QDA's"),
    ("bad_no_name.qdc", "a <Code> under 'Themes' has no name"),
    ("bad_duplicate_guid.qdc", "the GUID 33333333-4444-4555-8666-777777777701 belongs to both "
                               "the code 'stigma' and the code 'shame'"),
    ("bad_empty_codes.qdc", "it holds no codes"),
    ("bad_codebook.csv", "kind 'manifest' is not one of semantic, latent"),
    ("attack_xxe.qdc", "document type declaration"),
    ("attack_billion_laughs.qdc", "document type declaration"),
    ("attack_external_dtd.qdc", "document type declaration"),
])
def test_bad_files_are_refused_and_change_nothing(sample_project, name, message, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the importer tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with Project.open(sample_project) as p:
        before = files_of(sample_project)
        with pytest.raises(CodebookImportError) as caught:
            import_codebook(p, DATA / name, coder="lead")
        assert files_of(sample_project) == before
    text = str(caught.value)
    assert text.startswith(str(DATA / name)) and message in text and "nothing was imported" in text
    if name == "bad_codebook.csv":
        assert "line 3: the code has no name" in text


def test_too_big_is_refused(sample_project, tmp_path):
    big = tmp_path / "big.qdc"
    with open(big, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: no real disk use
    with Project.open(sample_project) as p:
        with pytest.raises(CodebookImportError, match=r"the file is 50.0 MB, over the 50 MB limit"):
            import_codebook(p, big, coder="lead")


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


QDE = (b'<?xml version="1.0" encoding="UTF-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
       b'<CodeBook><Codes><Code guid="12345678-1234-4234-8234-123456789012" name="ok" '
       b'isCodable="true"/></Codes></CodeBook></Project>')


@pytest.mark.parametrize("members, message", [
    ({"project.qde": QDE, "../../evil.txt": b"x"}, "unsafe path, '../../evil.txt'"),
    ({"project.qde": QDE, "/etc/cron.d/evil": b"x"}, "unsafe path, '/etc/cron.d/evil'"),
    ({"project.qde": QDE, "sources\\..\\..\\evil.txt": b"x"}, "'zip slip'"),
    ({"project.qde": QDE, "sources/zeros.txt": bytes(20 * 1024 * 1024)}, "looks like a zip bomb"),
    ({"sources/a.txt": b"only a source"}, "has no project.qde"),
])
def test_hostile_or_broken_qdpx_is_refused(sample_project, tmp_path, members, message):
    bad = make_zip(tmp_path / "bad.qdpx", members)
    with Project.open(sample_project) as p:
        before = files_of(sample_project)
        with pytest.raises(CodebookImportError, match="nothing was imported") as caught:
            import_codebook(p, bad, coder="lead")
        assert files_of(sample_project) == before
    assert message in str(caught.value)


def test_a_small_qdpx_is_read_in_memory(sample_project, tmp_path):
    good = make_zip(tmp_path / "good.qdpx", {"project.qde": QDE})
    before = set(os.listdir(tmp_path))
    with Project.open(sample_project) as p:
        result = import_codebook(p, good, coder="lead")
        assert result.new_codes == ["ok"]
        assert p.code("12345678-1234-4234-8234-123456789012").name == "ok"
    # nothing extracted (xdg-*: the test machine's identity and cache, made on first use)
    made = {"xdg-data", "xdg-cache"}
    assert set(os.listdir(tmp_path)) - made == before - made


def test_no_two_codes_share_a_name_and_the_names_come_back(themed, tmp_path, schemas):
    """#15: a theme and its code of one name made the official validator warn "code names occur
    in more than one place", and QualCoder merged them on import."""
    with Project.open(themed) as p:
        s = Session(p, "lead")
        code = {c.name: c.id for c in p.codes()}
        tops = {t.name: t.id for t in T.active_themes(p).values() if t.parent_id is None}
        _, stigma = s.create_theme("Stigma")  # a theme named like its only code
        s.assign_codes(stigma, [code["stigma"]])
        _, other = s.create_theme("Other", parent_id=tops["Relationships"])
        _, other2 = s.create_theme("other", parent_id=tops["Pressures on staff"])
        s.assign_codes(other, [code["hope"]])
        s.assign_codes(other2, [code["harm reduction"]])
        expected = codebook_state(p)
    for fmt in ("qdc", "qdpx"):
        data = run_export(themed, fmt, tmp_path / f"book.{fmt}")
        qde = unzip(data)["project.qde"] if fmt == "qdpx" else data
        schemas[fmt].validate(io.BytesIO(qde))
        names = [e.get("name") for e in ET.fromstring(qde).iter() if local(e.tag) == "Code"]
        assert len({n.casefold() for n in names}) == len(names), sorted(names)
        assert "stigma" in names and "Stigma (theme)" in names  # codes keep their names
        assert "Other" in names and "other (sub-theme)" in names
        fresh = tmp_path / f"fresh-{fmt}"
        import_survey(fresh, sample_dir() / SURVEY)
        with Project.open(fresh) as p:
            result = import_codebook(p, tmp_path / f"book.{fmt}", coder="bea")
            assert result.warnings == []
            assert codebook_state(p) == expected  # the original names, and the whole map


def test_fast_coding_guids_and_the_zip_writer(monkeypatch):
    """The qdpx export's shortcuts give what the slow ways give: derived_id's GUIDs, and zips
    that zipfile reads (Zip64 past 65,535 members; a big member deflated in pieces at once)."""
    from tuiqa.exporters import refi
    from tuiqa.exporters.refi import coding_guid, zip_members

    monkeypatch.setattr(refi, "PIECE", 100_000)  # the 1.2 MB member below: four pieces
    from tuiqa.model import new_id

    for ident in [new_id() for _ in range(200)] + ["", "é", "x" * 300]:
        assert coding_guid(ident) == derived_id("refi-coding", ident)
    members = [("project.qde", b"<Project/>" * 120_000), ("sources/a.txt", "Zoë 😀".encode())]  # 1.2 MB: deflated on a thread
    members += [(f"sources/{i}.txt", str(i).encode()) for i in range(70_000)]
    data = zip_members(members, (2026, 11, 28, 10, 30, 58))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None and len(z.namelist()) == len(members)
        assert z.read("project.qde") == members[0][1] and z.read("sources/a.txt") == members[1][1]
        assert z.read("sources/69999.txt") == b"69999"
        assert z.getinfo("sources/a.txt").date_time == (2026, 11, 28, 10, 30, 58)
        assert z.getinfo("project.qde").compress_type == zipfile.ZIP_DEFLATED
