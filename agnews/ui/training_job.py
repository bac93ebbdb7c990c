"""A training started from the page: `agnews train` in a child process, watched, capped, cancellable.

The page never imports training code: it runs the command line's own `agnews train` through
`agnews.ui.child_process.Command` (niced, ended with the app) and follows it through its event log
(`agnews.events`): the stage, the optimizer step of all the steps, the validation accuracy of each
epoch. What the page adds around the command:

- one heavy child at a time (`agnews.ui.heavy_work`): a training waits for the background analysis
  or an evaluation to finish, and they for it; a second training asked for meanwhile is refused
  with the running one's progress;
- free disk checked before the child starts, against a generous estimate of what the run and its
  checkpoints take (`agnews.rundir.estimates`);
- a memory cap: a watchdog thread reads the child's resident memory (with its own children's) every
  second and kills them all beyond the cap, saying so; and an optional wall-time cap, beyond which
  the training is stopped as a cancel stops it;
- what cancelling, a crash or a stopped app leave: `agnews train` creates the run only once trained
  and evaluated, staged and renamed into place, so no half run ever exists under `runs/NAME`; the
  checkpoints stay in `runs/.NAME.checkpoints`, from which the same command with `--resume`
  continues (`TrainingJob.resumed`). The page records its command beside them (`PAGE_RECORD`), so
  an app started again finds the trainings it was stopped in (`interrupted`) and resumes them
  (`TrainingJob.from_record`), with the wall time already spent counted against the cap.

The job is process-wide (`start`, `latest`): every browser session sees the one training and its
progress, and the page's tab asks here rather than keeping a job of its own.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from agnews.config import PRESETS
from agnews.events import TRAIN, EventReader
from agnews.formatting import megabytes
from agnews.installed_models import ModelError, bundled_minilm_path
from agnews.rundir.estimates import EstimateError, weights_bytes
from agnews.rundir.files import RunError, read_json, write_json
from agnews.rundir.parts import FAMILY_NAME, MANIFEST
from agnews.split_weights import MPNET, SplitWeightsError, part_files
from agnews.ui import heavy_work
from agnews.ui.child_process import Command
from agnews.ui.scratch import scratch

WATCH_SECONDS = 1.0  # how often the watchdog reads the child's memory and exit status
MEMORY_SHARE = 0.5  # of the machine's memory, the default cap on a training's resident memory
# In a training's checkpoint folder: the page's command, its disk estimate, the caps it was started
# under and the wall time spent so far, so that an app started again can offer to resume it.
PAGE_RECORD = "page-training.json"
RECORD_SECONDS = 30.0  # how often the record's wall time is brought up to date while it trains

# What a job is doing, as `TrainingStatus.state` says it.
RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"


class TrainingRefused(Exception):
    """A training that cannot start now; the message says why and what to do (shown on the page)."""


@dataclass(frozen=True)
class TrainingCaps:
    """What one training from the page may take. None: no cap of that kind (a local page's own
    person decides). The page states them all."""

    max_rows: int | None = None  # training rows (the recipe's row cap is lowered to it)
    max_epochs: float | None = None
    max_seconds: float | None = None  # wall time, after which the training is stopped (resumable)
    memory_bytes: int = field(default_factory=lambda: int(psutil.virtual_memory().total * MEMORY_SHARE))
    upload_quota_bytes: int = 200 * 10**6  # every upload kept beside the runs, together
    # Whether only the browser session that started a training may cancel it (on a public page,
    # strangers share the one training).
    starter_cancels: bool = False

    @classmethod
    def public(cls) -> TrainingCaps:
        """The caps of a public page started with `--allow-training`: minutes on a small CPU."""
        return cls(max_rows=5000, max_epochs=3.0, max_seconds=30 * 60, starter_cancels=True)

    def covers(self, rows: int | None, epochs: float | None) -> bool:
        """Whether a training started under caps of `rows` and `epochs` (None: no cap) stays within
        these: a training begun on a local page is not resumed under a public page's caps."""
        return all(
            mine is None or (theirs is not None and theirs <= mine)
            for mine, theirs in ((self.max_rows, rows), (self.max_epochs, epochs))
        )


