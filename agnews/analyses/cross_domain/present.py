"""How a cross-domain part reads: what was scored and skipped, both classifiers' scores, its Overview
card (every evaluated file), its report section and its model-card section. Plain functions of the
parts (no Gradio), shared by the tab, the report and the card."""

from __future__ import annotations

import html
from pathlib import PurePath

import pandas as pd

from agnews.analyses.cross_domain.schema import FAMILY, CrossDomainMetrics, DomainScores
from agnews.formatting import count, number, percent
from agnews.present.cards import ABSENT, INFO, Card
from agnews.present.figures import confusion_figure
from agnews.present.markup import literal
from agnews.present.paths import shown_text
from agnews.present.sections import figure_html, markdown_section, markdown_table, section, table_html
from agnews.rundir.run import Run

TITLE = "Out-of-domain files"
# Cross-domain parts are made by their own command on a file of the user's, never by a stage.
MISSING_NOTE = (
    "No out-of-domain file scored yet: `agnews cross-domain RUN FILE.csv --label-map ...` adds one."
)


def cross_domain_summary(metrics: CrossDomainMetrics) -> str:
    """What was scored: the file, its columns and map, the rows read, scored and skipped, and how
    (with the baseline, or why it was left out).

    The file's name, columns, label map and label values are the file's own: each is written as
    literal text (`agnews.present.markup`), and the file by its name only, never by the path it had
    on the machine that scored it (for an upload, a temporary folder of the server's).
    """
    skipped = [literal(phrase) for phrase in metrics.skipped()]
    if metrics.baseline is None:
        why = literal(shown_text(metrics.baseline_left_out or ""))
        baseline = (
            f"No TF-IDF baseline: {why}. The model was scored alone; where the run's training data is on "
            "the machine, `agnews cross-domain ... --data FOLDER` adds the baseline."
        )
    else:
        baseline = f"Baseline: {metrics.baseline_method} ({count(metrics.baseline_train_rows)} rows)."
    return "\n\n".join(
        [
            f"**{count(metrics.rows)}** of {count(metrics.rows_read)} rows of the file "
            f"“{literal(PurePath(metrics.source).name)}” scored on {', '.join(metrics.mapped_classes)}"
            + (f"; skipped: {', '.join(skipped)}." if skipped else "; none skipped."),
            f"Text from {', '.join(f'“{literal(c)}”' for c in metrics.text_columns)}, labels from "
            f"“{literal(metrics.label_column)}”, mapped by “{literal(metrics.label_map)}”. Both classifiers "
            "choose among all four classes: a prediction outside the mapped ones counts as wrong; macro "
            "F1 is over the mapped classes.",
            f"{baseline} File SHA-256 `{metrics.source_sha256[:16]}…`; made in "
            f"{number(metrics.seconds['total'], digits=1)} s.",
        ]
    )


def scores_table(metrics: CrossDomainMetrics) -> pd.DataFrame:
    """Fine-tuned model and TF-IDF baseline side by side (a column each, narrow enough for a side
    panel): accuracy, macro F1, and F1 of each mapped class. No baseline column where it was left out."""

    def column(scores: DomainScores) -> list[float]:
        per_class = [scores.per_class[name].f1 for name in metrics.mapped_classes]
        return [round(value, 4) for value in (scores.accuracy, scores.f1_macro, *per_class)]

    table = pd.DataFrame(
        {
            "score": ["accuracy", "macro F1", *(f"F1 {name}" for name in metrics.mapped_classes)],
            "fine-tuned": column(metrics.model),
        }
    )
    if metrics.baseline is not None:
        table["TF-IDF baseline"] = column(metrics.baseline)
    return table


def card(run: Run, coming: bool) -> Card:
    """The Overview card: each evaluated file's accuracy beside the TF-IDF baseline's."""
    key, tab = "cross-domain", "cross-domain"
    evaluations = run.members(FAMILY)
    if not evaluations:
        return Card(key, TITLE, MISSING_NOTE, ABSENT, "", tab, "Open cross-domain")
    lines = []
    for name, part in evaluations.items():
        found = part.metrics
        tfidf = (
            "no TF-IDF baseline" if found.baseline is None else f"TF-IDF {percent(found.baseline.accuracy)}"
        )
        lines.append(f"`{name}`: {percent(found.model.accuracy)} ({tfidf}) on {count(found.rows)} rows")
    rule = "the model against a TF-IDF model refitted on the same training rows"
    return Card(key, TITLE, "; ".join(lines) + ".", INFO, rule, tab, "Open cross-domain")


def report_section(run: Run) -> str:
    """The HTML report's section: each evaluated file's summary, scores and confusion."""
    evaluations = run.members(FAMILY)
    if not evaluations:
        return section(TITLE, markdown_section(MISSING_NOTE))
    body = []
    for index, (name, part) in enumerate(evaluations.items()):
        scores = part.metrics.model
        body += [
            f"<h3>{html.escape(name)}</h3>",
            markdown_section(cross_domain_summary(part.metrics)),
            table_html(scores_table(part.metrics)),
            figure_html(
                confusion_figure(scores.confusion_matrix, scores.confusion_columns, scores.confusion_rows),
                f"cross-domain-{index}",
            ),
        ]
    return section(TITLE, *body)


def model_card_section(run: Run) -> str | None:
    """One line per evaluated file: rows scored, mapped classes, the model's and the TF-IDF baseline's
    scores; None without any. A file is named by its part name only, not its local path."""
    evaluations = run.members(FAMILY)
    if not evaluations:
        return None
    table = markdown_table(
        [
            "evaluation",
            "rows scored",
            "classes",
            "accuracy",
            "macro F1",
            "TF-IDF accuracy",
            "TF-IDF macro F1",
        ],
        [
            [
                f"`{name}`",
                part.metrics.rows,
                ", ".join(part.metrics.mapped_classes),
                percent(part.metrics.model.accuracy, digits=2),
                number(part.metrics.model.f1_macro),
                *(
                    ["left out", "left out"]
                    if part.metrics.baseline is None
                    else [
                        percent(part.metrics.baseline.accuracy, digits=2),
                        number(part.metrics.baseline.f1_macro),
                    ]
                ),
            ]
            for name, part in evaluations.items()
        ],
    )
    return (
        f"### {TITLE}\n\n"
        "Labelled files from elsewhere, their classes mapped onto some of the four (`agnews "
        "cross-domain`).\nThe model still chooses among all four classes, so a prediction outside the "
        "mapped ones is wrong;\nmacro F1 is over the mapped classes. Beside it, TF-IDF + logistic "
        "regression refitted on this run's\n"
        "training rows. A file with one class measures that class's recall only.\n\n" + table
    )
