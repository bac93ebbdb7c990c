"""Reading one table file: the four formats, cells kept as written, and files that are not what
their extension says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_writers import write_table

from agnews.dataset.errors import DataError
from agnews.dataset.files import read_table

ROWS = [{"text": "NA", "label": "null"}, {"text": "1e3", "label": "None"}, {"text": " kept ", "label": "007"}]


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_each_format_reads_its_columns_and_cells_as_written(tmp_path: Path, ext: str) -> None:
    table = read_table(write_table(tmp_path / f"data{ext}", ROWS))
    assert table.columns == ("text", "label")
    assert table.cells["text"] == ["NA", "1e3", " kept "]
    assert table.cells["label"] == ["null", "None", "007"]
    assert table.typed == (ext in (".jsonl", ".parquet"))


def test_rows_are_numbered_where_a_person_finds_them(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('text,label\n"two\nlines",x\n\nthird,y\n', encoding="utf-8")
    # The header is row 1; a blank line still counts as a record number.
    assert read_table(csv_file).rows == [2, 4]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "a", "label": 1}\n\n{"text": "b", "label": 2}\n', encoding="utf-8")
    assert read_table(jsonl).rows == [1, 3]


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\nhello,a\n".encode())
    assert read_table(path).columns == ("text", "label")


def test_json_lines_keep_cell_types_and_fill_absent_keys_with_none(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a", "label": 3}\n{"label": "x", "extra": [1]}\n', encoding="utf-8")
    table = read_table(path)
    assert table.columns == ("text", "label", "extra")
    assert table.cells == {"text": ["a", None], "label": [3, "x"], "extra": [None, [1]]}


def test_parquet_bytes_named_csv_are_refused_as_parquet(tmp_path: Path) -> None:
    real = write_table(tmp_path / "real.parquet", ROWS)
    fake = tmp_path / "train.csv"
    fake.write_bytes(real.read_bytes())
    with pytest.raises(DataError, match=r"train\.csv: this is a parquet file, not CSV text; expected CSV"):
        read_table(fake)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04rest of a workbook", "zip archive"),
        (b"\x1f\x8b\x08\x00gz", "gzip"),
        (b"text,label\n\x00\x01\x02 junk", "binary content"),
        ("text,label\nhi,a\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_files_named_as_text_are_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "train.tsv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=rf"train\.tsv: .*{expected}.*expected TSV"):
        read_table(path)


def test_a_csv_named_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    path.write_text("text,label\nhello,a\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"train\.parquet: not a parquet file.*expected parquet"):
        read_table(path)


def test_a_truncated_parquet_is_refused(tmp_path: Path) -> None:
    data = write_table(tmp_path / "real.parquet", ROWS).read_bytes()
    path = tmp_path / "cut.parquet"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cut\.parquet: not a readable parquet file"):
        read_table(path)


def test_json_that_is_not_json_lines_is_refused(tmp_path: Path) -> None:
    array = tmp_path / "array.jsonl"
    array.write_text(json.dumps(ROWS), encoding="utf-8")
    with pytest.raises(DataError, match=r"array\.jsonl: line 1 is a JSON list, not an object"):
        read_table(array)
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text(json.dumps(ROWS[0], indent=2), encoding="utf-8")
    with pytest.raises(DataError, match=r"pretty\.jsonl: line 1 is not JSON .*one JSON object per line"):
        read_table(pretty)
    csv_text = tmp_path / "csv.jsonl"
    csv_text.write_text("text,label\nhello,a\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"csv\.jsonl: line 1 is not JSON"):
        read_table(csv_text)


def test_malformed_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('text,label\nfine,a\n"unclosed" quote,b\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv: malformed CSV at line 3"):
        read_table(path)


def test_a_row_of_the_wrong_width_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nfine,a\nno label here\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv: row 3 \(line 3\) has 1 cells, the header has 2"):
        read_table(path)


def test_not_utf8_names_the_byte_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\nhéllo,a\ncafé,b\n".encode() + "naïve,c\n".encode("latin-1"))
    offset = len("text,label\nhéllo,a\ncafé,b\nna".encode())
    with pytest.raises(
        DataError, match=rf"latin1\.csv: not UTF-8 text: byte 0xef at byte offset {offset} \(line 4\)"
    ):
        read_table(path)


def test_not_utf8_far_into_a_large_file_is_located_exactly(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = '{"text": "' + "é" * 500 + '", "label": 1}\n'
    body = (line * 3000).encode()
    path.write_bytes(body + b'{"text": "\xff"}\n')
    with pytest.raises(DataError, match=rf"byte 0xff at byte offset {len(body) + 10} \(line 3001\)"):
        read_table(path)


def test_duplicate_column_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("text,label,text\na,b,c\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"dup\.csv: column name 'text' appears twice \(columns 1 and 3\)"):
        read_table(path)
    jsonl = tmp_path / "dup.jsonl"
    jsonl.write_text('{"text": "a", "label": 1, "text": "b"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"dup\.jsonl: line 1 names the key 'text' twice"):
        read_table(jsonl)


def test_duplicate_parquet_columns_are_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array(["a"]), pa.array(["b"])], names=["text", "text"])
    pq.write_table(table, path)
    with pytest.raises(DataError, match=r"dup\.parquet: column name 'text' appears twice"):
        read_table(path)


def test_an_unknown_extension_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unknown extension '\.xlsx'"):
        read_table(tmp_path / "train.xlsx")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "train.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="the file is empty"):
        read_table(empty)


def test_a_long_document_fits_in_one_cell(tmp_path: Path) -> None:
    text = "word " * 60_000
    path = write_table(tmp_path / "long.csv", [{"text": text, "label": "a"}])
    assert read_table(path).cells["text"] == [text]


def test_the_package_imports_no_model_or_page_library() -> None:
    """`agnews data check` and the page read data without torch, transformers, gradio or datasets."""
    import subprocess
    import sys

    modules = [
        "ag_news",
        "assemble",
        "check",
        "classes",
        "cleaning",
        "description",
        "files",
        "folder",
        "hub",
        "source",
    ]
    code = (
        "import sys\n"
        + "".join(f"import agnews.dataset.{m}\n" for m in modules)
        + "print(sorted(m for m in ('torch', 'transformers', 'gradio', 'datasets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
