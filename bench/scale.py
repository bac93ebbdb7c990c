"""Scale: how `agnews train`'s data handling and the analysis stages grow from the offline sample to the
full AG News (120,000 training rows) and a 50,000-row test file, measured on this machine's CPU.

    .venv/bin/python bench/scale.py --data ../shared/data/ag_news [--sizes 5000 20000 60000 120000]
        [--test-rows 50000] [--label-issue-sizes 5000 20000]

1. Hub-shaped files (the original CSV layout: class 1-4, title, description): training files of each
   `--sizes` rows and a `--test-rows` test file, made from the shared sample's rows with a distinct
   serial word appended to each description (the loader drops repeated texts; the token counts stay
   those of real news).
2. Per training size, in a fresh process: `load_config_data` (read, clean, drop test repeats, split)
   and `tokenize_splits` with the quick recipe's tokenizer: seconds and the process's peak memory.
3. The quick recipe's training speed on this CPU (`build_trainer`, real rows, one short epoch, no
   evaluation) and what an epoch at each size takes at that speed (projection: rows / samples per s).
4. The analyses that grow faster than the rows, with the product's own functions on full-size inputs:
   the slices' and dataset checks' near-duplicate search (`train_neighbours`: every test row against
   every training row in TF-IDF space), UMAP of the test rows' vectors (`umap_2d`, twice per run: base and
   fine-tuned), out-of-fold label issues (`held_out_probabilities`, 5 folds, TF-IDF + vectors) at
   `--label-issue-sizes`, and the Map's figure of every test point (`map_figure`: seconds, JSON size,
   and how long headless Chromium takes to draw it).
   Vectors are the base model's [CLS] vectors of 2,000 real texts, repeated with small noise to size.
5. Inference speed (`infer`, the run's batch size) and what the model passes over 50,000 test rows and
   120,000 training rows take at it (the evaluate, embed and neighbours stages; projection).
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from machine import cpu_name

from agnews.config import TrainConfig, preset_config
from agnews.dataset.ag_news import AG_NEWS_CLASSES

T = TypeVar("T")

FRONT_HALF = """
import json, resource, sys, time
from agnews.config import TrainConfig
from agnews.models import load_tokenizer, resolve_base_model
from agnews.training.data import load_config_data
from agnews.training.train import tokenize_splits
config = TrainConfig(**json.loads(sys.argv[1]))
began = time.perf_counter()
data = load_config_data(config)
loaded = time.perf_counter()
tokenize_splits(data, load_tokenizer(resolve_base_model(config.base_model)), config.max_length)
done = time.perf_counter()
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": len(data.splits["train"]), "load": loaded - began, "tokenize": done - loaded,
                  "peak_mb": peak_mb}))
"""


def training_rows(data: Path) -> pd.DataFrame:
    """The shared training sample, Hub-shaped (text, label 0-3)."""
    path = next(data.glob("train*.csv"))
    return pd.read_csv(path, header=None, names=["text", "label"], dtype={"text": str, "label": int})


def test_rows(data: Path) -> pd.DataFrame:
    """The official test split in its original layout (class 1-4, title, description)."""
    return pd.read_csv(data / "test.csv", header=None, names=["class", "title", "description"], dtype=str)


def write_training(rows: pd.DataFrame, count: int, path: Path) -> Path:
    """`count` training rows cycled from `rows`, Hub-shaped, each text ending in a distinct serial word."""
    picked = rows.iloc[np.arange(count) % len(rows)].reset_index(drop=True)
    picked["text"] = picked["text"] + [f" r{i}" for i in range(count)]
    picked.to_csv(path, header=False, index=False, quoting=csv.QUOTE_ALL)
    return path


def write_test(rows: pd.DataFrame, count: int, path: Path) -> Path:
    """`count` test rows cycled from `rows`, original layout, each description ending in a serial word."""
    picked = rows.iloc[np.arange(count) % len(rows)].reset_index(drop=True)
    picked["description"] = picked["description"] + [f" t{i}" for i in range(count)]
    picked.to_csv(path, header=False, index=False, quoting=csv.QUOTE_ALL)
    return path


def training_share(rows: int) -> int:
    """The rows of a training file the quick recipe trains on: the rest is its validation split."""
    return round(rows * (1 - preset_config("quick").validation_fraction))


def read_loader_texts(path: Path) -> pd.DataFrame:
    """A file's rows as the loader reads them (cleaned text, label 0-3)."""
    from agnews.dataset.ag_news import read_ag_news_csv as read_csv_split

    raw = read_csv_split(path)
    return pd.DataFrame({"text": raw.texts, "label": raw.labels})


