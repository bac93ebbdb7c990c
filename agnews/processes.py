"""Processes: where this one stands in a data-parallel launch, and the child processes the app
starts beside itself (the background `agnews analyze`, a page's long job): how they start and how they
stop, in one place.

They run at a lower priority, so that a user's click does not wait behind UMAP, and on Linux they
get SIGTERM when the app dies, even by SIGKILL, so that none outlives the app holding a run's writer
lock. Kept free of heavy imports: app.py starts the background analyze before torch and gradio load.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable


def launch_rank() -> int:
    """This process's place in a `torchrun` / `accelerate launch` (both set RANK); 0 without one."""
    return int(os.environ.get("RANK", "0"))


def launch_size() -> int:
    """The processes of a `torchrun` / `accelerate launch` (both set WORLD_SIZE); 1 without one."""
    return int(os.environ.get("WORLD_SIZE", "1"))


NICENESS = 10
STOP_SECONDS = 10  # how long a child gets to stop on SIGINT (its staged edit cleaned up) before SIGKILL


def child_setup() -> Callable[[], None] | None:
    """A child's `preexec_fn`: a process group of its own (a Ctrl-C in the app's terminal reaches the
    app, which stops its children itself; `stop` reaches whatever the child started), a lower priority
    and, on Linux, SIGTERM when the thread that started it ends (`prctl(PR_SET_PDEATHSIG)`, looked up
    here, so the child, just forked, only makes three system calls)."""
    if not hasattr(os, "nice"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None

    def setup() -> None:
        os.setpgid(0, 0)
        os.nice(NICENESS)
        if prctl is not None:
            prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG

    return setup


def _signal_group(process: subprocess.Popen[bytes], number: int) -> None:
    """Send `number` to `process`'s group (it leads one: `child_setup`), else to it alone."""
    try:
        os.killpg(process.pid, number)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.send_signal(number)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Interrupt `process` and its group (an edit of a run is staged, so nothing half-written is
    left), then kill them if it has not stopped within `STOP_SECONDS`."""
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGINT)
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()
