"""Stamps: totally ordered, unique marks of when a change was made and by which session.

A stamp is the string ``"<ms since epoch, 13 digits>.<counter, 4 digits>.<session, 8 hex>"``, so
string order is time order. The clock is a hybrid logical clock: it never runs backwards, and after
a session has seen another session's change its own next stamp is later than that change, even if
the other machine's clock was ahead. "The later change wins" therefore also respects what each
writer had seen.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    def __init__(self, session: str, now_ms=None) -> None:
        if len(session) != 8:
            raise ValueError("session tag must be 8 characters")
        self.session = session
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._last_ms = 0
        self._counter = 0

    def next(self) -> str:
        now = self._now_ms()
        if now > self._last_ms:
            self._last_ms, self._counter = now, 0
        else:
            self._counter += 1
            if self._counter > 9999:
                self._last_ms += 1
                self._counter = 0
        return f"{self._last_ms:013d}.{self._counter:04d}.{self.session}"

    def observe(self, stamp: str) -> None:
        """Move the clock past a stamp seen from elsewhere."""
        ms, counter = parse(stamp)
        if ms > self._last_ms or (ms == self._last_ms and counter > self._counter):
            self._last_ms, self._counter = ms, counter


def is_derived(stamp: str) -> bool:
    """A stamp derived from another by a repair (see :mod:`tuiqa.repairs`), not made by a clock."""
    return "~" in stamp


def parse(stamp: str) -> tuple[int, int]:
    try:
        ms, counter, _ = stamp.split(".", 2)
        return int(ms), int(counter)
    except ValueError:
        return 0, 0


def stamp_time(stamp: str) -> datetime | None:
    if not stamp:
        return None
    ms, _ = parse(stamp)
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def stamp_iso(stamp: str) -> str:
    """ISO 8601 (UTC, seconds) of a stamp, or "" for none."""
    t = stamp_time(stamp)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""


def stamp_local(stamp: str) -> str:
    """Local time, minutes, for display."""
    t = stamp_time(stamp)
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""
