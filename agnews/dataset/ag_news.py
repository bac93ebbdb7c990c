"""AG News, the default dataset and the demo: the one module that knows its classes, its two CSV
layouts and its cleaning.

A folder is AG News ONLY when it holds AG News's own `classes.txt` (World, Sports, Business,
Sci/Tech, one per line, in that order, as the original distribution has it) or the caller says so
(`name="ag_news"`). Anything else is generic data read by its header, however much it looks like AG
News: a headerless two-column folder of 0/1 labels is not four-class news.

Its CSVs come in two headerless shapes, told apart by the first row's width:
- original: `class (1-4), title, description`; title and description are joined with a space;
- Hub-shaped: `text, label (0-3)`, optionally under a `text,label` header.
The training file is `train.csv`, else the one `train*.csv` (e.g. `train_sample_5000.csv`); the test
file is `test.csv`. Texts get AG News's own cleaning (`agnews.text.clean_text`), which every text
hash of its runs depends on.
"""

from __future__ import annotations

import csv
from pathlib import Path

from agnews.config import HUB_DATASET_ID
from agnews.dataset.assemble import LabelledDataset, Split, missing_class_warnings
from agnews.dataset.description import DatasetDescription
from agnews.dataset.errors import DataError
from agnews.text import clean_text

AG_NEWS = "ag_news"
# Label ids are 0-based, as on the Hugging Face Hub; the original CSV files number them from 1.
AG_NEWS_CLASSES: tuple[str, ...] = ("World", "Sports", "Business", "Sci/Tech")
CLASSES_FILE = "classes.txt"
# Hub ids under which AG News itself is published (its ClassLabel names are AG_NEWS_CLASSES).
HUB_IDS: tuple[str, ...] = (HUB_DATASET_ID, AG_NEWS)
# AG News's classes.txt is 37 bytes; a bigger one is someone else's.
_CLASSES_FILE_MAX_BYTES = 1024


def is_ag_news_folder(folder: Path) -> bool:
    """Whether `folder` holds AG News's own `classes.txt` (its four class names, in order)."""
    path = folder / CLASSES_FILE
    if not path.is_file() or path.stat().st_size > _CLASSES_FILE_MAX_BYTES:
        return False
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return False
    return tuple(line.strip() for line in lines if line.strip()) == AG_NEWS_CLASSES


def ag_news_description(source: str) -> DatasetDescription:
    """AG News as a run records it: the Hub's column names, its four classes, its cleaning, news."""
    return DatasetDescription(
        name=AG_NEWS,
        source=source,
        text_columns=("text",),
        label_column="label",
        class_names=AG_NEWS_CLASSES,
        cleaning=AG_NEWS,
        domain="news",
    )


def ag_news_train_file(folder: Path) -> Path:
    """`train.csv` if present, else the one `train*.csv` (e.g. the offline 5k sample)."""
    if (folder / "train.csv").is_file():
        return folder / "train.csv"
    candidates = sorted(folder.glob("train*.csv"))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DataError(f"{folder}: no train.csv (or train*.csv) found for AG News")
    names = ", ".join(c.name for c in candidates)
    raise DataError(f"{folder}: several training files ({names}); keep one or add train.csv")


def read_ag_news(train: Path, test: Path, source: str) -> LabelledDataset:
    """AG News's training and test files (either shape each), cleaned its way."""
    splits = {"train": read_ag_news_csv(train), "test": read_ag_news_csv(test)}
    warnings = missing_class_warnings(AG_NEWS_CLASSES, splits)
    return LabelledDataset(
        ag_news_description(source), splits["train"], None, splits["test"], tuple(warnings)
    )


def read_ag_news_csv(path: Path) -> Split:
    """One AG News CSV in either shape (see the module), with 0-based class ids."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    rows: list[list[str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            rows.extend(reader)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except csv.Error as exc:
            raise DataError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from exc
    if not rows:
        raise DataError(f"{path}: the file is empty")
    start = 1 if [cell.strip().lower() for cell in rows[0]] == ["text", "label"] else 0
    width = len(rows[0])
    if width not in (2, 3):
        raise DataError(
            f"{path}: row 1 has {width} columns; AG News has 3 (class, title, description) or 2 (text, label)"
        )
    texts: list[str] = []
    labels: list[int] = []
    numbers: list[int] = []
    for index in range(start, len(rows)):
        row = rows[index]
        line = index + 1
        if len(row) != width:
            raise DataError(f"{path}: row {line} has {len(row)} columns, expected {width}")
        if width == 3:
            label, text = _label(row[0], 1, path, line), clean_text(f"{row[1]} {row[2]}")
        else:
            label, text = _label(row[1], 0, path, line), clean_text(row[0])
        if not text:
            raise DataError(f"{path}: row {line} has empty text")
        texts.append(text)
        labels.append(label)
        numbers.append(line)
    if not texts:
        raise DataError(f"{path}: no data rows")
    columns = ("class", "title", "description") if width == 3 else ("text", "label")
    return Split(texts, labels, str(path), numbers, columns)


def _label(value: str, low: int, path: Path, line: int) -> int:
    """A class id from the file's `low`-based class number."""
    try:
        label = int(value.strip())
    except ValueError:
        raise DataError(f"{path}: row {line}: AG News class {value!r} is not an integer") from None
    high = low + len(AG_NEWS_CLASSES) - 1
    if not low <= label <= high:
        raise DataError(f"{path}: row {line}: class {label} out of range {low}-{high}")
    return label - low
