"""How the robustness part reads: its table, its Overview card, its report section, its model-card
section and the texts of its tab. Plain functions of the part (no Gradio), so the page, the report,
the card and `agnews robustness` write each number the same way."""

from __future__ import annotations

import difflib
import html

import pandas as pd

from agnews.analyses.robustness.schema import PART, TEST_APPLIES, FlipResult, Robustness
from agnews.formatting import count, interval, number, percent, points, points_value, span
from agnews.present.cards import FINE, INFO, LOOK, Card, absent_card
from agnews.present.glossary import perturbation_title
from agnews.present.markup import literal
from agnews.present.notices import part_notice
from agnews.present.sections import markdown_section, markdown_table, section, table_html
from agnews.rundir.declarations import Applies
from agnews.rundir.run import Run

TITLE = "Robustness"
# The Overview looks when a test flips, with 95% confidence, more than this share of its rows: one text
# in twenty changing topic under a change that should not matter. Judged on the interval's low end, as
# a test applies to a few hundred rows or fewer, where a handful of flips is a wide interval.
FLIP_LIMIT = 0.05
EXAMPLE_COLUMNS = ["row_id", "true", "before", "after", "original", "perturbed"]


def flip_rate_frame(report: Robustness) -> pd.DataFrame:
    """One line per test that ran: rows applied, flipped, flip rate, its interval, confidence change;
    for a run trained with `--augment`, whether training taught the test's invariance or held it out."""
    trained = (
        {}
        if report.trained_for is None
        else {
            "training": ["trained for" if t.name in report.trained_for else "held out" for t in report.tests]
        }
    )
    return pd.DataFrame(
        {
            "test": [perturbation_title(t.name) for t in report.tests],
            **trained,
            "rows": [t.rows for t in report.tests],
            "flipped": [t.flipped for t in report.tests],
            "flip rate": [percent(t.flip_rate) for t in report.tests],
            "95% interval": [span(t.low, t.high) for t in report.tests],
            "confidence change": [points(t.mean_confidence_change) for t in report.tests],
        }
    )


def markdown_flip_table(report: Robustness) -> str:
    """The tests as a Markdown table: rows applied, flipped, flip rate with its 95% Wilson interval,
    mean confidence change in percentage points (the model card's, and what `agnews robustness` prints)."""
    return markdown_table(
        ["test", "rows", "flipped", "flip rate (95% interval)", "mean confidence change (pts)"],
        [
            [t.name, t.rows, "n/a", "n/a", "n/a"]
            if t.flip_rate is None
            else [
                t.name,
                t.rows,
                t.flipped,
                interval(t.flip_rate, t.low, t.high),
                points_value(t.mean_confidence_change),
            ]
            for t in report.tests
        ],
    )


def card(run: Run, coming: bool) -> Card:
    """The Overview card: the test that flips the most rows, judged against `FLIP_LIMIT`."""
    report = run.get(PART)
    key = PART.name
    if report is None:
        return absent_card(run, key, TITLE, key, "robustness table", key, coming)
    worst = report.most_flipping()
    rule = (
        f"look when a test flips more than {percent(FLIP_LIMIT, digits=0)} of its rows, 95% interval and all"
    )
    if worst is None:
        left_out = (
            f"No test applied to this run: {count(len(report.not_run))} left out, each with its reason."
        )
        return Card(key, TITLE, left_out, INFO, rule, key, "Open robustness")
    applied = sum(t.flip_rate is not None for t in report.tests)
    headline = (
        f"**{perturbation_title(worst.name)}** flips {interval(worst.flip_rate, worst.low, worst.high)} "
        f"of {count(worst.rows)} rows, the most of {applied} tests on {count(report.rows)} test rows."
    )
    verdict = LOOK if (worst.low or 0.0) > FLIP_LIMIT else FINE
    return Card(
        key,
        TITLE,
        headline,
        verdict,
        rule,
        key,
        f"Show the rows {perturbation_title(worst.name).lower()} flips",
    )