@dataclass(frozen=True)
class Recipe:
    """A way to train the page offers: what it is called there, the options `agnews train` gets for
    it, its base model (as `--base-model` names it) with the float32 size of its weights (for the disk
    estimate), and its own epochs and cap on training rows, which a page's caps may lower."""

    label: str
    args: tuple[str, ...]
    base_model: str
    weights: int
    epochs: float
    max_rows: int | None

    @classmethod
    def preset(cls, name: str, label: str, weights: int) -> Recipe:
        settings = PRESETS[name]
        return cls(
            label, ("--preset", name), settings["base_model"], weights, settings["epochs"],
            settings["max_train_samples"],
        )  # fmt: skip

    def epochs_under(self, caps: TrainingCaps) -> float:
        """The epochs it trains for under `caps`."""
        return self.epochs if caps.max_epochs is None else min(self.epochs, caps.max_epochs)

    def rows_under(self, caps: TrainingCaps) -> int | None:
        """Its cap on training rows under `caps` (None: every row)."""
        limits = [limit for limit in (self.max_rows, caps.max_rows) if limit is not None]
        return min(limits) if limits else None

    def capped_args(self, caps: TrainingCaps) -> list[str]:
        """The recipe's options, with its epochs and training rows lowered to `caps` where over them."""
        args = list(self.args)
        if self.epochs_under(caps) != self.epochs:
            args += ["--epochs", str(self.epochs_under(caps))]
        if self.rows_under(caps) != self.max_rows:
            args += ["--max-train-samples", str(self.rows_under(caps))]
        return args


def offered_recipes() -> list[Recipe]:
    """The presets this machine can train: quick (the bundled MiniLM), and mpnet where its weights
    are installed (`agnews.split_weights`); none where even MiniLM is missing."""
    recipes = []
    try:
        minilm = weights_bytes(bundled_minilm_path())
        recipes.append(Recipe.preset("quick", "quick: MiniLM, minutes on a CPU", minilm))
    except (ModelError, EstimateError):  # not installed, or installed damaged: not offered
        pass
    try:  # the parts are one zip of the float32 weights (and a tokenizer): its size bounds theirs
        parts = sum(path.stat().st_size for path in part_files(MPNET))
        recipes.append(Recipe.preset("mpnet", "mpnet: MPNet-base, slower, more accurate", parts))
    except SplitWeightsError:
        pass
    return recipes


def checkpoint_dir(runs_root: Path, name: str) -> Path:
    """Where the training of run `name` keeps its checkpoints (as `agnews train` does by default)."""
    return runs_root / f".{name}.checkpoints"


def has_checkpoints(runs_root: Path, name: str) -> bool:
    """Whether an interrupted training of `name` left checkpoints to resume from."""
    return any(checkpoint_dir(runs_root, name).glob("checkpoint-*"))


def interrupted(runs_root: Path) -> list[str]:
    """The trainings a page started that stopped before their run existed and left checkpoints to
    resume from (cancelled, crashed, capped, or the app stopped), the most recent first."""
    found = []
    for record in runs_root.glob(f".*.checkpoints/{PAGE_RECORD}"):
        name = record.parent.name.removeprefix(".").removesuffix(".checkpoints")
        if is_interrupted(runs_root, name):
            found.append((record.stat().st_mtime, name))
    return [name for _, name in sorted(found, reverse=True)]


def is_interrupted(runs_root: Path, name: str) -> bool:
    """Whether `name` is one of the `interrupted` trainings: a page recorded it, its run does not
    exist, and it left checkpoints."""
    return (
        FAMILY_NAME.fullmatch(name) is not None
        and (checkpoint_dir(runs_root, name) / PAGE_RECORD).is_file()
        and not (runs_root / name).exists()
        and has_checkpoints(runs_root, name)
    )


def check_name(runs_root: Path, name: str) -> str:
    """`name` stripped, if a new run may take it; TrainingRefused saying why not. Names are checked as
    every run and family name is (`FAMILY_NAME`: a plain folder name, never a path)."""
    name = name.strip()
    if not FAMILY_NAME.fullmatch(name):
        raise TrainingRefused(
            "Name the new run with letters, digits, '.', '-' or '_' (at most 100, starting with a letter "
            "or digit)."
        )
    if (runs_root / name).exists():
        raise TrainingRefused(f"A run named {name} exists already: choose another name.")
    if has_checkpoints(runs_root, name):
        raise TrainingRefused(
            f"An interrupted training of {name} left checkpoints: resume it, or choose another name."
        )
    return name


@dataclass(frozen=True)
class TrainingStatus:
    """Where a training stands, for the page: `state` (RUNNING, DONE, CANCELLED, FAILED), the stage
    running (None between stages), the optimizer step of all the steps while it fine-tunes, seconds
    since it started and, from the step rate, still to go; the validation accuracy of each epoch so
    far; the run once it exists (`run_ready`: it opens, whatever the stages after it still do);
    and why it stopped, in the command's own words or the watchdog's."""

    name: str
    state: str
    stage: str | None
    step: int | None
    steps: int | None
    elapsed: float
    remaining: float | None
    validation: tuple[tuple[int, float], ...]
    run_ready: bool
    resumable: bool
    error: str = ""


