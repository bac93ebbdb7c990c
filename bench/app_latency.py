"""Start-up time of `app.py` and the classify round-trip, printed as a table.

    .venv/bin/python bench/app_latency.py --run runs/quick [--starts 3] [--calls 50]

Start-up: from launching `python app.py --run RUN` to the page answering HTTP 200 (median of
`--starts` fresh processes). Round-trip: `/classify` through `gradio_client` (what the acceptance
names), once as constructed by default and once with `ssl_verify=False` (the client otherwise builds
two TLS contexts per call, even for plain http), and through Gradio's plain HTTP API
(`/gradio_api/call/classify`, the same queue without the client's polling), p50 and p90 over
`--calls` distinct headlines. The client's floor is its own 50 ms sleep between polls of the result
stream (`stream_sse_v1plus` in gradio_client/utils.py), whatever the server does.
Not a test: timings depend on the machine and on what else runs on it. Measured numbers: the
README's Performance section.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HEADLINES = [
    "Oil prices climb as OPEC signals output cuts",
    "Striker scores twice as champions win the cup final",
    "Chip maker unveils faster processor for laptops",
    "Leaders meet at the United Nations to discuss the ceasefire",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_app(run: str, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Launch the app and return it with the seconds until its page answered."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    command = [sys.executable, str(ROOT / "app.py"), "--run", run, "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while process.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"app.py exited with status {process.returncode}; run it by hand to see why")


def timed(call: Callable[[str], object], calls: int) -> list[float]:
    call(HEADLINES[0])  # warm-up: first request opens connections and fills caches
    seconds = []
    for i in range(calls):
        text = f"{HEADLINES[i % len(HEADLINES)]} ({i})"  # distinct texts: no predictor cache hits
        begin = time.perf_counter()
        call(text)
        seconds.append(time.perf_counter() - begin)
    return seconds


def http_classify(base: str) -> Callable[[str], object]:
    """Gradio's two-step HTTP API: POST the input, then read the result from an event stream."""
    client = httpx.Client(base_url=base, timeout=30)

    def call(text: str) -> object:
        event = client.post("/gradio_api/call/classify", json={"data": [text]}).json()["event_id"]
        with client.stream("GET", f"/gradio_api/call/classify/{event}") as stream:
            lines = list(stream.iter_lines())
        return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))

    return call


def quantiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"{statistics.median(ms):8.1f} {ms[int(0.9 * (len(ms) - 1))]:8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(ROOT / "runs" / "quick"))
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    from gradio_client import Client

    startups = []
    for attempt in range(args.starts):
        port = free_port()
        process, seconds = start_app(args.run, port)
        startups.append(seconds)
        if attempt < args.starts - 1:
            process.terminate()
            process.wait()
    try:
        base = f"http://127.0.0.1:{port}/"
        client = Client(base, verbose=False)
        via_client = timed(lambda text: client.predict(text, api_name="/classify"), args.calls)
        # Plain http on loopback: there is no certificate to verify, so this loses nothing.
        lean = Client(base, verbose=False, ssl_verify=False, analytics_enabled=False)
        via_lean_client = timed(lambda text: lean.predict(text, api_name="/classify"), args.calls)
        via_http = timed(http_classify(base), args.calls)
    finally:
        process.terminate()
        process.wait()

    print(f"run: {args.run}   cpus: {os.cpu_count()}")
    each = ", ".join(f"{s:.1f}" for s in startups)
    print(f"start-up to serving: median {statistics.median(startups):.1f} s ({each})")
    print(f"{'classify round-trip':32} {'p50 ms':>8} {'p90 ms':>8}")
    print(f"{'gradio_client predict':32} {quantiles(via_client)}")
    print(f"{'gradio_client, ssl_verify=False':32} {quantiles(via_lean_client)}")
    print(f"{'HTTP /gradio_api/call/classify':32} {quantiles(via_http)}")


if __name__ == "__main__":
    main()
