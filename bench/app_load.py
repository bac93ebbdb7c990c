"""The served app under load: 32 concurrent clients x 20 classify requests: Gradio's `/classify`,
batched against unbatched, and the plain JSON route for programs (`/api/classify`).

    .venv/bin/python bench/app_load.py --run runs/quick [--clients 32] [--requests 20] [--repeats 3]

Two servers of the same run are measured in the same run of this script, taking turns: the app's
`/classify` as served (batched by Gradio's queue, `agnews.ui.classify.BATCHED`) and the same app
built with `/classify` unbatched, one text per call at the queue's default concurrency (what the app
did before batching: the baseline). Each server is this script started with `--serve`: it builds the
app as app.py does (`Run.load`, `Predictor.from_run` with one thread, `build_app`, `launch_options`),
so the two differ in the batching switch alone.

Against each server, two load generators, one after the other:
- HTTP: asyncio + httpx, the way bench/app_latency.py calls Gradio's plain HTTP API: POST
  `/gradio_api/call/classify`, then GET the result's event stream. Each of `--clients` clients
  sends `--requests` requests one after another; all start together.
- gradio_client: one `Client` per thread, connected before the clock starts, as a Python caller
  would; its own 50 ms sleep between polls of the result stream is part of what it measures.
- JSON route: asyncio + httpx, one POST `/api/classify` per request (`agnews.serving.http_api`,
  batched by its own batcher whatever the Gradio switch; the unbatched server's row is a repeat).
Every request is a distinct headline, so the predictor's cache never answers. Per server and
generator: requests/s (successful requests over the wall time), p50/p95 latency, errors (must be 0)
and the server's CPU time per request (less disturbed than wall time by other programs on a shared
machine), medians over `--repeats` turns; and the server's peak resident memory under load.
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from app_latency import HEADLINES, free_port, launch

ROOT = Path(__file__).resolve().parents[1]
ROUTE = "/api/classify"  # agnews.serving.http_api.PATH, named here: the load generator imports no agnews
CONFIGS = {"unbatched (before)": False, "batched (the app)": True}


class PeakRss:
    """Samples the resident memory of a process and all its children in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def current(self) -> int:
        total = 0
        for process in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):  # a child that exited since the listing
                total += process.memory_info().rss
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.current())
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Load:
    """One load run: latencies of the successful requests, errors by message, wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server process spent meanwhile

    @property
    def cpu_per_request(self) -> float:
        return self.server_cpu / len(self.latencies) if self.latencies else float("nan")

    def error(self, exc: BaseException | str, count: int = 1) -> None:
        message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        self.errors[message[:200]] += count

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def headline(client: int, request: int) -> str:
    return f"{HEADLINES[(client + request) % len(HEADLINES)]} (client {client}, request {request})"


async def _gradio_classify(http: httpx.AsyncClient, text: str) -> None:
    """Gradio's plain HTTP API: POST the input, then read the result from its event stream."""
    posted = await http.post("/gradio_api/call/classify", json={"data": [text]})
    posted.raise_for_status()
    event = posted.json()["event_id"]
    async with http.stream("GET", f"/gradio_api/call/classify/{event}") as stream:
        kind = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind in ("complete", "error"):
                if kind == "error":
                    raise RuntimeError(f"server error: {line.removeprefix('data: ')}")
                json.loads(line.removeprefix("data: "))
                return
    raise RuntimeError("event stream ended without a result")


async def _route_classify(http: httpx.AsyncClient, text: str) -> None:
    """The plain JSON route for programs (`agnews.serving.http_api`): one request, one answer."""
    answered = await http.post(ROUTE, json={"inputs": text})
    answered.raise_for_status()
    if len(answered.json()[0]) != 4:
        raise RuntimeError(f"unexpected answer: {answered.text[:200]}")


async def _http_load(
    url: str, clients: int, requests: int, classify: Callable[[httpx.AsyncClient, str], Awaitable[None]]
) -> Load:
    load = Load()
    limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def client(number: int) -> None:
            for i in range(requests):
                began = time.perf_counter()
                try:
                    await classify(http, headline(number, i))
                except Exception as exc:  # counted and reported: the load must produce none
                    load.error(exc)
                    continue
                load.latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        load.wall = time.perf_counter() - began
    return load


def http_load(url: str, clients: int, requests: int) -> Load:
    return asyncio.run(_http_load(url, clients, requests, _gradio_classify))


def route_load(url: str, clients: int, requests: int) -> Load:
    return asyncio.run(_http_load(url, clients, requests, _route_classify))


