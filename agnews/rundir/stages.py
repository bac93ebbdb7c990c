"""What each stage is: one declaration per stage, read by everything that needs to know.

A stage reads some parts of a run and writes its own. Its declaration below says, once, what it
makes and needs, what it reads when present, which settings its parts depend on, whether every run
gets it, and what the status line and `--help` call it. The CLI (`--stages` choices and help), the
launcher and the live status line (which stages a run still lacks), the runner
(`agnews.training.stages`: what a stage may read, what its parts were made from), the app (which
stage fills a tab) and `Run.load` (the command that re-makes a dropped part) all read it here.

A stage is named after the part it makes (its tab and CLI command carry the same name); the names
older runs recorded are mapped on reading (`agnews.rundir.parts.RENAMED_STAGES`) and still accepted
by `--stages`.

This module is torch-free, so that a server of a finished run learns it is finished without loading
the training code: a stage's work is named by import path (`function`, "module:attribute") and
imported only by the runner. A stage made by its own command (`agnews train`, `agnews tune`, ...)
has no `function`; its `command` says what re-makes its parts.

To add a stage from outside this package (a plugin, or a test's toy analysis), `declare(Stage(...))`
after declaring its parts (`agnews.rundir.parts.declare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agnews.rundir.files import RunError
from agnews.rundir.parts import FAMILIES, PARTS, RENAMED_STAGES


class HasParts(Protocol):
    """A loaded run, as far as this module needs one (`agnews.rundir.run.Run`, which imports this)."""

    def has(self, part: str) -> bool: ...


@dataclass(frozen=True)
class Stage:
    """One stage's declaration.

    `makes`: the parts it writes (for a part family, the family's prefix); `needs`: the parts it
    refuses to run without; `reads_if_present`: the parts it also reads when the run has them. Every
    part it writes is recorded as made from the needed and present read parts, and with the values
    of `settings` (attributes of the `StageContext`, e.g. `stress_rows`) it ran with.
    """

    name: str
    makes: tuple[str, ...]
    needs: tuple[str, ...]
    label: str  # what the status line calls it
    help: str  # one line, for `--help` and the log
    function: str | None = None  # "module:attribute" of its `(StageContext) -> None`
    command: str | None = None  # for a stage without `function`: the command that makes its parts
    default: bool = False  # made for every run by `agnews train` and `agnews analyze`
    reads_if_present: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    tab: str | None = None  # the id of the app tab that shows its parts

    @property
    def runnable(self) -> bool:
        """Whether `agnews analyze --stages NAME` can run it."""
        return self.function is not None


# In the order `agnews analyze` runs the default ones: cheap ones first, so the page fills quickly.
_DECLARED = (
    Stage(
        "train",
        ("config", "model", "training", "data_stats"),
        (),
        "model",
        "fine-tune the base model",
        command="agnews train",
    ),
    Stage(
        "evaluate",
        ("predictions", "metrics"),
        ("model", "config"),
        "test predictions",
        "test predictions and metrics",
        function="agnews.training.evaluate:evaluate_stage",
        tab="confusion",
    ),
    Stage(
        "calibration",
        ("calibration",),
        ("predictions", "training", "config", "model"),
        "calibration report",
        "calibration before/after with intervals, risk-coverage, review threshold",
        function="agnews.training.calibrate:calibrate_stage",
        default=True,
        tab="calibration",
    ),
    Stage(
        "label_issues_test",
        ("label_issues_test",),
        ("predictions",),
        "test label issues",
        "likely mislabelled test rows (cleanlab on the test probabilities)",
        function="agnews.training.label_issues:label_issues_stage",
        default=True,
        tab="label-issues",
    ),
    Stage(
        "slices",
        ("slices",),
        ("config", "data_stats", "predictions"),
        "slices and dataset warnings",
        "smart tags of the test rows, accuracy per slice, dataset warnings",
        function="agnews.training.slices:slices_stage",
        default=True,
        reads_if_present=("calibration", "label_issues_test"),
        tab="slices",
    ),
    Stage(
        "export",
        ("serving",),
        ("model",),
        "ONNX serving graphs",
        "ONNX serving graphs (fp32, int8)",
        function="agnews.training.onnx_export:export_stage",
        default=True,
    ),
    Stage(
        "embed",
        ("embeddings", "baseline"),
        ("model", "config", "predictions"),
        "embeddings and frozen-feature baseline",
        "base and fine-tuned [CLS] vectors, frozen-feature baseline",
        function="agnews.training.embed:embed_stage",
        default=True,
    ),
    Stage(
        "map",
        ("map",),
        ("embeddings", "predictions"),
        "2-D map",
        "2-D UMAP maps and their quality",
        function="agnews.training.maps:map_stage",
        default=True,
        tab="map",
    ),
    Stage(
        "train_embeddings",
        ("train_embeddings",),
        ("model", "config"),
        "training-row vectors",
        "fine-tuned [CLS] vectors of the training rows, for their nearest neighbours",
        function="agnews.training.embed:train_embeddings_stage",
        default=True,
        tab="neighbours",
    ),
    Stage(
        "label_issues_train",
        ("label_issues_train",),
        ("config",),
        "training label issues",
        "likely mislabelled training rows (cleanlab on out-of-fold probabilities)",
        function="agnews.training.label_issues:train_label_issues_stage",
        default=True,
        tab="label-issues",
    ),
    Stage(
        "robustness",
        ("robustness",),
        ("model", "config", "predictions"),
        "robustness tests",
        "behavioural tests: how often predictions flip under typos, agency tags, names, ...",
        function="agnews.training.stress:stress_stage",
        default=True,
        settings=("stress_rows",),
        tab="robustness",
    ),
    Stage(
        "tune",
        ("tuning",),
        ("config",),
        "tuning search",
        "the Optuna search that chose the run's settings",
        command="agnews tune --data DIR --out runs/tuned",
        tab="tuning",
    ),
    Stage(
        "cross_domain",
        ("cross_domain",),
        ("model", "config"),
        "cross-domain evaluation",
        "the model and a TF-IDF baseline on a labelled file from elsewhere",
        command="agnews cross-domain",
        tab="cross-domain",
    ),
    Stage(
        "distill",
        ("teacher_logits",),
        ("model",),
        "teacher logits",
        "a teacher's logits for a student's training texts",
        command="agnews train --teacher",
    ),
)
STAGES: dict[str, Stage] = {}


def declare(stage: Stage) -> Stage:
    """Add `stage` to `STAGES`; refused when its name is taken or a part it names is not declared,
    or when another stage already makes one of its parts (each part has one maker)."""
    if stage.name in STAGES:
        raise RunError(f"stage {stage.name!r} is declared twice")
    unknown = [name for name in (*stage.makes, *stage.needs, *stage.reads_if_present) if not _declared(name)]
    if unknown:
        raise RunError(f"stage {stage.name!r} names undeclared part(s) {unknown}")
    taken = {name: other.name for other in STAGES.values() for name in other.makes if name in stage.makes}
    if taken:
        raise RunError(f"stage {stage.name!r}: part(s) {taken} already have a maker")
    if (stage.function is None) == (stage.command is None):
        raise RunError(f"stage {stage.name!r}: give exactly one of `function` and `command`")
    STAGES[stage.name] = stage
    return stage


def _declared(part: str) -> bool:
    return part in PARTS or part in FAMILIES


for _stage in _DECLARED:
    declare(_stage)


def default_stages() -> tuple[str, ...]:
    """The stages every run gets, in the order they run."""
    return tuple(name for name, stage in STAGES.items() if stage.default)


def pending_stages(run: HasParts) -> tuple[str, ...]:
    """The default stages whose parts `run` lacks (absent, or dropped by `Run.load` as damaged or
    stale): what `agnews analyze RUN` makes, and what the launcher completes in the background."""
    return tuple(name for name in default_stages() if not all(run.has(part) for part in STAGES[name].makes))


def maker(part: str) -> Stage:
    """The stage that makes `part` (a family member `PREFIX/NAME`: the family's maker)."""
    key = part if part in PARTS else part.partition("/")[0]
    for stage in STAGES.values():
        if key in stage.makes:
            return stage
    raise RunError(f"no stage makes the part {part!r}")


def runnable(name: str) -> Stage:
    """The stage `name` (or its name in older agnews), refused unless `agnews analyze` can run it."""
    stage = STAGES.get(RENAMED_STAGES.get(name, name))
    if stage is None or not stage.runnable:
        choices = sorted(n for n, s in STAGES.items() if s.runnable)
        raise RunError(f"unknown stage {name!r}; choose from {choices}")
    return stage
