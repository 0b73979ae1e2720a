"""Helpers shared by several test modules."""

from __future__ import annotations

from pathlib import Path

from tuiqa.cli import main
from tuiqa.session import Session


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under a project folder, by relative path, with its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run the command line in-process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def code_id(project, name: str) -> str:
    return project.code_by_name(name).id


def build_map(project) -> dict[str, str]:
    """A small thematic map over the sample codes: an overarching theme with a theme and a
    sub-theme, a second theme sharing a code, one code parked in miscellaneous."""
    s = Session(project, "lead")
    _, over = s.create_theme("Recovery as a relationship", overarching=True)
    _, trust = s.create_theme("Trust is slow to build", parent_id=over)
    _, honest = s.create_theme("Honesty is risky", parent_id=trust)
    _, rules = s.create_theme("Rules and autonomy")
    s.assign_codes(trust, [code_id(project, "building trust"), code_id(project, "hope")])
    s.assign_codes(honest, [code_id(project, "limits of confidentiality")])
    s.assign_codes(rules, [code_id(project, "following rules"), code_id(project, "risk vs autonomy"),
                           code_id(project, "hope")])
    s.park_code(code_id(project, "staff burnout"))
    return {"over": over, "trust": trust, "honest": honest, "rules": rules}
