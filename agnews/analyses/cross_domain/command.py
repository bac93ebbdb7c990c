"""`agnews cross-domain RUN FILE --label-map MAP [...]`: score a run's model (and a TF-IDF baseline) on an
out-of-domain labelled CSV file; and the exact command that makes a damaged evaluation again."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from agnews.analyses.cross_domain.schema import FAMILY, CrossDomainMetrics
from agnews.command_line import run_parser
from agnews.formatting import number
from agnews.rundir.catalog import Catalog
from agnews.rundir.files import RunError
from agnews.rundir.parts import read_json_part


def _parser(description: str) -> argparse.ArgumentParser:
    parser = run_parser("cross-domain", description)
    parser.description = (
        f"{description} Its classes must map onto some of the four; rows of other "
        "classes are skipped and counted. Writes RUN/cross_domain/NAME/ (again: replaced), or "
        "DIR/cross_domain/NAME/ with --out."
    )
    parser.add_argument("file", type=Path, help="CSV file with a header row, a text and a label column.")
    parser.add_argument(
        "--text-column",
        nargs="+",
        default=["text"],
        metavar="COLUMN",
        help="Column(s) holding the text, several joined with a space, e.g. title description "
        "(default: text).",
    )
    parser.add_argument("--label-column", default="label", help="Column holding the label (default: label).")
    parser.add_argument(
        "--label-map",
        required=True,
        metavar="MAP",
        help='source=Class pairs separated by commas, e.g. "business=Business,sports=Sports,tech=Sci/Tech"; '
        "a class is a name in any case or an id 0-3; sources are the label column's values as written.",
    )
    parser.add_argument("--name", help="Part name (letters, digits, - _ .); default: the file's name.")
    parser.add_argument(
        "--file-name",
        help="What the part records as the file (default: FILE as given), e.g. the own name of a "
        "temporary copy's file.",
    )
    parser.add_argument(
        "--data",
        help="Folder of the data the run was trained on, for the TF-IDF baseline's training rows, "
        "where the run's recorded folder is not found from here (without it and them, the model is "
        "scored alone and the part says why).",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="Write the result to DIR/cross_domain/NAME/ instead; the run is left untouched.",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="If another agnews process is changing the run, wait for it instead of stopping.",
    )
    return parser


def main(argv: list[str], description: str, catalog: Catalog) -> int:
    from agnews.analyses.cross_domain.stage import cross_domain_run

    args = _parser(description).parse_args(argv)
    result = cross_domain_run(
        args.run,
        args.file,
        label_map=args.label_map,
        text_columns=args.text_column,
        label_column=args.label_column,
        name=args.name,
        file_name=args.file_name,
        data=args.data,
        out=args.out,
        wait=args.wait,
        catalog=catalog,
    )
    skipped = result.skipped()
    print(
        f"{result.rows} of {result.rows_read} rows scored on {', '.join(result.mapped_classes)}"
        + (f"; skipped: {', '.join(skipped)}" if skipped else "")
    )
    for who, scores in (("fine-tuned model", result.model), ("TF-IDF baseline", result.baseline)):
        if scores is not None:
            print(f"{who:<17} accuracy {number(scores.accuracy)}  macro F1 {number(scores.f1_macro)}")
    if result.baseline_left_out:
        print(f"warning: TF-IDF baseline left out: {result.baseline_left_out}", file=sys.stderr)
    print(f"written to {(args.out or args.run) / FAMILY.prefix / result.name}")
    return 0


def remake_command(run: Path, part: str) -> str:
    """The command that scores the file of the evaluation `part` again, spelt out from its metrics
    where they can still be read (`Stage.remake`)."""
    member = part.partition("/")[2]
    _, metrics_file = FAMILY.member(member).files
    try:
        made = read_json_part(CrossDomainMetrics, run / metrics_file)
    except RunError:
        return f"`agnews cross-domain {run} FILE --label-map MAP --name {member}`"
    words = ["agnews", "cross-domain", str(run), made.source, "--text-column", *made.text_columns]
    words += ["--label-column", made.label_column, "--label-map", made.label_map, "--name", member]
    return f"`{shlex.join(words)}`"
