"""A review threshold chosen on the Calibration tab (issue 33): what a threshold keeps, counted by
hand; the chosen value saved as its own part, which the run's `REVIEW` fact answers from while the
calibration part stays byte for byte as its stage made it; a public page cannot save; and, in a
real Chromium, the slider's numbers move, the choice saves, and after a reload both the slider and
the JSON route use it."""

from __future__ import annotations

import json
import shutil
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agnews.analyses.calibration.choice import (
    COMMAND_LINE,
    LOCAL_PAGE,
    ThresholdError,
    clear_choice,
    save_choice,
)
from agnews.analyses.calibration.coverage import kept_at, kept_of
from agnews.analyses.calibration.present import in_use_markdown, kept_line, model_card_section
from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.calibration.schema import REVIEW_PART
from agnews.analyses.calibration.tab import threshold_in_use
from agnews.cli import main as cli
from agnews.formatting import count, percent
from agnews.rundir.facts import REVIEW
from agnews.rundir.run import Run
from agnews.ui.classify import review_note

# Five rows, most confident first: right, right, wrong, right, wrong.
CONFIDENCE = np.array([0.95, 0.9, 0.8, 0.6, 0.5])
CORRECT = np.array([True, True, False, True, False])


def test_kept_rows_and_their_accuracy_by_hand() -> None:
    at = kept_at(CONFIDENCE, CORRECT, 0.8)  # a row at the threshold is kept
    assert (at.rows, at.kept, at.right) == (5, 3, 2)
    assert at.coverage == pytest.approx(0.6) and at.accuracy == pytest.approx(2 / 3)
    assert kept_at(CONFIDENCE, CORRECT, 0.0).accuracy == pytest.approx(3 / 5)
    nothing = kept_at(CONFIDENCE, CORRECT, 0.96)
    assert (nothing.kept, nothing.coverage, nothing.accuracy) == (0, 0.0, None)
    assert kept_line(at) == (
        "Review rows below 80.0% confidence: 60.0% of test rows (3 of 5) are kept automatically at "
        "66.7% accuracy."
    )
    assert kept_line(nothing).endswith("no test row is kept automatically; a person reviews all 5.")


def test_kept_rows_of_stored_predictions() -> None:
    frame = pd.DataFrame({"confidence": CONFIDENCE, "pred": [0, 1, 2, 3, 0], "label": [0, 1, 0, 3, 1]})
    assert kept_of(frame, 0.6) == kept_at(CONFIDENCE, CORRECT, 0.6)


def test_a_saved_threshold_round_trips_and_answers_the_fact(run_copy: Path) -> None:
    made = Run.load(run_copy)
    calibration = made.get(CALIBRATION)
    assert calibration is not None and made.get(REVIEW_PART) is None
    assert made.fact(REVIEW).threshold == calibration.review_threshold  # the stage's, until one is chosen
    part_file = run_copy / CALIBRATION.files[0]
    part_bytes = part_file.read_bytes()
    record = made.manifest.parts[CALIBRATION.name]

    choice = save_choice(run_copy, 0.42, "alice")
    run = Run.load(run_copy)
    assert run.get(REVIEW_PART) == choice
    assert (choice.threshold, choice.who) == (0.42, "alice")
    when = datetime.fromisoformat(choice.when)
    assert when.utcoffset() == timedelta(0) and abs(datetime.now(when.tzinfo) - when) < timedelta(minutes=1)
    rule = run.fact(REVIEW)
    assert (rule.threshold, rule.set_by, rule.set_at, rule.target_accuracy) == (
        0.42,
        "alice",
        choice.when,
        None,
    )
    assert part_file.read_bytes() == part_bytes  # the calibration part and its provenance as made
    assert run.manifest.parts[CALIBRATION.name] == record
    assert run.get(CALIBRATION) == calibration
    assert run.manifest.parts[REVIEW_PART.name].made_from == {
        "predictions": run.manifest.parts["predictions"].fingerprint
    }

    assert save_choice(run_copy, 0.5, None).who == LOCAL_PAGE  # a later choice replaces it
    assert Run.load(run_copy).fact(REVIEW).threshold == 0.5


def test_a_cleared_choice_gives_the_threshold_back_to_the_calibration_stage(run_copy: Path) -> None:
    made = Run.load(run_copy)
    part_bytes = (run_copy / CALIBRATION.files[0]).read_bytes()
    assert clear_choice(run_copy) is False  # nothing chosen: the run is left as it is
    assert Run.load(run_copy).manifest == made.manifest
    save_choice(run_copy, 0.42, "alice")
    assert clear_choice(run_copy) is True
    run = Run.load(run_copy)
    assert run.get(REVIEW_PART) is None and REVIEW_PART.name not in run.manifest.parts
    assert run.fact(REVIEW) == made.fact(REVIEW)  # the stage's choice, as before any was made
    assert (run_copy / CALIBRATION.files[0]).read_bytes() == part_bytes


def test_a_threshold_outside_zero_to_one_is_refused(run_copy: Path) -> None:
    with pytest.raises(ThresholdError, match="between 0 and 1"):
        save_choice(run_copy, 1.5, "alice")
    assert Run.load(run_copy).get(REVIEW_PART) is None


