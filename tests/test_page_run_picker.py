"""The header's run picker switches the page to another run, and the address names it: a link opens
that run; another page keeps its own. In a real headless Chromium at 1366x900, on two synthetic runs
(four AG News classes, two sentiment classes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing
from run_switch import APP_RUN, OTHER_RUN, two_runs

from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser and a server

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    root = tmp_path_factory.mktemp("picker") / "runs"
    two_runs(root, synthetic_run, tiny_distilbert)
    return root


def test_picking_a_run_switches_the_page_and_its_address(runs_root: Path) -> None:
    from playwright.sync_api import expect

    app_run = Run.load(runs_root / APP_RUN)
    with (
        screenshots.serve(app_run, runs_root=runs_root) as url,
        screenshots.browser_page() as (
            page,
            page_errors,
        ),
    ):
        page.set_viewport_size(VIEWPORT)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        expect(page.locator("#run-header")).to_contain_text(f"run {APP_RUN}")
        page.locator("#run-picker input").click()
        page.get_by_role("option", name=OTHER_RUN).first.click()
        page.wait_for_url(f"**?run={OTHER_RUN}")
        expect(page.locator("#run-header")).to_contain_text(f"run {OTHER_RUN}")
        expect(page.locator("#run-header")).to_contain_text("2 classes: negative, positive")
        expect(page.locator("#run-picker input")).to_have_value(re.compile(f"^{OTHER_RUN} · "))

        # Typed text is classified by the picked run's model: its two classes.
        screenshots.open_tab(page, "Classify", "#classify-text")
        page.locator("#classify-text textarea").fill("a gentle river garden in winter")
        page.locator("#classify-button").click()
        expect(page.locator("#classify-label")).to_contain_text("negative")
        expect(page.locator("#classify-label")).to_contain_text("positive")
        expect(page.locator("#classify-label")).not_to_contain_text("Sports")

        # A link to the other run opens it; the plain address still opens the app's run.
        second = page.context.browser.new_page()
        second.goto(url)
        expect(second.locator("#run-header")).to_contain_text(f"run {APP_RUN}")
        second.goto(f"{url.rstrip('/')}/?run=..%2F{APP_RUN}")
        expect(second.locator("#run-header")).to_contain_text("No run is named")
        assert not page_errors
