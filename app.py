"""Launch the AG News app on a run directory (also what a Hugging Face Space runs).

    python app.py                                  newest complete run under runs/
    python app.py --data ../shared/data/ag_news    the same; with no run yet, train runs/quick first
    python app.py --run runs/quick --port 7861
    python app.py --hub USER/agnews-minilm         a run pushed to the Hub (agnews.hub)

The app itself never trains; this launcher asks the library for the quick run only when there is
nothing to show, so one command brings up a working app on a fresh offline machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Before gradio is imported: no usage reports or version checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from agnews.rundir import Run, RunError, latest_run
from agnews.rundir.parts import SERVING_ONNX
from agnews.serving.onnx_runtime import SERVING_CHOICES

RUNS = Path(__file__).resolve().parent / "runs"
QUICK_RUN = RUNS / "quick"
# One torch thread per request, with the queue running a few requests side by side:
# on a small shared CPU, several threads per single-text forward pass mostly wait on each other
# (measured on 2 busy cores: 11 ms with one thread, 140 ms with two).
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
        "--data", help="Local AG News folder, used only if the quick run must be trained first."
    )
    parser.add_argument("--host", help="Address to bind (default: 127.0.0.1, or GRADIO_SERVER_NAME).")
    parser.add_argument("--port", type=int, help="Port (default: 7860, or GRADIO_SERVER_PORT).")
    parser.add_argument("--share", action="store_true", help="Public gradio.live link (anyone can use it).")
    parser.add_argument("--auth", metavar="USER:PASS", help="Require this login.")
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


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not (user and sep and password):
        raise SystemExit("--auth must look like user:password")
    return user, password


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
    found = latest_run(RUNS)
    if found is not None:
        return found
    from agnews.config import ConfigError, preset_config
    from agnews.models import ModelError
    from agnews.training.data import DataError
    from agnews.training.train import train_run

    print(f"No complete run under {RUNS}; training the quick run first (about 5 minutes on 2 CPU cores).")
    try:
        return Run.load(train_run(preset_config("quick", data=args.data), QUICK_RUN))
    except (DataError, ModelError, ConfigError) as exc:
        raise RunError(f"could not train the quick run: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    auth = parse_auth(args.auth)
    if args.share:
        if os.environ.get("SPACE_ID"):
            raise SystemExit("--share is not allowed on a Hugging Face Space (it is already public)")
        print("WARNING: --share makes this app public on a gradio.live address; consider --auth.")
    started = time.perf_counter()
    try:
        run = resolve_run(args)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import torch

    from agnews.serving.predictor import Predictor
    from agnews.ui import build_app
    from agnews.ui.app import LAUNCH_LIMITS

    torch.set_num_threads(SERVING_THREADS)
    try:
        predictor = Predictor.from_run(run, args.serving)
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.serving == "auto" and not run.has("serving"):
        run.warnings.append(
            f"no {SERVING_ONNX} in the run: typed text is classified with PyTorch (slower); "
            f"`agnews analyze {run.path} --stages export` adds it"
        )
    demo = build_app(run, predictor)
    print(f"classifying typed text with {predictor.backend}")
    for warning in run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"run {run.path} loaded and app built in {time.perf_counter() - started:.1f} s")
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=auth,
        **LAUNCH_LIMITS,
        footer_links=["api", "settings"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
