"""Pieces more than one tab needs: the map points, smart tags, a row's details, the missing-part notice."""

from __future__ import annotations

from collections.abc import Sequence

import gradio as gr
import pandas as pd

from agnews.csv_cells import neutralise_frame
from agnews.formatting import percent
from agnews.present.figures import headline
from agnews.present.markup import literal
from agnews.rundir.parts import prob_columns
from agnews.ui.scratch import scratch

# Widths for `rows_table` columns: the headline gets the room, the short columns stay readable.
TABLE_WIDTHS = ["10%", "48%", "14%", "15%", "13%"]
DECIDED_TABLE_WIDTHS = ["9%", "43%", "9%", "13%", "14%", "12%"]  # with the "decided" column last


def notice(text: str, elem_id: str | None = None, *, visible: bool = True) -> gr.Markdown:
    """What a tab shows instead of its content when the run lacks the part it needs."""
    return gr.Markdown(f"> **Not available for this run.** {text}", elem_id=elem_id, visible=visible)


def temporary_csv(rows: pd.DataFrame, prefix: str) -> str:
    """Write `rows` as the session's `<prefix>.csv` export for a download component; returns its path.

    Formula-like text cells are neutralised (`agnews.csv_cells`); the file replaces the session's
    previous export of the same name and lives as long as the session (`agnews.ui.scratch`).
    """
    kind = prefix.strip("-_. ") or "export"
    safe = neutralise_frame(rows)
    return str(scratch().replace(kind, f"{kind}.csv", lambda tmp: safe.to_csv(tmp, index=False)))


def rows_table(rows: pd.DataFrame, decided: Sequence[str] | None = None) -> pd.DataFrame:
    """The compact table the Map and Errors tabs list rows in (full text is in the row details),
    with the "decided" column last where `decided` is given (`agnews.ui.decisions.decided_column`)."""
    table = pd.DataFrame(
        {
            "row_id": rows["row_id"].to_numpy(),
            "headline": rows["text"].map(headline).to_numpy(),
            "true": rows["label_name"].to_numpy(),
            "predicted": rows["pred_name"].to_numpy(),
            "confidence": rows["confidence"].astype(float).round(3).to_numpy(),
        }
    )
    return with_decided(table, decided)


def with_decided(table: pd.DataFrame, decided: Sequence[str] | None) -> pd.DataFrame:
    """`table` with the "decided" column last, where `decided` is given (one entry per row,
    `agnews.ui.decisions.decided_column`); as it is otherwise."""
    if decided is not None:
        table["decided"] = list(decided)
    return table


def selected_row_id(event: gr.SelectData) -> int | None:
    """The row_id of a clicked table row, read from the row's values (robust to client sorting)."""
    row = event.row_value
    return int(row[0]) if row else None


def row_details(
    predictions: pd.DataFrame, row_id: int | None, classes: Sequence[str], *, with_text: bool = True
) -> tuple[str, dict[str, float] | None]:
    """Verdict and full text of one test row (Markdown; `with_text=False`: the verdict alone, where
    the text is shown beside it already), and its probability of each of `classes` (the run's, in
    class-id order) for `gr.Label`."""
    match = predictions[predictions["row_id"] == row_id] if row_id is not None else predictions.iloc[:0]
    if match.empty:
        return "Select a row to see its full text and probabilities.", None
    row = match.iloc[0]
    verdict = "correct" if row["label"] == row["pred"] else "**wrong**"
    text = literal(row["text"])  # the file's text, shown as its characters: never as Markdown
    markdown = (
        f"**Row {row['row_id']}** · true **{literal(row['label_name'])}** · "
        f"predicted **{literal(row['pred_name'])}** "
        f"({percent(row['confidence'])}, {verdict})" + (f"\n\n> {text}" if with_text else "")
    )
    columns = prob_columns(len(classes))
    return markdown, {name: float(row[col]) for name, col in zip(classes, columns, strict=True)}
