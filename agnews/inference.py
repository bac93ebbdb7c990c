"""Batched inference of a classifier or a bare encoder: length-sorted batches, outputs in input order.

Length sorting removes most of the padding of file-order batches. The classifier's pass also returns
the last layer's [CLS] vector and the raw logits, so the map and calibration need no second pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import BatchEncoding, PreTrainedTokenizerBase

from agnews.events import counted


@dataclass(frozen=True)
class Inference:
    """Class probabilities and raw logits (n x 4), last-layer [CLS] vectors (n x hidden), in input order."""

    probs: np.ndarray
    cls: np.ndarray
    logits: np.ndarray


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
    bar = tqdm(starts, desc=description, unit="batch", disable=not progress)  # for people
    for start in counted(bar, description, total=len(starts)):  # for the page (`agnews.events`)
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
    pick: Callable[[Any, Any], dict[str, torch.Tensor]],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
    description: str = "predict",
    bf16: bool = False,
) -> dict[str, np.ndarray]:
    """Run `model` over `texts` in length-sorted batches and return what `pick` takes, in input order.

    `pick` maps a model output (called with all hidden states) and its input batch to per-row
    tensors by name; the one batching loop serves the classifier (probabilities + [CLS]) and bare
    encoders ([CLS], or token vectors mean-pooled under the batch's attention mask).
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
        batch = batch.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            output = model(**batch, output_hidden_states=True)
        for name, tensor in pick(output, batch).items():
            values = tensor.float().cpu().numpy()
            if name not in results:
                results[name] = np.zeros((len(texts), *values.shape[1:]), dtype=np.float32)
            results[name][index] = values
    return results


def last_layer_mean(output: Any, batch: Any) -> torch.Tensor:
    """The last layer's token vectors averaged over the real tokens (padding excluded)."""
    hidden = output.hidden_states[-1].float()
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


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
        empty = np.zeros((0, model.config.num_labels), np.float32)
        return Inference(empty, np.zeros((0, model.config.hidden_size), np.float32), empty)
    results = batched_outputs(
        model,
        tokenizer,
        texts,
        lambda out, _batch: {"logits": out.logits.float(), "cls": last_layer_cls(out)},
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        description=description,
        bf16=bf16,
    )
    logits = results["logits"]
    return Inference(softmax(logits), results["cls"], logits)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, returned as float32 (probabilities from stored logits)."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
