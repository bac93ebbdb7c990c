"""Label issues: the cleanlab stages on the quick run and on planted noise, the noise check, the app's
export, and `agnews train --drop-label-issues` taking that export back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, load_script, synthetic_rows

from agnews.analyses.label_issues import present as label_issues
from agnews.analyses.label_issues.numeric import (
    label_issue_table,
    predictions_label_issues,
    train_label_issues,
)
from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART
from agnews.cli import main
from agnews.config import TrainConfig, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present import tables
from agnews.rundir.run import Run
from agnews.text import clean_text, text_hash
from agnews.training.data import DataError, load_config_data
from agnews.ui import errors
from agnews.ui.common import temporary_csv

label_noise = load_script(ROOT / "bench" / "label_noise.py", "agnews_bench_label_noise")


def confident_probs(labels: np.ndarray, confidence: float, seed: int = 0) -> np.ndarray:
    """Probabilities of a model that puts `confidence` on `labels` and spreads the rest at random."""
    rng = np.random.default_rng(seed)
    rest = rng.dirichlet(np.ones(len(LABELS)), size=len(labels)) * (1 - confidence)
    rest[np.arange(len(labels)), labels] = 0
    rest /= rest.sum(axis=1, keepdims=True) / (1 - confidence)
    rest[np.arange(len(labels)), labels] = confidence
    return rest


def test_text_hash_is_a_stable_short_key() -> None:
    assert text_hash("Oil prices rise") == text_hash("Oil prices rise")
    assert re.fullmatch(r"[0-9a-f]{16}", text_hash("Oil prices rise"))
    assert text_hash("Oil prices rise") != text_hash("Oil prices rise.")


def test_confident_disagreement_is_flagged_and_scored_low() -> None:
    truth = np.repeat(np.arange(len(LABELS)), 50)
    given = truth.copy()
    given[[0, 60, 120, 180]] = [1, 2, 3, 0]  # four labels that the confident model contradicts
    table = label_issue_table(given, confident_probs(truth, 0.95))
    assert np.flatnonzero(table["flagged"]).tolist() == [0, 60, 120, 180]
    assert (table["suggested"] == truth).all()
    assert table["quality"][table["flagged"]].max() < table["quality"][~table["flagged"]].min()
    with pytest.raises(ValueError, match="expected"):
        label_issue_table(given, confident_probs(truth, 0.95)[:, :3])


def test_the_noise_check_passes_a_good_model_and_fails_an_uninformed_one() -> None:
    truth = np.repeat(np.arange(len(LABELS)), 250)
    good = label_noise.noise_check(truth, confident_probs(truth, 0.9), fraction=0.05, seed=0)
    assert good.flipped == 50 and good.precision >= 0.8 and good.recall >= 0.8
    uniform = np.random.default_rng(1).dirichlet(np.ones(len(LABELS)) * 50, size=len(truth))
    bad = label_noise.noise_check(truth, uniform, fraction=0.05, seed=0)
    assert np.isnan(bad.precision) or bad.precision < 0.5 or bad.recall < 0.5
    assert "NOT met" in label_noise.table([bad]) and "NOT met" not in label_noise.table([good])
    noisy, flipped = label_noise.flip_labels(truth, 0.05, seed=3)
    assert (noisy[flipped] != truth[flipped]).all() and (noisy[~flipped] == truth[~flipped]).all()


def test_out_of_fold_flags_planted_training_noise() -> None:
    rows = synthetic_rows(30)
    texts = [clean_text(f"{title} {body}") for _, title, body in rows]
    truth = np.array([label - 1 for label, _, _ in rows])
    given = truth.copy()
    planted = [3, 40, 75, 110]
    given[planted] = (truth[planted] + 1) % len(LABELS)
    table, probs = train_label_issues(texts, given, None, classes=len(LABELS), folds=5, seed=0)
    assert (probs.argmax(axis=1) == truth).mean() > 0.9  # the held-out folds are predicted from text
    assert set(planted) <= set(np.flatnonzero(table["flagged"]))
    assert table["text_hash"].tolist() == [text_hash(t) for t in texts]
    with pytest.raises(ValueError, match="at least 5 training rows per class"):
        train_label_issues(texts[:12], given[:12], None, classes=len(LABELS), folds=5, seed=0)


def test_the_run_has_both_parts(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    issues, predictions = run.get(TEST_PART), run.predictions
    assert issues is not None and issues["row_id"].tolist() == predictions["row_id"].tolist()
    assert (issues["suggested"] == predictions["pred"]).all()
    pd.testing.assert_frame_equal(issues, predictions_label_issues(predictions))
    train, info = run.get(TRAIN_PART)
    assert train is not None and info is not None
    assert len(train) == info.rows == run.config.data.rows["train"]
    assert info.flagged == train["flagged"].sum() == sum(info.flagged_by_label.values())
    assert info.folds == 5 and 0.25 < info.out_of_fold_accuracy <= 1
    assert train["text_hash"].tolist() == [text_hash(t) for t in train["text"]]


def test_errors_tab_flags_orders_and_exports_label_issues(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    wrong = tables.mistakes(errors.with_label_issues(run.predictions, run))
    flagged = wrong[wrong[errors.FLAGGED]]
    assert len(flagged) > 0  # the 120-row quick run has some: a real check, not an empty loop
    ordered = errors.order_mistakes(wrong, errors.BY_LABEL_ISSUE)
    assert ordered[errors.FLAGGED].tolist() == sorted(wrong[errors.FLAGGED], reverse=True)
    assert ordered[errors.QUALITY].iloc[: len(flagged)].is_monotonic_increasing
    assert errors.order_mistakes(wrong, errors.BY_CONFIDENCE).equals(wrong)
    table = errors.errors_table(ordered)
    assert table["likely mislabelled"].iloc[0] == f"yes → {ordered[errors.SUGGESTED].iloc[0]}"
    exported = errors.export_frame(ordered, LABELS)
    assert {"likely_mislabelled", "suggested", "label_quality"} <= set(exported.columns)


def test_export_round_trip_drops_exactly_the_flagged_training_rows(
    synthetic_run: Path, tmp_path: Path
) -> None:
    run = Run.load(synthetic_run)
    rows = label_issues.flagged_train_rows(run)
    assert len(rows) > 0  # the export must name rows for the round trip to mean anything
    export = Path(temporary_csv(rows, "test-"))
    config = TrainConfig.from_dict({**run.config.train.to_dict(), "drop_label_issues": str(export)})
    before = load_config_data(run.config.train).splits
    after = load_config_data(config)
    kept = set(after.splits["train"]["text"])
    assert set(before["train"]["text"]) - kept == set(rows["text"])
    assert after.splits["validation"]["text"] == before["validation"]["text"]
    assert after.extra["label_issue_rows_dropped"] == len(rows)


def test_drop_label_issues_errors_are_clear(tiny_data: Path, tmp_path: Path) -> None:
    config = preset_config("quick", data=str(tiny_data))
    unrelated = tmp_path / "unrelated.csv"
    pd.DataFrame({"text_hash": [text_hash("not a training row")]}).to_csv(unrelated, index=False)
    no_column = tmp_path / "no_column.csv"
    pd.DataFrame({"row_id": [1, 2]}).to_csv(no_column, index=False)
    cases = {
        tmp_path / "missing.csv": "file not found",
        no_column: "no `text_hash` column",
        unrelated: "none of its 1 text hashes matches",
    }
    for path, message in cases.items():
        with pytest.raises(DataError, match=re.escape(message)):
            load_config_data(TrainConfig.from_dict({**config.to_dict(), "drop_label_issues": str(path)}))


@pytest.mark.slow
@pytest.mark.isa
def test_train_cli_drops_the_rows_and_counts_them(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", "--data", str(tiny_data), "--base-model", str(tiny_distilbert), "--stages", ""]
    assert main([*base, "--out", str(tmp_path / "r0"), "--drop-label-issues", str(tmp_path / "no.csv")]) == 2
    assert "no.csv: file not found" in capsys.readouterr().err
    train = load_config_data(preset_config("quick", data=str(tiny_data))).splits["train"]
    drop = tmp_path / "drop.csv"
    pd.DataFrame({"text_hash": [text_hash(t) for t in train["text"][:7]]}).to_csv(drop, index=False)
    options = ["--epochs", "1", "--max-test-samples", "8", "--drop-label-issues", str(drop)]
    assert main([*base, "--out", str(tmp_path / "r1"), *options]) == 0
    run = Run.load(tmp_path / "r1")
    assert run.data_stats.label_issue_rows_dropped == 7
    assert run.config.data.rows["train"] == len(train) - 7
