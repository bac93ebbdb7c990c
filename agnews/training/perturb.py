"""Perturbations of a text for behavioural stress tests (CheckList-style invariance, as Azimuth runs them).

Each test is a pure function `(text, rng) -> str | None`: the perturbed text, or None where the test
does not apply to the row (no agency marker to remove, no listed name to swap, nothing it would
change). None keeps such rows out of the test's count, so a flip rate is always "of the rows the
test changed". The topic of a news text survives every perturbation here, so a prediction that
flips is the model's instability, not a new right answer.

Randomness is per row: `row_rng(seed, test, row_id)` seeds a generator from the three, so a row's
perturbation does not depend on which other rows were chosen or in what order.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from agnews.formatting import percent
from agnews.text import AGENCY_MARKER

if TYPE_CHECKING:
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

# Typos: about one in TYPO_RATE's words of at least TYPO_MIN_LETTERS letters, at least one per text.
# Short words are left alone: a typo in "the" or "of" is not the kind a reader makes or notices.
TYPO_RATE = 0.1
TYPO_MIN_LETTERS = 4
TYPO_WORD = re.compile(rf"(?<![^\W\d_])[A-Za-z]{{{TYPO_MIN_LETTERS},}}(?![^\W\d_])")
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Agency markers added at the start of a text, as wire copy carries them.
AGENCY_TAGS = ("(Reuters) - ", "AP - ", "(AFP) - ")
# The marker with the dash that may follow it ("BAGHDAD (AFP) - A car bomb"), removed together.
AGENCY_WITH_DASH = re.compile(rf"(?:{AGENCY_MARKER.pattern})(?:\s+--?(?=\s))?")
NEUTRAL_PREFIXES = ("BREAKING:", "Update:")
BOILERPLATE = (
    "Click here for the full story.",
    "Share this article with your friends.",
    "Sign up for our daily newsletter.",
)
NAMES_FILE = "first_names.txt"
_WHITESPACE = re.compile(r"\s+")


def row_rng(seed: int, test: str, row_id: int) -> random.Random:
    """The generator for one row of one test (Python seeds a string through SHA-512: stable across
    processes and platforms, unlike `hash`)."""
    return random.Random(f"{seed}/{test}/{row_id}")


def _squeeze(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


@cache
def keyboard_neighbours() -> dict[str, str]:
    """Letters next to each letter on a QWERTY keyboard: left and right, and the two keys above and
    below (rows are staggered: above "s" are "w" and "e", below it "z" and "x")."""
    neighbours: dict[str, str] = {}
    for r, row in enumerate(KEYBOARD_ROWS):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:
                near += [KEYBOARD_ROWS[r - 1][j] for j in (i, i + 1) if j < len(KEYBOARD_ROWS[r - 1])]
            if r < len(KEYBOARD_ROWS) - 1:
                near += [KEYBOARD_ROWS[r + 1][j] for j in (i - 1, i) if 0 <= j < len(KEYBOARD_ROWS[r + 1])]
            neighbours[key] = "".join(near)
    return neighbours


def typo(word: str, rng: random.Random) -> str:
    """`word` with one typo: two adjacent letters swapped, a letter dropped, or a letter replaced by
    a keyboard neighbour (case kept). Always differs from `word` (at least two letters)."""
    kind = rng.choice(("swap", "drop", "keyboard"))
    if kind == "swap":
        pairs = [i for i in range(len(word) - 1) if word[i] != word[i + 1]]
        if pairs:
            i = rng.choice(pairs)
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        kind = "drop"  # "aaaa": no swap changes it
    i = rng.randrange(len(word))
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    key = rng.choice(keyboard_neighbours()[word[i].lower()])
    return word[:i] + (key.upper() if word[i].isupper() else key) + word[i + 1 :]


def typos(text: str, rng: random.Random) -> str | None:
    """Typos in about one in ten words of four letters or more (at least one word)."""
    words = list(TYPO_WORD.finditer(text))
    if not words:
        return None
    chosen = sorted(rng.sample(range(len(words)), max(1, round(len(words) * TYPO_RATE))))
    pieces, end = [], 0
    for i in chosen:
        match = words[i]
        pieces += [text[end : match.start()], typo(match.group(), rng)]
        end = match.end()
    return "".join([*pieces, text[end:]])


def strip_punctuation(text: str, rng: random.Random) -> str | None:
    """Every punctuation character removed; dashes and slashes become spaces, so the words they
    joined stay words ("oil-rich" reads "oil rich", "U.S." reads "US")."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Pd" or char == "/":
            kept.append(" ")
        elif not category.startswith("P"):
            kept.append(char)
    return _squeeze("".join(kept))


def add_agency(text: str, rng: random.Random) -> str | None:
    """An agency marker ("(Reuters) - ", "AP - ", ...) put before a text that has none."""
    if AGENCY_MARKER.search(text):
        return None
    return rng.choice(AGENCY_TAGS) + text


def remove_agency(text: str, rng: random.Random) -> str | None:
    """Every agency marker of a text removed, with the dash that follows it."""
    if not AGENCY_MARKER.search(text):
        return None
    return _squeeze(AGENCY_WITH_DASH.sub(" ", text))


def add_prefix(text: str, rng: random.Random) -> str | None:
    """A neutral prefix ("BREAKING:", "Update:") before the text."""
    return f"{rng.choice(NEUTRAL_PREFIXES)} {text}"


def add_boilerplate(text: str, rng: random.Random) -> str | None:
    """A boilerplate sentence of a news web page after the text."""
    return f"{text} {rng.choice(BOILERPLATE)}"


