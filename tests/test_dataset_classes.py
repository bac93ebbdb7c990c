"""Labels, classes and their order, the stratify minimum, plain cleaning and the description."""

from __future__ import annotations

import pytest

from agnews.dataset.classes import (
    MAX_CLASS_NAME_CHARS,
    class_ids,
    class_order,
    is_integer_literal,
    read_labels,
    refuse_multi_label,
)
from agnews.dataset.cleaning import cleaner, plain_clean
from agnews.dataset.description import DatasetDescription
from agnews.dataset.errors import DataError
from agnews.dataset.stratify import require_rows_per_class, rows_needed_per_class
from agnews.text import clean_text


def labels(*cells: object):
    return read_labels(list(cells), list(range(2, len(cells) + 2)), "train.csv", "label")


@pytest.mark.parametrize("text", ["0", "12", "-1", "120000"])
def test_canonical_integers_are_integer_literals(text: str) -> None:
    assert is_integer_literal(text)


@pytest.mark.parametrize("text", ["007", "+3", "1_000", "1.0", "1e3", "٣", "-0", " 1", "", "9" * 40])
def test_other_digit_strings_are_not(text: str) -> None:
    assert not is_integer_literal(text)


def test_integer_labels_sort_numerically_and_are_named_by_their_digits() -> None:
    column = labels("10", "2", " -1 ", "2", "10")
    assert column.integer
    assert class_order(column) == ("-1", "2", "10")


def test_one_non_canonical_cell_makes_the_column_names_sorted_as_strings() -> None:
    column = labels("10", "2", "007")
    assert not column.integer
    assert class_order(column) == ("007", "10", "2")


def test_typed_integers_are_ids_and_compare_by_name_with_text() -> None:
    train = labels(1, 0, 1)
    assert class_order(train) == ("0", "1")
    test = labels("1", "0")
    assert class_ids(test, class_order(train), [2, 3]) == [1, 0]


def test_names_sort_as_strings_unless_an_order_is_given() -> None:
    column = labels("Sci/Tech", "World", "Business", "Sports")
    assert class_order(column) == ("Business", "Sci/Tech", "Sports", "World")
    order = ("World", "Sports", "Business", "Sci/Tech")
    assert class_order(column, order) == order


def test_an_order_missing_a_training_label_names_it() -> None:
    column = labels("pos", "neg", "neutral", "neutral")
    with pytest.raises(DataError, match=r"labels not in the given class order.*'neutral' \(2 rows\)"):
        class_order(column, ["neg", "pos"])
    with pytest.raises(DataError, match=r"names 'mixed', which no training row has"):
        class_order(column, ["neg", "pos", "neutral", "mixed"])
    with pytest.raises(DataError, match=r"names 'neg' more than once"):
        class_order(column, ["neg", "pos", "neg", "neutral"])


def test_one_class_is_refused() -> None:
    with pytest.raises(DataError, match=r"only one class \('spam', 3 rows\); a classifier needs 2 or more"):
        class_order(labels("spam", "spam", "spam"))


def test_labels_are_stripped_and_hostile_names_kept_as_text() -> None:
    names = ["<b>bold</b>", "Sci/Tech", "café au lait", "  42  ", "a & b", "x" * MAX_CLASS_NAME_CHARS]
    column = labels(*names)
    assert class_order(column) == tuple(sorted(n.strip() for n in names))


def test_a_label_over_the_cap_is_refused() -> None:
    with pytest.raises(DataError, match=rf"row 3 has a label of {MAX_CLASS_NAME_CHARS + 1} characters"):
        labels("short", "y" * (MAX_CLASS_NAME_CHARS + 1))


def test_a_label_with_a_control_character_is_refused() -> None:
    with pytest.raises(DataError, match=r"row 2: label 'a\\x00b' holds the control character"):
        labels("a\x00b", "c")


def test_empty_label_cells_name_their_count_and_first_row() -> None:
    with pytest.raises(DataError, match=r"2 rows have an empty label \(first: row 3\)"):
        labels("a", " ", None, "b")
    with pytest.raises(DataError, match="the label column is empty"):
        labels("", "  ", None)


def test_mixed_label_types_name_a_row_of_each() -> None:
    with pytest.raises(DataError, match=r"labels mix integers \(row 3\) and text \(row 2\)"):
        labels("World", 1, "Sports")


@pytest.mark.parametrize("cell", [1.0, True, {"a": 1}])
def test_floats_booleans_and_objects_are_not_labels(cell: object) -> None:
    with pytest.raises(DataError, match=r"row 3 holds .*not a label"):
        labels("a", cell)


def test_list_cells_are_refused_as_multi_label() -> None:
    with pytest.raises(DataError, match=r"row 3 holds a list of labels \(2 items\); multi-label rows"):
        labels("a", ["a", "b"])


