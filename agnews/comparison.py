"""Compare runs on the same test rows: is B better than A, on which rows, and is it more than noise?

A comparison belongs to neither run, so it is not a part: `agnews compare --out DIR` writes it beside
them, and the app computes it on the fly from the two runs' stored predictions (no model is loaded).

Two runs: the per-row outcomes are paired (the same test rows), so the test is McNemar's exact test
on the rows where exactly one run is right (a binomial test of "fixed by B" against "broken by B",
scipy's `binomtest`), and the interval for the accuracy difference is a paired bootstrap over rows
(drawn as multinomial counts, `bootstrap_interval`). Both only speak to *these* test rows: a second
draw of training (another seed) moves accuracy too, which is why groups of runs exist.

Groups of runs (`A1 A2 A3 -- B1 B2 B3`, e.g. seeds of two recipes): each group's mean accuracy with
its spread over runs, and Welch's t-test on the two sets of accuracies. With three runs a side the
test has little power; the spread is the part to read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from agnews.csv_cells import neutralise_frame
from agnews.formatting import number, percent, points, significant
from agnews.rundir.files import RunError, check_writable, write_atomically, write_json
from agnews.rundir.parts import Interval
from agnews.rundir.run import Run

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
COMPARISON_FILE = "comparison.json"
DISAGREEMENTS_FILE = "disagreements.csv"
# What happened to a test row between A and B (rows where both are right are not listed).
FIXED, BROKEN, BOTH_WRONG_DIFFERENT = "fixed by B", "broken by B", "both wrong, differently"
CHANGES = (FIXED, BROKEN, BOTH_WRONG_DIFFERENT)


@dataclass
class RunScores:
    """One compared run: where it is, what it was trained from, and its test scores."""

    name: str
    path: str
    base_model: str
    seed: int
    accuracy: float
    f1_macro: float
    per_class_f1: dict[str, float]


@dataclass
class PairedTest:
    """The paired comparison of B with A on the same test rows.

    `a`, `b`: the runs' names. `fixed`: rows A gets wrong and B right; `broken`: the reverse.
    McNemar's exact p-value is the two-sided binomial test of `fixed` out of `fixed + broken` at one
    half. `difference` is B's accuracy minus A's, with its paired bootstrap interval. Both measure
    the uncertainty from which test rows were drawn, not from how training happened to go.
    """

    a: str
    b: str
    rows: int
    both_right: int
    both_wrong: int
    fixed: int
    broken: int
    mcnemar_p: float
    difference: Interval
    bootstrap_resamples: int
    bootstrap_seed: int


@dataclass
class Comparison:
    """`comparison.json` of `agnews compare A B --out DIR`: B against A, row-paired.

    `same_rows` says which splits the runs share (by content hash): the test split always (checked),
    training and validation when the runs differ only in the training draw, e.g. the seed.
    `confusion_change` is B's confusion matrix minus A's (rows: true class).
    """

    a: RunScores
    b: RunScores
    test_hash: str
    same_rows: dict[str, bool]
    paired: PairedTest
    f1_change: dict[str, float]
    confusion_change: list[list[int]]
    labels: list[str]
    schema_version: int = 1


@dataclass
class GroupScores:
    """A group of runs (e.g. one recipe over seeds): their accuracies, mean and spread."""

    runs: list[RunScores]
    mean_accuracy: float
    std_accuracy: float | None  # sample standard deviation; None for a group of one
    min_accuracy: float
    max_accuracy: float
    mean_f1_macro: float


@dataclass
class GroupComparison:
    """`comparison.json` of `agnews compare A1 A2 -- B1 B2 --out DIR`: group B against group A.

    `welch_p`: Welch's t-test on the two groups' accuracies (None unless each group has two runs or
    more and the accuracies vary within a group: with no spread the test is undefined);
    `difference_low`/`difference_high`: its 95% interval of the mean difference (None likewise). `pairs`: the
    row-paired test of each B run against the A run at the same position (none when the groups
    differ in size: which runs belong together is then unknown).
    """

    a: GroupScores
    b: GroupScores
    test_hash: str
    mean_difference: float
    welch_p: float | None
    pairs: list[PairedTest]
    difference_low: float | None = None
    difference_high: float | None = None
    schema_version: int = 1


def check_same_test_rows(runs: Sequence[Run]) -> str:
    """The test hash the runs share; RunError naming the odd one out otherwise.

    The predictions' row ids must agree too: a comparison pairs rows by position; and so must the
    classes (names and order): a class id, a per-class score and a confusion cell mean one thing.
    """
    first = runs[0]
    for other in runs[1:]:
        if other.classes != first.classes:
            raise RunError(
                f"{first.path} and {other.path} have different classes ({len(first.classes)} and "
                f"{len(other.classes)}, or another order): only runs of the same classes compare"
            )
        if other.metrics.test_hash != first.metrics.test_hash:
            raise RunError(
                f"{first.path} and {other.path} were evaluated on different test rows "
                f"(test data hash {first.metrics.test_hash[:12]} from {first.metrics.test_origin}, "
                f"{other.metrics.test_hash[:12]} from {other.metrics.test_origin}); re-predict one "
                f"on the other's data with `agnews evaluate RUN --data DIR` to compare them"
            )
        if not np.array_equal(other.predictions["row_id"].to_numpy(), first.predictions["row_id"].to_numpy()):
            raise RunError(
                f"{first.path} and {other.path}: the same test data but the predictions list the rows "
                "in another order; run `agnews evaluate` on both"
            )
    return first.metrics.test_hash


def run_scores(run: Run) -> RunScores:
    test = run.metrics.test
    return RunScores(
        name=run.name,
        path=str(run.path),
        base_model=run.config.train.base_model,
        seed=run.config.train.seed,
        accuracy=test.accuracy,
        f1_macro=test.f1_macro,
        per_class_f1={name: scores.f1 for name, scores in test.per_class.items()},
    )


def correct(run: Run) -> np.ndarray:
    """Per test row: whether the run's prediction is right."""
    return run.predictions["pred"].to_numpy() == run.predictions["label"].to_numpy()


