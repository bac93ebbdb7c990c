"""Distillation (`agnews train --teacher RUN`): the teacher's logits kept in the teacher's run and
reused, a teacher of other rows refused, the loss, and the card that says where the student came from."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agnews.config import ConfigError, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.hub.card import build_model_card
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG
from agnews.rundir.run import Run
from agnews.training import distill
from agnews.training.train import train_run


def _config(data: Path, base: Path, **overrides: object) -> object:
    values = {"data": str(data), "base_model": str(base), "epochs": 1.0, "batch_size": 16, "max_length": 32}
    return preset_config("distilbert", **{**values, "max_test_samples": 8, **overrides})


@pytest.mark.slow
def test_a_student_learns_from_a_teacher_whose_logits_are_kept_and_reused(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher = train_run(_config(tiny_data, tiny_distilbert), tmp_path / "teacher", stages=(), progress=False)
    student = Run.load(
        train_run(
            _config(tiny_data, tiny_distilbert, teacher=str(teacher), augment="prefix", seed=3),
            tmp_path / "student",
            stages=(),
            progress=False,
        )
    )
    info = student.training.teacher
    assert info is not None and info.run == "teacher" and info.temperature == 2.0
    kept = Run.load(teacher)
    assert kept.has(info.logits_part) and info.logits_part.startswith(f"{parts.TEACHER_LOGITS}/")
    stored = (teacher / CATALOG.part(info.logits_part).files[0]).stat().st_size
    assert stored > 0

    def no_teacher_pass(*args: object, **kwargs: object) -> None:
        raise AssertionError("the teacher ran again instead of its kept logits being read")

    monkeypatch.setattr(distill, "infer", no_teacher_pass)
    again = train_run(
        _config(tiny_data, tiny_distilbert, teacher=str(teacher), augment="prefix", seed=3),
        tmp_path / "student-again",
        stages=(),
        progress=False,
    )
    assert Run.load(again).training.teacher.logits_part == info.logits_part

    card = str(build_model_card(student, "someone/agnews-student"))
    assert "**Distilled** from the agnews run `teacher`" in card
    assert str(tmp_path) not in card.split("## Training")[1].split("### Hyperparameters")[0]


@pytest.mark.slow
def test_a_teacher_of_other_rows_is_refused(tiny_data: Path, tiny_distilbert: Path, tmp_path: Path) -> None:
    teacher = train_run(
        _config(tiny_data, tiny_distilbert, split_seed=7), tmp_path / "teacher", stages=(), progress=False
    )
    with pytest.raises(ConfigError, match="train and validation rows differ from this run's"):
        train_run(_config(tiny_data, tiny_distilbert, teacher=str(teacher)), tmp_path / "student", stages=())
    with pytest.raises(ConfigError, match="--teacher"):
        train_run(
            _config(tiny_data, tiny_distilbert, teacher=str(tmp_path / "nothing")), tmp_path / "s2", stages=()
        )
    with pytest.raises(ConfigError, match="label_smoothing does not apply"):
        _config(tiny_data, tiny_distilbert, teacher=str(teacher), label_smoothing=0.1)


def test_the_loss_mixes_the_softened_teacher_and_the_labels(tiny_distilbert: Path) -> None:
    from agnews.models import load_classifier

    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES).eval()
    inputs = {"input_ids": torch.tensor([[101, 2000, 102], [101, 3000, 102]]), "labels": torch.tensor([0, 2])}
    teacher = torch.tensor([[3.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 1.0]])
    with torch.no_grad():
        outputs = model(**inputs)
    t = 2.0
    soft = torch.nn.functional.kl_div(
        torch.log_softmax(outputs.logits / t, -1), torch.softmax(teacher / t, -1), reduction="batchmean"
    )

    def loss(alpha: float) -> float:
        trainer = distill.DistillationTrainer.__new__(distill.DistillationTrainer)
        trainer.temperature, trainer.alpha = t, alpha
        with torch.no_grad():
            return float(trainer.compute_loss(model, {**inputs, distill.TEACHER_COLUMN: teacher}))

    assert loss(0.0) == pytest.approx(float(outputs.loss), rel=1e-5)
    assert loss(1.0) == pytest.approx(float(soft * t * t), rel=1e-5)
    assert loss(0.5) == pytest.approx(0.5 * float(soft * t * t) + 0.5 * float(outputs.loss), rel=1e-5)
