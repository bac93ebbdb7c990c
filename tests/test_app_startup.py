"""Start-up work that grows with the page: how often building the app walks every block's config.

Gradio computes the config of every block of the page each time it builds its server app
(`Blocks.__exit__` does so twice, `Blocks.queue` once more, `launch` twice); each pass costs in
proportion to the page's blocks, so a pass saved is start-up saved on every tab added later.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import build_app
from agnews.ui.app import DEFAULT_CONCURRENCY_LIMIT, QUEUE_SIZE

# The passes over the whole page that leaving the `with gr.Blocks()` block makes (Gradio's own).
PASSES_ON_EXIT = 2


def test_the_app_is_queued_with_its_limits(run: Run, predictor: Predictor) -> None:
    queue = build_app(run, predictor)._queue
    assert queue.max_size == QUEUE_SIZE
    assert queue.default_concurrency_limit == DEFAULT_CONCURRENCY_LIMIT


def test_building_the_app_walks_the_whole_page_only_on_leaving_its_block(
    run: Run, predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked: list[int] = []  # the blocks there were at each pass
    config_file = gr.Blocks.get_config_file

    def counted(blocks: gr.Blocks) -> dict:
        walked.append(len(blocks.blocks))
        return config_file(blocks)

    monkeypatch.setattr(gr.Blocks, "get_config_file", counted)
    demo = build_app(run, predictor)
    assert walked.count(len(demo.blocks)) == PASSES_ON_EXIT, walked


def test_laying_out_the_page_imports_no_torch() -> None:
    """The app's modules (every tab, the Train tab's presets included) import neither torch nor
    transformers: typed text is served by ONNX Runtime, and those imports are seconds of start-up."""
    import subprocess
    import sys

    probe = (
        "import sys, agnews.ui.app, agnews.ui.training_job as job; job.offered_recipes(); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
