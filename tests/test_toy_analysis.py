"""A new analysis is one folder and one line in the list: the toy analysis (`tests/toy_analysis/`,
added as `(*ANALYSES, WORD_COUNTS)`) is seen everywhere an analysis shows, with no other file touched:
its stage runs (`agnews analyze --stages`, and among the default stages), its part is validated on
loading, it has its own command, an Overview card, a report section, a model-card section, and a tab
drawn in Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import ROOT, load_script, missing
from toy_analysis.declaration import WORD_COUNTS
from toy_analysis.schema import PART, WordCounts

from agnews.analyses import ANALYSES
from agnews.cli import main
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.run import Run

WITH_TOY = (*ANALYSES, WORD_COUNTS)
TOY_CATALOG = Catalog(WITH_TOY)


@pytest.fixture(scope="module")
def toy_run(synthetic_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic run with the toy part made by `agnews analyze --stages word_counts`."""
    path = tmp_path_factory.mktemp("toy") / "run"
    shutil.copytree(synthetic_run, path)
    assert main(["analyze", str(path), "--stages", "word_counts"], WITH_TOY) == 0
    return path


def test_the_list_is_data_and_the_default_catalog_lacks_the_toy() -> None:
    assert isinstance(ANALYSES, tuple) and WORD_COUNTS not in ANALYSES
    assert "word_counts" not in CATALOG.stages and "word_counts" not in CATALOG.parts
    assert TOY_CATALOG.maker("word_counts").name == "word_counts"
    assert TOY_CATALOG.default_stages()[-1] == "word_counts"  # its declared order: last


def test_its_stage_runs_and_its_part_is_validated_on_loading(toy_run: Path, tmp_path: Path) -> None:
    run = Run.load(toy_run, TOY_CATALOG)
    counts = run.get(PART)
    assert isinstance(counts, WordCounts) and counts.rows == len(run.predictions) and counts.mean_words > 5
    record = run.manifest.parts["word_counts"]  # provenance and settings filled by the runner
    assert record.stage == "word_counts" and set(record.made_from) == {"predictions"}
    assert record.settings == {"longest": 1}
    assert TOY_CATALOG.pending_stages(run) == ()
    assert Run.load(toy_run).part("word_counts") is None  # a list without it leaves the part unread

    damaged = tmp_path / "run"
    shutil.copytree(toy_run, damaged)
    (damaged / "word_counts.json").write_text(json.dumps({"rows": -3, "mean_words": 1.0, "longest": 0}))
    warnings = Run.load(damaged, TOY_CATALOG).warnings
    assert any(
        "word_counts.json: ignored (" in w and "key rows" in w and "--stages word_counts" in w
        for w in warnings
    )


def test_its_command_and_its_stage_choice(toy_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["word-counts", str(toy_run)], WITH_TOY) == 0
    assert "words on average" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"], WITH_TOY)
    assert "word-counts  Print a run's word counts (a toy analysis)." in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["analyze", "--help"], WITH_TOY)
    assert "word_counts: words per test text (a toy analysis)" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        main(["word-counts", str(toy_run)])  # the default list has no such command
    assert "invalid choice: 'word-counts'" in capsys.readouterr().err


def test_its_card_report_and_model_card_sections(toy_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agnews.hub.card import build_model_card
    from agnews.present.report import build_report
    from agnews.ui import overview
    from agnews.ui.overview import cards

    run = Run.load(toy_run, TOY_CATALOG)
    with (
        monkeypatch.context() as patched
    ):  # the order by rank, before the Overview puts the most severe first
        patched.setattr(overview, "by_severity", list)
        keys = [card.key for card in cards(run)]
    assert keys.index("robustness") < keys.index("word_counts") < keys.index("cross-domain")  # rank 65
    headline = next(card for card in cards(run) if card.key == "word_counts").headline
    assert "words on average" in headline
    assert "<h2>Word counts</h2>" in build_report(run)
    assert "### Word counts\n\nTest texts have" in str(build_model_card(run, "someone/toy"))


@pytest.mark.slow
def test_its_tab_is_drawn_in_chromium(toy_run: Path) -> None:
    from playwright.sync_api import expect

    screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")
    if not screenshots.CHROMIUM.exists():
        missing(f"{screenshots.CHROMIUM} not installed")
    run = Run.load(toy_run, TOY_CATALOG)
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size({"width": screenshots.SIZE[0], "height": screenshots.SIZE[1]})
        page.goto(url)
        page.get_by_role("tab", name="Overview").wait_for()
        titles = screenshots.tab_names(page)
        assert titles.index("Robustness") + 1 == titles.index("Word counts"), titles  # its `after`
        screenshots.open_tab(page, "Word counts", "#word-counts-headline")
        expect(page.locator("#word-counts-headline")).to_contain_text("words on average")
    assert page_errors == []
