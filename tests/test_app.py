"""The app: tab helpers as plain functions, then the served app called through `gradio_client`."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from helpers import ServedApp
from test_word_scores import drawn_changes, shown_words

from agnews.analyses.calibration.schema import PART as CALIBRATION
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present import tables
from agnews.present.tables import row_tags, with_tags
from agnews.rundir.parts import Manifest
from agnews.rundir.run import Run
from agnews.serving.csv_batch import NOTE_CUT, NOTE_EMPTY, REVIEW_COLUMN, output_columns
from agnews.serving.predictor import MAX_CHARS, MAX_RAW_CHARS, Predictor, model_text
from agnews.text import clean_text
from agnews.ui import build_app, classify, confusion, errors
from agnews.ui.common import row_details
from agnews.ui.file_upload import output_name


@pytest.fixture(scope="module")
def client(served_app: ServedApp) -> Client:
    return Client(served_app.url, verbose=False)


def frame() -> pd.DataFrame:
    """Six predictions: rows 1, 2 and 4 are mistakes, with different confidences."""
    labels, preds = [0, 0, 1, 2, 3, 3], [0, 1, 0, 2, 2, 3]
    return pd.DataFrame(
        {
            "row_id": [10, 11, 12, 13, 14, 15],
            "text": ["a b", "Oil rises", "oil falls", "c", "Chip news", "d"],
            "label": labels,
            "label_name": [LABELS[i] for i in labels],
            "pred": preds,
            "pred_name": [LABELS[i] for i in preds],
            "confidence": [0.9, 0.6, 0.95, 0.8, 0.6, 0.7],
            **{f"prob_{i}": [0.25] * 6 for i in range(4)},
        }
    )


# --------------------------------------------------------------------------------------------------
# Tab helpers, no server
# --------------------------------------------------------------------------------------------------


def test_mistakes_are_most_confident_first_and_filter_by_pair_and_text() -> None:
    wrong = tables.mistakes(frame())
    assert wrong["row_id"].tolist() == [12, 11, 14]
    assert errors.filter_mistakes(wrong, "World", errors.ANY, "")["row_id"].tolist() == [11]
    assert errors.filter_mistakes(wrong, errors.ANY, "World", "OIL")["row_id"].tolist() == [12]
    assert errors.filter_mistakes(wrong, "Sci/Tech", "Business", " chip ")["row_id"].tolist() == [14]
    assert errors.filter_mistakes(wrong, errors.ANY, errors.ANY, "(")["row_id"].tolist() == []
    assert errors.filter_mistakes(wrong, None, None, None)["row_id"].tolist() == [12, 11, 14]
    exported = errors.export_frame(wrong, LABELS)
    assert list(exported.columns[:5]) == ["row_id", "text", "true", "predicted", "confidence"]
    assert list(exported.columns[5:]) == [f"p_{name}" for name in LABELS]


def test_confusion_tables_and_cell_choice() -> None:
    counts = confusion.counts_table([[1, 2, 3, 4]] * 4, LABELS)
    assert list(counts.columns) == [confusion.CORNER, *LABELS]
    assert confusion.cell_pair(counts, [0, 2]) == ("World", "Sports")
    assert confusion.cell_pair(counts, [3, 0]) is None
    test = {"accuracy": 0.9, "f1_weighted": 0.89, "f1_macro": 0.88, "rows": 100}
    assert tables.summary_table(test, None)["model"].tolist() == ["fine-tuned"]
    both = tables.summary_table(test, {"accuracy": 0.8, "f1_macro": 0.7})
    assert both["accuracy"].tolist() == [0.9, 0.8]


def test_classify_helpers() -> None:
    examples = classify.example_texts(frame(), per_class=1)
    assert examples == ["a b", "c", "d"]  # correct rows only, one per true class


def test_row_details_show_full_text_and_probabilities() -> None:
    markdown, probs = row_details(frame(), 11, LABELS)
    assert "Oil rises" in markdown and "**wrong**" in markdown and probs == dict.fromkeys(LABELS, 0.25)
    assert row_details(frame(), None, LABELS)[1] is None and row_details(frame(), 999, LABELS)[1] is None


def test_app_degrades_without_the_optional_parts(run: Run, predictor: Predictor) -> None:
    bare = dataclasses.replace(run, manifest=Manifest(), warnings=[], loaded={})
    built = build_app(bare, predictor).get_config_file()
    config = json.dumps(built, default=str)  # a State holds a callback
    # classify's map, the Map, Neighbours, Calibration, Label issues, Slices, Robustness and Tuning
    # tabs, the Data tab's warnings, and the Overview's calibration, label issues, slices, robustness
    # and dataset cards (Cross-domain opens on its upload form instead: the page can fill it)
    assert config.count("Not available for this run") == 14
    # The placement is laid out hidden (a page on another run, `?run=NAME`, may have a map to show)
    [placement] = [c["props"] for c in built["components"] if c["props"].get("elem_id") == "classify-map-row"]
    assert placement["visible"] is False and '"api_name": "classify"' in config


# --------------------------------------------------------------------------------------------------
# The served app
# --------------------------------------------------------------------------------------------------


def test_classify_returns_all_four_probabilities(client: Client, served_run: Run) -> None:
    row = served_run.predictions.iloc[0]
    result = client.predict(row["text"], api_name="/classify")
    assert result["label"] == row["pred_name"]
    confidences = {c["label"]: c["confidence"] for c in result["confidences"]}
    assert set(confidences) == set(LABELS)
    assert confidences[row["pred_name"]] == pytest.approx(row["confidence"], abs=1e-4)


def test_classify_refuses_empty_text_with_a_message(client: Client) -> None:
    with pytest.raises(AppError, match="Type or paste a text"):
        client.predict("   ", api_name="/classify")


def test_classify_batch_answers_each_request_and_an_empty_one_with_the_message(predictor: Predictor) -> None:
    """What `/classify`'s batched function gives the requests Gradio batched together."""
    texts = ["Oil prices rise as OPEC cuts output", " <br> ", None, "Cup final"]
    (answers,) = classify.classify_texts(predictor, texts)
    assert answers[1] == answers[2] == classify.EMPTY_MESSAGE  # shown as the label, no probabilities
    for i in (0, 3):
        assert answers[i] == pytest.approx(predictor.probabilities(texts[i]), abs=1e-5)
    with pytest.raises(gr.Error, match="Type or paste a text"):  # only empty texts: the batch fails
        classify.classify_texts(predictor, ["", "\x00"])


