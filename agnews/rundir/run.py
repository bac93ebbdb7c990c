"""Load a run: every part validated, optional parts that are damaged or stale reported and skipped.

The run directory is the contract between training and everything that shows or ships a model
(what a run can hold: its `agnews.rundir.catalog.Catalog`). `Run.load` names the file and key that
is wrong.
Runs written before parts had a manifest load through `agnews.rundir.migrate` (in memory;
`agnews migrate RUN` rewrites them). Nothing in a run is a pickle, and nothing here unpickles.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG, Catalog, load_attribute
from agnews.rundir.declarations import Fact
from agnews.rundir.files import RunError, pickle_files, read_json
from agnews.rundir.parts import (
    MANIFEST,
    Baseline,
    DataStats,
    Manifest,
    Metrics,
    Part,
    PartFamily,
    RunConfig,
    Training,
    read_part,
)

if TYPE_CHECKING:
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase


Value = TypeVar("Value")


@dataclass
class Run:
    """A loaded, validated run directory: the required parts as fields, every other usable part
    (present, intact, not stale) in `loaded` by name, read through `get(part)` (typed by the part's
    declaration) or the accessors below (None when the run lacks the part, or `Run.load` dropped it
    as damaged or stale). `catalog`: what the run may hold, as it was loaded with."""

    path: Path
    manifest: Manifest
    config: RunConfig
    training: Training
    data_stats: DataStats
    metrics: Metrics
    predictions: pd.DataFrame
    loaded: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    catalog: Catalog = CATALOG
    # Views that cost more than a lookup (an index of vectors), made from this loaded run once and
    # kept as long as it (`derived`); a copy (`dataclasses.replace`) or a new load starts without.
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _deriving: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def model_path(self) -> Path:
        return self.path / parts.MODEL_DIR

    @property
    def name(self) -> str:
        return self.path.name

    def has(self, part: str) -> bool:
        """Whether the run holds a usable (present, intact, not stale) copy of `part`."""
        return part in self.manifest.parts

    def part(self, name: str) -> Any:
        """Optional part `name` as read (`parts.read_part`: one value, or one per file), or None."""
        return self.loaded.get(name)

    def get(self, part: Part[Value]) -> Value | None:
        """The declared `part` as read (`parts.read_part`), or None when the run lacks it."""
        return self.loaded.get(part.name)

    def derived(self, name: str, build: Callable[[], Value]) -> Value:
        """What `build` makes of this run, made once (a second asker waits for the first) and kept
        with the run: the one owner of a derived view's cache."""
        with self._deriving:
            if name not in self._derived:
                self._derived[name] = build()
            return self._derived[name]

    def fact(self, fact: Fact[Value]) -> Value | None:
        """`fact` as the first analysis that answers it from a part the run has says (None: none can)."""
        return self.catalog.answer(fact, self.loaded.__contains__, self.loaded.__getitem__)

    def fact_remake(self, fact: Fact[Value]) -> str:
        """The command that adds what `fact` is read from, in backticks (the first analysis that can)."""
        part = self.catalog.source(fact)
        return self.catalog.unanswered(fact) if part is None else self._remake(part)

    @property
    def baseline(self) -> Baseline | None:
        return self.part("baseline")

    @property
    def embeddings(self) -> dict[str, np.ndarray] | None:
        return self.part("embeddings")

    def members(self, family: PartFamily[Value]) -> dict[str, Value]:
        """The usable members of a part family, by name (sorted)."""
        names = parts.family_members(self.loaded, family.prefix)
        return {name: self.loaded[f"{family.prefix}/{name}"] for name in names}

    def load_classifier(self) -> PreTrainedModel:
        """The run's fine-tuned classifier: the one place a run's model is loaded (safetensors only)."""
        from agnews.models import load_classifier

        return load_classifier(str(self.model_path))

    def load_tokenizer(self) -> PreTrainedTokenizerBase:
        from agnews.models import load_tokenizer

        return load_tokenizer(str(self.model_path))

    @classmethod
    def load(cls, path: str | Path, catalog: Catalog = CATALOG) -> Run:
        """Load and validate; raise RunError naming exactly what is missing or malformed. `catalog`
        says which parts the run may hold (a test's own list of analyses passes its own)."""
        path = Path(path).expanduser()
        if not path.is_dir():
            raise RunError(f"{path}: run directory not found")
        unsafe = pickle_files(path)
        if unsafe:
            names = ", ".join(str(p.relative_to(path)) for p in unsafe[:5])
            raise RunError(
                f"{path}: holds pickle-format files ({names}); a run must not, refusing to load it"
            )
        if not (path / MANIFEST).is_file():
            return cls._load_legacy(path, catalog)
        manifest = parts.read_manifest(path)
        missing = [
            name for name, part in catalog.parts.items() if part.required and name not in manifest.parts
        ]
        if missing:
            raise RunError(f"{path / MANIFEST}: the run has no {missing} part(s); it is incomplete")
        stale = {name: manifest.stale_inputs(name) for name in ("metrics", "predictions")}
        stale = {name: inputs for name, inputs in stale.items() if inputs}
        if stale:
            raise RunError(
                f"{path}: parts out of step with each other ({stale}); run `agnews evaluate {path}`"
            )
        predictions = _read_required(path, catalog.parts["predictions"], [])
        row_ids = predictions["row_id"].tolist()
        required = {
            name: _read_required(path, part, row_ids)
            for name, part in catalog.parts.items()
            if part.required and name != "predictions"
        }
        run = cls(
            path=path,
            manifest=manifest,
            config=required["config"],
            training=required["training"],
            data_stats=required["data_stats"],
            metrics=required["metrics"],
            predictions=predictions,
            catalog=catalog,
        )
        _check_classes(run)
        run.warnings += [f"stage {w.stage} failed: {w.message}" for w in manifest.warnings]
        run._load_optional_parts(row_ids)
        return run

    @property
    def classes(self) -> tuple[str, ...]:
        """The run's classes in class-id order (`RunConfig.classes`)."""
        return self.config.classes

    @classmethod
    def _load_legacy(cls, path: Path, catalog: Catalog) -> Run:
        """A run made before manifests, read into today's parts in memory, with a warning that
        says how to migrate it (`agnews.rundir.migrate`)."""
        from agnews.rundir.migrate import LEGACY_NOTE, legacy_values, read_legacy

        if not (path / parts.CONFIG).is_file():
            raise RunError(f"{path / MANIFEST}: missing; not a run directory")
        parts.check_model_dir(path / parts.MODEL_DIR)
        legacy = read_legacy(path)
        run = cls(
            path=path,
            manifest=Manifest(),
            config=legacy.config,
            training=legacy.training,
            data_stats=legacy.data_stats,
            metrics=legacy.metrics,
            predictions=legacy.predictions,
            warnings=[LEGACY_NOTE.format(path=path)],
            catalog=catalog,
        )
        row_ids = legacy.predictions["row_id"].tolist()
        present = ["model", "config", "predictions", "metrics"]
        if legacy.baseline is not None:
            run.loaded["baseline"] = legacy.baseline
        if (path / parts.EMBEDDINGS).is_file():
            run.loaded["embeddings"] = parts.EmbeddingsFile().read(path / parts.EMBEDDINGS, row_ids)
            present.append("embeddings")
        for name, value in legacy_values(path, legacy, catalog).items():
            if all(source in present for source in catalog.maker(name).needs):
                run.loaded[name] = value
                present.append(name)
        if (path / parts.SERVING_ONNX).is_file():
            present.append("serving")
        for name in present:
            run.manifest.parts[name] = parts.PartRecord("legacy", 0, "", {}, "")
        return run

    def _load_optional_parts(self, row_ids: list[int]) -> None:
        """Each optional part in the manifest is read the way its declaration says (`parts.read_part`),
        inputs before the parts made from them, and only if nothing it was made from changed since;
        a damaged or stale one is reported (with the command that re-makes it) and dropped from this
        Run, never fatal. A part no agnews declares (made by a newer one) is left unread."""
        dropped: set[str] = set()
        for name in _inputs_first(self.manifest):
            try:
                part = self.catalog.part(name)
            except RunError:
                continue
            if part.required:
                continue
            stale = self.manifest.stale_inputs(name)
            try:
                if set(stale) & dropped:
                    raise RunError(f"made from {', '.join(sorted(set(stale) & dropped))}, which was ignored")
                if stale:
                    raise RunError(f"made from an older {', '.join(stale)}")
                self.loaded[name] = read_part(self.path, part, row_ids)
            except RunError as exc:
                files = ", ".join(part.files)
                self.warnings.append(f"{files}: ignored ({exc}); {self._remake(name)} re-makes it")
                del self.manifest.parts[name]
                dropped.add(name)

    def _remake(self, name: str) -> str:
        """The command that makes part `name` again: a stage of `agnews analyze`, its maker's own
        command, spelt out for this part where the maker's declaration can (`Stage.remake`)."""
        stage = self.catalog.maker(name)
        if stage.runnable:
            return f"`agnews analyze {self.path} --stages {stage.name}`"
        if stage.remake is not None:
            return load_attribute(stage.remake)(self.path, name)
        return f"`{stage.command}`"


