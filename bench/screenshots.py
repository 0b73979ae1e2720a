"""Make the README's pictures with the app's own screenshot function.

    python bench/screenshots.py [--out bench/screenshots] [--size 100x30]

Builds the demo project (the sample survey, two coders, draft themes) in a temporary folder,
drives the real app with the keys a user would press, and saves one SVG per screen. Run it again
after a change to a screen; the pictures are plain SVG, so the diff shows what moved.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (file, title, keys pressed after the app opens)
SHOTS = [
    ("coding", "tuiqa · coding an answer", ("down", "shift+down")),
    ("picker", "tuiqa · choosing a code", ("n", "down", "c", "t", "r", "u")),
    ("codebook", "tuiqa · codebook", ("b",)),
    ("themes", "tuiqa · themes", ("t",)),
    ("map", "tuiqa · thematic map", ("t", "M")),
    ("agreement", "tuiqa · agreement between two coders", ("A",)),
    ("disagreements", "tuiqa · disagreement queue", ("A", "d")),
]


async def shoot(project_dir: Path, out: Path, size: tuple[int, int]) -> list[Path]:
    from tuiqa.ui.factory import make_app

    written = []
    for name, title, keys in SHOTS:
        app = make_app(project_dir, "lead", refresh_seconds=0, welcome=False)
        project = app.project
        try:
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                for key in keys:
                    await pilot.press(key)
                    await pilot.pause()
                await pilot.pause(0.2)
                target = out / f"{name}.svg"
                target.write_text(app.export_screenshot(title=title), encoding="utf-8")
                written.append(target)
        finally:
            project.close(compact=False)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "screenshots"))
    parser.add_argument("--size", default="100x30", help="columns x rows (default 100x30)")
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("NO_COLOR", None)
    from tuiqa.samples import build_sample_project

    with tempfile.TemporaryDirectory() as tmp:
        project_dir = Path(tmp) / "demo"  # the folder name shows in the title bar
        build_sample_project(project_dir, second_coder=True)
        for path in asyncio.run(shoot(project_dir, out, (cols, rows))):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
