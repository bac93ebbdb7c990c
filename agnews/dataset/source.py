"""The one way a training config's data options become a read dataset: `read_source(config)`.

Training, `agnews data check` and the page all call it, so they read the same rows and refuse the
same data. The options and what they mean together:

- `--dataset ID` (with `--dataset-config`): a Hugging Face Hub dataset; AG News's own ids
  (`agnews.dataset.ag_news.HUB_IDS`) are read as AG News.
- `--data FOLDER`: AG News's own folder (its `classes.txt`) or any folder of `train.*` and `test.*`
  (`agnews.dataset.folder` states the rule).
- `--data FILE --test-file FILE`: one training file and its test file.
- neither: AG News from the Hub (`agnews.config.HUB_DATASET_ID`), the default and the demo.

Contradictions are refused before anything is read, naming the options: `--data` with `--dataset`,
`--test-file` without a training file in `--data` (or with a folder, which has its own test file), a
training file without `--test-file`, `--dataset-config` without `--dataset`, and column, class or
domain options for AG News, whose columns, class order and domain (news) are its own.

Import-light: the Hub reader (and `datasets`) is imported only when a Hub dataset is read.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agnews.config import HUB_DATASET_ID, TrainConfig
from agnews.dataset.ag_news import HUB_IDS, is_ag_news_folder
from agnews.dataset.assemble import LabelledDataset
from agnews.dataset.errors import DataError
from agnews.dataset.folder import read_files, read_folder

# The options that describe a generic dataset's columns, classes and kind of text; AG News fixes all four.
_DESCRIBING = ("text_column", "label_column", "label_names", "domain")


def read_source(config: TrainConfig) -> LabelledDataset:
    """The dataset `config`'s data options name, read and checked (see the module for the rules).

    Raises DataError for contradictory options and for data the readers refuse; nothing is written.
    """
    _refuse_contradictions(config)
    columns = {
        "text_columns": tuple(config.text_column),
        "label_column": config.label_column,
        "label_names": config.label_names,
        "domain": config.domain,
    }
    if config.data is None:
        from agnews.dataset.hub import read_hub

        dataset = config.dataset or HUB_DATASET_ID
        if dataset in HUB_IDS:
            _refuse_options_for_ag_news(config, f"--dataset {dataset}" if config.dataset else "the default")
        return read_hub(dataset, config.dataset_config, **columns)
    path = Path(config.data).expanduser()
    if path.is_dir():
        if config.test_file is not None:
            raise DataError(
                f"{path} is a folder, whose test file is its own test.* file: drop --test-file, or pass "
                "the training file itself as --data"
            )
        if is_ag_news_folder(path):
            _refuse_options_for_ag_news(config, f"--data {path}")
        return read_folder(path, **columns)
    if not path.exists():
        raise DataError(
            f"{path}: data folder not found (--data takes a folder of train.* and test.* files, or one "
            "training file with --test-file)"
        )
    if config.test_file is None:
        raise DataError(
            f"--data {path} is one file: name its test file with --test-file, or pass the folder "
            "holding train.* and test.* as --data"
        )
    return read_files(path, Path(config.test_file).expanduser(), **columns)


def _refuse_contradictions(config: TrainConfig) -> None:
    """Refuse options that cannot be meant together, before reading anything."""
    if config.data is not None and config.dataset is not None:
        raise DataError(
            "--data (a local folder or file) and --dataset (a Hub dataset) name two datasets; give one"
        )
    if config.dataset_config is not None and config.dataset is None:
        raise DataError("--dataset-config names a configuration of a Hub dataset: give --dataset too")
    if config.test_file is not None and config.data is None:
        raise DataError(
            "--test-file goes with a training file in --data; a Hub dataset brings its own test split"
        )


def _refuse_options_for_ag_news(config: TrainConfig, named_by: str) -> None:
    """AG News's columns, class order and domain are its own: an option that says otherwise is refused
    rather than ignored (`--domain news` agrees, so it is allowed)."""
    defaults = TrainConfig()
    changed = [
        name
        for name in _DESCRIBING
        if getattr(config, name) != getattr(defaults, name)
        and not (name == "domain" and config.domain == "news")
    ]
    if changed:
        options = ", ".join("--" + name.replace("_", "-") for name in changed)
        raise DataError(
            f"{named_by} is AG News, whose columns, classes and domain (news) are its own: drop {options}"
        )


def data_options() -> tuple[dataclasses.Field, ...]:
    """TrainConfig's fields that `read_source` reads, in their declared order (the command line of
    `agnews data check` is built from them)."""
    names = {"data", "test_file", "dataset", "dataset_config", *_DESCRIBING}
    return tuple(f for f in dataclasses.fields(TrainConfig) if f.name in names)
