"""The run directory: the contract between training and everything that shows or ships a model.

Layout (required parts first):
    config.json          all settings, seed, library versions, data source, split content hashes
    model/               safetensors weights, config with id2label/label2id, tokenizer
    metrics.json         test metrics (plus validation, baselines and map quality when present)
    predictions.parquet  one row per test example with the four probabilities
    data_stats.json      per-split class counts and text lengths, duplicates dropped
    train_log.json       the Trainer's log history
    embeddings.safetensors  optional: base and fine-tuned [CLS] vectors aligned with predictions
    map.parquet, map.json   optional: 2-D coordinates and the UMAP parameters used
    serving.onnx, serving_int8.onnx  optional: the classifier for ONNX Runtime (agnews.serving_onnx)

A run is built in a hidden temporary sibling and renamed into place, so a directory under its final
name is always complete. Nothing in a run is a pickle, and nothing here unpickles.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agnews.labels import NUM_LABELS

CONFIG = "config.json"
MODEL_DIR = "model"
METRICS = "metrics.json"
PREDICTIONS = "predictions.parquet"
DATA_STATS = "data_stats.json"
TRAIN_LOG = "train_log.json"
EMBEDDINGS = "embeddings.safetensors"
MAP = "map.parquet"
MAP_INFO = "map.json"
SERVING_ONNX = "serving.onnx"
SERVING_ONNX_INT8 = "serving_int8.onnx"
# How typed text can be classified: the run's PyTorch model or one of its ONNX graphs (here, not in
# agnews.serving_onnx, so the launcher can offer the choice without importing torch).
SERVING_CHOICES = ("auto", "torch", "onnx", "onnx-int8")

PREDICTION_COLUMNS = (
    *("row_id", "text", "label", "label_name", "pred", "pred_name", "confidence"),
    *(f"prob_{i}" for i in range(NUM_LABELS)),
)
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


class RunError(ValueError):
    """A run directory that is missing, incomplete or malformed; the message names the file."""


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write` on a hidden temporary sibling of `path`, then rename it into place: a reader
    never sees half a file, and a failed write leaves no temporary file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def check_writable(folder: Path) -> None:
    """Fail now, not after hours of training, when the output folder cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-") as probe:
            probe.write(b"x" * 1024)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise RunError(f"{folder}: cannot write there ({exc.strerror}); choose another --out") from exc


@contextlib.contextmanager
def building_run(final: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling to fill; on success rename it to `final`, on failure delete it."""
    final = final.expanduser().resolve()
    if final.exists() and not overwrite:
        raise RunError(f"{final}: already exists; choose another --out or pass --overwrite")
    check_writable(final.parent)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    tmp.chmod(0o755)
    try:
        yield tmp
        if final.exists():
            trash = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
            os.replace(final, trash / final.name)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise RunError(f"{path}: missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object")
    return data


def _check_model_dir(folder: Path) -> None:
    if not folder.is_dir():
        raise RunError(f"{folder}: missing (the fine-tuned model)")
    config = _read_json(folder / "config.json")
    if not (folder / "model.safetensors").is_file():
        raise RunError(f"{folder / 'model.safetensors'}: missing (weights must be safetensors)")
    _check_safetensors_header(folder / "model.safetensors")
    if not ((folder / "tokenizer.json").is_file() or (folder / "vocab.txt").is_file()):
        raise RunError(f"{folder}: no tokenizer files (tokenizer.json)")
    id2label = config.get("id2label") or {}
    if len(id2label) != NUM_LABELS:
        raise RunError(f"{folder / 'config.json'}: expected {NUM_LABELS} named labels in id2label")


def _check_safetensors_header(path: Path) -> None:
    """Cheap integrity check: the 8-byte header length and JSON header must be intact."""
    try:
        with path.open("rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            if size <= 0 or size > 100_000_000:
                raise ValueError("bad header length")
            json.loads(handle.read(size))
            handle.seek(0, os.SEEK_END)
            if handle.tell() < 8 + size:
                raise ValueError("truncated")
    except (ValueError, OSError) as exc:
        raise RunError(f"{path}: corrupted safetensors file ({exc})") from exc


def _read_predictions(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise RunError(f"{path}: missing")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise RunError(f"{path}: unreadable parquet ({exc})") from exc
    missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
    if missing:
        raise RunError(f"{path}: missing columns {missing}")
    return frame


@dataclass
class Run:
    """A loaded, validated run directory. Optional parts are None when absent."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    data_stats: dict[str, Any] | None = None
    embeddings: dict[str, np.ndarray] | None = None
    map_coords: pd.DataFrame | None = None
    map_info: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_DIR

    @property
    def name(self) -> str:
        return self.path.name

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
        config = _read_json(path / CONFIG)
        _check_model_dir(path / MODEL_DIR)
        metrics = _read_json(path / METRICS)
        if "test" not in metrics or "accuracy" not in metrics["test"]:
            raise RunError(f"{path / METRICS}: no test accuracy")
        predictions = _read_predictions(path / PREDICTIONS)
        run = cls(path=path, config=config, metrics=metrics, predictions=predictions)
        if (path / DATA_STATS).is_file():
            run.data_stats = _read_json(path / DATA_STATS)
        run._load_optional_map_parts()
        return run

    @classmethod
    def from_hub(cls, repo_id: str, revision: str | None = None) -> Run:
        """Download a run pushed with `agnews push` into the Hugging Face cache and load it.

        See `agnews.hub.load_run_from_hub`; imported lazily so local runs never load hub code.
        """
        from agnews.hub import load_run_from_hub

        return load_run_from_hub(repo_id, revision=revision)

    def _load_optional_map_parts(self) -> None:
        """Embeddings and map are optional: a damaged one is reported and skipped, not fatal."""
        from safetensors.numpy import load_file

        rows = len(self.predictions)
        if (self.path / EMBEDDINGS).is_file():
            try:
                embeddings = load_file(self.path / EMBEDDINGS)
                bad = {k: v.shape for k, v in embeddings.items() if v.shape[0] != rows}
                if bad:
                    raise ValueError(f"row counts {bad} differ from predictions ({rows})")
                self.embeddings = embeddings
            except Exception as exc:
                self.warnings.append(f"{EMBEDDINGS}: ignored ({exc})")
        if (self.path / MAP).is_file():
            try:
                coords = pd.read_parquet(self.path / MAP)
                if len(coords) != rows:
                    raise ValueError(f"{len(coords)} rows, predictions have {rows}")
                self.map_info = _read_json(self.path / MAP_INFO)
                self.map_coords = coords
            except Exception as exc:
                self.warnings.append(f"{MAP}: ignored ({exc})")


def latest_run(root: Path) -> Run | None:
    """The newest complete run under `root`, loaded (hidden temporary folders are never candidates).

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


def pickle_files(folder: Path) -> list[Path]:
    """Files that could hold pickles; a run must have none."""
    return [p for p in folder.rglob("*") if p.suffix in PICKLE_SUFFIXES]
