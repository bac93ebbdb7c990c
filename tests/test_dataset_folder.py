"""Reading a dataset folder or files: the layout rule, AG News and only AG News as AG News, every
class count and format, the refusals (and that nothing is written), and the check report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dataset_writers import BAD_INPUTS, class_rows, tree, write_bad_folder, write_split_folder, write_table
from helpers import SHARED_DATA

from agnews.dataset.check import check_data
from agnews.dataset.errors import DataError
from agnews.dataset.folder import read_files, read_folder, split_files

AG_NEWS_CLASSES = "World\nSports\nBusiness\nSci/Tech\n"


def names(n: int) -> list[str]:
    return [f"class {k:02d}" for k in range(n)]


@pytest.mark.parametrize(
    ("classes", "ext", "expected"),
    [
        (["négatif", "positif"], ".csv", ("négatif", "positif")),
        ([0, 1, 2], ".tsv", ("0", "1", "2")),
        (["Sci/Tech", "World", "a b c", "007", "42", "Ünïcödé", "<i>x</i>"], ".jsonl", None),
        (list(range(19, -1, -1)), ".parquet", tuple(str(k) for k in range(20))),
        (names(60), ".csv", tuple(names(60))),
    ],
)
def test_class_counts_formats_and_orders(
    tmp_path: Path, classes: list, ext: str, expected: tuple | None
) -> None:
    folder = write_split_folder(tmp_path / "data", classes, ext)
    data = read_folder(folder)
    order = expected or tuple(sorted(str(c) for c in classes))
    assert data.description.class_names == order
    assert data.description.cleaning == "plain"
    assert data.description.name == "data"
    assert len(data.train.texts) == 3 * len(classes)
    # Each row's id names the class its text says it belongs to.
    for text, label in zip(data.train.texts, data.train.labels, strict=True):
        k = int(text.split("class number ")[1].split()[0])
        assert order[label] == str(classes[k])
    assert data.test is not None and data.validation is None
    assert data.warnings == ()


def test_several_text_columns_are_joined_with_a_space(tmp_path: Path) -> None:
    rows = [{"title": "Big\tnews", "body": "  it  happened ", "y": k % 2} for k in range(4)]
    write_table(tmp_path / "train.jsonl", rows)
    write_table(tmp_path / "test.jsonl", rows)
    data = read_folder(tmp_path, text_columns=("title", "body"), label_column="y")
    assert data.train.texts[0] == "Big news it happened"
    assert data.description.text_columns == ("title", "body")
    assert data.description.label_column == "y"


def test_validation_or_dev_is_read_and_two_candidates_are_refused(tmp_path: Path) -> None:
    write_split_folder(tmp_path, ["a", "b"], ".csv")
    write_table(tmp_path / "dev.tsv", class_rows(["a", "b"], 1))
    (tmp_path / "train.csv.bak").write_text("other files are ignored")
    (tmp_path / "notes.txt").write_text("so is this")
    assert sorted(split_files(tmp_path)) == ["test", "train", "validation"]
    assert read_folder(tmp_path).validation is not None
    write_table(tmp_path / "validation.jsonl", class_rows(["a", "b"], 1))
    with pytest.raises(
        DataError, match=r"two files for the validation split \(dev\.tsv and validation\.jsonl\)"
    ):
        split_files(tmp_path)


def test_a_missing_split_file_lists_the_names_it_may_have(tmp_path: Path) -> None:
    write_table(tmp_path / "train.csv", class_rows(["a", "b"], 2))
    with pytest.raises(
        DataError, match=r"no test file; expected one of test\.csv, test\.tsv, test\.jsonl, test\.parquet"
    ):
        read_folder(tmp_path)
    write_table(tmp_path / "test.csv", class_rows(["a", "b"], 2))
    write_table(tmp_path / "train.parquet", class_rows(["a", "b"], 2))
    with pytest.raises(DataError, match=r"two files for the train split \(train\.csv and train\.parquet\)"):
        read_folder(tmp_path)


def test_one_file_plus_a_test_file(tmp_path: Path) -> None:
    train = write_table(tmp_path / "reviews.parquet", class_rows(["bad", "good"], 3))
    test = write_table(tmp_path / "held_out.csv", class_rows(["good", "bad"], 1))
    data = read_files(train, test)
    assert data.description.name == "reviews"
    assert data.description.class_names == ("bad", "good")
    assert data.test is not None and data.test.labels == [1, 0]


# Content hashes (`agnews.training.data.content_hash`: labels and texts, in order) of the shared AG News
# files as the AG-News-only reader this package replaced read them: the runs made before keep theirs.
SHARED_TRAIN_HASH = "39114ac2e19edb1263839515377e922c4cc393ab6f798ecca667ea42d5fed6ec"
SHARED_TEST_HASH = "6eb64004991d811b569eba1f0f35ae108f25f5f6f9e6bb83c4e20149bca61c3b"


def test_the_shared_ag_news_folder_reads_as_the_ag_news_reader_read_it() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here")
    from agnews.training.data import content_hash

    data = read_folder(SHARED_DATA)
    assert data.description.name == "ag_news"
    assert data.description.class_names == ("World", "Sports", "Business", "Sci/Tech")
    assert (data.description.cleaning, data.description.domain) == ("ag_news", "news")
    assert data.test is not None
    assert content_hash(data.train.texts, data.train.labels) == SHARED_TRAIN_HASH
    assert content_hash(data.test.texts, data.test.labels) == SHARED_TEST_HASH


def test_ag_news_needs_its_classes_file_or_its_name(tmp_path: Path) -> None:
    """Headerless original-shaped AG News files: AG News with classes.txt or the name, refused without."""
    for folder in (tmp_path / "with_file", tmp_path / "named"):
        for split in ("train", "test"):
            path = folder / f"{split}.csv"
            path.parent.mkdir(exist_ok=True)
            path.write_text('"3","Oil up","Prices rose &lt;b&gt;"\n"1","Vote","Polls #39;s close"\n')
    (tmp_path / "with_file" / "classes.txt").write_text(AG_NEWS_CLASSES)
    for data in (read_folder(tmp_path / "with_file"), read_folder(tmp_path / "named", name="ag_news")):
        assert data.train.labels == [2, 0]
        assert data.train.texts == ["Oil up Prices rose", "Vote Polls's close"]
        assert data.test is not None
        assert data.warnings == (
            f"{data.test.origin}: no test rows of 2 class(es) ('Sports', 'Sci/Tech'); "
            "their test scores will be undefined",
        )
    with pytest.raises(DataError, match="Its first row looks like data, not a header"):
        read_folder(tmp_path / "named")


def test_a_headerless_integer_folder_is_never_ag_news(tmp_path: Path) -> None:
    """Two-class sentiment, labels 0/1, no header, no classes.txt: today's reader takes it for AG News."""
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("a lovely film,1\na dull film,0\nfine acting,1\n")
    with pytest.raises(DataError) as refused:
        read_folder(tmp_path)
    message = str(refused.value)
    assert "no column 'label'; its columns are 'a lovely film', '1'" in message
    assert "--label-column" in message
    assert "the file needs a header row" in message


