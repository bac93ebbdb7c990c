"""How the dataset checks read: the warnings with every check's numbers, the closest test/training
pairs, the rows and lengths per split (from the core's `data_stats`), the Overview card and the
report section. Plain functions (no Gradio), shared by the tab and the report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from agnews.analyses.dataset_checks.schema import PART, DatasetWarnings, UnknownTokens
from agnews.formatting import count, number, percent, ratio, setting, significant
from agnews.present.cards import FINE, INFO, LOOK, Card, absent_card
from agnews.present.figures import SPLIT_ORDER, headline
from agnews.present.markup import literal
from agnews.present.notices import part_notice
from agnews.present.sections import markdown_section, section
from agnews.rundir.declarations import hyphenated
from agnews.rundir.run import Run
from agnews.stats import wilson_interval

TITLE = "Dataset warnings"
KEY = hyphenated(PART.name)  # the tab's and the card's id
SIGNIFICANCE = 0.05  # the Overview's card looks at a length shift only below this p-value
WHAT = "dataset warnings (class imbalance, train/test length mismatch, near-duplicates, unknown tokens)"


def warnings_markdown(checks: DatasetWarnings) -> str:
    """The warnings raised, then every check's numbers (a check that does not warn says why not)."""
    limits = checks.thresholds
    lines = [f"### {TITLE}"]
    lines += [f"- ⚠ {literal(message)}" for message in checks.messages] or ["- No warnings."]
    ratios = ", ".join(
        f"{b.split} {ratio(b.ratio)}" if b.ratio is not None else f"{b.split}: a class has no rows"
        for b in checks.class_balance
    )
    length, overlap = checks.length, checks.overlap
    lines += [
        "",
        f"- **Class balance** (largest/smallest class; warns above {setting(limits['imbalance_ratio'])}x): "
        f"{ratios}.",
        f"- **Length** (words per text, train vs test; warns at KS D ≥ {setting(limits['length_ks_d'])}): "
        f"median {setting(length.train_median_words)} vs {setting(length.test_median_words)}, mean "
        f"{number(length.train_mean_words, 1)} vs {number(length.test_mean_words, 1)}; two-sample KS "
        f"D = {number(length.ks_statistic, 3)}, p = {significant(length.p_value, 2)}.",
        f"- **Near-duplicates** (a training row at TF-IDF cosine ≥ {setting(overlap.cosine)}; warns from "
        f"{percent(limits['overlap_share'], 0)} of test rows): "
        f"{overlap.test_rows} test rows ({percent(overlap.share)}), "
        f"{overlap.different_label} of them with another label than their training twin; "
        f"{overlap.exact_dropped} exact copies were dropped from training before it.",
    ]
    if checks.unknown_tokens is not None:
        lines.append(unknown_tokens_line(checks.unknown_tokens, limits["unknown_token_share"]))
    return "\n".join(lines)


def unknown_tokens_line(unknown: UnknownTokens, limit: float) -> str:
    """The unknown-token check's numbers, or that the tokenizer has no unknown token to count."""
    said = f"- **Unknown tokens** (the run's tokenizer; warns from {percent(limit, 0)} of test tokens): "
    if unknown.share is None:
        return (
            said + f"none to count: the tokenizer has no unknown token ({count(unknown.tokens)} test tokens)."
        )
    return said + (
        f"{percent(unknown.share)} of {count(unknown.tokens)} test tokens are {literal(str(unknown.token))}."
    )


def near_duplicate_examples(checks: DatasetWarnings) -> pd.DataFrame:
    """The closest test/training pairs, as a table (text cells are safe where Markdown is not)."""
    return pd.DataFrame(
        [
            {
                "cosine": pair.similarity,
                "test row": pair.row_id,
                "test text": headline(pair.text),
                "test label": pair.label,
                "training text": headline(pair.train_text),
                "training label": pair.train_label,
            }
            for pair in checks.overlap.examples
        ],
        columns=["cosine", "test row", "test text", "test label", "training text", "training label"],
    )


def length_table(data_stats: dict[str, Any]) -> pd.DataFrame:
    """Rows and text lengths (words, characters and the run's tokens: mean, median, 95th percentile,
    max; and the share of texts longer than the run's max length, which are cut there) per split."""
    rows = []
    for split in (s for s in SPLIT_ORDER if s in data_stats):
        stats = data_stats[split]
        row: dict[str, Any] = {"split": split, "rows": stats.get("rows")}
        for unit in ("words", "chars", "tokens"):  # tokens: in runs that recorded them
            for key, value in stats.get(unit, {}).items():
                row[f"{unit} {key}"] = percent(value) if key == "truncated" else round(value, 1)
        rows.append(row)
    return pd.DataFrame(rows)


def card(run: Run, coming: bool) -> Card:
    """The Overview card: the warnings raised; "look here" for those that can change a conclusion.

    The checks warn at fixed limits (the Data tab lists them), which news text often crosses without
    harm: AG News repeats stories, so some test rows always have a near-copy in training. The card
    looks at a length shift only when it is significant (p < 0.05), and at near-duplicates only when
    leaving them out could move the test accuracy outside its 95% interval even if the model got
    every one of them right; class imbalance and unknown tokens look as they warn.
    """
    checks = run.get(PART)
    if checks is None:
        return absent_card(run, KEY, TITLE, PART.name, "dataset warnings", KEY, coming)
    messages = checks.messages
    return Card(
        KEY,
        TITLE,
        " ".join(f"⚠ {literal(m)}" for m in messages) if messages else "No check warns.",
        LOOK if _changes_a_conclusion(run, checks) else (INFO if messages else FINE),
        "class imbalance or unknown tokens past their limits, a significant length shift (p < 0.05), or "
        "near-duplicates that could move the test accuracy outside its 95% interval",
        KEY,
        "Open data",
    )


def _changes_a_conclusion(run: Run, checks: DatasetWarnings) -> bool:
    """Whether a warning raised can change what the run's numbers say (see `card`)."""
    length, overlap = checks.length, checks.overlap
    test = run.metrics.test
    right = round(test.accuracy * test.rows)
    low, high = wilson_interval(right, test.rows)
    without = (right - overlap.test_rows) / max(1, test.rows - overlap.test_rows)
    return (
        any(b.warn for b in checks.class_balance)
        or (length.warn and length.p_value < SIGNIFICANCE)
        or (overlap.warn and not low <= without <= high)
        or (checks.unknown_tokens is not None and checks.unknown_tokens.warn)
    )


def report_section(run: Run) -> str:
    """The HTML report's section: the warnings and every check's numbers."""
    checks = run.get(PART)
    if checks is None:
        return section(TITLE, markdown_section(part_notice(run, PART.name, "dataset warnings")))
    return section(TITLE, markdown_section(warnings_markdown(checks)))
