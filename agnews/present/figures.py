"""Plotly figure builders: plain functions of data, so they are tested without a browser or Gradio.

Colours are fixed per class (not assigned in order of appearance), so a class keeps its colour when
a filter removes another class, and every chart in the app agrees: class id `i` of a run with up to
`MAX_COLOURED` classes has `PALETTE[i]`. A run with more classes colours its `MAX_COLOURED` largest
and draws the rest as one grey group (`class_groups`): more colours than that stop being told apart.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from agnews.formatting import count, percent
from agnews.present.glossary import tag_title

# Twenty colours, every pair at least 10 apart in CIEDE2000 (tests/test_figures.py computes it), none
# near OTHER_COLOUR or too light to see on white. The first four are the colours AG News always had;
# the rest were picked greedily (farthest first) from the Tableau, ColorBrewer and Kelly palettes.
PALETTE: tuple[str, ...] = (
    "#4C78A8", "#F58518", "#54A24B", "#B279A2", "#654522", "#9EDAE5", "#FFD92F", "#BE0032", "#6A3D9A",
    "#FF9D98", "#439894", "#9E765F", "#B2DF8A", "#C2B280", "#CAB2D6", "#E45756", "#8DA0CB", "#E7298A",
    "#637939", "#A6761D",
)  # fmt: skip
MAX_COLOURED = len(PALETTE)
OTHER_COLOUR = "#BBBBBB"
OUTCOME_COLOURS = {"correct": "#A0AEC0", "wrong": "#E45756"}
COLOUR_BY = {"true label": "label_name", "predicted label": "pred_name", "correct vs wrong": "outcome"}
# A map can also be coloured by a smart tag (the `slices` part): "tag: short" highlights the points
# whose boolean column "tag_short" is true against the rest (`colour_choices` lists what a map offers).
TAG_CHOICE, TAG_COLUMN = "tag: ", "tag_"
TAG_COLOURS = {"other": "#CBD5E0", "tagged": "#D62728"}  # "other" first: the tagged points drawn on top
SPLIT_ORDER = ("train", "validation", "test")
DENSITY_COLUMNS = 5
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


def plot_text(text: str) -> str:
    """`text` (a class name: hostile input) escaped for Plotly, which renders names, ticks and
    titles as a subset of HTML and turns the entities back into the characters they stand for."""
    return html.escape(text, quote=False)


def other_group(hidden: int) -> str:
    """The name of the grey group that stands for `hidden` classes beyond the coloured ones."""
    return f"other ({count(hidden)} classes)"


def top_classes(classes: Sequence[str], sizes: Mapping[str, int] | None = None) -> list[str]:
    """The classes drawn in their own colour, in class-id order: all of them up to `MAX_COLOURED`,
    else the `MAX_COLOURED` largest by `sizes` (rows per class; a missing class counts 0; ties go
    to the lower class id, so the choice is deterministic)."""
    if len(classes) <= MAX_COLOURED:
        return list(classes)
    sizes = sizes or {}
    ranked = sorted(range(len(classes)), key=lambda i: (-sizes.get(classes[i], 0), i))
    return [classes[i] for i in sorted(ranked[:MAX_COLOURED])]


def class_colours(classes: Sequence[str], sizes: Mapping[str, int] | None = None) -> dict[str, str]:
    """Colour of each group a view draws, in drawing order: the `top_classes` (class id `i` gets
    `PALETTE[i]` when every class is coloured), then, beyond `MAX_COLOURED` classes, `other_group`."""
    shown = top_classes(classes, sizes)
    colours = dict(zip(shown, PALETTE, strict=False))
    if len(classes) > len(shown):
        colours[other_group(len(classes) - len(shown))] = OTHER_COLOUR
    return colours


def class_groups(
    names: pd.Series, classes: Sequence[str], sizes: Mapping[str, int] | None = None
) -> tuple[pd.Series, dict[str, str]]:
    """Each row's group (its class name, or `other_group` for a class not among the coloured ones)
    and `class_colours`. `sizes` defaults to the rows per class in `names`."""
    sizes = names.value_counts().to_dict() if sizes is None else sizes
    colours = class_colours(classes, sizes)
    if len(classes) <= MAX_COLOURED:
        return names, colours
    other = other_group(len(classes) - MAX_COLOURED)
    return names.where(names.isin(list(colours)), other), colours


def colour_choices(points: pd.DataFrame) -> list[tuple[str, str]]:
    """What a map of `points` can be coloured by, as (what the page shows, the value `colour_by`
    takes): `COLOUR_BY`, then each tag column the points carry, by its human name (`tag_title`)."""
    tags = [c.removeprefix(TAG_COLUMN) for c in points.columns if c.startswith(TAG_COLUMN)]
    return [
        *((name, name) for name in COLOUR_BY),
        *((TAG_CHOICE + tag_title(t), TAG_CHOICE + t) for t in tags),
    ]


def _colour_groups(
    points: pd.DataFrame, colour_by: str, classes: Sequence[str]
) -> tuple[pd.Series, dict[str, str]]:
    """Each point's group name under `colour_by`, and the colour of each group (in drawing order)."""
    if colour_by.startswith(TAG_CHOICE):
        tag = colour_by.removeprefix(TAG_CHOICE)
        if TAG_COLUMN + tag not in points.columns:
            raise ValueError(f"colour_by {colour_by!r}: the points carry no {TAG_COLUMN + tag!r} column")
        tagged = points[TAG_COLUMN + tag].to_numpy(dtype=bool)
        title = tag_title(tag)
        colours = {"other": TAG_COLOURS["other"], title: TAG_COLOURS["tagged"]}
        return pd.Series(np.where(tagged, title, "other"), index=points.index), colours
    if colour_by not in COLOUR_BY:
        known = [value for _, value in colour_choices(points)]
        raise ValueError(f"colour_by must be one of {known}, got {colour_by!r}")
    column = COLOUR_BY[colour_by]
    if column == "outcome":
        return _outcome(points), OUTCOME_COLOURS
    return class_groups(points[column], classes)


