"""What the `agnews` commands' parsers share: the run argument and a row count, for the core's
commands (`agnews.cli`) and the analyses' own (`Analysis.command`) alike."""

from __future__ import annotations

import argparse
from pathlib import Path


def run_parser(command: str, description: str) -> argparse.ArgumentParser:
    """A parser for `agnews COMMAND RUN ...`."""
    parser = argparse.ArgumentParser(prog=f"agnews {command}", description=description)
    parser.add_argument("run", type=Path, help="Run directory.")
    return parser


def row_count(value: str) -> int | None:
    """`--rows`: a positive number of rows, or `all` (None)."""
    if value.strip().lower() == "all":
        return None
    try:
        rows = int(value)
    except ValueError:
        rows = 0
    if rows <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of rows or 'all', got {value!r}")
    return rows
