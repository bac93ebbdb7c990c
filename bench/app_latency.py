"""Start-up time of `app.py` against `import gradio` alone, and the classify round-trip, as a table.

    .venv/bin/python bench/app_latency.py --run runs/quick [--starts 3] [--calls 50] [--app app.py]

Start-up: from launching `python app.py --run RUN` to the page answering HTTP 200, median of
`--starts` fresh processes; each start is paired with a fresh `python -c "import gradio"`, timed
right before it, so the difference (the app's own cost beyond its UI library) is measured on the
same machine in the same minute. Then which heavy native libraries the serving process has mapped
(`/proc/PID/maps`): a lazily loading app serves typed text without torch. Set ATEN_CPU_CAPABILITY
etc. on this command to start the app under an emulated instruction set; the app inherits it.
`--app A B` starts several launchers (e.g. app.py and a patched copy) taking turns, the same way.
Round-trip of one headline: the plain JSON route for programs (`POST /api/classify`), Gradio's plain
HTTP API (`/gradio_api/call/classify`: a POST, then the result's event stream; once with a session
hash kept by the client, as the page and `gradio_client` send, once without, where Gradio builds a
new session per call: the config of every block of the page, a cost that grows with the page),
and `gradio_client` (once as constructed by default, once with `ssl_verify=False`: the client
otherwise builds two TLS contexts per call, even for plain http), beside the in-process
`Predictor.probabilities` of the same run and backend (the model's own cost, so the overhead of each
path is seen); p50 is the median
over `--rounds` rounds of `--calls` distinct headlines, the paths taking turns. The client's
floor is its own 50 ms sleep between polls of the result stream (`stream_sse_v1plus` in
gradio_client/utils.py), whatever the server does.
Not a test: timings depend on the machine and on what else runs on it. Measured numbers: the
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
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
# Shared libraries that show a heavy package was imported (a path fragment of each).
NATIVE_LIBRARIES = {
    "torch": "libtorch_cpu",
    "onnxruntime": "onnxruntime_pybind11_state",
    "tokenizers": "tokenizers.abi3",
    "scipy": "scipy/",
    "scikit-learn": "sklearn/",
    "pyarrow": "libarrow.so",
    "numba/llvmlite": "llvmlite",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(command: list[str], port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server process and return it with the seconds until its page answered."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
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
    raise SystemExit(f"{command[1]} exited with status {process.returncode}; run it by hand to see why")


def start_app(run: str, port: int, app: Path = ROOT / "app.py") -> tuple[subprocess.Popen[bytes], float]:
    """Launch `python app.py --run RUN --port PORT` and return it with its seconds to serving."""
    return launch([sys.executable, str(app), "--run", run, "--port", str(port)], port)


def import_gradio_seconds() -> float:
    """Wall time of a fresh `python -c "import gradio"`, the floor under any Gradio app's start-up."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], env=env, check=True)
    return time.perf_counter() - started


