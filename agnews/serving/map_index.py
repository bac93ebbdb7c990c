"""Place a new text on a run's stored map without refitting UMAP: by its nearest stored neighbours.

Maps are stored as coordinates, never as a pickled UMAP object; placing by neighbours also gives the
person using the app an explanation (the stored rows that put the text there). `unit_rows` and
`nearest` are the one cosine nearest-neighbour search of the package (the Neighbours tab's too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """`vectors` (one per row) scaled to unit length, float32: cosine similarity is then a dot product."""
    vectors = vectors.astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def nearest(unit: np.ndarray, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the `k` rows of `unit` (unit rows, float32) most cosine-similar to `vector`,
    most similar first (ties by position), and their similarities.

    A partial sort (`argpartition`) then a sort of the `k` found: the cost is the one matrix-vector
    product, not a sort of every row. That product is numpy's own single-threaded loop (`einsum`), not
    BLAS: a threaded BLAS product waits for every core, and on a server whose cores are busy with the
    model each such wait is a scheduler time slice, far longer than the product itself.
    """
    sims = np.einsum("ij,j->i", unit, unit_rows(vector.reshape(1, -1))[0])
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    top = top[np.lexsort((top, -sims[top]))]
    return top, sims[top]


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
        self._unit = unit_rows(vectors)
        self._coords = np.asarray(coords, dtype=np.float32)
        self._temperature = temperature

    def place(self, vector: np.ndarray, k: int = 10) -> Placement:
        """Weighted mean of the k most similar stored points; weights sharpen toward the closest."""
        top, sims = nearest(self._unit, vector, k)
        weights = np.exp((sims - sims[0]) / self._temperature)
        x, y = (weights[:, None] * self._coords[top]).sum(axis=0) / weights.sum()
        return Placement(float(x), float(y), top, sims)
