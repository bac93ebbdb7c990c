from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from agnews.cli import build_parser, main
from agnews.train import TrainConfig


def test_help_documents_every_training_setting() -> None:
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text


def test_python_dash_m_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agnews", "--help"], capture_output=True, text=True, check=True
    )
    assert "train" in result.stdout and "evaluate" in result.stdout


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


def test_evaluate_and_embed_commands_rebuild_a_run_consistently(quick_run: Path, tmp_path: Path) -> None:
    import shutil

    from agnews.run import Run

    copy = tmp_path / "run"
    shutil.copytree(quick_run, copy)
    before = Run.load(copy)
    assert main(["evaluate", str(copy)]) == 0
    same = Run.load(copy)
    assert same.metrics["test"]["accuracy"] == pytest.approx(before.metrics["test"]["accuracy"])
    assert same.map_coords is not None  # same test rows: the map still lines up

    assert main(["evaluate", str(copy), "--max-test-samples", "40"]) == 0
    fewer = Run.load(copy)
    assert len(fewer.predictions) == 40 and fewer.config["data"]["rows"]["test"] == 40
    assert fewer.map_coords is None and "maps" not in fewer.metrics

    assert main(["embed", str(copy)]) == 0  # the map is rebuilt on the rows now predicted
    rebuilt = Run.load(copy)
    assert rebuilt.map_coords is not None
    assert rebuilt.map_coords["row_id"].tolist() == rebuilt.predictions["row_id"].tolist()
    assert set(rebuilt.metrics["maps"]) == {"base", "finetuned"}
