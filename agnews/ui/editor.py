"""The row editor (LIT's datapoint editor): open a test row, edit its text, and see what the edit does.

The original and the edit are shown side by side, each with the model's probabilities and word
scores, and both are placed on the fine-tuned map the way the Classify box places typed text
(`agnews.ui.classify.place_text`'s index and neighbour count): an edit that changes nothing lands
exactly on the original, so any distance between them is the edit's doing. The original is scored
by the served model too, not read from the stored predictions, for the same reason.

Other tabs open a row here with `RowEditor.listen` (or `RowEditor.open` and `RowEditor.outputs`),
knowing nothing else about the editor. Rows, model and map are those of the run the page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from agnews.formatting import percent, points
from agnews.present.markup import literal
from agnews.rundir.run import Run
from agnews.serving.predictor import MAX_RAW_CHARS, Predictor
from agnews.serving.predictors import Predictors
from agnews.ui.classify import (
    NEIGHBOURS,
    SHOWN_CLASSES,
    checked_text,
    explain_text,
    fine_tuned_map,
    model_failures_as_messages,
    text_vector,
    word_scores_view,
)
from agnews.ui.throttle import HEAVY_QUEUE, limited

if TYPE_CHECKING:
    import plotly.graph_objects as go

EDIT_INFO = "Enter re-classifies the edit; Shift+Enter starts a new line."
NO_MAP = "This run has no fine-tuned map yet, so the texts are not placed on one."


def edit_map_figure(
    points: pd.DataFrame, classes: Sequence[str], original: tuple[float, float], edit: tuple[float, float]
) -> go.Figure:
    """The fine-tuned map with the original text (a ringed circle) and the edit (a star), joined by a
    dotted line when the edit moved."""
    import plotly.graph_objects as go  # loaded with the first opened row, not at start-up

    from agnews.present.figures import map_figure

    figure = map_figure(points, x="finetuned_x", y="finetuned_y", classes=classes, hover=False)
    figure.add_trace(
        go.Scatter(
            x=[original[0], edit[0]],
            y=[original[1], edit[1]],
            mode="lines",
            name="moved",
            line={"color": "black", "width": 1.5, "dash": "dot"},
            hoverinfo="skip",
        )
    )
    marks = {
        "original": (original, {"symbol": "circle", "size": 14, "color": "white"}),
        "edit": (edit, {"symbol": "star", "size": 18, "color": "gold"}),
    }
    for name, ((x, y), marker) in marks.items():
        figure.add_trace(
            go.Scatter(
                x=[x],
                y=[y],
                mode="markers",
                name=name,
                marker={**marker, "line": {"color": "black", "width": 2}},
            )
        )
    return figure


def change_note(original: dict[str, float], edited: dict[str, float]) -> str:
    """What the edit did to the original's predicted class, in one line of Markdown."""
    before = max(original, key=original.__getitem__)
    after = max(edited, key=edited.__getitem__)
    moved = (
        f"{literal(before)}: {percent(original[before])} in the original, {percent(edited[before])} in the "
        f"edit ({points(edited[before] - original[before], 1)})."
    )
    if after == before:
        return f"{moved} The prediction stays **{literal(before)}**."
    return f"{moved} The prediction changes to **{literal(after)}** ({percent(edited[after])})."


@dataclass(frozen=True)
class _PageRun:
    """What one event reads: the run the page shows and its model."""

    run: Run
    predictor: Predictor


