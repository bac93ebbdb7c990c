"""`agnews tuning --out RUN [training options] [--trials N] [--timeout S] [--trial-seeds ...]`
(also spelt `agnews tune`): search the training recipe on validation, then train the run with the
best settings."""

from __future__ import annotations

import sys

from agnews.command_line import config_parser, parse_settings, preset_of, print_test_summary
from agnews.rundir.catalog import Catalog


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    from agnews.analyses.tuning.stage import study_path, tune

    parser = config_parser(preset_of(argv), "tuning", description)
    parser.add_argument("--trials", type=int, default=20, help="Trials of the search (default 20).")
    parser.add_argument("--timeout", type=float, help="Stop starting trials after this many seconds.")
    parser.add_argument(
        "--trial-seeds", type=int, nargs="+", default=[42, 1], help="Seeds each trial trains (default 42 1)."
    )
    config, options = parse_settings(parser, argv)
    print(f"study: {study_path(options.out)} (run the same command again to continue it)")
    try:
        out = tune(
            config,
            options.out,
            trials=options.trials,
            timeout=options.timeout,
            seeds=tuple(options.trial_seeds),
            catalog=catalog,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the study keeps every finished trial; rerun the command to continue",
            file=sys.stderr,
        )
        return 130
    print(f"run written to {out}")
    print_test_summary(out, catalog)
    return 0
