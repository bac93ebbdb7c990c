"""`agnews tuning` (also spelt `agnews tune`): a small Optuna search over the training recipe, then
the run trained with the best.

What is searched: the learning rate (log scale), epochs, warmup share and frozen lower layers, from a
preset's settings (`quick` by default). What is maximised: the mean validation accuracy of the trial's
settings over `seeds` trainings with different seeds, so that one lucky seed does not win; every
trial scores the same validation rows, so trials compare on equal terms, and test rows are never
read. Before the search, the preset's own settings are scored twice (other seeds each time): their
difference is the objective's own noise, stated beside the gains. A trial is pruned (Optuna's median
rule) when its first seeds score below the median of the trials before at that point.

The study lives in SQLite beside the runs (`.NAME.tune.db`, never a pickle): an interrupted search,
run again with the same command, continues where it stopped. The run trained with the best settings
gets the tuning part (`tuning.json`): every trial's settings, score, state and time, the noise, the
best, and the settings' importances (Optuna's fANOVA, computed here), so the app draws the search
without Optuna installed.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agnews.analyses.tuning.schema import PART, Tuning, TuningTrial
from agnews.config import ConfigError, TrainConfig
from agnews.formatting import number
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.edit import edit_run
from agnews.training.train import fine_tune, train_run

if TYPE_CHECKING:
    import optuna

# The search space: (low, high) for floats and ints, a tuple of choices otherwise.
LEARNING_RATE = (2e-5, 3e-4)
EPOCHS = (1, 4)
WARMUP_RATIO = (0.0, 0.2)
NOISE_TRIALS = 2  # the preset's own settings, scored this many times before the search


def study_path(out: Path) -> Path:
    """The study's SQLite file: beside the run it makes, hidden like its checkpoints."""
    out = out.expanduser().absolute()
    return out.parent / f".{out.name}.tune.db"


