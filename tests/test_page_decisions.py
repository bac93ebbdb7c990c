"""Deciding fast, in a real headless Chromium at 1366x900 on the quick run (issue 33, problem 4):
a flagged training row is named by its text, a click shows it whole beside the list with its
suggestion one click away, a bulk action names its count and is undone as one step, and the lists
say what stands on each row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing

from agnews.analyses.label_issues.present import flagged_train_rows
from agnews.rundir.decisions import DECISIONS_FOLDER
from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser and a trained run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
VIEWPORT = {"width": 1366, "height": 900}
TRAIN = "#label-issues-train"


def cell(row: int, column: int) -> str:
    return f"{TRAIN} [data-testid='cell-{row}-{column}']"


def test_label_issues_decide_in_one_click_in_bulk_and_undo_a_step(quick_run_copy: Path) -> None:
    from playwright.sync_api import expect

    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    run = Run.load(quick_run_copy)
    flagged = flagged_train_rows(run)
    first = flagged.iloc[0]
    given = first["given"]
    same_given = flagged[flagged["given"] == given]
    assert len(same_given) >= 2, "the quick run should flag several training rows of one class"
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size(VIEWPORT)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        screenshots.open_tab(page, "Label issues", cell(0, 1))

        # Training rows by their text, never their hash.
        listed = page.locator(TRAIN).inner_text()
        assert first["text_hash"][:12] not in listed
        expect(page.locator(cell(0, 1))).to_contain_text(first["text"][:40])

        # A click shows the row whole, beside the list, with its suggestion one click away.
        page.locator(cell(0, 1)).click()
        accept = page.locator("#label-issues-decision-accept")
        expect(accept).to_have_text(f"Accept suggestion: relabel → {first['suggested']}")
        expect(page.locator("#label-issues-decision-row")).to_contain_text(first["text"][-40:].strip())
        clicked, button = page.locator(cell(0, 1)).bounding_box(), accept.bounding_box()
        assert clicked is not None and button is not None
        assert button["y"] >= 0 and button["y"] + button["height"] <= VIEWPORT["height"]  # in view
        assert abs(button["y"] - clicked["y"]) < VIEWPORT["height"] / 2  # beside the row, not below all
        accept.click()
        expect(page.locator("#label-issues-decision-status")).to_contain_text("Recorded: relabel →")
        expect(page.locator(cell(0, 0))).to_have_text(f"relabel → {first['suggested']}")

        # Bulk: the listed rows (one given class), with the count on the button, as one step.
        page.locator("#label-issues-given input").click()
        page.get_by_role("option", name=given, exact=True).click()
        keep = page.locator("#label-issues-train-bulk-keep")
        expect(keep).to_have_text(f"Keep all {len(same_given)} listed rows")
        keep.click()
        expect(page.locator("#label-issues-decision-status")).to_contain_text(
            f"Recorded: keep on {len(same_given)} listed rows as one step"
        )
        shown = min(3, len(same_given))  # the table draws only the rows in its view
        for row in range(shown):
            expect(page.locator(cell(row, 0))).to_have_text("keep")

        # One undo takes the whole step back, and the earlier decision shows again.
        page.locator("#label-issues-decision-undo-step").click()
        expect(page.locator("#label-issues-decision-status")).to_contain_text(
            f"Undone: local's keep on {len(same_given)} rows"
        )
        expect(page.locator(cell(0, 0))).to_have_text(f"relabel → {first['suggested']}")
        for row in range(1, shown):
            expect(page.locator(cell(row, 0))).to_have_text("")
    assert page_errors == []

    [log] = (quick_run_copy.parent / DECISIONS_FOLDER).glob("train-*.jsonl")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kept = [e for e in events if e["action"] == "keep"]
    undone = [e for e in events if e["action"] == "undo"]
    assert len(kept) == len(same_given) and len({e["batch"] for e in kept}) == 1
    assert sorted(e["undoes"] for e in undone) == sorted(e["id"] for e in kept)
    assert len({e["batch"] for e in undone}) == 1


def test_a_nearest_training_row_shows_its_whole_text_on_click(quick_run: Path) -> None:
    from playwright.sync_api import expect

    from agnews.serving.neighbours import training_neighbours
    from agnews.ui.neighbours import most_confident_mistake

    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    run = Run.load(quick_run)
    mistake = most_confident_mistake(run)
    assert mistake is not None
    from agnews.serving.neighbours import stored_vector

    nearest = training_neighbours(run).nearest(stored_vector(run, mistake), 10).iloc[0]
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size(VIEWPORT)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        first = "#neighbours-table [data-testid='cell-0-3']"
        screenshots.open_tab(page, "Neighbours", first)
        page.locator(first).click()
        expect(page.locator("#neighbours-row-text")).to_contain_text(nearest["text"][-40:].strip())
        expect(page.locator("#neighbours-row-text")).to_contain_text(f"labelled {nearest['label_name']}")
    assert page_errors == []