def native_libraries(pid: int) -> dict[str, bool]:
    """Which of NATIVE_LIBRARIES the process has mapped (Linux); empty where /proc is unavailable."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return {}
    return {name: fragment in maps for name, fragment in NATIVE_LIBRARIES.items()}


def timed(call: Callable[[str], object], calls: int, tag: str = "") -> list[float]:
    """Seconds per call over `calls` texts never classified before (`tag` makes them distinct
    across paths and rounds too): no predictor cache hits, here or in the server."""
    call(f"{HEADLINES[0]} (warm-up {tag})")  # the first request opens connections
    seconds = []
    for i in range(calls):
        text = f"{HEADLINES[i % len(HEADLINES)]} ({tag} {i})"
        begin = time.perf_counter()
        call(text)
        seconds.append(time.perf_counter() - begin)
    return seconds


def http_classify(base: str, session: str | None) -> Callable[[str], object]:
    """Gradio's two-step HTTP API: POST the input, then read the result from an event stream.
    `session`: the session hash every call carries (None: each call is a new Gradio session)."""
    client = httpx.Client(base_url=base, timeout=30)
    body = {} if session is None else {"session_hash": session}

    def call(text: str) -> object:
        event = client.post("/gradio_api/call/classify", json={"data": [text], **body}).json()["event_id"]
        with client.stream("GET", f"/gradio_api/call/classify/{event}") as stream:
            lines = list(stream.iter_lines())
        return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))

    return call


def route_classify(base: str) -> Callable[[str], object]:
    """The plain JSON route for programs (`agnews.serving.http_api`): one POST, one answer."""
    client = httpx.Client(base_url=base, timeout=30)

    def call(text: str) -> object:
        answered = client.post("/api/classify", json={"inputs": text})
        answered.raise_for_status()
        return answered.json()

    return call


def in_process(run: str) -> Callable[[str], object]:
    """The model's own cost: the predictor the app serves with (same backend, one thread), called in
    this process, no HTTP."""
    from agnews.rundir.run import Run
    from agnews.serving.predictor import Predictor

    return Predictor.from_run(Run.load(run), threads=1).probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(ROOT / "runs" / "quick"))
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of --calls per path (median of p50s).")
    parser.add_argument(
        "--app",
        type=Path,
        nargs="+",
        default=[ROOT / "app.py"],
        help="Launcher(s) to start (app.py); several take turns, the first is also timed per call.",
    )
    args = parser.parse_args()

    from gradio_client import Client

    startups: dict[Path, list[float]] = {app: [] for app in args.app}
    libraries: dict[Path, dict[str, bool]] = {}
    imports = []
    for attempt in range(args.starts):
        imports.append(import_gradio_seconds())
        for app in reversed(args.app):  # the first launcher last: it stays up for the round trips
            port = free_port()
            process, seconds = start_app(args.run, port, app)
            startups[app].append(seconds)
            libraries[app] = native_libraries(process.pid)
            if attempt < args.starts - 1 or app != args.app[0]:
                process.terminate()
                process.wait()
    base = f"http://127.0.0.1:{port}/"
    paths: dict[str, Callable[[str], object]] = {"in-process Predictor.probabilities": in_process(args.run)}
    try:
        paths["JSON route POST /api/classify"] = route_classify(base)
        paths["HTTP /gradio_api/call/classify"] = http_classify(base, secrets.token_hex(8))
        paths["HTTP /gradio_api/call, new session"] = http_classify(base, None)
        client = Client(base, verbose=False)
        paths["gradio_client predict"] = lambda text: client.predict(text, api_name="/classify")
        # Plain http on loopback: there is no certificate to verify, so this loses nothing.
        lean = Client(base, verbose=False, ssl_verify=False, analytics_enabled=False)
        paths["gradio_client, ssl_verify=False"] = lambda text: lean.predict(text, api_name="/classify")
        rounds: dict[str, list[list[float]]] = {name: [] for name in paths}
        for turn in range(args.rounds):  # paths take turns, so drift of the machine favours none
            for name, call in paths.items():
                rounds[name].append(timed(call, args.calls, tag=f"{name}, round {turn}"))
    finally:
        process.terminate()
        process.wait()

    isa = os.environ.get("ATEN_CPU_CAPABILITY", "native")
    print(f"run: {args.run}   cpus: {os.cpu_count()}   ATEN_CPU_CAPABILITY: {isa}")
    each = ", ".join(f"{s:.1f}" for s in imports)
    print(f"`import gradio` alone: median {statistics.median(imports):.1f} s ({each})")
    for app, seconds in startups.items():
        each = ", ".join(f"{s:.1f}" for s in seconds)
        beyond = [s - i for s, i in zip(seconds, imports, strict=True)]
        print(f"{app}:")
        print(f"  start-up to serving: median {statistics.median(seconds):.1f} s ({each})")
        each = ", ".join(f"{s:.1f}" for s in beyond)
        print(f"  beyond `import gradio` (pairwise): median {statistics.median(beyond):.1f} s ({each})")
        if libraries[app]:
            mapped = ", ".join(f"{name} {'yes' if found else 'no'}" for name, found in libraries[app].items())
            print(f"  native libraries mapped once serving: {mapped}")
    print(
        f"\n{'classify one headline, ' + args.app[0].name:36} {'p50 ms':>8} {'p90 ms':>8} "
        f"{'vs in-process':>14}   (p50: median over {args.rounds} rounds of {args.calls} distinct texts)"
    )
    floor = statistics.median(statistics.median(r) for r in rounds["in-process Predictor.probabilities"])
    for name, measured in rounds.items():
        p50 = statistics.median(statistics.median(r) for r in measured)
        pooled = sorted(s for r in measured for s in r)
        p90 = pooled[int(0.9 * (len(pooled) - 1))]
        print(f"{name:36} {p50 * 1000:8.1f} {p90 * 1000:8.1f} {p50 / floor:13.1f}x")


if __name__ == "__main__":
    main()
