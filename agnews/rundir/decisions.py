"""Decisions people make on rows (relabel, remove, keep as is), kept beside the runs and applied later.

A decision belongs to the data, not to one run: it is filed under the content hash of the split the
row came from (`DataInfo.split_hashes`), so every run trained on the same rows shows it, and a run
on other rows never does. Rows are named by a key that stays put: a training row by its text hash
(the training split is re-drawn from the source on every run), a test row by its row id (the official
test file's order is fixed).

The store is a log of events, one JSON object per line: a decision, or the undoing of one. What stands is
derived from the log (`standing`), so an undo reveals the decision it replaced, and two people's
differing decisions on one row are both kept and shown as a conflict (`conflicts`). The log is an audit
trail: events are only ever appended (an event costs the same at the 10,000th as at the first), each
carries the id of the action it was part of (`batch`): a bulk action (`decide_all`) is one batch written
in one append, and `undo_step` takes a person's last batch back by appending one undo event per decision
in it (the log is never rewritten, so the audit trail keeps both). Lines are written ASCII-only
(`ensure_ascii`): a note's U+2028, U+0085, CR or NUL travels escaped, and a line ends only at "\n", which
is the only separator the reader splits on. A line that is not an event (a hand edit, a crash mid-write)
is reported and skipped, never blocking the rest. Writers take the store's own lock exclusively and
readers share it (never a run's writer lock: a background analyze may hold that for minutes), so no
reader sees half a line.

`agnews train --corrections FILE` reads the CSV `export_frame` writes (`read_corrections`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from agnews.csv_cells import restore
from agnews.line_log import Fresh, Tail, append, encode, read_fresh

if TYPE_CHECKING:
    from agnews.rundir.run import Run

TRAIN, TEST = "train", "test"
SPLITS = (TRAIN, TEST)
RELABEL, REMOVE, KEEP = "relabel", "remove", "keep"
ACTIONS = (RELABEL, REMOVE, KEEP)
UNDO = "undo"
MAX_NOTE_CHARS = 1000
DECISIONS_FOLDER = ".decisions"  # beside the runs: hidden, so no run listing mistakes it for a run
LOCAL_USER = "local"  # who decided on a page without a login
CSV_COLUMNS = ("split", "split_hash", "key", "text", "given", "action", "label", "note", "who", "time")


class DecisionError(ValueError):
    """A decision or a corrections file that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Decision:
    """One event of the log: a decision on a row, or (`action == UNDO`) the undoing of `undoes`."""

    id: str
    split: str
    split_hash: str
    key: str  # text hash (training rows) or row id (test rows), as text
    action: str
    label: str | None  # the class a relabel gives
    given: str  # the row's label when the decision was made
    text: str  # the row's text, so an export reads without the run beside it
    note: str
    who: str
    time: str
    undoes: str | None = None
    batch: str | None = None  # the action it was part of: one id for every event of a bulk action

    @property
    def row(self) -> tuple[str, str, str]:
        return self.split, self.split_hash, self.key

    @property
    def verdict(self) -> tuple[str, str | None]:
        """What the decision says about the row, whoever made it and when."""
        return self.action, self.label


# The fields an event must hold as text; the others may be null.
REQUIRED = tuple(f.name for f in fields(Decision) if f.name not in ("label", "undoes", "batch"))


def decide(
    split: str,
    split_hash: str,
    key: str,
    *,
    action: str,
    given: str,
    text: str,
    label: str | None = None,
    classes: Sequence[str] = (),
    note: str = "",
    who: str | None = None,
    batch: str | None = None,
) -> Decision:
    """A new decision, checked: a known split and action, a relabel to a class of `classes` (the
    run's) other than the given one, a note of bounded length. `batch`: the id of the bulk action it
    is part of (default: an action of its own)."""
    if split not in SPLITS:
        raise DecisionError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    if action not in ACTIONS:
        raise DecisionError(f"action {action!r}: expected one of {', '.join(ACTIONS)}")
    if not key:
        raise DecisionError("no row chosen: click a row of the table first")
    if action == RELABEL:
        if not label:
            raise DecisionError("relabel: choose the new class first")
        if label not in classes:
            raise DecisionError(f"relabel to {label!r}: choose one of {', '.join(classes)}")
        if label == given:
            raise DecisionError(f"the row is already labelled {given}: choose another class, or 'keep'")
    else:
        label = None
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise DecisionError(f"the note has {len(note)} characters; at most {MAX_NOTE_CHARS}")
    event_id = uuid.uuid4().hex
    return Decision(
        id=event_id,
        split=split,
        split_hash=split_hash,
        key=str(key),
        action=action,
        label=label,
        given=given,
        text=text,
        note=note,
        who=who or LOCAL_USER,
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        batch=batch or event_id,
    )


