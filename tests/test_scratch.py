"""The page's temporary files belong to a session: its exports are its own and go when it ends."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import httpx
import pandas as pd
import pytest
from gradio.context import LocalContext

from agnews.ui.scratch import NO_SESSION, STALE_SESSION_SECONDS, Scratch


def files(root: Path) -> list[str]:
    """The files under `root`, as paths relative to it. `os.walk` passes over a folder removed while
    it looks (the page's unload deletes a session's folder as this test polls), where `rglob` raises."""
    return sorted(
        (Path(folder) / name).relative_to(root).as_posix()
        for folder, _, names in os.walk(root)
        for name in names
    )


def write_text(text: str) -> Callable[[Path], int]:
    return lambda tmp: tmp.write_text(text, encoding="utf-8")


@contextmanager
def in_session(session: str) -> Iterator[None]:
    """Handle the calls inside as an event of `session`, as Gradio does for a request."""
    token = LocalContext.request.set(SimpleNamespace(session_hash=session))  # type: ignore[arg-type]
    try:
        yield
    finally:
        LocalContext.request.reset(token)


def test_sessions_own_their_exports_and_drop_them_at_their_end(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path)
    with in_session("alice"):
        scratch.replace("errors", "errors.csv", write_text("a1"))
        alice = scratch.replace("errors", "errors.csv", write_text("a2"))
    with in_session("../bob"):  # a session id is a name inside the folder, never a path
        bob = scratch.replace("errors", "errors.csv", write_text("b"))
    assert files(tmp_path) == ["sessions/alice/errors/errors.csv", "sessions/bob/errors/errors.csv"]
    assert (alice.read_text(), bob.read_text()) == ("a2", "b")
    scratch.end_session("alice")
    assert files(tmp_path) == ["sessions/bob/errors/errors.csv"]
    with in_session("../bob"):
        scratch.end_session()  # the current session's
    assert not (tmp_path / "sessions").exists()
    scratch.close()
    assert not tmp_path.exists()


def test_a_job_keeps_its_folder_on_success_and_drops_it_on_failure(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path)
    with scratch.job("batch") as first:
        (first / "out.csv").write_text("1")
    with pytest.raises(RuntimeError), scratch.job("batch") as failed:
        (failed / "half.csv").write_text("half")
        raise RuntimeError("the file was bad")
    assert files(tmp_path) == [f"sessions/{NO_SESSION}/batch/{first.name}/out.csv"]
    with scratch.job("batch") as second:
        (second / "out.csv").write_text("2")
    assert files(tmp_path) == [f"sessions/{NO_SESSION}/batch/{second.name}/out.csv"]


def test_a_shared_file_is_written_once_per_version(tmp_path: Path) -> None:
    scratch = Scratch(tmp_path)
    calls: list[str] = []

    def write(tmp: Path) -> None:
        calls.append(tmp.name)
        tmp.write_text("report")

    paths = {scratch.shared_file("report", "v1", "run.html", write) for _ in range(4)}
    assert len(paths) == 1 and len(calls) == 1
    newer = scratch.shared_file("report", "v2", "run.html", write)
    assert files(tmp_path) == ["shared/report/v2/run.html"] and newer.read_text() == "report"


@pytest.mark.slow
def test_a_closed_page_drops_its_session_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a real server: an event of a session writes an export; closing the session's heartbeat
    (what a closed tab does) runs `Blocks.unload`, which removes it."""
    from agnews.ui import common

    scratch = Scratch(tmp_path)
    with gr.Blocks() as demo:
        button, result = gr.Button(), gr.File()
        button.click(lambda: common.temporary_csv(pd.DataFrame({"a": [1]}), "agnews-x-"), None, result)
        demo.unload(scratch.end_session)
    session = "closedpagesession"
    monkeypatch.setattr(common, "scratch", lambda: scratch)  # the page's owner, in this test's folder
    _, url, _ = demo.queue().launch(prevent_thread_lock=True, quiet=True)
    try:
        click = next(i for i, d in demo.fns.items() if d.targets and d.targets[0][1] == "click")
        httpx.post(
            f"{url}gradio_api/queue/join", json={"data": [], "fn_index": click, "session_hash": session}
        )
        with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            assert any("process_completed" in line for line in stream.iter_lines())
        assert files(tmp_path) == [f"sessions/{session}/agnews-x/agnews-x.csv"]
        heartbeat = f"{url}gradio_api/heartbeat/{session}"
        # The heartbeat never ends by itself: leaving it is closing the tab.
        with pytest.raises(httpx.ReadTimeout), httpx.stream("GET", heartbeat, timeout=2) as beat:
            for _ in beat.iter_lines():
                pass
        deadline = time.monotonic() + 10
        while files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert files(tmp_path) == []
    finally:
        demo.close()


def test_a_session_that_never_ends_loses_its_files_a_day_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API client has no heartbeat, so Gradio never unloads its session: age sweeps it instead."""
    monkeypatch.setattr("agnews.ui.scratch.SWEEP_EVERY_SECONDS", 0)  # sweep on every write
    scratch = Scratch(tmp_path)
    with in_session("api-client"):
        old = scratch.replace("errors", "errors.csv", write_text("old"))
    day_ago = time.time() - STALE_SESSION_SECONDS - 60
    for path in (old.parent, old.parent.parent):
        os.utime(path, (day_ago, day_ago))
    with in_session("browser"):
        scratch.replace("errors", "errors.csv", write_text("new"))
    assert files(tmp_path) == ["sessions/browser/errors/errors.csv"]
