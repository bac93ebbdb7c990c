"""Compare tab: the shown run (A) against another run on the same test rows (B).

A is the run the page shows (the app's, or the one its address names, `agnews.ui.run_state`). B is
picked from the runs beside A (`runs/`), or given at launch for the app's run (`python app.py --run A
--compare B`). Where the shown run records the run it was trained from (`RunConfig.parent`), that run
is offered first, and on a button ("against the run this one came from" is one click); it is then
the baseline, A, and the shown run B, so that B - A is what the retraining changed. The comparison
is computed on the fly from the two runs' stored predictions (`agnews.comparison`; no model is
loaded) and belongs to neither run: `agnews compare A B --out DIR` writes the same numbers.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from agnews.comparison import CHANGES, Comparison, compare_runs, describe_pair, disagreements
from agnews.formatting import number, percent, points
from agnews.present.figures import confusion_change_figure, headline, map_figure
from agnews.present.glossary import glossed
from agnews.present.markup import literal
from agnews.present.paths import shown_path, shown_text
from agnews.present.tables import map_points
from agnews.rundir.decisions import TEST, DecisionStore
from agnews.rundir.files import RunError
from agnews.rundir.listing import run_named
from agnews.rundir.parts import MANIFEST
from agnews.rundir.run import Run
from agnews.ui.common import selected_row_id, temporary_csv, with_decided
from agnews.ui.decisions import saved_decided
from agnews.ui.lazy import fill_when_opened
from agnews.ui.run_state import PageRuns

ALL_CHANGES = "all disagreements"
NO_OTHER_RUN = (
    "> **No other run to compare with yet.** Train another beside this one (e.g. `agnews train --seed 1 "
    "--out runs/quick-s1`): the picker below lists it the next time this tab is opened. Or start the "
    "app with `python app.py --run A --compare B`."
)
# The terms the comparison shows, as the glossary names them (`agnews.present.glossary`).
GLOSSED = ("accuracy", "macro F1", "paired bootstrap", "McNemar")
PICK_NOTE = "Pick a run to compare this one with."
CLICK_NOTE = "Click a row to read it whole."
PARENT_CHOICE = "Against the run this one came from"
BASELINE_NOTE = (
    "A is the run this one came from (the baseline), B this run: B - A is what retraining changed.\n\n"
)
# Comparisons kept computed: pages on different runs comparing at once each keep theirs.
KEPT_PAIRS = 4


@dataclass
class Shown:
    """What the tab shows for one pair: the comparison and the rows where A and B disagree."""

    a: Run
    b: Run
    comparison: Comparison
    rows: pd.DataFrame


def parent_of(run: Run) -> Path | None:
    """The run `run` was trained from (`RunConfig.parent`), where it records one that is still there:
    a sibling folder found by its name only (`run_named`: a recorded path finds nothing)."""
    name = run.config.parent
    return None if name is None else run_named(run.path.parent, name)


def run_choices(root: Path | None, shown: Run, extra: Run | None = None) -> dict[str, Path]:
    """The runs the picker offers, {name: folder}: the run `shown` came from first (`parent_of`),
    then those under `root` other than `shown` (folders with a manifest), and `extra`.

    The name is what the page shows and sends back: the folder relative to the runs folder
    (`agnews.present.paths.shown_path`, e.g. `runs/quick-s1`), never its server path; a picked name
    is looked up here, so a request can only name a listed run. Listed without loading them: a run
    is loaded, and checked, when it is picked.
    """
    parent = parent_of(shown)
    found = [] if parent is None else [parent]
    if root is not None and root.is_dir():
        found += sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file())
    if extra is not None:
        found.append(extra.path)
    mine = shown.path.resolve()
    runs: dict[str, Path] = {}
    for path in dict.fromkeys(p.resolve() for p in found if p.resolve() != mine):
        name = shown_path(path, root) if root is not None else path.name
        runs[name if name not in runs else f"{name} ({len(runs) + 1})"] = path
    return runs


def parent_choice(runs: dict[str, Path], shown: Run) -> str | None:
    """The name under which `runs` (`run_choices`) lists the run `shown` came from, if it does."""
    parent = parent_of(shown)
    return None if parent is None else next((n for n, path in runs.items() if path == parent.resolve()), None)


def parent_label(parent: str | None) -> str:
    """How the picker and its button offer the run A came from (listed as `parent`)."""
    return PARENT_CHOICE if parent is None else f"{PARENT_CHOICE} ({parent})"


def labelled(runs: dict[str, Path], parent: str | None) -> list[tuple[str, str]]:
    """The picker's (label, name) choices: each listed run by its name, the run A came from said so."""
    return [(parent_label(name) if name == parent else name, name) for name in runs]


