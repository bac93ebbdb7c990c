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
from agnews.analyses.slices.present import LOW_BY_CONSTRUCTION, SLICE_GAP
from agnews.analyses.slices.schema import PART as SLICES
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present.cards import LOOK
from agnews.present.glossary import perturbation_title
from agnews.present.tables import mistakes, with_tags
from agnews.rundir.parts import Manifest
from agnews.rundir.run import Run
from agnews.serving.predictor import Predictor
from agnews.stats import calibrated_ece_noise
from agnews.ui import build_app
from agnews.ui.errors import filter_mistakes
from agnews.ui.open_rows import RowsRequest
from agnews.ui.overview import cards


def by_key(run: Run) -> dict[str, Any]:
    return {card.key: card for card in cards(run)}


def test_each_judgement_follows_its_rule(run: Run) -> None:
    found = by_key(run)
    ece = run.get(CALIBRATION).after.ece
    noise = calibrated_ece_noise(run.predictions["confidence"].to_numpy(dtype=float))
    assert (found["calibration"].verdict == LOOK) == (ece.low > max(ECE_LIMIT, noise))
    worst_test = max(
        (t for t in run.get(ROBUSTNESS).tests if t.flip_rate is not None), key=lambda t: t.flip_rate
    )
    assert perturbation_title(worst_test.name) in found["robustness"].headline
    assert (found["robustness"].verdict == LOOK) == (worst_test.low > FLIP_LIMIT)
    overall, *tagged = run.get(SLICES).report.slices
    candidates = [
        s for s in tagged if s.rows and s.accuracy is not None and s.name not in LOW_BY_CONSTRUCTION
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
    updates = list(slices.fn().values())  # the card's mistakes, opened in the Errors tab
    [request] = [u for u in updates if isinstance(u, RowsRequest)]
    [selected] = [u for u in updates if isinstance(u, gr.Tabs)]
    wrong = mistakes(with_tags(run.predictions, run))
    true_name, pred_name, tag = by_key(run)["slices"].errors_filter
    expected = filter_mistakes(wrong, true_name, pred_name, "", tag)
    assert list(request.row_ids) == expected["row_id"].tolist() and by_key(run)["slices"].title in request.why
    assert selected.selected == "errors"
    [robustness] = [f for f in demo.fns.values() if f.api_name == "overview_robustness"]
    [landing] = robustness.fn().values()
    assert landing.selected == "robustness"
    [opened] = [f for f in demo.fns.values() if f.api_name == "overview_open"]
    texts = [str(update.get("value", "")) for update in opened.fn().values()]
    assert any(text.startswith("#### Accuracy") for text in texts) and json.dumps(
        str(texts)
    )  # redrawn from the run
