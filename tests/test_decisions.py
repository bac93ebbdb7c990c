"""Decisions on rows: the log beside the runs, what stands, conflicts, export, and training with them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from agnews.config import TrainConfig, preset_config
from agnews.labels import LABELS
from agnews.rundir.decisions import (
    KEEP,
    RELABEL,
    REMOVE,
    TEST,
    TRAIN,
    Decision,
    DecisionError,
    DecisionStore,
    conflicts,
    corrected_accuracy,
    decide,
    export_frame,
    read_corrections,
    standing,
    undo,
)
from agnews.text import text_hash
from agnews.training.data import DataError, load_config_data

HASH = "a" * 64


def relabel(key: str, label: str, who: str = "ann", given: str = "World", split: str = TRAIN) -> Decision:
    return decide(split, HASH, key, action=RELABEL, label=label, given=given, text=f"text {key}", who=who)


def test_a_decision_survives_a_new_store_and_an_undo_reveals_the_one_before(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path / ".decisions")
    store.add(relabel("k1", "Sports"))
    store.add(relabel("k1", "Business"))
    reopened = DecisionStore(tmp_path / ".decisions")  # what a restarted app sees
    [now] = standing(reopened.events(TRAIN, HASH))
    assert now.label == "Business"
    reopened.add(undo(reopened.events(TRAIN, HASH), TRAIN, HASH, "k1", "ann"))
    [before] = standing(store.events(TRAIN, HASH))
    assert before.label == "Sports"
    store.add(undo(store.events(TRAIN, HASH), TRAIN, HASH, "k1", "ann"))
    assert standing(store.events(TRAIN, HASH)) == []
    with pytest.raises(DecisionError, match="nothing to undo"):
        undo(store.events(TRAIN, HASH), TRAIN, HASH, "k1", "ann")
    assert not list((tmp_path / ".decisions").glob(".*.tmp"))  # written atomically, nothing left over


def test_two_people_deciding_differently_is_a_conflict_and_agreeing_is_not() -> None:
    events = [relabel("k1", "Sports", "ann"), relabel("k1", "Sports", "bob"), relabel("k2", "Sports", "ann")]
    events.append(decide(TRAIN, HASH, "k2", action=REMOVE, given="World", text="t", who="bob"))
    disputed = conflicts(standing(events))
    assert list(disputed) == [(TRAIN, HASH, "k2")]
    assert {d.who for d in disputed[(TRAIN, HASH, "k2")]} == {"ann", "bob"}


def test_bad_decisions_are_refused_with_the_reason() -> None:
    with pytest.raises(DecisionError, match="already labelled World"):
        relabel("k1", "World")
    with pytest.raises(DecisionError, match="choose one of"):
        relabel("k1", "Politics")
    with pytest.raises(DecisionError, match="no row chosen"):
        relabel("", "Sports")
    with pytest.raises(DecisionError, match="at most 1000"):
        decide(TRAIN, HASH, "k", action=KEEP, given="World", text="t", note="x" * 1001)


def test_a_damaged_log_names_its_line(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    store.add(relabel("k1", "Sports"))
    path = store.path(TRAIN, HASH)
    path.write_text(path.read_text() + "{not json\n")
    with pytest.raises(DecisionError, match=r"line 2 is not a decision"):
        store.events(TRAIN, HASH)


def test_corrected_accuracy_sits_beside_the_official_one() -> None:
    predictions = pd.DataFrame({"row_id": [0, 1, 2, 3], "label": [0, 1, 2, 3], "pred": [0, 2, 2, 0]})
    events = [
        relabel("1", "Business", given="Sports", split=TEST),  # the model was right: now correct
        decide(TEST, HASH, "3", action=REMOVE, given="Sci/Tech", text="t"),
        relabel("2", "World", who="ann", given="Business", split=TEST),
        relabel("2", "Sports", who="bob", given="Business", split=TEST),  # disputed: left as given
        relabel("99", "World", given="Sports", split=TEST),  # not a row of this run
    ]
    corrected = corrected_accuracy(predictions, standing(events))
    assert corrected is not None
    assert corrected.rows == 3 and corrected.removed == 1 and corrected.relabelled == 1
    assert corrected.accuracy == pytest.approx(1.0)  # rows 0, 1 (relabelled), 2 (as given)
    assert corrected.directions == {("Sports", "Business"): 1}
    assert corrected.disputed == 1 and corrected.unknown == 1
    assert corrected_accuracy(predictions, []) is None


def corrections_file(tmp_path: Path, decisions: list, name: str = "decisions.csv") -> Path:
    path = tmp_path / name
    export_frame(decisions).to_csv(path, index=False)
    return path


def test_corrections_relabel_and_remove_training_rows_and_leave_validation_alone(
    tiny_data: Path, tmp_path: Path
) -> None:
    config = preset_config("quick", data=str(tiny_data))
    before = load_config_data(config)
    train, own_hash = before.splits["train"], before.split_hashes()["train"]
    texts, labels = train["text"], train["label"]
    target = (labels[0] + 1) % 4
    decisions = [
        decide(
            TRAIN,
            own_hash,
            text_hash(texts[0]),
            action=RELABEL,
            label=LABELS[target],
            given="x",
            text=texts[0],
        ),
        decide(TRAIN, own_hash, text_hash(texts[1]), action=REMOVE, given="x", text=texts[1]),
        decide(TRAIN, own_hash, text_hash(texts[2]), action=KEEP, given="x", text=texts[2]),
        decide(TEST, "b" * 64, "5", action=REMOVE, given="x", text="t"),
    ]
    path = corrections_file(tmp_path, decisions)
    after = load_config_data(TrainConfig.from_dict({**config.to_dict(), "corrections": str(path)}))
    by_text = dict(zip(after.splits["train"]["text"], after.splits["train"]["label"], strict=True))
    assert by_text[texts[0]] == target
    assert texts[1] not in by_text
    assert by_text[texts[2]] == labels[2]
    assert len(by_text) == len(texts) - 1
    assert after.splits["validation"]["text"] == before.splits["validation"]["text"]
    assert after.extra["corrections"] == {
        "file": "decisions.csv",
        "split_hash": own_hash,
        "relabelled": 1,
        "removed": 1,
        "kept": 1,
        "test_rows_not_applied": 1,
    }


def test_corrections_from_other_rows_or_in_conflict_are_refused_and_change_nothing(
    tiny_data: Path, tmp_path: Path
) -> None:
    config = preset_config("quick", data=str(tiny_data))
    data = load_config_data(config)
    own_hash, text = data.split_hashes()["train"], data.splits["train"]["text"][0]
    gone = decide(
        TRAIN, own_hash, text_hash("a row that no longer exists"), action=REMOVE, given="x", text="t"
    )
    disputed = [
        decide(TRAIN, own_hash, text_hash(text), action=REMOVE, given="x", text=text, who="ann"),
        decide(TRAIN, own_hash, text_hash(text), action=KEEP, given="x", text=text, who="bob"),
    ]
    other_dataset = decide(TRAIN, "c" * 64, text_hash(text), action=REMOVE, given="x", text=text)
    no_column = tmp_path / "no_column.csv"
    pd.DataFrame({"row_id": [1]}).to_csv(no_column, index=False)
    cases = {
        corrections_file(tmp_path, [other_dataset], "other.csv"): "made on other training rows",
        corrections_file(tmp_path, [gone], "gone.csv"): "none of its 1 text hashes matches",
        corrections_file(tmp_path, disputed, "disputed.csv"): "1 training row(s) decided two ways",
        no_column: "no `split`, `split_hash`, `key`, `action`, `label` column",
        tmp_path / "missing.csv": "file not found",
    }
    for path, message in cases.items():
        with pytest.raises(DataError, match=re.escape(message)):
            load_config_data(TrainConfig.from_dict({**config.to_dict(), "corrections": str(path)}))


def test_read_corrections_keeps_only_training_rows(tmp_path: Path) -> None:
    path = corrections_file(tmp_path, [relabel("k1", "Sports"), relabel("5", "Sports", split=TEST)])
    corrections = read_corrections(path)
    assert corrections.relabelled == {"k1": "Sports"} and corrections.test_rows == 1
    only_test = corrections_file(tmp_path, [relabel("5", "Sports", split=TEST)], "test.csv")
    with pytest.raises(DecisionError, match="no decisions on training rows"):
        read_corrections(only_test)
