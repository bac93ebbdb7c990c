"""Cross-domain evaluation: reading a labelled CSV and its label map, the part it writes (replaced
whole on a rerun, never touching the in-domain parts), staleness, upload, the CLI and the app tab.

The files are built here, in another shape than AG News: `category,text` columns, lower-case class
names, a class the map leaves out, numeric labels mapped by class id.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from helpers import WORDS, tab_page
from sklearn.metrics import f1_score

from agnews.analyses.cross_domain import stage as cross_domain
from agnews.analyses.cross_domain import tab as cross_domain_tab
from agnews.analyses.cross_domain.numeric import parse_label_map, select_rows
from agnews.analyses.cross_domain.schema import FAMILY
from agnews.analyses.cross_domain.stage import cross_domain_run, default_name, read_labelled_csv
from agnews.cli import main
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.inference import infer
from agnews.rundir import parts
from agnews.rundir.catalog import CATALOG
from agnews.rundir.edit import edit_run
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.text import clean_text
from agnews.training.data import DataError

NEWS_MAP = "business=Business,sports=Sports,tech=Sci/Tech"
SOURCE_NAMES = {0: "world", 1: "sports", 2: "business", 3: "tech"}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def news_rows(per_class: int) -> list[list[str]]:
    """`category,text` rows: lower-case names, an unmapped "world" and "entertainment", an empty text."""
    rows = []
    for label, vocab in WORDS.items():
        words = vocab.split()
        for i in range(per_class):
            text = " ".join(words[(i + j) % len(words)] for j in range(8)) + f" &amp; report #39;s {i}"
            rows.append([SOURCE_NAMES[label], text])
    rows += [["entertainment", "film star award premiere"], ["entertainment", "music album tour"]]
    rows.append(["business", "  <b></b> "])  # nothing left once cleaned: skipped and counted
    return rows


@pytest.fixture(scope="module")
def news_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("files")
    return write_csv(folder / "other news.csv", ["category", "text"], news_rows(6))


@pytest.fixture(scope="module")
def scored(synthetic_run: Path, news_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the synthetic run with one cross-domain part, `other-news` (named after the file)."""
    path = tmp_path_factory.mktemp("scored") / "run"
    shutil.copytree(synthetic_run, path)
    cross_domain_run(
        path, news_csv, text_columns=["text"], label_column="category", label_map=NEWS_MAP, progress=False
    )
    return path


def fingerprints(run: Path, names: tuple[str, ...]) -> dict[str, str]:
    manifest = parts.read_manifest(run)
    return {name: manifest.parts[name].fingerprint for name in names}


# --------------------------------------------------------------------------------------------------
# Reading the file and the map
# --------------------------------------------------------------------------------------------------


def test_label_map_accepts_names_in_any_case_and_ids() -> None:
    assert parse_label_map(" business = business , tech=SCI/TECH,sports=1,wire=0,", LABELS) == {
        "business": 2,
        "tech": 3,
        "sports": 1,
        "wire": 0,
    }
    assert parse_label_map("acq=Business,crude=Business", LABELS) == {"acq": 2, "crude": 2}


