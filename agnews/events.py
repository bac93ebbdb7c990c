"""What a running `agnews` command tells the page: its stages' progress and results, as events.

The page starts `agnews analyze` (and a tab's long job, e.g. `agnews cross-domain`, or a training,
`agnews train`) in a child process and follows it through this log, never through its printed text,
which stays for people. Each line of the log is one versioned event (`{"v": 1, "time": ..., "stage":
..., "event": ...}`): a stage `started`, its `progress` (n of total, and what it counts, and for a
measured progress such as an epoch's validation accuracy its `value`), `done`, or `failed` (with the
message the run records as its warning); or the command's `error` (why it stopped). Lines are
appended whole, one `write` each (`agnews.line_log`), so a reader never sees half an event, and a
damaged line is skipped.

The log's path comes through the environment (`AGNEWS_EVENTS`), set by whoever starts the command:
it reaches every command (analyze, train, cross-domain) and the stages deep inside them without each
parser and function growing a parameter, and a command run by hand, without it, writes no events.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from agnews.line_log import Tail, append, encode, read_fresh

VERSION = 1
ENVIRONMENT = "AGNEWS_EVENTS"  # the path of the log the command appends its events to
STARTED, PROGRESS, DONE, FAILED, ERROR = "started", "progress", "done", "failed", "error"
KINDS = (STARTED, PROGRESS, DONE, FAILED, ERROR)
PROGRESS_SECONDS = 1.0  # a counted loop reports at most this often (the page looks every 2 s)
# `agnews train`: the stage fine-tuning is reported under, from loading its data to the run's creation,
# and what its progress counts (optimizer steps); after each epoch, a progress measuring VALIDATION.
TRAIN = "train"
VALIDATION = "validation accuracy"

T = TypeVar("T")

# The stage running in this thread (or task), which progress events belong to.
_STAGE: ContextVar[str | None] = ContextVar("agnews_stage", default=None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Event:
    """One line of the log. `stage` is None for what is not a stage's (a command's error, the
    progress of a command that runs no stages)."""

    event: str  # one of KINDS
    stage: str | None = None
    n: int | None = None  # progress: done so far
    total: int | None = None  # progress: to do in all, where known
    what: str = ""  # progress: what is counted, e.g. "predict"
    message: str = ""  # failed, error: why
    time: str = field(default_factory=_now)  # ISO 8601, UTC
    # progress: what the step measured, e.g. the validation accuracy after epoch n of total. Absent
    # from most lines (and from every line older agnews wrote): the version did not change with it.
    value: float | None = None

    @property
    def seconds(self) -> float:
        """`time` as seconds since the epoch."""
        return datetime.fromisoformat(self.time).timestamp()

    def record(self) -> dict[str, Any]:
        """The line's JSON object: the version first, fields without a value left out."""
        values = {"v": VERSION, "time": self.time, "stage": self.stage, "event": self.event}
        optional = {
            "n": self.n,
            "total": self.total,
            "what": self.what,
            "message": self.message,
            "value": self.value,
        }
        return values | {key: value for key, value in optional.items() if value is not None and value != ""}

    @classmethod
    def parse(cls, record: Any) -> Event:
        """The event a line's JSON object holds; ValueError saying what is wrong with it."""
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        if record.get("v") != VERSION:
            raise ValueError(f"version {record.get('v')!r}, this agnews reads version {VERSION}")
        if record.get("event") not in KINDS:
            raise ValueError("an unknown kind of event")  # the value is not repeated: it may be shown
        event = cls(
            record["event"],
            record.get("stage"),
            record.get("n"),
            record.get("total"),
            record.get("what", ""),
            record.get("message", ""),
            record.get("time", ""),
            record.get("value"),
        )
        if not all(isinstance(getattr(event, key), str) for key in ("what", "message", "time")):
            raise ValueError("what, message or time not text")
        if not (event.stage is None or isinstance(event.stage, str)):
            raise ValueError("stage neither text nor null")
        if not all(_count(getattr(event, key)) for key in ("n", "total")):
            raise ValueError("n or total not a count")
        if not _measure(event.value):
            raise ValueError("value not a finite number")
        datetime.fromisoformat(event.time)  # a time that does not parse is refused here, not when read
        return event


