"""The run a page shows, as it is on disk now.

A run changes under a running app: a background `agnews analyze` adds the default stages' parts
(`agnews.ui.live`), and the page itself writes parts (an uploaded file's evaluation, run as the
command line's own command). Every view (an event, a panel drawn when its tab is first opened, the
Overview, the report) must read the run as it is then, or what the page just wrote vanishes on the
next page load. `RunsOnDisk` is the one mechanism for that, keyed by the run's path: the latest
loaded version of each run, re-loaded only when its `manifest.json` changed (every edit of a run
swaps in a new manifest atomically, so a re-load sees only whole parts). `RUNS` is the app's, shared
by the page and the live following, so that a change is loaded once, by whichever asks first.

`PageRuns` holds which run each browser session's page shows (by Gradio's session hash): the app's
run for a page just opened. A caller outside any page (the JSON route, a direct call) gets the
app's run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from agnews.rundir.files import RunError
from agnews.rundir.parts import MANIFEST
from agnews.rundir.run import Run

# Runs kept loaded: a server shows one run, tests build many apps in one process (each on a run
# of its own); a run dropped from here is loaded again from disk when next asked for.
KEPT_RUNS = 8
LOAD_TRIES = 3  # loads that raced an edit (the manifest changed mid-read) before keeping the last run


def manifest_signature(path: Path) -> bytes:
    """What says a run changed: its manifest's bytes (b"" for a run without one)."""
    try:
        return (path / MANIFEST).read_bytes()
    except OSError:
        return b""


@dataclass(frozen=True)
class _Loaded:
    run: Run
    signature: bytes  # the manifest `run` was loaded with


class RunsOnDisk:
    """The latest version of each run, by path; safe to call from any number of sessions at once."""

    def __init__(self, kept: int = KEPT_RUNS) -> None:
        self._kept = kept
        self._runs: OrderedDict[Path, _Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def seed(self, run: Run) -> None:
        """Take `run` (just loaded, perhaps with warnings found by the caller) as its path's version
        until the manifest on disk changes."""
        with self._lock:
            self._keep(run.path, _Loaded(run, manifest_signature(run.path)))

    def current(self, path: Path) -> Run:
        """The run at `path` as it is now: re-loaded only if its manifest changed since the last load.

        A load that raced an edit (the manifest changed while the parts were read) is done again, so
        the parts returned all belong to one version of the run; a load that fails keeps the last
        run (RunError where there is none: the path holds no run).
        """
        key = Path(path)
        with self._lock:
            known = self._runs.get(key)
            for _ in range(LOAD_TRIES):
                signature = manifest_signature(key)
                if known is not None and signature == known.signature:
                    break
                try:
                    run = Run.load(key) if known is None else Run.load(key, known.run.catalog)
                except RunError:
                    if known is None:
                        raise
                    break  # e.g. the run was swapped twice mid-read: the next call looks again
                if manifest_signature(key) == signature:
                    known = _Loaded(run, signature)
                    break
            if known is None:
                raise RunError(f"{key}: changed on every attempt to load it; try again")
            self._keep(key, known)
            return known.run

    def _keep(self, path: Path, loaded: _Loaded) -> None:
        self._runs[path] = loaded
        self._runs.move_to_end(path)
        while len(self._runs) > self._kept:
            self._runs.popitem(last=False)


RUNS = RunsOnDisk()


def following(run: Run, runs: RunsOnDisk = RUNS) -> Callable[[], Run]:
    """`run` as it is on disk whenever the returned function is called (seeded with `run` itself)."""
    runs.seed(run)
    return lambda: runs.current(run.path)


def _session() -> str | None:
    """The Gradio session of the event being handled (None outside one). Gradio sets the request in
    a context variable around every handler: the tabs' `current()` then needs no request parameter."""
    from gradio.context import LocalContext

    return getattr(LocalContext.request.get(None), "session_hash", None)


class PageRuns:
    """Which run each browser session's page shows, each read through `runs` (`RunsOnDisk`).

    A page records the app's run when it loads (`attach`) and forgets it when it closes; `current()`
    is the run of the session whose event is being handled, or the app's run outside a page.
    """

    def __init__(self, run: Run, runs: RunsOnDisk = RUNS) -> None:
        runs.seed(run)
        self.runs = runs
        self.default = run.path
        self._shown: dict[str, Path] = {}
        self._lock = threading.Lock()

    def current(self) -> Run:
        session = _session()
        with self._lock:
            path = self._shown.get(session, self.default) if session is not None else self.default
        return self.runs.current(path)

    def attach(self, demo: gr.Blocks) -> None:
        """Record each page's run when it loads and forget it when it closes. Must be called inside
        `demo`'s `with` block."""

        def page_opened(request: gr.Request) -> None:
            if request.session_hash is not None:
                with self._lock:
                    self._shown[request.session_hash] = self.default

        def page_closed(request: gr.Request) -> None:
            with self._lock:
                self._shown.pop(request.session_hash or "", None)

        demo.load(page_opened, None, None, queue=False, show_progress="hidden", api_visibility="private")
        demo.unload(page_closed)
