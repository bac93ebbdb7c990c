"""Linked views in a real Chromium: a heatmap cell, a slice and a map selection each open their rows
in the Errors tab, and the Errors table never contradicts its filters (one event sets both).

Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing

from agnews.analyses.slices.schema import PART as SLICES
from agnews.rundir.facts import TEST_ROW_TAGS
from agnews.rundir.run import Run
from agnews.ui.plot_events import parse

pytestmark = pytest.mark.slow  # a real browser on a trained run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
SIZE = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    return screenshots.CHROMIUM


def listed(page, column: int) -> list[str]:
    """The texts of one column of the Errors table's drawn rows (the grid draws only those in view:
    the count line gives the total)."""
    cells = page.locator(f"#errors-table [role='gridcell'][data-col='{column}']")
    return [text.strip() for text in cells.all_inner_texts()]


def test_plot_event_values_are_parsed_as_hostile_input() -> None:
    assert parse(None) is None and parse("") is None and parse("not json") is None
    assert parse(json.dumps({"kind": "hover", "points": []})) is None
    assert parse(json.dumps({"kind": "click", "points": "x"})) is None
    event = parse(json.dumps({"kind": "select", "points": [{"id": "7"}, {"id": 8}, {"x": "a", "y": "b"}, 3]}))
    assert event is not None and event.ids == ("7",) and event.cells == (("a", "b"),)
    assert parse("[" * 3_000_000) is None  # oversized: refused before parsing


def test_filters_fire_only_on_a_persons_edits(run: Run) -> None:
    """Another view sets the Errors filters and the table in one event; if the filters' own change
    events also refreshed the table, two events would race and the older could land last."""
    from agnews.serving.predictor import Predictor
    from agnews.ui import build_app

    demo = build_app(run, Predictor.from_run(run))
    config = demo.get_config_file()
    ids = {c["props"].get("elem_id"): c["id"] for c in config["components"]}
    filters = {ids[name] for name in ("errors-true", "errors-pred", "errors-tag", "errors-order")}
    triggers = {(target, event) for dep in config["dependencies"] for target, event in dep["targets"]}
    assert not {(f, "change") for f in filters} & triggers
    assert {(f, "input") for f in filters} <= triggers


def test_clicks_and_selections_open_their_rows(chromium: Path, quick_run: Path) -> None:
    from playwright.sync_api import expect

    run = Run.load(quick_run)
    rows = run.predictions
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size(SIZE)
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        count = page.locator("#errors-count")

        # A heatmap cell (not the table beside it): the top-right cell is true = first class,
        # predicted = last class (the heatmap's first row is drawn at the top).
        screenshots.open_tab(page, "Confusion matrix", "#confusion-plot .js-plotly-plot")
        cell = page.locator("#confusion-plot .nsewdrag").first.bounding_box()
        k = len(run.classes)
        page.mouse.click(cell["x"] + cell["width"] * (k - 0.5) / k, cell["y"] + cell["height"] * 0.5 / k)
        true_name, pred_name = run.classes[0], run.classes[-1]
        expected = rows[(rows["label_name"] == true_name) & (rows["pred_name"] == pred_name)]
        expect(count).to_contain_text(f"true {true_name}, predicted {pred_name}")
        expect(count).to_contain_text(f"listing all {len(expected)} rows")
        page.locator("#errors-table [role='gridcell']").first.wait_for()
        assert {int(i) for i in listed(page, 0)} <= set(expected["row_id"]) and len(expected) > 0
        assert set(listed(page, 2)) == {true_name} and set(listed(page, 3)) == {pred_name}
        expect(page.locator("#errors-true input")).to_have_value("any")  # the filters agree

        # Overlapping filter edits: the last one wins, and the table agrees with the filters shown.
        page.locator("#errors-all").click()
        expect(count).to_contain_text("mistakes match")
        for name in [*run.classes, run.classes[1]]:
            page.locator("#errors-true input").fill(name)
            page.keyboard.press("Enter")
        expect(page.locator("#errors-true input")).to_have_value(run.classes[1])
        page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
        wrong = rows[(rows["label"] != rows["pred"]) & (rows["label_name"] == run.classes[1])]
        expect(count).to_contain_text(f"{len(wrong)} of ")
        assert set(listed(page, 2)) <= {run.classes[1]}

        # A slice's row: its rows, mistakes first.
        tags = run.fact(TEST_ROW_TAGS)
        tag = next(t for t in tags.columns if 0 < tags[t].sum() < 200)
        screenshots.open_tab(page, "Slices", "#slices-table [data-testid='cell-0-0']")
        index = [s.name for s in run.get(SLICES).report.slices].index(tag)
        page.locator(f"#slices-table [data-testid='cell-{index}-0']").click()
        expect(count).to_contain_text(f"slice {tag} ({int(tags[tag].sum())} rows")
        expect(count).to_contain_text(f"listing all {int(tags[tag].sum())} rows")
        assert {int(i) for i in listed(page, 0)} <= set(rows.loc[tags[tag].to_numpy(), "row_id"])

        # A box selection on the map lists its points; "Open" lists them in the Errors tab.
        screenshots.open_tab(page, "Map", "#map-plot .js-plotly-plot")
        page.locator("#map-plot .modebar-btn[data-title='Box Select']").click()
        area = page.locator("#map-plot .nsewdrag").first.bounding_box()
        page.mouse.move(area["x"] + 2, area["y"] + 2)
        page.mouse.down()
        page.mouse.move(area["x"] + area["width"] - 2, area["y"] + area["height"] - 2, steps=4)
        page.mouse.up()
        expect(page.locator("#map-selection")).to_contain_text(f"{len(rows)} points selected")
        page.locator("#map-open").click()
        expect(count).to_contain_text(f"{len(rows)} points selected on the map")
    assert page_errors == []
