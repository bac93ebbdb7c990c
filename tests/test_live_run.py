"""A run still being built: the page opens on what exists and shows each part when it arrives.

The synthetic run, copied, loses its embed and map parts through an atomic edit; the app is built on
it with a `LiveRun`; the parts come back (through another edit, or the real stages in a background
`agnews analyze`, as app.py starts it) and the page's tick returns the updates that show them. What
the analyze process is doing comes from its event log (`agnews.events`), written here as it writes it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import ROOT, load_script

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import plotly.graph_objects as go
from gradio.context import LocalContext

from agnews.events import DONE as ENDED
from agnews.events import ERROR, PROGRESS, STARTED, Event
from agnews.events import FAILED as STAGE_FAILED
from agnews.line_log import append, encode
from agnews.rundir.edit import edit_run
from agnews.rundir.parts import MANIFEST
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import build_app
from agnews.ui.live import DONE, FAILED, RUNNING, STOPPED, WAITING, LiveRun, missing_parts
from agnews.ui.run_state import RunsOnDisk, following

# Each part the embed and map stages make, with its files and what the stage records it made from.
LATER_PARTS = {
    "serving": (("serving.onnx", "serving_int8.onnx"), ("model",)),
    "embeddings": (("embeddings.safetensors",), ("model", "predictions")),
    "baseline": (("baseline.json",), ("embeddings", "predictions")),
    "map": (("map.parquet", "map.json"), ("embeddings", "predictions")),
}
# What an analyze of the export and embed stages has said when the embed stage is half-way.
EMBED_HALF_WAY = (
    Event(STARTED, "export"),
    Event(ENDED, "export"),
    Event(STARTED, "embed"),
    Event(PROGRESS, "embed", n=0, total=26, what="base [CLS]"),
    Event(PROGRESS, "embed", n=12, total=26, what="base [CLS]"),
)


def say(log: Path, *events: Event) -> None:
    """Append `events` to the event log `log`, as the analyze process does."""
    for event in events:
        append(log, encode(event.record()))


def without_parts(
    source: Path, target: Path, names: tuple[str, ...] = ("embeddings", "baseline", "map")
) -> Path:
    """Copy the run `source` to `target` and remove `names` from the copy (one atomic edit); the
    removed files are kept beside it (hidden, as no run is) for `restore_parts`."""
    shutil.copytree(source, target)
    kept = kept_folder(target)
    kept.mkdir(exist_ok=True)
    with edit_run(target) as edit:
        for name in names:
            for file in LATER_PARTS[name][0]:
                shutil.copy2(target / file, kept / file)
            edit.remove(name)
    return target


def kept_folder(run: Path) -> Path:
    return run.parent / f".{run.name}.kept"


def restore_parts(run: Path, names: tuple[str, ...]) -> None:
    """Put parts removed by `without_parts` back, in one atomic edit, as their stage records them."""
    kept = kept_folder(run)
    with edit_run(run) as edit:
        for name in names:
            files, made_from = LATER_PARTS[name]
            for file in files:
                shutil.copy2(kept / file, edit.file(file))
            edit.record(name, made_from)


def tick_of(demo: gr.Blocks) -> Callable[..., dict[str, Any]]:
    """The page's live tick (timer and page load share it), its updates keyed by elem_id.

    Called as a fresh page would (it has seen no version, the map tab is not filled yet), unless
    told otherwise.
    """
    [block] = {id(f.fn): f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "tick"}.values()

    def call(shown: int = -1, filled: bool = False) -> dict[str, Any]:
        updates = block.fn(shown, *[filled] * (len(block.inputs) - 1))  # each panel's "filled" state
        return {getattr(c, "elem_id", None) or f"{type(c).__name__}#{c._id}": v for c, v in updates.items()}

    return call


def has_timer(demo: gr.Blocks) -> bool:
    """Whether the page ticks from the start (the Train tab's timer waits, inactive, for a training)."""
    return any(isinstance(block, gr.Timer) and block.active for block in demo.blocks.values())


@pytest.fixture
def growing(synthetic_run: Path, tmp_path: Path) -> Path:
    """The synthetic run without its embeddings, baseline and map."""
    return without_parts(synthetic_run, tmp_path / "runs" / "quick")


def test_status_follows_the_events_and_the_manifest(growing: Path, tmp_path: Path) -> None:
    log, events = tmp_path / "analyze.log", tmp_path / "analyze.events.jsonl"
    log.write_text("base [CLS]:  46%|████▌     | 12/26\n")  # for people: the status line only names it
    say(events, *EMBED_HALF_WAY)
    alive = [True]
    live = LiveRun(Run.load(growing), ("embed", "map"), log=log, events=events, running=lambda: alive[0])
    status = live.status()
    assert [(s.name, s.state) for s in status.stages] == [("embed", RUNNING), ("map", WAITING)]
    assert status.stages[0].detail.startswith("base [CLS] 46%, 12/26, ")
    assert status.stages[0].detail.endswith(" s")  # how long the stage has run, from its start event
    assert not status.finished and "Still being built" in status.markdown()

    restore_parts(growing, ("embeddings", "baseline"))
    say(
        events,
        Event(ENDED, "embed"),
        Event(STARTED, "map"),
        Event(PROGRESS, "map", n=1, total=2, what="UMAP"),
    )
    with events.open("ab") as handle:  # a line still being written waits for the next tick
        handle.write(encode(Event(PROGRESS, "map", n=2, total=2, what="UMAP").record())[:20])
    status = live.status()
    assert live.version == 1 and live.current().has("baseline")
    assert [(s.name, s.state) for s in status.stages] == [("embed", DONE), ("map", RUNNING)]
    assert status.stages[1].detail.startswith("UMAP 50%, 1/2")
    assert live.current() is live.current()  # not re-loaded while the manifest stays the same

    say(events, Event(ERROR, message="MemoryError: UMAP ran out of memory"))
    alive[0] = False  # the process ended: the map is not coming
    status = live.status()
    assert [(s.name, s.state) for s in status.stages] == [("embed", DONE), ("map", STOPPED)]
    assert status.finished and "Not everything could be built" in status.markdown()
    # its error, as literal text; the log named relative to the runs folder, not by its server path
    assert "It stopped: MemoryError: UMAP ran out of memory" in status.markdown()
    assert f"`{log.parent.name}/{log.name}`" in status.markdown() and str(log) not in status.markdown()


def test_a_process_that_ends_without_a_word_leaves_its_stages_stopped(growing: Path, tmp_path: Path) -> None:
    events = tmp_path / "analyze.events.jsonl"
    say(events, *EMBED_HALF_WAY)
    live = LiveRun(Run.load(growing), ("embed", "map"), events=events, running=lambda: False)
    status = live.status()
    assert [(s.name, s.state) for s in status.stages] == [("embed", STOPPED), ("map", STOPPED)]
    assert status.finished and "It stopped" not in status.markdown()


def test_typed_text_moves_to_the_graph_the_background_export_writes(quick_run: Path, tmp_path: Path) -> None:
    launcher = load_script(ROOT / "app.py", "agnews_app_launcher")
    path = without_parts(quick_run, tmp_path / "runs" / "quick", ("serving",))
    predictor = Predictor.from_run(Run.load(path), "auto")
    assert predictor.graph is None and predictor.backend == "PyTorch"
    live = LiveRun(
        Run.load(path),
        ("export",),
        on_change=lambda run: launcher.adopt_serving_graph(predictor, run, "auto"),
    )
    restore_parts(path, ("serving",))
    assert live.current().has("serving")
    assert predictor.graph is not None and predictor.backend == "ONNX Runtime (serving.onnx)"
    text = "Oil prices climb as supplies tighten"  # not seen before: the graph answers it
    by_torch = Predictor.from_run(Run.load(path), "torch").forward(text).probs
    np.testing.assert_allclose(predictor.forward(text).probs, by_torch, atol=1e-4)


def test_a_failed_stage_shows_its_warning(growing: Path, tmp_path: Path) -> None:
    events = tmp_path / "analyze.events.jsonl"
    say(events, *EMBED_HALF_WAY[:3], Event(STAGE_FAILED, "embed", message="DataError: no rows"))
    live = LiveRun(Run.load(growing), ("embed", "map"), events=events, running=lambda: True)
    status = live.status()  # said before the run records it: the event's message
    assert [(s.name, s.state) for s in status.stages] == [("embed", FAILED), ("map", WAITING)]
    assert "embeddings and frozen-feature baseline failed: DataError: no rows" in status.markdown()

    with edit_run(growing) as edit:
        edit.warn("embed", "DataError: no rows at all")
    live = LiveRun(Run.load(growing), ("embed", "map"), running=lambda: False)  # no events: the run's word
    status = live.status()
    assert [(s.name, s.state) for s in status.stages] == [("embed", FAILED), ("map", STOPPED)]
    assert "failed: DataError: no rows at all" in status.markdown()


def test_the_map_arrives_in_the_open_page(growing: Path, predictor: Predictor) -> None:
    run = Run.load(growing)
    assert missing_parts(run, ("embed", "map")) == ("embeddings", "baseline", "map")
    live = LiveRun(run, ("embed", "map"), running=lambda: True)
    demo = build_app(run, predictor, live)
    config = json.dumps(demo.get_config_file(), default=str)
    assert "Still being built" in config and "Being built." in config and has_timer(demo)
    tick = tick_of(demo)

    before = tick()
    assert before["run-status"]["visible"] is True
    assert "map-panel" not in before and "map-plot" not in before  # nothing half-built is shown
    assert "classify-map-row" not in before  # the Classify tab's placement waits too
    assert before["confusion-metrics"]["model"].tolist() == ["fine-tuned"]
    assert set(tick(shown=0)) == {"run-status"}  # nothing changed since: only the status line

    restore_parts(growing, ("embeddings", "baseline"))  # the embed stage commits
    middle = tick(shown=0)
    assert middle["confusion-metrics"]["model"].tolist() == [
        "fine-tuned",
        "frozen base + logistic regression",
    ]
    assert "map-panel" not in middle and "2-D map: waiting" in middle["run-status"]["value"]

    restore_parts(growing, ("map",))  # the map stage commits: the last one
    after = tick(shown=1)
    assert after["map-building"] == {"__type__": "update", "visible": False}
    assert after["map-panel"] == {"__type__": "update", "visible": True}
    assert after["classify-map-row"] == {"__type__": "update", "visible": True}
    assert after["classify-map-building"] == {"__type__": "update", "visible": False}
    assert isinstance(after["map-plot"], go.Figure) and "Silhouette" in after["map-quality"]
    assert len(after["map-table"]) == len(run.predictions)
    assert after["run-status"]["visible"] is False  # everything built: the line goes
    timer = next(v for k, v in after.items() if k.startswith("Timer"))
    assert timer.active is False  # and this page stops asking
    assert tick(shown=2, filled=True).get("map-plot") is None  # a filled tab is the user's now


def test_a_finished_run_gets_no_timer(synthetic_run: Path, growing: Path, predictor: Predictor) -> None:
    run = Run.load(synthetic_run)
    assert not has_timer(build_app(run, predictor))
    done = LiveRun(run, ("export", "embed", "map"), running=lambda: True)
    assert not has_timer(build_app(run, predictor, done))  # nothing pending: as a finished run
    stopped = LiveRun(Run.load(growing), ("embed", "map"), running=lambda: False)
    app = build_app(stopped.current(), predictor, stopped)  # its builder is gone: nothing will come
    config = json.dumps(app.get_config_file(), default=str)
    assert not has_timer(app) and "Not available for this run" in config


@pytest.mark.slow
def test_the_launchers_background_analyze_completes_the_page(growing: Path, predictor: Predictor) -> None:
    """The real stages, in the process app.py starts, read through the event log it writes."""
    launcher = load_script(ROOT / "app.py", "agnews_app_launcher_live")
    run = Run.load(growing)
    background = launcher.start_background(run, None)
    try:
        assert background.stages == ("embed", "map")
        live = LiveRun(
            run, background.stages, log=background.log, events=background.events, running=background.running
        )
        demo = build_app(run, predictor, live)
        tick = tick_of(demo)
        seen = set()
        deadline = time.monotonic() + 300
        while not (status := live.status()).finished and time.monotonic() < deadline:
            seen |= {(s.name, s.state) for s in status.stages}
            time.sleep(0.5)
        assert status.complete, background.log.read_text()[-2000:]
        assert ("embed", RUNNING) in seen or ("map", RUNNING) in seen
        after = tick()
        assert after["map-panel"]["visible"] is True and after["run-status"]["visible"] is False
        assert Run.load(growing).has("map") and background.process.wait(60) == 0
    finally:
        background.stop()
    assert sys.executable in background.process.args


def test_the_page_and_the_live_run_load_each_change_of_the_run_once(growing: Path) -> None:
    first = Run.load(growing)
    page = following(first)
    live = LiveRun(first, ("embed", "map"), running=lambda: True)
    assert page() is first and live.current() is first and live.version == 0

    restore_parts(growing, ("embeddings", "baseline", "map"))
    now = page()  # the page asks first: it loads the new version ...
    assert now is not first and now.has("map")
    assert live.current() is now and live.version == 1  # ... which the live following takes as it is
    assert page() is now and live.current() is now and live.version == 1  # no change since: no load


def test_a_run_unreadable_mid_change_keeps_its_last_version(growing: Path) -> None:
    runs = RunsOnDisk()
    first = Run.load(growing)
    runs.seed(first)
    (growing / MANIFEST).write_text("{ half written", encoding="utf-8")
    assert runs.current(growing) is first


def test_a_finished_runs_page_shows_what_was_written_after_it_started(
    growing: Path, predictor: Predictor
) -> None:
    """No background analyze, no timer: the Overview (drawn when a page opens and when its tab is
    opened) still reads the run as it is on disk, in the session whose page asks."""
    demo = build_app(Run.load(growing), predictor)
    assert not has_timer(demo)
    [overview] = [f for f in demo.fns.values() if f.api_name == "overview_open"]
    [refreshed] = [f for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "refreshed"]
    assert overview.fn is not None and refreshed.fn is not None  # the page's opening redraws it too
    request = gr.Request(session_hash="one-page")
    [opened] = [f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "page_opened"]
    opened(request)
    token = LocalContext.request.set(request)
    try:
        before = overview.fn()
        restore_parts(growing, ("embeddings", "baseline", "map"))
        after = overview.fn()
    finally:
        LocalContext.request.reset(token)
    cards = ["".join(str(update.get("value", "")) for update in drawn.values()) for drawn in (before, after)]
    frozen = "Frozen base-model features"  # the accuracy card's comparison with the new baseline
    assert frozen not in cards[0] and frozen in cards[1]
