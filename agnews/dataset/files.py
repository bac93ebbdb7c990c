"""Read one table file (CSV, TSV, JSON lines or parquet, known by its extension) into columns of
cells, refusing a file that is not what its extension says.

- CSV and TSV: UTF-8 (a byte-order mark is allowed), a header row naming the columns, every cell
  read as text exactly as written ("NA", "null", "1e3" stay text); TSV uses CSV's quoting with a
  tab between cells. Python's `csv` reader in strict mode, one pass, linear in the file.
- JSON lines (`.jsonl`): one JSON object per line, blank lines skipped; the columns are the keys in
  the order first seen; cells keep their JSON types.
- Parquet: the columns and cell types of its schema.

Rows are numbered where a person finds them: in CSV and TSV as a spreadsheet numbers them (the
header is row 1, so the first data row is row 2), in JSON lines by line, in parquet from 1.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agnews.dataset.errors import DataError

# Extension (lower case) to the format's name in messages.
FORMATS: dict[str, str] = {".csv": "CSV", ".tsv": "TSV", ".jsonl": "JSON lines", ".parquet": "parquet"}

# A long document must not fail as "field larger than field limit": the csv module's default cap
# (128 KiB) is below a 2,000-word text with long words. The cap is process-wide; raising it only
# lets more through.
_FIELD_LIMIT = 64 * 1024 * 1024
_SNIFF_BYTES = 8192
_PARQUET_MAGIC = b"PAR1"
# Leading bytes of binary files people mistake for tables, and what to call them.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (_PARQUET_MAGIC, "a parquet file"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook?)"),
    (b"\x1f\x8b", "gzip-compressed"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
)


@dataclass(frozen=True)
class Table:
    """The columns of one source, one cell per row in each, and where each row is found.

    `typed` says the cells carry their own types (JSON lines, parquet, a Hub dataset); CSV and TSV
    cells are always strings.
    """

    origin: str
    columns: tuple[str, ...]
    cells: dict[str, list[Any]]
    rows: list[int]
    typed: bool

    def __len__(self) -> int:
        return len(self.rows)


def read_table(path: Path) -> Table:
    """Read `path` by its extension; raises DataError naming the file and what was expected."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{path}: unknown extension {path.suffix!r}; expected one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if suffix == ".parquet":
        return _read_parquet(path)
    _refuse_binary(path, FORMATS[suffix])
    if suffix == ".jsonl":
        return _read_json_lines(path)
    return _read_delimited(path, "\t" if suffix == ".tsv" else ",", FORMATS[suffix])


def _refuse_binary(path: Path, expected: str) -> None:
    """Refuse a text format whose first bytes say it is something else (or not text at all)."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            raise DataError(f"{path}: this is {what}, not {expected} text; expected {expected}")
    if b"\x00" in head:
        raise DataError(f"{path}: binary content (NUL bytes), not {expected} text; expected {expected}")


def _first_undecodable(path: Path) -> tuple[int, int, int]:
    """(byte offset, byte value, line) of the first byte of `path` that is not UTF-8, read in chunks
    so that a large file is never held whole; only called once decoding has failed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines = 1
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            # Bytes of a sequence the previous chunk cut (never a newline) come first in `exc.object`.
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                data = exc.object
                return offset - pending + exc.start, data[exc.start], lines + data[: exc.start].count(b"\n")
            if not chunk:
                raise DataError(f"{path}: decoding failed but every byte is UTF-8")  # pragma: no cover
            lines += chunk.count(b"\n")
            offset += len(chunk)


@contextlib.contextmanager
def _utf8_errors(path: Path, expected: str) -> Iterator[None]:
    """Turn a decoding failure anywhere in the block into a DataError naming the byte and its line."""
    try:
        yield
    except UnicodeDecodeError:
        offset, value, line = _first_undecodable(path)
        raise DataError(
            f"{path}: not UTF-8 text: byte 0x{value:02x} at byte offset {offset} (line {line}); "
            f"expected {expected} in UTF-8 (re-save the file as UTF-8)"
        ) from None


def _read_delimited(path: Path, delimiter: str, kind: str) -> Table:
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    records: list[list[str]] = []
    rows: list[int] = []
    with _utf8_errors(path, kind), path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                raise DataError(f"{path}: the file is empty; expected a header row and data rows")
            width = len(header)
            for number, record in enumerate(reader, start=2):
                if not record:  # a blank line
                    continue
                if len(record) != width:
                    raise DataError(
                        f"{path}: row {number} (line {reader.line_num}) has {len(record)} cells, "
                        f"the header has {width}"
                    )
                records.append(record)
                rows.append(number)
        except csv.Error as exc:
            raise DataError(f"{path}: malformed {kind} at line {reader.line_num}: {exc}") from None
    columns = _column_names([name.strip() for name in header], path)
    cells = {name: [record[i] for record in records] for i, name in enumerate(columns)}
    return Table(str(path), columns, cells, rows, typed=False)


def _column_names(names: list[str], path: Path) -> tuple[str, ...]:
    """`names` as a tuple, refusing a name that appears twice (which column would be meant?)."""
    first: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in first:
            raise DataError(
                f"{path}: column name {name!r} appears twice (columns {first[name]} and {position}); "
                "rename one"
            )
        first[name] = position
    return tuple(names)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


class _DuplicateKey(Exception):
    """A JSON object naming one key twice (json would silently keep the last)."""


def _read_json_lines(path: Path) -> Table:
    objects: list[dict[str, Any]] = []
    rows: list[int] = []
    expected = "one JSON object per line (JSON lines)"
    with _utf8_errors(path, "JSON lines"), path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path}: line {number} is not JSON ({exc.msg} at column {exc.colno}); "
                    f"expected {expected}"
                ) from None
            except _DuplicateKey as exc:
                raise DataError(f"{path}: line {number} names the key {exc.args[0]!r} twice") from None
            if not isinstance(obj, dict):
                raise DataError(
                    f"{path}: line {number} is a JSON {type(obj).__name__}, not an object; "
                    f"expected {expected}"
                )
            objects.append(obj)
            rows.append(number)
    columns = tuple(dict.fromkeys(key for obj in objects for key in obj))
    cells = {name: [obj.get(name) for obj in objects] for name in columns}
    return Table(str(path), columns, cells, rows, typed=True)


def _read_parquet(path: Path) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with path.open("rb") as handle:
        head = handle.read(len(_PARQUET_MAGIC))
    if head != _PARQUET_MAGIC:
        raise DataError(
            f"{path}: not a parquet file (it lacks parquet's leading magic bytes); expected parquet"
        )
    try:
        parquet = pq.ParquetFile(path)
        columns = _column_names(list(parquet.schema_arrow.names), path)
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: not a readable parquet file ({exc}); expected parquet") from None
    cells = {name: table.column(i).to_pylist() for i, name in enumerate(columns)}
    return Table(str(path), columns, cells, list(range(1, table.num_rows + 1)), typed=True)