@pytest.mark.parametrize(
    ("label_map", "message"),
    [
        ("business=", r"'business=' has no class after '='"),
        ("=World", r"'=World' has no source label before '='"),
        ("business", r"'business' is not a source=Class pair"),
        (" , ", r"maps nothing"),
        ("a=World,a=Sports", r"source label 'a' is mapped twice"),
        ("business=Finance", r"'Finance' is not a class: use World, Sports, Business, Sci/Tech .* id 0-3"),
        ("business=4", r"'4' is not a class"),
    ],
)
def test_a_bad_label_map_is_refused_with_its_reason(label_map: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_label_map(label_map, LABELS)


def test_rows_of_unmapped_classes_and_empty_texts_are_skipped_and_counted(news_csv: Path) -> None:
    file = read_labelled_csv(news_csv, ["text"], "category")
    assert len(file.labels) == 6 * 4 + 3
    selection = select_rows(file, parse_label_map(NEWS_MAP, LABELS))
    assert selection.skipped_unmapped == {"entertainment": 2, "world": 6}
    assert selection.skipped_empty_text == 1
    assert len(selection.rows) == 18
    assert [file.labels[row] for row in selection.rows] == [
        SOURCE_NAMES[i] for i in (1, 2, 3) for _ in range(6)
    ]
    assert selection.labels.tolist() == [1] * 6 + [2] * 6 + [3] * 6
    first = selection.rows[0]
    assert selection.texts[0] == clean_text(file.texts[first]) and "& report's" in selection.texts[0]


def test_numeric_labels_map_by_class_id(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "ids.csv", ["label", "text"], [["1", "a"], ["2", "b"], ["2", "c"], ["7", "d"]]
    )
    selection = select_rows(
        read_labelled_csv(path, ["text"], "label"), parse_label_map("1=0,2=Sports", LABELS)
    )
    assert selection.labels.tolist() == [0, 1, 1] and selection.skipped_unmapped == {"7": 1}


def test_several_text_columns_are_joined(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv", ["title", "description", "topic"], [["Oil up", "Prices rose.", "biz"]]
    )
    assert read_labelled_csv(path, ["title", "description"], "topic").texts == ["Oil up Prices rose."]


@pytest.mark.parametrize(
    ("content", "columns", "message"),
    [
        (None, ("text", "category"), r"file not found"),
        (b"", ("text", "category"), r"the file is empty"),
        (b" \n\n", ("text", "category"), r"the file is empty"),
        (b"\xef\xbb\xbf\n\n", ("text", "category"), r"no header row"),
        (b"category,text\n", ("text", "category"), r"a header but no rows"),
        (b'category,text\nsports,"open quote\n', ("text", "category"), r"malformed CSV at line \d"),
        (b"category,text\nsports,a\nsports,b,c\n", ("text", "category"), r"line 3 has 3 cells, the header"),
        (b"category,text\nsports,caf\xe9\n", ("text", "category"), r"not UTF-8 .* at byte 24"),
        (
            b"category,body\nsports,a\n",
            ("text", "category"),
            r"no column 'text'; its columns are 'category', 'body'",
        ),
        (
            b"topic,text\nsports,a\n",
            ("text", "category"),
            r"no column 'category'; its columns are 'topic', 'text'",
        ),
    ],
)
def test_a_bad_file_is_refused_with_its_reason(
    tmp_path: Path, content: bytes | None, columns: tuple[str, str], message: str
) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_labelled_csv(path, [columns[0]], columns[1])


def test_a_map_naming_a_class_the_file_lacks_lists_the_files_classes(news_csv: Path) -> None:
    file = read_labelled_csv(news_csv, ["text"], "category")
    with pytest.raises(DataError, match=r"names 'Business', which .* are 'business' \(7\), 'world' \(6\)"):
        select_rows(file, parse_label_map("Business=Business", LABELS))


def test_a_map_that_keeps_only_empty_texts_scores_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", ["label", "text"], [["biz", ""], ["biz", " "], ["sport", "goal"]])
    with pytest.raises(DataError, match=r"every row the label map keeps \(2\) has an empty text"):
        select_rows(read_labelled_csv(path, ["text"], "label"), parse_label_map("biz=Business", LABELS))


def test_part_names_must_be_safe_folder_names() -> None:
    assert default_name(Path("/data/BBC news (2024).csv")) == "BBC-news-2024"
    assert CATALOG.part("cross_domain/bbc-2024_v1.0").files == (
        "cross_domain/bbc-2024_v1.0/predictions.parquet",
        "cross_domain/bbc-2024_v1.0/metrics.json",
    )
    for bad in ("", ".", "..", ".hidden", "a/b", "a b", "x" * 101):
        with pytest.raises(RunError, match="cannot name a cross_domain part"):
            CATALOG.part(f"cross_domain/{bad}")
    with pytest.raises(RunError, match="unknown part 'nope/x'"):
        CATALOG.part("nope/x")


# --------------------------------------------------------------------------------------------------
# The part
# --------------------------------------------------------------------------------------------------


def test_the_part_holds_the_models_and_the_baselines_scores(scored: Path, news_csv: Path) -> None:
    run = Run.load(scored)
    assert run.warnings == [] and list(run.members(FAMILY)) == ["other-news"]
    predictions, metrics = run.members(FAMILY)["other-news"]
    assert metrics.source == str(news_csv.absolute()) and metrics.rows_read == 27 and metrics.rows == 18
    assert metrics.resolved_map == {"business": "Business", "sports": "Sports", "tech": "Sci/Tech"}
    assert metrics.mapped_classes == ["Sports", "Business", "Sci/Tech"]
    assert metrics.skipped() == ["entertainment 2", "world 6", "empty text 1"]

    # The predictions are the run's model on the cleaned texts, in the file's row order.
    file = read_labelled_csv(news_csv, ["text"], "category")
    assert predictions["source_label"].tolist() == [file.labels[i] for i in predictions["row_id"]]
    assert predictions["text"].tolist() == [clean_text(file.texts[i]) for i in predictions["row_id"]]
    again = infer(
        run.load_classifier(), run.load_tokenizer(), predictions["text"].tolist()[:4], progress=False
    )
    assert np.allclose(
        again.probs, predictions[list(parts.prob_columns(len(run.classes)))].to_numpy()[:4], atol=1e-5
    )

    labels, mapped = predictions["label"].to_numpy(), [1, 2, 3]
    for scores, preds in (
        (metrics.model, predictions["pred"]),
        (metrics.baseline, predictions["baseline_pred"]),
    ):
        assert scores.accuracy == pytest.approx((preds.to_numpy() == labels).mean())
        assert scores.f1_macro == pytest.approx(f1_score(labels, preds, labels=mapped, average="macro"))
        assert scores.confusion_rows == metrics.mapped_classes and scores.confusion_columns == list(LABELS)
        matrix = np.array(scores.confusion_matrix)
        assert matrix.shape == (3, 4) and matrix.sum(axis=1).tolist() == [6, 6, 6]
        assert matrix.sum(axis=0).tolist() == np.bincount(preds, minlength=4).tolist()
        assert [scores.per_class[name].support for name in metrics.mapped_classes] == [6, 6, 6]
    assert metrics.baseline_train_rows == run.data_stats.splits["train"].rows
    assert set(run.manifest.parts["cross_domain/other-news"].made_from) == {"model", "config"}


def test_a_rerun_replaces_the_part_and_never_touches_the_in_domain_parts(
    scored: Path, news_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    in_domain = ("predictions", "metrics", "model", "config")
    before = fingerprints(path, in_domain)
    old = path / "cross_domain" / "other-news" / "metrics.json"
    old_inode, old_bytes = old.stat().st_ino, old.read_bytes()

    cross_domain_run(
        path,
        news_csv,
        text_columns=["text"],
        label_column="category",
        label_map="sports=Sports",
        name="other-news",
        progress=False,
    )
    run = Run.load(path)
    metrics = run.members(FAMILY)["other-news"].metrics
    assert metrics.rows == 6 and metrics.mapped_classes == ["Sports"] and metrics.label_map == "sports=Sports"
    assert len(run.members(FAMILY)["other-news"].predictions) == 6
    assert old.stat().st_ino != old_inode and old.read_bytes() != old_bytes
    assert fingerprints(path, in_domain) == before and run.warnings == []
    assert sorted(p.name for p in (path / "cross_domain").iterdir()) == ["other-news"]
    assert sorted(p.name for p in (path / "cross_domain" / "other-news").iterdir()) == [
        "metrics.json",
        "predictions.parquet",
    ]

    with edit_run(path) as edit:
        edit.remove("cross_domain/other-news")
    assert not (path / "cross_domain").exists() and Run.load(path).members(FAMILY) == {}


def test_a_failed_or_refused_evaluation_changes_nothing(
    scored: Path, news_csv: Path, tiny_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    files = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}

    def broken(*_args: object, **_kwargs: object) -> np.ndarray:
        raise RuntimeError("baseline broke")

    monkeypatch.setattr(cross_domain, "tfidf_predictions", broken)
    with pytest.raises(RuntimeError, match="baseline broke"):  # after the model scored every row
        cross_domain_run(
            path,
            news_csv,
            text_columns=["text"],
            label_column="category",
            label_map="sports=Sports",
            progress=False,
        )
    with pytest.raises(RunError, match="cannot name a cross_domain part"):
        cross_domain_run(
            path, news_csv, label_column="category", label_map=NEWS_MAP, name="../x", progress=False
        )
    with pytest.raises(DataError, match="not those the run was trained on"):  # the baseline's rows
        cross_domain_run(
            path, news_csv, label_column="category", label_map=NEWS_MAP, data=str(tiny_data), progress=False
        )
    with pytest.raises(DataError, match="never holds"):
        cross_domain_run(path, news_csv, label_column="category", label_map="Sports=Sports", progress=False)
    assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == files
    assert [p.name for p in path.parent.iterdir() if ".edit-" in p.name] == []


def test_a_part_made_by_another_model_is_dropped_with_the_command_that_remakes_it(
    scored: Path, news_csv: Path, tmp_path: Path
) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    with edit_run(path) as edit:  # what retraining into the same run does to the manifest
        edit.record("model", (), identity="another-model")
        edit.record("predictions", ("model", "config"))
        edit.record("metrics", ("predictions",))
    run = Run.load(path)
    assert run.members(FAMILY) == {} and not run.has("cross_domain/other-news")
    [warning] = [w for w in run.warnings if w.startswith("cross_domain/other-news/predictions.parquet")]
    assert "made from an older model" in warning
    assert (
        f"`agnews cross-domain {path} '{news_csv.absolute()}' --text-column text --label-column category"
        in warning
    )
    assert f"--label-map {NEWS_MAP} --name other-news` re-makes it" in warning


def test_a_damaged_part_is_dropped_and_the_others_load(scored: Path, tmp_path: Path) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    (path / "cross_domain" / "other-news" / "predictions.parquet").write_bytes(b"broken")
    run = Run.load(path)
    assert run.members(FAMILY) == {} and run.metrics.test.rows == len(run.predictions)
    assert any("predictions.parquet: unreadable" in w and "agnews cross-domain" in w for w in run.warnings)


def test_the_part_is_uploaded_and_loads_back(scored: Path, tmp_path: Path) -> None:
    from agnews.hub.layout import run_files
    from agnews.hub.transfer import load_run_from_folder, save_upload_folder

    assert {"cross_domain/other-news/predictions.parquet", "cross_domain/other-news/metrics.json"} <= set(
        run_files(Run.load(scored))
    )
    out = save_upload_folder(scored, tmp_path / "upload", repo_id="someone/agnews-quick")
    assert (out / "agnews_run" / "cross_domain" / "other-news" / "metrics.json").is_file()
    pulled = load_run_from_folder(out, cache_dir=tmp_path / "cache")
    assert pulled.warnings == []
    assert (
        pulled.members(FAMILY)["other-news"].metrics == Run.load(scored).members(FAMILY)["other-news"].metrics
    )


# --------------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------------


def test_cli_scores_a_file_with_numeric_labels(
    scored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    rows = [[str(label + 1), " ".join(WORDS[label].split()[i : i + 5])] for label in WORDS for i in range(4)]
    file = write_csv(tmp_path / "ids.csv", ["text", "label"], [[text, label] for label, text in rows])
    before = fingerprints(path, ("predictions", "metrics", "cross_domain/other-news"))

    code = main(["cross-domain", str(path), str(file), "--label-map", "1=0,2=1,3=2,4=3", "--name", "ids"])
    out = capsys.readouterr().out
    assert code == 0
    metrics = Run.load(path).members(FAMILY)["ids"].metrics
    assert f"{metrics.rows} of 16 rows scored on World, Sports, Business, Sci/Tech" in out
    assert (
        f"fine-tuned model  accuracy {metrics.model.accuracy:.4f}  macro F1 {metrics.model.f1_macro:.4f}"
        in out
    )
    assert f"TF-IDF baseline   accuracy {metrics.baseline.accuracy:.4f}" in out
    assert f"written to {path / 'cross_domain' / 'ids'}" in out
    assert fingerprints(path, tuple(before)) == before  # the other parts, in-domain and cross-domain

    code = main(["cross-domain", str(path), str(file), "--label-map", "1=World,5=Sports"])
    assert code == 2
    err = capsys.readouterr().err
    assert "agnews cross-domain: error:" in err and "names '5', which the label column never holds" in err
    code = main(["cross-domain", str(path), str(file), "--label-column", "topic", "--label-map", "1=0"])
    assert code == 2 and "no column 'topic'; its columns are 'text', 'label'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------------


def tab_events(run: Run) -> dict[str, object]:
    with gr.Blocks() as demo, gr.Tab("Cross-domain") as tab:
        cross_domain_tab.build(tab_page(run, tab))
    return {f.api_name: f.fn for f in demo.fns.values() if f.api_name}


def by_id(updates: dict[object, object]) -> dict[str, object]:
    return {getattr(component, "elem_id", None): value for component, value in updates.items()}


def test_the_tab_shows_each_part(scored: Path, news_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "run"
    shutil.copytree(scored, path)
    cross_domain_run(
        path, news_csv, label_column="category", label_map="tech=3", name="tech-only", progress=False
    )
    run = Run.load(path)
    events = tab_events(run)

    opened = by_id(events["cross_domain_open"](False))
    assert opened["cross-domain-choice"]["choices"] == ["other-news", "tech-only"]
    assert opened["cross-domain-choice"]["value"] == "other-news"
    predictions, metrics = run.members(FAMILY)["other-news"]
    assert (
        "**18** of 27 rows" in opened["cross-domain-summary"]
        and "entertainment 2" in opened["cross-domain-summary"]
    )
    scores = opened["cross-domain-scores"]
    assert scores["score"].tolist() == ["accuracy", "macro F1", "F1 Sports", "F1 Business", "F1 Sci/Tech"]
    assert scores["fine-tuned"].tolist()[:2] == [
        round(metrics.model.accuracy, 4),
        round(metrics.model.f1_macro, 4),
    ]
    assert scores["TF-IDF baseline"].tolist()[0] == round(metrics.baseline.accuracy, 4)
    figure = opened["cross-domain-plot"]
    assert isinstance(figure, go.Figure) and list(figure.data[0].y) == ["Sports", "Business", "Sci/Tech"]
    errors = opened["cross-domain-errors"]
    wrong = predictions[predictions["label"] != predictions["pred"]]
    assert len(errors) == len(wrong) and f"{len(wrong)} of 18 scored rows" in opened["cross-domain-count"]
    if len(wrong):
        assert errors["confidence"].tolist() == sorted(errors["confidence"], reverse=True)
        assert set(errors["file label"]) <= {"sports", "business", "tech"}

    exported = pd.read_csv(events["cross_domain_csv"]("other-news"))
    assert len(exported) == len(wrong) and {"file label", "tfidf_predicted", "text"} <= set(exported.columns)
    assert events["cross_domain_csv"]("nope") is None

    shown = by_id(events["cross_domain_show"]("tech-only"))
    assert (
        list(shown["cross-domain-plot"].data[0].y) == ["Sci/Tech"]
        and "**6** of 27" in shown["cross-domain-summary"]
    )


def test_a_run_without_a_part_says_how_to_make_one(synthetic_run: Path) -> None:
    run = Run.load(synthetic_run)
    with gr.Blocks() as demo, gr.Tab("Cross-domain") as tab:
        cross_domain_tab.build(tab_page(run, tab))
    config = str(demo.get_config_file())
    shown = f"{run.path.parent.name}/{run.path.name}"  # relative to the runs folder: no server path
    assert "No file scored yet. Upload a labelled CSV file here" in config  # the page can fill it
    assert f"agnews cross-domain {shown} FILE.csv" in config
    assert str(run.path) not in config


def test_the_card_summarises_each_part_without_the_files_path(scored: Path, synthetic_run: Path) -> None:
    from agnews.hub.card import build_model_card

    run = Run.load(scored)
    [(name, part)] = run.members(FAMILY).items()
    card = str(build_model_card(run, "someone/agnews"))
    line = next(row for row in card.splitlines() if row.startswith(f"| `{name}` |"))
    assert f"{part.metrics.model.accuracy:.2%}" in line and f"{part.metrics.baseline.accuracy:.2%}" in line
    assert part.metrics.source not in card  # a local path stays local
    assert "Out-of-domain files" not in str(build_model_card(Run.load(synthetic_run), "someone/agnews"))
