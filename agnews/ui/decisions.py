"""Decisions on rows, on the page: mark a row relabel / remove / keep, undo, see conflicts, export.

The Errors and Label issues tabs each carry one `DecisionBox`: a click on a row of their tables
chooses it (`choose`), the box records what the person decides. Where the page may write (a local
app, or a public one started with `--allow-edits`), decisions go to the `DecisionStore` beside the
runs and survive a restart; elsewhere they live in the browser session (a `gr.State`) and leave only
as the exported CSV. Test-row decisions never touch the official metrics: they add an accuracy
"against corrected labels" beside it.

Each decision is recorded under the name the person logged in with (`gr.Request.username`), so
"disagree" and "undo my decision" tell people apart; a page without a login records everyone as one
person (`LOCAL_USER`), and says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import gradio as gr
import pandas as pd

from agnews.formatting import count, percent
from agnews.present.figures import headline
from agnews.present.markup import literal
from agnews.rundir.decisions import (
    DECISIONS_FOLDER,
    KEEP,
    LOCAL_USER,
    RELABEL,
    REMOVE,
    TEST,
    Decision,
    DecisionError,
    DecisionStore,
    Log,
    conflicts,
    corrected_accuracy,
    decide,
    decide_all,
    export_frame,
    split_hash,
    standing,
    undo,
    undo_step,
)
from agnews.rundir.facts import TRAIN_LABEL_ISSUES
from agnews.rundir.run import Run
from agnews.ui.common import temporary_csv
from agnews.ui.downloads import download_button

ACTION_CHOICES = [("relabel to…", RELABEL), ("remove from the data", REMOVE), ("keep as is", KEEP)]
TABLE_COLUMNS = ["split", "row", "headline", "given", "decision", "note", "who", "when", "conflict"]
NO_ROW = "Click a row of a table to decide on it."
ACCEPT = "Accept suggestion"


def storage_note(store: DecisionStore | None) -> str:
    """Where decisions go, in the page's words (a Space's disk is wiped by a restart)."""
    if store is None:
        return (
            "This page is public, so decisions stay **in this browser session** only (start the app "
            "with `--allow-edits` to save them beside the runs); export them before you leave."
        )
    where = (
        f"Decisions are saved beside the runs (in `{DECISIONS_FOLDER}`) and survive a restart. Each is "
        "recorded under the name you logged in with; on a page without a login everyone is recorded "
        f"as one person, `{LOCAL_USER}`, so no one's decision conflicts with another's "
        "(start the app with `--auth` for named users)."
    )
    if os.environ.get("SPACE_ID"):
        where += " On a Space that disk is wiped when the Space restarts: export them."
    return where


def describe(decision: Decision) -> str:
    return f"relabel → {decision.label}" if decision.action == RELABEL else decision.action


def decided_column(decisions: Iterable[Decision], split: str, keys: Iterable[str]) -> list[str]:
    """What stands on each row of `keys` (row ids or text hashes, as text) of `split`, for a table's
    "decided" column: "relabel → Sports", "remove", "keep", "" where nothing is decided, and each
    verdict with "⚠" where people disagree. `decisions` are the standing ones (`standing`) of one
    split hash (`DecisionBox.decided` reads them for a tab)."""
    verdicts: dict[str, list[str]] = {}
    for d in decisions:
        if d.split == split:
            said = verdicts.setdefault(d.key, [])
            if describe(d) not in said:
                said.append(describe(d))
    return [
        "⚠ " + " / ".join(said) if len(said := verdicts.get(str(key), [])) > 1 else "".join(said)
        for key in keys
    ]


def saved_decided(store: DecisionStore | None, run: Run, split: str, keys: Iterable[Any]) -> list[str] | None:
    """The "decided" column (`decided_column`) of a table outside any tab's decision controls (the
    map's points, a comparison's rows, a row's neighbours), from the decisions saved beside the runs
    for `run`'s `split`; None on a page that keeps decisions in the browser session, where only the
    tab that made them holds them."""
    if store is None:
        return None
    log = store.log(split, split_hash(run, split))
    return decided_column(standing(log.events), split, (str(key) for key in keys))


@dataclass(frozen=True)
class Listed:
    """A row a table lists, as a decision needs it: its key (a test row id or a training row's text
    hash, as text), its given label, its text and the class suggested for it (None: no suggestion)."""

    key: str
    given: str
    text: str
    suggested: str | None = None


def listed_rows(
    rows: pd.DataFrame, key: str, given: str = "given", suggested: str | None = "suggested"
) -> list[Listed]:
    """The rows of a table's frame `rows` as `Listed`, from its columns `key`, `given`, "text" and
    `suggested` (None: the table has no suggestion)."""
    suggestions = rows[suggested] if suggested else [None] * len(rows)
    return [
        Listed(str(k), str(g), str(t), None if s is None else str(s))
        for k, g, t, s in zip(rows[key], rows[given], rows["text"], suggestions, strict=True)
    ]


def decisions_table(decisions: Sequence[Decision]) -> pd.DataFrame:
    """Standing decisions, newest first, with the rows people disagree on marked."""
    disputed = conflicts(decisions)
    rows = [
        [
            d.split,
            d.key[:12],
            headline(d.text),
            d.given,
            describe(d),
            d.note,
            d.who,
            d.time.replace("T", " ")[:16],
            "⚠ disagree" if d.row in disputed else "",
        ]
        for d in reversed(decisions)
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def corrected_summary(run: Run, decisions: Sequence[Decision]) -> str:
    """The accuracy against corrected test labels, with what changed; empty without test relabels."""
    corrected = corrected_accuracy(run.predictions, decisions, run.classes)
    if corrected is None:
        return ""
    moves = ", ".join(f"{given} → {label}: {n}" for (given, label), n in sorted(corrected.directions.items()))
    parts = [
        f"**Against corrected labels: {percent(corrected.accuracy)}** on {count(corrected.rows)} test rows "
        f"(official: {percent(run.metrics.test.accuracy)}, unchanged). {corrected.relabelled} relabelled"
        + (f" ({moves})" if moves else "")
        + f", {corrected.removed} removed."
    ]
    if corrected.disputed:
        parts.append(f"{corrected.disputed} row(s) with disagreeing decisions are left at their given label.")
    if corrected.unknown:
        parts.append(f"{corrected.unknown} decision(s) name rows this run does not have: not applied.")
    return " ".join(parts)


class Bulk:
    """One table's bulk actions: relabel to the suggestion, remove or keep every row the table lists
    now (its filters applied), each one step that "Undo my last step" takes back whole. The buttons
    are placed where it is made (under its table); `DecisionBox.connect` makes them record. The
    table's filling event returns `show(rows)` into `outputs`, so the buttons always name the count
    of the rows they act on."""

    def __init__(self, split: str, key: str) -> None:
        self.split, self.key = split, key
        self.listed = gr.State([])  # the listed rows, as `Listed` fields (asdict form)
        with gr.Row(elem_id=f"{key}-bulk"):
            self.relabel = gr.Button(
                "Relabel the listed rows to their suggestion",
                interactive=False,
                size="sm",
                elem_id=f"{key}-bulk-relabel",
            )
            self.remove = gr.Button(
                "Remove the listed rows", interactive=False, size="sm", elem_id=f"{key}-bulk-remove"
            )
            self.keep = gr.Button(
                "Keep the listed rows", interactive=False, size="sm", elem_id=f"{key}-bulk-keep"
            )

    @property
    def outputs(self) -> list[Any]:
        """What `show` updates: the listed rows' state and the three buttons."""
        return [self.listed, self.relabel, self.remove, self.keep]

    def show(self, rows: Sequence[Listed]) -> dict[Any, Any]:
        """Updates that make `rows` (what the table lists now) the rows the buttons act on, with the
        count on each button (relabelling counts the rows with a suggestion other than their label)."""
        n, suggested = len(rows), sum(1 for r in rows if r.suggested and r.suggested != r.given)
        return {
            self.listed: [asdict(r) for r in rows],
            self.relabel: gr.update(
                value=f"Relabel all {count(suggested)} listed rows to their suggestion",
                interactive=suggested > 0,
            ),
            self.remove: gr.update(value=f"Remove all {count(n)} listed rows", interactive=n > 0),
            self.keep: gr.update(value=f"Keep all {count(n)} listed rows", interactive=n > 0),
        }


