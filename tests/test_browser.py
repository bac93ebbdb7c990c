"""The app in a real headless Chromium: every tab renders, a headline is classified, links work;
on a run still being built, the status line shows and the map appears when its part is made.

The walk through the app is docs/screenshots.py's (the README's screenshots are taken the same way,
on a larger run); its screenshots of each tab go to `test-artifacts/` (kept out of git) for a person
to look at. Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing
from test_cross_domain import NEWS_MAP, news_rows, write_csv
from test_live_run import restore_parts, without_parts

from agnews.rundir import Run
from agnews.ui.live import LiveRun

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")  # session, as `quick_run` is: checked before that run is trained
def chromium() -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    return screenshots.CHROMIUM


def test_every_tab_in_chromium(
    chromium: Path, quick_run: Path, quick_run_seed_1: Path, tmp_path: Path
) -> None:
    from agnews.training.cross_domain import cross_domain_run

    out = ARTIFACTS / "browser"
    for old in out.glob("*.png"):
        old.unlink()  # so that the pictures checked below are this run's
    path = tmp_path / "quick"
    shutil.copytree(quick_run, path)  # the shared run stays without a cross-domain part
    news = write_csv(tmp_path / "other-news.csv", ["category", "text"], news_rows(6))
    cross_domain_run(
        path, news, text_columns=["text"], label_column="category", label_map=NEWS_MAP, progress=False
    )
    run = Run.load(path)
    with screenshots.serve(run, compare_with=Run.load(quick_run_seed_1)) as url:
        page_errors = screenshots.take_screenshots(url, run, out, compared=True)
    assert page_errors == []
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{name}.png" for name in screenshots.SHOTS)


def test_parts_arrive_in_the_open_page(chromium: Path, quick_run: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    out = ARTIFACTS / "browser-live"
    out.mkdir(parents=True, exist_ok=True)
    path = without_parts(quick_run, tmp_path / "runs" / "quick")
    run = Run.load(path)
    live = LiveRun(run, ("embed", "map"), running=lambda: True)
    with screenshots.serve(run, live) as url, screenshots.browser_page() as (page, page_errors):
        page.add_init_script(screenshots.PLOTLY_TRACKER)  # for `shoot`, which waits for Plotly
        page.set_viewport_size({"width": screenshots.SIZE[0], "height": screenshots.SIZE[1]})
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        status = page.locator("#run-status")
        expect(status).to_contain_text("Still being built")
        screenshots.open_tab(page, "Map", "#map-building")
        expect(page.locator("#map-plot")).to_have_count(0)  # not rendered while hidden
        page.screenshot(path=str(out / "building.png"))

        restore_parts(path, ("embeddings", "baseline", "map"))  # the stages commit
        page.locator("#map-plot .js-plotly-plot").wait_for(state="visible")
        expect(page.locator("#map-building")).to_be_hidden()
        expect(status).to_be_hidden()
        first = page.locator("#map-table [data-testid='cell-0-0']")
        row_id = first.inner_text().strip()
        first.click()  # the filled tab's events work
        page.locator("#map-details").get_by_text(f"Row {row_id}").wait_for()
        screenshots.shoot(page, out / "arrived.png")
        screenshots.open_tab(page, "Confusion matrix", "#confusion-metrics")  # first opened now
        expect(page.locator("#confusion-metrics")).to_contain_text("frozen base")

        page.goto(url)  # a page opened after the parts arrived shows them, without a status line
        screenshots.open_tab(page, "Map", "#map-plot .js-plotly-plot")
        expect(page.locator("#map-building")).to_be_hidden()
        expect(status).to_be_hidden()
    assert page_errors == []
