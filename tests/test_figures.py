"""Figure builders are plain functions of data: checked here without Gradio or a browser."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present import figures


def points(n: int = 40) -> pd.DataFrame:
    """A predictions-like frame with map coordinates: every 5th row is a mistake."""
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 4
    preds = np.where(np.arange(n) % 5 == 0, (labels + 1) % 4, labels)
    return pd.DataFrame(
        {
            "row_id": np.arange(100, 100 + n),
            "text": [f"Headline {i} " + "word " * (i % 30) for i in range(n)],
            "label": labels,
            "label_name": [LABELS[i] for i in labels],
            "pred": preds,
            "pred_name": [LABELS[i] for i in preds],
            "confidence": rng.uniform(0.3, 1.0, n),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
        }
    )


def test_map_figure_draws_every_point_in_one_webgl_trace_per_class() -> None:
    frame = points()
    figure = figures.map_figure(frame, x="x", y="y", classes=LABELS, colour_by="true label")
    assert [t.type for t in figure.data] == ["scattergl"] * 4
    assert sum(len(t.x) for t in figure.data) == len(frame)
    assert figure.data[0].name == "World (10)"
    assert figure.data[0].marker.color == figures.class_colours(LABELS)["World"]
    hover = figure.data[0].customdata[0]
    assert hover[1] == "World" and "Headline 0" in hover[0]


def test_map_figure_colours_by_outcome_and_by_prediction() -> None:
    frame = points()
    outcome = figures.map_figure(frame, x="x", y="y", classes=LABELS, colour_by="correct vs wrong")
    assert [t.name for t in outcome.data] == ["correct (32)", "wrong (8)"]
    predicted = figures.map_figure(frame, x="x", y="y", classes=LABELS, colour_by="predicted label")
    assert [len(t.x) for t in predicted.data] == frame["pred_name"].value_counts()[list(LABELS)].tolist()
    with pytest.raises(ValueError, match="colour_by must be one of"):
        figures.map_figure(frame, x="x", y="y", classes=LABELS, colour_by="size")


def test_map_figure_marks_selection_and_placed_text() -> None:
    frame = points()
    figure = figures.map_figure(
        frame,
        x="x",
        y="y",
        classes=LABELS,
        hover=False,
        selected=103,
        placed=(0.5, -0.5),
        neighbours=[1, 2, 3],
    )
    names = [t.name for t in figure.data]
    assert names[-3:] == ["selected", "nearest stored texts", "your text"]
    assert list(figure.data[-3].x) == [frame.loc[3, "x"]]
    assert len(figure.data[-2].x) == 3
    assert (figure.data[-1].x[0], figure.data[-1].y[0]) == (0.5, -0.5)
    assert figure.data[0].customdata is None and figure.data[0].hoverinfo == "skip"


def test_map_figure_keeps_class_colours_when_filtered() -> None:
    frame = points()
    figure = figures.map_figure(frame[frame["label_name"] == "Sports"], x="x", y="y", classes=LABELS)
    sports = next(t for t in figure.data if t.name.startswith("Sports"))
    assert sports.marker.color == figures.class_colours(LABELS)["Sports"] and len(sports.x) == 10


def test_confusion_figure_annotates_counts_and_row_shares() -> None:
    matrix = [[8, 2, 0, 0], [0, 10, 0, 0], [1, 0, 3, 0], [0, 0, 0, 0]]
    figure = figures.confusion_figure(matrix, LABELS)
    heatmap = figure.data[0]
    assert heatmap.text[0][0] == "8<br>80.0%" and heatmap.text[2][2] == "3<br>75.0%"
    assert np.allclose(np.asarray(heatmap.z)[0], [0.8, 0.2, 0, 0])
    assert np.allclose(np.asarray(heatmap.z)[3], 0)  # an empty row divides by nothing
    assert list(heatmap.x) == list(LABELS) and figure.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="expected 4x4"):
        figures.confusion_figure([[1, 2], [3, 4]], LABELS)


def test_confusion_figure_of_some_true_classes_against_all_four() -> None:
    figure = figures.confusion_figure([[0, 6, 2, 2], [1, 0, 0, 3]], LABELS, rows=["Sports", "Sci/Tech"])
    heatmap = figure.data[0]
    assert list(heatmap.y) == ["Sports", "Sci/Tech"] and list(heatmap.x) == list(LABELS)
    assert heatmap.text[0][1] == "6<br>60.0%" and heatmap.text[1][3] == "3<br>75.0%"
    with pytest.raises(ValueError, match="expected 2x4"):
        figures.confusion_figure([[1, 2, 3, 4]], LABELS, rows=["Sports", "Sci/Tech"])


def test_class_distribution_has_one_bar_series_per_split_in_order() -> None:
    stats = {
        split: {"rows": 10, "class_counts": dict(zip(LABELS, (1, 2, 3, 4), strict=True))}
        for split in ("test", "train")
    }
    figure = figures.class_distribution_figure(stats, LABELS)
    assert [t.name for t in figure.data] == ["train (10)", "test (10)"]
    assert list(figure.data[0].x) == [1, 2, 3, 4] and list(figure.data[0].y) == list(LABELS)


def test_length_histogram_counts_words_per_class() -> None:
    frame = points()
    figure = figures.length_histogram_figure(frame["text"], frame["label_name"], LABELS)
    assert [t.name for t in figure.data] == list(LABELS)
    assert sum(len(t.x) for t in figure.data) == len(frame)
    assert figure.data[0].x[0] == 2  # "Headline 0"


def test_density_figure_has_one_panel_per_class_holding_its_points() -> None:
    frame = points(40)
    figure = figures.density_figure(frame, x="x", y="y", classes=LABELS, bins=8)
    assert [trace.name for trace in figure.data] == list(LABELS)
    for trace, name in zip(figure.data, LABELS, strict=True):
        assert np.asarray(trace.z).sum() == (frame["label_name"] == name).sum()


def test_headline_cuts_at_a_word_boundary() -> None:
    assert figures.headline("short text") == "short text"
    cut = figures.headline("word " * 50, width=30)
    assert len(cut) <= 30 and cut.endswith(" …")


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a "#RRGGBB" sRGB colour."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = (
        (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047,
        0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
        (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """CIEDE2000 colour difference (Sharma, Wu and Dalal 2005, kL = kC = kH = 1)."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    mean_c = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(mean_c**7 / (mean_c**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dh = h2p - h1p
    dh = 0.0 if c1p * c2p == 0 else dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    d_big_h = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    mean_l, mean_cp = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        mean_h = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        mean_h = (h1p + h2p) / 2
    else:
        mean_h = (h1p + h2p + (360 if h1p + h2p < 360 else -360)) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(mean_h - 30))
        + 0.24 * math.cos(math.radians(2 * mean_h))
        + 0.32 * math.cos(math.radians(3 * mean_h + 6))
        - 0.20 * math.cos(math.radians(4 * mean_h - 63))
    )
    rc = 2 * math.sqrt(mean_cp**7 / (mean_cp**7 + 25**7))
    rt = -math.sin(math.radians(60 * math.exp(-(((mean_h - 275) / 25) ** 2)))) * rc
    sl = 1 + 0.015 * (mean_l - 50) ** 2 / math.sqrt(20 + (mean_l - 50) ** 2)
    sc, sh = 1 + 0.045 * mean_cp, 1 + 0.015 * mean_cp * t
    dl, dc, dhh = (l2 - l1) / sl, (c2p - c1p) / sc, d_big_h / sh
    return math.sqrt(dl**2 + dc**2 + dhh**2 + rt * dc * dhh)