class DecisionBox:
    """The decision controls of one tab, for rows of `splits` ("train", "test").

    Placed where it is made: the clicked row (its full text, given and suggested class), "Accept
    suggestion" (one click), the relabel / remove / keep form, the undo buttons and what was said.
    The log of decisions (the table, the export) follows it unless `log=False`, in which case the
    tab places it with `render_log()`, so the controls can sit beside a table's details and the log
    below. `connect(Bulk(split, key))` gives a table bulk buttons; `decided` fills a table's "decided"
    column; `after_change` refreshes a tab's tables after every decision or undo.
    """

    def __init__(
        self,
        *,
        splits: Sequence[str],
        current: Callable[[], Run],
        store: DecisionStore | None,
        key: str,
        log: bool = True,
    ) -> None:
        self.splits, self.current, self.store, self.key = tuple(splits), current, store, key
        self.changes: list[Any] = []  # the events that record or undo, for `after_change`
        self.target = gr.State(None)
        self.session = gr.State([])  # the events of a page that may not write (asdict form)
        with gr.Column(elem_id=f"{key}-decision"):
            self.chosen = gr.Markdown(NO_ROW, elem_id=f"{key}-decision-row")
            self.accept = gr.Button(
                ACCEPT, variant="primary", interactive=False, elem_id=f"{key}-decision-accept"
            )
            with gr.Row():
                self.action = gr.Radio(
                    ACTION_CHOICES, value=RELABEL, label="Or decide", elem_id=f"{key}-decision-action"
                )
                # Its classes come with the chosen row (`choose`): those of the run the page shows.
                self.label = gr.Dropdown([], value=None, label="New class", elem_id=f"{key}-decision-label")
            self.note = gr.Textbox(label="Note (optional)", max_length=1000, elem_id=f"{key}-decision-note")
            with gr.Row():
                record = gr.Button("Record decision", elem_id=f"{key}-decision-record")
                revoke = gr.Button("Undo my decision on this row", elem_id=f"{key}-decision-undo")
                step = gr.Button("Undo my last step", elem_id=f"{key}-decision-undo-step")
            self.status = gr.Markdown("", elem_id=f"{key}-decision-status")
        with gr.Accordion("Decisions so far", open=True, render=False) as self._log_panel:
            gr.Markdown(storage_note(store), elem_id=f"{key}-decision-storage")
            self.table = gr.Dataframe(
                None, label="Decisions", interactive=False, max_height=300, elem_id=f"{key}-decisions"
            )
            download_button(
                "Download decisions (CSV)",
                self._export,
                [self.session],
                elem_id=f"{key}-decision-export",
                api_name=f"{key.replace('-', '_')}_decisions_csv",
                size="sm",
            )
        if log:
            self.render_log()
        api = key.replace("-", "_")
        self.changes += [
            record.click(
                self._record,
                [self.target, self.action, self.label, self.note, self.session],
                self.outputs,
                api_name=f"{api}_decide",
                api_visibility="undocumented",
            ),
            self.accept.click(
                self._accept,
                [self.target, self.note, self.session],
                self.outputs,
                api_name=f"{api}_accept",
                api_visibility="undocumented",
            ),
            revoke.click(
                self._undo,
                [self.target, self.session],
                self.outputs,
                api_name=f"{api}_undo",
                api_visibility="undocumented",
            ),
            step.click(
                self._undo_step,
                [self.session],
                self.outputs,
                api_name=f"{api}_undo_step",
                api_visibility="undocumented",
            ),
        ]

    def render_log(self) -> None:
        """Place the log of decisions (table, export) here; once, and only when made with `log=False`."""
        self._log_panel.render()

    # -- what the tabs call ------------------------------------------------------------------------

    def choose(
        self, split: str, key: str, given: str, text: str, suggested: str | None = None
    ) -> dict[Any, Any]:
        """Updates that make the row the target of the next decision, with the classes to relabel it
        to (the run's: a page may show another run than the app's) and the one pre-filled by
        `suggested` (the model's or cleanlab's) where that is another class of the run, and "Accept
        suggestion" naming it (disabled without one). The row shows whole: its full text, and a
        training row's position in no table, never its hash."""
        classes = list(self.current().classes)
        fill = suggested if suggested in classes and suggested != given else None
        target = {"split": split, "key": str(key), "given": given, "text": text, "suggested": fill}
        name = f"test row {key}" if split == TEST else "training row"
        shown = f"**{name}** · given **{literal(given)}**"
        if fill:
            shown += f" · suggested **{literal(fill)}**"
        shown += f"\n\n> {literal(text)}"
        accept = f"{ACCEPT}: relabel → {fill}" if fill else f"{ACCEPT} (none for this row)"
        return {
            self.target: target,
            self.chosen: shown,
            self.label: gr.update(value=fill, choices=classes),
            self.accept: gr.update(value=accept, interactive=fill is not None),
        }

    @property
    def choice(self) -> list[Any]:
        """The components `choose` updates (the outputs of a row click)."""
        return [self.target, self.chosen, self.label, self.accept]

    def connect(self, *bulks: Bulk) -> None:
        """Make each of `bulks` (the bulk buttons of a table of this box's rows) record its action on
        the rows its table lists, as one step."""
        for bulk in bulks:
            if bulk.split not in self.splits:
                raise ValueError(f"this box decides on {', '.join(self.splits)} rows, not {bulk.split!r}")
            for button, action in ((bulk.relabel, RELABEL), (bulk.remove, REMOVE), (bulk.keep, KEEP)):
                self.changes.append(
                    button.click(
                        self._bulk_handler(bulk.split, action),
                        [bulk.listed, self.session],
                        self.outputs,
                        api_name=f"{bulk.key.replace('-', '_')}_{action}_all",
                        api_visibility="undocumented",
                    )
                )

    def opened(self, session: list[dict[str, Any]]) -> dict[Any, Any]:
        """The table and summary as they stand (another person or tab may have decided meanwhile)."""
        table, status, _ = self._view(session, "")
        return {self.table: table, self.status: status}

    def decided(self, session: list[dict[str, Any]], split: str, keys: Iterable[str]) -> list[str]:
        """A table's "decided" column for rows `keys` of `split` (`decided_column`), from what stands
        in the store (or in `session`, on a page that may not write)."""
        return decided_column(standing(self._log(session).events), split, keys)

    def after_change(self, fn: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        """Run `fn(*inputs) -> outputs` after every decision or undo this box records (a tab's tables
        then show the new "decided" column); `self.session` among `inputs` is the updated one."""
        for event in self.changes:
            event.success(fn, list(inputs), list(outputs), show_progress="hidden")

    @property
    def views(self) -> list[Any]:
        return [self.table, self.status]

    @property
    def outputs(self) -> list[Any]:
        """What every decision and undo updates: the log's table, what was said, the session's events."""
        return [self.table, self.status, self.session]

    # -- events ------------------------------------------------------------------------------------

    def _log(self, session: list[dict[str, Any]]) -> Log:
        """The events on this tab's rows (the store's, or the session's), with any damaged lines."""
        run = self.current()
        if self.store is None:
            hashes = {(split, split_hash(run, split)) for split in self.splits}
            events = (Decision(**data) for data in session)
            return Log(tuple(e for e in events if (e.split, e.split_hash) in hashes))
        logs = [self.store.log(split, split_hash(run, split)) for split in self.splits]
        return Log(
            tuple(e for log in logs for e in log.events), tuple(d for log in logs for d in log.damaged)
        )

    def _add(self, events: Sequence[Decision], session: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record one step's events (a bulk action's or an undo's: one split each) in one append."""
        if self.store is None:
            return [*session, *(asdict(e) for e in events)]
        by_split: dict[str, list[Decision]] = {}
        for event in events:
            by_split.setdefault(event.split, []).append(event)
        for part in by_split.values():
            self.store.add_all(part)
        return session

    def _view(
        self, session: list[dict[str, Any]], said: str
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
        log = self._log(session)
        decisions = standing(log.events)
        notes = [said] if said else []
        notes += [f"⚠ {damaged}" for damaged in log.damaged]
        disputed = conflicts(decisions)
        if disputed:
            notes.append(f"⚠ **{len(disputed)} row(s) have disagreeing decisions** (marked in the table).")
        if TEST in self.splits:
            notes.append(corrected_summary(self.current(), decisions))
        return decisions_table(decisions), "\n\n".join(n for n in notes if n), session

    def _existing(self, run: Run, split: str) -> set[str]:
        """The keys of `split`'s rows this run has (a decision on any other row is refused)."""
        if split == TEST:
            return {str(i) for i in run.predictions["row_id"]}
        issues = run.fact(TRAIN_LABEL_ISSUES)
        return set() if issues is None else set(issues["text_hash"])

    def _record(
        self,
        target: dict[str, str] | None,
        action: str,
        label: str | None,
        note: str | None,
        session: list[dict[str, Any]],
        request: gr.Request,
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
        if target is None:
            raise gr.Error(NO_ROW)
        run = self.current()
        if target["key"] not in self._existing(run, target["split"]):
            raise gr.Error(
                f"{target['split']} row {target['key']} no longer exists in this run; nothing recorded"
            )
        try:
            event = decide(
                target["split"],
                split_hash(run, target["split"]),
                target["key"],
                action=action,
                given=target["given"],
                text=target["text"],
                label=label,
                classes=run.classes,
                note=note or "",
                who=getattr(request, "username", None),
            )
        except DecisionError as exc:
            raise gr.Error(str(exc)) from exc
        session = self._add([event], session)
        return self._view(session, f"Recorded: {describe(event)} on {_named(event)}, by {event.who}.")

    def _accept(
        self,
        target: dict[str, str] | None,
        note: str | None,
        session: list[dict[str, Any]],
        request: gr.Request,
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
        """Relabel the chosen row to its suggestion: one click."""
        if target is not None and not target.get("suggested"):
            raise gr.Error("This row has no suggested class: choose one under 'Or decide'.")
        return self._record(target, RELABEL, (target or {}).get("suggested"), note, session, request)

    def _bulk_handler(
        self, split: str, action: str
    ) -> Callable[
        [list[dict[str, Any]], list[dict[str, Any]], gr.Request],
        tuple[pd.DataFrame, str, list[dict[str, Any]]],
    ]:
        """The event that records `action` on every listed row of `split` as one step."""

        def record_all(
            listed: list[dict[str, Any]], session: list[dict[str, Any]], request: gr.Request
        ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
            run = self.current()
            rows = [Listed(**row) for row in listed]
            if action == RELABEL:
                rows = [r for r in rows if r.suggested in run.classes and r.suggested != r.given]
            gone = [r for r in rows if r.key not in self._existing(run, split)]
            if gone:
                raise gr.Error(
                    f"{len(gone)} listed row(s) no longer exist in this run; reopen the tab. "
                    "Nothing recorded."
                )
            try:
                events = decide_all(
                    split,
                    split_hash(run, split),
                    [(r.key, r.given, r.text, r.suggested) for r in rows],
                    action=action,
                    classes=run.classes,
                    who=getattr(request, "username", None),
                )
            except DecisionError as exc:
                raise gr.Error(str(exc)) from exc
            session = self._add(events, session)
            what = "relabel to their suggestion" if action == RELABEL else action
            said = f"Recorded: {what} on {count(len(events))} listed rows as one step, by {events[0].who}."
            return self._view(session, said + ' "Undo my last step" takes it back.')

        return record_all

    def _undo(
        self, target: dict[str, str] | None, session: list[dict[str, Any]], request: gr.Request
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
        if target is None:
            raise gr.Error(NO_ROW)
        run = self.current()
        try:
            event, undone = undo(
                self._log(session).events,
                target["split"],
                split_hash(run, target["split"]),
                target["key"],
                getattr(request, "username", None),
            )
        except DecisionError as exc:
            raise gr.Error(str(exc)) from exc
        session = self._add([event], session)
        return self._view(session, f"Undone: {undone.who}'s {describe(undone)} on {_named(undone)}.")

    def _undo_step(
        self, session: list[dict[str, Any]], request: gr.Request
    ) -> tuple[pd.DataFrame, str, list[dict[str, Any]]]:
        try:
            events, undone = undo_step(self._log(session).events, getattr(request, "username", None))
        except DecisionError as exc:
            raise gr.Error(str(exc)) from exc
        session = self._add(events, session)
        first = undone[0]
        what = _named(first) if len(undone) == 1 else f"{count(len(undone))} rows"
        return self._view(session, f"Undone: {first.who}'s {describe(first)} on {what}.")

    def _export(self, session: list[dict[str, Any]]) -> str:
        decisions = standing(self._log(session).events)
        if not decisions:
            raise gr.Error("No decisions to export yet.")
        return temporary_csv(export_frame(decisions), "agnews-decisions-")


def _named(decision: Decision) -> str:
    """The row a message names: a test row by its id, a training row by its headline (not its hash)."""
    if decision.split == TEST:
        return f"row {decision.key}"
    return f"the training row “{headline(decision.text, 60)}”"
