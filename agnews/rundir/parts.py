"""The parts of a run: one schema, one reader and one writer each.

A run is a folder of parts. Each part is made by one stage (`agnews.rundir.declarations.Stage`)
and listed in the run's `manifest.json` with its schema version, a fingerprint of its files and the
fingerprints of the parts it was made from. JSON parts are dataclasses below, validated on reading
for syntax and for meaning (pydantic names the key that is wrong): counts are non-negative integers,
rates are numbers in [0, 1] (NaN is none), and a confusion matrix has a row and a column per class it
names. Table parts have a column schema (the predictions' probabilities are checked too); binary parts
are checked for integrity. A `Part` names its files, their formats and whether a run needs it.

A *part family* has one part per name the user chooses, each in a folder of that name
(one cross-domain evaluation per labelled file; `teacher_logits/<key>`: a teacher's logits for one
student's training texts).

`agnews.rundir.catalog` knows every part a run can hold (the core's, declared in `agnews.rundir.core`,
and the analyses'); a family member's name must be a safe folder name (`FAMILY_NAME`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd
from annotated_types import Ge, Interval

from agnews.config import TrainConfig
from agnews.dataset.ag_news import AG_NEWS_CLASSES, ag_news_description
from agnews.dataset.description import DatasetDescription
from agnews.rundir.files import RunError, json_text, read_json, write_json
from agnews.rundir.renames import RENAMED_PARTS, RENAMED_STAGES

MANIFEST = "manifest.json"
CONFIG = "config.json"
MODEL_DIR = "model"
TRAINING = "train_log.json"
DATA_STATS = "data_stats.json"
PREDICTIONS = "predictions.parquet"
METRICS = "metrics.json"
SERVING_ONNX = "serving.onnx"
SERVING_ONNX_INT8 = "serving_int8.onnx"
EMBEDDINGS = "embeddings.safetensors"
BASELINE = "baseline.json"
# A teacher run's logits for a student's training texts (`agnews train --teacher`), one member per key.
TEACHER_LOGITS = "teacher_logits"
TEACHER_LOGITS_FILE = "logits.parquet"

# The predictions' columns: these, then `prob_i` and `logit_i` for each class id i of the run.
PREDICTION_COLUMNS = ("row_id", "text", "label", "label_name", "pred", "pred_name", "confidence")


def prob_columns(classes: int) -> tuple[str, ...]:
    """The probability columns of a table scored over `classes` classes, in class-id order."""
    return tuple(f"prob_{i}" for i in range(classes))


def logit_columns(classes: int) -> tuple[str, ...]:
    """The logit columns of a table scored over `classes` classes, in class-id order."""
    return tuple(f"logit_{i}" for i in range(classes))


def class_count(frame: pd.DataFrame, path: Path | str = "predictions") -> int:
    """How many classes a scored table covers: its `prob_i` columns, which must run from prob_0 with
    no gap (and the `logit_i` columns, where there are any, match them). RunError otherwise."""
    classes = sum(1 for column in frame.columns if str(column).startswith("prob_"))
    if classes < 2 or any(column not in frame.columns for column in prob_columns(classes)):
        raise RunError(f"{path}: expected probability columns prob_0 ... prob_K-1 (2 or more classes)")
    logits = [column for column in frame.columns if str(column).startswith("logit_")]
    if logits and sorted(logits) != sorted(logit_columns(classes)):
        raise RunError(f"{path}: the logit columns do not match the {classes} probability columns")
    return classes


MAP_KINDS = ("base", "finetuned")
EMBEDDING_KEYS = tuple(f"{kind}_cls" for kind in MAP_KINDS)


# What a number of a JSON part may be, checked by pydantic on reading. A NaN is in no interval, so a
# rate read as NaN is refused too (Python's json module reads `NaN`).
Count = Annotated[int, Ge(0)]
Rate = Annotated[float, Interval(ge=0, le=1)]
# How far a row of stored probabilities may sum from 1 (they are float32 softmax outputs).
PROBABILITY_SUM_TOLERANCE = 1e-3


class PartValueError(ValueError):
    """A JSON part whose values contradict each other (a matrix of the wrong shape); `key` is the
    field, relative to the dataclass that raised it, so that `parse` names it in full."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_confusion(
    matrix: list[list[int]],
    rows: list[str],
    columns: list[str],
    per_class: Iterable[str],
    *,
    classes_key: str,
) -> None:
    """`confusion_matrix` has a row per class of `rows` (true classes, some or all of the run's) and a
    column per class of `columns` (the run's classes, named by the key `classes_key`; `Run.load`
    checks they are the run's), and `per_class` scores exactly the `rows` classes: what the tables and
    figures drawn from it index by."""
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise PartValueError(classes_key, f"classes {columns} are not two or more distinct classes")
    if not set(rows) <= set(columns):
        raise PartValueError(classes_key, f"true classes {rows} are not all among the run's {columns}")
    widths = sorted({len(row) for row in matrix})
    if len(matrix) != len(rows) or widths != [len(columns)]:
        raise PartValueError(
            "confusion_matrix",
            f"{len(matrix)} rows of {' or '.join(map(str, widths)) or 0} columns; expected {len(rows)} rows "
            f"(true classes {rows}) of {len(columns)} columns (one per class)",
        )
    if set(per_class) != set(rows):
        raise PartValueError("per_class", f"scores for {sorted(per_class)}; expected one per class of {rows}")


