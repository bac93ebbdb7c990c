"""Launch the AG News app on a run directory (also what a Hugging Face Space runs).

    python app.py                                  newest complete run under runs/
    python app.py --data ../shared/data/ag_news    the run made from that data; with none, train runs/quick
    python app.py --data data/tickets              your own data: its quick run (runs/quick-tickets)
    python app.py --run runs/quick --port 7861
    python app.py --run runs/quick --compare runs/quick-s1   opens with a comparison of the two
    python app.py --hub USER/agnews-minilm         a run pushed to the Hub (agnews.hub)
    AGNEWS_AUTH=ann:pw1,bob:pw2 python app.py --host 0.0.0.0 --allow-edits   a login per person

The app itself never trains; this launcher asks the library for the quick run only when there is
nothing to show (or, with `--data`, no run made from that data: the runs' recorded split hashes
say), so one command brings up a working app on a fresh offline machine. It trains only
what the app cannot open without (model, metrics and predictions), then serves at once while the
default stages (calibration, label issues, slices, ONNX export, embeddings, map, ...) run in a
background `agnews analyze` process; the page shows each part when its stage has committed it. A run
that lacks default-stage parts for another reason (an interrupted `agnews train`, a failed stage) is
completed the same way.

The background process writes its output to `runs/.NAME.analyze.log` (for people) and its stages'
progress and results to `runs/.NAME.events.jsonl` (for the page, `agnews.events`). It ends with the
launcher: each stage commits atomically, so stopping one mid-way loses only that stage's work, and the next
launch (or `agnews analyze RUN`) does it again. Left running, it would hold the run's writer lock
after the app is gone, and the next launch's own analyze would find the run busy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agnews.formatting import seconds

# Before gradio is imported: no usage reports or version checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from agnews.data_command import add_data_options
from agnews.dataset.ag_news import AG_NEWS
from agnews.dataset.source import data_options
from agnews.events import ENVIRONMENT as EVENTS_ENVIRONMENT
from agnews.events import EventReader
from agnews.processes import child_setup, stop
from agnews.rundir.files import RunError
from agnews.rundir.parts import CONFIG, MANIFEST, SERVING_ONNX, RunConfig, family_name, read_json_part
from agnews.rundir.run import Run, latest_run
from agnews.serving.logins import AUTH_ENV, LoginError, Logins, read_logins
from agnews.serving.onnx_runtime import SERVING_CHOICES, serving_graph

if TYPE_CHECKING:
    from agnews.config import TrainConfig
    from agnews.serving.predictor import Predictor

ROOT = Path(__file__).resolve().parent
RUNS = ROOT / "runs"
QUICK_RUN = RUNS / "quick"
# One thread per request (ONNX Runtime's, and torch's once it loads), with the queue running a few
# requests side by side: on a small shared CPU, two threads per single text cost more CPU per text
# and lose under load (bench/inference_throughput.py, docs/performance.md).
SERVING_THREADS = 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--run", type=Path, help="Run directory to show (default: newest under runs/).")
    source.add_argument(
        "--hub",
        metavar="REPO_ID",
        default=os.environ.get("AGNEWS_HUB") or None,
        help="Show a run pushed to the Hugging Face Hub (default: $AGNEWS_HUB, as set on a Space).",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="RUN",
        help="A second run to compare the shown one with (Compare tab; runs under runs/ are offered too).",
    )
    data = parser.add_argument_group(
        "data",
        "With --data (or --dataset): show the newest run made from that data (same split hashes), "
        "training its quick run first when there is none; a run's missing stages read it too.",
    )
    add_data_options(data, path_positional=False)
    parser.add_argument("--host", help="Address to bind (default: 127.0.0.1, or GRADIO_SERVER_NAME).")
    parser.add_argument("--port", type=int, help="Port (default: 7860, or GRADIO_SERVER_PORT).")
    parser.add_argument("--share", action="store_true", help="Public gradio.live link (anyone can use it).")
    parser.add_argument(
        "--auth",
        action="append",
        default=[],
        metavar="USER:PASS[,USER:PASS...]",
        help="Require a login; give one per person (repeat the flag or list them with commas), since "
        "decisions are recorded under the name people log in with. A password given here shows in "
        f"`ps`: prefer --auth-file or ${AUTH_ENV}.",
    )
    parser.add_argument(
        "--auth-file",
        type=Path,
        metavar="PATH",
        help="Logins from a file, one user:password a line (blank lines and # comments skipped).",
    )
    parser.add_argument("--ssl-certfile", metavar="PATH", help="Serve HTTPS with this certificate.")
    parser.add_argument("--ssl-keyfile", metavar="PATH", help="The private key of --ssl-certfile.")
    parser.add_argument(
        "--allow-edits",
        action="store_true",
        help="Save decisions on rows to disk (runs/.decisions/) even on a public page (a Space, "
        "--share, a non-local --host); without it a public page keeps them in each browser session.",
    )
    parser.add_argument(
        "--allow-training",
        action="store_true",
        help="Let people train new runs from the page (its Train tab) even on a public page (a Space, "
        "--share, a non-local --host), within the caps the tab states (rows, epochs, wall time, one "
        "training at a time, disk); a local page may always train.",
    )
    parser.add_argument(
        "--serving",
        choices=SERVING_CHOICES,
        default="auto",
        help="How typed text is classified: auto (the run's fp32 ONNX graph if it has one and "
        "there is no GPU, else "
        "PyTorch), torch, onnx, or onnx-int8 (fastest; probabilities a rounding away from the "
        "stored fp32 ones).",
    )
    return parser.parse_args(argv)


LOCAL_HOSTS = (None, "", "127.0.0.1", "localhost", "::1")


def public(args: argparse.Namespace) -> bool:
    """Whether others can reach the page: a Space, a share link, an address beyond this machine."""
    host = args.host or os.environ.get("GRADIO_SERVER_NAME")
    return args.share or bool(os.environ.get("SPACE_ID")) or host not in LOCAL_HOSTS


def may_write(args: argparse.Namespace) -> bool:
    """Whether people's work on the page (decisions on rows, an uploaded file's evaluation) is
    saved to disk: on a local page, yes; on a public one only with `--allow-edits`, since anyone
    there could write."""
    return args.allow_edits or not public(args)


def may_train(args: argparse.Namespace) -> bool:
    """Whether people may train new runs from the page's Train tab: on a local page, yes; on a
    public one only with `--allow-training`, and then within the public caps (`TrainingCaps.public`)."""
    return args.allow_training or not public(args)


def logins(args: argparse.Namespace) -> Logins | None:
    """The logins of --auth, --auth-file and $AGNEWS_AUTH together; None when none is given."""
    try:
        return read_logins(args.auth, args.auth_file, os.environ.get(AUTH_ENV))
    except LoginError as exc:
        raise SystemExit(f"error: {exc}") from exc


def cleartext_login(args: argparse.Namespace) -> bool:
    """Whether passwords would cross the network unencrypted: a login on an address others can reach,
    served over plain HTTP (a share link and a Space are HTTPS in front of the app)."""
    host = args.host or os.environ.get("GRADIO_SERVER_NAME")
    remote = host not in LOCAL_HOSTS and not args.share and not os.environ.get("SPACE_ID")
    return remote and not args.ssl_certfile


def resolve_run(args: argparse.Namespace) -> Run:
    """The run to show: --hub, --run, the newest complete run, or a freshly trained quick run.

    The Hub and training code (and their errors) are imported only on those paths: serving an
    existing run should not pay for `datasets` and scikit-learn at start-up.
    """
    if args.hub:
        from agnews.hub.transfer import HubError, load_run_from_hub

        try:
            return load_run_from_hub(args.hub)
        except HubError as exc:
            raise RunError(f"could not load {args.hub} from the Hub: {exc}") from exc
    if args.run:
        return Run.load(args.run)
    from agnews.config import ConfigError, preset_config

    options = data_settings(args)
    try:
        config = preset_config("quick", **options)
    except ConfigError as exc:
        raise RunError(str(exc)) from exc
    if not options:
        found = latest_run(RUNS)
        if found is not None:
            return found
        return train_quick_run(config, QUICK_RUN, f"No complete run under {RUNS}")
    from agnews.training.data import DataError, load_config_data

    try:
        data = load_config_data(config)
    except DataError as exc:
        raise RunError(f"could not read --data: {exc}") from exc
    made_from = runs_made_from(data.split_hashes())
    if made_from:
        return made_from[0]
    out = run_folder_for(data.description.name, data.description.source)
    return train_quick_run(config, out, f"No run under {RUNS} was made from {data.description.source}")


def data_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The data options given on the command line (those not given are absent)."""
    names = {field.name for field in data_options()}
    return {name: value for name, value in vars(args).items() if name in names}


