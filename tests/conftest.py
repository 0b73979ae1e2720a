"""Shared fixtures: a fresh copy of the sample project, small hand-made projects."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"


def pytest_configure(config):
    """Not even a session fixture touches the user's real data or cache folders (where a machine
    keeps its identity and its caches of projects)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="tuiqa-tests-"))
    os.environ["XDG_DATA_HOME"] = str(base / "data")
    os.environ["XDG_CACHE_HOME"] = str(base / "cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test touches the user's real data folder or keymap, or depends on the login name."""
    monkeypatch.setenv("TUIQA_CODER", "tester")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(scope="session")
def _sample_project_template(tmp_path_factory) -> Path:
    from tuiqa.samples import build_sample_project

    directory = tmp_path_factory.mktemp("template") / "sample"
    build_sample_project(directory)
    return directory


@pytest.fixture
def sample_project(_sample_project_template, tmp_path) -> Path:
    """The bundled sample survey with the lead coder's starter codings, in a fresh folder."""
    target = tmp_path / "sample"
    shutil.copytree(_sample_project_template, target)
    os.chmod(target, 0o700)
    return target


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory) -> Path:
    from tuiqa.samples import build_sample_project

    directory = tmp_path_factory.mktemp("demo-template") / "demo"
    build_sample_project(directory, second_coder=True)
    return directory


@pytest.fixture
def demo(_demo_template, tmp_path) -> Path:
    """The demo project (`tuiqa demo`: two coders, draft themes), in a fresh folder named
    ``demo`` (the name shows in the app's title: snapshots depend on it)."""
    target = tmp_path / "demo"
    shutil.copytree(_demo_template, target)
    return target


@pytest.fixture
def project(sample_project):
    """That sample project, open (closed after the test). Modules about a project folder
    rather than an open project define their own ``project``."""
    from tuiqa.project import Project

    p = Project.open(sample_project)
    yield p
    p.close()


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def tiny_survey(tmp_path) -> Path:
    """Three participants, two attributes, two questions (one with two sentences)."""
    return write_csv(tmp_path / "tiny.csv",
                     "id,role,setting,What helps recovery?,What gets in the way?\r\n"
                     "P1,Nurse,Community,\"Trust helps. So does time!\",Too many rules on the ward\r\n"
                     "P2,Support worker,Inpatient,Being listened to … really,\"Staff \u201cburnout\u201d and no time at all\"\r\n"
                     "P3,,Community,Hope,\r\n")


@pytest.fixture
def tiny_project(tiny_survey, tmp_path) -> Path:
    from tuiqa.importers.survey import import_survey

    directory = tmp_path / "tiny"
    import_survey(directory, tiny_survey)
    return directory
