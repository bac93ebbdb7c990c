"""The app in a real headless Chromium: every tab renders, a headline is classified, links work;
on a run still being built, the status line shows and the map appears when its part is made.

The walk through the app is docs/screenshots.py's (the README's screenshots are taken the same way,
on a larger run); its screenshots of each tab go to `test-artifacts/` (kept out of git) for a person
to look at. Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing
from test_cross_domain import NEWS_MAP, news_rows, write_csv
from test_live_run import restore_parts, without_parts
from test_markup import (
    EVIL,
    FILE_NAME,
    hostile_run_folder,  # noqa: F401 (the `hostile_run` fixture)
)

from agnews.analyses.cross_domain.schema import FAMILY as CROSS_DOMAIN
from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.present.glossary import perturbation_title
from agnews.rundir.run import Run
from agnews.ui.live import LiveRun

pytestmark = pytest.mark.slow  # a real browser, and most tests a trained run

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
    from agnews.analyses.cross_domain.stage import cross_domain_run

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


def test_a_decision_survives_a_restart_trains_a_run_and_a_public_page_cannot_write(
    chromium: Path, quick_run_copy: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from agnews.rundir.decisions import DECISIONS_FOLDER
    from agnews.training.train import train_run

    path = quick_run_copy
    run = Run.load(path)
    store = path.parent / DECISIONS_FOLDER
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.goto(url)
        screenshots.open_tab(page, "Label issues", "#label-issues-train [data-testid='cell-0-0']")
        suggested = screenshots.decide_on_first_training_row(page, note="a merger story")
    [log] = store.glob("train-*.jsonl")
    with screenshots.serve(Run.load(path)) as url, screenshots.browser_page() as (page, page_errors):
        page.goto(url)  # a restarted app, on the same runs folder
        screenshots.open_tab(page, "Label issues", "#label-issues-train [data-testid='cell-0-0']")
        expect(page.locator("#label-issues-decisions")).to_contain_text(f"relabel → {suggested}")
        expect(page.locator("#label-issues-decisions")).to_contain_text("a merger story")
        with page.expect_download() as download:  # one click: no file box to fill first
            page.locator("#label-issues-decision-export").click()
        exported = tmp_path / "decisions.csv"
        download.value.save_as(exported)
    assert page_errors == []
    config = dataclasses.replace(run.config.train, corrections=str(exported), epochs=1.0)
    corrected = Run.load(train_run(config, tmp_path / "runs" / "corrected", progress=False, stages=()))
    assert corrected.config.train.corrections == str(exported)
    assert corrected.data_stats.corrections is not None and corrected.data_stats.corrections.relabelled == 1
    assert corrected.config.data.rows["train"] == run.config.data.rows["train"]

    before = log.read_text()
    with screenshots.serve(run, may_write=False) as url, screenshots.browser_page() as (page, page_errors):
        page.goto(url)
        screenshots.open_tab(page, "Label issues", "#label-issues-train [data-testid='cell-0-0']")
        expect(page.locator("#label-issues-decision-storage")).to_contain_text("in this browser session")
        screenshots.decide_on_first_training_row(page)
        expect(page.locator("#label-issues-decisions")).to_contain_text("relabel →")
    assert log.read_text() == before  # the public page decided in the session, and wrote nothing
    assert sorted(p.name for p in store.iterdir() if p.suffix == ".jsonl") == [log.name]


def test_each_overview_card_lands_on_the_view_it_names(
    chromium: Path, quick_run: Path, quick_run_seed_1: Path, tmp_path: Path
) -> None:
    """From a fresh page (no tab opened yet, so each landing must fill its tab itself)."""
    from playwright.sync_api import expect

    from agnews.analyses.cross_domain.stage import cross_domain_run
    from agnews.ui.overview import cards

    path = tmp_path / "quick"
    shutil.copytree(quick_run, path)
    news = write_csv(tmp_path / "other-news.csv", ["category", "text"], news_rows(6))
    cross_domain_run(
        path, news, text_columns=["text"], label_column="category", label_map=NEWS_MAP, progress=False
    )
    run, other = Run.load(path), Run.load(quick_run_seed_1)
    shown = {card.key: card for card in cards(run, compare_with=other)}
    worst_test = run.get(ROBUSTNESS).most_flipping()
    landings = {
        "accuracy": "#confusion-plot .js-plotly-plot",
        "confusion": "#errors-table [data-testid='cell-0-0']",
        "calibration": "#calibration-reliability .js-plotly-plot",
        "label-issues": "#label-issues-test [data-testid='cell-0-0']",
        "slices": "#errors-table",
        "robustness": "#robustness-examples [data-testid='cell-0-0']",
        "cross-domain": "#cross-domain-plot .js-plotly-plot",
        "dataset-checks": "#dataset-checks-warnings",
        "compare": "#compare-confusion .js-plotly-plot",
    }
    assert set(landings) == set(shown)  # every card is visited
    with screenshots.serve(run, compare_with=other) as url:
        for key, ready in landings.items():
            with screenshots.browser_page() as (page, page_errors):
                page.set_default_timeout(screenshots.TIMEOUT_MS)
                page.goto(url)
                page.locator(f"#overview-{key}-open").click()
                page.locator(ready).first.wait_for(state="visible")
                if shown[key].errors_filter is not None:  # the card's mistakes, opened under its title
                    opened = f"the Overview's {shown[key].title}"
                    expect(page.locator("#errors-count")).to_contain_text(opened)
                if key == "robustness":
                    expect(page.locator("#robustness-test input")).to_have_value(
                        re.compile(re.escape(perturbation_title(worst_test.name)))
                    )
                if key == "compare":
                    expect(page.locator("#compare-summary")).to_contain_text("McNemar")
            assert page_errors == [], key


def test_a_labelled_csv_uploaded_from_the_page_is_evaluated_and_saved(
    chromium: Path, quick_run_copy: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    path = quick_run_copy  # no cross-domain part yet: the upload form is open
    news = write_csv(tmp_path / "wire.csv", ["category", "text"], news_rows(6))
    with screenshots.serve(Run.load(path)) as url, screenshots.browser_page() as (page, page_errors):
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        screenshots.open_tab(page, "Cross-domain", "#cross-domain-upload")
        page.locator("#cross-domain-upload input[type=file]").set_input_files(str(news))
        expect(page.locator("#cross-domain-label-column input")).to_have_value("category")
        expect(page.locator("#cross-domain-label-map")).to_contain_text("sports (6 rows)")
        page.locator("#cross-domain-run").click()
        expect(page.locator("#cross-domain-status")).to_contain_text("Saved in the run", timeout=240_000)
        page.locator("#cross-domain-plot .js-plotly-plot").wait_for(state="visible")
        expect(page.locator("#cross-domain-scores")).to_contain_text("TF-IDF")
    assert page_errors == []
    assert list(Run.load(path).members(CROSS_DOMAIN)) == ["wire"]


def test_a_files_markup_is_shown_as_text_and_fetches_nothing(chromium: Path, hostile_run: Path) -> None:
    """The cross-domain summary and a mistake's details of a file whose header, label values and
    texts carry Markdown images and HTML tags: shown as text, and the page asks no other host."""
    from playwright.sync_api import expect

    outside: list[str] = []
    with screenshots.serve(Run.load(hostile_run)) as url, screenshots.browser_page() as (page, page_errors):
        page.on("request", lambda request: outside.append(request.url) if EVIL in request.url else None)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        screenshots.open_tab(page, "Cross-domain", "#cross-domain-summary")
        summary = page.locator("#cross-domain-summary")
        expect(summary).to_contain_text(FILE_NAME)
        expect(summary).to_contain_text(f"![l]({EVIL}/label.png)")
        page.locator("#cross-domain-errors [data-testid='cell-0-1']").click()
        # cleaning drops the tag itself (`agnews.text`); the Markdown around it reads as written
        details = page.locator("#cross-domain-details")
        expect(details).to_contain_text(f"![pic]({EVIL}/md.png) `tick` **bold**")
        page.wait_for_timeout(500)  # an <img> asks as soon as it is drawn (the page never idles: SSE)
        images = page.locator("#cross-domain-summary img, #cross-domain-details img").count()
    assert page_errors == []
    assert outside == [] and images == 0
