"""The export stage: ONNX Runtime copies of a run's classifier, for fast one-headline serving.

Why: for a single headline PyTorch spends most of the forward pass dispatching a few hundred small
operators; ONNX Runtime runs the same graph with far less overhead (see `bench/` and the README's
performance section). The exported graph returns what the app needs from one pass: the four class
probabilities and the last-layer [CLS] vector. Writes the `serving` part:
    serving.onnx       fp32, checked against PyTorch at export (the app's default when present)
    serving_int8.onnx  dynamic int8 (per-channel weights), opt-in: `app.py --serving onnx-int8`
The files are plain ONNX graphs of standard operators, loaded without custom-op libraries.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from transformers import PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.inference import last_layer_cls
from agnews.rundir.files import RunError, write_atomically
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.serving.onnx_runtime import OnnxClassifier

if TYPE_CHECKING:
    from agnews.training.context import StageContext

# A padded pair exercises both dynamic axes; the export must not specialise on batch 1 or length 1.
EXAMPLE_TEXTS = ["Stocks rally as oil prices fall sharply in early trading", "Cup final"]
# fp32 ONNX against PyTorch on probabilities: a correct export is orders of magnitude closer.
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
    difference = float(np.abs(got - expected).max())
    if not difference <= EXPORT_TOLERANCE:  # also refuses NaN
        (folder / SERVING_ONNX).unlink()
        raise RunError(
            f"ONNX export disagrees with PyTorch (max difference {difference:.2g}); "
            "serve with --serving torch"
        )
    with _export_logs_silenced():
        write_atomically(
            folder / SERVING_ONNX_INT8,
            lambda tmp: quantize_dynamic(
                folder / SERVING_ONNX, tmp, weight_type=QuantType.QInt8, per_channel=True
            ),
        )


def export_stage(context: StageContext) -> None:
    """Export the run's model (the one in memory after training, else the saved one)."""
    edit = context.staged
    export_serving_onnx(context.model(), context.tokenizer(), edit.path)
    edit.record("serving", made_from=("model",))
