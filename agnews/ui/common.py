"""Pieces more than one tab needs: the map points, smart tags, a row's details, the missing-part notice."""

from __future__ import annotations

import tempfile

import gradio as gr
import pandas as pd

from agnews.labels import LABELS
from agnews.rundir import Run
from agnews.rundir.parts import PROB_COLUMNS
from agnews.ui.figures import TAG_COLUMN, headline

# Widths for `rows_table` columns: the headline gets the room, the short columns stay readable.
TABLE_WIDTHS = ["10%", "48%", "14%", "15%", "13%"]


def notice(text: str, elem_id: str | None = None, *, visible: bool = True) -> gr.Markdown:
    """What a tab shows instead of its content when the run lacks the part it needs."""
    return gr.Markdown(f"> **Not available for this run.** {text}", elem_id=elem_id, visible=visible)


def temporary_csv(rows: pd.DataFrame, prefix: str) -> str:
    """Write `rows` to a new temporary CSV file for a download component; returns its path."""
    with tempfile.NamedTemporaryFile("w", prefix=prefix, suffix=".csv", delete=False) as out:
        rows.to_csv(out, index=False)
    return out.name


def map_points(run: Run) -> pd.DataFrame | None:
    """Predictions with the map coordinates as extra columns, or None when the run has no map.

    The run stores them aligned row by row; a map whose row ids do not match (e.g. predictions
    re-written on other test rows) is not shown rather than shown wrong.
    """
    if run.map_coords is None:
        return None
    predictions = run.predictions.reset_index(drop=True)
    coords = run.map_coords.reset_index(drop=True)
    if not predictions["row_id"].equals(coords["row_id"]):
        run.warnings.append(f"{run.path}: map rows do not match the predictions; map not shown")
        return None
    return with_tags(pd.concat([predictions, coords.drop(columns="row_id")], axis=1), run)


def with_tags(rows: pd.DataFrame, run: Run) -> pd.DataFrame:
    """`rows` (the predictions, or a frame aligned with them row by row) with a boolean column
    `tag_NAME` per smart tag of the run's `slices` part (aligned on load); as is without the part."""
    if run.slice_tags is None:
        return rows
    tags = run.slice_tags.drop(columns="row_id").add_prefix(TAG_COLUMN).reset_index(drop=True)
    return pd.concat([rows.reset_index(drop=True), tags], axis=1)


def rows_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The compact table the Map and Errors tabs list rows in (full text is in the row details)."""
    return pd.DataFrame(
        {
            "row_id": rows["row_id"].to_numpy(),
            "headline": rows["text"].map(headline).to_numpy(),
            "true": rows["label_name"].to_numpy(),
            "predicted": rows["pred_name"].to_numpy(),
            "confidence": rows["confidence"].astype(float).round(3).to_numpy(),
        }
    )


def selected_row_id(event: gr.SelectData) -> int | None:
    """The row_id of a clicked table row, read from the row's values (robust to client sorting)."""
    row = event.row_value
    return int(row[0]) if row else None


def row_details(predictions: pd.DataFrame, row_id: int | None) -> tuple[str, dict[str, float] | None]:
    """Full text and verdict of one test row (Markdown), and its four probabilities for `gr.Label`."""
    match = predictions[predictions["row_id"] == row_id] if row_id is not None else predictions.iloc[:0]
    if match.empty:
        return "Select a row to see its full text and probabilities.", None
    row = match.iloc[0]
    verdict = "correct" if row["label"] == row["pred"] else "**wrong**"
    text = str(row["text"]).replace("\n", " ")
    markdown = (
        f"**Row {row['row_id']}** · true **{row['label_name']}** · predicted **{row['pred_name']}** "
        f"({row['confidence']:.1%}, {verdict})\n\n> {text}"
    )
    return markdown, {name: float(row[col]) for name, col in zip(LABELS, PROB_COLUMNS, strict=True)}
