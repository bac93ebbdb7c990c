"""The cross-domain analysis's numbers: which rows of a labelled file a label map keeps, both
classifiers' scores on them, and the TF-IDF baseline's predictions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agnews.analyses.cross_domain.schema import DomainScores
from agnews.formatting import setting
from agnews.labels import parse_label
from agnews.rundir.parts import parse
from agnews.text import clean_text
from agnews.training.data import DataError
from agnews.training.evaluate import class_report, per_class_scores

# The bag-of-words reference: word uni- and bigrams seen in at least two training rows, sublinear
# term frequency, logistic regression. Its regularisation was chosen by 5-fold cross-validated accuracy
# on the quick run's training rows (never test or cross-domain rows): weaker regularisation than
# BASELINE_C gained nothing there, stronger lost accuracy.
BASELINE_C = 3.0
BASELINE_METHOD = (
    f"TF-IDF (word 1-2-grams, min_df=2, sublinear tf) + logistic regression (C={setting(BASELINE_C)}), "
    "fitted on the run's training rows"
)
SOURCES_LISTED = 20  # a file's classes named in an error message, most frequent first


@dataclass(frozen=True)
class LabelledFile:
    """A CSV file's data rows: the text (its text columns joined, uncleaned) and label of each."""

    path: Path
    sha256: str
    texts: list[str]
    labels: list[str]  # as in the file, surrounding spaces removed


@dataclass(frozen=True)
class Selection:
    """The rows a label map keeps (positions in the file, class ids, cleaned texts) and those it skips."""

    rows: np.ndarray
    labels: np.ndarray
    texts: list[str]
    skipped_unmapped: dict[str, int]
    skipped_empty_text: int


def parse_label_map(text: str, classes: Sequence[str]) -> dict[str, int]:
    """`source=Target` pairs separated by commas -> {source label: class id of `classes`, the run's}.

    A target is a class name in any case (`Sci/Tech` as written) or a class id; several sources may
    share a target. DataError for a pair without `=`, an empty side, an unknown class, a source
    given twice, or no pair at all.
    """
    mapping: dict[str, int] = {}
    for pair in (piece.strip() for piece in text.split(",")):
        if not pair:
            continue
        source, equals, target = (side.strip() for side in pair.rpartition("="))
        if not equals:
            raise DataError(f"--label-map: {pair!r} is not a source=Class pair")
        if not source or not target:
            side = "source label before" if not source else "class after"
            raise DataError(f"--label-map: {pair!r} has no {side} '='")
        if source in mapping:
            raise DataError(f"--label-map: source label {source!r} is mapped twice")
        try:
            mapping[source] = parse_label(target, classes)
        except ValueError as exc:
            raise DataError(f"--label-map: {exc}") from None
    if not mapping:
        raise DataError('--label-map maps nothing; give source=Class pairs, e.g. "business=Business,tech=3"')
    return mapping


def select_rows(file: LabelledFile, mapping: dict[str, int]) -> Selection:
    """The rows of `file` that `mapping` keeps, with their texts cleaned as the training texts were.

    Rows of a source label the map leaves out are skipped and counted per label; mapped rows whose
    text is empty once cleaned are skipped and counted. DataError when a mapped source label never
    occurs in the file (listing the labels it has) or when no row is left to score.
    """
    counts = Counter(file.labels)
    absent = [source for source in mapping if source not in counts]
    if absent:
        found = ", ".join(f"{label!r} ({n})" for label, n in counts.most_common(SOURCES_LISTED))
        more = f" and {len(counts) - SOURCES_LISTED} more" if len(counts) > SOURCES_LISTED else ""
        raise DataError(
            f"{file.path}: --label-map names {', '.join(map(repr, absent))}, which the label column never "
            f"holds; its labels (rows) are {found}{more}"
        )
    rows, labels, texts, empty = [], [], [], 0
    for row, (text, label) in enumerate(zip(file.texts, file.labels, strict=True)):
        if label not in mapping:
            continue
        cleaned = clean_text(text)
        if not cleaned:
            empty += 1
            continue
        rows.append(row)
        labels.append(mapping[label])
        texts.append(cleaned)
    if not rows:
        raise DataError(f"{file.path}: every row the label map keeps ({empty}) has an empty text")
    skipped = {label: n for label, n in sorted(counts.items()) if label not in mapping}
    return Selection(np.array(rows), np.array(labels), texts, skipped, empty)


def domain_scores(
    labels: np.ndarray, preds: np.ndarray, mapped: list[int], classes: Sequence[str]
) -> DomainScores:
    """Accuracy over all rows, macro F1 and per-class scores over the mapped classes, and the confusion
    (a row per mapped class, a column per class of `classes`, the run's: where the model sends each
    mapped class's rows)."""
    from sklearn.metrics import accuracy_score, confusion_matrix

    report = class_report(labels, preds, mapped, classes)
    confusion = confusion_matrix(labels, preds, labels=list(range(len(classes))))[mapped]
    return parse(
        DomainScores,
        {
            "accuracy": float(accuracy_score(labels, preds)),
            "f1_macro": report["macro avg"]["f1-score"],
            "per_class": per_class_scores(report, mapped, classes),
            "confusion_matrix": confusion.tolist(),
            "confusion_rows": [classes[i] for i in mapped],
            "confusion_columns": list(classes),
        },
        DomainScores.__name__,
    )


def tfidf_predictions(
    train_texts: list[str], train_labels: np.ndarray, texts: list[str], *, seed: int
) -> np.ndarray:
    """Class ids for `texts` from `BASELINE_METHOD`'s model, fitted on the training rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=BASELINE_C, max_iter=2000, random_state=seed),
    )
    return model.fit(train_texts, train_labels).predict(texts)
