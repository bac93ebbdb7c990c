"""The embed stages: [CLS] vectors of the base and the fine-tuned model, and the frozen baseline.

Why [CLS] of the last layer: it is what the reference recipe projects, and DistilBERT has no pooler.
The `embed` stage writes the `embeddings` part (test rows, float16, one row per prediction) and the
`baseline` part (what the encoder knows before fine-tuning). Its fine-tuned vectors come from the
evaluation pass when it ran in the same process; otherwise the run's model embeds the scored test rows
again. The training rows' vectors are the neighbours analysis's (`agnews/analyses/neighbours/`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from transformers import AutoModel, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.inference import batched_outputs, last_layer_cls, last_layer_mean, model_device
from agnews.models import ModelError, bf16_inference_pays, load_tokenizer, resolve_base_model
from agnews.rundir.parts import Baseline

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def _base_encoder(model_name: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    path = resolve_base_model(model_name)
    tokenizer = load_tokenizer(path)
    try:
        model = AutoModel.from_pretrained(path, use_safetensors=True, trust_remote_code=False)
    except Exception as exc:
        raise ModelError(f"could not load base encoder {model_name!r}: {exc}") from exc
    return model, tokenizer


def base_cls_embeddings(
    model_name: str,
    texts: list[str],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Last-layer [CLS] vectors of a base (not fine-tuned) encoder, in input order.

    In bf16 where the hardware has it: these vectors feed the map and the frozen baseline, where a
    bf16 rounding is far below what either can show, and this is the map step's largest forward work.
    """
    return _base_vectors(
        model_name,
        texts,
        lambda out, _batch: {"v": last_layer_cls(out)},
        "base [CLS]",
        batch_size,
        max_length,
        progress,
    )


def base_mean_embeddings(
    model_name: str,
    texts: list[str],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Mean-pooled last-layer token vectors of a base encoder (padding excluded), in input order.

    Why mean pooling here: it is how sentence encoders such as the bundled MiniLM were trained to
    represent a text, so these vectors carry the base model's notion of similar text, without labels.
    """
    return _base_vectors(
        model_name,
        texts,
        lambda out, batch: {"v": last_layer_mean(out, batch)},
        "base mean",
        batch_size,
        max_length,
        progress,
    )


def _base_vectors(
    model_name: str,
    texts: list[str],
    pick: Callable[[Any, Any], dict[str, torch.Tensor]],
    description: str,
    batch_size: int,
    max_length: int,
    progress: bool,
) -> np.ndarray:
    """What `pick` takes from the base encoder's outputs, bf16 where the hardware has it."""
    model, tokenizer = _base_encoder(model_name)
    return batched_outputs(
        model,
        tokenizer,
        texts,
        pick,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        description=description,
        bf16=bf16_inference_pays(model_device(model)),
    )["v"]


def frozen_baseline(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int
) -> Baseline:
    """Logistic regression on frozen base [CLS] features: what the encoder knows before fine-tuning."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed))
    classifier.fit(train_x, train_y)
    preds = classifier.predict(test_x)
    return Baseline(
        method="logistic regression (C=0.1, standardised) on frozen base-model [CLS] vectors",
        train_rows=len(train_y),
        rows=len(test_y),
        accuracy=float(accuracy_score(test_y, preds)),
        f1_macro=float(f1_score(test_y, preds, average="macro")),
        f1_weighted=float(f1_score(test_y, preds, average="weighted")),
    )


def embed_stage(context: StageContext) -> None:
    """Embed the scored test rows (base and fine-tuned) and the training rows (base, for the baseline)."""

    edit, config = context.staged, context.config
    predictions = context.predictions()
    test_texts = predictions["text"].tolist()
    finetuned = context.finetuned_cls()
    if finetuned is None:
        finetuned = context.infer(test_texts, "fine-tuned [CLS]").cls
    train = context.data().splits["train"]
    base = base_cls_embeddings(
        config.base_model,
        test_texts + list(train["text"]),
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=context.progress,
    )
    base_test, base_train = base[: len(test_texts)], base[len(test_texts) :]
    stored = {"base_cls": base_test.astype(np.float16), "finetuned_cls": finetuned.astype(np.float16)}
    edit.write("embeddings", stored)
    baseline = frozen_baseline(
        base_train, np.asarray(train["label"]), base_test, predictions["label"].to_numpy(), config.seed
    )
    edit.write("baseline", baseline)
