"""Every change to a run is atomic: creation and later edits alike.

An edit stages a copy of the run beside it (hard links: no bytes are copied, and since a part is
only ever replaced by a new file, never rewritten in place, the run's own files are never touched;
a run pulled from the Hub, a folder of symlinks into the Hugging Face cache, stays one), writes the
changed parts and a new manifest into the copy, then exchanges the copy with the run in one
`renameat2(RENAME_EXCHANGE)` call. After a SIGKILL at any moment, a reader sees the old run or the
new one, never a mix. One writer at a time: a lock file beside the run, held with `flock`, which
the kernel releases when its process dies.

`fault_point(name)` marks the moments the fault tests kill a writer at (AGNEWS_FAULT=name).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import functools
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agnews import __version__
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.declarations import Stage
from agnews.rundir.files import RunBusyError, RunError, check_writable, fingerprint, write_atomically
from agnews.rundir.parts import MANIFEST, Manifest, PartRecord, StageWarning

FAULT_ENV = "AGNEWS_FAULT"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def fault_point(name: str) -> None:
    """The fault tests' hook: when AGNEWS_FAULT names this point, the process signals itself here,
    with SIGKILL, or with the signal named after an `@` (`train:checkpoint-saved@SIGINT`).

    SIGINT stands for a Ctrl-C at a terminal, where Python's KeyboardInterrupt handler is in place; a
    process started from a background job inherits SIGINT as ignored and Python then installs no
    handler, so the handler is put back first: the fault acts the same however its parent was started.
    """
    point, _, signal_name = os.environ.get(FAULT_ENV, "").partition("@")
    if point != name:
        return
    chosen = getattr(signal, signal_name or "SIGKILL")
    if chosen == signal.SIGINT:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    os.kill(os.getpid(), chosen)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@contextlib.contextmanager
def run_lock(run: Path, *, wait: bool = False) -> Iterator[None]:
    """Hold the run's writer lock (`.NAME.lock` beside it); a second writer is told who holds it, and
    with `wait` says so on stderr and waits for it (the app's background analyze holds it for minutes)."""
    lock = run.parent / f".{run.name}.lock"
    handle = lock.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            busy = f"{run}: another agnews process ({holder}) is changing this run"
            if not wait:
                raise RunBusyError(f"{busy}; wait for it to finish") from None
            print(f"{busy}; waiting for it to finish", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def _exchange(a: Path, b: Path) -> None:
    """Swap two directory entries atomically (Linux renameat2); elsewhere two renames, which leave
    a window in which `b` is absent (never a mixed run)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        errno = ctypes.get_errno()
        if errno not in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: no exchange on this filesystem
            raise OSError(errno, os.strerror(errno), str(b))
    aside = a.with_name(a.name + ".aside")
    os.replace(b, aside)
    os.replace(a, b)
    os.replace(aside, a)


class RunEditor:
    """A staged copy of a run: write parts into it, then `edit_run` / `create_run` swap it in.

    Each written part is fingerprinted and recorded in the manifest together with the fingerprints
    of the parts it was made from, which must already be in the staged run. Inside a stage (`begin`)
    those are the stage's declared inputs and the settings it ran with, filled in here, not by the
    stage; a command that writes parts outside any stage (`agnews train`, `agnews migrate`) names them.
    """

    def __init__(self, staged: Path, manifest: Manifest, catalog: Catalog = CATALOG) -> None:
        self.path = staged
        self.manifest = manifest
        self.catalog = catalog  # the parts it may write, and their makers
        self._stage: Stage | None = None
        self._settings: dict[str, Any] = {}
        self._written: list[str] = []  # the parts the running stage has recorded so far

    def file(self, name: str) -> Path:
        """Where a part's file goes in the staged run."""
        return self.path / name

    def begin(self, stage: Stage, settings: Mapping[str, Any] | None = None) -> None:
        """Write the following parts as `stage`'s, with its `settings` values recorded beside them."""
        self._stage = stage
        self._settings = dict(settings or {})
        self._written = []

    def usable(self, name: str) -> bool:
        """Whether the staged run has `name`, made from the current versions of its own inputs."""
        return name in self.manifest.parts and not self.manifest.stale_inputs(name)

    def inputs(self) -> tuple[str, ...]:
        """What the running stage's next part is made from: the parts it needs, those it reads when
        usable, and its own parts written before (metrics from predictions, baseline from embeddings)."""
        if self._stage is None:
            raise RunError(f"{self.path}: a part written outside a stage must name what it was made from")
        optional = tuple(name for name in self.catalog.reads(self._stage) if self.usable(name))
        return (*self._stage.needs, *optional, *self._written)

    def record(
        self, name: str, made_from: tuple[str, ...] | None = None, *, identity: str | None = None
    ) -> None:
        """Register part `name`, its files already in the staged run, with the fingerprints of its
        inputs (`made_from`; default: the running stage's `inputs()`). `write` calls it; on its own it
        adopts files that are there already (`agnews migrate` adopting a legacy run's model).

        `identity` replaces the content hash as the part's fingerprint where a part's bytes can
        differ by float noise without its meaning changing (predictions: the same model on the same
        rows), so that parts made from it are not needlessly reported stale.
        """
        part = self.catalog.part(name)
        made_from = self.inputs() if made_from is None else made_from
        missing = [source for source in made_from if source not in self.manifest.parts]
        if missing:
            raise RunError(f"{self.path}: part {name!r} is made from {missing}, which the run does not have")
        files = [self.path / f for f in part.files]
        absent = [f.name for f in files if not f.exists()]
        if absent:
            raise RunError(f"{self.path}: part {name!r} lacks {absent}")
        stage = self.catalog.maker(name)
        self.manifest.parts[name] = PartRecord(
            stage=stage.name,
            schema_version=part.schema_version,
            fingerprint=identity or _fingerprint_all(files),
            made_from={source: self.manifest.parts[source].fingerprint for source in made_from},
            created=_now(),
            settings=self._settings if self._stage is stage else {},
        )
        if self._stage is stage:
            self._written.append(name)
        fault_point(f"part:{name}")

    def write(
        self,
        name: str,
        *values: Any,
        made_from: tuple[str, ...] | None = None,
        identity: str | None = None,
    ) -> None:
        """Write part `name`, one value per file in the part's order, and record it: the one way a
        part is written.

        A value is the file's content as its declaration reads it back (a schema dataclass for a
        JSON file, a frame for a table, arrays for an embeddings file), or a function
        `write(temporary path)` for a file its own library writes (the model folder, an ONNX graph).
        Each file is written beside its place and renamed into it, a new file: the staged copy's old
        file is a hard link to the run's own, which writing in place would change under readers.
        """
        write_part_files(self.path, self.catalog.part(name), *values)
        self.record(name, made_from, identity=identity)

    def remove(self, name: str) -> None:
        """Drop a part (its files, the folders they leave empty, its manifest entry) from the staged run."""
        for file in self.catalog.part(name).files:
            path = self.file(file)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            for folder in path.relative_to(self.path).parents[:-1]:  # a family member's folders
                with contextlib.suppress(OSError):  # not empty (another member's), or already gone
                    (self.path / folder).rmdir()
        self.manifest.parts.pop(name, None)

    def warn(self, stage: str, message: str) -> None:
        """Record that `stage` failed (replacing its earlier warning, if any)."""
        self.clear_warning(stage)
        self.manifest.warnings.append(StageWarning(stage=stage, message=message, created=_now()))

    def clear_warning(self, stage: str) -> None:
        self.manifest.warnings = [w for w in self.manifest.warnings if w.stage != stage]

    def _write_manifest(self) -> None:
        self.manifest.agnews_version = __version__
        parts.write_json_part(self.path / MANIFEST, self.manifest)


def write_part_files(folder: Path, part: parts.Part, *values: Any) -> None:
    """Write `part`'s files into `folder` as a run holds them, one value per file (as
    `RunEditor.write` takes them), without recording them: the editor records them in its manifest;
    `agnews cross-domain --out` keeps a result outside any run, readable by the same readers."""
    if len(values) != len(part.files):
        raise ValueError(f"part {part.name!r} has the files {list(part.files)}: one value each")
    for file, spec, value in zip(part.files, part.formats, values, strict=True):
        path = folder / file
        path.parent.mkdir(parents=True, exist_ok=True)
        write = value if callable(value) else functools.partial(spec.write, value)
        if path.is_dir() and not path.is_symlink():  # a folder is replaced whole, never merged
            shutil.rmtree(path)
        write_atomically(path, write)


def _fingerprint_all(files: list[Path]) -> str:
    return fingerprint(files[0]) if len(files) == 1 else "+".join(fingerprint(f)[:16] for f in files)


def _hard_link_copy(source: Path, target: Path) -> None:
    """Copy `source` to `target` as hard links (symlinks stay symlinks; no bytes are copied)."""
    shutil.copytree(source, target, symlinks=True, copy_function=os.link, dirs_exist_ok=True)


def _sync_tree(folder: Path) -> None:
    """Flush the staged files to disk before the swap makes them the run."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove_leftovers(run: Path) -> None:
    """Staging folders of earlier edits that were killed (the lock says none is running now)."""
    for leftover in run.parent.glob(f".{run.name}.edit-*"):
        shutil.rmtree(leftover, ignore_errors=True)


@contextlib.contextmanager
def edit_run(path: str | Path, *, wait: bool = False, catalog: Catalog = CATALOG) -> Iterator[RunEditor]:
    """Change an existing run atomically: yields a `RunEditor` over a staged copy, swapped in on success.
    `catalog`: the parts the edit may write (a test's own list of analyses passes its own).

    On an exception nothing changes (the staged copy is removed) and the exception propagates.
    `wait`: while another process edits the run, wait for it instead of raising `RunBusyError`.
    """
    run = Path(path).expanduser().absolute()
    if not run.is_dir():
        raise RunError(f"{run}: run directory not found")
    with run_lock(run, wait=wait):
        _remove_leftovers(run)
        manifest = parts.read_manifest(run)
        staged = Path(tempfile.mkdtemp(dir=run.parent, prefix=f".{run.name}.edit-"))
        try:
            _hard_link_copy(run, staged)
            staged.chmod(run.stat().st_mode & 0o7777)
            fault_point("edit:staged")
            editor = RunEditor(staged, manifest, catalog)
            yield editor
            editor._write_manifest()
            _sync_tree(staged)
            fault_point("edit:before-swap")
            _exchange(staged, run)
            fault_point("edit:after-swap")
        finally:
            shutil.rmtree(staged, ignore_errors=True)


@contextlib.contextmanager
def create_run(path: str | Path, *, overwrite: bool = False) -> Iterator[RunEditor]:
    """Build a new run in a staged folder and move it into place on success (replacing an existing
    run only with `overwrite`, by the same atomic exchange as an edit)."""
    run = Path(path).expanduser().absolute()
    if run.exists() and not overwrite:
        raise RunError(f"{run}: already exists; choose another --out or pass --overwrite")
    check_writable(run.parent)
    with run_lock(run):
        _remove_leftovers(run)
        staged = Path(tempfile.mkdtemp(dir=run.parent, prefix=f".{run.name}.edit-"))
        staged.chmod(0o755)
        try:
            editor = RunEditor(staged, Manifest())
            yield editor
            editor._write_manifest()
            _sync_tree(staged)
            fault_point("edit:before-swap")
            if run.exists():
                _exchange(staged, run)
            else:
                os.replace(staged, run)
            fault_point("edit:after-swap")
        finally:
            shutil.rmtree(staged, ignore_errors=True)