def test_concurrent_classify_requests_each_get_their_own_answer(served_app: ServedApp) -> None:
    """Requests sent together are batched by the queue (`batch=True`); each caller still gets the
    answer for its own text, as `/classify` gives it alone."""
    texts = [f"{text} ({i})" for i, text in enumerate(classify.example_texts(served_app.run.predictions) * 3)]
    client = Client(served_app.url, verbose=False)
    jobs = [client.submit(text, api_name="/classify") for text in texts]
    for text, job in zip(texts, jobs, strict=True):
        expected = served_app.predictor.probabilities(text)
        result = job.result(timeout=60)
        assert result["label"] == max(expected, key=expected.__getitem__)
        confidences = {c["label"]: c["confidence"] for c in result["confidences"]}
        assert confidences == pytest.approx(expected, abs=1e-4)


def test_place_lists_the_nearest_stored_texts(client: Client, served_run: Run) -> None:
    row = served_run.predictions.iloc[5]
    plot, table = client.predict(row["text"], api_name="/place")
    assert plot["type"] == "plotly" and '"your text"' in plot["plot"]
    assert len(table["data"]) == classify.NEIGHBOURS
    assert table["data"][0][0] == row["row_id"]  # the stored copy of the same text is nearest


def test_explain_scores_every_word(client: Client, served_predictor: Predictor) -> None:
    text = "Oil prices rise as OPEC cuts output"
    drawn = client.predict(text, api_name="/explain")
    assert shown_words(drawn) == text.split()
    expected = served_predictor.word_scores(text)
    assert drawn_changes(drawn) == pytest.approx(expected.changes, abs=1e-6)  # not rescaled per text


def test_error_filters_and_csv_export(client: Client, served_run: Run) -> None:
    wrong = tables.mistakes(served_run.predictions)
    pair = wrong.iloc[0][["label_name", "pred_name"]].tolist()
    filters = (*pair, "", errors.ANY, errors.BY_CONFIDENCE)  # classes, text, tag, order
    table, count, *_buttons = client.predict(*filters, api_name="/errors")  # then the view's buttons
    expected = errors.filter_mistakes(wrong, *pair, "")
    assert [r[0] for r in table["data"]] == expected["row_id"].tolist()
    assert count.startswith(f"{len(expected)} of {len(wrong)}")
    exported = pd.read_csv(client.predict(api_name="/errors_csv"))  # the session's view, as listed
    assert exported["row_id"].tolist() == expected["row_id"].tolist()
    assert exported["text"].tolist() == expected["text"].tolist()


