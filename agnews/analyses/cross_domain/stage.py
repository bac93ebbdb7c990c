"""Cross-domain evaluation: the run's model on an out-of-domain labelled CSV file (`agnews
cross-domain`).

In-domain test accuracy says little about news from another source, era or taxonomy. This scores a
labelled file whose classes map onto some of the four (`business=Business,sports=Sports`): rows of
unmapped classes are skipped and counted, and the model still chooses among all four classes, so a
prediction outside the mapped ones is wrong. Beside it, the same rows are scored by a TF-IDF +
logistic regression model refitted on the run's own training rows: on text from elsewhere a bag of
words is a strong competitor, and a user should see both. Only its scores and per-row predictions
are kept (no fitted model, nothing pickled). Where the run's training rows cannot be read here (a run
pulled from the Hub has no data folder) the model is scored alone and the part records why.

It reads the run's model, config and training rows, and writes one part, `cross_domain/<name>`
(`schema.CrossDomainMetrics` and the per-row predictions), in one atomic edit; the
same name again replaces that part whole. The in-domain predictions and metrics are never touched.
With `out` the part's files go to another folder and the run is neither written nor locked (the
app's public page shows such a result for one session).
It is a command, not a stage in `agnews.rundir.catalog`: it needs a file, which
`agnews analyze` does not have, so a part made stale by a new model is re-made by running it again.

Every check (the file, the label map, the part name, the training rows) runs before the model is
loaded or the run is locked, and each names what is wrong and what the file has.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews import events
from agnews.analyses.cross_domain.numeric import (
    BASELINE_METHOD,
    LabelledFile,
    domain_scores,
    parse_label_map,
    select_rows,
    tfidf_predictions,
)
from agnews.analyses.cross_domain.schema import FAMILY, CrossDomainMetrics
from agnews.inference import infer
from agnews.rundir.catalog import CATALOG, Catalog
from agnews.rundir.edit import edit_run, write_part_files
from agnews.rundir.parts import family_name
from agnews.rundir.run import Run
from agnews.serving.csv_batch import check_row_widths, csv_records
from agnews.training.context import StageContext
from agnews.training.data import DataError, content_hash
from agnews.training.evaluate import predictions_frame
from agnews.training.stages import current_run

if TYPE_CHECKING:
    from transformers import PreTrainedModel
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase


def read_labelled_csv(path: str | Path, text_columns: list[str], label_column: str) -> LabelledFile:
    """Read a CSV file with a header row; every cell as the string it is (no type guessing).

    Read strictly, as the app's CSV upload is (`agnews.serving.csv_batch.csv_records`): a row with
    more or fewer cells than the header is an error, where pandas would shift, cut or pad it without
    a word. DataError for a missing or empty file,
    a file that is not UTF-8 or not CSV, a header without rows, a row of another width, and a text or
    label column the file lacks (naming the columns it has). Blank lines are not rows.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    data = path.read_bytes()
    if not data.strip():
        raise DataError(f"{path}: the file is empty")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    records = csv_records(decoded, str(path), DataError)
    if not records:  # e.g. a byte-order mark and blank lines
        raise DataError(
            f"{path}: no header row (the file holds no CSV rows); expected a header and data rows"
        )
    columns = [cell.strip() for cell in records[0][1]]
    missing = [c for c in (*text_columns, label_column) if c not in columns]
    if missing:
        raise DataError(
            f"{path}: no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(map(repr, columns))} (choose them with --text-column and --label-column)"
        )
    body = records[1:]
    if not body:
        raise DataError(f"{path}: a header but no rows")
    check_row_widths(body, len(columns), str(path), DataError)
    text_at = [columns.index(c) for c in text_columns]
    label_at = columns.index(label_column)
    texts = [" ".join(cells[i] for i in text_at) for _, cells in body]
    labels = [cells[label_at].strip() for _, cells in body]
    return LabelledFile(path.absolute(), hashlib.sha256(data).hexdigest(), texts, labels)


def default_name(path: Path) -> str:
    """The part name for a file: its stem, with each run of characters unfit for a folder name as '-'."""
    return family_name(path.stem)


def training_rows(run: Run, context: StageContext, *, data: str | None) -> tuple[list[str], np.ndarray] | str:
    """The run's training rows (texts, class ids) for the baseline, or why they cannot be had here.

    Rows the run's recorded source cannot give (its folder is not on this machine, as for a run pulled
    from the Hub; the Hub dataset offline) leave the baseline out, with the reason: the model is still
    worth scoring. A `data` folder given on purpose that cannot be read, or rows other than those the
    run was trained on, are errors: those are mistakes to fix, not gaps to report.
    """
    try:
        loaded = context.data()
    except DataError as exc:
        if data is not None:
            raise
        return f"the run's training rows could not be read here ({exc})"
    train = loaded.splits["train"]
    texts, labels = list(train["text"]), np.asarray(train["label"])
    if content_hash(texts, labels.tolist()) != run.config.data.split_hashes["train"]:
        raise DataError(
            f"the training rows read from {loaded.source} are not those the run was trained on "
            "(their content hash differs); pass --data with the folder it was trained on"
        )
    return texts, labels


