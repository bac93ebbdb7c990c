"""An `agnews` command run beside the app for a page's long job: lower priority, ends with the app,
its output in a log file the page follows.

The ui layer may not import the training code (`lint-imports`), so work that needs it (an uploaded
file's cross-domain evaluation) runs as the command line does, in a child process, as app.py's
background `agnews analyze` does: niced, so the page's own requests come first, and sent SIGTERM when
the app dies, even by SIGKILL, so it never outlives the app holding the run's writer lock.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from agnews.processes import child_setup, stop

TAIL_BYTES = 4096  # enough of the log's end for its last line, a tqdm bar included
# What `agnews.cli.main` (and argparse) print for a refused input: "agnews cross-domain: error: ...".
ERROR_LINE = re.compile(r"^agnews [\w-]+: error: (?P<message>.+)$", re.MULTILINE)


class Command:
    """`python -m agnews ARGS`, its stdout and stderr in `log`.

    Started and waited for by a thread of its own: the kernel sends the parent-death signal when the
    *thread* that forked the child ends, and Gradio may run each step of an event on another worker
    thread, one that can end while the command still runs.
    """

    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._failed: OSError | None = None
        started = threading.Event()

        def run() -> None:
            try:
                with log.open("wb") as output:
                    self._process = subprocess.Popen(
                        [sys.executable, "-m", "agnews", *args],
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, "PYTHONUNBUFFERED": "1"},
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

    def last_line(self) -> str:
        """The log's last line as a terminal would show it (a progress bar's latest state)."""
        with self.log.open("rb") as handle:
            handle.seek(max(0, self.log.stat().st_size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
        lines = [line.strip() for line in re.split(r"[\r\n]", tail) if line.strip()]
        return lines[-1] if lines else ""

    def error(self) -> str:
        """Why it failed: the command's own `error:` message, else its exit status and last line."""
        found = ERROR_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return found[-1].strip()
        return f"the command stopped (exit status {self.returncode()}): {self.last_line()}"

    def stop(self) -> None:
        stop(self.process)