def runs_made_from(split_hashes: dict[str, str]) -> list[Run]:
    """The complete runs under `RUNS` trained on exactly these splits, newest first. Only each run's
    `config.json` is read to compare; a run is loaded (every part) only when it matches."""
    found = []
    for manifest in RUNS.glob(f"*/{MANIFEST}"):
        try:
            config = read_json_part(RunConfig, manifest.parent / CONFIG)
            if config.data.split_hashes == split_hashes:
                found.append((config.created, Run.load(manifest.parent)))
        except RunError:
            continue
    return [run for _, run in sorted(found, key=lambda pair: pair[0], reverse=True)]


def run_folder_for(dataset: str, source: str) -> Path:
    """Where a data set's quick run goes: `runs/quick` for AG News (the documented first run), else
    `runs/quick-<the data's name>`, with a number added when that folder holds another data's run."""
    if dataset == AG_NEWS:
        base = "quick"
    else:
        stem = family_name(Path(source).stem if "/" in source or "." in source else source) or "data"
        base = f"quick-{stem}"
    candidate, number = RUNS / base, 2
    while candidate.exists():
        candidate, number = RUNS / f"{base}-{number}", number + 1
    return candidate


def train_quick_run(config: TrainConfig, out: Path, why: str) -> Run:
    """Train `config`'s model, predictions and metrics at `out` (its analyses follow in the background)."""
    from agnews.config import ConfigError
    from agnews.models import ModelError
    from agnews.training.data import DataError
    from agnews.training.train import train_run

    print(
        f"{why}; training the quick run {out.name} first (a few minutes on 2 CPU cores); "
        "its map and other analyses are made after the app opens."
    )
    try:
        return Run.load(train_run(config, out, stages=()))
    except (DataError, ModelError, ConfigError) as exc:
        raise RunError(f"could not train the quick run: {exc}") from exc


