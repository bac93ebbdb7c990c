"""Plain words on the page, in a real headless Chromium at 1366x900 (issue 33, problems 5, 7 and 8):
no smart tag or robustness test is named by its snake_case key; every metric of the glossary's
hardest words (ECE, NLL, Brier, KS, McNemar) is shown with its gloss; the Robustness tab arrives
with a test chosen; an Overview button lands on the tab it opens; a Compare tab with no run to
compare says how to make one and lists it, once made, in a picker that compares.

Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, load_script, missing

from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.present.glossary import TEST_TITLES, gloss, perturbation_title
from agnews.present.tables import row_tags
from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser on the trained run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
VIEWPORT = {"width": 1366, "height": 900}
# Where each hard term is shown, by tab: the tab's text must then carry the term's gloss.
GLOSSED_ON = {"Calibration": ("ECE", "NLL", "Brier"), "Data": ("KS D",), "Compare": ("McNemar",)}
VISIBLE_TAB = "[role='tabpanel']:visible"


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    return screenshots.CHROMIUM


@pytest.fixture
def runs(quick_run: Path, tmp_path: Path) -> Path:
    """A runs folder holding a copy of the trained run alone (`runs/quick`)."""
    shutil.copytree(quick_run, tmp_path / "runs" / "quick")
    return tmp_path / "runs"


@pytest.fixture
def page(chromium: Path, runs: Path) -> Iterator[tuple[Any, list[str]]]:
    """The app on `runs/quick`, offering the runs of `runs`, open in Chromium at 1366x900; and the
    list its JavaScript errors are added to (checked empty at the end)."""
    with (
        screenshots.serve(Run.load(runs / "quick"), runs_root=runs) as url,
        screenshots.browser_page() as (browser, page_errors),
    ):
        browser.set_viewport_size(VIEWPORT)
        browser.set_default_timeout(screenshots.TIMEOUT_MS)
        browser.goto(url)
        browser.locator("#overview-accuracy-text").wait_for(state="visible")
        yield browser, page_errors
    assert page_errors == []


def snake_keys(run: Run) -> set[str]:
    """The run's smart tags and robustness tests whose keys are snake_case: none may be shown."""
    report = run.get(ROBUSTNESS)
    tests = set(TEST_TITLES) if report is None else {t.name for t in report.tests} | set(report.not_run)
    return {key for key in {*row_tags(run), *tests} if "_" in key}


def shown_keys(text: str, keys: set[str]) -> list[str]:
    return sorted(key for key in keys if re.search(rf"\b{re.escape(key)}\b", text))


def gloss_start(term: str) -> str:
    """The first words of `term`'s gloss, as the page renders them (before any Markdown mark)."""
    return re.split(r"[`*_]", gloss(term))[0][:40]


def test_tags_and_tests_are_named_in_words_and_hard_terms_glossed(
    page: tuple[Any, list[str]], runs: Path
) -> None:
    from playwright.sync_api import expect

    browser, _ = page
    run = Run.load(runs / "quick")
    keys = snake_keys(run)
    assert keys  # the quick run has both (low_confidence, no_punctuation, ...)
    seen = {"Overview": browser.locator(VISIBLE_TAB).inner_text()}

    screenshots.open_tab(browser, "Errors", "#errors-tag")
    browser.locator("#errors-tag input").click()
    options = browser.get_by_role("option")
    expect(options.first).to_be_visible()
    seen["Errors tag filter"] = " | ".join(options.all_inner_texts())
    browser.keyboard.press("Escape")

    screenshots.open_tab(browser, "Slices", "#slices-plot .js-plotly-plot")
    seen["Slices"] = browser.locator(VISIBLE_TAB).inner_text()
    screenshots.open_tab(browser, "Robustness", "#robustness-table [data-testid='cell-0-0']")
    expect(browser.locator("#robustness-examples-note")).to_contain_text("flipped")
    browser.get_by_text("What each test does").click()  # folded: opened, its test names are shown
    seen["Robustness"] = browser.locator(VISIBLE_TAB).inner_text()
    assert {where: shown_keys(text, keys) for where, text in seen.items()} == {where: [] for where in seen}

    screenshots.open_tab(browser, "Calibration", "#calibration-reliability .js-plotly-plot")
    screenshots.open_tab(browser, "Data", "#dataset-checks-warnings")
    expect(browser.locator("#dataset-checks-warnings")).to_contain_text("KS D")
    for tab, terms in GLOSSED_ON.items():
        if tab == "Compare":
            continue  # glossed where a comparison is shown: test_compare_offers_a_run_made_later
        screenshots.click_tab(browser, tab)
        text = browser.locator(VISIBLE_TAB).inner_text()
        for term in terms:
            assert term in text, f"{tab} no longer shows {term}"
            assert gloss_start(term) in text, f"{tab} shows {term} without its gloss"


