"""Calibration: metrics on hand-computable cases, fitting on synthetic logits, the fold into the last
layer, the `calibration` stage on the quick run, and what a plain `pipeline` and the CSV output give."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.calibration.schema import review_rule
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.rundir.edit import edit_run
from agnews.rundir.parts import prob_columns
from agnews.rundir.run import Run
from agnews.serving.csv_batch import REVIEW_COLUMN, Table, classify_table
from agnews.training.calibration import (
    METHODS,
    CalibrationError,
    LogitTransform,
    adaptive_ece,
    brier,
    choose_calibration,
    ece,
    fit_temperature,
    fit_vector,
    fold_into_classifier,
    nll,
    reliability_bins,
    review_threshold,
    risk_coverage,
    softmax,
)
from agnews.training.stages import analyze_run
from agnews.ui.classify import review_note

# Four rows: two at confidence 0.9 (one right), two at 0.6 (both right).
PROBS = np.array(
    [
        [0.9, 0.05, 0.03, 0.02],
        [0.9, 0.05, 0.03, 0.02],
        [0.1, 0.6, 0.2, 0.1],
        [0.2, 0.1, 0.6, 0.1],
    ]
)

NUM_LABELS = len(AG_NEWS_CLASSES)
LABELS = np.array([0, 1, 1, 2])


def test_metrics_on_a_hand_computed_case() -> None:
    from sklearn.metrics import log_loss

    # bin 0.9: accuracy 0.5, gap 0.4, half the rows; bin 0.6: accuracy 1, gap 0.4, half the rows
    assert ece(PROBS, LABELS) == pytest.approx(0.4)
    assert adaptive_ece(PROBS, LABELS, bins=2) == pytest.approx(0.4)
    # one equal-mass bin: mean confidence 0.75, accuracy 0.75
    assert adaptive_ece(PROBS, LABELS, bins=1) == pytest.approx(0.0)
    assert nll(PROBS, LABELS) == pytest.approx(-(np.log(0.9) + np.log(0.05) + 2 * np.log(0.6)) / 4)
    assert nll(PROBS, LABELS) == pytest.approx(log_loss(LABELS, PROBS, labels=range(NUM_LABELS)))
    first = 0.1**2 + 0.05**2 + 0.03**2 + 0.02**2
    second = 0.9**2 + 0.95**2 + 0.03**2 + 0.02**2
    third = 0.1**2 + 0.4**2 + 0.2**2 + 0.1**2
    fourth = 0.2**2 + 0.1**2 + 0.4**2 + 0.1**2
    assert brier(PROBS, LABELS) == pytest.approx((first + second + third + fourth) / 4)
    bins = reliability_bins(PROBS, LABELS)
    assert sum(b["count"] for b in bins) == 4
    full = [b for b in bins if b["count"]]
    assert [(b["count"], b["accuracy"]) for b in full] == [(2, 1.0), (2, 0.5)]


def test_risk_coverage_and_review_threshold_by_hand() -> None:
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, True, False, True, True])
    curve = risk_coverage(confidence, correct, points=6)
    assert curve["coverage"] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["risk"] == pytest.approx([0, 0, 1 / 3, 1 / 4, 1 / 5])
    assert curve["aurc"] == pytest.approx((0 + 0 + 1 / 3 + 1 / 4 + 1 / 5) / 5)
    assert review_threshold(confidence, correct, 0.95) == 0.9  # lowest threshold keeping only right rows
    assert review_threshold(confidence, correct, 0.8) == 0.6  # 4 of 5 right: everything kept
    assert review_threshold(confidence, correct, 0.7) == 0.6  # the lowest, though 0.7 also qualifies
    assert review_threshold(confidence, np.zeros(5, bool), 0.5) is None
    # equal confidences are kept or dropped together: 0.9 keeps both the right and the wrong row
    assert review_threshold(np.array([0.99, 0.9, 0.9]), np.array([True, True, False]), 0.9) == 0.99


def calibrated_logits(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true class distribution (labels drawn from it): calibrated."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, size=(rows, NUM_LABELS))
    probs = softmax(logits)
    labels = np.array([rng.choice(NUM_LABELS, p=p) for p in probs])
    return logits, labels


def test_temperature_fit_recovers_overconfidence() -> None:
    logits, labels = calibrated_logits(4000, seed=0)
    fitted = fit_temperature(2.5 * logits, labels)  # overconfident by 2.5
    assert 1 / fitted.scale[0] == pytest.approx(2.5, rel=0.1)
    choice = choose_calibration(2.5 * logits[:500], labels[:500], "auto", seed=0)
    assert choice.method in ("temperature", "vector")
    assert set(choice.scores) == set(METHODS)
    assert choice.scores[choice.method]["cv_nll"] < choice.scores["none"]["cv_nll"]
    assert choose_calibration(logits[:500], labels[:500], "temperature", seed=0).method == "temperature"
    with pytest.raises(CalibrationError, match="calibration must be"):
        choose_calibration(logits, labels, "platt", seed=0)


def test_vector_scaling_stays_bounded_on_a_separable_validation_set() -> None:
    """A model that cannot tell the classes apart (logits all near zero, each class a little apart):
    unbounded, the fit ran a scale to millions, and folded into the classifier that overflowed its
    logits to NaN (a tiny DistilBERT run's calibration part held NaN confidences)."""
    labels = np.repeat(np.arange(NUM_LABELS), 4)
    logits = np.full((len(labels), NUM_LABELS), 0.03)
    logits[np.arange(len(labels)), labels] += 1e-4  # separable, by a hair
    fitted = fit_vector(logits, labels)
    assert np.all(fitted.scale <= 20.0) and np.all(fitted.scale >= 0.05)
    assert np.all(np.abs(fitted.bias) <= 2 * 10.0)
    assert np.isfinite(softmax(fitted.apply(logits))).all()


def test_auto_keeps_the_simpler_calibrator_when_the_gain_is_within_noise() -> None:
    """Already calibrated logits: temperature and vector scaling fit noise, and their out-of-fold gain
    stays within one standard error, so auto keeps none, on every one of eight draws. Overconfident
    logits: temperature is taken and vector scaling, no better beyond noise, is not."""
    for seed in range(8):
        logits, labels = calibrated_logits(500, seed)
        choice = choose_calibration(logits, labels, "auto", seed=0)
        assert choice.method == "none", choice.reason
        assert "not taken" in choice.reason
    logits, labels = calibrated_logits(500, 0)
    choice = choose_calibration(2.5 * logits, labels, "auto", seed=0)
    assert choice.method == "temperature"
    assert "temperature over none" in choice.reason and "vector over temperature" in choice.reason


def tiny_classifier(kind: str) -> torch.nn.Module:
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        MPNetConfig,
        MPNetForSequenceClassification,
    )

    sizes = {"vocab_size": 50, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    sizes["intermediate_size"] = 32
    torch.manual_seed(0)
    if kind == "bert":
        return BertForSequenceClassification(BertConfig(**sizes, num_labels=NUM_LABELS)).eval()
    return MPNetForSequenceClassification(MPNetConfig(**sizes, num_labels=NUM_LABELS)).eval()


@pytest.mark.parametrize("kind", ["bert", "mpnet"])
def test_fold_gives_the_transformed_logits_and_keeps_temperature_argmax(kind: str) -> None:
    ids = torch.randint(5, 50, (6, 7))
    model = tiny_classifier(kind)
    with torch.no_grad():
        raw = model(input_ids=ids).logits.double().numpy()
    for transform in (
        LogitTransform.temperature(1.7, NUM_LABELS),
        LogitTransform(np.array([0.5, 1.2, 0.9, 2.0]), np.array([0.3, -0.1, 0.0, -0.2])),
    ):
        folded = tiny_classifier(kind)
        fold_into_classifier(folded, transform)
        with torch.no_grad():
            out = folded(input_ids=ids).logits.double().numpy()
        np.testing.assert_allclose(out, transform.apply(raw), atol=1e-5)
        np.testing.assert_allclose(transform.invert(out), raw, atol=1e-5)
    np.testing.assert_array_equal(
        LogitTransform.temperature(1.7, NUM_LABELS).apply(raw).argmax(1), raw.argmax(1)
    )


def test_fold_refuses_a_model_without_a_known_last_layer() -> None:
    model = torch.nn.Module()
    model.classifier = torch.nn.Sequential(torch.nn.Linear(8, NUM_LABELS))
    with pytest.raises(CalibrationError, match=r"`classifier` or `classifier\.out_proj`"):
        fold_into_classifier(model, LogitTransform.identity(NUM_LABELS))


def test_stage_writes_a_valid_part_and_never_folds_twice(synthetic_run: Path, tmp_path: Path) -> None:
    run = Run.load(synthetic_run)
    fit, report = run.training.calibration, run.get(CALIBRATION)
    assert fit is not None and report is not None
    assert len(fit.validation_logits) == len(fit.validation_labels) == run.config.data.rows["validation"]
    assert report.method == fit.method and set(report.candidates) == set(METHODS)
    assert report.rows == len(run.predictions) and len(report.after.bins) == report.bins
    for side in (report.before, report.after):
        assert side.ece.low <= side.ece.value <= side.ece.high
    # the stored probabilities are the folded model's; inverting the fold gives back different
    # (raw) probabilities unless nothing was kept
    served = run.predictions[list(prob_columns(NUM_LABELS))].to_numpy(np.float64)
    assert report.after.nll.value == pytest.approx(nll(served, run.predictions["label"].to_numpy()), abs=1e-5)
    if report.review_threshold is not None:
        confidence = served.max(axis=1)
        assert report.test_coverage == pytest.approx(np.mean(confidence >= report.review_threshold))

    copy = tmp_path / "again"
    shutil.copytree(synthetic_run, copy)
    weights = (copy / "model" / "model.safetensors").read_bytes()
    analyze_run(copy, ("calibrate",), progress=False)
    again = Run.load(copy)
    assert (copy / "model" / "model.safetensors").read_bytes() == weights
    assert again.get(CALIBRATION) == dataclasses.replace(report, seconds=again.get(CALIBRATION).seconds)


def test_a_run_without_a_fit_gets_a_report_with_method_none(synthetic_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "unfitted"
    shutil.copytree(synthetic_run, copy)
    training = Run.load(copy).training
    training.calibration = None
    with edit_run(copy) as edit:
        edit.write("training", training, made_from=("model", "config"))
    assert analyze_run(copy, ("calibrate",), progress=False) == {}
    report = Run.load(copy).get(CALIBRATION)
    assert report is not None and report.method == "none" and report.candidates == {}
    assert report.before.nll.value == pytest.approx(report.after.nll.value)
    assert report.change["nll"].value == pytest.approx(0.0, abs=1e-9)


def test_plain_pipeline_returns_the_stored_calibrated_probabilities(quick_run: Path) -> None:
    from transformers import pipeline

    run = Run.load(quick_run)
    rows = run.predictions.head(8)
    classifier = pipeline("text-classification", model=str(run.model_path), top_k=None, device="cpu")
    outputs = classifier(rows["text"].tolist(), truncation=True, max_length=run.config.train.max_length)
    names = run.load_classifier().config.id2label
    for output, (_, row) in zip(outputs, rows.iterrows(), strict=True):
        scores = {item["label"]: item["score"] for item in output}
        stored = [row[column] for column in prob_columns(NUM_LABELS)]
        assert [scores[names[i]] for i in range(NUM_LABELS)] == pytest.approx(stored, abs=1e-5)


def test_csv_output_marks_predictions_below_the_review_threshold() -> None:
    table = Table(
        header=["text"], rows=[["sure"], [""], ["unsure"]], texts=["sure", "", "unsure"], source="x"
    )

    def predict_many(texts: list[str], progress: object) -> np.ndarray:
        return np.array([[0.97, 0.01, 0.01, 0.01] if t == "sure" else [0.4, 0.3, 0.2, 0.1] for t in texts])

    rows, summary = classify_table(table, predict_many, review_threshold=0.9, classes=AG_NEWS_CLASSES)
    assert [row[-1] for row in rows] == ["false", "", "true"]
    assert summary.needs_review == 1 and "1 prediction is below" in summary.describe()
    plain, summary = classify_table(table, predict_many, classes=AG_NEWS_CLASSES)
    assert len(plain[0]) == len(rows[0]) - 1 and summary.needs_review is None
    assert REVIEW_COLUMN == "needs_review"


def test_classify_note_says_needs_review(synthetic_run: Path) -> None:
    report = Run.load(synthetic_run).get(CALIBRATION)
    assert report is not None
    report = review_rule(dataclasses.replace(report, review_threshold=0.8))
    below = {"World": 0.7, "Sports": 0.3}
    assert review_note(report, below).startswith("**Needs review**")
    assert "at or above" in review_note(report, {"World": 1.0})
    assert review_note(None, below) == "" and review_note(report, "message") == ""


def test_model_card_reports_the_calibration(synthetic_run: Path) -> None:
    from agnews.hub.card import build_model_card

    run = Run.load(synthetic_run)
    report = run.get(CALIBRATION)
    assert report is not None
    section = str(build_model_card(run, "someone/agnews-quick")).split("## Calibration\n")[1]
    section = section.split("## How to use")[0]
    after = report.after.ece
    assert f"| ECE (15 bins) | {report.before.ece.value:.2%}" in section
    assert f"{after.value:.2%} ({after.low:.2%} to {after.high:.2%})" in section
    if report.review_threshold is not None:
        assert f"confidence of {report.review_threshold:.3f}" in section
