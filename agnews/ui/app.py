"""Assemble the tabs into one Gradio Blocks app for a loaded run.

The model is loaded here, before the first page is served; each tab's figures are drawn from the
run's stored results the first time the tab is opened (`agnews.ui.lazy`), so start-up stays short.
Events afterwards only filter and redraw. A run
whose default stages are still running (`agnews.ui.live`) gets a status line under the header and a
timer that shows each part (map, baseline, warnings) in the open page as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from agnews.formatting import number, percent
from agnews.present.dataset import dataset_line, dataset_title
from agnews.present.markup import literal
from agnews.present.paths import model_name, shown_text
from agnews.present.tables import map_points
from agnews.rundir.catalog import load_attribute
from agnews.rundir.decisions import DECISIONS_FOLDER, DecisionStore
from agnews.rundir.declarations import Fact
from agnews.rundir.facts import MAP_COORDINATES
from agnews.rundir.run import Run
from agnews.serving import http_api
from agnews.serving.csv_batch import MAX_BYTES
from agnews.serving.file_headers import FileRouteHeaders
from agnews.serving.logins import Logins, LoginThrottle
from agnews.serving.predictor import Predictor
from agnews.serving.predictors import Predictors
from agnews.ui import (
    classify,
    compare,
    confusion,
    errors,
    overview,
    run_picker,
    training_tab,
)
from agnews.ui.editor import RowEditor
from agnews.ui.live import DONE, RUNNING, WAITING, Follower, LiveRun, Snapshot, attach
from agnews.ui.open_rows import OpenRows
from agnews.ui.page import TabPage
from agnews.ui.plot_events import HEAD as PLOT_EVENTS
from agnews.ui.run_state import RUNS, SESSIONS_KEPT, PageRuns
from agnews.ui.scratch import GRADIO_CACHE_SWEEP, scratch
from agnews.ui.style import CSS as PAGE_CSS
from agnews.ui.training_job import TrainingCaps

# Two cores on the reference machine: more concurrent model calls would only queue inside torch.
DEFAULT_CONCURRENCY_LIMIT = 2
QUEUE_SIZE = 64
# What every server of this app launches with (app.py and the tests' server alike, so the tests
# check what users get): uploads over the batch limit are refused before they reach Python, and no
# folder is served beyond Gradio's own upload and cache folders, not even the run's.
# `head` carries Plotly's clicks and selections to Python (`agnews.ui.plot_events`); `css` is the
# page's own (`agnews.ui.style`). Gradio keeps each session's state (a copy of the page's per-session
# values, which grows with the page's components) for `SESSIONS_KEPT` sessions, newest kept: a program
# calling `/gradio_api/call/...` without a session hash starts a new session per call, and Gradio's
# own default would let those hold gigabytes.
LAUNCH_LIMITS: dict[str, Any] = {
    "max_file_size": MAX_BYTES,
    "allowed_paths": [],
    "head": PLOT_EVENTS,
    "css": PAGE_CSS,
    "state_session_capacity": SESSIONS_KEPT,
}


def launch_options(
    predictors: Predictors,
    current: Callable[[], Run],
    logins: Logins | None = None,
    *,
    runs_root: Path | None = None,
) -> dict[str, Any]:
    """`Blocks.launch` options for serving the app's models `predictors` (the pages' own, given to
    `build_app` too, so the route shares the models pages have loaded): `LAUNCH_LIMITS`, the logins
    (with a brake on guessing, `LoginThrottle`), safe headers on the files Gradio serves
    (`FileRouteHeaders`), and the plain JSON route for programs (`agnews.serving.http_api`) mounted
    ahead of Gradio's own routes, behind the same logins.

    The route answers with the app's run, `current()` (as it is now: a live run gains its review
    threshold later), or with a run listed under `runs_root` that a request names, read as it is on
    disk (`RUNS`, which the pages share)."""
    return {
        **LAUNCH_LIMITS,
        "auth": None if logins is None else logins.check,
        "app_kwargs": {
            "routes": http_api.routes(predictors, current, logins, runs_root=runs_root, on_disk=RUNS.current),
            "middleware": [Middleware(LoginThrottle), Middleware(FileRouteHeaders)],
        },
    }


def header(run: Run, unknown: str | None = None) -> str:
    """One line on what is being shown: the run, its dataset and classes, its base model, its test
    accuracy, any warnings. Class and dataset names are the user's: shown as text (`literal`).
    `unknown`: a run name the page's address asked for that names no run (said, not shown)."""
    test = run.metrics.test
    base = model_name(run.config.train.base_model)
    title = "AG News topic classifier" if dataset_title(run) == "AG News" else "Text classifier"
    lines = [
        f"## {title} · run `{run.name}`",
        literal(dataset_line(run)),
        f"Base model `{base}` · test accuracy **{percent(test.accuracy)}** on {test.rows} rows "
        f"· macro F1 {number(test.f1_macro, 3)}",
    ]
    lines += [f"> ⚠ {shown_text(warning, run.path.parent)}" for warning in run.warnings]  # no server path
    if unknown is not None:
        lines.append(f"> ⚠ No run is named {literal(repr(unknown))}: showing `{run.name}` instead.")
    return "\n\n".join(lines)


