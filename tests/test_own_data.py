"""Your own data, end to end: five small synthetic datasets that together cover 2, 3, 7, 20 and 60
classes; CSV, TSV, JSON lines and parquet; string and integer labels; class names with spaces,
slashes, accents and digits only; imbalance up to 1:50; texts from 3 to 2,000 words; a non-English
one. Each is checked as `agnews data check` reads it, trained (a tiny random encoder, one epoch),
given every default stage that applies, loaded, served (every tab drawn in Chromium with no
JavaScript error, the JSON route answering with its own classes), and written as a model card and a
report that name it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, load_script
from test_browser import chromium  # noqa: F401 (the fixture)

from agnews.cli import main
from agnews.config import preset_config
from agnews.present.markup import literal
from agnews.rundir.run import Run
from agnews.serving.http_api import PATH

pytestmark = pytest.mark.slow  # each trains a model, runs every stage and opens a browser

screenshots = load_script(ROOT / "docs" / "screenshots.py", "agnews_docs_screenshots")

GERMAN = {
    "Wetter": "regen sonne wolken morgen temperatur wind",
    "Musik": "lied konzert gitarre album sängerin bühne",
    "Reisen": "flug hotel koffer bahnhof urlaub strand",
}


@dataclass(frozen=True)
class OwnData:
    """A dataset written by `write`, the options it is read with and the classes it must have."""

    name: str
    classes: tuple[str, ...]
    write: Callable[[Path, tuple[str, ...]], None]
    options: dict[str, object] = field(default_factory=dict)


def words_of(label_index: int, rng: np.random.Generator, length: int) -> str:
    """A text whose words lean to its class's own vocabulary (learnable, with shared noise words)."""
    own = [f"w{label_index}x{k}" for k in range(6)]
    shared = ["report", "today", "item", "note", "the", "and"]
    picks = [own[rng.integers(6)] if rng.random() < 0.7 else shared[rng.integers(6)] for _ in range(length)]
    return " ".join(picks)


