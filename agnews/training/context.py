"""What the stages working on one run share: `StageContext`.

Its own module so that each stage (`evaluate`, `embed`, `maps`, `onnx_export`, and the analyses to
come) can depend on it while the registry in `agnews.training.stages` depends on the stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agnews.config import HUB_DATASET_ID, TrainConfig
from agnews.rundir import parts
from agnews.rundir.edit import RunEditor

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    from agnews.inference import Inference
    from agnews.training.data import LoadedData

# Test rows the robustness stage perturbs unless told otherwise (`agnews robustness RUN --rows N|all`): enough
# for a flip rate of a few percent to have a 95% interval about a point either side, few enough
# for a CPU.
STRESS_ROWS = 1000


class StageContext:
    """What the stages working on one run share: its settings, and the data, model and [CLS]
    vectors loaded once for all of them. `edit` is the staged run of the stage now running;
    `stress_rows` how many test rows the robustness stage perturbs (None: all of them)."""

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
        stress_rows: int | None = STRESS_ROWS,
    ) -> None:
        self.config = config
        self.progress = progress
        self.stress_rows = stress_rows  # None: every test row
        self._source = data if data is not None else config.data
        self._test_cap = max_test_samples if max_test_samples is not None else config.max_test_samples
        self._loaded = loaded
        self._model = model
        self._tokenizer = tokenizer
        self._cls: tuple[str, np.ndarray] | None = None
        self.edit: RunEditor | None = None

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

        return load_test_split(self._source, max_test_samples=self._test_cap, seed=self.config.split_seed)

    def test_origin(self) -> str:
        if self._loaded is not None:
            return self._loaded.origins["test"]
        return str(self._source) if self._source is not None else f"{HUB_DATASET_ID}:test"

    def predictions(self) -> pd.DataFrame:
        """The staged run's test predictions (the row order every aligned part follows)."""
        return parts.read_part(self.staged.path, parts.PARTS["predictions"], [])

    def read(self, name: str) -> Any:
        """Part `name` of the staged run, read and validated the one way there is (`parts.read_part`),
        rows aligned with the predictions where the part says so (only then are they read)."""
        part = parts.part(name)
        row_ids = self.predictions()["row_id"].tolist() if parts.aligned(part) else []
        return parts.read_part(self.staged.path, part, row_ids)

    def remember_cls(self, vectors: np.ndarray) -> None:
        """Keep the evaluation pass's [CLS] vectors for the embed stage (no second forward pass)."""
        self._cls = (self.staged.manifest.parts["predictions"].fingerprint, vectors)

    def finetuned_cls(self) -> np.ndarray | None:
        """The remembered [CLS] vectors, if they belong to the run's current predictions."""
        current = self.staged.manifest.parts.get("predictions")
        if self._cls is None or current is None or current.fingerprint != self._cls[0]:
            return None
        return self._cls[1]
