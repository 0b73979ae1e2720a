"""tuiqa's benchmark: measures the figures the issues set targets for, on a generated project.

    python bench/run.py            full size: 5,000 participants x 10 questions = 50,000 responses,
                                   2,000 codes, 150,000 codings by two coders
    python bench/run.py --quick    2,000 responses (200 x 10), 200 codes, 6,000 codings
    python bench/run.py --json     also print one flat JSON object as the last line
    python bench/run.py --agreement-only   only agreement: two coders, and three with missing answers

The same project is also spread over five machines' files (each coded a share without seeing the
others) and opened by one of them: ``open_ratio_5_machines``.

Every timing is compared with a floor measured in the same run (a minimal Textual app; one
appended line with fdatasync), because these machines are shared and noisy: the ratio is the
figure that counts. App timings come from a frame hook in a fresh process (bench/probe.py), never
from the test pilot; start-up is also timed until its first screen is on a real pseudo-terminal
(bench/pty_bytes.py), which a frame hook cannot see.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

TARGETS = {
    "open_ratio": ("<=", 2.0),
    "open_ratio_5_machines": ("<=", 2.0),
    "next_ms_p95": ("<=", 16.0),
    "tag_ms_p50": ("<=", 5.0),
    "import_s": ("<=", 5.0),
    "peak_rss_mb": ("<=", 300.0),
    "agreement_s": ("<=", 1.0),
    "agreement3_s": ("<=", 1.0),
    "bytes_per_next": ("<=", 4096),
    "bytes_per_picker_key": ("<=", 1024),
    "idle_bytes_per_s": ("<=", 0),
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def run_probe(*args: str, env: dict[str, str] | None = None) -> tuple[dict, float]:
    t0 = time.time()
    out = subprocess.run([sys.executable, str(HERE / "probe.py"), *args], capture_output=True,
                         text=True, timeout=600,
                         env={**os.environ, "TEXTUAL_ANIMATIONS": "none", **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"probe {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), t0


def floor_fsync_ms(directory: Path, n: int = 200) -> float:
    path = directory / "fsync-floor.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    line = b'{"t":"1795000000000.0000.abcdefab","u":"bench","ops":[]}\n'
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, line)
            os.fdatasync(fd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def measure_bytes(directory: Path, copy: Path) -> dict:
    """Bytes the real app writes to a pseudo-terminal for one key (80×24)."""
    import pty_bytes

    shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("backups"))
    try:
        found = pty_bytes.measure(str(copy), keys=20)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    return {k: v for k, v in found.items() if not k.startswith("samples")}


def measure_open_on_a_terminal(directory: Path, work: Path, repeat: int) -> dict:
    """Start-up until the first screen has been written to a real pseudo-terminal, for the
    floor app and for tuiqa alternately (the first pair warms up). The headless ``open_s``
    times the frame being drawn; this also times its way to the terminal, as a user sees it."""
    import pty_bytes

    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "TEXTUAL_ANIMATIONS": "none"}
    floors, opens = [], []
    for i in range(repeat + 1):
        copy = work / f"pty-open-{i}"
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("backups"))
        os.sync()
        time.sleep(0.5)
        floor = pty_bytes.time_to_screen([sys.executable, str(HERE / "probe.py"), "floor-tty"],
                                         b"FLOOR", env)
        opened = pty_bytes.time_to_screen([sys.executable, "-m", "tuiqa", "open", str(copy)],
                                          b"Q1 ", env)  # the first answer's question key
        shutil.rmtree(copy)
        if i:
            floors.append(floor)
            opens.append(opened)
    floor_s, open_s = statistics.median(floors), statistics.median(opens)
    return {"floor_open_pty_s": round(floor_s, 3), "open_pty_s": round(open_s, 3),
            "open_pty_ratio": round(open_s / floor_s, 2)}


TARGETS.update({  # issue #18: exports
    "export_s_csv": ("<=", 0.6), "export_s_markdown": ("<=", 0.6), "export_s_html": ("<=", 0.6),
    "export_s_docx": ("<=", 2.0), "export_s_qdpx": ("<=", 2.0), "export_csv_ratio": ("<=", 3.0),
})


def measure_exports(directory: Path, out: Path) -> dict:
    """Seconds to write the whole project in every export format (one after another, in one
    process, as the app would), and the floor for the codings CSV: the same rows, read back from
    it, written by the standard library's csv writer and saved the same way."""
    import csv
    import io

    from tuiqa.exporters import ExportContext, export, load_all
    from tuiqa.project import Project
    from tuiqa.store.files import atomic_write

    out.mkdir(exist_ok=True)
    results: dict = {}
    with Project.open(directory) as project:
        for name, fmt in sorted(load_all().items()):
            t = time.perf_counter()
            path = export(project, name, out / f"all.{fmt.extension}", ExportContext())
            seconds = time.perf_counter() - t
            results[f"export_s_{name.replace('-', '_')}"] = round(seconds, 2)
            if name == "csv":
                csv_s = seconds
                rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
            path.unlink()
    t = time.perf_counter()
    buf = io.StringIO()
    buf.write("\ufeff")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    atomic_write(out / "floor.csv", buf.getvalue().encode("utf-8"), mode=0o600)
    floor = time.perf_counter() - t
    results["floor_export_csv_s"] = round(floor, 3)
    (out / "floor.csv").unlink()
    results["export_csv_ratio"] = round(csv_s / max(floor, 1e-6), 2)
    return results


