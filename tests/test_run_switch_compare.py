"""A page on another run (`?run=NAME`) compares that run: its Compare tab lists the other runs, never
itself, and offers the run it came from (`RunConfig.parent`) first and on a button; the JSON route
answers with a run a request names, by name only, without churning the pages' models."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pandas as pd
import pytest
from analysis_runs import TWO_CLASSES
from run_switch import APP_RUN, OTHER_RUN, by_id, event, page_on, refreshed, two_runs
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.rundir.decisions import (
    DECISIONS_FOLDER,
    KEEP,
    RELABEL,
    REMOVE,
    TEST,
    TRAIN,
    DecisionStore,
    decide,
    split_hash,
)
from agnews.rundir.parts import CONFIG
from agnews.rundir.run import Run
from agnews.serving import http_api
from agnews.serving.predictor import Predictor
from agnews.serving.predictors import Predictors
from agnews.ui import build_app
from agnews.ui.app import launch_options
from agnews.ui.compare import PARENT_CHOICE, disagreement_table
from agnews.ui.decisions import decided_column

CHILD_RUN = "sentiment-2"  # a copy of the two-class run that records it as its parent
TEXT = "The river garden of kind 0 item 3."


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("switch-compare") / "runs"
    two_runs(root, synthetic_run, tiny_distilbert)
    child = shutil.copytree(root / OTHER_RUN, root / CHILD_RUN)
    config = json.loads((child / CONFIG).read_text())
    config["parent"] = OTHER_RUN
    (child / CONFIG).write_text(json.dumps(config))
    return root


@pytest.fixture(scope="module")
def demo(runs_root: Path) -> gr.Blocks:
    return build_app(Run.load(runs_root / APP_RUN), runs_root=runs_root)


def offered(updates: dict[Any, Any]) -> list[tuple[str, str]]:
    """The (label, name) choices of the Compare picker in `updates`."""
    return [tuple(choice) for choice in by_id(updates)["compare-picker"]["choices"]]


def named(runs_root: Path, run: str) -> str:
    """How the Compare picker names a run: relative to the runs folder, led by its name."""
    return f"{runs_root.name}/{run}"


def test_compare_on_a_page_on_the_two_class_run_compares_that_run(demo: gr.Blocks, runs_root: Path) -> None:
    app_run, other, child = (named(runs_root, run) for run in (APP_RUN, OTHER_RUN, CHILD_RUN))
    with page_on(demo, OTHER_RUN):
        opened = refreshed(demo)
        listed = [name for _, name in offered(opened)]
        assert sorted(listed) == sorted([app_run, child]) and other not in listed  # never itself
        shown = by_id(opened)
        assert shown["compare-picker"]["value"] is None and shown["compare-parent"]["visible"] is False
        assert shown["compare-results"]["visible"] is False
        assert [name for _, name in offered(event(demo, "compare_runs")(None))] == listed  # the tab's opening
        compared = by_id(event(demo, "compare")(child, None))
        scores = compared["compare-scores"]
        assert list(scores[""]) == ["accuracy", *(f"F1 {name}" for name in TWO_CLASSES)]  # A's classes
        assert f"A {OTHER_RUN}" in scores.columns and f"B {CHILD_RUN}" in scores.columns
        refused = by_id(event(demo, "compare")(other, None))["compare-summary"]
        assert "Cannot compare" in refused and "not one of the runs" in refused
    with page_on(demo, None, session="page-plain"):  # no `?run=`: the app's run, as before
        listed = [name for _, name in offered(event(demo, "compare_runs")(None))]
        assert app_run not in listed and other in listed


def test_the_run_this_one_came_from_is_offered_first_and_on_a_button(
    demo: gr.Blocks, runs_root: Path
) -> None:
    parent = named(runs_root, OTHER_RUN)
    with page_on(demo, CHILD_RUN, session="page-child"):
        shown = by_id(refreshed(demo))
        label = f"{PARENT_CHOICE} ({parent})"
        assert shown["compare-picker"]["choices"][0] == (label, parent)
        assert shown["compare-parent"] == {"__type__": "update", "value": label, "visible": True}
        picked = by_id(event(demo, "compare_parent")(None))
        assert picked["compare-picker"]["value"] == parent  # its `change` draws the comparison
        compared = by_id(event(demo, "compare")(parent, None))
        assert compared["compare-results"]["visible"] is True
        # The run it came from is the baseline: A, so that B - A is what the retraining changed.
        assert {f"A {OTHER_RUN}", f"B {CHILD_RUN}"} <= set(compared["compare-scores"].columns)
        assert compared["compare-summary"].startswith("A is the run this one came from")
    with page_on(demo, OTHER_RUN, session="page-no-parent"):  # a run that records none: no button
        assert by_id(event(demo, "compare_parent")("x"))["compare-parent"]["visible"] is False


def test_a_recorded_parent_that_is_a_path_is_not_offered(runs_root: Path, tmp_path: Path) -> None:
    from agnews.ui.compare import parent_of, run_choices

    child = shutil.copytree(runs_root / CHILD_RUN, tmp_path / "runs" / "child")
    config = json.loads((child / CONFIG).read_text())
    config["parent"] = str(runs_root / OTHER_RUN)
    (child / CONFIG).write_text(json.dumps(config))
    run = Run.load(child)
    assert parent_of(run) is None and run_choices(None, run) == {}
    assert list(run_choices(runs_root, Run.load(runs_root / CHILD_RUN))) == [
        named(runs_root, name) for name in (OTHER_RUN, APP_RUN)
    ]  # the parent first


@pytest.fixture(scope="module")
def route(runs_root: Path) -> TestClient:
    """The JSON route over the app's run (AG News) and the runs beside it, as `launch_options` mounts it."""
    app_run = Run.load(runs_root / APP_RUN)
    predictors = Predictors(app_run, Predictor.from_run(app_run), Predictor.from_run)
    options = launch_options(predictors, lambda: app_run, runs_root=runs_root)
    return TestClient(Starlette(routes=options["app_kwargs"]["routes"]))


