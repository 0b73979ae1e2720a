"""The bundled sample survey and the demo project made from it."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

SURVEY = "survey.csv"
CODINGS = "codings_lead.csv"
SECOND_CODINGS = "codings_second.csv"
DOUBLE_CODED = "Q1"  # the question both coders coded independently


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


def build_sample_project(directory: Path, *, second_coder: bool = False) -> None:
    """Import the sample survey and the lead coder's starter codings into a new project.

    With ``second_coder`` the coder ``kit`` has also double coded Q1 independently, and both
    coders have marked every Q1 answer done, so the team screens (agreement, disagreements,
    review) have something to show.
    """
    from .importers.codings import import_codings
    from .importers.survey import import_survey
    from .project import Project

    src = sample_dir()
    import_survey(directory, src / SURVEY)
    with Project.open(directory) as project:
        import_codings(project, src / CODINGS, coder=None, default_coder="lead", done="coded")
        if not second_coder:
            return
        import_codings(project, src / SECOND_CODINGS, coder=None, default_coder="kit", done="coded")
        question = next(q for q in project.questions.values() if q.key == DOUBLE_CODED)
        change = project.change(f"both coders finished {DOUBLE_CODED}")
        for rid, response in project.responses.items():
            if response.question_id == question.id:
                for who in ("lead", "kit"):
                    if not project.is_done(rid, who):
                        project.set_done(change, rid, who, True)
        project.commit(change, "lead")
        draft_themes(project)


# A first, candidate set of themes by the lead coder: something for the themes screen and the
# map to show in the demo (a newcomer reshapes it, and map versions keep this draft).
DRAFT_THEMES = (
    ("Recovery on Jo's terms", True, None, ()),
    ("A lapse is not the end", False, "Recovery on Jo's terms",
     ("recovery is non-linear", "hope")),
    ("Jo sets the goal", False, "Recovery on Jo's terms",
     ("person-led goals", "harm reduction", "risk vs autonomy")),
    ("Rules before people", False, None, ("following rules", "stigma")),
    ("Stretched staff", False, "Rules before people",
     ("time pressure", "staff burnout", "training gaps")),
)


def draft_themes(project) -> None:
    from .session import Session

    session = Session(project, "lead")
    made: dict[str, str] = {}
    for name, overarching, parent, codes in DRAFT_THEMES:
        _, ident = session.create_theme(name, parent_id=made.get(parent or ""), overarching=overarching)
        made[name] = ident
        ids = [c.id for c in (project.code_by_name(n) for n in codes) if c is not None]
        if ids:
            session.assign_codes(ident, ids)
    session.save_map_version("first draft")


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
    build_sample_project(directory, second_coder=True)
    return directory, True