def per_class_table(comparison: Comparison) -> pd.DataFrame:
    """Accuracy and each class's F1 for A and B, and B's change in points."""
    a, b = comparison.a, comparison.b
    names = ["accuracy", *(f"F1 {name}" for name in a.per_class_f1)]
    values_a = [a.accuracy, *a.per_class_f1.values()]
    values_b = [b.accuracy, *b.per_class_f1.values()]
    return pd.DataFrame(
        {
            "": names,
            f"A {a.name}": [percent(v, 2) for v in values_a],
            f"B {b.name}": [percent(v, 2) for v in values_b],
            "B - A": [points(vb - va) for va, vb in zip(values_a, values_b, strict=True)],
        }
    )


def summary_markdown(comparison: Comparison) -> str:
    lines = describe_pair(comparison)
    return "\n".join(f"- {line}" for line in lines[:-1]) + f"\n\n_{lines[-1]}_"


def count_note(rows: pd.DataFrame, every: pd.DataFrame) -> str:
    return f"{len(rows)} of {len(every)} disagreements shown."


def rows_shown(rows: pd.DataFrame, change: str | None) -> pd.DataFrame:
    return rows if change in (None, ALL_CHANGES) else rows[rows["change"] == change]


def disagreement_table(rows: pd.DataFrame, decided: Sequence[str] | None = None) -> pd.DataFrame:
    """The rows where A and B disagree, with what is decided on each where `decided` is given
    (`agnews.ui.decisions.saved_decided`: the two runs share their test rows)."""
    table = pd.DataFrame(
        {
            "row_id": rows["row_id"].to_numpy(),
            "headline": rows["text"].map(headline).to_numpy(),
            "true": rows["label_name"].to_numpy(),
            "change": rows["change"].to_numpy(),
            "A": [f"{p} ({number(c, 2)})" for p, c in zip(rows["pred_a"], rows["confidence_a"], strict=True)],
            "B": [f"{p} ({number(c, 2)})" for p, c in zip(rows["pred_b"], rows["confidence_b"], strict=True)],
        }
    )
    return with_decided(table, decided)


def row_markdown(rows: pd.DataFrame, row_id: int | None) -> str:
    """The clicked row whole: its text as literal text (`agnews.present.markup`), never as Markdown."""
    match = rows[rows["row_id"] == row_id]
    if match.empty:
        return CLICK_NOTE
    row = match.iloc[0]
    return (
        f"**Row {row_id}** · true **{literal(row['label_name'])}** · {row['change']}\n\n"
        f"{literal(row['text'])}\n\n"
        f"A: {literal(row['pred_a'])} ({percent(row['confidence_a'])}) · "
        f"B: {literal(row['pred_b'])} ({percent(row['confidence_b'])})"
    )


def side_by_side_maps(a: Run, b: Run) -> tuple[Any, Any, str]:
    """Both fine-tuned maps coloured by correct vs wrong, or a note on which run lacks one."""
    points = {run.name: map_points(run) for run in (a, b)}
    lacking = [name for name, p in points.items() if p is None]
    if lacking:
        note = f"No map for {', '.join(lacking)}: `agnews analyze RUN --stages embed,map` makes one."
        return None, None, note
    figures = [
        map_figure(
            p,
            x="finetuned_x",
            y="finetuned_y",
            classes=a.classes,
            colour_by="correct vs wrong",
            title=f"{side} {name}",
        )
        for side, (name, p) in zip("AB", points.items(), strict=True)
    ]
    return figures[0], figures[1], "Each run's own fine-tuned map (their axes are not comparable)."


