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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components import Component

from agnews.rundir.files import RunError
from agnews.rundir.listing import run_named
from agnews.rundir.parts import MANIFEST
from agnews.rundir.run import Run

# Runs kept loaded: a server shows one run, tests build many apps in one process (each on a run
# of its own); a run dropped from here is loaded again from disk when next asked for.
KEPT_RUNS = 8
# Sessions whose state Gradio keeps (`launch(state_session_capacity=...)`, the newest kept), and
# whose page's run is kept here: a program calling without a session hash starts one per call.
SESSIONS_KEPT = 1000
SHOWN_NAME_CHARS = 100  # of a `?run=` name that names no run, what the page repeats
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


# What a panel shows for a run: {component: update}, or None when it has nothing to change.
Refill = Callable[[Run], dict[Component, Any] | None]


@dataclass(frozen=True)
class _Refill:
    fill: Refill
    outputs: tuple[Component, ...]
    always: bool


class PageRuns:
    """Which run each browser session's page shows, each read through `runs` (`RunsOnDisk`).

    A page opens on the run its address names (`?run=NAME`, a run's folder name under `root`, never
    a path), else the app's run, and forgets it when it closes; `current()` is the run of the session
    whose event is being handled, or the app's run outside a page. Components are laid out once, for
    the app's run: what depends on the run (a header, a dropdown's classes, a figure drawn at
    start-up) registers a `refresh`, which fills it for the page's run when the page opens on another.
    """

    def __init__(self, run: Run, runs: RunsOnDisk = RUNS, root: Path | None = None) -> None:
        runs.seed(run)
        self.runs = runs
        self.root = root
        self.default = run.path
        self._shown: OrderedDict[str, Path] = OrderedDict()  # the newest `SESSIONS_KEPT` pages
        self._asked: dict[str, str] = {}  # session -> a `?run=` name that names no run
        self._refills: list[_Refill] = []
        self._lock = threading.Lock()

    def current(self) -> Run:
        session = _session()
        with self._lock:
            path = self._shown.get(session, self.default) if session is not None else self.default
        return self.runs.current(path)

    def shows_default(self) -> bool:
        """Whether the page whose event is being handled shows the app's own run."""
        session = _session()
        with self._lock:
            return session is None or self._shown.get(session, self.default) == self.default

    def unknown_name(self) -> str | None:
        """The `?run=` name the page asked for when it names no listed run (the page says so)."""
        session = _session()
        with self._lock:
            return None if session is None else self._asked.get(session)

    def shown_paths(self) -> set[Path]:
        """The runs some open page shows, and the app's."""
        with self._lock:
            return {self.default, *self._shown.values()}

    def named(self, name: str) -> Path | None:
        """The run a page's address names (`?run=NAME`): a run folder under `root`, or the app's own
        run by its name; None for any other name ("" included)."""
        if name == self.default.name:
            return self.default
        return run_named(self.root, name) if name else None

    def refresh(self, fill: Refill, outputs: Sequence[Component], *, always: bool = False) -> None:
        """Fill `outputs` with `fill(run)` when a page opens on a run other than the app's (`always`:
        on every page opening, for what changes as runs are added, such as the run picker)."""
        self._refills.append(_Refill(fill, tuple(outputs), always))

    def track(self, demo: gr.Blocks) -> None:
        """Record each page's run when it loads (`opened`, the event to chain what must follow it) and
        forget it when the page closes. Must be called inside `demo`'s `with` block, first."""

        def page_opened(request: gr.Request) -> None:
            if request.session_hash is None:
                return
            # A page's address; a request made without one (a test's, a program's) asks for nothing.
            asked = (getattr(request, "query_params", None) or {}).get("run") or ""
            path = self.named(asked)
            with self._lock:
                self._shown[request.session_hash] = path or self.default
                self._shown.move_to_end(request.session_hash)
                while len(self._shown) > SESSIONS_KEPT:  # as Gradio forgets a session's state
                    forgotten, _ = self._shown.popitem(last=False)
                    self._asked.pop(forgotten, None)
                if asked and path is None:
                    self._asked[request.session_hash] = asked[:SHOWN_NAME_CHARS]
                else:
                    self._asked.pop(request.session_hash, None)

        def page_closed(request: gr.Request) -> None:
            with self._lock:
                self._shown.pop(request.session_hash or "", None)
                self._asked.pop(request.session_hash or "", None)

        self.opened = demo.load(
            page_opened, None, None, queue=False, show_progress="hidden", api_visibility="private"
        )
        demo.unload(page_closed)

    def refresh_when_opened(self) -> None:
        """Run the registered refreshes once a page's run is recorded. Call after every `refresh`."""
        outputs = list(dict.fromkeys(c for refill in self._refills for c in refill.outputs))
        if not outputs:
            return

        def refreshed() -> dict[Component, Any]:
            run = self.current()
            other = run.path != self.default
            updates: dict[Component, Any] = {}
            for refill in self._refills:
                if refill.always or other:
                    updates.update(refill.fill(run) or {})
            # Never an empty dict: Gradio would take it for one output value, not for "no updates".
            return updates or {outputs[0]: gr.update()}

        self.opened.then(refreshed, None, outputs, show_progress="hidden", api_visibility="private")