def analyze_log(run: Path) -> Path:
    """Where the background analyze of `run` writes (beside the run, hidden like its lock)."""
    return run.parent / f".{run.name}.analyze.log"


def analyze_events(run: Path) -> Path:
    """Where the background analyze of `run` appends its events (`agnews.events`), beside its log."""
    return run.parent / f".{run.name}.events.jsonl"


@dataclass
class Background:
    """The `agnews analyze` process completing the run the app shows."""

    process: subprocess.Popen[bytes]
    stages: tuple[str, ...]
    log: Path
    events: Path
    reader: EventReader = field(init=False)

    def __post_init__(self) -> None:
        self.reader = EventReader(self.events)

    def running(self) -> bool:
        return self.process.poll() is None

    def progress(self) -> str:
        """Its latest progress, for whoever waits on the page's heavy slot (`agnews.ui.heavy_work`)."""
        from agnews.ui.child_process import progress_text

        self.reader.read()
        latest, stage = self.reader.summary.progress, self.reader.summary.stage
        return progress_text(latest) if latest is not None else (f"stage {stage}" if stage else "")

    def stop(self) -> None:
        """Interrupt it (its staged edit is cleaned up, nothing committed is lost), then kill it."""
        stop(self.process)


def start_background(run: Run, data: str | None) -> Background | None:
    """Start `agnews analyze RUN` for the default stages `run` lacks; None when none are missing or
    the run cannot be completed here (the reason printed)."""
    stages = run.catalog.pending_stages(run)
    if not stages:
        return None
    if not (run.path / MANIFEST).is_file():
        print(f"note: {run.path} predates manifests; `agnews migrate {run.path}` lets its parts be made")
        return None
    if not os.access(run.path.parent, os.W_OK):
        print(f"note: {run.path.parent} is read-only; the run's {', '.join(stages)} stage(s) are not made")
        return None
    log, events = analyze_log(run.path), analyze_events(run.path)
    events.unlink(missing_ok=True)  # an earlier launch's events are not this analyze's
    command = [sys.executable, "-m", "agnews", "analyze", str(run.path)]
    if data:
        command += ["--data", data]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", EVENTS_ENVIRONMENT: str(events)},
            preexec_fn=child_setup(),
        )
    print(f"making the run's {', '.join(stages)} stage(s) in the background (log: {log})")
    return Background(process, stages, log, events)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    auth = logins(args)
    if auth is not None and cleartext_login(args):
        print(
            "WARNING: logins on a reachable --host over plain HTTP cross the network unencrypted; "
            "serve HTTPS (--ssl-certfile/--ssl-keyfile, or a proxy in front) or bind to 127.0.0.1."
        )
    if args.share:
        if os.environ.get("SPACE_ID"):
            raise SystemExit("--share is not allowed on a Hugging Face Space (it is already public)")
        print("WARNING: --share makes this app public on a gradio.live address; consider --auth.")
    started = time.perf_counter()
    try:
        run = resolve_run(args)
        compare_with = Run.load(args.compare) if args.compare else None
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Started before torch and gradio are imported: its seconds of imports overlap ours.
    background = None if args.hub else start_background(run, getattr(args, "data", None))
    try:
        return serve(args, auth, run, background, started, compare_with)
    finally:
        if background is not None:
            background.stop()


