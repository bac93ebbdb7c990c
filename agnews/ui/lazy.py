"""Panels drawn the first time their tab is opened, not while the app starts.

Start-up is what a user waits for before anything works, and a drawn Plotly figure (thousands of map
points, a histogram of every test text) costs far more than laying out an empty `gr.Plot`. So a tab
lays out its components empty and registers what fills them; the first `select` of the tab in a
page fills them from the run that page shows, as it is then (a live run may have gained the panel's
part since start-up). What `fill` computes is kept for the next page on the same version of a run,
for a few runs at once: pages on different runs (`?run=NAME`) then take turns without recomputing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components import Component

from agnews.rundir.run import Run

# What a panel shows for a run: {component: value} for some of its outputs, or None while the run
# lacks the panel's part (the page keeps its "being built" layout and the next opening tries again).
Fill = Callable[[Run], dict[Component, Any] | None]
# Runs whose filled values each panel keeps (its latest version of each): a figure per run, so few.
KEPT_RUNS = 4


def fill_when_opened(
    tab: gr.Tab, fill: Fill, outputs: Sequence[Component], *, current: Callable[[], Run], name: str
) -> None:
    """On the first opening of `tab` in a page, set `outputs` to `fill(current())`'s values.

    `current` gives the run the page shows as it is now (a loaded run, or a live run's latest
    version). `name` is the event's API name (undocumented; tests and benches can call it).
    """
    # Run path -> (the version filled, its values); runs are immutable, so a version is its object.
    cache: OrderedDict[Path, tuple[Run, dict[Component, Any]]] = OrderedDict()
    lock = threading.Lock()  # events of several sessions run at once, in threads
    opened = gr.State(False)

    def open_once(already: bool) -> dict[Component, Any]:
        # Never an empty dict: Gradio would take it for one output value, not for "no updates".
        if already:
            return {opened: True}
        run = current()
        with lock:
            kept = cache.get(run.path)
            if kept is not None and kept[0] is run:
                cache.move_to_end(run.path)
                return {opened: True, **kept[1]}
        values = fill(run)
        if values is None:
            return {opened: False}
        with lock:  # an older version of the run is never shown again: replaced
            cache[run.path] = (run, values)
            cache.move_to_end(run.path)
            while len(cache) > KEPT_RUNS:
                cache.popitem(last=False)
        return {opened: True, **values}

    tab.select(
        open_once,
        [opened],
        [opened, *outputs],
        api_name=name,
        api_visibility="undocumented",
        show_progress="minimal",
    )
