"""The page's classify and tab-switch latency while a quick training runs beside it, against idle.

    .venv/bin/python bench/training_latency.py --run RUNS/quick [--data ../shared/data/ag_news]
        [--calls 30] [--repeats 3] [--pause 0.2] [--tabs overview_open map_open ...]

Serves `app.py --run RUN` in a subprocess (as bench/app_latency.py does) and times, through Gradio's
HTTP API with a session hash as the page sends it, each page's requests: classifying a headline
never classified before (`/gradio_api/call/classify`), and opening each tab in `--tabs` for the first
time, which fires that tab's lazy fill (`agnews.ui.lazy`: `overview_open`, `map_open`, ...; later
openings of a tab in the same page send nothing heavy). One page is one fresh session hash: it
classifies once and opens every tab once, the requests taking turns, so a training's own phases
weigh on every path alike, `--pause` seconds apart, as a person clicks (back to back, they would
leave the niced training little CPU to disturb them with); a phase is `--calls` pages, after one
warm-up page that is not timed.
The time is the HTTP round trip to the complete result, not the browser's drawing of it.

Each of `--repeats` repeats times one phase idle, then starts a quick training the way the page's
Train tab does (`agnews.ui.training_job.TrainingJob`: `agnews train --data DATA --preset quick` in
a niced child process, here of this bench rather than of the server, writing into the run's
runs folder under a name of its own), waits until its fine-tuning loop has begun, times a second
phase, notes how far the training got meanwhile, and cancels it (its checkpoints are removed when
the bench ends). The table gives, per path, the median over repeats of each phase's p50 and p95,
and the ratio training / idle; "tab switches" pools the tabs' requests of a phase.

Not a test: timings depend on the machine and on what else runs on it; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import shutil
import statistics
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psutil
from app_latency import HEADLINES, free_port, start_app
from machine import cpu_name

from agnews.rundir.estimates import disk_estimate_bytes
from agnews.ui import training_job
from agnews.ui.training_job import RUNNING, TrainingCaps, TrainingJob, checkpoint_dir, offered_recipes

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ag_news"
CLASSIFY = "classify"
# The lazy fills of the tabs a run with the default stages shows (API names, `fill_when_opened`).
TABS = (
    "overview_open",
    "map_open",
    "errors_open",
    "confusion_open",
    "calibration_open",
    "slices_open",
    "label_issues_open",
    "data_open",
)
TAB_SWITCHES = "tab switches (the tabs pooled)"
STARTS_SECONDS = 600.0  # the longest a training may take to reach its fine-tuning loop
QUIET_SECONDS = 600.0  # the longest to wait for the server's own background analysis to end


class BenchError(Exception):
    """The bench could not measure what it says it measures; the message says why."""


def gradio_call(client: httpx.Client, name: str, data: list[Any], session: str) -> None:
    """Gradio's two-step HTTP API for event `name` in browser session `session`: POST the inputs (a
    session's State inputs are its own, never sent), then read the event stream to its result. The
    result is not decoded: that is the browser's work, and here it would take CPU from the server."""
    posted = client.post(f"/gradio_api/call/{name}", json={"data": data, "session_hash": session})
    posted.raise_for_status()
    with client.stream("GET", f"/gradio_api/call/{name}/{posted.json()['event_id']}") as stream:
        lines = list(stream.iter_lines())
    if "event: complete" not in lines:
        raise BenchError(f"{name} did not complete: {' '.join(lines)[:300]}")


