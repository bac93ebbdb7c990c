"""Classify a whole CSV file: read and check it, predict every row, write it back with the answers.

The app's batch upload is built on this; nothing here needs Gradio, so it is tested on small files.
The file's own cells are written back verbatim (no type guessing: "007" stays "007"), with the
probability of each of the model's classes (`p_<class name>`), the predicted class and a `note`
appended to every row, and `needs_review` (true below the run's review threshold,
`agnews.training.calibrate`) when the run has one. A row whose text is empty keeps its place with
an empty prediction and a note saying why: no row is ever dropped.

Where the text comes from, in this order:
- a `text` column (any case), as in the Hub-shaped AG News files and most exports;
- `title` and `description` columns, joined with a space as the training data was;
- no header, three columns, a class 1-4 first: an original AG News file (class, title, description).

`agnews.data.read_csv_split` reads training files, which must have labels and may not have empty
texts; a file to classify has neither constraint, so it has this reader of its own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agnews.csv_cells import neutralise_row
from agnews.dataset.cleaning import plain_clean
from agnews.formatting import count, megabytes, number
from agnews.serving.predictor import MAX_CHARS, model_text

# Uploads over this are refused by the server before they reach Python (app.py passes it to
# `launch(max_file_size=...)`), and by `read_table` for files that arrive another way.
MAX_BYTES = 5 * 1024 * 1024
# A full file keeps the app busy for about two minutes (83 rows/s measured on one core of the busy
# 2-core reference machine): long enough to show a progress bar, short enough not to time out.
MAX_ROWS = 10_000
ANSWER_COLUMNS = ["predicted", "note"]
REVIEW_COLUMN = "needs_review"
ORIGINAL_HEADER = ["class", "title", "description"]
NOTE_EMPTY = "empty text: not classified"
NOTE_UNREADABLE = "no text left once markup and control characters are removed: not classified"
NOTE_CUT = f"long text: classified on its first {count(MAX_CHARS)} characters"
NOTE_FAILED = "the model could not read this text: not classified"
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}

Progress = Callable[[int, int], None]
PredictMany = Callable[[list[str], Progress | None], np.ndarray]


class BatchError(ValueError):
    """The uploaded file cannot be classified; the message says why and what to change."""


@dataclass(frozen=True)
class Table:
    """A CSV file to classify: its header (one is made up for an original AG News file), its rows,
    the text of each row as given, and where that text was found (for the summary)."""

    header: list[str]
    rows: list[list[str]]
    texts: list[str]
    source: str


@dataclass(frozen=True)
class Summary:
    """What became of a file's rows: all are in the output; `classified` of them have a prediction."""

    rows: int
    classified: int
    unclassified: int
    cut: int
    source: str
    needs_review: int | None = None  # predictions below the review threshold; None: no threshold

    def describe(self) -> str:
        """One paragraph for the person who uploaded the file."""
        parts = [f"Classified {count(self.classified)} of {count(self.rows)} rows (text from {self.source})."]
        if self.unclassified:
            parts.append(
                f"{_count(self.unclassified, 'row has', 'rows have')} no text: kept in the file with an "
                "empty prediction and a `note`."
            )
        if self.cut:
            parts.append(
                f"{_count(self.cut, 'long text was', 'long texts were')} classified on the first "
                f"{count(MAX_CHARS)} characters."
            )
        if self.needs_review is not None:
            parts.append(
                f"{_count(self.needs_review, 'prediction is', 'predictions are')} below the run's review "
                "threshold (`needs_review` true)."
            )
        return " ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{count(n)} {one if n == 1 else many}"


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchError(
            f"{name} is not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset {exc.start} "
            f"(line {line}); save the file as UTF-8"
        ) from None


