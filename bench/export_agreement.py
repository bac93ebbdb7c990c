"""How far a correct ONNX export drifts from PyTorch on this CPU, beside deliberately broken graphs.

The export stage refuses a graph whose logits drift more than `EXPORT_RELATIVE_TOLERANCE` relative to
their scale, or that changes any row's class (`agnews.training.onnx_export.GraphAgreement`). This
prints, for several models (random tiny DistilBERT, BERT and MPNet configs, and the bundled MiniLM with
an untrained head and with random-scaled heads), the drift of the correct graph and of broken ones:
attention mask ignored, last encoder layer skipped, one layer's weights off by 1%. The tolerance must
sit between the two columns on every CPU. Run it natively and with torch capped to AVX2:

    .venv/bin/python bench/export_agreement.py
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 \
        .venv/bin/python bench/export_agreement.py
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from machine import cpu_name
from transformers import AutoTokenizer, PreTrainedModel

from agnews.models import bundled_minilm_path, load_classifier
from agnews.training.onnx_export import (
    EXPORT_RELATIVE_TOLERANCE,
    _ProbsAndCls,
    check_graph,
    export_graph,
    serving_module,
)
from agnews.training.train import encoder_layers


def _tiny(kind: str, folder: Path) -> PreTrainedModel:
    from transformers import BertConfig, DistilBertConfig, MPNetConfig

    tokenizer = AutoTokenizer.from_pretrained(bundled_minilm_path())
    vocab = tokenizer.vocab_size
    config = {
        "distilbert": DistilBertConfig(vocab_size=vocab, dim=32, hidden_dim=64, n_layers=2, n_heads=2),
        "bert": BertConfig(
            vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2
        ),
        "mpnet": MPNetConfig(
            vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2
        ),
    }[kind]
    config.num_labels = 4
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_config(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model.eval()


class _MaskIgnored(torch.nn.Module):
    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.inner = _ProbsAndCls(model)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.inner(input_ids, torch.ones_like(attention_mask))


def _last_layer_skipped(model: PreTrainedModel) -> torch.nn.Module:
    broken = copy.deepcopy(model)
    layers = encoder_layers(broken)
    del layers[len(layers) - 1]
    return _ProbsAndCls(broken).eval()


def _weights_off(model: PreTrainedModel) -> torch.nn.Module:
    broken = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in encoder_layers(broken)[0].parameters():
            parameter.mul_(1 + 0.01 * torch.randn(parameter.shape, generator=generator))
    return _ProbsAndCls(broken).eval()


BROKEN: dict[str, Callable[[PreTrainedModel], torch.nn.Module]] = {
    "mask ignored": lambda m: _MaskIgnored(m).eval(),
    "last layer skipped": _last_layer_skipped,
    "layer 0 weights x(1+1% noise)": _weights_off,
}


def _scaled_head(model: PreTrainedModel, factor: float) -> PreTrainedModel:
    """A model whose classifier outputs `factor` times larger logits: a confident model's scale."""
    scaled = copy.deepcopy(model)
    with torch.no_grad():
        for name, parameter in scaled.named_parameters():
            if name.startswith("classifier"):
                parameter.mul_(factor)
    return scaled.eval()


def _trained(model: PreTrainedModel, steps: int = 60) -> PreTrainedModel:
    """`model` after `steps` AdamW steps (learning rate 1e-3, as the tests train) memorising random
    labels of random token rows: larger weights and confident logits, like a trained model's."""
    trained = copy.deepcopy(model).train()
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 20000, (64, 24), generator=generator)
    labels = torch.randint(0, 4, (64,), generator=generator)
    optimizer = torch.optim.AdamW(trained.parameters(), lr=1e-3)
    for step in range(steps):
        batch = slice(16 * (step % 4), 16 * (step % 4 + 1))
        loss = trained(input_ids=ids[batch], labels=labels[batch]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return trained.eval()


def main() -> None:
    torch.manual_seed(0)  # the random tiny models and heads: the same each time
    print(f"CPU: {cpu_name()}; torch {torch.__version__}, kernels {torch.backends.cpu.get_cpu_capability()}")
    print(f"tolerance: {EXPORT_RELATIVE_TOLERANCE:g} (relative logit or [CLS] drift)\n")
    header = f"{'model':34} {'graph':32} {'classes kept':>12} {'logit drift':>12} {'logit scale':>11} "
    print(header + f"{'rel. logit':>11} {'rel. [CLS]':>11}  verdict")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models: dict[str, tuple[PreTrainedModel, Path]] = {}
        for kind in ("distilbert", "bert", "mpnet"):
            folder = root / kind
            models[f"tiny random {kind}"] = (_tiny(kind, folder), folder)
            models[f"tiny {kind}, trained"] = (_trained(models[f"tiny random {kind}"][0]), folder)
        minilm = load_classifier(str(bundled_minilm_path())).eval()
        models["MiniLM, untrained head"] = (minilm, bundled_minilm_path())
        models["MiniLM, head x40 (confident)"] = (_scaled_head(minilm, 40.0), bundled_minilm_path())
        for name, (model, folder) in models.items():
            tokenizer = AutoTokenizer.from_pretrained(folder)
            reference = serving_module(model)
            graphs = {"correct": reference, **{b: make(model) for b, make in BROKEN.items()}}
            for graph_name, module in graphs.items():
                path = root / f"{name}-{graph_name}.onnx".replace(" ", "_")
                export_graph(module, tokenizer, path)
                agreement = check_graph(path, reference, tokenizer)
                refusal = agreement.refusal()
                print(
                    f"{name:34} {graph_name:32} {agreement.same_class:>5}/{agreement.rows:<6} "
                    f"{agreement.logit_difference:>12.2e} {agreement.logit_scale:>11.3g} "
                    f"{agreement.logit_relative_difference:>11.2e} "
                    f"{agreement.cls_relative_difference:>11.2e}  "
                    f"{'refused' if refusal else 'accepted'}"
                )


if __name__ == "__main__":
    main()
