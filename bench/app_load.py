"""The served app under load: 32 concurrent `gradio_client` clients x 20 classify requests each.

    .venv/bin/python bench/app_load.py --run runs/dev-small [--clients 32] [--requests 20]

Launches `python app.py --run RUN --port P` the way bench/app_latency.py does and waits until it
serves. Each client is a thread with its own `gradio_client.Client`, connected before the clock
starts; all start together and send their requests one after another, each a distinct headline so
that the predictor's cache never answers. Prints requests, errors (must be 0), p50/p95 latency per
request, the app process's resident memory (with its children) once started and at its peak under
load (sampled every 50 ms), and the wall time.
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import psutil
from app_latency import HEADLINES, free_port, start_app

ROOT = Path(__file__).resolve().parents[1]


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


def drive(url: str, clients: int, requests: int) -> tuple[list[float], Counter[str], float]:
    """Latencies of the successful requests, error messages with counts, and the wall time."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client_thread(number: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # a client that cannot connect fails all its requests
            with lock:
                errors[f"connect: {type(exc).__name__}: {exc}"] += requests
            start.wait()
            return
        start.wait()
        for i in range(requests):
            text = f"{HEADLINES[(number + i) % len(HEADLINES)]} (client {number}, request {i})"
            began = time.perf_counter()
            try:
                client.predict(text, api_name="/classify")
            except Exception as exc:  # counted and reported: the load must produce none
                with lock:
                    errors[f"{type(exc).__name__}: {exc}"[:200]] += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(ROOT / "runs" / "quick"))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20, help="Classify requests per client.")
    args = parser.parse_args()

    port = free_port()
    process, startup = start_app(args.run, port)
    try:
        with PeakRss(process.pid) as memory:
            started_rss = memory.current()
            latencies, errors, wall = drive(f"http://127.0.0.1:{port}/", args.clients, args.requests)
    finally:
        process.terminate()
        process.wait()

    total = args.clients * args.requests
    ms = [s * 1000 for s in latencies] or [float("nan")]
    print(f"run: {args.run}   cpus: {os.cpu_count()}   load average: {os.getloadavg()[0]:.1f}")
    print(f"app started and serving in {startup:.1f} s")
    print(f"{'clients x requests':24} {args.clients} x {args.requests}")
    print(f"{'requests':24} {total}")
    print(f"{'errors':24} {sum(errors.values())}")
    print(f"{'p50 latency':24} {statistics.median(ms):.0f} ms")
    print(f"{'p95 latency':24} {percentile(ms, 0.95):.0f} ms")
    print(f"{'max latency':24} {max(ms):.0f} ms")
    print(f"{'throughput':24} {len(latencies) / wall:.1f} requests/s")
    print(f"{'RSS once started':24} {started_rss / 2**20:.0f} MiB")
    print(f"{'peak RSS under load':24} {memory.peak / 2**20:.0f} MiB (app process and children)")
    print(f"{'wall time':24} {wall:.1f} s")
    for message, count in errors.most_common(5):
        print(f"error x{count}: {message}")


if __name__ == "__main__":
    main()
