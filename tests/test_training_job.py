"""A training from the page (`agnews.ui.training_job`), the one heavy slot (`agnews.ui.heavy_work`)
and the training data kept beside the runs (`agnews.ui.training_data`), with fake commands: the
child is a few lines of Python that speak the events `agnews train` writes (`agnews.events`), so the
job's watching, caps, cancel and failure are tested in seconds, without training anything."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from agnews.rundir.decisions import (
    RELABEL,
    REMOVE,
    TRAIN,
    DecisionStore,
    decide,
    read_corrections,
    split_hash,
)
from agnews.rundir.run import Run
from agnews.ui import heavy_work, training_job
from agnews.ui.training_data import (
    UploadError,
    UploadStore,
    check,
    data_args,
    guess_columns,
    header,
)
from agnews.ui.training_job import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    Recipe,
    TrainingCaps,
    TrainingJob,
    TrainingRefused,
    check_name,
    checkpoint_dir,
    interrupted,
)
from agnews.ui.training_tab import decision_summary, free_name, status_text

# The fake `python -m agnews train ... --out OUT --checkpoint-dir DIR`: what it does is chosen by
# FAKE_TRAINING (ok, hang, fail, memory); it speaks through the events as `agnews train` does.
FAKE_TRAINING = """
import os, sys, time
from pathlib import Path
from agnews.events import DONE, ERROR, PROGRESS, STARTED, Event, emit

args = sys.argv[1:]
out, checkpoints = Path(args[args.index("--out") + 1]), Path(args[args.index("--checkpoint-dir") + 1])
mode = os.environ["FAKE_TRAINING"]
emit(Event(STARTED, "train"))
if mode == "fail":
    emit(Event(ERROR, message="tickets.csv: label column 'label' not found"))
    sys.exit(2)
if mode == "memory":
    held = bytearray(300 * 2**20)
    held[::4096] = b"x" * len(held[::4096])
    time.sleep(60)
(checkpoints / "checkpoint-2").mkdir(parents=True, exist_ok=True)
for step in range(1, 5):
    time.sleep(0.05)
    emit(Event(PROGRESS, "train", n=step, total=4, what="train"))
    if step == 2:
        emit(Event(PROGRESS, "train", n=1, total=2, what="validation accuracy", value=0.75))