class TrainingJob:
    """One `agnews train ARGS --out RUNS/NAME --checkpoint-dir RUNS/.NAME.checkpoints`, started by
    `start`. `args` are the training options after the command's name (data, preset, seed, ...);
    `disk_bytes`, the disk it may fill beside the runs (`agnews.rundir.estimates.disk_estimate_bytes`),
    must be free before it starts."""

    def __init__(
        self,
        runs_root: Path,
        name: str,
        args: list[str],
        *,
        disk_bytes: int,
        caps: TrainingCaps,
        owner: str = "",
        spent: float = 0.0,
    ) -> None:
        self.runs_root = runs_root
        self.name = name
        self.args = list(args)
        self.disk_bytes = disk_bytes
        self.caps = caps
        self.owner = owner  # the browser session that started it ("" where unknown)
        self.spent = spent  # wall seconds the earlier tries of this training took (a resumed one)
        self.out = runs_root / name
        self._command: Command | None = None
        self._reader: EventReader | None = None
        self._folder: Path | None = None  # the job's log and events (the app's scratch folder)
        self._started = time.monotonic()
        self._ended: float | None = None
        self._cancelled = False
        self._stopped_by = ""  # the watchdog's reason, where it stopped the child
        self._first_step: tuple[int, float] | None = None  # (step, seconds) of the first step event seen
        self._lock = threading.Lock()

    # -- what the heavy slot asks of its holder (`heavy_work.Worker`) -------------------------------

    def running(self) -> bool:
        """True from its making until the child has ended (a job being started holds the slot before its
        child exists), or until it is refused."""
        return self._ended is None

    def progress(self) -> str:
        """One line for whoever waits on the heavy slot: "step 12 of 40", "stage embed"."""
        now = self.status()
        if now.step is not None and now.steps:
            return f"step {now.step} of {now.steps}"
        return f"stage {now.stage}" if now.stage else "starting"

    # -- starting and stopping ----------------------------------------------------------------------

    def command_args(self) -> list[str]:
        """The whole `agnews` command line of this job (after `python -m agnews`)."""
        folder = checkpoint_dir(self.runs_root, self.name)
        return ["train", *self.args, "--out", str(self.out), "--checkpoint-dir", str(folder)]

    @classmethod
    def from_record(cls, runs_root: Path, name: str, caps: TrainingCaps, *, owner: str = "") -> TrainingJob:
        """The interrupted training `name` as this page (or an earlier start of the app) recorded it,
        continued from its checkpoints (not started: `start` it); TrainingRefused where there is
        nothing to resume, or where it was started under looser caps than `caps`."""
        if not is_interrupted(runs_root, name):
            raise TrainingRefused(f"There is no interrupted training of {name} to resume.")
        try:
            record = read_json(checkpoint_dir(runs_root, name) / PAGE_RECORD)
            args, disk, spent = record["args"], record["disk_bytes"], record["spent_seconds"]
            rows, epochs = record["caps"]["max_rows"], record["caps"]["max_epochs"]
            if not (isinstance(args, list) and all(isinstance(arg, str) for arg in args)):
                raise TypeError("args")
            job = cls(
                runs_root, name, args, disk_bytes=int(disk), caps=caps, owner=owner, spent=float(spent)
            ).resumed(owner=owner)
            within = caps.covers(rows, epochs)
        except (RunError, KeyError, TypeError, ValueError) as exc:
            raise TrainingRefused(
                f"The record of {name}'s training cannot be read ({type(exc).__name__}): resume it with "
                "`agnews train ... --resume` on the machine, or delete its checkpoint folder."
            ) from None
        if not within:
            raise TrainingRefused(
                f"{name} was started with more rows or epochs than this page allows: resume it where it "
                "was started (a local page or `agnews train ... --resume`)."
            )
        return job

    def _record(self, spent: float) -> None:
        """Write (atomically) what resuming this training after an app restart needs."""
        caps = {"max_rows": self.caps.max_rows, "max_epochs": self.caps.max_epochs}
        record = {
            "args": self.args,
            "disk_bytes": self.disk_bytes,
            "spent_seconds": round(spent, 1),
            "caps": caps,
        }
        folder = checkpoint_dir(self.runs_root, self.name)
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / PAGE_RECORD, record)

    def _forget_record(self) -> None:
        """Remove the record, and the checkpoint folder where that leaves it empty (`agnews train`
        removes what it wrote there once the run exists)."""
        folder = checkpoint_dir(self.runs_root, self.name)
        (folder / PAGE_RECORD).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if now empty

    def _begin(self) -> None:
        """Take the heavy slot, check the disk, start the child and its watchdog; TrainingRefused
        (the slot given back) when it cannot start now, or when earlier tries used the page's time."""
        if self.out_of_time():
            self._ended = time.monotonic()
            raise TrainingRefused(
                f"{self.name} has used this page's {self._cap_minutes()} minutes of training time over its "
                "tries: its checkpoints are kept, so continue it where there is no cap (a local page, or "
                "`agnews train ... --resume` on the machine)."
            )
        if not heavy_work.acquire(f"training {self.name}", self):
            self._ended = time.monotonic()  # it never ran: it holds nothing, and never will
            holder = heavy_work.busy()
            what, progress = holder if holder is not None else ("another job", "")
            raise TrainingRefused(
                f"Wait: {what} is running{f' ({progress})' if progress else ''}; one heavy job runs at "
                "a time. Its progress shows here; try again when it is done."
            )
        try:
            self._check_disk()
            self.runs_root.mkdir(parents=True, exist_ok=True)
            self._record(self.spent)
            self._folder = Path(tempfile.mkdtemp(prefix=f"training-{self.name}-", dir=scratch().root))
            self._command = Command(self.command_args(), self._folder / "train.log")
            self._reader = EventReader(self._command.events)
            self._started = time.monotonic()
        except BaseException:
            self._ended = time.monotonic()
            heavy_work.release(self)
            raise
        threading.Thread(target=self._watch, name=f"watch {self.name}", daemon=True).start()

    def _check_disk(self) -> None:
        free = shutil.disk_usage(self.runs_root if self.runs_root.exists() else self.runs_root.parent).free
        if free < self.disk_bytes:
            raise TrainingRefused(
                f"Not enough free disk: this training may take up to {megabytes(self.disk_bytes)} beside "
                f"the runs (its run and checkpoints, estimated generously), and {megabytes(free)} is free. "
                "Remove runs or checkpoints you no longer need."
            )

    def _watch(self) -> None:
        """Until the child ends: kill it beyond the memory cap, stop it beyond the wall-time cap; then
        give the slot back."""
        command = self._command
        assert command is not None
        recorded = time.monotonic()
        try:
            while command.returncode() is None:
                if time.monotonic() - recorded > RECORD_SECONDS:  # an app killed outright loses little
                    with contextlib.suppress(OSError):
                        self._record(self.spent_in_all())
                    recorded = time.monotonic()
                used = resident_bytes(command.process.pid)
                if used > self.caps.memory_bytes:
                    self._stopped_by = (
                        f"stopped: it used {megabytes(used)} of memory, over this page's cap of "
                        f"{megabytes(self.caps.memory_bytes)}; the checkpoints saved so far are kept"
                    )
                    kill_tree(command.process.pid)
                elif self.out_of_time():
                    self._stopped_by = (
                        f"stopped after {self._cap_minutes()} minutes in all, this page's cap on a "
                        "training's time; its checkpoints are kept, to continue where there is no cap (a "
                        "local page, or `agnews train ... --resume` on the machine)"
                    )
                    command.stop()
                time.sleep(WATCH_SECONDS)
        finally:
            command.process.wait()
            try:
                if has_checkpoints(self.runs_root, self.name) and not (self.out / MANIFEST).is_file():
                    self._record(self.spent_in_all())
                else:  # made, or nothing to resume from: the record would only keep its upload
                    self._forget_record()
            except OSError:  # a full disk: the record keeps the time counted last
                pass
            self._ended = time.monotonic()
            heavy_work.release(self)

    def cancel(self) -> None:
        """Stop the training (SIGINT, as Ctrl-C: checkpoints kept, no run created; killed if it has
        not stopped within `agnews.processes.STOP_SECONDS`). A run already created stays."""
        if self._command is None or not self.running():
            return
        self._cancelled = True
        self._command.stop()

    def resumed(self, *, owner: str = "") -> TrainingJob:
        """The same training continued from its checkpoints (not started: `start` it), its wall time
        so far counted against the page's cap."""
        args = self.args if "--resume" in self.args else [*self.args, "--resume"]
        spent = self.spent_in_all()
        return TrainingJob(
            self.runs_root,
            self.name,
            args,
            disk_bytes=self.disk_bytes,
            caps=self.caps,
            owner=owner,
            spent=spent,
        )

    def may_steer(self, session: str) -> bool:
        """Whether browser session `session` may cancel or resume it: any on a local page; on a public
        page, only the one that started it (`TrainingCaps.starter_cancels`). A training found on disk
        after a restart has no such session: whoever resumes it becomes its owner."""
        return not self.caps.starter_cancels or (bool(self.owner) and session == self.owner)

    def discard(self) -> None:
        """Remove the job's log and events (the next job replaces this one)."""
        if self._folder is not None and not self.running():
            shutil.rmtree(self._folder, ignore_errors=True)

    # -- what the page shows ------------------------------------------------------------------------

    def elapsed(self) -> float:
        """Wall seconds of this try (since its child started)."""
        return (self._ended or time.monotonic()) - self._started

    def out_of_time(self) -> bool:
        """Whether the page's cap on a training's wall time is used up by this try and earlier ones."""
        return self.caps.max_seconds is not None and self.spent_in_all() >= self.caps.max_seconds

    def _cap_minutes(self) -> int:
        return round((self.caps.max_seconds or 0) / 60)

    def spent_in_all(self) -> float:
        """Wall seconds of this try and the earlier ones it resumes: what the page's cap counts."""
        return self.spent + (self.elapsed() if self._command is not None else 0.0)

    def status(self) -> TrainingStatus:
        """Where it stands now (the events appended since the last look are read)."""
        summary = None
        if self._reader is not None:  # two sessions' timers may ask at once: the reader locks
            self._reader.read()
            summary = self._reader.summary
        run_ready = (self.out / MANIFEST).is_file()
        state = self._state(run_ready)
        stage = summary.stage if summary is not None else None
        latest = summary.progress if summary is not None else None
        step = steps = remaining = None
        if latest is not None and stage == TRAIN and latest.what == TRAIN and latest.n is not None:
            step, steps = latest.n, latest.total
            with self._lock:
                # The rate is measured from the first step seen: loading the data and the model
                # come before it, and a resumed training starts above step 0.
                self._first_step = self._first_step or (latest.n, latest.seconds)
                first_n, first_seconds = self._first_step
            remaining = _remaining(latest.n - first_n, latest.total - first_n, latest.seconds - first_seconds)
        error = ""
        if state == FAILED:
            error = self._stopped_by or (self._command.error() if self._command is not None else "")
        return TrainingStatus(
            name=self.name,
            state=state,
            stage=stage if state == RUNNING else None,
            step=step if state == RUNNING else None,
            steps=steps if state == RUNNING else None,
            elapsed=self.elapsed(),
            remaining=remaining if state == RUNNING else None,
            validation=tuple(summary.validation) if summary is not None else (),
            run_ready=run_ready,
            resumable=state != RUNNING
            and not run_ready
            and not self.out_of_time()
            and has_checkpoints(self.runs_root, self.name),
            error=error,
        )

    def _state(self, run_ready: bool) -> str:
        if self.running():
            return RUNNING
        if self._cancelled:
            return CANCELLED
        returncode = self._command.returncode() if self._command is not None else None
        return DONE if returncode == 0 and run_ready and not self._stopped_by else FAILED


