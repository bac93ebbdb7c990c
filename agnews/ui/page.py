"""What the page hands each analysis's tab when it lays it out (`Tab.build`): the run as first shown,
the gr.Tab to fill, the run as it is now, whether a background analyze is still making the
analysis's parts, and the page's shared services (the models, the decisions store).

A page may show another run than the app's (`?run=NAME`, `agnews.ui.run_state`): a tab reads the run
through `current()` and its model through `predictor()` in every event, and registers a `refresh`
for whatever it lays out from `run` (the app's run) at build time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.components import Component

from agnews.rundir.decisions import DecisionStore
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.serving.predictors import Predictors
from agnews.ui.open_rows import OpenRows
from agnews.ui.run_state import PageRuns, Refill


@dataclass(frozen=True)
class TabPage:
    """`run`: the run the page was built from (the app's); `current()`: the run the session's page
    shows, as it is now (a live run's latest version); `coming`: a background `agnews analyze` is
    still to make this analysis's parts; `store`:
    where decisions on rows are saved (None: the page may not write); `may_write`: whether what the
    page does is saved beside the runs; `points`: what Classify places typed text among and the map
    draws (`agnews.present.tables.map_points`); `open_rows`: how the tab lists a set of test rows in
    the rows browser (`agnews.ui.open_rows`); `pages`: which run each page shows; `predictors`: the
    models of the runs pages show."""

    run: Run
    tab: gr.Tab
    current: Callable[[], Run]
    coming: bool
    predictors: Predictors
    store: DecisionStore | None
    may_write: bool
    runs_root: Path | None
    points: pd.DataFrame | None  # the predictions with their map coordinates (`map_points`), or None
    open_rows: OpenRows
    pages: PageRuns

    def predictor(self) -> Predictor:
        """The model of the run the session's page shows (call it inside an event)."""
        return self.predictors.for_run(self.current())

    def refresh(self, fill: Refill, outputs: Sequence[Component], *, always: bool = False) -> None:
        """Fill `outputs` for the page's run when a page opens on another run than the app's
        (`PageRuns.refresh`)."""
        self.pages.refresh(fill, outputs, always=always)
