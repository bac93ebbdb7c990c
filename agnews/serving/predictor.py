"""A run's classifier loaded for serving: one text at a time, or a few at once, fast, with explanations.

The app needs three things for a typed text: the class probabilities (the fast path, on every
click), the last-layer [CLS] vector (to place the text on the stored map) and word attributions.
The first two come from the same forward pass, so that pass is cached per text: the map event that
follows a classification reuses it instead of running the model again.

One bad text fails alone. Texts of a batch come from different requests (or rows); when a padded pass
fails, each of its texts is tried alone (`each_alone`), and a text that fails alone gets no prediction
and the reason (`Unclassified`, or a NaN row from `probabilities_many`); the others are answered.

Loading is lazy. Where the run has its ONNX serving graph (and no GPU is used), typed text goes
through ONNX Runtime with the `tokenizers` library, and torch and transformers are imported only
when something first needs the PyTorch model: a file to classify, or a caller asking for `model` or
`tokenizer`. Serving with PyTorch (`--serving torch`, no graph, a GPU) loads the model at once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from agnews.dataset.cleaning import cleaner
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.serving.onnx_runtime import FastTokenizer, OnnxClassifier, fast_tokenizer, serving_graph
from agnews.serving.word_scores import WordScores, occlusion_scores, one_word_removed

if TYPE_CHECKING:
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

_log = logging.getLogger(__name__)
Answer = TypeVar("Answer")

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
# A batch of texts runs as a few padded passes over length-sorted groups: a group grows while
# padding adds at most this share of tokens. One pass padded to the batch's longest text cost 1.2-1.7x
# the CPU of one pass per text on the reference CPUs (fp32 ONNX Runtime gains little from larger
# matrices), and near-equal lengths batched together saved a few percent (bench/inference_throughput.py).
PADDING_SLACK = 0.05


class EmptyTextError(ValueError):
    """The text is empty once cleaned; there is nothing to classify."""


class UnclassifiableTextError(ValueError):
    """The model failed on this text alone (its reason is the message); other texts are unaffected."""


@dataclass(frozen=True)
class Unclassified:
    """Why one text of a batch has no prediction: the model failed on it alone. The batch's other
    texts are answered."""

    reason: str


def each_alone(
    compute: Callable[[list[str]], list[Answer]],
    texts: list[str],
    failed: Callable[[Exception], Answer],
) -> list[Answer]:
    """`compute(texts)`, one answer per text; if that raises, each text computed alone, and a text
    that fails alone answered by `failed(error)` (the error is logged), so it fails no other text.

    The retry costs one pass per text, but only for a batch that failed: the normal path is one call.
    """
    try:
        return compute(texts)
    except Exception as error:
        if len(texts) != 1:
            return [answer for text in texts for answer in each_alone(compute, [text], failed)]
        _log.warning("the model failed on one text (%d characters)", len(texts[0]), exc_info=True)
        return [failed(error)]


def failure_reason(error: Exception) -> str:
    """What a caller is told about a text the model failed on: the kind of error, no internals."""
    return f"the model could not read this text ({type(error).__name__})"


def model_text(text: str, clean: Callable[[str], str]) -> tuple[str, bool]:
    """The text the model is given, and whether it was cut: cleaned by `clean` (the run's dataset's
    cleaning, `agnews.dataset.cleaning.cleaner`), then cut to MAX_CHARS.

    Idempotent, so the app and the batch reader may apply it before the predictor does again.
    """
    cut = len(text) > MAX_RAW_CHARS
    cleaned = clean(text[:MAX_RAW_CHARS])
    if len(cleaned) > MAX_CHARS:
        head = cleaned[: MAX_CHARS + 1]
        space = head.rfind(" ")
        # At the last space, unless the text has none near the end (CJK scripts, one endless word).
        cleaned = head[:space] if space > MAX_CHARS // 2 else head[:MAX_CHARS]
        cut = True
    return cleaned, cut


@dataclass(frozen=True)
class Forward:
    """One text's class probabilities (in class-id order) and last-layer [CLS] vector."""

    probs: np.ndarray
    cls: np.ndarray


