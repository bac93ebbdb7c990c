"""The training rows nearest a test row or a typed text in the fine-tuned space, as the page shows
them (the Neighbours tab, `agnews/analyses/neighbours/`, and the Errors tab's selected row).

The usual way to see why a model learned a confusion: a mistake whose nearest training rows mostly
carry the predicted class was taught it by them, and a flag on those rows (cleanlab, the
training rows' label issues) says whether their own labels are suspect. The search is
`agnews.serving.neighbours`; a typed text is embedded as the Classify tab embeds it for the map
(`classify.text_vector`). `neighbours_of_row` is what another tab calls to show a selected row's
neighbours; the tab opens on the neighbours of the most confident mistake. A table names each
training row by its headline; `listed` keeps the rows behind it (text hash, label, full text, the
suggested class of a flagged one), so a click shows the whole text (`neighbour_shown`) or hands the
row to a `DecisionBox` (`DecisionBox.choose(TRAIN, row.key, row.given, row.text, row.suggested)`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
import pandas as pd

from agnews.formatting import count, percent
from agnews.present.figures import headline
from agnews.present.markup import literal
from agnews.rundir.decisions import TRAIN, DecisionStore
from agnews.rundir.run import Run
from agnews.serving.neighbours import NeighbourError, stored_vector, training_neighbours
from agnews.serving.predictor import Predictor
from agnews.ui.classify import text_vector
from agnews.ui.common import with_decided
from agnews.ui.decisions import Listed, saved_decided

K = 10
WIDTHS = ["11%", "13%", "16%", "60%"]
DECIDED_WIDTHS = ["10%", "12%", "15%", "49%", "14%"]


def row_id_of(value: float | int | str | None) -> int:
    """A test row id as typed (`gr.Number` sends a float, an API client anything); `gr.Error` unless
    it is a whole number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise gr.Error(
            "Enter a test row id first (the Errors and Map tabs show them).", print_exception=False
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():
        raise gr.Error(f"{value!r} is not a test row id: ids are whole numbers.", print_exception=False)
    return int(number)


def flag(flagged: Any, suggested: Any) -> str:
    """A row's cleanlab verdict as the table shows it: "yes → suggested class", "" or "?" (unknown)."""
    if flagged is pd.NA:
        return "?"
    return f"yes → {suggested}" if flagged else ""


def neighbours_table(found: pd.DataFrame, decided: Sequence[str] | None = None) -> pd.DataFrame:
    """What the tab lists per neighbour: similarity (3 decimals), label, flagged, headline, and what
    is decided on the row where `decided` is given (`agnews.ui.decisions.saved_decided`)."""
    table = pd.DataFrame(
        {
            "similarity": found["similarity"].round(3),
            "label": found["label_name"],
            "flagged": [flag(f, s) for f, s in zip(found["flagged"], found["suggested"], strict=True)],
            "headline": found["text"].map(headline),
        }
    )
    return with_decided(table, decided)


def decided_neighbours(store: DecisionStore | None, run: Run, found: pd.DataFrame) -> pd.DataFrame:
    """`neighbours_table` with the decisions saved on the training rows listed (none on a page that
    keeps decisions in the browser session)."""
    return neighbours_table(found, saved_decided(store, run, TRAIN, found["text_hash"]))


def table_widths(store: DecisionStore | None) -> list[str]:
    """The columns' widths of `decided_neighbours`'s table on a page with decisions `store`."""
    return WIDTHS if store is None else DECIDED_WIDTHS


def summary(found: pd.DataFrame, subject: str, flags_known: bool) -> str:
    """One line: which label most of the neighbours carry (then the others), and how many are flagged."""
    counts = found["label_name"].value_counts(sort=False).sort_values(ascending=False, kind="stable")
    (label, most), others = next(iter(counts.items())), counts.iloc[1:]
    line = f"{subject}: **{most} of {len(found)}** nearest training rows are labelled **{label}**"
    if len(others):
        line += " (" + ", ".join(f"{n} {name}" for name, n in others.items()) + ")"
    if flags_known:
        line += f"; {int(found['flagged'].sum())} of the {len(found)} are flagged as likely mislabelled."
    else:
        line += "; whether they are likely mislabelled needs the `label_issues_train` part."
    return line


def _asked(question: Callable[[], Any]) -> Any:
    """`question()`, its NeighbourError shown as a `gr.Error` (the message says what to do)."""
    try:
        return question()
    except NeighbourError as exc:
        raise gr.Error(str(exc), print_exception=False) from exc


def listed(found: pd.DataFrame) -> list[Listed]:
    """The training rows of a neighbours table, in its order, as a decision needs them: the text
    hash, the label, the full text, and the suggested class where cleanlab flagged the row."""
    return [
        Listed(str(h), str(g), str(t), str(s) if f is True else None)
        for h, g, t, f, s in zip(
            found["text_hash"],
            found["label_name"],
            found["text"],
            found["flagged"],
            found["suggested"],
            strict=True,
        )
    ]


def neighbour_shown(row: Listed) -> str:
    """A clicked neighbour as Markdown: its label, its flag and its whole text (shown as text)."""
    flagged = f" · flagged, suggested **{literal(row.suggested)}**" if row.suggested else ""
    return f"**Training row** · labelled **{literal(row.given)}**{flagged}\n\n> {literal(row.text)}"


def nearest_to_row(run: Run, row_id: float | int | str | None, k: int = K) -> tuple[pd.DataFrame, str]:
    """The `k` training rows nearest test row `row_id` (its id, as the Errors tab lists it), as
    `TrainingNeighbours.nearest` returns them, and the one-line summary. A bad id, or a run without
    the vectors, raises `gr.Error` with what to do."""
    wanted = row_id_of(row_id)
    index = _asked(lambda: training_neighbours(run))
    vector = _asked(lambda: stored_vector(run, wanted))
    row = run.predictions[run.predictions["row_id"] == wanted].iloc[0]
    subject = (
        f"Test row {wanted} (true **{row['label_name']}**, predicted **{row['pred_name']}** "
        f"{percent(row['confidence'], 0)})"
    )
    found = _asked(lambda: index.nearest(vector, k))
    return found, summary(found, subject, index.flags_known)


def nearest_to_text(
    run: Run, predictor: Predictor, value: str | None, k: int = K
) -> tuple[pd.DataFrame, str]:
    """The `k` training rows nearest a typed text, embedded by `predictor` (the run's model), and the
    one-line summary."""
    index = _asked(lambda: training_neighbours(run))
    found = _asked(lambda: index.nearest(text_vector(predictor, value), k))
    return found, summary(found, "Your text", index.flags_known)


def neighbours_of_row(run: Run, row_id: float | int | str | None, k: int = K) -> tuple[pd.DataFrame, str]:
    """The table to show of the `k` training rows nearest test row `row_id`, and the summary."""
    found, said = nearest_to_row(run, row_id, k)
    return neighbours_table(found), said


def neighbours_of_text(
    run: Run, predictor: Predictor, value: str | None, k: int = K
) -> tuple[pd.DataFrame, str]:
    """The table to show of the `k` training rows nearest a typed text, and the summary."""
    found, said = nearest_to_text(run, predictor, value, k)
    return neighbours_table(found), said


def most_confident_mistake(run: Run) -> int | None:
    """The row id of the test row the model gets wrong most confidently (the Errors tab's first)."""
    predictions = run.predictions
    wrong = predictions[predictions["label"] != predictions["pred"]]
    return None if wrong.empty else int(wrong.loc[wrong["confidence"].idxmax(), "row_id"])


def about(run: Run) -> str:
    """What is searched, in one paragraph."""
    index = training_neighbours(run)
    flags = (
        "A flag is cleanlab's verdict on a training label (`label_issues_train`), with the class suggested."
        if index.flags_known
        else "This run has no `label_issues_train` part: whether a row is likely mislabelled is unknown (?)."
    )
    return (
        f"The {count(len(index.rows))} training rows nearest a test row or your text, "
        "by cosine similarity of the fine-tuned model's [CLS] vectors (the space its classifier reads). "
        f"{flags}"
    )
