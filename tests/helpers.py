"""Plain helpers shared by the tests: paths, synthetic AG News rows, the served-app record, loading
a repository script, skip-or-fail-in-CI, and a rewriter of runs into the old layout.

Fixtures live in `conftest.py`; everything a test imports by name lives here. `from helpers import ...`
works because pytest (default "prepend" import mode, no `__init__.py` here) puts this folder on
`sys.path` when it loads conftest.py and the test modules, whichever directory it is started from.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data" / "ag_news"
WORDS = {
    0: "president minister election war government country talks united nations troops",
    1: "game team season coach win match player league cup score",
    2: "market shares profit company stocks oil prices bank economy sales",
    3: "software internet computer microsoft space research technology web users chip",
}


def synthetic_rows(n_per_class: int, offset: int = 0) -> list[tuple[int, str, str]]:
    """Distinct, learnable rows in the original format: (1-based class, title, description)."""
    rows = []
    for label, vocab in WORDS.items():
        words = vocab.split()
        for i in range(n_per_class):
            k = offset + i
            title = f"{words[k % len(words)].title()} news {k}"
            body = " ".join(words[(k + j) % len(words)] for j in range(6)) + f" item {k} #39;s"
            rows.append((label + 1, title, body))
    return rows


def write_original_csv(path: Path, rows: list[tuple[int, str, str]]) -> Path:
    """AG News's original layout (class 1-4, title, description), with the `classes.txt` beside it by
    which a folder is read as AG News (`agnews.dataset.ag_news`)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    (path.parent / "classes.txt").write_text("World\nSports\nBusiness\nSci/Tech\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ServedApp:
    """The app serving the quick run: its address, the run, and the predictor the server uses."""

    url: str
    run: Run
    predictor: Predictor


def load_script(path: Path, name: str) -> ModuleType:
    """A script of the repository that is not part of the package (app.py, docs/screenshots.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a module up by name
    spec.loader.exec_module(module)
    return module


def as_legacy(run: Path) -> None:
    """Rewrite a run in the first wave's layout: no manifest, one metrics.json, no logits."""
    from agnews.rundir import parts
    from agnews.rundir.run import Run

    current = Run.load(run)
    config = json.loads((run / "config.json").read_text())
    del config["train"]["split_seed"], config["schema_version"]
    metrics = json.loads((run / "metrics.json").read_text())
    training = json.loads((run / "train_log.json").read_text())
    legacy_metrics = {
        "test": metrics["test"],
        "validation": training["validation"],
        "best_checkpoint": training["best_checkpoint"],
        "timing": {"train_seconds": training["seconds"], "test_seconds": metrics["seconds"], "device": "cpu"},
        "frozen_baseline": json.loads((run / "baseline.json").read_text()),
        "maps": json.loads((run / "map.json").read_text())["quality"],
    }
    stats = json.loads((run / "data_stats.json").read_text())
    dropped = stats["duplicates_dropped_from_train"]
    (run / "config.json").write_text(json.dumps(config))
    (run / "metrics.json").write_text(json.dumps(legacy_metrics))
    (run / "train_log.json").write_text(json.dumps({"log_history": training["log_history"]}))
    (run / "data_stats.json").write_text(
        json.dumps({"duplicates_dropped_from_train": dropped, **stats["splits"]})
    )
    (run / "map.json").write_text(json.dumps({"method": "umap", "params": {}, "seed": 42, "timing": {}}))
    current.predictions.drop(columns=list(parts.logit_columns(len(current.classes)))).to_parquet(
        run / "predictions.parquet", index=False
    )
    for name in ("manifest.json", "baseline.json"):
        (run / name).unlink()


def in_ci() -> bool:
    """Whether this is CI (`CI=true`), where a missing prerequisite is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def missing(what: str) -> NoReturn:
    """Skip the test that needs `what`; in CI fail it instead, so a green CI run has run every test."""
    if in_ci():
        pytest.fail(f"{what} (CI=true: the tests that need it must run, not skip)", pytrace=False)
    pytest.skip(what)


def tiny_encoder(kind: str, folder: Path) -> Path:
    """A randomly initialised encoder of `kind` ("distilbert" or "mpnet": 2 layers, 32 wide) saved
    with the bundled uncased vocabulary into `folder`."""
    from transformers import AutoModel, AutoTokenizer, DistilBertConfig, MPNetConfig

    from agnews.models import bundled_minilm_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm_path())
    vocab = tokenizer.vocab_size
    config = {
        "distilbert": lambda: DistilBertConfig(
            vocab_size=vocab, dim=32, hidden_dim=64, n_layers=2, n_heads=2, max_position_embeddings=128
        ),
        "mpnet": lambda: MPNetConfig(
            vocab_size=vocab,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=130,
        ),
    }[kind]()
    AutoModel.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@contextmanager
def report_in_chromium(report: str, path: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The HTML `report`, written to `path`, open in headless Chromium once plotly has drawn a
    figure: (the page, its JavaScript errors, the requests for anything but the file itself). Those
    requests are recorded and aborted, so nothing leaves the machine either way. Skips (fails in CI)
    where Chromium is missing."""
    screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    path.write_text(report, encoding="utf-8")
    requested: list[str] = []

    def route(request_route: Any) -> None:
        if request_route.request.url == path.as_uri():
            request_route.continue_()
        else:
            requested.append(request_route.request.url)
            request_route.abort()

    with screenshots.browser_page() as (page, page_errors):
        page.route("**/*", route)
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length > 0")
        yield page, page_errors, requested


def drawn_figures(page: Any) -> int:
    """How many plotly figures on `page` have drawn their SVG or canvas."""
    return page.evaluate(
        "[...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(p => p.querySelector('svg.main-svg, canvas')).length"
    )


def tab_page(run: Any, tab: Any, *, may_write: bool = True) -> Any:
    """What the page hands an analysis's tab (`agnews.ui.page.TabPage`) for a run shown as loaded:
    no background analyze, no model (the tabs tested with it never classify), no decisions store,
    a rows channel and a page-runs record of its own (made where it is called: inside the test's
    gr.Blocks)."""
    import gradio as gr

    from agnews.present.tables import map_points
    from agnews.ui.open_rows import OpenRows
    from agnews.ui.page import TabPage
    from agnews.ui.run_state import PageRuns

    points = map_points(run)
    open_rows = OpenRows(gr.State(None), gr.Tabs())
    pages = PageRuns(run)
    return TabPage(run, tab, lambda: run, False, None, None, may_write, None, points, open_rows, pages)  # type: ignore[arg-type]
