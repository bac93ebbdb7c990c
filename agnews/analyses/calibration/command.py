"""`agnews calibration RUN --review-threshold T`: set the run's review threshold by hand (the
Calibration tab's "Use this threshold", for a run no page may write), then print what it keeps on
the test split."""

from __future__ import annotations

from agnews.analyses.calibration.choice import COMMAND_LINE, ThresholdError, save_choice
from agnews.analyses.calibration.coverage import kept_of
from agnews.analyses.calibration.present import kept_line
from agnews.command_line import run_parser
from agnews.rundir.catalog import Catalog
from agnews.rundir.run import Run


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    parser = run_parser("calibration", description)
    parser.add_argument(
        "--review-threshold",
        type=float,
        required=True,
        help="The confidence below which a prediction needs review, between 0 and 1 (e.g. 0.8).",
    )
    args = parser.parse_args(argv)
    run = Run.load(args.run, catalog)  # a path that is no run fails here, before anything is written
    try:
        save_choice(run.path, args.review_threshold, COMMAND_LINE, catalog)
    except ThresholdError as exc:
        parser.error(str(exc))
    kept = kept_of(run.predictions, args.review_threshold)
    print(f"{args.run}: {kept_line(kept)}")
    return 0
