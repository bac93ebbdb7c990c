"""`agnews tuning` (also `agnews tune`): the search on validation, its noise, resuming a study, and
the part it leaves."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from agnews.analyses.tuning import command
from agnews.analyses.tuning import present as tuning
from agnews.analyses.tuning import stage as tune
from agnews.analyses.tuning.schema import PART
from agnews.cli import main
from agnews.config import preset_config
from agnews.rundir.run import Run


def _base(data: Path, base: Path) -> object:
    return preset_config(
        "distilbert", data=str(data), base_model=str(base), batch_size=16, max_length=32, max_test_samples=8
    )


@pytest.mark.slow
def test_an_interrupted_search_continues_and_the_run_records_it(
    tiny_data: Path, tiny_distilbert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[tuple[float, int]] = []
    real_score = tune.validation_accuracy

    def counting(config: object, scratch: Path) -> float:
        scored.append((config.learning_rate, config.seed))  # type: ignore[attr-defined]
        return real_score(config, scratch)  # type: ignore[arg-type]

    monkeypatch.setattr(tune, "validation_accuracy", counting)
    out = tmp_path / "runs" / "tuned"
    real_train = tune.train_run

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(tune, "train_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tune.tune(_base(tiny_data, tiny_distilbert), out, trials=1, seeds=(1,), progress=False)
    assert tune.study_path(out).is_file() and not out.exists()
    # The preset's settings twice (other seeds the second time), then one searched trial.
    assert len(scored) == 3 and scored[0][0] == scored[1][0] and scored[0][1] != scored[1][1]

    # The final run without the default analysis stages: what is checked here is the search and the
    # part it leaves, not the stages (tested on their own), which would cost more than the search.
    monkeypatch.setattr(tune, "train_run", functools.partial(real_train, stages=()))
    path = tune.tune(_base(tiny_data, tiny_distilbert), out, trials=2, seeds=(1,), progress=False)
    assert len(scored) == 4  # only the trial still missing ran
    run = Run.load(path)
    report = run.get(PART)
    assert report is not None and len(report.trials) == 4
    assert [t.role for t in report.trials] == ["noise", "noise", "search", "search"]
    assert report.noise == pytest.approx(abs(report.trials[0].value - report.trials[1].value))
    best = next(t for t in report.trials if t.number == report.best_trial)
    assert best.value == report.best_value == max(t.value for t in report.trials if t.value is not None)
    assert run.config.train.learning_rate == pytest.approx(best.params["learning_rate"])
    assert not list(out.parent.glob(".tune-*"))  # the trials' scratch checkpoints are gone

    # The Tuning tab draws it from the part alone.
    text = tuning.summary(report)
    assert f"**Best: trial {best.number}**" in text and "scored twice" in text
    assert len(tuning.trials_table(report)) == 4
    from agnews.hub.card import build_model_card

    assert "Chosen by `agnews tuning` (Optuna): 4 trials" in str(build_model_card(run, "someone/tuned"))
    history = tuning.tuning_history(report)
    assert [len(trace.x) for trace in history.data] == [2, 2, 4]  # noise, search, best so far


def test_the_command_passes_its_options_and_names_its_study(
    tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    called: dict[str, object] = {}

    def fake_tune(config: object, out: Path, **options: object) -> Path:
        called.update(options, config=config, out=out)
        return out

    monkeypatch.setattr(tune, "tune", fake_tune)
    monkeypatch.setattr(command, "print_test_summary", lambda path, catalog: None)
    out = tmp_path / "t"
    options = ["--data", str(tiny_data), "--learning-rate", "5e-5", "--out", str(out), "--trials", "7"]
    assert main(["tuning", *options, "--timeout", "60", "--trial-seeds", "3", "4"]) == 0
    assert called["trials"] == 7 and called["timeout"] == 60 and called["seeds"] == (3, 4)
    assert called["config"].learning_rate == 5e-5 and called["config"].base_model == "minilm"  # type: ignore[attr-defined]
    assert f"study: {tmp_path / '.t.tune.db'}" in capsys.readouterr().out


def test_the_old_command_name_still_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    assert "Search the training recipe on validation" in capsys.readouterr().out
