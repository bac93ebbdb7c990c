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
from agnews.present.paths import shown_text
from agnews.present.tables import map_points
from agnews.rundir.catalog import load_attribute
from agnews.rundir.decisions import DECISIONS_FOLDER, DecisionStore
from agnews.rundir.declarations import Fact
from agnews.rundir.facts import MAP_COORDINATES, REVIEW
from agnews.rundir.run import Run
from agnews.serving import http_api
from agnews.serving.csv_batch import MAX_BYTES
from agnews.serving.file_headers import FileRouteHeaders
from agnews.serving.logins import Logins, LoginThrottle
from agnews.serving.predictor import Predictor
from agnews.ui import (
    classify,
    compare,
    confusion,
    errors,
    overview,
)
from agnews.ui.editor import RowEditor
from agnews.ui.live import DONE, RUNNING, WAITING, Follower, LiveRun, Snapshot, attach
from agnews.ui.open_rows import OpenRows
from agnews.ui.page import TabPage
from agnews.ui.plot_events import HEAD as PLOT_EVENTS
from agnews.ui.run_state import PageRuns
from agnews.ui.scratch import GRADIO_CACHE_SWEEP, scratch
from agnews.ui.style import CSS as PAGE_CSS

# Two cores on the reference machine: more concurrent model calls would only queue inside torch.
DEFAULT_CONCURRENCY_LIMIT = 2
QUEUE_SIZE = 64
# What every server of this app launches with (app.py and the tests' server alike, so the tests
# check what users get): uploads over the batch limit are refused before they reach Python, and no
# folder is served beyond Gradio's own upload and cache folders, not even the run's.
# `head` carries Plotly's clicks and selections to Python (`agnews.ui.plot_events`); `css` is the
# page's own (`agnews.ui.style`).
LAUNCH_LIMITS: dict[str, Any] = {
    "max_file_size": MAX_BYTES,
    "allowed_paths": [],
    "head": PLOT_EVENTS,
    "css": PAGE_CSS,
}


def launch_options(
    predictor: Predictor, current: Callable[[], Run], logins: Logins | None = None
) -> dict[str, Any]:
    """`Blocks.launch` options for serving `predictor`: `LAUNCH_LIMITS`, the logins (with a brake on
    guessing, `LoginThrottle`), safe headers on the files Gradio serves (`FileRouteHeaders`), and the
    plain JSON route for programs (`agnews.serving.http_api`) mounted ahead of Gradio's own routes,
    behind the same logins. `current()` is the run as it is now (a live run gains its review
    threshold later)."""

    def threshold() -> float | None:
        rule = current().fact(REVIEW)
        return None if rule is None else rule.threshold

    return {
        **LAUNCH_LIMITS,
        "auth": None if logins is None else logins.check,
        "app_kwargs": {
            "routes": http_api.routes(predictor, threshold, logins),
            "middleware": [Middleware(LoginThrottle), Middleware(FileRouteHeaders)],
        },
    }


def header(run: Run) -> str:
    """One line on what is being shown: the run, its dataset and classes, its base model, its test
    accuracy, any warnings. Class and dataset names are the user's: shown as text (`literal`)."""
    test = run.metrics.test
    base = run.config.train.base_model
    title = "AG News topic classifier" if dataset_title(run) == "AG News" else "Text classifier"
    lines = [
        f"## {title} · run `{run.name}`",
        literal(dataset_line(run)),
        f"Base model `{base}` · test accuracy **{percent(test.accuracy)}** on {test.rows} rows "
        f"· macro F1 {number(test.f1_macro, 3)}",
    ]
    lines += [f"> ⚠ {shown_text(warning, run.path.parent)}" for warning in run.warnings]  # no server path
    return "\n\n".join(lines)


def build_app(
    run: Run,
    predictor: Predictor | None = None,
    live: LiveRun | None = None,
    *,
    runs_root: Path | None = None,
    compare_with: Run | None = None,
    may_write: bool = True,
) -> gr.Blocks:
    """The app for `run`, queued. `predictor` defaults to the run's own model (tests may share one).

    The Compare tab offers the runs under `runs_root` (and `compare_with`, shown first when opened).

    `live`: the run as a background `agnews analyze` completes it; while it has stages to come the
    page follows it. Without one (or once it is finished) there is no timer; either way every event,
    every panel opened and the Overview read the run as it is on disk then (`agnews.ui.run_state`).

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
    pages = PageRuns(run)
    current = pages.current

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
                    run, tab, current, building, predictor, store, may_write, runs_root, points, open_rows
                )
                follower = load_attribute(analysis.tab.build)(page)
                if follower is not None:
                    tab_followers.append(follower)
            analysis_tabs(analysis.tab_id)

    # Gradio's copies of downloads are swept; the page's own files go with their session (`scratch`).
    with gr.Blocks(
        title=f"agnews · {run.name}", analytics_enabled=False, delete_cache=GRADIO_CACHE_SWEEP
    ) as demo:
        demo.unload(scratch().end_session)
        pages.attach(demo)
        title = gr.Markdown(header(run), elem_id="run-header")
        if following:
            progress = gr.Markdown(status.markdown(), elem_id="run-status")
        opened = gr.State(None)  # the rows a tab asked the Errors tab to list (`agnews.ui.open_rows`)
        with gr.Tabs() as tabs:
            open_rows = OpenRows(opened, tabs)
            with gr.Tab("Overview", id="overview") as tab:
                cards = overview.build(
                    run, tab, current=current, coming=coming, compare_with=compare_with, page=demo
                )
            with gr.Tab("Classify", id="classify"):
                classify_tab = classify.build(
                    run,
                    predictor,
                    points,
                    coming=unbuilt_fact(MAP_COORDINATES),
                    review=lambda: current().fact(REVIEW),
                )
                editor = RowEditor(run, predictor, classify_tab.located)
            analysis_tabs("classify")
            with gr.Tab("Confusion matrix", id="confusion") as tab:
                metrics_follower = confusion.build(run, tab, open_rows, current=current)
            with gr.Tab("Errors", id="errors") as tab:
                errors.build(run, tab, open_rows, editor, current=current, store=store)
            analysis_tabs("errors")
            with gr.Tab("Compare", id="compare") as tab:
                compare.build(run, tab, current=current, runs_root=runs_root, compare_with=compare_with)
            analysis_tabs("compare")
        overview.link(cards, tabs, open_rows, current=current)
        if live is not None and following:
            header_follower = Follower([title], lambda snapshot, _status: header_update(title, snapshot))
            panels = [*tab_followers, classify_tab.follower]
            followers = [header_follower, metrics_follower, *(p for p in panels if p is not None)]
            attach(demo, live, progress, followers)
    return demo.queue(default_concurrency_limit=DEFAULT_CONCURRENCY_LIMIT, max_size=QUEUE_SIZE)


def header_update(title: gr.Markdown, snapshot: Snapshot) -> dict[gr.Markdown, str]:
    """The header of a re-loaded run (its warnings, e.g. a failed stage's); the first is as built."""
    return {title: header(snapshot.run)} if snapshot.version > 0 else {}
