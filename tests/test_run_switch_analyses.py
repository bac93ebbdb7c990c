"""The analysis tabs on a page switched to another run (`?run=NAME`): each tab's notice, its lazy fill,
its events and what it laid out at build show that run (`agnews.ui.panel`, `agnews.ui.lazy`,
`agnews.ui.run_state.PageRuns.refresh`), and a page without `?run=` still shows the app's run.

The two runs differ where a tab must follow the page: the app's run (AG News, 4 classes) has no
robustness table; the other (2 classes) has no slice table but a cross-domain evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from analysis_runs import TWO_CLASSES, rows
from dataset_writers import write_table
from run_switch import APP_RUN, OTHER_RUN, by_id, event, page_on, refreshed, two_runs

from agnews.analyses.cross_domain.stage import cross_domain_run
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run
from agnews.ui import build_app
from agnews.ui.lazy import fill_when_opened

EVALUATION = "reviews"  # the other run's cross-domain part


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("switch-analyses") / "runs"
    news, other = two_runs(root, synthetic_run, tiny_distilbert)
    with edit_run(news) as edit:
        edit.remove("robustness")
    with edit_run(other) as edit:
        edit.remove("slices")
    labelled = write_table(root.parent / f"{EVALUATION}.csv", rows(TWO_CLASSES, 3, 5000))
    cross_domain_run(other, labelled, label_map="negative=negative,positive=positive", progress=False)
    return root


@pytest.fixture(scope="module")
def demo(runs_root: Path) -> gr.Blocks:
    return build_app(Run.load(runs_root / APP_RUN), runs_root=runs_root)


def shown_on_opening(demo: gr.Blocks) -> dict[str | None, Any]:
    """What the page's opening refreshes, by element id (inside `page_on`)."""
    return by_id(refreshed(demo))


def component(demo: gr.Blocks, elem_id: str) -> Any:
    [found] = [block for block in demo.blocks.values() if getattr(block, "elem_id", None) == elem_id]
    return found


def test_calibration_counts_the_pages_runs_test_rows(demo: gr.Blocks, runs_root: Path) -> None:
    rows_of = {name: len(Run.load(runs_root / name).predictions) for name in (APP_RUN, OTHER_RUN)}
    assert rows_of[APP_RUN] != rows_of[OTHER_RUN]
    with page_on(demo, OTHER_RUN):
        shown = shown_on_opening(demo)
        assert shown["calibration-content"]["visible"] and not shown["calibration-status"]["visible"]
        opened = by_id(event(demo, "calibration_open")(False))
        kept = event(demo, "calibration_kept")(0.0)
    assert f"of {rows_of[OTHER_RUN]})" in opened["calibration-kept"] and f"of {rows_of[OTHER_RUN]})" in kept
    with page_on(demo, None, session="page-on-the-app"):
        assert f"of {rows_of[APP_RUN]})" in event(demo, "calibration_kept")(0.0)


def test_label_issues_filter_by_the_pages_classes(demo: gr.Blocks) -> None:
    with page_on(demo, OTHER_RUN):
        shown = shown_on_opening(demo)
        listed = by_id(event(demo, "label_issues_list")([], "negative", "any", ""))
    for dropdown in ("label-issues-given", "label-issues-suggested"):
        assert shown[dropdown]["choices"] == ["any", *TWO_CLASSES] and shown[dropdown]["value"] == "any"
    assert set(listed["label-issues-test"]["given"]) <= {"negative"}
    assert component(demo, "label-issues-given").choices[1][0] == "World"  # as laid out, for the app


def test_the_data_tab_draws_the_pages_classes_and_splits(demo: gr.Blocks, runs_root: Path) -> None:
    other = Run.load(runs_root / OTHER_RUN)
    with page_on(demo, OTHER_RUN):
        drawn = by_id(event(demo, "data_open")(False))
        warned = by_id(event(demo, "data_warnings_open")(False))
    assert list(drawn["dataset-checks-classes"].data[0].y) == list(TWO_CLASSES)
    splits = drawn["dataset-checks-splits"]
    assert dict(zip(splits["split"], splits["rows"], strict=True))["test"] == len(other.predictions)
    assert f"**{other.data_stats.duplicates_dropped_from_train}**" in drawn["dataset-checks-dropped"]
    assert warned["dataset-checks-warnings"]
    with page_on(demo, None, session="page-on-the-app"):
        drawn = by_id(event(demo, "data_open")(False))
    assert len(drawn["dataset-checks-classes"].data[0].y) == 4


