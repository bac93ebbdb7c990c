"""`agnews predict`: a big file classified in chunks, resumed after an interruption, shared by processes."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.rundir.run import Run
from agnews.serving import predict_file as predict_module
from agnews.serving.csv_batch import BatchError
from agnews.serving.predict_file import predict_file
from agnews.serving.predictor import Predictor

HEADLINES = [
    "Oil prices jump as OPEC agrees to cut output",
    "Striker scores twice as United beat City",
    "Chip maker unveils faster processor for laptops",
    "Rebels and government sign ceasefire in capital",
    "",  # kept, with a note, never dropped
    "Shares of refiners fall on Wall Street",
    "Space agency delays launch of new telescope",
    "Coach resigns after a season of defeats",
    "Central bank raises rates by a quarter point",
    "Elections called after parliament is dissolved",
]


def news_file(folder: Path, name: str = "news.csv") -> Path:
    path = folder / name
    pd.DataFrame({"id": [f"00{i}" for i in range(len(HEADLINES))], "text": HEADLINES}).to_csv(
        path, index=False
    )
    return path


def read_out(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_every_row_keeps_its_cells_and_order_and_gets_the_fp32_probabilities(
    run: Run, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    outcome = predict_file(run, news_file(tmp_path), out, chunk_rows=3, progress=False)
    got = read_out(out)
    assert got["id"].tolist() == [f"00{i}" for i in range(len(HEADLINES))]  # "007" stays "007"
    assert got["text"].tolist() == HEADLINES
    assert outcome.classified_chunks == 4 and outcome.totals.rows == 10 and outcome.totals.unclassified == 1
    texts = [text for text in HEADLINES if text]
    expected = Predictor(run.model_path).probabilities_many(texts, bf16=False)
    written = got[got["text"] != ""][[f"p_{name}" for name in LABELS]].astype(float).to_numpy()
    np.testing.assert_allclose(written, expected, atol=1e-4)  # written with 4 decimals
    assert set(got["backend"]) == {f"fp32 ({run.name})"}
    assert got.loc[got["text"] == "", "note"].item().startswith("empty text")
    assert not (tmp_path / ".out.csv.chunks").exists()


def test_an_interrupted_job_resumes_without_redoing_its_chunks(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, out = news_file(tmp_path), tmp_path / "out.csv"
    calls = {"n": 0}
    original = predict_module.Classifier.predict_many

    def fails_on_the_second_chunk(self: predict_module.Classifier, texts: list[str], progress: object = None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the person pressed Ctrl-C, or the machine went away
        return original(self, texts, progress)

    monkeypatch.setattr(predict_module.Classifier, "predict_many", fails_on_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        predict_file(run, source, out, chunk_rows=4, progress=False)
    assert not out.exists() and len(list((tmp_path / ".out.csv.chunks").glob("chunk-*.json"))) == 1
    with pytest.raises(BatchError, match="unfinished job with other settings"):
        predict_file(run, source, out, chunk_rows=5, progress=False)
    monkeypatch.setattr(predict_module.Classifier, "predict_many", original)
    resumed = predict_file(run, source, out, chunk_rows=4, progress=False)
    assert (resumed.resumed_chunks, resumed.classified_chunks) == (1, 2)
    clean = tmp_path / "clean.csv"
    predict_file(run, source, clean, chunk_rows=4, progress=False)
    assert read_out(out).equals(read_out(clean))


def test_two_processes_share_the_chunks_into_one_output_in_input_order(run: Run, tmp_path: Path) -> None:
    source, out = news_file(tmp_path), tmp_path / "shared.csv"
    outcomes = {}

    def process(rank: int) -> None:
        outcomes[rank] = predict_file(run, source, out, chunk_rows=2, progress=False, rank=rank, world=2)

    threads = [threading.Thread(target=process, args=(rank,)) for rank in (1, 0)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes[0].classified_chunks == 3 and outcomes[1].classified_chunks == 2  # chunks 0,2,4 / 1,3
    single = tmp_path / "single.csv"
    predict_file(run, source, single, chunk_rows=2, progress=False)
    assert read_out(out).equals(read_out(single))  # every row once, in input order
    assert outcomes[0].totals.rows == len(HEADLINES)


def test_parquet_in_and_out(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "news.parquet"
    pd.DataFrame({"title": ["Oil jumps", "Team wins"], "description": ["OPEC cuts", "late goal"]}).to_parquet(
        source
    )
    out = tmp_path / "out.parquet"
    predict_file(run, source, out, progress=False)
    got = read_out(out)
    assert got["title"].tolist() == ["Oil jumps", "Team wins"]
    assert set(got["predicted"]) <= set(LABELS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("headline,id\nOil,1\n", "no `text` column"),
        ("text;id\nOil;1\n", "seems to use ';' as delimiter"),
        ("text,id\n", "has a header but no rows"),
        ('text,id\n"Oil,1\n', "malformed CSV"),
        ("text,id\nOil,1,extra\n", "line 2 has 3 cells, the header has 2"),
        ("text,predicted\nOil,Sports\n", "already has column(s) 'predicted'"),
    ],
)
def test_a_bad_file_gets_the_pages_message_and_writes_nothing(
    run: Run, tmp_path: Path, content: str, message: str
) -> None:
    source, out = tmp_path / "bad.csv", tmp_path / "out.csv"
    source.write_text(content, encoding="utf-8")
    with pytest.raises(BatchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        predict_file(run, source, out, progress=False)
    assert not out.exists()


def test_the_cli_reports_bad_input_in_one_line(
    synthetic_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("text\ncaf\xe9 prices rise\n".encode("latin-1"))
    assert main(["predict", str(synthetic_run), str(source), "--out", str(tmp_path / "o.csv")]) == 2
    assert "not UTF-8 text" in capsys.readouterr().err
    good = news_file(tmp_path)
    assert (
        main(
            ["predict", str(synthetic_run), str(good), "--out", str(tmp_path / "o.csv"), "--chunk-rows", "4"]
        )
        == 0
    )
    assert "3 chunk(s) classified by fp32" in capsys.readouterr().out
    with (tmp_path / "o.csv").open(newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.reader(handle)) == len(HEADLINES) + 1
