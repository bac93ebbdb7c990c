"""Batch CSV classification, the library part: reading, checking and answering a file, without a model.

A stand-in `predict_many` answers from the text's length, so every row's answer can be checked; the
real model through the app is in tests/test_app.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.serving.csv_batch import (
    NOTE_CUT,
    NOTE_EMPTY,
    NOTE_UNREADABLE,
    BatchError,
    Progress,
    classify_csv,
    output_columns,
    read_table,
)
from agnews.serving.predictor import MAX_CHARS
from agnews.text import clean_text


class FakeModel:
    """Class = length of the text modulo 4, with probability 0.7; remembers what it was asked."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.progress_calls = 0

    def __call__(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        self.seen.extend(texts)
        probs = np.full((len(texts), len(LABELS)), 0.1, dtype=np.float32)
        probs[np.arange(len(texts)), [len(t) % 4 for t in texts]] = 0.7
        if progress is not None:
            progress(len(texts), len(texts))
            self.progress_calls += 1
        return probs


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def read_back(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_every_row_comes_back_in_order_with_answers_or_a_note(tmp_path: Path) -> None:
    long_text = "word " * 1000
    rows = [
        ["007", "Oil prices rise", "x"],
        ["008", "", "y"],
        ["009", "<br>\x00", ""],
        ["010", long_text, ""],
        ["011", "Oil\x00 and 🚀 中国", ""],
        ["", "", ""],  # a row of empty cells is a row, not a blank line
    ]
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "Text", "extra"], *rows])
    write(source, source.read_bytes() + b"\n\n")  # trailing blank lines are not rows
    model = FakeModel()
    summary = classify_csv(
        source,
        tmp_path / "out.csv",
        model,
        progress=lambda done, total: None,
        classes=LABELS,
        clean=clean_text,
    )

    out = read_back(tmp_path / "out.csv")
    assert out[0] == ["id", "Text", "extra", *output_columns(LABELS, None)]
    assert [r[:3] for r in out[1:]] == [r[:3] for r in rows]  # verbatim: "007" stays "007"
    notes = [r[-1] for r in out[1:]]
    assert notes == ["", NOTE_EMPTY, NOTE_UNREADABLE, NOTE_CUT, "", NOTE_EMPTY]
    assert model.seen[0] == "Oil prices rise" and len(model.seen) == 3 and model.progress_calls == 1
    assert len(model.seen[1]) <= MAX_CHARS and model.seen[2] == "Oil and 🚀 中国"
    first = out[1][3:]
    assert first[:4] == ["0.1000", "0.1000", "0.1000", "0.7000"] and first[4] == LABELS[15 % 4]
    assert out[2][3:8] == [""] * 5  # not classified: empty probabilities and prediction
    assert (summary.rows, summary.classified, summary.unclassified, summary.cut) == (6, 3, 3, 1)
    described = summary.describe()
    assert described.startswith("Classified 3 of 6 rows (text from the `text` column). 3 rows have no text")
    assert "1 long text was classified on the first 2,000 characters" in described


def test_title_and_description_or_an_original_ag_news_file(tmp_path: Path) -> None:
    named = read_table(write(tmp_path / "a.csv", "Description,title\nbody one,Head one\n"), LABELS)
    assert named.texts == ["Head one body one"] and "`title` and `description`" in named.source
    original = read_table(
        write(tmp_path / "b.csv", '"3","Wall St. Bears","Short-sellers are back"\n'), LABELS
    )
    assert original.header == ["class", "title", "description"]
    assert original.rows == [["3", "Wall St. Bears", "Short-sellers are back"]]
    assert original.texts == ["Wall St. Bears Short-sellers are back"]
    with_bom = read_table(write(tmp_path / "c.csv", "\ufefftext\nhello\n"), LABELS)
    assert with_bom.header == ["text"] and with_bom.texts == ["hello"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"^e\.csv is empty$"),
        (b"\n\n\r\n", r"^e\.csv is empty$"),
        (
            "id,text\n1,Café\n".encode("latin-1"),
            r"byte 0xe9 at byte offset 13 \(line 2\); save the file as UTF-8",
        ),
        (b"id;text\n1;Oil\n", r"no `text` column; the file seems to use ';' as delimiter"),
        (b"id\ttext\n1\tOil\n", r"no `text` column; the file seems to use tab as delimiter"),
        (b"id,body,when\n1,Oil,today\n", r"no `text` column .*; columns found: 'id', 'body', 'when'"),
        (b"id,text\n", r"has a header but no rows"),
        (b'id,text\n1,"unclosed\n', r"malformed CSV at line 2"),
        (b"id,text\n1,Oil\n2,Oil, rises\n", r"line 3 has 3 cells, the header has 2; quote cells"),
        (b"text,predicted\nOil,World\n", r"already has column\(s\) 'predicted'"),
    ],
)
def test_a_bad_file_is_refused_with_a_specific_message(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(BatchError, match=message):
        read_table(write(tmp_path / "e.csv", content), LABELS)


def test_size_and_row_limits(tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", "text\n" + "Oil prices\n" * 20)
    with pytest.raises(BatchError, match=r"big\.csv is 225 bytes; the limit is 100 bytes"):
        read_table(path, LABELS, max_bytes=100)
    with pytest.raises(BatchError, match="has 20 rows; the limit is 19 per file: split it"):
        read_table(path, LABELS, max_rows=19)
    assert len(read_table(path, LABELS, max_rows=20).rows) == 20
