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


def percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: `percent(0.8961)` is "89.6%"."""
    return DASH if _missing(value) else f"{value:.{digits}%}"


def number(value: float | None, digits: int = 4) -> str:
    """A score that is not a share (NLL, Brier, F1 as a fraction): `number(0.31852)` is "0.3185"."""
    return DASH if _missing(value) else f"{value:.{digits}f}"


def points(value: float | None, digits: int = 2) -> str:
    """A difference of two shares in percentage points, signed: `points(0.0184)` is "+1.84 pts"."""
    return DASH if _missing(value) else f"{100 * value:+.{digits}f} pts"


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