def map_figure(
    points: pd.DataFrame,
    *,
    x: str,
    y: str,
    classes: Sequence[str],
    colour_by: str = "true label",
    title: str = "",
    hover: bool = True,
    selected: int | None = None,
    placed: tuple[float, float] | None = None,
    neighbours: Sequence[int] = (),
) -> go.Figure:
    """Scatter of a 2-D map, one WebGL trace per colour group so the legend toggles groups.

    `points` is the predictions frame plus coordinate columns `x` and `y`; `classes` are the run's,
    in class-id order (they fix each class's colour, `class_groups`). All rows are drawn:
    Scattergl handles tens of thousands of points, so there is no sampling to hide outliers.
    `selected` (a row_id) is ringed; `placed` is a new text's position, drawn as a star with its
    `neighbours` (row positions in `points`) ringed. `hover=False` drops the per-point texts, which
    are most of the payload, for views that only need the picture.
    """
    groups, colours = _colour_groups(points, colour_by, classes)
    figure = go.Figure()
    for name, colour in colours.items():
        part = points[groups == name]
        trace: dict[str, Any] = {
            "x": part[x],
            "y": part[y],
            "mode": "markers",
            "name": f"{plot_text(name)} ({len(part)})",
            "marker": {"color": colour, "size": 5, "opacity": 0.7},
        }
        if hover:
            trace["ids"] = part["row_id"].astype(str).to_numpy()  # what a click or a selection reports
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


def density_figure(
    points: pd.DataFrame, *, x: str, y: str, classes: Sequence[str], bins: int = 40, title: str = ""
) -> go.Figure:
    """Per-class 2-D density of a map: the reference recipe's hexbin view, one panel per true class
    (beyond `MAX_COLOURED` classes: the largest ones and one panel for the rest, `class_groups`),
    in rows of at most DENSITY_COLUMNS panels.

    Counts are binned here with numpy on one grid shared by all panels, so the panels compare
    directly and the figure carries its numbers (testable without a browser).
    """
    from plotly.subplots import make_subplots

    xs, ys = points[x].to_numpy(), points[y].to_numpy()
    x_edges = np.linspace(xs.min(), xs.max(), bins + 1) if len(xs) else np.linspace(0, 1, bins + 1)
    y_edges = np.linspace(ys.min(), ys.max(), bins + 1) if len(ys) else np.linspace(0, 1, bins + 1)
    groups, colours = class_groups(points["label_name"], classes)
    columns = min(len(colours), DENSITY_COLUMNS)
    rows = math.ceil(len(colours) / columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[plot_text(name) for name in colours],
        shared_yaxes=True,
        vertical_spacing=0.3 / rows,
    )
    for position, (name, colour) in enumerate(colours.items()):
        mask = (groups == name).to_numpy()
        counts, _, _ = np.histogram2d(xs[mask], ys[mask], bins=[x_edges, y_edges])
        figure.add_trace(
            go.Heatmap(
                z=counts.T,
                x=(x_edges[:-1] + x_edges[1:]) / 2,
                y=(y_edges[:-1] + y_edges[1:]) / 2,
                colorscale=[[0, "rgba(255,255,255,0)"], [1, colour]],
                showscale=False,
                name=plot_text(name),
                hovertemplate="%{z:.0f} texts<extra></extra>",
            ),
            row=position // columns + 1,
            col=position % columns + 1,
        )
    figure.update_layout(**LAYOUT, title=title, height=60 + 240 * rows)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    return figure


