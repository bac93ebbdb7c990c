"""`agnews word-counts RUN`: print the toy part."""

from __future__ import annotations

from agnews.command_line import run_parser
from agnews.rundir.catalog import Catalog
from agnews.rundir.run import Run
from toy_analysis.present import headline
from toy_analysis.schema import PART


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    args = run_parser("word-counts", description).parse_args(argv)
    counts = Run.load(args.run, catalog).get(PART)
    print(headline(counts) if counts is not None else f"{args.run}: no word counts")
    return 0
