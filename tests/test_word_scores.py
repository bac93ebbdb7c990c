"""Word scores: changes of the predicted class's probability (occlusion), drawn on one fixed scale with
a legend drawn by the same colour function; and the row editor's note on what an edit did.

`shown_words` and `drawn_changes` read the drawn HTML back (the app's tests use them on `/explain`).
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from agnews.present.word_scores import (
    FULL_SCALE,
    LEGEND_STEPS,
    legend_html,
    score_colour,
    size,
    word_scores_html,
)
from agnews.serving.word_scores import MAX_OCCLUDED_WORDS, occlusion_scores, one_word_removed
from agnews.ui.editor import change_note

CLASSES = ("World", "Sports", "Business", "Sci/Tech")
_WORD = re.compile(
    r'<span class="ws-word" data-change="([^"]*)" style="background-color: ([^"]*)"[^>]*>([^<]*)'
)
_SWATCH = re.compile(r'<span class="ws-swatch" data-change="([^"]*)" style="background-color: ([^"]*)"')


def shown_words(drawn: str) -> list[str]:
    """The words of drawn word scores, as a reader sees them."""
    return [html.unescape(word) for _, _, word in _WORD.findall(drawn)]


def drawn_changes(drawn: str) -> list[float | None]:
    """The score each drawn word carries (None: not scored)."""
    return [float(change) if change else None for change, _, _ in _WORD.findall(drawn)]


def test_a_score_is_the_predicted_class_probability_with_the_word_minus_without_it() -> None:
    probs = np.array([0.9, 0.04, 0.03, 0.03])
    without = np.array(
        [
            [0.5, 0.2, 0.2, 0.1],  # "Pakistan" removed: World falls 40 points, so it supports World
            [0.96, 0.02, 0.01, 0.01],  # "cricket" removed: World rises 6 points, so it argues against
            [0.9, 0.04, 0.03, 0.03],  # "the" removed: nothing changes
        ]
    )
    scores = occlusion_scores(CLASSES, probs, ["Pakistan", "cricket", "the"], without)
    assert (scores.label, scores.probability) == ("World", pytest.approx(0.9))
    assert scores.changes == pytest.approx((0.4, -0.06, 0.0))
    assert scores.changes[1] < 0  # a word whose removal raises the prediction's probability
    assert [size(change) for change in scores.changes] == ["+40.0", "-6.0", "0"]  # percentage points


def test_only_the_first_words_are_occluded_and_the_rest_say_so() -> None:
    words = [f"w{i}" for i in range(MAX_OCCLUDED_WORDS + 5)]
    variants = one_word_removed(words)
    assert len(variants) == MAX_OCCLUDED_WORDS
    assert variants[0].split() == words[1:] and variants[3].split() == words[:3] + words[4:]
    without = np.tile([0.7, 0.1, 0.1, 0.1], (MAX_OCCLUDED_WORDS, 1))
    scores = occlusion_scores(CLASSES, np.array([0.8, 0.1, 0.05, 0.05]), words, without)
    assert scores.unscored == 5 and scores.changes[-5:] == (None,) * 5
    with pytest.raises(ValueError, match="one row per scored word"):
        occlusion_scores(CLASSES, np.array([0.8, 0.1, 0.05, 0.05]), words, without[:3])


def test_colours_are_one_fixed_scale_with_the_sign_as_the_hue() -> None:
    # The same change has the same shade in any text: not rescaled to a text's strongest word.
    weak = word_scores_html("World", 0.9, ["a", "b"], [0.05, 0.01])
    strong = word_scores_html("World", 0.6, ["a", "b"], [0.05, 0.5])
    assert _WORD.findall(weak)[0][1] == _WORD.findall(strong)[0][1] == score_colour(0.05)
    assert score_colour(0.05) != score_colour(0.2)
    assert score_colour(FULL_SCALE) == score_colour(0.9)  # saturates at full scale
    rgb = re.compile(r"rgba\((\d+), (\d+), (\d+), ([\d.]+)\)")
    support, against = rgb.match(score_colour(0.1)), rgb.match(score_colour(-0.1))
    assert support and against
    assert support.groups()[:3] != against.groups()[:3] and support[4] == against[4]
    assert score_colour(None) == "transparent"


def test_the_legend_swatches_are_drawn_by_the_words_colour_function() -> None:
    swatches = _SWATCH.findall(legend_html("World"))
    steps = [float(change) for change, _ in swatches]
    assert steps == [-s for s in reversed(LEGEND_STEPS)] + [0.0] + list(LEGEND_STEPS)
    assert all(colour == score_colour(float(change)) for change, colour in swatches)
    legend = legend_html("World")
    assert legend.index("against World") < legend.index("for World")  # two-sided
    assert not re.search(r"\b(blue|red|purple)\b", legend)  # colours are shown, not named


def test_words_are_drawn_as_text_with_their_size() -> None:
    words = ["<img src=x onerror=alert(1)>", "${document.title}", "{{value}}", "Oil"]
    drawn = word_scores_html("<b>World</b>", 0.9, words, [0.1, -0.02, None, 0.0])
    assert shown_words(drawn) == words
    assert "<img" not in drawn and "<b>World" not in drawn
    assert drawn_changes(drawn) == [0.1, -0.02, None, 0.0]
    assert [colour for _, colour, _ in _WORD.findall(drawn)] == [
        score_colour(c) for c in (0.1, -0.02, None, 0.0)
    ]
    assert "<sub>+10.0</sub>" in drawn and "<sub>-2.0</sub>" in drawn and "The last 1 words" in drawn


def test_the_editor_says_what_the_edit_did_to_the_original_prediction() -> None:
    original = {"World": 0.9, "Sports": 0.1}
    assert change_note(original, original).endswith("The prediction stays **World**.")
    note = change_note(original, {"World": 0.3, "Sports": 0.7})
    assert "90.0% in the original, 30.0% in the edit (-60.0 pts)" in note
    assert note.endswith("changes to **Sports** (70.0%).")
