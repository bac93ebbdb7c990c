"""`agnews data check` on the README's generated example, on AG News's shared folder and on every bad
input (exit status 2, the message on stderr, nothing written); `read_source`'s combinations of the
data options. Fast: no model."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from dataset_writers import BAD_INPUTS, class_rows, tree, write_bad_folder, write_split_folder, write_table
from helpers import ROOT, SHARED_DATA, load_script

from agnews.cli import main
from agnews.config import HUB_DATASET_ID, TrainConfig
from agnews.dataset.check import OK_LINE, check_data
from agnews.dataset.errors import DataError
from agnews.dataset.folder import read_folder
from agnews.dataset.source import data_options, read_source

JSON_KEYS = {"schema_version", "ok", "refusal", "dataset", "splits", "carved", "warnings"}
SPLIT_KEYS = {"name", "origin", "format", "columns", "rows", "class_counts", "words", "chars"}
LENGTH_KEYS = {"mean", "p5", "p50", "p95", "max"}


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`agnews data check ARGS`: its exit status, stdout and stderr."""
    status = main(["data", "check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def options_as_argv(options: dict[str, Any]) -> list[str]:
    """Reader keyword arguments named as TrainConfig fields, as `agnews data check` options."""
    argv = []
    for name, value in options.items():
        argv += ["--" + name.replace("_", "-"), *(value if isinstance(value, list) else [value])]
    return argv


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's own-data example, as `examples/own_data.py` writes it by default."""
    folder = tmp_path_factory.mktemp("example") / "tickets"
    assert load_script(ROOT / "examples" / "own_data.py", "own_data").main([str(folder)]) == 0
    return folder


def test_the_generated_example_is_what_training_would_read(
    tickets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(tickets)
    status, out, err = check(capsys, str(tickets))
    assert (status, err) == (0, "")
    assert out.rstrip().endswith(OK_LINE)
    assert "3 classes, in order: Billing / Payments, Login & Account Access, Shipping/Delivery" in out
    assert f"train: 480 rows from {tickets / 'train.csv'} (CSV)" in out
    assert "carved validation split: 48 of the training rows" in out
    assert tree(tickets) == before


def test_the_json_report_has_its_documented_keys(tickets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, str(tickets), "--json")
    report = json.loads(out)
    assert status == 0 and set(report) == JSON_KEYS
    assert (report["schema_version"], report["ok"], report["refusal"]) == (1, True, None)
    assert [s["name"] for s in report["splits"]] == ["train", "test"]
    for split in report["splits"]:
        assert set(split) == SPLIT_KEYS and split["format"] == "CSV"
        assert set(split["words"]) == LENGTH_KEYS == set(split["chars"])
        assert list(split["class_counts"]) == report["dataset"]["class_names"]
    counts = list(report["splits"][0]["class_counts"].values())
    assert sum(counts) == 480 and counts == sorted(counts, reverse=True) and counts[0] > 2 * counts[-1]
    assert report["carved"] == [
        {"split": "validation", "fraction": 0.1, "rows": 48, "rows_needed_per_class": 10}
    ]


def test_the_example_is_deterministic_varied_and_refuses_to_overwrite(tickets: Path, tmp_path: Path) -> None:
    own_data = load_script(ROOT / "examples" / "own_data.py", "own_data")
    assert own_data.main([str(tmp_path / "again")]) == 0
    assert tree(tmp_path / "again") == tree(tickets)
    assert own_data.main([str(tmp_path / "other"), "--seed", "1", "--classes", "8", "--rows", "900"]) == 0
    assert tree(tmp_path / "other") != tree(tickets)
    with pytest.raises(SystemExit):
        own_data.main([str(tmp_path / "again")])
    with pytest.raises(SystemExit):
        own_data.main([str(tmp_path / "small"), "--classes", "8", "--rows", "100"])
    assert not (tmp_path / "small").exists()


def test_ag_news_shared_folder_is_ag_news(capsys: pytest.CaptureFixture[str]) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    status, out, _ = check(capsys, str(SHARED_DATA), "--json")
    report = json.loads(out)
    assert status == 0 and report["ok"]
    dataset = report["dataset"]
    assert dataset["name"] == "ag_news" and dataset["class_names"] == [
        "World",
        "Sports",
        "Business",
        "Sci/Tech",
    ]
    assert (dataset["cleaning"], dataset["domain"]) == ("ag_news", "news")
    assert [s["name"] for s in report["splits"]] == ["train", "test"]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_each_bad_input_is_refused_by_the_command(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options, expected = write_bad_folder(tmp_path, case)
    before = tree(tmp_path)
    status, out, err = check(capsys, str(tmp_path), *options_as_argv(options))
    assert status == 2
    assert err.startswith("agnews data: error: ")
    assert len(err.strip().splitlines()) == 1 and OK_LINE not in out
    assert re.search(expected, err)
    assert tree(tmp_path) == before


def test_a_class_too_small_for_the_validation_split_is_refused_with_the_counts_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(tmp_path / "train.csv", class_rows(["big"], 30) + class_rows(["rare"], 3, offset=100))
    write_table(tmp_path / "test.csv", class_rows(["big", "rare"], 2, offset=500))
    before = tree(tmp_path)
    status, out, err = check(capsys, str(tmp_path))
    assert status == 2
    assert "class 'rare' has 3 training rows" in err and "needs at least 11 rows in every class" in err
    assert "rows per class:" in out and OK_LINE not in out
    assert json.loads(check(capsys, str(tmp_path), "--json")[1])["ok"] is False
    # A bigger validation share needs fewer rows per class; a validation file needs no carving.
    assert check(capsys, str(tmp_path), "--validation-fraction", "0.5")[0] == 0
    write_table(tmp_path / "validation.csv", class_rows(["big", "rare"], 1, offset=900))
    status, out, _ = check(capsys, str(tmp_path))
    assert status == 0 and "carved" not in out
    assert {k: v for k, v in tree(tmp_path).items() if k != "validation.csv"} == before


@pytest.mark.parametrize(
    ("small", "refusal"), [(12, None), (11, "carving the validation split: class 'small' has 10")]
)
def test_without_a_test_split_test_then_validation_are_carved_as_training_carves_them(
    tmp_path: Path, small: int, refusal: str | None
) -> None:
    """A Hub dataset may lack a test split: training carves one out first, then validation from the
    rest, each with the stratification minimum (11 rows per class here, at a share of 0.1)."""
    write_table(tmp_path / "train.csv", class_rows(["big"], 90) + class_rows(["small"], small, offset=100))
    write_table(tmp_path / "test.csv", class_rows(["big", "small"], 1, offset=500))
    without_test = dataclasses.replace(read_folder(tmp_path), test=None)
    report = check_data(lambda: without_test, validation_fraction=0.1)
    assert [(c.split, c.rows_needed_per_class) for c in report.carved][:1] == [("test", 11)]
    if refusal is None:
        assert report.ok and [c.split for c in report.carved] == ["test", "validation"]
    else:
        assert report.refusal is not None and refusal in report.refusal


def test_held_out_rows_that_are_also_training_rows_are_warned_of(tmp_path: Path) -> None:
    train = class_rows(["a", "b"], 30)
    test = class_rows(["a", "b"], 10, offset=500)
    test[0]["text"] = "  " + train[0]["text"].upper()  # the same text, up to spacing and case
    test[1] = {**train[1]}  # an exact copy, with its label
    test[12] = {"text": train[2]["text"], "label": "b"}  # a copy labelled otherwise
    write_table(tmp_path / "train.csv", train)
    write_table(tmp_path / "test.csv", test)
    report = check_data(lambda: read_folder(tmp_path), validation_fraction=0.1)
    assert report.ok
    [warning] = [w for w in report.warnings if "also training rows" in w]
    assert warning.startswith(
        "3 of the 20 test rows (15.0%) are also training rows (the same text), 1 of them"
    )
    write_table(tmp_path / "test.csv", class_rows(["a", "b"], 10, offset=500))
    clean = check_data(lambda: read_folder(tmp_path), validation_fraction=0.1)
    assert not [w for w in clean.warnings if "training row" in w]


def test_a_bad_setting_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_split_folder(tmp_path, ["a", "b"], ".csv")
    status, _, err = check(capsys, str(tmp_path), "--validation-fraction", "1.5")
    assert status == 2 and "validation_fraction must be in (0, 1)" in err


def test_help_lists_the_command_and_every_data_option_with_trainconfigs_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "data check PATH" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["data", "check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    by_name = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for field in [*data_options(), by_name["validation_fraction"]]:
        assert " ".join(field.metadata["help"].split()) in text
        if field.name != "data":
            assert "--" + field.name.replace("_", "-") in text


# read_source: which reader the options choose, and the combinations it refuses before reading.


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"data": "x", "dataset": "y"}, r"--data .* and --dataset .* name two datasets"),
        ({"dataset_config": "c"}, r"--dataset-config .* give --dataset too"),
        ({"test_file": "t.csv"}, r"--test-file goes with a training file in --data"),
        ({"dataset": "someone/data", "test_file": "t.csv"}, r"--test-file goes with a training file"),
        ({"label_names": ["a", "b"]}, r"the default is AG News, .* drop --label-names"),
        (
            {"dataset": "ag_news", "text_column": ["title"]},
            r"--dataset ag_news is AG News.*drop --text-column",
        ),
        ({"domain": "reviews", "label_column": "y"}, r"drop --label-column, --domain"),
    ],
)
def test_contradictory_options_are_refused_before_reading(
    values: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agnews.dataset.hub

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("read before refusing")

    monkeypatch.setattr(agnews.dataset.hub, "read_hub", no_reading)
    with pytest.raises(DataError, match=expected):
        read_source(TrainConfig(**values))


def test_local_paths_are_a_folder_or_a_file_with_its_test_file(tmp_path: Path) -> None:
    folder = write_split_folder(tmp_path / "reviews", ["bad", "good"], ".jsonl")
    with pytest.raises(DataError, match=r"is a folder, whose test file is its own test\.\* file"):
        read_source(TrainConfig(data=str(folder), test_file=str(folder / "test.jsonl")))
    with pytest.raises(DataError, match=r"is one file: name its test file with --test-file"):
        read_source(TrainConfig(data=str(folder / "train.jsonl")))
    with pytest.raises(DataError, match=r"nowhere: data folder not found \(--data takes a folder"):
        read_source(TrainConfig(data=str(tmp_path / "nowhere")))
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        read_source(TrainConfig(data=str(folder / "train.jsonl"), test_file=str(tmp_path / "missing.csv")))

    data = read_source(TrainConfig(data=str(folder), domain="reviews"))
    assert (data.description.name, data.description.domain) == ("reviews", "reviews")
    pair = read_source(TrainConfig(data=str(folder / "train.jsonl"), test_file=str(folder / "test.jsonl")))
    assert pair.description.class_names == ("bad", "good") and pair.description.name == "train"
    assert (pair.train.texts, pair.train.labels) == (data.train.texts, data.train.labels)


def test_column_options_reach_the_reader(tmp_path: Path) -> None:
    rows = [{"title": f"t{k}", "body": f"b{k}", "y": "yes" if k % 2 else "no"} for k in range(6)]
    write_table(tmp_path / "train.parquet", rows)
    write_table(tmp_path / "test.parquet", rows)
    data = read_source(
        TrainConfig(
            data=str(tmp_path), text_column=["title", "body"], label_column="y", label_names=["yes", "no"]
        )
    )
    assert data.description.class_names == ("yes", "no")
    assert data.train.texts[1] == "t1 b1" and data.train.labels[:2] == [1, 0]


def test_an_ag_news_folder_takes_domain_news_but_no_other_description(tmp_path: Path) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    assert read_source(TrainConfig(data=str(SHARED_DATA), domain="news")).description.name == "ag_news"
    with pytest.raises(DataError, match=r"is AG News, .* drop --text-column"):
        read_source(TrainConfig(data=str(SHARED_DATA), text_column=["title", "description"]))


def test_neither_option_reads_ag_news_from_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    import agnews.dataset.hub

    calls: list[tuple[tuple, dict]] = []

    def record(*args: object, **kwargs: object) -> str:
        calls.append((args, kwargs))
        return "read"

    monkeypatch.setattr(agnews.dataset.hub, "read_hub", record)
    assert read_source(TrainConfig(domain="news")) == "read"
    assert (
        read_source(TrainConfig(dataset="someone/reviews", dataset_config="en", domain="reviews")) == "read"
    )
    (default_args, default_kwargs), (args, kwargs) = calls
    assert default_args == (HUB_DATASET_ID, None) and default_kwargs["domain"] == "news"
    assert args == ("someone/reviews", "en")
    assert kwargs == {
        "text_columns": ("text",),
        "label_column": "label",
        "label_names": None,
        "domain": "reviews",
    }


def test_a_hub_dataset_by_id_is_read_through_datasets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    folder = tmp_path / "hub"
    folder.mkdir()
    features = datasets.Features(
        {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=["neg", "pos"])}
    )
    for split, n in (("train", 20), ("test", 4)):
        rows = {"sentence": [f"{split} sentence {k}" for k in range(n)], "label": [k % 2 for k in range(n)]}
        datasets.Dataset.from_dict(rows, features=features).to_parquet(str(folder / f"{split}.parquet"))
    status, out, _ = check(capsys, "--dataset", str(folder), "--text-column", "sentence", "--json")
    report = json.loads(out)
    assert status == 0 and report["dataset"]["class_names"] == ["neg", "pos"]
    assert [s["format"] for s in report["splits"]] == ["Hub dataset", "Hub dataset"]
