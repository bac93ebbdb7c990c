"""Labels as read from a column, and the classes (names, in order) they make.

The rules, stated once:

- **The classes** are the distinct labels of the training split, two or more. Their order gives the
  class ids: `label_names` (an explicit order, e.g. `--label-names`, or a Hub `ClassLabel`'s names)
  when given, and then every training label must be in it and every name in it must have training
  rows; otherwise integer labels sort numerically and names sort as strings (plain `sorted`).
- **Integer ids or names.** A label cell is stripped of surrounding whitespace. A column holds
  integer ids iff every label cell is an integer: a JSON/parquet integer (not a boolean), or text
  that is an integer literal in canonical decimal form, i.e. `str(int(cell)) == cell` ("0", "12",
  "-1"; not "007", "+3", "1_000", "٣" or "1.0"). One non-canonical cell makes the whole column names,
  so "007" is a name and sorts as a string. An integer class is named by its decimal string, so
  labels compare by name across splits whatever their type.
- **Mixed types** (JSON or parquet integers and strings in one column) are refused, naming a row of
  each; floats, booleans and objects are not labels.
- **Multi-label rows are refused, not guessed at:** a list cell, or a text cell that splits on `,`
  `;` `|` into two or more parts that are each a label of their own elsewhere in the column (or a
  training class). "Sci/Tech", or "rock, paper" when "rock" and "paper" are not labels by
  themselves, is one class.
- **Class names are hostile text:** any characters are kept (HTML, slashes, accents, digits only),
  except control characters and lone surrogates, which are refused; a name over
  `MAX_CLASS_NAME_CHARS` characters is refused (it is almost surely a text column named as the label).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from agnews.dataset.errors import DataError

MAX_CLASS_NAME_CHARS = 200
MULTI_LABEL_SEPARATORS = (",", ";", "|")
# Longer digit strings are not class ids (and int() of a huge digit string is slow or refused).
_MAX_ID_DIGITS = 18


@dataclass(frozen=True)
class LabelColumn:
    """One split's labels: a class name per row, and whether the column holds integer ids."""

    names: list[str]
    integer: bool
    where: str  # "<origin>, column 'label'", for messages


def is_integer_literal(text: str) -> bool:
    """True iff `text` is an integer in canonical decimal form ("0", "12", "-1"; not "007" or "+1")."""
    if not 0 < len(text) <= _MAX_ID_DIGITS + 1 or not text.isascii():
        return False
    try:
        return str(int(text)) == text
    except ValueError:
        return False


def read_labels(cells: Sequence[Any], rows: Sequence[int], origin: str, column: str) -> LabelColumn:
    """The labels of one column, checked: no empty cell, no mixed types, no lists, usable names."""
    where = f"{origin}, column {column!r}"
    names: list[str] = []
    empty: list[int] = []
    first_of: dict[type, int] = {}
    first_row: dict[str, int] = {}
    for cell, row in zip(cells, rows, strict=True):
        if isinstance(cell, bool) or not isinstance(cell, str | int | type(None)):
            raise DataError(_not_a_label(cell, row, where))
        first_of.setdefault(type(cell), row)
        name = cell.strip() if isinstance(cell, str) else "" if cell is None else str(cell)
        if not name:
            empty.append(row)
        first_row.setdefault(name, row)
        names.append(name)
    if empty and len(empty) == len(names):
        raise DataError(f"{where}: the label column is empty (no row has a label)")
    if empty:
        raise DataError(f"{where}: {len(empty)} rows have an empty label (first: row {empty[0]})")
    if int in first_of and str in first_of:
        raise DataError(
            f"{where}: labels mix integers (row {first_of[int]}) and text (row {first_of[str]}); "
            "use one type for the whole column"
        )
    for name, row in first_row.items():
        _check_name(name, where, row)
    integer = all(is_integer_literal(name) for name in first_row)
    return LabelColumn(names, integer, where)


def _not_a_label(cell: Any, row: int, where: str) -> str:
    if isinstance(cell, list | tuple):
        return (
            f"{where}: row {row} holds a list of labels ({len(cell)} items); multi-label rows are not "
            "supported: give each row one label"
        )
    return f"{where}: row {row} holds {type(cell).__name__} {cell!r}, not a label (text or integer)"


def _check_name(name: str, where: str, row: int) -> None:
    if len(name) > MAX_CLASS_NAME_CHARS:
        raise DataError(
            f"{where}: row {row} has a label of {len(name)} characters ({name[:40]!r}...); class names "
            f"are capped at {MAX_CLASS_NAME_CHARS}: is this the label column?"
        )
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise DataError(f"{where}: row {row}: label {name!r} holds the control character {bad!r}")


def refuse_multi_label(
    column: LabelColumn, rows: Sequence[int], known: AbstractSet[str] = frozenset()
) -> None:
    """Refuse a label that is several labels joined by a separator (see the module's rule); `known`
    adds the training classes to the labels of `column` itself."""
    labels = set(column.names) | known
    for name in labels & set(column.names):
        if not any(sep in name for sep in MULTI_LABEL_SEPARATORS):
            continue
        unified = name
        for sep in MULTI_LABEL_SEPARATORS[1:]:
            unified = unified.replace(sep, MULTI_LABEL_SEPARATORS[0])
        parts = [part.strip() for part in unified.split(MULTI_LABEL_SEPARATORS[0])]
        if len(parts) >= 2 and all(part in labels for part in parts):
            row = rows[column.names.index(name)]
            shown = ", ".join(repr(part) for part in parts)
            raise DataError(
                f"{column.where}: row {row} has the label {name!r}, which is several labels ({shown} are "
                "each labels of their own); multi-label rows are not supported: give each row one label"
            )


def class_order(train: LabelColumn, label_names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The classes of a training split, in order (see the module's rule); raises DataError for fewer
    than two, or for a `label_names` that does not name exactly the training labels."""
    counts = Counter(train.names)
    if len(counts) < 2:
        only = next(iter(counts), "")
        raise DataError(
            f"{train.where}: only one class ({only!r}, {counts[only]} rows); a classifier needs 2 or more"
        )
    if label_names is None:
        if train.integer:
            return tuple(sorted(counts, key=int))
        return tuple(sorted(counts))
    repeated = [name for name, n in Counter(label_names).items() if n > 1]
    if repeated:
        raise DataError(f"the class order names {repeated[0]!r} more than once")
    unknown = [name for name in counts if name not in set(label_names)]
    if unknown:
        shown = ", ".join(f"{name!r} ({counts[name]} rows)" for name in sorted(unknown)[:5])
        raise DataError(
            f"{train.where}: labels not in the given class order (--label-names): {shown}; the order must "
            "name every training label"
        )
    absent = [name for name in label_names if name not in counts]
    if absent:
        raise DataError(
            f"{train.where}: the class order (--label-names) names {absent[0]!r}, which no training row "
            "has; every class needs training rows"
        )
    return tuple(label_names)


def class_ids(column: LabelColumn, classes: Sequence[str], rows: Sequence[int]) -> list[int]:
    """The class id of each label of `column`; a label the training split lacks is refused with its
    row count and first row (a model cannot predict a class it never saw)."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = Counter(name for name in column.names if name not in index)
    if unknown:
        name, count = unknown.most_common(1)[0]
        row = rows[column.names.index(name)]
        more = f" (and {len(unknown) - 1} other labels)" if len(unknown) > 1 else ""
        raise DataError(
            f"{column.where}: label {name!r} ({count} rows, first row {row}) is not a class of the training "
            f"split{more}; remove those rows or add training rows of that class"
        )
    return [index[name] for name in column.names]
