"""The app in a real headless Chromium: every tab renders, a headline is classified, links work.

Screenshots of each tab go to `test-artifacts/` (kept out of git) for a person to look at.
Skipped when Debian's chromium is not installed (CI installs it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from agnews.labels import LABELS
from agnews.run import Run
from agnews.ui import build_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
HEADLINE = "Oil prices jump as OPEC agrees to cut output; shares of refiners fall on Wall Street"
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not installed")


def open_tab(page, name: str, ready: str) -> None:
    """Click a tab and wait until `ready` (a selector inside it) is visible."""
    page.get_by_role("tab", name=name).click()
    page.locator(ready).first.wait_for(state="visible")


def shoot(page, path: Path) -> None:
    """Screenshot once no event is pending (Gradio dims outputs while an event runs)."""
    page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
    page.wait_for_timeout(300)  # Plotly's redraw after the data arrives
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path))


def tour(page, url: str, run: Run, shots: Path, size: tuple[int, int] = (1280, 800)) -> None:
    """Walk through every tab the way a person would, asserting what each shows; screenshot each.

    Shared with the README screenshots (taken the same way on a larger run).
    """
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)

    page.locator("#classify-text textarea").fill(HEADLINE)
    page.locator("#classify-button").click()
    any_class = re.compile("|".join(re.escape(name) for name in LABELS))
    page.locator("#classify-label").get_by_text(any_class).first.wait_for()
    page.locator("#classify-words").get_by_text("OPEC").first.wait_for()
    page.locator("#classify-map .js-plotly-plot").wait_for()
    page.locator("#classify-neighbours [data-testid='cell-0-0']").wait_for()
    shoot(page, shots / "classify.png")

    open_tab(page, "Map", "#map-plot .js-plotly-plot")
    first = page.locator("#map-table [data-testid='cell-0-0']")
    row_id = first.inner_text().strip()
    first.click()
    page.locator("#map-details").get_by_text(f"Row {row_id}").wait_for()
    shoot(page, shots / "map.png")

    open_tab(page, "Confusion matrix", "#confusion-plot .js-plotly-plot")
    shoot(page, shots / "confusion.png")
    matrix = np.asarray(run.metrics["test"]["confusion_matrix"])
    np.fill_diagonal(matrix, -1)
    true, pred = np.unravel_index(matrix.argmax(), matrix.shape)
    page.locator(f"#confusion-cells [data-testid='cell-{true}-{pred + 1}']").click()
    page.locator("#errors-table [data-testid='cell-0-0']").wait_for()
    assert page.locator("#errors-true input").input_value() == LABELS[true]
    assert page.locator("#errors-pred input").input_value() == LABELS[pred]
    page.locator("#errors-table [data-testid='cell-0-2']").get_by_text(LABELS[true]).wait_for()
    page.locator("#errors-table [data-testid='cell-0-0']").click()
    page.locator("#errors-details").get_by_text("wrong").wait_for()
    shoot(page, shots / "errors.png")

    open_tab(page, "Data", ".js-plotly-plot:visible")
    shoot(page, shots / "data.png")


@pytest.fixture(scope="module")
def app_url(quick_run: Path) -> Iterator[tuple[str, Run]]:
    run = Run.load(quick_run)
    demo = build_app(run)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True)
    try:
        yield url, run
    finally:
        demo.close()


def test_every_tab_in_chromium(app_url: tuple[str, Run]) -> None:
    from playwright.sync_api import sync_playwright

    url, run = app_url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            tour(page, url, run, ARTIFACTS / "browser")
        finally:
            browser.close()
    assert page_errors == []
    assert sorted(p.name for p in (ARTIFACTS / "browser").glob("*.png")) == [
        "classify.png",
        "confusion.png",
        "data.png",
        "errors.png",
        "map.png",
    ]
