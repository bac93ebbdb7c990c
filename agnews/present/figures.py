"""Plotly figure builders: plain functions of data, so they are tested without a browser or Gradio.

Colours are fixed per class (not assigned in order of appearance), so a class keeps its colour when
a filter removes another class, and every chart in the app agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from agnews.formatting import count, percent
from agnews.labels import LABELS

CLASS_COLOURS: dict[str, str] = dict(zip(LABELS, ("#4C78A8", "#F58518", "#54A24B", "#B279A2"), strict=True))
OUTCOME_COLOURS = {"correct": "#A0AEC0", "wrong": "#E45756"}
COLOUR_BY = {"true label": "label_name", "predicted label": "pred_name", "correct vs wrong": "outcome"}
# A map can also be coloured by a smart tag (the `slices` part): "tag: short" highlights the points
# whose boolean column "tag_short" is true against the rest (`colour_choices` lists what a map offers).
TAG_CHOICE, TAG_COLUMN = "tag: ", "tag_"
TAG_COLOURS = {"other": "#CBD5E0", "tagged": "#D62728"}  # "other" first: the tagged points drawn on top
SPLIT_ORDER = ("train", "validation", "test")
LAYOUT: dict[str, Any] = {"template": "plotly_white", "margin": {"l": 40, "r": 20, "t": 50, "b": 40}}


def headline(text: str, width: int = 90) -> str:
    """The start of a text, at most `width` characters, cut at a word boundary and marked " …".

    AG News texts are title + description. Not `textwrap.shorten`: it re-splits the whole text into
    words and was most of the app's start-up spent on the map (7,600 hover texts, ~2 s).
    """
    if len(text) <= width:
        return text
    cut = text[: width - 1]  # the marker takes two characters, the space before it one of them
    space = cut.rfind(" ")
    return f"{cut[:space] if space > 0 else cut[: width - 2]} …"


def _hover_text(text: str, width: int = 60) -> str:
    """The headline in lines of about `width` characters for a hover box (greedy, by words; a
    plain loop because `textwrap.wrap` cost over a second for the 7,600 points at start-up)."""
    lines: list[str] = []
    line = ""
    for word in headline(text, 160).split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(lines)


def _outcome(points: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(points["label"] == points["pred"], "correct", "wrong"), index=points.index)


def colour_choices(points: pd.DataFrame) -> list[str]:
    """What a map of `points` can be coloured by: `COLOUR_BY`, then each tag column the points carry."""
    tags = [c.removeprefix(TAG_COLUMN) for c in points.columns if c.startswith(TAG_COLUMN)]
    return [*COLOUR_BY, *(TAG_CHOICE + tag for tag in tags)]


def _colour_groups(points: pd.DataFrame, colour_by: str) -> tuple[pd.Series, dict[str, str]]:
    """Each point's group name under `colour_by`, and the colour of each group (in drawing order)."""
    if colour_by.startswith(TAG_CHOICE):
        tag = colour_by.removeprefix(TAG_CHOICE)
        if TAG_COLUMN + tag not in points.columns:
            raise ValueError(f"colour_by {colour_by!r}: the points carry no {TAG_COLUMN + tag!r} column")
        tagged = points[TAG_COLUMN + tag].to_numpy(dtype=bool)
        colours = {"other": TAG_COLOURS["other"], tag: TAG_COLOURS["tagged"]}
        return pd.Series(np.where(tagged, tag, "other"), index=points.index), colours
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {colour_choices(points)}, got {colour_by!r}")
    column = COLOUR_BY[colour_by]
    if column == "outcome":
        return _outcome(points), OUTCOME_COLOURS
    return points[column], CLASS_COLOURS


