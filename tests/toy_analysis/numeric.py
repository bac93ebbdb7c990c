"""The toy analysis's numbers."""

from __future__ import annotations

import pandas as pd

from toy_analysis.schema import WordCounts


def word_counts(predictions: pd.DataFrame) -> WordCounts:
    words = predictions["text"].str.split().str.len()
    longest = int(predictions["row_id"].iloc[int(words.to_numpy().argmax())])
    return WordCounts(rows=len(words), mean_words=float(words.mean()), longest=longest)
