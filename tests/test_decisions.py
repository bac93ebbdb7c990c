"""Decisions on rows: the log beside the runs, what stands, conflicts, export, and training with them."""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from agnews.config import TrainConfig, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
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
    decide_all,
    export_frame,
    read_corrections,
    standing,
    undo,
    undo_step,
)
from agnews.text import text_hash
from agnews.training.data import DataError, load_config_data

HASH = "a" * 64


def relabel(key: str, label: str, who: str = "ann", given: str = "World", split: str = TRAIN) -> Decision:
    return decide(
        split,
        HASH,
        key,
        action=RELABEL,
        label=label,
        given=given,
        text=f"text {key}",
        who=who,
        classes=LABELS,
    )


def events(store: DecisionStore) -> tuple[Decision, ...]:
    """The events filed under (TRAIN, HASH), failing on any damaged line."""
    log = store.log(TRAIN, HASH)
    assert log.damaged == ()
    return log.events


def test_a_decision_survives_a_new_store_and_an_undo_reveals_the_one_before(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path / ".decisions")
    store.add(relabel("k1", "Sports"))
    store.add(relabel("k1", "Business"))
    reopened = DecisionStore(tmp_path / ".decisions")  # what a restarted app sees
    [now] = standing(events(reopened))
    assert now.label == "Business"
    reopened.add(undo(events(reopened), TRAIN, HASH, "k1", "ann")[0])
    [before] = standing(events(store))  # the first store sees what the other appended
    assert before.label == "Sports"
    store.add(undo(events(store), TRAIN, HASH, "k1", "ann")[0])
    assert standing(events(store)) == []
    with pytest.raises(DecisionError, match="nothing to undo"):
        undo(events(store), TRAIN, HASH, "k1", "ann")


def test_undo_takes_back_only_the_persons_own_decision() -> None:
    log = [relabel("k1", "Sports", "ann"), relabel("k1", "Business", "bob")]
    assert list(conflicts(standing(log))) == [(TRAIN, HASH, "k1")]
    event, undone = undo(log, TRAIN, HASH, "k1", "ann")
    assert undone == log[0] and event.undoes == log[0].id and event.who == "ann"
    [left] = standing([*log, event])
    assert left.who == "bob" and left.label == "Business"
    with pytest.raises(DecisionError, match="nothing to undo: ann has no decision"):
        undo([*log, event], TRAIN, HASH, "k1", "ann")


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


# Every character a note may hold that some reader takes for the end of a line, and a lone surrogate.
SEPARATORS = '\u2028 \u2029 \x85 \r \n \r\n \x0b \x0c \x1c \x1d \x1e \x00 \ud800 "quoted" \\'


