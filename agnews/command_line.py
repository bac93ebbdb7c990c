"""What the `agnews` commands share: the run argument, a row count, the training settings as options,
and the summary printed after a run is made; for the core's commands (`agnews.cli`) and the
analyses' own (`Analysis.command`) alike."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agnews.formatting import number

if TYPE_CHECKING:
    from transformers import HfArgumentParser

    from agnews.config import TrainConfig
    from agnews.rundir.catalog import Catalog


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


def config_parser(preset: str, command: str, description: str) -> argparse.ArgumentParser:
    """Every `TrainConfig` setting as an option, with `preset`'s values as defaults, and --out."""
    from transformers import HfArgumentParser

    from agnews.config import PRESETS, TrainConfig

    # HfArgumentParser rewrites the dataclass fields' `type` in place (`int | None` becomes `int`);
    # put them back, or every later reader of TrainConfig's fields (the run's schema) sees the wrong type.
    declared = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    parser = HfArgumentParser([TrainConfig], prog=f"agnews {command}", description=description)
    for f in dataclasses.fields(TrainConfig):
        f.type = declared[f.name]
    parser.set_defaults(**PRESETS[preset])
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="quick", help="Starting settings (default: quick)."
    )
    parser.add_argument("--out", type=Path, required=True, help="Run directory to create, e.g. runs/quick.")
    return parser


def parse_settings(parser: HfArgumentParser, argv: list[str]) -> tuple[TrainConfig, argparse.Namespace]:
    """The training settings and the other options of `argv` (a `config_parser`'s); an option it does
    not know ends in the usage error every command gives (exit status 2), not a traceback."""
    config, options, unknown = parser.parse_args_into_dataclasses(argv, return_remaining_strings=True)
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return config, options


def preset_of(argv: list[str]) -> str:
    """The `--preset` among `argv` (default: quick), refused unless it is one."""
    from agnews.config import PRESETS, ConfigError

    preset_parser = argparse.ArgumentParser(add_help=False)
    preset_parser.add_argument("--preset", default="quick")
    preset = preset_parser.parse_known_args(argv)[0].preset
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return preset


def print_test_summary(path: Path, catalog: Catalog) -> None:
    """The new run's test scores and its warnings, after a command that made it."""
    from agnews.rundir.run import Run

    run = Run.load(path, catalog)
    test = run.metrics.test
    print(f"test accuracy {number(test.accuracy)}  macro F1 {number(test.f1_macro)}  ({test.rows} rows)")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
