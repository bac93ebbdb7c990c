"""Training data brought to the page: kept by content hash beside the runs, and checked as training
would read it, by the library's own `agnews data check` in a child process.

An upload is kept as `runs/.uploads/<sha256>/<its own name>` with `upload.json` beside it (the name
as uploaded, its size, when): a run trained on it records that path, so its config names the data by
its hash and "the same data" is found again; the file keeps its own name inside the folder because a
dataset is named after its file (a run of `tickets.csv` is a run of "tickets", not of a hash). The
same bytes uploaded twice are kept once. All uploads together stay under a quota: an upload that
would go over it first sweeps the uploads nothing needs (no run's config names them, no interrupted
training's checkpoints do, and they were kept more than `SWEEP_GRACE_SECONDS` ago, so a person
between uploading and training keeps theirs); one still beyond it is refused, saying how much is
used.

Only CSV and JSON lines are taken (no parquet from strangers: its reader is a large binary parser).
The page reads no more of a file than its first line, to offer its columns (`header`); what training
would make of it (classes with counts, or the refusal) is `agnews data check --json`, run as a child
process (`check`): the page never imports the data reader.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agnews.formatting import megabytes
from agnews.present.paths import shown_text
from agnews.processes import child_setup
from agnews.rundir.parts import CONFIG, family_name
from agnews.split_weights import file_sha256
from agnews.ui.scratch import take_upload

UPLOADS_FOLDER = ".uploads"  # beside the runs: hidden, so no run listing mistakes it for a run
DESCRIPTION = "upload.json"
FORMATS = {".csv": "CSV", ".jsonl": "JSON lines"}
HEADER_BYTES = 1 << 20  # the most of a file's first line read for its columns
MAX_COLUMNS = 500  # columns the page offers to choose from; a wider file is trained from the command line
CHECK_SECONDS = 120  # `agnews data check` reads a few megabytes in seconds; a hung one is stopped
SWEEP_GRACE_SECONDS = 3600  # an upload no run names yet is kept this long before a sweep may remove it
TEXT_NAMES = ("text",)
LABEL_NAMES = ("label", "category", "class")


class UploadError(ValueError):
    """An upload the page does not take or cannot read; the message says why and what to do."""


@dataclass(frozen=True)
class Kept:
    """An upload as kept beside the runs: its path (what training reads), its own name, its hash."""

    path: Path
    name: str
    sha256: str
    size: int


class UploadStore:
    """The kept uploads under `folder` (`runs/.uploads`), at most `quota` bytes together."""

    _lock = threading.Lock()  # one keep at a time in the app: the quota is checked and spent at once

    def __init__(self, folder: Path, quota: int) -> None:
        self.folder = folder
        self.quota = quota

    def used(self) -> int:
        """Bytes the kept uploads take (an upload being kept, in a hidden staging folder, not yet)."""
        if not self.folder.is_dir():
            return 0
        kept = [folder for folder in self.folder.iterdir() if not folder.name.startswith(".")]
        return sum(path.stat().st_size for folder in kept for path in folder.glob("*") if path.is_file())

    def keep(self, source: str | Path) -> Kept:
        """Keep the uploaded file `source` (taken out of Gradio's upload folder, `take_upload`) by its
        content's hash; the same bytes kept before are that upload. UploadError for a format the page
        does not take or an upload beyond the quota (then nothing is kept)."""
        source = Path(source)
        suffix = source.suffix.lower()
        if suffix not in FORMATS:
            raise UploadError(
                f"{source.name}: the page takes {' or '.join(FORMATS.values())} files "
                f"({', '.join(FORMATS)}); save it as one of those"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.folder))
            try:
                return self._keep(take_upload(source, staging), staging)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def _keep(self, taken: Path, staging: Path) -> Kept:
        digest = file_sha256(taken)
        size = taken.stat().st_size
        target = self.folder / digest
        if target.is_dir():
            os.utime(target / DESCRIPTION)  # kept anew: a sweep counts its hour from now
            return self.kept(digest)
        used = self.used()
        if used + size > self.quota:
            self.sweep()
            used = self.used()
        if used + size > self.quota:
            raise UploadError(
                f"{taken.name} ({megabytes(size)}) would take the uploads kept beside the runs over "
                f"their quota of {megabytes(self.quota, 0)} ({megabytes(used)} used); remove uploads "
                "no longer needed from the runs folder's .uploads"
            )
        name = (family_name(taken.stem) or "data") + taken.suffix.lower()
        taken.rename(staging / name)
        described = {"name": taken.name, "file": name, "bytes": size, "uploaded": _now()}
        (staging / DESCRIPTION).write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
        os.rename(staging, target)  # whole, or not at all
        return self.kept(digest)

    def sweep(self) -> list[str]:
        """Remove the kept uploads nothing needs (see the module's docstring); their hashes. A run's
        config, or the settings and page record of an interrupted training that left checkpoints to
        resume from, name an upload by its path, which holds its hash."""
        if not self.folder.is_dir():
            return []
        root = self.folder.parent
        resumable = [f for f in root.glob(".*.checkpoints") if any(f.glob("checkpoint-*"))]
        naming = [*root.glob(f"*/{CONFIG}"), *(path for f in resumable for path in f.glob("*.json"))]
        texts = [path.read_text(encoding="utf-8", errors="replace") for path in naming if path.is_file()]
        cutoff = time.time() - SWEEP_GRACE_SECONDS
        swept = []
        for folder in self.folder.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue  # another keep's staging folder
            described = folder / DESCRIPTION
            kept_at = (described if described.is_file() else folder).stat().st_mtime
            if kept_at < cutoff and not any(folder.name in text for text in texts):
                shutil.rmtree(folder, ignore_errors=True)
                swept.append(folder.name)
        return swept

    def kept(self, digest: str) -> Kept:
        """The upload kept under `digest`; UploadError if there is none (or it was damaged)."""
        try:
            described = json.loads((self.folder / digest / DESCRIPTION).read_text(encoding="utf-8"))
            return Kept(
                self.folder / digest / described["file"], described["name"], digest, described["bytes"]
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UploadError(f"upload {digest[:12]} is not kept here (or damaged); upload it again") from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def header(path: Path) -> list[str]:
    """The columns of a kept CSV or JSON lines file, from its first line (at most `HEADER_BYTES`):
    a CSV's header row, a JSON lines file's first object's keys. UploadError when it has none, or
    more than `MAX_COLUMNS`."""
    with path.open("rb") as handle:
        line = handle.readline(HEADER_BYTES)
        while path.suffix.lower() == ".jsonl" and line and not line.strip():
            line = handle.readline(HEADER_BYTES)
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"{path.name}: its first line is not UTF-8 text; save the file as UTF-8") from exc
    if not text.endswith("\n") and len(line) == HEADER_BYTES:
        raise UploadError(
            f"{path.name}: its first line is longer than {megabytes(HEADER_BYTES, 0, binary=True)}"
        )
    try:
        if path.suffix.lower() == ".jsonl":
            record = json.loads(text)
            if not isinstance(record, dict):
                raise UploadError(f"{path.name}: line 1 is not a JSON object of column: value")
            columns = [str(key) for key in record]
        else:
            columns = [cell.strip() for cell in next(csv.reader([text]), [])]
    except (ValueError, csv.Error, RecursionError) as exc:  # JSON's errors are ValueErrors
        if isinstance(exc, UploadError):
            raise
        raise UploadError(f"{path.name}: its first line is not a header this page can read ({exc})") from exc
    if not any(columns):
        raise UploadError(f"{path.name}: no header row naming its columns")
    # A column's name becomes a value of `--text-column` on the training command: one that starts
    # like an option would be read as one (past the page's caps, or naming the server's files).
    optionlike = [column for column in columns if column.startswith("-")]
    if optionlike:
        raise UploadError(
            f"{path.name}: column {optionlike[0][:80]!r} starts with '-', which the page cannot pass to "
            "the training command; rename the column"
        )
    if len(columns) > MAX_COLUMNS:
        raise UploadError(
            f"{path.name}: {len(columns)} columns, more than the {MAX_COLUMNS} this page lists; train on it "
            "with `agnews train --data` and its --text-column and --label-column"
        )
    return columns


def guess_columns(columns: list[str]) -> tuple[str, str | None]:
    """The text and label columns a header most likely means: `text` (any case), else the first
    column; `label`, `category` or `class`, else none (the person chooses)."""
    text = next((c for c in columns if c.casefold() in TEXT_NAMES), columns[0])
    label = next((c for c in columns if c.casefold() in LABEL_NAMES), None)
    return text, label


@dataclass(frozen=True)
class Checked:
    """What `agnews data check --json` said (its keys: `agnews.dataset.check`): whether training would
    read the data, the refusal, the classes in order with each split's counts, the warnings."""

    ok: bool
    refusal: str | None
    classes: tuple[str, ...]
    splits: tuple[tuple[str, int, dict[str, int]], ...]  # (name, rows, class counts)
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, report: dict[str, Any]) -> Checked:
        dataset = report.get("dataset") or {}
        return cls(
            ok=bool(report["ok"]),
            refusal=report.get("refusal"),
            classes=tuple(dataset.get("class_names") or ()),
            splits=tuple((s["name"], int(s["rows"]), dict(s["class_counts"])) for s in report["splits"]),
            warnings=tuple(report.get("warnings") or ()),
        )

    def training_rows(self) -> int:
        return next((rows for name, rows, _ in self.splits if name == "train"), 0)

    def rows(self) -> int:
        """The rows of every split read (what the run's predictions and embeddings grow with)."""
        return sum(rows for _, rows, _ in self.splits)


def data_args(test: Path, text_columns: list[str], label_column: str) -> list[str]:
    """The data options `agnews data check` and `agnews train` both take after the training file
    (the one a positional PATH, the other `--data`): the test file and the columns (never one that
    would be read as an option: `header` refuses such files)."""
    if any(column.startswith("-") for column in [*text_columns, label_column]):
        raise UploadError("a column name starts with '-'; rename the column")
    return ["--test-file", str(test), "--text-column", *text_columns, "--label-column", label_column]


def check(train: Path, test: Path, text_columns: list[str], label_column: str, root: Path) -> Checked:
    """`agnews data check ... --json` on the kept files, in a niced child process. UploadError with the
    command's own words when it says nothing parseable (a server path in them named from `root`)."""
    options = data_args(test, text_columns, label_column)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "agnews", "data", "check", str(train), *options, "--json"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CHECK_SECONDS,
            preexec_fn=child_setup(),
        )
    except subprocess.TimeoutExpired:
        raise UploadError(f"checking the data took over {CHECK_SECONDS} s and was stopped") from None
    try:
        return Checked.of(json.loads(done.stdout))
    except (ValueError, KeyError, TypeError):
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise UploadError(f"the data check failed: {shown_text(reason, root)}") from None