def _read_required(path: Path, part: Part, row_ids: list[int]) -> Any:
    """Required `part` of the run at `path`; its RunError (which names the file and key) also
    says that no run can be shown or analysed without it, and what brings it back."""
    try:
        return read_part(path, part, row_ids)
    except RunError as exc:
        raise RunError(
            f"{exc} (the {part.name} part is required: restore the file from a copy of the run, "
            "or train the run again)"
        ) from exc


def _check_classes(run: Run) -> None:
    """The config's classes are the model's (`id2label`), the predictions' probability columns and
    the metrics' confusion matrix columns: every view indexes one by the others."""
    classes = list(run.classes)
    model = read_json(run.model_path / "config.json").get("id2label") or {}
    named = [model.get(str(i), model.get(i)) for i in range(len(model))]
    found = {
        f"{run.model_path / 'config.json'} id2label": named,
        f"{run.path / parts.METRICS} confusion_matrix_labels": run.metrics.test.confusion_matrix_labels,
    }
    for where, names in found.items():
        if list(names) != classes:
            raise RunError(
                f"{where}: classes {list(names)} are not the run's classes {classes} (config.json)"
            )
    columns = parts.class_count(run.predictions, run.path / parts.PREDICTIONS)
    if columns != len(classes):
        raise RunError(
            f"{run.path / parts.PREDICTIONS}: scores {columns} classes; the run has {len(classes)} "
            "(config.json)"
        )


def _inputs_first(manifest: Manifest) -> list[str]:
    """The manifest's parts ordered so that each comes after the parts it was made from (a part made
    again later sits after the parts made from its older version in the manifest itself)."""
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str, visiting: frozenset[str]) -> None:
        if name in placed or name in visiting or name not in manifest.parts:
            return
        for source in manifest.parts[name].made_from:
            place(source, visiting | {name})
        placed.add(name)
        ordered.append(name)

    for name in manifest.parts:
        place(name, frozenset())
    return ordered


def latest_run(root: Path) -> Run | None:
    """The newest complete run under `root`, loaded (hidden staging folders are never candidates).

    Returned loaded, because telling complete from incomplete means loading it anyway.
    """
    if not root.is_dir():
        return None
    candidates = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for path in candidates:
        try:
            return Run.load(path)
        except RunError:
            continue
    return None