def undo(
    events: Iterable[Decision],
    split: str,
    split_hash: str,
    key: str,
    who: str | None,
    batch: str | None = None,
) -> tuple[Decision, Decision]:
    """(the event undoing `who`'s standing decision on the row, that decision); DecisionError when
    `who` has none there. Other people's decisions on the row are never touched."""
    who = who or LOCAL_USER
    mine = [d for d in standing(events) if d.row == (split, split_hash, str(key)) and d.who == who]
    if not mine:
        raise DecisionError(f"nothing to undo: {who} has no decision on this row")
    event_id = uuid.uuid4().hex
    event = Decision(
        **{
            **asdict(mine[-1]),
            "id": event_id,
            "action": UNDO,
            "undoes": mine[-1].id,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "batch": batch or event_id,
        },
    )
    return event, mine[-1]


def decide_all(
    split: str,
    split_hash: str,
    rows: Sequence[tuple[str, str, str, str | None]],
    *,
    action: str,
    classes: Sequence[str] = (),
    note: str = "",
    who: str | None = None,
) -> list[Decision]:
    """One bulk action: `action` on every row of `rows` (key, given, text, label), checked as `decide`
    checks one, all carrying one new batch id so that `undo_step` takes them back as one step. A relabel
    gives each row its own `label` (its suggestion). Nothing is returned unless every row passes: a
    bulk action is recorded whole or not at all."""
    if not rows:
        raise DecisionError("no rows listed: the table's filters leave nothing to decide on")
    batch = uuid.uuid4().hex
    return [
        decide(
            split,
            split_hash,
            key,
            action=action,
            given=given,
            text=text,
            label=label if action == RELABEL else None,
            classes=classes,
            note=note,
            who=who,
            batch=batch,
        )
        for key, given, text, label in rows
    ]


def undo_step(events: Iterable[Decision], who: str | None) -> tuple[list[Decision], list[Decision]]:
    """(the events undoing `who`'s last step, the decisions they undo): a step is every decision of
    one batch (one click: a single decision or a bulk action), and the last one is the batch of
    `who`'s latest decision not undone yet, so pressing it again walks further back. Decisions of the
    batch that were already undone one by one stay undone; other people's are never touched. The
    undoing events share one new batch id. DecisionError when `who` has nothing left to undo."""
    who = who or LOCAL_USER
    events = list(events)
    undone = {e.undoes for e in events if e.action == UNDO}
    mine = [e for e in events if e.who == who and e.action != UNDO and e.id not in undone]
    if not mine:
        raise DecisionError(f"nothing to undo: {who} has no decision left on these rows")
    batch, undoing = mine[-1].batch, uuid.uuid4().hex
    taken = [e for e in mine if e.batch == batch]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    reversing = [
        replace(e, id=uuid.uuid4().hex, action=UNDO, undoes=e.id, time=now, batch=undoing) for e in taken
    ]
    return reversing, taken


def standing(events: Iterable[Decision]) -> list[Decision]:
    """The decisions that stand: each person's latest not-undone decision per row, in log order."""
    events = list(events)
    undone = {e.undoes for e in events if e.action == UNDO}
    latest: dict[tuple[tuple[str, str, str], str], Decision] = {}
    for event in events:
        if event.action != UNDO and event.id not in undone:
            latest.pop((event.row, event.who), None)  # re-inserted: log order follows the latest
            latest[(event.row, event.who)] = event
    return list(latest.values())


def conflicts(decisions: Iterable[Decision]) -> dict[tuple[str, str, str], list[Decision]]:
    """Rows on which standing decisions disagree (different people, different verdicts)."""
    by_row: dict[tuple[str, str, str], list[Decision]] = {}
    for decision in decisions:
        by_row.setdefault(decision.row, []).append(decision)
    return {row: ds for row, ds in by_row.items() if len({d.verdict for d in ds}) > 1}


def agreed(decisions: Iterable[Decision]) -> list[Decision]:
    """One decision per row that has no conflict (the latest), for applying; conflicts are left out."""
    decisions = list(decisions)
    disputed = conflicts(decisions)
    latest = {d.row: d for d in decisions if d.row not in disputed}
    return list(latest.values())


def split_hash(run: Run, split: str) -> str:
    """The hash decisions on `run`'s rows of `split` are filed under: the split's own, except for
    the training rows of a run trained with corrections, whose decisions stay with the rows they were
    made on (so that they still show, and exporting them again trains the same run)."""
    corrections = run.data_stats.corrections
    if split == TRAIN and corrections is not None:
        return corrections.split_hash
    return run.config.data.split_hashes[split]