def test_a_note_with_any_line_separator_round_trips(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    notes = [f"before{SEPARATORS}after", "plain", f"ünïcödé{SEPARATORS[:3]}."]
    for i, note in enumerate(notes):
        store.add(decide(TRAIN, HASH, f"k{i}", action=KEEP, given="World", text=note, note=note))
    read = events(DecisionStore(tmp_path))
    assert [(e.note, e.text) for e in read] == [(note, note) for note in notes]
    assert len(store.path(TRAIN, HASH).read_bytes().split(b"\n")) == len(notes) + 1  # one line each


def test_an_old_log_with_raw_separators_in_a_note_still_loads(tmp_path: Path) -> None:
    """Logs written before: non-ASCII raw (`ensure_ascii=False`), no batch ids; a U+2028 in a note
    broke every later read of them."""
    store = DecisionStore(tmp_path)
    old = [relabel("k1", "Sports"), decide(TRAIN, HASH, "k2", action=KEEP, given="World", text="t")]
    old[1] = replace(old[1], note="one\u2028two\x85three ü")
    lines = [json.dumps({**asdict(e), "batch": None}, ensure_ascii=False) for e in old]
    store.path(TRAIN, HASH).parent.mkdir(parents=True, exist_ok=True)
    store.path(TRAIN, HASH).write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = events(store)
    assert [e.note for e in read] == ["", "one\u2028two\x85three ü"]
    assert [e.batch for e in read] == [e.id for e in old]  # an old event is an action of its own


def test_a_damaged_line_is_reported_and_skipped_never_blocking_the_rest(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    store.add(relabel("k1", "Sports"))
    path = store.path(TRAIN, HASH)
    valid = asdict(relabel("k9", "Sports"))
    lines = ["{not json", '["a list"]', '{"id": 3}', json.dumps({**valid, "key": 9})]
    lines.append(json.dumps({**valid, "action": "<b>shout</b>"}))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + '\n{"id": "x", "split": "train", "action": "relabel')
    assert [e.key for e in store.log(TRAIN, HASH).events] == ["k1"]
    damaged = store.log(TRAIN, HASH).damaged
    expected = [
        r"line 2 is not a decision \(Expecting property name",
        r"line 3 is not a decision \(.*'list' object",
        r"line 4 is not a decision \(.*missing .* required",
        r"line 5 is not a decision \(key not text\); skipped",
        r"line 6 is not a decision \(an unknown action\); skipped",  # not repeated: shown on the page
        r"line 7 is cut short; skipped",
    ]
    assert len(damaged) == len(expected)
    assert all(re.match(f"{path.name}: {pattern}", d) for pattern, d in zip(expected, damaged, strict=True))
    store.add(relabel("k2", "Sports"))  # written after the unfinished line, not glued to it
    log = DecisionStore(tmp_path).log(TRAIN, HASH)
    assert [e.key for e in log.events] == ["k1", "k2"]
    assert len(log.damaged) == 6 and "line 7 is not a decision" in log.damaged[-1]


def test_the_log_is_appended_never_rewritten(tmp_path: Path) -> None:
    """The full history is kept (an audit trail) and the bytes written never change; the file is
    never replaced, so an event costs the same however long the log is."""
    store = DecisionStore(tmp_path)
    path = store.path(TRAIN, HASH)
    store.add(relabel("k1", "Sports"))
    before = path.read_bytes()
    with path.open("rb") as held:  # a reader that opened the file before the next events
        store.add(relabel("k1", "Business", who="bob"))
        store.add(undo(events(store), TRAIN, HASH, "k1", "ann")[0])
        after = path.read_bytes()
        assert held.read() == after  # the same file, grown: never replaced by a rewritten copy
    assert after.startswith(before) and after.count(b"\n") == 3
    assert [e.action for e in events(store)] == [RELABEL, RELABEL, "undo"]


def test_every_event_carries_a_batch_id(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    bulk = "bulk-1"
    for key in ("k1", "k2"):
        store.add(decide(TRAIN, HASH, key, action=REMOVE, given="World", text="t", who="ann", batch=bulk))
    store.add(relabel("k3", "Sports"))
    store.add(undo(events(store), TRAIN, HASH, "k1", "ann", batch="bulk-2")[0])
    read = events(DecisionStore(tmp_path))
    assert [e.batch for e in read] == [bulk, bulk, read[2].id, "bulk-2"]


def _write_decisions(folder: Path, who: str, count: int) -> None:
    store = DecisionStore(folder)
    for i in range(count):
        store.add(relabel(f"{who}-{i}", "Sports", who=who))


def test_concurrent_writers_lose_no_decision(tmp_path: Path) -> None:
    """Four processes (app instances, sessions) writing at once: every event lands, whole."""
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_write_decisions, [tmp_path] * 4, ["ann", "bob", "cy", "dee"], [100] * 4))
    read = events(DecisionStore(tmp_path))
    assert len(read) == 400 and len({e.id for e in read}) == 400
    assert len(standing(read)) == 400


def test_a_log_rewritten_by_hand_is_read_again_from_the_start(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path)
    store.add(relabel("k1", "Sports"))
    store.add(relabel("k2", "Sports"))
    assert len(events(store)) == 2
    path = store.path(TRAIN, HASH)
    path.write_bytes(path.read_bytes().split(b"\n")[1] + b"\n")  # someone kept only the second line
    assert [e.key for e in events(store)] == ["k2"]


def test_corrected_accuracy_sits_beside_the_official_one() -> None:
    predictions = pd.DataFrame({"row_id": [0, 1, 2, 3], "label": [0, 1, 2, 3], "pred": [0, 2, 2, 0]})
    events = [
        relabel("1", "Business", given="Sports", split=TEST),  # the model was right: now correct
        decide(TEST, HASH, "3", action=REMOVE, given="Sci/Tech", text="t"),
        relabel("2", "World", who="ann", given="Business", split=TEST),
        relabel("2", "Sports", who="bob", given="Business", split=TEST),  # disputed: left as given
        relabel("99", "World", given="Sports", split=TEST),  # not a row of this run
    ]
    corrected = corrected_accuracy(predictions, standing(events), LABELS)
    assert corrected is not None
    assert corrected.rows == 3 and corrected.removed == 1 and corrected.relabelled == 1
    assert corrected.accuracy == pytest.approx(1.0)  # rows 0, 1 (relabelled), 2 (as given)
    assert corrected.directions == {("Sports", "Business"): 1}
    assert corrected.disputed == 1 and corrected.unknown == 1
    assert corrected_accuracy(predictions, [], LABELS) is None


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
            classes=LABELS,
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