# A name inside a part family becomes a folder of the run: letters, digits, '-', '_' and '.', not
# starting with '.' (no hidden folder, no '..'), short enough for any filesystem.
FAMILY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def family_name(text: str) -> str:
    """A member name made from free text (a file's stem): each run of characters unfit for a folder name
    as '-', cut to `FAMILY_NAME`'s length; '' where nothing usable is left."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")[:100]


def family_members(names: Iterable[str], prefix: str) -> list[str]:
    """The member names (after `PREFIX/`) among the part names `names`, sorted. A name that is no
    safe folder name (only a hand-edited manifest has one) is left out: never read, never uploaded."""
    members = (name.partition("/")[2] for name in names if name.startswith(f"{prefix}/"))
    return sorted(member for member in members if FAMILY_NAME.fullmatch(member))


# --------------------------------------------------------------------------------------------------
# Schemas of the JSON parts
# --------------------------------------------------------------------------------------------------


@dataclass
class DataInfo:
    """Where the rows came from, and a content hash of each split (texts and labels)."""

    source: str
    origins: dict[str, str]
    split_hashes: dict[str, str]
    rows: dict[str, int]
    dataset: DatasetDescription | None = None  # None in runs made before it was recorded: AG News

    def description(self) -> DatasetDescription:
        """The dataset the run was trained on (runs that did not record it were all AG News)."""
        return self.dataset if self.dataset is not None else ag_news_description(self.source)


@dataclass
class RunConfig:
    """`config.json`: the settings, the resolved base model, library versions and the data seen."""

    train: TrainConfig
    base_model_resolved: str
    versions: dict[str, str]
    data: DataInfo
    created: str
    # The run this one was trained from (`agnews train --from-run`): its folder's name, a sibling under
    # the same runs folder; None for a run trained from its own options (and every run made before).
    parent: str | None = None
    schema_version: int = 1

    @property
    def classes(self) -> tuple[str, ...]:
        """The run's classes: class id `i` is `classes[i]` in every part, page and the model."""
        return self.data.description().class_names


@dataclass
class ClassScores:
    precision: Rate
    recall: Rate
    f1: Rate
    support: Count


@dataclass
class TestMetrics:
    """Scores of the model on the test rows in `predictions.parquet` (rows of the confusion = true)."""

    rows: Count
    accuracy: Rate
    f1_weighted: Rate
    f1_macro: Rate
    per_class: dict[str, ClassScores]
    confusion_matrix: list[list[Count]]
    confusion_matrix_labels: list[str]  # empty in runs made before it was recorded: AG News's classes

    def __post_init__(self) -> None:
        if not self.confusion_matrix_labels:  # only AG News runs were made before it was recorded
            self.confusion_matrix_labels = list(AG_NEWS_CLASSES)
        labels = self.confusion_matrix_labels
        check_confusion(
            self.confusion_matrix, labels, labels, self.per_class, classes_key="confusion_matrix_labels"
        )


