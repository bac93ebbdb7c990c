"""The toy analysis's part: words per test text, in one JSON file."""

from __future__ import annotations

from dataclasses import dataclass

from agnews.rundir.parts import Count, JsonFile, Part


@dataclass
class WordCounts:
    rows: Count
    mean_words: float
    longest: int  # row_id of the longest test text
    schema_version: int = 1


@dataclass(frozen=True)
class WordCountSettings:
    """How many of the longest texts the stage notes (recorded with the part)."""

    longest: int = 1


PART: Part[WordCounts] = Part("word_counts", ("word_counts.json",), False, (JsonFile(WordCounts),))
