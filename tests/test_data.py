from collections import Counter
from pathlib import Path

import pytest
from helpers import synthetic_rows, write_original_csv

from agnews.config import TrainConfig
from agnews.dataset.ag_news import read_ag_news_csv as read_csv_split
from agnews.text import normalised_key
from agnews.training.data import DataError, LoadedData, load_config_data


def load_ag_news(folder: Path, *, seed: int = 42, **settings: object) -> LoadedData:
    """The splits training makes of an AG News folder with these settings."""
    return load_config_data(TrainConfig(data=str(folder), split_seed=seed, **settings))  # type: ignore[arg-type]


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_reads_original_format_with_one_based_classes(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", '"3","Oil up","Prices \\$5 higher"\n"1","Talks","Leaders meet"\n')
    split = read_csv_split(path)
    assert split.labels == [2, 0]
    assert split.texts == ["Oil up Prices $5 higher", "Talks Leaders meet"]


def test_reads_hub_shaped_csv_with_or_without_header(tmp_path: Path) -> None:
    plain = read_csv_split(_write(tmp_path / "a.csv", '"Team wins cup",1\n"Chip maker grows",3\n'))
    headed = read_csv_split(
        _write(tmp_path / "b.csv", 'text,label\n"Team wins cup",1\n"Chip maker grows",3\n')
    )
    assert plain.labels == headed.labels == [1, 3]
    assert plain.texts == headed.texts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('"1","a","b"\n"2","only two"\n', r"row 2 has 2 columns, expected 3"),
        ('"5","a","b"\n', r"row 1: class 5 out of range 1-4"),
        ('"x","a","b"\n', r"row 1: AG News class 'x' is not an integer"),
        ('"Text",4\n', r"row 1: class 4 out of range 0-3"),
        ('"1"," ","  "\n', r"row 1 has empty text"),
        ('"1","a","b","c"\n', r"row 1 has 4 columns; AG News has 3"),
        ('"1","a","unterminated\n', r"malformed CSV at line"),
        ("", r"the file is empty"),
        (b'"1","caf\xe9","b"\n', r"not UTF-8"),
    ],
)
def test_bad_csv_gives_specific_error_naming_the_file(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = _write(tmp_path / "bad.csv", content)
    with pytest.raises(DataError, match=message) as info:
        read_csv_split(path)
    assert str(path) in str(info.value)


def test_missing_folder_and_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nope: data folder not found"):
        load_ag_news(tmp_path / "nope")
    (tmp_path / "d").mkdir()
    with pytest.raises(DataError, match=r"d: no train file; expected one of train\.csv, train\.tsv"):
        load_ag_news(tmp_path / "d")
    write_original_csv(tmp_path / "d" / "test.csv", synthetic_rows(2))  # and AG News's classes.txt
    with pytest.raises(DataError, match=r"no train\.csv"):
        load_ag_news(tmp_path / "d")


def test_validation_is_carved_from_train_and_stratified(tiny_data: Path) -> None:
    data = load_ag_news(tiny_data, validation_fraction=0.25, seed=1)
    train, val, test = (data.splits[s] for s in ("train", "validation", "test"))
    assert len(train) + len(val) == 160 and len(test) == 40
    assert Counter(val["label"]) == {0: 10, 1: 10, 2: 10, 3: 10}
    train_keys = {normalised_key(t) for t in train["text"]}
    val_keys = {normalised_key(t) for t in val["text"]}
    test_keys = {normalised_key(t) for t in test["text"]}
    assert not train_keys & val_keys and not (train_keys | val_keys) & test_keys
    again = load_ag_news(tiny_data, validation_fraction=0.25, seed=1)
    assert again.split_hashes() == data.split_hashes()
    other = load_ag_news(tiny_data, validation_fraction=0.25, seed=2)
    assert other.split_hashes()["validation"] != data.split_hashes()["validation"]
    assert other.split_hashes()["test"] == data.split_hashes()["test"]


def test_training_rows_duplicating_test_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    folder.mkdir()
    test_rows = synthetic_rows(5, offset=500)
    label, title, body = test_rows[0]
    # Same document, different case and spacing: still a duplicate.
    twin = (label, title.upper(), body.replace(" ", "  "))
    write_original_csv(folder / "train.csv", [*synthetic_rows(20), twin])
    write_original_csv(folder / "test.csv", test_rows)
    data = load_ag_news(folder)
    assert data.duplicates_dropped == 1
    assert data.stats()["duplicates_dropped_from_train"] == 1
    train_and_val = len(data.splits["train"]) + len(data.splits["validation"])
    assert train_and_val == 80


def test_repeated_training_rows_are_kept_once_so_validation_cannot_see_training_text(tmp_path: Path) -> None:
    folder = tmp_path / "repeats"
    folder.mkdir()
    rows = synthetic_rows(20)
    write_original_csv(folder / "train.csv", [*rows, *rows[:8]])
    write_original_csv(folder / "test.csv", synthetic_rows(5, offset=500))
    data = load_ag_news(folder, validation_fraction=0.25)
    assert data.stats()["repeated_training_rows_dropped"] == 8
    train_keys = {normalised_key(t) for t in data.splits["train"]["text"]}
    assert not train_keys & {normalised_key(t) for t in data.splits["validation"]["text"]}
    assert len(data.splits["train"]) + len(data.splits["validation"]) == 80


def test_row_caps_keep_class_balance(tiny_data: Path) -> None:
    data = load_ag_news(tiny_data, max_train_samples=20, max_validation_samples=8, max_test_samples=12)
    assert Counter(data.splits["train"]["label"]) == {0: 5, 1: 5, 2: 5, 3: 5}
    assert Counter(data.splits["validation"]["label"]) == {0: 2, 1: 2, 2: 2, 3: 2}
    assert Counter(data.splits["test"]["label"]) == {0: 3, 1: 3, 2: 3, 3: 3}


def test_shared_offline_data_loads_with_the_known_duplicate_dropped(shared_data: Path) -> None:
    data = load_ag_news(shared_data)
    assert len(data.splits["test"]) == 7600
    assert data.duplicates_dropped >= 1
    assert len(data.splits["train"]) + len(data.splits["validation"]) == 5000 - data.duplicates_dropped
    assert Counter(data.splits["test"]["label"]) == {0: 1900, 1: 1900, 2: 1900, 3: 1900}
    assert not any("#39;" in t or "\\" in t for t in data.splits["test"]["text"])


def test_a_two_class_folder_of_integer_labels_is_its_own_data_not_ag_news(tmp_path: Path) -> None:
    """A `text,label` folder of 0/1 labels: once silently read as AG News (a four-class model whose
    classes were World and Sports); its classes are its own labels."""
    folder = tmp_path / "sentiment"
    folder.mkdir()
    for split, count in (("train", 40), ("test", 10)):
        rows = [f'"review {split} {i} {"great" if i % 2 else "awful"}",{i % 2}' for i in range(count)]
        _write(folder / f"{split}.csv", "text,label\n" + "\n".join(rows) + "\n")
    data = load_config_data(TrainConfig(data=str(folder)))
    assert data.classes == ("0", "1") and data.description.name != "ag_news"
    assert data.description.cleaning == "plain"
    assert set(data.splits["test"]["label"]) == {0, 1} and data.splits["test"].features["label"].names == [
        "0",
        "1",
    ]
