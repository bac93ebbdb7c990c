"""A labelled file evaluated from the Cross-domain tab: the form built from the file's own header and
label values, bad input refused before anything runs, the `agnews cross-domain` child process saving
into the run (may_write) or into a temporary folder shown for the session only, `--out`, and a run
whose training rows are not here (scored without the baseline, saying why).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest
from helpers import tab_page
from test_cross_domain import NEWS_MAP, fingerprints, news_rows, write_csv

from agnews.analyses.cross_domain import tab as cross_domain_tab
from agnews.analyses.cross_domain import upload
from agnews.analyses.cross_domain.schema import FAMILY, read_evaluation
from agnews.analyses.cross_domain.stage import cross_domain_run
from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.rundir import parts
from agnews.rundir.run import Run
from agnews.serving.csv_batch import BatchError
from agnews.training import data as training_data
from agnews.training.data import DataError
from agnews.ui.run_state import following

IN_DOMAIN = ("config", "model", "predictions", "metrics")


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    """Three rows per class, an unmapped "entertainment", an empty label: quick to score."""
    rows = [*news_rows(3), ["", "a row without a label"]]
    return write_csv(tmp_path / "Other News (2024).csv", ["category", "text"], rows)


def tab(run: Run, *, may_write: bool) -> tuple[gr.Blocks, dict[str, object]]:
    """The tab alone, reading the run as it is on disk (`following`), as the app's tabs do."""
    with gr.Blocks() as demo, gr.Tab("Cross-domain") as page:
        cross_domain_tab.build(replace(tab_page(run, page, may_write=may_write), current=following(run)))
    return demo, {f.api_name: f.fn for f in demo.fns.values() if f.api_name}


def by_id(updates: dict[object, object]) -> dict[str, object]:
    return {getattr(component, "elem_id", None): value for component, value in updates.items()}


def slots(updates: dict[object, object]) -> list[dict[str, object]]:
    """The label-value dropdowns' updates, in order (they have no elem_id)."""
    return [value for key, value in updates.items() if isinstance(key, gr.Dropdown)]


def finish(steps: Iterator[object]) -> list[object]:
    """Drive an evaluation's generator to its end (or its error)."""
    return list(steps)


def test_the_label_map_is_built_from_the_files_own_values_with_counts(small_csv: Path) -> None:
    found = upload.read_upload(small_csv)
    assert found.header == ["category", "text"] and len(found.rows) == 4 * 3 + 3 + 1
    values = upload.label_values(found, "category")
    assert dict(values) == {"world": 3, "sports": 3, "business": 4, "tech": 3, "entertainment": 2}
    assert values[0] == ("business", 4)  # most frequent first; the empty label cannot be mapped
    assert upload.value_label("business", 1204) == "business (1,204 rows)"
    assert [upload.default_class(v, AG_NEWS_CLASSES) for v in ("SPORTS", "sci/tech", "tech", "1")] == [
        "Sports",
        "Sci/Tech",
        upload.SKIP,
        upload.SKIP,
    ]
    mapping = upload.label_map(
        "category", ["business", "tech", "world"], ["Business", "Sci/Tech", "skip"], AG_NEWS_CLASSES
    )
    assert mapping == "business=Business,tech=Sci/Tech"


def test_a_column_of_too_many_values_or_none_usable_is_refused_naming_it(tmp_path: Path) -> None:
    many = write_csv(tmp_path / "many.csv", ["text", "id"], [[f"text {i}", str(i)] for i in range(25)])
    with pytest.raises(BatchError, match="column 'id' has 25 distinct values, more than the 20"):
        upload.label_values(upload.read_upload(many), "id")
    empty = write_csv(tmp_path / "empty.csv", ["text", "label"], [["a", ""], ["b", " "], ["c", "x,y"]])
    with pytest.raises(BatchError, match="column 'label' has no usable label values"):
        upload.label_values(upload.read_upload(empty), "label")


