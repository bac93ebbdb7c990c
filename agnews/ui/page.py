"""What the page hands each analysis's tab when it lays it out (`Tab.build`): the run as first shown,
the gr.Tab to fill, the run as it is now, whether a background analyze is still making the
analysis's parts, and the page's shared services (the model, the decisions store)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from agnews.rundir.decisions import DecisionStore
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui.open_rows import OpenRows


@dataclass(frozen=True)
class TabPage:
    """`run`: the run the page was built from; `current()`: the run as it is now (a live run's latest
    version); `coming`: a background `agnews analyze` is still to make this analysis's parts; `store`:
    where decisions on rows are saved (None: the page may not write); `may_write`: whether what the
    page does is saved beside the runs; `points`: what Classify places typed text among and the map
    draws (`agnews.present.tables.map_points`); `open_rows`: how the tab lists a set of test rows in
    the rows browser (`agnews.ui.open_rows`)."""

    run: Run
    tab: gr.Tab
    current: Callable[[], Run]
    coming: bool
    predictor: Predictor
    store: DecisionStore | None
    may_write: bool
    runs_root: Path | None
    points: pd.DataFrame | None  # the predictions with their map coordinates (`map_points`), or None
    open_rows: OpenRows