def map_figure(
    points: pd.DataFrame,
    *,
    x: str,
    y: str,
    colour_by: str = "true label",
    title: str = "",
    hover: bool = True,
    selected: int | None = None,
    placed: tuple[float, float] | None = None,
    neighbours: Sequence[int] = (),
) -> go.Figure:
    """Scatter of a 2-D map, one WebGL trace per colour group so the legend toggles groups.

    `points` is the predictions frame plus coordinate columns `x` and `y`. All rows are drawn:
    Scattergl handles tens of thousands of points, so there is no sampling to hide outliers.
    `selected` (a row_id) is ringed; `placed` is a new text's position, drawn as a star with its
    `neighbours` (row positions in `points`) ringed. `hover=False` drops the per-point texts, which
    are most of the payload, for views that only need the picture.
    """
    groups, colours = _colour_groups(points, colour_by)
    figure = go.Figure()
    for name, colour in colours.items():
        part = points[groups == name]
        trace: dict[str, Any] = {
            "x": part[x],
            "y": part[y],
            "mode": "markers",
            "name": f"{name} ({len(part)})",
            "marker": {"color": colour, "size": 5, "opacity": 0.7},
        }
        if hover:
            trace["customdata"] = np.column_stack(
                [
                    part["text"].map(_hover_text),
                    part["label_name"],
                    part["pred_name"],
                    part["confidence"],
                    part["row_id"],
                ]
            )
            trace["hovertemplate"] = (
                "%{customdata[0]}<br><b>true</b> %{customdata[1]} · <b>predicted</b> %{customdata[2]}"
                " (%{customdata[3]:.0%})<br>row %{customdata[4]}<extra></extra>"
            )
        else:
            trace["hoverinfo"] = "skip"
        figure.add_trace(go.Scattergl(**trace))
    ring = {"size": 14, "color": "rgba(0,0,0,0)", "line": {"color": "black", "width": 2}}
    if selected is not None:
        chosen = points[points["row_id"] == selected]
        figure.add_trace(go.Scattergl(x=chosen[x], y=chosen[y], mode="markers", name="selected", marker=ring))
    if placed is not None:
        near = points.iloc[list(neighbours)]
        figure.add_trace(
            go.Scattergl(x=near[x], y=near[y], mode="markers", name="nearest stored texts", marker=ring)
        )
        figure.add_trace(
            go.Scattergl(
                x=[placed[0]],
                y=[placed[1]],
                mode="markers",
                name="your text",
                marker={
                    "symbol": "star",
                    "size": 18,
                    "color": "gold",
                    "line": {"color": "black", "width": 1},
                },
            )
        )
    figure.update_layout(
        **LAYOUT,
        title=title,
        legend={"itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        height=520,
    )
    return figure


def density_figure(points: pd.DataFrame, *, x: str, y: str, bins: int = 40, title: str = "") -> go.Figure:
    """Per-class 2-D density of a map: the reference recipe's hexbin view, one panel per true class.

    Counts are binned here with numpy on one grid shared by all panels, so the panels compare
    directly and the figure carries its numbers (testable without a browser).
    """
    from plotly.subplots import make_subplots

    xs, ys = points[x].to_numpy(), points[y].to_numpy()
    x_edges = np.linspace(xs.min(), xs.max(), bins + 1) if len(xs) else np.linspace(0, 1, bins + 1)
    y_edges = np.linspace(ys.min(), ys.max(), bins + 1) if len(ys) else np.linspace(0, 1, bins + 1)
    figure = make_subplots(rows=1, cols=len(LABELS), subplot_titles=LABELS, shared_yaxes=True)
    for column, name in enumerate(LABELS, start=1):
        mask = (points["label_name"] == name).to_numpy()
        counts, _, _ = np.histogram2d(xs[mask], ys[mask], bins=[x_edges, y_edges])
        figure.add_trace(
            go.Heatmap(
                z=counts.T,
                x=(x_edges[:-1] + x_edges[1:]) / 2,
                y=(y_edges[:-1] + y_edges[1:]) / 2,
                colorscale=[[0, "rgba(255,255,255,0)"], [1, CLASS_COLOURS[name]]],
                showscale=False,
                name=name,
                hovertemplate=f"{name}: %{{z:.0f}} texts<extra></extra>",
            ),
            row=1,
            col=column,
        )
    figure.update_layout(**LAYOUT, title=title, height=300)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    return figure


def confusion_figure(
    matrix: Sequence[Sequence[int]], labels: Sequence[str] = LABELS, rows: Sequence[str] | None = None
) -> go.Figure:
    """Heatmap of counts (rows = true class), coloured and annotated by row-normalised share.

    Colouring by the row share, not the raw count, keeps a small class's mistakes visible. `rows`
    names the true classes where they are not all of `labels` (a cross-domain file covering some).
    """
    rows = list(labels if rows is None else rows)
    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(rows), len(labels)):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected {len(rows)}x{len(labels)}")
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    text = [
        [f"{c}<br>{percent(s)}" for c, s in zip(row_c, row_s, strict=True)]
        for row_c, row_s in zip(counts, share, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=share,
            x=list(labels),
            y=rows,
            text=text,
            texttemplate="%{text}",
            customdata=counts,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": "share of row", "tickformat": ".0%"},
            hovertemplate="true %{y} → predicted %{x}<br>%{customdata} rows (%{z:.1%} of row)<extra></extra>",
        )
    )
    figure.update_layout(
        **LAYOUT,
        title="Confusion matrix (rows: true class)",
        xaxis={"title": "predicted", "side": "bottom"},
        yaxis={"title": "true", "autorange": "reversed"},
        height=160 + 75 * len(rows),
    )
    return figure