def test_the_form_fills_from_the_header_and_bad_input_changes_nothing(
    run_copy: Path, small_csv: Path
) -> None:
    run = Run.load(run_copy)
    before = fingerprints(run_copy, IN_DOMAIN)
    _, events = tab(run, may_write=True)

    columns = by_id(events["cross_domain_columns"](str(small_csv)))
    assert columns["cross-domain-text-column"]["choices"] == ["category", "text"]
    assert columns["cross-domain-text-column"]["value"] == "text"
    assert columns["cross-domain-label-column"]["value"] == "category"
    assert columns["cross-domain-name"] == "Other-News-2024"
    labels = events["cross_domain_labels"](str(small_csv), "category")
    shown = [slot for slot in slots(labels) if slot["visible"]]
    assert [slot["label"] for slot in shown][:2] == ["business (4 rows)", "world (3 rows)"]
    assert [slot["value"] for slot in shown] == ["Business", "World", "Sports", "skip", "skip"]

    values = [value for value, _ in upload.label_values(upload.read_upload(small_csv), "category")]
    every_skip = ["skip"] * upload.MAX_LABEL_VALUES
    steps = events["cross_domain_evaluate"](str(small_csv), "text", "category", "x", values, *every_skip)
    with pytest.raises(gr.Error, match="no value of 'category' is mapped to a class"):
        finish(steps)
    assert fingerprints(run_copy, IN_DOMAIN) == before and not Run.load(run_copy).members(FAMILY)
    assert not list(run_copy.parent.glob(f".{run_copy.name}.edit-*"))


def cli_args(run: Path, csv_file: Path) -> list[str]:
    return ["cross-domain", str(run), str(csv_file), "--label-column", "category", "--label-map", NEWS_MAP]


