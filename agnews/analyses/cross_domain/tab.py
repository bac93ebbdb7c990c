"""Cross-domain tab: the run's model, and the TF-IDF baseline, on out-of-domain labelled files.

One `cross_domain/<name>` part at a time, chosen from a list: what was read and skipped, both
classifiers' accuracy and macro F1 (and F1 per mapped class), the model's confusion (a row per mapped
class, a column per class: a prediction outside the mapped ones is a mistake), and its mistakes,
most confident first. Drawn when the tab is first opened (`agnews.ui.lazy`). The parts are made by
`agnews cross-domain`, from the command line or from the upload form above the results
(`upload.py`, which runs that command); an evaluation the page may not save is listed for the
browser session that made it only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr
import pandas as pd

from agnews.analyses.cross_domain import upload
from agnews.analyses.cross_domain.present import cross_domain_summary, scores_table
from agnews.analyses.cross_domain.schema import FAMILY, CrossDomain
from agnews.formatting import count
from agnews.present.figures import confusion_figure
from agnews.present.glossary import glossed
from agnews.present.paths import shown_path
from agnews.present.tables import mistakes
from agnews.rundir.run import Run
from agnews.ui.common import row_details, rows_table, selected_row_id, temporary_csv
from agnews.ui.errors import export_frame
from agnews.ui.lazy import fill_when_opened
from agnews.ui.page import TabPage

EMPTY = (
    "No file scored yet. Upload a labelled CSV file here: the run's model and a TF-IDF baseline score it, "
    "and its scores, confusion and mistakes fill this tab (the command line does the same: "
    '`agnews cross-domain {path} FILE.csv --label-column LABEL --label-map "business=Business,..."`).'
)
UNSAVED = "unsaved/"  # before the name of this session's evaluation (never a part name: those have no '/')
NOT_SAVED = (
    "**Not saved**: this page may not write to the run (a public page), so this evaluation lives in this "
    "browser session only; export the mistakes as CSV to keep them."
)
TOP_CLASSES = 5  # classes the probabilities of a row list (a run may have 150)
MAX_LISTED = 1000  # mistakes sent to the page; a large file's long tail adds weight, not insight
# row_id, headline, file label, true, predicted, confidence, TF-IDF says
ERROR_WIDTHS = ["8%", "34%", "12%", "12%", "12%", "10%", "12%"]


def errors_table(part: CrossDomain, classes: Sequence[str]) -> pd.DataFrame:
    """The model's mistakes, most confident first (at most `MAX_LISTED`), with the file's own label
    and what the TF-IDF baseline said for the same row (one of the run's `classes`)."""
    wrong = mistakes(part.predictions).head(MAX_LISTED)
    table = rows_table(wrong)
    table.insert(2, "file label", wrong["source_label"].to_numpy())
    if part.metrics.baseline is not None:
        table["TF-IDF says"] = [classes[i] for i in wrong["baseline_pred"]]
    return table


def export_rows(part: CrossDomain, classes: Sequence[str]) -> pd.DataFrame:
    """Every mistake of the model (not only the listed ones) as the Errors tab exports them, with the
    file's own label and the TF-IDF baseline's answer."""
    wrong = mistakes(part.predictions)
    frame = export_frame(wrong, classes)
    frame.insert(2, "file label", wrong["source_label"].to_numpy())
    if part.metrics.baseline is not None:
        frame["tfidf_predicted"] = [classes[i] for i in wrong["baseline_pred"]]
    return frame


def missing(run: Run) -> str:
    """What the tab says while `run` has no evaluation: what fills it, and the command that does."""
    return EMPTY.format(path=shown_path(run.path, run.path.parent))


def top_classes(run: Run) -> int:
    """How many classes a row's probabilities list."""
    return min(len(run.classes), TOP_CLASSES)


def errors_note(part: CrossDomain) -> str:
    wrong = int((part.predictions["label"] != part.predictions["pred"]).sum())
    listed = f" (the {count(MAX_LISTED)} most confident listed)" if wrong > MAX_LISTED else ""
    return f"{count(wrong)} of {count(len(part.predictions))} scored rows are misclassified{listed}."


def build(page: TabPage) -> None:
    """Lay out the tab inside `page.tab`: the upload form first, then the evaluations, filled from the
    run as it is when the tab is first opened (`page.current()`: the run on disk, so an evaluation
    saved from a page is there after a reload).

    Without any evaluation yet, one line says what fills the tab and the form is open; its result is
    saved in the run when the page may write, else kept in the session (`UNSAVED`).
    """
    run, current = page.run, page.current
    evaluated_before = bool(run.members(FAMILY))
    empty = gr.Markdown(missing(run), elem_id="cross-domain-missing", visible=not evaluated_before)
    with gr.Accordion(
        "Evaluate a labelled CSV file", open=not evaluated_before, elem_id="cross-domain-new"
    ) as form:
        evaluated, result = upload.build(current, may_write=page.may_write)
    with gr.Column(visible=evaluated_before, elem_id="cross-domain-results") as panel_column:
        choice = gr.Dropdown([], label="Cross-domain evaluation", elem_id="cross-domain-choice")
        about = gr.Markdown("", elem_id="cross-domain-summary")
        with gr.Row():
            plot = gr.Plot(None, show_label=False, elem_id="cross-domain-plot", scale=3)
            scores = gr.Dataframe(
                None,
                label="Model vs TF-IDF baseline",
                interactive=False,
                elem_id="cross-domain-scores",
                scale=2,
            )
        gr.Markdown(glossed("accuracy", "macro F1", "F1", "baseline"), elem_id="cross-domain-glosses")
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
                probabilities = gr.Label(
                    label="Probabilities",
                    num_top_classes=top_classes(run),
                    elem_id="cross-domain-probabilities",
                )
                export = gr.Button("Export all mistakes as CSV")
                download = gr.File(label="CSV", interactive=False, height=90)
    session = gr.State({})  # this session's unsaved evaluations by name
    panel = [about, plot, scores, count, table, details, probabilities]
    layout = [empty, form, panel_column]

    def laid_out(run: Run, evaluated: bool) -> dict[Any, Any]:
        """The layout for `run`, with an evaluation to show (the form folds away above the results)
        or without (what fills the tab, above the open form)."""
        return {
            empty: gr.update(value=missing(run), visible=not evaluated),
            form: gr.update(open=not evaluated),
            panel_column: gr.update(visible=evaluated),
        }

    page.refresh(
        lambda run: {
            **laid_out(run, bool(run.members(FAMILY))),
            probabilities: gr.update(num_top_classes=top_classes(run)),
        },
        [*layout, probabilities],
    )

    def find(name: str | None, unsaved: dict[str, CrossDomain] | None) -> CrossDomain:
        if name and name.startswith(UNSAVED):
            found = (unsaved or {}).get(name.removeprefix(UNSAVED))
        else:
            found = current().members(FAMILY).get(name or "")
        if found is None:
            raise gr.Error(f"This run has no cross-domain evaluation {name!r}.")
        return found

    def show(part: CrossDomain, classes: Sequence[str], *, unsaved: bool = False) -> dict[Any, Any]:
        """The evaluation `part` of a run with `classes`."""
        metrics = part.metrics
        return {
            about: (f"{NOT_SAVED}\n\n" if unsaved else "") + cross_domain_summary(metrics),
            plot: confusion_figure(
                metrics.model.confusion_matrix, metrics.model.confusion_columns, metrics.model.confusion_rows
            ),
            scores: scores_table(metrics),
            count: errors_note(part),
            table: errors_table(part, classes),
            details: row_details(part.predictions, None, classes)[0],
            probabilities: None,
        }

    def choices(run: Run, unsaved: dict[str, CrossDomain]) -> list[str | tuple[str, str]]:
        return [
            *run.members(FAMILY),
            *((f"{n} (this session, not saved)", UNSAVED + n) for n in unsaved),
        ]

    def fill(run: Run) -> dict[Any, Any] | None:
        evaluations = run.members(FAMILY)
        names = list(evaluations)
        if not names:
            return None
        return {
            **laid_out(run, True),
            choice: gr.update(choices=names, value=names[0]),
            **show(evaluations[names[0]], run.classes),
        }

    def adopt(done: upload.Result | None, unsaved: dict[str, CrossDomain]) -> dict[Any, Any]:
        """Show a finished upload's evaluation: from the run as it is now (saved in it), or kept in the
        session."""
        if done is None:
            return {}
        run = current()
        if done.unsaved is None:
            value, part, unsaved_now = done.name, run.members(FAMILY)[done.name], False
        else:
            unsaved = {**unsaved, done.name: done.unsaved}
            value, part, unsaved_now = UNSAVED + done.name, done.unsaved, True
        return {
            session: unsaved,
            **laid_out(run, True),
            choice: gr.update(choices=choices(run, unsaved), value=value),
            **show(part, run.classes, unsaved=unsaved_now),
        }

    fill_when_opened(page.tab, fill, [*layout, choice, *panel], current=current, name="cross_domain_open")
    evaluated.success(adopt, [result, session], [session, *layout, choice, *panel], api_visibility="private")
    choice.input(
        lambda name, unsaved=None: show(
            find(name, unsaved), current().classes, unsaved=bool(name and name.startswith(UNSAVED))
        ),
        [choice, session],
        panel,
        api_name="cross_domain_show",
        api_visibility="undocumented",
    )

    def inspect(
        name: str | None, unsaved: dict[str, CrossDomain], event: gr.SelectData
    ) -> tuple[str, dict[str, float] | None]:
        return row_details(find(name, unsaved).predictions, selected_row_id(event), current().classes)

    def write_csv(name: str | None, unsaved: dict[str, CrossDomain] | None = None) -> str | None:
        try:
            part = find(name, unsaved)
        except gr.Error:
            return None
        return temporary_csv(
            export_rows(part, current().classes), f"agnews-cross-domain-{part.metrics.name}-"
        )

    export.click(
        write_csv, [choice, session], download, api_name="cross_domain_csv", api_visibility="undocumented"
    )
    table.select(
        inspect,
        [choice, session],
        [details, probabilities],
        api_name="cross_domain_inspect",
        api_visibility="undocumented",
    )
