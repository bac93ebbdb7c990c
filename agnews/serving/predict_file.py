"""Classify a big file: `agnews predict RUN FILE --out OUT` (CSV or parquet in and out).

The page classifies up to `csv_batch.MAX_ROWS` rows held in memory; this streams a file of any size
in chunks of `chunk_rows`, so that memory stays the chunk's and the model's whatever the file's size.
Each chunk's output (the input's own cells, then the class probabilities, the class, `note`,
`needs_review` where the run has a review threshold, and `backend`) is written to a chunk file of its
own, atomically, in a work folder beside the output; a run stopped at any point, started again with
the same settings, skips the chunks already written. At the end the chunks are joined, in input
order, into the output file (atomically) and the work folder goes.

Several processes (`accelerate launch` or `torchrun` set RANK and WORLD_SIZE) share the chunks, chunk
i going to process i mod WORLD_SIZE; each reads the whole input (reading is cheap beside the model)
but classifies only its own, and process 0 joins them once all exist: one output, in input order, no
row twice. The file's checks and messages are the page's (`agnews.serving.csv_batch`).

Backends: `fp32` (the default) is the PyTorch model in float32, the computation whose probabilities
the run stores; `bf16` (autocast, only where the CPU or GPU has native bf16) and `onnx-int8` (the
run's int8 ONNX graph) are faster and disagree on a few rows (`bench/predict_file.py` measures how
many).
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agnews.csv_cells import neutralise_row
from agnews.processes import launch_rank, launch_size
from agnews.rundir.facts import REVIEW
from agnews.rundir.files import write_atomically
from agnews.rundir.run import Run
from agnews.serving.csv_batch import (
    BatchError,
    Table,
    TextSource,
    classify_table,
    find_text,
    output_columns,
)
from agnews.serving.predictor import Predictor, Unclassified

CHUNK_ROWS = 2048
BACKENDS = ("fp32", "bf16", "onnx-int8")
BACKEND_COLUMN = "backend"
WAIT_SECONDS = 24 * 3600  # how long process 0 waits for the other processes' chunks
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of the input: its number, the rows' cells and their text."""

    number: int
    rows: list[list[str]]
    texts: list[str]


@dataclass(frozen=True)
class Totals:
    """What became of the rows (summed over the chunks)."""

    rows: int = 0
    classified: int = 0
    unclassified: int = 0
    cut: int = 0
    needs_review: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True)))


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _csv_chunks(path: Path, classes: Sequence[str], chunk_rows: int) -> tuple[TextSource, Iterator[Chunk]]:
    """The CSV file's text source and its rows in chunks, read as they are needed."""
    name = path.name
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle, strict=True)

    def records() -> Iterator[list[str]]:
        try:
            for cells in reader:
                if cells:
                    yield cells
        except csv.Error as exc:
            raise BatchError(f"{name}: malformed CSV at line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise BatchError(
                f"{name} is not UTF-8 text (near line {reader.line_num + 1}); save the file as UTF-8"
            ) from None

    stream = records()
    first = next(stream, None)
    if first is None:
        handle.close()
        raise BatchError(f"{name} is empty")
    found = find_text(first, ",".join(first), name, classes)

    def chunks() -> Iterator[Chunk]:
        with handle:
            rows = [first] if found.first_is_row else []
            number = 0
            for cells in stream:
                if len(cells) != len(found.header):
                    raise BatchError(
                        f"{name}: line {reader.line_num} has {len(cells)} cells, the header has "
                        f"{len(found.header)}; quote cells that contain commas"
                    )
                rows.append(cells)
                if len(rows) == chunk_rows:
                    yield _chunk(number, rows, found)
                    rows, number = [], number + 1
            if rows:
                yield _chunk(number, rows, found)
            elif number == 0:
                raise BatchError(f"{name} has a header but no rows")

    return found, chunks()