def _count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _measure(value: Any) -> bool:
    return value is None or (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def log_path() -> Path | None:
    """The log this process appends its events to (`AGNEWS_EVENTS`); None: it writes none."""
    path = os.environ.get(ENVIRONMENT)
    return Path(path) if path else None


def emit(event: Event) -> None:
    """Append `event` to this process's log, if it has one."""
    path = log_path()
    if path is not None:
        append(path, encode(event.record()))


def failure(exc: BaseException) -> str:
    """How a failed stage is described, in its `failed` event and in the warning the run records."""
    return f"{type(exc).__name__}: {exc}"


def current_stage() -> str | None:
    """The stage `running` has entered in this thread; None outside one."""
    return _STAGE.get()


@contextmanager
def running(stage: str) -> Iterator[None]:
    """Say that `stage` started; the progress counted inside the block is this stage's.

    Its end is said by the caller, once its result is committed: `done`, or `failed` with `failure`.
    """
    token = _STAGE.set(stage)
    try:
        emit(Event(STARTED, stage))
        yield
    finally:
        _STAGE.reset(token)


def step(what: str) -> None:
    """Say what the running stage is doing now, where there is nothing to count ("UMAP of ...")."""
    emit(Event(PROGRESS, current_stage(), what=what))


def counted(items: Iterable[T], what: str, total: int | None) -> Iterator[T]:
    """Yield `items`, saying how many are done (of `total`, counting `what`): when the first starts,
    then at most every PROGRESS_SECONDS, and once all are done. Without a log, just `items`."""
    if log_path() is None:
        yield from items
        return
    stage, said, n = current_stage(), -math.inf, 0
    for item in items:
        if time.monotonic() - said >= PROGRESS_SECONDS:
            emit(Event(PROGRESS, stage, n=n, total=total, what=what))
            said = time.monotonic()
        yield item
        n += 1
    emit(Event(PROGRESS, stage, n=n, total=total, what=what))


@dataclass
class Summary:
    """Where a command stands, from its events so far."""

    stage: str | None = None  # the stage started last and not yet done or failed
    since: float = 0.0  # when it started, in seconds since the epoch
    progress: Event | None = None  # the latest counted progress (of `stage`, while one runs)
    # (epoch, accuracy) of each VALIDATION progress, in order. Kept apart from `progress`: a
    # measurement never hides the count of steps shown beside it.
    validation: list[tuple[int, float]] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # stage -> message
    error: str = ""  # why the command stopped, where it said

    def add(self, event: Event) -> None:
        if event.event == STARTED:
            self.stage, self.since, self.progress = event.stage, event.seconds, None
        elif event.event == PROGRESS and event.value is not None:
            if event.what == VALIDATION:
                self.validation.append((event.n or 0, float(event.value)))
        elif event.event == PROGRESS:
            self.progress = event
        elif event.event == ERROR:
            self.error = event.message
        else:
            if event.event == DONE and event.stage is not None:
                self.done.add(event.stage)
            elif event.event == FAILED and event.stage is not None:
                self.failed[event.stage] = event.message
            if event.stage == self.stage:
                self.stage, self.progress = None, None


class EventReader:
    """Follows the log at `path` as a command appends to it: each `read` parses only the lines added
    since the last one. A log started again (replaced, or shortened) is read again from its top.

    Thread-safe: the page reads one job's progress from every open session's timer, on Gradio's
    worker threads, and two reads at once would each parse the same new lines from one position."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.summary = Summary()
        self.skipped: list[str] = []  # "NAME: line N is not an event (why); skipped"
        self._tail = Tail()
        self._lock = threading.Lock()

    def read(self) -> list[Event]:
        """The events added since the last read (all of them, for a log started again), each also
        added to `summary`. A line still being written waits for the next read; a damaged one is
        skipped and named in `skipped`. No log yet: none."""
        with self._lock:
            return self._read()

    def _read(self) -> list[Event]:
        try:
            with self.path.open("rb") as handle:
                fresh = read_fresh(handle, self._tail)
        except FileNotFoundError:
            return []
        if fresh.restarted:
            self.summary, self.skipped = Summary(), []
        events = []
        for number, line in fresh.lines():
            try:
                event = Event.parse(json.loads(line.decode("utf-8")))
            except ValueError as exc:  # JSON and UTF-8 errors are ValueErrors
                self.skipped.append(f"{self.path.name}: line {number} is not an event ({exc}); skipped")
                continue
            self.summary.add(event)
            events.append(event)
        return events
