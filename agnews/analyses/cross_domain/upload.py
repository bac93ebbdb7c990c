"""The Cross-domain tab's upload: a labelled CSV file evaluated from the page as `agnews cross-domain`
does.

The file's header gives the text and label columns to choose from; the label column's own values,
with their counts, are mapped one by one onto the four classes or skipped. The evaluation itself is
the command line's, run in a child process (`agnews.ui.child_process`): the ui layer never imports
the training code, the page stays responsive while it runs, and its errors are the command's own.
Where the page may write, the result is the run's part `cross_domain/<name>`, as from the command
line; on a public page it goes to a temporary folder, is read back, and lives in the browser session.

The file is read with the checks of the app's other uploads (`agnews.serving.csv_batch`: size,
UTF-8, CSV syntax, row widths, row limit) before anything runs.

Gradio keeps an upload in its upload folder and its file route serves any file there to whoever
names its path, to any session and after a restart. So the upload is taken out of that folder as
soon as it arrives (`keep_upload`), into this session's own folder (`agnews.ui.scratch`), which
Gradio does not serve and which goes with the session; the evaluation records, and the page shows,
the file by its name only.
"""

from __future__ import annotations

import html
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import Dependency

from agnews.analyses.cross_domain.schema import CrossDomain, read_evaluation
from agnews.formatting import count
from agnews.present.markup import literal
from agnews.present.paths import shown_text
from agnews.rundir.parts import family_name
from agnews.rundir.run import Run
from agnews.serving.csv_batch import MAX_BYTES, MAX_ROWS, BatchError, check_row_widths, read_records
from agnews.ui import heavy_work
from agnews.ui.child_process import Command
from agnews.ui.scratch import scratch, take_upload

SKIP = "skip"
UPLOAD_KIND = "cross-domain-upload"  # the session's folder of kept uploads (`agnews.ui.scratch`)
MAX_LABEL_VALUES = 20  # more distinct values than a person maps by hand: likely not a label column
LISTED_CLASSES = 20  # classes an error names (a run may have 150)
POLL_SECONDS = 1.0
# One evaluation at a time in the whole app: each keeps a core busy for a while. Its own concurrency
# group, so it never holds a slot of the page's other events.
CONCURRENCY_ID = "cross_domain_upload"
HELP = f"""\
A UTF-8, comma-separated file of at most **{count(MAX_ROWS)} rows** and **{MAX_BYTES // 2**20} MB** with a
header row. Choose the column with the text and the one with the labels, then map each label value
onto one of the run's classes (or skip its rows). The run's model and a TF-IDF baseline refitted on the
run's training rows score the mapped rows, exactly as `agnews cross-domain` does."""


@dataclass(frozen=True)
class Upload:
    """An uploaded CSV file's header (cells stripped, as `agnews cross-domain` reads them) and rows."""

    name: str  # the file's own name
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Result:
    """A finished evaluation: saved as the run's part `name`, or `unsaved` (this session's only)."""

    name: str
    unsaved: CrossDomain | None = None


def keep_upload(path: str | Path) -> tuple[Path, Upload]:
    """The uploaded file at `path` taken into a new folder of this session's (under its own name,
    the session's earlier upload dropped), and what it holds (`read_upload`): a file that fails the
    checks is not kept at all.

    The file leaves Gradio's upload folder (`take_upload`). BatchError as `read_upload` raises it.
    """
    with scratch().job(UPLOAD_KIND) as folder:
        kept = take_upload(path, folder)
        found = read_upload(kept)
    return kept, found


def read_upload(path: str | Path) -> Upload:
    """Read and check an uploaded labelled file; BatchError with the specific problem."""
    name = Path(path).name
    _, records = read_records(path)
    header = [cell.strip() for cell in records[0][1]]
    body = records[1:]
    if not body:
        raise BatchError(f"{name} has a header but no rows")
    if len(body) > MAX_ROWS:
        raise BatchError(
            f"{name} has {count(len(body))} rows; the limit is {count(MAX_ROWS)} per file: split it"
        )
    check_row_widths(body, len(header), name)
    return Upload(name, header, [cells for _, cells in body])


