"""How a value is written wherever people read it: the app's tabs, the model card, the CLI.

One function per kind of value, so that a share, an interval or a difference reads the same on the
page and on the card. Missing values (None, NaN) are written as a dash.
"""

from __future__ import annotations

import math
from typing import Protocol

DASH = "—"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def percent(value: float | None, digits: int = 1, *, signed: bool = False) -> str:
    """A share as a percentage: `percent(0.8961)` is "89.6%"; `signed` for a change of a share,
    `percent(0.0184, 2, signed=True)` is "+1.84%"."""
    return DASH if _missing(value) else f"{value:{'+' if signed else ''}.{digits}%}"


def number(value: float | None, digits: int = 4, *, signed: bool = False) -> str:
    """A score that is not a share (NLL, Brier, F1 as a fraction): `number(0.31852)` is "0.3185";
    `signed` for a change of one, `number(-0.0012, signed=True)` is "-0.0012"."""
    return DASH if _missing(value) else f"{value:{'+' if signed else ''}.{digits}f}"


def points(value: float | None, digits: int = 2) -> str:
    """A difference of two shares in percentage points, signed: `points(0.0184)` is "+1.84 pts"."""
    return DASH if _missing(value) else f"{points_value(value, digits)} pts"


def points_value(value: float | None, digits: int = 2) -> str:
    """`points` without the unit, for a column whose header names it: `points_value(0.0184)` is "+1.84"."""
    return DASH if _missing(value) else f"{100 * value:+.{digits}f}"


def interval(
    value: float | None, low: float | None, high: float | None, *, as_percent: bool = True, digits: int = 1
) -> str:
    """A value with its 95% interval: "2.1% (1.4% to 3.2%)"; the value alone where the interval is
    missing, a dash where the value is."""
    write = percent if as_percent else number
    if _missing(value):
        return DASH
    if _missing(low) or _missing(high):
        return write(value, digits)
    return f"{write(value, digits)} ({write(low, digits)} to {write(high, digits)})"


def span(low: float | None, high: float | None, *, as_percent: bool = True, digits: int = 1) -> str:
    """An interval alone, for a table that shows the value in its own column: "1.4% to 3.2%"."""
    write = percent if as_percent else number
    return DASH if _missing(low) or _missing(high) else f"{write(low, digits)} to {write(high, digits)}"


class Estimate(Protocol):
    """A statistic with its 95% interval (`agnews.rundir.parts.Interval`)."""

    value: float
    low: float
    high: float


def calibration_metric(key: str, estimate: Estimate) -> str:
    """A calibration metric with its 95% interval, as the Calibration tab and the model card write it:
    the ECEs (`key` ending in "ece") as percentages, NLL and Brier score as numbers."""
    as_percent = key.endswith("ece")
    return interval(
        estimate.value, estimate.low, estimate.high, as_percent=as_percent, digits=2 if as_percent else 4
    )


def count(value: int, *, signed: bool = False) -> str:
    """A count of rows, texts, bytes or characters, with thousands separators: `count(120000)` is
    "120,000"; `signed` for a change of a count, `count(3, signed=True)` is "+3"."""
    return f"{value:+,}" if signed else f"{value:,}"


def significant(value: float | None, digits: int = 3) -> str:
    """A value of any size (a p-value, a learning rate, a drift) to `digits` significant digits:
    `significant(0.000123456)` is "0.000123", `significant(123456.0)` is "1.23e+05"."""
    return DASH if _missing(value) else f"{value:.{digits}g}"


def setting(value: float) -> str:
    """A number as short as it was set, without trailing zeros: a configured limit or threshold (and
    a value that reads the same way, a median of word counts): `setting(0.9)` is "0.9",
    `setting(2.0)` is "2", `setting(37.5)` is "37.5"."""
    return f"{value:g}"


def ratio(value: float, digits: int = 2) -> str:
    """How many times one amount is another (largest over smallest class): `ratio(1.234)` is "1.23x"."""
    return f"{value:.{digits}f}x"


def seconds(value: float, digits: int = 1) -> str:
    """A duration with its unit: `seconds(12.345)` is "12.3 s"."""
    return f"{value:.{digits}f} s"


def megabytes(size: int, digits: int = 1, *, binary: bool = False) -> str:
    """A size in megabytes: decimal (10**6 bytes) for a file's size, `megabytes(1_234_567)` is
    "1.2 MB"; `binary` (2**20 bytes) for a limit set in those, `megabytes(5 * 2**20, 0, binary=True)`
    is "5 MB"."""
    return f"{size / (2**20 if binary else 1e6):.{digits}f} MB"
