"""Plain words for the page: a one-line gloss (what a term means, what to do about it) for every
metric and label the page shows, and human titles for the smart tags and the robustness tests.

Kept as data in one place so the Overview, the tables, every tab and the report explain a term the
same way, and a new term is added here once. Tabs, tables and cards call `gloss`, `tag_title` and
`perturbation_title`; none of them writes its own explanation of a shared term.
"""

from __future__ import annotations

# What each term means and, where there is something to do, what to do. One line each: shown under a
# table, beside a number or as a column note. Keys are the words as the page writes them.
GLOSSES: dict[str, str] = {
    "accuracy": "share of test rows whose predicted class is the given label; higher is better.",
    "macro F1": "F1 (balance of precision and recall) averaged over classes with equal weight, so a "
    "weak small class pulls it down where accuracy hides it; higher is better.",
    "precision": "of the rows predicted as this class, the share that truly are; low means the model "
    "over-calls the class.",
    "recall": "of the rows that truly are this class, the share the model finds; low means it misses "
    "the class.",
    "F1": "the harmonic mean of precision and recall for one class; higher is better.",
    "support": "test rows with this label.",
    "95% interval": "where the true value lies with 95% confidence given this many rows (Wilson); two "
    "numbers whose intervals overlap may not differ at all.",
    "ECE": "expected calibration error: the average gap between the confidence the model states and "
    "how often it is right (0 is perfect); a few points is usual, more means do not read "
    "confidences as probabilities before calibrating.",
    "adaptive ECE": "ECE with bins of equal row counts instead of equal width, so sparse "
    "confidences count less; read it like ECE.",
    "NLL": "negative log-likelihood: the average surprise at the true label (0 is perfect); "
    "it punishes confident mistakes hardest, so lower is better.",
    "Brier": "Brier score: mean squared distance between the probabilities and the true label "
    "(0 perfect, 2 worst); lower is better.",
    "coverage": "share of rows the model answers on its own at a confidence threshold; the rest go "
    "to a person for review.",
    "confidence": "the probability the model gives its predicted class.",
    "review threshold": "the confidence below which a row is sent to a person; raise it for fewer "
    "mistakes and more review.",
    "calibrator": "a small correction fitted on validation rows so stated confidences match how often "
    "the model is right; it never changes which class is predicted.",
    "temperature": "one number dividing the logits: above 1 makes the model less sure, below 1 more.",
    "[CLS] cosine": "similarity of two texts as the model reads them (cosine of their [CLS] "
    "embeddings, 1 is identical); high means the model treats them as the same kind of text.",
    "TF-IDF cosine": "word-overlap similarity of two texts (1 is the same words); high means a near copy.",
    "KS D": "Kolmogorov-Smirnov D: the largest gap between two distributions (0 the same, 1 "
    "disjoint); a large D between training and test lengths means test texts are unlike training "
    "texts.",
    "p": "how often a gap this large would arise by chance alone; with many rows even a tiny gap "
    "has a small p, so read D for the size.",
    "quality": "cleanlab's label quality, 0 to 1: how plausible the model finds the given label; low "
    "means the label is probably wrong, so check the row.",
    "flagged": "cleanlab's verdict that the given label is likely wrong, from out-of-sample "
    "probabilities; review the row and relabel or drop it.",
    "suggested": "the class the model's out-of-sample probabilities favour for a flagged row.",
    "--drop-label-issues": "the training option that retrains without the flagged training rows; "
    "export the flagged rows here, then pass the file to `agnews train --drop-label-issues`.",
    "flip rate": "share of changed rows whose predicted class changed; the change should not "
    "matter, so lower is better.",
    "confidence change": "mean change (percentage points) in the probability of the originally "
    "predicted class after the change; near 0 means the model ignores it.",
    "trained for": "training saw this change (`--augment`), so a low flip rate is expected.",
    "held out": "training did not see this change, so its flip rate is a fair test.",
    "baseline": "TF-IDF + logistic regression on the same training rows: the score a bag of words "
    "reaches; a fine-tuned model should beat it.",
    "class balance": "rows of the largest class over the smallest; far from 1 means accuracy can "
    "look good while the small class is missed.",
    "near-duplicates": "test rows with a near copy in training: they flatter test accuracy, and a copy "
    "with another label is a label error.",
    "unknown tokens": "share of test tokens the tokenizer cannot read; high means the text's "
    "alphabet or spelling is outside what the model was trained on.",
    "truncated": "share of texts longer than the model's max length, whose end is cut before "
    "the model reads it.",
    "slice": "the test rows carrying one tag; a slice well below all rows is a weakness to fix with "
    "more or cleaner training rows like it.",
    "vs all rows": "the slice's accuracy minus the accuracy on all rows, in percentage points.",
    "trials": "hyperparameter settings tried by `agnews tune`, each trained and scored on validation rows.",
    "weighted F1": "F1 averaged over classes weighted by their test rows; close to accuracy when the "
    "classes are balanced, so read macro F1 for the small classes.",
    "frozen base + logistic regression": "a linear classifier on the base model's features before "
    "fine-tuning: what the model knew already; fine-tuning that does not beat it has not worked.",
    "paired bootstrap": "the 95% interval of B's accuracy minus A's from resampling the same test rows "
    "for both; an interval that spans 0 means no difference shown.",
    "McNemar": "McNemar's exact test on the rows only one run gets right (fixed vs broken by B); a p "
    "below 0.05 means the difference is unlikely to come from which test rows were drawn.",
    "validation accuracy": "accuracy on the validation rows, which the search may read (the test rows "
    "it never reads); each trial's mean over its seeds.",
    "noise": "how far the same settings score apart with other seeds; a gain not well above it is "
    "not evidence that a setting is better.",
    "importance": "the share of the validation accuracy's variation a setting explains across "
    "trials (fANOVA); search the important ones more finely.",
}

