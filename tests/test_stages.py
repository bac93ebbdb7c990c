"""The stage declarations (`agnews.rundir.stages`) agree with the part registry and with the code."""

from __future__ import annotations

import importlib
import inspect
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agnews.rundir import Run, RunError
from agnews.rundir.parts import FAMILIES, PARTS, JsonFile, Part
from agnews.rundir.parts import declare as declare_part
from agnews.rundir.stages import STAGES, Stage, declare, default_stages, maker, runnable
from agnews.training.context import StageContext


def test_every_part_has_exactly_one_maker() -> None:
    made = [part for stage in STAGES.values() for part in stage.makes]
    assert sorted(made) == sorted([*PARTS, *FAMILIES])
    assert maker("cross_domain/news").name == "cross_domain"
    assert maker("calibration").name == "calibration" and maker("robustness").name == "robustness"


def test_every_runnable_stage_names_a_stage_function() -> None:
    for stage in STAGES.values():
        if not stage.runnable:
            assert stage.command and stage.command.startswith("agnews ")
            continue
        module, _, attribute = str(stage.function).partition(":")
        function = getattr(importlib.import_module(module), attribute)
        first, *rest = inspect.signature(function).parameters.values()
        assert first.name == "context" and all(p.default is not p.empty for p in rest), stage.name


def test_the_default_stages_can_all_run() -> None:
    assert default_stages() and all(STAGES[name].runnable for name in default_stages())
    with pytest.raises(RunError, match="choose from"):
        runnable("train")  # made by `agnews train`, not by `agnews analyze`


def test_a_declaration_naming_an_unknown_part_or_a_taken_one_is_refused() -> None:
    with pytest.raises(RunError, match="undeclared"):
        declare(Stage("toy", ("no_such_part",), (), "toy", "toy", function="toy:stage"))
    with pytest.raises(RunError, match="already have a maker"):
        declare(Stage("toy", ("calibration",), (), "toy", "toy", function="toy:stage"))
    assert "toy" not in STAGES


def test_the_declarations_load_without_torch() -> None:
    """The launcher and a server of a finished run read them; neither should pay for torch."""
    code = "import sys, app, agnews.rundir.stages; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=importlib.import_module("app").ROOT)


@dataclass
class WordCounts:
    """The toy analysis' part: words per test text."""

    rows: int
    mean_words: float
    schema_version: int = 1


def toy_stage(context: StageContext) -> None:
    """The toy analysis: reads the predictions through the context, writes its part in one call."""
    words = context.predictions()["text"].str.split().str.len()
    context.staged.write("word_counts", WordCounts(rows=len(words), mean_words=float(words.mean())))


@pytest.fixture
def toy_analysis() -> Iterator[None]:
    """A part and the stage that makes it, declared the way a new analysis is (and undeclared after)."""
    declare_part(Part("word_counts", ("word_counts.json",), False, (JsonFile(WordCounts),)))
    declare(
        Stage(
            "word_counts",
            ("word_counts",),
            ("predictions",),
            "word counts",
            "words per test text (a toy analysis)",
            function=f"{__name__}:toy_stage",
        )
    )
    try:
        yield
    finally:
        STAGES.pop("word_counts")
        PARTS.pop("word_counts")


def test_a_new_analysis_is_declared_once_and_the_machinery_takes_it_from_there(
    toy_analysis: None, synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agnews.cli import main
    from agnews.training.stages import analyze_run

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    assert analyze_run(path, ("word_counts",), progress=False) == {}
    run = Run.load(path)
    counts = run.part("word_counts")
    assert isinstance(counts, WordCounts) and counts.rows == len(run.predictions) and counts.mean_words > 5
    record = run.manifest.parts["word_counts"]  # provenance filled by the runner, not by the stage
    assert record.stage == "word_counts" and set(record.made_from) == {"predictions"}
    (path / "word_counts.json").write_text('{"rows": "many"}')  # damaged: reported with its command
    assert any(
        "word_counts.json: ignored (" in w and f"agnews analyze {path} --stages word_counts" in w
        for w in Run.load(path).warnings
    )
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    assert "word_counts: words per test text (a toy analysis)" in " ".join(capsys.readouterr().out.split())


def test_runs_that_recorded_the_old_stage_names_read_as_today(synthetic_run: Path, tmp_path: Path) -> None:
    """Stages are named after their parts now; a run made before records `stress`, `calibrate`, ..."""
    import json

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parts"]["robustness"]["stage"] = "stress"
    manifest["parts"]["label_issues_train"]["stage"] = "train_label_issues"
    manifest["warnings"] = [{"stage": "calibrate", "message": "ValueError: boom", "created": ""}]
    (path / "manifest.json").write_text(json.dumps(manifest))
    run = Run.load(path)
    assert run.manifest.parts["robustness"].stage == "robustness"
    assert run.manifest.parts["label_issues_train"].stage == "label_issues_train"
    assert [w.stage for w in run.manifest.warnings] == ["calibration"]
    assert runnable("stress").name == "robustness" and runnable("calibrate").name == "calibration"