def build(
    run: Run,
    tab: gr.Tab,
    *,
    pages: PageRuns,
    runs_root: Path | None,
    store: DecisionStore | None = None,
    compare_with: Run | None = None,
) -> None:
    """Lay out the tab inside `tab` for `run` (the app's): the picker, and the comparison of the
    page's run (`pages.current()`) with the picked run.

    The picker lists the runs as they are each time the tab is opened (`run_choices`): a run trained
    while the page is open is offered without a restart; with none to offer, `NO_OTHER_RUN` says how
    to make one. `store`: the page's saved decisions, shown on the rows listed. `compare_with` is the
    app's run's opening choice; a page on another run opens with its own runs to pick from, none
    picked.
    """
    current = pages.current

    def listed(a: Run) -> dict[str, Path]:
        return run_choices(runs_root, a, compare_with)

    runs = listed(run)
    parent = parent_choice(runs, run)
    picked = None
    if compare_with is not None:
        picked = next((name for name, path in runs.items() if path == compare_with.path.resolve()), None)
    none = gr.Markdown(NO_OTHER_RUN, visible=not runs, elem_id="compare-none")
    with gr.Row(equal_height=True):
        picker = gr.Dropdown(
            labelled(runs, parent), value=picked, label="Compare with", elem_id="compare-picker", scale=3
        )
        against_parent = gr.Button(
            parent_label(parent), visible=parent is not None, elem_id="compare-parent", scale=1
        )
    summary = gr.Markdown(PICK_NOTE, elem_id="compare-summary")
    gr.Markdown(glossed(*GLOSSED), elem_id="compare-glosses")
    with gr.Column(visible=picked is not None, elem_id="compare-results") as results:
        with gr.Row():
            scores = gr.Dataframe(None, label="Scores", interactive=False, elem_id="compare-scores")
            confusion = gr.Plot(None, show_label=False, elem_id="compare-confusion")
        change = gr.Radio([ALL_CHANGES, *CHANGES], value=ALL_CHANGES, label="Rows", elem_id="compare-change")
        count = gr.Markdown("")
        with gr.Row():
            table = gr.Dataframe(
                None,
                label="Rows where A and B disagree (click one to read it)",
                interactive=False,
                max_height=420,
                elem_id="compare-table",
                scale=3,
            )
            with gr.Column(scale=2):
                details = gr.Markdown(CLICK_NOTE, elem_id="compare-details")
                export = gr.Button("Export these rows as CSV")
                download = gr.File(label="CSV", interactive=False, height=90)
        with gr.Accordion("Both maps side by side", open=False):
            maps_note = gr.Markdown("")
            with gr.Row():
                map_a = gr.Plot(None, show_label=False, elem_id="compare-map-a")
                map_b = gr.Plot(None, show_label=False, elem_id="compare-map-b")

    cache: OrderedDict[tuple[int, str, int, int], Shown] = OrderedDict()

    def shown(name: str) -> Shown:
        """The comparison of the page's run with the listed run `name` (A and B, the baseline first
        where `name` is the run it came from), kept while neither changes (a run edit swaps in a new
        folder, so the folder's identity and time say when the picked run changed)."""
        a = current()
        path = listed(a).get(name)
        if path is None:
            raise RunError(f"{name!r} is not one of the runs this page lists")
        folder = path.stat()
        key = (id(a), str(path), folder.st_ino, folder.st_mtime_ns)
        if key not in cache:
            other = Run.load(path)
            # Against the run it came from, that run is the baseline: A, so that "B - A", "fixed by
            # B" and the confusion change read as what the retraining changed.
            came_from = parent_of(a)
            first, second = (
                (other, a) if came_from is not None and came_from.resolve() == path else (a, other)
            )
            cache[key] = Shown(first, second, compare_runs(first, second), disagreements(first, second))
            while len(cache) > KEPT_PAIRS:
                cache.popitem(last=False)
        cache.move_to_end(key)
        return cache[key]

    def listed_rows(rows: pd.DataFrame) -> pd.DataFrame:
        return disagreement_table(rows, saved_decided(store, current(), TEST, rows["row_id"]))

    def why(exc: Exception) -> str:
        """What went wrong, naming files as the page does (relative to the runs folder)."""
        return shown_text(str(exc), runs_root if runs_root is not None else current().path.parent)

    def rows_of(name: str, which: str | None) -> pd.DataFrame:
        """The disagreements shown; a run that cannot be compared is reported, as `show` reports it."""
        try:
            return rows_shown(shown(name).rows, which)
        except (RunError, OSError) as exc:
            raise gr.Error(
                html.escape(f"Cannot compare: {why(exc)}", quote=False), print_exception=False
            ) from exc

    outputs = [results, summary, scores, confusion, table, count, details, maps_note, map_a, map_b]

    def show(name: str | None, which: str | None) -> dict[Any, Any]:
        if not name:
            return {results: gr.update(visible=False), summary: PICK_NOTE}
        try:
            pair = shown(name)
        except (RunError, OSError) as exc:
            failed = f"> **Cannot compare.** {literal(why(exc))}"
            return {results: gr.update(visible=False), summary: failed}
        rows = rows_shown(pair.rows, which)
        first, second, note = side_by_side_maps(pair.a, pair.b)
        against_baseline = BASELINE_NOTE if pair.b.path == current().path else ""
        return {
            results: gr.update(visible=True),
            summary: against_baseline + summary_markdown(pair.comparison),
            scores: per_class_table(pair.comparison),
            confusion: confusion_change_figure(pair.comparison.confusion_change, pair.comparison.labels),
            table: listed_rows(rows),
            count: count_note(rows, pair.rows),
            details: row_markdown(rows, None),
            maps_note: note,
            map_a: first,
            map_b: second,
        }

    def filter_rows(name: str | None, which: str | None) -> tuple[pd.DataFrame | None, str]:
        if not name:
            return None, ""
        every = rows_of(name, ALL_CHANGES)
        rows = rows_shown(every, which)
        return listed_rows(rows), count_note(rows, every)

    def inspect(name: str | None, event: gr.SelectData) -> str:
        return row_markdown(rows_of(name, ALL_CHANGES), selected_row_id(event)) if name else CLICK_NOTE

    def write_csv(name: str | None, which: str | None) -> str | None:
        return temporary_csv(rows_of(name, which), "agnews-compare-") if name else None

    def offer(a: Run, name: str | None, *, to_parent: bool = False) -> dict[Any, Any]:
        """The picker's runs for the page's run `a` as they are now, the run `a` came from first and
        on the button, and `name` picked (`to_parent`: the run `a` came from, where it is listed). A
        picked run that has gone stays picked: showing it says why it cannot be compared."""
        now = listed(a)
        came_from = parent_choice(now, a)
        return {
            none: gr.update(visible=not now),
            picker: gr.update(
                choices=labelled(now, came_from), value=came_from if to_parent and came_from else name
            ),
            against_parent: gr.update(value=parent_label(came_from), visible=came_from is not None),
        }

    def refresh(name: str | None) -> dict[Any, Any]:
        return offer(current(), name)

    def pick_parent(name: str | None) -> dict[Any, Any]:
        return offer(current(), name, to_parent=True)

    def page_run(a: Run) -> dict[Any, Any]:
        """A page on another run than the app's: that run's runs to pick from, none picked (the
        launch's `compare_with` is the app's run's opening choice)."""
        return {**offer(a, None), results: gr.update(visible=False), summary: PICK_NOTE}

    offered = [none, picker, against_parent]
    pages.refresh(page_run, [*offered, results, summary])
    tab.select(refresh, [picker], offered, api_name="compare_runs", api_visibility="undocumented")
    # Picking the parent changes the picker's value, whose `change` draws the comparison.
    against_parent.click(
        pick_parent, [picker], offered, api_name="compare_parent", api_visibility="undocumented"
    )
    picker.change(show, [picker, change], outputs, api_name="compare", api_visibility="undocumented")
    change.change(
        filter_rows, [picker, change], [table, count], api_name="compare_rows", api_visibility="undocumented"
    )
    table.select(inspect, [picker], details, api_name="compare_inspect", api_visibility="undocumented")
    export.click(write_csv, [picker, change], download, api_name="compare_csv", api_visibility="undocumented")
    if picked is not None:
        fill_when_opened(
            tab,
            lambda _run: show(picked, ALL_CHANGES) if pages.shows_default() else {},
            outputs,
            current=current,
            name="compare_open",
        )
