"""ONNX serving graphs: exported exactly, chosen explicitly, refused clearly when missing or broken."""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agnews.cli import main as cli_main
from agnews.dataset.ag_news import AG_NEWS_CLASSES
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.models import load_classifier, load_tokenizer
from agnews.rundir.files import RunError
from agnews.rundir.parts import SERVING_ONNX, SERVING_ONNX_INT8
from agnews.rundir.run import Run
from agnews.serving import onnx_runtime
from agnews.serving.onnx_runtime import OnnxClassifier, gpu_available, serving_graph
from agnews.serving.predictor import Predictor
from agnews.training import onnx_export
from agnews.training.onnx_export import compare_outputs, export_serving_onnx

TEXTS = ["Oil prices climb", "Team wins the cup final after extra time", "New chip", "Talks resume in Geneva"]


# Behaviour that depends on the CPU's instruction set: .ci/run runs these again capped to AVX2.
pytestmark = pytest.mark.isa


def test_distilbert_graph_matches_pytorch_on_a_padded_batch(tiny_distilbert: Path, tmp_path: Path) -> None:
    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES).eval()
    tokenizer = load_tokenizer(str(tiny_distilbert))
    export_serving_onnx(model, tokenizer, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SERVING_ONNX, SERVING_ONNX_INT8]

    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model(**batch, output_hidden_states=True)
    got = OnnxClassifier(tmp_path / SERVING_ONNX).run(
        batch["input_ids"].numpy(), batch["attention_mask"].numpy()
    )
    expected = (torch.softmax(out.logits, -1).numpy(), out.hidden_states[-1][:, 0].numpy())
    agreement = compare_outputs(expected, got)  # the export's own criterion, on rows it did not check
    assert agreement.refusal() is None, agreement
    assert agreement.cls_relative_difference < 1e-4
    int8_probs, _ = OnnxClassifier(tmp_path / SERVING_ONNX_INT8).run(
        batch["input_ids"].numpy(), batch["attention_mask"].numpy()
    )
    assert int8_probs.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(int8_probs.sum(axis=1), 1.0, atol=1e-5)


class _MaskIgnored(torch.nn.Module):
    """A serving module that attends to padding: the kind of graph a broken export produces."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.module(input_ids, torch.ones_like(attention_mask))


@pytest.mark.parametrize("broken", ["mask ignored", "last layer skipped"])
def test_a_wrong_graph_is_refused_and_not_kept(
    tiny_distilbert: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    """The exporter is made to write a graph of a different computation than the model's: the check
    on the padded rows refuses it, names the drift, and leaves no graph behind. (A drift large enough
    to change a predicted class is refused with that reason instead: the new head is random.)"""
    model = load_classifier(str(tiny_distilbert), classes=AG_NEWS_CLASSES).eval()
    export_graph = onnx_export.export_graph

    def export_wrong(module: torch.nn.Module, tokenizer: object, path: Path) -> None:
        if broken == "mask ignored":
            wrong = _MaskIgnored(module)
        else:
            wrong = onnx_export.serving_module(copy.deepcopy(model))
            del wrong.model.distilbert.transformer.layer[-1]
        export_graph(wrong.eval(), tokenizer, path)

    monkeypatch.setattr(onnx_export, "export_graph", export_wrong)
    refused = r"ONNX export disagrees with PyTorch: (its outputs drift|it changes the predicted class)"
    with pytest.raises(RunError, match=refused):
        export_serving_onnx(model, load_tokenizer(str(tiny_distilbert)), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_agreement_rule_refuses_a_changed_class_and_nan() -> None:
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1]], dtype=np.float32)
    cls = np.ones((2, 8), dtype=np.float32)
    assert compare_outputs((probs, cls), (probs, cls)).refusal() is None
    swapped = probs[:, [1, 0, 2, 3]]
    changed = compare_outputs((probs, cls), (swapped, cls)).refusal()
    assert changed is not None and "changes the predicted class of 2 of 2 rows" in changed
    not_a_number = compare_outputs((probs, cls), (probs, cls * np.nan)).refusal()
    assert not_a_number is not None and "drift nan" in not_a_number


def test_serving_choice_is_explicit_about_missing_graphs(quick_run: Path, tmp_path: Path) -> None:
    run = Run.load(quick_run)
    assert serving_graph(run, "auto") == run.path / SERVING_ONNX  # `agnews train` writes both
    assert serving_graph(run, "onnx-int8") == run.path / SERVING_ONNX_INT8
    assert serving_graph(run, "torch") is None
    with pytest.raises(ValueError, match="serving must be one of"):
        serving_graph(run, "tensorrt")

    with pytest.MonkeyPatch.context() as patch:  # on a GPU, "auto" keeps the model on the GPU
        patch.setattr(onnx_runtime, "gpu_available", lambda: True)
        assert serving_graph(run, "auto") is None
        assert serving_graph(run, "onnx") == run.path / SERVING_ONNX

    bare = tmp_path / "bare"
    shutil.copytree(quick_run, bare, ignore=shutil.ignore_patterns("*.onnx"))
    bare_run = Run.load(bare)
    assert serving_graph(bare_run, "auto") is None
    assert any("serving.onnx" in w and "--stages export" in w for w in bare_run.warnings)
    with pytest.raises(RunError, match=r"agnews analyze .* --stages export"):
        serving_graph(bare_run, "onnx-int8")

    assert cli_main(["analyze", str(bare), "--stages", "export"]) == 0
    assert serving_graph(Run.load(bare), "onnx") == bare / SERVING_ONNX
    assert not [p.name for p in bare.iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_damaged_graph_is_named_not_served(quick_run: Path, tmp_path: Path) -> None:
    broken = tmp_path / SERVING_ONNX
    broken.write_bytes((quick_run / SERVING_ONNX).read_bytes()[:5000])
    with pytest.raises(RunError, match=f"{SERVING_ONNX}: not a loadable ONNX graph"):
        OnnxClassifier(broken)


def test_onnx_and_torch_predictors_agree(quick_run: Path) -> None:
    run = Run.load(quick_run)
    by_torch = Predictor.from_run(run, "torch")
    by_onnx = Predictor.from_run(run, "onnx")
    by_int8 = Predictor.from_run(run, "onnx-int8")
    assert by_torch.graph is None and "ONNX" in by_onnx.backend
    texts = run.predictions["text"].iloc[:20].tolist()
    for text in texts:
        expected = by_torch.forward(text)
        np.testing.assert_allclose(by_onnx.forward(text).probs, expected.probs, atol=1e-4)
        np.testing.assert_allclose(by_onnx.forward(text).cls, expected.cls, atol=1e-3)
        # int8: a rounding of the same model, not the same numbers.
        assert np.abs(by_int8.forward(text).probs - expected.probs).max() < 0.15
    # Occlusion runs its variants as one padded batch through the graph.
    scores = by_onnx.word_scores(texts[0])
    assert scores.label in LABELS and len(scores.changes) == len(texts[0].split())


def test_the_gpu_check_agrees_with_torch_without_importing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without torch in sys.modules, `gpu_available` reads torch's build and asks the CUDA driver;
    its answer is torch's own (here: a CPU-only machine or build says no)."""
    expected = torch.cuda.is_available()
    assert gpu_available() == expected
    monkeypatch.delitem(sys.modules, "torch")
    assert gpu_available() == expected
    assert "torch" not in sys.modules
