"""Comparing runs: the paired test, the disagreement rows, groups, the command and the Compare tab.

Two real runs trained on the same rows with different seeds (`quick_run`, `quick_run_seed_1`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agnews.cli import main
from agnews.comparison import (
    BROKEN,
    FIXED,
    compare_groups,
    compare_runs,
    disagreements,
)
from agnews.present.figures import confusion_change_figure
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.ui.compare import per_class_table, run_choices


def exact_mcnemar(fixed: int, broken: int) -> float:
    """Two-sided exact McNemar from its definition (doubled binomial tail at one half)."""
    n, k = fixed + broken, min(fixed, broken)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@pytest.fixture(scope="module")
def pair(quick_run: Path, quick_run_seed_1: Path) -> tuple[Run, Run]:
    return Run.load(quick_run), Run.load(quick_run_seed_1)


def test_paired_counts_and_tests_follow_the_predictions(pair: tuple[Run, Run]) -> None:
    a, b = pair
    comparison = compare_runs(a, b)
    right_a = a.predictions["pred"] == a.predictions["label"]
    right_b = b.predictions["pred"] == b.predictions["label"]
    paired = comparison.paired
    assert paired.fixed == int((~right_a & right_b).sum())
    assert paired.broken == int((right_a & ~right_b).sum())
    assert paired.fixed + paired.broken > 0  # the seeds disagree somewhere, or nothing below is tested
    assert paired.both_right + paired.both_wrong + paired.fixed + paired.broken == len(a.predictions)
    assert paired.mcnemar_p == pytest.approx(exact_mcnemar(paired.fixed, paired.broken))
    assert paired.difference.value == pytest.approx(b.metrics.test.accuracy - a.metrics.test.accuracy)
    assert paired.difference.low < paired.difference.value < paired.difference.high
    assert comparison.same_rows == {"train": True, "validation": True, "test": True}
    change = np.asarray(b.metrics.test.confusion_matrix) - np.asarray(a.metrics.test.confusion_matrix)
    assert comparison.confusion_change == change.tolist()


def test_a_run_against_itself_is_no_difference(pair: tuple[Run, Run]) -> None:
    a, _ = pair
    paired = compare_runs(a, a).paired
    assert (paired.fixed, paired.broken, paired.mcnemar_p) == (0, 0, 1.0)
    assert (paired.difference.low, paired.difference.high) == (0.0, 0.0)
    assert disagreements(a, a).empty


def test_disagreements_list_fixed_then_broken_rows(pair: tuple[Run, Run]) -> None:
    a, b = pair
    rows = disagreements(a, b)
    paired = compare_runs(a, b).paired
    assert (rows["change"] == FIXED).sum() == paired.fixed
    assert (rows["change"] == BROKEN).sum() == paired.broken
    assert len(rows) == int((a.predictions["pred"] != b.predictions["pred"]).sum())
    order = rows["change"].map({FIXED: 0, BROKEN: 1}).fillna(2).to_numpy()
    assert (np.diff(order) >= 0).all()
    fixed = rows[rows["change"] == FIXED]
    assert (fixed["pred_b"] == fixed["label_name"]).all() and (fixed["pred_a"] != fixed["label_name"]).all()


def test_runs_on_other_test_rows_are_refused(pair: tuple[Run, Run], quick_run_copy: Path) -> None:
    from agnews.training.stages import evaluate_run

    other = quick_run_copy
    evaluate_run(other, max_test_samples=40, progress=False)
    with pytest.raises(RunError, match=r"different test rows.*agnews evaluate"):
        compare_runs(pair[0], Run.load(other))


def test_groups_average_over_runs(pair: tuple[Run, Run]) -> None:
    a, b = pair
    groups = compare_groups([a, b], [b, a])
    assert groups.a.mean_accuracy == pytest.approx((a.metrics.test.accuracy + b.metrics.test.accuracy) / 2)
    assert groups.mean_difference == pytest.approx(0.0)
    assert groups.welch_p == pytest.approx(1.0)
    # Welch's interval by hand: two runs a group, equal spread: df = 2, standard error = sd
    from scipy.stats import t

    half = t.ppf(0.975, 2) * groups.a.std_accuracy
    assert (groups.difference_low, groups.difference_high) == (pytest.approx(-half), pytest.approx(half))
    assert groups.a.std_accuracy == pytest.approx(
        abs(a.metrics.test.accuracy - b.metrics.test.accuracy) / 2**0.5
    )
    assert [p.fixed for p in groups.pairs] == [
        compare_runs(a, b).paired.fixed,
        compare_runs(b, a).paired.fixed,
    ]
    single = compare_groups([a], [b])
    assert single.welch_p is None and single.a.std_accuracy is None and single.difference_low is None


def test_compare_command_writes_json_and_rows(
    quick_run: Path, quick_run_seed_1: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a-vs-b"
    assert main(["compare", str(quick_run), str(quick_run_seed_1), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    saved = json.loads((out / "comparison.json").read_text())
    rows = pd.read_csv(out / "disagreements.csv")
    assert f"fixed by B {saved['paired']['fixed']}" in printed and "McNemar exact p" in printed
    assert (rows["change"] == FIXED).sum() == saved["paired"]["fixed"]
    assert saved["a"]["name"] == "quick" and saved["b"]["seed"] == 1


def test_compare_command_groups_and_bad_arguments(
    quick_run: Path, quick_run_seed_1: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = str(quick_run), str(quick_run_seed_1)
    assert main(["compare", a, b, "--", b, a, "--out", str(tmp_path / "groups")]) == 0
    assert "Welch's t-test" in capsys.readouterr().out
    saved = json.loads((tmp_path / "groups" / "comparison.json").read_text())
    assert len(saved["pairs"]) == 2 and len(saved["b"]["runs"]) == 2
    with pytest.raises(SystemExit):
        main(["compare", a])
    assert "give two runs" in capsys.readouterr().err
    assert main(["compare", a, str(tmp_path / "nowhere")]) == 2
    assert "run directory not found" in capsys.readouterr().err


def test_run_choices_list_the_other_runs(quick_run: Path, quick_run_seed_1: Path, tmp_path: Path) -> None:
    shown = Run.load(quick_run)
    (quick_run.parent / ".quick.partial-x").mkdir(exist_ok=True)  # staging folders are never offered
    choices = dict(run_choices(quick_run.parent, shown))
    names = [name.partition("/")[2] for name in choices]  # relative to the runs folder, its name first
    assert "quick" not in names and "quick-s1" in names and ".quick.partial-x" not in names
    assert choices[f"{quick_run.parent.name}/quick-s1"] == quick_run_seed_1.resolve()  # named relatively
    assert run_choices(tmp_path, shown) == {}
    extra = Run.load(quick_run_seed_1)
    assert run_choices(tmp_path, shown, extra) == {"quick-s1": quick_run_seed_1.resolve()}


def test_scores_table_and_confusion_change_figure(pair: tuple[Run, Run]) -> None:
    comparison = compare_runs(*pair)
    table = per_class_table(comparison)
    assert table.iloc[0, 0] == "accuracy" and len(table) == 5
    delta = 100 * (comparison.b.accuracy - comparison.a.accuracy)
    assert table.iloc[0, 3] == f"{delta:+.2f} pts"
    figure = confusion_change_figure(
        [[2, -1, 0, 0], [0, 0, 0, 0], [0, 0, -3, 3], [0, 0, 0, 0]], pair[0].classes
    )
    z = np.asarray(figure.data[0].z)
    assert z[0, 0] == 2 and z[0, 1] == 1  # more rows right, one fewer mistake: both better for B
    assert z[2, 2] == -3 and z[2, 3] == -3  # fewer right, more mistakes: both worse


def test_the_bootstrap_interval_is_scipys_row_resampling(pair: tuple[Run, Run]) -> None:
    from scipy.stats import bootstrap

    from agnews.comparison import bootstrap_interval, correct

    a, b = pair
    right_a, right_b = correct(a).astype(float), correct(b).astype(float)
    paired = compare_runs(a, b).paired
    ours = bootstrap_interval(paired.fixed, paired.broken, paired.rows)
    scipys = bootstrap(
        (right_a, right_b),
        lambda x, y, axis: y.mean(axis=axis) - x.mean(axis=axis),
        paired=True,
        n_resamples=10_000,
        method="percentile",
        rng=np.random.default_rng(1),
    ).confidence_interval
    step = 1 / paired.rows  # the differences move in steps of one row
    assert ours[0] == pytest.approx(scipys.low, abs=2 * step)
    assert ours[1] == pytest.approx(scipys.high, abs=2 * step)


def test_groups_without_spread_or_of_other_sizes_say_so(pair: tuple[Run, Run]) -> None:
    from agnews.comparison import describe_groups

    a, b = pair
    flat = compare_groups([a, a], [b, b])
    assert flat.welch_p is None  # no spread within either group: the test is undefined
    assert any("undefined" in line for line in describe_groups(flat))
    uneven = compare_groups([a, b, a], [b, a])
    assert uneven.pairs == [] and any("differ in size" in line for line in describe_groups(uneven))
