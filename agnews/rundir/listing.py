"""The runs in a folder, as a person picks among them: name, dataset, base model, accuracy, when,
and which default analyses are still to be made.

A listing reads each run's manifest, config and metrics only (never the predictions or the model), so
a page can list every run when it opens. A run is named by its folder's name and found by that name
only (`run_named`): a name a browser or a request sends is never taken as a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.files import RunError
from agnews.rundir.parts import (
    CONFIG,
    FAMILY_NAME,
    MANIFEST,
    METRICS,
    Metrics,
    RunConfig,
    read_json_part,
    read_manifest,
)


@dataclass(frozen=True)
class ListedRun:
    """One run of a listing. `missing_stages`: the default stages whose parts it lacks."""

    name: str
    path: Path
    dataset: str  # the dataset's recorded name (`DatasetDescription.name`)
    base_model: str
    accuracy: float
    rows: int
    created: str  # ISO 8601, as config.json records it
    missing_stages: tuple[str, ...]
    parent: str | None


@dataclass(frozen=True)
class _Parts:
    """What `pending_stages` asks of a run: which parts it holds (here, by its manifest)."""

    names: frozenset[str]

    def has(self, name: str) -> bool:
        return name in self.names


def listed_run(path: Path, catalog: Catalog = CATALOG) -> ListedRun:
    """The listing entry of the run at `path`; RunError if it is not a complete run."""
    if not (path / MANIFEST).is_file():
        raise RunError(f"{path}: not a run (no {MANIFEST})")
    manifest = read_manifest(path)
    config = read_json_part(RunConfig, path / CONFIG)
    metrics = read_json_part(Metrics, path / METRICS)
    return ListedRun(
        name=path.name,
        path=path,
        dataset=config.data.description().name,
        base_model=config.train.base_model,
        accuracy=metrics.test.accuracy,
        rows=metrics.test.rows,
        created=config.created,
        missing_stages=catalog.pending_stages(_Parts(frozenset(manifest.parts))),
        parent=config.parent,
    )


def listed_runs(root: Path | None, catalog: Catalog = CATALOG) -> list[ListedRun]:
    """The complete runs directly under `root`, newest first (hidden folders, which hold staging
    edits, checkpoints and uploads, and folders that are not complete runs are left out)."""
    if root is None or not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        if path.name.startswith(".") or not path.is_dir() or not FAMILY_NAME.fullmatch(path.name):
            continue
        try:
            found.append(listed_run(path, catalog))
        except (RunError, OSError):
            continue
    return sorted(found, key=lambda run: run.created, reverse=True)


def run_named(root: Path | None, name: str) -> Path | None:
    """The run folder `name` directly under `root`, or None: `name` is a run's folder name, never a
    path (anything but a plain name, as runs are named, finds nothing)."""
    if root is None or not FAMILY_NAME.fullmatch(name) or name.startswith("."):
        return None
    path = root / name
    return path if (path / MANIFEST).is_file() else None
