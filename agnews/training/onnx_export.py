"""The export stage: ONNX Runtime copies of a run's classifier, for fast one-headline serving.

Why: for a single headline PyTorch spends most of the forward pass dispatching a few hundred small
operators; ONNX Runtime runs the same graph with far less overhead (see `bench/` and
docs/performance.md). The exported graph returns what the app needs from one pass: the four class
probabilities and the last-layer [CLS] vector. Writes the `serving` part:
    serving.onnx       fp32, checked against PyTorch at export (the app's default when present)
    serving_int8.onnx  dynamic int8 (per-channel weights), opt-in: `app.py --serving onnx-int8`
The files are plain ONNX graphs of standard operators, loaded without custom-op libraries.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.formatting import setting, significant
from agnews.inference import last_layer_cls
from agnews.rundir.catalog import CATALOG
from agnews.rundir.files import RunError, write_atomically
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.serving.onnx_runtime import OnnxClassifier

if TYPE_CHECKING:
    from agnews.training.context import StageContext

# A padded pair exercises both dynamic axes; the export must not specialise on batch 1 or length 1.
EXAMPLE_TEXTS = ["Stocks rally as oil prices fall sharply in early trading", "Cup final"]
# The rows the exported graph is checked on, as one padded batch: lengths from two tokens to a full
# paragraph, so that padding, masking and both dynamic axes are exercised with sizes the export did
# not see.
CHECK_TEXTS = [
    "Cup final",
    "Stocks rally as oil prices fall sharply in early trading",
    "Astronomers find water ice on a distant moon",
    "Rebels and government troops agreed a ceasefire on Tuesday after talks in the capital, officials "
    "said, while aid agencies warned that thousands of families displaced by the fighting still lack "
    "food and shelter as the rainy season begins.",
    "Quarterly profit beats forecasts",
    "The striker scored twice in the second half to send his club top of the league",
]
# How far the graph's logits and [CLS] vector may drift from PyTorch's, relative to their own scale
# (`GraphAgreement`): far above what correct graphs drift on every CPU measured and below what broken
# ones do (bench/export_agreement.py prints both; bench/results/export_agreement_*.txt).
EXPORT_RELATIVE_TOLERANCE = 2e-3


def _drift(value: float) -> str:
    """A relative drift as a refusal writes it. NaN (outputs that are not numbers) is the finding
    here, not a missing value, so it reads "nan" rather than `significant`'s dash."""
    return "nan" if np.isnan(value) else significant(value, 2)


@dataclass(frozen=True)
class GraphAgreement:
    """How an exported graph's outputs compare with PyTorch's on the same padded batch.

    Logits are compared, not probabilities: the graph returns softmax probabilities, whose logits are
    known up to a constant per row, so both sides are centred (log p minus its row mean). Rounding
    differences between kernels (AVX2, AVX-512, AMX; PyTorch and ONNX Runtime) grow with the size of
    the numbers, so the drift is judged relative to the logits' scale (at least 1) and the [CLS] vector
    relative to its norm; and every row must keep its predicted class. A fixed absolute tolerance on
    probabilities refused correct graphs on AVX2-only CPUs and cannot tell a confident model's from a
    random one's.
    """

    rows: int
    same_class: int
    logit_difference: float
    logit_scale: float
    cls_relative_difference: float

    @property
    def logit_relative_difference(self) -> float:
        return self.logit_difference / max(1.0, self.logit_scale)

    def refusal(self, tolerance: float | None = None) -> str | None:
        """Why the graph is refused, or None when it agrees (NaN anywhere refuses it). `tolerance`
        defaults to `EXPORT_RELATIVE_TOLERANCE`."""
        tolerance = EXPORT_RELATIVE_TOLERANCE if tolerance is None else tolerance
        if self.same_class != self.rows:
            return f"it changes the predicted class of {self.rows - self.same_class} of {self.rows} rows"
        drifts = (self.logit_relative_difference, self.cls_relative_difference)
        if not all(drift <= tolerance for drift in drifts):  # NaN compares False: refused
            worst = np.nan if any(np.isnan(drifts)) else max(drifts)
            return (
                f"its outputs drift {_drift(worst)} relative to their scale (logits "
                f"{_drift(self.logit_relative_difference)}, [CLS] {_drift(self.cls_relative_difference)}; "
                f"tolerance {setting(tolerance)})"
            )
        return None


