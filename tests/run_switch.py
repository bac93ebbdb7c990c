"""A runs folder of two runs with different classes, and a page shown on one of them, for the tests
that a page switched to another run (`?run=NAME`, `agnews.ui.run_state.PageRuns`) shows that run in
every tab: events are called as Gradio calls them, in the session of a page opened on that address."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
from analysis_runs import TWO_CLASSES, build_class_run
from gradio.context import LocalContext

APP_RUN, OTHER_RUN = "news", "sentiment"  # the app's run (AG News, 4 classes) and another (2 classes)


def two_runs(root: Path, synthetic_run: Path, encoder: Path) -> tuple[Path, Path]:
    """`root/news` (a copy of the synthetic AG News run) and `root/sentiment` (two classes; its data
    folder, not a run, beside it)."""
    root.mkdir(parents=True, exist_ok=True)
    news = root / APP_RUN
    shutil.copytree(synthetic_run, news)
    return news, build_class_run(root / OTHER_RUN, encoder, TWO_CLASSES)


def event(demo: gr.Blocks, name: str) -> Any:
    """The function of `demo`'s event named `name` (its api_name, or its Python function's name)."""
    [found] = [f.fn for f in demo.fns.values() if f.api_name == name or getattr(f.fn, "__name__", "") == name]
    return found


@contextmanager
def page_on(demo: gr.Blocks, run_name: str | None, session: str = "page-one") -> Iterator[gr.Request]:
    """Inside: the events called run in the session of a page opened at `?run=run_name` (no query:
    None), as Gradio runs them (the request in its context variable), after the page's opening."""
    request = gr.Request(session_hash=session, query_params={} if run_name is None else {"run": run_name})
    event(demo, "page_opened")(request)
    token = LocalContext.request.set(request)
    try:
        yield request
    finally:
        LocalContext.request.reset(token)


def refreshed(demo: gr.Blocks) -> dict[Any, Any]:
    """What the page's opening refreshes (`PageRuns.refresh_when_opened`), inside `page_on`."""
    return event(demo, "refreshed")()


def by_id(updates: dict[Any, Any]) -> dict[str | None, Any]:
    """`updates` (a refresh's or an event's {component: value}) keyed by each component's elem_id."""
    return {getattr(component, "elem_id", None): value for component, value in updates.items()}