# Human names for the smart tags (`agnews.analyses.slices`): the tag keys stay in parts, URLs and
# filter values; the page shows these.
TAG_TITLES: dict[str, str] = {
    "short": "Short text",
    "long": "Long text",
    "agency": "Wire copy (news-agency marker)",
    "low_confidence": "Low confidence",
    "near_duplicate": "Near-copy of a training row",
    "conflicting_neighbours": "Neighbours disagree with the label",
    "likely_mislabelled": "Likely mislabelled",
}

# Human names for the robustness tests (`agnews.training.perturb.PERTURBATIONS`).
TEST_TITLES: dict[str, str] = {
    "typos": "Typos",
    "no_punctuation": "Punctuation removed",
    "agency_added": "Agency marker added",
    "agency_removed": "Agency marker removed",
    "neutral_prefix": "Neutral prefix added",
    "boilerplate_suffix": "Boilerplate sentence added",
    "name_swap": "First names swapped",
    "upper_case": "All capitals",
    "lower_case": "All small letters",
}


def gloss(term: str) -> str:
    """The one-line gloss of `term` (as the page writes it, e.g. "ECE", "[CLS] cosine").

    Raises KeyError naming the known terms: a term shown without a gloss is a gap to fill here.
    """
    try:
        return GLOSSES[term]
    except KeyError:
        raise KeyError(f"no gloss for {term!r}: add it to agnews.present.glossary.GLOSSES") from None


def glossed(*terms: str) -> str:
    """A Markdown note for under a table or a number: each term in bold with its gloss, one line each."""
    return "\n".join(f"- **{term}**: {gloss(term)}" for term in terms)


def tag_title(name: str) -> str:
    """A smart tag's human name; a tag this module does not know (a new analysis's) reads as its key
    with spaces, never as snake_case."""
    return TAG_TITLES.get(name) or _spaced(name)


def perturbation_title(name: str) -> str:
    """A robustness test's human name; an unknown test reads as its key with spaces."""
    return TEST_TITLES.get(name) or _spaced(name)


def _spaced(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
