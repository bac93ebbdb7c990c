"""What the map part holds: `map.parquet` (`row_id` and the 2-D coordinates of each test row's base
and fine-tuned [CLS] vector, rows aligned with the predictions) and `map.json` (`MapInfo`: the UMAP
parameters, seed, timings and how faithful each map is)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from agnews.rundir.files import read_json
from agnews.rundir.parts import MAP_KINDS, Count, JsonFile, Part, Rate, TableFile, parse

COORDINATES = "map.parquet"
INFO = "map.json"
COLUMNS = ("row_id", *(f"{kind}_{axis}" for kind in MAP_KINDS for axis in "xy"))


@dataclass
class MapQuality:
    silhouette_true: float
    knn_agreement_true: Rate
    knn_agreement_pred: Rate
    k: Count


@dataclass
class MapInfo:
    """`map.json`: how `map.parquet`'s coordinates were made and how faithful each map is."""

    method: str
    params: dict[str, Any]
    seed: int
    seconds: dict[str, float]
    quality: dict[str, MapQuality]
    schema_version: int = 1


class Map(NamedTuple):
    """The part: the coordinates and how they were made."""

    coordinates: pd.DataFrame
    info: MapInfo


def legacy_map(path: Path, old_metrics: dict[str, Any], seed: int, row_ids: list[int]) -> Map | None:
    """The map of a run made before parts had schemas (agnews 0.1): `map.json` held the timings under
    other keys and the quality sat in `metrics.json`; None when that run has no map."""
    if not (path / INFO).is_file() or not (path / COORDINATES).is_file() or "maps" not in old_metrics:
        return None
    old = read_json(path / INFO)
    info = parse(
        MapInfo,
        {
            "method": old.get("method", "umap"),
            "params": old.get("params", {}),
            "seed": old.get("seed", seed),
            "seconds": {k.removesuffix("_seconds"): v for k, v in old.get("timing", {}).items()},
            "quality": old_metrics["maps"],
        },
        path / INFO,
    )
    return Map(TableFile(COLUMNS).read(path / COORDINATES, row_ids), info)


PART: Part[Map] = Part(
    "map",
    (COORDINATES, INFO),
    False,
    (TableFile(COLUMNS, aligned=True), JsonFile(MapInfo)),
    value=Map,
    legacy=legacy_map,
)


def coordinates(value: Map) -> pd.DataFrame:
    """The `MAP_COORDINATES` fact: row_id and each map's x and y, rows aligned with the predictions."""
    return value.coordinates
