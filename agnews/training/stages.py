"""Stages: the work done on a run, each reading some parts and writing its own, atomically.

`agnews train` is the training stage (model, config, training log, data stats) committed together
with the evaluate stage (predictions, metrics), then the default stages, each in its own atomic edit:
a failing optional stage records a warning in the run and never touches what earlier stages wrote.
`agnews analyze RUN` runs the stages whose parts are missing or stale (or the ones named).

To add an analysis: write its part in `agnews.rundir.parts`, a function `(StageContext) -> None`
that writes it through `context.edit`, register it in `STAGES` (and `DEFAULT_STAGES` if every run
should have it), and a panel in `agnews.ui` that shows the part when `run.has(part)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agnews.rundir.edit import edit_run, fault_point
from agnews.rundir.files import RunBusyError, RunError
from agnews.rundir.run import Run
from agnews.training.calibrate import calibrate_stage
from agnews.training.context import STRESS_ROWS, StageContext
from agnews.training.embed import embed_stage
from agnews.training.evaluate import evaluate_stage
from agnews.training.label_issues import label_issues_stage, train_label_issues_stage
from agnews.training.maps import map_stage
from agnews.training.onnx_export import export_stage
from agnews.training.slices import slices_stage
from agnews.training.stress import stress_stage


@dataclass(frozen=True)
class Stage:
    name: str
    makes: tuple[str, ...]
    needs: tuple[str, ...]
    run: Callable[[StageContext], None]
    help: str


STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage(
            "evaluate",
            ("predictions", "metrics"),
            ("model", "config"),
            evaluate_stage,
            "test predictions and metrics",
        ),
        Stage("export", ("serving",), ("model",), export_stage, "ONNX serving graphs (fp32, int8)"),
        Stage(
            "embed",
            ("embeddings", "baseline"),
            ("model", "config", "predictions"),
            embed_stage,
            "base and fine-tuned [CLS] vectors, frozen-feature baseline",
        ),
        Stage("map", ("map",), ("embeddings", "predictions"), map_stage, "2-D UMAP maps and their quality"),
        Stage(
            "calibrate",
            ("calibration",),
            ("predictions", "training", "config", "model"),
            calibrate_stage,
            "calibration before/after with intervals, risk-coverage, review threshold",
        ),
        Stage(
            "label_issues",
            ("label_issues_test",),
            ("predictions",),
            label_issues_stage,
            "likely mislabelled test rows (cleanlab on the test probabilities)",
        ),
        Stage(
            "train_label_issues",
            ("label_issues_train",),
            ("config",),
            train_label_issues_stage,
            "likely mislabelled training rows (cleanlab on out-of-fold probabilities)",
        ),
        Stage(
            "slices",
            ("slices",),
            ("config", "data_stats", "predictions"),
            slices_stage,
            "smart tags of the test rows, accuracy per slice, dataset warnings",
        ),
        Stage(
            "stress",
            ("robustness",),
            ("model", "config", "predictions"),
            stress_stage,
            "behavioural tests: how often predictions flip under typos, agency tags, names, ...",
        ),
    )
}
DEFAULT_STAGES = (
    "calibrate",
    "label_issues",
    "slices",
    "export",
    "embed",
    "map",
    "train_label_issues",
    "stress",
)


def run_stage(path: Path, name: str, context: StageContext, *, optional: bool = True) -> str | None:
    """Run one stage in its own atomic edit of the run at `path`.

    Returns None on success. An optional stage that fails is recorded as a warning in the run (and
    its message returned); a required one raises. Another writer holding the run always raises.
    """
    stage = STAGES[name]
    try:
        with edit_run(path) as edit:
            context.edit = edit
            lacking = [need for need in stage.needs if need not in edit.manifest.parts]
            if lacking:
                raise RunError(f"stage {name} needs the {lacking} part(s), which the run lacks")
            stage.run(context)
            edit.clear_warning(name)
    except RunBusyError:
        raise
    except Exception as exc:
        if not optional:
            raise
        message = f"{type(exc).__name__}: {exc}"
        with edit_run(path) as edit:
            edit.warn(name, message)
        return message
    finally:
        context.edit = None
    return None


def run_stages(path: Path, names: tuple[str, ...], context: StageContext) -> dict[str, str]:
    """Run optional stages in order, each committed on its own; returns {stage: warning} of failures."""
    failures: dict[str, str] = {}
    for name in names:
        if context.progress:
            print(f"stage {name}: {STAGES[name].help} ...", flush=True)
        failure = run_stage(path, name, context)
        if failure is not None:
            failures[name] = failure
            if context.progress:
                print(f"stage {name} failed (recorded in the run): {failure}", flush=True)
        fault_point("analyze:between-stages")
    return failures


def pending_stages(run: Run) -> tuple[str, ...]:
    """The default stages whose parts are missing, damaged or stale in `run` (Run.load dropped them)."""
    return tuple(name for name in DEFAULT_STAGES if not all(run.has(part) for part in STAGES[name].makes))


def current_run(path: Path) -> Run:
    """The run at `path`, loaded; refused when an older agnews made it, since new parts are recorded
    against today's manifest (`agnews migrate` writes one)."""
    run = Run.load(path)
    if not run.manifest.parts.get("config") or run.manifest.parts["config"].stage == "legacy":
        raise RunError(f"{path}: made by an older agnews; run `agnews migrate {path}` first")
    return run


def analyze_run(
    path: Path, stages: tuple[str, ...] | None = None, *, data: str | None = None, progress: bool = True
) -> dict[str, str]:
    """`agnews analyze RUN`: run `stages` (default: the pending ones) on an existing run."""
    run = current_run(path)
    unknown = [name for name in stages or () if name not in STAGES]
    if unknown:
        raise RunError(f"unknown stage(s) {unknown}; choose from {sorted(STAGES)}")
    todo = pending_stages(run) if stages is None else stages
    context = StageContext(run.config.train, data=data, progress=progress)
    if "evaluate" in todo:
        run_stage(Path(path), "evaluate", context, optional=False)
        todo = tuple(name for name in todo if name != "evaluate")
    return run_stages(Path(path), todo, context)


def evaluate_run(
    path: Path, *, data: str | None = None, max_test_samples: int | None = None, progress: bool = True
) -> Run:
    """`agnews evaluate RUN`: predict the test split again (or `--data`'s, capped) and replace the
    predictions and metrics together. Parts made from the old predictions are then reported stale."""
    run = Run.load(path)
    context = StageContext(run.config.train, data=data, max_test_samples=max_test_samples, progress=progress)
    run_stage(Path(path), "evaluate", context, optional=False)
    return Run.load(path)


def stress_run(path: Path, *, rows: int | None = STRESS_ROWS, progress: bool = True) -> Run:
    """`agnews stress RUN`: the stress stage on `rows` test rows (None: all), errors raised, not recorded."""
    run = current_run(path)
    context = StageContext(run.config.train, progress=progress, stress_rows=rows)
    run_stage(Path(path), "stress", context, optional=False)
    return Run.load(path)
