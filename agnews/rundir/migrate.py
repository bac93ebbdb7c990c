"""Runs made before parts had schemas and a manifest (agnews 0.1 of the first wave).

Their files hold the same facts in another shape: `metrics.json` also carried the validation scores,
timings, the frozen baseline and map quality; `predictions.parquet` had no logits. `read_legacy`
reads such a run into today's parts in memory (`Run.load` opens old runs and pulled repositories
with it);
`migrate_run` (`agnews migrate RUN`) rewrites the run in today's layout, atomically; it also gives a
run made with older names today's (`agnews.rundir.renames`), and writes out a part an older agnews
kept inside another part's file.

Logits are not recoverable from probabilities, but log-probabilities are logits up to a per-row
constant, which softmax ignores: calibration and every other use of logits give the same answers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agnews.rundir import parts
from agnews.rundir.files import RunError, read_json
from agnews.rundir.parts import (
    Baseline,
    DataStats,
    Metrics,
    RunConfig,
    Training,
    parse,
)
from agnews.rundir.renames import RENAMED_PARTS, RENAMED_STAGES, SPLIT_PARTS

if TYPE_CHECKING:
    from agnews.rundir.catalog import Catalog
    from agnews.rundir.edit import RunEditor

LEGACY_NOTE = "made by an older agnews (no manifest.json); `agnews migrate {path}` rewrites it"


@dataclasses.dataclass
class LegacyParts:
    """The typed parts read out of a legacy run's files (optional ones None when absent)."""

    config: RunConfig
    training: Training
    data_stats: DataStats
    metrics: Metrics
    predictions: pd.DataFrame
    baseline: Baseline | None
    old_metrics: dict[str, Any]  # as the old `metrics.json` was: some parts' facts are in it (`Part.legacy`)


def _with_logits(predictions: pd.DataFrame) -> pd.DataFrame:
    classes = parts.class_count(predictions)
    if all(c in predictions.columns for c in parts.logit_columns(classes)):
        return predictions
    frame = predictions.copy()
    probs = frame[list(parts.prob_columns(classes))].to_numpy(dtype=np.float64)
    for column, values in zip(
        parts.logit_columns(classes), np.log(np.clip(probs, 1e-30, None)).T, strict=True
    ):
        frame[column] = values.astype(np.float32)
    return frame


def read_legacy(path: Path) -> LegacyParts:
    """Today's parts from a legacy run's files; RunError names the file when one does not fit."""
    config = read_json(path / parts.CONFIG)
    old_metrics = read_json(path / parts.METRICS)
    timing: dict[str, Any] = old_metrics.get("timing", {})
    train = dict(config.get("train", {}))
    train.setdefault("split_seed", train.get("seed", 42))  # the old split used the training seed
    run_config = parse(RunConfig, {**config, "train": train}, path / parts.CONFIG)
    test = old_metrics.get("test", {})
    metrics = parse(
        Metrics,
        {
            "test": test,
            "test_origin": config.get("data", {}).get("origins", {}).get("test", ""),
            "test_hash": config.get("data", {}).get("split_hashes", {}).get("test", ""),
            "seconds": timing.get("test_seconds", 0.0),
            "samples_per_second": timing.get("test_samples_per_second", 0.0),
        },
        path / parts.METRICS,
    )
    log = read_json(path / parts.TRAINING) if (path / parts.TRAINING).is_file() else {}
    training = parse(
        Training,
        {
            "validation": old_metrics.get("validation", {}),
            "best_checkpoint": old_metrics.get("best_checkpoint"),
            "seconds": timing.get("train_seconds", 0.0),
            "samples_per_second": timing.get("train_samples_per_second"),
            "device": timing.get("device", "cpu"),
            "precision": timing.get("precision", "no"),
            "log_history": log.get("log_history", []),
        },
        path / parts.TRAINING,
    )
    stats = read_json(path / parts.DATA_STATS) if (path / parts.DATA_STATS).is_file() else {}
    data_stats = parse(
        DataStats,
        {
            "splits": {k: v for k, v in stats.items() if isinstance(v, dict)},
            "duplicates_dropped_from_train": stats.get("duplicates_dropped_from_train", 0),
            "repeated_training_rows_dropped": stats.get("repeated_training_rows_dropped", 0),
        },
        path / parts.DATA_STATS,
    )
    baseline = None
    if "frozen_baseline" in old_metrics:
        baseline = parse(Baseline, old_metrics["frozen_baseline"], path / parts.METRICS)
    predictions = parts.read_table(path / parts.PREDICTIONS, parts.PREDICTION_COLUMNS)
    return LegacyParts(
        run_config, training, data_stats, metrics, _with_logits(predictions), baseline, old_metrics
    )


