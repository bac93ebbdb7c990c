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
from collections.abc import Callable, Sequence
from dataclasses import asdict
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
    export_frame,
    split_hash,
    standing,
    undo,
)
from agnews.rundir.facts import TRAIN_LABEL_ISSUES
from agnews.rundir.run import Run
from agnews.ui.common import temporary_csv

ACTION_CHOICES = [("relabel to…", RELABEL), ("remove from the data", REMOVE), ("keep as is", KEEP)]
TABLE_COLUMNS = ["split", "row", "headline", "given", "decision", "note", "who", "when", "conflict"]
NO_ROW = "Click a row of a table above to decide on it."


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


class DecisionBox:
    """The decision controls of one tab, for rows of `splits` ("train", "test")."""

    def __init__(
        self,
        *,
        splits: Sequence[str],
        current: Callable[[], Run],
        store: DecisionStore | None,
        key: str,
    ) -> None:
        self.splits, self.current, self.store = tuple(splits), current, store
        with gr.Accordion("Decide on a row", open=True):
            gr.Markdown(storage_note(store), elem_id=f"{key}-decision-storage")
            self.target = gr.State(None)
            self.session = gr.State([])  # the events of a page that may not write (asdict form)
            self.chosen = gr.Markdown(NO_ROW, elem_id=f"{key}-decision-row")
            with gr.Row():
                self.action = gr.Radio(
                    ACTION_CHOICES, value=RELABEL, label="Decision", elem_id=f"{key}-decision-action"
                )
                self.label = gr.Dropdown(
                    list(current().classes), value=None, label="New class", elem_id=f"{key}-decision-label"
                )
                self.note = gr.Textbox(
                    label="Note (optional)", max_length=1000, elem_id=f"{key}-decision-note"
                )
            with gr.Row():
                record = gr.Button("Record decision", variant="primary", elem_id=f"{key}-decision-record")
                revoke = gr.Button("Undo my decision on this row", elem_id=f"{key}-decision-undo")
                export = gr.Button("Export decisions as CSV", elem_id=f"{key}-decision-export")
            self.status = gr.Markdown("", elem_id=f"{key}-decision-status")
            self.table = gr.Dataframe(
                None, label="Decisions", interactive=False, max_height=300, elem_id=f"{key}-decisions"
            )
            download = gr.File(label="Decisions CSV", interactive=False, height=90)
        outputs = [self.table, self.status, self.session]
        record.click(
            self._record,
            [self.target, self.action, self.label, self.note, self.session],
            outputs,
            api_name=f"{key.replace('-', '_')}_decide",
            api_visibility="undocumented",
        )
        revoke.click(
            self._undo,
            [self.target, self.session],
            outputs,
            api_name=f"{key.replace('-', '_')}_undo",
            api_visibility="undocumented",
        )
        export.click(
            self._export,
            [self.session],
            download,
            api_name=f"{key.replace('-', '_')}_decisions_csv",
            api_visibility="undocumented",
        )

    # -- what the tabs call ------------------------------------------------------------------------

    def choose(
        self, split: str, key: str, given: str, text: str, suggested: str | None = None
    ) -> dict[Any, Any]:
        """Updates that make the row the target of the next decision, with the class to relabel it to
        pre-filled by `suggested` (the model's or cleanlab's) where that is another class of the run."""
        target = {"split": split, "key": str(key), "given": given, "text": text}
        shown = f"**{split} row {str(key)[:12]}** · given **{literal(given)}**\n\n> {literal(headline(text))}"
        fill = suggested if suggested in self.current().classes and suggested != given else None
        return {self.target: target, self.chosen: shown, self.label: gr.update(value=fill)}

    @property
    def choice(self) -> list[Any]:
        """The components `choose` updates (the outputs of a row click)."""
        return [self.target, self.chosen, self.label]

    def opened(self, session: list[dict[str, Any]]) -> dict[Any, Any]:
        """The table and summary as they stand (another person or tab may have decided meanwhile)."""
        table, status, _ = self._view(session, "")
        return {self.table: table, self.status: status}

    @property
    def views(self) -> list[Any]:
        return [self.table, self.status]

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

    def _add(self, event: Decision, session: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.store is None:
            return [*session, asdict(event)]
        self.store.add(event)
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

    def _row_exists(self, run: Run, target: dict[str, str]) -> bool:
        if target["split"] == TEST:
            return target["key"].isdigit() and bool((run.predictions["row_id"] == int(target["key"])).any())
        issues = run.fact(TRAIN_LABEL_ISSUES)
        return issues is not None and bool((issues["text_hash"] == target["key"]).any())

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
        if not self._row_exists(run, target):
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
        session = self._add(event, session)
        return self._view(session, f"Recorded: {describe(event)} on row {event.key[:12]}, by {event.who}.")

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
        session = self._add(event, session)
        return self._view(session, f"Undone: {undone.who}'s {describe(undone)} on row {undone.key[:12]}.")

    def _export(self, session: list[dict[str, Any]]) -> str:
        decisions = standing(self._log(session).events)
        if not decisions:
            raise gr.Error("No decisions to export yet.")
        return temporary_csv(export_frame(decisions), "agnews-decisions-")
