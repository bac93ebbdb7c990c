"""`agnews calibration RUN --review-threshold T`: set the run's review threshold by hand (the
Calibration tab's "Use this threshold", for a run no page may write), then print what it keeps on
the test split; `--clear-review-threshold` drops it (the tab's "Clear")."""

from __future__ import annotations

from agnews.analyses.calibration.choice import COMMAND_LINE, ThresholdError, clear_choice, save_choice
from agnews.analyses.calibration.coverage import kept_of
from agnews.analyses.calibration.present import kept_line
from agnews.command_line import run_parser
from agnews.formatting import percent
from agnews.rundir.catalog import Catalog
from agnews.rundir.facts import REVIEW
from agnews.rundir.run import Run


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    parser = run_parser("calibration", description)
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--review-threshold",
        type=float,
        help="The confidence below which a prediction needs review, between 0 and 1 (e.g. 0.8).",
    )
    chosen.add_argument(
        "--clear-review-threshold",
        action="store_true",
        help="Drop the threshold chosen by hand: the calibration stage's threshold applies again.",
    )
    args = parser.parse_args(argv)
    run = Run.load(args.run, catalog)  # a path that is no run fails here, before anything is written
    if args.clear_review_threshold:
        cleared = clear_choice(run.path, catalog)
        rule = Run.load(run.path, catalog).fact(REVIEW)
        done = "the chosen threshold is cleared" if cleared else "no threshold was chosen by hand"
        if rule is None or rule.threshold is None:
            print(f"{args.run}: {done}; no review threshold is in use")
        else:
            print(f"{args.run}: {done}; the review threshold is {percent(rule.threshold)}, {rule.basis}")
        return 0
    try:
        save_choice(run.path, args.review_threshold, COMMAND_LINE, catalog)
    except ThresholdError as exc:
        parser.error(str(exc))
    kept = kept_of(run.predictions, args.review_threshold)
    print(f"{args.run}: {kept_line(kept)}")
    return 0
