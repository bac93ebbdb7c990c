"""How many training rows a class needs before a stratified validation split can be carved out of it.

The rule: with `N` training rows of which `V` go to validation, a class of `k` rows needs
`k >= 2`, `k * V >= N` and `k * (N - V) >= N`, i.e. `k >= max(2, ceil(N / V), ceil(N / (N - V)))`.
A stratified split (scikit-learn's `train_test_split(..., stratify=...)`) gives a class at least the
floor of its share, `floor(k * V / N)` validation rows and `floor(k * (N - V) / N)` training rows, so
these bounds are exactly what guarantees every class a row on both sides; below them a class can end
with no validation row (its validation score is undefined) or no training row at all. For a
validation share `f = V / N` that is about `max(1 / f, 1 / (1 - f))` rows: 10 at the default 0.1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from agnews.dataset.errors import DataError


def validation_rows(total_rows: int, fraction: float, classes: int) -> int:
    """How many of `total_rows` training rows are carved out for validation at the share `fraction`:
    the share rounded, but at least one row per class (a stratified split cannot give fewer)."""
    return max(classes, round(total_rows * fraction))


def rows_needed_per_class(total_rows: int, validation_rows: int) -> int:
    """The fewest rows a class may have when `validation_rows` of `total_rows` go to validation."""
    if not 0 < validation_rows < total_rows:
        raise DataError(
            f"a validation split of {validation_rows} rows cannot be carved out of {total_rows} training rows"
        )
    return max(
        2,
        math.ceil(total_rows / validation_rows),
        math.ceil(total_rows / (total_rows - validation_rows)),
    )


def require_rows_per_class(counts: Mapping[str, int], validation_rows: int) -> None:
    """Raise DataError naming the smallest class that cannot be stratified, its count and what it
    needs; `counts` are the training rows per class before the validation split is carved out."""
    total = sum(counts.values())
    needed = rows_needed_per_class(total, validation_rows)
    small = [(count, name) for name, count in counts.items() if count < needed]
    if small:
        count, name = min(small)
        others = f" ({len(small) - 1} other classes are short too)" if len(small) > 1 else ""
        raise DataError(
            f"class {name!r} has {count} training rows; a stratified validation split of {validation_rows} "
            f"of {total} rows needs at least {needed} rows in every class, so that each class has rows on "
            f"both sides{others}: add rows of {name!r}, change the validation share, or drop the class"
        )
