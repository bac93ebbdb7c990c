"""`agnews robustness RUN [--rows N|all]`: the robustness stage on a run, its errors raised rather
than recorded, then its table printed."""

from __future__ import annotations

from pathlib import Path

from agnews.analyses.robustness.present import markdown_flip_table
from agnews.analyses.robustness.schema import DEFAULT_ROWS, PART, RobustnessSettings
from agnews.command_line import row_count, run_parser
from agnews.formatting import number
from agnews.rundir.catalog import Catalog
from agnews.rundir.files import RunError
from agnews.rundir.run import Run


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    from agnews.training.context import StageContext
    from agnews.training.stages import current_run, run_stage

    parser = run_parser("robustness", description)
    parser.add_argument(
        "--rows",
        type=row_count,
        default=DEFAULT_ROWS,
        help=f"Test rows to perturb, stratified by label and seeded, or 'all' (default: {DEFAULT_ROWS}).",
    )
    args = parser.parse_args(argv)
    loaded = current_run(args.run, catalog)
    settings = {PART.name: RobustnessSettings(rows=args.rows)}
    context = StageContext(loaded.config.train, settings=settings, catalog=catalog)
    run_stage(Path(args.run), PART.name, context, optional=False)
    run = Run.load(args.run, catalog)
    report = run.get(PART)
    if report is None:  # written, then dropped by Run.load: its warning says why
        raise RunError(f"{args.run}: the robustness part did not load ({'; '.join(run.warnings)})")
    print(f"{args.run}: {report.selection}; {report.backend}; {number(report.seconds, digits=0)} s\n")
    print(markdown_flip_table(report) + "\n")
    for name, why in report.not_run.items():
        print(f"{name}: not run: {why}")
    return 0
