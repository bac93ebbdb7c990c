"""The `agnews` command line: train, evaluate, embed, push.

Training options are generated from `TrainConfig`'s fields, so `--help` documents every setting and
a new setting cannot be forgotten here.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from pathlib import Path
from typing import Any

from agnews.train import PRESETS, TrainConfig


def _field_type(name: str) -> type:
    """The concrete type of a TrainConfig field (`int | None` -> int), for argparse."""
    hints = typing.get_type_hints(TrainConfig)
    hint = hints[name]
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training settings (override the preset)")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = _field_type(f.name)
        help_text = f"{f.metadata.get('help', '')} (default: the preset's, else {f.default})"
        if kind is bool:
            group.add_argument(
                flag,
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_text,
            )
        else:
            group.add_argument(flag, dest=f.name, type=kind, default=argparse.SUPPRESS, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agnews", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="Log library details too.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="Fine-tune a model and write a run directory.")
    train.add_argument(
        "--preset", choices=sorted(PRESETS), default="quick", help="Starting settings (default: quick)."
    )
    train.add_argument("--out", type=Path, required=True, help="Run directory to create, e.g. runs/quick.")
    train.add_argument(
        "--resume", action="store_true", help="Continue an interrupted run from its last checkpoint."
    )
    train.add_argument("--overwrite", action="store_true", help="Replace an existing run at --out.")
    train.add_argument(
        "--checkpoint-dir", type=Path, help="Where Trainer checkpoints go (default: runs/.NAME.checkpoints)."
    )
    train.add_argument("--keep-checkpoints", action="store_true", help="Keep the checkpoints after success.")
    train.add_argument(
        "--no-embed",
        dest="embed",
        action="store_false",
        help="Skip embeddings, the map and the frozen baseline.",
    )
    _add_train_options(train)

    evaluate = commands.add_parser(
        "evaluate", help="Re-evaluate a run's model on a test split and update the run."
    )
    evaluate.add_argument("run", type=Path, help="Run directory.")
    evaluate.add_argument(
        "--data", help="Local data folder (test.csv); default: the data the run was trained with."
    )
    evaluate.add_argument("--max-test-samples", type=int, help="Cap on test rows (stratified).")

    embed = commands.add_parser(
        "embed", help="Compute embeddings, the frozen baseline and the 2-D maps for a run."
    )
    embed.add_argument("run", type=Path, help="Run directory.")
    embed.add_argument("--data", help="Local data folder; default: the data the run was trained with.")

    export = commands.add_parser(
        "export-onnx",
        help="Write a run's ONNX serving graphs (serving.onnx, serving_int8.onnx) from its model.",
    )
    export.add_argument("run", type=Path, help="Run directory.")

    push = commands.add_parser(
        "push", help="Upload a run (model, model card, analysis files) to the Hugging Face Hub."
    )
    push.add_argument("run", type=Path, help="Run directory.")
    push.add_argument("--repo-id", required=True, help="Model repository to create or update: USER/NAME.")
    push.add_argument("--private", action="store_true", help="Create the repository as private.")
    push.add_argument(
        "--dry-run", action="store_true", help="Write the folder that would be uploaded to --out; no Hub."
    )
    push.add_argument("--out", type=Path, help="With --dry-run: the folder to create.")
    return parser


def _print_test_summary(test: dict[str, Any]) -> None:
    print(f"test accuracy {test['accuracy']:.4f}  macro F1 {test['f1_macro']:.4f}  ({test['rows']} rows)")


def _train(args: argparse.Namespace) -> int:
    from agnews.train import fine_tune, preset_config

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    overrides = {k: v for k, v in vars(args).items() if k in fields}
    config = preset_config(args.preset, **overrides)
    try:
        out = fine_tune(
            config,
            args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            checkpoint_dir=args.checkpoint_dir,
            keep_checkpoints=args.keep_checkpoints,
            embed=args.embed,
        )
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the last epoch checkpoint is kept; rerun with --resume to continue",
            file=sys.stderr,
        )
        return 130
    if out is None:  # a non-first process of a data-parallel launch: the first one reports
        return 0
    from agnews.run import Run

    run = Run.load(out)
    print(f"run written to {out}")
    _print_test_summary(run.metrics["test"])
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from agnews.evaluate import reevaluate_run

    metrics = reevaluate_run(args.run, data=args.data, max_test_samples=args.max_test_samples)
    _print_test_summary(metrics)
    return 0


def _embed(args: argparse.Namespace) -> int:
    from agnews.embed import embed_existing_run

    embed_existing_run(args.run, data=args.data)
    print(f"embeddings and maps written to {args.run}")
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from agnews.run import Run
    from agnews.serving_onnx import export_run

    export_run(Run.load(args.run))
    print(f"serving graphs written to {args.run}")
    return 0


def _push(args: argparse.Namespace) -> int:
    from agnews.hub import push_run, save_upload_folder

    if args.dry_run:
        out = save_upload_folder(args.run, args.out, repo_id=args.repo_id)
        print(f"upload folder for {args.repo_id} written to {out} (nothing was uploaded)")
        return 0
    url = push_run(args.run, args.repo_id, private=args.private)
    print(f"pushed {args.run} to {url}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from agnews.data import DataError
    from agnews.hub import HubError
    from agnews.models import ModelError
    from agnews.run import RunError
    from agnews.train import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "push" and args.dry_run != (args.out is not None):
        parser.error("push: --dry-run and --out DIR go together")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    handlers = {
        "train": _train,
        "evaluate": _evaluate,
        "embed": _embed,
        "export-onnx": _export_onnx,
        "push": _push,
    }
    try:
        return handlers[args.command](args)
    except (DataError, ModelError, RunError, ConfigError, HubError) as exc:
        print(f"agnews {args.command}: error: {exc}", file=sys.stderr)
        return 2