# --------------------------------------------------------------------------------------------------
# On the page: each person by the name they logged in with
# --------------------------------------------------------------------------------------------------


def test_on_the_page_people_disagree_and_undo_their_own_with_messages_that_say_whose(tmp_path: Path) -> None:
    import gradio as gr

    from agnews.ui.decisions import DecisionBox, storage_note

    run = SimpleNamespace(
        classes=LABELS,
        data_stats=SimpleNamespace(corrections=None),
        config=SimpleNamespace(data=SimpleNamespace(split_hashes={TEST: HASH})),
        predictions=pd.DataFrame({"row_id": [0, 1], "label": [0, 1], "pred": [0, 0]}),
        metrics=SimpleNamespace(test=SimpleNamespace(accuracy=0.5)),
    )
    store = DecisionStore(tmp_path / ".decisions")
    with gr.Blocks():
        box = DecisionBox(splits=(TEST,), current=lambda: run, store=store, key="t")
    row = {"split": TEST, "key": "1", "given": "Sports", "text": "a row"}

    def as_(who: str | None) -> SimpleNamespace:
        return SimpleNamespace(username=who)

    box._record(row, RELABEL, "Business", "", [], as_("ann"))
    table, said, _ = box._record(row, REMOVE, None, "", [], as_("bob"))
    assert "1 row(s) have disagreeing decisions" in said
    assert list(table["who"]) == ["bob", "ann"] and list(table["conflict"]) == ["⚠ disagree"] * 2
    table, said, _ = box._undo(row, [], as_("ann"))
    assert said.startswith("Undone: ann's relabel → Business on row 1.")
    assert list(table["who"]) == ["bob"] and list(table["decision"]) == [REMOVE]
    with pytest.raises(gr.Error, match="nothing to undo: ann has no decision"):
        box._undo(row, [], as_("ann"))

    _, said, _ = box._record(row, KEEP, None, "", [], as_(None))  # a page without a login
    assert said.startswith("Recorded: keep on row 1, by local.")
    note = storage_note(store)
    assert "without a login everyone is recorded as one person, `local`" in note
    assert str(tmp_path) not in note  # a page shows no server path


def test_a_clicked_row_prefills_the_suggested_class_and_a_relabel_needs_one(tmp_path: Path) -> None:
    """The class to relabel to starts at the suggestion (another class of the run) or empty; recording
    a relabel with none chosen says so, never "relabel to None"."""
    import gradio as gr

    from agnews.ui.decisions import DecisionBox

    run = SimpleNamespace(
        classes=LABELS,
        data_stats=SimpleNamespace(corrections=None),
        config=SimpleNamespace(data=SimpleNamespace(split_hashes={TEST: HASH})),
        predictions=pd.DataFrame({"row_id": [0, 1], "label": [0, 1], "pred": [0, 0]}),
        metrics=SimpleNamespace(test=SimpleNamespace(accuracy=0.5)),
    )
    with gr.Blocks():
        box = DecisionBox(splits=(TEST,), current=lambda: run, store=None, key="t")
    assert box.choose(TEST, "1", "Sports", "a row", "Business")[box.label]["value"] == "Business"
    for no_suggestion in ("Sports", "Weather", None):  # its own class, no class of the run, none
        assert box.choose(TEST, "1", "Sports", "a row", no_suggestion)[box.label]["value"] is None
    row = {"split": TEST, "key": "1", "given": "Sports", "text": "a row"}
    with pytest.raises(gr.Error, match="relabel: choose the new class first"):
        box._record(row, RELABEL, None, "", [], SimpleNamespace(username="ann"))


def test_a_bulk_action_is_one_step_that_one_undo_takes_back_exactly(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path / ".decisions")
    store.add(relabel("k1", "Sports"))  # an earlier single decision on a row the bulk action covers
    rows = [(f"k{i}", "World", f"text k{i}", None) for i in range(1, 4)]
    kept = decide_all(TRAIN, HASH, rows, action=KEEP, classes=LABELS, who="ann")
    store.add_all(kept)
    assert len({d.batch for d in kept}) == 1
    assert {d.key: d.action for d in standing(events(store))} == {"k1": KEEP, "k2": KEEP, "k3": KEEP}
    store.add(relabel("k9", "Sports", who="bob"))  # someone else's step after it is not mine

    reversing, undone = undo_step(events(store), "ann")
    assert undone == kept and [e.undoes for e in reversing] == [d.id for d in kept]
    assert len({e.batch for e in reversing}) == 1
    store.add_all(reversing)
    now = {(d.key, d.who): d.verdict for d in standing(events(store))}
    assert now == {("k1", "ann"): (RELABEL, "Sports"), ("k9", "bob"): (RELABEL, "Sports")}
    reversing, undone = undo_step(events(store), "ann")  # pressed again: the step before
    assert [d.key for d in undone] == ["k1"]
    store.add_all(reversing)
    with pytest.raises(DecisionError, match="nothing to undo: ann"):
        undo_step(events(store), "ann")