def legacy_values(path: Path, legacy: LegacyParts, catalog: Catalog) -> dict[str, Any]:
    """The parts whose declaration says how a legacy run held them (`Part.legacy`), by name, as read
    (a part it does not hold is left out)."""
    row_ids = legacy.predictions["row_id"].tolist()
    found = {
        part.name: part.legacy(path, legacy.old_metrics, legacy.config.train.seed, row_ids)
        for part in catalog.parts.values()
        if part.legacy is not None
    }
    return {name: value for name, value in found.items() if value is not None}


def _parts_to_split(path: Path, recorded: set[str]) -> list[tuple[str, str, str, str]]:
    """The parts of `SPLIT_PARTS` the run at `path` still keeps inside another part's file."""
    return [
        (source, file, key, target)
        for (source, file, key), target in SPLIT_PARTS.items()
        if source in recorded
        and target not in recorded
        and (path / file).is_file()
        and read_json(path / file).get(key) is not None
    ]


def _split_out(edit: RunEditor, source: str, data: Any, origin: Path, target: str) -> None:
    """Write `data` (a key of `source`'s file `origin`) as the part `target`, recorded as made from
    what `source` was made from, with the fingerprints it recorded (so it is as fresh as `source`)."""
    [json_file] = edit.catalog.part(target).formats
    assert isinstance(json_file, parts.JsonFile)
    needs = edit.catalog.maker(target).needs
    made_from = edit.manifest.parts[source].made_from
    edit.write(
        target, parse(json_file.schema, data, origin), made_from=tuple(n for n in needs if n in made_from)
    )
    edit.manifest.parts[target].made_from = {n: made_from[n] for n in needs if n in made_from}


def migrate_run(path: str | Path) -> list[str]:
    """Rewrite a legacy run in today's layout (atomically); returns the parts it now records. A run
    whose manifest records names older agnews gave (`agnews.rundir.renames`) gets today's."""
    from agnews.rundir.edit import edit_run

    path = Path(path).expanduser()
    if (path / parts.MANIFEST).is_file():
        recorded = read_json(path / parts.MANIFEST)
        stages = {record.get("stage") for record in recorded.get("parts", {}).values()}
        renamed = set(recorded.get("parts", {})) & set(RENAMED_PARTS) or stages & set(RENAMED_STAGES)
        if not (renamed or _parts_to_split(path, set(recorded.get("parts", {})))):
            raise RunError(f"{path}: already in today's layout; nothing to migrate")
        with edit_run(path) as edit:  # the manifest is read with today's names and written back so
            for source, file, key, target in _parts_to_split(edit.path, set(edit.manifest.parts)):
                _split_out(edit, source, read_json(edit.path / file)[key], edit.path / file, target)
            return sorted(edit.manifest.parts)
    legacy = read_legacy(path)
    with edit_run(path) as edit:
        edit.record("model", made_from=())
        edit.write("config", legacy.config, made_from=())
        edit.write("training", legacy.training, made_from=("model", "config"))
        edit.write("data_stats", legacy.data_stats, made_from=("config",))
        edit.write("predictions", legacy.predictions, made_from=("model", "config"))
        edit.write("metrics", legacy.metrics, made_from=("predictions",))
        if (edit.path / parts.SERVING_ONNX).is_file() and (edit.path / parts.SERVING_ONNX_INT8).is_file():
            edit.record("serving", made_from=("model",))
        if (edit.path / parts.EMBEDDINGS).is_file():
            edit.record("embeddings", made_from=("model", "predictions"))
        if "embeddings" in edit.manifest.parts and legacy.baseline is not None:
            edit.write("baseline", legacy.baseline, made_from=("embeddings", "predictions"))
        for name, value in legacy_values(edit.path, legacy, edit.catalog).items():
            needs = edit.catalog.maker(name).needs
            if all(source in edit.manifest.parts for source in needs):
                edit.write(name, *value, made_from=needs)
        return sorted(edit.manifest.parts)