def serve(
    args: argparse.Namespace,
    auth: Logins | None,
    run: Run,
    background: Background | None,
    started: float,
    compare_with: Run | None = None,
) -> int:
    """Build the app on `run` (following `background` as it completes the run) and serve it;
    `compare_with` is the Compare tab's opening choice."""
    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app, heavy_work
    from agnews.ui.app import launch_options
    from agnews.ui.live import LiveRun
    from agnews.ui.run_state import following
    from agnews.ui.training_job import TrainingCaps

    try:
        predictor = Predictor.from_run(run, args.serving, threads=SERVING_THREADS)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.serving == "auto" and not run.has("serving"):
        if background is not None and "export" in background.stages:
            print(f"classifying typed text with PyTorch until {SERVING_ONNX} is made in the background")
        else:
            run.warnings.append(
                f"no {SERVING_ONNX} in the run: typed text is classified with PyTorch (slower); "
                f"`agnews analyze {run.path} --stages export` adds it"
            )
    live = None
    if background is not None:
        # The analyses hold the page's one heavy slot while they run: a training or a cross-domain
        # evaluation started from the page waits for them (it frees itself when they end).
        heavy_work.acquire(f"the background analyses of {run.name}", background)
        live = LiveRun(
            run,
            background.stages,
            log=background.log,
            events=background.events,
            running=background.running,
            on_change=lambda changed: adopt_serving_graph(predictor, changed, args.serving),
        )
    # The models of the runs pages switch to, shared with the JSON route.
    predictors = Predictors(
        run, predictor, lambda other: Predictor.from_run(other, args.serving, threads=SERVING_THREADS)
    )
    demo = build_app(
        run,
        predictor,
        live,
        runs_root=RUNS,
        compare_with=compare_with,
        may_write=may_write(args),
        predictors=predictors,
        may_train=may_train(args),
        training_caps=TrainingCaps.public() if public(args) else TrainingCaps(),
    )
    print(f"classifying typed text with {predictor.backend}")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"run {run.path} loaded and app built in {seconds(time.perf_counter() - started)}")
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        **launch_options(
            predictors, live.current if live is not None else following(run), auth, runs_root=RUNS
        ),
        footer_links=["api", "settings"],
    )
    return 0


def adopt_serving_graph(predictor: Predictor, run: Run, serving: str) -> None:
    """Move typed text onto the run's ONNX graph once the background export has written it."""
    if predictor.graph is None and run.has("serving"):
        graph = serving_graph(run, serving)
        if graph is not None:
            predictor.adopt_graph(graph)
            print(f"classifying typed text with {predictor.backend} from now on")


if __name__ == "__main__":
    sys.exit(main())
