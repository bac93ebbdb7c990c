"""Saving a review threshold a person chose as the run's `chosen_threshold` part (`REVIEW_PART`):
the value, who chose it and when, written atomically beside the calibration part, which stays as
its stage made it. The run's `REVIEW` fact then answers from it (`declaration.py`), so the page,
the JSON route, `agnews predict` and the model card follow; clearing the choice (`clear_choice`)
gives the fact back to the calibration stage's threshold."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agnews.analyses.calibration.schema import REVIEW_PART, ReviewChoice
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.edit import edit_run
from agnews.rundir.parts import read_manifest

LOCAL_PAGE = "local page"  # who chose it on a page without a login
COMMAND_LINE = "command line"  # who chose it with `agnews calibration --review-threshold`


class ThresholdError(ValueError):
    """A review threshold that cannot be used; the message says why."""


def save_choice(run: Path, threshold: float, who: str | None, catalog: Catalog = CATALOG) -> ReviewChoice:
    """Record `threshold` (a confidence in [0, 1]) as the run's review threshold, chosen by `who`
    (None: `LOCAL_PAGE`) now; replaces an earlier choice. Raises `ThresholdError` for a value outside
    [0, 1], and the run's `RunBusyError` while another process (a background analyze) changes it."""
    if not 0.0 <= threshold <= 1.0:
        raise ThresholdError(f"review threshold {threshold!r}: choose a confidence between 0 and 1")
    when = datetime.now(UTC).isoformat(timespec="seconds")
    choice = ReviewChoice(threshold=float(threshold), who=who or LOCAL_PAGE, when=when)
    with edit_run(run, catalog=catalog) as edit:
        edit.begin(catalog.stages[REVIEW_PART.name])
        edit.write(REVIEW_PART.name, choice)
    return choice


def clear_choice(run: Path, catalog: Catalog = CATALOG) -> bool:
    """Drop the review threshold a person chose, so the run's `REVIEW` fact answers from the
    calibration stage's choice again (or marks nothing, where that chose none); the calibration part
    stays as made. False where no threshold was chosen (the run is left as it is). The run's
    `RunBusyError` while another process changes it."""
    if REVIEW_PART.name not in read_manifest(run).parts:
        return False
    with edit_run(run, catalog=catalog) as edit:
        edit.remove(REVIEW_PART.name)
    return True