def labels(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    [answer] = response.json()
    return {element["label"] for element in answer}


def test_the_route_answers_with_a_run_named_in_the_body_or_the_address(route: TestClient) -> None:
    assert labels(route.post(http_api.PATH, json={"inputs": TEXT})) == set(AG_NEWS_CLASSES)
    assert labels(route.post(http_api.PATH, json={"inputs": TEXT, "run": OTHER_RUN})) == set(TWO_CLASSES)
    assert labels(route.post(f"{http_api.PATH}?run={OTHER_RUN}", json={"inputs": TEXT})) == set(TWO_CLASSES)
    assert labels(route.post(http_api.PATH, json={"inputs": TEXT, "run": APP_RUN})) == set(AG_NEWS_CLASSES)
    described = route.get(f"{http_api.PATH}?run={OTHER_RUN}").json()
    assert described["run"] == OTHER_RUN and described["labels"] == list(TWO_CLASSES)
    assert set(described["runs"]) == {APP_RUN, OTHER_RUN, CHILD_RUN} and described["runs"][0] == APP_RUN
    both = route.post(f"{http_api.PATH}?run={APP_RUN}", json={"inputs": TEXT, "run": OTHER_RUN})
    assert both.status_code == 422 and "name two runs" in both.json()["error"]


@pytest.mark.parametrize("name", ["nope", "../runs/sentiment", "/etc", "sentiment/..", "x" * 5000])
def test_a_name_that_is_no_listed_run_is_404_naming_no_path(
    route: TestClient, runs_root: Path, name: str
) -> None:
    for response in (
        route.post(http_api.PATH, json={"inputs": TEXT, "run": name}),
        route.get(http_api.PATH, params={"run": name}),
    ):
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        assert error.startswith("no run is named") and str(runs_root.parent) not in response.text
        assert len(error) < 300


def test_a_path_to_a_listed_run_names_nothing(route: TestClient, runs_root: Path) -> None:
    response = route.post(http_api.PATH, json={"inputs": TEXT, "run": str(runs_root / OTHER_RUN)})
    assert response.status_code == 404 and "never a path" in response.json()["error"]
    assert str(runs_root) not in response.text  # not even the path it was sent


def test_another_run_while_the_routes_slot_is_busy_is_told_to_wait(runs_root: Path) -> None:
    """A fresh app: the route's own slot takes the first named run; a second run asked for right
    after gets 429 with Retry-After, and the pages' models are never touched."""
    app_run = Run.load(runs_root / APP_RUN)
    predictors = Predictors(app_run, Predictor.from_run(app_run), Predictor.from_run)
    options = launch_options(predictors, lambda: app_run, runs_root=runs_root)
    client = TestClient(Starlette(routes=options["app_kwargs"]["routes"]))
    assert labels(client.post(http_api.PATH, json={"inputs": TEXT, "run": OTHER_RUN})) == set(TWO_CLASSES)
    busy = client.post(http_api.PATH, json={"inputs": TEXT, "run": CHILD_RUN})
    assert busy.status_code == 429 and int(busy.headers["Retry-After"]) > 0
    assert OTHER_RUN in busy.json()["error"] and str(runs_root) not in busy.text
    assert labels(client.post(http_api.PATH, json={"inputs": TEXT})) == set(
        AG_NEWS_CLASSES
    )  # the app's: always
    assert predictors.loaded() == [APP_RUN, OTHER_RUN]  # the route's slot only


def test_concurrent_requests_for_two_runs_are_batched_per_model() -> None:
    calls: list[tuple[str, int]] = []

    def model(name: str) -> Any:
        def probabilities_batch(texts: list[str]) -> list[dict[str, float]]:
            calls.append((name, len(texts)))
            return [{name: 1.0} for _ in texts]

        return SimpleNamespace(probabilities_batch=probabilities_batch)

    first, second = model("first"), model("second")

    async def ask() -> list[Any]:
        batcher = http_api.Batcher()
        asked = [(first, ["a"]), (second, ["b", "c"]), (first, ["d"]), (second, ["e"])]
        return await asyncio.gather(*(batcher.submit(m, texts) for m, texts in asked))

    answers = asyncio.run(ask())
    assert answers == [[{"first": 1.0}], [{"second": 1.0}] * 2, [{"first": 1.0}], [{"second": 1.0}]]
    assert sorted(calls) == [("first", 2), ("second", 3)]  # one call per model, each with its texts


def test_saved_decisions_show_beside_the_rows_of_the_map_comparison_and_neighbours(
    demo: gr.Blocks, runs_root: Path
) -> None:
    news = Run.load(runs_root / APP_RUN)
    test_row = news.predictions.iloc[0]
    row_id = int(test_row["row_id"])
    with page_on(demo, None, session="decided-news"):
        *_, nearest, _ = event(demo, "neighbours_row")(row_id)
    neighbour = nearest[0]  # the nearest training row, as a decision needs it (`Listed`)
    other_class = next(name for name in news.classes if name != neighbour["given"])
    store = DecisionStore(runs_root / DECISIONS_FOLDER)
    store.add(decide(TEST, split_hash(news, TEST), str(row_id), action=REMOVE, given="x", text="x"))
    store.add(
        decide(TRAIN, split_hash(news, TRAIN), neighbour["key"], action=RELABEL, given=neighbour["given"],
               text=neighbour["text"], label=other_class, classes=news.classes)
    )  # fmt: skip

    with page_on(demo, None, session="decided-news"):
        _plot, points, _note, _density = event(demo, "map")(
            "fine-tuned", "true label", list(news.classes), [], None
        )
        neighbours, *_ = event(demo, "neighbours_row")(row_id)
    on_map = points.set_index("row_id")["decided"]
    assert on_map[row_id] == "remove" and (on_map.drop(row_id) == "").all()
    assert list(neighbours["decided"]) == [f"relabel → {other_class}"] + [""] * (len(neighbours) - 1)
    with page_on(demo, CHILD_RUN, session="decided-child"):
        compared = by_id(event(demo, "compare")(named(runs_root, OTHER_RUN), None))
    assert list(compared["compare-table"].columns)[-1] == "decided"


def test_a_comparisons_rows_say_what_is_decided_on_them() -> None:
    rows = pd.DataFrame(
        {
            "row_id": [4, 9], "text": ["a", "b"], "label_name": ["x", "y"], "change": ["fixed", "broken"],
            "pred_a": ["y", "y"], "confidence_a": [0.6, 0.7],
            "pred_b": ["x", "x"], "confidence_b": [0.8, 0.9],
        }
    )  # fmt: skip
    events = [decide(TEST, "h", "9", action=KEEP, given="y", text="b")]
    table = disagreement_table(rows, decided_column(events, TEST, rows["row_id"].astype(str)))
    assert list(table["decided"]) == ["", "keep"]
    assert "decided" not in disagreement_table(rows).columns
