"""Generate a large survey and project for benchmarks and for trying the app at scale.

    python bench/generate.py OUT_DIR [--participants 5000] [--questions 10] [--codes 2000]
                                     [--codings 150000] [--coders 2] [--seed 1]

Writes OUT_DIR/survey.csv (the export) and OUT_DIR/project (imported, with codes and codings).
The text is synthetic but shaped like survey answers: 5 to 120 words, several sentences, some
curly quotes, ellipses, emoji and line breaks.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("support staff client recovery trust time team shift rules risk hope family drink "
         "relapse listen honest judge plan safe talk service manager policy training people "
         "feel worried boundaries choice harm reduce week month year progress setback kind "
         "tired busy nurse ward community home care need want could would should really").split()
EXTRAS = ["…", "“quoted”", "it’s", "🙂", "(brackets)", "don't", "café", "naïve", "👍🏽"]
ROLES = ["Support worker", "Senior support worker", "Nurse", "Peer support worker", "Team leader", ""]
SETTINGS = ["Community", "Inpatient", ""]


def answer(rng: random.Random) -> str:
    n_sent = rng.choice((1, 1, 2, 2, 3, 4, 6))
    sentences = []
    for _ in range(n_sent):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 20))]
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), rng.choice(EXTRAS))
        s = " ".join(words)
        sentences.append(s[0].upper() + s[1:] + rng.choice(".........!?"))
    text = " ".join(sentences)
    if rng.random() < 0.05:
        text = text.replace(". ", ".\n", 1)
    return text


def write_survey(path: Path, participants: int, questions: int, rng: random.Random) -> None:
    header = ["Participant ID", "Role", "Setting", "Length of experience"]
    header += [f"Question {i + 1}: what would you do in situation {i + 1}, and why?" for i in range(questions)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for p in range(participants):
            row = [f"P{p + 1}", rng.choice(ROLES), rng.choice(SETTINGS),
                   f"{rng.randint(1, 30)} {rng.choice(['months', 'years'])}"]
            row += [answer(rng) for _ in range(questions)]
            w.writerow(row)


def populate(project_dir: Path, codes: int, codings: int, coders: int, rng: random.Random) -> None:
    from tuiqa.model import Code, Coding, Status, derived_id
    from tuiqa.project import Project
    from tuiqa.text import sentences

    with Project.open(project_dir) as project:
        names = set()
        while len(names) < codes:
            names.add(" ".join(rng.sample(WORDS, rng.choice((1, 2, 2, 3)))) + f" {len(names)}")
        change = project.change("bench codes")
        code_ids = []
        for name in sorted(names):
            ident = derived_id("code", name)
            change.create(Code, ident, name=name, kind=rng.choice(("semantic", "latent")),
                          created_by="coder1")
            code_ids.append(ident)
        project.commit(change, "bench")
        responses = list(project.responses.values())
        coder_names = [f"coder{i + 1}" for i in range(coders)]
        per_coder = codings // coders
        batch = project.change("bench codings")
        made = 0
        for coder in coder_names:
            for i in range(per_coder):
                r = responses[i % len(responses)] if i < len(responses) else rng.choice(responses)
                spans = sentences(r.text) or ((0, len(r.text)),)
                s, e = rng.choice(spans)
                cid = rng.choice(code_ids[: max(50, len(code_ids))])
                ident = derived_id("bench-coding", coder, str(i))
                batch.create(Coding, ident, response_id=r.id, code_id=cid, coder=coder, start=s,
                             end=e, text_hash=r.hash)
                made += 1
                if len(batch.ops) >= 20000:
                    project.commit(batch, "bench")
                    batch = project.change("bench codings")
            for r in responses[: len(responses) * 3 // 4]:
                batch.create(Status, Status.make_id(r.id, coder), response_id=r.id, coder=coder, done=True)
                if len(batch.ops) >= 20000:
                    project.commit(batch, "bench")
                    batch = project.change("bench codings")
        project.commit(batch, "bench")
        populate_themes(project, code_ids, rng)


def add_coder(project_dir: Path, coder: str, codings: int, rng: random.Random,
              done: tuple[float, float] = (0.25, 1.0)) -> None:
    """Another coder, coding as ``populate``'s coders do, who marks done the answers from
    ``done[0]`` to ``done[1]`` of the way through (by default the last three quarters: with
    ``populate``'s coders, who finished the first three quarters, the middle half is finished by
    all and the first quarter by two of three: missing data for agreement)."""
    from tuiqa.model import Coding, Status, derived_id
    from tuiqa.project import Project
    from tuiqa.text import sentences

    with Project.open(project_dir) as project:
        code_ids = sorted(c.id for c in project.codes())
        responses = list(project.responses.values())
        batch = project.change("bench coder")
        for i in range(codings):
            r = responses[i % len(responses)] if i < len(responses) else rng.choice(responses)
            spans = sentences(r.text) or ((0, len(r.text)),)
            s, e = rng.choice(spans)
            batch.create(Coding, derived_id("bench-coding", coder, str(i)), response_id=r.id,
                         code_id=rng.choice(code_ids), coder=coder, start=s, end=e, text_hash=r.hash)
            if len(batch.ops) >= 20000:
                project.commit(batch, "bench")
                batch = project.change("bench coder")
        n = len(responses)
        for r in responses[int(n * done[0]):int(n * done[1])]:
            batch.create(Status, Status.make_id(r.id, coder), response_id=r.id, coder=coder, done=True)
            if len(batch.ops) >= 20000:
                project.commit(batch, "bench")
                batch = project.change("bench coder")
        project.commit(batch, "bench")


def populate_themes(project, code_ids: list[str], rng: random.Random, n_themes: int = 100) -> None:
    """10 overarching themes, 60 themes, 30 sub-themes; most codes placed, some under two themes,
    a few parked in miscellaneous, the rest unassigned."""
    from tuiqa import themes as T

    change = project.change("bench themes")
    overarching = [T.create(project, change, f"Overarching {i}", overarching=True, coder="coder1")
                   for i in range(n_themes // 10)]
    middle = [T.create(project, change, f"Theme {i} " + " ".join(rng.sample(WORDS, 2)),
                       parent_id=rng.choice(overarching + [None]), coder="coder1")
              for i in range(n_themes * 6 // 10)]
    subs = [T.create(project, change, f"Sub-theme {i}", parent_id=rng.choice(middle), coder="coder1")
            for i in range(n_themes - len(overarching) - len(middle))]
    holders = middle + subs
    for i, cid in enumerate(code_ids):
        if i % 10 == 9:
            continue  # unassigned
        if i % 20 == 3:
            T.park(change, cid, True)
            continue
        T.assign(change, rng.choice(holders), [cid])
        if i % 7 == 0:
            T.assign(change, rng.choice(holders), [cid])
    project.commit(change, "bench")


def spread_over_machines(base: Path, out: Path, work: Path, codes: int, codings: int,
                         machines: int, rng: random.Random) -> list[str]:
    """The project as a team of ``machines`` leaves it in a synced folder: each machine, from
    the imported project, codes its share (its own coder, the shared codebook by name) without
    seeing the others, folds it into its snapshot, and leaves its last session in a journal;
    then every machine's files are gathered in ``out``. Returns the machines' data folders
    (``XDG_DATA_HOME`` for each: the first is the one that opens the result)."""
    import os
    import shutil

    from tuiqa.model import Code, Coding, Status, derived_id
    from tuiqa.project import Project
    from tuiqa.text import sentences

    names = set()
    while len(names) < codes:
        names.add(" ".join(rng.sample(WORDS, rng.choice((1, 2, 2, 3)))) + f" {len(names)}")
    names_sorted = sorted(names)
    homes = []
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "XDG_CACHE_HOME")}
    shutil.copytree(base, out)
    try:
        for k in range(machines):
            home = work / f"machine-{k + 1}"
            homes.append(str(home))
            os.environ["XDG_DATA_HOME"] = str(home / "data")
            os.environ["XDG_CACHE_HOME"] = str(home / "cache")
            copy = work / f"copy-{k + 1}"
            shutil.copytree(base, copy)
            coder = f"coder{k + 1}"
            share = codings // machines
            with Project.open(copy) as project:
                responses = list(project.responses.values())
                code_ids = [derived_id("code", n) for n in names_sorted]
                change = project.change("codes")
                for name, ident in zip(names_sorted, code_ids):
                    change.create(Code, ident, name=name, kind="semantic", created_by=coder)
                project.commit(change, coder)
                batch = project.change("codings")
                for i in range(share):
                    r = responses[(i * machines + k) % len(responses)]
                    spans = sentences(r.text) or ((0, len(r.text)),)
                    s, e = rng.choice(spans)
                    batch.create(Coding, derived_id("bench-coding", coder, str(i)), response_id=r.id,
                                 code_id=rng.choice(code_ids), coder=coder, start=s, end=e,
                                 text_hash=r.hash)
                    if len(batch.ops) >= 20000:
                        project.commit(batch, coder)
                        batch = project.change("codings")
                for r in responses[k::machines]:
                    batch.create(Status, Status.make_id(r.id, coder), response_id=r.id,
                                 coder=coder, done=True)
                project.commit(batch, coder)
            last = Project.open(copy)  # a last session, not folded (still running, or crashed)
            change = last.change("last")
            for i in range(500):
                r = responses[(i * 13 + k) % len(responses)]
                change.create(Coding, derived_id("bench-last", coder, str(i)), response_id=r.id,
                              code_id=code_ids[i % len(code_ids)], coder=coder, start=0,
                              end=len(r.text), text_hash=r.hash)
            last.commit(change, coder)
            last.store._writer.close()
            last.store._writer = None
            machine_dir = next(p for p in (copy / "machines").iterdir()
                               if not (base / "machines" / p.name).exists())
            shutil.copytree(machine_dir, out / "machines" / machine_dir.name,
                            ignore=shutil.ignore_patterns("backups", ".lock"))
            shutil.rmtree(copy)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return homes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--participants", type=int, default=5000)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--codes", type=int, default=2000)
    ap.add_argument("--codings", type=int, default=150000)
    ap.add_argument("--coders", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    from tuiqa.importers.survey import import_survey

    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    survey = args.out / "survey.csv"
    t = time.perf_counter()
    write_survey(survey, args.participants, args.questions, rng)
    print(f"survey written in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    t = time.perf_counter()
    import_survey(args.out / "project", survey)
    print(f"imported in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    t = time.perf_counter()
    populate(args.out / "project", args.codes, args.codings, args.coders, rng)
    print(f"codes and codings in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
