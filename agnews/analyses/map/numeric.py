"""The numbers behind the map: a seeded cosine UMAP to 2-D, and how faithfully a 2-D picture keeps
the classes and the model's predictions. Pure functions of arrays."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

UMAP_PARAMS: dict[str, Any] = {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "n_components": 2}
KNN_FOR_QUALITY = 10


def _numba_cache() -> None:
    """Persist numba's compiled UMAP kernels across processes (part of the compile is then skipped)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "agnews" / "numba"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(default))


def umap_2d(vectors: np.ndarray, seed: int) -> np.ndarray:
    """Seeded cosine UMAP of `vectors` ((rows, dims)) to (rows, 2); same seed and machine give
    identical coordinates."""
    _numba_cache()
    import umap

    reducer = umap.UMAP(**UMAP_PARAMS, random_state=seed)
    return reducer.fit_transform(vectors.astype(np.float32)).astype(np.float32)


def map_quality(coords: np.ndarray, labels: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    """How faithfully a 2-D picture reflects the classes and the model.

    `coords`: (rows, 2); `labels`, `preds`: (rows,) class ids. Silhouette by true label, and the
    share of points whose 10 nearest 2-D neighbours' majority class equals the point's true label /
    the model's prediction.
    """
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    k = min(KNN_FOR_QUALITY, len(coords) - 1)
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords)
    neighbour_labels = labels[neighbours[:, 1:]]
    classes = int(max(labels.max(), preds.max())) + 1
    majority = np.array([np.bincount(row, minlength=classes).argmax() for row in neighbour_labels])
    return {
        "silhouette_true": float(silhouette_score(coords, labels)),
        "knn_agreement_true": float((majority == labels).mean()),
        "knn_agreement_pred": float((majority == preds).mean()),
        "k": k,
    }
