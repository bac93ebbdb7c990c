"""Neighbours in the training data: the neighbours part and stage (files `train_embeddings.*`), the
cosine search, and the tab."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
import pytest

from agnews.analyses.label_issues.schema import TRAIN_PART as LABEL_ISSUES_TRAIN
from agnews.analyses.neighbours.schema import PART as NEIGHBOURS
from agnews.present.figures import headline
from agnews.present.paths import shown_path
from agnews.rundir.catalog import CATALOG
from agnews.rundir.edit import edit_run
from agnews.rundir.parts import Manifest
from agnews.rundir.run import Run
from agnews.serving.map_index import nearest, unit_rows
from agnews.serving.neighbours import TrainingNeighbours, stored_vector, training_neighbours
from agnews.serving.predictor import Predictor
from agnews.text import text_hash
from agnews.ui import build_app, neighbours
from agnews.ui.classify import EMPTY_MESSAGE


@pytest.fixture
def copied(synthetic_run: Path, tmp_path: Path) -> Path:
    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    return path


def event(demo: gr.Blocks, api_name: str) -> Any:
    [found] = [f for f in demo.fns.values() if f.api_name == api_name]
    return found.fn


def test_nearest_finds_a_row_itself_first_most_similar_first() -> None:
    vectors = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    unit = unit_rows(vectors)
    positions, similarities = nearest(unit, vectors[17] * 3.0, k=5)  # any scale: cosine
    assert positions[0] == 17 and similarities[0] == pytest.approx(1.0, abs=1e-6)
    assert list(similarities) == sorted(similarities, reverse=True) and len(set(positions)) == 5
    assert len(nearest(unit, vectors[0], k=500)[0]) == 50  # k beyond the rows: every row


def test_the_run_stores_every_training_row_unit_length_keyed_like_the_label_issues(run: Run) -> None:
    rows, vectors = run.get(NEIGHBOURS)
    assert rows is not None and vectors is not None
    assert len(rows) == len(vectors) == run.data_stats.splits["train"].rows
    assert vectors.dtype == np.float16 and vectors.shape[1] == run.embeddings["finetuned_cls"].shape[1]
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-3)
    assert rows["text_hash"].tolist() == [text_hash(text) for text in rows["text"]]
    assert set(rows["text_hash"]) == set(run.get(LABEL_ISSUES_TRAIN).rows["text_hash"])
    record = run.manifest.parts["neighbours"]
    assert record.stage == "neighbours" and set(record.made_from) == {"model", "config"}


def test_a_training_rows_own_vector_finds_itself_with_its_label(run: Run) -> None:
    index = training_neighbours(run)
    for position in range(0, len(index.rows), 7):
        found = index.nearest(run.get(NEIGHBOURS).vectors[position].astype(np.float32), k=3)
        assert found["text_hash"].iloc[0] == index.rows["text_hash"].iloc[position]
        assert found["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-3)
        assert found["label_name"].iloc[0] == index.rows["label_name"].iloc[position]
    assert training_neighbours(run) is index  # built once per loaded run


def test_typed_text_lands_in_the_same_space_as_the_stored_vectors(run: Run, predictor: Predictor) -> None:
    row = run.get(NEIGHBOURS).rows.iloc[5]
    table, line = neighbours.neighbours_of_text(run, predictor, row["text"])
    assert table["headline"].iloc[0] == headline(row["text"])
    assert table["similarity"].iloc[0] > 0.99 and line.startswith("Your text: **")
    with pytest.raises(gr.Error, match="Type or paste a text first"):
        neighbours.neighbours_of_text(run, predictor, "  <br> ")
    assert EMPTY_MESSAGE.startswith("Type or paste a text first")


def test_a_test_row_gets_its_neighbours_and_a_summary_of_their_labels(run: Run) -> None:
    row = run.predictions.iloc[3]
    table, line = neighbours.neighbours_of_row(run, float(row["row_id"]))  # as gr.Number sends it
    assert (
        list(table.columns) == ["similarity", "label", "flagged", "headline"] and len(table) == neighbours.K
    )
    assert table["similarity"].is_monotonic_decreasing
    top = table["label"].value_counts().max()
    assert f"Test row {row['row_id']} (true **{row['label_name']}**" in line
    assert f"**{top} of {neighbours.K}** nearest training rows are labelled" in line
    assert "flagged as likely mislabelled" in line
    expected = training_neighbours(run).nearest(stored_vector(run, int(row["row_id"])), neighbours.K)
    assert table["similarity"].tolist() == expected["similarity"].round(3).tolist()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (10**9, "No test row has id 1000000000: this run's {rows} test rows have ids from"),
        (-1, "No test row has id -1"),
        (None, "Enter a test row id first"),
        ("", "Enter a test row id first"),
        (2.5, "2.5 is not a test row id: ids are whole numbers"),
        ("abc", "'abc' is not a test row id"),
        (float("nan"), "is not a test row id"),
    ],
)
def test_a_bad_row_id_is_refused_with_what_to_enter(run: Run, value: Any, message: str) -> None:
    with pytest.raises(gr.Error, match=re.escape(message.format(rows=len(run.predictions)))):
        neighbours.neighbours_of_row(run, value)


def test_flagged_training_rows_are_marked_and_counted(copied: Path) -> None:
    run = Run.load(copied)
    row_id = int(run.predictions["row_id"].iloc[0])
    found = training_neighbours(run).nearest(stored_vector(run, row_id), neighbours.K)
    issues, info = run.part("label_issues_train")
    issues = issues.assign(flagged=issues["text_hash"] == found["text_hash"].iloc[1], suggested=2)
    with edit_run(copied) as edit:
        edit.write("label_issues_train", issues, info, made_from=("config",))
    table, line = neighbours.neighbours_of_row(Run.load(copied), row_id)
    assert table["flagged"].tolist() == ["", "yes → Business", *[""] * (neighbours.K - 2)]
    assert f"; 1 of the {neighbours.K} are flagged as likely mislabelled." in line

    with edit_run(copied) as edit:
        edit.remove("label_issues_train")
    table, line = neighbours.neighbours_of_row(Run.load(copied), row_id)
    assert set(table["flagged"]) == {"?"} and "needs the `label_issues_train` part" in line


def test_a_run_without_the_part_says_how_to_add_it_and_analyze_makes_it(copied: Path, run: Run) -> None:
    from agnews.training.stages import analyze_run

    with edit_run(copied) as edit:
        edit.remove("neighbours")
    lacking = Run.load(copied)
    assert CATALOG.pending_stages(lacking) == ("neighbours",)
    with pytest.raises(gr.Error, match=re.escape(f"`agnews analyze {copied} --stages neighbours` adds them")):
        neighbours.neighbours_of_row(lacking, int(lacking.predictions["row_id"].iloc[0]))
    assert analyze_run(copied, progress=False) == {}  # what the app's background `agnews analyze` runs
    made = Run.load(copied)
    assert CATALOG.pending_stages(made) == () and made.get(NEIGHBOURS).rows.equals(run.get(NEIGHBOURS).rows)
    assert np.abs(made.get(NEIGHBOURS).vectors.astype(np.float32) - run.get(NEIGHBOURS).vectors).max() < 1e-2


def test_a_test_row_without_stored_vectors_says_which_part_is_missing(run: Run) -> None:
    loaded = {name: value for name, value in run.loaded.items() if name != "embeddings"}
    bare = dataclasses.replace(run, loaded=loaded)
    with pytest.raises(gr.Error, match=r"no stored vectors of its test rows .*--stages embed"):
        neighbours.neighbours_of_row(bare, int(run.predictions["row_id"].iloc[0]))


@pytest.mark.parametrize("damage", ["garbage", "rows"])
def test_a_damaged_part_is_dropped_with_its_file_named(copied: Path, damage: str) -> None:
    vectors = copied / "train_embeddings.safetensors"
    if damage == "garbage":
        vectors.write_bytes(b"not safetensors")
    else:  # intact file, one vector fewer than the table has rows
        from safetensors.numpy import load_file, save_file

        arrays = load_file(vectors)
        save_file({key: value[:-1] for key, value in arrays.items()}, str(vectors))
    run = Run.load(copied)
    assert run.get(NEIGHBOURS) is None and not run.has("neighbours")
    [warning] = [w for w in run.warnings if "train_embeddings" in w]
    assert "train_embeddings.safetensors" in warning and "--stages neighbours` re-makes it" in warning
    if damage == "rows":
        assert "for the" in warning and "rows of train_embeddings.parquet" in warning


def test_the_tab_opens_on_the_most_confident_mistake_and_answers_lookups(
    run: Run, predictor: Predictor
) -> None:
    demo = build_app(run, predictor)
    opened = {getattr(c, "elem_id", None): v for c, v in event(demo, "neighbours_open")(False).items()}
    mistake = neighbours.most_confident_mistake(run)
    assert mistake is not None and opened["neighbours-row"] == mistake
    assert f"Test row {mistake} " in opened["neighbours-summary"]
    assert f"The {len(run.get(NEIGHBOURS).rows):,} training rows nearest" in opened["neighbours-note"]
    table, *_ = event(demo, "neighbours_row")(mistake)
    assert table.equals(opened["neighbours-table"])
    with pytest.raises(gr.Error, match="No test row has id"):
        event(demo, "neighbours_row")(10**9)
    with pytest.raises(gr.Error, match="Type or paste"):
        event(demo, "neighbours_text")("")


def test_a_run_without_the_part_gets_the_notice_not_the_tab(run: Run, predictor: Predictor) -> None:
    bare = dataclasses.replace(run, manifest=Manifest(), warnings=[], loaded={})
    demo = build_app(bare, predictor)
    config = json.dumps(demo.get_config_file(), default=str)
    assert "It has no training rows' fine-tuned vectors; " in config
    assert f"agnews analyze {shown_path(run.path, run.path.parent)} --stages neighbours" in config
    assert str(run.path) not in config
    # laid out for a page on another run that has the part, hidden here
    [content] = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "neighbours-content"]
    assert content.visible is False


def test_the_summary_names_the_other_labels_too() -> None:
    found = pd.DataFrame(
        {
            "label_name": ["Business", "Sports", "Business", "World"],
            "flagged": pd.array([False, True, False, False], dtype="boolean"),
        }
    )
    line = neighbours.summary(found, "Row 1", flags_known=True)
    assert line == (
        "Row 1: **2 of 4** nearest training rows are labelled **Business** (1 Sports, 1 World); "
        "1 of the 4 are flagged as likely mislabelled."
    )


def test_flags_are_unknown_without_the_label_issues(run: Run) -> None:
    loaded = {name: value for name, value in run.loaded.items() if name != "label_issues_train"}
    index = TrainingNeighbours.from_run(dataclasses.replace(run, loaded=loaded))
    assert not index.flags_known and index.rows["flagged"].isna().all()
