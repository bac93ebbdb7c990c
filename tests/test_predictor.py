"""The serving predictor agrees with what the run stored, cleans its input, and explains by occlusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agnews.labels import LABELS
from agnews.rundir import Run
from agnews.serving.map_index import MapIndex
from agnews.serving.predictor import EmptyTextError, Predictor


@pytest.fixture(scope="module")
def run(quick_run: Path) -> Run:
    return Run.load(quick_run)


@pytest.fixture(scope="module")
def predictor(run: Run) -> Predictor:
    return Predictor.from_run(run)


def test_probabilities_match_the_stored_predictions(run: Run, predictor: Predictor) -> None:
    row = run.predictions.iloc[0]
    probs = predictor.probabilities(row["text"])
    assert list(probs) == list(LABELS)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    stored = [row[f"prob_{i}"] for i in range(len(LABELS))]
    assert list(probs.values()) == pytest.approx(stored, abs=1e-4)


def test_cls_vector_places_a_stored_text_next_to_itself(run: Run, predictor: Predictor) -> None:
    assert run.embeddings is not None and run.map_coords is not None
    stored = run.embeddings["finetuned_cls"]
    vector = predictor.cls_vector(run.predictions["text"].iloc[3])
    assert vector.shape == (stored.shape[1],)
    assert np.allclose(vector, stored[3].astype(np.float32), atol=2e-2)
    index = MapIndex(stored, run.map_coords[["finetuned_x", "finetuned_y"]].to_numpy())
    assert index.place(vector, k=5).neighbours[0] == 3


def test_input_is_cleaned_and_empty_input_refused(predictor: Predictor) -> None:
    raw = "Oil \\$50 a barrel as OPEC #39;s output <b>falls</b>"
    assert predictor.forward(raw) is predictor.forward("Oil $50 a barrel as OPEC's output falls")
    for empty in ("", "   ", "<br>"):
        with pytest.raises(EmptyTextError):
            predictor.probabilities(empty)


def test_word_attributions_equal_the_probability_drop_of_each_removal(predictor: Predictor) -> None:
    text = "Stocks   fall as oil prices climb"
    label, attributions = predictor.word_attributions(text)
    words = text.split()
    assert [w for w, _ in attributions] == words
    probs = predictor.probabilities(text)
    assert label == max(probs, key=probs.__getitem__)
    for i in (0, 4):
        without = predictor.probabilities(" ".join(words[:i] + words[i + 1 :]))
        assert attributions[i][1] == pytest.approx(probs[label] - without[label], abs=1e-4)


def test_single_word_text_is_explained(predictor: Predictor) -> None:
    label, attributions = predictor.word_attributions("Microsoft")
    assert label in LABELS and [w for w, _ in attributions] == ["Microsoft"]


def test_bf16_inference_stays_a_rounding_away_from_the_stored_fp32_predictions(
    run: Run, predictor: Predictor
) -> None:
    from agnews.inference import infer

    texts = run.predictions["text"].tolist()
    stored = run.predictions[[f"prob_{i}" for i in range(len(LABELS))]].to_numpy()
    probs = infer(predictor.model, predictor.tokenizer, texts, progress=False, bf16=True).probs
    assert np.abs(probs - stored).max() < 0.05
    assert (probs.argmax(axis=1) == stored.argmax(axis=1)).mean() >= 0.97
