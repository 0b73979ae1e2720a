"""The terminal UI (Textual): screens and widgets over :mod:`tuiqa.project` and :mod:`tuiqa.session`.

Textual paints at most ``TEXTUAL_FPS`` frames a second (60 by default), so a key waits up to a
frame period for its repaint; 120 halves that wait (next-response p95 22 ms -> 11 ms, measured
with bench/run.py). Textual paints only what changed, so an idle screen still writes nothing.
Set in the environment before Textual is imported; a user's own setting wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
