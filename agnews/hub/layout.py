"""What a model repository of one run holds, and where each file of the run goes in it.

    README.md             the model card (`agnews.hub.card`)
    config.json, model.safetensors, tokenizer files
                          the run's model/ folder at the root, so that
                          `pipeline("text-classification", model=REPO)` works with no agnews code
    agnews_run/           every other file of the run, byte for byte and under its own name:
                          manifest.json and the files of every part the run has (`run_files`),
                          a part family's in its folders (`cross_domain/NAME/...`)

Both the card (its Files section) and the transfer code (upload folder, pulled runs) read it here.
"""

from __future__ import annotations

from pathlib import Path

from agnews.rundir import parts
from agnews.rundir.run import Run

RUN_SUBFOLDER = "agnews_run"
CARD = "README.md"


def run_files(run: Run) -> list[str]:
    """The run's files that go to `agnews_run/` (paths relative to the run): those of every part its
    catalog declares that it has (the model's folder goes to the root), the manifest, then the files
    of its part families' members (cross-domain evaluations), by name."""
    declared = [name for part in run.catalog.parts.values() for name in part.files if name != parts.MODEL_DIR]
    members = [
        run.catalog.part(f"{prefix}/{name}")
        for prefix in run.catalog.families
        for name in parts.family_members(run.manifest.parts, prefix)
    ]
    names = [*declared, parts.MANIFEST, *(name for part in members for name in part.files)]
    return [name for name in names if (run.path / name).is_file()]


def upload_files(run: Run) -> dict[str, Path]:
    """Path in the repository -> file of the run, for everything but the card."""
    files = {p.name: p for p in sorted(run.model_path.iterdir()) if p.is_file()}
    for name in run_files(run):
        files[f"{RUN_SUBFOLDER}/{name}"] = run.path / name
    return files
