"""Does a text typed into the page land where it belongs? Stored test texts are embedded anew and
placed on the run's fine-tuned map the way the page places typed text (`agnews.serving.map_index`);
shared by the test and `bench/embed_map.py`, so both check placement the same way."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agnews.analyses.map.schema import PART
from agnews.inference import infer
from agnews.rundir.run import Run
from agnews.serving.map_index import MapIndex


@dataclass(frozen=True)
class PlacementCheck:
    """Stored test texts placed anew: does each land on its own point, and how close?"""

    own_row_first: np.ndarray  # per placed text: its own row is the nearest stored neighbour
    distances: np.ndarray  # per placed text: 2-D distance from where it was placed to its stored point
    tenth_neighbour: np.ndarray  # per map point: distance to its 10th-nearest map point (the spacing)


def check_placement(run: Run, rows: np.ndarray) -> PlacementCheck:
    """Re-embed the texts at positions `rows` with the run's model and place them on its fine-tuned map."""
    from sklearn.neighbors import NearestNeighbors

    stored = run.get(PART)
    if run.embeddings is None or stored is None:
        raise ValueError(f"{run.path}: the run has no embeddings or map to place text on")
    coords = stored.coordinates[["finetuned_x", "finetuned_y"]].to_numpy()
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