def label_values(upload: Upload, column: str) -> list[tuple[str, int]]:
    """The values of `column` that a label map can name, with their row counts, most frequent first.

    Empty cells and values with a comma (a label map separates its pairs by commas) cannot be mapped:
    their rows are skipped and counted by the evaluation. BatchError, naming the column, when it holds
    no value that can be mapped, or more distinct values than `MAX_LABEL_VALUES`.
    """
    at = upload.header.index(column)
    counts = Counter(cells[at].strip() for cells in upload.rows)
    usable = [(value, n) for value, n in counts.most_common() if value and "," not in value]
    if not usable:
        raise BatchError(
            f"{upload.name}: column {column!r} has no usable label values (every cell is empty or holds "
            "a comma); choose the column that holds the labels"
        )
    if len(usable) > MAX_LABEL_VALUES:
        raise BatchError(
            f"{upload.name}: column {column!r} has {count(len(usable))} distinct values, more than the "
            f"{MAX_LABEL_VALUES} this page maps; is it the label column? (`agnews cross-domain "
            "--label-map` takes any number)"
        )
    return usable


def value_label(value: str, rows: int) -> str:
    """A label value as its dropdown names it: `business (1,204 rows)`."""
    return f"{value} ({count(rows)} {'row' if rows == 1 else 'rows'})"


def default_class(value: str, classes: Sequence[str]) -> str:
    """The run's class a label value names (any case), else `SKIP`. Ids are not guessed: files count
    their classes from 0 or from 1 (as the original AG News does), and only the person knows which."""
    return next((name for name in classes if name.casefold() == value.casefold()), SKIP)


def label_map(column: str, values: list[str], targets: list[str], classes: Sequence[str]) -> str:
    """The `--label-map` for the values mapped to one of the run's `classes` (`targets`: each value's
    choice): `business=Business,tech=Sci/Tech`. BatchError when every value is skipped (there would be
    nothing to score)."""
    pairs = [f"{value}={target}" for value, target in zip(values, targets, strict=True) if target != SKIP]
    if not pairs:
        shown = ", ".join(classes[:LISTED_CLASSES]) + (" ..." if len(classes) > LISTED_CLASSES else "")
        raise BatchError(f"no value of {column!r} is mapped to a class: map at least one onto {shown}")
    return ",".join(pairs)


def command_args(
    run: Path, file: str, *, text_column: str, label_column: str, mapping: str, name: str, out: Path | None
) -> list[str]:
    """`agnews cross-domain`'s arguments: into the run (waiting for a background analyze holding
    it), or with `out` into that folder, the run untouched. The part records the file by its own
    name: `file` is the session's copy (`keep_upload`), in a temporary folder named after nothing the
    user knows."""
    args = ["cross-domain", str(run), file, "--text-column", text_column, "--label-column", label_column]
    args += ["--label-map", mapping, "--name", name, "--file-name", Path(file).name]
    return [*args, "--out", str(out)] if out is not None else [*args, "--wait"]


def evaluate(
    run: Path, file: str, *, text_column: str, label_column: str, mapping: str, name: str, may_write: bool
) -> Iterator[str | Result]:
    """Run the evaluation: yields progress lines while it runs, then its `Result`. A failure raises
    `BatchError` with the command's own message; a closed page stops the command."""
    folder = scratch().temporary_folder("cross-domain")  # the page's: gone at its end or exit
    out = None if may_write else folder / "result"
    claim = heavy_work.Claim()  # one heavy child at a time: a training or the analyses may hold it
    try:
        while not heavy_work.acquire("a cross-domain evaluation", claim):
            holder = heavy_work.busy()
            yield f"waiting for {holder[0]} ({holder[1]})" if holder else "waiting for the machine"
            time.sleep(POLL_SECONDS)
        command = Command(
            command_args(
                run,
                file,
                text_column=text_column,
                label_column=label_column,
                mapping=mapping,
                name=name,
                out=out,
            ),
            folder / "cross-domain.log",
        )
        claim.command = command
        try:
            while command.returncode() is None:
                yield command.progress()
                time.sleep(POLL_SECONDS)
        finally:
            command.stop()  # the page was closed mid-way: nothing is left running
        if command.returncode() != 0:
            raise BatchError(command.error())
        yield Result(name, None if out is None else read_evaluation(out, name))
    finally:
        heavy_work.release(claim)
        shutil.rmtree(folder, ignore_errors=True)


def _error(exc: Exception) -> gr.Error:
    # Messages quote the file's own names and values, and the command's may name the kept copy
    # (a server path: named by the file's name alone); Gradio renders error text as HTML.
    return gr.Error(html.escape(shown_text(str(exc)), quote=False), print_exception=False)