def test_error_tag_filter(client: Client, served_run: Run) -> None:
    wrong = tables.mistakes(with_tags(served_run.predictions, served_run))
    # a tag that some mistakes carry and some do not, so that the filter visibly narrows
    tag = next(t for t in row_tags(served_run) if 0 < wrong[f"tag_{t}"].sum() < len(wrong))
    filters = (errors.ANY, errors.ANY, "", tag, errors.BY_CONFIDENCE)
    table, count, *_buttons = client.predict(*filters, api_name="/errors")
    expected = wrong[wrong[f"tag_{tag}"]]
    assert [r[0] for r in table["data"]] == expected["row_id"].tolist()
    assert count.startswith(f"{len(expected)} of {len(wrong)}")


def test_map_class_filter(client: Client, served_run: Run) -> None:
    plot, table, note, density = client.predict(
        "fine-tuned", "correct vs wrong", ["Sports"], [], api_name="/map"
    )
    assert {r[2] for r in table["data"]} == {"Sports"}
    assert len(table["data"]) == (served_run.predictions["label_name"] == "Sports").sum()
    assert "Silhouette" in note and '"wrong' in plot["plot"]
    assert "Heatmap" in density["plot"] or "heatmap" in density["plot"]


# --------------------------------------------------------------------------------------------------
# Bad input: every endpoint gives a prediction or a message, never a traceback; work stays bounded
# --------------------------------------------------------------------------------------------------

ONE_MB = ("Oil prices rise as OPEC cuts output. " * 30_000)[:1_000_000]
# Name -> (input, the words the model reads): each must be classified, placed and explained.
READABLE = {
    "control characters and NUL": ("Oil\x00 prices\x07 rise\x1b today", ["Oil", "prices", "rise", "today"]),
    "emoji and non-Latin scripts": (
        "🚀 Стартап 中国股市 上涨 🎉",
        ["🚀", "Стартап", "中国股市", "上涨", "🎉"],
    ),
    "HTML": (
        "<script>alert(1)</script><b>Oil</b> prices &amp; shares",
        ["alert(1)", "Oil", "prices", "&", "shares"],
    ),
}
UNREADABLE = {
    "empty": "",
    "whitespace": " \t\n ",
    "control characters only": "\x00\x01\x7f",
    "tags only": "<br><b></b>",
}


def record_cleaning(
    monkeypatch: pytest.MonkeyPatch, predictor: Predictor | None = None
) -> tuple[list[int], Callable[[str], str]]:
    """A cleaning function that records the lengths of the texts `model_text` hands it, and those
    lengths; with `predictor`, the predictor cleans through it from now on (in the server too).

    Cleaning, then tokenising, is what a long input costs (3 s for 1 MB, uncut), so what bounds the
    work is how much of it reaches cleaning; timings are for bench/app_latency.py.
    """
    lengths: list[int] = []

    def recording_clean_text(text: str) -> str:
        lengths.append(len(text))
        return clean_text(text)

    if predictor is not None:
        monkeypatch.setattr(predictor, "clean", recording_clean_text)
    return lengths, recording_clean_text


def test_model_text_cleans_only_the_start_of_long_input_and_cuts_at_a_word_boundary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cleaned, recording = record_cleaning(monkeypatch)
    text, cut = model_text(ONE_MB, recording)
    assert cleaned == [MAX_RAW_CHARS]  # cleaning reads the first MAX_RAW_CHARS only, never the megabyte
    assert cut and MAX_CHARS - 40 < len(text) <= MAX_CHARS and ONE_MB.startswith(text)
    assert ONE_MB[len(text)] == " "  # not in the middle of a word
    assert model_text(text, clean_text) == (text, False)  # idempotent: the predictor may apply it again
    chinese, cut = model_text("股" * 5_000, clean_text)  # no spaces at all: cut at the character limit
    assert cut and len(chinese) == MAX_CHARS
    assert model_text("Short headline", clean_text) == ("Short headline", False)


def test_a_cut_text_is_classified_and_explained_with_a_warning(predictor: Predictor) -> None:
    # Outside a request, gr.Warning is a Python warning; in the app, it is a yellow notice. The words
    # event gives it: Gradio delivers no warnings from /classify's batched function.
    assert classify.classify_texts(predictor, [ONE_MB])[0][0] == predictor.probabilities(ONE_MB)
    with pytest.warns(UserWarning, match=f"first {MAX_CHARS:,} characters"):
        classify.explain_text(predictor, ONE_MB)


@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_text_gets_a_message_from_every_endpoint(client: Client, name: str) -> None:
    for endpoint in ("/classify", "/place", "/explain"):
        with pytest.raises(AppError, match="Type or paste a text first"):
            client.predict(UNREADABLE[name], api_name=endpoint)


