"""Predictions and metrics on the test split: computed once, saved in the run, read by everyone else.

Inference runs in length-sorted batches (far less padding than file order) and returns the
[CLS] vector of the last layer from the same forward pass, so the map costs no second pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import BatchEncoding, PreTrainedTokenizerBase

from agnews.labels import LABELS, NUM_LABELS


@dataclass(frozen=True)
class Inference:
    """Class probabilities (n x 4) and last-layer [CLS] vectors (n x hidden), in input order."""

    probs: np.ndarray
    cls: np.ndarray


def model_device(model: PreTrainedModel) -> torch.device:
    return next(model.parameters()).device


def length_sorted_batches(
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    *,
    batch_size: int,
    max_length: int,
    progress: bool,
    description: str,
) -> Iterator[tuple[np.ndarray, BatchEncoding]]:
    """Yield (positions in `texts`, padded batch) with texts of similar length batched together.

    Sorting by token count cuts padding, which is most of the cost of file-order batches.
    """
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]]
    order = np.argsort(lengths, kind="stable")
    starts = range(0, len(texts), batch_size)
    for start in tqdm(starts, desc=description, unit="batch", disable=not progress):
        index = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in index],
            truncation=True,
            max_length=max_length,
            padding=True,
            return_tensors="pt",
        )
        yield index, batch


@torch.inference_mode()
def batched_outputs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    pick: Callable[[Any], dict[str, torch.Tensor]],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
    description: str = "predict",
    bf16: bool = False,
) -> dict[str, np.ndarray]:
    """Run `model` over `texts` in length-sorted batches and return what `pick` takes, in input order.

    `pick` maps a model output (called with all hidden states) to per-row tensors by name; the one
    batching loop serves the classifier (probabilities + [CLS]) and bare encoders ([CLS] only).
    `bf16` runs the forward passes under bf16 autocast: faster where the hardware has bf16 (see
    `agnews.models.bf16_inference_pays`), with results a rounding away from fp32. The test metrics
    are computed in fp32, so they describe the model exactly as saved and as a `pipeline` runs it.
    """
    model.eval()
    device = model_device(model)
    results: dict[str, np.ndarray] = {}
    batches = length_sorted_batches(
        tokenizer,
        texts,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        description=description,
    )
    for index, batch in batches:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            output = model(**batch.to(device), output_hidden_states=True)
        for name, tensor in pick(output).items():
            values = tensor.float().cpu().numpy()
            if name not in results:
                results[name] = np.zeros((len(texts), *values.shape[1:]), dtype=np.float32)
            results[name][index] = values
    return results


def last_layer_cls(output: Any) -> torch.Tensor:
    """The [CLS] vector: last layer, position 0 (DistilBERT has no pooler, so never the pooler)."""
    return output.hidden_states[-1][:, 0]


def infer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
    description: str = "predict",
    bf16: bool = False,
) -> Inference:
    """Run the classifier over `texts` and return probabilities and [CLS] vectors in input order.

    `bf16`: as in `batched_outputs`; off by default, so metrics are fp32 unless a caller opts in.
    """
    if not texts:
        return Inference(
            np.zeros((0, NUM_LABELS), np.float32), np.zeros((0, model.config.hidden_size), np.float32)
        )
    results = batched_outputs(
        model,
        tokenizer,
        texts,
        lambda out: {"probs": torch.softmax(out.logits.float(), dim=-1), "cls": last_layer_cls(out)},
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        description=description,
        bf16=bf16,
    )
    return Inference(results["probs"], results["cls"])


def compute_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, weighted/macro F1, per-class P/R/F1 and the confusion matrix (rows = true class)."""
    # Imported here: the app imports this module for `infer` and should not pay for scikit-learn.
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    preds = probs.argmax(axis=1)
    classes = list(range(NUM_LABELS))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, preds, labels=classes, zero_division=0
    )
    return {
        "rows": len(labels),
        "accuracy": float(accuracy_score(labels, preds)),
        "f1_weighted": float(f1_score(labels, preds, average="weighted", zero_division=0)),
        "f1_macro": float(f1_score(labels, preds, average="macro", zero_division=0)),
        "per_class": {
            LABELS[i]: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in classes
        },
        "confusion_matrix": confusion_matrix(labels, preds, labels=classes).tolist(),
        "confusion_matrix_labels": list(LABELS),
    }


def predictions_frame(
    row_ids: list[int], texts: list[str], labels: np.ndarray, probs: np.ndarray
) -> pd.DataFrame:
    """One row per test example: ids, text, true and predicted class (ids and names), probabilities."""
    preds = probs.argmax(axis=1)
    frame = pd.DataFrame(
        {
            "row_id": np.asarray(row_ids, dtype=np.int64),
            "text": texts,
            "label": np.asarray(labels, dtype=np.int64),
            "label_name": [LABELS[i] for i in labels],
            "pred": preds.astype(np.int64),
            "pred_name": [LABELS[i] for i in preds],
            "confidence": probs.max(axis=1),
        }
    )
    for i in range(NUM_LABELS):
        frame[f"prob_{i}"] = probs[:, i]
    return frame


def reevaluate_run(
    run_path: Path, data: str | None = None, max_test_samples: int | None = None
) -> dict[str, Any]:
    """`agnews evaluate RUN`: predict the test split again with the run's model and update the run.

    When the test rows differ from the ones the run's map was built on, the map parts no longer line
    up with the predictions, so they are removed (and the message says to run `agnews embed`).
    """
    from agnews import run as run_files
    from agnews.data import content_hash, load_test_split
    from agnews.models import load_classifier, load_tokenizer

    run = run_files.Run.load(run_path)
    train = run.config["train"]
    source = data if data is not None else train.get("data")
    cap = max_test_samples if max_test_samples is not None else train.get("max_test_samples")
    test = load_test_split(source, max_test_samples=cap, seed=train["seed"])
    texts, labels = list(test["text"]), np.asarray(test["label"])
    model_dir = str(run.model_path)
    inference = infer(
        load_classifier(model_dir),
        load_tokenizer(model_dir),
        texts,
        batch_size=train["eval_batch_size"],
        max_length=train["max_length"],
        description="test",
    )
    metrics = dict(run.metrics)
    metrics["test"] = compute_metrics(labels, inference.probs)
    new_hash = content_hash(texts, labels.tolist())
    config = dict(run.config)
    if new_hash != config["data"]["split_hashes"]["test"]:
        for name in (run_files.EMBEDDINGS, run_files.MAP, run_files.MAP_INFO):
            (run.path / name).unlink(missing_ok=True)
        for key in ("maps", "frozen_baseline"):
            metrics.pop(key, None)
        config["data"]["split_hashes"]["test"] = new_hash
        config["data"]["origins"]["test"] = str(source) if source is not None else "fancyzhx/ag_news:test"
        config["data"]["rows"]["test"] = len(texts)
        print(f"test rows changed: map parts removed; run `agnews embed {run.path}` to rebuild them")
    run_files.write_parquet(
        run.path / run_files.PREDICTIONS,
        predictions_frame(list(test["row_id"]), texts, labels, inference.probs),
    )
    run_files.write_json(run.path / run_files.CONFIG, config)
    run_files.write_json(run.path / run_files.METRICS, metrics)
    return metrics["test"]
