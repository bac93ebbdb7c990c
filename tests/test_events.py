"""Stage progress and results as events (`agnews.events`): what a real `agnews analyze` writes, what
a reader makes of a log with a damaged or half-written line, and the command's own error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agnews import events
from agnews.cli import main
from agnews.events import DONE, ERROR, FAILED, PROGRESS, STARTED, Event, EventReader
from agnews.line_log import append, encode
from agnews.rundir.run import Run
from agnews.training import stages as runner
from agnews.training.context import StageContext
from agnews.training.stages import analyze_run


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The event log this process writes to, as a launcher would name it."""
    path = tmp_path / ".run.events.jsonl"
    monkeypatch.setenv(events.ENVIRONMENT, str(path))
    return path


def ends(said: list[Event]) -> list[tuple[str, str | None]]:
    """(event, stage) of each event but progress."""
    return [(e.event, e.stage) for e in said if e.event != PROGRESS]


def test_a_real_analyze_says_each_stage_start_progress_and_end(run_copy: Path, log: Path) -> None:
    assert analyze_run(run_copy, ("calibration", "embed"), progress=False) == {}
    said = EventReader(log).read()
    assert ends(said) == [
        (STARTED, "calibration"),
        (DONE, "calibration"),
        (STARTED, "embed"),
        (DONE, "embed"),
    ]
    progress = [e for e in said if e.event == PROGRESS]
    assert progress and {e.stage for e in progress} == {"embed"}  # counted inside the stage running
    last = {e.what: e for e in progress}  # each counted loop ends by saying it is complete
    assert all(e.total and e.n == e.total for e in last.values()), last
    assert all(e.seconds > 0 for e in said)


def test_a_failing_stage_says_what_the_run_records(
    run_copy: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.stage_function

    def broken(name: str, context: StageContext) -> Callable[[StageContext], None]:
        if name != "calibration":
            return real(name, context)

        def fail(context: StageContext) -> None:
            raise ValueError("no validation rows")

        return fail

    monkeypatch.setattr(runner, "stage_function", broken)
    failures = analyze_run(run_copy, ("calibration", "slices"), progress=False)
    reader = EventReader(log)
    assert ends(reader.read()) == [
        (STARTED, "calibration"),
        (FAILED, "calibration"),
        (STARTED, "slices"),
        (DONE, "slices"),
    ]
    warned = {w.stage: w.message for w in Run.load(run_copy).manifest.warnings}
    assert reader.summary.failed == failures == {"calibration": warned["calibration"]}
    assert warned["calibration"] == "ValueError: no validation rows"
    assert reader.summary.stage is None and reader.summary.done == {"slices"}


def test_a_refused_command_says_why_as_its_error(tmp_path: Path, log: Path) -> None:
    assert main(["analyze", str(tmp_path / "nowhere")]) == 2
    [error] = EventReader(log).read()
    assert error.event == ERROR and error.stage is None and "nowhere" in error.message


def test_without_a_log_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(events.ENVIRONMENT, raising=False)
    with events.running("embed"):
        assert list(events.counted(range(3), "predict", total=3)) == [0, 1, 2]
    assert list(tmp_path.iterdir()) == []


def test_progress_is_throttled_but_always_says_the_start_and_the_end(log: Path) -> None:
    with events.running("embed"):
        assert list(events.counted(range(500), "predict", total=500)) == list(range(500))
    progress = [e for e in EventReader(log).read() if e.event == PROGRESS]
    assert [(e.n, e.total) for e in (progress[0], progress[-1])] == [(0, 500), (500, 500)]
    assert len(progress) < 10 and {e.stage for e in progress} == {"embed"}


def test_a_damaged_or_half_written_line_is_skipped_and_the_rest_read(log: Path) -> None:
    events.emit(Event(STARTED, "embed"))
    with log.open("ab") as handle:
        handle.write(b"not json\n")
        handle.write(encode(Event(DONE, "embed").record()).replace(b'"v": 1', b'"v": 2'))
        handle.write(encode({"v": 1, "time": "2024-01-01T00:00:00+00:00", "event": "exploded"}))
        handle.write(b'{"v": 1, "time": "2024-01-01T00:0')  # a line being written, or cut by a crash
    reader = EventReader(log)
    assert ends(reader.read()) == [(STARTED, "embed")]
    assert [s.split(" (")[0] for s in reader.skipped] == [
        f"{log.name}: line {n} is not an event" for n in (2, 3, 4)
    ]
    assert "this agnews reads version 1" in reader.skipped[1]
    assert reader.summary.stage == "embed"

    events.emit(Event(FAILED, "embed", message="DataError: no rows"))  # closes the cut line first
    assert ends(reader.read()) == [(FAILED, "embed")]
    assert len(reader.skipped) == 4 and reader.summary.failed == {"embed": "DataError: no rows"}
    assert reader.summary.stage is None


def test_a_log_started_again_is_read_from_its_top(log: Path) -> None:
    reader = EventReader(log)
    assert reader.read() == []  # no log yet
    events.emit(Event(FAILED, "embed", message="boom"))
    reader.read()
    log.unlink()  # the next launch starts a new log
    append(log, encode(Event(STARTED, "map").record()))
    assert ends(reader.read()) == [(STARTED, "map")]
    assert reader.summary.failed == {} and reader.summary.stage == "map"


def test_readers_on_several_threads_see_each_event_once(tmp_path: Path) -> None:
    """Two browser sessions' timers may ask one job's progress at once (Gradio runs events on worker
    threads): the reader's position in the log must move once per line, not once per thread."""
    log = tmp_path / "events.jsonl"
    steps = 20_000
    lines = b"".join(
        encode(Event(PROGRESS, "train", n=i, total=steps, what="train").record()) for i in range(steps)
    )
    for _ in range(3):
        log.write_bytes(b"")
        reader = EventReader(log)
        log.write_bytes(lines)
        assert sorted(read_at_once(reader, threads=8)) == list(range(steps)) and reader.skipped == []


def read_at_once(reader: EventReader, threads: int) -> list[int]:
    """The steps of the events `reader.read()` returns on `threads` threads started together."""
    import threading

    start, seen = threading.Barrier(threads), []

    def read() -> None:
        start.wait()
        seen.extend(event.n for event in reader.read())

    running = [threading.Thread(target=read) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    return seen
