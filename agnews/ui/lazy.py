"""Panels drawn the first time their tab is opened, not while the app starts.

Start-up is what a user waits for before anything works, and a drawn Plotly figure (thousands of map
points, a histogram of every test text) costs far more than laying out an empty `gr.Plot`. So a tab
lays out its components empty and registers what fills them; the first `select` of the tab in a
page fills them from the run as it is then (a live run may have gained the panel's part since
start-up). What `fill` computes is kept, per version of the run, for the next page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio.components import Component

from agnews.rundir.run import Run

# What a panel shows for a run: {component: value} for some of its outputs, or None while the run
# lacks the panel's part (the page keeps its "being built" layout and the next opening tries again).
Fill = Callable[[Run], dict[Component, Any] | None]


def fill_when_opened(
    tab: gr.Tab, fill: Fill, outputs: Sequence[Component], *, current: Callable[[], Run], name: str
) -> None:
    """On the first opening of `tab` in a page, set `outputs` to `fill(current())`'s values.

    `current` gives the run as it is now (the loaded run, or a live run's latest version). `name` is
    the event's API name (undocumented; tests and benches can call it).
    """
    cache: dict[int, dict[Component, Any]] = {}  # id(run) -> filled values; runs are immutable
    opened = gr.State(False)

    def open_once(already: bool) -> dict[Component, Any]:
        # Never an empty dict: Gradio would take it for one output value, not for "no updates".
        if already:
            return {opened: True}
        run = current()
        if id(run) not in cache:
            values = fill(run)
            if values is None:
                return {opened: False}
            cache.clear()  # only the latest version of the run is ever shown again
            cache[id(run)] = values
        return {opened: True, **cache[id(run)]}

    tab.select(
        open_once,
        [opened],
        [opened, *outputs],
        api_name=name,
        api_visibility="undocumented",
        show_progress="minimal",
    )
