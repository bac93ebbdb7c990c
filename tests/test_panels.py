"""Analysis tabs on a run that changes while the page is open: one notice shape for all of them
(`agnews.ui.panel`), and the Errors tab taking in analyses that finish after the page opened."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from agnews.present.paths import shown_path
from agnews.present.tables import row_tags
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import build_app
from agnews.ui.errors import ANY, BY_CONFIDENCE, ErrorsView, tag_choices
from agnews.ui.live import LiveRun

LATER = {  # part -> its files, and what its stage records it made from
    "calibration": (("calibration.json",), ("predictions", "training", "config", "model")),
    "label_issues_test": (("label_issues_test.parquet",), ("predictions",)),
    "slices": (("slices.parquet", "slices.json"), ("config", "predictions")),
}


@pytest.fixture
def growing(synthetic_run: Path, tmp_path: Path) -> Path:
    """The synthetic run without its calibration, test label issues and slices (files kept aside)."""
    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    kept = tmp_path / "kept"
    kept.mkdir()
    with edit_run(path) as edit:
        for name in ("slices", *LATER):  # slices first: it is made from the other two
            for file in LATER[name][0]:
                shutil.copy2(path / file, kept / file)
            edit.remove(name)
    return path


def restore(path: Path, names: tuple[str, ...]) -> None:
    with edit_run(path) as edit:
        for name in names:
            files, made_from = LATER[name]
            for file in files:
                shutil.copy2(path.parent / "kept" / file, edit.file(file))
            edit.record(name, made_from)


def event(demo: gr.Blocks, api_name: str) -> Any:
    [found] = [f for f in demo.fns.values() if f.api_name == api_name]
    return found.fn


def by_id(updates: dict[Any, Any]) -> dict[str, Any]:
    return {getattr(c, "elem_id", None): v for c, v in updates.items()}


def test_a_failed_stage_is_reported_in_its_tab_with_the_command_that_remakes_it(
    growing: Path, predictor: Predictor
) -> None:
    live = LiveRun(Run.load(growing), ("calibration",), running=lambda: True)
    demo = build_app(live.current(), predictor, live)
    assert "The calibration report appears when the `calibration` stage has made it" in str(
        demo.get_config_file()
    )
    opened = event(demo, "calibration_open")
    assert list(opened(False).values()) == [False]  # still coming: the notice stays, nothing filled
    with edit_run(growing) as edit:
        edit.warn("calibration", "ValueError: no validation rows")
    shown = by_id(opened(False))
    status = shown["calibration-status"]["value"]
    assert "The `calibration` stage failed: ValueError: no validation rows" in status
    assert shown["calibration-status"]["visible"] and not shown["calibration-content"]["visible"]
    # the command names the run relative to its runs folder, never by its server path
    assert f"`agnews analyze {shown_path(growing, growing.parent)} --stages calibration`" in status
    assert str(growing) not in status


def test_the_errors_tab_takes_in_analyses_that_finish_after_the_page_opened(
    growing: Path, predictor: Predictor
) -> None:
    live = LiveRun(Run.load(growing), ("calibration", "label_issues_test", "slices"), running=lambda: True)
    demo = build_app(live.current(), predictor, live)
    opened = event(demo, "errors_open")
    view = ErrorsView()  # the tab's state as a fresh page has it, then the session's decisions
    before = by_id(opened(view, []))
    assert before["errors-tag"]["visible"] is False and before["errors-order"]["visible"] is False
    assert "likely mislabelled" not in before["errors-table"]["value"].columns
    restore(growing, ("calibration", "label_issues_test", "slices"))
    after = by_id(opened(view, []))
    tags = row_tags(Run.load(growing))
    assert after["errors-tag"]["visible"] is True and after["errors-tag"]["choices"] == tag_choices(tags)
    assert after["errors-order"]["visible"] is True
    assert "likely mislabelled" in after["errors-table"]["value"].columns
    # and the filters use them: a tag narrows the list
    narrowed = by_id(event(demo, "errors")(ANY, ANY, None, tags[0], BY_CONFIDENCE, view, []))
    table, note = narrowed["errors-table"], narrowed["errors-count"]
    assert len(table) < len(after["errors-table"]["value"]) and "mistakes match" in note
