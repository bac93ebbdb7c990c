"""Nothing the page writes vanishes: after a browser reload, a cross-domain evaluation made from the
page is in its tab, on the Overview and in the downloaded report, named by the uploaded file's own
name; a decision recorded on the page is listed again. In a real headless Chromium at 1366x900."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing
from test_cross_domain import news_rows, write_csv

from agnews.analyses.cross_domain.schema import FAMILY as CROSS_DOMAIN
from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser and a trained run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
VIEWPORT = {"width": 1366, "height": 900}
FILE = "Wire stories (1987).csv"  # spaces and brackets: the part name is made from it, sanitised
MEMBER = "Wire-stories-1987"


@pytest.fixture(scope="session")  # session, as `quick_run` is: checked before that run is trained
def chromium() -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    return screenshots.CHROMIUM


def evaluate_upload(page, news: Path) -> None:
    """On the open Cross-domain tab: upload `news`, keep the columns and map found, evaluate."""
    from playwright.sync_api import expect

    page.locator("#cross-domain-upload input[type=file]").set_input_files(str(news))
    expect(page.locator("#cross-domain-label-column input")).to_have_value("category")
    expect(page.locator("#cross-domain-name textarea")).to_have_value(MEMBER)
    expect(page.locator("#cross-domain-label-map")).to_contain_text("sports (6 rows)")  # the map is filled
    page.locator("#cross-domain-run").click()
    expect(page.locator("#cross-domain-status")).to_contain_text("Saved in the run", timeout=240_000)


def report_text(page) -> str:
    """The report the Overview's button hands out, fetched the way the browser downloads it."""
    page.locator("#overview-report").click()
    link = page.locator("#overview-report-file a[download]").first
    link.wait_for()
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    return response.text()


def test_a_page_made_part_and_decision_survive_a_reload(
    chromium: Path, quick_run_copy: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    path = quick_run_copy  # no cross-domain part yet
    news = write_csv(tmp_path / FILE, ["category", "text"], news_rows(6))
    with screenshots.serve(Run.load(path)) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size(VIEWPORT)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        screenshots.open_tab(page, "Cross-domain", "#cross-domain-upload")
        evaluate_upload(page, news)
        screenshots.open_tab(page, "Label issues", "#label-issues-train")
        relabelled_to = screenshots.decide_on_first_training_row(page, note="kept across reloads")

        page.reload()
        page.locator("#overview-accuracy-text").wait_for(state="visible")
        expect(page.locator("#overview-cross-domain-text")).to_contain_text(MEMBER)
        assert MEMBER in report_text(page)

        screenshots.open_tab(page, "Cross-domain", "#cross-domain-summary")
        expect(page.locator("#cross-domain-summary")).to_contain_text(f"“{FILE}”")
        expect(page.locator("#cross-domain-choice input")).to_have_value(MEMBER)
        page.locator("#cross-domain-plot .js-plotly-plot").wait_for(state="visible")
        expect(page.get_by_text("This run has no cross-domain evaluation")).to_have_count(0)

        screenshots.open_tab(page, "Label issues", "#label-issues-train")
        expect(page.locator("#label-issues-decisions")).to_contain_text("kept across reloads")
        expect(page.locator("#label-issues-decisions")).to_contain_text(relabelled_to)
    assert page_errors == []
    metrics = Run.load(path).members(CROSS_DOMAIN)[MEMBER].metrics
    assert metrics.source == FILE  # its own name: no temporary folder of the server's
