"""Read a Hugging Face Hub dataset by id (`--dataset ID --dataset-config C`) into checked splits.

`datasets.load_dataset(id, config)` is the real path (users have internet; a local folder of data
files is read the same way, which is how the tests exercise it). A label column that is a
`ClassLabel` gives the class names and their order; otherwise labels follow
`agnews.dataset.classes`. A dataset that needs a loading script is refused: `datasets` 4 and later
no longer run them. A dataset without a test split is read without one, with a warning: the caller
carves a test split out of training. A split whose `ClassLabel` labels are all -1 (the Hub's mark
for unlabelled rows, as on GLUE's test splits) counts as absent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agnews.dataset.ag_news import AG_NEWS, HUB_IDS
from agnews.dataset.assemble import SPLIT_NAMES, LabelledDataset, assemble
from agnews.dataset.errors import DataError
from agnews.dataset.files import Table

# ClassLabel's integer for "no label".
_UNLABELLED = -1
_SCRIPTS_GONE = "Dataset scripts are no longer supported"


def read_hub(
    dataset_id: str,
    config: str | None = None,
    *,
    split_names: Mapping[str, str] | None = None,
    text_columns: Sequence[str] = ("text",),
    label_column: str = "label",
    label_names: Sequence[str] | None = None,
    name: str | None = None,
    domain: str | None = None,
    cache_dir: Path | None = None,
) -> LabelledDataset:
    """The Hub dataset `dataset_id` (with `config`), its splits found by `split_names` (our split name
    to the Hub's: `{"train": "train", "validation": "validation", "test": "test"}` by default; a split
    named here explicitly must exist, a default one may be absent except train).

    AG News's own Hub ids (or `name="ag_news"`) get AG News's cleaning and the news domain.
    """
    import datasets

    source = dataset_id if config is None else f"{dataset_id}:{config}"
    _check_reachable(dataset_id, source)
    try:
        loaded = datasets.load_dataset(dataset_id, config, cache_dir=str(cache_dir) if cache_dir else None)
    except RuntimeError as exc:
        if _SCRIPTS_GONE in str(exc):
            raise DataError(
                f"{source}: the dataset needs a loading script, which datasets {datasets.__version__} no "
                "longer runs; use a copy converted to data files (parquet, CSV, JSON lines) on the Hub, or "
                "download its files and pass them with --data"
            ) from None
        raise DataError(f"{source}: could not load the dataset: {exc}") from exc
    except Exception as exc:  # the Hub's and the network's errors are many; each is the user's to fix
        raise DataError(f"{source}: could not load the dataset ({type(exc).__name__}: {exc})") from exc
    if not isinstance(loaded, datasets.DatasetDict):
        raise DataError(f"{source}: expected a dataset with named splits, got {type(loaded).__name__}")

    wanted = dict(split_names or {})
    unknown = sorted(set(wanted) - set(SPLIT_NAMES))
    if unknown:
        raise DataError(f"unknown split role(s) {unknown}; expected some of {', '.join(SPLIT_NAMES)}")
    available = ", ".join(repr(s) for s in loaded) or "none"
    warnings: list[str] = []
    tables: dict[str, Table] = {}
    class_label: Sequence[str] | None = None
    for role in SPLIT_NAMES:
        hub_split = wanted.get(role, role)
        if hub_split not in loaded:
            if role in wanted or role == "train":
                raise DataError(f"{source}: no split {hub_split!r} for {role}; its splits are {available}")
            if role == "test":
                warnings.append(f"{source}: no test split; one is carved out of the training split")
            continue
        split = loaded[hub_split]
        names = _class_label_names(split.features.get(label_column))
        table = _table(split, f"{source}:{hub_split}", [*text_columns, label_column], label_column, names)
        if table is None:
            if role == "train":
                raise DataError(f"{source}:{hub_split}: the training split has no labels (all -1)")
            warnings.append(f"{source}:{hub_split}: its labels are all -1 (unlabelled); it is not used")
            continue
        tables[role] = table
        if role == "train":
            class_label = names

    order = label_names
    if order is None and class_label is not None:
        present = set(tables["train"].cells[label_column])
        order = [n for n in class_label if n in present]
        unused = [n for n in class_label if n not in present]
        if unused:
            warnings.append(
                f"{source}: ClassLabel class(es) with no training rows are left out: "
                + ", ".join(repr(n) for n in unused)
            )
    ag_news = name == AG_NEWS or dataset_id in HUB_IDS
    return assemble(
        tables,
        name=AG_NEWS if ag_news else name or dataset_id,
        source=source,
        text_columns=text_columns,
        label_column=label_column,
        label_names=order,
        cleaning="ag_news" if ag_news else "plain",
        domain="news" if ag_news else domain,
        warnings=warnings,
    )


def _check_reachable(dataset_id: str, source: str) -> None:
    """Fail fast, in seconds, when the Hub cannot be reached for a dataset id (the loader would retry
    for minutes); a local folder, or `HF_HUB_OFFLINE` (read from the cache only), skips the check."""
    import huggingface_hub

    if os.environ.get("HF_HUB_OFFLINE") or Path(dataset_id).expanduser().exists():
        return
    try:
        huggingface_hub.HfApi().dataset_info(dataset_id, timeout=10)
    except Exception as exc:  # offline, unknown id, private: each is the user's to fix
        raise DataError(
            f"{source}: cannot reach it on the Hugging Face Hub ({type(exc).__name__}); offline, pass a "
            "local copy with --data (for AG News: a folder with its CSVs, e.g. ../shared/data/ag_news)"
        ) from exc


def _class_label_names(feature: Any) -> list[str] | None:
    """The class names of a `ClassLabel` feature, or None for any other feature."""
    import datasets

    return list(feature.names) if isinstance(feature, datasets.ClassLabel) else None


def _table(
    split: Any, origin: str, columns: Sequence[str], label_column: str, class_names: Sequence[str] | None
) -> Table | None:
    """The cells `columns` name (a missing one is left out, for `assemble` to refuse with the split's
    columns listed); ClassLabel ids become their names. None when every label is unlabelled."""
    cells = {c: split.data.column(c).to_pylist() for c in dict.fromkeys(columns) if c in split.column_names}
    rows = list(range(1, split.num_rows + 1))
    if class_names is not None and label_column in cells:
        ids = cells[label_column]
        if ids and all(i == _UNLABELLED for i in ids):
            return None
        valid = range(len(class_names))
        bad = next((row for row, i in zip(rows, ids, strict=True) if i not in valid), None)
        if bad is not None:
            raise DataError(
                f"{origin}: row {bad} has label {ids[bad - 1]}, not a class id of its ClassLabel "
                f"(0-{len(class_names) - 1})"
            )
        cells[label_column] = [class_names[i] for i in ids]
    return Table(origin, tuple(split.column_names), cells, rows, typed=True)