def cross_domain_run(
    path: str | Path,
    file: str | Path,
    *,
    label_map: str,
    text_columns: list[str] | None = None,
    label_column: str = "label",
    name: str | None = None,
    file_name: str | None = None,
    data: str | None = None,
    out: str | Path | None = None,
    wait: bool = False,
    progress: bool = True,
    catalog: Catalog = CATALOG,
) -> CrossDomainMetrics:
    """`agnews cross-domain RUN FILE`: score `file` with the run's model and the TF-IDF baseline and
    write the part `cross_domain/<name>` (default name: the file's stem); returns its metrics.

    `file_name`: what the part records as the file (default: its path as given), for a file read from
    a temporary copy (the page's upload) that is known by its own name.
    `data`: the folder the run was trained on, where its recorded one is not found from here (the
    baseline refits on the run's training rows, checked against their recorded content hash); without
    it and without those rows the baseline is left out, and the part says why (`training_rows`).
    `out`: write the part's files under this folder (`OUT/cross_domain/<name>/`, read back by
    `schema.read_evaluation`) and leave the run untouched, unlocked: for a page that may
    not write to the run. `wait`: wait for another process editing the run instead of stopping.
    """
    started = time.perf_counter()
    text_columns = text_columns or ["text"]
    run = current_run(Path(path), catalog)
    classes = run.classes
    mapping = parse_label_map(label_map, classes)
    labelled = read_labelled_csv(file, text_columns, label_column)
    name = name if name is not None else default_name(labelled.path)
    if not name:
        raise DataError(f"{labelled.path}: its name makes no part name; pass --name")
    part = FAMILY.member(name)  # a RunError for an unsafe name
    selection = select_rows(labelled, mapping)
    # The classes the kept rows carry: a mapped class all of whose rows were skipped (empty texts)
    # has no support, and its F1 of zero would only pull the macro average down.
    mapped = sorted(set(selection.labels.tolist()))

    config = run.config.train
    context = StageContext(config, data=data, progress=progress, catalog=catalog)
    training = training_rows(run, context, data=data)

    def evaluate(
        model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase
    ) -> tuple[pd.DataFrame, CrossDomainMetrics]:
        predicting = time.perf_counter()
        inference = infer(
            model,
            tokenizer,
            selection.texts,
            batch_size=config.eval_batch_size,
            max_length=config.max_length,
            progress=progress,
            description=f"cross-domain {name}",
        )
        predicted = time.perf_counter()
        baseline = None
        if not isinstance(training, str):
            doing = f"TF-IDF baseline: fitting on {len(training[0])} training rows"
            events.step(doing)
            if progress:
                print(f"{doing} ...", flush=True)
            baseline = tfidf_predictions(*training, selection.texts, seed=config.seed)
        finished = time.perf_counter()

        frame = predictions_frame(
            selection.rows.tolist(),
            selection.texts,
            selection.labels,
            inference.probs,
            inference.logits,
            classes,
        )
        frame["source_label"] = [labelled.labels[row] for row in selection.rows]
        frame["baseline_pred"] = (
            np.full(len(frame), -1, np.int64) if baseline is None else baseline.astype(np.int64)
        )
        metrics = CrossDomainMetrics(
            name=name,
            source=file_name or str(labelled.path),
            source_sha256=labelled.sha256,
            rows_read=len(labelled.labels),
            text_columns=list(text_columns),
            label_column=label_column,
            label_map=label_map,
            resolved_map={source: classes[i] for source, i in mapping.items()},
            mapped_classes=[classes[i] for i in mapped],
            rows=len(frame),
            skipped_unmapped=selection.skipped_unmapped,
            skipped_empty_text=selection.skipped_empty_text,
            model=domain_scores(selection.labels, inference.probs.argmax(axis=1), mapped, classes),
            baseline=None if baseline is None else domain_scores(selection.labels, baseline, mapped, classes),
            baseline_method=BASELINE_METHOD,
            baseline_train_rows=0 if baseline is None else len(training[0]),
            seconds={
                "predict": round(predicted - predicting, 1),
                "baseline": round(finished - predicted, 1),
                "total": round(time.perf_counter() - started, 1),
            },
            baseline_left_out=training if isinstance(training, str) else None,
        )
        return frame, metrics

    if out is not None:
        frame, metrics = evaluate(run.load_classifier(), run.load_tokenizer())
        write_part_files(Path(out), part, frame, metrics)
        return metrics
    with edit_run(path, wait=wait, catalog=catalog) as edit:
        context.edit = edit
        frame, metrics = evaluate(context.model(), context.tokenizer())
        if part.name in edit.manifest.parts:
            edit.remove(part.name)
        edit.begin(catalog.stages[FAMILY.prefix])
        edit.write(part.name, frame, metrics)
    return metrics