@dataclass(frozen=True)
class Log:
    """What one log file holds: its events in order, and what was wrong with the lines skipped."""

    events: tuple[Decision, ...] = ()
    damaged: tuple[str, ...] = ()


@dataclass
class _Read:
    """What a store has read of one log file: how far (`agnews.line_log.Tail`), and the events and
    damaged lines of the bytes before that."""

    tail: Tail = field(default_factory=Tail)
    events: list[Decision] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)


class DecisionStore:
    """The log of one folder beside the runs: a file per split and split hash.

    Reads are incremental: the store remembers how far it has read each file and parses only the
    lines appended since (by this or any other process), so a click costs the new events, not the
    history. A file replaced or shortened (a hand edit) is read again from the start.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._read: dict[Path, _Read] = {}
        self._reading = threading.Lock()

    def path(self, split: str, split_hash: str) -> Path:
        return self.folder / f"{split}-{split_hash[:16]}.jsonl"

    def log(self, split: str, split_hash: str) -> Log:
        """The events filed under (`split`, `split_hash`) and the damaged lines skipped."""
        path = self.path(split, split_hash)
        if not path.is_file():
            self._read.pop(path, None)
            return Log()
        with self._reading, self._locked(fcntl.LOCK_SH), path.open("rb") as handle:
            read = self._read.setdefault(path, _Read())
            fresh = read_fresh(handle, read.tail)
        if fresh.restarted:
            read.events, read.damaged = [], []
        events, damaged = parse_lines(fresh, path.name)
        read.events += events
        read.damaged += damaged
        # The writers hold the lock: an unfinished line is damage, not a line still being written.
        cut = [f"{path.name}: line {read.tail.lines + 1} is cut short; skipped"] if fresh.unfinished else []
        return Log(tuple(read.events), tuple(read.damaged + cut))

    def add(self, event: Decision) -> None:
        """Append `event` as one line under the store's lock; the bytes already written never change.

        A last line left unfinished (a crash mid-write) is closed first, so it stays one damaged line
        rather than spoiling this one.
        """
        path = self.path(event.split, event.split_hash)
        with self._locked(fcntl.LOCK_EX):
            append(path, encode(asdict(event)))

    def add_all(self, events: Sequence[Decision]) -> None:
        """Append the events of one step (all of one split and split hash) with a single write under
        the store's lock, so a reader sees all of a bulk action or none of it."""
        if not events:
            return
        if len({(e.split, e.split_hash) for e in events}) > 1:
            raise DecisionError("one step's events must all be filed under one split and split hash")
        path = self.path(events[0].split, events[0].split_hash)
        with self._locked(fcntl.LOCK_EX):
            append(path, b"".join(encode(asdict(event)) for event in events))

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("a") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def parse_lines(fresh: Fresh, name: str) -> tuple[list[Decision], list[str]]:
    """The events of `fresh`'s whole lines, split at "\n" only: a raw U+2028 or CR that an older
    writer left inside a note stays in its note. Lines that are not events are named
    ("NAME: line N is not a decision (why); skipped") and skipped; blank lines are ignored."""
    names = {f.name for f in fields(Decision)}
    events, damaged = [], []
    for number, line in fresh.lines():
        try:
            record = json.loads(line.decode("utf-8"))
            event = Decision(**{k: v for k, v in record.items() if k in names})
            wrong = [k for k in REQUIRED if not isinstance(getattr(event, k), str)]
            if wrong:
                raise ValueError(f"{', '.join(wrong)} not text")
            if event.action not in (*ACTIONS, UNDO):  # the value is not repeated: it is shown on a page
                raise ValueError("an unknown action")
        except (ValueError, TypeError, AttributeError) as exc:  # JSON and UTF-8 errors are ValueErrors
            damaged.append(f"{name}: line {number} is not a decision ({exc}); skipped")
            continue
        events.append(event if event.batch else replace(event, batch=event.id))  # logs before batches
    return events, damaged


def export_frame(decisions: Iterable[Decision]) -> pd.DataFrame:
    """The standing decisions as the CSV people download and `--corrections` reads."""
    rows = [{column: getattr(d, column) for column in CSV_COLUMNS} for d in decisions]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS))


@dataclass(frozen=True)
class Corrections:
    """A corrections file's training-row decisions, agreed and ready to apply."""

    split_hash: str
    removed: frozenset[str]  # text hashes
    relabelled: dict[str, str]  # text hash -> class name
    kept: int
    test_rows: int  # test-row decisions in the file: never applied to training

    @classmethod
    def removing(cls, text_hashes: Iterable[str]) -> Corrections:
        """Corrections that only leave rows out (`--drop-label-issues`: flagged rows, no split hash)."""
        return cls(split_hash="", removed=frozenset(text_hashes), relabelled={}, kept=0, test_rows=0)