def _other_delimiter(first_line: str) -> str | None:
    """The delimiter a header line seems to use instead of commas (';', tab, '|'), if any."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in _OTHER_DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] > first_line.count(",") else None


def csv_records(text: str, name: str, error: type[Exception] = BatchError) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every CSV record, read strictly (a stray quote is an `error` naming
    the line, where pandas would guess). Blank lines are not rows; a line of empty cells is.
    Shared with `agnews cross-domain`, which raises its own error type."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    try:
        for cells in reader:
            if cells:
                records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise error(f"{name}: malformed CSV at line {reader.line_num}: {exc}") from None
    return records


def check_row_widths(
    body: list[tuple[int, list[str]]], width: int, name: str, error: type[Exception] = BatchError
) -> None:
    """Every record has the header's number of cells: a row of another width is an `error` naming its
    line (pandas would shift its cells into the index, cut or pad it without a word)."""
    for line, cells in body:
        if len(cells) != width:
            raise error(
                f"{name}: line {line} has {len(cells)} cells, the header has {width}; "
                "quote cells that contain commas"
            )


def _text_columns(header: list[str]) -> tuple[list[int], str] | None:
    """Indices of the columns that make up a row's text, and a description; None if there are none."""
    names = [cell.strip().lower() for cell in header]
    if "text" in names:
        return [names.index("text")], "the `text` column"
    if "title" in names and "description" in names:
        return [names.index("title"), names.index("description")], "the `title` and `description` columns"
    return None


def _is_original(cells: list[str]) -> bool:
    return len(cells) == 3 and cells[0].strip() in {"1", "2", "3", "4"}


def read_records(path: str | Path, *, max_bytes: int = MAX_BYTES) -> tuple[str, list[tuple[int, list[str]]]]:
    """An uploaded CSV file's text and its records (`csv_records`), checked as every upload of the app
    is: size, emptiness, UTF-8 (with the offending byte's offset) and CSV syntax, each a BatchError
    with its own message. What the rows must hold is the caller's to check."""
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    if size > max_bytes:
        raise BatchError(
            f"{name} is {count(size)} bytes; the limit is {count(max_bytes)} bytes "
            f"({megabytes(max_bytes, 0, binary=True)}): split it"
        )
    data = path.read_bytes()
    if not data.strip():
        raise BatchError(f"{name} is empty")
    text = _decode(data, name)
    records = csv_records(text, name)
    if not records:
        raise BatchError(f"{name} is empty")
    return text, records


@dataclass(frozen=True)
class TextSource:
    """Where a file's text is: the header to write back (made up for an original AG News file), the
    columns joined into a row's text, a description, and whether the first record is already a row."""

    header: list[str]
    columns: list[int]
    source: str
    first_is_row: bool


def find_text(first: list[str], first_line: str, name: str, classes: Sequence[str]) -> TextSource:
    """Where the text is in a file whose first record is `first` (its raw line: `first_line`), and
    that none of the output columns (`output_columns` of `classes`) is there already; BatchError
    naming another delimiter, or listing the columns found, or the clashing columns, otherwise."""
    found = _text_columns(first)
    if found is not None:
        text = TextSource(first, found[0], found[1], first_is_row=False)
    elif _is_original(first):
        text = TextSource(list(ORIGINAL_HEADER), [1, 2], "an original AG News file (no header)", True)
    else:
        delimiter = _other_delimiter(first_line)
        if delimiter is not None:
            raise BatchError(
                f"{name}: no `text` column; the file seems to use {_OTHER_DELIMITERS[delimiter]} as "
                "delimiter: save it comma-separated"
            )
        listed = ", ".join(repr(cell) for cell in first)
        raise BatchError(
            f"{name}: no `text` column (nor `title` and `description`); columns found: {listed}. "
            "Name the column holding the text `text`."
        )
    added = {c.lower() for c in output_columns(classes, review_threshold=0.0)}
    clashes = [cell for cell in text.header if cell.strip().lower() in added]
    if clashes:
        raise BatchError(
            f"{name} already has column(s) {', '.join(map(repr, clashes))}, which the output adds: "
            "rename or remove them"
        )
    return text