@pytest.mark.parametrize(
    ("lab1", "lab2", "expected"),
    [  # Sharma, Wu and Dalal's published test pairs 1, 7 and 22
        ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
        ((50, 0, 0), (50, -1, 2), 2.3669),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ],
)
def test_ciede2000_gives_the_published_values(lab1: tuple, lab2: tuple, expected: float) -> None:
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_twenty_class_colours_and_the_other_grey_are_told_apart() -> None:
    """Every pair of the palette, and each against the grey of the rest, at CIEDE2000 >= 10; AG
    News keeps its four colours."""
    colours = [*figures.PALETTE, figures.OTHER_COLOUR]
    assert len(set(figures.PALETTE)) == figures.MAX_COLOURED == 20
    worst = min(ciede2000(_lab(a), _lab(b)) for a, b in itertools.combinations(colours, 2))
    assert worst >= 10
    assert list(figures.class_colours(LABELS).values()) == ["#4C78A8", "#F58518", "#54A24B", "#B279A2"]


def many_classes(k: int, n: int) -> tuple[list[str], pd.DataFrame]:
    """`k` hostile class names and `n` points whose class i has about i+1 shares of the rows."""
    classes = [f"<b>class {i}</b> / é" if i % 3 else str(1000 + i) for i in range(k)]
    weights = np.arange(1, k + 1) / np.arange(1, k + 1).sum()
    labels = np.random.default_rng(0).choice(k, size=n, p=weights)
    frame = points(n).assign(label=labels, pred=labels, label_name=[classes[i] for i in labels])
    return classes, frame.assign(pred_name=frame["label_name"])


def test_beyond_twenty_classes_the_largest_are_coloured_and_the_rest_are_one_grey_group() -> None:
    classes, frame = many_classes(25, 2_000)
    sizes = frame["label_name"].value_counts().to_dict()
    colours = figures.class_colours(classes, sizes)
    top = figures.top_classes(classes, sizes)
    assert (
        len(top) == 20 and list(colours)[:20] == top and colours["other (5 classes)"] == figures.OTHER_COLOUR
    )
    assert min(sizes.get(c, 0) for c in top) >= max(sizes.get(c, 0) for c in classes if c not in top)
    figure = figures.map_figure(frame, x="x", y="y", classes=classes)
    assert len(figure.data) == 21 and sum(len(t.x) for t in figure.data) == len(frame)
    assert figure.data[-1].name.startswith("other (5 classes)")
    assert all("<b>" not in t.name for t in figure.data)  # names escaped: shown as text
    density = figures.density_figure(frame, x="x", y="y", classes=classes, bins=4)
    assert len(density.data) == 21
    histogram = figures.length_histogram_figure(frame["text"], frame["label_name"], classes)
    assert len(histogram.data) == 21


def test_two_classes_keep_the_first_two_colours() -> None:
    assert figures.class_colours(["neg", "pos"]) == {"neg": "#4C78A8", "pos": "#F58518"}


def test_a_large_confusion_matrix_hides_ticks_and_cell_text_and_keeps_hover() -> None:
    classes, _ = many_classes(25, 10)
    matrix = np.eye(25, dtype=int).tolist()
    figure = figures.confusion_figure(matrix, classes)
    assert figure.layout.xaxis.showticklabels is False and figure.layout.yaxis.showticklabels is False
    assert figure.data[0].text is None and "true %{y}" in figure.data[0].hovertemplate
    assert all("<b>" not in name for name in figure.data[0].x)
    small = figures.confusion_figure([[3, 1], [0, 4]], ["neg", "pos"])
    assert small.layout.xaxis.showticklabels is True and small.data[0].text is not None
    change = figures.confusion_change_figure(matrix, classes)
    assert change.layout.xaxis.showticklabels is False
