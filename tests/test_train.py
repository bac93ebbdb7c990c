"""Real (tiny) training runs: DistilBERT-shaped and MiniLM, interruption and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from transformers import TrainerCallback

from agnews.analyses.map.schema import PART as MAP
from agnews.config import ConfigError, TrainConfig, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.files import pickle_files
from agnews.rundir.run import Run
from agnews.training import train
from agnews.training.train import (
    freeze_bottom,
    remove_checkpoints,
    resolve_precision,
    set_dropout,
    train_run,
    training_attention,
)

# Behaviour that depends on the CPU's instruction set: .ci/run runs these again capped to AVX2.
pytestmark = pytest.mark.isa


def _tiny_config(data: Path, base: Path, **overrides: object) -> TrainConfig:
    values = {
        "data": str(data),
        "base_model": str(base),
        "epochs": 1.0,
        "batch_size": 16,
        "max_length": 32,
        "learning_rate": 1e-3,
    }
    return preset_config("distilbert", **{**values, **overrides})


def test_freeze_layers_stops_gradients_below_the_top(tiny_distilbert: Path) -> None:
    from agnews.models import load_classifier

    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES)
    freeze_bottom(model, 1)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert any(name.startswith("distilbert.embeddings") for name in frozen)
    assert any(".layer.0." in name for name in frozen)
    assert not any(
        ".layer.1." in name or name.startswith(("classifier", "pre_classifier")) for name in frozen
    )
    with pytest.raises(ConfigError, match="has 2 encoder layers"):
        freeze_bottom(model, 3)


def test_freeze_embeddings_alone_leaves_every_layer_trainable(tiny_distilbert: Path) -> None:
    from agnews.models import load_classifier

    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES)
    freeze_bottom(model, 0, embeddings=True)
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    assert frozen and all(name.startswith("distilbert.embeddings") for name in frozen)


def test_the_quick_preset_freezes_the_lower_layers_only_where_training_runs_in_fp32_on_a_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    quick = preset_config("quick")
    assert quick.freeze_layers is None  # resolved per machine
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    # The lower half of whatever depth the model has, never more layers than it has.
    assert [train.resolve_frozen_layers(quick.freeze_layers, "no", d) for d in (1, 2, 3, 6, 12)] == [
        0, 1, 1, 3, 6
    ]  # fmt: skip
    assert train.resolve_frozen_layers(quick.freeze_layers, "bf16", 6) == 0
    assert train.resolve_frozen_layers(1, "no", 6) == 1  # a setting given is a setting kept
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert train.resolve_frozen_layers(None, "no", 6) == 0
    assert preset_config("distilbert").freeze_layers == 0


def test_dropout_override_reaches_every_dropout_layer(tiny_distilbert: Path) -> None:
    import torch

    from agnews.models import load_classifier

    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Dropout)]
    own = [m.p for m in layers]
    set_dropout(model, None)
    assert [m.p for m in layers] == own
    set_dropout(model, 0.0)
    assert len(layers) > 4 and all(m.p == 0.0 for m in layers)
    with pytest.raises(ConfigError, match="dropout must be in"):
        TrainConfig(dropout=1.0)


def test_auto_precision_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for native, expected in ((True, "bf16"), (False, "no")):
        monkeypatch.setattr(train, "cpu_has_native_bf16", lambda native=native: native)
        assert resolve_precision("auto") == expected
    assert resolve_precision("no") == "no"
    with pytest.raises(ConfigError, match="fp16 needs a CUDA GPU"):
        resolve_precision("fp16")
    # bf16 on the CPU trains with eager attention (SDPA's bf16 backward is slow there); fp32 keeps SDPA.
    assert training_attention("bf16") == "eager"
    assert training_attention("no") is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert training_attention("bf16") is None


def test_only_training_checkpoints_are_removed_from_a_checkpoint_dir(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-10").mkdir()
    (tmp_path / "agnews_train_config.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    remove_checkpoints(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_config_rejects_bad_and_unknown_settings() -> None:
    with pytest.raises(ConfigError, match="learning_rate must be positive"):
        TrainConfig(learning_rate=0)
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['learnig_rate'\]"):
        TrainConfig.from_dict({"learnig_rate": 1e-4})
    with pytest.raises(ConfigError, match="unknown preset"):
        preset_config("huge")
    with pytest.raises(ConfigError, match="epochs must be"):
        TrainConfig.from_dict({"epochs": "2"})
    with pytest.raises(ConfigError, match="group_by_length must be"):
        TrainConfig.from_dict({"group_by_length": 1})
    assert TrainConfig.from_dict({"epochs": 3}).epochs == 3


@pytest.mark.slow
def test_distilbert_code_path_trains_and_writes_a_loadable_run(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    out = train_run(_tiny_config(tiny_data, tiny_distilbert), tmp_path / "runs" / "tiny", progress=False)
    run = Run.load(out)
    assert run.warnings == []
    assert run.config.train.base_model == str(tiny_distilbert)
    assert len(run.predictions) == 40
    assert run.metrics.test.rows == 40
    assert sum(map(sum, run.metrics.test.confusion_matrix)) == 40
    assert run.embeddings is not None and run.embeddings["base_cls"].shape == (40, 32)
    assert run.get(MAP) is not None and len(run.get(MAP).coordinates) == 40
    assert not pickle_files(out)
    # Checkpoints are local training state, removed after success, never inside the run.
    assert not (out.parent / ".tiny.checkpoints").exists()
    assert [p.name for p in out.parent.iterdir() if not p.name.endswith(".lock")] == ["tiny"]


# torch capped to the kernels of an AVX2-only CPU (no AVX-512, no bf16), as `.ci/run` also runs the
# `isa` tests.
AVX2_CAPS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


@pytest.mark.slow
def test_the_quick_preset_trains_a_two_layer_model_on_an_avx2_only_cpu(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    """Under the AVX2 caps the quick preset resolves to fp32 with the lower half of the layers frozen:
    one of two here (a fixed count once asked a 2-layer model for 3), recorded in the run."""
    command = [
        sys.executable, "-m", "agnews", "train", "--preset", "quick", "--data", str(tiny_data),
        "--base-model", str(tiny_distilbert), "--out", str(tmp_path / "run"), "--epochs", "1",
        "--max-test-samples", "8", "--stages", "",
    ]  # fmt: skip
    env = {**os.environ, **AVX2_CAPS, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    training = Run.load(tmp_path / "run").training
    assert (training.precision, training.frozen_layers) == ("no", 1)


def test_minilm_run_serves_class_names_through_a_plain_pipeline(quick_run: Path) -> None:
    run = Run.load(quick_run)
    assert run.config.data.rows["test"] == 120
    stored = run.predictions
    assert run.metrics.test.accuracy == pytest.approx((stored["pred"] == stored["label"]).mean())
    assert (stored[[f"prob_{i}" for i in range(4)]].to_numpy().argmax(axis=1) == stored["pred"]).all()
    code = (
        "from transformers import pipeline; import sys;"
        f"p = pipeline('text-classification', model={str(run.model_path)!r});"
        "print(p('Stocks rally as oil prices fall')[0]['label'])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] in LABELS


class _InterruptAfterFirstSave(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_interrupted_run_leaves_nothing_under_its_name_and_resumes(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    config = _tiny_config(tiny_data, tiny_distilbert, epochs=2.0)
    out = tmp_path / "runs" / "resumable"
    with pytest.raises(KeyboardInterrupt):
        train_run(config, out, progress=False, stages=(), callbacks=[_InterruptAfterFirstSave()])
    assert not out.exists()
    checkpoints = out.parent / ".resumable.checkpoints"
    saved = sorted(checkpoints.glob("checkpoint-*"))
    assert len(saved) == 1
    first_epoch_steps = int(saved[0].name.split("-")[1])

    with pytest.raises(ConfigError, match="pass --resume"):
        train_run(config, out, progress=False, stages=())
    with pytest.raises(ConfigError, match="settings differ"):
        train_run(_tiny_config(tiny_data, tiny_distilbert, epochs=3.0), out, resume=True, stages=())
    original = (tiny_data / "train.csv").read_text()
    (tiny_data / "train.csv").write_text(original.replace("news 1", "news one", 1))
    with pytest.raises(ConfigError, match="the data differs"):
        train_run(config, out, resume=True, progress=False, stages=())
    (tiny_data / "train.csv").write_text(original)

    train_run(config, out, resume=True, progress=False, stages=())
    run = Run.load(out)
    log = json.loads((out / "train_log.json").read_text())["log_history"]
    steps = [entry["step"] for entry in log if "eval_accuracy" in entry]
    assert steps[:2] == [first_epoch_steps, 2 * first_epoch_steps]
    assert run.metrics.test.rows == 40


def test_existing_run_is_not_overwritten_by_accident(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path
) -> None:
    from agnews.rundir.files import RunError

    out = tmp_path / "taken"
    out.mkdir()
    with pytest.raises(RunError, match="already exists"):
        train_run(_tiny_config(tiny_data, tiny_distilbert), out, progress=False)


def test_resume_passes_over_a_checkpoint_cut_short_while_saving(tmp_path: Path) -> None:
    from agnews.training.train import last_complete_checkpoint

    for step, complete in ((10, True), (20, True), (30, False)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if complete:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-20")
    assert last_complete_checkpoint(tmp_path / "absent") is None


@pytest.mark.slow
def test_a_failing_optional_stage_keeps_the_training_and_names_itself(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ONNX check fails (tolerance below any real difference): the run keeps its model, metrics
    and predictions, lacks only the serving part, and says which stage failed and how to retry."""
    from agnews.training import onnx_export

    monkeypatch.setattr(onnx_export, "EXPORT_RELATIVE_TOLERANCE", -1.0)
    out = train_run(
        _tiny_config(tiny_data, tiny_distilbert), tmp_path / "run", stages=("export",), progress=False
    )
    run = Run.load(out)
    assert run.metrics.test.rows == 40 and len(run.predictions) == 40
    assert run.load_classifier() is not None
    assert not run.has("serving") and not (out / "serving.onnx").exists()
    assert [w.stage for w in run.manifest.warnings] == ["export"]
    assert any(w.startswith("stage export failed: RunError: ONNX export disagrees") for w in run.warnings)

    monkeypatch.undo()  # fixed: re-running clears the warning
    from agnews.training.stages import analyze_run

    assert analyze_run(out, ("export",), progress=False) == {}
    fixed = Run.load(out)
    assert fixed.has("serving") and fixed.warnings == []


def test_quick_means_quick_whatever_the_source(tmp_path: Path) -> None:
    """On a source as large as the Hub's (here 8,000 rows) the quick preset takes the offline budget."""
    from helpers import synthetic_rows, write_original_csv

    from agnews.training.data import load_config_data

    (tmp_path / "big").mkdir()
    write_original_csv(tmp_path / "big" / "train.csv", synthetic_rows(2000))
    write_original_csv(tmp_path / "big" / "test.csv", synthetic_rows(10, offset=5000))
    splits = load_config_data(preset_config("quick", data=str(tmp_path / "big"))).splits
    assert (len(splits["train"]), len(splits["validation"])) == (4500, 500)
    counts = np.bincount(splits["train"]["label"], minlength=4)
    assert counts.min() >= 1124 and counts.max() <= 1126  # stratified
