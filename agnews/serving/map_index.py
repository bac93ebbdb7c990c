"""Place a new text on a run's stored map without refitting UMAP: by its nearest stored neighbours.

Maps are stored as coordinates, never as a pickled UMAP object; placing by neighbours also gives the
person using the app an explanation (the stored rows that put the text there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Placement:
    """Where a new text lands on a map, and the stored rows that put it there (most similar first)."""

    x: float
    y: float
    neighbours: np.ndarray  # row positions in predictions / coordinates
    similarities: np.ndarray


class MapIndex:
    """Cosine nearest-neighbour index over stored embeddings, for placing new text without refitting."""

    def __init__(self, vectors: np.ndarray, coords: np.ndarray, *, temperature: float = 0.05) -> None:
        if len(vectors) != len(coords):
            raise ValueError(f"{len(vectors)} vectors but {len(coords)} coordinates")
        self._unit = _normalise(vectors)
        self._coords = np.asarray(coords, dtype=np.float32)
        self._temperature = temperature

    def place(self, vector: np.ndarray, k: int = 10) -> Placement:
        """Weighted mean of the k most similar stored points; weights sharpen toward the closest."""
        sims = self._unit @ _normalise(vector.reshape(1, -1))[0]
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        weights = np.exp((sims[top] - sims[top[0]]) / self._temperature)
        x, y = (weights[:, None] * self._coords[top]).sum(axis=0) / weights.sum()
        return Placement(float(x), float(y), top, sims[top])
