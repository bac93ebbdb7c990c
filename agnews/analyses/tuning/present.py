"""How the tuning part reads: the search in a few lines, its trials, its history and the settings'
importances, its report section and the sentence the model card adds under the hyperparameters."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from agnews.analyses.tuning.schema import PART, Tuning
from agnews.formatting import number, percent, significant
from agnews.present.notices import part_notice
from agnews.present.sections import figure_html, markdown_section, section
from agnews.rundir.run import Run

TITLE = "Tuning"


def summary(report: Tuning) -> str:
    """The search in a few lines: trials, the best against the preset's settings, the noise."""
    done = [t for t in report.trials if t.value is not None]
    pruned = sum(t.state == "pruned" for t in report.trials)
    preset = [t.value for t in report.trials if t.role == "noise" and t.value is not None]
    best = next(t for t in report.trials if t.number == report.best_trial)
    lines = [
        f"**{len(report.trials)} trials** ({pruned} pruned), objective: {report.objective}; "
        "test rows never read.",
        f"**Best: trial {best.number}**, {percent(report.best_value, digits=2)} "
        + ", ".join(f"{k} = {significant(v)}" for k, v in best.params.items()),
    ]
    if preset:
        gain = report.best_value - sum(preset) / len(preset)
        scored = ", ".join(percent(v, digits=2) for v in preset)
        lines.append(f"Against the preset's own settings ({scored}): {percent(gain, digits=2, signed=True)}.")
    if report.noise is not None:
        lines.append(
            "Noise of the objective (the preset's settings scored twice with other seeds): "
            f"{percent(report.noise, digits=2)}. A gain not well above it is not evidence; compare seed "
            "groups with `agnews compare`."
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
                "validation accuracy": "—" if t.value is None else f"{percent(t.value, digits=2)}",
                **{k: f"{significant(v)}" for k, v in t.params.items()},
                "seconds": "—" if t.seconds is None else f"{number(t.seconds, digits=0)}",
            }
            for t in report.trials
        ]
    )


def tuning_history(report: Tuning) -> go.Figure:
    """Each finished trial's mean validation accuracy in the order run, the best so far as a line, and
    the objective's noise (two scorings of the preset's settings) as a band under the best."""
    done = [t for t in report.trials if t.value is not None]
    figure = go.Figure()
    for role, colour, name in (
        ("noise", "#7f7f7f", "preset's settings (noise)"),
        ("search", "#1f77b4", "search"),
    ):
        trials = [t for t in done if t.role == role]
        figure.add_scatter(
            x=[t.number for t in trials],
            y=[100 * t.value for t in trials],
            mode="markers",
            marker={"color": colour, "size": 9},
            name=name,
            hovertext=[", ".join(f"{k} {significant(v)}" for k, v in t.params.items()) for t in trials],
        )
    best, line = -1.0, []
    for trial in done:
        best = max(best, trial.value)
        line.append(100 * best)
    figure.add_scatter(
        x=[t.number for t in done], y=line, mode="lines", name="best so far", line={"shape": "hv"}
    )
    if report.noise is not None and done:
        top = 100 * report.best_value
        figure.add_hrect(y0=top - 100 * report.noise, y1=top, fillcolor="#ff7f0e", opacity=0.15, line_width=0)
    figure.update_layout(
        xaxis_title="trial",
        yaxis_title=f"validation accuracy, % ({report.objective})",
        height=380,
        margin={"t": 20},
    )
    return figure


def tuning_importances(report: Tuning) -> go.Figure:
    """How much of the objective's variation each setting explains (Optuna's fANOVA, at tune time)."""
    ranked = sorted(report.importances.items(), key=lambda item: item[1])
    figure = go.Figure(go.Bar(x=[v for _, v in ranked], y=[k for k, _ in ranked], orientation="h"))
    figure.update_layout(xaxis_title="importance (share of variance)", height=260, margin={"t": 20})
    return figure


def report_section(run: Run) -> str:
    """The HTML report's section: the search's history and importances, or why the run has none."""
    report = run.get(PART)
    if report is None:
        return section(TITLE, markdown_section(part_notice(run, PART.name, "hyperparameter search")))
    return section(
        TITLE,
        figure_html(tuning_history(report), "tuning-history"),
        figure_html(tuning_importances(report), "tuning-importances"),
    )


def model_card_sentence(run: Run) -> str | None:
    """What the model card says under the hyperparameters of a run whose settings a search chose."""
    report = run.get(PART)
    if report is None:
        return None
    noise = (
        ""
        if report.noise is None
        else f", against a noise of {number(report.noise)} between two scorings of the preset's own settings"
    )
    return (
        f"Chosen by `agnews tuning` (Optuna): {len(report.trials)} trials scored by {report.objective} "
        f"(test rows never read);\nthe best reached {number(report.best_value)}{noise}."
    )
