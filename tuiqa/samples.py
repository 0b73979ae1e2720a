"""The bundled sample survey and the demo project made from it."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

SURVEY = "survey.csv"
CODINGS = "codings_lead.csv"


def sample_dir() -> Path:
    """Where the sample files are: inside the installed package, or the checkout's sample_data/."""
    packaged = Path(str(resources.files("tuiqa"))) / "sample_data"
    if (packaged / SURVEY).is_file():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "sample_data"
    if (checkout / SURVEY).is_file():
        return checkout
    raise FileNotFoundError("the sample data is missing from this installation of tuiqa")


def default_demo_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("tuiqa", appauthor=False) / "demo"


def build_sample_project(directory: Path) -> None:
    """Import the sample survey and the lead coder's starter codings into a new project."""
    from .importers.codings import import_codings
    from .importers.survey import import_survey
    from .project import Project

    src = sample_dir()
    import_survey(directory, src / SURVEY)
    with Project.open(directory) as project:
        import_codings(project, src / CODINGS, coder=None, default_coder="lead", done="coded")


def demo_project(directory: Path | None = None, *, reset: bool = False) -> tuple[Path, bool]:
    """The demo project, created on first use. Returns (folder, created now)."""
    from .store.files import make_private_dir
    from .store.store import is_project

    directory = directory or default_demo_dir()
    if reset and directory.exists() and is_project(directory):
        shutil.rmtree(directory)
    if is_project(directory):
        return directory, False
    make_private_dir(directory.parent)
    build_sample_project(directory)
    return directory, True
