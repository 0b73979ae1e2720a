"""Real tools carry a project between two machines (issue #12): git, through `tuiqa sync`, with
two clones working at the same time; and unison, a two-way file synchroniser that reports a
conflict whenever one path changed on both sides, so zero conflicts is the proof that no path
is ever written by two machines."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def env_for(base: Path, name: str) -> dict[str, str]:
    """A machine: its own home (identity, caches), its own coder."""
    home = base / f"home-{name}"
    return {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
            "XDG_CACHE_HOME": str(home / "cache"), "TUIQA_CODER": name,
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{name}@example.org",
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": f"{name}@example.org",
            "GIT_CONFIG_NOSYSTEM": "1", "PYTHONPATH": str(ROOT)}


def tuiqa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tuiqa", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)


def git(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


WORK = """
import random, sys
from tuiqa.project import Project
from tuiqa.session import Session
directory, coder, seed, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
with Project.open(directory) as p:
    s = Session(p, coder)
    rids = sorted(p.responses)
    for i in range(steps):
        rid = rng.choice(rids)
        text = p.responses[rid].text
        a = rng.randrange(len(text)); b = rng.randrange(a + 1, len(text) + 1)
        s.create_and_apply(rid, a, b, rng.choice(["hope", "trust", f"{coder} {i}"]), "semantic")
        if rng.random() < 0.3:
            s.toggle_done(rng.choice(rids))
    if len(sys.argv) > 5:
        hope = p.code_by_name("hope")
        if hope is None:
            s.create_and_apply(rids[0], 0, len(p.responses[rids[0]].text), "hope", "semantic")
            hope = p.code_by_name("hope")
        s.rename_code(hope.id, sys.argv[5])