def suggest(trial: optuna.Trial, base: TrainConfig, depth: int) -> dict[str, Any]:
    """One trial's settings (the base preset's where the trial was enqueued with them)."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", *LEARNING_RATE, log=True),
        "epochs": float(trial.suggest_int("epochs", *EPOCHS)),
        "warmup_ratio": trial.suggest_float("warmup_ratio", *WARMUP_RATIO),
        "freeze_layers": trial.suggest_int("freeze_layers", 0, depth // 2),
    }


def validation_accuracy(config: TrainConfig, scratch: Path) -> float:
    """Train `config` without writing a run (checkpoints in `scratch`) and score its kept epoch."""
    with tempfile.TemporaryDirectory(prefix="trial-", dir=scratch) as checkpoints:
        trained = fine_tune(config, Path(checkpoints), progress=False)
    if trained is None:
        raise ConfigError("agnews tuning runs in one process (no torchrun / accelerate launch)")
    return float(trained.training.validation["accuracy"])


def _objective(base: TrainConfig, seeds: tuple[int, ...], depth: int, scratch: Path) -> Any:
    import optuna

    def objective(trial: optuna.Trial) -> float:
        settings = suggest(trial, base, depth)
        trial_seeds = seeds
        if trial.user_attrs.get("role") == "noise" and any(
            t.user_attrs.get("role") == "noise" and t.state.is_finished() for t in trial.study.trials
        ):  # the second scoring of the preset's settings: the same settings, other seeds
            trial_seeds = tuple(seed + 1000 for seed in seeds)
        scores = []
        for step, seed in enumerate(trial_seeds):
            config = dataclasses.replace(base, **settings, seed=seed)
            scores.append(validation_accuracy(config, scratch))
            trial.report(statistics.mean(scores), step)
            if trial.should_prune():
                trial.set_user_attr("scores", scores)
                raise optuna.TrialPruned()
        trial.set_user_attr("scores", scores)
        return statistics.mean(scores)

    return objective


def _base_settings(base: TrainConfig, depth: int) -> dict[str, Any]:
    from agnews.training.train import resolve_frozen_layers, resolve_precision

    return {
        "learning_rate": base.learning_rate,
        "epochs": int(base.epochs),
        "warmup_ratio": base.warmup_ratio,
        "freeze_layers": resolve_frozen_layers(
            base.freeze_layers, resolve_precision(base.mixed_precision), depth
        ),
    }


def _model_depth(base: TrainConfig) -> int:
    """The base model's number of encoder layers (loaded the way training loads it: safetensors only,
    no remote code)."""
    from agnews.models import load_classifier, resolve_base_model
    from agnews.training.train import encoder_layers

    return len(encoder_layers(load_classifier(resolve_base_model(base.base_model))))


def tune(
    base: TrainConfig,
    out: Path,
    *,
    trials: int = 20,
    timeout: float | None = None,
    seeds: tuple[int, ...] = (42, 1),
    sampler_seed: int = 0,
    progress: bool = True,
    catalog: Catalog = CATALOG,
) -> Path:
    """Search, then train the run `out` with the best settings and write its tuning part."""
    import optuna

    depth = _model_depth(base)
    out.expanduser().absolute().parent.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{study_path(out)}"
    study = optuna.create_study(
        study_name=out.name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=sampler_seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=NOISE_TRIALS + 2, n_warmup_steps=0),
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".tune-", dir=out.expanduser().absolute().parent) as folder:
        scratch = Path(folder)
        if not study.trials:  # a new study: the preset's settings first, twice, to measure the noise
            for _ in range(NOISE_TRIALS):
                study.enqueue_trial(_base_settings(base, depth), user_attrs={"role": "noise"})
        done = sum(t.state.is_finished() for t in study.trials)
        for _ in range(max(0, trials + NOISE_TRIALS - done)):
            if timeout is not None and time.monotonic() - started > timeout:
                print(
                    f"--timeout {number(timeout, digits=0)} s reached; the study keeps what is done",
                    flush=True,
                )
                break
            study.optimize(
                _objective(base, seeds, depth, scratch), n_trials=1, show_progress_bar=False, catch=()
            )
            if progress:  # the trial just finished (a queued one may follow it in `study.trials`)
                last = max((t for t in study.trials if t.state.is_finished()), key=lambda t: t.number)
                print(
                    f"trial {last.number}: {last.state.name.lower()} {last.value} {last.params}", flush=True
                )
    best = study.best_trial
    config = dataclasses.replace(base, **_settings(best.params), seed=seeds[0])
    path = train_run(config, out, progress=progress)
    assert path is not None
    with edit_run(path, catalog=catalog) as edit:
        edit.begin(catalog.stages[PART.name])
        edit.write(PART.name, tuning_report(study, seeds))
    return path


def _settings(params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "epochs": float(params["epochs"])}


def tuning_report(study: optuna.Study, seeds: tuple[int, ...]) -> Tuning:
    """The study as the tuning part records it."""
    import optuna

    finished = [t for t in study.trials if t.state.is_finished()]
    noise = [t.value for t in finished if t.user_attrs.get("role") == "noise" and t.value is not None]
    complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    importances: dict[str, float] = {}
    if len(complete) >= 3 and len({tuple(sorted(t.params.items())) for t in complete}) >= 2:
        importances = {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
    return Tuning(
        objective=f"mean validation accuracy over {len(seeds)} seeds",
        seeds=list(seeds),
        trials=[
            TuningTrial(
                number=t.number,
                state=t.state.name.lower(),
                params={k: float(v) for k, v in t.params.items()},
                value=t.value,
                scores=[float(s) for s in t.user_attrs.get("scores", [])],
                seconds=(
                    (t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start
                    else None
                ),
                role=t.user_attrs.get("role", "search"),
            )
            for t in finished
        ],
        best_trial=study.best_trial.number,
        best_value=float(study.best_value),
        noise=abs(noise[0] - noise[1]) if len(noise) == 2 else None,
        importances=importances,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