class RowEditor:
    """The "Edit a test row" section, laid out where it is constructed (inside the Classify tab).

    `current()` is the run the session's page shows, as it is now (`agnews.ui.run_state.PageRuns`);
    `predictors` hold the models of such runs.
    """

    def __init__(self, current: Callable[[], Run], predictors: Predictors) -> None:
        self.current = current
        self.predictors = predictors
        gr.Markdown(
            "### Edit a test row\nOpen a test row by its id, change its text, and compare the model's "
            "answer on the edit with its answer on the original.",
            elem_id="editor-intro",
        )
        with gr.Row(equal_height=True):
            self.row = gr.Number(label="Test row id", precision=0, minimum=0, elem_id="editor-row", scale=3)
            opener = gr.Button("Open row", elem_id="editor-open", scale=1)
        self.original = gr.State("")  # the row's text, as stored
        with gr.Row(equal_height=False):
            with gr.Column(elem_id="editor-original"):
                self.original_text = gr.Markdown(
                    "**Original**: open a row first.", elem_id="editor-original-text"
                )
                self.original_label = self._label("Original: prediction", "editor-original-label")
                self.original_words = word_scores_view("editor-original-words")
            with gr.Column(elem_id="editor-edit"):
                self.edit = gr.Textbox(
                    label="Edit",
                    lines=1,  # Enter submits, as in the Classify box
                    max_lines=8,
                    max_length=MAX_RAW_CHARS,
                    info=EDIT_INFO,
                    elem_id="editor-text",
                )
                reclassify = gr.Button("Classify the edit", elem_id="editor-classify")
                self.change = gr.Markdown(elem_id="editor-change")
                self.edit_label = self._label("Edit: prediction", "editor-edit-label")
                self.edit_words = word_scores_view("editor-edit-words")
        self.map = gr.Plot(
            label="The original (circle) and the edit (star) on the fine-tuned map", elem_id="editor-map"
        )
        self.outputs: list[Any] = [
            self.row,
            self.original,
            self.original_text,
            self.original_label,
            self.original_words,
            self.edit,
            self.change,
            self.edit_label,
            self.edit_words,
            self.map,
        ]
        self.listen([opener.click, self.row.submit], self.row, api_name="open_row")
        gr.on(
            [self.edit.submit, reclassify.click],
            limited("edit", self.edited),
            [self.original, self.edit],
            [self.change, self.edit_label, self.edit_words, self.map],
            api_name="edit_row",
            **HEAVY_QUEUE,
        )

    def _label(self, label: str, elem_id: str) -> gr.Label:
        return gr.Label(label=label, num_top_classes=SHOWN_CLASSES, elem_id=elem_id)

    def listen(self, triggers: Sequence[Any], row_id: Any, api_name: str | None = None) -> None:
        """Open the row whose id `row_id` (a component) holds whenever one of `triggers` fires: how
        another tab sends a row here (then it selects the Classify tab itself). `api_name`: the
        event's name where a caller needs it (the editor's own "Open row" is `open_row`)."""
        gr.on(
            list(triggers),
            limited("open_row", self.open),
            row_id,
            self.outputs,
            api_name=api_name,
            **HEAVY_QUEUE,
        )

    def _page_run(self) -> _PageRun:
        run = self.current()
        return _PageRun(run, self.predictors.for_run(run))

    def open(self, row_id: float | None) -> tuple[Any, ...]:
        """Updates for `outputs` showing test row `row_id` as the original and as the edit (unchanged);
        an id the run has no test row for is a message (`gr.Error`)."""
        page_run = self._page_run()
        row = self._row(page_run.run.predictions, row_id)
        text = str(row["text"])
        probabilities, words = self._answer(page_run.predictor, text)
        shown = (
            f"**Original**: row {int(row['row_id'])}, true class **{literal(row['label_name'])}**\n\n"
            f"> {literal(text)}"
        )
        same = change_note(probabilities, probabilities)
        figure = self._figure(page_run, text, text)
        return (row_id, text, shown, probabilities, words, text, same, probabilities, words, figure)

    def edited(self, original: str, edit: str | None) -> tuple[Any, ...]:
        """The edit's answer beside the original's: the change note, the probabilities, the word scores,
        the map with both."""
        if not original:
            raise gr.Error("Open a test row first: give its id and press Open row.", print_exception=False)
        page_run = self._page_run()
        before, _ = self._answer(page_run.predictor, original)
        after, words = self._answer(page_run.predictor, edit)
        return change_note(before, after), after, words, self._figure(page_run, original, edit or "")

    @staticmethod
    def _row(predictions: pd.DataFrame, row_id: float | None) -> pd.Series:
        """The stored test row with this id; a message (`gr.Error`) when there is none."""
        ids = predictions["row_id"]
        match = predictions[ids == row_id] if row_id is not None else predictions.iloc[:0]
        if match.empty:
            raise gr.Error(
                f"No test row {row_id}: test row ids run from {ids.min()} to {ids.max()}.",
                print_exception=False,
            )
        return match.iloc[0]

    @staticmethod
    def _answer(predictor: Predictor, text: str | None) -> tuple[dict[str, float], str]:
        """The probabilities and word scores (HTML) of a text; empty or unreadable text is a message."""
        cleaned = checked_text(predictor, text)[0]
        with model_failures_as_messages():
            probabilities = predictor.probabilities(cleaned)
        return probabilities, explain_text(predictor, text)  # the raw text: a cut one is warned of

    @staticmethod
    def _figure(page_run: _PageRun, original: str, edit: str) -> go.Figure | None:
        located = fine_tuned_map(page_run.run)
        if located is None:
            gr.Info(NO_MAP)
            return None
        index, points = located
        before, after = (
            index.place(text_vector(page_run.predictor, text), k=NEIGHBOURS) for text in (original, edit)
        )
        return edit_map_figure(points, page_run.predictor.classes, (before.x, before.y), (after.x, after.y))
