"""ONNX Runtime sessions over a run's serving graphs (written by the export stage).

Kept free of torch: serving typed text needs only ONNX Runtime and a tokenizer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agnews.rundir.files import RunError
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.rundir.run import Run

# How typed text can be classified: the run's PyTorch model or one of its ONNX graphs.
SERVING_CHOICES = ("auto", "torch", "onnx", "onnx-int8")


class OnnxClassifier:
    """An onnxruntime session over a serving graph: padded token ids in, (probs, cls) out."""

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # one per request, as the torch path (see app.py)
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise RunError(
                f"{path}: not a loadable ONNX graph ({exc}); `agnews analyze RUN --stages export` rewrites it"
            ) from exc

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, cls = self.session.run(
            None, {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)}
        )
        return probs, cls


def serving_graph(run: Run, serving: str) -> Path | None:
    """The ONNX file `serving` asks for in `run`, or None to serve with PyTorch.

    "auto" takes the fp32 graph when the run has one and there is no GPU, else PyTorch (the caller
    reports a missing graph);
    "onnx" and "onnx-int8" insist, naming the command that writes the missing file.
    """
    if serving not in SERVING_CHOICES:
        raise ValueError(f"serving must be one of {SERVING_CHOICES}, got {serving!r}")
    import torch

    if serving == "torch" or (serving == "auto" and torch.cuda.is_available()):
        return None  # on a GPU the PyTorch model there beats ONNX Runtime's CPU provider
    name = SERVING_ONNX_INT8 if serving == "onnx-int8" else SERVING_ONNX
    path = run.path / name
    if run.has("serving"):
        return path
    if serving == "auto":
        return None
    raise RunError(f"{path}: missing; write it with `agnews analyze {run.path} --stages export`")
