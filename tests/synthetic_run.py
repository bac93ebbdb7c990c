"""A complete run built without training: the fast tier's stand-in for the real quick run.

The core parts are written from their dataclasses (`agnews.rundir.parts`) the way `agnews train`
commits them: the config, a tiny random DistilBERT saved as a sequence classifier with the run's
class names, a training log with a calibration fit, the data stats, and test predictions whose
probabilities are chosen, not predicted (mostly right, a known share wrong, some unsure), so that
tabs, cards and reports have every kind of row to show. The analysis stages then run on it as
`agnews analyze` runs them (the same code writes the same parts, validated by `Run.load`), except the
UMAP map, written here from its dataclass: fitting UMAP would cost more than the rest together.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from helpers import synthetic_rows, write_original_csv

from agnews.analyses.map.schema import MapInfo, MapQuality
from agnews.config import preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG
from agnews.rundir.edit import create_run, edit_run
from agnews.rundir.parts import (
    CalibrationFit,
    CalibratorScore,
    DataStats,
    Metrics,
    Training,
)

NUM_LABELS = len(LABELS)

# The analysis stages run on the synthetic run, in `agnews analyze`'s order; the map is left out
# (fitting UMAP is the slow one) and written from its dataclass instead.
ANALYSIS_STAGES = (
    "calibration",
    "label_issues_test",
    "slices",
    "dataset_checks",
    "export",
    "embed",
    "neighbours",
    "label_issues_train",
    "robustness",
)
# Rows per class: training and test split of the synthetic data folder.
TRAIN_PER_CLASS = 40
TEST_PER_CLASS = 10
# Every WRONG_EVERY-th row is predicted as the next class (confidently on test, where the label-issue
# views need confident mistakes; unsure on validation, so calibration finds a review threshold), and
# every UNSURE_EVERY-th is right with a small margin.
WRONG_EVERY = 7
UNSURE_EVERY = 5
# The calibration fit the training log records (the stored test logits are taken as calibrated).
TEMPERATURE = 1.5
# Every MISLABELLED_EVERY-th training row carries the next class's label: what the training
# label-issue stage must find.
MISLABELLED_EVERY = 13
# Test rows get a news-agency marker every AGENCY_EVERY-th row and a long tail every LONG_EVERY-th,
# so that each smart tag of the slices stage has some rows and not all, and a person's name every
# NAMED_EVERY-th, so that every robustness test applies to some rows.
AGENCY_EVERY = 4
LONG_EVERY = 3
NAMED_EVERY = 6


def held_out_rows() -> list[tuple[int, str, str]]:
    """`helpers.synthetic_rows` for the test split, some with an agency marker, a name, or long."""
    rows = []
    for i, (label, title, body) in enumerate(synthetic_rows(TEST_PER_CLASS, offset=1000)):
        if i % AGENCY_EVERY == 1:
            body = f"(Reuters) {body}"
        if i % NAMED_EVERY == 3:
            body = f"John Smith and Maria said {body}"
        if i % LONG_EVERY == 2:
            body = f"{body} {' '.join([body] * 4)}"
        rows.append((label, title, body))
    return rows


def training_rows() -> list[tuple[int, str, str]]:
    """`helpers.synthetic_rows` for the training split, every `MISLABELLED_EVERY`-th mislabelled
    (labels are 1-based in the original format)."""
    return [
        (label % NUM_LABELS + 1 if i % MISLABELLED_EVERY == MISLABELLED_EVERY - 1 else label, title, body)
        for i, (label, title, body) in enumerate(synthetic_rows(TRAIN_PER_CLASS))
    ]


def write_data(folder: Path) -> Path:
    """A local data folder in the original AG News format."""
    folder.mkdir(parents=True, exist_ok=True)
    write_original_csv(folder / "train.csv", training_rows())
    write_original_csv(folder / "test.csv", held_out_rows())
    return folder


def chosen_logits(labels: np.ndarray, seed: int, *, confident_errors: bool) -> np.ndarray:
    """Logits `(N, NUM_LABELS)` that put most rows on their class, every `WRONG_EVERY`-th on the next
    class and every `UNSURE_EVERY`-th right with a small margin, plus a little seeded noise."""
    rng = np.random.default_rng(seed)
    positions = np.arange(len(labels))
    wrong = positions % WRONG_EVERY == WRONG_EVERY - 1
    predicted = np.where(wrong, (labels + 1) % NUM_LABELS, labels)
    unsure = (positions % UNSURE_EVERY == UNSURE_EVERY - 1) | (wrong & (not confident_errors))
    margin = np.where(unsure, 0.4, 4.0)
    logits = rng.normal(0.0, 0.3, size=(len(labels), NUM_LABELS))
    logits[positions, predicted] += margin
    return logits.astype(np.float32)


def _training(validation_labels: np.ndarray, validation_logits: np.ndarray) -> Training:
    """The training log of a one-epoch run whose calibration kept a temperature (`TEMPERATURE`), so
    that the raw and the calibrated probabilities differ as a trained run's do."""
    accuracy = float((validation_logits.argmax(axis=1) == validation_labels).mean())
    return Training(
        validation={"loss": 0.5, "accuracy": accuracy},
        best_checkpoint="checkpoint-3",
        seconds=1.0,
        samples_per_second=160.0,
        device="cpu",
        precision="fp32",
        log_history=[
            {"loss": 1.2, "learning_rate": 1e-4, "epoch": 1.0, "step": 3},
            {"eval_loss": 0.5, "eval_accuracy": accuracy, "epoch": 1.0, "step": 3},
        ],
        calibration=CalibrationFit(
            method="temperature",
            reason="lowest cross-validated NLL",
            scale=[1 / TEMPERATURE] * NUM_LABELS,
            bias=[0.0] * NUM_LABELS,
            folds=5,
            candidates={
                "none": CalibratorScore(cv_nll=0.6, cv_ece=0.08),
                "temperature": CalibratorScore(cv_nll=0.5, cv_ece=0.05),
                "vector": CalibratorScore(cv_nll=0.52, cv_ece=0.06),
            },
            validation_labels=validation_labels.tolist(),
            validation_logits=validation_logits.tolist(),
            seconds=0.1,
        ),
        frozen_layers=0,
    )