def build(current: Callable[[], Run], *, may_write: bool) -> tuple[Dependency, gr.State]:
    """Lay out the upload form for the run `current()` gives; returns the Run button and the state its
    event fills with a `Result` (chain `.success` on the button's event to show it). Each label
    value's dropdown lists the run's classes, filtered as one types (a run may have 150)."""
    where = (
        "The result is saved in the run as a cross-domain part and listed above."
        if may_write
        else "This page may not write to the run (a public page), so the result is **not saved**: it is "
        "shown for this browser session only."
    )
    gr.Markdown(f"{HELP} {where}")
    with gr.Row():
        upload = gr.File(
            label="Labelled CSV", file_types=[".csv"], type="filepath", elem_id="cross-domain-upload"
        )
        with gr.Column():
            text_column = gr.Dropdown([], label="Text column", elem_id="cross-domain-text-column")
            label_column = gr.Dropdown([], label="Label column", elem_id="cross-domain-label-column")
            name = gr.Textbox(
                label="Name", info="An evaluation of the same name is replaced.", elem_id="cross-domain-name"
            )
    values = gr.State([])
    with gr.Row(elem_id="cross-domain-label-map"):
        slots = [
            gr.Dropdown([SKIP], value=SKIP, visible=False, interactive=True, filterable=True)
            for _ in range(MAX_LABEL_VALUES)
        ]
    start = gr.Button("Evaluate", variant="primary", elem_id="cross-domain-run")
    status = gr.Markdown("", elem_id="cross-domain-status")
    result = gr.State(None)
    kept = gr.State(None)  # the session's own copy of the upload (`keep_upload`): what events read

    def columns(path: str | None) -> dict[Any, Any]:
        if not path:
            return {
                kept: None,
                text_column: gr.update(choices=[], value=None),
                label_column: gr.update(choices=[], value=None),
            }
        try:
            own, found = keep_upload(path)
        except BatchError as exc:
            raise _error(exc) from None
        header = found.header
        text = next((c for c in header if c.casefold() == "text"), header[0])
        label = next((c for c in header if c.casefold() in ("label", "category", "class")), None)
        return {
            kept: str(own),
            text_column: gr.update(choices=header, value=text),
            label_column: gr.update(choices=header, value=label),
            name: family_name(Path(path).stem),
        }

    def mapping(path: str | None, column: str | None) -> dict[Any, Any]:
        if not path or not column:
            return {values: [], **{slot: gr.update(visible=False) for slot in slots}}
        try:
            found = label_values(read_upload(path), column)
        except BatchError as exc:
            raise _error(exc) from None
        classes = current().classes
        shown = {
            slot: gr.update(
                visible=True,
                choices=[SKIP, *classes],
                label=value_label(value, n),
                value=default_class(value, classes),
            )
            for slot, (value, n) in zip(slots, found, strict=False)
        }
        hidden = {slot: gr.update(visible=False, value=SKIP) for slot in slots[len(found) :]}
        return {values: [value for value, _ in found], **shown, **hidden}

    def run(
        path: str | None, text: str | None, label: str | None, part_name: str, found: list[str], *targets: str
    ) -> Iterator[dict[Any, Any]]:
        if not path or not text or not label:
            raise gr.Error(
                "Upload a CSV file and choose its text and label columns first.", print_exception=False
            )
        if not part_name.strip():
            raise gr.Error("Give the evaluation a name.", print_exception=False)
        try:
            run = current()
            pairs = label_map(label, found, list(targets[: len(found)]), run.classes)
            for step in evaluate(
                run.path,
                path,
                text_column=text,
                label_column=label,
                mapping=pairs,
                name=part_name.strip(),
                may_write=may_write,
            ):
                if isinstance(step, Result):
                    done = (
                        "Saved in the run."
                        if step.unsaved is None
                        else "Done; not saved (this session only)."
                    )
                    yield {status: done, result: step}
                else:
                    yield {status: f"Evaluating … {literal(shown_text(step))}" if step else "Evaluating …"}
        except BatchError as exc:
            raise _error(exc) from None

    undocumented: dict[str, Any] = {"api_visibility": "undocumented"}
    upload.upload(
        columns,
        upload,
        [kept, text_column, label_column, name],
        api_name="cross_domain_columns",
        **undocumented,
    ).then(mapping, [kept, label_column], [values, *slots], api_name="cross_domain_labels", **undocumented)
    upload.clear(columns, upload, [kept, text_column, label_column, name], api_visibility="private")
    label_column.input(mapping, [kept, label_column], [values, *slots], api_visibility="private")
    event = start.click(
        run,
        [kept, text_column, label_column, name, values, *slots],
        [status, result],
        api_name="cross_domain_evaluate",
        api_visibility="undocumented",
        concurrency_limit=1,
        concurrency_id=CONCURRENCY_ID,
    )
    return event, result
