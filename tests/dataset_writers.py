"""Write small synthetic datasets in any of the four formats, for the dataset reader's tests."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def write_table(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write `rows` (dicts with the same keys) as the format `path`'s extension names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=list(rows[0]), delimiter="\t" if suffix == ".tsv" else ","
            )
            writer.writeheader()
            writer.writerows(rows)
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    elif suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(list(rows)), path)
    else:
        raise ValueError(f"no writer for {path.suffix}")
    return path


def class_rows(classes: Sequence[Any], per_class: int, *, offset: int = 0) -> list[dict[str, Any]]:
    """`per_class` rows of each class, texts distinct and naming their class's position."""
    return [
        {"text": f"row {offset + i} of class number {k} says something", "label": label}
        for k, label in enumerate(classes)
        for i in range(per_class)
    ]


def write_split_folder(
    folder: Path, classes: Sequence[Any], ext: str, *, train_per_class: int = 3, test_per_class: int = 2
) -> Path:
    """A folder holding `train<ext>` and `test<ext>` with rows of every class."""
    write_table(folder / f"train{ext}", class_rows(classes, train_per_class))
    write_table(folder / f"test{ext}", class_rows(classes, test_per_class, offset=1000))
    return folder


BAD_INPUTS: tuple[str, ...] = (
    "one class",
    "unknown test label",
    "empty texts",
    "empty text column",
    "empty label column",
    "empty label cell",
    "mixed label types",
    "duplicate columns",
    "wrong extension",
    "missing label column",
    "multi-label",
    "unknown label names",
)


def write_bad_folder(tmp_path: Path, case: str) -> tuple[dict[str, Any], str]:
    """Write the folder of one of BAD_INPUTS into `tmp_path`; return the reader's options (keyword
    arguments of `read_folder` that are also TrainConfig's fields, so `agnews data check` takes them
    as options) and the refusal's message, a regex."""
    good = class_rows(["a", "b"], 3)
    write_table(tmp_path / "test.csv", good)
    if case == "one class":
        write_table(tmp_path / "train.csv", class_rows(["a"], 3))
        return {}, r"only one class \('a', 3 rows\)"
    if case == "unknown test label":
        write_table(tmp_path / "train.csv", good)
        write_table(tmp_path / "test.csv", good + class_rows(["zzz"], 2))
        return (
            {},
            r"test\.csv, column 'label': label 'zzz' \(2 rows, first row 8\) is not a class of the training",
        )
    if case == "empty texts":
        write_table(
            tmp_path / "train.csv",
            [*good[:2], {"text": "  ", "label": "a"}, *good[2:], {"text": "", "label": "b"}],
        )
        return {}, r"train\.csv: 2 rows have empty or whitespace-only text \(first: row 4\)"
    if case == "empty text column":
        write_table(tmp_path / "train.csv", [{"text": "", "label": "a"}, {"text": " ", "label": "b"}])
        return {}, r"the text column\(s\) 'text' are empty"
    if case == "empty label column":
        write_table(tmp_path / "train.csv", [{"text": "x", "label": ""}, {"text": "y", "label": ""}])
        return {}, "the label column is empty"
    if case == "empty label cell":
        write_table(tmp_path / "train.csv", [*good, {"text": "x", "label": " "}])
        return {}, r"1 rows have an empty label \(first: row 8\)"
    if case == "mixed label types":
        write_table(tmp_path / "train.jsonl", [{"text": "x", "label": 1}, {"text": "y", "label": "b"}])
        return {}, r"labels mix integers \(row 1\) and text \(row 2\)"
    if case == "duplicate columns":
        (tmp_path / "train.csv").write_text("text,label,label\nx,a,b\n")
        return {}, r"column name 'label' appears twice"
    if case == "wrong extension":
        write_table(tmp_path / "real.parquet", good)
        (tmp_path / "train.csv").write_bytes((tmp_path / "real.parquet").read_bytes())
        return {}, r"train\.csv: this is a parquet file, not CSV text"
    if case == "missing label column":
        write_table(tmp_path / "train.csv", good)
        return {
            "label_column": "category"
        }, r"no column 'category'; its columns are 'text', 'label'\. .*--label-column"
    if case == "multi-label":
        write_table(tmp_path / "train.csv", [*good, {"text": "x", "label": "a|b"}])
        return {}, r"row 8 has the label 'a\|b', which is several labels"
    if case == "unknown label names":
        write_table(tmp_path / "train.csv", good)
        return {"label_names": ["a"]}, r"labels not in the given class order .*'b' \(3 rows\)"
    raise AssertionError(case)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes: equal before and after means nothing was written."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