@dataclass
class Metrics:
    """`metrics.json`: the test evaluation, made together with `predictions.parquet`."""

    test: TestMetrics
    test_origin: str
    test_hash: str
    seconds: float
    samples_per_second: float
    precision: str = "fp32"
    schema_version: int = 1


@dataclass
class CalibratorScore:
    """One calibration candidate judged on validation: NLL and top-label ECE of its out-of-fold
    probabilities (each validation row scored by a calibrator fitted without it)."""

    cv_nll: float
    cv_ece: float


@dataclass
class CalibrationFit:
    """How the kept model's logits were calibrated on validation before the model was first written.

    The kept transform, `logits * scale + bias` per class (temperature T: scale 1/T, bias 0), is folded
    into the model's last linear layer, so the saved model, its ONNX graphs and the stored test
    logits are all calibrated; `agnews.training.calibration` inverts it to recover raw logits. The
    raw validation logits are kept so later analyses never run or fold the model again.
    """

    method: str
    reason: str
    scale: list[float]
    bias: list[float]
    folds: int
    candidates: dict[str, CalibratorScore]
    validation_labels: list[int]
    validation_logits: list[list[float]]
    seconds: float


@dataclass
class Training:
    """`train_log.json`: how training went: the kept epoch's validation scores, time, the Trainer log,
    and the calibration folded into the model (None: runs made before calibration, or with none)."""

    validation: dict[str, float]
    best_checkpoint: str | None
    seconds: float
    samples_per_second: float | None
    device: str
    precision: str
    log_history: list[dict[str, Any]]
    calibration: CalibrationFit | None = None
    frozen_layers: int | None = None  # as resolved on the machine that trained (None: older runs)
    teacher: TeacherInfo | None = None  # what the run was distilled from (`--teacher`), if anything
    data_parallel: DataParallel | None = None  # how the batches split over processes (None: one process)
    schema_version: int = 1


@dataclass
class DataParallel:
    """How a data-parallel training (`torchrun` / `accelerate launch`) shared out its training rows:
    per epoch, the rows each process was given, how many of those repeat a row (the last batches are
    evened out across processes with rows from the start), and how many training rows no process got
    (0 unless the sharding is broken, or an epoch was resumed part-way)."""

    processes: int
    per_device_batch: int
    rows: list[list[int]]  # rows[epoch][process]
    repeated: list[int]  # per epoch
    unseen: list[int]  # per epoch


@dataclass
class TeacherInfo:
    """The teacher a run was distilled from, as the card names it (never its local path)."""

    run: str
    base_model: str
    test_accuracy: Rate
    logits_part: str
    temperature: float
    alpha: float


@dataclass
class SplitStats:
    rows: int
    class_counts: dict[str, int]
    chars: dict[str, float]
    words: dict[str, float]
    # In the run's tokenizer's tokens: mean, median, p95, max, and `truncated`, the share of texts
    # longer than the run's `max_length` (cut there in training, evaluation and serving). Empty in
    # runs made before it was recorded.
    tokens: dict[str, float] = field(default_factory=dict)


@dataclass
class AppliedCorrections:
    """What `agnews train --corrections FILE` applied to the training rows (`agnews.rundir.decisions`)."""

    file: str
    split_hash: str  # the training split the decisions were made on (the run's own before them)
    relabelled: int
    removed: int
    kept: int
    test_rows_not_applied: int


@dataclass
class DataStats:
    """`data_stats.json`: class counts and text lengths per split, rows dropped before splitting."""

    splits: dict[str, SplitStats]
    duplicates_dropped_from_train: int
    repeated_training_rows_dropped: int = 0
    label_issue_rows_dropped: int = 0  # training rows left out by `--drop-label-issues`
    # Variants `--augment` added to what the Trainer saw (the training split itself is the source rows).
    augmented_training_rows: int = 0
    augmented_by_family: dict[str, int] | None = None
    corrections: AppliedCorrections | None = None
    schema_version: int = 1