def page_phase(base: str, paths: list[str], calls: int, tag: str, pause: float) -> dict[str, list[float]]:
    """Seconds of each request of `calls` fresh pages (after one warm-up page), per path, with `pause`
    seconds between requests, as a person reads before the next click (requests back to back would
    keep a core busy and starve the niced training). `tag` makes the classified texts distinct across
    phases, so no cache answers them."""
    seconds: dict[str, list[float]] = {path: [] for path in paths}
    with httpx.Client(base_url=base, timeout=120) as client:
        for page in range(-1, calls):
            session = secrets.token_hex(8)
            for path in paths:
                data = [f"{HEADLINES[page % len(HEADLINES)]} ({tag} {page})"] if path == CLASSIFY else []
                began = time.perf_counter()
                gradio_call(client, path, data, session)
                if page >= 0:
                    seconds[path].append(time.perf_counter() - began)
                time.sleep(pause)
    return seconds


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least `share` of `values` are at or below."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def summary(phases: list[dict[str, list[float]]], tabs: list[str]) -> dict[str, tuple[float, float]]:
    """Per path (and the tabs pooled), the median over phases of each phase's p50 and p95."""
    pooled = [{**phase, TAB_SWITCHES: [s for tab in tabs for s in phase[tab]]} for phase in phases]
    return {
        path: (
            statistics.median(statistics.median(phase[path]) for phase in pooled),
            statistics.median(percentile(phase[path], 0.95) for phase in pooled),
        )
        for path in pooled[0]
    }


def wait_until_quiet(server: psutil.Process) -> None:
    """Wait while the server has child processes (its background `agnews analyze` completing a run
    that lacks default-stage parts): idle means idle."""
    deadline = time.monotonic() + QUIET_SECONDS
    while server.children(recursive=True):
        if time.monotonic() > deadline:
            raise BenchError("the app's background analysis still runs: give it a complete run")
        time.sleep(1)


@dataclass
class TrainingSpan:
    """How far a training got while a phase was timed: its optimizer step when the phase began, of
    all its steps, and where it was when the phase ended (`last_step` None once past fine-tuning)."""

    first_step: int
    steps: int
    last_step: int | None
    last_stage: str

    def __str__(self) -> str:
        if self.last_step is not None:
            return f"fine-tuning throughout, steps {self.first_step} to {self.last_step} of {self.steps}"
        return (
            f"fine-tuning from step {self.first_step} of {self.steps}, then NOT: {self.last_stage} at the end"
        )


def start_training(runs_root: Path, name: str, data: Path) -> TrainingJob:
    """A quick training of `data` started as the Train tab starts one (its recipe, caps and disk
    check), and returned once its fine-tuning loop has taken steps (loading the data and the model
    before it are not the training a page lives beside for minutes)."""
    caps = TrainingCaps()
    recipe = next((r for r in offered_recipes() if r.args == ("--preset", "quick")), None)
    if recipe is None:
        raise BenchError("the quick preset's base model (the bundled MiniLM) is not installed")
    args = ["--data", str(data), *recipe.capped_args(caps)]
    # rows=0: the data's rows only add margin to the estimate; the page counts them in its check.
    job = TrainingJob(runs_root, name, args, disk_bytes=disk_estimate_bytes(recipe.weights), caps=caps)
    training_job.start(job)
    deadline = time.monotonic() + STARTS_SECONDS
    while not (status := job.status()).step:  # None before the loop, 0 as it begins
        if status.state != RUNNING:
            raise BenchError(f"the training {status.state} before fine-tuning: {status.error}")
        if time.monotonic() > deadline:
            job.cancel()
            raise BenchError(f"the training did not reach its fine-tuning loop in {STARTS_SECONDS:.0f} s")
        time.sleep(0.5)
    return job


def end_training(job: TrainingJob) -> None:
    """Cancel `job` and wait until its process has ended (and the heavy slot is free again)."""
    job.cancel()
    while job.running():
        time.sleep(0.2)
    job.discard()


@dataclass
class Measured:
    """Each repeat's idle and training phases (seconds per request, per path), how far each training
    got during its phase, and the 1-minute load average as each idle and training phase began."""

    idle: list[dict[str, list[float]]]
    busy: list[dict[str, list[float]]]
    spans: list[TrainingSpan]
    loads: list[tuple[float, float]]


