"""One heavy child process at a time: a training, the background analysis or a cross-domain
evaluation.

Each of them keeps every core busy for minutes and holds gigabytes; two side by side on a small
machine (a Space, a laptop) both run at half speed, may run out of memory together, and leave the
page's own clicks no core at all. So the app has one slot for them, process-wide (every browser
session shares it): whoever starts such a child takes the slot first (`acquire`), and a second
asker is told who holds it and how far they are (`busy`), to wait or to come back.

A holder is anything that says what it is doing and whether it still runs (`Worker`); a holder
whose work has ended without giving the slot back (its thread died with it) is dropped the next time
anyone asks, so a crash never keeps the slot taken.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from agnews.ui.child_process import Command


class Worker(Protocol):
    """What holds the slot: a job that can say how far it is and whether it still runs."""

    def progress(self) -> str:
        """What it is doing now, as the page words it ("" before it said anything)."""
        ...

    def running(self) -> bool:
        """Whether it still runs (or is about to start): False once its process has ended."""
        ...


class Claim:
    """The slot's holder for a `Command` started once the slot is taken (the command must not start
    before it, and is not there to hold it yet): running from the claim until its command ends.

        claim = Claim()
        if acquire("a cross-domain evaluation", claim):
            try:
                claim.command = Command(...)
                ...
            finally:
                release(claim)
    """

    def __init__(self) -> None:
        self.command: Command | None = None

    def progress(self) -> str:
        return self.command.progress() if self.command is not None else ""

    def running(self) -> bool:
        return self.command is None or self.command.returncode() is None


@dataclass(frozen=True)
class _Holder:
    what: str  # "training tickets-2", "the background analyses of quick"
    worker: Worker


_lock = threading.Lock()
_holder: _Holder | None = None


def _current() -> _Holder | None:
    """The holder, dropped first if its work has ended (called with the lock held)."""
    global _holder
    if _holder is not None and not _holder.worker.running():
        _holder = None
    return _holder


def acquire(what: str, worker: Worker) -> bool:
    """Take the slot for `worker` (described to others as `what`) if it is free; False if another
    holds it (then `busy` says who). Taking it again for the worker holding it is a no-op."""
    global _holder
    with _lock:
        holder = _current()
        if holder is not None and holder.worker is not worker:
            return False
        _holder = _Holder(what, worker)
        return True


def release(worker: Worker) -> None:
    """Give the slot back, if `worker` holds it (a worker that never got it, or lost it after it
    ended, releases nothing)."""
    global _holder
    with _lock:
        if _holder is not None and _holder.worker is worker:
            _holder = None


def busy() -> tuple[str, str] | None:
    """Who holds the slot and their progress: (`what`, progress text), or None when it is free."""
    with _lock:
        holder = _current()
    return None if holder is None else (holder.what, holder.worker.progress())
