"""A run that is still growing: the page opens on the parts that exist and takes the rest as they come.

The launcher may open the app as soon as a run has its model, metrics and predictions, with the
default stages (`agnews.rundir.catalog`) still running in a background `agnews analyze` process.
`LiveRun` follows the stages: `current()` is the run as it is on disk now (`agnews.ui.run_state`,
the page's own way of reading it, re-loaded only when its `manifest.json` changed), `version`
counts the changes it has seen, and `status()` says, per stage, whether it is done, running (with
the progress the analyze process reports in its event log, `agnews.events`), waiting, failed or
stopped. `attach` adds to the page one status line and one `gr.Timer` that carries the new parts
into the panels that asked for them.

A finished run has no `LiveRun` and its page no timer; it still reads the run through `run_state`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from agnews.events import EventReader, Summary
from agnews.present.markup import literal
from agnews.present.paths import shown_path, shown_text
from agnews.present.tables import map_points
from agnews.rundir.run import Run
from agnews.ui.child_process import progress_text
from agnews.ui.run_state import RUNS

TICK_SECONDS = 2.0
DETAIL_CHARS = 240  # a failed stage's message is cut here in the status line (the header has it whole)
DONE, RUNNING, WAITING, FAILED, STOPPED = "done", "running", "waiting", "failed", "stopped"


def missing_parts(run: Run, stages: Sequence[str]) -> tuple[str, ...]:
    """The parts of `stages` that `run` lacks (absent, or dropped by `Run.load` as damaged or stale)."""
    return tuple(part for stage in stages for part in run.catalog.stages[stage].makes if not run.has(part))


@dataclass(frozen=True)
class StageStatus:
    name: str
    state: str  # DONE, RUNNING, WAITING, FAILED or STOPPED
    detail: str = ""  # RUNNING: the progress; FAILED: the warning
    label: str = ""  # what the status line calls it (its declaration's `label`); "": its name


@dataclass(frozen=True)
class Status:
    stages: tuple[StageStatus, ...]
    finished: bool  # nothing more will arrive: every stage done, failed or stopped
    log: Path | None = None  # where the process prints, for people
    error: str = ""  # why the process stopped, where it said (its `error` event), once it has exited

    @property
    def complete(self) -> bool:
        return all(stage.state == DONE for stage in self.stages)

    def state(self, stage: str) -> str:
        return next((s.state for s in self.stages if s.name == stage), DONE)

    def markdown(self) -> str:
        """The status line: empty once everything is built.

        What the analyze process said (progress, a failure's message, its error) is shown as
        literal text, and every file by its path relative to the runs folder, where the log lies
        (`agnews.present.paths`): never a server path.
        """
        if self.complete:
            return ""
        root = self.log.parent if self.log is not None else None
        items = []
        for stage in self.stages:
            label = stage.label or stage.name
            cut = stage.detail if len(stage.detail) <= DETAIL_CHARS else stage.detail[:DETAIL_CHARS] + " …"
            detail = literal(shown_text(cut, root))
            if stage.state == DONE:
                items.append(f"{label} ✓")
            elif stage.state == RUNNING:
                items.append(f"**{label}: building**" + (f" ({detail})" if detail else ""))
            elif stage.state == WAITING:
                items.append(f"{label}: waiting")
            elif stage.state == FAILED:
                items.append(f"⚠ {label} failed: {detail}")
            else:
                items.append(f"⚠ {label}: not built")
        if not self.finished:
            return "**Still being built** (the rest of the app is ready): " + " · ".join(items)
        text = "**Not everything could be built**: " + " · ".join(items)
        if self.error:
            text += f". It stopped: {literal(shown_text(self.error[:DETAIL_CHARS], root))}"
        if self.log is not None:
            text += f". Log: `{shown_path(self.log, self.log.parent)}`"
        return text


@dataclass(frozen=True)
class Snapshot:
    """One version of the run, as the panels fill from it."""

    run: Run
    points: pd.DataFrame | None  # `agnews.present.tables.map_points(run)`
    version: int


class LiveRun:
    """The run at `path` as its `stages` add parts; safe to call from any number of sessions at once.

    `running()` says whether the process making the parts is still alive; `events` is the event log
    it appends to (`agnews.events`: each stage's start, progress, end or failure, and its own error),
    read incrementally; `log` is where it prints for people, named on the status line.
    """

    def __init__(
        self,
        run: Run,
        stages: Sequence[str],
        *,
        log: Path | None = None,
        events: Path | None = None,
        running: Callable[[], bool] = lambda: False,
        on_change: Callable[[Run], None] | None = None,
    ) -> None:
        """`on_change` is called with each newly loaded version of the run (e.g. to start serving a
        graph the export stage has just written)."""
        self.stages = tuple(stages)
        self.on_change = on_change
        self.log = log
        self.running = running
        self._events = None if events is None else EventReader(events)
        self._path = run.path
        self._run = run
        self._points: pd.DataFrame | None = None
        self._points_version = -1  # the version `_points` were computed for
        self.version = 0  # goes up by one each time `current()` finds a changed run
        self._lock = threading.Lock()
        RUNS.seed(run)

    def current(self) -> Run:
        """The run as it is now (`agnews.ui.run_state.RUNS`: re-loaded only if its manifest changed,
        whichever of the page's sessions or this live following asks first)."""
        run = RUNS.current(self._path)
        with self._lock:
            changed = run is not self._run
            if changed:
                self._run = run
                self.version += 1
        if changed and self.on_change is not None:
            self.on_change(run)
        return run

    def snapshot(self) -> Snapshot:
        """The current run with its map points (`agnews.present.tables.map_points`), computed once per
        version."""
        self.current()
        with self._lock:
            if self._points_version != self.version:
                self._points = map_points(self._run)  # may add a warning to the run: before its header
                self._points_version = self.version
            return Snapshot(self._run, self._points, self.version)

    def status(self) -> Status:
        """Each stage's state now. Whether the builder is alive is asked before the run is read, so
        that a builder seen stopped has nothing left to add to what is read after."""
        alive = self.running()
        run = self.current()
        with self._lock:
            if self._events is not None:
                self._events.read()
            said = Summary() if self._events is None else self._events.summary
            warned = {w.stage: w.message for w in run.manifest.warnings}
            stages = []
            for name in self.stages:
                label = run.catalog.stages[name].label
                if not missing_parts(run, (name,)):
                    stages.append(StageStatus(name, DONE, label=label))
                elif alive and said.stage == name:
                    progress = "" if said.progress is None else progress_text(said.progress)
                    seconds = f"{max(0, int(time.time() - said.since))} s"
                    detail = ", ".join(filter(None, [progress, seconds]))
                    stages.append(StageStatus(name, RUNNING, detail, label))
                elif name in said.failed or (not alive and name in warned):
                    stages.append(StageStatus(name, FAILED, warned.get(name) or said.failed[name], label))
                else:
                    stages.append(StageStatus(name, WAITING if alive else STOPPED, label=label))
            error = said.error if not alive else ""
        finished = all(stage.state in (DONE, FAILED, STOPPED) for stage in stages)
        return Status(tuple(stages), finished=finished, log=self.log, error=error)


Fill = Callable[..., dict[Any, Any]]


@dataclass
class Follower:
    """A panel's part in the live page: the components it updates and how.

    `fill(snapshot, status, *values of inputs)` returns {component: update} for components among
    `outputs`. It is called in each session whenever the run changed since that session's page last
    saw it, and once more when the building finishes; `inputs` (e.g. a `gr.State` the panel also
    lists in `outputs`) let a panel that must fill itself only once per session remember it did.
    """

    outputs: list[Any]
    fill: Fill
    inputs: list[Any] = field(default_factory=list)


def attach(
    live: LiveRun,
    status: gr.Markdown,
    followers: Sequence[Follower],
    *,
    opened: Dependency,
    shows_live: Callable[[], bool] = lambda: True,
) -> None:
    """Drive `status` and the followers from one timer (ticking while the run is still being built)
    and from each page's opening (`opened`, the event recording the page's run: a page opened after a
    part arrived shows it at once). A page showing another run (`shows_live()` False in its events)
    hides the status line and stops its timer.

    Must be called inside the page's `with` block. A tick reads the manifest and the events appended
    since; a changed run is loaded once, by whichever session sees the change first.
    """
    timer = gr.Timer(TICK_SECONDS)
    seen = gr.State(-1)  # the run version this session's page shows
    inputs = [seen, *(c for follower in followers for c in follower.inputs)]
    outputs = [status, timer, seen, *(c for follower in followers for c in follower.outputs)]

    def tick(shown: int, *values: Any) -> dict[Any, Any]:
        if not shows_live():
            return {status: gr.update(visible=False), timer: gr.Timer(active=False)}
        now = live.status()
        snapshot = live.snapshot()
        updates: dict[Any, Any] = {}
        if snapshot.version != shown or now.finished:
            for follower in followers:
                own, values = values[: len(follower.inputs)], values[len(follower.inputs) :]
                updates.update(follower.fill(snapshot, now, *own))
            updates[seen] = snapshot.version
        text = now.markdown()
        updates[status] = gr.update(value=text, visible=bool(text))
        if now.finished:
            updates[timer] = gr.Timer(active=False)
        return updates

    for trigger in (timer.tick, opened.then):
        trigger(
            tick,
            inputs=inputs,
            outputs=outputs,
            show_progress="hidden",
            queue=False,
            api_visibility="private",
        )