def front_half_table(config: TrainConfig, folders: list[Path]) -> None:
    print(f"{'training rows':>14} {'load s':>7} {'tokenize s':>11} {'peak MB':>8}")
    for folder in folders:
        settings = dataclasses.replace(
            config, data=str(folder), max_train_samples=None, max_validation_samples=None
        )
        done = subprocess.run(
            [sys.executable, "-c", FRONT_HALF, json.dumps(settings.to_dict())],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"load and tokenise failed at {folder.name}:\n{done.stderr[-3000:]}")
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{measured['rows']:>14,} {measured['load']:>7.1f} {measured['tokenize']:>11.1f} "
            f"{measured['peak_mb']:>8.0f}"
        )


def training_speed(config: TrainConfig, data: Path, rows: int) -> float:
    """Samples/s of the quick recipe on `rows` real training rows (one epoch, no evaluation)."""
    from agnews.models import load_tokenizer, resolve_base_model
    from agnews.training.data import load_config_data
    from agnews.training.train import build_trainer, prepare_model, tokenize_splits

    settings = dataclasses.replace(config, data=str(data), max_train_samples=rows, epochs=1.0)
    loaded = load_config_data(settings)
    base = resolve_base_model(settings.base_model)
    tokenizer = load_tokenizer(base)
    tokenized = tokenize_splits(loaded, tokenizer, settings.max_length)
    model, _ = prepare_model(settings, base, loaded.description.class_names)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(
            settings, model, tokenizer, tokenized["train"], None, output_dir=Path(scratch),
            progress=False,
        )  # fmt: skip
        began = time.perf_counter()
        trainer.train()
        return len(tokenized["train"]) / (time.perf_counter() - began)


