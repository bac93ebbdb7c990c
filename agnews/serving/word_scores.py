"""Word scores by occlusion: how much a text's predicted class owes to each of its words.

A word's score is the predicted class's probability with the word minus its probability with that
word removed (every other word kept): a change of probability, so scores of different texts are on
one scale and can be drawn on one fixed colour scale (`agnews.present.word_scores`), never rescaled
per text. Positive: the word supports the prediction; negative: removing it would raise the
predicted class's probability, so it argues against it.

Occlusion rather than integrated gradients: it needs no gradients and no baseline choice, it scores
whole words (what a reader sees, not sub-word pieces), and every one-word-removed variant goes into
one padded batch, because on CPU the per-call overhead of separate passes, not the arithmetic, is
what takes time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Words beyond this many are not occluded: with max_length 128 tokens they are mostly truncated away
# anyway, and the batch (one variant per word) must stay small enough for well under a second. The
# variants together are then at most this many times the (already cut) text: bounded work.
MAX_OCCLUDED_WORDS = 96


@dataclass(frozen=True)
class WordScores:
    """One text's prediction and the score of each of its words.

    `changes[i]` is the predicted class's probability with `words[i]` minus without it, a difference
    of two probabilities in [-1, 1] (shown in percentage points); None for a word past
    MAX_OCCLUDED_WORDS, which is not scored.
    """

    label: str
    probability: float
    words: tuple[str, ...]
    changes: tuple[float | None, ...]

    @property
    def unscored(self) -> int:
        """How many words (the last ones) have no score."""
        return sum(change is None for change in self.changes)


def one_word_removed(words: Sequence[str]) -> list[str]:
    """The text of `words` once per word of the first MAX_OCCLUDED_WORDS, with that word left out."""
    scored = min(len(words), MAX_OCCLUDED_WORDS)
    return [" ".join([*words[:i], *words[i + 1 :]]) for i in range(scored)]


def occlusion_scores(
    classes: Sequence[str], probs: np.ndarray, words: Sequence[str], without: np.ndarray
) -> WordScores:
    """Word scores from the model's answers on a text and on its one-word-removed variants.

    Parameters
    ----------
    classes : sequence of str, length K
        The run's classes, in class-id order.
    probs : array of shape (K,)
        The class probabilities of the whole text.
    words : sequence of str, length n
        The text's words, in order (the text the model read, split on whitespace).
    without : array of shape (min(n, MAX_OCCLUDED_WORDS), K)
        Row i: the class probabilities of the text with word i removed (`one_word_removed`).
    """
    if without.shape != (min(len(words), MAX_OCCLUDED_WORDS), len(classes)) or probs.shape != (len(classes),):
        raise ValueError(
            f"expected probabilities of shape ({len(classes)},) and one row per scored word, "
            f"got {probs.shape} and {without.shape} for {len(words)} words"
        )
    predicted = int(np.argmax(probs))
    scored = [float(change) for change in probs[predicted] - without[:, predicted]]
    changes = tuple(scored) + (None,) * (len(words) - len(scored))
    return WordScores(classes[predicted], float(probs[predicted]), tuple(words), changes)