def model_classes(model_dir: Path) -> tuple[str, ...]:
    """The classes the model folder's `config.json` names (`id2label`), in class-id order: what every
    answer is keyed by, so the model and what serves it agree by construction. Read without
    transformers; raises RunError when `id2label` is missing, unreadable or has gaps."""
    path = model_dir / "config.json"
    try:
        id2label: dict[str, Any] = json.loads(path.read_text())["id2label"]
        names = tuple(str(id2label[str(i)]) for i in range(len(id2label)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"{path}: no readable id2label with ids 0 to n-1 ({exc})") from exc
    if len(names) < 2 or len(set(names)) != len(names):
        raise RunError(f"{path}: id2label must name 2 or more distinct classes, it names {list(names)}")
    return names


class Predictor:
    """The fine-tuned model of a run, on CPU (or the first GPU), ready for single texts.

    Every public method passes its input through `model_text` first: cleaned exactly as the training
    data was, so what the app shows and what the model saw agree, and cut to a bounded length.
    """

    def __init__(
        self,
        model_dir: Path,
        *,
        max_length: int = 128,
        graph: Path | None = None,
        threads: int | None = None,
        cleaning: str = "plain",
    ) -> None:
        """`model_dir`: a run's `model/` folder (safetensors, tokenizer, named labels).
        `cleaning`: how the run's data was cleaned (`agnews.dataset.cleaning`), done to typed text too.
        `graph`: an ONNX serving graph of the same model (the run's `serving` part) for typed text;
        files are classified by the PyTorch model either way (loaded when first needed).
        `threads`: threads per forward pass (ONNX Runtime's intra-op threads, and torch's once it is
        loaded); None leaves torch's setting alone and gives ONNX Runtime one."""
        self.model_dir = Path(model_dir)
        self.max_length = max_length
        self.threads = threads
        self.classes = model_classes(self.model_dir)
        self.clean = cleaner(cleaning)
        self.graph = OnnxClassifier(graph, threads=threads or 1) if graph is not None else None
        self.backend = f"ONNX Runtime ({graph.name})" if graph is not None else "PyTorch"
        self._encoder: FastTokenizer | None = (
            fast_tokenizer(self.model_dir, max_length=max_length) if graph is not None else None
        )
        self._model: PreTrainedModel | None = None
        self._tokenizer: PreTrainedTokenizerBase | None = None
        self._batch_bf16: bool | None = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, Forward] = OrderedDict()
        # The app serves a few events at once; the cache's reordering must not interleave.
        self._lock = threading.Lock()
        if self.graph is None:
            self.load_model()  # it serves every typed text: load it now, not in the first request

    @classmethod
    def from_run(cls, run: Run, serving: str = "auto", *, threads: int | None = None) -> Predictor:
        """`serving`: one of `SERVING_CHOICES`; "auto" uses the run's fp32 ONNX graph if it has one
        (and there is no GPU). Imports no torch when the graph serves."""
        return cls(
            run.model_path,
            max_length=run.config.train.max_length,
            graph=serving_graph(run, serving),
            threads=threads,
            cleaning=run.config.data.description().cleaning,
        )

    def model_text(self, text: str) -> tuple[str, bool]:
        """What this model reads of `text` and whether it was cut (`model_text` with the run's cleaning)."""
        return model_text(text, self.clean)

    def adopt_graph(self, graph: Path) -> None:
        """Serve typed text from the ONNX `graph` from now on: a live run's export stage has just
        written it for the model already being served (same weights, so cached answers stay valid)."""
        classifier = OnnxClassifier(graph, threads=self.threads or 1)
        encoder = fast_tokenizer(self.model_dir, max_length=self.max_length)
        with self._lock:
            self.graph, self._encoder = classifier, encoder
            self.backend = f"ONNX Runtime ({graph.name})"

    # ----------------------------------------------------------------------------------------------
    # The PyTorch model and transformers tokenizer, loaded when first needed
    # ----------------------------------------------------------------------------------------------

    @property
    def model_loaded(self) -> bool:
        """Whether the PyTorch model is in memory (a first file waits for it to load otherwise)."""
        return self._model is not None

    def load_model(self) -> PreTrainedModel:
        """The PyTorch model, loaded on first use (eval mode, on the GPU where there is one)."""
        with self._load_lock:
            if self._model is None:
                import torch

                from agnews.models import bf16_inference_pays, load_classifier

                if self.threads is not None:
                    torch.set_num_threads(self.threads)
                model = load_classifier(str(self.model_dir)).eval()
                if torch.cuda.is_available():
                    model.to("cuda")
                # Files are classified in bf16 where the hardware has it (bench/inference_throughput.py);
                # single texts stay fp32, where bf16 saves nothing and the numbers match the saved metrics.
                self._batch_bf16 = bf16_inference_pays(next(model.parameters()).device)
                self._model = model
            return self._model

    @property
    def model(self) -> PreTrainedModel:
        return self.load_model()

    @model.setter
    def model(self, model: PreTrainedModel) -> None:
        """Replace the PyTorch model (benches swap in a quantised copy); the cache is emptied."""
        from agnews.models import bf16_inference_pays

        with self._load_lock:
            self._model = model
            self._batch_bf16 = bf16_inference_pays(next(model.parameters()).device)
        with self._lock:
            self._cache.clear()

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        """The run's transformers tokenizer (the PyTorch path's), loaded on first use."""
        with self._load_lock:
            if self._tokenizer is None:
                from agnews.models import load_tokenizer

                self._tokenizer = load_tokenizer(str(self.model_dir))
            return self._tokenizer

    @property
    def batch_bf16(self) -> bool:
        """Whether files are classified under bf16 autocast (loads the model to decide)."""
        self.load_model()
        return bool(self._batch_bf16)

    # ----------------------------------------------------------------------------------------------
    # Forward passes
    # ----------------------------------------------------------------------------------------------

    def _encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        if self._encoder is not None:
            return self._encoder(texts)
        batch = self.tokenizer(
            texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="np"
        )
        return batch["input_ids"], batch["attention_mask"]

    def _batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and [CLS] vectors of a few texts in one padded forward pass."""
        if self.graph is None:
            from agnews.inference import infer

            result = infer(
                self.model,
                self.tokenizer,
                texts,
                batch_size=max(len(texts), 1),
                max_length=self.max_length,
                progress=False,
            )
            return result.probs, result.cls
        return self.graph.run(*self._encode(texts))

    def _length_groups(self, texts: list[str]) -> list[list[str]]:
        """`texts` by token count in groups that padding to the group's longest grows by at most
        PADDING_SLACK (a single text is its own group; the PyTorch path takes them all at once)."""
        if len(texts) == 1 or self._encoder is None:
            return [texts]
        lengths = {text: len(self._encoder.tokenizer.encode(text)) for text in texts}
        groups: list[list[str]] = []
        group: list[str] = []
        tokens = 0
        for text in sorted(texts, key=lengths.__getitem__):
            size = lengths[text]  # the longest so far: texts come shortest first
            if group and size * (len(group) + 1) > (1 + PADDING_SLACK) * (tokens + size):
                groups.append(group)
                group, tokens = [], 0
            group.append(text)
            tokens += size
        return [*groups, group]

    def _group_forwards(self, group: list[str]) -> list[Forward | Unclassified]:
        """One padded pass over `group`; if it fails, each text alone (`each_alone`)."""

        def passes(texts: list[str]) -> list[Forward | Unclassified]:
            probs, cls = self._batch(texts)
            return [Forward(probs[i], cls[i]) for i in range(len(texts))]

        return each_alone(passes, group, lambda error: Unclassified(failure_reason(error)))

    def _forwards(self, cleaned: list[str]) -> list[Forward | Unclassified]:
        """Forward results of cleaned, non-empty texts: cached ones from the cache, the others (each
        distinct text once) from padded passes over groups of near-equal length. A text the model
        fails on alone is `Unclassified` (and not cached: a passing fault is retried next time)."""
        found: dict[str, Forward] = {}
        with self._lock:
            for text in cleaned:
                cached = self._cache.get(text)
                if cached is not None:
                    self._cache.move_to_end(text)
                    found[text] = cached
        missing = list(dict.fromkeys(text for text in cleaned if text not in found))
        answered: dict[str, Forward | Unclassified] = dict(found)
        if missing:
            try:
                groups = self._length_groups(missing)
            except Exception:  # the tokenizer failed on a text: each alone finds which
                groups = [[text] for text in missing]
            computed: dict[str, Forward] = {}
            for group in groups:
                for text, result in zip(group, self._group_forwards(group), strict=True):
                    answered[text] = result
                    if isinstance(result, Forward):
                        computed[text] = result
            with self._lock:
                self._cache.update(computed)
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return [answered[text] for text in cleaned]

    def forward(self, text: str) -> Forward:
        """Probabilities and [CLS] vector of one text, cached (a few dozen recent texts).

        Raises EmptyTextError for a text empty once cleaned, UnclassifiableTextError for one the
        model fails on."""
        cleaned = self.model_text(text)[0]
        if not cleaned:
            raise EmptyTextError("type or paste a headline first")
        result = self._forwards([cleaned])[0]
        if isinstance(result, Unclassified):
            raise UnclassifiableTextError(result.reason)
        return result

    def probabilities(self, text: str) -> dict[str, float]:
        """Class name -> probability, every class of the model (the shape `gr.Label` takes)."""
        return self._as_dict(self.forward(text).probs)

    def probabilities_batch(self, texts: list[str]) -> list[dict[str, float] | Unclassified]:
        """`probabilities` of several texts (the requests the app batched together), as a few padded
        passes over groups of near-equal length (`PADDING_SLACK`), each distinct text computed once.

        Each answer is the one `probabilities` gives for that text alone, up to float rounding, or
        `Unclassified` for a text the model fails on alone (the others are still answered).
        Raises EmptyTextError, naming the first position, if any text is empty once cleaned: the app
        checks each request before it joins a batch, so one empty text cannot fail the others.
        """
        cleaned = [self.model_text(text)[0] for text in texts]
        empty = [i for i, text in enumerate(cleaned) if not text]
        if empty:
            raise EmptyTextError(f"{len(empty)} texts are empty once cleaned (first at position {empty[0]})")
        return [
            result if isinstance(result, Unclassified) else self._as_dict(result.probs)
            for result in self._forwards(cleaned)
        ]

    def probabilities_many(
        self,
        texts: list[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        bf16: bool | None = None,
    ) -> np.ndarray:
        """Probabilities (n x classes, class-id order, input order) of many texts: a file, not a headline.

        The texts are ordered by length once, then fed to `infer` MANY_CHUNK at a time: batches stay
        as free of padding as one big call would make them, and `progress(done, total)` is called
        after each chunk. Empty texts have no prediction; the caller keeps them out (EmptyTextError).
        A text the model fails on alone gets a row of NaN (no prediction); the others are answered.
        Uses the PyTorch model (bf16 where the hardware has it, unless `bf16` says otherwise), loading
        it on the first call.
        """
        prepared = [self.model_text(text)[0] for text in texts]
        empty = [i for i, text in enumerate(prepared) if not text]
        if empty:
            raise EmptyTextError(f"{len(empty)} texts are empty once cleaned (first at position {empty[0]})")
        from agnews.inference import infer

        model, tokenizer = self.model, self.tokenizer
        bf16 = self.batch_bf16 if bf16 is None else bf16
        order = np.argsort([len(text) for text in prepared], kind="stable")
        probs = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        no_prediction = np.full(len(self.classes), np.nan, dtype=np.float32)

        def passes(chunk: list[str]) -> list[np.ndarray]:
            return list(
                infer(model, tokenizer, chunk, max_length=self.max_length, progress=False, bf16=bf16).probs
            )

        for start in range(0, len(order), MANY_CHUNK):
            index = order[start : start + MANY_CHUNK]
            probs[index] = each_alone(passes, [prepared[i] for i in index], lambda _: no_prediction)
            if progress is not None:
                progress(min(start + MANY_CHUNK, len(order)), len(order))
        return probs

    def cls_vector(self, text: str) -> np.ndarray:
        """Last-layer [CLS] vector, comparable with a run's stored `finetuned_cls` embeddings."""
        return self.forward(text).cls

    def word_scores(self, text: str) -> WordScores:
        """The predicted class and each word's score: its probability with the word minus without it
        (`agnews.serving.word_scores`). All the one-word-removed variants go into one padded batch;
        the whole text's pass is the cached one the classification made."""
        cleaned = self.model_text(text)[0]
        probs = self.forward(cleaned).probs
        words = cleaned.split()
        variants = one_word_removed(words)
        without = self._batch(variants)[0] if variants else np.zeros((0, len(self.classes)))
        return occlusion_scores(self.classes, probs, words, without)

    def _as_dict(self, probs: np.ndarray) -> dict[str, float]:
        return {name: float(p) for name, p in zip(self.classes, probs, strict=True)}