def vectors_like(seed_vectors: np.ndarray, count: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    tiled = seed_vectors[np.arange(count) % len(seed_vectors)]
    return (tiled + rng.normal(0, 0.05 * seed_vectors.std(), tiled.shape)).astype(np.float32)


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """`action()`'s result and the seconds it took."""
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began


def analysis_table(
    config: TrainConfig, train: pd.DataFrame, test: pd.DataFrame, label_issue_sizes: list[int]
) -> None:
    """`train` and `test`: texts and labels 0-3 (columns `text`, `label`)."""
    from agnews.analyses.label_issues.numeric import FOLDS, held_out_probabilities
    from agnews.analyses.map.numeric import umap_2d
    from agnews.present.figures import map_figure
    from agnews.training.embed import base_cls_embeddings
    from agnews.training.tfidf_neighbours import train_neighbours

    seeds = base_cls_embeddings(
        config.base_model, test["text"].head(2000).tolist(), batch_size=config.eval_batch_size,
        max_length=config.max_length, progress=False,
    )  # fmt: skip
    print(f"{'analysis':<58} {'seconds':>8}")
    _, seconds = timed(lambda: train_neighbours(train["text"].tolist(), test["text"].tolist(), 10))
    print(f"{f'near-duplicates: {len(test):,} test x {len(train):,} training rows':<58} {seconds:>8.1f}")
    vectors = vectors_like(seeds, len(test))
    coords, seconds = timed(lambda: umap_2d(vectors, config.seed))
    print(f"{f'UMAP of {len(test):,} vectors (one of the map stage two)':<58} {seconds:>8.1f}")
    labels = train["label"].to_numpy()
    for size in label_issue_sizes:
        _, seconds = timed(
            lambda size=size: held_out_probabilities(
                train["text"].head(size).tolist(),
                labels[:size],
                vectors_like(seeds, size),
                classes=int(labels.max()) + 1,
                folds=FOLDS,
                seed=config.seed,
            )
        )
        print(f"{f'label issues, {FOLDS} folds: {size:,} training rows':<58} {seconds:>8.1f}")
    names = test["label"].map(dict(enumerate(AG_NEWS_CLASSES)))
    points = pd.DataFrame(
        {"x": coords[:, 0], "y": coords[:, 1], "label_name": names, "pred_name": names,
         "confidence": 0.9, "text": test["text"], "row_id": np.arange(len(test))}
    )  # fmt: skip
    figure, seconds = timed(lambda: map_figure(points, x="x", y="y", classes=AG_NEWS_CLASSES, title="map"))
    megabytes = len(figure.to_json()) / 1e6
    print(f"{f'Map figure, {len(test):,} points ({megabytes:.1f} MB of JSON)':<58} {seconds:>8.1f}")
    drawn = browser_seconds(figure)
    shown = "no Chromium" if drawn is None else f"{drawn:.1f}"
    print(f"{'  opened in headless Chromium until drawn (software WebGL)':<58} {shown:>8}")


def browser_seconds(figure: go.Figure) -> float | None:
    """Seconds from opening `figure` as one self-contained HTML file in headless Chromium (WebGL in
    software, as on a machine without a GPU) until Plotly has drawn it; None without Chromium."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
    from screenshots import CHROMIUM, browser_page

    if not CHROMIUM.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "map.html"
        figure.write_html(
            page_file, include_plotlyjs=True, post_script="window.agnewsDrawn = performance.now();"
        )
        with browser_page() as (page, errors):
            page.goto(page_file.as_uri())
            page.wait_for_function("window.agnewsDrawn !== undefined", timeout=600_000)
            drawn_ms = page.evaluate("window.agnewsDrawn")
    if errors:
        raise SystemExit(f"the map page raised: {errors}")
    return drawn_ms / 1000


def inference_speed(config: TrainConfig, texts: list[str]) -> float:
    from agnews.inference import infer
    from agnews.models import load_classifier, load_tokenizer, resolve_base_model

    base = resolve_base_model(config.base_model)
    model, tokenizer = load_classifier(base), load_tokenizer(base)
    _, seconds = timed(
        lambda: infer(model, tokenizer, texts, batch_size=config.eval_batch_size,
                      max_length=config.max_length, progress=False)
    )  # fmt: skip
    return len(texts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 60_000, 120_000])
    parser.add_argument("--test-rows", type=int, default=50_000)
    parser.add_argument("--label-issue-sizes", type=int, nargs="*", default=[5_000, 20_000])
    parser.add_argument("--train-rows", type=int, default=640, help="Rows of the training-speed epoch.")
    args = parser.parse_args()
    config = preset_config("quick", data=str(args.data))
    print(f"CPU: {cpu_name()}")
    sample_train, sample_test = training_rows(args.data), test_rows(args.data)
    with tempfile.TemporaryDirectory(prefix="agnews-scale-") as name:
        scratch = Path(name)
        test_path = write_test(sample_test, args.test_rows, scratch / "test.csv")
        folders = {}
        for size in args.sizes:
            folder = scratch / f"train-{size}"
            folder.mkdir()
            write_training(sample_train, size, folder / "train.csv")
            (folder / "test.csv").symlink_to(test_path)
            folders[size] = folder
        print(
            f"\n1. Load and tokenise (quick recipe, {args.test_rows:,}-row test file), one process per size"
        )
        front_half_table(config, list(folders.values()))

        rate = training_speed(config, args.data, args.train_rows)
        print(f"\n2. Training: {rate:.1f} samples/s (quick recipe, {args.train_rows} real rows, one epoch)")
        print(f"{'training rows':>14} {'one epoch, projected':>21}")
        for size in args.sizes:
            print(f"{training_share(size):>14,} {training_share(size) / rate / 60:>17.1f} min")

        test = read_loader_texts(test_path)
        infer_rate = inference_speed(config, test["text"].head(2_000).tolist())
        print(f"\n3. Inference: {infer_rate:.0f} rows/s (base model with a classification head, 2,000 rows)")
        for what, rows in (
            ("evaluate + embed: the test file", args.test_rows),
            ("neighbours", training_share(max(args.sizes))),
        ):
            print(f"   {what} ({rows:,} rows): {rows / infer_rate / 60:.1f} min per pass, projected")

        print(f"\n4. Analyses at size ({max(args.sizes):,} training rows, {args.test_rows:,} test rows)")
        train = read_loader_texts(folders[max(args.sizes)] / "train.csv")
        analysis_table(config, train, test, args.label_issue_sizes)


if __name__ == "__main__":
    main()
