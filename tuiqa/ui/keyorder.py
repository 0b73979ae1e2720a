"""Keys are handled one at a time, each on the screen it was typed for.

Textual hands each key to the focused widget's queue and goes straight on to the next; a key no
widget wants comes back to the app behind the keys that followed it, and only then runs its
binding. A binding that opens a screen does so later still (the screen is mounted, then its
``on_mount`` moves the focus). Over a slow link a burst ("c", "hope", Enter; or "b", "/",
"stig") arrives in one read, so letters reached the screen behind (where ``u`` undoes, ``s``
sorts) before the key that opens the picker or the search had taken effect.

:class:`OneKeyAtATime` holds the keys back and hands on the next only when the app has settled
after the one before: every widget of the screen in front is mounted and has worked through
what it was sent, and nothing is waiting in the app's own queue (the bubbled key and its
binding, a screen being opened, a focus change). It uses only Textual's public surface
(``on_event``, ``call_later``, ``message_queue_size``, ``is_mounted``, ``walk_children``), which
holds across Python versions where the old timing-based order did not (3.12 and 3.13 schedule
tasks differently: the search key went to the codebook before its ``on_mount`` had moved the
focus to the list).
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App
from textual.widget import Widget

#: Longest wait for one key to settle before the next is handed on regardless (a screen busy
#: for longer must not swallow the keyboard).
SETTLE_SECONDS = 2.0


class OneKeyAtATime(App):
    """Mixed into the app (before :class:`textual.app.App`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held_keys: deque[events.Key] = deque()  # keys waiting their turn
        self._key_in_hand = False
        self._key_token: object | None = None
        self._key_watch: asyncio.Task | None = None  # (kept: asyncio holds tasks weakly)

    @property
    def keys_pending(self) -> bool:
        """Whether typed keys are still waiting their turn (or the last is settling)."""
        return self._key_in_hand or bool(self._held_keys)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            self._held_keys.append(event)
            if not self._key_in_hand:
                await self._hand_on_next_key()
            return
        await super().on_event(event)

    async def _hand_on_next_key(self) -> None:
        if not self._held_keys:
            self._key_in_hand = False
            return
        self._key_in_hand = True
        event = self._held_keys.popleft()
        await super().on_event(event)  # to the focused widget (or a priority binding runs)
        token = object()
        self._key_token = token
        loop = asyncio.get_running_loop()
        self._watch(token, loop.time() + SETTLE_SECONDS, first=True)

    def _watch(self, token: object, deadline: float, *, first: bool = False) -> None:
        self._key_watch = asyncio.create_task(self._until_drained(token, deadline, first))

    def _busy_pumps(self) -> list[Widget]:
        """The widgets of the screen in front still mounting or with messages waiting."""
        try:
            widgets = list(self.screen.walk_children(Widget, with_self=True))
        except Exception:  # no screen: shutting down
            return []
        return [w for w in widgets if w.message_queue_size or not w.is_mounted]

    async def _until_drained(self, token: object, deadline: float, first: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            while loop.time() < deadline:
                pumps = self._busy_pumps()
                if first:  # the widget and the screen that were handed the key
                    first = False
                    pumps += [p for p in (self.focused, self.screen) if p is not None and p not in pumps]
                if not pumps:
                    break
                pending = 0
                drained = asyncio.Event()

                def tick() -> None:
                    nonlocal pending
                    pending -= 1
                    if pending == 0:
                        drained.set()

                for pump in pumps:  # each runs tick after what it is doing and has queued
                    if pump.call_later(tick):
                        pending += 1
                if pending:
                    try:
                        await asyncio.wait_for(drained.wait(), max(deadline - loop.time(), 0.001))
                    except asyncio.TimeoutError:
                        break
                else:  # none could take a message yet (still starting): let them get on
                    await asyncio.sleep(0.005)
        finally:
            # behind anything the key sent back to the app, so its binding runs first
            self.call_later(self._key_settled, token, deadline)

    async def _key_settled(self, token: object, deadline: float) -> None:
        if token is not self._key_token:
            return
        if asyncio.get_running_loop().time() < deadline:
            if self._busy_pumps():  # the binding opened or closed a screen, or sent it work
                self._watch(token, deadline)
                return
            if self.message_queue_size:  # the app has more to do first (a focus change …)
                self.call_later(self._key_settled, token, deadline)
                return
        await self._hand_on_next_key()
