"""Clicks and pixels scrolled on one everyday path through the page, as a table: confusion matrix
→ the largest confusion's mistakes → decide on the first one (relabel it to the suggestion) →
download the listed rows. At 1366x900 in headless Chromium.

    .venv/bin/python bench/decision_path.py --run runs/quick

Each step is what a person does with the page as it is: the fewest clicks it needs (a step's
clicks are counted as the script makes them), the page scrolled by Playwright to bring each target
into view as a person would scroll (the pixels are the sum of the window's scroll movements). The
script knows two pages: today's (a heatmap cell opens the rows; "Accept suggestion" beside the row;
one-click downloads) and the one before it (a click on the counts table set the Errors filters; the
decision form below the neighbours; export, then the file link), found by what the page shows, so
the same command measures a checkout of either. The run is copied; decisions go to the copy.
Not a test.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
sys.path.insert(0, str(ROOT / "bench"))


class Walk:
    """Counts clicks and the window's scroll movement over a walk through the page."""

    def __init__(self, page) -> None:
        self.page, self.clicks, self.pixels = page, 0, 0.0
        self.steps: list[tuple[str, int, float]] = []

    def click(self, locator) -> None:
        before = self.page.evaluate("window.scrollY")
        locator.scroll_into_view_if_needed()
        self.pixels += abs(self.page.evaluate("window.scrollY") - before)
        locator.click()
        self.clicks += 1

    def mouse_click(self, x: float, y: float) -> None:
        self.page.mouse.click(x, y)
        self.clicks += 1

    def step(self, name: str) -> None:
        done = sum(s[1] for s in self.steps), sum(s[2] for s in self.steps)
        self.steps.append((name, self.clicks - done[0], self.pixels - done[1]))


def main(argv: list[str] | None = None) -> int:
    import screenshots
    from machine import cpu_name
    from playwright.sync_api import expect

    from agnews.rundir.run import Run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="agnews-path-"))
    path = shutil.copytree(args.run, work / "runs" / args.run.name)
    run = Run.load(path)
    classes = list(run.classes)
    matrix = np.asarray(run.metrics.test.confusion_matrix)
    np.fill_diagonal(matrix, -1)
    true, pred = (int(i) for i in np.unravel_index(matrix.argmax(), matrix.shape))
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(url)
        walk = Walk(page)
        walk.click(page.get_by_role("tab", name="Confusion matrix"))
        page.locator("#confusion-plot .js-plotly-plot").wait_for()
        today = page.locator("#confusion-plot-events").count() > 0
        if today:  # the heatmap's own cell
            area = page.locator("#confusion-plot .nsewdrag").first.bounding_box()
            k = len(classes)
            walk.mouse_click(
                area["x"] + area["width"] * (pred + 0.5) / k, area["y"] + area["height"] * (true + 0.5) / k
            )
            expect(page.locator("#errors-count")).to_contain_text(f"predicted {classes[pred]}")
        else:
            walk.click(page.locator(f"#confusion-cells [data-testid='cell-{true}-{pred + 1}']"))
            expect(page.locator("#errors-pred input")).to_have_value(classes[pred])
        walk.step("a confusion's mistakes listed")
        walk.click(page.locator("#errors-table [data-testid='cell-0-1']"))
        page.locator("#errors-details").get_by_text("wrong").wait_for()
        walk.step("a mistake opened")
        if today:
            accept = page.locator("#errors-decision-accept")
            expect(accept).to_be_enabled()
            walk.click(accept)
        else:  # the class to relabel to is pre-filled with the suggestion where there is one
            if not page.locator("#errors-decision-label input").input_value():
                walk.click(page.locator("#errors-decision-label"))
                walk.click(page.get_by_role("option", name=classes[true], exact=True).first)
            walk.click(page.locator("#errors-decision-record"))
        expect(page.locator("#errors-decisions")).to_contain_text("relabel")
        walk.step("relabelled to the suggestion")
        with page.expect_download():
            if today:
                walk.click(page.locator("#errors-csv"))
            else:
                walk.click(page.get_by_role("button", name="Export these rows as CSV"))
                walk.click(page.locator("a[download]").last)
        walk.step("the rows downloaded")
    print(f"CPU: {cpu_name()}; page: {'today' if today else 'before'}")
    print("| step | clicks | pixels scrolled |\n|---|---|---|")
    for name, clicks, pixels in walk.steps:
        print(f"| {name} | {clicks} | {pixels:.0f} |")
    print(f"| **total** | **{walk.clicks}** | **{walk.pixels:.0f}** |")
    if page_errors:
        print("page errors:", page_errors)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