def test_robustness_arrives_on_the_test_the_overview_names(page: tuple[Any, list[str]], runs: Path) -> None:
    from playwright.sync_api import expect

    browser, _ = page
    report = Run.load(runs / "quick").get(ROBUSTNESS)
    assert report is not None
    worst = report.most_flipping()
    assert worst is not None
    browser.locator("#overview-robustness-open").click()
    title = perturbation_title(worst.name)
    expect(browser.locator("#robustness-test input")).to_have_value(f"{title} ({worst.flipped} flipped)")
    expect(browser.locator("#robustness-examples-note")).to_contain_text(f"{title} flipped {worst.flipped}")
    expect(browser.locator("#robustness-examples [data-testid='cell-0-0']")).to_be_visible()


@pytest.mark.parametrize(
    ("card", "tab", "target"),
    [
        ("accuracy", "Confusion matrix", "#confusion-plot .js-plotly-plot"),
        ("robustness", "Robustness", "#robustness-table"),
    ],
)
def test_an_overview_button_lands_on_its_content(
    page: tuple[Any, list[str]], card: str, tab: str, target: str
) -> None:
    """Clicked from the foot of the Overview, as a reader of every card does, with the tab it opens
    drawn before (as tall as it gets): that tab's first content is in the window's upper half."""
    browser, _ = page
    screenshots.open_tab(browser, tab, target)
    screenshots.open_tab(browser, "Overview", f"#overview-{card}-open")
    browser.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    browser.locator(f"#overview-{card}-open").click()
    browser.locator(target).first.wait_for(state="visible")
    landed = """([selector, height]) => {
      const box = document.querySelector(selector).getBoundingClientRect();
      return box.top >= 0 && box.top < height / 2;
    }"""
    browser.wait_for_function(landed, arg=[target, VIEWPORT["height"]], timeout=5_000)


def test_compare_offers_a_run_made_later(page: tuple[Any, list[str]], runs: Path) -> None:
    from playwright.sync_api import expect

    browser, _ = page
    screenshots.open_tab(browser, "Compare", "#compare-none")
    expect(browser.locator("#compare-none")).to_contain_text("agnews train --seed 1")
    expect(browser.locator("#compare-picker")).to_be_visible()
    expect(browser.locator("#compare-results")).to_be_hidden()  # nothing to show: no empty tables

    shutil.copytree(runs / "quick", runs / "quick-again")  # a run trained while the page is open
    screenshots.open_tab(browser, "Overview", "#overview-accuracy-text")
    screenshots.open_tab(browser, "Compare", "#compare-picker")
    expect(browser.locator("#compare-none")).to_be_hidden()
    browser.locator("#compare-picker input").click()
    browser.get_by_role("option", name="runs/quick-again").click()
    expect(browser.locator("#compare-summary")).to_contain_text("McNemar")
    expect(browser.locator("#compare-results")).to_be_visible()
    expect(browser.locator("#compare-glosses")).to_contain_text(gloss_start("McNemar"))
