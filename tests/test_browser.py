"""The app in a real headless Chromium: every tab renders, a headline is classified, links work.

The walk through the app is docs/screenshots.py's (the README's screenshots are taken the same way,
on a larger run); its screenshots of each tab go to `test-artifacts/` (kept out of git) for a person
to look at. Skipped when Debian's chromium is not installed, except in CI (which installs it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing

from agnews.rundir import Run

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")  # session, as `quick_run` is: checked before that run is trained
def chromium() -> Path:
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    return screenshots.CHROMIUM


def test_every_tab_in_chromium(chromium: Path, quick_run: Path) -> None:
    out = ARTIFACTS / "browser"
    for old in out.glob("*.png"):
        old.unlink()  # so that the pictures checked below are this run's
    run = Run.load(quick_run)
    with screenshots.serve(run) as url:
        page_errors = screenshots.take_screenshots(url, run, out)
    assert page_errors == []
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{name}.png" for name in screenshots.SHOTS)
