"""Word scores drawn as HTML: each word shaded by its score on one fixed scale, with its size written
beside it, and a two-sided legend whose swatches come from the same colour function as the words.

A score is a change of the predicted class's probability (`agnews.serving.word_scores`), so the
scale is the same for every text: a word that moves the probability by 5 points has the same shade
in a 96% headline as in a 40% one. Shade grows with the square root of the change, saturating at
FULL_SCALE, so that the small changes typical of confident texts stay visible and large ones stay
apart; the legend writes out what each shade means. The words are the user's text: every one is
HTML-escaped, so it shows as its characters.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from agnews.formatting import percent, points, points_value

# A change of this much (50 percentage points) or more is drawn at full strength.
FULL_SCALE = 0.5
# The legend's swatches on each side, as changes of probability.
LEGEND_STEPS = (0.01, 0.05, 0.2, 0.5)
# ColorBrewer RdBu's ends: a diverging pair told apart with the common colour-vision deficiencies.
SUPPORTS_RGB = (202, 0, 32)
AGAINST_RGB = (5, 113, 176)
UNSCORED = "transparent"
# Scoped to the component (gr.HTML's css_template): words wrap like text, each keeping its number.
CSS = """
.ws-summary { margin: 0 0 6px; }
.ws-legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px; margin: 0 0 8px;
  font-size: 0.85em; }
.ws-swatch { display: inline-block; min-width: 2.6em; padding: 1px 4px; border-radius: 3px;
  text-align: center; border: 1px solid rgba(128, 128, 128, 0.35); }
.ws-words { line-height: 2.1; }
.ws-word { padding: 2px 3px; border-radius: 3px; }
.ws-word sub { font-size: 0.7em; opacity: 0.75; margin-left: 1px; }
"""


def score_colour(change: float | None) -> str:
    """The CSS colour a word with this score is drawn in (and the legend's swatch for it): red for a
    word that supports the prediction, blue for one against it, stronger the larger the change."""
    if change is None or math.isnan(change):
        return UNSCORED
    red, green, blue = SUPPORTS_RGB if change > 0 else AGAINST_RGB
    strength = math.sqrt(min(abs(change) / FULL_SCALE, 1.0))
    return f"rgba({red}, {green}, {blue}, {round(strength, 3)})"  # CSS, not a number a person reads


def legend_html(label: str) -> str:
    """The two-sided legend: swatches for changes against the predicted class `label` on the left,
    for it on the right, each drawn by `score_colour` and labelled with its size in points."""
    name = html.escape(label)
    steps = [-step for step in reversed(LEGEND_STEPS)] + [0.0] + list(LEGEND_STEPS)
    swatches = "".join(
        f'<span class="ws-swatch" data-change="{step}" style="background-color: {score_colour(step)}">'
        f"{points_value(step, 0)}</span>"
        for step in steps
    )
    return (
        f'<div class="ws-legend"><span>against {name} ◀</span>{swatches}<span>▶ for {name}</span>'
        f"<span>(points; {points_value(FULL_SCALE, 0)} or more at full colour)</span></div>"
    )


def size(change: float) -> str:
    """A score as written beside its word: signed points to one decimal, "0" when it rounds to none
    (a "-0.0" would claim a direction the number does not have)."""
    written = points_value(change, 1)
    return "0" if float(written) == 0 else written


def word_title(word: str, change: float | None, label: str, probability: float) -> str:
    """A word's tooltip: what removing it does to the predicted class's probability."""
    if change is None:
        return "not scored: past the words the model is asked about"
    return (
        f"without “{word}”: {label} {percent(probability - change)} instead of {percent(probability)} "
        f"({points(change, 1)})"
    )


def word_scores_html(
    label: str, probability: float, words: Sequence[str], changes: Sequence[float | None]
) -> str:
    """A text's words shaded by their scores, each with its score in points, under a one-line summary
    and the legend. `changes[i]` is `words[i]`'s score (None: not scored)."""
    name = html.escape(label)
    spans = []
    for word, change in zip(words, changes, strict=True):
        number = "" if change is None else f"<sub>{size(change)}</sub>"
        tooltip = html.escape(word_title(word, change, label, probability))
        spans.append(
            f'<span class="ws-word" data-change="{"" if change is None else change}" '
            f'style="background-color: {score_colour(change)}" title="{tooltip}">'
            f"{html.escape(word)}{number}</span>"
        )
    unscored = sum(change is None for change in changes)
    tail = f" The last {unscored} words are not scored." if unscored else ""
    summary = (
        f'<p class="ws-summary">Predicted <b>{name}</b> ({percent(probability)}). A word\'s number: '
        f"{name}'s probability with the word minus without it, in percentage points.{tail}</p>"
    )
    words_line = f'<p class="ws-words">{" ".join(spans)}</p>'
    return f'<div class="word-scores">{summary}{legend_html(label)}{words_line}</div>'
