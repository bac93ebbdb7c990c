"""The static report (`agnews report`): every section of a run's parts, the app's notice for each
missing one, no network reference, written by the CLI and sent by `agnews push`, and in a real
headless Chromium opened offline with every figure drawn."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import drawn_figures, report_in_chromium

from agnews.cli import main
from agnews.present.report import REPORT_FILE, build_report
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run

SECTIONS = (
    "Test metrics",
    "Worst errors",
    "Maps",
    "Calibration",
    "Label issues",
    "Slices",
    "Robustness",
    "Out-of-domain files",
    "Dataset warnings",
)
REMOVED = ("map", "calibration", "slices", "robustness", "label_issues_test")


@pytest.fixture(scope="module")
def report(synthetic_run: Path) -> str:
    return build_report(Run.load(synthetic_run))


def test_report_has_every_section_of_the_run(report: str, synthetic_run: Path) -> None:
    headings = re.findall(r"<h2>([^<]*)</h2>", report)
    assert [h for h in headings if h in SECTIONS] == list(SECTIONS)
    assert "Not available for this run" not in report.split("<h2>Out-of-domain files</h2>")[0]
    run = Run.load(synthetic_run)
    assert f"{run.metrics.test.accuracy:.2%}".rstrip("%") in report  # the header's accuracy
    assert report.count('class="plotly-graph-div"') >= 5  # confusion, two maps, reliability, slices
    assert build_report(run) == report  # the same run, the same bytes: a push re-uploads nothing


def test_report_names_how_to_add_each_missing_part(synthetic_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(synthetic_run, copy)
    with edit_run(copy) as edit:
        for name in REMOVED:
            edit.remove(name)
    report = build_report(Run.load(copy))
    for stage in ("map", "calibration", "slices", "robustness"):
        assert f"agnews analyze {copy.parent.name}/{copy.name} --stages {stage}" in report, stage
    assert report.count("Not available for this run") >= len(REMOVED)


def test_report_is_self_contained_and_escaped(report: str) -> None:
    head, body = report.split("</head>")
    bundles = re.findall(r"<script[^>]*>(.*?)</script>", head, flags=re.S)
    assert len(bundles) == 1 and "plotly" in bundles[0][:300]  # plotly.js inlined once, in the head
    page = head.replace(bundles[0], "") + body  # the bundle's own strings (links in its UI) aside
    assert not re.search(r"""<script[^>]*\ssrc=|<link|@import|url\(""", page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert page.count("Plotly.newPlot") >= 5


def test_cli_writes_the_report_and_refuses_a_missing_run(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(synthetic_run), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "MB)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.html")]) == 2
    assert "agnews report: error:" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_push_sends_the_report(synthetic_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "upload"
    assert (
        main(["push", str(synthetic_run), "--repo-id", "someone/agnews", "--dry-run", "--out", str(out)]) == 0
    )
    assert "Worst errors" in (out / REPORT_FILE).read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_renders_offline_in_chromium(report: str, tmp_path: Path) -> None:
    with report_in_chromium(report, tmp_path / REPORT_FILE) as (page, page_errors, blocked):
        count = page.locator(".js-plotly-plot").count()
        drawn = drawn_figures(page)
    assert count == report.count('class="plotly-graph-div"')
    assert drawn == count
    assert page_errors == []
    assert blocked == []
