"""Training-time augmentation (`agnews.training.augment`): its own word lists, label-preserving
variants, and a run that trains on them while its training split stays the source rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from agnews.analyses.robustness.present import flip_rate_frame
from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.config import ConfigError, preset_config
from agnews.present.glossary import perturbation_title
from agnews.rundir.run import Run
from agnews.text import AGENCY_MARKER
from agnews.training import augment, perturb
from agnews.training.augment import FAMILIES, augment_rows, parse_families, stress_tests_taught
from agnews.training.train import train_run

ROW = "Michael Smith said (Reuters) - Oil prices climbed on Tuesday as traders bet on lower supply"


def test_the_word_lists_are_not_the_stress_tests() -> None:
    assert not set(augment.TRAIN_AGENCY_TAGS) & set(perturb.AGENCY_TAGS)
    assert not set(augment.TRAIN_PREFIXES) & set(perturb.NEUTRAL_PREFIXES)
    assert not set(augment.TRAIN_BOILERPLATE) & set(perturb.BOILERPLATE)
    assert len(augment.train_names()) >= 50
    assert not set(augment.train_names()) & set(perturb.first_names())


def test_every_family_changes_a_row_and_is_seeded() -> None:
    text = f"{ROW} Aiko Tanaka and Lars met Priya"
    for name, family in FAMILIES.items():
        first = family(text, random.Random(1))
        assert first and first != text, name
        assert family(text, random.Random(1)) == first, name  # the same generator, the same variant
    assert not AGENCY_MARKER.search(augment.agency(ROW, random.Random(0)) or "")  # a marker removed
    assert augment.agency("Oil prices climb", random.Random(0)).startswith(augment.TRAIN_AGENCY_TAGS)
    assert augment.eda("Two words", random.Random(0)) is None


def test_variants_keep_their_labels_and_are_counted() -> None:
    texts = [f"{ROW} {i}" for i in range(20)]
    labels = [i % 4 for i in range(20)]
    new_texts, new_labels, made = augment_rows(texts, labels, ("prefix", "eda"), copies=2, seed=7)
    assert len(new_texts) == len(new_labels) == 40 == sum(made.values())
    assert new_labels == [label for label in labels for _ in range(2)]
    assert all(text not in texts for text in new_texts)
    assert augment_rows(texts, labels, ("prefix", "eda"), copies=2, seed=7)[0] == new_texts
    assert (
        augment_rows(["Oil prices climb"], [2], ("names",), copies=1, seed=7)[0] == []
    )  # no name: no variant
    swapped = augment.names("Michael Smith met Aiko in Paris", random.Random(0))
    first = swapped.split()[0]
    assert first in augment.train_names() and first not in perturb.first_names()  # put-in names: held out
    # "Howard" after a capitalised word is a surname, kept; "John" is swapped for a training name.
    john, howard = augment.names("John Howard spoke", random.Random(0)).split()[:2]
    assert howard == "Howard" and john in augment.train_names()


def test_families_are_parsed_and_mapped_to_the_stress_tests() -> None:
    assert parse_families("all") == tuple(FAMILIES)
    assert parse_families("typos, agency") == ("typos", "agency")
    with pytest.raises(augment.AugmentError, match="choose 'all' or some of"):
        parse_families("typos,spelling")
    assert stress_tests_taught(("agency", "eda")) == {"agency_added", "agency_removed"}
    names = {test.name for test in perturb.PERTURBATIONS}
    assert stress_tests_taught(tuple(FAMILIES)) <= names


@pytest.mark.slow
def test_an_augmented_run_trains_on_more_rows_and_keeps_its_split(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    values = {
        "data": str(tiny_data),
        "base_model": str(tiny_distilbert),
        "epochs": 1.0,
        "batch_size": 16,
        "max_length": 32,
        "max_test_samples": 8,
    }
    plain = Run.load(
        train_run(preset_config("distilbert", **values), tmp_path / "plain", stages=(), progress=False)
    )
    config = preset_config("distilbert", **values, augment="prefix,boilerplate", augment_copies=2)
    run = Run.load(train_run(config, tmp_path / "augmented", stages=("robustness",), progress=False))
    rows = run.config.data.rows["train"]
    assert rows == plain.config.data.rows["train"]
    assert run.config.data.split_hashes == plain.config.data.split_hashes
    assert run.data_stats.augmented_training_rows == 2 * rows
    assert set(run.data_stats.augmented_by_family) == {"prefix", "boilerplate"}
    assert run.config.train.augment == "prefix,boilerplate"
    # The stress report tells the tests training taught from the held-out ones, and so does the tab.
    assert run.get(ROBUSTNESS) is not None and plain.get(ROBUSTNESS) is None
    assert run.get(ROBUSTNESS).trained_for == ["boilerplate_suffix", "neutral_prefix"]
    table = flip_rate_frame(run.get(ROBUSTNESS)).set_index("test")["training"]
    assert table[perturbation_title("neutral_prefix")] == "trained for"
    assert table[perturbation_title("typos")] == "held out"
    with pytest.raises(ConfigError, match="choose 'all' or some of"):
        train_run(preset_config("distilbert", **values, augment="rot13"), tmp_path / "bad", stages=())
