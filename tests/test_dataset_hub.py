"""A Hub dataset by id, exercised through `datasets.load_dataset` on local folders built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from agnews.dataset.errors import DataError
from agnews.dataset.hub import read_hub

datasets = pytest.importorskip("datasets")


def hub_folder(folder: Path, splits: dict[str, tuple[list[str], list]], class_names: list[str] | None) -> str:
    """Save each split as `<split>.parquet` (features kept), the layout `load_dataset(folder)` reads."""
    label = datasets.ClassLabel(names=class_names) if class_names else datasets.Value("string")
    features = datasets.Features({"text": datasets.Value("string"), "label": label})
    folder.mkdir(parents=True)
    for split, (texts, labels) in splits.items():
        dataset = datasets.Dataset.from_dict({"text": texts, "label": labels}, features=features)
        dataset.to_parquet(str(folder / f"{split}.parquet"))
    return str(folder)


def test_class_label_names_give_the_classes_and_their_order(tmp_path: Path) -> None:
    names = ["zebra", "apple", "mango", "unused"]
    source = hub_folder(
        tmp_path / "hub",
        {"train": (["a", "b", "c", "d"], [0, 1, 2, 1]), "test": (["e", "f"], [2, 0])},
        names,
    )
    data = read_hub(source, cache_dir=tmp_path / "cache")
    assert data.description.class_names == ("zebra", "apple", "mango")
    assert data.train.labels == [0, 1, 2, 1]
    assert data.test is not None and data.test.labels == [2, 0]
    assert data.test.origin == f"{source}:test"
    assert data.description.cleaning == "plain" and data.description.name == source
    assert any("'unused'" in w and "no training rows" in w for w in data.warnings)


def test_string_labels_follow_the_file_rules_and_a_missing_test_split_is_reported(tmp_path: Path) -> None:
    source = hub_folder(tmp_path / "hub", {"train": (["x  y", "z", "w"], ["b", "a", "b"])}, None)
    data = read_hub(source, cache_dir=tmp_path / "cache", domain="reviews")
    assert data.description.class_names == ("a", "b")
    assert data.description.domain == "reviews"
    assert data.train.texts[0] == "x y"
    assert data.test is None
    assert data.warnings == (f"{source}: no test split; one is carved out of the training split",)


def test_an_unlabelled_test_split_is_not_used(tmp_path: Path) -> None:
    source = hub_folder(
        tmp_path / "hub", {"train": (["a", "b"], [0, 1]), "test": (["c", "d"], [-1, -1])}, ["neg", "pos"]
    )
    data = read_hub(source, cache_dir=tmp_path / "cache")
    assert data.test is None
    assert any("labels are all -1" in w for w in data.warnings)


def test_split_names_map_our_splits_to_the_hubs(tmp_path: Path) -> None:
    source = hub_folder(
        tmp_path / "hub", {"train": (["a", "b"], [0, 1]), "validation": (["c", "d"], [1, 0])}, ["neg", "pos"]
    )
    data = read_hub(source, split_names={"test": "validation"}, cache_dir=tmp_path / "cache")
    assert data.test is not None and data.test.labels == [1, 0]
    with pytest.raises(
        DataError, match=r"no split 'dev' for validation; its splits are 'train', 'validation'"
    ):
        read_hub(source, split_names={"validation": "dev"}, cache_dir=tmp_path / "cache")


def test_a_missing_column_lists_the_splits_columns(tmp_path: Path) -> None:
    source = hub_folder(tmp_path / "hub", {"train": (["a", "b"], [0, 1])}, ["neg", "pos"])
    with pytest.raises(
        DataError, match=r"no column 'sentence'; its columns are 'text', 'label'\. .*--text-column"
    ):
        read_hub(source, text_columns=("sentence",), cache_dir=tmp_path / "cache")


def test_a_dataset_that_needs_a_loading_script_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "scripted"
    folder.mkdir()
    (folder / "scripted.py").write_text("raise SystemExit('never run')\n")
    with pytest.raises(DataError, match=r"needs a loading script, which datasets .* no longer runs"):
        read_hub(str(folder), cache_dir=tmp_path / "cache")


def test_an_unreachable_dataset_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match=r"nobody/nothing: could not load the dataset"):
        read_hub("nobody/nothing", cache_dir=tmp_path / "cache")
