"""Batch classification, inside the Classify tab: upload a CSV, download it with the answers appended.

The work is `agnews.serving.csv_batch`; this wires it to an upload, a progress bar and a download.
A file that cannot be classified gives `gr.Error` with the library's message, which names the problem
(delimiter, missing column and the columns found, byte offset of non-UTF-8 bytes, size or row limit).
Files are classified by the PyTorch model, which is loaded with the first file (the progress bar
says so), not at start-up: typed text needs only the ONNX graph.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from agnews.formatting import count, megabytes
from agnews.serving.csv_batch import (
    ANSWER_COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    REVIEW_COLUMN,
    BatchError,
    classify_csv,
)
from agnews.serving.predictor import MAX_CHARS, Predictor
from agnews.ui.scratch import scratch, take_upload

# One file at a time: a full file keeps one core busy for minutes, and single headlines
# (their own events, their own limit) must still get the other.
FILE_CONCURRENCY_LIMIT = 1
BATCH_KIND = "batch"
MAX_SIZE = megabytes(MAX_BYTES, 0, binary=True)  # as the help writes it
HELP = f"""\
A UTF-8, comma-separated file of at most **{count(MAX_ROWS)} rows** and **{MAX_SIZE}**, with
the text in a `text` column, or in `title` and `description` columns, or an original AG News file
(no header: class, title, description). Every row comes back, in order, with `p_` and each class's
name (its probability), {", ".join(f"`{c}`" for c in ANSWER_COLUMNS)} appended (and
`{REVIEW_COLUMN}` when the run has a review threshold); rows without text get an empty prediction
and a note. Texts are cut at {count(MAX_CHARS)} characters, as in the box above."""


def output_name(upload: str | Path) -> str:
    """`<uploaded name>-classified.csv`, reduced to safe characters (the name comes from the user)."""
    stem = re.sub(r"[^\w.-]+", "_", Path(upload).stem)[:80].strip("._") or "upload"
    return f"{stem}-classified.csv"


def build(
    shown_predictor: Callable[[], Predictor], review_threshold: Callable[[], float | None] = lambda: None
) -> None:
    """Lay out the batch accordion in the current tab and wire the upload (`/classify_csv`).

    `shown_predictor()` is the model of the run the page shows, and `review_threshold()` that run's
    threshold, when a file arrives (a page may show another run than the app's; a live run may gain
    its threshold later).
    """

    def run(
        upload: str | None,
        raw_cells: bool = False,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[str, str]:
        if not upload:
            raise gr.Error("Choose a CSV file first.", print_exception=False)
        predictor = shown_predictor()
        if not predictor.model_loaded:  # files go through PyTorch, loaded with the first one
            progress(0, desc="loading the model (first file only)")
            predictor.load_model()
        progress(0, desc="reading the file")

        def report(done: int, total: int) -> None:
            progress((done, total), desc="classifying", unit="rows")

        # The session's previous output goes once this one is written; a failed file leaves nothing.
        with scratch().job(BATCH_KIND) as folder:
            destination = folder / output_name(upload)
            source = take_upload(upload, folder)  # the upload goes with this job, served to no one
            try:
                summary = classify_csv(
                    source,
                    destination,
                    predictor.probabilities_many,
                    report,
                    review_threshold(),
                    classes=predictor.classes,
                    clean=predictor.clean,
                    raw_cells=raw_cells,
                )
            except BatchError as exc:
                # Messages quote the file's own column names; Gradio renders error text as HTML.
                raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
        return str(destination), summary.describe()

    with gr.Accordion(f"Classify a CSV file (up to {count(MAX_ROWS)} rows)", open=False, elem_id="batch"):
        gr.Markdown(HELP)
        with gr.Row():
            upload = gr.File(
                label="CSV to classify", file_types=[".csv"], type="filepath", elem_id="batch-upload"
            )
            result = gr.File(label="Classified CSV", interactive=False, elem_id="batch-result")
        raw_cells = gr.Checkbox(
            False,
            label="Raw cells",
            info="Tick before uploading to get texts exactly as they are, for a program to read. By "
            "default a cell beginning with =, +, - or @ gets a leading ', so that a spreadsheet shows "
            "it instead of running it as a formula.",
            elem_id="batch-raw-cells",
        )
        summary = gr.Markdown(elem_id="batch-summary")
    upload.upload(
        run,
        [upload, raw_cells],
        [result, summary],
        api_name="classify_csv",
        concurrency_limit=FILE_CONCURRENCY_LIMIT,
    )
