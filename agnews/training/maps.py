"""The map stage: 2-D UMAP coordinates of the stored [CLS] vectors, and how faithful each map is.

Reads the `embeddings` and `predictions` parts, writes the `map` part (`map.parquet` with one row
per prediction, `map.json` with the UMAP parameters, seed, timings and quality). The app never runs
UMAP: it shows these coordinates and places new text by neighbours (`agnews.serving.map_index`).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agnews import events
from agnews.inference import infer
from agnews.rundir.parts import MAP_KINDS, MapInfo, MapQuality
from agnews.rundir.run import Run
from agnews.serving.map_index import MapIndex

if TYPE_CHECKING:
    from agnews.training.context import StageContext

UMAP_PARAMS: dict[str, Any] = {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "n_components": 2}
KNN_FOR_QUALITY = 10


def _numba_cache() -> None:
    """Persist numba's compiled UMAP kernels across processes (part of the compile is then skipped)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "agnews" / "numba"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(default))


def umap_2d(vectors: np.ndarray, seed: int) -> np.ndarray:
    """Seeded cosine UMAP to 2-D; same seed and machine give identical coordinates."""
    _numba_cache()
    import umap

    reducer = umap.UMAP(**UMAP_PARAMS, random_state=seed)
    return reducer.fit_transform(vectors.astype(np.float32)).astype(np.float32)


def map_quality(coords: np.ndarray, labels: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """How faithfully a 2-D picture reflects the classes and the model.

    Silhouette by true label, and the share of points whose 10 nearest 2-D neighbours' majority class
    equals the point's true label / the model's prediction.
    """
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    k = min(KNN_FOR_QUALITY, len(coords) - 1)
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    neighbour_labels = labels[neighbours[:, 1:]]
    majority = np.array([np.bincount(row, minlength=4).argmax() for row in neighbour_labels])
    return {
        "silhouette_true": float(silhouette_score(coords, labels)),
        "knn_agreement_true": float((majority == labels).mean()),
        "knn_agreement_pred": float((majority == preds).mean()),
        "k": k,
    }


def map_stage(context: StageContext) -> None:
    """UMAP of base and fine-tuned [CLS] vectors of every scored test row, with map quality."""
    edit = context.staged
    predictions = context.predictions()
    embeddings = context.read("embeddings")
    labels, preds = predictions["label"].to_numpy(), predictions["pred"].to_numpy()
    frame = pd.DataFrame({"row_id": predictions["row_id"].to_numpy()})
    seconds: dict[str, float] = {}
    quality: dict[str, MapQuality] = {}
    for kind in MAP_KINDS:
        doing = f"UMAP of {kind} [CLS] vectors ({len(labels)} points)"
        events.step(doing)
        if context.progress:
            print(f"{doing}...", flush=True)
        started = time.perf_counter()
        coords = umap_2d(embeddings[f"{kind}_cls"], context.config.seed)
        seconds[kind] = round(time.perf_counter() - started, 1)
        frame[f"{kind}_x"], frame[f"{kind}_y"] = coords[:, 0], coords[:, 1]
        quality[kind] = MapQuality(**map_quality(coords, labels, preds))
    info = MapInfo(
        method="umap", params=UMAP_PARAMS, seed=context.config.seed, seconds=seconds, quality=quality
    )
    edit.write("map", frame, info)


@dataclass(frozen=True)
class PlacementCheck:
    """Stored test texts placed anew: does each land on its own point, and how close?"""

    own_row_first: np.ndarray  # per placed text: its own row is the nearest stored neighbour
    distances: np.ndarray  # per placed text: 2-D distance from where it was placed to its stored point
    tenth_neighbour: np.ndarray  # per map point: distance to its 10th-nearest map point (the spacing)


def check_placement(run: Run, rows: np.ndarray) -> PlacementCheck:
    """Re-embed the texts at positions `rows` with the run's model and place them on its fine-tuned map.

    Shared by the test and `bench/embed_map.py`, so both check placement the same way.
    """
    from sklearn.neighbors import NearestNeighbors

    if run.embeddings is None or run.map_coords is None:
        raise ValueError(f"{run.path}: the run has no embeddings or map to place text on")
    coords = run.map_coords[["finetuned_x", "finetuned_y"]].to_numpy()
    index = MapIndex(run.embeddings["finetuned_cls"], coords)
    texts = run.predictions["text"].iloc[rows].tolist()
    fresh = infer(run.load_classifier(), run.load_tokenizer(), texts, progress=False)
    placements = [index.place(vector) for vector in fresh.cls]
    tenth = NearestNeighbors(n_neighbors=11).fit(coords).kneighbors(coords)[0][:, 10]
    return PlacementCheck(
        own_row_first=np.array([p.neighbours[0] == row for p, row in zip(placements, rows, strict=True)]),
        distances=np.array(
            [np.hypot(p.x - coords[r, 0], p.y - coords[r, 1]) for p, r in zip(placements, rows, strict=True)]
        ),
        tenth_neighbour=tenth,
    )