def _map_coords(row_ids: list[int], labels: np.ndarray, seed: int) -> tuple[pd.DataFrame, MapInfo]:
    """A map part: each class a cloud around its own corner, in both maps."""
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]])
    frame = pd.DataFrame({"row_id": np.asarray(row_ids, dtype=np.int64)})
    for kind in parts.MAP_KINDS:
        points = corners[labels % len(corners)] + rng.normal(0.0, 0.5, size=(len(labels), 2))
        frame[f"{kind}_x"], frame[f"{kind}_y"] = points[:, 0], points[:, 1]
    quality = MapQuality(silhouette_true=0.4, knn_agreement_true=0.9, knn_agreement_pred=0.85, k=10)
    info = MapInfo(
        method="umap",
        params={"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine"},
        seed=seed,
        seconds=dict.fromkeys(parts.MAP_KINDS, 0.1),
        quality=dict.fromkeys(parts.MAP_KINDS, quality),
    )
    return frame, info


def build_synthetic_run(out: Path, encoder: Path, *, seed: int = 0) -> Path:
    """Write a complete run at `out` (its data folder beside it) from the random `encoder`
    (`helpers.tiny_encoder("distilbert", ...)`), without training; returns `out`."""
    from scipy.special import softmax
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from agnews.training.context import StageContext
    from agnews.training.data import content_hash, load_config_data
    from agnews.training.evaluate import compute_metrics, predictions_frame
    from agnews.training.stages import run_stages
    from agnews.training.train import run_config as make_run_config

    data_folder = write_data(out.parent / f"{out.name}-data")
    config = preset_config("quick", data=str(data_folder), base_model=str(encoder), epochs=1.0)
    data = load_config_data(config)
    model = AutoModelForSequenceClassification.from_pretrained(
        encoder,
        num_labels=NUM_LABELS,
        id2label=dict(enumerate(LABELS)),
        label2id={name: i for i, name in enumerate(LABELS)},
    )
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    validation, test = data.splits["validation"], data.splits["test"]
    validation_labels = np.asarray(validation["label"])
    test_labels = np.asarray(test["label"])
    logits = chosen_logits(test_labels, seed, confident_errors=True)
    probs = softmax(logits.astype(np.float64), axis=1).astype(np.float32)
    run_config = make_run_config(config, data, str(encoder))

    def save_model(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    with create_run(out) as edit:
        edit.write("config", run_config, made_from=())
        edit.write("model", save_model, made_from=("config",))
        edit.write(
            "training",
            _training(validation_labels, chosen_logits(validation_labels, seed + 1, confident_errors=False)),
            made_from=("model", "config"),
        )
        edit.write(
            "data_stats", parts.parse(DataStats, data.stats(), parts.DATA_STATS), made_from=("config",)
        )
        edit.begin(CATALOG.stages["evaluate"])  # recorded as `agnews train` records its evaluation
        frame = predictions_frame(
            list(test["row_id"]), list(test["text"]), test_labels, probs, logits, LABELS
        )
        edit.write("predictions", frame)
        metrics = Metrics(
            test=compute_metrics(test_labels, probs, LABELS),
            test_origin=data.origins["test"],
            test_hash=content_hash(list(test["text"]), test_labels.tolist()),
            seconds=0.1,
            samples_per_second=400.0,
        )
        edit.write("metrics", metrics)
    context = StageContext(config, progress=False, loaded=data, model=model, tokenizer=tokenizer)
    failures = run_stages(out, ANALYSIS_STAGES, context)
    if failures:
        raise RuntimeError(f"synthetic run {out}: stages failed: {failures}")
    with edit_run(out) as edit:
        edit.write(
            "map",
            *_map_coords(list(test["row_id"]), test_labels, seed),
            made_from=("embeddings", "predictions"),
        )
    return out