def test_a_bulk_relabel_gives_each_row_its_suggestion_and_is_refused_whole() -> None:
    rows = [("k1", "World", "a", "Sports"), ("k2", "World", "b", "Business")]
    made = decide_all(TRAIN, HASH, rows, action=RELABEL, classes=LABELS)
    assert [d.label for d in made] == ["Sports", "Business"]
    with pytest.raises(DecisionError, match="already labelled World"):
        decide_all(TRAIN, HASH, [*rows, ("k3", "World", "c", "World")], action=RELABEL, classes=LABELS)
    with pytest.raises(DecisionError, match="no rows listed"):
        decide_all(TRAIN, HASH, [], action=KEEP)


def test_a_step_is_appended_in_one_write_under_one_split(tmp_path: Path) -> None:
    store = DecisionStore(tmp_path / ".decisions")
    made = decide_all(TRAIN, HASH, [("k1", "World", "a", None), ("k2", "World", "b", None)], action=REMOVE)
    store.add_all(made)
    assert store.path(TRAIN, HASH).read_bytes().count(b"\n") == 2
    with pytest.raises(DecisionError, match="one split and split hash"):
        store.add_all([made[0], relabel("t1", "Sports", split=TEST)])


def test_the_decided_column_says_what_stands_on_each_row_and_marks_disagreement() -> None:
    from agnews.ui.decisions import decided_column

    log = [
        relabel("k1", "Sports", "ann"),
        relabel("k2", "Sports", "ann"),
        decide(TRAIN, HASH, "k2", action=REMOVE, given="World", text="t", who="bob"),
        decide(TRAIN, HASH, "k3", action=KEEP, given="World", text="t", who="ann"),
        relabel("k4", "Business", "ann", split=TEST),  # another split's row of the same key
    ]
    assert decided_column(standing(log), TRAIN, ["k1", "k2", "k3", "k4", "k5"]) == [
        "relabel → Sports",
        "⚠ relabel → Sports / remove",
        "keep",
        "",
        "",
    ]


def test_on_the_page_accept_and_bulk_record_as_one_step_and_the_column_follows(tmp_path: Path) -> None:
    """The box's own handlers, on a page that may not write (the session holds the events)."""
    import gradio as gr

    from agnews.ui.decisions import Bulk, DecisionBox, Listed

    run = SimpleNamespace(
        classes=LABELS,
        data_stats=SimpleNamespace(corrections=None),
        config=SimpleNamespace(data=SimpleNamespace(split_hashes={TEST: HASH})),
        predictions=pd.DataFrame({"row_id": [0, 1, 2], "label": [0, 1, 1], "pred": [0, 0, 2]}),
        metrics=SimpleNamespace(test=SimpleNamespace(accuracy=0.5)),
    )
    with gr.Blocks():
        box = DecisionBox(splits=(TEST,), current=lambda: run, store=None, key="t")
        bulk = Bulk(TEST, "t-test")
        box.connect(bulk)
    who = SimpleNamespace(username=None)
    chosen = box.choose(TEST, "1", "Sports", "a row", "World")
    assert chosen[box.accept]["value"] == "Accept suggestion: relabel → World"
    assert box.choose(TEST, "1", "Sports", "a row", None)[box.accept]["interactive"] is False
    _, said, session = box._accept(chosen[box.target], "", [], who)
    assert said.startswith("Recorded: relabel → World on row 1, by local.")
    assert box.decided(session, TEST, ["0", "1", "2"]) == ["", "relabel → World", ""]

    rows = [Listed("1", "Sports", "a row", "World"), Listed("2", "Sports", "b row", "Business")]
    buttons = bulk.show(rows)
    assert buttons[bulk.keep]["value"] == "Keep all 2 listed rows"
    assert buttons[bulk.relabel]["value"] == "Relabel all 2 listed rows to their suggestion"
    _, said, session = box._bulk_handler(TEST, KEEP)(buttons[bulk.listed], session, who)
    assert "keep on 2 listed rows as one step" in said
    assert box.decided(session, TEST, ["1", "2"]) == ["keep", "keep"]
    _, said, session = box._undo_step(session, who)
    assert said.startswith("Undone: local's keep on 2 rows.")
    assert box.decided(session, TEST, ["1", "2"]) == ["relabel → World", ""]