def confusion_change_figure(change: Sequence[Sequence[int]], labels: Sequence[str] = LABELS) -> go.Figure:
    """Heatmap of B's confusion counts minus A's (rows = true class), zero in white.

    On the diagonal a positive count is more rows right; off it, more of that mistake. The colour
    follows that reading (blue: better for B, red: worse), so the eye needs no sign rule.
    """
    counts = np.asarray(change, dtype=np.int64)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(f"confusion change has shape {counts.shape}, expected {len(labels)}x{len(labels)}")
    better = np.where(np.eye(len(labels), dtype=bool), counts, -counts)
    limit = max(1, int(np.abs(counts).max()))
    figure = go.Figure(
        go.Heatmap(
            z=better,
            x=list(labels),
            y=list(labels),
            text=[[count(int(c), signed=True) if c else "0" for c in row] for row in counts],
            texttemplate="%{text}",
            customdata=counts,
            colorscale="RdBu",
            zmid=0,
            zmin=-limit,
            zmax=limit,
            showscale=False,
            hovertemplate="true %{y} → predicted %{x}<br>B - A: %{customdata:+d} rows<extra></extra>",
        )
    )
    figure.update_layout(
        **LAYOUT,
        title="Confusion matrix, B - A (blue: better for B, red: worse)",
        xaxis={"title": "predicted", "side": "bottom"},
        yaxis={"title": "true", "autorange": "reversed"},
        height=420,
    )
    return figure


def class_distribution_figure(data_stats: dict[str, Any]) -> go.Figure:
    """Rows per class for each split (horizontal bars, as in the reference recipe's chart)."""
    figure = go.Figure()
    for split in (s for s in SPLIT_ORDER if s in data_stats):
        counts = data_stats[split]["class_counts"]
        figure.add_trace(
            go.Bar(
                y=list(LABELS),
                x=[counts.get(name, 0) for name in LABELS],
                name=f"{split} ({data_stats[split].get('rows', sum(counts.values()))})",
                orientation="h",
                hovertemplate="%{y}: %{x} rows<extra>" + split + "</extra>",
            )
        )
    figure.update_layout(
        **LAYOUT,
        title="Class distribution per split",
        barmode="group",
        xaxis={"title": "rows"},
        yaxis={"autorange": "reversed"},
        height=380,
    )
    return figure


def length_histogram_figure(texts: pd.Series, labels: pd.Series, split: str = "test") -> go.Figure:
    """Words per text of a split (the run stores the test split's), one overlaid histogram per class."""
    words = texts.str.split().str.len()
    figure = go.Figure()
    for name, colour in CLASS_COLOURS.items():
        figure.add_trace(
            # One bin group: overlaid classes share bin edges, so their bars line up and compare.
            go.Histogram(
                x=words[labels == name], name=name, marker={"color": colour}, opacity=0.6, bingroup="words"
            )
        )
    figure.update_layout(
        **LAYOUT,
        title=f"Words per text ({split} split)",
        barmode="overlay",
        xaxis={"title": "words"},
        yaxis={"title": "texts"},
        height=380,
    )
    return figure