def test_an_id_text_label_header_is_generic_data(tmp_path: Path) -> None:
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("id,text,label\n7,a lovely film,1\n8,a dull film,0\n")
    data = read_folder(tmp_path)
    assert data.description.name != "ag_news"
    assert data.description.class_names == ("0", "1")
    assert data.train.labels == [1, 0]
    assert data.train.texts == ["a lovely film", "a dull film"]


def test_a_classes_file_that_is_not_ag_news_is_a_warning(tmp_path: Path) -> None:
    write_split_folder(tmp_path, ["ham", "spam"], ".csv")
    (tmp_path / "classes.txt").write_text("ham\nspam\n")
    data = read_folder(tmp_path)
    assert data.description.class_names == ("ham", "spam")
    assert any("is not AG News's" in w for w in data.warnings)


def test_a_class_missing_from_the_test_split_is_a_warning(tmp_path: Path) -> None:
    write_table(tmp_path / "train.csv", class_rows(["a", "b", "c"], 2))
    write_table(tmp_path / "test.csv", class_rows(["a", "b"], 2))
    data = read_folder(tmp_path)
    assert len(data.warnings) == 1
    assert "no test rows of 1 class(es) ('c')" in data.warnings[0]


def test_plain_cleaning_is_applied_and_ag_news_cleaning_is_not(tmp_path: Path) -> None:
    rows = [{"text": "if a<b and c>d then\\n  #39;s", "label": k % 2} for k in range(4)]
    write_table(tmp_path / "train.csv", rows)
    write_table(tmp_path / "test.csv", rows)
    assert read_folder(tmp_path).train.texts[0] == "if a<b and c>d then\\n #39;s"


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_refused_with_its_message_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    options, expected = write_bad_folder(tmp_path, case)
    before = tree(tmp_path)
    with pytest.raises(DataError, match=expected):
        read_folder(tmp_path, **options)
    assert tree(tmp_path) == before
    report = check_data(lambda: read_folder(tmp_path, **options), validation_fraction=None)
    assert not report.ok and report.to_dict()["refusal"] == report.refusal
    assert report.render().startswith("refused: ")
    assert tree(tmp_path) == before


def test_the_check_report_counts_classes_and_lengths_per_split(tmp_path: Path) -> None:
    rows = [{"text": "one two three", "label": "pos"}] * 3 + [{"text": "one", "label": "neg\u00a0"}]
    write_table(tmp_path / "train.tsv", rows)
    write_table(tmp_path / "test.tsv", rows[:2])
    report = check_data(lambda: read_folder(tmp_path), validation_fraction=None)
    assert report.ok
    data = report.to_dict()
    json.dumps(data)  # the --json form is plain JSON
    train, test = data["splits"]
    assert (train["name"], train["rows"], train["columns"]) == ("train", 4, ["text", "label"])
    assert train["class_counts"] == {"neg": 1, "pos": 3}
    assert test["class_counts"] == {"neg": 0, "pos": 2}
    assert train["words"]["max"] == 3 and train["chars"]["max"] == 13
    assert train["words"]["mean"] == pytest.approx(2.5)
    assert data["dataset"]["class_names"] == ["neg", "pos"]
    no_neg, copies = data["warnings"]  # a class without test rows; test rows that are training rows
    assert "no test rows of 1 class(es)" in no_neg and copies.startswith("2 of the 2 test rows (100.0%)")
    text = report.render()
    assert "2 classes, in order: neg, pos" in text
    assert "train: 4 rows from" in text and "warnings:" in text


def test_the_check_report_quotes_names_a_terminal_could_act_on(tmp_path: Path) -> None:
    rows = [{"te\x1b[2Jxt": f"row {k}", "label": "ab"[k % 2]} for k in range(4)]
    write_table(tmp_path / "train.jsonl", rows)
    write_table(tmp_path / "test.jsonl", rows)
    text = check_data(
        lambda: read_folder(tmp_path, text_columns=("te\x1b[2Jxt",)), validation_fraction=None
    ).render()
    assert "\x1b" not in text and "'te\\x1b[2Jxt'" in text
