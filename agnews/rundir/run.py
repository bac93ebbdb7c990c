"""Load a run: every part validated, optional parts that are damaged or stale reported and skipped.

The run directory is the contract between training and everything that shows or ships a model
(the part list is in `agnews.rundir.parts`). `Run.load` names the file and key that is wrong.
Runs written before parts had a manifest load through `agnews.rundir.migrate` (in memory;
`agnews migrate RUN` rewrites them). Nothing in a run is a pickle, and nothing here unpickles.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from agnews.rundir import parts
from agnews.rundir.files import RunError, pickle_files
from agnews.rundir.parts import (
    MANIFEST,
    Baseline,
    Calibration,
    CrossDomainMetrics,
    DataStats,
    Manifest,
    MapInfo,
    Metrics,
    Robustness,
    RunConfig,
    SliceReport,
    Training,
    TrainLabelIssues,
    Tuning,
    read_json_part,
)
from agnews.rundir.stages import maker

if TYPE_CHECKING:
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase


class CrossDomain(NamedTuple):
    """One `cross_domain/<name>` part: its metrics and its per-row predictions."""

    metrics: CrossDomainMetrics
    predictions: pd.DataFrame


@dataclass
class Run:
    """A loaded, validated run directory. Optional parts are None when absent, damaged or stale;
    `cross_domain` holds the usable cross-domain parts by name."""

    path: Path
    manifest: Manifest
    config: RunConfig
    training: Training
    data_stats: DataStats
    metrics: Metrics
    predictions: pd.DataFrame
    baseline: Baseline | None = None
    embeddings: dict[str, np.ndarray] | None = None
    map_coords: pd.DataFrame | None = None
    map_info: MapInfo | None = None
    calibration: Calibration | None = None
    label_issues_test: pd.DataFrame | None = None
    label_issues_train: pd.DataFrame | None = None
    train_label_issues_info: TrainLabelIssues | None = None
    slice_tags: pd.DataFrame | None = None
    slice_report: SliceReport | None = None
    robustness: Robustness | None = None
    tuning: Tuning | None = None
    cross_domain: dict[str, CrossDomain] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def model_path(self) -> Path:
        return self.path / parts.MODEL_DIR

    @property
    def name(self) -> str:
        return self.path.name

    def has(self, part: str) -> bool:
        """Whether the run holds a usable (present, intact, not stale) copy of `part`."""
        return part in self.manifest.parts

    def load_classifier(self) -> PreTrainedModel:
        """The run's fine-tuned classifier: the one place a run's model is loaded (safetensors only)."""
        from agnews.models import load_classifier

        return load_classifier(str(self.model_path))

    def load_tokenizer(self) -> PreTrainedTokenizerBase:
        from agnews.models import load_tokenizer

        return load_tokenizer(str(self.model_path))

    @classmethod
    def load(cls, path: str | Path) -> Run:
        """Load and validate; raise RunError naming exactly what is missing or malformed."""
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
            return cls._load_legacy(path)
        manifest = parts.read_manifest(path)
        missing = [name for name, part in parts.PARTS.items() if part.required and name not in manifest.parts]
        if missing:
            raise RunError(f"{path / MANIFEST}: the run has no {missing} part(s); it is incomplete")
        stale = {name: manifest.stale_inputs(name) for name in ("metrics", "predictions")}
        stale = {name: inputs for name, inputs in stale.items() if inputs}
        if stale:
            raise RunError(
                f"{path}: parts out of step with each other ({stale}); run `agnews evaluate {path}`"
            )
        parts.check_model_dir(path / parts.MODEL_DIR)
        run = cls(
            path=path,
            manifest=manifest,
            config=read_json_part(RunConfig, path / parts.CONFIG),
            training=read_json_part(Training, path / parts.TRAINING),
            data_stats=read_json_part(DataStats, path / parts.DATA_STATS),
            metrics=read_json_part(Metrics, path / parts.METRICS),
            predictions=parts.read_table(path / parts.PREDICTIONS, parts.PREDICTION_COLUMNS),
        )
        run.warnings += [f"stage {w.stage} failed: {w.message}" for w in manifest.warnings]
        run._load_optional_parts()
        return run

    @classmethod
    def _load_legacy(cls, path: Path) -> Run:
        """A run made before manifests, read into today's parts in memory, with a warning that
        says how to migrate it (`agnews.rundir.migrate`)."""
        from agnews.rundir.migrate import LEGACY_NOTE, read_legacy

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
            baseline=legacy.baseline,
            map_info=legacy.map_info,
            warnings=[LEGACY_NOTE.format(path=path)],
        )
        present = ["model", "config", "predictions", "metrics"]
        if (path / parts.EMBEDDINGS).is_file():
            run.embeddings = parts.read_embeddings(path / parts.EMBEDDINGS, len(run.predictions))
            present.append("embeddings")
        if legacy.map_info is not None and (path / parts.MAP).is_file():
            run.map_coords = parts.read_table(path / parts.MAP, parts.MAP_COLUMNS)
            present.append("map")
        if (path / parts.SERVING_ONNX).is_file():
            present.append("serving")
        for name in present:
            run.manifest.parts[name] = parts.PartRecord("legacy", 0, "", {}, "")
        return run

    def _load_optional_parts(self) -> None:
        """Each optional part is read only if the manifest lists it and nothing it was made from
        changed since; a damaged or stale one is reported (with the command that re-makes it) and
        dropped from this Run, never fatal."""
        readers: dict[str, Any] = {
            "serving": lambda: [parts.check_file(self.path / f) for f in parts.PARTS["serving"].files],
            "embeddings": self._read_embeddings,
            "baseline": lambda: setattr(
                self, "baseline", read_json_part(Baseline, self.path / parts.BASELINE)
            ),
            "map": self._read_map,
            "slices": self._read_slices,
            "calibration": lambda: setattr(
                self, "calibration", read_json_part(Calibration, self.path / parts.CALIBRATION)
            ),
            "label_issues_test": self._read_label_issues_test,
            "label_issues_train": self._read_label_issues_train,
            "robustness": lambda: setattr(
                self, "robustness", read_json_part(Robustness, self.path / parts.ROBUSTNESS)
            ),
            "tuning": lambda: setattr(self, "tuning", read_json_part(Tuning, self.path / parts.TUNING)),
        }
        for name in parts.family_members(self.manifest.parts, parts.CROSS_DOMAIN):
            readers[f"{parts.CROSS_DOMAIN}/{name}"] = partial(self._read_cross_domain, name)
        dropped: set[str] = set()
        for name, read in readers.items():
            if name not in self.manifest.parts:
                continue
            stale = self.manifest.stale_inputs(name)
            try:
                if set(stale) & dropped:
                    raise RunError(f"made from {', '.join(sorted(set(stale) & dropped))}, which was ignored")
                if stale:
                    raise RunError(f"made from an older {', '.join(stale)}")
                read()
            except RunError as exc:
                files = ", ".join(parts.part(name).files)
                self.warnings.append(f"{files}: ignored ({exc}); {self._remake(name)} re-makes it")
                del self.manifest.parts[name]
                dropped.add(name)

    def _remake(self, name: str) -> str:
        """The command that makes part `name` again: a stage of `agnews analyze`, its maker's own command,
        or for a cross-domain part, `agnews cross-domain` on its file (spelled out when its metrics
        can still be read)."""
        stage = maker(name)
        if stage.runnable:
            return f"`agnews analyze {self.path} --stages {stage.name}`"
        if stage.name != "cross_domain":
            return f"`{stage.command}`"
        member = name.partition("/")[2]
        _, metrics_file = parts.part(name).files
        try:
            made = read_json_part(CrossDomainMetrics, self.path / metrics_file)
        except RunError:
            return f"`agnews cross-domain {self.path} FILE --label-map MAP --name {member}`"
        words = ["agnews", "cross-domain", str(self.path), made.source, "--text-column", *made.text_columns]
        words += ["--label-column", made.label_column, "--label-map", made.label_map, "--name", member]
        return f"`{shlex.join(words)}`"

    def _read_embeddings(self) -> None:
        self.embeddings = parts.read_embeddings(self.path / parts.EMBEDDINGS, len(self.predictions))

    def _read_map(self) -> None:
        coords = parts.read_table(self.path / parts.MAP, parts.MAP_COLUMNS)
        if coords["row_id"].tolist() != self.predictions["row_id"].tolist():
            raise RunError(f"{self.path / parts.MAP}: rows differ from the predictions'")
        self.map_info = read_json_part(MapInfo, self.path / parts.MAP_INFO)
        self.map_coords = coords

    def _read_slices(self) -> None:
        tags = parts.read_table(self.path / parts.SLICES, ("row_id",))
        if tags["row_id"].tolist() != self.predictions["row_id"].tolist():
            raise RunError(f"{self.path / parts.SLICES}: rows differ from the predictions'")
        report = read_json_part(SliceReport, self.path / parts.SLICES_INFO)
        missing = [tag for tag in report.tags if tag not in tags.columns]
        if missing:
            raise RunError(f"{self.path / parts.SLICES}: missing tag columns {missing}")
        self.slice_report, self.slice_tags = report, tags

    def _read_label_issues_test(self) -> None:
        issues = parts.read_table(self.path / parts.LABEL_ISSUES_TEST, parts.LABEL_ISSUE_COLUMNS)
        if issues["row_id"].tolist() != self.predictions["row_id"].tolist():
            raise RunError(f"{self.path / parts.LABEL_ISSUES_TEST}: rows differ from the predictions'")
        self.label_issues_test = issues

    def _read_label_issues_train(self) -> None:
        issues = parts.read_table(self.path / parts.LABEL_ISSUES_TRAIN, parts.TRAIN_LABEL_ISSUE_COLUMNS)
        self.train_label_issues_info = read_json_part(
            TrainLabelIssues, self.path / parts.LABEL_ISSUES_TRAIN_INFO
        )
        self.label_issues_train = issues

    def _read_cross_domain(self, name: str) -> None:
        predictions_file, metrics_file = parts.part(f"{parts.CROSS_DOMAIN}/{name}").files
        metrics = read_json_part(CrossDomainMetrics, self.path / metrics_file)
        predictions = parts.read_table(self.path / predictions_file, parts.CROSS_DOMAIN_COLUMNS)
        if len(predictions) != metrics.rows:
            raise RunError(
                f"{self.path / predictions_file}: {len(predictions)} rows, its metrics say {metrics.rows}"
            )
        self.cross_domain[name] = CrossDomain(metrics, predictions)


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
