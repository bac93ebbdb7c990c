"""Every tab at 1366x900 in a real Chromium: each tab shows in the bar (none in Gradio's "More tabs"
menu, `agnews.ui.style`), no table header cut ("conf…"), and no empty dashed file box that looks
like an upload target but is a download's place holder (downloads are one click:
`agnews.ui.downloads`).

Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing

from agnews.rundir.run import Run

pytestmark = pytest.mark.slow  # a real browser on a trained run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")

# Headers whose text is wider (or, wrapped, taller) than the room their column gives it.
CUT_HEADERS = """() => [...document.querySelectorAll('[role=columnheader] .header.text')]
  .filter((h) => h.offsetParent !== null)
  .filter((h) => h.scrollWidth > h.clientWidth || h.scrollHeight > h.clientHeight + 1)
  .map((h) => `${h.closest('[id]')?.id}: ${h.innerText.trim()}`)"""
# The tabs the bar itself shows (not those in its "More tabs" menu).
SHOWN_TABS = """() => [...document.querySelectorAll('[role=tablist] > [role=tab]')]
  .filter((t) => t.offsetParent !== null).map((t) => t.innerText.trim())"""
# Gradio draws an empty gr.File as a dashed block; an upload target has a file input inside.
EMPTY_FILE_BOXES = """() => [...document.querySelectorAll('.block')]
  .filter((b) => b.offsetParent !== null && b.style.borderStyle === 'dashed')
  .filter((b) => !b.querySelector('input[type=file]'))
  .map((b) => b.id || b.innerText.trim().slice(0, 40))"""


def test_no_header_is_cut_and_no_empty_file_box_shows(quick_run: Path) -> None:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    problems: dict[str, list[str]] = {}
    runs = Run.load(quick_run)
    with (
        screenshots.serve(runs, runs_root=quick_run.parent) as url,
        screenshots.browser_page() as (
            page,
            page_errors,
        ),
    ):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.set_default_timeout(screenshots.TIMEOUT_MS)
        page.goto(url)
        page.get_by_role("tab", name="Overview").wait_for()
        tabs = screenshots.tab_names(page)
        assert len(tabs) >= 15 and "Train" in tabs  # those in the "More tabs" menu too
        shown = page.evaluate(SHOWN_TABS)
        assert shown == tabs and page.get_by_role("button", name="More tabs").is_hidden()
        for name in tabs:
            screenshots.click_tab(page, name)
            page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
            page.wait_for_timeout(500)  # the grids size their columns after drawing
            found = page.evaluate(CUT_HEADERS) + page.evaluate(EMPTY_FILE_BOXES)
            if found:
                problems[name] = found
    assert problems == {}
    assert page_errors == []
