"""The Overview tab: each card's figure and judgement follow its stated rule on the run's parts, a
run without a part says how to add it, and each button lands on the view it names."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import gradio as gr
import numpy as np

from agnews.analyses.calibration.present import ECE_LIMIT
from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.analyses.robustness.present import FLIP_LIMIT
from agnews.analyses.robustness.schema import PART as ROBUSTNESS
from agnews.analyses.slices.present import MODEL_CHOSEN_SLICES, SLICE_GAP
from agnews.analyses.slices.schema import PART as SLICES
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present.cards import LOOK
from agnews.rundir.parts import Manifest
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.ui import build_app
from agnews.ui.overview import cards


def by_key(run: Run) -> dict[str, Any]:
    return {card.key: card for card in cards(run)}


def test_each_judgement_follows_its_rule(run: Run) -> None:
    found = by_key(run)
    assert (found["calibration"].verdict == LOOK) == (run.get(CALIBRATION).after.ece.value > ECE_LIMIT)
    worst_test = max(
        (t for t in run.get(ROBUSTNESS).tests if t.flip_rate is not None), key=lambda t: t.flip_rate
    )
    assert worst_test.name in found["robustness"].headline
    assert (found["robustness"].verdict == LOOK) == (worst_test.flip_rate > FLIP_LIMIT)
    overall, *tagged = run.get(SLICES).report.slices
    candidates = [
        s for s in tagged if s.rows and s.accuracy is not None and s.name not in MODEL_CHOSEN_SLICES
    ]
    weakest = min(candidates, key=lambda s: s.accuracy)
    assert found["slices"].errors_filter == ("any", "any", weakest.name)
    expected = weakest.accuracy <= overall.accuracy - SLICE_GAP and weakest.high < overall.accuracy
    assert (found["slices"].verdict == LOOK) == expected
    matrix = np.array(run.metrics.test.confusion_matrix)
    np.fill_diagonal(matrix, -1)
    true, pred = np.unravel_index(matrix.argmax(), matrix.shape)
    assert found["confusion"].errors_filter == (LABELS[true], LABELS[pred], "any")
    assert f"{matrix[true, pred]} rows" in found["confusion"].headline


def test_a_run_without_the_analyses_says_how_to_add_each(run: Run) -> None:
    bare = dataclasses.replace(run, manifest=Manifest(), warnings=[], loaded={})
    found = by_key(bare)
    for key, stage in (("calibration", "calibration"), ("slices", "slices"), ("robustness", "robustness")):
        headline = found[key].headline
        assert f"--stages {stage}`" in headline and "Not available for this run" in headline
    assert "agnews cross-domain" in found["cross-domain"].headline
    assert "Frozen base-model" not in found["accuracy"].headline  # no baseline part: not quoted


def test_the_page_opens_on_the_overview_and_its_buttons_land_on_their_views(run: Run) -> None:
    demo = build_app(run, Predictor.from_run(run))
    config = demo.get_config_file()
    tabs = [c for c in config["components"] if c.get("type") == "tabitem"]
    assert tabs[0]["props"]["label"] == "Overview"
    [slices] = [f for f in demo.fns.values() if f.api_name == "overview_slices"]
    true_name, pred_name, tag, selected = slices.fn()
    assert (true_name, pred_name, tag["value"]) == by_key(run)["slices"].errors_filter
    assert isinstance(selected, gr.Tabs) and selected.selected == "errors"
    [robustness] = [f for f in demo.fns.values() if f.api_name == "overview_robustness"]
    assert robustness.fn()[-1].selected == "robustness"
    [opened] = [f for f in demo.fns.values() if f.api_name == "overview_open"]
    texts = opened.fn()
    assert texts[0].startswith("#### Accuracy") and json.dumps(str(texts))  # redrawn from the run