def report_section(run: Run) -> str:
    """The HTML report's section: the flip-rate table, or why the run has none."""
    report = run.get(PART)
    if report is None:
        return section(TITLE, markdown_section(part_notice(run, PART.name, "robustness table")))
    left_out = [
        f"- Not run: **{perturbation_title(name)}**: {literal(why)}" for name, why in report.not_run.items()
    ]
    return section(TITLE, table_html(flip_rate_frame(report)), markdown_section("\n".join(left_out)))


def model_card_section(run: Run) -> str | None:
    """The model card's section under the results (None without the part)."""
    report = run.get(PART)
    if report is None:
        return None
    lines = [
        f"### {TITLE}",
        "",
        "Behavioural stress tests (CheckList-style invariance): each test changes a text without changing "
        "its topic, and counts the rows whose predicted class flips. "
        f"Run on {report.selection}, with {report.backend}; the originals were predicted again the same way. "
        "Confidence change: the mean change of the probability of the class predicted for the original text, "
        "in percentage points.",
        "",
        markdown_flip_table(report),
        "",
        *(f"- `{t.name}`: {t.description}{_limits(t.name)}" for t in report.tests),
        *(f"- `{name}`: not run; {literal(why)}" for name, why in report.not_run.items()),
    ]
    return "\n".join(lines)


def explanation(report: Robustness) -> str:
    """Which rows were tested with which model, how to read the table, and the tests not run (why)."""
    grouped: dict[str, list[str]] = {}
    for name, why in report.not_run.items():
        grouped.setdefault(literal(why), []).append(f"**{perturbation_title(name)}**")
    lines = [f"- Not run: {', '.join(names)}: {why}" for why, names in grouped.items()]
    return (
        f"**Rows:** {report.selection}. **Model:** {report.backend}, on the original and the perturbed "
        f"texts alike (made in {number(report.seconds, digits=0)} s). A row *flips* when its predicted "
        "class changes; "
        "the confidence change is the mean change of the probability of the class predicted for the "
        "original text, in percentage points. Every test keeps the topic, so a robust model flips "
        "none.\n\n" + "\n".join(lines)
    )


def _limits(name: str) -> str:
    """Where the test `name` applies, in words after its description ("" where anywhere)."""
    limits = TEST_APPLIES.get(name, Applies()).limits()
    return f" ({'; '.join(limits)})" if limits else ""


def descriptions(report: Robustness) -> str:
    """What each test that ran does to a text, and where it applies when not everywhere."""
    return "\n".join(
        f"- **{perturbation_title(t.name)}**: {t.description}{_limits(t.name)}" for t in report.tests
    )


def marked_diff(original: str, perturbed: str) -> tuple[str, str]:
    """Both texts as escaped HTML, with the words that differ between them in `<mark>`."""
    before, after = original.split(), perturbed.split()
    marked: tuple[list[str], list[str]] = ([], [])
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for side, words in ((0, before[i1:i2]), (1, after[j1:j2])):
            escaped = [html.escape(word) for word in words]
            if op != "equal" and escaped:
                escaped = ["<mark>" + " ".join(escaped) + "</mark>"]
            marked[side].extend(escaped)
    return " ".join(marked[0]), " ".join(marked[1])


def flipped_examples(test: FlipResult) -> pd.DataFrame:
    """The test's flipped rows (as stored: largest drop first) with both texts, the changes marked."""
    rows = []
    for example in test.examples:
        original, perturbed = marked_diff(example.text, example.perturbed)
        rows.append(
            [
                example.row_id,
                example.label,
                f"{example.pred_before} {percent(example.confidence_before, digits=0)}",
                f"{example.pred_after} {percent(example.confidence_after, digits=0)}",
                original,
                perturbed,
            ]
        )
    return pd.DataFrame(rows, columns=EXAMPLE_COLUMNS)


def examples_note(test: FlipResult) -> str:
    if test.rows == 0:
        return f"**{perturbation_title(test.name)}** applied to none of the rows."
    shown = len(test.examples)
    more = f"; the {shown} with the largest confidence drop are listed" if shown < test.flipped else ""
    return (
        f"**{perturbation_title(test.name)}** flipped {test.flipped} of {test.rows} rows{more}. Before "
        "and after: the class predicted for the original and for the perturbed text, with its probability."
    )
