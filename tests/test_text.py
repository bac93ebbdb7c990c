import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agnews.text import clean_text, normalised_key, text_hash


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("A second\\team of rocketeers", "A second team of rocketeers"),
        ("costs \\$10 million", "costs $10 million"),
        ("two\\\\breaks", "two breaks"),
        ("Storm shows Haiti #39;s straits", "Storm shows Haiti's straits"),
        ("the  #36;10 million prize", "the $10 million prize"),
        ("he said quot;noquot; today", 'he said "no" today'),
        ("war #151; and peace", "war \u2014 and peace"),
        ("AT amp;T profits", "AT &T profits"),
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("tabs\tand\nnewlines  ", "tabs and newlines"),
        ("nul\x00byte", "nul byte"),
        ("the #39;war#39; ends", "the 'war' ends"),
    ],
)
def test_clean_text_undoes_source_escapes(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_is_idempotent_on_clean_text() -> None:
    text = 'Haiti\'s straits cost $10 \u2014 "really" (AP)'
    assert clean_text(clean_text(text)) == clean_text(text) == text


def test_normalised_key_ignores_case_and_spacing() -> None:
    assert normalised_key("Oil  PRICES rise\\again") == normalised_key("oil prices rise again")


# SHA-256 (`content_hash`: label, tab, cleaned text, per row) of the shared AG News files as the
# cleaning before the linear patterns read them. Text hashes, split hashes, decision keys and
# `--corrections` all hash the cleaned text: a change here orphans every recorded decision.
CLEANED_HASHES = {
    "train_sample_5000.csv": "39114ac2e19edb1263839515377e922c4cc393ab6f798ecca667ea42d5fed6ec",
    "test.csv": "6eb64004991d811b569eba1f0f35ae108f25f5f6f9e6bb83c4e20149bca61c3b",
}
# The split hashes the `quick_run` fixture records (its config, tests/conftest.py), as before.
QUICK_RUN_SPLIT_HASHES = {
    "train": "ae4c5546550f65d40bc90e20a2d98738219306b29deb5eb722ad2bad182e7f3f",
    "validation": "cc64a0046be100d754594dafd761706eac2e6701a810534d0879933d1b258d6e",
    "test": "7361c8ed1165b5fcfdef3e75716124c5dfca89a46d8be98cfec316afdb495022",
}
# Hostile texts of 20,000 characters: before, a whitespace run took seconds (each start position
# rescanned the run), and a text full of first names as long in the name swap. Linear code takes
# milliseconds; the bound leaves room for a busy two-core machine.
LONG = 20_000
LINEAR_SECONDS = 0.25


def test_cleaning_keeps_every_ag_news_row_byte_identical(shared_data: Path) -> None:
    from agnews.dataset.ag_news import read_ag_news_csv as read_csv_split
    from agnews.training.data import content_hash

    for name, expected in CLEANED_HASHES.items():
        split = read_csv_split(shared_data / name)
        assert content_hash(split.texts, split.labels) == expected, f"cleaning changed the rows of {name}"


@pytest.mark.slow
def test_the_quick_run_records_the_same_split_hashes(quick_run: Path) -> None:
    from agnews.rundir.run import Run

    assert Run.load(quick_run).config.data.split_hashes == QUICK_RUN_SPLIT_HASHES


def _seconds(function: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    function(text)
    return time.perf_counter() - start


@pytest.mark.parametrize(
    "text",
    [
        "Oil" + " " * LONG + "prices",
        "Oil" + "\t\n" * (LONG // 2) + "prices",
        "<" * LONG,
        "<a" * (LONG // 2),
        "&#39;" * (LONG // 5),
        "quot;" * (LONG // 5),
        "\\" * LONG,
    ],
    ids=["spaces", "tabs-newlines", "brackets", "open-tags", "entities", "bare-entities", "backslashes"],
)
def test_cleaning_a_long_hostile_text_is_fast(text: str) -> None:
    assert _seconds(clean_text, text) < LINEAR_SECONDS


def test_swapping_names_in_a_text_full_of_names_is_fast() -> None:
    from agnews.training.perturb import swap_names

    assert _seconds(lambda text: swap_names(text, random.Random(0)), "Tom " * (LONG // 4)) < LINEAR_SECONDS


def test_a_name_after_a_capitalised_word_stays() -> None:
    """The one-pass surname rule keeps the old rule's answers (a capitalised word, then spaces)."""
    from agnews.training.perturb import swap_names

    for kept in ("Ariel Sharon said", "U.S. John spoke", "al-Qaeda  Tom"):
        words = kept.split()
        swapped = swap_names(kept, random.Random(0))
        assert swapped is not None and swapped.split()[1] == words[1], (kept, swapped)
    swapped = swap_names("said John to reporters", random.Random(0))
    assert swapped is not None and "John" not in swapped


def test_a_tag_of_any_length_is_dropped() -> None:
    assert clean_text("before <a title='" + "x" * 1000 + "'>link</a> after") == "before link after"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("\ud800", ""), ("Oil \udfff prices", "Oil prices"), ("a\ud83d\ude00b", "a b")],
    ids=["lone", "inside", "a-pair-as-two-code-points"],
)
def test_surrogates_are_removed_so_the_text_encodes(raw: str, clean: str) -> None:
    cleaned = clean_text(raw)
    assert cleaned == clean
    cleaned.encode("utf-8")  # raises UnicodeEncodeError if one survived
    assert text_hash(cleaned)