def rows_for(classes: tuple[str, ...], per_class: list[int], seed: int, lengths: tuple[int, int] = (3, 20)):
    """(text, class index) rows: `per_class[i]` rows of class i, texts of `lengths` words."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, count in enumerate(per_class):
        rows += [(words_of(index, rng, int(rng.integers(*lengths))), index) for _ in range(count)]
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def write_sentiment(folder: Path, classes: tuple[str, ...]) -> None:
    """2 classes, integer labels 0/1 in a headered CSV, imbalance 1:50 in training."""
    train = rows_for(classes, [600, 12], seed=1)
    test = rows_for(classes, [20, 4], seed=2)
    for split, rows in (("train", train), ("test", test)):
        pd.DataFrame({"text": [t for t, _ in rows], "label": [i for _, i in rows]}).to_csv(
            folder / f"{split}.csv", index=False
        )


def write_three(folder: Path, classes: tuple[str, ...]) -> None:
    """3 classes named with spaces, a slash and accents, a CSV validation file, texts of 3 to 2,000 words."""
    for split, counts, seed in (("train", [30] * 3, 3), ("dev", [6] * 3, 4), ("test", [8] * 3, 5)):
        rows = rows_for(classes, counts, seed)
        texts = [t for t, _ in rows]
        if split == "train":
            texts[0] = " ".join([texts[0]] * 400)  # about 2,000 words
        pd.DataFrame({"body": texts, "topic": [classes[i] for _, i in rows]}).to_csv(
            folder / f"{split}.csv", index=False
        )


def write_seven(folder: Path, classes: tuple[str, ...]) -> None:
    """7 classes in TSV with an id column first (never AG News's layout), title and text columns."""
    for split, counts, seed in (("train", [14] * 7, 6), ("test", [4] * 7, 7)):
        rows = rows_for(classes, counts, seed)
        frame = pd.DataFrame(
            {
                "id": range(len(rows)),
                "title": [t.split()[0] for t, _ in rows],
                "text": [t for t, _ in rows],
                "label": [classes[i] for _, i in rows],
            }
        )
        frame.to_csv(folder / f"{split}.tsv", sep="\t", index=False)


def write_german(folder: Path, classes: tuple[str, ...]) -> None:
    """20 classes, German words, JSON lines with other column names."""
    rng = np.random.default_rng(8)
    vocab = list(GERMAN.values())
    for split, per in (("train", 12), ("test", 3)):
        with (folder / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for index, name in enumerate(classes):
                words = [*vocab[index % 3].split(), f"klasse{index}", f"thema{index}"]
                for _ in range(per):
                    text = " ".join(rng.choice(words, size=int(rng.integers(3, 12))))
                    handle.write(json.dumps({"äußerung": text, "absicht": name}, ensure_ascii=False) + "\n")


def write_codes(folder: Path, classes: tuple[str, ...]) -> None:
    """60 classes whose names are digits only ("000".."059": names, not ids), in parquet."""
    for split, per, seed in (("train", 12, 9), ("test", 2, 10)):
        rows = rows_for(classes, [per] * len(classes), seed)
        pd.DataFrame({"text": [t for t, _ in rows], "label": [classes[i] for _, i in rows]}).to_parquet(
            folder / f"{split}.parquet", index=False
        )


DATASETS = [
    OwnData("sentiment", ("0", "1"), write_sentiment),
    OwnData(
        "three",
        ("Café & Bar", "Sci/Tech", "arts and culture"),
        write_three,
        {
            "text_column": ["body"],
            "label_column": "topic",
            "label_names": ["Café & Bar", "Sci/Tech", "arts and culture"],
        },
    ),
    OwnData(
        "seven",
        tuple(sorted(f"Kategorie {c}" for c in "ABCDEFG")),
        write_seven,
        {"text_column": ["title", "text"], "domain": "news"},
    ),
    OwnData(
        "german",
        tuple(sorted(f"Absicht {i:02d}" for i in range(20))),
        write_german,
        {"text_column": ["äußerung"], "label_column": "absicht"},
    ),
    OwnData("codes", tuple(f"{i:03d}" for i in range(60)), write_codes),
]


@pytest.fixture(scope="module", params=DATASETS, ids=[d.name for d in DATASETS])
def own_run(request: pytest.FixtureRequest, tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory):
    """The dataset written, checked, trained with every default stage, and loaded."""
    from agnews.training.train import train_run

    data: OwnData = request.param
    root = tmp_path_factory.mktemp(data.name)
    folder = root / data.name
    folder.mkdir()
    data.write(folder, data.classes)
    argv = ["data", "check", str(folder)]
    for option, value in data.options.items():
        flag = "--" + option.replace("_", "-")
        argv += [flag, *value] if isinstance(value, list) else [flag, str(value)]
    assert main(argv) == 0  # what training will read, checked the way training checks it
    config = preset_config(
        "quick", data=str(folder), base_model=str(tiny_distilbert), epochs=1.0, max_length=64, **data.options
    )
    path = train_run(config, root / "runs" / f"quick-{data.name}", progress=False)
    return data, Run.load(path)


def test_the_run_has_its_own_classes_and_every_stage_that_applies(own_run) -> None:
    data, run = own_run
    assert run.classes == data.classes
    assert run.config.data.description().name == data.name
    assert list(run.metrics.test.confusion_matrix_labels) == list(data.classes)
    assert set(run.predictions["label_name"]) <= set(data.classes)
    made = set(run.manifest.parts)
    failed = {w.stage: w.message for w in run.manifest.warnings}
    for stage in run.catalog.default_stages():
        maker = run.catalog.stages[stage]
        assert set(maker.makes) <= made or stage in failed, f"{stage}: neither made nor left out"
        if stage in failed:  # left out with its reason, never silently
            assert "does not apply" in failed[stage], failed[stage]
    assert run.warnings == [f"stage {s} failed: {m}" for s, m in failed.items()]


def test_the_model_card_and_the_report_name_the_dataset_and_its_classes(own_run) -> None:
    from agnews.hub.card import build_model_card
    from agnews.present.report import build_report

    data, run = own_run
    card = str(build_model_card(run, f"someone/{data.name}"))
    report = build_report(run)
    assert data.name in card and data.name in report
    assert all(literal(name) in card for name in data.classes[:5])  # as text, never as Markdown
    assert all(html.escape(name, quote=False) in report for name in data.classes[:5])
    assert "AG News" not in card.split("## How to use")[0]


def test_every_tab_draws_and_the_json_route_answers_with_its_classes(own_run, chromium: Path) -> None:  # noqa: F811
    from agnews.serving.predictor import Predictor
    from agnews.serving.predictors import Predictors
    from agnews.ui import build_app
    from agnews.ui.app import launch_options

    data, run = own_run
    predictor = Predictor.from_run(run)
    demo = build_app(run, predictor, runs_root=run.path.parent)  # the Train tab and the run picker too
    options = launch_options(Predictors(run, predictor, Predictor.from_run), lambda: run)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        text = run.predictions["text"].iloc[0]
        response = httpx.post(url.rstrip("/") + PATH, json={"inputs": text}, timeout=60)
        assert response.status_code == 200, response.text
        [answer] = response.json()  # the Hub's shape: a list per text
        assert {item["label"] for item in answer} == set(data.classes)
        with screenshots.browser_page() as (page, page_errors):
            page.set_default_timeout(screenshots.TIMEOUT_MS)
            page.goto(url)
            titles = screenshots.tab_names(page)
            assert "Map" in titles and "Errors" in titles and "Train" in titles
            for title in titles:
                screenshots.click_tab(page, title)
                page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
            header = page.locator("#run-header").inner_text()
            toasts = page.locator("[data-testid='toast-body']").all_inner_texts()
    finally:
        demo.close()
    assert page_errors == [] and toasts == []
    assert data.name in header and f"{len(data.classes)} classes" in header
