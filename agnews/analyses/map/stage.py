"""The map stage: 2-D UMAP coordinates of the stored [CLS] vectors, and how faithful each map is.

Reads the `embeddings` and `predictions` parts, writes the `map` part. The app never runs UMAP: it
shows these coordinates and places new text by neighbours (`agnews.serving.map_index`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pandas as pd

from agnews import events
from agnews.analyses.map.numeric import UMAP_PARAMS, map_quality, umap_2d
from agnews.analyses.map.schema import PART, MapInfo, MapQuality
from agnews.rundir.parts import MAP_KINDS

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def map_stage(context: StageContext) -> None:
    """UMAP of base and fine-tuned [CLS] vectors of every scored test row, with map quality."""
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
    context.staged.write(PART.name, frame, info)
