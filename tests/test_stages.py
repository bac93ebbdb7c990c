"""The stage declarations (`agnews.rundir.stages`) agree with the part registry and with the code."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from agnews.rundir import RunError
from agnews.rundir.parts import FAMILIES, PARTS
from agnews.rundir.stages import STAGES, Stage, declare, default_stages, maker, runnable


def test_every_part_has_exactly_one_maker() -> None:
    made = [part for stage in STAGES.values() for part in stage.makes]
    assert sorted(made) == sorted([*PARTS, *FAMILIES])
    assert maker("cross_domain/news").name == "cross_domain"
    assert maker("calibration").name == "calibrate"


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
