"""The `agnews` command line: train, evaluate, analyze, compare, migrate, push, report, predict, and
each analysis's own command (`Analysis.command`: robustness, tuning, cross-domain, ...).

The top-level parser knows only the command names, so `agnews --help` imports nothing heavy; each
command's parser is built when that command is chosen. Training options come from `TrainConfig`
through transformers' `HfArgumentParser`, so `agnews train --help` documents every setting; a preset
(or, with `--from-run`, an earlier run's settings) supplies the defaults and explicit options override
it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agnews.analyses import ANALYSES
from agnews.command_line import config_parser, parse_settings, preset_of, print_test_summary, run_parser
from agnews.config import LOCAL_PATHS, ConfigError, TrainConfig
from agnews.data_command import data_command
from agnews.events import ERROR, Event, emit, failure
from agnews.formatting import count, megabytes
from agnews.rundir.catalog import Catalog, load_attribute
from agnews.rundir.declarations import Analysis, Command, hyphenated
from agnews.rundir.renames import RENAMED_STAGES

COMMANDS = {
    "train": "Fine-tune a model and write a run directory (then run the default stages).",
    "evaluate": "Predict a test split again with a run's model; replace its predictions and metrics.",
    "analyze": "Run stages on an existing run: the missing or stale ones, or those named.",
    "compare": "Compare runs on the same test rows: B against A, or a group of runs against another.",
    "migrate": "Rewrite a run made by an older agnews in today's layout.",
    "push": "Upload a run (model, model card, analysis parts, report) to the Hugging Face Hub.",
    "report": "Write a run's metrics, figures and analyses as one self-contained HTML file.",
    "predict": "Classify a big CSV or parquet file in chunks (resumable; several processes share it).",
    "data": "`data check PATH`: what training would read from a dataset (classes, lengths, refusals).",
}


def analysis_commands(analyses: Sequence[Analysis]) -> dict[str, Command]:
    """The analyses' own commands, by their word (the analysis's name, hyphenated)."""
    return {hyphenated(a.name): a.command for a in analyses if a.command is not None}


def aliases(analyses: Sequence[Analysis]) -> dict[str, str]:
    """Commands renamed after what they make (`agnews.rundir.renames`): the old names still work."""
    words = {hyphenated(old): hyphenated(new) for old, new in RENAMED_STAGES.items()}
    known = {*COMMANDS, *analysis_commands(analyses)}
    return {old: new for old, new in words.items() if new in known}


def _top_parser(analyses: Sequence[Analysis]) -> argparse.ArgumentParser:
    described = {**COMMANDS, **{word: command.help for word, command in analysis_commands(analyses).items()}}
    renamed = aliases(analyses)
    parser = argparse.ArgumentParser(
        prog="agnews",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<12} {text}" for name, text in described.items())
        + "".join(f"\n  {old:<12} the same as `{new}`" for old, new in renamed.items())
        + "\n\n`agnews COMMAND --help` describes a command's options.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="Log library details too.")
    parser.add_argument(
        "command", choices=[*described, *renamed], metavar="COMMAND", help="One of the commands below."
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def _train_parser(preset: str, catalog: Catalog) -> argparse.ArgumentParser:
    parser = config_parser(preset, "train", COMMANDS["train"])
    parser.add_argument(
        "--from-run",
        type=Path,
        metavar="RUN",
        help="Train with RUN's data options and settings (its config.json) instead of a preset's; "
        "options given here override them. The new run records RUN as its parent.",
    )
    parser.add_argument(
        "--resume", action="store_true", help="Continue an interrupted run from its last checkpoint."
    )
    parser.add_argument("--overwrite", action="store_true", help="Replace an existing run at --out.")
    parser.add_argument(
        "--checkpoint-dir", type=Path, help="Where Trainer checkpoints go (default: runs/.NAME.checkpoints)."
    )
    parser.add_argument("--keep-checkpoints", action="store_true", help="Keep the checkpoints after success.")
    parser.add_argument(
        "--stages",
        type=_stage_list(catalog),
        default=catalog.default_stages(),
        help="Stages after training and evaluation, comma-separated, '' for none "
        f"(default: {','.join(catalog.default_stages())}).",
    )
    return parser


def _stage_list(catalog: Catalog) -> Callable[[str], tuple[str, ...]]:
    """`--stages`: comma-separated names of stages `agnews analyze` can run."""

    def parse(value: str) -> tuple[str, ...]:
        from agnews.rundir.files import RunError

        names = tuple(name.strip() for name in value.split(",") if name.strip())
        try:
            for name in names:
                catalog.runnable(name)
        except RunError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return names

    return parse


def _run_parser(command: str) -> argparse.ArgumentParser:
    return run_parser(command, COMMANDS[command])


def _evaluate_parser() -> argparse.ArgumentParser:
    parser = _run_parser("evaluate")
    parser.add_argument(
        "--data", help="Local data folder (test.csv); default: the data the run was trained with."
    )
    parser.add_argument("--max-test-samples", type=int, help="Cap on test rows (stratified).")
    return parser


def _analyze_parser(catalog: Catalog) -> argparse.ArgumentParser:
    parser = _run_parser("analyze")
    parser.add_argument(
        "--stages",
        type=_stage_list(catalog),
        help="Comma-separated stages to (re)run, in order; default: those whose parts are missing or stale. "
        + "; ".join(f"{name}: {stage.help}" for name, stage in catalog.stages.items() if stage.runnable),
    )
    parser.add_argument("--data", help="Local data folder; default: the data the run was trained with.")
    return parser


def _push_parser() -> argparse.ArgumentParser:
    parser = _run_parser("push")
    parser.add_argument("--repo-id", required=True, help="Model repository to create or update: USER/NAME.")
    parser.add_argument("--private", action="store_true", help="Create the repository as private.")
    parser.add_argument(
        "--dry-run", action="store_true", help="Write the folder that would be uploaded to --out; no Hub."
    )
    parser.add_argument("--out", type=Path, help="With --dry-run: the folder to create.")
    return parser


def _report_parser() -> argparse.ArgumentParser:
    parser = _run_parser("report")
    parser.add_argument("--out", type=Path, required=True, help="The HTML file to write (replaced if there).")
    return parser


def _compare_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agnews compare",
        description=COMMANDS["compare"],
        usage="agnews compare RUN_A RUN_B [--out DIR]\n"
        "       agnews compare A1 A2 ... -- B1 B2 ... [--out DIR]",
    )
    parser.add_argument(
        "runs", nargs="+", type=Path, help="Run directories (A then B, or group A -- group B)."
    )
    parser.add_argument(
        "--out", type=Path, help="Folder to write comparison.json (and disagreements.csv for two runs) into."
    )
    return parser


def _from_run(argv: list[str]) -> tuple[Path | None, dict[str, Any]]:
    """The run `--from-run` names among `argv` and its training settings (None, {} without it);
    RunError when it names no run, ConfigError beside `--preset` (whose settings it replaces)."""
    from agnews.rundir.files import RunError
    from agnews.rundir.parts import CONFIG, RunConfig, read_json_part

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--from-run", type=Path)
    options.add_argument("--preset")
    known = options.parse_known_args(argv)[0]
    if known.from_run is None:
        return None, {}
    if known.preset is not None:
        raise ConfigError("give --preset or --from-run, not both: the run's settings replace the preset's")
    run = known.from_run.expanduser()
    if not (run / CONFIG).is_file():
        raise RunError(f"--from-run {run}: not a run (no {CONFIG}); name a run folder made by agnews train")
    return run, read_json_part(RunConfig, run / CONFIG).train.to_dict()


def _check_still_there(run: Path, inherited: dict[str, Any], config: TrainConfig) -> None:
    """The files and folders a `--from-run` run's settings name, and this run uses as they are, must
    still exist: else a ConfigError names the one gone, and the option that replaces it."""
    for name in LOCAL_PATHS:
        value = getattr(config, name)
        if value is not None and value == inherited.get(name) and not Path(value).expanduser().exists():
            option = name.replace("_", "-")
            raise ConfigError(
                f"--from-run {run}: its {option} {value} no longer exists; pass --{option} with where it "
                "is now"
            )


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (`kill`, the app's end reaching its child) stops training as Ctrl-C does: by
    KeyboardInterrupt, so a staged edit is cleaned up and the checkpoints are kept, where the default
    action would end the process on the spot. Only the main thread can set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _train(argv: list[str], catalog: Catalog) -> int:
    from agnews.training.train import INTERRUPTED, train_run

    parent, inherited = _from_run(argv)
    parser = _train_parser(preset_of(argv), catalog)
    parser.set_defaults(**inherited)
    config, options = parse_settings(parser, argv)
    if parent is not None:
        _check_still_there(parent, inherited, config)
    try:
        with _sigterm_interrupts():
            out = train_run(
                config,
                options.out,
                resume=options.resume,
                overwrite=options.overwrite,
                checkpoint_dir=options.checkpoint_dir,
                keep_checkpoints=options.keep_checkpoints,
                stages=options.stages,
                parent=None if parent is None else parent.resolve().name,
            )
    except KeyboardInterrupt:
        made = options.out.expanduser()
        said = (
            f"interrupted: the run {made} is kept; `agnews analyze {made}` runs the stages it lacks"
            if made.exists()
            else INTERRUPTED
        )
        emit(Event(ERROR, message=said))
        print(f"\n{said}", file=sys.stderr)
        return 130
    if out is None:  # a non-first process of a data-parallel launch: the first one reports
        return 0
    print(f"run written to {out}")
    print_test_summary(out, catalog)
    return 0


def _evaluate(argv: list[str], catalog: Catalog) -> int:
    from agnews.training.stages import evaluate_run

    args = _evaluate_parser().parse_args(argv)
    evaluate_run(args.run, data=args.data, max_test_samples=args.max_test_samples)
    print_test_summary(args.run, catalog)
    return 0


def _analyze(argv: list[str], catalog: Catalog) -> int:
    from agnews.training.stages import analyze_run

    args = _analyze_parser(catalog).parse_args(argv)
    failures = analyze_run(args.run, args.stages, data=args.data, catalog=catalog)
    for stage, message in failures.items():
        print(f"stage {stage} failed (recorded in the run): {message}", file=sys.stderr)
    print(f"{args.run}: stages done" + (f", {len(failures)} failed" if failures else ""))
    return 1 if failures else 0


def _compare(argv: list[str], catalog: Catalog) -> int:
    from agnews.comparison import (
        compare_groups,
        compare_runs,
        describe_groups,
        describe_pair,
        disagreements,
        write_comparison,
    )
    from agnews.rundir.run import Run

    parser = _compare_parser()
    if "--" in argv:  # two groups; options may sit on either side
        split = argv.index("--")
        left, right = parser.parse_args(argv[:split]), parser.parse_args(argv[split + 1 :])
        if left.out and right.out:
            parser.error("give --out once")
        group_a = [Run.load(path, catalog) for path in left.runs]
        group_b = [Run.load(path, catalog) for path in right.runs]
        comparison = compare_groups(group_a, group_b)
        print("\n".join(describe_groups(comparison)))
        out, rows = left.out or right.out, None
    else:
        args = parser.parse_args(argv)
        if len(args.runs) != 2:
            parser.error(f"give two runs (A B), or two groups separated by -- (got {len(args.runs)} runs)")
        a, b = (Run.load(path, catalog) for path in args.runs)
        comparison = compare_runs(a, b)
        print("\n".join(describe_pair(comparison)))
        out, rows = args.out, disagreements(a, b)
    if out is not None:
        for path in write_comparison(out, comparison, rows):
            print(f"wrote {path}")
    return 0


def _migrate(argv: list[str], catalog: Catalog) -> int:
    from agnews.rundir.migrate import migrate_run

    args = _run_parser("migrate").parse_args(argv)
    recorded = migrate_run(args.run)
    print(f"{args.run}: migrated; parts {', '.join(recorded)}")
    return 0


def _predict(argv: list[str], catalog: Catalog) -> int:
    from agnews.rundir.run import Run
    from agnews.serving.predict_file import BACKENDS, CHUNK_ROWS, predict_file

    parser = _run_parser("predict")
    parser.add_argument(
        "file", type=Path, help="CSV (a `text` column, or `title` and `description`) or parquet."
    )
    parser.add_argument("--out", type=Path, required=True, help="Output file (.csv, or .parquet).")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="fp32",
        help="fp32: the PyTorch model as the run's stored probabilities were made (default); bf16 "
        "(native bf16 only) and onnx-int8 are faster and disagree on a few rows.",
    )
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="Rows per chunk (memory).")
    parser.add_argument(
        "--raw-cells",
        action="store_true",
        help="Write a CSV's cells as they are, for a program to read. By default a text cell beginning "
        "with =, +, - or @ (or tab, carriage return) gets a leading ' so that a spreadsheet shows it "
        "instead of running it as a formula.",
    )
    args = parser.parse_args(argv)
    outcome = predict_file(
        Run.load(args.run, catalog),
        args.file,
        args.out,
        backend=args.backend,
        chunk_rows=args.chunk_rows,
        raw_cells=args.raw_cells,
    )
    totals = outcome.totals
    resumed = f", {outcome.resumed_chunks} chunk(s) already done" if outcome.resumed_chunks else ""
    print(f"{outcome.classified_chunks} chunk(s) classified by {outcome.backend}{resumed}")
    if totals.rows:
        print(
            f"{args.out}: {count(totals.rows)} rows, {count(totals.classified)} classified, "
            f"{count(totals.unclassified)} without text, {count(totals.needs_review)} need review"
        )
    return 0


def _push(argv: list[str], catalog: Catalog) -> int:
    from agnews.hub.transfer import push_run, save_upload_folder

    parser = _push_parser()
    args = parser.parse_args(argv)
    if args.dry_run != (args.out is not None):
        parser.error("--dry-run and --out DIR go together")
    if args.dry_run:
        out = save_upload_folder(args.run, args.out, repo_id=args.repo_id)
        print(f"upload folder for {args.repo_id} written to {out} (nothing was uploaded)")
        return 0
    url = push_run(args.run, args.repo_id, private=args.private)
    print(f"pushed {args.run} to {url}")
    return 0


def _report(argv: list[str], catalog: Catalog) -> int:
    from agnews.present.report import build_report
    from agnews.rundir.files import write_atomically
    from agnews.rundir.run import Run

    args = _report_parser().parse_args(argv)
    page = build_report(Run.load(args.run, catalog))
    out = args.out.expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    print(f"report of {args.run} written to {out} ({megabytes(out.stat().st_size)})")
    return 0


HANDLERS: dict[str, Callable[[list[str], Catalog], int]] = {
    "train": _train,
    "evaluate": _evaluate,
    "analyze": _analyze,
    "compare": _compare,
    "migrate": _migrate,
    "push": _push,
    "report": _report,
    "predict": _predict,
    "data": data_command,
}


# Errors that mean "bad input or environment", reported in one line, by the module that defines them.
# Looked up in sys.modules: an error can only be raised by a module that was imported, and importing
# the others just to name their errors would cost the commands that never load them.
USER_ERRORS = {
    "agnews.config": "ConfigError",
    "agnews.rundir.files": "RunError",
    "agnews.training.data": "DataError",
    "agnews.dataset.errors": "DataError",
    "agnews.models": "ModelError",
    "agnews.hub.transfer": "HubError",
    "agnews.serving.csv_batch": "BatchError",
}


def _user_errors() -> tuple[type[Exception], ...]:
    return tuple(
        getattr(sys.modules[module], name) for module, name in USER_ERRORS.items() if module in sys.modules
    )


def main(argv: list[str] | None = None, analyses: Sequence[Analysis] = ANALYSES) -> int:
    """Run the command `argv` names; `analyses`: the analyses whose commands it knows."""
    top = _top_parser(analyses).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if top.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    word = aliases(analyses).get(top.command, top.command)
    own = analysis_commands(analyses)
    try:
        catalog = Catalog(analyses)
        if word in own:
            return load_attribute(own[word].run)(top.args, own[word].help, catalog)
        return HANDLERS[word](top.args, catalog)
    except Exception as exc:
        user_error = isinstance(exc, _user_errors())
        emit(Event(ERROR, message=str(exc) if user_error else failure(exc)))  # for a page following it
        if not user_error:
            raise
        print(f"agnews {top.command}: error: {exc}", file=sys.stderr)
        return 2