def read_table(
    path: str | Path, classes: Sequence[str], *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """Read and check a CSV file to classify by a model of `classes`; raise BatchError with a specific
    message if it can't be.

    Checks, each with its own message: those of `read_records`, where the text is (`find_text`),
    rows with more or fewer cells than the header, and the row limit.
    """
    name = Path(path).name
    text, records = read_records(path, max_bytes=max_bytes)
    found = find_text(records[0][1], text.split("\n", 1)[0], name, classes)
    body = records if found.first_is_row else records[1:]
    if not body:
        raise BatchError(f"{name} has a header but no rows")
    if len(body) > max_rows:
        raise BatchError(
            f"{name} has {count(len(body))} rows; the limit is {count(max_rows)} per file: split it"
        )
    check_row_widths(body, len(found.header), name)
    rows = [cells for _, cells in body]
    texts = [" ".join(cells[i] for i in found.columns) for cells in rows]
    return Table(header=found.header, rows=rows, texts=texts, source=found.source)


def probability_columns(classes: Sequence[str]) -> list[str]:
    """`p_<name>` for each class, in class-id order. Distinct because class names are (a run refuses
    repeated names), and never one of `ANSWER_COLUMNS` or REVIEW_COLUMN, which have no `p_` prefix;
    a formula-like name is neutralised where the header is written (`write_table`)."""
    return [f"p_{name}" for name in classes]


def output_columns(classes: Sequence[str], review_threshold: float | None) -> list[str]:
    """The columns appended to every row: one probability per class, `predicted`, `note`, and
    `needs_review` too when there is a review threshold."""
    columns = [*probability_columns(classes), *ANSWER_COLUMNS]
    return [*columns, REVIEW_COLUMN] if review_threshold is not None else columns


def classify_table(
    table: Table,
    predict_many: PredictMany,
    progress: Progress | None = None,
    review_threshold: float | None = None,
    *,
    classes: Sequence[str],
    clean: Callable[[str], str] = plain_clean,
) -> tuple[list[list[str]], Summary]:
    """Every row of `table` with the output columns appended, in input order, and a summary.
    `clean`: the run's cleaning (`Predictor.clean`), done to each text as the model's training data was.

    `predict_many(texts, progress)` returns probabilities (n x len(classes), class-id order of
    `classes`, the model's) for non-empty texts
    (`Predictor.probabilities_many`), a row of NaN for a text the model failed on (that row gets
    NOTE_FAILED, the others their predictions); rows with no text after cleaning are not sent to it. With a
    `review_threshold`, `needs_review` is "true" for a prediction whose confidence is below it,
    "false" otherwise, and empty for a row without a prediction.
    """
    prepared = [model_text(text, clean) for text in table.texts]
    notes = [
        NOTE_EMPTY if not raw.strip() else NOTE_UNREADABLE if not text else NOTE_CUT if cut else ""
        for raw, (text, cut) in zip(table.texts, prepared, strict=True)
    ]
    todo = [i for i, (text, _) in enumerate(prepared) if text]
    probs = predict_many([prepared[i][0] for i in todo], progress) if todo else np.zeros((0, len(classes)))
    answers: list[list[str]] = [[""] * (len(classes) + 1) for _ in table.rows]
    reviews = ["" for _ in table.rows]
    failed = 0
    for i, row_probs in zip(todo, probs, strict=True):
        if np.isnan(row_probs).any():
            notes[i], failed = NOTE_FAILED, failed + 1
            continue
        answers[i] = [number(p) for p in row_probs] + [classes[int(np.argmax(row_probs))]]
        if review_threshold is not None:
            reviews[i] = "true" if float(np.max(row_probs)) < review_threshold else "false"
    out = [cells + answer + [note] for cells, answer, note in zip(table.rows, answers, notes, strict=True)]
    if review_threshold is not None:
        out = [[*row, review] for row, review in zip(out, reviews, strict=True)]
    summary = Summary(
        rows=len(out),
        classified=len(todo) - failed,
        unclassified=len(out) - len(todo) + failed,
        cut=sum(note == NOTE_CUT for note in notes),
        source=table.source,
        needs_review=reviews.count("true") if review_threshold is not None else None,
    )
    return out, summary


def write_table(
    header: list[str],
    rows: list[list[str]],
    path: str | Path,
    columns: list[str],
    *,
    raw_cells: bool = False,
) -> Path:
    """Write the classified rows as a UTF-8 CSV with the output `columns` after the file's own;
    formula-like cells get a leading `'` (`agnews.csv_cells`) unless `raw_cells`."""
    path = Path(path)
    cell = list if raw_cells else neutralise_row
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(cell([*header, *columns]))
        writer.writerows(cell(row) for row in rows)
    return path


def classify_csv(
    source: str | Path,
    destination: str | Path,
    predict_many: PredictMany,
    progress: Progress | None = None,
    review_threshold: float | None = None,
    *,
    classes: Sequence[str],
    clean: Callable[[str], str] = plain_clean,
    raw_cells: bool = False,
) -> Summary:
    """Read `source`, classify every row by a model of `classes`, write `destination`: the whole
    batch job in one call (`raw_cells`: see `write_table`)."""
    table = read_table(source, classes)
    rows, summary = classify_table(
        table, predict_many, progress, review_threshold, classes=classes, clean=clean
    )
    columns = output_columns(classes, review_threshold)
    write_table(table.header, rows, destination, columns, raw_cells=raw_cells)
    return summary
