"""How a dataset's texts are cleaned: the kind is part of the dataset's description.

`"ag_news"` undoes AG News's own escapes and tags (`agnews.text.clean_text`); applied to other text
it would eat comparisons ("a<b and c>d") and backslashes. `"plain"` does only what is safe for any
text in any language: whitespace runs become one space, control characters and lone surrogates go,
and the text is NFC-normalised so that the same word is always the same code points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

from agnews.text import clean_text

CleaningKind = Literal["ag_news", "plain"]
CLEANING_KINDS: tuple[str, ...] = ("ag_news", "plain")

# Control characters that are not whitespace (str.split() already treats \t \n \v \f \r, \x1c-\x1f and
# \x85 as whitespace, so they become spaces instead of vanishing), and surrogates: a Python string may
# hold a lone one (JSON's "\ud800"), but no UTF-8 encoder, tokenizer or hash takes it. One character
# class, so the scan is linear whatever the input.
_UNUSABLE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")


def plain_clean(text: str) -> str:
    """`text` with control characters and lone surrogates dropped, NFC-normalised, every run of
    whitespace (newlines, tabs, NBSP and the other Unicode spaces) made one space, and stripped.

    Nothing else changes: markup, backslashes and punctuation are the text's own. Linear in
    `len(text)`.
    """
    return " ".join(unicodedata.normalize("NFC", _UNUSABLE.sub("", text)).split())


def cleaner(kind: str) -> Callable[[str], str]:
    """The cleaning function of a dataset's cleaning kind; raises ValueError for an unknown kind."""
    if kind == "ag_news":
        return clean_text
    if kind == "plain":
        return plain_clean
    raise ValueError(f"unknown cleaning kind {kind!r}; expected one of {', '.join(CLEANING_KINDS)}")
