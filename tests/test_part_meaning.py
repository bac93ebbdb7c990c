"""Parts validated for meaning, not only syntax (issue 30, item 8): valid JSON of the wrong shape, a NaN
rate, a negative count or probabilities that are no distribution are refused on reading, naming the
file and the key; the app, `agnews report` and `agnews analyze` then say so instead of a traceback."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import ROOT, load_script

from agnews.analyses.cross_domain.schema import CrossDomainMetrics
from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.files import RunError
from agnews.rundir.parts import Baseline, Metrics, check_predictions, parse
from agnews.rundir.run import Run

CLASSES = list(LABELS)


def _test_metrics() -> dict[str, Any]:
    """A consistent `metrics.json` for 8 test rows, two per class, six right."""
    matrix = [[2 if i == j else 0 for j in range(len(CLASSES))] for i in range(len(CLASSES))]
    matrix[0] = [0, 1, 1, 0]
    scores = {"precision": 0.75, "recall": 0.75, "f1": 0.75, "support": 2}
    return {
        "test": {
            "rows": 8,
            "accuracy": 0.75,
            "f1_weighted": 0.7,
            "f1_macro": 0.7,
            "per_class": {name: dict(scores) for name in CLASSES},
            "confusion_matrix": matrix,
            "confusion_matrix_labels": CLASSES,
        },
        "test_origin": "test.csv",
        "test_hash": "0" * 64,
        "seconds": 1.0,
        "samples_per_second": 8.0,
    }


def test_a_consistent_metrics_part_is_read() -> None:
    assert parse(Metrics, _test_metrics(), "metrics.json").test.accuracy == 0.75


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(test: dict[str, Any]) -> None:
        test[key] = value

    return change


def _first_count(value: int) -> Callable[[dict[str, Any]], None]:
    def change(test: dict[str, Any]) -> None:
        test["confusion_matrix"][0][0] = value

    return change


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            _set("confusion_matrix", [[1, 2, 3], [4, 5, 6]]),
            r"metrics.json: key test.confusion_matrix: 2 rows of 3 columns; expected 4 rows",
        ),
        (
            _set("confusion_matrix", [[1, 0, 0, 0], [0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
            r"key test.confusion_matrix: 4 rows of 3 or 4 columns",
        ),
        (_set("accuracy", float("nan")), r"key test.accuracy: .*less than or equal to 1 \(got nan\)"),
        (_set("f1_macro", 1.5), r"key test.f1_macro: .*less than or equal to 1 \(got 1.5\)"),
        (_first_count(-3), r"key test.confusion_matrix.0.0: .*greater than or equal to 0 \(got -3\)"),
        (_first_count(0.5), r"key test.confusion_matrix.0.0: .*valid integer"),
        (_set("rows", -1), r"key test.rows: .*greater than or equal to 0"),
        (
            _set("confusion_matrix_labels", ["World", "World", "Business", "Sci/Tech"]),
            r"key test.confusion_matrix_labels: classes .* are not two or more distinct classes",
        ),
        (
            lambda test: test["per_class"].pop("World"),
            r"key test.per_class: scores for \['Business', 'Sci/Tech', 'Sports'\]",
        ),
        (
            lambda test: test["per_class"]["Sports"].update(recall=float("inf")),
            r"key test.per_class.Sports.recall: .*\(got inf\)",
        ),
    ],
)
def test_metrics_of_no_meaning_are_refused_naming_the_key(
    damage: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(_test_metrics())
    damage(data["test"])
    with pytest.raises(RunError, match=message):
        parse(Metrics, data, "metrics.json")


def test_rates_of_optional_parts_are_checked_too() -> None:
    baseline = {"method": "lr", "train_rows": 10, "rows": 8, "accuracy": 0.5, "f1_macro": 0.5}
    assert parse(Baseline, {**baseline, "f1_weighted": 0.5}, "baseline.json").accuracy == 0.5
    with pytest.raises(RunError, match=r"baseline.json: key f1_weighted: .*\(got -0.1\)"):
        parse(Baseline, {**baseline, "f1_weighted": -0.1}, "baseline.json")


def _domain_scores(rows: list[str]) -> dict[str, Any]:
    scores = {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    return {
        "accuracy": 1.0,
        "f1_macro": 1.0,
        "per_class": {name: dict(scores) for name in rows},
        "confusion_matrix": [[int(name == column) for column in CLASSES] for name in rows],
        "confusion_rows": rows,
        "confusion_columns": CLASSES,
    }


def _cross_domain(model: dict[str, Any], mapped: list[str]) -> dict[str, Any]:
    return {
        "name": "other",
        "source": "/data/other.csv",
        "source_sha256": "0" * 64,
        "rows_read": 2,
        "text_columns": ["text"],
        "label_column": "label",
        "label_map": "a=Sports,b=Business",
        "resolved_map": {"a": "Sports", "b": "Business"},
        "mapped_classes": mapped,
        "rows": 2,
        "skipped_unmapped": {},
        "skipped_empty_text": 0,
        "model": model,
        "baseline": None,
        "baseline_method": "tfidf",
        "baseline_train_rows": 0,
        "seconds": {},
    }


def test_a_cross_domain_confusion_must_fit_its_mapped_classes() -> None:
    mapped = ["Sports", "Business"]
    assert parse(CrossDomainMetrics, _cross_domain(_domain_scores(mapped), mapped), "m.json").rows == 2
    short = _domain_scores(mapped)
    short["confusion_matrix"] = short["confusion_matrix"][:1]
    with pytest.raises(
        RunError, match=r"m.json: key model.confusion_matrix: 1 rows of 4 columns; expected 2"
    ):
        parse(CrossDomainMetrics, _cross_domain(short, mapped), "m.json")
    with pytest.raises(RunError, match=r"key model.confusion_rows: true classes \['Sports'\]; the part maps"):
        parse(CrossDomainMetrics, _cross_domain(_domain_scores(["Sports"]), mapped), "m.json")


def _predictions(probs: list[list[float]], labels: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"row_id": range(10, 10 + len(probs)), "label": labels})
    frame["pred"] = [max(range(len(row)), key=row.__getitem__) for row in probs]
    for i in range(len(CLASSES)):
        frame[f"prob_{i}"] = [row[i] for row in probs]
    return frame


def test_stored_probabilities_must_be_a_distribution_per_row() -> None:
    check_predictions(Path("p.parquet"), _predictions([[0.7, 0.1, 0.1, 0.1], [0.25] * 4], [0, 1]))
    with pytest.raises(
        RunError, match=r"p.parquet: row_id 11: prob_0..prob_3 \[0.5, 0.5, 0.5, 0.5\] are not"
    ):
        check_predictions(Path("p.parquet"), _predictions([[0.7, 0.1, 0.1, 0.1], [0.5] * 4], [0, 1]))
    with pytest.raises(RunError, match=r"row_id 10: prob_0..prob_3 \[nan, "):
        check_predictions(Path("p.parquet"), _predictions([[float("nan"), 0.5, 0.5, 0.0]], [0]))
    with pytest.raises(RunError, match=r"row_id 11: label 7 is not a class id 0-3"):
        check_predictions(Path("p.parquet"), _predictions([[0.25] * 4, [0.25] * 4], [0, 7]))


# ---- a real run damaged on disk: what Run.load, the app, `agnews report` and `agnews analyze` say ----


def _edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _wrong_shape(metrics: dict[str, Any]) -> None:
    metrics["test"]["confusion_matrix"] = [row[:3] for row in metrics["test"]["confusion_matrix"][:2]]


WRONG_SHAPE = r"metrics.json: key test.confusion_matrix: 2 rows of 3 columns; expected 4 rows"


def test_a_metrics_matrix_of_the_wrong_shape_fails_the_load(run_copy: Path) -> None:
    _edit_json(run_copy / "metrics.json", _wrong_shape)
    with pytest.raises(RunError, match=WRONG_SHAPE):
        Run.load(run_copy)


def test_a_nan_accuracy_fails_the_load(run_copy: Path) -> None:
    _edit_json(run_copy / "metrics.json", lambda metrics: metrics["test"].update(accuracy=float("nan")))
    with pytest.raises(RunError, match=r"metrics.json: key test.accuracy: .*\(got nan\).*required"):
        Run.load(run_copy)


def test_probabilities_that_are_no_distribution_fail_the_load(run_copy: Path) -> None:
    frame = pd.read_parquet(run_copy / "predictions.parquet")
    frame.loc[3, "prob_0"] = 3.0
    frame.to_parquet(run_copy / "predictions.parquet", index=False)
    with pytest.raises(RunError, match=rf"predictions.parquet: row_id {frame['row_id'][3]}: prob_0..prob_3"):
        Run.load(run_copy)


def test_an_optional_part_of_no_meaning_is_named_and_skipped(run_copy: Path) -> None:
    _edit_json(run_copy / "baseline.json", lambda baseline: baseline.update(accuracy=7))
    run = Run.load(run_copy)
    assert run.baseline is None and not run.has("baseline")
    assert any(
        w.startswith("baseline.json: ignored (") and "key accuracy" in w and "(got 7)" in w
        for w in run.warnings
    )


def test_report_and_analyze_name_the_damaged_part_instead_of_a_traceback(
    run_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_json(run_copy / "metrics.json", _wrong_shape)
    out = tmp_path / "report.html"
    assert main(["report", str(run_copy), "--out", str(out)]) == 2
    assert not out.exists()
    captured = capsys.readouterr()
    assert captured.err.startswith("agnews report: error: ") and "Traceback" not in captured.err
    assert WRONG_SHAPE.replace("\\", "")[:40] in captured.err.replace(str(run_copy) + "/", "")
    assert main(["analyze", str(run_copy)]) != 0
    captured = capsys.readouterr()
    assert "stages done" not in captured.out
    assert captured.err.startswith("agnews analyze: error: ") and "key test.confusion_matrix" in captured.err


def test_the_app_names_the_damaged_part_instead_of_a_traceback(
    run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit_json(run_copy / "metrics.json", _wrong_shape)
    launcher = load_script(ROOT / "app.py", "agnews_app_launcher")
    assert launcher.main(["--run", str(run_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "key test.confusion_matrix" in err and "Traceback" not in err
