"""What the neighbours part holds: the training rows (`train_embeddings.parquet`: text_hash, text,
label, keyed by `agnews.text.text_hash` like the training label issues) and, in the same order,
their fine-tuned [CLS] vectors under one key of `train_embeddings.safetensors`, unit length (cosine
is a dot product), float16. The files keep the names older runs gave the part."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agnews.rundir.facts import TrainingVectors
from agnews.rundir.files import RunError
from agnews.rundir.parts import EmbeddingsFile, Part, TableFile

COLUMNS = ("text_hash", "text", "label")
KEY = "finetuned_cls"


def vectors_per_row(paths: tuple[Path, ...], values: tuple[Any, ...]) -> None:
    """One vector per training row of the table, in a 2-D array."""
    rows, vectors = values
    shape = vectors[KEY].shape
    if len(shape) != 2 or shape[0] != len(rows):
        raise RunError(f"{paths[1]}: vectors of shape {shape} for the {len(rows)} rows of {paths[0].name}")


def training_vectors(rows: pd.DataFrame, arrays: dict[str, np.ndarray]) -> TrainingVectors:
    """The part's value, and its answer to `agnews.rundir.facts.TRAINING_VECTORS`."""
    return TrainingVectors(rows, arrays[KEY])


PART: Part[TrainingVectors] = Part(
    "neighbours",
    ("train_embeddings.parquet", "train_embeddings.safetensors"),
    False,
    (TableFile(COLUMNS), EmbeddingsFile((KEY,), aligned=False)),
    check=vectors_per_row,
    value=training_vectors,
)