@pytest.mark.parametrize("joined", ["rock, paper", "rock;paper", "rock | paper", "paper,rock,rock"])
def test_labels_joined_from_other_labels_are_refused(joined: str) -> None:
    column = labels("rock", "paper", joined)
    with pytest.raises(DataError, match=r"row 4 has the label .* which is several labels"):
        refuse_multi_label(column, [2, 3, 4])


def test_a_separator_inside_one_class_is_fine() -> None:
    column = labels("rock, paper", "Sci/Tech", "rock, paper", "scissors")
    refuse_multi_label(column, [2, 3, 4, 5])
    # ... but not when its parts are training classes.
    with pytest.raises(DataError, match="several labels"):
        refuse_multi_label(labels("a;b"), [2], known={"a", "b"})


def test_a_test_label_the_training_split_lacks_is_named_with_its_count() -> None:
    test = labels("a", "c", "b", "c")
    with pytest.raises(
        DataError, match=r"label 'c' \(2 rows, first row 3\) is not a class of the training split"
    ):
        class_ids(test, ("a", "b"), [2, 3, 4, 5])


@pytest.mark.parametrize(
    ("total", "validation", "needed"),
    [(5000, 500, 10), (100, 50, 2), (200, 50, 4), (1005, 100, 11), (100, 90, 10)],
)
def test_rows_needed_per_class(total: int, validation: int, needed: int) -> None:
    assert rows_needed_per_class(total, validation) == needed


def test_the_rule_holds_against_a_real_stratified_split() -> None:
    """At the minimum every class has a row on both sides of scikit-learn's stratified split."""
    from sklearn.model_selection import train_test_split

    needed = rows_needed_per_class(200, 20)
    labels_ = [0] * needed + [1] * (200 - needed)
    for seed in range(20):
        train, validation = train_test_split(labels_, test_size=20, stratify=labels_, random_state=seed)
        assert 0 in train and 0 in validation


def test_a_class_too_small_to_stratify_names_itself_and_what_it_needs() -> None:
    counts = {"big": 190, "tiny": 4, "small": 6}
    with pytest.raises(
        DataError, match=r"class 'tiny' has 4 training rows; .* 20 of 200 rows needs at least 10 .*1 other"
    ):
        require_rows_per_class(counts, 20)
    require_rows_per_class({"a": 10, "b": 190}, 20)
    with pytest.raises(DataError, match="cannot be carved out"):
        require_rows_per_class({"a": 10, "b": 10}, 20)


def test_plain_cleaning_keeps_the_text_and_fixes_only_what_is_unsafe() -> None:
    assert plain_clean("if a<b and c>d then") == "if a<b and c>d then"
    assert plain_clean("C:\\path\\to & <b>x</b> #39;s") == "C:\\path\\to & <b>x</b> #39;s"
    assert plain_clean("  one\ttwo\n\nthree\u00a0four\u2028five\x85six  ") == "one two three four five six"
    assert plain_clean("a\x00b\x07c\ud800d") == "abcd"
    assert plain_clean("cafe\u0301") == "caf\u00e9"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # a zero-width non-joiner is part of it
    assert plain_clean(persian) == persian
    plain_clean("x\ud800y").encode("utf-8")


def test_plain_cleaning_is_linear_on_hostile_runs() -> None:
    spaces = " " * 1_000_000
    assert plain_clean(f"a{spaces}b") == "a b"
    assert plain_clean("\x00" * 1_000_000 + "ok") == "ok"
    assert plain_clean("<" * 1_000_000) == "<" * 1_000_000


def test_cleaners_by_kind() -> None:
    assert cleaner("ag_news") is clean_text
    assert cleaner("plain") is plain_clean
    with pytest.raises(ValueError, match="unknown cleaning kind 'html'"):
        cleaner("html")


def test_the_description_round_trips_and_refuses_unknown_keys() -> None:
    description = DatasetDescription(
        name="reviews",
        source="/data/reviews",
        text_columns=("title", "body"),
        label_column="stars",
        class_names=("1", "2", "10"),
        cleaning="plain",
        domain=None,
    )
    data = description.to_dict()
    assert data["class_names"] == ["1", "2", "10"]
    assert DatasetDescription.from_dict(data) == description
    assert description.id2label == {0: "1", 1: "2", 2: "10"}
    with pytest.raises(ValueError, match=r"unknown keys \['colour'\], missing keys \['name'\]"):
        DatasetDescription.from_dict({**{k: v for k, v in data.items() if k != "name"}, "colour": "red"})
    with pytest.raises(ValueError, match="2 or more classes"):
        DatasetDescription(**{**data, "text_columns": ("text",), "class_names": ("only",)})
    with pytest.raises(ValueError, match="cleaning 'html'"):
        DatasetDescription(
            **{**data, "text_columns": ("text",), "class_names": ("a", "b"), "cleaning": "html"}
        )