@dataclass
class Baseline:
    """`baseline.json`: logistic regression on frozen base-model [CLS] vectors, on the same test rows."""

    method: str
    train_rows: Count
    rows: Count
    accuracy: Rate
    f1_macro: Rate
    f1_weighted: Rate
    schema_version: int = 1


@dataclass
class Interval:
    """A statistic and its bootstrap 95% interval."""

    value: float
    low: float
    high: float


@dataclass
class PartRecord:
    """One part in the manifest: what made it, when, its fingerprint, those of its inputs and the
    settings it was made with (the declared `Stage.settings`; empty for older runs)."""

    stage: str
    schema_version: int
    fingerprint: str
    made_from: dict[str, str]
    created: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageWarning:
    stage: str
    message: str
    created: str


@dataclass
class Manifest:
    """`manifest.json`: the run's table of contents, rewritten by every change to the run."""

    parts: dict[str, PartRecord] = field(default_factory=dict)
    warnings: list[StageWarning] = field(default_factory=list)
    agnews_version: str = ""
    schema_version: int = 1

    def stale_inputs(self, name: str) -> list[str]:
        """The inputs of part `name` that changed (or vanished) since it was made."""
        record = self.parts[name]
        return [
            source
            for source, made in record.made_from.items()
            if source not in self.parts or self.parts[source].fingerprint != made
        ]


Schema = TypeVar("Schema")
Value = TypeVar("Value")


def parse(schema: type[Schema], data: Any, path: Path | str) -> Schema:
    """Validate `data` against a part's dataclass; the error names the file and the key."""
    import pydantic  # imported on first read: cheap for the app (gradio has loaded it), absent from --help

    version = getattr(schema, "schema_version", None)
    if isinstance(data, dict) and version is not None and data.get("schema_version", 1) > version:
        raise RunError(
            f"{path}: schema version {data['schema_version']} is newer than this agnews reads "
            f"({version}); upgrade agnews"
        )
    try:
        return pydantic.TypeAdapter(schema).validate_python(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors()[:5])
        raise RunError(f"{path}: {problems}") from exc
    except ValueError as exc:  # a TrainConfig check inside the schema
        raise RunError(f"{path}: {exc}") from exc


def _problem(error: Mapping[str, Any]) -> str:
    """One pydantic error as "key test.accuracy: <what is wrong> (got nan)": the full key, a
    `PartValueError`'s own key and words, and the value where it is a single one (a NaN or a negative
    count reads plainly so)."""
    location = [str(step) for step in error["loc"]]
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, PartValueError):
        return f"key {'.'.join([*location, cause.key])}: {cause}"
    value = error.get("input")
    shown = f" (got {value!r:.40})" if isinstance(value, int | float | str) else ""
    return f"key {'.'.join(location) or '(top)'}: {error['msg']}{shown}"


def read_manifest(path: Path) -> Manifest:
    """A run's manifest, stage and part names as today's (`agnews.rundir.renames`); a run made before
    manifests existed has none (empty: nothing recorded)."""
    if not (path / MANIFEST).is_file():
        return Manifest()
    manifest = read_json_part(Manifest, path / MANIFEST)
    manifest.parts = {RENAMED_PARTS.get(name, name): record for name, record in manifest.parts.items()}
    for record in manifest.parts.values():
        record.made_from = {RENAMED_PARTS.get(name, name): made for name, made in record.made_from.items()}
    for record in [*manifest.parts.values(), *manifest.warnings]:
        record.stage = RENAMED_STAGES.get(record.stage, record.stage)
    return manifest


def read_json_part(schema: type[Schema], path: Path) -> Schema:
    return parse(schema, read_json(path), path)


def json_part_text(value: Any) -> str:
    """A JSON part's file contents, from its dataclass."""
    return json_text(dataclasses.asdict(value))


def write_json_part(path: Path, value: Any) -> None:
    write_json(path, dataclasses.asdict(value))


# --------------------------------------------------------------------------------------------------
# Readers of the files of a part
# --------------------------------------------------------------------------------------------------


