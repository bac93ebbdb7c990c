"""Figure builders are plain functions of data: checked here without Gradio or a browser."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agnews.labels import LABELS
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
    figure = figures.map_figure(frame, x="x", y="y", colour_by="true label")
    assert [t.type for t in figure.data] == ["scattergl"] * 4
    assert sum(len(t.x) for t in figure.data) == len(frame)
    assert figure.data[0].name == "World (10)"
    assert figure.data[0].marker.color == figures.CLASS_COLOURS["World"]
    hover = figure.data[0].customdata[0]
    assert hover[1] == "World" and "Headline 0" in hover[0]


def test_map_figure_colours_by_outcome_and_by_prediction() -> None:
    frame = points()
    outcome = figures.map_figure(frame, x="x", y="y", colour_by="correct vs wrong")
    assert [t.name for t in outcome.data] == ["correct (32)", "wrong (8)"]
    predicted = figures.map_figure(frame, x="x", y="y", colour_by="predicted label")
    assert [len(t.x) for t in predicted.data] == frame["pred_name"].value_counts()[list(LABELS)].tolist()
    with pytest.raises(ValueError, match="colour_by must be one of"):
        figures.map_figure(frame, x="x", y="y", colour_by="size")


def test_map_figure_marks_selection_and_placed_text() -> None:
    frame = points()
    figure = figures.map_figure(
        frame, x="x", y="y", hover=False, selected=103, placed=(0.5, -0.5), neighbours=[1, 2, 3]
    )
    names = [t.name for t in figure.data]
    assert names[-3:] == ["selected", "nearest stored texts", "your text"]
    assert list(figure.data[-3].x) == [frame.loc[3, "x"]]
    assert len(figure.data[-2].x) == 3
    assert (figure.data[-1].x[0], figure.data[-1].y[0]) == (0.5, -0.5)
    assert figure.data[0].customdata is None and figure.data[0].hoverinfo == "skip"


def test_map_figure_keeps_class_colours_when_filtered() -> None:
    frame = points()
    figure = figures.map_figure(frame[frame["label_name"] == "Sports"], x="x", y="y")
    sports = next(t for t in figure.data if t.name.startswith("Sports"))
    assert sports.marker.color == figures.CLASS_COLOURS["Sports"] and len(sports.x) == 10


def test_confusion_figure_annotates_counts_and_row_shares() -> None:
    matrix = [[8, 2, 0, 0], [0, 10, 0, 0], [1, 0, 3, 0], [0, 0, 0, 0]]
    figure = figures.confusion_figure(matrix)
    heatmap = figure.data[0]
    assert heatmap.text[0][0] == "8<br>80.0%" and heatmap.text[2][2] == "3<br>75.0%"
    assert np.allclose(np.asarray(heatmap.z)[0], [0.8, 0.2, 0, 0])
    assert np.allclose(np.asarray(heatmap.z)[3], 0)  # an empty row divides by nothing
    assert list(heatmap.x) == list(LABELS) and figure.layout.yaxis.autorange == "reversed"
    with pytest.raises(ValueError, match="expected 4x4"):
        figures.confusion_figure([[1, 2], [3, 4]])


def test_confusion_figure_of_some_true_classes_against_all_four() -> None:
    figure = figures.confusion_figure([[0, 6, 2, 2], [1, 0, 0, 3]], rows=["Sports", "Sci/Tech"])
    heatmap = figure.data[0]
    assert list(heatmap.y) == ["Sports", "Sci/Tech"] and list(heatmap.x) == list(LABELS)
    assert heatmap.text[0][1] == "6<br>60.0%" and heatmap.text[1][3] == "3<br>75.0%"
    with pytest.raises(ValueError, match="expected 2x4"):
        figures.confusion_figure([[1, 2, 3, 4]], rows=["Sports", "Sci/Tech"])


def test_class_distribution_has_one_bar_series_per_split_in_order() -> None:
    stats = {
        split: {"rows": 10, "class_counts": dict(zip(LABELS, (1, 2, 3, 4), strict=True))}
        for split in ("test", "train")
    }
    figure = figures.class_distribution_figure(stats)
    assert [t.name for t in figure.data] == ["train (10)", "test (10)"]
    assert list(figure.data[0].x) == [1, 2, 3, 4] and list(figure.data[0].y) == list(LABELS)


def test_length_histogram_counts_words_per_class() -> None:
    frame = points()
    figure = figures.length_histogram_figure(frame["text"], frame["label_name"])
    assert [t.name for t in figure.data] == list(LABELS)
    assert sum(len(t.x) for t in figure.data) == len(frame)
    assert figure.data[0].x[0] == 2  # "Headline 0"


def test_density_figure_has_one_panel_per_class_holding_its_points() -> None:
    frame = points(40)
    figure = figures.density_figure(frame, x="x", y="y", bins=8)
    assert [trace.name for trace in figure.data] == list(LABELS)
    for trace, name in zip(figure.data, LABELS, strict=True):
        assert np.asarray(trace.z).sum() == (frame["label_name"] == name).sum()


def test_headline_cuts_at_a_word_boundary() -> None:
    assert figures.headline("short text") == "short text"
    cut = figures.headline("word " * 50, width=30)
    assert len(cut) <= 30 and cut.endswith(" …")