def measure_agreement(directory: Path, three: Path | None = None, repeat: int = 3) -> dict:
    """Our agreement figures, timed (median of ``repeat``; with the bootstrap intervals, as the
    command and the view get them), and the same figures from the reference implementations
    (scikit-learn's cohen_kappa_score, the krippendorff package) in the same run: for the two
    generated coders over ``directory``, and for three (a third coder who finished a different
    three quarters: missing answers) over ``three``, a copy with that coder added."""
    from tuiqa import coders as C
    from tuiqa.project import Project

    out: dict = {}
    for label, path, coders in (("agreement", directory, ["coder1", "coder2"]),
                                ("agreement3", three, ["coder1", "coder2", "coder3"])):
        if path is None:
            continue
        with Project.open(path) as project:
            project.finish_loading()
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                report = C.project_agreement(project, coders)
                times.append(time.perf_counter() - t)
            out[f"{label}_s"] = round(statistics.median(times), 3)
            times = []
            for _ in range(repeat):  # the counting and figures alone, without the intervals
                t = time.perf_counter()
                C.project_agreement(project, coders, intervals=False)
                times.append(time.perf_counter() - t)
            out[f"{label}_no_intervals_s"] = round(statistics.median(times), 3)
            out[f"{label}_units"] = report.units_compared
            if len(coders) > 2:
                out[f"{label}_units_pairable"] = report.units_pairable
            try:
                import krippendorff  # noqa: F401
                import numpy  # noqa: F401
                from sklearn.metrics import cohen_kappa_score  # noqa: F401
            except ImportError:
                out[f"{label}_ref_s"] = "reference implementations not installed (pip install '.[test]')"
                continue
            t = time.perf_counter()
            worst = _reference_agreement(project, coders, report)
            out[f"{label}_ref_s"] = round(time.perf_counter() - t, 3)
            out[f"{label}_ratio"] = round(out[f"{label}_ref_s"] / max(out[f"{label}_s"], 1e-9), 1)
            out[f"{label}_max_abs_diff"] = float(f"{worst:.3g}")
    return out


def _reference_agreement(project, coders: list[str], report) -> float:
    """Alpha per code from `krippendorff` (answers a coder did not finish as missing) and each
    pair's kappa from scikit-learn on the answers both finished; the largest difference from
    ours."""
    import warnings

    import krippendorff
    import numpy as np
    from sklearn.metrics import cohen_kappa_score

    from tuiqa import coders as C

    finished = C.finished_by(project, coders)
    units = sorted(finished)
    index = {rid: i for i, rid in enumerate(units)}
    missing = np.array([[not (finished[rid] >> k & 1) for rid in units] for k in range(len(coders))])
    present: dict[str, np.ndarray] = {}
    for rid in units:
        for c in project.codings_by_response.get(rid, {}).values():
            if c.coder in coders:
                arr = present.setdefault(c.code_id, np.zeros((len(coders), len(units))))
                arr[coders.index(c.coder), index[rid]] = 1
    worst = 0.0
    ours = {c.code: c for c in report.codes}
    for code_id, arr in present.items():
        values = np.where(missing, np.nan, arr)
        mine = ours.get(project.code_name(code_id))
        if mine is None:  # applied only where the coder had not finished: not a unit
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alpha = krippendorff.alpha(reliability_data=values, level_of_measurement="nominal",
                                       value_domain=[0.0, 1.0])
        found = [(alpha, mine.krippendorff_alpha)]
        for pair in mine.pairwise:
            i, j = coders.index(pair.coders[0]), coders.index(pair.coders[1])
            both = ~missing[i] & ~missing[j]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found.append((cohen_kappa_score(arr[i][both], arr[j][both]), pair.cohen_kappa))
        for theirs, stat in found:
            if stat.value is not None and theirs == theirs:
                worst = max(worst, abs(theirs - stat.value))
    return worst


