"""A page shows the run its address names (`?run=NAME`): the header, the run picker, the model, and
the listing of runs it picks from; names only, never paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_switch import APP_RUN, OTHER_RUN, event, page_on, refreshed, two_runs

from agnews.rundir.listing import listed_runs, run_named
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.serving.predictors import Predictors, RouteBusy
from agnews.ui import build_app


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("switch") / "runs"
    two_runs(root, synthetic_run, tiny_distilbert)
    return root


def test_the_listing_names_each_run_with_what_a_person_picks_by(runs_root: Path) -> None:
    listed = {entry.name: entry for entry in listed_runs(runs_root)}
    assert set(listed) == {APP_RUN, OTHER_RUN}  # the data folder beside a run is not a run
    other = listed[OTHER_RUN]
    assert other.dataset != listed[APP_RUN].dataset and 0.0 <= other.accuracy <= 1.0
    assert other.parent is None


@pytest.mark.parametrize("name", ["../news", "/etc", "news/..", "", ".hidden", "x" * 500, "nope"])
def test_a_run_is_found_by_its_name_only(runs_root: Path, name: str) -> None:
    assert run_named(runs_root, name) is None
    assert run_named(runs_root, OTHER_RUN) == runs_root / OTHER_RUN


def test_a_page_opened_on_another_run_shows_it_in_the_header_and_the_picker(runs_root: Path) -> None:
    app_run = Run.load(runs_root / APP_RUN)
    demo = build_app(app_run, runs_root=runs_root)
    with page_on(demo, OTHER_RUN):
        updates = refreshed(demo)
    shown = {getattr(c, "elem_id", None): value for c, value in updates.items()}
    assert f"run `{OTHER_RUN}`" in shown["run-header"]
    assert shown["run-picker"]["value"] == OTHER_RUN
    assert {name for _, name in shown["run-picker"]["choices"]} == {APP_RUN, OTHER_RUN}
    with page_on(demo, "../" + OTHER_RUN, session="page-two"):
        updates = refreshed(demo)
    header = next(v for c, v in updates.items() if getattr(c, "elem_id", None) == "run-header")
    assert f"run `{APP_RUN}`" in header and "No run is named" in header


def test_models_of_other_runs_are_kept_within_the_bound(runs_root: Path) -> None:
    app_run, other = Run.load(runs_root / APP_RUN), Run.load(runs_root / OTHER_RUN)
    loads: list[str] = []

    def load(run: Run) -> Predictor:
        loads.append(run.name)
        return Predictor.from_run(run)

    predictors = Predictors(app_run, Predictor.from_run(app_run), load, kept=1)
    first = predictors.for_run(other)
    assert predictors.for_run(other) is first and loads == [OTHER_RUN]
    assert first.classes != predictors.for_run(app_run).classes
    assert predictors.loaded() == [APP_RUN, OTHER_RUN]


def test_the_route_never_churns_the_pages_models(runs_root: Path, tmp_path: Path) -> None:
    import shutil

    app_run = Run.load(runs_root / APP_RUN)
    third = tmp_path / "third"
    shutil.copytree(runs_root / OTHER_RUN, third)
    predictors = Predictors(app_run, Predictor.from_run(app_run), Predictor.from_run, kept=1)
    shown = predictors.for_run(Run.load(runs_root / OTHER_RUN))
    assert predictors.for_route(Run.load(runs_root / OTHER_RUN)) is shown  # a page's model, shared
    predictors.for_route(Run.load(third))  # into the route's own slot
    fourth = tmp_path_copy(runs_root, tmp_path)
    with pytest.raises(RouteBusy):
        predictors.check_route(fourth)  # refused before the run is read from disk
    with pytest.raises(RouteBusy):
        predictors.for_route(Run.load(fourth))
    predictors.check_route(third)  # the slot's own run, and a page's, pass
    predictors.check_route(runs_root / OTHER_RUN)
    assert predictors.for_run(Run.load(runs_root / OTHER_RUN)) is shown  # still loaded


def tmp_path_copy(runs_root: Path, tmp_path: Path) -> Path:
    import shutil

    fourth = tmp_path / "fourth"
    shutil.copytree(runs_root / OTHER_RUN, fourth)
    return fourth


def test_the_page_opening_event_is_the_one_the_helpers_call(runs_root: Path) -> None:
    demo = build_app(Run.load(runs_root / APP_RUN), runs_root=runs_root)
    assert callable(event(demo, "page_opened")) and callable(event(demo, "refreshed"))
