"""The whole loop of issue 34 in the real app (`docs/screenshots.py` `serve`, every tab, the header's run
picker), in a real headless Chromium at 1366x900, with a tiny random DistilBERT offered as the only
recipe: upload a small 3-class dataset, check it and train it from two pages asking at once (one
trains, the other is told to wait and follows its progress); the new run opens with its own classes
and has no parent to compare with; one decision on a training row (the Errors tab's nearest training
rows), "Retrain with my decisions", and the run it makes records the corrections and its parent, with
which Compare pairs it in one click. And a public page refuses to train, saying why.

Cancelling is tests/test_page_training.py's. Measured: 90 to 105 s for the file on two busy cores (two
tiny trainings, the second with every default stage, and two data checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, load_script, missing
from run_switch import APP_RUN, two_runs
from test_page_training import CHILD_MS, CLASSES, TRAINING_MS, tiny_recipe, upload_and_check, write_tickets

from agnews.rundir.decisions import RELABEL
from agnews.rundir.run import Run
from agnews.ui import training_job, training_tab
from agnews.ui.training_data import UPLOADS_FOLDER

pytestmark = pytest.mark.slow  # a real browser, the whole app's server and two real (tiny) trainings

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
VIEWPORT = {"width": 1366, "height": 900}
# What the Errors tab needs to list a mistake's nearest training rows and record a decision on one.
STAGES = "embed,neighbours,label_issues_train"
TRAINED, RETRAINED = "tickets", "tickets-corrected"  # the names the Train tab proposes


@pytest.fixture
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path: Path) -> Path:
    """The app's run (AG News, 4 classes) and another (2 classes) in a runs folder to train into."""
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    root = tmp_path / "runs"
    two_runs(root, synthetic_run, tiny_distilbert)
    return root