@cache
def first_names() -> tuple[str, ...]:
    """The first names shipped with the package (`first_names.txt`, package data)."""
    text = resources.files(__package__).joinpath(NAMES_FILE).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    names = tuple(dict.fromkeys(line for line in lines if line and not line.startswith("#")))
    if len(names) < 2:
        raise RuntimeError(f"{NAMES_FILE}: the package's name list is damaged ({len(names)} names)")
    return names


@cache
def _name_pattern() -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(map(re.escape, first_names())) + r")\b")


# A word (letters, digits, `.`, `'`, `-`) and the spaces after it, matched only from the word's start
# (the lookbehind) and without giving characters back (`++`), so one pass over a text is linear.
_WORD_AND_SPACES = re.compile(r"(?<![\w.'-])([\w.'-]++)\s+")
# Where a capitalised word begins inside such a word ("Sharon", "U.S.", "al-Sadr").
_CAPITALISED = re.compile(r"\b[A-Z]")


def after_capitalised_word(text: str) -> set[int]:
    """Positions in `text` right after a capitalised word and spaces: a listed name there is a surname
    ("Ariel Sharon", "John Howard", "Thierry Henry"), and swapping it would change who the story is
    about. Found in one pass, so a text full of names costs no more than any other text."""
    return {match.end() for match in _WORD_AND_SPACES.finditer(text) if _CAPITALISED.search(match.group(1))}


def replace_names(text: str, rng: random.Random, pattern: re.Pattern[str], pool: Sequence[str]) -> str | None:
    """Each first name `pattern` finds swapped for another name from `pool`, the same name for the
    same name throughout the text; a name right after a capitalised word is a surname, left alone."""
    swaps: dict[str, str] = {}
    surnames = after_capitalised_word(text)

    def swap(match: re.Match[str]) -> str:
        name = match.group()
        if match.start() in surnames:
            return name
        if name not in swaps:
            swaps[name] = rng.choice([other for other in pool if other != name])
        return swaps[name]

    return pattern.sub(swap, text)


def swap_names(text: str, rng: random.Random) -> str | None:
    """Each listed first name in the text (whole word, case as listed) swapped for another listed
    name (`replace_names`)."""
    return replace_names(text, rng, _name_pattern(), first_names())


def upper_case(text: str, rng: random.Random) -> str | None:
    """The whole text in capitals, as some wire headlines are."""
    return text.upper()


def lower_case(text: str, rng: random.Random) -> str | None:
    """The whole text in small letters, as typed in a hurry."""
    return text.lower()


@dataclass(frozen=True)
class Perturbation:
    """One stress test: its name, what it does (for the table and the card), and the function.

    `cased_only`: the test changes nothing but letter case, which an uncased tokenizer erases.
    """

    name: str
    description: str
    apply: Callable[[str, random.Random], str | None]
    cased_only: bool = False


PERTURBATIONS = (
    Perturbation(
        "typos",
        f"typos (adjacent letters swapped, a letter dropped, a keyboard neighbour) in about "
        f"{percent(TYPO_RATE, 0)} of the words of {TYPO_MIN_LETTERS}+ letters, at least one",
        typos,
    ),
    Perturbation(
        "no_punctuation", "punctuation removed (dashes and slashes become spaces)", strip_punctuation
    ),
    Perturbation(
        "agency_added",
        "a news-agency marker (" + ", ".join(f'"{tag.strip()}"' for tag in AGENCY_TAGS) + ") put first, "
        "on rows without one",
        add_agency,
    ),
    Perturbation("agency_removed", "the news-agency markers removed, on rows with one", remove_agency),
    Perturbation(
        "neutral_prefix",
        "a neutral prefix (" + ", ".join(f'"{prefix}"' for prefix in NEUTRAL_PREFIXES) + ") put first",
        add_prefix,
    ),
    Perturbation(
        "boilerplate_suffix",
        "a web page's boilerplate sentence (e.g. \"" + BOILERPLATE[0] + '") added at the end',
        add_boilerplate,
    ),
    Perturbation(
        "name_swap",
        "each first name from the package's name list swapped for another one, on rows with one",
        swap_names,
    ),
    Perturbation("upper_case", "the whole text in capitals", upper_case, cased_only=True),
    Perturbation("lower_case", "the whole text in small letters", lower_case, cased_only=True),
)


def perturb(texts: Sequence[str], row_ids: Sequence[int], test: Perturbation, seed: int) -> list[str | None]:
    """`test` applied to each text with its row's generator; None where it does not apply, and
    where it would leave the text as it was (e.g. no punctuation to strip)."""
    perturbed = []
    for text, row_id in zip(texts, row_ids, strict=True):
        changed = test.apply(text, row_rng(seed, test.name, int(row_id)))
        perturbed.append(changed if changed is not None and changed != text else None)
    return perturbed


# Two spellings an uncased tokenizer maps to the same ids, and a cased one does not.
CASE_PROBE = ("Apple SHARES", "apple shares")


def tokenizer_is_cased(tokenizer: PreTrainedTokenizerBase) -> bool:
    """Whether the tokenizer tells letter case apart (MiniLM's, MPNet's and DistilBERT-uncased's
    lower-case everything first), judged by what it does, not by what its config claims."""
    upper, lower = (tokenizer(text)["input_ids"] for text in CASE_PROBE)
    return upper != lower


UNCASED_REASON = (
    'the tokenizer lower-cases every text ("{}" and "{}" give the same token ids), so the '
    "model would see the very same input and nothing could flip"
).format(*CASE_PROBE)
