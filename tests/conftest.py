"""Shared fixtures: small in-memory data, a tiny random DistilBERT, a synthetic run built from it
without training, and one real tiny MiniLM run.

Tiers: a test that needs the real run (`quick_run`, directly or through another fixture) is marked
`slow` here, at collection; a test that trains or starts a trainer itself carries the mark in its
module. `pytest -m "not slow"` is the fast tier to run while working; `pytest` runs everything.

One name, one meaning, defined here only: `run`, `predictor` and `run_copy` are the synthetic run's;
`quick_run_copy` is the trained run's; `served_run` and `served_predictor` are what `served_app` serves.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from helpers import (
    ROOT,
    SHARED_DATA,
    ServedApp,
    load_script,
    missing,
    synthetic_rows,
    tiny_encoder,
    write_original_csv,
)
from synthetic_run import build_synthetic_run

if TYPE_CHECKING:
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


# The fixture that trains a real model: every test that depends on it is slow.
TRAINED_RUN_FIXTURE = "quick_run"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `slow` each test whose fixtures (their closure: `run` and `served_app` use it) include the
    trained run, so the fast tier cannot pick up a training by way of a fixture."""
    for item in items:
        if TRAINED_RUN_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


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
    return tiny_encoder("distilbert", tmp_path_factory.mktemp("tiny-distilbert"))


@pytest.fixture(scope="session")
def synthetic_run(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run without training (`synthetic_run.build_synthetic_run`): every part but tuning
    and cross-domain, in seconds. Shared by the session: a test that changes it copies it first."""
    return build_synthetic_run(tmp_path_factory.mktemp("synthetic") / "run", tiny_distilbert)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared AG News folder (`SHARED_DATA`). Where it is missing, the tests that need it skip,
    except in CI (`CI=true`), where that fails them: a green CI run must have run them."""
    if not SHARED_DATA.is_dir():
        missing(f"shared AG News data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def quick_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real end-to-end run: bundled MiniLM, a small slice of the shared data, embeddings and maps."""
    from agnews.config import preset_config
    from agnews.training.train import train_run

    config = preset_config(
        "quick",
        data=str(shared_data),
        epochs=1.0,
        max_train_samples=96,
        max_validation_samples=32,
        max_test_samples=120,
    )
    out = tmp_path_factory.mktemp("runs") / "quick"
    return train_run(config, out, progress=False)


@pytest.fixture(scope="module")
def run(synthetic_run: Path) -> Run:
    """`synthetic_run` loaded, once per test module. Read it, never change it: a test that changes a
    run takes `run_copy`."""
    from agnews.rundir.run import Run

    return Run.load(synthetic_run)


@pytest.fixture(scope="module")
def predictor(run: Run) -> Predictor:
    """The predictor of `run` (the tiny random model: its answers are shapes and plumbing, not sense;
    a test of what the model says takes `served_predictor`)."""
    from agnews.serving.predictor import Predictor

    return Predictor.from_run(run)


@pytest.fixture
def run_copy(synthetic_run: Path, tmp_path: Path) -> Path:
    """A private copy of `synthetic_run` at `tmp_path / "run"`, for a test that changes or damages it."""
    return shutil.copytree(synthetic_run, tmp_path / "run")


@pytest.fixture
def quick_run_copy(quick_run: Path, tmp_path: Path) -> Path:
    """A private copy of the trained `quick_run` at `tmp_path / "runs" / "quick"` (slow: it needs the
    trained run), for a test that changes it and needs a model that learnt something."""
    return shutil.copytree(quick_run, tmp_path / "runs" / "quick")


@pytest.fixture(scope="session")
def quick_run_seed_1(quick_run: Path) -> Path:
    """`quick_run`'s recipe and rows with training seed 1 (no default stages): a run to compare with."""
    from agnews.rundir.run import Run
    from agnews.training.train import train_run

    config = dataclasses.replace(Run.load(quick_run).config.train, seed=1)
    return train_run(config, quick_run.parent / "quick-s1", progress=False, stages=())


@pytest.fixture(scope="session")
def served_app(quick_run: Path) -> Iterator[ServedApp]:
    """One server for every test that talks to the app, launched with app.py's `launch_options`.

    Shared (test_app, test_app_security): each server loads the model again and starts threads.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app
    from agnews.ui.app import launch_options

    run = Run.load(quick_run)
    predictor = Predictor.from_run(run)
    demo = build_app(run, predictor)
    options = launch_options(Predictors(run, predictor, Predictor.from_run), lambda: run)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        yield ServedApp(url, run, predictor)
    finally:
        demo.close()


@pytest.fixture(scope="session")
def served_run(served_app: ServedApp) -> Run:
    """The run `served_app` serves: the trained `quick_run`, loaded once."""
    return served_app.run


@pytest.fixture(scope="session")
def served_predictor(served_app: ServedApp) -> Predictor:
    """The predictor `served_app` answers with (the trained model), shared with its server."""
    return served_app.predictor


@pytest.fixture(scope="session")
def launcher() -> ModuleType:
    """app.py imported as a module (it is a script, not part of the package), to call `main`."""
    return load_script(ROOT / "app.py", "agnews_app_launcher")