@pytest.mark.parametrize("name", READABLE)
def test_odd_text_is_classified_placed_and_explained_cleanly(client: Client, name: str) -> None:
    text, words = READABLE[name]
    assert client.predict(text, api_name="/classify")["label"] in LABELS
    _, neighbours = client.predict(text, api_name="/place")
    assert len(neighbours["data"]) == classify.NEIGHBOURS
    assert shown_words(client.predict(text, api_name="/explain")) == words  # no tags, no control
    # characters, scripts and emoji intact


def test_one_megabyte_of_text_is_classified_on_its_first_characters(
    client: Client, served_predictor: Predictor, monkeypatch: pytest.MonkeyPatch
) -> None:
    cleaned, _ = record_cleaning(monkeypatch, served_predictor)  # the server runs in this process
    assert client.predict(ONE_MB, api_name="/classify")["label"] in LABELS
    assert max(cleaned) == MAX_RAW_CHARS  # cleaned the first MAX_RAW_CHARS, never the whole megabyte
    cleaned.clear()
    words = shown_words(client.predict(ONE_MB, api_name="/explain"))
    assert max(cleaned) == MAX_RAW_CHARS
    assert len(" ".join(words)) <= MAX_CHARS  # words of the cut text only


# --------------------------------------------------------------------------------------------------
# Batch CSV classification through the app (the reader's own cases: tests/test_batch.py)
# --------------------------------------------------------------------------------------------------


def test_batch_csv_keeps_every_row_and_agrees_with_single_classification(
    client: Client, served_predictor: Predictor, served_run: Run, tmp_path: Path
) -> None:
    long_text = "Chip maker unveils a faster processor. " * 100
    rows = [
        ["007", "Oil prices rise as OPEC cuts output"],
        ["008", ""],
        ["009", long_text],
        ["010", "Cup final"],
    ]
    upload = tmp_path / "my headlines.csv"
    with upload.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text"], *rows])
    path, summary = client.predict(handle_file(str(upload)), api_name="/classify_csv")
    assert Path(path).name == "my_headlines-classified.csv"
    assert summary.startswith("Classified 3 of 4 rows") and "1 row has no text" in summary
    result = pd.read_csv(path, dtype=str, keep_default_na=False)
    threshold = (
        served_run.get(CALIBRATION).review_threshold if served_run.get(CALIBRATION) is not None else None
    )
    assert list(result.columns) == ["id", "text", *output_columns(LABELS, threshold)]
    assert result["id"].tolist() == ["007", "008", "009", "010"]  # all rows, in order, cells verbatim
    assert result["note"].tolist() == ["", NOTE_EMPTY, NOTE_CUT, ""]
    assert result.loc[1, "predicted"] == "" and result.loc[1, "p_World"] == ""
    for i in (0, 2, 3):
        single = served_predictor.probabilities(rows[i][1])
        assert result.loc[i, "predicted"] == max(single, key=single.__getitem__)
        # Files run under bf16 autocast where the CPU has it, typed text through the fp32 ONNX graph;
        # the tiny run's calibration scales its near-flat logits up many times, and the gap with them
        # (up to 0.009 seen on an AMX Xeon). In fp32 only the file's four decimals separate the two.
        tolerance = 2e-2 if served_predictor.batch_bf16 else 1e-4
        assert [float(result.loc[i, f"p_{n}"]) for n in LABELS] == pytest.approx(
            list(single.values()), abs=tolerance
        )
        if threshold is not None:
            confidence = max(float(result.loc[i, f"p_{n}"]) for n in LABELS)
            assert result.loc[i, REVIEW_COLUMN] == str(confidence < threshold).lower()


def test_batch_csv_refuses_a_bad_file_with_its_reason(client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "semicolons.csv"
    upload.write_text("id;text\n1;Oil prices rise\n", encoding="utf-8")
    with pytest.raises(AppError, match="no `text` column; the file seems to use ';' as delimiter"):
        client.predict(handle_file(str(upload)), api_name="/classify_csv")


def test_batch_output_name_is_safe() -> None:
    assert output_name("/tmp/x/Q3 report (final) <ü>.csv") == "Q3_report_final_ü-classified.csv"
    assert output_name("/tmp/x/....csv") == "upload-classified.csv"


# --------------------------------------------------------------------------------------------------
# The launcher (app.py), without launching
# --------------------------------------------------------------------------------------------------


def test_launcher_checks_its_arguments(
    launcher: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The logins (several, from a file or the environment, the throttle): tests/test_app_security.py
    assert launcher.main(["--run", str(tmp_path / "missing")]) == 2
    assert "run directory not found" in capsys.readouterr().err
    # --share (warning, refused on a Space): tests/test_app_security.py
