"""The per-client limit on the page's heavy events (issue 30, item 10): one client cannot hold the
shared queue with `/explain`, `/place` or the report."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from agnews.ui.throttle import HEAVY_QUEUE, Refused, Throttle, client_of, limited

if TYPE_CHECKING:
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_running_call_per_client_and_event() -> None:
    throttle = Throttle(per_minute=10)
    with throttle.slot("host:a", "explain"):
        with (
            pytest.raises(Refused, match="Your previous explain is still running"),
            throttle.slot("host:a", "explain"),
        ):
            pass
        with throttle.slot("host:b", "explain"), throttle.slot("host:a", "place"):
            pass  # another client, or another event of the same client, is not held up
    with throttle.slot("host:a", "explain"):
        pass  # free again once the first has finished


def test_a_failing_call_frees_its_slot() -> None:
    throttle = Throttle(per_minute=10)
    with pytest.raises(ValueError, match="broke"), throttle.slot("host:a", "explain"):
        raise ValueError("broke")
    with throttle.slot("host:a", "explain"):
        pass


def test_at_most_per_minute_starts_within_the_window() -> None:
    clock = Clock()
    throttle = Throttle(per_minute=3, clock=clock)
    for _ in range(3):
        with throttle.slot("host:a", "explain"):
            clock.now += 5
    with (
        pytest.raises(Refused, match=r"at most 3 a minute. Try again in 45 s"),
        throttle.slot("host:a", "explain"),
    ):
        pass
    with throttle.slot("host:b", "explain"):
        pass  # others keep their own allowance
    clock.now += 46  # the first start has left the window
    with throttle.slot("host:a", "explain"):
        pass


def test_the_table_keeps_only_the_last_minutes_clients() -> None:
    clock = Clock()
    throttle = Throttle(per_minute=3, clock=clock)
    for client in range(100):
        with throttle.slot(f"host:{client}", "explain"):
            pass
    clock.now += 61
    with throttle.slot("host:new", "explain"):
        pass
    assert list(throttle._starts) == [("host:new", "explain")]


def test_a_client_is_the_user_else_the_address() -> None:
    assert client_of(SimpleNamespace(username="ann", client=SimpleNamespace(host="10.0.0.1"))) == "user:ann"
    assert (
        client_of(SimpleNamespace(username=None, client=SimpleNamespace(host="10.0.0.1"))) == "host:10.0.0.1"
    )
    assert client_of(None) == ""


@pytest.mark.slow
def test_a_flood_through_gradio_is_refused_with_a_message() -> None:
    """Two API clients (two sessions, one address) calling a limited event at once: one waits in the
    shared slot, then everything over the minute's allowance is refused at once, with the reason."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    throttle = Throttle(per_minute=2)

    def slow(text: str) -> str:
        time.sleep(0.2)
        return text.upper()

    with gr.Blocks() as demo:
        text, out = gr.Textbox(), gr.Textbox()
        text.submit(limited("explain", slow, throttle), text, out, api_name="explain", **HEAVY_QUEUE)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True)
    try:
        first, second = Client(url, verbose=False), Client(url, verbose=False)
        jobs = [first.submit("a", api_name="/explain"), second.submit("b", api_name="/explain")]
        assert [job.result(timeout=30) for job in jobs] == ["A", "B"]
        with pytest.raises(AppError, match=r"Too many explain requests from you: at most 2 a minute"):
            first.predict("c", api_name="/explain")
    finally:
        demo.close()


def test_the_apps_heavy_events_share_the_limited_slot(run: Run, predictor: Predictor) -> None:
    from agnews.ui import build_app

    demo = build_app(run, predictor)
    fns = {fn.api_name: fn for fn in demo.fns.values()}
    for name in ("explain", "place", "overview_report"):
        assert (fns[name].concurrency_id, fns[name].concurrency_limit) == ("heavy", 1), name
        assert fns[name].fn.__qualname__ == "limited.<locals>.handler", name