def bootstrap_interval(
    fixed: int, broken: int, rows: int, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float]:
    """Percentile 95% interval of B's accuracy minus A's over bootstrap resamples of the paired rows.

    Parameters
    ----------
    fixed : int
        Rows B gets right and A wrong.
    broken : int
        Rows A gets right and B wrong.
    rows : int
        All paired rows (the test rows both runs scored), at least 1.
    resamples, seed : int
        Bootstrap resamples and the seed of their generator.

    Returns
    -------
    tuple of float
        (low, high) of the accuracy difference, as fractions (0.01 is one point).

    Notes
    -----

    A row adds +1/n to the difference when B fixed it, -1/n when B broke it, nothing otherwise, so a
    resample of n rows drawn with replacement is fully described by how many fixed and broken rows it
    drew: multinomial counts. Drawing those counts is the same resampling distribution as drawing
    row indices (as `scipy.stats.bootstrap(..., paired=True)` does; tests/test_compare.py checks the
    two agree) at a cost independent of the row count, where scipy holds a resamples x rows matrix,
    too much memory for an app that compares on a click.
    """
    if rows == 0:
        raise ValueError("no rows to resample")
    rng = np.random.default_rng(seed)
    shares = [fixed / rows, broken / rows, 1 - (fixed + broken) / rows]
    counts = rng.multinomial(rows, shares, size=resamples)
    differences = (counts[:, 0] - counts[:, 1]) / rows
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return float(low), float(high)


