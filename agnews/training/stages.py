"""Running stages: the work done on a run, each reading some parts and writing its own, atomically.

What each stage is (what it makes, needs and reads, its help line, whether every run gets it) is
declared once (`agnews.rundir.core` and each analysis's declaration, put together by
`agnews.rundir.catalog`); this module runs them. `agnews train` is the training
stage (model, config, training log, data stats) committed together with the evaluate stage
(predictions, metrics), then the default stages, each in its own atomic edit: a failing optional
stage records a warning in the run and never touches what earlier stages wrote. `agnews analyze RUN`
runs the stages whose parts are missing or stale (or the ones named).

A stage is a function `(StageContext) -> None` that writes its parts through `context.staged`; the
parts are recorded as made from the stage's declared inputs, with its analysis's settings' values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from agnews import events
from agnews.rundir.catalog import CATALOG, Catalog, load_attribute
from agnews.rundir.declarations import NOT_APPLICABLE
from agnews.rundir.edit import edit_run, fault_point
from agnews.rundir.files import RunBusyError, RunError
from agnews.rundir.run import Run
from agnews.training.context import StageContext


def stage_function(name: str, context: StageContext) -> Callable[[StageContext], None]:
    """The function of the runnable stage `name`, imported from its declared path."""
    return load_attribute(str(context.catalog.runnable(name).function))


def begin_stage(name: str, context: StageContext) -> None:
    """Mark the parts `context.staged` writes next as stage `name`'s, with its analysis's settings."""
    owner = context.catalog.owner(name)
    settings = None if owner is None else context.settings(owner.name)
    recorded = {} if settings is None else dataclasses.asdict(settings)
    context.staged.begin(context.catalog.stages[name], recorded)


def run_stage(path: Path, name: str, context: StageContext, *, optional: bool = True) -> str | None:
    """Run one stage in its own atomic edit of the run at `path`.

    Returns None on success. An optional stage that fails is recorded as a warning in the run (and
    its message returned); a required one raises. Another writer holding the run always raises.
    The stage's `started`, `done` or `failed` and its progress go to the event log (`agnews.events`).
    """
    stage = context.catalog.runnable(name)
    name = stage.name  # today's name of a stage named as older agnews did
    try:
        with edit_run(path, catalog=context.catalog) as edit, events.running(name):
            context.edit = edit
            lacking = [need for need in stage.needs if need not in edit.manifest.parts]
            if lacking:
                raise RunError(f"stage {name} needs the {lacking} part(s), which the run lacks")
            # The data stats are read only for a stage that declares a minimum.
            counts = _training_counts(context) if stage.applies.min_rows_per_class > 1 else {}
            dataset = context.read("config").data.description()
            if refusal := stage.applies.refusal(counts, dataset):
                raise RunError(f"stage {name} {NOT_APPLICABLE}: {refusal}")
            begin_stage(name, context)
            stage_function(name, context)(context)
            edit.clear_warning(name)
    except RunBusyError:
        raise
    except Exception as exc:
        message = events.failure(exc)
        events.emit(events.Event(events.FAILED, name, message=message))
        if not optional:
            raise
        with edit_run(path, catalog=context.catalog) as edit:
            edit.warn(name, message)
        return message
    finally:
        context.edit = None
    events.emit(events.Event(events.DONE, name))  # its parts are committed: the run shows them
    return None


def _training_counts(context: StageContext) -> dict[str, int]:
    """Rows per class of the staged run's training split, as its data stats recorded them."""
    return context.read("data_stats").splits["train"].class_counts


def run_stages(path: Path, names: tuple[str, ...], context: StageContext) -> dict[str, str]:
    """Run optional stages in order, each committed on its own; returns {stage: warning} of failures."""
    failures: dict[str, str] = {}
    for name in (context.catalog.runnable(given).name for given in names):
        if context.progress:
            print(f"stage {name}: {context.catalog.stages[name].help} ...", flush=True)
        failure = run_stage(path, name, context)
        if failure is not None:
            failures[name] = failure
            if context.progress:
                print(f"stage {name} failed (recorded in the run): {failure}", flush=True)
        fault_point("analyze:between-stages")
    return failures


def current_run(path: Path, catalog: Catalog = CATALOG) -> Run:
    """The run at `path`, loaded; refused when an older agnews made it, since new parts are recorded
    against today's manifest (`agnews migrate` writes one)."""
    run = Run.load(path, catalog)
    if not run.manifest.parts.get("config") or run.manifest.parts["config"].stage == "legacy":
        raise RunError(f"{path}: made by an older agnews; run `agnews migrate {path}` first")
    return run


def analyze_run(
    path: Path,
    stages: tuple[str, ...] | None = None,
    *,
    data: str | None = None,
    progress: bool = True,
    catalog: Catalog = CATALOG,
) -> dict[str, str]:
    """`agnews analyze RUN`: run `stages` (default: the pending ones) on an existing run; `catalog`:
    the stages there are (a test's own list of analyses passes its own)."""
    run = current_run(path, catalog)
    todo = catalog.pending_stages(run) if stages is None else tuple(catalog.runnable(n).name for n in stages)
    context = StageContext(run.config.train, data=data, progress=progress, catalog=catalog)
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
