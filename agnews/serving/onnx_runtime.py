"""ONNX Runtime sessions over a run's serving graphs (written by the export stage), and their tokenizer.

Kept free of torch and transformers: serving typed text needs only ONNX Runtime and the `tokenizers`
library, so an app that serves a run with its graph starts without importing either.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from agnews.rundir.files import RunError
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.rundir.run import Run

# How typed text can be classified: the run's PyTorch model or one of its ONNX graphs.
SERVING_CHOICES = ("auto", "torch", "onnx", "onnx-int8")


class OnnxClassifier:
    """An onnxruntime session over a serving graph: padded token ids in, (probs, cls) out.

    Session options as measured (bench/inference_throughput.py, docs/performance.md), single texts,
    2 cores: ONNX Runtime's graph optimisations off (its fusions made this exported graph slower: 7%
    on an Intel Xeon with AMX, 9% of the CPU time on an AMD EPYC, fp32 and int8 alike; the session
    also opens faster), sequential execution (parallel was 0.47-0.93x), one intra-op thread per
    call by default. Two threads cut an idle machine's latency (1.4-1.5x) for 30-40% more CPU per
    text, and lost on a busy shared one (0.5-0.95x); the app serves requests side by side instead,
    each on its own thread.
    """

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.intra_op_num_threads = threads  # one per request (see app.py)
        options.inter_op_num_threads = 1
        if threads > 1:  # idle workers must not spin on cores that other requests need
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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
            None,
            {
                "input_ids": np.asarray(input_ids, dtype=np.int64),
                "attention_mask": np.asarray(attention_mask, dtype=np.int64),
            },
        )
        return probs, cls


class FastTokenizer:
    """A model folder's `tokenizer.json` through the `tokenizers` library: what the run's transformers
    tokenizer gives (truncated to `max_length`, padded to the batch's longest), without transformers.

    tests/test_predictor.py checks that the ids are identical to the transformers tokenizer's.
    """

    def __init__(self, folder: Path, *, max_length: int) -> None:
        from tokenizers import Tokenizer

        settings = _read_json(folder / "tokenizer_config.json")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        pad = settings.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        pad_id = self.tokenizer.token_to_id(pad) if isinstance(pad, str) else None
        if pad_id is None:
            raise ValueError(f"{folder}: the tokenizer has no padding token")
        self.tokenizer.enable_truncation(
            max_length, direction=settings.get("truncation_side", "right"), strategy="longest_first"
        )
        self.tokenizer.enable_padding(
            direction=settings.get("padding_side", "right"),
            pad_id=pad_id,
            pad_type_id=int(settings.get("pad_token_type_id", 0)),
            pad_token=pad,
        )

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask) as int64 arrays of shape (len(texts), longest)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask


def fast_tokenizer(folder: Path, *, max_length: int) -> FastTokenizer | None:
    """The folder's `FastTokenizer`, or None where it cannot be built (no tokenizer.json, no padding
    token): the caller then falls back to transformers' tokenizer."""
    if not (folder / "tokenizer.json").is_file():
        return None
    try:
        return FastTokenizer(folder, max_length=max_length)
    except Exception:  # an unusual tokenizer: transformers knows it, at the cost of importing it
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _torch_has_cuda() -> bool:
    """Whether the installed torch was built with CUDA (read from `torch/version.py`, not imported)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    version = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        text = version.read_text(encoding="utf-8")
    except OSError:
        return False
    match = re.search(r"^cuda(?:\s*:[^=\n]*)?=\s*(.+)$", text, flags=re.MULTILINE)
    return match is not None and match.group(1).strip() not in ("None", "")


def _cuda_devices() -> int:
    """CUDA devices the driver shows this process (it honours CUDA_VISIBLE_DEVICES); 0 without one."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    except (OSError, AttributeError):
        return 0


def gpu_available() -> bool:
    """Whether PyTorch would run the model on a CUDA GPU, decided without importing torch.

    Where torch is already imported its own answer is free and exact; otherwise: torch was built with
    CUDA and the CUDA driver shows at least one device. On a CPU-only machine (or torch build) that
    is a file read and no library load.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        return bool(torch.cuda.is_available())
    return _torch_has_cuda() and _cuda_devices() > 0


def serving_graph(run: Run, serving: str) -> Path | None:
    """The ONNX file `serving` asks for in `run`, or None to serve with PyTorch.

    "auto" takes the fp32 graph when the run has one and there is no GPU, else PyTorch (the caller
    reports a missing graph);
    "onnx" and "onnx-int8" insist, naming the command that writes the missing file.
    """
    if serving not in SERVING_CHOICES:
        raise ValueError(f"serving must be one of {SERVING_CHOICES}, got {serving!r}")
    if serving == "torch" or (serving == "auto" and gpu_available()):
        return None  # on a GPU the PyTorch model there beats ONNX Runtime's CPU provider
    name = SERVING_ONNX_INT8 if serving == "onnx-int8" else SERVING_ONNX
    path = run.path / name
    if run.has("serving"):
        return path
    if serving == "auto":
        return None
    raise RunError(f"{path}: missing; write it with `agnews analyze {run.path} --stages export`")
