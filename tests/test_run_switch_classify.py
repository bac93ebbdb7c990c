"""A page on another run (`?run=NAME`) classifies, edits rows, draws the map and finds neighbours
with that run: its classes, its model, its rows, never the app's; a page without `?run=` keeps the
app's run. The two-class run has no map; a copy of it with one (`MAPPED`) shows the map's side.
Throttled events (`agnews.ui.throttle.limited`) take the request first: None here, one client."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from analysis_runs import TWO_CLASSES, build_class_run
from run_switch import APP_RUN, OTHER_RUN, by_id, event, page_on, refreshed, two_runs
from synthetic_run import _map_coords

from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run
from agnews.ui import build_app
from agnews.ui.classify import GONE_MESSAGE

MAPPED = f"{OTHER_RUN}-mapped"  # the two-class run with a map
MANY = "many"  # a mapped run of more classes than the map's filter gives a box each
MANY_CLASSES = [f"topic {i:02d}" for i in range(30)]


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("switch-classify") / "runs"
    _, other = two_runs(root, synthetic_run, tiny_distilbert)
    shutil.copytree(other, root / MAPPED)
    many = build_class_run(root / MANY, tiny_distilbert, MANY_CLASSES, train_per_class=8, test_per_class=2)
    for mapped in (root / MAPPED, many):
        predictions = Run.load(mapped).predictions
        with edit_run(mapped) as edit:
            coordinates = _map_coords(predictions["row_id"].tolist(), predictions["label"].to_numpy(), 0)
            edit.write("map", *coordinates, made_from=("embeddings", "predictions"))
    return root


@pytest.fixture(scope="module")
def demo(runs_root: Path) -> gr.Blocks:
    return build_app(Run.load(runs_root / APP_RUN), runs_root=runs_root)


def opened_on(demo: gr.Blocks, run_name: str | None, session: str) -> dict[str, Any]:
    """What a page opened at `?run=run_name` refreshes."""
    with page_on(demo, run_name, session):
        return by_id(refreshed(demo))


def test_classify_answers_each_request_with_the_run_its_page_shows(demo: gr.Blocks, runs_root: Path) -> None:
    page = opened_on(demo, OTHER_RUN, "classify")
    assert page["classify-run"] == OTHER_RUN and page["classify-label"]["label"] == "Class"
    texts = set(Run.load(runs_root / OTHER_RUN).predictions["text"])
    assert (
        page["classify-examples"]["samples"] and {s for [s] in page["classify-examples"]["samples"]} <= texts
    )
    # One batch of the page's own event: pages on the two-class run and on the app's, and a name that
    # is no run's (said, never taken as a path).
    text = "The river garden of kind 0 item 3."
    [answers] = event(demo, "classify_page")([text, text, text], [OTHER_RUN, "", "../news"])
    assert set(answers[0]) == set(TWO_CLASSES) and set(answers[1]) == set(AG_NEWS_CLASSES)
    assert answers[2] == GONE_MESSAGE
    # Programs send the text alone (`gradio_client`, Gradio's HTTP API) and get the app's run.
    [(for_programs, inputs)] = [(f.fn, f.inputs) for f in demo.fns.values() if f.api_name == "classify"]
    assert len(inputs) == 1 and set(for_programs([text])[0][0]) == set(AG_NEWS_CLASSES)


def test_a_page_without_a_run_in_its_address_keeps_the_apps_run(demo: gr.Blocks, runs_root: Path) -> None:
    page = opened_on(demo, None, "plain")
    assert not {"classify-run", "classify-label", "map-classes", "classify-map-row"} & set(page)
    row_id = int(Run.load(runs_root / APP_RUN).predictions["row_id"].iloc[0])
    with page_on(demo, None, "plain"):
        html = event(demo, "explain")(None, "Oil prices rise as OPEC cuts output")
        opened = event(demo, "open_row")(None, row_id)
    assert any(name in html for name in AG_NEWS_CLASSES)
    assert set(opened[3]) == set(AG_NEWS_CLASSES)


def test_words_and_the_editor_use_the_pages_model_and_rows(demo: gr.Blocks, runs_root: Path) -> None:
    other = Run.load(runs_root / OTHER_RUN)
    row = other.predictions.iloc[1]
    with page_on(demo, OTHER_RUN, "editor"):
        html = event(demo, "explain")(None, row["text"])
        opened = event(demo, "open_row")(None, int(row["row_id"]))
        change, after, _words, figure = event(demo, "edit_row")(None, row["text"], "garden river")
    assert any(name in html for name in TWO_CLASSES) and not any(n in html for n in AG_NEWS_CLASSES)
    assert opened[1] == row["text"] and f"true class **{row['label_name']}**" in opened[2]
    assert set(opened[3]) == set(after) == set(TWO_CLASSES)
    assert "The prediction" in change and figure is None  # this run has no map to place the edit on


def test_a_run_without_a_map_says_so_where_the_apps_map_would_be(demo: gr.Blocks) -> None:
    page = opened_on(demo, OTHER_RUN, "no-map")
    assert page["classify-map-row"] == {"__type__": "update", "visible": False}
    assert page["classify-map-missing"]["visible"] and page["map-missing"]["visible"]
    assert page["map-panel"]["visible"] is False
    assert page["map-classes"]["choices"] == list(TWO_CLASSES)  # the filter, should the map come
    with page_on(demo, OTHER_RUN, "no-map"):
        assert list(event(demo, "map_open")(False).values()) == [False]  # nothing drawn, no error
        with pytest.raises(gr.Error, match="no map"):
            event(demo, "place")(None, "garden")
        with pytest.raises(gr.Error, match="no map"):
            event(demo, "map")("fine-tuned", "true label", list(TWO_CLASSES), [], None)


def test_the_map_and_the_placement_are_the_pages_runs(demo: gr.Blocks, runs_root: Path) -> None:
    mapped = Run.load(runs_root / MAPPED)
    page = opened_on(demo, MAPPED, "mapped")
    assert page["classify-map-row"]["visible"] and page["map-panel"]["visible"]
    assert not page["map-missing"]["visible"]
    assert page["map-classes"]["choices"] == page["map-classes"]["value"] == list(TWO_CLASSES)
    row = mapped.predictions.iloc[2]
    with page_on(demo, MAPPED, "mapped"):
        opening = by_id(event(demo, "map_open")(False))
        _plot, table, _note, _density = event(demo, "map")("fine-tuned", "true label", ["negative"], [], None)
        _figure, neighbours = event(demo, "place")(None, row["text"])
    assert len(opening["map-table"]) == len(mapped.predictions)
    assert set(opening["map-table"]["true"]) == set(TWO_CLASSES)
    assert set(table["true"]) == {"negative"}
    assert len(table) == (mapped.predictions["label_name"] == "negative").sum()
    assert neighbours["row_id"].iloc[0] == row["row_id"]  # the stored copy of the same text is nearest
    assert set(neighbours["row_id"]) <= set(mapped.predictions["row_id"])


def test_a_run_of_many_classes_filters_its_map_by_a_list_where_none_picked_is_all(
    demo: gr.Blocks, runs_root: Path
) -> None:
    page = opened_on(demo, MANY, "many")
    assert page["map-classes"]["visible"] is False and page["map-classes-picked"]["visible"] is True
    assert page["map-classes-picked"]["choices"] == MANY_CLASSES and page["map-classes-picked"]["value"] == []
    with page_on(demo, MANY, "many"):
        _plot, every, *_ = event(demo, "map")("fine-tuned", "true label", [], [], None)
        _plot, some, *_ = event(demo, "map")("fine-tuned", "true label", [], ["topic 03", "topic 17"], None)
    assert len(every) == 2 * len(MANY_CLASSES)
    assert sorted(set(some["true"])) == ["topic 03", "topic 17"] and len(some) == 4
    # The app's run (four classes) is laid out with a box each, all ticked, and its page keeps that.
    built = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    assert built["map-classes"].visible is True and built["map-classes"].value == list(AG_NEWS_CLASSES)
    assert built["map-classes-picked"].visible is False
    assert "map-classes" not in opened_on(demo, None, "few")


def test_neighbours_are_the_pages_runs_training_rows(demo: gr.Blocks, runs_root: Path) -> None:
    other = Run.load(runs_root / OTHER_RUN)
    row = other.predictions.iloc[0]
    with page_on(demo, OTHER_RUN, "neighbours"):
        by_text, line, *_ = event(demo, "neighbours_text")(row["text"])
        by_row, *_ = event(demo, "neighbours_row")(int(row["row_id"]))
    assert set(by_text["label"]) <= set(TWO_CLASSES) and set(by_row["label"]) <= set(TWO_CLASSES)
    assert "Your text" in line


def test_a_file_is_classified_by_the_pages_model(demo: gr.Blocks, tmp_path: Path) -> None:
    upload = tmp_path / "texts.csv"
    pd.DataFrame({"text": ["garden river", "market winter"]}).to_csv(upload, index=False)
    with page_on(demo, OTHER_RUN, "file"):
        path, _summary = event(demo, "classify_csv")(str(upload))
    answered = pd.read_csv(path)
    assert {f"p_{name}" for name in TWO_CLASSES} <= set(answered.columns)
    assert not any(f"p_{name}" in answered.columns for name in AG_NEWS_CLASSES)
    assert np.allclose(answered[[f"p_{name}" for name in TWO_CLASSES]].sum(axis=1), 1.0, atol=1e-3)
