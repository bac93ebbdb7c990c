"""A per-client limit on the page's heavy events, so that one client cannot hold the shared queue.

Explaining a text (occlusion: a model pass per word), placing it on the map and building the report
each cost seconds of CPU. They share one slot of the queue (`HEAVY_QUEUE`), taken in turn; and each
client may have one call of each running and start at most `HEAVY_PER_MINUTE` of each a minute. A
call over the limit is refused at once with a message that says when to try again (`gr.Error`), so a
flood costs the queue almost nothing: the other clients' calls wait behind at most a minute's worth.

A client is the logged-in user where there is one, else the address the call came from: a page
session is no identity, since any API client opens as many as it likes. People behind one address
(a shared NAT or proxy) share its allowance.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from agnews.formatting import seconds

HEAVY_PER_MINUTE = 30
WINDOW_SECONDS = 60.0
# The heavy events take turns in one slot of the queue, beside the classify events' own.
HEAVY_QUEUE: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "heavy"}


class Refused(Exception):
    """A call over its client's limit; the message says why and when to try again."""


class Throttle:
    """At most one running call and `per_minute` starts within `window` seconds, per client and event.

    Thread-safe: Gradio runs each event's function on a worker thread.
    """

    def __init__(
        self,
        per_minute: int = HEAVY_PER_MINUTE,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._running: set[tuple[str, str]] = set()
        self._starts: dict[tuple[str, str], deque[float]] = {}

    @contextlib.contextmanager
    def slot(self, client: str, event: str) -> Iterator[None]:
        """Hold `client`'s slot for `event` while the block runs; Refused when the client already has
        one running, or has started `per_minute` within the window."""
        key = (client, event)
        with self._lock:
            now = self._clock()
            self._forget_before(now - self.window)
            starts = self._starts.setdefault(key, deque())
            if key in self._running:
                raise Refused(f"Your previous {event} is still running; wait for it to finish.")
            if len(starts) >= self.per_minute:
                wait = starts[0] + self.window - now
                raise Refused(
                    f"Too many {event} requests from you: at most {self.per_minute} a minute. "
                    f"Try again in {seconds(max(wait, 1), 0)}."
                )
            starts.append(now)
            self._running.add(key)
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(key)

    def _forget_before(self, oldest: float) -> None:
        """Drop starts older than the window, and the clients left with none (the table stays as
        small as the last minute's clients)."""
        for key, starts in list(self._starts.items()):
            while starts and starts[0] <= oldest:
                starts.popleft()
            if not starts and key not in self._running:
                del self._starts[key]


def client_of(request: gr.Request | None) -> str:
    """Who a call comes from: the logged-in user, else the client's address ('' when unknown)."""
    if request is None:
        return ""
    if request.username:
        return f"user:{request.username}"
    client = request.client
    return f"host:{client.host}" if client is not None and client.host else ""


# One per server process: every page and API client of the app shares it.
HEAVY = Throttle()


def limited(event: str, fn: Callable[..., Any], throttle: Throttle = HEAVY) -> Callable[..., Any]:
    """`fn` as an event handler limited per client by `throttle`; register it with `**HEAVY_QUEUE`.

    The wrapper takes the `gr.Request` Gradio passes to a parameter so annotated, then `fn`'s inputs.
    """

    def handler(request: gr.Request, *inputs: Any) -> Any:
        try:
            with throttle.slot(client_of(request), event):
                return fn(*inputs)
        except Refused as exc:
            raise gr.Error(str(exc)) from None

    return handler
