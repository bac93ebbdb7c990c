"""The catalog of parts and stages (`agnews.rundir.catalog`) agrees with itself and with the code."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agnews.analyses import ANALYSES
from agnews.analyses.neighbours.schema import PART as NEIGHBOURS
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.declarations import Analysis, Stage
from agnews.rundir.edit import edit_run
from agnews.rundir.files import RunError
from agnews.rundir.run import Run


def test_every_part_has_exactly_one_maker() -> None:
    made = [part for stage in CATALOG.stages.values() for part in stage.makes]
    assert sorted(made) == sorted([*CATALOG.parts, *CATALOG.families])
    assert CATALOG.maker("cross_domain/news").name == "cross_domain"
    assert CATALOG.maker("calibration").name == "calibration"
    assert CATALOG.maker("robustness").name == "robustness"


def test_every_runnable_stage_names_a_stage_function() -> None:
    for stage in CATALOG.stages.values():
        if not stage.runnable:
            assert stage.command and stage.command.startswith("agnews ")
            continue
        module, _, attribute = str(stage.function).partition(":")
        function = getattr(importlib.import_module(module), attribute)
        first, *rest = inspect.signature(function).parameters.values()
        assert first.name == "context" and all(p.default is not p.empty for p in rest), stage.name


def test_the_default_stages_can_all_run() -> None:
    defaults = CATALOG.default_stages()
    assert defaults and all(CATALOG.stages[name].runnable for name in defaults)
    with pytest.raises(RunError, match="choose from"):
        CATALOG.runnable("train")  # made by `agnews train`, not by `agnews analyze`


def toy(*stages: Stage, name: str = "toy") -> Analysis:
    return Analysis(name=name, title="Toy", parts=(), stages=stages, rank=0)


def test_a_declaration_naming_an_unknown_part_or_a_taken_one_is_refused() -> None:
    with pytest.raises(RunError, match="undeclared"):
        Catalog((*ANALYSES, toy(Stage("toy", ("no_such_part",), (), "toy", "toy", function="toy:stage"))))
    with pytest.raises(RunError, match="already have a maker"):
        Catalog((*ANALYSES, toy(Stage("toy", ("calibration",), (), "toy", "toy", function="toy:stage"))))
    with pytest.raises(RunError, match="declared twice"):
        Catalog((*ANALYSES, *ANALYSES))
    assert "toy" not in CATALOG.stages  # a catalog is built once from its list, never changed


def test_the_declarations_load_without_torch() -> None:
    """The launcher and a server of a finished run read them; neither should pay for torch."""
    code = "import sys, app, agnews.rundir.catalog; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=importlib.import_module("app").ROOT)


def test_runs_that_recorded_the_old_stage_names_read_as_today(synthetic_run: Path, tmp_path: Path) -> None:
    """Stages are named after their parts now; a run made before records `stress`, `calibrate`, ..."""
    import json

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parts"]["robustness"]["stage"] = "stress"
    manifest["parts"]["train_embeddings"] = manifest["parts"].pop("neighbours")  # the part's old name
    manifest["parts"]["train_embeddings"]["stage"] = "train_embeddings"
    manifest["parts"]["label_issues_train"]["stage"] = "train_label_issues"
    manifest["warnings"] = [{"stage": "calibrate", "message": "ValueError: boom", "created": ""}]
    (path / "manifest.json").write_text(json.dumps(manifest))
    run = Run.load(path)
    assert run.manifest.parts["robustness"].stage == "robustness"
    assert run.manifest.parts["neighbours"].stage == "neighbours" and run.get(NEIGHBOURS) is not None
    assert run.manifest.parts["label_issues_train"].stage == "label_issues_train"
    assert [w.stage for w in run.manifest.warnings] == ["calibration"]
    assert CATALOG.runnable("stress").name == "robustness"
    assert CATALOG.runnable("calibrate").name == "calibration"


def test_a_stage_whose_analysis_does_not_apply_says_why(synthetic_run: Path, tmp_path: Path) -> None:
    """Label issues of training rows need out-of-fold probabilities: 5 rows per class at least."""
    from agnews.training.stages import analyze_run

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    stats = Run.load(path).data_stats
    counts = stats.splits["train"].class_counts
    scarce = next(iter(counts))
    counts[scarce] = 3
    with edit_run(path) as edit:
        edit.write("data_stats", stats, made_from=("config",))
    failures = analyze_run(path, ("label_issues_train",), progress=False)
    assert failures["label_issues_train"] == (
        "RunError: stage label_issues_train does not apply to this run: it needs at least 5 training "
        f"rows per class; {scarce} (3) has fewer"
    )
    assert analyze_run(path, ("label_issues_test",), progress=False) == {}  # the test rows' half is held too


def test_migrate_writes_todays_names_into_a_run_that_records_older_ones(
    synthetic_run: Path, tmp_path: Path
) -> None:
    import json

    from agnews.rundir.migrate import migrate_run

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    with pytest.raises(RunError, match="already in today's layout; nothing to migrate"):
        migrate_run(path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parts"]["train_embeddings"] = manifest["parts"].pop("neighbours")
    manifest["parts"]["robustness"]["stage"] = "stress"
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert "neighbours" in migrate_run(path)
    written = json.loads((path / "manifest.json").read_text())
    assert (
        "train_embeddings" not in written["parts"] and written["parts"]["robustness"]["stage"] == "robustness"
    )
    assert Run.load(path).get(NEIGHBOURS) is not None


def test_migrate_writes_out_the_dataset_checks_an_older_run_kept_in_slices_json(
    synthetic_run: Path, tmp_path: Path
) -> None:
    """Runs made before the dataset checks had a part of their own kept them as `slices.json`'s
    `dataset` key (slices schema version 1): they load without the part, and migrate writes it."""
    import json

    from agnews.rundir.migrate import migrate_run

    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    checks = json.loads((path / "dataset_checks.json").read_text())
    older = json.loads((path / "slices.json").read_text()) | {"dataset": checks, "schema_version": 1}
    with edit_run(path) as edit:
        edit.remove("dataset_checks")
        made_from = tuple(edit.manifest.parts["slices"].made_from)
        (edit.path / "slices.json").unlink()  # a hard link to the run's own file
        (edit.path / "slices.json").write_text(json.dumps(older))
        edit.record("slices", made_from)
    old = Run.load(path)
    assert old.part("dataset_checks") is None and old.part("slices") is not None, old.warnings
    assert "dataset_checks" in migrate_run(path)
    migrated = Run.load(path)
    assert dataclasses.asdict(migrated.part("dataset_checks")) == checks
    record, source = migrated.manifest.parts["dataset_checks"], migrated.manifest.parts["slices"]
    assert record.made_from == {k: v for k, v in source.made_from.items() if k in record.made_from}
    assert set(record.made_from) == {"config", "data_stats", "predictions"}
    assert not migrated.warnings
    with pytest.raises(RunError, match="nothing to migrate"):
        migrate_run(path)
