from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from agnews.analyses.map.schema import PART as MAP
from agnews.cli import _train_parser, main
from agnews.config import TrainConfig
from agnews.rundir.catalog import CATALOG
from agnews.rundir.run import Run


def test_help_documents_every_training_setting() -> None:
    text = _train_parser("quick", CATALOG).format_help()
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text


def test_top_level_help_imports_nothing_heavy() -> None:
    code = (
        "import sys; from agnews.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'sklearn') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout
    for command in ("train", "evaluate", "analyze", "robustness", "stress", "migrate", "push"):
        assert command in result.stdout


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agnews", "--help"], capture_output=True, text=True, check=True
    )
    assert "train" in result.stdout and "evaluate" in result.stdout


def test_presets_give_defaults_and_options_override_them() -> None:
    config, options = _train_parser("distilbert", CATALOG).parse_args_into_dataclasses(
        ["--out", "x", "--epochs", "3", "--no-group-by-length", "--stages", "export,map"]
    )
    assert config.base_model == "distilbert-base-uncased" and config.learning_rate == 5e-5
    assert config.epochs == 3.0 and config.group_by_length is False
    assert options.stages == ("export", "map")


def test_bad_settings_and_unknown_stages_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--out", str(tmp_path / "r"), "--epochs", "0"]) == 2
    assert "epochs must be positive" in capsys.readouterr().err
    assert main(["train", "--preset", "huge", "--out", str(tmp_path / "r")]) == 2
    assert "unknown preset" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--out", str(tmp_path / "r"), "--stages", "export,nope"])
    assert "unknown stage 'nope'; choose from" in capsys.readouterr().err


def test_cli_reports_a_missing_data_folder_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")])
    assert code == 2
    assert "data folder not found" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_cli_reports_a_missing_base_model(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["train", "--data", str(tiny_data), "--out", str(tmp_path / "r"), "--base-model", "./no-such-model"]
    )
    assert code == 2
    assert "model folder not found" in capsys.readouterr().err


def test_evaluate_and_analyze_commands_rebuild_a_run_consistently(quick_run_copy: Path) -> None:
    """On the trained run: its stored predictions are its model's, so evaluating again changes none."""
    copy = quick_run_copy
    before = Run.load(copy)
    assert main(["evaluate", str(copy)]) == 0
    same = Run.load(copy)
    assert same.metrics.test.accuracy == pytest.approx(before.metrics.test.accuracy)
    assert same.get(MAP) is not None and same.warnings == []  # same predictions: nothing stale

    assert main(["evaluate", str(copy), "--max-test-samples", "40"]) == 0
    fewer = Run.load(copy)
    assert len(fewer.predictions) == 40 and fewer.metrics.test.rows == 40
    assert fewer.get(MAP) is None and fewer.embeddings is None and fewer.baseline is None
    assert any("made from an older predictions" in w and "--stages embed" in w for w in fewer.warnings)

    assert main(["analyze", str(copy)]) == 0  # re-makes exactly the stale stages
    rebuilt = Run.load(copy)
    assert rebuilt.warnings == []
    assert rebuilt.get(MAP) is not None and rebuilt.get(MAP) is not None
    assert rebuilt.get(MAP).coordinates["row_id"].tolist() == rebuilt.predictions["row_id"].tolist()
    assert set(rebuilt.get(MAP).info.quality) == {"base", "finetuned"}
    assert rebuilt.baseline is not None and rebuilt.baseline.rows == 40


def test_building_the_train_parser_leaves_the_config_schema_intact(synthetic_run: Path) -> None:
    """HfArgumentParser rewrites dataclass field types in place; a run must still load afterwards."""
    before = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    _train_parser("distilbert", CATALOG)
    assert {f.name: f.type for f in dataclasses.fields(TrainConfig)} == before
    config = dataclasses.replace(Run.load(synthetic_run).config.train, dropout=None, max_train_samples=None)
    from agnews.rundir.parts import parse

    assert parse(TrainConfig, dataclasses.asdict(config), "config").dropout is None


@pytest.mark.parametrize("command", ["train", "tuning"])
def test_an_unknown_option_is_a_usage_error_not_a_traceback(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--out", str(tmp_path / "run"), "--no-such-option", "7"])
    assert exit_info.value.code == 2
    said = capsys.readouterr().err
    assert f"agnews {command}: error: unrecognized arguments: --no-such-option 7" in said
    assert "Traceback" not in said and not (tmp_path / "run").exists()
