"""Nothing lost: tests that try to break the store.

* crash safety: a child applies random changes and is killed with SIGKILL at random moments,
  many times; after every kill the project opens with every acknowledged change and no
  half-written one;
* two coders at once: two processes change the same project at the same time (as one user, and
  as two users in a group-shared folder); both end up seeing the same, complete state;
* damaged files and the doctor; migrations; private files.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tuiqa import doctor
from tuiqa.project import Project
from tuiqa.session import Session

CHILD = Path(__file__).resolve().parent / "safety_child.py"


def run_child(directory: Path, coder: str, seed: int, *extra: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), str(directory), coder, str(seed), *extra],
                            stdout=subprocess.PIPE, stderr=stderr, text=True)


def parse(lines: list[str]) -> tuple[list[list], list | None]:
    """(acknowledged transactions, the one in flight when the process died, if any)."""
    acked: list[list] = []
    pending = None
    for line in lines:
        if line.startswith("begin "):
            pending = json.loads(line[6:])
        elif line == "ack" and pending is not None:
            acked.append(pending)
            pending = None
    return acked, pending


def expected_state(txns: list[list]) -> dict[tuple[str, str, str], object]:
    model: dict[tuple[str, str, str], object] = {}
    for txn in txns:
        for kind, ident, fields, *_ in txn:
            for name, value in fields.items():
                model[(kind, ident, name)] = value
    return model


def actual(project: Project, key: tuple[str, str, str]):
    kind, ident, name = key
    obj = project.state.table(kind).get(ident)
    value = getattr(obj, name) if obj is not None else "<missing>"
    return list(value) if isinstance(value, tuple) else value


def test_sigkill_at_random_moments_loses_nothing_acknowledged(sample_project, capsys):
    rounds, kills, lost, corrupt, half = 12, 0, 0, 0, 0
    txns: list[list] = []
    rng = random.Random(7)
    for round_ in range(rounds):
        proc = run_child(sample_project, "crash", round_, stderr=subprocess.DEVNULL)
        lines: list[str] = []
        deadline = time.monotonic() + rng.uniform(0.4, 1.2)
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
        proc.send_signal(signal.SIGKILL)
        # the rest through the same reader: communicate() would skip what readline() buffered
        rest = proc.stdout.read()
        proc.wait()
        lines += [line.strip() for line in rest.splitlines()]
        kills += 1
        acked, pending = parse(lines)
        txns += acked
        try:
            project = Project.open(sample_project)
        except Exception:
            corrupt += 1
            continue
        try:
            if pending is not None:
                # the change in flight when the process died: it may have landed (all of it) or
                # not (none of it), never half
                applied = [actual(project, (k, i, n)) == v for k, i, f, *_ in pending for n, v in f.items()]
                if any(applied) and not all(applied):
                    half += 1
                if all(applied):
                    txns.append(pending)
            model = expected_state(txns)
            missing = [key for key, value in model.items() if actual(project, key) != value]
            lost += len(missing)
        finally:
            project.close()
    changes = sum(len(t) for t in txns)
    with capsys.disabled():
        print(f"\n[crash safety] kills={kills} transactions={len(txns)} changes={changes} "
              f"lost={lost} half_written={half} corrupt_opens={corrupt}")
    assert (lost, half, corrupt) == (0, 0, 0)
    assert len(txns) > 50


def concurrent_pair(directory: Path, count: int, extra=((), ())):
    """Both coders at once. Their output goes to files: a pipe that nobody reads while waiting
    for the other process would fill up and stall its writer."""
    logs = directory.parent / "logs"
    logs.mkdir(exist_ok=True)
    procs = []
    for coder, seed, more in (("ann", 1, extra[0]), ("bea", 2, extra[1])):
        out = open(logs / f"{coder}.out", "w")
        err = open(logs / f"{coder}.err", "w")
        procs.append((subprocess.Popen([sys.executable, str(CHILD), str(directory), coder, str(seed),
                                        "--count", str(count), "--refresh", *more],
                                       stdout=out, stderr=err, text=True), out, err, coder))
    results = []
    for proc, out, err, coder in procs:
        proc.wait(timeout=300)
        out.close()
        err.close()
        assert proc.returncode == 0, (logs / f"{coder}.err").read_text()[-2000:]
        results.append((logs / f"{coder}.out").read_text().splitlines())
    return results[0], results[1]


def check_pair(directory: Path, lines_a, lines_b, capsys, label: str) -> None:
    from .safety_child import digest

    acked_a, _ = parse(lines_a)
    acked_b, _ = parse(lines_b)
    final_a = json.loads(next(line for line in lines_a if line.startswith("final "))[6:])
    final_b = json.loads(next(line for line in lines_b if line.startswith("final "))[6:])
    with Project.open(directory) as project:
        fresh = digest(project)
        # every acknowledged change of either process is there, unless a later change of the same
        # field (by either) replaced it: the field then holds one of the acknowledged values
        written: dict[tuple[str, str, str], list] = {}
        for txn in acked_a + acked_b:
            for kind, ident, fields, *_ in txn:
                for name, value in fields.items():
                    written.setdefault((kind, ident, name), []).append(value)
        lost = sum(1 for key, values in written.items() if actual(project, key) not in values)
        names = [c.name.casefold() for c in project.codes()]
        duplicate_codes = len(names) - len(set(names))
        spans = [(c.response_id, c.code_id, c.coder, c.start, c.end) for c in project.all_codings()]
        duplicate_codings = len(spans) - len(set(spans))
        conflicts = len(project.conflicts())
    with capsys.disabled():
        print(f"\n[two coders, {label}] changes={sum(len(t) for t in acked_a + acked_b)} lost={lost} "
              f"duplicate_codes={duplicate_codes} duplicate_codings={duplicate_codings} "
              f"conflicts_reported={conflicts} views_equal={final_a == final_b == fresh}")
    assert lost == 0
    assert duplicate_codings == 0 and duplicate_codes == 0
    assert final_a == final_b == fresh


@pytest.fixture
def shared_copy(sample_project):
    """The sample project in a folder two test users may enter (the test runs as root)."""
    base = Path(tempfile.mkdtemp(prefix="tuiqa-shared-"))
    os.chmod(base, 0o755)
    target = base / "project"
    shutil.copytree(sample_project, target)
    yield target
    shutil.rmtree(base, ignore_errors=True)


def test_two_coders_at_once_same_user(shared_copy, capsys):
    lines_a, lines_b = concurrent_pair(shared_copy, 700)
    check_pair(shared_copy, lines_a, lines_b, capsys, "same user")


def _make_user(name: str, group: str) -> int:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--gid", group, "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        return pwd.getpwnam(name).pw_uid


def test_two_coders_at_once_two_users_in_a_group_folder(shared_copy, capsys):
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to create two test users sharing a group")
    try:
        gid = grp.getgrnam("tuiqatest").gr_gid
    except KeyError:
        subprocess.run(["groupadd", "tuiqatest"], check=True, capture_output=True)
        gid = grp.getgrnam("tuiqatest").gr_gid
    uid_a, uid_b = _make_user("tuiqa_a", "tuiqatest"), _make_user("tuiqa_b", "tuiqatest")
    for path in [shared_copy, *shared_copy.rglob("*")]:
        os.chown(path, 0, gid)
        os.chmod(path, 0o2770 if path.is_dir() else 0o660)
    lines_a, lines_b = concurrent_pair(shared_copy, 400, (("--uid", str(uid_a), "--gid", str(gid)),
                                                          ("--uid", str(uid_b), "--gid", str(gid))))
    check_pair(shared_copy, lines_a, lines_b, capsys, "two users, group folder")
    owners = {path.stat().st_uid for path in (shared_copy / "journal").parent.rglob("*.jsonl")}
    assert owners <= {uid_a, uid_b, 0}
    for path in shared_copy.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o007 == 0, f"{path} is open to others"


# -- damage, the doctor, migrations ----------------------------------------------------------


def test_doctor_restores_a_damaged_data_file_without_losing_the_last_session(sample_project, capsys):
    from .machines import own

    for i in range(3):
        with Project.open(sample_project) as p:
            Session(p, "ann").create_and_apply(sorted(p.responses)[i], 0, 4, f"session {i}", "semantic")
    data = own(sample_project) / "data.json"
    damaged = data.read_bytes()[:700]
    data.write_bytes(damaged)
    checkup = doctor.check(sample_project)
    assert not checkup.healthy and any(d.endswith("data.json") for d in checkup.damaged)
    assert data.read_bytes() == damaged  # checking changes nothing
    doctor.restore(sample_project)
    assert doctor.check(sample_project).healthy
    with Project.open(sample_project) as p:
        assert {f"session {i}" for i in range(3)} <= {c.name for c in p.codes()}
    assert any(path.name.startswith("damaged-data.json") for path in (own(sample_project) / "backups").iterdir())


def test_doctor_sets_damaged_journal_lines_aside(sample_project):
    p = Project.open(sample_project)
    s = Session(p, "ann")
    for i in range(3):
        s.create_and_apply(sorted(p.responses)[i], 0, 4, f"kept {i}", "semantic")
    journal = p.store.journal_path
    p.store._writer.close()
    lines = journal.read_bytes().split(b"\n")
    lines[2] = b"{broken"
    journal.write_bytes(b"\n".join(lines))
    assert not doctor.check(sample_project).healthy
    doctor.restore(sample_project)
    with Project.open(sample_project) as q:
        names = {c.name for c in q.codes()}
        assert {"kept 0", "kept 2"} <= names  # the damaged middle change is set aside, not the rest


def test_cli_doctor_exit_codes(sample_project, capsys):
    from tuiqa.cli import main

    from .machines import own

    assert main(["doctor", str(sample_project)]) == 0
    with Project.open(sample_project) as p:
        Session(p, "ann").toggle_done(sorted(p.responses)[0])
    (own(sample_project) / "data.json").write_bytes(b"\x00garbage")
    assert main(["doctor", str(sample_project)]) == 1
    out = capsys.readouterr().out
    assert "data.json" in out and "--restore" in out
    assert main(["doctor", str(sample_project), "--restore"]) == 0


def test_a_schema_1_project_is_migrated_with_the_original_kept(tmp_path):
    """The released schema-1 fixture, with a session's journal not yet folded: everything is
    there after the migration, the schema-1 files leave the top of the folder, and the original
    is kept byte for byte in this machine's backups/pre-migration-v1/."""
    from .machines import own

    fixture = Path(__file__).resolve().parent / "data" / "projects" / "v1"
    project = tmp_path / "old"
    shutil.copytree(fixture, project)
    from .machines import write_v1_journal

    write_v1_journal(project, "aaaaaaaa", "1795843855999.0000.aaaaaaaa", "m1", "written in v1")
    before = {str(p.relative_to(project)): p.read_bytes() for p in project.rglob("*") if p.is_file()}
    with Project.open(project) as p:
        assert len(p.responses) == 5 and len(list(p.all_codings())) >= 2
        assert "written in v1" in [m.text for m in p.state.table("memo").values()]
        assert any("migrated" in w for w in p.store.warnings)
    assert json.loads((project / "tuiqa.json").read_text())["schema_version"] == 2
    for name in ("survey.json", "data.json", "journal"):
        assert not (project / name).exists()
    kept = own(project) / "backups" / "pre-migration-v1"
    assert {str(p.relative_to(kept)): p.read_bytes() for p in kept.rglob("*") if p.is_file()} == before
    assert (project / ".gitignore").exists() and (project / ".stignore").exists()
    with Project.open(project) as p:  # and again, from the new layout
        assert "written in v1" in [m.text for m in p.state.table("memo").values()]


def test_every_released_schema_fixture_opens(tmp_path):
    fixtures = Path(__file__).resolve().parent / "data" / "projects"
    versions = sorted(fixtures.iterdir())
    assert versions, "keep a fixture project for each released schema version"
    for fixture in versions:
        copy = tmp_path / fixture.name
        shutil.copytree(fixture, copy)
        with Project.open(copy) as p:
            assert len(p.responses) == 5 and len(list(p.all_codings())) >= 2, fixture.name


def test_every_file_tuiqa_writes_is_private(sample_project, tmp_path):
    from tuiqa.cli import main

    with Project.open(sample_project) as p:
        s = Session(p, "ann")
        s.create_and_apply(sorted(p.responses)[0], 0, 5, "x", "semantic")
        s.save_memo("response", sorted(p.responses)[0], "memo")
    assert main(["export", str(sample_project), "--format", "csv"]) == 0
    assert main(["doctor", str(sample_project)]) == 0
    for path in [sample_project, *sample_project.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(sample_project)} is {oct(mode)}"
