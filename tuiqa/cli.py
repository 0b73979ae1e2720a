"""The command line: a thin layer that parses arguments and calls the core (or starts the app)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# -- helpers -----------------------------------------------------------------------------------


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def _add_project(parser: argparse.ArgumentParser, positional: bool) -> None:
    if positional:
        parser.add_argument("project_pos", nargs="?", metavar="DIR", help="the project folder")
    parser.add_argument("-p", "--project", metavar="DIR", help="the project folder")


def _project_dir(args: argparse.Namespace) -> Path:
    pos = getattr(args, "project_pos", None)
    opt = getattr(args, "project", None)
    if pos and opt and Path(pos).resolve() != Path(opt).resolve():
        raise CliError(f"two different projects given: {pos} and --project {opt}", EXIT_USAGE)
    chosen = pos or opt
    if not chosen:
        raise CliError("which project? give its folder, e.g. `--project my-study`", EXIT_USAGE)
    return Path(chosen)


def _coder(args: argparse.Namespace) -> str:
    from .session import default_coder, valid_coder_name

    return valid_coder_name(getattr(args, "coder", None) or default_coder())


def _open_project(directory: Path):
    from .project import Project

    return Project.open(directory)


def _print_warnings(warnings: Sequence[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


# -- commands ----------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from .importers.survey import ImportError_, describe, import_survey, plan_import
    from .store.state import State
    from .store.store import is_project

    directory = _project_dir(args)
    options = dict(id_column=args.id_column, attributes=args.attribute or [],
                   questions=args.question or [], sheet=args.sheet)
    try:
        if args.dry_run:
            if is_project(directory):
                with _open_project(directory) as project:
                    plan = plan_import(Path(args.survey), project.state, **options)
            else:
                plan = plan_import(Path(args.survey), State(), **options)
            lines = describe(plan, directory, dry_run=True)
        else:
            plan, lines = import_survey(directory, Path(args.survey), **options)
    except ImportError_ as exc:
        raise CliError(f"{exc}\nNothing was written.") from None
    _print_warnings(plan.warnings)
    print("\n".join(lines))
    return EXIT_OK


def project_stats(project) -> dict:
    codings = list(project.all_codings())
    return {
        "participants": len(project.participants),
        "questions": len(project.questions),
        "responses": len(project.responses),
        "codes": len(project.codes()),
        "codings": len(codings),
        "coders": project.coders(),
        "attributes": list(project.attributes),
        "done": {coder: len(done & project.responses.keys())
                 for coder, done in sorted(project.done.items()) if done},
        "question_keys": {q.key: q.text for q in project.questions_in_order()},
    }


def cmd_stats(args: argparse.Namespace) -> int:
    from .text import one_line

    with _open_project(_project_dir(args)) as project:
        stats = project_stats(project)
        _print_warnings(project.store.warnings)
        if args.format == "json":
            print(json.dumps(stats, ensure_ascii=False, indent=2))
            return EXIT_OK
        print(f"Project {project.dir}")
        for key in ("participants", "questions", "responses", "codes", "codings"):
            print(f"  {key:<13}{stats[key]:>8}")
        print(f"  {'coders':<13}{', '.join(stats['coders']) or '(none yet)'}")
        for coder, n in stats["done"].items():
            print(f"  {'':<13}{coder}: {n} of {stats['responses']} responses done")
        print(f"  {'attributes':<13}{', '.join(one_line(a) for a in stats['attributes']) or '(none)'}")
        print("Questions:")
        counts: dict[str, int] = {}
        for r in project.responses.values():
            counts[r.question_id] = counts.get(r.question_id, 0) + 1
        for q in project.questions_in_order():
            print(f"  {q.key:>4}  {one_line(q.text, 62)}  ({counts.get(q.id, 0)} answers)")
    return EXIT_OK


def cmd_import_codings(args: argparse.Namespace) -> int:
    from .importers.codings import CodingsImportError, import_codings
    from .session import default_coder, valid_coder_name

    coder = valid_coder_name(args.coder) if args.coder else None
    with _open_project(_project_dir(args)) as project:
        try:
            result = import_codings(project, Path(args.file), coder=coder,
                                    default_coder=default_coder(), done=args.done)
        except CodingsImportError as exc:
            raise CliError(str(exc)) from None
        print("\n".join(result.lines(Path(args.file))))
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    return run_app(_project_dir(args), coder=_coder(args), blind=args.blind, order=args.order)


def run_app(directory: Path, *, coder: str, blind: bool = False, order: str = "participant") -> int:
    from .session import Session
    from .ui.app import TuiqaApp

    from .project import Project

    project = Project.open(directory, lazy=True)
    hung_up = False
    try:
        session = Session(project, coder)
        app = TuiqaApp(project, session, order=order, blind=blind)
        app.run()
        hung_up = app.hung_up
    finally:
        try:
            if not hung_up and project.store.has_session and len(project.responses) > 20_000:
                print("tuiqa: folding this session into data.json …", file=sys.stderr)
            project.close(compact=not hung_up)
        except Exception as exc:  # the journal already holds everything; say so and move on
            print(f"warning: could not tidy the project on exit ({exc}); nothing is lost, "
                  "the journal is replayed next time", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .samples import demo_project

    directory, created = demo_project(Path(args.dir) if args.dir else None, reset=args.reset)
    print(("Created" if created else "Opening") + f" the demo project in {directory}")
    if args.no_open:
        return EXIT_OK
    return run_app(directory, coder=_coder(args))


# -- parser ------------------------------------------------------------------------------------

MAIN_EPILOG = """\
examples:
  tuiqa demo                                   try it on the bundled sample survey
  tuiqa import survey.csv --project my-study   create a project from a survey export
  tuiqa open my-study --coder ann              code it
  tuiqa stats my-study --format json           what is in it

