"""File-level helpers of the run directory: atomic writes, fingerprints, the pickle guard.

Every file of a run is written through `write_atomically`, so a reader never sees half a file;
whole-run consistency (several files changing together) is `agnews.rundir.edit`'s job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")


class RunError(ValueError):
    """A run directory that is missing, incomplete, malformed or busy; the message names the file."""


class RunBusyError(RunError):
    """Another process holds the run's writer lock."""


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write` on a hidden temporary sibling of `path`, then rename it into place: a reader
    never sees half a file, and a failed write leaves no temporary file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_text(data: Any) -> str:
    """How a run's JSON files are written: indented, keys in the dataclass's order, a final newline."""
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def write_json(path: Path, data: Any) -> None:
    text = json_text(data)
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or RunError naming the file and what is wrong with it."""
    if not path.is_file():
        raise RunError(f"{path}: missing")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object")
    return data


def check_writable(folder: Path) -> None:
    """Fail now, not after hours of training, when the output folder cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-") as probe:
            probe.write(b"x" * 1024)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        raise RunError(f"{folder}: cannot write there ({exc.strerror}); choose another --out") from exc


@contextlib.contextmanager
def building_folder(final: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling to fill; on success it replaces `final`, on failure it is deleted.

    For folders assembled in one go (an upload folder, a pulled run's links); runs themselves are
    created and changed through `agnews.rundir.edit`.
    """
    final = final.expanduser().absolute()
    if final.exists() and not overwrite:
        raise RunError(f"{final}: already exists; choose another --out or pass --overwrite")
    check_writable(final.parent)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.partial-"))
    tmp.chmod(0o755)
    try:
        yield tmp
        if final.exists():
            trash = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.old-"))
            os.replace(final, trash / final.name)
            os.replace(tmp, final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fingerprint(path: Path) -> str:
    """A content hash of a file, or of a folder's files and their relative names.

    Parts record the fingerprints of what they were made from, so a part made from an older model
    or older predictions is recognised as stale.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:32]


def pickle_files(folder: Path) -> list[Path]:
    """Files that could hold pickles; a run must have none."""
    return [p for p in folder.rglob("*") if p.suffix in PICKLE_SUFFIXES]
