"""What the stages working on one run share: `StageContext`.

Its own module so that each stage (`evaluate`, `embed`, `maps`, `onnx_export`, and the analyses to
come) can depend on it while the registry in `agnews.training.stages` depends on the stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from agnews.config import HUB_DATASET_ID, TrainConfig
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.declarations import Fact
from agnews.rundir.edit import RunEditor

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    from agnews.inference import Inference
    from agnews.training.data import LoadedData
    from agnews.training.tfidf_neighbours import TrainNeighbours

Value = TypeVar("Value")


class StageContext:
    """What the stages working on one run share: its settings, and the data, model and [CLS]
    vectors loaded once for all of them. `edit` is the staged run of the stage now running.
    `settings`: analysis name -> its settings (`Analysis.settings`), where they differ from the
    defaults; `catalog`: the parts and stages the run may hold."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        data: str | None = None,
        max_test_samples: int | None = None,
        progress: bool = True,
        loaded: LoadedData | None = None,
        model: PreTrainedModel | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
        settings: Mapping[str, Any] | None = None,
        catalog: Catalog = CATALOG,
    ) -> None:
        self.config = config
        self.progress = progress
        self.catalog = catalog
        self._settings = dict(settings or {})
        self._source = data if data is not None else config.data
        self._test_cap = max_test_samples if max_test_samples is not None else config.max_test_samples
        self._loaded = loaded
        self._model = model
        self._tokenizer = tokenizer
        self._cls: tuple[str, np.ndarray] | None = None
        self._near: tuple[str, TrainNeighbours] | None = None
        self.edit: RunEditor | None = None

    def settings(self, analysis: str) -> Any:
        """The settings the analysis `analysis` runs with: as given, or its declared defaults."""
        if analysis in self._settings:
            return self._settings[analysis]
        declared = next(a for a in self.catalog.analyses if a.name == analysis).settings
        return None if declared is None else declared()

    @property
    def staged(self) -> RunEditor:
        if self.edit is None:
            raise RuntimeError("no stage is running")
        return self.edit

    def model(self) -> PreTrainedModel:
        if self._model is None:
            from agnews.models import load_classifier

            self._model = load_classifier(str(self.staged.file(parts.MODEL_DIR)))
        return self._model

    def tokenizer(self) -> PreTrainedTokenizerBase:
        if self._tokenizer is None:
            from agnews.models import load_tokenizer

            self._tokenizer = load_tokenizer(str(self.staged.file(parts.MODEL_DIR)))
        return self._tokenizer

    def infer(self, texts: list[str], description: str) -> Inference:
        """The run's model on `texts` at the run's evaluation batch size and length, in fp32 (as
        `agnews.inference.infer` runs it), with progress when the stage shows progress."""
        from agnews.inference import infer

        return infer(
            self.model(),
            self.tokenizer(),
            texts,
            batch_size=self.config.eval_batch_size,
            max_length=self.config.max_length,
            progress=self.progress,
            description=description,
        )

    def data(self) -> LoadedData:
        """The run's splits, as its settings describe them (from `--data` when given)."""
        if self._loaded is None:
            from agnews.training.data import load_config_data

            self._loaded = load_config_data(self.config, self._source)
        return self._loaded

    def test_split(self) -> Dataset:
        """The test rows to evaluate: the run's own, or `--data` / `--max-test-samples` ones."""
        if self._loaded is not None:
            return self._loaded.splits["test"]
        from agnews.training.data import load_test_split

        return load_test_split(self.config, self.classes(), self._source, max_test_samples=self._test_cap)

    def classes(self) -> tuple[str, ...]:
        """The run's classes in class-id order: its recorded config's (what its model was trained on),
        else (a run being made) those of the data it is made from."""
        if self.edit is not None and "config" in self.staged.manifest.parts:
            return self.read("config").classes
        return self.data().classes

    def test_origin(self) -> str:
        if self._loaded is not None:
            return self._loaded.origins["test"]
        if self._source is not None:
            return str(self._source)
        return f"{self.config.dataset or HUB_DATASET_ID}:test"

    def nearest_training_rows(self, k: int) -> TrainNeighbours:
        """Each test prediction's `k` most similar training rows in TF-IDF space, searched once per
        version of the predictions for all the stages that ask (slices, dataset checks): on a large
        training split the search is the costly part of both."""
        from agnews.training.tfidf_neighbours import TrainNeighbours, train_neighbours

        fingerprint = self.staged.manifest.parts["predictions"].fingerprint
        if self._near is not None and self._near[0] == fingerprint and self._near[1].index.shape[1] >= k:
            near = self._near[1]
            return TrainNeighbours(near.similarity[:, :k], near.index[:, :k])
        if self.progress:
            print(f"TF-IDF neighbours of the test rows in the training rows (k = {k})...", flush=True)
        near = train_neighbours(
            list(self.data().splits["train"]["text"]), self.predictions()["text"].tolist(), k
        )
        self._near = (fingerprint, near)
        return near

    def predictions(self) -> pd.DataFrame:
        """The staged run's test predictions (the row order every aligned part follows)."""
        return parts.read_part(self.staged.path, self.catalog.parts["predictions"], [])

    def read(self, name: str) -> Any:
        """Part `name` of the staged run, read and validated the one way there is (`parts.read_part`),
        rows aligned with the predictions where the part says so (only then are they read)."""
        part = self.catalog.part(name)
        row_ids = self.predictions()["row_id"].tolist() if parts.aligned(part) else []
        return parts.read_part(self.staged.path, part, row_ids)

    def fact(self, fact: Fact[Value]) -> Value | None:
        """`fact` from the staged run (`Run.fact`), read only from a part made from the current
        versions of its own inputs; None where no analysis can answer it."""
        return self.catalog.answer(fact, self.staged.usable, self.read)

    def unusable(self, part: str, consumer: str) -> str | None:
        """Why the staged run's `part` cannot feed the stage `consumer` (absent, or made from older
        parts), with the command that makes both; None when it can."""
        if self.staged.usable(part):
            return None
        state = "has a stale" if part in self.staged.manifest.parts else "has no"
        stages = f"{self.catalog.maker(part).name},{consumer}"
        return f"the run {state} {part} part (`agnews analyze RUN --stages {stages}` makes it)"

    def why_no(self, fact: Fact[Value], consumer: str) -> str:
        """Why `fact` is None for the stage `consumer`, and what adds what it is read from."""
        part = self.catalog.source(fact)
        if part is None:
            return self.catalog.unanswered(fact)
        return self.unusable(part, consumer) or f"the run's {part} part has no {fact.name}"

    def remember_cls(self, vectors: np.ndarray) -> None:
        """Keep the evaluation pass's [CLS] vectors for the embed stage (no second forward pass)."""
        self._cls = (self.staged.manifest.parts["predictions"].fingerprint, vectors)

    def finetuned_cls(self) -> np.ndarray | None:
        """The remembered [CLS] vectors, if they belong to the run's current predictions."""
        current = self.staged.manifest.parts.get("predictions")
        if self._cls is None or current is None or current.fingerprint != self._cls[0]:
            return None
        return self._cls[1]