def _class_axes(labels: Sequence[str], rows: Sequence[str]) -> dict[str, Any]:
    """Axes of a class-by-class heatmap: every class named up to `MAX_COLOURED` classes; beyond,
    no tick labels (they would overlap) and the hover box names the cell's classes."""
    named = max(len(labels), len(rows)) <= MAX_COLOURED
    return {
        "xaxis": {"title": "predicted", "side": "bottom", "showticklabels": named},
        "yaxis": {"title": "true", "autorange": "reversed", "showticklabels": named},
    }


def _heatmap_height(rows: int) -> int:
    """Room per row while each cell carries its numbers; a fixed square-ish size beyond that."""
    return 160 + 75 * rows if rows <= MAX_COLOURED else 760


def confusion_figure(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], rows: Sequence[str] | None = None
) -> go.Figure:
    """Heatmap of counts (rows = true class), coloured and annotated by row-normalised share.

    `labels`: the run's classes in class-id order. Colouring by the row share, not the raw count,
    keeps a small class's mistakes visible. `rows` names the true classes where they are not all of
    `labels` (a cross-domain file covering some). Beyond `MAX_COLOURED` classes the cells carry no
    text and the axes no tick labels (`_class_axes`): the hover box says it all, and the counts table
    beside the figure lists every class.
    """
    rows = list(labels if rows is None else rows)
    counts = np.asarray(matrix, dtype=np.int64)
    if counts.shape != (len(rows), len(labels)):
        raise ValueError(f"confusion matrix has shape {counts.shape}, expected {len(rows)}x{len(labels)}")
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    small = max(len(rows), len(labels)) <= MAX_COLOURED
    text = [
        [f"{c}<br>{percent(s)}" for c, s in zip(row_c, row_s, strict=True)]
        for row_c, row_s in zip(counts, share, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=share,
            x=[plot_text(name) for name in labels],
            y=[plot_text(name) for name in rows],
            text=text if small else None,
            texttemplate="%{text}" if small else None,
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
        **_class_axes(labels, rows),
        title="Confusion matrix (rows: true class)",
        height=_heatmap_height(len(rows)),
    )
    return figure


def confusion_change_figure(change: Sequence[Sequence[int]], labels: Sequence[str]) -> go.Figure:
    """Heatmap of B's confusion counts minus A's (rows = true class), zero in white.

    On the diagonal a positive count is more rows right; off it, more of that mistake. The colour
    follows that reading (blue: better for B, red: worse), so the eye needs no sign rule. Beyond
    `MAX_COLOURED` classes, as `confusion_figure`: no cell text, no tick labels, names on hover.
    """
    counts = np.asarray(change, dtype=np.int64)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(f"confusion change has shape {counts.shape}, expected {len(labels)}x{len(labels)}")
    better = np.where(np.eye(len(labels), dtype=bool), counts, -counts)
    limit = max(1, int(np.abs(counts).max()))
    small = len(labels) <= MAX_COLOURED
    names = [plot_text(name) for name in labels]
    figure = go.Figure(
        go.Heatmap(
            z=better,
            x=names,
            y=names,
            text=[[count(int(c), signed=True) if c else "0" for c in row] for row in counts]
            if small
            else None,
            texttemplate="%{text}" if small else None,
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
        **_class_axes(labels, labels),
        title="Confusion matrix, B - A (blue: better for B, red: worse)",
        height=420 if small else _heatmap_height(len(labels)),
    )
    return figure


def class_distribution_figure(data_stats: dict[str, Any], classes: Sequence[str]) -> go.Figure:
    """Rows per class for each split (horizontal bars, as in the reference recipe's chart), every one
    of `classes` (the run's, in class-id order), the figure growing with their number."""
    figure = go.Figure()
    for split in (s for s in SPLIT_ORDER if s in data_stats):
        counts = data_stats[split]["class_counts"]
        figure.add_trace(
            go.Bar(
                y=[plot_text(name) for name in classes],
                x=[counts.get(name, 0) for name in classes],
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
        height=max(380, 80 + 12 * len(classes) * len(data_stats)),
    )
    return figure


def length_histogram_figure(
    texts: pd.Series, labels: pd.Series, classes: Sequence[str], split: str = "test"
) -> go.Figure:
    """Words per text of a split (the run stores the test split's), one overlaid histogram per class
    (`labels`: each text's class name; beyond `MAX_COLOURED` classes the rest as one, `class_groups`)."""
    words = texts.str.split().str.len()
    groups, colours = class_groups(labels, classes)
    figure = go.Figure()
    for name, colour in colours.items():
        figure.add_trace(
            # One bin group: overlaid classes share bin edges, so their bars line up and compare.
            go.Histogram(
                x=words[groups == name],
                name=plot_text(name),
                marker={"color": colour},
                opacity=0.6,
                bingroup="words",
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