def read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise RunError(f"{path}: missing")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise RunError(f"{path}: unreadable parquet ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RunError(f"{path}: missing columns {missing}")
    return frame


def read_embeddings(
    path: Path, rows: int | None, keys: tuple[str, ...] = EMBEDDING_KEYS
) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, which must hold `keys`, each with `rows` rows (None: any)."""
    from safetensors.numpy import load_file

    try:
        embeddings = load_file(path)
    except Exception as exc:
        raise RunError(f"{path}: unreadable ({exc})") from exc
    missing = [key for key in keys if key not in embeddings]
    bad = {k: v.shape for k, v in embeddings.items() if rows is not None and v.shape[0] != rows}
    if missing or bad:
        raise RunError(f"{path}: missing {missing} or row counts {bad} differ from predictions ({rows})")
    return embeddings


def check_file(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        raise RunError(f"{path}: missing or empty")


def check_model_dir(folder: Path) -> None:
    """The model folder holds safetensors weights (intact header), a tokenizer and its classes by name
    (two or more, `id2label`)."""
    if not folder.is_dir():
        raise RunError(f"{folder}: missing (the fine-tuned model)")
    config = read_json(folder / "config.json")
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise RunError(f"{weights}: missing (weights must be safetensors)")
    check_safetensors(weights)
    if not ((folder / "tokenizer.json").is_file() or (folder / "vocab.txt").is_file()):
        raise RunError(f"{folder}: no tokenizer files (tokenizer.json)")
    if len(config.get("id2label") or {}) < 2:
        raise RunError(f"{folder / 'config.json'}: expected two or more named classes in id2label")


def check_safetensors(path: Path) -> None:
    """The header parses and the file covers every tensor it lists (a truncated copy fails)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy"):
            pass
    except Exception as exc:
        raise RunError(f"{path}: corrupted safetensors file ({exc})") from exc


class PartFile(Protocol):
    """How one file of a part is read (and checked) and written. `row_ids`: the run's prediction row
    ids, for files whose rows must align with them."""

    def read(self, path: Path, row_ids: list[int]) -> Any: ...

    def write(self, value: Any, path: Path) -> None: ...


@dataclass(frozen=True)
class JsonFile:
    """A JSON file, validated against its dataclass (`parse`)."""

    schema: type

    def read(self, path: Path, row_ids: list[int]) -> Any:
        return read_json_part(self.schema, path)

    def write(self, value: Any, path: Path) -> None:
        path.write_text(json_part_text(value), encoding="utf-8")


@dataclass(frozen=True)
class TableFile:
    """A parquet table holding `columns`; `aligned`: one row per prediction, in their order."""

    columns: tuple[str, ...]
    aligned: bool = False

    def read(self, path: Path, row_ids: list[int]) -> pd.DataFrame:
        frame = read_table(path, self.columns)
        if self.aligned and frame["row_id"].tolist() != row_ids:
            raise RunError(f"{path}: rows differ from the predictions'")
        return frame

    def write(self, value: pd.DataFrame, path: Path) -> None:
        value.to_parquet(path, index=False)


@dataclass(frozen=True)
class EmbeddingsFile:
    """A safetensors file of the arrays `keys`; `aligned`: one row per prediction (otherwise the
    part's `check` ties its rows to the part's other file)."""

    keys: tuple[str, ...] = EMBEDDING_KEYS
    aligned: bool = True

    def read(self, path: Path, row_ids: list[int]) -> dict[str, np.ndarray]:
        return read_embeddings(path, len(row_ids) if self.aligned else None, self.keys)

    def write(self, value: dict[str, np.ndarray], path: Path) -> None:
        from safetensors.numpy import save_file

        save_file(value, str(path))


@dataclass(frozen=True)
class ModelFolder:
    """The fine-tuned model's folder: checked (`check_model_dir`), loaded only on demand."""

    def read(self, path: Path, row_ids: list[int]) -> None:
        check_model_dir(path)

    def write(self, value: Any, path: Path) -> None:
        raise TypeError("the model folder is written by a function (save_pretrained), not from a value")


@dataclass(frozen=True)
class IntactFile:
    """A file checked to be present and not empty, read by its own runtime (an ONNX graph)."""

    def read(self, path: Path, row_ids: list[int]) -> None:
        check_file(path)

    def write(self, value: Any, path: Path) -> None:
        raise TypeError("this file is written by a function (its own library's), not from a value")


# --------------------------------------------------------------------------------------------------
# The part registry
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part(Generic[Value]):
    """A named part: its files (relative to the run), whether a run needs it, and how each file is
    read and written (`formats`, one per file). `check` validates what the files say together (e.g. a table's
    columns against the JSON that names them). `read_part` reads it the one way there is: the value
    of its one file, or `value(*one value per file)` (a named tuple), so that `Run.get(part)` is typed."""

    name: str
    files: tuple[str, ...]
    required: bool
    formats: tuple[PartFile, ...]
    schema_version: int = 1
    check: Callable[[tuple[Path, ...], tuple[Any, ...]], None] | None = None
    value: Callable[..., Value] | None = None
    # How a run made before parts had schemas (agnews 0.1) held it: `(run folder, its old
    # metrics.json, the training seed, the predictions' row ids) -> value | None` (None: not there).
    legacy: Callable[[Path, dict[str, Any], int, list[int]], Value | None] | None = None


@dataclass(frozen=True)
class PartFamily(Generic[Value]):
    """Optional parts made once per name the user chooses (`PREFIX/NAME`, files in `PREFIX/NAME/`),
    such as one cross-domain evaluation per labelled file (`Catalog.part` finds a member's)."""

    prefix: str
    files: tuple[str, ...]
    formats: tuple[PartFile, ...]
    schema_version: int = 1
    check: Callable[[tuple[Path, ...], tuple[Any, ...]], None] | None = None
    value: Callable[..., Value] | None = None

    def member(self, name: str) -> Part[Value]:
        """The part `PREFIX/name`; RunError when `name` is not a safe folder name."""
        if not FAMILY_NAME.fullmatch(name):
            raise RunError(
                f"{name!r} cannot name a {self.prefix} part: use 1-100 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit"
            )
        folder = f"{self.prefix}/{name}"
        files = tuple(f"{folder}/{file}" for file in self.files)
        return Part(folder, files, False, self.formats, self.schema_version, self.check, self.value)


def aligned(part: Part) -> bool:
    """Whether reading `part` checks its rows against the predictions' (it needs their row ids)."""
    return any(getattr(f, "aligned", False) for f in part.formats)


def read_part(run: Path, part: Part, row_ids: list[int]) -> Any:
    """Read and validate `part`'s files in the run folder `run`: the value of its one file, or a tuple
    with one value per file. RunError names the file and what is wrong."""
    paths = tuple(run / file for file in part.files)
    values = tuple(reader.read(path, row_ids) for path, reader in zip(paths, part.formats, strict=True))
    if part.check is not None:
        part.check(paths, values)
    if part.value is not None:
        return part.value(*values)
    return values[0] if len(values) == 1 else values


def check_predictions(path: Path, frame: pd.DataFrame) -> None:
    """Each row's class ids are classes of the run and its probabilities a distribution (each in
    [0, 1], summing to 1): the page, the report and the calibration read them as such. RunError names
    the first row that is not, by its row_id."""
    classes = class_count(frame, path)
    for column in ("label", "pred"):
        ids = frame[column].to_numpy()
        outside = np.flatnonzero(~np.isin(ids, np.arange(classes)))
        if outside.size:
            row = outside[0]
            raise RunError(
                f"{path}: row_id {frame['row_id'].iat[row]}: {column} {ids[row].item()!r} is not a class id "
                f"0-{classes - 1}"
            )
    columns = prob_columns(classes)
    probs = frame[list(columns)].to_numpy(np.float64)
    in_range = ((probs >= 0) & (probs <= 1)).all(axis=1)  # False for a NaN too
    summing = np.abs(probs.sum(axis=1) - 1) <= PROBABILITY_SUM_TOLERANCE
    wrong = np.flatnonzero(~(in_range & summing))
    if wrong.size:
        row = wrong[0]
        raise RunError(
            f"{path}: row_id {frame['row_id'].iat[row]}: {columns[0]}..{columns[-1]} "
            f"{probs[row].tolist()} are not probabilities summing to 1"
        )


def predictions_valid(paths: tuple[Path, ...], values: tuple[Any, ...]) -> None:
    check_predictions(paths[0], values[0])
