"""One way for any tab to say "open these test rows, and here is why": the page's linked views.

A confusion-matrix cell, a slice, an Overview card, a map selection: each stands for a set of test
rows. The tab that knows the set hands `OpenRows.open` the row ids and a short reason; the page then
shows the rows browser (the Errors tab) listing exactly those rows under that reason. The tab that
asks needs no knowledge of the browser's filters or components, and the browser none of the tabs
that ask: the request travels through one `gr.State`, whose change the browser alone listens to.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

# The Errors tab's id: where opened rows are listed.
ROWS_TAB = "errors"


@dataclass(frozen=True)
class RowsRequest:
    """Test rows to list (their `row_id`s, in the order to list them) and why, in a few words (shown
    above the table as text: it may carry a class name, which is the user's)."""

    row_ids: tuple[int, ...]
    why: str
    serial: int = 0  # tells two requests for the same rows apart, so that asking again re-opens them


class OpenRows:
    """The page's one channel for `RowsRequest`s: `state` carries the latest, `tabs` is switched to
    the rows browser. Built once by the page; every tab that opens rows gets it."""

    def __init__(self, state: gr.State, tabs: gr.Tabs) -> None:
        self.state = state
        self.tabs = tabs
        self._serials = itertools.count(1)  # shared by every session; `next` on it is atomic

    @property
    def outputs(self) -> list[Any]:
        """The components an event that opens rows must list among its outputs."""
        return [self.state, self.tabs]

    def open(self, row_ids: Iterable[int], why: str) -> dict[Any, Any]:
        """The updates that open `row_ids` in the rows browser with `why` above them."""
        request = RowsRequest(tuple(int(i) for i in row_ids), why, next(self._serials))
        return {self.state: request, self.tabs: gr.Tabs(selected=ROWS_TAB)}


def mistakes_first(rows: pd.DataFrame) -> list[int]:
    """The row ids of `rows` (predictions) to open: the mistakes, most confident first, then the rows
    the model got right, least confident first (the nearest to being mistakes)."""
    wrong = rows["label"] != rows["pred"]
    first = rows[wrong].sort_values(["confidence", "row_id"], ascending=[False, True], kind="stable")
    then = rows[~wrong].sort_values(["confidence", "row_id"], ascending=[True, True], kind="stable")
    return [*first["row_id"].tolist(), *then["row_id"].tolist()]
