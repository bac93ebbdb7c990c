"""The Tuning tab: the search `agnews tuning` ran to choose this run's settings.

Drawn from the part alone (history and importances were computed when the search ran), so the app
needs no Optuna. A run not made by `agnews tuning` says which command makes a tuned run from the same
data, and what this tab would then show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from agnews.analyses.tuning.present import summary, trials_table, tuning_history, tuning_importances
from agnews.analyses.tuning.schema import PART
from agnews.present.glossary import glossed
from agnews.present.paths import shown_path
from agnews.rundir.run import Run
from agnews.ui.page import TabPage
from agnews.ui.panel import Panel

# What the command's placeholders stand for (`option`).
PLACEHOLDERS = {
    "MODEL": "the base model this run was trained from",
    "DATASET": "the Hub dataset this run was trained on",
    "DIR": "the folder this run was trained from",
}
# The terms the filled tab shows, as the glossary names them (`agnews.present.glossary`).
GLOSSED = ("trials", "validation accuracy", "noise", "importance")


def option(value: str, placeholder: str) -> str:
    """`value` as a command-line word for a code span: a name (a preset, a Hub id) as it is; a local
    path (a page shows no server path) or anything a shell or Markdown would read otherwise, as
    `placeholder`."""
    plain = all(c.isalnum() or c in "._/-" for c in value)
    return value if value and plain and not Path(value).is_absolute() else placeholder


def tuning_command(run: Run) -> str:
    """The command that searches `run`'s recipe on the same data and trains the best settings into a
    new run beside it."""
    train = run.config.train
    words = ["agnews tuning", f"--base-model {option(train.base_model, 'MODEL')}"]
    if train.dataset:
        words.append(f"--dataset {option(train.dataset, 'DATASET')}")
    elif train.data:
        words.append(f"--data {option(train.data, 'DIR')}")
    tuned = option(shown_path(run.path.parent / f"{run.name}-tuned", run.path.parent), "runs/tuned")
    words.append(f"--out {tuned}")
    return " ".join(words)


def what_fills(run: Run) -> str:
    """What a run without a search reads here: the command that makes one, and what it would show."""
    command = tuning_command(run)
    words = command.split()
    placeholders = [f"`{word}`: {meaning}" for word, meaning in PLACEHOLDERS.items() if word in words]
    said = f" ({'; '.join(placeholders)})" if placeholders else ""
    return (
        f"**To fill this tab**, search this run's recipe: `{command}`{said}. It "
        "trains one choice of settings per trial (`--trials N` of them; each a training, so it takes "
        "a while), scores each on validation rows only, then trains a new run with the best "
        "settings. Open that run here to see each trial's validation accuracy and the best so far, "
        "the noise between two scorings of the same settings, how much each setting mattered, and "
        "every trial's settings in a table."
    )


def how_to_fill(run: Run) -> str:
    """What the tab says after its notice: `what_fills` for a run without a search, else nothing."""
    return "" if run.has(PART.name) else what_fills(run)


def build(page: TabPage) -> None:
    """Lay out the tab; filled from the run when first opened. Without a search, the notice is
    followed by what fills the tab (`what_fills`), for the run the page shows."""
    key = PART.name
    panel = Panel(page, (key,), what="search", key=key)
    told = how_to_fill(page.run)
    how = gr.Markdown(told, visible=bool(told), elem_id=f"{key}-how")

    def told_for(run: Run) -> dict[Any, Any]:
        told = how_to_fill(run)
        return {how: gr.update(value=told, visible=bool(told))}

    page.refresh(told_for, [how])
    with panel.content:
        text = gr.Markdown("", elem_id=f"{key}-summary")
        history = gr.Plot(label="Search history", elem_id=f"{key}-history")
        importances = gr.Plot(label="Importance of each setting", elem_id=f"{key}-importances")
        table = gr.Dataframe(None, label="Trials", interactive=False, elem_id=f"{key}-trials")
        gr.Markdown(glossed(*GLOSSED), elem_id=f"{key}-glosses")

    def fill(run: Run) -> dict[Any, Any]:
        report = run.get(PART)
        assert report is not None  # the panel fills only once the part is there
        return {
            text: summary(report),
            history: tuning_history(report),
            importances: tuning_importances(report) if report.importances else None,
            table: trials_table(report),
        }

    panel.fill_when_opened(fill, [text, history, importances, table])