def _centred_logits(probs: np.ndarray) -> np.ndarray:
    log_probs = np.log(np.clip(probs.astype(np.float64), 1e-45, None))
    return log_probs - log_probs.mean(axis=1, keepdims=True)


def compare_outputs(
    expected: tuple[np.ndarray, np.ndarray], got: tuple[np.ndarray, np.ndarray]
) -> GraphAgreement:
    """Compare (probs, cls) from PyTorch (`expected`) and from the graph (`got`)."""
    want_logits, got_logits = _centred_logits(expected[0]), _centred_logits(got[0])
    want_cls, got_cls = expected[1].astype(np.float64), got[1].astype(np.float64)
    cls_norm = np.linalg.norm(want_cls, axis=1)
    cls_drift = np.linalg.norm(got_cls - want_cls, axis=1) / np.maximum(cls_norm, 1e-12)
    return GraphAgreement(
        rows=len(want_logits),
        same_class=int((want_logits.argmax(axis=1) == got_logits.argmax(axis=1)).sum()),
        logit_difference=float(np.abs(got_logits - want_logits).max()),
        logit_scale=float(np.abs(want_logits).max()),
        cls_relative_difference=float(cls_drift.max()),
    )


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


def serving_module(model: PreTrainedModel) -> torch.nn.Module:
    """`model` as the serving graph computes it, (probs, cls) from (input_ids, attention_mask), in
    eval mode and on the CPU (a model on a GPU is copied; the caller's stays where it is)."""
    source = model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()
    return _ProbsAndCls(source).eval()  # eval on the wrapper reaches every dropout inside


def export_graph(module: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, path: Path) -> None:
    """Trace `module` ((probs, cls) from token ids and mask) into an fp32 ONNX graph at `path`, with
    dynamic batch and sequence axes. Unchecked: `export_serving_onnx` checks it."""
    example = tokenizer(EXAMPLE_TEXTS, padding=True, return_tensors="pt")
    batch, seq = torch.export.Dim("batch", max=4096), torch.export.Dim("seq", max=512)
    with _export_logs_silenced():
        program = torch.onnx.export(
            module,
            (example["input_ids"], example["attention_mask"]),
            dynamo=True,
            opset_version=18,
            input_names=["input_ids", "attention_mask"],
            output_names=["probs", "cls"],
            dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
            verbose=False,
        )
    write_atomically(path, lambda tmp: program.save(str(tmp), external_data=False))


def export_serving_onnx(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """Write `serving.onnx` (checked against PyTorch) and `serving_int8.onnx` into `folder`.

    Exports in eval mode (the caller's model is left in eval mode). Raises RunError (and keeps no
    graph) when the exported graph disagrees with PyTorch (`GraphAgreement.refusal`).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    module = serving_module(model)
    export_graph(module, tokenizer, folder / SERVING_ONNX)
    refusal = check_graph(folder / SERVING_ONNX, module, tokenizer).refusal()
    if refusal is not None:
        (folder / SERVING_ONNX).unlink()
        raise RunError(f"ONNX export disagrees with PyTorch: {refusal}; serve with --serving torch")
    with _export_logs_silenced():
        write_atomically(
            folder / SERVING_ONNX_INT8,
            lambda tmp: quantize_dynamic(
                folder / SERVING_ONNX, tmp, weight_type=QuantType.QInt8, per_channel=True
            ),
        )


def check_graph(path: Path, reference: torch.nn.Module, tokenizer: PreTrainedTokenizerBase) -> GraphAgreement:
    """Run the graph at `path` and `reference` (a model returning (probs, cls), in eval mode) on
    `CHECK_TEXTS` and compare them."""
    check = tokenizer(CHECK_TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = tuple(t.numpy() for t in reference(check["input_ids"], check["attention_mask"]))
    got = OnnxClassifier(path).run(check["input_ids"].numpy(), check["attention_mask"].numpy())
    return compare_outputs(expected, got)


def export_stage(context: StageContext) -> None:
    """Export the run's model (the one in memory after training, else the saved one)."""
    edit = context.staged
    with tempfile.TemporaryDirectory(prefix=".export-", dir=edit.path.parent) as folder:
        export_serving_onnx(context.model(), context.tokenizer(), Path(folder))
        graphs = (Path(folder) / name for name in CATALOG.parts["serving"].files)
        edit.write("serving", *(functools.partial(os.replace, graph) for graph in graphs))
