"""A run's classifier loaded for serving: one text at a time, fast, with explanations.

The app needs three things for a typed headline: the four probabilities (the fast path, on every
click), the last-layer [CLS] vector (to place the text on the stored map) and word attributions.
The first two come from the same forward pass, so that pass is cached per text: the map event that
follows a classification reuses it instead of running the model again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.inference import Inference, infer, model_device
from agnews.labels import LABELS
from agnews.models import bf16_inference_pays
from agnews.rundir.run import Run
from agnews.serving.onnx_runtime import OnnxClassifier, serving_graph
from agnews.text import clean_text

CACHE_SIZE = 64
# The model reads at most `max_length` (128) tokens: about 600 characters of English news, fewer of
# Chinese. A text is cut to MAX_CHARS characters (at a word boundary) before it is tokenised, a few
# times what the model can read, so nothing it would see is lost while a pasted 1 MB page costs no
# more than a long article. Raw input is first cut to MAX_RAW_CHARS so that cleaning is bounded too;
# the margin is for markup and runs of whitespace, which cleaning removes.
MAX_CHARS = 2_000
MAX_RAW_CHARS = 10 * MAX_CHARS
# Texts per `infer` call when classifying many: small enough to report progress often, large enough
# that length-sorted batches inside each call stay full.
MANY_CHUNK = 256
# Words beyond this many are not occluded: with max_length 128 tokens they are mostly truncated
# away anyway, and the batch (one variant per word) must stay small enough for well under a second.
MAX_OCCLUDED_WORDS = 96


class EmptyTextError(ValueError):
    """The text is empty once cleaned; there is nothing to classify."""


def model_text(text: str) -> tuple[str, bool]:
    """The text the model is given, and whether it was cut: cleaned (`clean_text`), then cut to MAX_CHARS.

    Idempotent, so the app and the batch reader may apply it before the predictor does again.
    """
    cut = len(text) > MAX_RAW_CHARS
    cleaned = clean_text(text[:MAX_RAW_CHARS])
    if len(cleaned) > MAX_CHARS:
        head = cleaned[: MAX_CHARS + 1]
        space = head.rfind(" ")
        # At the last space, unless the text has none near the end (CJK scripts, one endless word).
        cleaned = head[:space] if space > MAX_CHARS // 2 else head[:MAX_CHARS]
        cut = True
    return cleaned, cut


@dataclass(frozen=True)
class Forward:
    """One text's class probabilities (in `LABELS` order) and last-layer [CLS] vector."""

    probs: np.ndarray
    cls: np.ndarray


