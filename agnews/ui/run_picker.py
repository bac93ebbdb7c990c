"""The run picker in the page's header: every run under the runs folder, and switching the page to one.

Picking a run opens the page at `?run=NAME` (a link to that run, for this browser session; another
page keeps its own run): the page then loads as any page does, every tab reading the picked run
(`agnews.ui.run_state.PageRuns`). The list is read when a page opens, so a run trained since shows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import gradio as gr

from agnews.dataset.ag_news import AG_NEWS
from agnews.formatting import count, percent
from agnews.present.paths import model_name
from agnews.rundir.files import RunError
from agnews.rundir.listing import ListedRun, listed_run, listed_runs
from agnews.rundir.run import Run
from agnews.ui.run_state import PageRuns

ELEM_ID = "run-picker"
# Run in the browser on a person's pick: the page re-opens on the picked run's address.
OPEN_PICKED = """(name) => {
  const address = new URL(window.location.href);
  address.searchParams.set("run", name);
  window.location.assign(address.toString());
  return [];
}"""


def choice_label(entry: ListedRun) -> str:
    """ "quick · AG News · minilm · 91.2% · 2026-12-07 08:50 · 2 analyses to come" (names are the
    user's: a dropdown shows its labels as text)."""
    dataset = "AG News" if entry.dataset == AG_NEWS else entry.dataset
    try:
        when = datetime.fromisoformat(entry.created).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        when = entry.created[:16]
    parts = [entry.name, dataset, model_name(entry.base_model), percent(entry.accuracy), when]
    missing = len(entry.missing_stages)
    if missing:
        parts.append(f"{count(missing)} {'analysis' if missing == 1 else 'analyses'} to come")
    return " · ".join(parts)


def choices(root: Path | None, app_run: Path) -> list[tuple[str, str]]:
    """(label, name) of each run under `root`, newest first, and the app's run where it lives
    elsewhere (`app.py --run /some/where`)."""
    entries = listed_runs(root)
    listed = [(choice_label(entry), entry.name) for entry in entries]
    if app_run.name in {entry.name for entry in entries}:
        return listed
    try:
        return [(choice_label(listed_run(app_run)), app_run.name), *listed]
    except (RunError, OSError):  # a run made before manifests: listed by its name alone
        return [(app_run.name, app_run.name), *listed]


def build(run: Run, pages: PageRuns) -> gr.Dropdown:
    """The picker, laid out for the app's `run`; filled for each page's own run when it opens."""
    picker = gr.Dropdown(
        choices(pages.root, pages.default),
        value=run.name,
        label="Run",
        info="Switch this page to another run (its address then names it: share it as a link).",
        elem_id=ELEM_ID,
        scale=1,
        min_width=320,
    )
    picker.input(None, picker, None, js=OPEN_PICKED, api_visibility="private")

    def filled(shown: Run) -> dict[gr.Dropdown, dict[str, object]]:
        return {picker: gr.update(choices=choices(pages.root, pages.default), value=shown.name)}

    pages.refresh(filled, [picker], always=True)
    return picker
