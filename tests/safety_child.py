"""A worker for tests/test_safety.py: makes random changes to a project, printing each
transaction before (``begin``) and after (``ack``) it is committed, so the test knows exactly
which changes were acknowledged when it kills the process.

    python tests/safety_child.py DIR CODER SEED [--count N] [--refresh] [--uid UID --gid GID]
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    directory, coder, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    count = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 10**9
    refresh = "--refresh" in sys.argv
    from tuiqa.project import Project
    from tuiqa.session import Session

    if "--uid" in sys.argv:  # a second user in a shared group folder (the test runs as root)
        gid = int(sys.argv[sys.argv.index("--gid") + 1])
        os.chmod(Path(directory).parent, 0o777)  # (the test's scratch folder, for the marks)
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(int(sys.argv[sys.argv.index("--uid") + 1]))
        os.umask(0o007)
    rng = random.Random(seed)
    project = Project.open(directory)
    session = Session(project, coder)
    store = project.store
    real_commit = store.commit

    def commit(ops, who):
        print("begin " + json.dumps([[op["k"], op["i"], op["f"], op["s"]] for op in ops]), flush=True)
        result = real_commit(ops, who)
        print("ack", flush=True)
        return result

    store.commit = commit
    rids = sorted(project.responses)
    shared_names = [f"shared {i}" for i in range(12)]
    for step in range(count):
        if refresh and step % 7 == 0:
            project.refresh(coder)
        roll = rng.random()
        codes = project.codes()
        try:
            if roll < 0.45 or not codes:
                rid = rng.choice(rids)
                text = project.responses[rid].text
                a = rng.randrange(len(text))
                b = rng.randrange(a + 1, len(text) + 1)
                name = rng.choice(shared_names) if rng.random() < 0.5 else f"{coder} {step}"
                session.create_and_apply(rid, a, b, name, rng.choice(("semantic", "latent")))
            elif roll < 0.55:
                mine = [c for c in project.all_codings() if c.coder == coder]
                if mine:
                    session.remove_coding(rng.choice(mine).id)
            elif roll < 0.65:
                code = rng.choice(codes)
                try:
                    session.rename_code(code.id, f"{code.name.split(' ~')[0]} ~{coder}{step}")
                except Exception:
                    pass
            elif roll < 0.72 and len(codes) > 3:
                a, b = rng.sample(codes, 2)
                session.merge_codes([a.id], b.id)
            elif roll < 0.82:
                session.save_memo("response", rng.choice(rids), f"memo {coder} {step} “é” 🙂")
            elif roll < 0.9:
                _, tid = session.create_theme(f"theme {coder} {step}")
                session.assign_codes(tid, [rng.choice(codes).id])
            elif roll < 0.95:
                session.toggle_done(rng.choice(rids))
            else:
                session.undo()
        except Exception as exc:  # a change that became invalid under our feet (another coder)
            print("skip " + type(exc).__name__, flush=True)
    if refresh:
        # wait until the other coder has finished too (a file each next to the project), then
        # read everything once more: both must now see the same
        import time

        marks = Path(directory).parent / "finished"
        marks.mkdir(exist_ok=True)
        (marks / coder).touch()
        deadline = time.monotonic() + 120
        while len(list(marks.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        project.refresh(coder)
        print("final " + json.dumps(digest(project)), flush=True)
    project.close()
    return 0


def digest(project) -> dict:
    out = {}
    for kind, table in project.state.entities.items():
        if kind in ("conflict", "coderpref"):
            continue
        for ident, obj in table.items():
            out[f"{kind}/{ident}"] = json.dumps(obj.values(), sort_keys=True, default=list)
    return out


if __name__ == "__main__":
    sys.exit(main())