def _parquet_chunks(
    path: Path, classes: Sequence[str], chunk_rows: int
) -> tuple[TextSource, Iterator[Chunk]]:
    """The parquet file's text source (from its column names) and its rows in chunks, every cell as
    text (missing values empty)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise BatchError(f"{path.name}: not a readable parquet file ({exc})") from None
    header = list(parquet.schema_arrow.names)
    found = find_text(header, ",".join(header), path.name, classes)

    def chunks() -> Iterator[Chunk]:
        number = 0
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            columns = [["" if v is None else str(v) for v in column.to_pylist()] for column in batch.columns]
            yield _chunk(number, [list(row) for row in zip(*columns, strict=True)], found)
            number += 1
        if number == 0:
            raise BatchError(f"{path.name} has a header but no rows")

    return found, chunks()


def _chunk(number: int, rows: list[list[str]], found: TextSource) -> Chunk:
    return Chunk(number, rows, [" ".join(cells[i] for i in found.columns) for cells in rows])


def read_chunks(
    path: Path, classes: Sequence[str], chunk_rows: int = CHUNK_ROWS
) -> tuple[TextSource, Iterator[Chunk]]:
    """Where the input's text is (checked at once, against the output columns of `classes`) and its
    rows in chunks (checked as they come)."""
    if not path.is_file():
        raise BatchError(f"{path}: file not found")
    return (_parquet_chunks if is_parquet(path) else _csv_chunks)(path, classes, chunk_rows)


class Classifier:
    """The backend's `predict_many(texts, progress)` for `classify_table`, and its name for the output."""

    def __init__(self, run: Run, backend: str) -> None:
        if backend not in BACKENDS:
            raise BatchError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        self.backend = backend
        if backend == "onnx-int8":
            if not run.has("serving"):
                raise BatchError(
                    f"{run.path} has no ONNX graphs; `agnews analyze {run.path} --stages export` makes them"
                )
            self.predictor = Predictor.from_run(run, "onnx-int8", threads=None)
        else:
            self.predictor = Predictor(
                run.model_path,
                max_length=run.config.train.max_length,
                cleaning=run.config.data.description().cleaning,
            )
            if backend == "bf16" and not self.predictor.batch_bf16:
                raise BatchError("bf16: this machine has no native bf16; use the default fp32 backend")
        self.name = f"{backend} ({run.name})"
        self.clean = self.predictor.clean  # the run's cleaning, done to each text before the model

    def predict_many(self, texts: list[str], _progress: object = None) -> np.ndarray:
        if self.backend == "onnx-int8":
            answers, classes = self.predictor.probabilities_batch(texts), self.predictor.classes
            return np.array(  # a text the model failed on: NaN, no prediction (`classify_table`)
                [
                    [np.nan] * len(classes) if isinstance(a, Unclassified) else [a[n] for n in classes]
                    for a in answers
                ],
                dtype=np.float32,
            )
        return self.predictor.probabilities_many(texts, bf16=self.backend == "bf16")


def _work_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.chunks"


def _job_settings(
    source: Path, run: Run, backend: str, chunk_rows: int, world: int, raw_cells: bool
) -> dict[str, object]:
    """What a resumed job must share with the one it continues (else its chunks would not fit)."""
    stat = source.stat()
    model = run.manifest.parts.get("model")
    return {
        "input": str(source.resolve()),
        "input_bytes": stat.st_size,
        "input_mtime_ns": stat.st_mtime_ns,
        "model": model.fingerprint if model is not None else str(run.model_path),
        "backend": backend,
        "chunk_rows": chunk_rows,
        "processes": world,
        "raw_cells": raw_cells,
    }


def _start_or_resume(work: Path, settings: dict[str, object], rank: int) -> None:
    """Create the work folder with its settings, or check that an existing one's are these."""
    job = work / "job.json"
    if rank == 0 and not job.is_file():
        work.mkdir(parents=True, exist_ok=True)
        text = json.dumps(settings, indent=2)
        write_atomically(job, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    deadline = time.monotonic() + 60
    while not job.is_file():  # the other processes wait for process 0 to create it
        if time.monotonic() > deadline:
            raise BatchError(f"{job}: not created by process 0")
        time.sleep(0.1)
    found = json.loads(job.read_text(encoding="utf-8"))
    if found != settings:
        changed = sorted(key for key in settings if found.get(key) != settings[key])
        raise BatchError(
            f"{work} holds an unfinished job with other settings ({', '.join(changed)}); run it again "
            f"with the same ones to finish it, or delete {work} to start over"
        )


def _chunk_path(work: Path, number: int, parquet: bool) -> Path:
    return work / f"chunk-{number:07d}.{'parquet' if parquet else 'csv'}"


def _write_chunk(path: Path, header: list[str], rows: list[list[str]], totals: Totals) -> None:
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(header)})
        write_atomically(path, lambda tmp: pq.write_table(table, tmp))
    else:

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(rows)

        write_atomically(path, write)
    summary = json.dumps(asdict(totals))
    write_atomically(path.with_suffix(".json"), lambda tmp: tmp.write_text(summary, encoding="utf-8"))