def agreement_only(args) -> int:
    """``--agreement-only``: generate the project, add the third coder, time agreement."""
    sys.path.insert(0, str(HERE))
    import generate
    import random

    from tuiqa.importers.survey import import_survey

    participants, questions, codes, codings = (200, 10, 200, 6000) if args.quick else (5000, 10, 2000, 150000)
    work = Path(tempfile.mkdtemp(prefix="tuiqa-bench-agreement-"))
    try:
        rng = random.Random(1)
        survey = work / "survey.csv"
        generate.write_survey(survey, participants, questions, rng)
        import_survey(work / "project", survey)
        generate.populate(work / "project", codes, codings, 2, rng)
        shutil.copytree(work / "project", work / "three", ignore=shutil.ignore_patterns("backups"))
        generate.add_coder(work / "three", "coder3", codings // 2, random.Random(3))
        results = {"size": "quick" if args.quick else "full", **measure_agreement(work / "project", work / "three")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(results, args.json)
    return 0


def _print(results: dict, as_json: bool) -> None:
    width = max(len(k) for k in results)
    for key, value in results.items():
        target = TARGETS.get(key)
        verdict = ""
        if target is not None and isinstance(value, (int, float)):
            op, limit = target
            ok = value <= limit if op == "<=" else value >= limit
            verdict = f"  target {op} {limit:g}: {'met' if ok else 'MISSED'}"
        print(f"{key:<{width}}  {value}{verdict}")
    if as_json:
        print(json.dumps(results))


def open_rounds(source: Path, work: Path, repeat: int, keys: int,
                env: dict[str, str] | None = None) -> list[tuple[float, dict, float]]:
    """Floor and app alternate, each after the same preparation (a fresh copy of ``source``),
    so both meet the same machine; the first pair only warms up (file cache, CPU after the
    generation) and is not counted. Returns (floor seconds, probe output, probe start) each."""
    runs = []
    for i in range(repeat + 1):
        copy = work / f"open-{i}"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("backups"))
        os.sync()
        time.sleep(0.5)
        floor_out, floor_t0 = run_probe("floor")
        out, t0 = run_probe("open", str(copy), "--keys", str(keys), env=env)
        shutil.rmtree(copy)
        if i:
            runs.append((floor_out["first_paint"] - floor_t0, out, t0))
    return runs


def measure_five_machines(base: Path, work: Path, codes: int, codings: int, repeat: int) -> dict:
    """The same project as a team of five leaves it in a synced folder (each machine coded a
    share of it without seeing the others, folded it, and left its last session in a journal;
    see generate.spread_over_machines), opened by one of the five in the app:

    * the first time after the others' work arrived: its cache holds only its own share, the
      first screen comes from it, and the rest (four snapshots, five journals) is read in on
      the loading thread (``open_s_5_machines``, ``ready_s_5_machines``);
    * again, once it has (its cache now holds everything: ``open_s_5_machines_again``)."""
    import random

    import generate

    homes = generate.spread_over_machines(base, work / "five", work / "five-work", codes,
                                          codings, 5, random.Random(2))
    opener = {"XDG_DATA_HOME": str(Path(homes[0]) / "data"),
              "XDG_CACHE_HOME": str(Path(homes[0]) / "cache")}

    def rounds(source: Path) -> tuple[list[float], list[float], list[float]]:
        runs = open_rounds(source, work, repeat, 5, opener)
        return ([floor for floor, _, _ in runs], [out["first_paint"] - t0 for _, out, t0 in runs],
                [out["ready"] - t0 for _, out, t0 in runs])

    out: dict = {}
    floors, opens, readies = rounds(work / "five")
    out["open_s_5_machines"] = round(statistics.median(opens), 3)
    out["floor_open_s_5_machines"] = round(statistics.median(floors), 3)
    out["open_ratio_5_machines"] = round(out["open_s_5_machines"] / out["floor_open_s_5_machines"], 2)
    out["ready_s_5_machines"] = round(statistics.median(readies), 3)
    # that machine opens and closes it once (its cache then holds everything), then again
    steady = work / "five-steady"
    shutil.copytree(work / "five", steady)
    code = ("import sys\nfrom tuiqa.project import Project\n"
            "Project.open(sys.argv[1]).close()\n")
    subprocess.run([sys.executable, "-c", code, str(steady)], check=True, cwd=ROOT,
                   env={**os.environ, **opener, "PYTHONPATH": str(ROOT)})
    floors, opens, readies = rounds(steady)
    out["open_s_5_machines_again"] = round(statistics.median(opens), 3)
    out["open_ratio_5_machines_again"] = round(out["open_s_5_machines_again"]
                                               / statistics.median(floors), 2)
    out["ready_s_5_machines_again"] = round(statistics.median(readies), 3)
    shutil.rmtree(work / "five-work", ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the generated project in this folder")
    ap.add_argument("--repeat", type=int, default=5, help="open measurements (median)")
    ap.add_argument("--agreement-only", action="store_true", help="only the agreement figures (2 and 3 coders)")
    ap.add_argument("--exports", type=Path, metavar="PROJECT",
                    help="only time the exports, of this project (e.g. one kept with --keep)")
    args = ap.parse_args(argv)
    if args.agreement_only or args.exports:
        # The bench's machine identity and caches stay in a scratch folder, never the user's own.
        work = Path(tempfile.mkdtemp(prefix="tuiqa-bench-"))
        os.environ["XDG_DATA_HOME"] = str(work / "xdg-data")
        os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
        try:
            if args.agreement_only:
                return agreement_only(args)
            _print(measure_exports(args.exports, work), args.json)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    sys.path.insert(0, str(HERE))
    import generate
    import random

    from tuiqa.importers.survey import import_survey

    if args.quick:
        participants, questions, codes, codings = 200, 10, 200, 6000
    else:
        participants, questions, codes, codings = 5000, 10, 2000, 150000
    # Measure tuiqa as installed (byte-compiled), even where PYTHONDONTWRITEBYTECODE is set.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "tuiqa"), str(HERE)],
                   check=True, stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="tuiqa-bench-"))
    # This machine's identity and its caches of the generated projects live in the work folder
    # (the probes, started from here, inherit them), never in the user's own folders.
    os.environ["XDG_DATA_HOME"] = str(work / "xdg-data")
    os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
    results: dict[str, float | int | str] = {"size": "quick" if args.quick else "full"}
    try:
        rng = random.Random(1)
        survey = work / "survey.csv"
        generate.write_survey(survey, participants, questions, rng)
        t = time.perf_counter()
        import_survey(work / "import-timed", survey)
        results["import_s"] = round(time.perf_counter() - t, 3)
        shutil.copytree(work / "import-timed", work / "project")
        t = time.perf_counter()
        generate.populate(work / "project", codes, codings, 2, rng)
        print(f"generated {participants * questions} responses, {codings} codings in "
              f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
        results["responses"] = participants * questions
        results["codings"] = codings

        floors, opens, readies, nexts, tags, rss = [], [], [], [], [], []
        cb_open, cb_filter, th_open = [], [], []
        for floor, out, t0 in open_rounds(work / "project", work, args.repeat, 60):
            floors.append(floor)
            opens.append(out["first_paint"] - t0)
            readies.append(out["ready"] - t0)
            nexts.extend(out["next_ms"])
            tags.extend(out["tag_ms"])
            rss.append(out["rss_mb"])
            cb_open.append(out["codebook_open_ms"])
            cb_filter.extend(out["codebook_filter_ms"])
            th_open.append(out["themes_open_ms"])
        results["floor_open_s"] = round(statistics.median(floors), 3)
        results["open_s"] = round(statistics.median(opens), 3)
        results["open_ratio"] = round(results["open_s"] / results["floor_open_s"], 2)
        results["ready_s"] = round(statistics.median(readies), 3)
        results["next_ms_p50"] = round(percentile(nexts, 50), 2)
        results["next_ms_p95"] = round(percentile(nexts, 95), 2)
        results["tag_ms_p50"] = round(percentile(tags, 50), 3)
        results["tag_ms_p95"] = round(percentile(tags, 95), 3)
        results["floor_fsync_ms"] = round(floor_fsync_ms(work), 3)
        results["tag_ratio"] = round(results["tag_ms_p50"] / max(results["floor_fsync_ms"], 1e-6), 1)
        results["peak_rss_mb"] = round(max(rss), 1)
        results["codebook_open_ms"] = round(statistics.median(cb_open), 1)
        results["codebook_filter_ms_p95"] = round(percentile(cb_filter, 95), 1)
        results["themes_open_ms"] = round(statistics.median(th_open), 1)
        results.update(measure_five_machines(work / "import-timed", work, codes, codings,
                                             max(2, args.repeat // 2)))
        results.update(measure_open_on_a_terminal(work / "project", work, args.repeat))
        results.update(measure_bytes(work / "project", work / "pty"))
        shutil.copytree(work / "project", work / "three", ignore=shutil.ignore_patterns("backups"))
        generate.add_coder(work / "three", "coder3", codings // 2, random.Random(3))
        results.update(measure_agreement(work / "project", work / "three"))
        results.update(measure_exports(work / "project", work / "exports"))
        if args.keep:
            shutil.copytree(work / "project", args.keep, dirs_exist_ok=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    _print(results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