@pytest.fixture
def tiny_training(tiny_distilbert: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Train tab offers only the tiny recipe (with the stages the Errors tab's decisions need; a
    later `--stages` overrides the recipe's own); a training still running at the end is cancelled."""
    recipe = tiny_recipe(tiny_distilbert, "tiny", 1)
    recipe = replace(recipe, args=(*recipe.args, "--stages", STAGES))
    monkeypatch.setattr(training_tab, "offered_recipes", lambda: [recipe])
    yield
    job = training_job.latest()
    if job is not None:
        job.cancel()


def test_upload_train_open_decide_retrain_and_compare_with_the_parent(
    runs_root: Path, tiny_training: None, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    data = tmp_path / "data"
    data.mkdir()
    write_tickets(data / "tickets.csv", 30)
    write_tickets(data / "tickets-test.csv", 6, offset=500)
    with (data / "tickets-test.csv").open("a", encoding="utf-8") as test_file:
        # A billing ticket labelled printer: the trained run has a mistake for the Errors tab to list
        # (it may otherwise get all 18 tickets right, and the tab list none).
        test_file.write(f"{CLASSES['billing']} ticket 900,printer\n")
    app_run = Run.load(runs_root / APP_RUN)
    with (
        screenshots.serve(app_run, runs_root=runs_root) as url,
        screenshots.browser_page() as (
            page,
            page_errors,
        ),
    ):
        browser = page.context.browser
        assert browser is not None
        other = browser.new_context().new_page()  # another person: a context of its own
        other.on("pageerror", lambda error: page_errors.append(str(error)))
        both = (page, other)
        for each in both:
            each.set_viewport_size(VIEWPORT)
            each.set_default_timeout(screenshots.TIMEOUT_MS)
            each.goto(url)
            screenshots.open_tab(each, "Train", "#train-upload-train")
            upload_and_check(each, data)

        # Two pages ask at once: one trains, the other is told to wait and follows its progress.
        for each in both:
            each.locator("#train-start").click()
        for each in both:
            expect(each.locator("#train-status")).to_contain_text(f"Training {TRAINED}", timeout=CHILD_MS)
        told = [each.locator("#train-said").inner_text() for each in both]
        [waiting] = [each for each, said in zip(both, told, strict=True) if "Wait: training" in said]
        [trainer] = [each for each in both if each is not waiting]
        expect(waiting.locator("#train-said")).to_contain_text(f"Wait: training {TRAINED} is running")
        expect(waiting.locator("#train-status")).to_contain_text("so far")
        expect(waiting.locator("#train-status")).to_contain_text(f"{TRAINED} is trained", timeout=TRAINING_MS)
        link = trainer.locator("#train-open-link")
        expect(link).to_have_attribute("href", f"?run={TRAINED}")

        # The new run opens with its own classes; nothing it came from, and the app's run is refused.
        link.click()
        trainer.wait_for_url(f"**?run={TRAINED}")
        expect(trainer.locator("#run-header")).to_contain_text(f"run {TRAINED}")
        expect(trainer.locator("#run-header")).to_contain_text("3 classes: " + ", ".join(CLASSES))
        screenshots.open_tab(trainer, "Compare", "#compare-picker")
        expect(trainer.locator("#compare-parent")).to_be_hidden()
        trainer.locator("#compare-picker input").click()
        trainer.get_by_role("option", name=f"runs/{APP_RUN}", exact=True).click()
        summary = trainer.locator("#compare-summary")
        expect(summary).to_contain_text("Cannot compare")
        expect(summary).to_contain_text("different classes (3 and 4")
        expect(summary).not_to_contain_text(str(runs_root))

        # One decision on a training row: a mistake's nearest training row, relabelled.
        screenshots.open_tab(trainer, "Errors", "#errors-table [data-testid='cell-0-0']")
        trainer.locator("#errors-table [data-testid='cell-0-0']").click()
        neighbours = trainer.locator("#errors-neighbours")
        given = neighbours.locator("[data-testid='cell-0-1']").inner_text().strip()
        neighbours.locator("[data-testid='cell-0-3']").click()
        expect(trainer.locator("#errors-decision-row")).to_contain_text(f"training row · given {given}")
        relabelled = next(name for name in CLASSES if name != given)
        trainer.locator("#errors-decision-label input").click()
        trainer.get_by_role("option", name=relabelled, exact=True).click()
        trainer.locator("#errors-decision-record").click()
        expect(trainer.locator("#errors-decision-status")).to_contain_text("Recorded")

        # Retrain with it: the new run records the corrections and its parent.
        screenshots.open_tab(trainer, "Train", "#train-status")
        trainer.get_by_text("From decisions: retrain the shown run").click()
        expect(trainer.locator("#train-decisions-summary")).to_contain_text("1 relabelled")
        retrain = trainer.locator("#train-retrain")
        expect(retrain).to_have_text(f"Retrain {TRAINED} with my decisions")
        expect(trainer.locator("#train-retrain-name input, #train-retrain-name textarea")).to_have_value(
            RETRAINED
        )
        retrain.click()
        status = trainer.locator("#train-status")
        expect(status).to_contain_text(f"Training {RETRAINED}", timeout=CHILD_MS)
        expect(status).to_contain_text(f"{RETRAINED} is trained", timeout=TRAINING_MS)
        config = Run.load(runs_root / RETRAINED).config
        assert config.parent == TRAINED
        corrections = Path(config.train.corrections or "")
        assert corrections.parent.parent.name == UPLOADS_FOLDER  # kept by its hash beside the runs
        applied = pd.read_csv(corrections)
        assert (list(applied["action"]), list(applied["label"])) == ([RELABEL], [relabelled])

        # Open it: Compare pairs it with its parent in one click.
        trainer.locator("#train-open-link").click()
        trainer.wait_for_url(f"**?run={RETRAINED}")
        screenshots.open_tab(trainer, "Compare", "#compare-parent")
        expect(trainer.locator("#compare-parent")).to_have_text(
            f"Against the run this one came from (runs/{TRAINED})"
        )
        trainer.locator("#compare-parent").click()
        expect(trainer.locator("#compare-summary")).to_contain_text("McNemar")
        expect(trainer.locator("#compare-scores")).to_contain_text(f"A {TRAINED}")  # the baseline
        expect(trainer.locator("#compare-scores")).to_contain_text(f"B {RETRAINED}")
    assert page_errors == []


def test_a_public_page_refuses_to_train_and_says_why(runs_root: Path) -> None:
    from playwright.sync_api import expect

    app_run = Run.load(runs_root / APP_RUN)
    with (
        screenshots.serve(app_run, runs_root=runs_root, may_write=False, may_train=False) as url,
        screenshots.browser_page() as (page, page_errors),
    ):
        page.set_viewport_size(VIEWPORT)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        screenshots.open_tab(page, "Train", "#train-not-allowed")
        said = page.locator("#train-not-allowed")
        expect(said).to_contain_text("Training is off on this page: it is public")
        expect(said).to_contain_text("--allow-training")
        expect(page.locator("#train-start")).to_have_count(0)
    assert page_errors == []
