"""The Overview's rules both ways, without a training: a healthy run raises at most one "look here"
card, most severe first, and its label-issue card stays quiet; the same run with 10% of its
training labels flipped (`bench/overview_rules.py`'s flip, the stage run again as the bench runs
it) raises the label-issue card.

The runs are built from parts, not trained: a dataset drawn from a known process (topic words per
class in a shared vocabulary, some rows about two topics, a few labels wrong in every split, as in
any labelled corpus), test predictions from a TF-IDF logistic regression fitted on its training
rows (a model that learnt from those labels, as the fine-tuned one does), and every stage a card
reads run for real on them. `bench/overview_rules.py` does the same on a trained run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from analysis_runs import recorded_training, write_run
from dataset_writers import write_table
from helpers import ROOT, load_script

from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART
from agnews.config import preset_config
from agnews.present.cards import LOOK, SEVERITY, Card
from agnews.rundir.parts import CalibrationFit, CalibratorScore
from agnews.rundir.run import Run
from agnews.ui.overview import cards

overview_rules = load_script(ROOT / "bench" / "overview_rules.py", "agnews_bench_overview_rules")

CLASSES = ("harbour", "orchard", "foundry", "theatre")
TRAIN_PER_CLASS, TEST_PER_CLASS = 200, 100
TOPIC_WORDS, SHARED_WORDS = 80, 3000
TOPIC_COUNT = 6  # topic words in every row, among 12 to 26 shared ones
MIXED = 0.08  # rows about two topics: ambiguous, as some news is
WRONG = 0.05  # labels wrong in every split before any flip
FLIP = 0.10  # the issue's flipped share of training labels
# The stages whose parts the cards read (the map, export and neighbours draw no card).
STAGES = (
    "calibration",
    "label_issues_test",
    "slices",
    "dataset_checks",
    "embed",
    "label_issues_train",
    "robustness",
)


def drawn_rows(per_class: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """`per_class` rows of each class from the module's process (see its docstring). Every row has
    `TOPIC_COUNT` topic words whatever its length, so that no slice by length is harder than another."""
    rows = []
    for k in range(len(CLASSES)):
        for _ in range(per_class):
            topics = [k, int(rng.integers(len(CLASSES)))] if rng.random() < MIXED else [k]
            words = [
                f"{CLASSES[t][:3]}{int(rng.integers(TOPIC_WORDS))}" for t in rng.choice(topics, TOPIC_COUNT)
            ]
            words += [f"w{int(rng.integers(SHARED_WORDS))}" for _ in range(int(rng.integers(12, 27)))]
            label = k if rng.random() >= WRONG else (k + int(rng.integers(1, len(CLASSES)))) % len(CLASSES)
            rows.append(
                {"text": " ".join(rng.permutation(words)).capitalize() + ".", "label": CLASSES[label]}
            )
    return rows


def build_rules_run(out: Path, encoder: Path, seed: int = 0) -> Path:
    """A run at `out` of data drawn with `seed` (its folder beside it) whose test predictions come
    from a TF-IDF logistic regression fitted on its training rows, with `STAGES` run on it."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from agnews.training.calibration import fit_temperature
    from agnews.training.data import load_config_data

    rng = np.random.default_rng(seed)
    folder = out.parent / f"{out.name}-data"
    write_table(folder / "train.csv", drawn_rows(TRAIN_PER_CLASS, rng))
    write_table(folder / "test.csv", drawn_rows(TEST_PER_CLASS, rng))
    config = preset_config("quick", data=str(folder), base_model=str(encoder), epochs=1.0)
    data = load_config_data(config)
    train, validation, test = (data.splits[s] for s in ("train", "validation", "test"))
    classifier = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10.0, max_iter=2000))
    classifier.fit(list(train["text"]), list(train["label"]))
    validation_logits = np.log(classifier.predict_proba(list(validation["text"])))
    validation_labels = np.asarray(validation["label"])
    calibrator = fit_temperature(validation_logits, validation_labels)  # as training folds one in
    logits = calibrator.apply(np.log(classifier.predict_proba(list(test["text"]))))
    training = recorded_training(
        0.9,
        calibration=CalibrationFit(
            method="temperature",
            reason="lowest cross-validated NLL",
            scale=calibrator.scale.tolist(),
            bias=calibrator.bias.tolist(),
            folds=5,
            candidates={"temperature": CalibratorScore(cv_nll=0.4, cv_ece=0.03)},
            validation_labels=validation_labels.tolist(),
            validation_logits=validation_logits.tolist(),
            seconds=0.1,
        ),
        frozen_layers=0,
    )
    return write_run(out, config, data, encoder, logits, training, STAGES)