def measure(run: Path, data: Path, paths: list[str], calls: int, repeats: int, pause: float) -> Measured:
    """Serve `run` and time `paths` idle and during a quick training of `data`, `repeats` times. The
    trainings go beside the run, as the page's go beside its runs, under names of the bench's own,
    removed with their checkpoints at the end."""
    runs_root = run.parent
    names = [f"training-latency-{os.getpid()}-{repeat}" for repeat in range(repeats)]
    measured = Measured([], [], [], [])
    port = free_port()
    server, _ = start_app(str(run), port)
    base = f"http://127.0.0.1:{port}/"
    job: TrainingJob | None = None
    try:
        wait_until_quiet(psutil.Process(server.pid))
        for repeat, name in enumerate(names):
            before_idle = os.getloadavg()[0]
            measured.idle.append(page_phase(base, paths, calls, f"idle {repeat}", pause))
            job = start_training(runs_root, name, data)
            measured.loads.append((before_idle, os.getloadavg()[0]))
            first = job.status()
            measured.busy.append(page_phase(base, paths, calls, f"training {repeat}", pause))
            last = job.status()
            assert first.step is not None and first.steps is not None  # start_training waited for them
            where = last.stage if last.state == RUNNING else last.state
            measured.spans.append(TrainingSpan(first.step, first.steps, last.step, where or "between stages"))
            end_training(job)
            job = None
    finally:
        if job is not None:
            end_training(job)
        server.terminate()
        server.wait()
        for name in names:
            shutil.rmtree(checkpoint_dir(runs_root, name), ignore_errors=True)
            shutil.rmtree(runs_root / name, ignore_errors=True)
    return measured


def report(measured: Measured, args: argparse.Namespace) -> None:
    """The table, under a header naming the command, the CPU, the trainings and the machine's load."""
    print(
        f"# bench/training_latency.py --run {args.run} --calls {args.calls} --repeats {args.repeats} "
        f"--pause {args.pause:g}; {date.today().isoformat()}"
    )
    print(f"# CPU: {cpu_name()}; {os.cpu_count()} cores")
    print(
        f"# training: agnews train --data {args.data} --preset quick, started as the Train tab starts it "
        "(TrainingJob, niced), timed from its fine-tuning loop's start"
    )
    for repeat, (span, (before_idle, before_busy)) in enumerate(
        zip(measured.spans, measured.loads, strict=True)
    ):
        print(
            f"#   repeat {repeat + 1}: {span}; 1-minute load average {before_idle:.2f} as the idle phase "
            f"began, {before_busy:.2f} as the training phase began"
        )
    print(
        f"# per path: median over {args.repeats} repeats of each phase's p50 and p95 over {args.calls} "
        f"pages (one request per path per page, a fresh session each page, {args.pause:g} s between requests)"
    )
    calm, loaded = summary(measured.idle, args.tabs), summary(measured.busy, args.tabs)
    print(
        f"| {'request':30} | idle p50 ms | idle p95 ms | training p50 ms | training p95 ms "
        "| p50 training/idle | p95 training/idle | p50 within 2x |"
    )
    print(
        f"|{'-' * 32}|"
        + "------------:|" * 2
        + "----------------:|" * 2
        + "------------------:|" * 2
        + ":---:|"
    )
    for path, (idle_p50, idle_p95) in calm.items():
        busy_p50, busy_p95 = loaded[path]
        print(
            f"| {path:30} | {idle_p50 * 1000:11.1f} | {idle_p95 * 1000:11.1f} | {busy_p50 * 1000:15.1f} "
            f"| {busy_p95 * 1000:15.1f} | {busy_p50 / idle_p50:16.2f}x | {busy_p95 / idle_p95:16.2f}x "
            f"| {'yes' if busy_p50 <= 2 * idle_p50 else 'no'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", type=Path, required=True, help="The run to serve, in a runs folder of yours."
    )
    parser.add_argument("--data", type=Path, default=DATA, help="What the quick trainings train on.")
    parser.add_argument("--calls", type=int, default=30, help="Pages per phase (requests per path).")
    parser.add_argument(
        "--repeats", type=int, default=3, help="Idle and training phases (medians over them)."
    )
    parser.add_argument("--tabs", nargs="+", default=list(TABS), help="The tabs' fill events to time.")
    parser.add_argument("--pause", type=float, default=0.2, help="Seconds between a page's requests.")
    args = parser.parse_args()
    measured = measure(
        args.run.resolve(), args.data, [CLASSIFY, *args.tabs], args.calls, args.repeats, args.pause
    )
    report(measured, args)


if __name__ == "__main__":
    main()
