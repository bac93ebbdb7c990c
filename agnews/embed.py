"""[CLS] embeddings, the frozen-feature baseline, UMAP maps, and placing new text on a map.

Why [CLS] of the last layer: it is what the reference recipe projects, and DistilBERT has no pooler.
The fine-tuned vectors come from the evaluation pass itself; only the base model needs a pass here.
Maps are stored as coordinates, never as a pickled UMAP object: a new text is placed by its nearest
stored neighbours instead, which also gives the person using the app an explanation.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from transformers import AutoModel

from agnews import run as run_files
from agnews.evaluate import batched_outputs, last_layer_cls, model_device
from agnews.models import ModelError, bf16_inference_pays, load_tokenizer, resolve_base_model

if TYPE_CHECKING:
    from agnews.data import LoadedData
    from agnews.train import TrainConfig

MAP_KINDS = ("base", "finetuned")
UMAP_PARAMS: dict[str, Any] = {"n_neighbors": 15, "min_dist": 0.1, "metric": "cosine", "n_components": 2}
KNN_FOR_QUALITY = 10


def _numba_cache() -> None:
    """Persist numba's compiled UMAP kernels across processes (else ~60 s per fresh process)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "agnews" / "numba"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(default))


def base_cls_embeddings(
    model_name: str,
    texts: list[str],
    *,
    batch_size: int = 64,
    max_length: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Last-layer [CLS] vectors of a base (not fine-tuned) encoder, in input order.

    In bf16 where the hardware has it: these vectors feed the map and the frozen baseline, where a
    bf16 rounding is far below what either can show, and this is the map step's largest forward work.
    """
    path = resolve_base_model(model_name)
    tokenizer = load_tokenizer(path)
    try:
        model = AutoModel.from_pretrained(path, use_safetensors=True, trust_remote_code=False)
    except Exception as exc:
        raise ModelError(f"could not load base encoder {model_name!r}: {exc}") from exc
    return batched_outputs(
        model,
        tokenizer,
        texts,
        lambda output: {"cls": last_layer_cls(output)},
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        description="base [CLS]",
        bf16=bf16_inference_pays(model_device(model)),
    )["cls"]


def frozen_baseline(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, seed: int
) -> dict[str, Any]:
    """Logistic regression on frozen base [CLS] features: what the encoder knows before fine-tuning."""
    # scikit-learn is imported where used: the app imports this module (MapIndex) and never fits.
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1, random_state=seed))
    classifier.fit(train_x, train_y)
    preds = classifier.predict(test_x)
    return {
        "method": "logistic regression (C=0.1, standardised) on frozen base-model [CLS] vectors",
        "train_rows": len(train_y),
        "rows": len(test_y),
        "accuracy": float(accuracy_score(test_y, preds)),
        "f1_macro": float(f1_score(test_y, preds, average="macro")),
        "f1_weighted": float(f1_score(test_y, preds, average="weighted")),
    }


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


@dataclass(frozen=True)
class PlacementCheck:
    """Stored test texts placed anew: does each land on its own point, and how close?"""

    own_row_first: np.ndarray  # per placed text: its own row is the nearest stored neighbour
    distances: np.ndarray  # per placed text: 2-D distance from where it was placed to its stored point
    tenth_neighbour: np.ndarray  # per map point: distance to its 10th-nearest map point (the spacing)


def check_placement(run: run_files.Run, rows: np.ndarray) -> PlacementCheck:
    """Re-embed the texts at positions `rows` with the run's model and place them on its fine-tuned map.

    Shared by the test and `bench/embed_map.py`, so both check placement the same way.
    """
    from sklearn.neighbors import NearestNeighbors

    from agnews.evaluate import infer
    from agnews.models import load_classifier

    if run.embeddings is None or run.map_coords is None:
        raise ValueError(f"{run.path}: the run has no embeddings or map to place text on")
    coords = run.map_coords[["finetuned_x", "finetuned_y"]].to_numpy()
    index = MapIndex(run.embeddings["finetuned_cls"], coords)
    model_dir = str(run.model_path)
    texts = run.predictions["text"].iloc[rows].tolist()
    fresh = infer(load_classifier(model_dir), load_tokenizer(model_dir), texts, progress=False)
    placements = [index.place(vector) for vector in fresh.cls]
    tenth = NearestNeighbors(n_neighbors=11).fit(coords).kneighbors(coords)[0][:, 10]
    return PlacementCheck(
        own_row_first=np.array([p.neighbours[0] == row for p, row in zip(placements, rows, strict=True)]),
        distances=np.array(
            [np.hypot(p.x - coords[r, 0], p.y - coords[r, 1]) for p, r in zip(placements, rows, strict=True)]
        ),
        tenth_neighbour=tenth,
    )


# --------------------------------------------------------------------------------------------------
# Writing the embedding parts of a run
# --------------------------------------------------------------------------------------------------


def _write_embedding_parts(
    folder: Path,
    *,
    row_ids: np.ndarray,
    labels: np.ndarray,
    preds: np.ndarray,
    vectors: dict[str, np.ndarray],
    seed: int,
    metrics: dict[str, Any],
    progress: bool,
) -> None:
    from safetensors.numpy import save_file

    coords: dict[str, np.ndarray] = {}
    timings: dict[str, float] = {}
    quality: dict[str, Any] = {}
    for kind in MAP_KINDS:
        started = time.perf_counter()
        if progress:
            print(f"UMAP of {kind} [CLS] vectors ({len(labels)} points)...", flush=True)
        coords[kind] = umap_2d(vectors[kind], seed)
        timings[f"umap_{kind}_seconds"] = round(time.perf_counter() - started, 1)
        quality[kind] = map_quality(coords[kind], labels, preds)

    stored = {f"{k}_cls": v.astype(np.float16) for k, v in vectors.items()}
    run_files.write_atomically(folder / run_files.EMBEDDINGS, lambda tmp: save_file(stored, str(tmp)))
    frame = pd.DataFrame({"row_id": row_ids})
    for kind in MAP_KINDS:
        frame[f"{kind}_x"], frame[f"{kind}_y"] = coords[kind][:, 0], coords[kind][:, 1]
    run_files.write_parquet(folder / run_files.MAP, frame)
    run_files.write_json(
        folder / run_files.MAP_INFO,
        {"method": "umap", "params": UMAP_PARAMS, "seed": seed, "timing": timings},
    )
    metrics["maps"] = quality


def embed_run_dir(
    folder: Path,
    data: LoadedData,
    *,
    finetuned_cls: np.ndarray,
    config: TrainConfig,
    metrics: dict[str, Any],
    progress: bool = True,
) -> None:
    """Add embeddings, maps, the frozen baseline and map quality to a run being built in `folder`.

    `metrics` is updated in place (the caller writes it last, so it is never ahead of the files).
    """
    started = time.perf_counter()
    test, train = data.splits["test"], data.splits["train"]
    test_texts, train_texts = list(test["text"]), list(train["text"])
    base = base_cls_embeddings(
        config.base_model,
        test_texts + train_texts,
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=progress,
    )
    base_test, base_train = base[: len(test_texts)], base[len(test_texts) :]
    labels = np.asarray(test["label"])
    metrics["frozen_baseline"] = frozen_baseline(
        base_train, np.asarray(train["label"]), base_test, labels, config.seed
    )
    predictions = pd.read_parquet(folder / run_files.PREDICTIONS)
    _write_embedding_parts(
        folder,
        row_ids=predictions["row_id"].to_numpy(),
        labels=labels,
        preds=predictions["pred"].to_numpy(),
        vectors={"base": base_test, "finetuned": finetuned_cls},
        seed=config.seed,
        metrics=metrics,
        progress=progress,
    )
    metrics.setdefault("timing", {})["embed_and_map_seconds"] = round(time.perf_counter() - started, 1)


def embed_existing_run(run_path: Path, data: str | None = None, progress: bool = True) -> None:
    """`agnews embed RUN`: (re)compute the embedding parts of a finished run in place.

    The map covers exactly the rows in the run's predictions (whatever `agnews evaluate` last
    scored), so it always lines up with them; the training rows (for the frozen baseline) come from
    the run's data source, or `data`.
    """
    from datasets import Dataset

    from agnews.data import FEATURES
    from agnews.evaluate import infer
    from agnews.models import load_classifier
    from agnews.train import TrainConfig, load_config_data

    run = run_files.Run.load(run_path)
    config = TrainConfig.from_dict(run.config["train"])
    loaded = load_config_data(config, data)
    scored = run.predictions[["row_id", "text", "label"]]
    loaded.splits["test"] = Dataset.from_pandas(scored, features=FEATURES, preserve_index=False)
    model_dir = str(run.model_path)
    inference = infer(
        load_classifier(model_dir),
        load_tokenizer(model_dir),
        list(loaded.splits["test"]["text"]),
        batch_size=config.eval_batch_size,
        max_length=config.max_length,
        progress=progress,
        description="fine-tuned [CLS]",
    )
    metrics = dict(run.metrics)
    embed_run_dir(
        run.path, loaded, finetuned_cls=inference.cls, config=config, metrics=metrics, progress=progress
    )
    run_files.write_json(run.path / run_files.METRICS, metrics)
