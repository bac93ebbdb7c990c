"""How the label-issue parts read: the flagged rows of each split (lowest label quality first) and
what they say, the Overview card, the report section and the model-card section. Plain functions of
the parts (no Gradio), shared by the tab, the report and the card."""

from __future__ import annotations

import pandas as pd

from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART
from agnews.formatting import count, number, percent
from agnews.present.cards import FINE, INFO, LOOK, Card, absent_card, apart
from agnews.present.figures import headline
from agnews.present.markup import literal
from agnews.present.notices import part_notice
from agnews.present.sections import markdown_section, section, table_html
from agnews.rundir.run import Run
from agnews.stats import wilson_interval

TITLE = "Label issues"
KEY = "label-issues"  # the tab's and the card's id
LISTED = 20  # flagged rows the report lists per split


def _named(rows: pd.DataFrame, classes: tuple[str, ...]) -> pd.DataFrame:
    """Class ids as the run's class names, sorted by label quality (lowest first)."""
    rows = rows.sort_values(["quality"], kind="stable")
    return rows.assign(
        given=[classes[i] for i in rows["label"]], suggested=[classes[i] for i in rows["suggested"]]
    )


def flagged_test_rows(run: Run) -> pd.DataFrame:
    """Flagged test rows with their text: row_id, text, given, suggested, quality."""
    issues = run.get(TEST_PART)
    if issues is None:
        raise ValueError(f"{run.path}: no {TEST_PART.name} part")
    rows = issues.assign(text=run.predictions["text"].to_numpy())  # row-aligned (checked on load)
    return _named(rows[rows["flagged"]], run.classes)[["row_id", "text", "given", "suggested", "quality"]]


def flagged_train_rows(run: Run) -> pd.DataFrame:
    """Flagged training rows: text_hash, text, given, suggested, quality (the export's columns)."""
    issues = run.get(TRAIN_PART)
    if issues is None:
        raise ValueError(f"{run.path}: no {TRAIN_PART.name} part")
    rows = issues.rows
    return _named(rows[rows["flagged"]], run.classes)[["text_hash", "text", "given", "suggested", "quality"]]


def summary_of_test_rows(run: Run, rows: pd.DataFrame) -> str:
    total = len(run.predictions)
    return (
        f"**{len(rows)} of {total} test rows** ({percent(len(rows) / total)}) are likely mislabelled: "
        "cleanlab on the fine-tuned model's test probabilities (it never trained on these rows). The "
        "suggested label is the model's prediction."
    )


def summary_of_training_rows(run: Run) -> str:
    issues = run.get(TRAIN_PART)
    if issues is None:
        return ""
    info = issues.info
    return (
        f"**{info.flagged} of {info.rows} training rows** ({percent(info.flagged / info.rows)}) are likely "
        f"mislabelled: {info.method}. Out-of-fold accuracy {percent(info.out_of_fold_accuracy)}; made in "
        f"{number(info.seconds.get('total', 0), digits=0)} s. The export is the file `agnews train "
        "--drop-label-issues FILE` takes."
    )


def card(run: Run, coming: bool) -> Card:
    """The Overview card: the flagged share of the training rows against the test rows'.

    A clean dataset still has flagged rows (ambiguous texts, the model's own mistakes), and how many
    depends on the data and the model, so no fixed share fits every run. The test labels come from
    the same source as the training labels and are never edited here: the card looks when the
    training rows are flagged more often than the test rows, 95% intervals apart, which is what
    noise added to (or left in) the training labels does.
    """
    test, train = run.get(TEST_PART), run.get(TRAIN_PART)
    if test is None and train is None:
        return absent_card(run, KEY, TITLE, TEST_PART.name, "label issues", KEY, coming)
    found = []
    if test is not None:
        flagged = int(test["flagged"].sum())
        found.append(
            f"**{count(flagged)}** of {count(len(test))} test rows ({percent(flagged / max(1, len(test)))})"
        )
    if train is not None:
        info = train.info
        found.append(
            f"{count(info.flagged)} of {count(info.rows)} training rows ({percent(info.flagged / info.rows)})"
        )
    rule = "look when the training rows are flagged more often than the test rows, 95% intervals apart"
    verdict = INFO
    if test is not None and train is not None and len(test) and train.info.rows:
        above = apart(
            *wilson_interval(train.info.flagged, train.info.rows), *wilson_interval(flagged, len(test))
        )
        verdict = LOOK if above > 0 else FINE
    return Card(
        KEY, TITLE, "Likely mislabelled: " + "; ".join(found) + ".", verdict, rule, KEY, "Open label issues"
    )


def _listed(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """The first `LISTED` flagged rows (lowest label quality first) as a table."""
    top = rows.head(LISTED)
    return top.assign(text=top["text"].map(headline), quality=top["quality"].map(number))[
        [key, "text", "given", "suggested", "quality"]
    ]


def report_section(run: Run) -> str:
    """The HTML report's section: each split's summary and its least plausible flagged rows."""
    body = []
    if run.get(TEST_PART) is None:
        body.append(markdown_section(part_notice(run, TEST_PART.name, "label issues of the test rows")))
    else:
        rows = flagged_test_rows(run)
        body += [markdown_section(summary_of_test_rows(run, rows)), table_html(_listed(rows, "row_id"))]
    if run.get(TRAIN_PART) is None:
        body.append(markdown_section(part_notice(run, TRAIN_PART.name, "label issues of the training rows")))
    else:
        body += [
            markdown_section(summary_of_training_rows(run)),
            table_html(_listed(flagged_train_rows(run), "text_hash")),
        ]
    return section(TITLE, *body)


def model_card_section(run: Run) -> str | None:
    """The model card's section: flagged rows per split, and the rows a `--drop-label-issues` run
    left out (None when there is nothing to say)."""
    test, train = run.get(TEST_PART), run.get(TRAIN_PART)
    dropped = run.data_stats.label_issue_rows_dropped
    if test is None and train is None and not dropped:
        return None
    lines = [
        f"## {TITLE}",
        "",
        f"Labelled datasets such as {literal(run.config.data.description().name)} have wrong labels;",
        "agnews looks for them with [cleanlab](https://github.com/cleanlab/cleanlab)'s confident learning.",
        "",
    ]
    if test is not None:
        lines += [
            f"- Test split: {count(int(test['flagged'].sum()))} of {count(len(test))} rows are",
            "  likely mislabelled, judged from this model's own test probabilities (it never trained on "
            "them). The",
            "  test accuracy above counts them against the model, as given.",
        ]
    if train is not None:
        info = train.info
        lines += [
            f"- Training split: {count(info.flagged)} of {count(info.rows)} rows are likely",
            f"  mislabelled, judged from out-of-fold probabilities ({info.method}; out-of-fold",
            f"  accuracy {number(info.out_of_fold_accuracy)}).",
        ]
    if dropped:
        lines += [
            f"- This model was trained without {count(dropped)} training rows flagged as likely mislabelled",
            "  (`agnews train --drop-label-issues`); the validation rows were kept as they were.",
        ]
    return "\n".join(lines)