class Predictor:
    """The fine-tuned model of a run, on CPU (or the first GPU), ready for single texts.

    Every public method passes its input through `model_text` first: cleaned exactly as the training
    data was, so what the app shows and what the model saw agree, and cut to a bounded length.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        max_length: int = 128,
        graph: Path | None = None,
    ) -> None:
        """`graph`: an ONNX serving graph of the same model (the run's `serving` part) for texts
        typed one at a time; files are classified by the PyTorch model either way."""
        self.graph = OnnxClassifier(graph) if graph is not None else None
        self.backend = f"ONNX Runtime ({graph.name})" if graph is not None else "PyTorch"
        self.tokenizer = tokenizer
        self.model = model
        self.model.eval()
        if torch.cuda.is_available():
            self.model.to("cuda")
        # Files are classified in bf16 where the hardware has it (see bench/inference_throughput.py);
        # single texts stay fp32, where bf16 saves nothing and the numbers match the saved test metrics.
        self.batch_bf16 = bf16_inference_pays(model_device(self.model))
        self.max_length = max_length
        names = [self.model.config.id2label[i] for i in range(len(LABELS))]
        if tuple(names) != LABELS:
            raise ValueError(f"model labels {names} differ from {list(LABELS)}")
        self._cache: OrderedDict[str, Forward] = OrderedDict()
        # The app serves a few events at once; the cache's reordering must not interleave.
        self._lock = threading.Lock()

    @classmethod
    def from_run(cls, run: Run, serving: str = "auto") -> Predictor:
        """`serving`: one of `SERVING_CHOICES`; "auto" uses the run's fp32 ONNX graph if it has one."""
        graph = serving_graph(run, serving)
        return cls(
            run.load_classifier(), run.load_tokenizer(), max_length=run.config.train.max_length, graph=graph
        )

    def _batch(self, texts: list[str]) -> Inference:
        """Probabilities and [CLS] vectors of a few texts in one padded forward pass."""
        if self.graph is None:
            return infer(
                self.model,
                self.tokenizer,
                texts,
                batch_size=max(len(texts), 1),
                max_length=self.max_length,
                progress=False,
            )
        batch = self.tokenizer(
            texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np"
        )
        probs, cls = self.graph.run(batch["input_ids"], batch["attention_mask"])
        return Inference(probs, cls, np.log(np.clip(probs, 1e-30, None)))

    def forward(self, text: str) -> Forward:
        """Probabilities and [CLS] vector of one text, cached (a few dozen recent texts)."""
        cleaned = model_text(text)[0]
        if not cleaned:
            raise EmptyTextError("type or paste a headline first")
        with self._lock:
            cached = self._cache.get(cleaned)
            if cached is not None:
                self._cache.move_to_end(cleaned)
                return cached
        result = self._batch([cleaned])
        forward = Forward(result.probs[0], result.cls[0])
        with self._lock:
            self._cache[cleaned] = forward
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return forward

    def probabilities_many(
        self, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Probabilities (n x 4, `LABELS` order, input order) of many texts: a file, not a headline.

        The texts are ordered by length once, then fed to `infer` MANY_CHUNK at a time: batches stay
        as free of padding as one big call would make them, and `progress(done, total)` is called
        after each chunk. Empty texts have no prediction; the caller keeps them out (EmptyTextError).
        """
        prepared = [model_text(text)[0] for text in texts]
        empty = [i for i, text in enumerate(prepared) if not text]
        if empty:
            raise EmptyTextError(f"{len(empty)} texts are empty once cleaned (first at position {empty[0]})")
        order = np.argsort([len(text) for text in prepared], kind="stable")
        probs = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for start in range(0, len(order), MANY_CHUNK):
            index = order[start : start + MANY_CHUNK]
            chunk = [prepared[i] for i in index]
            probs[index] = infer(
                self.model,
                self.tokenizer,
                chunk,
                max_length=self.max_length,
                progress=False,
                bf16=self.batch_bf16,
            ).probs
            if progress is not None:
                progress(min(start + MANY_CHUNK, len(order)), len(order))
        return probs

    def probabilities(self, text: str) -> dict[str, float]:
        """Class name -> probability, all four classes (the shape `gr.Label` takes)."""
        probs = self.forward(text).probs
        return {name: float(p) for name, p in zip(LABELS, probs, strict=True)}

    def cls_vector(self, text: str) -> np.ndarray:
        """Last-layer [CLS] vector, comparable with a run's stored `finetuned_cls` embeddings."""
        return self.forward(text).cls

    def word_attributions(self, text: str) -> tuple[str, list[tuple[str, float]]]:
        """Predicted class and, per word, how much dropping that word lowers its probability.

        Occlusion rather than integrated gradients: it needs no gradients and no baseline choice,
        it scores whole words (what a reader sees, not sub-word pieces), and it costs a single
        forward pass. All the one-word-removed variants go into that one padded batch, because on
        CPU the per-call overhead of n separate passes, not the arithmetic, is what takes time;
        a 40-word headline takes a fraction of a second this way.
        Positive scores: the word supports the prediction; negative: it argues against it.
        """
        cleaned = model_text(text)[0]
        probs = self.forward(cleaned).probs
        pred = int(np.argmax(probs))
        words = cleaned.split()
        scored = words[:MAX_OCCLUDED_WORDS]
        variants = [" ".join(words[:i] + words[i + 1 :]) for i in range(len(scored))]
        drops = probs[pred] - self._batch(variants).probs[:, pred] if variants else np.zeros(0)
        attributions = [(word, float(drop)) for word, drop in zip(scored, drops, strict=True)]
        attributions += [(word, 0.0) for word in words[len(scored) :]]
        return LABELS[pred], attributions