def test_a_tab_whose_part_only_the_pages_run_has_shows_it(demo: gr.Blocks) -> None:
    status = component(demo, "robustness-status")
    assert "Not available" in status.value and not component(demo, "robustness-content").visible
    with page_on(demo, OTHER_RUN):
        shown = shown_on_opening(demo)
        opened = by_id(event(demo, "robustness_open")(False))
    assert shown["robustness-content"]["visible"] and not shown["robustness-status"]["visible"]
    assert len(opened["robustness-table"]) > 0 and opened["robustness-test"]["choices"]
    with page_on(demo, None, session="page-on-the-app"):
        nothing = by_id(event(demo, "robustness_open")(False))
    assert nothing == {None: False}  # only the tab's "opened" state, still False: the notice stays


def test_a_tab_whose_part_the_pages_run_lacks_says_so(demo: gr.Blocks) -> None:
    assert component(demo, "slices-content").visible  # the app's run has its slices
    with page_on(demo, OTHER_RUN):
        shown = shown_on_opening(demo)
        opened = by_id(event(demo, "slices_open")(False))
    assert not shown["slices-content"]["visible"] and shown["slices-status"]["visible"]
    assert "Not available for this run" in shown["slices-status"]["value"]
    assert "being built" not in shown["slices-status"]["value"]
    assert set(opened) == {None}  # only the tab's own "opened" state: the app's slices never show
    with page_on(demo, None, session="page-on-the-app"):
        assert not {"slices-status", "slices-content"} & set(shown_on_opening(demo))


def test_cross_domain_shows_the_pages_evaluations_with_its_classes(demo: gr.Blocks) -> None:
    assert component(demo, "cross-domain-missing").visible  # the app's run has no evaluation
    with page_on(demo, OTHER_RUN):
        shown = shown_on_opening(demo)
        opened = by_id(event(demo, "cross_domain_open")(False))
        picked = by_id(event(demo, "cross_domain_show")(EVALUATION))
    assert not shown["cross-domain-missing"]["visible"] and shown["cross-domain-results"]["visible"]
    assert shown["cross-domain-probabilities"]["num_top_classes"] == len(TWO_CLASSES)
    assert opened["cross-domain-choice"]["choices"] == [EVALUATION]
    for filled in (opened, picked):
        errors = filled["cross-domain-errors"]
        assert len(errors) and set(errors["predicted"]) | set(errors["TF-IDF says"]) <= set(TWO_CLASSES)
        assert list(filled["cross-domain-plot"].data[0].x) == list(TWO_CLASSES)


def test_tuning_says_how_to_search_the_pages_run(demo: gr.Blocks) -> None:
    assert f"{APP_RUN}-tuned" in component(demo, "tuning-how").value
    with page_on(demo, OTHER_RUN):
        told = shown_on_opening(demo)["tuning-how"]
    assert f"{OTHER_RUN}-tuned" in told["value"] and f"{APP_RUN}-tuned" not in told["value"]
    with page_on(demo, None, session="page-on-the-app"):
        assert "tuning-how" not in shown_on_opening(demo)  # the app's page keeps what was laid out


def test_pages_on_several_runs_take_turns_without_recomputing(runs_root: Path) -> None:
    runs = [Run.load(runs_root / APP_RUN), Run.load(runs_root / OTHER_RUN)]
    shown = iter([*runs, *runs, *runs])
    filled: list[str] = []

    def fill(run: Run) -> dict[Any, Any]:
        filled.append(run.name)
        return {text: run.name}

    with gr.Blocks() as blocks, gr.Tab("A tab") as tab:
        text = gr.Markdown()
        fill_when_opened(tab, fill, [text], current=lambda: next(shown), name="a_tab_open")
    opening = event(blocks, "a_tab_open")
    answers = [opening(False)[text] for _ in range(6)]
    assert answers == [APP_RUN, OTHER_RUN] * 3 and filled == [APP_RUN, OTHER_RUN]
