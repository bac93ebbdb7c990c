"""Slices and smart tags: each tag on hand-made rows, Wilson intervals, the stage on
the quick run (with and without the calibration and label-issue parts it draws on), and the panels'
pieces (slice table, tag colouring of the map, the Errors tab's tag filter)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.label_issues.schema import TEST_PART as LABEL_ISSUES_TEST
from agnews.analyses.slices import numeric as slices
from agnews.analyses.slices import present as slices_tab
from agnews.analyses.slices.schema import PART as SLICES
from agnews.analyses.slices.stage import TAGS
from agnews.present import tables
from agnews.present.figures import colour_choices, map_figure
from agnews.present.glossary import tag_title
from agnews.present.markup import literal
from agnews.present.tables import row_tags, with_tags
from agnews.rundir.edit import edit_run
from agnews.rundir.run import Run
from agnews.stats import wilson_interval, word_counts
from agnews.training.stages import analyze_run
from agnews.training.tfidf_neighbours import NEAR_DUPLICATE_COSINE, train_neighbours
from agnews.ui import errors

# --------------------------------------------------------------------------------------------------
# Tags on hand-made rows
# --------------------------------------------------------------------------------------------------

AGENCY_TEXTS = {
    "Oil Rises (Reuters) Reuters - Crude prices rose on Monday.": True,
    "Ky. Company Wins Grant (AP) AP - A company founded by a researcher won a grant.": True,
    "AP - A company founded by a chemistry researcher won a grant.": True,
    "Blast in Baghdad BAGHDAD (AFP) - A car bomb exploded.": True,
    "Leafs Win TORONTO (CP) -- The Maple Leafs won again.": True,
    "APPLE unveils a new iPod for the holidays.": False,
    "A new map of the city shows every road.": False,
    "The AP stylebook changes its rules on Internet.": False,
    "Reutersville mayor resigns after a long dispute.": False,
    "TAP - water prices rise in the city.": False,
    "Stocks fall, reuters - lower case is not the marker.": False,
    "Photo (AP Photo) of the day shows a river.": False,
}


def test_agency_tag_matches_markers_not_letters() -> None:
    texts = list(AGENCY_TEXTS)
    assert slices.agency_tags(texts).tolist() == list(AGENCY_TEXTS.values())


def test_length_cutoffs_come_from_the_training_percentiles() -> None:
    cutoffs = slices.length_cutoffs(np.arange(1, 101))  # 10th percentile 10.9, 90th 90.1
    assert (cutoffs.short_max_words, cutoffs.long_min_words) == (10, 91)
    assert word_counts(["one two  three", "x", ""]).tolist() == [3, 1, 0]
    with pytest.raises(ValueError, match="no training rows"):
        slices.length_cutoffs(np.array([], dtype=int))


def test_near_duplicates_and_conflicting_neighbours_in_tfidf_space() -> None:
    train = [
        "Oil prices climb as OPEC agrees to cut output in Vienna talks",
        "Yankees beat Red Sox in extra innings at Fenway Park",
        "Microsoft releases a security patch for Windows XP users",
        "Stocks slide on Wall Street as oil prices climb",
    ]
    test = [
        "Oil prices climb as OPEC agrees to cut output in Vienna talks; stocks slide",  # row 0 and more
        "Red Sox sign a new pitcher for next season",  # shares two words with row 1
        "Astronomers find water ice on a distant moon",  # shares no word with any training row
    ]
    near = train_neighbours(train, test, k=3)
    assert near.index[:, 0].tolist()[:2] == [0, 1]
    assert 1.0 > near.similarity[0, 0] >= NEAR_DUPLICATE_COSINE > near.similarity[1, 0] > 0.0
    assert near.similarity[2, 0] == pytest.approx(0.0)
    assert np.all(np.diff(near.similarity, axis=1) <= 1e-6)  # most similar first

    labels = np.array([0, 0, 0])
    neighbour_labels = np.array([[1, 1, 1, 1, 1, 1, 0, 0, 0, 0], [1] * 5 + [0] * 5, [2] * 10])
    assert slices.conflicting_neighbours(neighbour_labels, labels).tolist() == [True, False, True]


def test_wilson_interval_is_scipys() -> None:
    from scipy.stats import binomtest

    for k, n in ((8, 10), (0, 5), (118, 118), (6802, 7600), (1, 1), (3, 1000)):
        scipys = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((scipys.low, scipys.high), abs=1e-12)
    empty = slices.slice_accuracy("empty", np.array([], dtype=bool))
    assert (empty.rows, empty.accuracy, empty.low) == (0, None, None)


def test_slice_table_starts_with_all_rows() -> None:
    tags = pd.DataFrame({"short": [True, True, False, False], "long": [False, False, False, False]})
    table = slices.slice_table(tags, np.array([True, False, True, True]))
    lines = [(s.name, s.rows, s.correct) for s in table]
    assert lines == [("all rows", 4, 3), ("short", 2, 1), ("long", 0, 0)]


# --------------------------------------------------------------------------------------------------
# Dataset checks
# --------------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------------
# The stage on the quick run
# --------------------------------------------------------------------------------------------------


def test_the_run_has_a_valid_slices_part(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    value = run.get(SLICES)
    assert value is not None, run.warnings
    report, tags = value.report, value.tags
    assert tags["row_id"].tolist() == run.predictions["row_id"].tolist()
    assert list(tags.columns) == ["row_id", *report.tags]
    assert set(report.tags) | set(report.not_computed) == set(TAGS)
    correct = (run.predictions["label"] == run.predictions["pred"]).to_numpy()
    assert report.slices[0].name == "all rows"
    assert report.slices[0].accuracy == pytest.approx(run.metrics.test.accuracy)
    for line in report.slices[1:]:
        rows = tags[line.name].to_numpy(dtype=bool)
        assert (line.rows, line.correct) == (rows.sum(), correct[rows].sum())
    # The tags the quick run's default stages feed: both parts come before slices.
    threshold = run.get(CALIBRATION).review_threshold
    if threshold is None:
        assert "low_confidence" in report.not_computed
    else:
        expected = run.predictions["confidence"].to_numpy() < threshold
        assert tags["low_confidence"].tolist() == expected.tolist()
    assert tags["likely_mislabelled"].tolist() == run.get(LABEL_ISSUES_TEST)["flagged"].tolist()
    inputs = run.manifest.parts["slices"].made_from.keys()
    assert inputs >= {"predictions", "calibration", "label_issues_test"}


def test_stage_without_calibration_or_label_issues_says_so(synthetic_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "run"
    shutil.copytree(synthetic_run, path)
    with edit_run(path) as edit:
        for name in ("calibration", "label_issues_test", "slices"):
            if name in edit.manifest.parts:
                edit.remove(name)
    assert analyze_run(path, ("slices",), progress=False) == {}
    run = Run.load(path)
    report = run.get(SLICES).report
    assert set(report.not_computed) >= {"low_confidence", "likely_mislabelled"}
    assert "--stages calibration,slices" in report.not_computed["low_confidence"]
    assert not {"low_confidence", "likely_mislabelled"} & set(
        run.get(SLICES).tags.columns
    )  # absent, not False
    assert "calibration" not in run.manifest.parts["slices"].made_from


# --------------------------------------------------------------------------------------------------
# Panels' pieces
# --------------------------------------------------------------------------------------------------


def test_slice_table_and_figure(synthetic_run: Path) -> None:
    report = Run.load(synthetic_run).get(SLICES).report
    table = slices_tab.slice_table(report)
    assert table.columns.tolist() == ["slice", "rows", "accuracy", "95% interval", "vs all rows"]
    assert table["slice"].tolist() == [tag_title(s.name) for s in report.slices]  # no snake_case
    figure = slices_tab.slice_figure(slices_tab.slice_numbers(report))
    drawn = [s for s in report.slices[1:] if s.rows]
    assert len(figure.data[0].x) == len(drawn)
    for tag, why in report.not_computed.items():
        assert f"**{tag_title(tag)}**: not computed: {literal(why)}" in slices_tab.definitions(report)


def test_map_colours_by_tag_and_errors_filter_by_tag(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    points = with_tags(run.predictions, run).assign(x=0.0, y=0.0)
    assert [c for c in colour_choices(points) if c[1].startswith("tag: ")] == [
        (f"tag: {tag_title(t)}", f"tag: {t}") for t in row_tags(run)
    ]  # the page shows the human names; the values stay the tag keys
    short = int(points["tag_short"].sum())
    figure = map_figure(points, x="x", y="y", classes=run.classes, colour_by="tag: short")
    assert [t.name for t in figure.data] == [f"other ({len(points) - short})", f"Short text ({short})"]
    with pytest.raises(ValueError, match="no 'tag_nope' column"):
        map_figure(points, x="x", y="y", classes=run.classes, colour_by="tag: nope")

    wrong = tables.mistakes(points)
    tagged = errors.filter_mistakes(wrong, errors.ANY, errors.ANY, "", "short")
    assert tagged["row_id"].tolist() == wrong[wrong["tag_short"]]["row_id"].tolist()
    assert len(errors.filter_mistakes(wrong, errors.ANY, errors.ANY, "", errors.ANY)) == len(wrong)


def test_model_card_has_the_slice_table(synthetic_run: Path) -> None:
    from agnews.hub.card import build_model_card

    run = Run.load(synthetic_run)
    card = str(build_model_card(run, "someone/agnews-quick"))
    first = run.get(SLICES).report.slices[0]
    assert "### Accuracy by slice" in card
    assert f"| all rows | {first.rows} | {first.accuracy:.4f} | {first.low:.4f} to {first.high:.4f} |" in card
