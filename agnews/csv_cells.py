"""What a CSV cell may begin with: every CSV the page or the command line writes passes through here.

A spreadsheet opening a CSV runs a cell that begins with `=`, `+`, `-` or `@` as a formula (tab and
carriage return can smuggle one in after them), so a text someone typed on a shared page, or a
label in an uploaded file, could plant `=HYPERLINK(...)` for the next person who opens an export.
The OWASP rule: such a text cell gets a leading `'`, which spreadsheets show as text. Numbers stay
numbers: a numeric column is left alone, and so is a text cell that is a plain number (`-0.5`,
`+3`, `-1e5`), which a spreadsheet reads as that number and nothing else.

The batch outputs (`agnews predict`, the page's batch upload) offer raw values for programs that
read the file back: there the caller skips this module, on an explicit option.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
# The characters of a plain decimal number; checked before `float`, which also takes "inf", "nan",
# "1_000" and surrounding spaces, none of which a spreadsheet reads as a number.
_NUMBER_CHARACTERS = frozenset("0123456789+-.eE")


def _plain_number(cell: str) -> bool:
    if not _NUMBER_CHARACTERS.issuperset(cell):
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def neutralise(cell: Any) -> Any:
    """`cell` with a leading `'` when it is text that a spreadsheet would run as a formula; any other
    value (a number, None, a plain-number text, a harmless text) is returned unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _plain_number(cell):
        return QUOTE + cell
    return cell


def restore(cell: Any) -> Any:
    """The value `neutralise` was given, for a file the project reads back (`--corrections`): a text
    it quoted loses its `'`. A text that began with `'` and a formula character before it was ever
    written reads back without that `'`; no class name or key the project writes begins so."""
    if isinstance(cell, str) and cell.startswith(QUOTE):
        inner = cell[len(QUOTE) :]
        if inner.startswith(FORMULA_STARTS) and not _plain_number(inner):
            return inner
    return cell


def neutralise_row(cells: Iterable[Any]) -> list[Any]:
    """One row (or a header) for `csv.writer`, each cell through `neutralise`."""
    return [neutralise(cell) for cell in cells]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` for `to_csv` whose column names and text cells went through `neutralise`;
    numeric, boolean and date columns are kept as they are (a negative number is not a formula)."""
    from pandas.api import types

    safe = frame.rename(columns=neutralise)
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if not (
            types.is_numeric_dtype(column)
            or types.is_bool_dtype(column)
            or types.is_datetime64_any_dtype(column)
            or types.is_timedelta64_dtype(column)
        ):
            safe.isetitem(position, column.map(neutralise))
    return safe
