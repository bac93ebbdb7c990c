"""notebooks/walkthrough.ipynb: committed without outputs, and run top to bottom by a real Jupyter
kernel (nbclient, the `python3` kernel of this interpreter) on a small slice of the shared data.

Parameters are injected the papermill way: a cell tagged `injected-parameters`, inserted after the
cell tagged `parameters`, sets tiny row caps and puts the run and the upload folder in `tmp_path`;
the notebook's own cells are executed as committed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import ROOT
from nbclient import NotebookClient

from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.run import Run

NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"
# The smallest slice that still trains, maps (UMAP wants more than its 15 neighbours) and flags label
# issues: about a minute on 2 shared cores, most of it the training cell.
TINY = {"TRAIN_ROWS": 96, "VALIDATION_ROWS": 32, "TEST_ROWS": 80, "EPOCHS": 1.0}
CELL_TIMEOUT = 300  # seconds any one cell may take
PLOTLY = "application/vnd.plotly.v1+json"
# The cells that draw Plotly figures, and how many each draws.
FIGURES = {
    "class-distribution": 2,
    "umap": 2,
    "confusion-matrix": 1,
    "finetuned-map": 2,
    "calibration": 1,
    "slices": 1,
}
# What the notebook's `STAGES` make, and parts of default stages it leaves out to stay quick.
MADE = ("calibration", "label_issues_test", "slices", "dataset_checks", "embeddings", "baseline", "map")
LEFT_OUT = ("serving", "robustness", "label_issues_train", "neighbours")


def read_notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def parameters_index(notebook: nbformat.NotebookNode) -> int:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged `parameters`, found {len(tagged)}"
    return tagged[0]


def cell(notebook: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.get("id") == cell_id)


def stdout(code_cell: nbformat.NotebookNode) -> str:
    return "".join(o.text for o in code_cell.outputs if o.output_type == "stream" and o.name == "stdout")


def figures(code_cell: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [o.data[PLOTLY] for o in code_cell.outputs if PLOTLY in o.get("data", {})]


def test_the_notebook_is_committed_without_outputs() -> None:
    notebook = read_notebook()
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert parameters_index(notebook) == 1 and notebook.cells[1].cell_type == "code"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    executed = [c.id for c in code if c.outputs or c.execution_count is not None or "execution" in c.metadata]
    assert executed == [], f"cells committed with outputs or execution records: {executed}"
    assert set(FIGURES) <= {c.id for c in code}


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_on_a_small_slice(shared_data: Path, tmp_path: Path) -> None:
    notebook = read_notebook()
    run_dir, upload_dir = tmp_path / "run", tmp_path / "upload"
    values = {**TINY, "DATA": str(shared_data), "RUN_DIR": str(run_dir), "UPLOAD_DIR": str(upload_dir)}
    injected = nbformat.v4.new_code_cell(
        "\n".join(f"{name} = {value!r}" for name, value in values.items()),
        metadata={"tags": ["injected-parameters"]},
    )
    probe = nbformat.v4.new_code_cell("import sys\n\nprint(sys.prefix)", id="kernel-probe")
    at = parameters_index(notebook) + 1
    notebook.cells[at:at] = [injected, probe]
    before = sorted(NOTEBOOK.parent.iterdir())

    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    started = time.perf_counter()
    client.execute()  # a failing cell raises CellExecutionError with its traceback
    seconds = time.perf_counter() - started
    print(f"notebook executed in {seconds:.0f} s")

    # The kernel is this interpreter's (the kernelspec `python3` of the venv running the tests).
    assert stdout(cell(notebook, "kernel-probe")).strip() == sys.prefix

    run = Run.load(run_dir)
    test = run.metrics.test
    assert isinstance(test.accuracy, float) and 0.0 <= test.accuracy <= 1.0
    assert test.rows == TINY["TEST_ROWS"] and len(run.predictions) == TINY["TEST_ROWS"]
    assert run.manifest.warnings == [], "a stage the notebook asked for failed"
    assert all(run.has(part) for part in MADE) and not any(run.has(part) for part in LEFT_OUT)

    for cell_id, count in FIGURES.items():
        assert len(figures(cell(notebook, cell_id))) == count, f"cell {cell_id} drew no figure"
    (confusion,) = figures(cell(notebook, "confusion-matrix"))
    heatmap = confusion["data"][0]
    assert heatmap["type"] == "heatmap" and heatmap["x"] == list(LABELS)
    drawn = [[int(text.split("<br>")[0]) for text in row] for row in heatmap["text"]]
    assert drawn == test.confusion_matrix

    metrics_html = "".join(o.data.get("text/html", "") for o in cell(notebook, "metrics").outputs)
    assert "weighted F1" in metrics_html and "frozen base + logistic regression" in metrics_html
    classified = stdout(cell(notebook, "pipeline")).splitlines()
    assert len(classified) == 4 and all(line.split()[0] in LABELS for line in classified)

    for name in ("README.md", "config.json", "model.safetensors", "report.html", "agnews_run/manifest.json"):
        assert (upload_dir / name).is_file(), f"the push dry run wrote no {name}"
    assert "USER/agnews-minilm" in (upload_dir / "README.md").read_text()
    assert sorted(NOTEBOOK.parent.iterdir()) == before, "the notebook wrote into notebooks/"
