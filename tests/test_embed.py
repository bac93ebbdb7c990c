"""[CLS] vectors from both architectures, seeded UMAP, map quality, and placing new text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from agnews.analyses.map.numeric import map_quality, umap_2d
from agnews.analyses.map.placement import check_placement
from agnews.models import bundled_minilm_path
from agnews.rundir.run import Run
from agnews.training.embed import base_cls_embeddings

TEXTS = ["Oil prices climb", "Team wins the cup final after extra time", "New chip doubles speed", "Talks"]


def _direct_cls(folder: str) -> np.ndarray:
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    with torch.inference_mode():
        batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
        return model(**batch).last_hidden_state[:, 0].numpy()


def test_cls_vectors_for_distilbert_without_pooler_and_bert(tiny_distilbert: Path) -> None:
    for folder, width in ((str(tiny_distilbert), 32), (str(bundled_minilm_path()), 384)):
        vectors = base_cls_embeddings(folder, TEXTS, batch_size=3, progress=False)
        assert vectors.shape == (len(TEXTS), width)
        # Length-sorted batching must not change which vector belongs to which text. The tolerance is
        # bf16 rounding (base vectors are computed in bf16 where the CPU has it); MiniLM's vectors
        # of different texts are much further apart than that.
        np.testing.assert_allclose(vectors, _direct_cls(folder), atol=3e-2, rtol=3e-2)


@pytest.mark.slow  # numba compiles UMAP on its first call in a process: seconds of CPU
def test_umap_is_deterministic_for_a_seed() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(80, 16)).astype(np.float32)
    first, second = umap_2d(vectors, seed=7), umap_2d(vectors, seed=7)
    assert first.shape == (80, 2)
    np.testing.assert_array_equal(first, second)


def test_map_quality_is_perfect_for_separated_classes() -> None:
    labels = np.repeat(np.arange(4), 20)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]])
    coords = centres[labels] + np.random.default_rng(1).normal(scale=0.1, size=(80, 2))
    wrong = (labels + 1) % 4
    quality = map_quality(coords, labels, wrong)
    assert quality["knn_agreement_true"] == 1.0
    assert quality["knn_agreement_pred"] == 0.0
    assert quality["silhouette_true"] > 0.9


def test_placing_a_stored_text_lands_on_its_own_point(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    check = check_placement(run, np.arange(0, len(run.predictions), 3))
    assert check.own_row_first.all()
    assert np.median(check.distances) < np.median(check.tenth_neighbour)