@pytest.fixture(scope="module")
def healthy_run(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of a clean corpus (`build_rules_run`): only the few labels every corpus gets wrong."""
    return build_rules_run(tmp_path_factory.mktemp("rules") / "healthy", tiny_distilbert)


@pytest.fixture(scope="module")
def flipped_run(healthy_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`healthy_run` with `FLIP` of its training labels flipped and its training label issues found again."""
    from agnews.training.data import load_config_data

    out = Path(shutil.copytree(healthy_run, tmp_path_factory.mktemp("rules") / "flipped"))
    data = load_config_data(Run.load(out).config.train)
    flipped_data, _ = overview_rules.with_flipped_training_labels(data, FLIP, seed=0)
    overview_rules.find_training_label_issues(out, flipped_data)
    return out


def test_the_flip_is_stratified_seeded_and_always_to_another_class() -> None:
    labels = np.repeat(np.arange(len(CLASSES)), [50, 30, 20, 10])
    noisy, flipped = overview_rules.flip_labels(labels, FLIP, len(CLASSES), seed=3)
    assert [int(flipped[labels == k].sum()) for k in range(len(CLASSES))] == [5, 3, 2, 1]
    assert (noisy[flipped] != labels[flipped]).all() and (noisy[~flipped] == labels[~flipped]).all()
    again, _ = overview_rules.flip_labels(labels, FLIP, len(CLASSES), seed=3)
    assert (again == noisy).all()
    with pytest.raises(ValueError, match=r"--flip 1\.5"):
        overview_rules.flip_labels(labels, 1.5, len(CLASSES), seed=3)


@pytest.mark.slow  # builds a run's analyses for real (no training)
def test_a_healthy_run_raises_at_most_one_warning_most_severe_first(healthy_run: Path) -> None:
    run = Run.load(healthy_run)
    shown = cards(run)
    ranks = [SEVERITY.index(card.verdict) for card in shown]
    assert ranks == sorted(ranks)
    looking = [card.key for card in shown if card.verdict == LOOK]
    assert len(looking) <= 1, looking
    # A clean corpus still has flagged rows on both splits (ambiguous texts, the labels every corpus
    # gets wrong): a rule that looks at any fixed share of them would fire here.
    test_share = run.get(TEST_PART)["flagged"].mean()
    train_share = run.get(TRAIN_PART).info.flagged / run.get(TRAIN_PART).info.rows
    assert min(test_share, train_share) > 0.02, (test_share, train_share)
    assert by_key(shown)["label-issues"].verdict != LOOK, by_key(shown)["label-issues"].headline


@pytest.mark.slow  # builds a run's analyses for real (no training)
def test_a_tenth_of_the_training_labels_flipped_raises_the_label_issue_card(
    healthy_run: Path, flipped_run: Path
) -> None:
    healthy, flipped = by_key(cards(Run.load(healthy_run))), by_key(cards(Run.load(flipped_run)))
    assert flipped["label-issues"].verdict == LOOK, flipped["label-issues"].headline
    # Only the training rows' label issues were found again: every other card reads as before.
    others = {key: card.verdict for key, card in flipped.items() if key != "label-issues"}
    assert others == {key: card.verdict for key, card in healthy.items() if key != "label-issues"}


def by_key(shown: list[Card]) -> dict[str, Card]:
    return {card.key: card for card in shown}
