"""An `agnews` command run beside the app for a page's long job: lower priority, ends with the app,
its progress and its error read from the event log it writes (`agnews.events`), never from its
printed text, which goes to a log file for people.

The ui layer may not import the training code (`lint-imports`), so work that needs it (an uploaded
file's cross-domain evaluation) runs as the command line does, in a child process, as app.py's
background `agnews analyze` does: niced, so the page's own requests come first, and sent SIGTERM when
the app dies, even by SIGKILL, so it never outlives the app holding the run's writer lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from agnews.events import ENVIRONMENT, Event, EventReader
from agnews.formatting import percent
from agnews.processes import child_setup, stop


def progress_text(event: Event) -> str:
    """A progress event as the page words it, for a tab's command and the status line alike:
    "predict 46%, 12/26" (or "predict 12" with no total)."""
    if event.total and event.n is not None:
        return f"{event.what} {percent(event.n / event.total, digits=0)}, {event.n}/{event.total}"
    return f"{event.what} {event.n}" if event.n is not None else event.what


class Command:
    """`python -m agnews ARGS`, its stdout and stderr in `log`, its events in `events` beside it.

    Started and waited for by a thread of its own: the kernel sends the parent-death signal when the
    *thread* that forked the child ends, and Gradio may run each step of an event on another worker
    thread, one that can end while the command still runs.
    """

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.events = log.with_suffix(".events.jsonl")
        self._reader = EventReader(self.events)
        self._process: subprocess.Popen[bytes] | None = None
        self._failed: OSError | None = None
        started = threading.Event()

        def run() -> None:
            try:
                self.events.unlink(missing_ok=True)  # an earlier command's events are not this one's
                with log.open("wb") as output:
                    self._process = subprocess.Popen(
                        [sys.executable, "-m", "agnews", *args],
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, "PYTHONUNBUFFERED": "1", ENVIRONMENT: str(self.events)},
                        preexec_fn=child_setup(),
                    )
            except OSError as exc:
                self._failed = exc
            finally:
                started.set()
            if self._process is not None:
                self._process.wait()

        threading.Thread(target=run, name=f"agnews {args[0]}", daemon=True).start()
        started.wait()
        if self._failed is not None:
            raise self._failed

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._process is not None  # set before __init__ returns, or it raised
        return self._process

    def returncode(self) -> int | None:
        """The exit status, or None while it runs."""
        return self.process.poll()

    def progress(self) -> str:
        """What it says it is doing: its latest progress ("" before it said any)."""
        self._reader.read()
        latest = self._reader.summary.progress
        return "" if latest is None else progress_text(latest)

    def error(self) -> str:
        """Why it failed: its own error (a refused input's message), else the failure of a stage, else
        its exit status (killed, or stopped before it could say)."""
        self._reader.read()
        summary = self._reader.summary
        said = summary.error or next(reversed(summary.failed.values()), "")
        return said or f"the command stopped (exit status {self.returncode()}) without saying why"

    def stop(self) -> None:
        stop(self.process)