def _remaining(done: int | None, total: int | None, seconds: float) -> float | None:
    """Seconds still to go of `total` steps at the rate `done` steps took `seconds`; None before a
    step is done."""
    if not done or total is None or seconds <= 0:
        return None
    return (total - done) * seconds / done


def resident_bytes(pid: int) -> int:
    """The resident memory of process `pid` and of all its descendants (0 once it is gone)."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    used = 0
    for member in family:
        try:
            used += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return used


def kill_tree(pid: int) -> None:
    """SIGKILL process `pid` and its descendants, children first (a parent killed first could leave
    them to be adopted, out of reach)."""
    try:
        process = psutil.Process(pid)
        family = [*process.children(recursive=True), process]
    except psutil.NoSuchProcess:
        return
    for member in family:
        try:
            member.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            continue


_latest: TrainingJob | None = None
_latest_lock = threading.Lock()


def latest() -> TrainingJob | None:
    """The app's latest training, running or ended (every session shows it); None before any."""
    return _latest


def start(job: TrainingJob) -> TrainingJob:
    """Start `job` as the app's training (the previous one's files dropped); TrainingRefused while
    a heavy job runs (this app's training included) or when the disk is too full."""
    global _latest
    with _latest_lock:
        job._begin()
        previous, _latest = _latest, job
    if previous is not None:
        previous.discard()
    return job