def build_app(
    run: Run,
    predictor: Predictor | None = None,
    live: LiveRun | None = None,
    *,
    runs_root: Path | None = None,
    compare_with: Run | None = None,
    may_write: bool = True,
    predictors: Predictors | None = None,
    may_train: bool = True,
    training_caps: TrainingCaps | None = None,
) -> gr.Blocks:
    """The app for `run`, queued. `predictor` defaults to the run's own model (tests may share one).

    A page shows the run its address names (`?run=NAME`, a run under `runs_root`; the header's run
    picker switches it), else `run`. `predictors`: the models of the runs pages show (app.py hands
    the same to the JSON route, `launch_options`); by default `predictor` and each other run's own.

    The Compare tab offers the runs under `runs_root` (and `compare_with`, shown first when opened).

    `live`: the run as a background `agnews analyze` completes it; while it has stages to come the
    page follows it. Without one (or once it is finished) there is no timer; either way every event,
    every panel opened and the Overview read the run as it is on disk then (`agnews.ui.run_state`).

    `may_train`: whether the Train tab (shown where there is a `runs_root` to train into) may start
    `agnews train` in a child process, within `training_caps`; False on a public page not started
    with `--allow-training`, where the tab says why.

    `may_write`: whether what people do on the page (decisions on rows, an uploaded file's
    evaluation) is saved to disk beside the runs; False on a public page not started with
    `--allow-edits`, where such work lives in the browser session only.
    """
    predictor = predictor or Predictor.from_run(run)
    status = live.status() if live is not None else None
    following = status is not None and not status.finished
    if live is not None and following:
        snapshot = live.snapshot()
        run, points = snapshot.run, snapshot.points
    else:
        points = map_points(run)  # before the header, which lists any warning it adds
    store = DecisionStore((runs_root or run.path.parent) / DECISIONS_FOLDER) if may_write else None
    # The run as it is on disk when an event runs or a lazily built panel is first opened
    # (`agnews.ui.lazy`), for the session whose page asks: what the page wrote shows after a reload.
    pages = PageRuns(run, root=runs_root)
    current = pages.current
    predictors = predictors or Predictors(run, predictor, Predictor.from_run)

    def coming(stage: str) -> bool:
        """Whether the background analyze is still to make `stage`'s parts."""
        return live is not None and live.status().state(stage) in (RUNNING, WAITING)

    def unbuilt(*stages: str) -> bool:
        """Whether a tab showing the parts of `stages` opens while the background analyze has not
        made them all yet (the tab then says "being built" until an opening finds them)."""
        return following and any(status.state(stage) != DONE for stage in stages)

    def unbuilt_fact(fact: Fact[Any]) -> bool:
        """`unbuilt` for the stage making the part `fact` is read from (False: no analysis answers it)."""
        part = run.catalog.source(fact)
        return part is not None and unbuilt(run.catalog.maker(part).name)

    tab_followers: list[Follower] = []  # what the analyses' tabs follow of a live run

    def analysis_tabs(after: str) -> None:
        """The tabs of the analyses placed right after the tab `after` (`Tab.after`), each followed
        by those placed after it."""
        for analysis in run.catalog.analyses:
            if analysis.tab is None or analysis.tab.after != after:
                continue
            with gr.Tab(analysis.tab.title, id=analysis.tab_id) as tab:
                building = unbuilt(*analysis.default_stages)
                page = TabPage(
                    run,
                    tab,
                    current,
                    building,
                    predictors,
                    store,
                    may_write,
                    runs_root,
                    points,
                    open_rows,
                    pages,
                )
                follower = load_attribute(analysis.tab.build)(page)
                if follower is not None:
                    tab_followers.append(follower)
            analysis_tabs(analysis.tab_id)

    # Gradio's copies of downloads are swept; the page's own files go with their session (`scratch`).
    with gr.Blocks(
        title=f"agnews · {run.name}", analytics_enabled=False, delete_cache=GRADIO_CACHE_SWEEP
    ) as demo:
        # Queued before anything is laid out: `Blocks.queue` rebuilds Gradio's server app, which
        # computes the config of every block there is; after the layout that is a third pass over
        # the whole page (leaving the `with` makes two), paid at every start-up.
        demo.queue(default_concurrency_limit=DEFAULT_CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)
        demo.unload(scratch().end_session)
        pages.track(demo)
        with gr.Row(equal_height=False):
            title = gr.Markdown(header(run), elem_id="run-header")
            run_picker.build(run, pages)
        pages.refresh(lambda shown: {title: header(shown, pages.unknown_name())}, [title], always=True)
        if following:
            progress = gr.Markdown(status.markdown(), elem_id="run-status")
        opened = gr.State(None)  # the rows a tab asked the Errors tab to list (`agnews.ui.open_rows`)
        with gr.Tabs() as tabs:
            open_rows = OpenRows(opened, tabs)
            with gr.Tab("Overview", id="overview") as tab:
                cards = overview.build(
                    run, tab, current=current, coming=coming, compare_with=compare_with, pages=pages
                )
            with gr.Tab("Classify", id="classify"):
                classify_tab = classify.build(
                    run, points, pages, predictors, coming=unbuilt_fact(MAP_COORDINATES)
                )
                editor = RowEditor(current, predictors)
            analysis_tabs("classify")
            with gr.Tab("Confusion matrix", id="confusion") as tab:
                metrics_follower = confusion.build(tab, open_rows, current=current)
            with gr.Tab("Errors", id="errors") as tab:
                errors.build(run, tab, open_rows, editor, current=current, store=store)
            analysis_tabs("errors")
            with gr.Tab("Compare", id="compare") as tab:
                compare.build(
                    run, tab, pages=pages, runs_root=runs_root, store=store, compare_with=compare_with
                )
            analysis_tabs("compare")
            if runs_root is not None:
                with gr.Tab("Train", id="train") as tab:
                    training_tab.build(
                        current,
                        tab,
                        runs_root=runs_root,
                        store=store,
                        may_train=may_train,
                        caps=training_caps or TrainingCaps(),
                    )
        overview.link(cards, tabs, open_rows, current=current)
        pages.refresh_when_opened()  # after every tab registered what a page on another run refreshes
        if live is not None and following:
            header_follower = Follower([title], lambda snapshot, _status: header_update(title, snapshot))
            panels = [*tab_followers, classify_tab.follower]
            followers = [header_follower, metrics_follower, *(p for p in panels if p is not None)]
            attach(live, progress, followers, opened=pages.opened, shows_live=pages.shows_default)
    return demo


def header_update(title: gr.Markdown, snapshot: Snapshot) -> dict[gr.Markdown, str]:
    """The header of a re-loaded run (its warnings, e.g. a failed stage's); the first is as built."""
    return {title: header(snapshot.run)} if snapshot.version > 0 else {}
