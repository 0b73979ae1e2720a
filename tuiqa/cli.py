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
            progress = ProgressLine(f"importing {Path(args.survey).name}")
            try:
                plan, lines = import_survey(directory, Path(args.survey), progress=progress, **options)
            finally:
                progress.close()
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
                                    default_coder=default_coder(), done=args.done,
                                    with_consensus=args.with_consensus)
        except CodingsImportError as exc:
            raise CliError(str(exc)) from None
        print("\n".join(result.lines(Path(args.file))))
    return EXIT_OK


def _split_project_and_rest(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """`codes DIR rename A B` or `codes -p DIR rename A B`: the folder, then the rest."""
    items = list(args.items)
    if args.project:
        if items and Path(items[0]).resolve() == Path(args.project).resolve():
            items = items[1:]
        return Path(args.project), items
    if not items:
        raise CliError("which project? give its folder, e.g. `tuiqa codes my-study`", EXIT_USAGE)
    return Path(items[0]), items[1:]


def cmd_codes(args: argparse.Namespace) -> int:
    from . import codebook
    from .session import Session

    directory, rest = _split_project_and_rest(args)
    action = rest[0] if rest else "list"
    with _open_project(directory) as project:
        if action == "list":
            if len(rest) > 1:
                raise CliError(f"unexpected {' '.join(rest[1:])!r}; see `tuiqa codes --help`", EXIT_USAGE)
            coder = args.coder
            if coder and coder not in project.coders():
                raise CliError(f"no codings by {coder!r}; coders: {', '.join(project.coders()) or 'none'}")
            stats = codebook.code_stats(project, coder)
            rows = sorted(stats.values(), key=lambda e: e.code.name.casefold())
            if args.format == "json":
                print(json.dumps([{
                    "id": e.code.id, "name": e.code.name, "kind": e.code.kind,
                    "description": e.code.description, "colour": e.code.colour,
                    "created_by": e.code.created_by, "extracts": e.extracts,
                    "responses": e.responses, "participants": e.participants,
                    "coders": sorted(e.coders),
                    "memos": [{"coder": m.coder, "text": m.text} for m in project.memos_for("code", e.code.id)],
                } for e in rows], ensure_ascii=False, indent=2))
                return EXIT_OK
            from .text import one_line

            width = max([len(one_line(e.code.name)) for e in rows] + [4])
            width = min(width, 40)
            print(f"{'code':<{width}}  kind      extracts  responses  participants")
            for e in rows:
                print(f"{one_line(e.code.name, width):<{width}}  {e.code.kind:<8}  {e.extracts:>8}  "
                      f"{e.responses:>9}  {e.participants:>12}")
            print(f"{len(rows)} codes" + (f", counting {coder}'s codings only" if coder else ""))
            return EXIT_OK
        session = Session(project, _coder(args))
        if action == "rename":
            if len(rest) != 3:
                raise CliError("usage: tuiqa codes DIR rename OLD NEW", EXIT_USAGE)
            code = codebook.find_code(project, rest[1])
            try:
                outcome = session.rename_code(code.id, rest[2])
            except codebook.NameTaken as taken:
                raise CliError(f"{taken}\n  merge with: tuiqa codes {directory} merge "
                               f"{_shell(code.name)} --into {_shell(taken.existing.name)}") from None
            print(outcome.message)
            return EXIT_OK
        if action == "merge":
            if len(rest) < 2 or not args.into:
                raise CliError("usage: tuiqa codes DIR merge SRC... --into DST", EXIT_USAGE)
            target = codebook.find_code(project, args.into)
            sources = [codebook.find_code(project, name) for name in rest[1:]]
            if any(s.id == target.id for s in sources):
                raise CliError(f"{target.name!r} cannot be merged into itself")
            print(session.merge_codes([s.id for s in sources], target.id).message)
            return EXIT_OK
        raise CliError(f"unknown action {action!r}: use list (the default), rename or merge", EXIT_USAGE)


def _shell(text: str) -> str:
    import shlex

    return shlex.quote(text)


def cmd_extracts(args: argparse.Namespace) -> int:
    from . import codebook
    from .session import Session

    if args.project and args.project_pos and not args.code:
        args.code, args.project_pos = args.project_pos, None  # `extracts -p DIR CODE`
    if not args.code:
        raise CliError("which code? e.g. `tuiqa extracts my-study hope`", EXIT_USAGE)
    with _open_project(_project_dir(args)) as project:
        code = codebook.find_code(project, args.code)
        session = Session(project, _coder(args))
        attribution, quote = session.attribution, session.quote
        if args.quote_template is not None:  # this command only; the project's setting stays
            from . import quotes

            quotes.parse(args.quote_template, project.attributes)  # a TemplateError says why
            attributor = quotes.Attributor(args.quote_template, project.attributes)

            def attribution(r):
                part = project.participants[r.participant_id]
                return attributor(part.pid, part.attrs)

            def quote(c):
                r = project.responses[c.response_id]
                return quotes.quote(r.text[c.start:c.end], attribution(r))
        extracts = codebook.extracts_of(project, code.id, args.coder)
        rows = []
        for c in extracts:
            r = project.responses[c.response_id]
            part = project.participants[r.participant_id]
            q = project.questions[r.question_id]
            rows.append({
                "participant": part.pid, "question": q.text, "question_key": q.key,
                "attributes": {a: part.attrs.get(a, "") for a in project.attributes},
                "coder": c.coder, "start": c.start, "end": c.end, "text": r.text[c.start:c.end],
                "attribution": attribution(r), "quote": quote(c),
            })
        if args.format == "json":
            print(json.dumps({"code": code.name, "kind": code.kind, "description": code.description,
                              "extracts": rows}, ensure_ascii=False, indent=2))
        elif args.format == "markdown":
            print(f"## {code.name}\n")
            if code.description:
                print(f"{code.description}\n")
            for row in rows:
                body = " ".join(row["text"].split())
                print(f"> {body}\n>\n> — {row['attribution']}, {row['question_key']}\n")
            print(f"*{len(rows)} extract(s), {code.kind} code*")
        else:
            print(f"{code.name} ({code.kind}): {len(rows)} extract(s)")
            for row in rows:
                print(f"- {row['quote']}  [{row['question_key']}, {row['coder']}]")
    return EXIT_OK


def cmd_themes(args: argparse.Namespace) -> int:
    from . import themes
    from .text import ascii_terminal

    with _open_project(_project_dir(args)) as project:
        m = themes.build(project)
        if args.format == "json":
            print(json.dumps(themes.map_json(project, m), ensure_ascii=False, indent=2))
            return EXIT_OK
        counts = themes.counts(project, m, args.coder)
        lines = themes.map_lines(project, m, width=args.width, counts_by=counts,
                                 ascii_only=args.ascii or ascii_terminal())
        print("\n".join(lines) if lines else "No themes and no codes yet.")
    return EXIT_OK


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def cmd_agreement(args: argparse.Namespace) -> int:
    import csv

    from . import coders as C
    from .agreement import normalise_unit, to_csv_rows
    from .csvsafe import escape

    unit = normalise_unit(args.unit)  # "response" is the older name of "answer"
    if args.resamples < 1:
        raise CliError("--resamples must be at least 1", EXIT_USAGE)
    with _open_project(_project_dir(args)) as project:
        known = set(project.coders()) | set(project.done)
        unknown = [c for c in args.coders if c not in known]
        if unknown:
            raise CliError(f"no coding or done mark by {', '.join(unknown)}; coders: "
                           f"{', '.join(sorted(known)) or 'none'}")
        progress = ProgressLine(f"comparing {', '.join(args.coders)}")
        try:
            table = C.agreement_table(project, args.coders, unit, args.by, progress=progress,
                                      intervals=not args.no_intervals, resamples=args.resamples,
                                      seed=args.seed)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        finally:
            progress.close()
        if args.format == "json":
            print(json.dumps(C.table_dict(project, table), ensure_ascii=False, indent=2))
            return EXIT_OK
        if args.format == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            for k, group in enumerate(table.groups):
                rows = to_csv_rows(group.report)
                if table.by is not None:  # one table, a first column naming the group
                    rows = [[table.by, *rows[0]]] * (k == 0) + [[group.value or "(all)", *r] for r in rows[1:]]
                for row in rows:
                    writer.writerow([escape(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
            return EXIT_OK
        for line in _agreement_lines(table):
            print(line)
    return EXIT_OK


def _interval(iv) -> str:
    return "—" if iv is None or iv.low is None else f"[{iv.low:.2f}, {iv.high:.2f}]"


def _agreement_lines(table) -> list[str]:
    """The text table of ``tuiqa agreement``: the figures over every unit, then each group."""
    from .text import one_line

    coders = list(table.coders)
    two = len(coders) == 2
    kappa = "cohen_kappa" if two else "fleiss_kappa"
    kappa_name = "Cohen's kappa" if two else "Fleiss' kappa"
    unit_word = "answers" if table.unit == "answer" else "characters"
    report = table.whole.report
    lines = [f"Agreement between {', '.join(coders)} ({table.unit} as unit)",
             f"  units compared: {report.units_compared} answers finished by every one of them "
             f"({report.units_pairable} by at least two: alpha's units); {report.units_excluded} responses "
             f"excluded"]
    if report.intervals:
        lines.append(f"  [low, high]: 95% bootstrap interval ({report.resamples} resamples of the answers, "
                     f"seed {report.seed})")
    flagged: list[str] = []
    for k, group in enumerate(table.groups):
        if k:
            lines += ["", f"── {one_line(group.label, 76)} ──"]
        p = group.pooled
        lines.append(f"  pooled over all codes: percent agreement {_fmt(p.value('percent_agreement'))}, "
                     f"{kappa_name} {_fmt(p.value(kappa))} {_interval(p.intervals.get(kappa))}, "
                     f"Krippendorff's alpha {_fmt(p.value('krippendorff_alpha'))} "
                     f"{_interval(p.intervals.get('krippendorff_alpha'))}")
        lines.append(f"    Gwet's AC1 {_fmt(p.value('gwet_ac1'))}, Brennan-Prediger {_fmt(p.value('brennan_prediger'))}"
                     + (f", Scott's pi {_fmt(p.value('scott_pi'))}" if two else
                        f", mean pairwise Cohen's kappa {_fmt(p.value('mean_pairwise_cohen_kappa'))}"))
        means = p.means
        lines.append(f"  mean of per-code values: kappa {_fmt(means[kappa].value)}, "
                     f"alpha {_fmt(means['krippendorff_alpha'].value)}, AC1 {_fmt(means['gwet_ac1'].value)}")
        seg = group.report.overall.segment_kappa
        lines.append(f"  extract overlap where coders both applied a code: Jaccard {_fmt(p.value('overlap_jaccard'))}, "
                     f"MASI {_fmt(p.value('overlap_masi'))}; segments matched at "
                     f"{group.report.overlap_threshold:.0%} overlap: {_fmt(p.value('segment_agreement'))} "
                     f"(segment kappa {_fmt(seg.value)})")
        shown = {"percent_agreement", kappa, "krippendorff_alpha", "gwet_ac1", "brennan_prediger",
                 "scott_pi" if two else "mean_pairwise_cohen_kappa", f"{kappa}_interval",
                 "krippendorff_alpha_interval"}
        for name, reason in sorted(p.reasons.items()):
            if name in shown or name.startswith("overlap."):
                lines.append(f"  ({name}: {reason})")
        width = min(max([len(one_line(r.code)) for r in group.rows] + [4]), 28)
        only = "  ".join(f"only {c[:5]:>5}" for c in coders)
        stats = (f"{'%agr':>5}  {'κ' if two else 'Fleiss κ':>8}  {'κ 95%':>14}  " + ("" if two else f"{'pair κ':>6}  ")
                 + f"{'α':>6}  {'α 95%':>14}  {'AC1':>5}  {'BP':>5}" + (f"  {'π':>5}" if two else ""))
        lines.append("")
        lines.append(f"{'code':<{width}}  {unit_word:>10}  {'both':>6}  {only}  {'neither':>7}  {stats}")
        for r in group.rows:
            onlys = "  ".join(f"{r.only[c]:>10}" for c in coders)
            cells = (f"{_fmt(r.value('percent_agreement'), 2):>5}  {_fmt(r.value(kappa), 2):>8}  "
                     f"{_interval(r.intervals.get(kappa)):>14}  "
                     + ("" if two else f"{_fmt(r.value('mean_pairwise_cohen_kappa'), 2):>6}  ")
                     + f"{_fmt(r.value('krippendorff_alpha'), 2):>6}  {_interval(r.intervals.get('krippendorff_alpha')):>14}  "
                     f"{_fmt(r.value('gwet_ac1'), 2):>5}  {_fmt(r.value('brennan_prediger'), 2):>5}"
                     + (f"  {_fmt(r.value('scott_pi'), 2):>5}" if two else ""))
            line = (f"{one_line(r.code, width):<{width}}  {r.units:>10}  {r.both:>6}  {onlys}  "
                    f"{r.neither:>7}  {cells}")
            if r.kappa_paradox:
                line += "  !"
                flagged.append(f"  ! {one_line(r.code)}"
                               + (f" ({one_line(group.label, 40)})" if group.value is not None else "")
                               + f": {r.flags[0]}")
            undefined = [s.reason for s in (r.stats['percent_agreement'], r.stats[kappa], r.stats['krippendorff_alpha'])
                         if s.value is None and s.reason]
            if undefined:
                line += f"  ({'; '.join(dict.fromkeys(undefined))})"
            lines.append(line)
    if flagged:
        lines += ["", *flagged]
    lines += ["", "— means undefined: the reason follows the row (an interval is undefined when the figure is, or",
              "when some resamples lose every difference: too few answers where the coders' decisions vary).",
              "! flags the kappa paradox: kappa below 0.40 while 80% agree and the code is rare or nearly",
              "everywhere (prevalence 0.15 or less, or 0.85 or more): read AC1 beside it. Definitions and",
              "formulas: the README."]
    return lines


def cmd_merge(args: argparse.Namespace) -> int:
    from .merge import merge_into

    if args.project and args.project_pos and not args.other:
        args.other, args.project_pos = args.project_pos, None
    if not args.other:
        raise CliError("merge what? usage: tuiqa merge DIR OTHER_DIR", EXIT_USAGE)
    other = Path(args.other)
    directory = _project_dir(args)
    if other.resolve() == directory.resolve():
        raise CliError("that is the same project")
    progress = ProgressLine(f"merging {other.name}")
    with _open_project(directory) as project:
        try:
            report = merge_into(project, other, _coder(args), progress)
        finally:
            progress.close()
    print("\n".join(report.lines(other)))
    return EXIT_OK


class ProgressLine:
    """A one-line progress bar on stderr, when stderr is a terminal (silent otherwise)."""

    def __init__(self, what: str) -> None:
        from .safe_output import raw
        from .text import one_line

        self.what = one_line(what)
        self.stream = raw(sys.stderr)  # its carriage returns are tuiqa's own
        self.enabled = self.stream.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = int(100 * done / total)
        if percent == self.last:
            return
        self.last = percent
        bar = "#" * (percent // 4)
        self.stream.write(f"\r{self.what} [{bar:<25}] {percent:3d}%  (Ctrl+C stops, writing nothing)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.last >= 0:
            self.stream.write("\r" + " " * 90 + "\r")
            self.stream.flush()


def cmd_export(args: argparse.Namespace) -> int:
    from . import layers, quotes
    from .exporters import Cancelled, ExportContext, ExportError, export, load_all, target

    formats = load_all()
    if args.format not in formats:
        raise CliError(f"unknown format {args.format!r}; formats: {', '.join(sorted(formats))}", EXIT_USAGE)
    fmt = formats[args.format]
    progress = ProgressLine(f"exporting {args.format}")
    with _open_project(_project_dir(args)) as project:
        if args.coder and fmt.layered:
            layers.parse(project, args.coder)  # a LayerError names the coders
        elif args.coder and args.coder not in project.coders():
            raise CliError(f"no codings by {args.coder!r}; coders: {', '.join(project.coders()) or 'none'}")
        if args.quote_template is not None:
            quotes.parse(args.quote_template, project.attributes)  # a TemplateError says why
        ctx = ExportContext(coder=args.coder, session_coder=_coder(args), progress=progress,
                            quote_template=args.quote_template)
        try:
            out = export(project, args.format, target(project, args.format, args.output, ctx), ctx)
        except ExportError as exc:
            raise CliError(str(exc)) from None
        except (Cancelled, KeyboardInterrupt):
            progress.close()
            print("tuiqa: export stopped; nothing was written", file=sys.stderr)
            return 130
        finally:
            progress.close()
    print(f"Wrote {out} ({fmt.description})"
          + ("; it replaced the file that was there" if ctx.replaced else ""))
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    from . import settings

    directory, rest = _split_project_and_rest(args)
    if len(rest) > 2:
        raise CliError("usage: tuiqa settings DIR [NAME [VALUE]]", EXIT_USAGE)
    with _open_project(directory) as project:
        if not rest:
            listing = settings.listing(project)
            if args.format == "json":
                print(json.dumps(listing, ensure_ascii=False, indent=2))
                return EXIT_OK
            from .text import one_line

            for item in listing:
                shown = one_line(str(item["value"]), 56) if item["value"] else "(none)"
                print(f"{item['name']:<15} {shown}" + ("" if item["set"] else "  (default)"))
            print("Set one with: tuiqa settings DIR NAME VALUE (an empty VALUE restores the default)")
            return EXIT_OK
        spec = settings.spec(rest[0])
        if len(rest) == 1:
            print(settings.value(project, spec.name))
            return EXIT_OK
        kept = settings.set_value(project, spec.name, rest[1], _coder(args))
        if kept is None:
            print(f"{spec.name}: back to the default ({settings.value(project, spec.name) or 'none'})")
        else:
            print(f"{spec.name}: {kept}")
    return EXIT_OK


def cmd_import_codebook(args: argparse.Namespace) -> int:
    from .importers.codebook import CodebookImportError, import_codebook

    path = Path(args.file)
    with _open_project(_project_dir(args)) as project:
        try:
            result = import_codebook(project, path, coder=_coder(args))
        except CodebookImportError as exc:
            raise CliError(f"{exc}\nNothing was imported.") from None
        print("\n".join(result.lines(path)))
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor

    directory = _project_dir(args)
    if args.restore:
        for line in doctor.restore(directory):
            print(line)
    checkup = doctor.check(directory)
    print("\n".join(checkup.lines()))
    return EXIT_OK if checkup.healthy else EXIT_ERROR


def cmd_sync(args: argparse.Namespace) -> int:
    from .sync import SyncError, sync

    try:
        report = sync(_project_dir(args), _coder(args))
    except SyncError as exc:
        raise CliError(str(exc)) from None
    print("\n".join(report.lines()))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .status import status
    from .store.store import ProjectError, _not_project_hint, is_project

    directory = _project_dir(args)
    if not is_project(directory):
        raise ProjectError(f"{directory} is not a tuiqa project", _not_project_hint(directory))
    print("\n".join(status(directory).lines()))
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    return run_app(_project_dir(args), coder=_coder(args), blind=args.blind, order=args.order)


def run_app(directory: Path, *, coder: str, blind: bool = False, order: str = "participant") -> int:
    import traceback

    from .ui.factory import make_app  # (tuiqa.ui first: it sets Textual's frame rate)

    from .project import Project

    project = Project.open(directory, lazy=True)
    hung_up = False
    crash: str | None = None
    try:
        try:
            app = make_app(project, coder, order=order, blind=blind)
            app.run()
        except Exception:  # the app could not start, or failed outside Textual's own handling
            crash = traceback.format_exc()
            print(crash, file=sys.stderr, end="")
        else:
            hung_up = app.hung_up
            crash = app.crash_report()  # an unhandled error inside the app (Textual showed it)
    finally:
        try:
            if not hung_up and crash is None and project.store.has_session \
                    and len(project.responses) > 20_000:
                print("tuiqa: folding this session into data.json …", file=sys.stderr)
            project.close(compact=not hung_up and crash is None)
        except Exception as exc:  # the journal already holds everything; say so and move on
            print(f"warning: could not tidy the project on exit ({exc}); nothing is lost, "
                  "the journal is replayed next time", file=sys.stderr)
    if crash is not None:
        return _report_crash(project.dir, project.store.backup_dir, crash, coder)
    return EXIT_OK


def _report_crash(directory: Path, backups: Path, crash: str, coder: str) -> int:
    """The app failed: keep the traceback in this machine's backups/, say where the work is safe,
    exit non-zero."""
    from .crash import keep_crash_log, safe_message

    log, problem = None, None
    try:
        log = keep_crash_log(directory, backups, crash, coder=coder)
    except OSError as exc:
        problem = exc.strerror or str(exc)
    print(safe_message(directory, log, problem), file=sys.stderr)
    return EXIT_ERROR


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
    p.add_argument("--with-consensus", action="store_true",
                   help="take rows whose coder is `consensus` as the team's agreed layer (as "
                        "tuiqa export --format csv writes it); refused otherwise")
    p.set_defaults(func=cmd_import_codings)

    p = sub.add_parser("codes", help="the codebook: list, rename, merge codes",
                       formatter_class=_formatter, epilog="""\
examples:
  tuiqa codes my-study                                 every code with its counts
  tuiqa codes my-study --format json --coder ann       counting ann's codings only
  tuiqa codes my-study rename "trust" "building trust"
  tuiqa codes my-study merge "hopeful" "hope " --into "hope"
Unknown code names are an error that suggests the closest names.""")
    p.add_argument("items", nargs="*", metavar="DIR [ACTION ARGS]",
                   help="the project folder, then list (default), rename OLD NEW, or merge SRC...")
    p.add_argument("-p", "--project", metavar="DIR", help="the project folder")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--coder", metavar="NAME", help="count one coder's codings (list); who renames/merges")
    p.add_argument("--into", metavar="DST", help="the code to merge into")
    p.set_defaults(func=cmd_codes)

    p = sub.add_parser("extracts", help="every extract of a code, with attribution",
                       formatter_class=_formatter, epilog="""\
examples:
  tuiqa extracts my-study "building trust"
  tuiqa extracts my-study hope --format markdown > hope.md
  tuiqa extracts -p my-study hope --format json --coder ann""")
    p.add_argument("project_pos", nargs="?", metavar="DIR", help="the project folder")
    p.add_argument("code", metavar="CODE", nargs="?", help="the code's name")
    p.add_argument("-p", "--project", metavar="DIR", help="the project folder")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--coder", metavar="NAME", help="only this coder's extracts")
    p.add_argument("--quote-template", metavar="TEMPLATE",
                   help="attribute quotes this way for this command (default: the project's "
                        "quote-template setting)")
    p.set_defaults(func=cmd_extracts)

    p = sub.add_parser("themes", help="the thematic map as text (or JSON)", formatter_class=_formatter,
                       epilog="""\
examples:
  tuiqa themes my-study                  overarching themes > themes > sub-themes > codes
  tuiqa themes my-study --format json    {"themes": [...], "unassigned": [...], "miscellaneous": [...]}
  tuiqa themes my-study --ascii          plain ASCII connectors (for any console)""")
    _add_project(p, positional=True)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--width", type=int, default=80, help="wrap nothing, cut lines at this width (default 80)")
    p.add_argument("--ascii", action="store_true", help="ASCII connectors instead of box drawing")
    p.add_argument("--coder", metavar="NAME", help="count one coder's codings only")
    p.set_defaults(func=cmd_themes)

    p = sub.add_parser("agreement", help="inter-coder agreement (percent, kappa, alpha, AC1 …)",
                       formatter_class=_formatter, epilog="""\
Units are the answers marked done by at least two compared coders; an answer a coder has not
finished is missing for that coder (alpha uses it; percent agreement, Fleiss' kappa, AC1 and
Brennan-Prediger use the answers finished by all; Cohen's kappa each pair's). A code is present for
a coder in a unit if they applied it anywhere in the answer (--unit character: each character coded
or not, NVivo's way). Undefined values are shown as — (null in JSON) with the reason; ! flags the
kappa paradox. The definitions and formulas are in the README.

examples:
  tuiqa agreement my-study --coders ann bea
  tuiqa agreement my-study --coders ann bea cy --format json
  tuiqa agreement my-study --coders ann bea --by question
  tuiqa agreement my-study --coders ann bea --by Setting --format csv > by-setting.csv
  tuiqa agreement my-study --coders ann bea --unit character --format csv > kappa.csv""")
    _add_project(p, positional=True)
    p.add_argument("--coders", nargs="+", required=True, metavar="NAME", help="two or more coders")
    p.add_argument("--unit", choices=("answer", "character", "response"), default="answer",
                   help="answer (the default; 'response' is its older name) or character")
    p.add_argument("--by", metavar="question|ATTRIBUTE",
                   help="also per question, or per value of a participant attribute (e.g. Setting)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--resamples", type=int, default=1000, metavar="N",
                   help="bootstrap resamples for the 95%% intervals (default 1000)")
    p.add_argument("--seed", type=int, default=17, help="bootstrap seed (default 17): the same seed, the same intervals")
    p.add_argument("--no-intervals", action="store_true", help="leave out the bootstrap intervals")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("merge", help="bring another copy of the project into this one",
                       formatter_class=_formatter, epilog="""\
Brings what OTHER has that DIR lacks: codings, codes, memos, review marks, themes, map versions,
resolutions, done marks (and participants/answers from a separate import of the same survey).
Deletions stay deleted; a field changed on both sides keeps the later change and reports the
other; a same-named code with another ID is fused. Merging twice changes nothing. OTHER is only read.

examples:
  tuiqa merge my-study /media/usb/my-study-bea
  tuiqa merge -p my-study ~/Downloads/my-study-laptop""")
    p.add_argument("project_pos", nargs="?", metavar="DIR", help="the project to merge into")
    p.add_argument("other", metavar="OTHER", nargs="?", help="the other copy (only read)")
    p.add_argument("-p", "--project", metavar="DIR", help="the project folder")
    p.add_argument("--coder", metavar="NAME", help="who is merging (default: $TUIQA_CODER, else your login name)")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("export", help="write the project out: reports, CSV, REFI-QDA, map pictures",
                       formatter_class=_formatter, epilog="""\
formats:
  markdown, docx      the write-up skeleton: themes, codes, attributed quotes, participants
  csv                 every coding as a row (import-codings reads it back exactly)
  codebook-csv, codebook-md   the codebook with counts, themes and an example each
  qdc, qdpx           REFI-QDA codebook / project, for NVivo, ATLAS.ti, MAXQDA, QualCoder
  mermaid, dot, svg   the thematic map as a picture source or picture
  html                one self-contained file to read in any browser, offline
Written privately (owner-only) to -o PATH (a file, or a folder, made if missing), or to
DIR/exports/ under a name of its own per format (NAME.md, NAME-codings.csv, NAME-codebook.csv…);
a file replaced is said. Write-ups, codebooks and map pictures quote and count one coder layer:
the primary-layer setting, or --coder (a coder, or consensus+CODER). See `tuiqa settings`.

examples:
  tuiqa export my-study --format docx -o write-up.docx
  tuiqa export my-study --format markdown --coder consensus+ann
  tuiqa export my-study --format csv --coder ann
  tuiqa export my-study --format html -o ~/to-read/""")
    _add_project(p, positional=True)
    p.add_argument("--format", required=True, metavar="FORMAT", help="see the list below")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="the file, or a folder (made if missing) for the default name "
                        "(default: DIR/exports/)")
    p.add_argument("--coder", metavar="LAYER",
                   help="write-ups: quote this coder's layer (or consensus+CODER) instead of the "
                        "primary layer; csv, qdpx: only this coder's codings")
    p.add_argument("--quote-template", metavar="TEMPLATE",
                   help="attribute quotes this way for this export (default: the project's "
                        "quote-template setting)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("settings", help="project settings: primary layer, quote template, title…",
                       formatter_class=_formatter, epilog="""\
settings:
  primary-layer    whose codings a write-up quotes and counts: a coder, or consensus+CODER
                   (the team's resolutions, that coder's codings elsewhere); default: the first coder
  quote-template   how quotes are attributed, e.g.
                   "({participant}[: {Role|lower}][, {Experience}' experience])"
  title, authors, date   of the write-up (Markdown, Word, HTML); default title: the project's name
An empty VALUE removes a setting (its default applies again). Every change is journaled.

examples:
  tuiqa settings my-study                                  list them
  tuiqa settings my-study primary-layer consensus+ann
  tuiqa settings my-study authors "A. Smith, B. Jones"
  tuiqa settings my-study --format json""")
    p.add_argument("items", nargs="*", metavar="DIR [NAME [VALUE]]",
                   help="the project folder, then a setting's name to show it, and a value to set it")
    p.add_argument("-p", "--project", metavar="DIR", help="the project folder")
    p.add_argument("--format", choices=("table", "json"), default="table", help="how to list them")
    p.add_argument("--coder", metavar="NAME", help="who changes it (default: $TUIQA_CODER, else your login name)")
    p.set_defaults(func=cmd_settings)

    p = sub.add_parser("import-codebook", help="import a codebook (REFI-QDA .qdc/.qdpx or codebook CSV)",
                       formatter_class=_formatter, epilog="""\
Reads codes, descriptions, colours and the hierarchy from a REFI-QDA codebook (.qdc, or the
codebook in a .qdpx) written by NVivo, ATLAS.ti, MAXQDA, QualCoder, Taguette or tuiqa, or from a
codebook CSV (columns name, kind, description, colour, themes as "A > B ; C"). Non-codable parent
codes become themes. Codes are matched by ID, then by name. All or nothing.

examples:
  tuiqa import-codebook team-codebook.qdc --project my-study
  tuiqa import-codebook codebook.csv -p my-study""")
    p.add_argument("file", metavar="FILE")
    _add_project(p, positional=False)
    p.add_argument("--coder", metavar="NAME", help="who imports (default: $TUIQA_CODER, else your login name)")
    p.set_defaults(func=cmd_import_codebook)

    p = sub.add_parser("doctor", help="check a project; restore a damaged file from a backup",
                       formatter_class=_formatter, epilog="""\
Checks every file (identity, survey, data, journals), that codings point at existing answers and
codes, and who can read the files. Changes nothing unless --restore is given: then the newest good
backup of a damaged file is put back (the damaged one is kept in backups/) and damaged journal
lines are set aside; the journals replay on top, so later changes are kept.

examples:
  tuiqa doctor my-study
  tuiqa doctor my-study --restore""")
    _add_project(p, positional=True)
    p.add_argument("--restore", action="store_true", help="restore damaged files from the backups")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("sync", help="share the project through git: commit, pull, push",
                       formatter_class=_formatter, epilog="""\
Runs your own git (tuiqa itself opens no connection): commits this machine's files in the
project (every file belongs to one machine, so a pull never conflicts), pulls, pushes, and says
what arrived from whom. DIR must be in a git repository with a remote.

examples:
  tuiqa sync my-study
  tuiqa sync -p ~/projects/wellbeing --coder ann""")
    _add_project(p, positional=True)
    p.add_argument("--coder", metavar="NAME", help="who is syncing (default: $TUIQA_CODER, else your login name)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("status", help="what has arrived in a synced project, from whom and when",
                       formatter_class=_formatter, epilog="""\
For a project shared through Dropbox, OneDrive, Syncthing or git: every machine whose files are
in the folder, who codes on it, its sessions (and any still arriving), when it last changed
something, and the conflicted copies a sync tool left. Reads only.

examples:
  tuiqa status my-study""")
    _add_project(p, positional=True)
    p.set_defaults(func=cmd_status)

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
    from .safe_output import safe_output

    with safe_output() as output:  # nothing user-supplied reaches the terminal as an escape
        try:
            return _main(argv, output)
        except Exception:  # a fault in tuiqa: its traceback, as safe as everything else
            import traceback

            traceback.print_exc()
            return EXIT_ERROR


def _main(argv: Sequence[str] | None, output) -> int:
    from .importers.survey import ImportError_
    from .project import ChangeError
    from .quotes import TemplateError
    from .store.files import LockTimeout
    from .store.store import ProjectError

    parser = build_parser()
    args = parser.parse_args(argv)
    output.for_format(getattr(args, "format", None))  # JSON stays exact JSON; CSV exact in files
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
    except (ProjectError, ImportError_, ChangeError, LockTimeout, TemplateError) as exc:
        print(f"tuiqa: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("tuiqa: interrupted; nothing half-done was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