"""


def work(env, directory: Path, coder: str, seed: int, steps: int, rename: str = "") -> None:
    args = [sys.executable, "-c", WORK, str(directory), coder, str(seed), str(steps)]
    done = subprocess.run(args + ([rename] if rename else []), env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def view(env, directory: Path) -> str:
    code = ("import json, sys\nfrom tuiqa.project import Project\n"
            "with Project.open(sys.argv[1]) as p:\n"
            "    print(json.dumps({k: {i: repr(o.values()) for i, o in t.items()}\n"
            "                      for k, t in p.state.entities.items()}, sort_keys=True))\n")
    done = subprocess.run([sys.executable, "-c", code, str(directory)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed here")
def test_two_clones_work_at_once_and_git_sync_never_conflicts(tmp_path, tiny_survey):
    ann, bea = env_for(tmp_path, "ann"), env_for(tmp_path, "bea")
    remote = tmp_path / "remote.git"
    git(ann, tmp_path, "init", "--bare", "-b", "main", str(remote))
    one = tmp_path / "one"
    one.mkdir()
    git(ann, one, "init", "-b", "main")
    git(ann, one, "remote", "add", "origin", str(remote))
    (one / "notes.txt").write_text("the team's other files live here too\n")
    git(ann, one, "add", "notes.txt")
    git(ann, one, "commit", "-m", "start")
    assert tuiqa(ann, "import", tiny_survey, "--project", one / "study").returncode == 0
    work(ann, one / "study", "ann", 1, 3)
    first = tuiqa(ann, "sync", one / "study")
    assert first.returncode == 0, first.stderr
    assert "runs your git" in first.stdout and "Pushed to origin/main" in first.stdout
    two = tmp_path / "two"
    git(bea, tmp_path, "clone", str(remote), str(two))
    # both at once, offline: a rename of the same code on each side is the one conflict
    work(ann, one / "study", "ann", 2, 20, rename="hope for change")
    work(bea, two / "study", "bea", 3, 25, rename="hopefulness")
    for _ in range(2):
        for env, where in ((ann, one), (bea, two)):
            done = tuiqa(env, "sync", where / "study")
            assert done.returncode == 0, done.stdout + done.stderr
            assert "CONFLICT" not in done.stdout + done.stderr
            assert git(env, where, "status", "--porcelain") == ""  # clean: nothing to merge by hand
    report = tuiqa(bea, "sync", two / "study").stdout + tuiqa(ann, "sync", one / "study").stdout
    assert view(ann, one / "study") == view(bea, two / "study")
    log = git(ann, one, "log", "--format=%s")
    assert "tuiqa: work on" in log
    # ann's second sync brought bea's work, and said so in words
    merged = git(ann, one, "log", "--stat", "--format=%an %s")
    assert "bea" in merged


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed here")
def test_git_sync_says_what_arrived_and_the_conflict(tmp_path, tiny_survey):
    ann, bea = env_for(tmp_path, "ann"), env_for(tmp_path, "bea")
    remote = tmp_path / "remote.git"
    git(ann, tmp_path, "init", "--bare", "-b", "main", str(remote))
    one = tmp_path / "one"
    git(ann, tmp_path, "clone", str(remote), str(one))
    assert tuiqa(ann, "import", tiny_survey, "--project", one / "study").returncode == 0
    work(ann, one / "study", "ann", 1, 1)
    assert tuiqa(ann, "sync", one / "study").returncode == 0
    two = tmp_path / "two"
    git(bea, tmp_path, "clone", str(remote), str(two))
    work(ann, one / "study", "ann", 2, 2, rename="hope for change")
    work(bea, two / "study", "bea", 3, 41, rename="hopefulness")
    assert tuiqa(bea, "sync", two / "study").returncode == 0
    done = tuiqa(ann, "sync", one / "study")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "session" in out and "from bea" in out and "codings" in out and "1 rename" in out
    assert "1 conflict" in out and "'hopefulness' by bea" in out and "'hope for change' by you" in out


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed here")
def test_git_sync_says_clearly_what_is_missing(tmp_path, tiny_survey, capsys):
    from tests.helpers import cli

    project = tmp_path / "study"
    assert cli(capsys, "import", tiny_survey, "--project", project)[0] == 0
    code, _, err = cli(capsys, "sync", project)
    assert code == 1 and "not in a git repository" in err and "git init" in err
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    code, _, err = cli(capsys, "sync", project)
    assert code == 1 and "has no remote" in err and "git remote add" in err
    env = {**os.environ, "PATH": str(tmp_path / "nowhere")}
    done = subprocess.run([sys.executable, "-m", "tuiqa", "sync", str(project)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1 and "git is not installed" in done.stderr


def unison(env: dict[str, str], a: Path, b: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["unison", str(a), str(b), "-batch", "-auto", "-times", "-perms", "0",
                           "-confirmbigdel=false", "-ui", "text"],
                          env={**env, "UNISON": str(Path(env["HOME"]) / "unison")},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("unison") is None,
                    reason="unison is not installed here (.ci/run installs it with apt)")
def test_unison_finds_no_conflict_between_two_machines_working_at_once(tmp_path, tiny_survey):
    ann, bea = env_for(tmp_path, "ann"), env_for(tmp_path, "bea")
    one, two = tmp_path / "laptop" / "study", tmp_path / "server" / "study"
    assert tuiqa(ann, "import", tiny_survey, "--project", one).returncode == 0
    two.parent.mkdir()
    first = unison(ann, one, two)
    assert first.returncode == 0, first.stdout + first.stderr
    rng = random.Random(5)
    for round_ in range(4):
        work(ann, one, "ann", rng.randrange(1000), rng.randrange(3, 15),
             rename=f"hope {round_} (ann)" if round_ == 2 else "")
        work(bea, two, "bea", rng.randrange(1000), rng.randrange(3, 15),
             rename=f"hope {round_} (bea)" if round_ == 2 else "")
        done = unison(ann, one, two)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out  # 1 would mean a path changed on both sides, skipped
        assert "<-?->" not in out and " 0 skipped, 0 failed" in out, out
    # once more after both have opened what arrived (they may record conflicts and fold)
    for env, where in ((ann, one), (bea, two)):
        view(env, where)
    assert unison(ann, one, two).returncode == 0
    assert view(ann, one) == view(bea, two)
