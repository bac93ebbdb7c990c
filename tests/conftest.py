"""Shared fixtures: small in-memory data, a tiny random DistilBERT, and one real tiny MiniLM run."""

from __future__ import annotations

import csv
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from agnews.predictor import Predictor
    from agnews.run import Run

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ag_news"
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
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    """A local data folder: 40 training rows per class and 10 test rows per class."""
    folder = tmp_path / "data"
    folder.mkdir()
    write_original_csv(folder / "train.csv", synthetic_rows(40))
    write_original_csv(folder / "test.csv", synthetic_rows(10, offset=1000))
    return folder


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised DistilBERT (2 layers, 32 wide) with the bundled uncased vocabulary."""
    from transformers import AutoTokenizer, DistilBertConfig, DistilBertModel

    from agnews.models import bundled_minilm_path

    folder = tmp_path_factory.mktemp("tiny-distilbert")
    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm_path())
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        hidden_dim=64,
        n_layers=2,
        n_heads=2,
        max_position_embeddings=128,
    )
    DistilBertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real end-to-end run: bundled MiniLM, a small slice of the shared data, embeddings and maps."""
    from agnews.train import fine_tune, preset_config

    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    config = preset_config(
        "quick",
        data=str(SHARED_DATA),
        epochs=1.0,
        max_train_samples=96,
        max_validation_samples=32,
        max_test_samples=120,
    )
    out = tmp_path_factory.mktemp("runs") / "quick"
    return fine_tune(config, out, progress=False)


@dataclass(frozen=True)
class ServedApp:
    """The app serving the quick run: its address, the run, and the predictor the server uses."""

    url: str
    run: Run
    predictor: Predictor


@pytest.fixture(scope="session")
def served_app(quick_run: Path) -> Iterator[ServedApp]:
    """One server for every test that talks to the app, launched with app.py's `LAUNCH_LIMITS`.

    Shared (test_app, test_app_security): each server loads the model again and starts threads.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from agnews.predictor import Predictor
    from agnews.run import Run
    from agnews.ui import build_app
    from agnews.ui.app import LAUNCH_LIMITS

    run = Run.load(quick_run)
    predictor = Predictor.from_run(run)
    demo = build_app(run, predictor)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **LAUNCH_LIMITS)
    try:
        yield ServedApp(url, run, predictor)
    finally:
        demo.close()


@pytest.fixture(scope="session")
def launcher() -> ModuleType:
    """app.py imported as a module (it is a script, not part of the package), to call `main`."""
    spec = importlib.util.spec_from_file_location("agnews_app_launcher", Path(__file__).parents[1] / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