def _join(work: Path, chunks: int, header: list[str], out: Path) -> Totals:
    """The chunk files, in order, as the output file (written atomically); their totals."""
    paths = [_chunk_path(work, number, is_parquet(out)) for number in range(chunks)]
    deadline = time.monotonic() + WAIT_SECONDS
    while not all(path.with_suffix(".json").is_file() for path in paths):  # other processes' chunks
        if time.monotonic() > deadline:
            raise BatchError(f"{work}: chunks of other processes still missing after {WAIT_SECONDS} s")
        time.sleep(POLL_SECONDS)
    if is_parquet(out):
        import pyarrow.parquet as pq

        def write(tmp: Path) -> None:
            writer = None
            for path in paths:
                table = pq.read_table(path)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            if writer is not None:
                writer.close()

    else:

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(header)
                for path in paths:
                    with path.open(encoding="utf-8", newline="") as part:
                        shutil.copyfileobj(part, handle)

    write_atomically(out, write)
    totals = sum((Totals(**json.loads(p.with_suffix(".json").read_text())) for p in paths), Totals())
    shutil.rmtree(work, ignore_errors=True)
    return totals


@dataclass(frozen=True)
class Outcome:
    """What `predict_file` did: the totals (process 0: the whole file), chunks classified here and
    skipped as already done, and the backend's name."""

    totals: Totals
    classified_chunks: int
    resumed_chunks: int
    backend: str


def predict_file(
    run: Run,
    source: Path,
    out: Path,
    *,
    backend: str = "fp32",
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = True,
    rank: int | None = None,
    world: int | None = None,
    raw_cells: bool = False,
) -> Outcome:
    """Classify every row of `source` into `out` (see the module's docstring); `rank` and `world`
    default to the RANK and WORLD_SIZE a launcher sets (one process otherwise). A CSV output's
    formula-like cells get a leading `'` (`agnews.csv_cells`) unless `raw_cells`; parquet is typed
    and keeps every value as it is."""
    from tqdm.auto import tqdm

    rank = launch_rank() if rank is None else rank
    world = launch_size() if world is None else world
    if chunk_rows < 1:
        raise BatchError(f"--chunk-rows {chunk_rows}: must be at least 1")
    if out.resolve() == source.resolve():
        raise BatchError(f"{out}: the output would replace the input; choose another --out")
    found, chunks = read_chunks(source, run.classes, chunk_rows)
    classifier = Classifier(run, backend)
    rule = run.fact(REVIEW)
    threshold = rule.threshold if rule is not None else None
    cells = list if raw_cells or is_parquet(out) else neutralise_row
    header = cells([*found.header, *output_columns(run.classes, threshold), BACKEND_COLUMN])
    work = _work_folder(out)
    _start_or_resume(work, _job_settings(source, run, backend, chunk_rows, world, raw_cells), rank)
    done = resumed = seen = 0
    bar = tqdm(desc=f"predict ({classifier.name})", unit="rows", disable=not progress)
    for chunk in chunks:
        seen += 1
        path = _chunk_path(work, chunk.number, is_parquet(out))
        if chunk.number % world != rank:
            continue
        if path.with_suffix(".json").is_file():
            resumed += 1
        else:
            table = Table(found.header, chunk.rows, chunk.texts, found.source)
            rows, summary = classify_table(
                table,
                classifier.predict_many,
                review_threshold=threshold,
                classes=run.classes,
                clean=classifier.clean,
            )
            totals = Totals(
                summary.rows, summary.classified, summary.unclassified, summary.cut, summary.needs_review or 0
            )
            _write_chunk(path, header, [cells([*row, classifier.name]) for row in rows], totals)
            done += 1
        bar.update(len(chunk.rows))
    bar.close()
    totals = _join(work, seen, header, out) if rank == 0 else Totals()
    return Outcome(totals, done, resumed, classifier.name)