def test_the_page_words_and_the_model_card_follow_the_choice(run_copy: Path) -> None:
    save_choice(run_copy, 0.42, "<b>mallory</b>")
    run = Run.load(run_copy)
    rule = run.fact(REVIEW)
    shown = in_use_markdown(rule)
    assert shown.startswith("**In use: 42.0%**, set by ") and "<b>" not in shown  # a login name is text
    assert "set by" in review_note(rule, {"World": 0.3, "Sports": 0.7})
    assert review_note(rule, {"World": 0.3, "Sports": 0.7}).startswith("Confidence 70.0% is at or above")
    card = model_card_section(run)
    assert card is not None and "confidence of 0.420" in card and "<b>" not in card
    kept = kept_of(run.predictions, 0.42)
    assert f"keeps\n{kept.coverage:.1%} of the rows" in card


def test_the_command_sets_the_threshold(run_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["calibration", str(run_copy), "--review-threshold", "0.3"]) == 0
    assert "Review rows below 30.0% confidence" in capsys.readouterr().out
    assert Run.load(run_copy).fact(REVIEW).set_by == COMMAND_LINE
    with pytest.raises(SystemExit) as refused:
        cli(["calibration", str(run_copy), "--review-threshold", "2"])
    assert refused.value.code == 2 and "between 0 and 1" in capsys.readouterr().err
    assert cli(["calibration", str(run_copy), "--clear-review-threshold"]) == 0
    assert "the chosen threshold is cleared; the review threshold is" in capsys.readouterr().out
    assert Run.load(run_copy).fact(REVIEW).set_by is None


def saving_controls(demo: object) -> tuple[list[str], list[str]]:
    """The element ids of the tab's save button and the API names of its events, in a built app."""
    from gradio.blocks import Blocks

    assert isinstance(demo, Blocks)
    buttons = [b.elem_id for b in demo.blocks.values() if getattr(b, "elem_id", None) == "calibration-use"]
    events = [fn.api_name for fn in demo.fns.values() if fn.api_name == "calibration_use_threshold"]
    return buttons, events


def test_only_a_page_that_may_write_can_save(run: Run, predictor: object) -> None:
    from agnews.ui import build_app

    assert saving_controls(build_app(run, predictor, may_write=True)) == (
        ["calibration-use"],
        ["calibration_use_threshold"],
    )
    assert saving_controls(build_app(run, predictor, may_write=False)) == ([], [])


# --- in Chromium -------------------------------------------------------------------------------

VIEWPORT = {"width": 1366, "height": 900}


def api_threshold(url: str) -> float | None:
    """What the JSON route says the run's review threshold is."""
    from agnews.serving.http_api import PATH

    with urllib.request.urlopen(url.rstrip("/") + PATH, timeout=30) as answer:
        return json.load(answer)["review_threshold"]


@pytest.mark.slow  # a real browser on the trained run
def test_the_slider_moves_the_numbers_saves_and_survives_a_reload(quick_run: Path, tmp_path: Path) -> None:
    from helpers import ROOT, load_script, missing

    screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    walk_the_slider(screenshots, shutil.copytree(quick_run, tmp_path / "runs" / "quick"))


def walk_the_slider(screenshots: Any, path: Path) -> None:
    """Move the slider, save, reload, on the run at `path` (changed: it gains the chosen threshold)."""
    from playwright.sync_api import expect

    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app
    from agnews.ui.app import LAUNCH_LIMITS, launch_options
    from agnews.ui.run_state import following

    run = Run.load(path)
    predictor = Predictor.from_run(run)
    demo = build_app(run, predictor, runs_root=path.parent)
    # As app.py launches it: the JSON route reads the run as it is on disk, per request.
    predictors = Predictors(run, predictor, Predictor.from_run)
    options = {**LAUNCH_LIMITS, **launch_options(predictors, following(run), runs_root=path.parent)}
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        with screenshots.browser_page() as (page, page_errors):
            page.set_viewport_size(VIEWPORT)
            page.set_default_timeout(screenshots.TIMEOUT_MS)
            page.goto(url)
            screenshots.open_tab(page, "Calibration", "#calibration-kept h3")
            kept = page.locator("#calibration-kept")
            number = page.locator("#calibration-threshold input[type=number]")
            expect(kept).to_contain_text("Review rows below")
            before = kept.inner_text()
            # A threshold that keeps some rows and differs from the run's: the median confidence.
            chosen = round(float(run.predictions["confidence"].median()), 2)
            if chosen == round(threshold_in_use(run), 2):
                chosen -= 0.01
            shown, typed = kept_of(run.predictions, chosen), f"{chosen:.2f}".rstrip("0")
            number.fill(typed)
            number.press("Enter")
            expect(kept).to_contain_text(f"Review rows below {percent(chosen)} confidence")
            assert f"({count(shown.kept)} of {count(shown.rows)})" in kept.inner_text(), kept.inner_text()
            assert kept.inner_text() != before
            page.locator("#calibration-use").click()
            in_use = page.locator("#calibration-in-use")
            expect(in_use).to_contain_text(f"In use: {percent(chosen)}, set by {LOCAL_PAGE}")
            assert api_threshold(url) == pytest.approx(chosen)

            page.reload()
            screenshots.open_tab(page, "Calibration", "#calibration-kept h3")
            expect(in_use).to_contain_text(f"In use: {percent(chosen)}, set by {LOCAL_PAGE}")
            expect(number).to_have_value(typed)
            expect(kept).to_contain_text(f"Review rows below {percent(chosen)} confidence")

            # Cleared: the calibration stage's threshold applies again, on the page and the route.
            page.locator("#calibration-clear").click()
            expect(in_use).to_contain_text("the calibration stage's choice")
            expect(page.locator("#calibration-clear")).to_be_hidden()
            assert api_threshold(url) == pytest.approx(threshold_in_use(run))
        assert page_errors == []
    finally:
        demo.close()