def client_load(url: str, clients: int, requests: int) -> Load:
    """`clients` threads, each with its own connected `gradio_client.Client`."""
    from gradio_client import Client

    load = Load()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client_thread(number: int) -> None:
        try:
            # As constructed by default, but with a timeout that 32 clients connecting at once to a
            # busy 2-core server do not run into (httpx's default is 5 s).
            client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})
        except Exception as exc:  # a client that cannot connect fails all its requests
            with lock:
                load.error(f"connect: {type(exc).__name__}: {exc}", requests)
            start.wait()
            return
        start.wait()
        for i in range(requests):
            began = time.perf_counter()
            try:
                client.predict(headline(number, i), api_name="/classify")
            except Exception as exc:  # counted and reported: the load must produce none
                with lock:
                    load.error(exc)
                continue
            with lock:
                load.latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    load.wall = time.perf_counter() - began
    return load


GENERATORS: dict[str, Callable[[str, int, int], Load]] = {
    "HTTP (httpx, async)": http_load,
    "gradio_client": client_load,
    f"JSON route {ROUTE}": route_load,
}


def serve(run_path: str, port: int, batched: bool, concurrency: int | None = None) -> None:
    """The app on `run_path` as app.py builds it, /classify batched or not (`concurrency`: batches
    at once, instead of the app's `CLASSIFY_CONCURRENCY`); serves until killed."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app, classify
    from agnews.ui.app import launch_options

    run = Run.load(run_path)
    classify.BATCHED = batched
    if concurrency is not None:
        classify.CLASSIFY_CONCURRENCY = concurrency
    predictor = Predictor.from_run(run, threads=1)
    predictors = Predictors(run, predictor, Predictor.from_run)
    demo = build_app(run, predictor, predictors=predictors)
    demo.launch(server_port=port, quiet=True, **launch_options(predictors, lambda: run))


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far: a measure of the work per
    request that other programs on a shared machine disturb much less than wall time."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(ROOT / "runs" / "quick"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="Classify requests per client.")
    parser.add_argument("--repeats", type=int, default=3, help="Turns per server (medians reported).")
    parser.add_argument("--serve", choices=["batched", "unbatched"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--classify-concurrency", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.run, args.port, args.serve == "batched", args.classify_concurrency)
        return

    results: dict[tuple[str, str], list[Load]] = {}
    peaks: dict[str, int] = {}
    for turn in range(args.repeats):
        # Alternate which server goes first, so slow drift of the machine favours neither.
        order = list(CONFIGS.items()) if turn % 2 == 0 else list(reversed(CONFIGS.items()))
        for name, batched in order:
            port = free_port()
            mode = "batched" if batched else "unbatched"
            command = [sys.executable, __file__, "--serve", mode, "--run", args.run, "--port", str(port)]
            process, _ = launch(command, port)
            try:
                with PeakRss(process.pid) as memory:
                    for generator, drive in GENERATORS.items():
                        cpu = server_cpu(process.pid)
                        load = drive(f"http://127.0.0.1:{port}/", args.clients, args.requests)
                        load.server_cpu = server_cpu(process.pid) - cpu
                        results.setdefault((name, generator), []).append(load)
                        print(
                            f"turn {turn + 1}: {name:20} {generator:20} {load.throughput:6.1f} requests/s, "
                            f"{sum(load.errors.values())} errors",
                            flush=True,
                        )
                peaks[name] = max(peaks.get(name, 0), memory.peak)
            finally:
                process.terminate()
                process.wait()

    total = args.clients * args.requests
    print(f"\nrun: {args.run}   cpus: {os.cpu_count()}   load average: {os.getloadavg()[0]:.1f}")
    print(f"{args.clients} clients x {args.requests} requests = {total} each time; medians of {args.repeats}")
    header = f"{'server':20} {'generator':20} {'requests/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}"
    print(f"{header} {'ratio':>6} {'server CPU ms/request':>22}")
    baseline: dict[str, float] = {}
    for (name, generator), loads in results.items():
        throughput = statistics.median(load.throughput for load in loads)
        p50 = statistics.median(statistics.median(load.latencies or [float("nan")]) for load in loads)
        p95 = statistics.median(percentile(load.latencies or [float("nan")], 0.95) for load in loads)
        errors = sum(sum(load.errors.values()) for load in loads)
        baseline.setdefault(generator, throughput)
        ratio = throughput / baseline[generator] if baseline[generator] else float("nan")
        cpu = statistics.median(load.cpu_per_request for load in loads) * 1000
        print(
            f"{name:20} {generator:20} {throughput:10.1f} {p50 * 1000:8.0f} {p95 * 1000:8.0f} {errors:6d}"
            f" {ratio:5.2f}x {cpu:22.1f}"
        )
    for name, peak in peaks.items():
        print(f"peak RSS under load, {name}: {peak / 2**20:.0f} MiB (server and children)")
    for (name, generator), loads in results.items():
        errors = sum((load.errors for load in loads), Counter())
        for message, count in errors.most_common(3):
            print(f"error x{count} ({name}, {generator}): {message}")


if __name__ == "__main__":
    main()
