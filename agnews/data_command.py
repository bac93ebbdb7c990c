"""`agnews data check PATH [options] [--json]`: what training would read from a dataset, without
training.

The data options are TrainConfig's own fields (`agnews.dataset.source.data_options`), turned into
options here with their help texts, so `agnews train` and `agnews data check` spell, explain and
read them alike; the data is read by `read_source`, the function training calls, and checked as
training checks it, the stratified validation split included (`--validation-fraction`). A refusal
exits with status 2 and its message on stderr; nothing is ever written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from typing import TYPE_CHECKING, Any

from agnews.config import TrainConfig

if TYPE_CHECKING:
    from agnews.rundir.catalog import Catalog

DESCRIPTION = (
    "Check a dataset as training would read it (columns, classes, lengths, refusals), without training."
)
# The TrainConfig field the positional PATH stands for, and the training settings the check also applies.
PATH_FIELD = "data"
CHECKED_SETTINGS = ("validation_fraction",)


def data_parser() -> argparse.ArgumentParser:
    """`agnews data ACTION ...`; `check` is the one action."""
    parser = argparse.ArgumentParser(prog="agnews data", description=DESCRIPTION)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        prog="agnews data check",
        help="Print what training would read from the data, or why it is refused.",
        description=DESCRIPTION + " Exit status 2 when training would refuse the data.",
        usage="agnews data check [PATH] [--test-file FILE] [--dataset ID ...] [options] [--json]",
    )
    add_data_options(check, CHECKED_SETTINGS, path_positional=True)
    check.add_argument(
        "--json", action="store_true", help="Print the report as JSON (its keys: agnews.dataset.check)."
    )
    return parser


def add_data_options(
    parser: argparse.ArgumentParser, settings: tuple[str, ...] = (), *, path_positional: bool
) -> None:
    """TrainConfig's data options (and the `settings` named) as options of `parser`, each with its
    field's help text; an option not given is left out of the parsed namespace (TrainConfig's default
    then holds). `path_positional`: `data` is the positional PATH rather than `--data`."""
    from agnews.dataset.source import data_options

    by_name = {f.name: f for f in dataclasses.fields(TrainConfig)}
    hints = typing.get_type_hints(TrainConfig)
    for field in [*data_options(), *(by_name[name] for name in settings)]:
        help_text = field.metadata["help"]
        if field.name == PATH_FIELD and path_positional:
            parser.add_argument(
                PATH_FIELD, nargs="?", metavar="PATH", default=argparse.SUPPRESS, help=help_text
            )
            continue
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            default=argparse.SUPPRESS,  # an option not given keeps TrainConfig's default
            help=help_text,
            **_value_spec(hints[field.name]),
        )


def _value_spec(hint: Any) -> dict[str, Any]:
    """argparse's `type` (and `nargs` for a list) for a TrainConfig field's type hint."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    (value,) = [member for member in members if member is not type(None)]
    if typing.get_origin(value) is list:
        return {"nargs": "+", "type": typing.get_args(value)[0]}
    return {"type": value}


def data_command(argv: list[str], catalog: Catalog) -> int:
    """Run `agnews data ...`; `catalog` is unused (data is read before there is a run)."""
    from agnews.dataset.check import check_data
    from agnews.dataset.errors import DataError
    from agnews.dataset.source import read_source

    options = vars(data_parser().parse_args(argv))
    options.pop("action")
    as_json = options.pop("json")
    config = TrainConfig(**options)
    check = check_data(lambda: read_source(config), validation_fraction=config.validation_fraction)
    if as_json:
        print(json.dumps(check.to_dict(), indent=2))
    elif check.ok or check.description is not None:
        print(check.render(verdict=check.ok))
    if not check.ok:
        raise DataError(check.refusal)
    return 0
