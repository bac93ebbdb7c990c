"""Runs of data other than AG News, built without training, for the analyses' tests: a two-class
dataset that is not news (sentiment-like, integer-free class names) and a 25-class one with hostile
class names. Built as `synthetic_run.build_synthetic_run` builds its AG News run (the core parts from
their dataclasses, chosen probabilities, then every default analysis stage as `agnews analyze` runs
it), from a `text,label` folder read by the general dataset reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from dataset_writers import write_table
from synthetic_run import ANALYSIS_STAGES

from agnews.config import preset_config
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG
from agnews.rundir.edit import create_run
from agnews.rundir.parts import DataStats, Metrics, Training

if TYPE_CHECKING:
    from agnews.config import TrainConfig
    from agnews.training.data import LoadedData

# Two classes of a kind of text that is not news; 25 classes whose names are hostile text.
TWO_CLASSES = ("negative", "positive")
MANY_CLASSES = tuple(
    ["<b>bold</b>", "a / b", "Café crème", "007", "x" * 200, "with  spaces", "[link](http://e.x)"]
    + [f"class {i}" for i in range(18)]
)
WRONG_EVERY = 7  # every WRONG_EVERY-th test row is predicted as the next class, confidently
WORDS = ("river", "garden", "market", "winter", "engine", "letter", "window", "forest", "signal", "harbour")


def rows(classes: Sequence[str], per_class: int, offset: int) -> list[dict[str, str]]:
    """`per_class` rows of every class, each text made of words chosen by its class (so TF-IDF tells
    classes apart), some with a first name, an agency marker or a long tail, so that every behavioural
    test and slice tag could apply."""
    out = []
    for k, name in enumerate(classes):
        for i in range(per_class):
            n = offset + i
            first, second = WORDS[k % len(WORDS)], WORDS[(k // len(WORDS) + 3) % len(WORDS)]
            text = f"The {first} {second} of kind {k} item {n}."
            if i % 4 == 1:
                text = f"(Reuters) - {text}"
            if i % 4 == 0:
                text = f"{text} it was seen by John."
            if i % 4 == 2:
                text = f"{text} {text} {text}"
            out.append({"text": text, "label": name})
    return out


def build_class_run(
    out: Path,
    encoder: Path,
    classes: Sequence[str],
    *,
    domain: str | None = None,
    train_per_class: int = 12,
    test_per_class: int = 4,
    seed: int = 0,
) -> Path:
    """Write a complete run at `out` of a `text,label` dataset with `classes` (its data folder beside
    it), its kind of text `domain`, from the random `encoder`; returns `out`."""
    from agnews.training.data import load_config_data

    folder = out.parent / f"{out.name}-data"
    write_table(folder / "train.csv", rows(classes, train_per_class, 0))
    write_table(folder / "test.csv", rows(classes, test_per_class, 1000))
    overrides = {"data": str(folder), "base_model": str(encoder), "epochs": 1.0, "domain": domain}
    config = preset_config("quick", **overrides)
    data = load_config_data(config)
    names = data.description.class_names
    labels = np.asarray(data.splits["test"]["label"])
    rng = np.random.default_rng(seed)
    predicted = np.where(np.arange(len(labels)) % WRONG_EVERY == 1, (labels + 1) % len(names), labels)
    logits = rng.normal(0.0, 0.3, size=(len(labels), len(names))).astype(np.float32)
    logits[np.arange(len(labels)), predicted] += 4.0
    return write_run(out, config, data, encoder, logits, recorded_training(0.8), ANALYSIS_STAGES)


def recorded_training(accuracy: float, **fields: Any) -> Training:
    """The `training` part of a run built without training: one step, on a CPU, in fp32, with the
    validation `accuracy` and any other `fields` (a calibration) as given."""
    return Training(
        validation={"loss": 0.5, "accuracy": accuracy},
        best_checkpoint="checkpoint-1",
        seconds=1.0,
        samples_per_second=100.0,
        device="cpu",
        precision="fp32",
        log_history=[{"loss": 1.0, "learning_rate": 1e-4, "epoch": 1.0, "step": 1}],
        **fields,
    )


def write_run(
    out: Path,
    config: TrainConfig,
    data: LoadedData,
    encoder: Path,
    logits: np.ndarray,
    training: Training,
    stages: Sequence[str],
) -> Path:
    """Write a run at `out` of `config` and its read `data` without training: a model made from the
    random `encoder` for the data's classes, `training` as recorded, the test predictions `logits`
    (one row per test row), then `stages` run on it as `agnews analyze` runs them; returns `out`."""
    from scipy.special import softmax
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from agnews.training.context import StageContext
    from agnews.training.data import content_hash
    from agnews.training.evaluate import compute_metrics, predictions_frame
    from agnews.training.stages import run_stages
    from agnews.training.train import run_config as make_run_config

    names = data.description.class_names
    model = AutoModelForSequenceClassification.from_pretrained(
        encoder,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
    )
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    test = data.splits["test"]
    labels = np.asarray(test["label"])
    probs = softmax(np.asarray(logits, dtype=np.float64), axis=1).astype(np.float32)
    logits = np.asarray(logits, dtype=np.float32)

    def save_model(target: Path) -> None:
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)

    with create_run(out) as edit:
        edit.write("config", make_run_config(config, data, str(encoder)), made_from=())
        edit.write("model", save_model, made_from=("config",))
        edit.write("training", training, made_from=("model", "config"))
        edit.write(
            "data_stats", parts.parse(DataStats, data.stats(), parts.DATA_STATS), made_from=("config",)
        )
        edit.begin(CATALOG.stages["evaluate"])
        edit.write(
            "predictions",
            predictions_frame(list(test["row_id"]), list(test["text"]), labels, probs, logits, names),
        )
        edit.write(
            "metrics",
            Metrics(
                test=compute_metrics(labels, probs, names),
                test_origin=data.origins["test"],
                test_hash=content_hash(list(test["text"]), labels.tolist()),
                seconds=0.1,
                samples_per_second=400.0,
            ),
        )
    context = StageContext(config, progress=False, loaded=data, model=model, tokenizer=tokenizer)
    failures = run_stages(out, stages, context)
    if failures:
        raise RuntimeError(f"run of {len(names)} classes {out}: stages failed: {failures}")
    return out
