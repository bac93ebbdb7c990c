"""The Tuning tab: the search `agnews tune` ran to choose this run's settings (the `tuning` part).

Drawn from the part alone (history and importances were computed at tune time), so the app needs no
Optuna. A run not made by `agnews tune` says how to make one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr
import pandas as pd

from agnews.present.figures import tuning_history, tuning_importances
from agnews.rundir.parts import Tuning
from agnews.rundir.run import Run
from agnews.ui.panel import Panel


def summary(report: Tuning) -> str:
    """The search in a few lines: trials, the best against the preset's settings, the noise."""
    done = [t for t in report.trials if t.value is not None]
    pruned = sum(t.state == "pruned" for t in report.trials)
    preset = [t.value for t in report.trials if t.role == "noise" and t.value is not None]
    best = next(t for t in report.trials if t.number == report.best_trial)
    lines = [
        f"**{len(report.trials)} trials** ({pruned} pruned), objective: {report.objective}; "
        "test rows never read.",
        f"**Best: trial {best.number}**, {report.best_value:.2%} "
        + ", ".join(f"{k} = {v:.3g}" for k, v in best.params.items()),
    ]
    if preset:
        gain = report.best_value - sum(preset) / len(preset)
        lines.append(
            f"Against the preset's own settings ({', '.join(f'{v:.2%}' for v in preset)}): {gain:+.2%}."
        )
    if report.noise is not None:
        lines.append(
            "Noise of the objective (the preset's settings scored twice with other seeds): "
            f"{report.noise:.2%}. A gain not well above it is not evidence; compare seed groups with "
            "`agnews compare`."
        )
    if len(done) < 3:
        lines.append("Too few finished trials for importances.")
    return "\n\n".join(lines)


def trials_table(report: Tuning) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "trial": t.number,
                "role": t.role,
                "state": t.state,
                "validation accuracy": "—" if t.value is None else f"{t.value:.2%}",
                **{k: f"{v:.3g}" for k, v in t.params.items()},
                "seconds": "—" if t.seconds is None else f"{t.seconds:.0f}",
            }
            for t in report.trials
        ]
    )


def build(run: Run, tab: gr.Tab, *, current: Callable[[], Run]) -> None:
    """Lay out the tab; filled from the run when first opened."""
    panel = Panel(run, ("tuning",), what="search", key="tuning")
    if not panel.shown:
        return
    text = gr.Markdown("", elem_id="tuning-summary")
    history = gr.Plot(label="Search history", elem_id="tuning-history")
    importances = gr.Plot(label="Importance of each setting", elem_id="tuning-importances")
    table = gr.Dataframe(None, label="Trials", interactive=False, elem_id="tuning-trials")

    def fill(run: Run) -> dict[Any, Any]:
        report = run.tuning
        return {
            text: summary(report),
            history: tuning_history(report),
            importances: tuning_importances(report) if report.importances else None,
            table: trials_table(report),
        }

    panel.fill_when_opened(tab, fill, [text, history, importances, table], current=current)