if mode == "hang":
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(130)
out.mkdir(parents=True)
(out / "manifest.json").write_text("{}")
emit(Event(DONE, "train"))
"""


@pytest.fixture
def fake_agnews(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`python -m agnews ...` as `Command` runs it, replaced by `FAKE_TRAINING` (the interpreter is a
    script that runs it with the command's arguments); the app's training and slot are reset after."""
    script = tmp_path / "fake-python"
    script.write_text(f'#!/bin/sh\nshift 2\nexec {sys.executable} -c "$FAKE_CODE" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_CODE", FAKE_TRAINING)
    monkeypatch.setattr(sys, "executable", str(script))
    yield
    job = training_job.latest()
    if job is not None:
        job.cancel()
        wait_until(lambda: not job.running())
    training_job._latest = None


def wait_until(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def job(runs: Path, mode: str, monkeypatch: pytest.MonkeyPatch, **caps: object) -> TrainingJob:
    monkeypatch.setenv("FAKE_TRAINING", mode)
    return TrainingJob(runs, "tickets", ["--preset", "quick"], disk_bytes=1000, caps=TrainingCaps(**caps))  # type: ignore[arg-type]


def finished(started: TrainingJob) -> training_job.TrainingStatus:
    wait_until(lambda: not started.running())
    return started.status()


# -- the heavy slot ----------------------------------------------------------------------------------


def test_the_slot_has_one_holder_and_drops_one_that_ended() -> None:
    first = SimpleNamespace(progress=lambda: "step 3 of 9", running=lambda: True)
    second = SimpleNamespace(progress=lambda: "", running=lambda: True)
    assert heavy_work.acquire("training a", first)
    try:
        assert heavy_work.acquire("training a", first)  # the holder again: still its
        assert not heavy_work.acquire("an evaluation", second)
        assert heavy_work.busy() == ("training a", "step 3 of 9")
        heavy_work.release(second)  # not the holder's to give
        assert heavy_work.busy() is not None
    finally:
        heavy_work.release(first)
    assert heavy_work.busy() is None
    ended = SimpleNamespace(progress=lambda: "", running=lambda: False)
    assert heavy_work.acquire("crashed", ended)
    assert heavy_work.busy() is None  # it ended without giving the slot back
    assert heavy_work.acquire("an evaluation", second)
    heavy_work.release(second)


def test_a_claim_holds_the_slot_until_its_command_ends() -> None:
    claim = heavy_work.Claim()
    assert heavy_work.acquire("a cross-domain evaluation", claim)
    try:
        assert heavy_work.busy() == ("a cross-domain evaluation", "")  # its command not started yet
        exit_status: list[int | None] = [None]
        claim.command = SimpleNamespace(
            progress=lambda: "predict 40%, 4/10", returncode=lambda: exit_status[0]
        )  # type: ignore[assignment]
        assert heavy_work.busy() == ("a cross-domain evaluation", "predict 40%, 4/10")
        exit_status[0] = 0
        assert heavy_work.busy() is None
    finally:
        heavy_work.release(claim)


# -- a training's life ---------------------------------------------------------------------------


def test_a_training_reports_steps_and_validation_then_its_run(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    started = training_job.start(job(runs, "ok", monkeypatch))
    assert training_job.latest() is started
    assert heavy_work.busy() is not None and heavy_work.busy()[0] == "training tickets"  # type: ignore[index]
    done = finished(started)
    assert done.state == DONE and done.run_ready and not done.resumable
    assert done.validation == ((1, 0.75),)
    assert done.error == "" and done.step is None
    assert heavy_work.busy() is None  # the slot is given back when the child ends
    assert started.command_args()[-4:] == [
        "--out", str(runs / "tickets"), "--checkpoint-dir", str(checkpoint_dir(runs, "tickets")),
    ]  # fmt: skip


def test_a_running_training_says_its_step_and_time_to_go(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = training_job.start(job(tmp_path / "runs", "hang", monkeypatch))
    wait_until(lambda: started.status().step == 4)
    now = started.status()
    assert now.state == RUNNING and now.stage == "train" and now.steps == 4
    assert now.remaining == 0.0  # all four steps done
    assert started.progress() == "step 4 of 4"
    shown = status_text(now, None, tmp_path)
    assert "step 4 of 4" in shown and "epoch 1 75.0%" in shown


def test_a_second_training_waits_and_is_told_the_running_ones_progress(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    first = training_job.start(job(runs, "hang", monkeypatch))
    wait_until(lambda: first.status().step == 4)
    second = TrainingJob(runs, "other", ["--preset", "quick"], disk_bytes=1000, caps=TrainingCaps())
    with pytest.raises(TrainingRefused, match=r"Wait: training tickets is running \(step 4 of 4\)"):
        training_job.start(second)
    assert training_job.latest() is first and not second.running()


def cancelled_midway(runs: Path, monkeypatch: pytest.MonkeyPatch) -> TrainingJob:
    """A training started, cancelled after its last step (a checkpoint saved), and ended."""
    started = training_job.start(job(runs, "hang", monkeypatch))
    wait_until(lambda: started.status().step == 4)
    started.cancel()
    wait_until(lambda: not started.running())
    return started


def test_a_cancelled_training_leaves_no_run_and_can_resume(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    started = cancelled_midway(runs, monkeypatch)
    stopped = started.status()
    assert stopped.state == CANCELLED and not stopped.run_ready and stopped.resumable
    assert sorted(p.name for p in runs.iterdir()) == [".tickets.checkpoints"]
    assert heavy_work.busy() is None
    assert "Resume" in status_text(stopped, None, runs)
    again = started.resumed()
    assert again.args == ["--preset", "quick", "--resume"] and again.resumed().args == again.args
    with pytest.raises(TrainingRefused, match="left checkpoints"):
        check_name(runs, "tickets")


def test_an_app_started_again_offers_and_resumes_the_training_it_was_stopped_in(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    started = cancelled_midway(runs, monkeypatch)
    training_job._latest = None  # the app stopped: nothing is left in memory, only what is on disk

    assert interrupted(runs) == ["tickets"]
    assert "The training of `tickets` was interrupted" in status_text(None, None, runs, "tickets")
    again = TrainingJob.from_record(runs, "tickets", TrainingCaps())
    assert again.args == ["--preset", "quick", "--resume"] and again.disk_bytes == 1000
    assert again.spent >= started.elapsed() - 0.2  # rounded to tenths in the record
    monkeypatch.setenv("FAKE_TRAINING", "ok")
    done = finished(training_job.start(again))
    assert done.state == DONE and interrupted(runs) == []
    assert not (checkpoint_dir(runs, "tickets") / training_job.PAGE_RECORD).exists()
    with pytest.raises(TrainingRefused, match="no interrupted training of tickets"):
        TrainingJob.from_record(runs, "tickets", TrainingCaps())


def test_resuming_counts_the_earlier_wall_time_and_keeps_the_caps_it_began_under(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    capped = finished(training_job.start(job(runs, "hang", monkeypatch, max_seconds=1.5)))
    assert "this page's cap on a training's time" in capped.error
    assert not capped.resumable  # not here: its time on this page is used up
    previous = training_job.latest()
    assert previous is not None
    resumed = previous.resumed()
    assert resumed.spent >= 1.5  # so a resume cannot reset the clock
    with pytest.raises(TrainingRefused, match=r"has used this page's \d+ minutes of training time"):
        training_job.start(resumed)  # refused before it takes the heavy slot or starts a child
    assert heavy_work.busy() is None and training_job.latest() is previous
    with pytest.raises(TrainingRefused, match="has used this page's"):  # nor after a restart
        training_job.start(TrainingJob.from_record(runs, "tickets", TrainingCaps(max_seconds=1.5)))
    # A training begun without caps (a local page) is not resumed under a public page's caps.
    with pytest.raises(TrainingRefused, match="more rows or epochs than this page allows"):
        TrainingJob.from_record(runs, "tickets", TrainingCaps.public())
    assert TrainingCaps.public().covers(5000, 3.0) and not TrainingCaps.public().covers(None, 3.0)


def test_an_unreadable_record_is_refused_with_what_to_do(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    (checkpoint_dir(runs, "tickets") / "checkpoint-2").mkdir(parents=True)
    record = {"args": ["--preset", "quick"], "disk_bytes": 10, "spent_seconds": 1.0}
    record["caps"] = {"max_rows": None, "max_epochs": None}
    write_record(runs, record)
    assert TrainingJob.from_record(runs, "tickets", TrainingCaps()).args == ["--preset", "quick", "--resume"]
    for damaged in (
        {**record, "args": "--resume; rm -rf /"},  # a string, not a list of arguments
        {**record, "args": ["--preset", 3]},
        {**record, "caps": {"max_rows": "many", "max_epochs": None}},
        {key: value for key, value in record.items() if key != "disk_bytes"},
    ):
        write_record(runs, damaged)
        with pytest.raises(TrainingRefused, match="record of tickets's training cannot be read"):
            TrainingJob.from_record(runs, "tickets", TrainingCaps(max_rows=10))


def write_record(runs: Path, record: dict[str, object]) -> None:
    (checkpoint_dir(runs, "tickets") / training_job.PAGE_RECORD).write_text(json.dumps(record))


def test_on_a_public_page_only_the_starting_session_may_steer(tmp_path: Path) -> None:
    public = TrainingJob(tmp_path, "tickets", [], disk_bytes=0, caps=TrainingCaps.public(), owner="abc")
    assert public.may_steer("abc") and not public.may_steer("xyz") and not public.may_steer("")
    assert not TrainingJob(tmp_path, "t", [], disk_bytes=0, caps=TrainingCaps.public()).may_steer("")
    local = TrainingJob(tmp_path, "tickets", [], disk_bytes=0, caps=TrainingCaps(), owner="abc")
    assert local.may_steer("xyz")


def test_a_failed_training_shows_the_commands_own_error(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = finished(training_job.start(job(tmp_path / "runs", "fail", monkeypatch)))
    assert failed.state == FAILED and not failed.run_ready and not failed.resumable
    assert failed.error == "tickets.csv: label column 'label' not found"
    assert not checkpoint_dir(tmp_path / "runs", "tickets").exists()  # no record left to keep its upload
    assert "failed**: tickets.csv: label column 'label' not found" in status_text(failed, None, tmp_path)


def test_a_training_over_its_memory_cap_is_killed_and_says_so(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = training_job.start(job(tmp_path / "runs", "memory", monkeypatch, memory_bytes=150 * 2**20))
    failed = finished(started)
    assert failed.state == FAILED
    assert "of memory, over this page's cap of 157.3 MB" in failed.error
    assert heavy_work.busy() is None


def test_a_training_over_its_wall_time_is_stopped_resumably(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = training_job.start(job(tmp_path / "runs", "hang", monkeypatch, max_seconds=1.0))
    stopped = finished(started)
    assert stopped.state == FAILED
    assert "this page's cap on a training's time; its checkpoints are kept" in stopped.error


def test_a_full_disk_refuses_before_anything_starts(
    tmp_path: Path, fake_agnews: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = SimpleNamespace(total=10**9, used=10**9 - 10**6, free=10**6)
    monkeypatch.setattr(training_job.shutil, "disk_usage", lambda path: usage)
    refused = job(tmp_path / "runs", "ok", monkeypatch)
    refused.disk_bytes = 50 * 10**6
    with pytest.raises(
        TrainingRefused, match=r"may take up to 50\.0 MB beside the runs .*, and 1\.0 MB is free"
    ):
        training_job.start(refused)
    assert heavy_work.busy() is None and training_job.latest() is None


# -- names, recipes, caps ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "../up", ".hidden", "a/b", "x" * 101, "two words"])
def test_a_run_name_is_a_plain_folder_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(TrainingRefused, match="Name the new run"):
        check_name(tmp_path, name)


def test_a_taken_name_is_refused_and_a_free_one_offered(tmp_path: Path) -> None:
    (tmp_path / "tickets").mkdir()
    assert check_name(tmp_path, " tickets-2 ") == "tickets-2"
    with pytest.raises(TrainingRefused, match="exists already"):
        check_name(tmp_path, "tickets")
    assert free_name(tmp_path, "tickets") == "tickets-2"
    assert free_name(tmp_path, "my tickets!") == "my-tickets"


def test_caps_lower_a_recipes_epochs_and_rows_and_only_those() -> None:
    recipe = Recipe("quick", ("--preset", "quick"), "minilm", 90 * 10**6, epochs=2.0, max_rows=4500)
    assert recipe.capped_args(TrainingCaps()) == ["--preset", "quick"]
    assert recipe.capped_args(TrainingCaps.public()) == ["--preset", "quick"]
    assert recipe.capped_args(TrainingCaps(max_rows=1000, max_epochs=1.0)) == [
        "--preset", "quick", "--epochs", "1.0", "--max-train-samples", "1000",
    ]  # fmt: skip
    assert (
        recipe.rows_under(TrainingCaps(max_rows=1000)) == 1000 and recipe.rows_under(TrainingCaps()) == 4500
    )
    uncapped = Recipe(
        "full", ("--preset", "distilbert"), "distilbert-base-uncased", 1, epochs=2.0, max_rows=None
    )
    assert uncapped.capped_args(TrainingCaps.public())[-2:] == ["--max-train-samples", "5000"]
    assert uncapped.rows_under(TrainingCaps()) is None and uncapped.epochs_under(TrainingCaps.public()) == 2.0


# -- uploads kept beside the runs --------------------------------------------------------------------


def test_an_upload_is_kept_once_by_its_hash_with_its_own_name(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "runs" / ".uploads", quota=10_000)
    source = tmp_path / "My tickets.csv"
    source.write_text("text,label\nprinter jammed,hardware\n", encoding="utf-8")
    kept = store.keep(source)
    assert kept.path == store.folder / kept.sha256 / "My-tickets.csv"
    assert kept.name == "My tickets.csv" and kept.path.read_bytes() == source.read_bytes()
    assert source.exists()  # a file from outside Gradio's upload folder is copied, never moved
    assert json.loads((kept.path.parent / "upload.json").read_text())["name"] == "My tickets.csv"
    again = tmp_path / "renamed.csv"
    again.write_bytes(source.read_bytes())
    assert store.keep(again) == kept  # the same bytes: the same upload
    assert store.used() == sum(p.stat().st_size for p in kept.path.parent.iterdir())  # with its JSON
    assert [p.name for p in store.folder.iterdir()] == [kept.sha256]  # no staging left


def test_uploads_beyond_the_quota_or_in_other_formats_are_refused(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / ".uploads", quota=60)
    first, second, parquet = tmp_path / "a.csv", tmp_path / "b.jsonl", tmp_path / "c.parquet"
    first.write_text("text,label\n" + "x,y\n" * 10)
    second.write_text('{"text": "x", "label": "y"}\n' * 3)
    parquet.write_bytes(b"PAR1")
    store.keep(first)
    with pytest.raises(UploadError, match=r"over their quota of 0 MB \(0\.0 MB used\)"):
        store.keep(second)
    with pytest.raises(UploadError, match="takes CSV or JSON lines files"):
        store.keep(parquet)
    assert len(list(store.folder.iterdir())) == 1


def test_over_the_quota_uploads_nothing_needs_are_swept_first(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    store = UploadStore(runs / ".uploads", quota=10**6)
    files = {}
    names = ("named", "resumable", "abandoned", "failed", "fresh", "again")
    for name in (*names, "new"):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(f"text,label\n{name} row,{name}\n" * 3)
    kept = {name: store.keep(files[name]) for name in names}
    (runs / "a-run").mkdir()
    (runs / "a-run" / "config.json").write_text(json.dumps({"train": {"data": str(kept["named"].path)}}))
    for training, upload, checkpoints in (("stopped", "resumable", True), ("broken", "failed", False)):
        folder = runs / f".{training}.checkpoints"
        folder.mkdir()
        if checkpoints:  # a training with nothing to resume from does not keep its upload
            (folder / "checkpoint-2").mkdir()
        (folder / "page-training.json").write_text(json.dumps({"args": ["--data", str(kept[upload].path)]}))
    hours_ago = time.time() - 2 * 3600
    for name in ("named", "resumable", "abandoned", "failed", "again"):  # "fresh": kept a moment ago
        os.utime(kept[name].path.parent / "upload.json", (hours_ago, hours_ago))
    assert store.keep(files["again"]) == kept["again"]  # kept anew: its hour starts again
    store.quota = store.used() + files["new"].stat().st_size - 1  # full: the new one does not fit

    store.keep(files["new"])  # fits once the uploads nothing needs are swept
    remaining = {path.name for path in store.folder.iterdir()}
    assert not {kept["abandoned"].sha256, kept["failed"].sha256} & remaining
    assert {kept[name].sha256 for name in ("named", "resumable", "fresh", "again")} <= remaining


def test_a_header_comes_from_the_first_line_only(tmp_path: Path) -> None:
    csv_file, jsonl, empty, binary = (tmp_path / n for n in ("a.csv", "b.jsonl", "c.csv", "d.csv"))
    csv_file.write_text('\ufeff"Subject, line", body ,Category\n"a,b",c,d\n', encoding="utf-8")
    jsonl.write_text('\n{"body": "x", "topic": 1}\n{"other": 2}\n')
    empty.write_text("\n")
    binary.write_bytes(b"\xff\xfe\x00t")
    assert header(csv_file) == ["Subject, line", "body", "Category"]
    assert header(jsonl) == ["body", "topic"]
    assert guess_columns(header(csv_file)) == ("Subject, line", "Category")
    assert guess_columns(["id", "Text", "sentiment"]) == ("Text", None)
    with pytest.raises(UploadError, match="no header row"):
        header(empty)
    with pytest.raises(UploadError, match="not UTF-8"):
        header(binary)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(501)) + "\n")
    with pytest.raises(UploadError, match="501 columns, more than the 500"):
        header(wide)


@pytest.mark.slow  # an agnews child process
def test_the_check_is_the_librarys_own_in_a_child(tmp_path: Path) -> None:
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    rows = [
        f"ticket {i} about {'printers' if i % 2 else 'passwords'},{'hw' if i % 2 else 'acct'}"
        for i in range(60)
    ]
    train.write_text("text,label\n" + "\n".join(rows) + "\n")
    test.write_text("text,label\n" + "\n".join(rows[:10]) + "\n")
    said = check(train, test, ["text"], "label", tmp_path)
    assert said.ok and said.classes == ("acct", "hw")
    assert said.training_rows() == 60
    assert dict((n, counts) for n, _, counts in said.splits)["test"] == {"acct": 5, "hw": 5}
    refused = check(train, test, ["body"], "label", tmp_path)
    assert not refused.ok and "no column 'body'" in (refused.refusal or "")


# -- decisions to retrain with -----------------------------------------------------------------------


def test_agreed_training_decisions_become_corrections_and_disputes_are_listed(
    run: Run, tmp_path: Path
) -> None:
    from agnews.ui.training_tab import _keep_corrections

    store = DecisionStore(tmp_path / ".decisions")
    hashed = split_hash(run, TRAIN)
    rows = ["a1", "b2", "c3"]
    classes = run.classes

    def decided(key: str, who: str, action: str, label: str | None = None) -> None:
        store.add(
            decide(TRAIN, hashed, key, action=action, given=classes[0], text=f"row {key}", label=label,
                   classes=classes, who=who)
        )  # fmt: skip

    decided(rows[0], "ann", RELABEL, classes[1])
    decided(rows[1], "ann", REMOVE)
    decided(rows[1], "bob", REMOVE)  # agreed by two
    decided(rows[2], "ann", REMOVE)
    decided(rows[2], "bob", RELABEL, classes[2])  # disputed
    said, applied, disputed = decision_summary(run, store)
    assert "2 training rows" in said and "1 relabelled, 1 removed" in said and "1 rows are disputed" in said
    assert sorted(d.key for d in applied) == rows[:2]
    assert disputed["training row"].tolist() == ["row c3"]
    assert (
        "ann: remove" in disputed["decisions"].iloc[0]
        and f"bob: relabel → {classes[2]}" in disputed["decisions"].iloc[0]
    )
    kept = _keep_corrections(UploadStore(tmp_path / ".uploads", 10**6), run, applied)
    corrections = read_corrections(kept)
    assert corrections.split_hash == hashed
    assert corrections.removed == {rows[1]} and corrections.relabelled == {rows[0]: classes[1]}
    assert kept.name == f"decisions-{run.name}.csv"
    assert decision_summary(run, None)[1] == []
    assert pd.read_csv(kept)["key"].tolist() == rows[:2]


# -- who may train -----------------------------------------------------------------------------------


@pytest.mark.parametrize("may_train", [False, True])
def test_a_page_not_allowed_to_train_says_why_and_offers_nothing(
    run: Run, tmp_path: Path, may_train: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gradio as gr

    from agnews.ui import training_tab

    monkeypatch.setenv(training_tab.SPACE_ENV, "someone/agnews")
    with gr.Blocks() as demo, gr.Tab("Train") as tab:
        training_tab.build(
            lambda: run, tab, runs_root=tmp_path, store=None, may_train=may_train, caps=TrainingCaps.public()
        )
    shown = {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}
    uploads = [block for block in demo.blocks.values() if isinstance(block, gr.File)]
    if not may_train:
        assert "--allow-training" in shown["train-not-allowed"].value
        assert uploads == [] and "train-start" not in shown
        return
    caps = shown["train-caps"].value
    assert "at most 5,000 training rows" in caps and "at most 3 epochs" in caps and "30 minutes" in caps
    assert "one training at a time" in caps and "does not survive a restart" in caps
    assert len(uploads) == 2 and "train-not-allowed" not in shown


def test_a_column_named_like_an_option_never_reaches_the_training_command(tmp_path: Path) -> None:
    """A header is the uploader's text, and a chosen column becomes a value of `--text-column`: a name
    starting with '-' would be read as an option (`--epochs=40`, `--test-file=/srv/x`), past the caps."""
    hostile = tmp_path / "train.csv"
    hostile.write_text("text,label,--epochs=40,--test-file=/etc/passwd\na,b,c,d\n", encoding="utf-8")
    with pytest.raises(UploadError, match="starts with '-'"):
        header(hostile)
    nested = tmp_path / "n.jsonl"
    nested.write_text("[" * 100_000 + "\n")
    with pytest.raises(UploadError, match="not a header this page can read"):
        header(nested)
    with pytest.raises(UploadError, match="starts with '-'"):
        data_args(tmp_path / "test.csv", ["text", "--max-train-samples=9"], "label")
