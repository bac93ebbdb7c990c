"""Cross-domain tab: the run's model, and the TF-IDF baseline, on out-of-domain labelled files.

One `cross_domain/<name>` part at a time, chosen from a list: what was read and skipped, both
classifiers' accuracy and macro F1 (and F1 per mapped class), the model's confusion (a row per mapped
class, a column per class: a prediction outside the mapped ones is a mistake), and its mistakes,
most confident first. Drawn when the tab is first opened (`agnews.ui.lazy`); the parts are made by
`agnews cross-domain`, never by the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from agnews.labels import LABELS
from agnews.rundir import Run
from agnews.rundir.parts import CrossDomainMetrics, DomainScores
from agnews.rundir.run import CrossDomain
from agnews.ui.common import notice, row_details, rows_table, selected_row_id, temporary_csv
from agnews.ui.errors import export_frame, mistakes
from agnews.ui.figures import confusion_figure
from agnews.ui.lazy import fill_when_opened

MISSING = (
    "This run has no cross-domain evaluation. `agnews cross-domain {path} FILE.csv --text-column TEXT "
    '--label-column LABEL --label-map "business=Business,sports=Sports,tech=Sci/Tech"` scores the '
    "run's model and a TF-IDF baseline on any labelled news CSV file whose classes map onto some of the four."
)
MAX_LISTED = 1000  # mistakes sent to the page; a large file's long tail adds weight, not insight
# row_id, headline, file label, true, predicted, confidence, TF-IDF says
ERROR_WIDTHS = ["8%", "34%", "12%", "12%", "12%", "10%", "12%"]


def summary(metrics: CrossDomainMetrics) -> str:
    """What was scored: the file, its columns and map, the rows read, scored and skipped, and how."""
    skipped = metrics.skipped()
    return "\n\n".join(
        [
            f"**{metrics.rows:,}** of {metrics.rows_read:,} rows of `{metrics.source}` scored on "
            f"{', '.join(metrics.mapped_classes)}"
            + (f"; skipped: {', '.join(skipped)}." if skipped else "; none skipped."),
            f"Text from {', '.join(f'`{c}`' for c in metrics.text_columns)}, labels from "
            f"`{metrics.label_column}`, mapped by `{metrics.label_map}`. Both classifiers choose among "
            "all four classes: a prediction outside the mapped ones counts as wrong; macro F1 is over "
            "the mapped classes.",
            f"Baseline: {metrics.baseline_method} ({metrics.baseline_train_rows:,} rows). "
            f"File SHA-256 `{metrics.source_sha256[:16]}…`; made in {metrics.seconds['total']:.1f} s.",
        ]
    )


def scores_table(metrics: CrossDomainMetrics) -> pd.DataFrame:
    """Fine-tuned model and TF-IDF baseline side by side (a column each, narrow enough for a side
    panel): accuracy, macro F1, and F1 of each mapped class."""

    def column(scores: DomainScores) -> list[float]:
        per_class = [scores.per_class[name].f1 for name in metrics.mapped_classes]
        return [round(value, 4) for value in (scores.accuracy, scores.f1_macro, *per_class)]

    return pd.DataFrame(
        {
            "score": ["accuracy", "macro F1", *(f"F1 {name}" for name in metrics.mapped_classes)],
            "fine-tuned": column(metrics.model),
            "TF-IDF baseline": column(metrics.baseline),
        }
    )


def errors_table(part: CrossDomain) -> pd.DataFrame:
    """The model's mistakes, most confident first (at most `MAX_LISTED`), with the file's own label
    and what the TF-IDF baseline said for the same row."""
    wrong = mistakes(part.predictions).head(MAX_LISTED)
    table = rows_table(wrong)
    table.insert(2, "file label", wrong["source_label"].to_numpy())
    table["TF-IDF says"] = [LABELS[i] for i in wrong["baseline_pred"]]
    return table


def export_rows(part: CrossDomain) -> pd.DataFrame:
    """Every mistake of the model (not only the listed ones) as the Errors tab exports them, with the
    file's own label and the TF-IDF baseline's answer."""
    wrong = mistakes(part.predictions)
    frame = export_frame(wrong)
    frame.insert(2, "file label", wrong["source_label"].to_numpy())
    frame["tfidf_predicted"] = [LABELS[i] for i in wrong["baseline_pred"]]
    return frame


def errors_note(part: CrossDomain) -> str:
    wrong = int((part.predictions["label"] != part.predictions["pred"]).sum())
    listed = f" (the {MAX_LISTED:,} most confident listed)" if wrong > MAX_LISTED else ""
    return f"{wrong:,} of {len(part.predictions):,} scored rows are misclassified{listed}."


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run]) -> None:
    """Lay out the tab inside `tab`; filled from the run as it is when first opened.

    A run without a cross-domain part gets a notice with the command that makes one.
    """
    if not run.cross_domain:
        notice(MISSING.format(path=run.path), elem_id="cross-domain-missing")
        return
    choice = gr.Dropdown([], label="Cross-domain evaluation", elem_id="cross-domain-choice")
    about = gr.Markdown("", elem_id="cross-domain-summary")
    with gr.Row():
        plot = gr.Plot(None, show_label=False, elem_id="cross-domain-plot", scale=3)
        scores = gr.Dataframe(
            None, label="Model vs TF-IDF baseline", interactive=False, elem_id="cross-domain-scores", scale=2
        )
    count = gr.Markdown("", elem_id="cross-domain-count")
    with gr.Row():
        table = gr.Dataframe(
            None,
            label="Mistakes of the fine-tuned model, most confident first (click a row for details)",
            interactive=False,
            max_height=480,
            column_widths=ERROR_WIDTHS,
            elem_id="cross-domain-errors",
            scale=3,
        )
        with gr.Column(scale=2):
            details = gr.Markdown("", elem_id="cross-domain-details")
            probabilities = gr.Label(label="Probabilities", num_top_classes=4)
            export = gr.Button("Export all mistakes as CSV")
            download = gr.File(label="CSV", interactive=False, height=90)
    panel = [about, plot, scores, count, table, details, probabilities]

    def show(run: Run, name: str | None) -> dict[Any, Any]:
        if name not in run.cross_domain:
            raise gr.Error(f"This run has no cross-domain evaluation {name!r}.")
        part = run.cross_domain[name]
        metrics = part.metrics
        return {
            about: summary(metrics),
            plot: confusion_figure(
                metrics.model.confusion_matrix, metrics.model.confusion_columns, metrics.model.confusion_rows
            ),
            scores: scores_table(metrics),
            count: errors_note(part),
            table: errors_table(part),
            details: row_details(part.predictions, None)[0],
            probabilities: None,
        }

    def fill(run: Run) -> dict[Any, Any]:
        names = sorted(run.cross_domain)
        return {choice: gr.update(choices=names, value=names[0]), **show(run, names[0])}

    fill_when_opened(tab, fill, [choice, *panel], current=current, name="cross_domain_open")
    choice.input(
        lambda name: show(current(), name),
        choice,
        panel,
        api_name="cross_domain_show",
        api_visibility="undocumented",
    )

    def inspect(name: str | None, event: gr.SelectData) -> tuple[str, dict[str, float] | None]:
        return row_details(current().cross_domain[name].predictions, selected_row_id(event))

    def write_csv(name: str | None) -> str | None:
        if name not in current().cross_domain:
            return None
        return temporary_csv(export_rows(current().cross_domain[name]), f"agnews-cross-domain-{name}-")

    export.click(write_csv, choice, download, api_name="cross_domain_csv", api_visibility="undocumented")
    table.select(
        inspect,
        choice,
        [details, probabilities],
        api_name="cross_domain_inspect",
        api_visibility="undocumented",
    )
