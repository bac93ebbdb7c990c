"""ONNX Runtime copies of a run's classifier, for fast one-headline serving on the CPU.

Why: for a single headline PyTorch spends most of the forward pass dispatching a few hundred small
operators; ONNX Runtime runs the same graph with far less overhead (see the README's performance
section for the measured latencies). The exported graph returns what the app needs from one pass:
the four class probabilities and the last-layer [CLS] vector.

Two files sit in the run directory, written by `agnews train` and by `agnews export-onnx RUN`:
    serving.onnx       fp32, checked against PyTorch at export (the app's default when present)
    serving_int8.onnx  dynamic int8 (per-channel weights), opt-in: `app.py --serving onnx-int8`

The files are plain ONNX graphs of standard operators, loaded without custom-op libraries; nothing
in them is executable code.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.evaluate import last_layer_cls
from agnews.run import SERVING_CHOICES, SERVING_ONNX, SERVING_ONNX_INT8, Run, RunError, write_atomically

# A padded pair exercises both dynamic axes; the export must not specialise on batch 1 or length 1.
EXAMPLE_TEXTS = ["Stocks rally as oil prices fall sharply in early trading", "Cup final"]
# fp32 ONNX against PyTorch: measured ~2e-6 on probabilities; anything near this bound is a bug.
EXPORT_TOLERANCE = 1e-4


class _ProbsAndCls(torch.nn.Module):
    """The classifier with the outputs serving needs: softmax probabilities and last-layer [CLS]."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return torch.softmax(out.logits.float(), dim=-1), last_layer_cls(out).float()


@contextlib.contextmanager
def _export_logs_silenced() -> Iterator[None]:
    """The exporter and the quantiser log advisory warnings (absent torchvision ops, "consider
    pre-processing") that say nothing about this model; a real failure still raises."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def export_serving_onnx(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """Write `serving.onnx` (checked against PyTorch) and `serving_int8.onnx` into `folder`.

    Exports in eval mode (the caller's model is left in eval mode); a model on a GPU is copied to
    the CPU first and stays where it is. Raises RunError (and keeps no graph) when the exported
    graph disagrees with PyTorch.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()
    wrapper = _ProbsAndCls(source).eval()  # eval on the wrapper reaches every dropout inside
    example = tokenizer(EXAMPLE_TEXTS, padding=True, return_tensors="pt")
    inputs = (example["input_ids"], example["attention_mask"])
    batch, seq = torch.export.Dim("batch", max=4096), torch.export.Dim("seq", max=512)
    with _export_logs_silenced():
        program = torch.onnx.export(
            wrapper,
            inputs,
            dynamo=True,
            opset_version=18,
            input_names=["input_ids", "attention_mask"],
            output_names=["probs", "cls"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            verbose=False,
        )
    write_atomically(folder / SERVING_ONNX, lambda tmp: program.save(str(tmp), external_data=False))

    with torch.inference_mode():
        expected = wrapper(*inputs)[0].numpy()
    got = OnnxClassifier(folder / SERVING_ONNX).run(
        example["input_ids"].numpy(), example["attention_mask"].numpy()
    )[0]
    if not np.allclose(got, expected, atol=EXPORT_TOLERANCE):
        (folder / SERVING_ONNX).unlink()
        raise RunError(
            f"ONNX export disagrees with PyTorch (max difference {np.abs(got - expected).max():.2g}); "
            "serve with --serving torch"
        )
    with _export_logs_silenced():
        write_atomically(
            folder / SERVING_ONNX_INT8,
            lambda tmp: quantize_dynamic(
                folder / SERVING_ONNX, tmp, weight_type=QuantType.QInt8, per_channel=True
            ),
        )


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
                f"{path}: not a loadable ONNX graph ({exc}); `agnews export-onnx` rewrites it"
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
    if serving == "torch" or (serving == "auto" and torch.cuda.is_available()):
        return None  # on a GPU the PyTorch model there beats ONNX Runtime's CPU provider
    name = SERVING_ONNX_INT8 if serving == "onnx-int8" else SERVING_ONNX
    path = run.path / name
    if path.is_file():
        return path
    if serving == "auto":
        return None
    raise RunError(f"{path}: missing; write it with `agnews export-onnx {run.path}`")


def export_run(run: Run, *, progress: bool = True) -> None:
    """Add (or rewrite) the serving graphs of an existing run, from its saved model."""
    from agnews.models import load_classifier, load_tokenizer

    if progress:
        print(f"exporting {run.path / SERVING_ONNX} and {SERVING_ONNX_INT8} ...", flush=True)
    export_serving_onnx(load_classifier(str(run.model_path)), load_tokenizer(str(run.model_path)), run.path)
