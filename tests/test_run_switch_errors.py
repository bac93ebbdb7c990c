"""A page on another run (`?run=NAME`) shows that run in the Confusion matrix and Errors tabs, and the
decisions recorded there are that run's: the tables are its classes', the filters and the decision's
class dropdown offer its classes, the events list its rows; a page without `?run=` keeps the app's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from analysis_runs import TWO_CLASSES
from run_switch import APP_RUN, OTHER_RUN, by_id, event, page_on, two_runs

from agnews.present.tables import mistakes
from agnews.rundir.decisions import DECISIONS_FOLDER, RELABEL, TEST, DecisionStore, split_hash
from agnews.rundir.run import Run
from agnews.ui import build_app
from agnews.ui.confusion import CORNER
from agnews.ui.errors import ANY, BY_CONFIDENCE, ErrorsView


@pytest.fixture(scope="module")
def runs_root(synthetic_run: Path, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("switch-errors") / "runs"
    two_runs(root, synthetic_run, tiny_distilbert)
    return root


@pytest.fixture(scope="module")
def demo(runs_root: Path) -> gr.Blocks:
    return build_app(Run.load(runs_root / APP_RUN), runs_root=runs_root)


def click_row(demo: gr.Blocks, row_id: int) -> dict[Any, Any]:
    """What a click on the Errors table's row of `row_id` updates (the handler reads the row's values)."""
    row = [row_id, "", "", "", ""]
    return event(demo, "errors_inspect")(
        gr.SelectData(None, {"index": [0, 1], "value": "", "row_value": row})
    )


def of_type(updates: dict[Any, Any], kind: type) -> Any:
    [value] = [value for component, value in updates.items() if isinstance(component, kind)]
    return value


@pytest.mark.parametrize(("name", "session"), [(OTHER_RUN, "confusion-other"), (None, "confusion-app")])
def test_the_confusion_tab_draws_the_pages_run(
    demo: gr.Blocks, runs_root: Path, name: str | None, session: str
) -> None:
    shown = Run.load(runs_root / (name or APP_RUN))
    assert (tuple(shown.classes) == TWO_CLASSES) == (name == OTHER_RUN)
    with page_on(demo, name, session):
        drawn = by_id(event(demo, "confusion_open")(False))
    cells = drawn["confusion-cells"]
    assert list(cells.columns) == [CORNER, *shown.classes] and list(cells[CORNER]) == list(shown.classes)
    assert cells[list(shown.classes)].to_numpy().tolist() == shown.metrics.test.confusion_matrix
    assert list(drawn["confusion-per-class"]["class"]) == list(shown.classes)
    assert drawn["confusion-metrics"]["accuracy"].iloc[0] == round(shown.metrics.test.accuracy, 4)
    assert list(drawn["confusion-plot"].data[0].x) == list(shown.classes)


def test_the_errors_tab_lists_and_filters_the_pages_runs_mistakes(demo: gr.Blocks, runs_root: Path) -> None:
    other = Run.load(runs_root / OTHER_RUN)
    wrong = mistakes(other.predictions)
    first = wrong.iloc[0]
    with page_on(demo, OTHER_RUN, "errors-other"):
        opened = by_id(event(demo, "errors_open")(ErrorsView(), []))
        filters = (first["label_name"], ANY, None, ANY, BY_CONFIDENCE)
        narrowed = by_id(event(demo, "errors")(*filters, ErrorsView(), []))
        clicked = click_row(demo, int(first["row_id"]))
    offered = [ANY, *TWO_CLASSES]
    assert opened["errors-true"]["choices"] == offered and opened["errors-pred"]["choices"] == offered
    assert opened["errors-table"]["value"]["row_id"].tolist() == wrong["row_id"].tolist()
    total = len(other.predictions)
    assert opened["errors-count"].startswith(f"{len(wrong)} of {len(wrong)} mistakes match (of {total}")
    assert narrowed["errors-table"]["row_id"].tolist() == [first["row_id"]]
    assert set(of_type(clicked, gr.Label)) == set(TWO_CLASSES)  # its probabilities
    assert by_id(clicked)["errors-decision-label"]["choices"] == list(TWO_CLASSES)

    with page_on(demo, None, "errors-app"):
        opened = by_id(event(demo, "errors_open")(ErrorsView(), []))
    app_run = Run.load(runs_root / APP_RUN)
    assert opened["errors-true"]["choices"] == [ANY, *app_run.classes]
    assert len(opened["errors-table"]["value"]) == len(mistakes(app_run.predictions))


def test_a_decision_on_a_page_on_another_run_is_filed_under_that_run(
    demo: gr.Blocks, runs_root: Path
) -> None:
    other, app_run = Run.load(runs_root / OTHER_RUN), Run.load(runs_root / APP_RUN)
    row = mistakes(other.predictions).iloc[0]
    with page_on(demo, OTHER_RUN, "decide-other") as request:
        clicked = click_row(demo, int(row["row_id"]))
        offered = by_id(clicked)["errors-decision-label"]["choices"]
        [target] = [
            value for value in clicked.values() if isinstance(value, dict) and value.get("split") == TEST
        ]
        new = next(name for name in offered if name != row["label_name"])
        _, said, _ = event(demo, "errors_decide")(target, RELABEL, new, "", [], request)
    assert offered == list(TWO_CLASSES) and said.startswith(f"Recorded: relabel → {new}")
    store = DecisionStore(runs_root / DECISIONS_FOLDER)
    [decision] = store.log(TEST, split_hash(other, TEST)).events
    assert decision.key == str(row["row_id"]) and decision.label == new
    assert store.log(TEST, split_hash(app_run, TEST)).events == ()
