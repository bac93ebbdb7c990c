"""The Train tab in a real headless Chromium (`agnews.ui.training_tab`), built into a small page of its
own: a tiny synthetic dataset uploaded, checked and trained with a tiny random DistilBERT until the
link to the new run appears; and a training cancelled mid-way, which leaves nothing under the runs
folder but its checkpoints (and the uploads kept there), the tab offering to resume it."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing

from agnews.rundir.parts import MANIFEST
from agnews.rundir.run import Run
from agnews.ui import training_job
from agnews.ui.training_data import UPLOADS_FOLDER
from agnews.ui.training_job import Recipe, TrainingCaps

pytestmark = pytest.mark.slow  # a real browser, a server and real (tiny) trainings

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
CLASSES = {
    "billing": "invoice refund charge payment card receipt",
    "login": "password account locked reset username email",
    "printer": "paper jam toner cartridge tray driver",
}
TRAINING_MS = 240_000  # a tiny training on two busy cores, with its start-up
CHILD_MS = 60_000  # an agnews child process's start-up on two busy cores (the data check, the trainer's)


def write_tickets(path: Path, per_class: int, offset: int = 0) -> Path:
    """A generic labelled CSV (text, label), learnable: each class has words of its own."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label, vocabulary in CLASSES.items():
            words = vocabulary.split()
            for i in range(offset, offset + per_class):
                writer.writerow(
                    [" ".join(words[(i + j) % len(words)] for j in range(5)) + f" ticket {i}", label]
                )
    return path


def tiny_recipe(base: Path, label: str, epochs: int) -> Recipe:
    """A preset for the tests: the tiny random DistilBERT, short texts, no analyses after training."""
    args = (
        "--preset", "distilbert", "--base-model", str(base), "--epochs", str(epochs), "--batch-size", "16",
        "--max-length", "32", "--learning-rate", "1e-3", "--stages", "",
    )  # fmt: skip
    return Recipe(label, args, str(base), weights=10**6, epochs=float(epochs), max_rows=None)


@contextmanager
def served_tab(run: Run, runs: Path, recipes: list[Recipe]) -> Iterator[str]:
    """A page with the Train tab alone, launched as the app launches: its address."""
    import gradio as gr

    from agnews.ui import training_tab
    from agnews.ui.app import LAUNCH_LIMITS

    with gr.Blocks() as demo, gr.Tabs(), gr.Tab("Train", id="train") as tab:
        training_tab.build(
            lambda: run, tab, runs_root=runs, store=None, may_train=True, caps=TrainingCaps(), recipes=recipes
        )
    _, url, _ = demo.queue().launch(prevent_thread_lock=True, quiet=True, **LAUNCH_LIMITS)
    try:
        yield url
    finally:
        demo.close()
        job = training_job.latest()
        if job is not None:
            job.cancel()


def upload_and_check(page, data: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.locator("#train-upload-train input[type=file]").set_input_files(str(data / "tickets.csv"))
    expect(page.locator("#train-name input, #train-name textarea")).to_have_value("tickets")
    page.locator("#train-upload-test input[type=file]").set_input_files(str(data / "tickets-test.csv"))
    page.wait_for_timeout(500)  # the test file's upload event
    page.locator("#train-check").click()
    expect(page.locator("#train-check-result")).to_contain_text(
        "OK: training would read 3 classes", timeout=CHILD_MS
    )
    expect(page.locator("#train-classes")).to_contain_text("printer")


def test_upload_check_train_then_open_and_cancel_leaves_only_checkpoints(
    run: Run, tiny_distilbert: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    data = tmp_path / "data"
    data.mkdir()
    write_tickets(data / "tickets.csv", 30)
    write_tickets(data / "tickets-test.csv", 6, offset=500)
    runs = tmp_path / "runs"
    recipes = [tiny_recipe(tiny_distilbert, "tiny", 1), tiny_recipe(tiny_distilbert, "tiny, long", 200)]
    with served_tab(run, runs, recipes) as url, screenshots.browser_page() as (page, page_errors):
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        upload_and_check(page, data)

        page.locator("#train-start").click()
        expect(page.locator("#train-status")).to_contain_text("Training tickets", timeout=CHILD_MS)
        link = page.locator("#train-open-link")
        expect(link).to_have_attribute("href", "?run=tickets", timeout=TRAINING_MS)
        expect(page.locator("#train-status")).to_contain_text("tickets is trained", timeout=TRAINING_MS)
        trained = Run.load(runs / "tickets")
        assert trained.classes == tuple(CLASSES)
        assert Path(trained.config.train.data or "").parent.parent.name == UPLOADS_FOLDER  # by its hash

        # A second training, cancelled once it has saved a checkpoint: no run, its checkpoints kept.
        page.locator("#train-preset input").click()
        page.get_by_role("option", name="tiny, long", exact=True).click()
        page.locator("#train-name input, #train-name textarea").fill("stopped")
        page.locator("#train-start").click()
        expect(page.locator("#train-status")).to_contain_text("Training stopped", timeout=CHILD_MS)
        checkpoints = runs / ".stopped.checkpoints"
        expect(page.locator("#train-status")).to_contain_text(
            "Validation accuracy: epoch 1", timeout=TRAINING_MS
        )
        while not list(checkpoints.glob("checkpoint-*/trainer_state.json")):
            page.wait_for_timeout(200)
        page.locator("#train-cancel").click()
        expect(page.locator("#train-status")).to_contain_text("was cancelled", timeout=TRAINING_MS)
        expect(page.locator("#train-resume")).to_be_visible(timeout=CHILD_MS)
        assert sorted(p.name for p in runs.iterdir() if not p.name.endswith(".lock")) == [
            ".stopped.checkpoints", ".uploads", "tickets",
        ]  # fmt: skip
        assert not (runs / "stopped" / MANIFEST).exists()
    assert page_errors == []

    # The app stopped and started again: the page finds the interrupted training on disk and resumes
    # it with the command it was started with (`agnews train` checks the settings are the same).
    training_job._latest = None
    with served_tab(run, runs, recipes) as url, screenshots.browser_page() as (page, page_errors):
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        page.get_by_role("tab", name="Train").click()
        expect(page.locator("#train-status")).to_contain_text("The training of stopped was interrupted")
        expect(page.locator("#train-resume")).to_have_text("Resume stopped")
        page.locator("#train-resume").click()
        expect(page.locator("#train-status")).to_contain_text(re.compile(r"step \d+ of"), timeout=TRAINING_MS)
        resumed = training_job.latest()
        assert resumed is not None and resumed.args[-1] == "--resume" and resumed.spent > 0
        page.locator("#train-cancel").click()
        expect(page.locator("#train-status")).to_contain_text("was cancelled", timeout=TRAINING_MS)
    assert page_errors == []