def paired_test(
    a: Run, b: Run, *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> PairedTest:
    """McNemar's exact test and a paired bootstrap interval for B's accuracy minus A's."""
    from scipy.stats import binomtest

    right_a, right_b = correct(a), correct(b)
    fixed = int(np.sum(~right_a & right_b))
    broken = int(np.sum(right_a & ~right_b))
    discordant = fixed + broken
    p_value = binomtest(fixed, discordant, 0.5).pvalue if discordant else 1.0
    difference = float(right_b.mean() - right_a.mean())
    low, high = bootstrap_interval(fixed, broken, len(right_a), resamples=resamples, seed=seed)
    return PairedTest(
        a=a.name,
        b=b.name,
        rows=len(right_a),
        both_right=int(np.sum(right_a & right_b)),
        both_wrong=int(np.sum(~right_a & ~right_b)),
        fixed=fixed,
        broken=broken,
        mcnemar_p=float(p_value),
        difference=Interval(difference, low, high),
        bootstrap_resamples=resamples,
        bootstrap_seed=seed,
    )


def compare_runs(a: Run, b: Run) -> Comparison:
    """B against A on their shared test rows (RunError if they do not share them)."""
    test_hash = check_same_test_rows([a, b])
    scores_a, scores_b = run_scores(a), run_scores(b)
    hashes_a, hashes_b = a.config.data.split_hashes, b.config.data.split_hashes
    return Comparison(
        a=scores_a,
        b=scores_b,
        test_hash=test_hash,
        same_rows={  # a split counts as shared only when both runs recorded its hash
            split: hashes_a.get(split) is not None and hashes_a.get(split) == hashes_b.get(split)
            for split in ("train", "validation", "test")
        },
        paired=paired_test(a, b),
        f1_change={name: scores_b.per_class_f1[name] - f1 for name, f1 in scores_a.per_class_f1.items()},
        confusion_change=(
            np.asarray(b.metrics.test.confusion_matrix) - np.asarray(a.metrics.test.confusion_matrix)
        ).tolist(),
        labels=list(a.classes),
    )


def disagreements(a: Run, b: Run) -> pd.DataFrame:
    """The test rows where A and B predict differently, each with what changed (`CHANGES`), fixed
    and broken first. Columns: row_id, text, label_name, change, pred_a, confidence_a, pred_b,
    confidence_b."""
    check_same_test_rows([a, b])
    pa, pb = a.predictions.reset_index(drop=True), b.predictions.reset_index(drop=True)
    differ = (pa["pred"] != pb["pred"]).to_numpy()
    right_a = (pa["pred"] == pa["label"]).to_numpy()
    right_b = (pb["pred"] == pb["label"]).to_numpy()
    change = np.select([~right_a & right_b, right_a & ~right_b], [FIXED, BROKEN], BOTH_WRONG_DIFFERENT)
    rows = pd.DataFrame(
        {
            "row_id": pa["row_id"],
            "text": pa["text"],
            "label_name": pa["label_name"],
            "change": change,
            "pred_a": pa["pred_name"],
            "confidence_a": pa["confidence"].astype(float),
            "pred_b": pb["pred_name"],
            "confidence_b": pb["confidence"].astype(float),
        }
    )[differ]
    order = rows["change"].map({name: i for i, name in enumerate(CHANGES)})
    return (
        rows.assign(_order=order)
        .sort_values(["_order", "row_id"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def group_scores(runs: Sequence[Run]) -> GroupScores:
    scores = [run_scores(run) for run in runs]
    accuracies = np.array([s.accuracy for s in scores])
    return GroupScores(
        runs=scores,
        mean_accuracy=float(accuracies.mean()),
        std_accuracy=float(accuracies.std(ddof=1)) if len(scores) > 1 else None,
        min_accuracy=float(accuracies.min()),
        max_accuracy=float(accuracies.max()),
        mean_f1_macro=float(np.mean([s.f1_macro for s in scores])),
    )


def compare_groups(group_a: Sequence[Run], group_b: Sequence[Run]) -> GroupComparison:
    """Group B against group A: mean accuracies with spread, Welch's t-test, and each B run paired
    with the A run at the same position (give the groups in matching order, e.g. by seed)."""
    if not group_a or not group_b:
        raise RunError("each group needs at least one run")
    test_hash = check_same_test_rows([*group_a, *group_b])
    scores_a, scores_b = group_scores(group_a), group_scores(group_b)
    welch_p = low = high = None
    # Undefined without spread within the groups (scipy would warn and answer NaN or 0).
    if len(group_a) > 1 and len(group_b) > 1 and (scores_a.std_accuracy or scores_b.std_accuracy):
        from scipy.stats import ttest_ind

        welch = ttest_ind(
            [s.accuracy for s in scores_b.runs], [s.accuracy for s in scores_a.runs], equal_var=False
        )
        welch_p = float(welch.pvalue)
        low, high = (float(bound) for bound in welch.confidence_interval(0.95))
    return GroupComparison(
        a=scores_a,
        b=scores_b,
        test_hash=test_hash,
        mean_difference=scores_b.mean_accuracy - scores_a.mean_accuracy,
        welch_p=welch_p,
        pairs=[paired_test(a, b) for a, b in zip(group_a, group_b, strict=True)]
        if len(group_a) == len(group_b)
        else [],
        difference_low=low,
        difference_high=high,
    )


def describe_pair(comparison: Comparison) -> list[str]:
    """The comparison in a few plain sentences (the command's output, the app's summary)."""
    a, b, paired = comparison.a, comparison.b, comparison.paired
    shared = [split for split, same in comparison.same_rows.items() if same]
    verdict = (
        "unlikely to come from which test rows were drawn"
        if paired.mcnemar_p < 1 - CONFIDENCE
        else "could well come from which test rows were drawn"
    )
    return [
        f"A {a.name}: accuracy {percent(a.accuracy, 2)}, macro F1 {number(a.f1_macro)} "
        f"(seed {a.seed}, {a.base_model})",
        f"B {b.name}: accuracy {percent(b.accuracy, 2)}, macro F1 {number(b.f1_macro)} "
        f"(seed {b.seed}, {b.base_model})",
        f"B - A: {points(paired.difference.value)}, paired bootstrap 95% interval "
        f"{points(paired.difference.low)} to {points(paired.difference.high)} over {paired.rows} test rows",
        f"fixed by B {paired.fixed}, broken by B {paired.broken}; "
        f"McNemar exact p = {significant(paired.mcnemar_p)} ({verdict})",
        f"shared rows: {', '.join(shared)}",
        "(neither test covers training noise: another seed of the same recipe moves accuracy too; "
        "compare groups of seeds, A1 A2 A3 -- B1 B2 B3, for a verdict on a recipe)",
    ]


def describe_groups(comparison: GroupComparison) -> list[str]:
    """The group comparison in a few plain sentences."""

    def group(label: str, scores: GroupScores) -> str:
        spread = f" ± {number(100 * scores.std_accuracy, 2)} (sd)" if scores.std_accuracy is not None else ""
        runs = ", ".join(f"{s.name} {percent(s.accuracy, 2)}" for s in scores.runs)
        return (
            f"{label}: mean accuracy {percent(scores.mean_accuracy, 2)}{spread}, "
            f"range {percent(scores.min_accuracy, 2)} to {percent(scores.max_accuracy, 2)} "
            f"over {len(scores.runs)} run(s): {runs}"
        )

    lines = [
        group("A", comparison.a),
        group("B", comparison.b),
        f"mean B - A: {points(comparison.mean_difference)}",
    ]
    if comparison.welch_p is not None:
        lines.append(
            f"Welch's t-test on the runs' accuracies: p = {significant(comparison.welch_p)}; "
            f"95% interval of the mean difference {points(comparison.difference_low)} "
            f"to {points(comparison.difference_high)}"
        )
    elif len(comparison.a.runs) > 1 and len(comparison.b.runs) > 1:
        lines.append("Welch's t-test: undefined (the runs' accuracies do not vary within the groups)")
    if not comparison.pairs:
        lines.append("no pairs: the groups differ in size, so which runs belong together is unknown")
    for pair in comparison.pairs:
        lines.append(
            f"  {pair.b} - {pair.a}: {points(pair.difference.value)} (95% {points(pair.difference.low)} to "
            f"{points(pair.difference.high)}), fixed {pair.fixed}, broken {pair.broken}, "
            f"McNemar p = {significant(pair.mcnemar_p)}"
        )
    return lines


def write_comparison(
    out: Path, comparison: Comparison | GroupComparison, rows: pd.DataFrame | None = None
) -> list[Path]:
    """Write `comparison.json` (and, for two runs, `disagreements.csv`, its formula-like text cells
    neutralised by `agnews.csv_cells`) into `out`, each atomically."""
    check_writable(out)
    written = [out / COMPARISON_FILE]
    write_json(written[0], dataclasses.asdict(comparison))
    if rows is not None:
        written.append(out / DISAGREEMENTS_FILE)
        safe = neutralise_frame(rows)
        write_atomically(written[1], lambda tmp: safe.to_csv(tmp, index=False))
    return written