def read_corrections(path: Path) -> Corrections:
    """The training-row decisions of an exported decisions CSV, checked: the columns, one split hash,
    known actions and classes, and no row decided two ways."""
    if not path.is_file():
        raise DecisionError(f"{path}: file not found (--corrections takes the app's export of decisions)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecisionError(f"{path}: not a readable CSV ({exc})") from exc
    missing = [c for c in ("split", "split_hash", "key", "action", "label") if c not in frame.columns]
    if missing:
        raise DecisionError(
            f"{path}: no {', '.join(f'`{c}`' for c in missing)} column; export the decisions from the app"
        )
    # The export quoted any cell a spreadsheet would run as a formula (agnews.csv_cells).
    frame = frame.map(restore)
    train = frame[frame["split"] == TRAIN]
    if train.empty:
        raise DecisionError(f"{path}: no decisions on training rows (split = {TRAIN!r})")
    hashes = sorted(set(train["split_hash"]))
    if len(hashes) > 1:
        raise DecisionError(f"{path}: decisions on {len(hashes)} different training splits; export one run's")
    for number, (action, label) in enumerate(zip(train["action"], train["label"], strict=True), start=2):
        if action not in ACTIONS:
            raise DecisionError(
                f"{path}: row {number}: action {action!r}, expected one of {', '.join(ACTIONS)}"
            )
        if action == RELABEL and not str(label or "").strip():
            raise DecisionError(f"{path}: row {number}: relabel to no class")
    verdicts = train.groupby("key")[["action", "label"]].nunique().max(axis=1)
    disputed = sorted(verdicts[verdicts > 1].index)
    if disputed:
        raise DecisionError(
            f"{path}: {len(disputed)} training row(s) decided two ways (e.g. key {disputed[0]}); "
            "settle the conflict in the app and export again"
        )
    last = train.drop_duplicates("key", keep="last")
    relabels = last[last["action"] == RELABEL]
    return Corrections(
        split_hash=hashes[0],
        removed=frozenset(last.loc[last["action"] == REMOVE, "key"]),
        relabelled=dict(zip(relabels["key"], relabels["label"], strict=True)),
        kept=int((last["action"] == KEEP).sum()),
        test_rows=int((frame["split"] == TEST).sum()),
    )


@dataclass(frozen=True)
class CorrectedAccuracy:
    """Test accuracy against the labels people corrected, beside (never instead of) the official one."""

    accuracy: float
    rows: int  # test rows scored: all but the removed ones
    relabelled: int
    removed: int
    directions: dict[tuple[str, str], int]  # (given, new label) -> rows
    disputed: int  # rows with conflicting decisions, left at their given label
    unknown: int  # decisions naming a row id this run's test split does not have: not applied


def corrected_accuracy(
    predictions: pd.DataFrame, decisions: Iterable[Decision], classes: Sequence[str]
) -> CorrectedAccuracy | None:
    """Accuracy of `predictions` (row_id, label, pred: ids of `classes`, the run's) with the agreed
    test-row relabels applied and removed rows left out; None when no test row has an agreed relabel
    or removal (a relabel to a class the run does not have is left out too)."""
    decisions = [d for d in decisions if d.split == TEST]
    labels = predictions.set_index("row_id")["label"].copy()
    settled = [d for d in agreed(decisions) if d.action in (RELABEL, REMOVE)]
    known = [
        d
        for d in settled
        if d.key.isdigit() and int(d.key) in labels.index and (d.action == REMOVE or d.label in classes)
    ]
    if not known:
        return None
    unknown, settled = len(settled) - len(known), known
    removed = {int(d.key) for d in settled if d.action == REMOVE}
    directions: Counter[tuple[str, str]] = Counter()
    for d in settled:
        if d.action == RELABEL:
            labels.loc[int(d.key)] = list(classes).index(d.label)
            directions[(d.given, d.label)] += 1
    kept = ~labels.index.isin(sorted(removed))
    preds = predictions.set_index("row_id")["pred"]
    correct = (labels[kept] == preds[kept]).to_numpy()
    return CorrectedAccuracy(
        accuracy=float(correct.mean()) if len(correct) else 0.0,
        rows=int(kept.sum()),
        relabelled=sum(directions.values()),
        removed=len(removed),
        directions=dict(directions),
        disputed=len(conflicts(decisions)),
        unknown=unknown,
    )