Your data stays on this machine: tuiqa makes no network calls and writes owner-only files."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuiqa", formatter_class=_formatter, epilog=MAIN_EPILOG,
        description="Keyboard-driven reflexive thematic analysis of free-text survey answers.")
    parser.add_argument("--version", action="version", version=f"tuiqa {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import a survey export (CSV, TSV, XLSX) into a project",
                       formatter_class=_formatter, epilog="""\
The participant ID is the first column unless --id-column says otherwise. A column is an
attribute (role, setting, experience…) when its answers are short labels: median at most 4 words
and none over 60 characters; anything else is an open question, keyed Q1, Q2… in column order.
Importing again adds new participants and questions and never touches codings.

examples:
  tuiqa import survey.csv --project my-study
  tuiqa import survey.xlsx -p my-study --attribute "Years in post" --question "Other comments"
  tuiqa import survey.csv -p my-study --dry-run""")
    p.add_argument("survey", metavar="SURVEY", help="the survey export (.csv, .tsv, .xlsx)")
    _add_project(p, positional=False)
    p.add_argument("--id-column", metavar="NAME", help="the participant ID column (default: the first)")
    p.add_argument("--attribute", metavar="NAME", action="append", help="treat this column as an attribute (repeatable)")
    p.add_argument("--question", metavar="NAME", action="append", help="treat this column as an open question (repeatable)")
    p.add_argument("--sheet", metavar="NAME", help="the sheet of an .xlsx file (default: the first)")
    p.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("stats", help="what is in a project", formatter_class=_formatter,
                       epilog="examples:\n  tuiqa stats my-study\n  tuiqa stats my-study --format json")
    _add_project(p, positional=True)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("import-codings", help="import codings done elsewhere (CSV/XLSX)",
                       formatter_class=_formatter, epilog="""\
Columns: participant, question, code, coder, start, end, text (others are ignored).
question is a key (Q3) or the question's header text. start/end are code-point offsets,
end-exclusive; if empty, text is found in the answer; if all three are empty the whole answer is
coded. All or nothing: a row that cannot be placed is reported and nothing is imported.

examples:
  tuiqa import-codings coded.csv --project my-study
  tuiqa import-codings second-coder.csv -p my-study --coder bea --done coded""")
    p.add_argument("file", metavar="FILE")
    _add_project(p, positional=False)
    p.add_argument("--coder", metavar="NAME", help="assign every row to this coder (default: the coder column)")
    p.add_argument("--done", choices=("all", "coded", "none"), default="all",
                   help="which responses the file covers as done by each of its coders (default: all)")
    p.set_defaults(func=cmd_import_codings)

    p = sub.add_parser("open", help="code a project in the terminal app", formatter_class=_formatter,
                       epilog="examples:\n  tuiqa open my-study\n  tuiqa open my-study --coder bea --blind")
    _add_project(p, positional=True)
    p.add_argument("--coder", metavar="NAME", help="who is coding (default: $TUIQA_CODER, else your login name)")
    p.add_argument("--blind", action="store_true", help="see no other coder's work (independent double coding)")
    p.add_argument("--order", choices=("participant", "question"), default="participant",
                   help="read by participant or by question (switch in the app with o)")
    p.set_defaults(func=cmd_open)

    p = sub.add_parser("demo", help="open a copy of the bundled sample project", formatter_class=_formatter,
                       epilog="examples:\n  tuiqa demo\n  tuiqa demo --reset")
    p.add_argument("--dir", metavar="DIR", help="where to put the demo project (default: your data folder)")
    p.add_argument("--coder", metavar="NAME", help="who is coding (default: $TUIQA_CODER, else your login name)")
    p.add_argument("--reset", action="store_true", help="start the demo project afresh")
    p.add_argument("--no-open", action="store_true", help="create it, do not open the app")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .importers.survey import ImportError_
    from .project import ChangeError
    from .store.files import LockTimeout
    from .store.store import ProjectError

    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    os.umask(0o077 | (os.umask(0o077) & 0o777))  # never create world-readable files
    try:
        return func(args)
    except CliError as exc:
        print(f"tuiqa: error: {exc}", file=sys.stderr)
        return exc.code
    except (ProjectError, ImportError_, ChangeError, LockTimeout) as exc:
        print(f"tuiqa: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tuiqa: interrupted; nothing half-done was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
