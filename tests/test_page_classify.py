"""The Classify tab in a real headless Chromium at 1366x900: Enter classifies, the word scores' legend
is drawn in the words' own colours, the neighbour table fits, and the row editor shows an edit beside
its original (predictions, word scores, places on the map).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import chromium, screenshots  # noqa: F401 (the `chromium` fixture)

from agnews.present.word_scores import score_colour
from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser on the trained run

VIEWPORT = {"width": 1366, "height": 900}
HOSTILE = "${document.title} {{value}} `x`"
HEADLINE = f"Pakistan beats India as the cricket final ends in Lahore {HOSTILE}"
_RGBA = re.compile(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)")


def rgba(colour: str) -> tuple[float, float, float, float]:
    """A CSS colour as the browser computes it (or as `score_colour` writes it), as numbers."""
    found = _RGBA.fullmatch(colour)
    assert found, colour
    red, green, blue, alpha = found.groups()
    return float(red), float(green), float(blue), 1.0 if alpha is None else float(alpha)


@pytest.fixture(scope="module")
def url(chromium: Path, quick_run: Path) -> Iterator[str]:  # noqa: F811 (the fixture, by name)
    with screenshots.serve(Run.load(quick_run)) as address:
        yield address


@pytest.fixture
def page(url: str) -> Iterator[Any]:
    """The page on the Classify tab at 1366x900; no JavaScript error may happen on it."""
    with screenshots.browser_page() as (opened, page_errors):
        opened.add_init_script(screenshots.PLOTLY_TRACKER)
        opened.set_viewport_size(VIEWPORT)
        opened.set_default_timeout(screenshots.TIMEOUT_MS)
        opened.goto(url)
        screenshots.open_tab(opened, "Classify", "#classify-text textarea")
        yield opened
    assert page_errors == []


def drawn(page: Any, selector: str) -> list[dict[str, Any]]:
    """Each element's score (`data-change`), computed background colour and text."""
    return page.eval_on_selector_all(
        selector,
        "els => els.map(e => ({change: e.dataset.change, colour: getComputedStyle(e).backgroundColor,"
        " text: e.firstChild.textContent}))",
    )


def test_enter_classifies_and_the_legend_is_drawn_in_the_words_colours(page: Any) -> None:
    from playwright.sync_api import expect

    box = page.locator("#classify-text textarea")
    expect(page.locator("#classify-text")).to_contain_text("Enter classifies; Shift+Enter starts a new line")
    box.fill("Pakistan")
    box.press("Shift+Enter")  # a new line, not a classification
    assert box.input_value() == "Pakistan\n"
    box.fill(HEADLINE)
    box.press("Enter")
    page.locator("#classify-words .ws-word").first.wait_for()
    assert box.input_value() == HEADLINE  # Enter added no line
    expect(page.locator("#classify-label")).to_contain_text(re.compile("World|Sports|Business|Sci/Tech"))

    words = drawn(page, "#classify-words .ws-word")
    assert [w["text"] for w in words] == HEADLINE.split()  # hostile text shown as its characters
    swatches = drawn(page, "#classify-words .ws-swatch")
    assert len(swatches) == 9
    side = {1: rgba(swatches[-1]["colour"])[:3], -1: rgba(swatches[0]["colour"])[:3]}
    assert side[1] != side[-1]  # two-sided
    for element in swatches + words:
        change = float(element["change"])
        shown, expected = rgba(element["colour"]), rgba(score_colour(change))
        # The browser keeps alpha in 8 bits and writes it with two decimals.
        assert shown[:3] == expected[:3] and shown[3] == pytest.approx(expected[3], abs=0.01)
        if abs(change) >= 1e-3:  # a visible shade: the hue of its side of the legend
            assert rgba(element["colour"])[:3] == side[1 if change > 0 else -1]
    expect(page.locator("#classify-words .ws-summary")).to_contain_text("percentage points")


def test_the_neighbour_table_fits_the_page(page: Any) -> None:
    page.locator("#classify-text textarea").fill(HEADLINE)
    page.locator("#classify-button").click()
    page.locator("#classify-neighbours [data-testid='cell-0-0']").wait_for()
    # Every element of the table that is drawn (Gradio keeps a collapsed row to measure cells with).
    overflowing = page.eval_on_selector_all(
        "#classify-neighbours, #classify-neighbours *",
        "els => els.filter(e => getComputedStyle(e).visibility === 'visible')"
        ".filter(e => e.scrollWidth > e.clientWidth)"
        ".map(e => `${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)",
    )
    assert overflowing == []
    right = page.eval_on_selector("#classify-neighbours", "e => e.getBoundingClientRect().right")
    assert right <= VIEWPORT["width"]


def places(page: Any) -> dict[str, tuple[float, float]]:
    """Where the editor's map puts the original and the edit."""
    traces = page.evaluate("() => document.querySelector('#editor-map .js-plotly-plot').data")
    return {t["name"]: (t["x"][0], t["y"][0]) for t in traces if t["name"] in ("original", "edit")}


def test_the_editor_shows_an_edit_beside_its_original(page: Any, quick_run: Path) -> None:
    from playwright.sync_api import expect

    row = Run.load(quick_run).predictions.iloc[7]
    page.locator("#editor-row input").fill(str(row["row_id"]))
    page.locator("#editor-open").click()
    expect(page.locator("#editor-original-text")).to_contain_text(f"row {row['row_id']}")
    page.wait_for_function(
        "() => (document.querySelector('#editor-map .js-plotly-plot')?.data ?? []).length > 4"
    )
    unedited = places(page)
    assert unedited["original"] == unedited["edit"]  # the same text lands on the same place
    assert page.locator("#editor-text textarea").input_value() == row["text"]
    expect(page.locator("#editor-change")).to_contain_text("The prediction stays")

    edit = "Stocks fall on Wall Street as oil prices climb and investors sell shares"
    page.locator("#editor-text textarea").fill(edit)
    page.locator("#editor-text textarea").press("Enter")
    expect(page.locator("#editor-change")).to_contain_text("in the edit")
    page.wait_for_function("() => window.__plotlyPending === 0")
    page.wait_for_function(
        "() => document.querySelector('#editor-edit-words .ws-words')?.textContent.includes('investors')"
    )
    moved = places(page)
    assert moved["original"] == unedited["original"] and moved["edit"] != moved["original"]
    assert [w["text"] for w in drawn(page, "#editor-edit-words .ws-word")] == edit.split()
    assert [w["text"] for w in drawn(page, "#editor-original-words .ws-word")] == row["text"].split()

    # Side by side: the original's column left of the edit's, both with a prediction, in the viewport's width.
    boxes = {name: page.locator(f"#editor-{name}").bounding_box() for name in ("original", "edit")}
    assert boxes["original"]["x"] + boxes["original"]["width"] <= boxes["edit"]["x"]
    assert boxes["edit"]["x"] + boxes["edit"]["width"] <= VIEWPORT["width"]
    assert abs(boxes["original"]["y"] - boxes["edit"]["y"]) < 5
    for side in ("original", "edit"):
        expect(page.locator(f"#editor-{side}-label")).to_contain_text(
            re.compile("World|Sports|Business|Sci/Tech")
        )


def test_an_unknown_row_id_is_a_message(page: Any) -> None:
    from playwright.sync_api import expect

    page.locator("#editor-row input").fill("99999999")
    page.locator("#editor-open").click()
    expect(page.get_by_text("No test row 99999999").first).to_be_visible()
