"""The serving predictor agrees with what the run stored, cleans its input, and explains by occlusion;
typed text is served by ONNX Runtime and the `tokenizers` library without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agnews.analyses.map.schema import PART as MAP
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.run import Run
from agnews.serving.map_index import MapIndex
from agnews.serving.onnx_runtime import FastTokenizer
from agnews.serving.predictor import EmptyTextError, Predictor, model_text
from agnews.text import clean_text


def test_probabilities_match_the_stored_predictions(quick_run: Path) -> None:
    """On the trained run: the synthetic run's probabilities are chosen, not its model's."""
    run = Run.load(quick_run)
    predictor = Predictor.from_run(run)
    row = run.predictions.iloc[0]
    probs = predictor.probabilities(row["text"])
    assert list(probs) == list(LABELS)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    stored = [row[f"prob_{i}"] for i in range(len(LABELS))]
    assert list(probs.values()) == pytest.approx(stored, abs=1e-4)


def test_cls_vector_places_a_stored_text_next_to_itself(run: Run, predictor: Predictor) -> None:
    assert run.embeddings is not None and run.get(MAP) is not None
    stored = run.embeddings["finetuned_cls"]
    vector = predictor.cls_vector(run.predictions["text"].iloc[3])
    assert vector.shape == (stored.shape[1],)
    assert np.allclose(vector, stored[3].astype(np.float32), atol=2e-2)
    index = MapIndex(stored, run.get(MAP).coordinates[["finetuned_x", "finetuned_y"]].to_numpy())
    assert index.place(vector, k=5).neighbours[0] == 3


def test_input_is_cleaned_and_empty_input_refused(predictor: Predictor) -> None:
    raw = "Oil \\$50 a barrel as OPEC #39;s output <b>falls</b>"
    assert predictor.forward(raw) is predictor.forward("Oil $50 a barrel as OPEC's output falls")
    for empty in ("", "   ", "<br>"):
        with pytest.raises(EmptyTextError):
            predictor.probabilities(empty)


def test_word_scores_equal_the_probability_drop_of_each_removal(predictor: Predictor) -> None:
    text = "Stocks   fall as oil prices climb"
    scores = predictor.word_scores(text)
    words = text.split()
    assert list(scores.words) == words
    probs = predictor.probabilities(text)
    assert scores.label == max(probs, key=probs.__getitem__)
    assert scores.probability == pytest.approx(probs[scores.label], abs=1e-6)
    for i in (0, 4):
        without = predictor.probabilities(" ".join(words[:i] + words[i + 1 :]))
        assert scores.changes[i] == pytest.approx(probs[scores.label] - without[scores.label], abs=1e-4)


def test_single_word_text_is_explained(predictor: Predictor) -> None:
    scores = predictor.word_scores("Microsoft")
    assert scores.label in LABELS and scores.words == ("Microsoft",)


def test_bf16_inference_stays_a_rounding_away_from_the_stored_fp32_predictions(quick_run: Path) -> None:
    """On the trained run: the synthetic run's probabilities are chosen, not its model's."""
    from agnews.inference import infer

    run = Run.load(quick_run)
    predictor = Predictor.from_run(run)
    texts = run.predictions["text"].tolist()
    stored = run.predictions[[f"prob_{i}" for i in range(len(LABELS))]].to_numpy()
    probs = infer(predictor.model, predictor.tokenizer, texts, progress=False, bf16=True).probs
    assert np.abs(probs - stored).max() < 0.05
    assert (probs.argmax(axis=1) == stored.argmax(axis=1)).mean() >= 0.97


def test_fast_tokenizer_gives_the_transformers_ids_on_the_whole_test_split(
    run: Run, shared_data: Path
) -> None:
    """`tokenizers` with the run's tokenizer.json, truncated and padded, equals transformers' tokenizer
    on all 7,600 AG News test texts (title + description), one at a time and in padded batches."""
    from agnews.dataset.ag_news import read_ag_news_csv as read_csv_split

    texts = [model_text(text, clean_text)[0] for text in read_csv_split(shared_data / "test.csv").texts]
    assert len(texts) == 7_600
    max_length = run.config.train.max_length
    fast = FastTokenizer(run.model_path, max_length=max_length)
    reference = run.load_tokenizer()
    singles = reference(texts, truncation=True, max_length=max_length)["input_ids"]
    differ = [i for i, text in enumerate(texts) if fast.tokenizer.encode(text).ids != singles[i]]
    assert differ == []
    assert max(len(ids) for ids in singles) == max_length  # truncation is exercised
    for start in range(0, len(texts), 64):
        chunk = texts[start : start + 64]
        expected = reference(chunk, truncation=True, max_length=max_length, padding=True, return_tensors="np")
        ids, mask = fast(chunk)
        np.testing.assert_array_equal(ids, expected["input_ids"])
        np.testing.assert_array_equal(mask, expected["attention_mask"])


def test_a_batch_is_answered_as_each_text_alone(predictor: Predictor) -> None:
    texts = [
        "Oil prices climb as OPEC signals output cuts",
        "Cup final",
        "Chip maker unveils a faster processor for laptops, servers and phones as demand grows",
        "Cup final",  # a repeat: computed once, answered twice
        "<b>Talks</b> resume in Geneva",
    ]
    batch = predictor.probabilities_batch(texts)
    assert len(batch) == len(texts) and batch[1] == batch[3]
    for text, answer in zip(texts, batch, strict=True):
        assert list(answer) == list(LABELS)
        assert list(answer.values()) == pytest.approx(list(predictor.probabilities(text).values()), abs=1e-5)
    with pytest.raises(EmptyTextError, match="position 1"):
        predictor.probabilities_batch(["Oil prices climb", "<br>", "Cup final"])


SERVE_WITHOUT_TORCH = """
import json, sys
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor

predictor = Predictor.from_run(Run.load(sys.argv[1]))
predictor.probabilities("Oil prices climb as OPEC signals output cuts")
predictor.probabilities_batch(["Cup final", "Chip maker unveils a faster processor"])
predictor.cls_vector("Talks resume in Geneva")
predictor.word_scores("Stocks fall as oil prices climb")
before = sorted(m for m in ("torch", "transformers") if m in sys.modules)
loaded_early = predictor.model_loaded
probs = predictor.probabilities_many(["Cup final", "Oil prices climb"])
print(json.dumps({"before": before, "loaded_early": loaded_early, "backend": predictor.backend,
                  "after": "torch" in sys.modules, "rows": len(probs), "loaded": predictor.model_loaded}))
"""


def test_typed_text_is_served_without_importing_torch(quick_run: Path) -> None:
    """A fresh process (this one has torch already): the ONNX path imports neither torch nor
    transformers; the first file to classify loads the PyTorch model."""
    result = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH, str(quick_run)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"].startswith("ONNX Runtime") and report["before"] == []
    assert not report["loaded_early"]
    assert report["after"] and report["loaded"] and report["rows"] == 2


def test_pytorch_serving_loads_the_model_at_once(run: Run) -> None:
    by_torch = Predictor.from_run(run, "torch")
    assert by_torch.graph is None and by_torch.model_loaded and by_torch.backend == "PyTorch"