def test_the_cli_writes_to_out_and_leaves_the_run_alone(
    run_copy: Path, small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = (run_copy / parts.MANIFEST).read_bytes()
    out = tmp_path / "elsewhere"
    args = cli_args(run_copy, small_csv)
    assert main([*args, "--name", "other", "--file-name", "Their wire.csv", "--out", str(out)]) == 0
    assert f"written to {out / 'cross_domain' / 'other'}" in capsys.readouterr().out
    assert (run_copy / parts.MANIFEST).read_bytes() == manifest and not (run_copy / "cross_domain").exists()
    predictions, metrics = read_evaluation(out, "other")
    assert metrics.rows == len(predictions) == 9 and metrics.baseline is not None
    assert metrics.source == "Their wire.csv"  # as the page records an upload: by its own name


def test_without_the_training_rows_the_model_is_scored_alone_and_says_why(
    run_copy: Path, small_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def absent(*_args: object, **_kwargs: object) -> None:
        raise DataError("/elsewhere/ag_news: data folder not found")

    monkeypatch.setattr(training_data, "load_config_data", absent)
    args = cli_args(run_copy, small_csv)
    assert main(args) == 0
    assert (
        "TF-IDF baseline left out: the run's training rows could not be read here" in capsys.readouterr().err
    )
    run = Run.load(run_copy)
    predictions, metrics = run.members(FAMILY)["Other-News-2024"]
    assert (
        metrics.baseline is None and "/elsewhere/ag_news: data folder not found" in metrics.baseline_left_out
    )
    assert metrics.baseline_train_rows == 0 and set(predictions["baseline_pred"]) == {-1}
    opened = by_id(tab(run, may_write=True)[1]["cross_domain_open"](False))
    assert (
        "No TF-IDF baseline: the run's training rows could not be read here" in opened["cross-domain-summary"]
    )
    assert list(opened["cross-domain-scores"].columns) == ["score", "fine-tuned"]
    assert "TF-IDF says" not in opened["cross-domain-errors"].columns

    with pytest.raises(DataError, match="data folder not found"):  # a --data given on purpose must work
        cross_domain_run(
            run_copy,
            small_csv,
            label_column="category",
            label_map=NEWS_MAP,
            data="/elsewhere",
            progress=False,
        )


@pytest.mark.slow  # an `agnews cross-domain` child process loads torch and the model
@pytest.mark.parametrize("may_write", [False, True])
def test_the_page_runs_the_command_and_saves_only_where_it_may(
    run_copy: Path, small_csv: Path, may_write: bool
) -> None:
    run = Run.load(run_copy)
    before = (run_copy / parts.MANIFEST).read_bytes()
    demo, events = tab(run, may_write=may_write)
    [evaluate] = [f for f in demo.fns.values() if f.api_name == "cross_domain_evaluate"]
    assert evaluate.concurrency_id == upload.CONCURRENCY_ID  # not the group of the page's other events
    classes = ["Business", "Sports", "Sci/Tech", "skip", "skip"] + ["skip"] * (upload.MAX_LABEL_VALUES - 5)
    values = ["business", "sports", "tech", "world", "entertainment"]

    steps = list(
        events["cross_domain_evaluate"](str(small_csv), "text", "category", "mine", values, *classes)
    )
    result = by_id(steps[-1])
    done = next(value for key, value in steps[-1].items() if isinstance(key, gr.State))
    assert done.name == "mine" and (done.unsaved is None) == may_write
    [adopt] = [f.fn for f in demo.fns.values() if f.fn is not None and f.fn.__name__ == "adopt"]
    shown = by_id(adopt(done, {}))
    assert shown["cross-domain-missing"]["visible"] is False and shown["cross-domain-new"]["open"] is False
    if may_write:
        assert "Saved in the run" in result["cross-domain-status"]
        saved = Run.load(run_copy).members(FAMILY)["mine"].metrics
        assert saved.rows == 9 and saved.source == small_csv.name  # not the session's copy's path
        assert (
            shown["cross-domain-choice"]["value"] == "mine"
            and "Not saved" not in shown["cross-domain-summary"]
        )
    else:
        assert "not saved" in result["cross-domain-status"]
        assert (run_copy / parts.MANIFEST).read_bytes() == before and not (run_copy / "cross_domain").exists()
        assert (
            done.unsaved.metrics.rows == 9
            and done.unsaved.metrics.label_map == "business=Business,sports=Sports,tech=Sci/Tech"
        )
        assert shown["cross-domain-choice"]["value"] == cross_domain_tab.UNSAVED + "mine"
        assert shown["cross-domain-summary"].startswith("**Not saved**")
    assert "**9** of 16 rows" in shown["cross-domain-summary"]


@pytest.mark.slow  # an `agnews cross-domain` child process
def test_a_failing_command_shows_its_own_error(run_copy: Path, small_csv: Path) -> None:
    steps = upload.evaluate(
        run_copy,
        str(small_csv),
        text_column="text",
        label_column="category",
        mapping="business=Business",
        name="bad/name",
        may_write=False,
    )
    with pytest.raises(BatchError, match="'bad/name' cannot name a cross_domain part"):
        finish(steps)


def test_the_upload_comes_first_and_a_part_made_later_fills_the_tab(run_copy: Path, small_csv: Path) -> None:
    """Without an evaluation the tab is its upload form under one line saying what fills it; an
    evaluation written after the page was built (here by the command line) fills it when opened."""
    run = Run.load(run_copy)
    demo, events = tab(run, may_write=True)
    ids = [getattr(block, "elem_id", None) for block in demo.blocks.values()]
    assert (
        ids.index("cross-domain-missing") < ids.index("cross-domain-new") < ids.index("cross-domain-choice")
    )
    empty = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "cross-domain-missing")
    assert empty.visible and "Not available" not in empty.value and "fill this tab" in empty.value
    assert by_id(events["cross_domain_open"](False)) == {None: False}  # nothing yet: the next opening looks

    assert main(cli_args(run_copy, small_csv)) == 0
    opened = by_id(events["cross_domain_open"](False))
    assert opened["cross-domain-missing"]["visible"] is False and opened["cross-domain-new"]["open"] is False
    assert opened["cross-domain-choice"]["value"] == "Other-News-2024"
    assert "Other News (2024).csv" in opened["cross-domain-summary"]
