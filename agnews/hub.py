"""Ship a run to the Hugging Face Hub and bring it back: model card, push, pull.

One model repository holds one run:

    README.md             the model card, generated from the run's files
    config.json, model.safetensors, tokenizer files
                          the run's model/ folder at the root, so that
                          `pipeline("text-classification", model=REPO)` works with no agnews code
    agnews_run/           every other file of the run, byte for byte and under its own name:
                          config.json (the run's), metrics.json, predictions.parquet, data_stats.json,
                          train_log.json and, when present, embeddings.safetensors, map.parquet, map.json

Reading an upload back (a Hub snapshot or a `--dry-run` folder) assembles the run directory layout
that `Run.load` knows out of symlinks in a cache folder of our own: `agnews_run/*` at its top and the
root model files in `model/`. No bytes are copied, huggingface_hub's cache stays exactly as it made
it, and `Run` keeps a single layout, so the app treats a pulled run like a local one.

Tokens come from the caller, `HF_TOKEN` or the Hub login (`huggingface_hub.get_token`) and are only
ever handed to huggingface_hub: never printed, logged, put in a message or written to a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
from huggingface_hub import (
    EvalResult,
    HfApi,
    ModelCard,
    ModelCardData,
    constants,
    get_token,
    snapshot_download,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    HFValidationError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import validate_repo_id

from agnews import run as run_files
from agnews.data import HUB_DATASET_ID
from agnews.labels import LABELS
from agnews.models import MINILM_ALIAS
from agnews.run import Run, RunError

RUN_SUBFOLDER = "agnews_run"
CARD = "README.md"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
FULL_SPLIT_ROWS = {"train": 120_000, "test": 7_600}
RUN_FILES = (
    run_files.CONFIG,
    run_files.METRICS,
    run_files.PREDICTIONS,
    run_files.DATA_STATS,
    run_files.TRAIN_LOG,
    run_files.EMBEDDINGS,
    run_files.MAP,
    run_files.MAP_INFO,
    run_files.SERVING_ONNX,
    run_files.SERVING_ONNX_INT8,
)
LOGIN_HINT = "run `hf auth login` or set HF_TOKEN to a token with write access"
PUSH_OFFLINE_HINT = "or save the folder with `agnews push RUN --repo-id ... --dry-run --out DIR` for later"
PULL_OFFLINE_HINT = "or load a local run directory instead"


class HubError(RuntimeError):
    """The Hub cannot be used right now (no login, offline, no access); the message says what to do."""


# --------------------------------------------------------------------------------------------------
# Model card
# --------------------------------------------------------------------------------------------------


def hub_base_model(base_model: str) -> str | None:
    """The base model's Hub id for the card, or None when it was a local folder.

    The Hub validates `base_model` against its own ids, and a local path (which may name a home
    folder) has no business in a public card.
    """
    if base_model == MINILM_ALIAS:
        return MINILM_HUB_ID
    if base_model.startswith((".", "/", "~")) or Path(base_model).expanduser().exists():
        return None
    try:
        validate_repo_id(base_model)
    except HFValidationError:
        return None
    return base_model


def _test_subset_note(test: dict[str, Any]) -> str:
    """Empty for the full test split; otherwise says how many of its rows the metrics cover."""
    full = FULL_SPLIT_ROWS["test"]
    return "" if test["rows"] >= full else f" ({test['rows']:,} of {full:,} test rows)"


def card_data(run: Run, repo_id: str) -> ModelCardData:
    """The card's YAML metadata: what the Hub indexes (base model, dataset, licence, test metrics)."""
    test = run.metrics["test"]
    note = _test_subset_note(test)

    def result(metric: str, value: float, name: str, args: dict[str, str] | None = None) -> EvalResult:
        return EvalResult(
            task_type="text-classification",
            task_name="Text Classification",
            dataset_type=HUB_DATASET_ID,
            dataset_name="AG News",
            dataset_split="test",
            metric_type=metric,
            metric_value=value,
            metric_name=name + note,
            metric_args=args,
        )

    return ModelCardData(
        base_model=hub_base_model(run.config["train"]["base_model"]),
        datasets=[HUB_DATASET_ID],
        language="en",
        library_name="transformers",
        license="apache-2.0",
        pipeline_tag="text-classification",
        tags=["text-classification", "topic-classification", "news", "ag-news", "agnews"],
        metrics=["accuracy", "f1"],
        model_name=repo_id.split("/")[-1],
        eval_results=[
            result("accuracy", test["accuracy"], "Accuracy"),
            result("f1", test["f1_weighted"], "Weighted F1", {"average": "weighted"}),
            result("f1", test["f1_macro"], "Macro F1", {"average": "macro"}),
        ],
    )


def _table(header: list[str], rows: list[list[str]], align: str = "---:") -> str:
    """A Markdown table whose first column is left-aligned and the others use `align`."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "|".join([align] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _results_section(run: Run) -> str:
    test = run.metrics["test"]
    full = FULL_SPLIT_ROWS["test"]
    subset = (
        f" (a stratified subset of its {full:,} rows; the full split gives a steadier estimate)"
        if test["rows"] < full
        else ""
    )
    per_class = _table(
        ["class", "precision", "recall", "F1", "support"],
        [
            [name, f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", str(c["support"])]
            for name, c in ((name, test["per_class"][name]) for name in LABELS)
        ],
    )
    labels = test.get("confusion_matrix_labels", list(LABELS))
    confusion = _table(
        ["true \\ predicted", *labels],
        [[name, *(str(n) for n in row)] for name, row in zip(labels, test["confusion_matrix"], strict=True)],
    )
    parts = [
        "## Results on the AG News test split",
        f"Computed by agnews on {test['rows']:,} rows of the test split{subset}, none of them used for "
        "training or model selection (the best epoch is chosen on a validation split carved out of "
        "the training rows).",
        _table(
            ["metric", "value"],
            [
                ["accuracy", f"{test['accuracy']:.4f}"],
                ["weighted F1", f"{test['f1_weighted']:.4f}"],
                ["macro F1", f"{test['f1_macro']:.4f}"],
            ],
        ),
        "### Per class",
        per_class,
        "### Confusion matrix (rows: true class, columns: predicted class)",
        confusion,
    ]
    baseline = run.metrics.get("frozen_baseline")
    if baseline:
        parts.append(
            f"For comparison, a {baseline['method']} reaches accuracy {baseline['accuracy']:.4f} and "
            f"macro F1 {baseline['f1_macro']:.4f} on the same rows: the gain is what fine-tuning adds."
        )
    return "\n\n".join(parts)


def _usage_section(repo_id: str) -> str:
    return f"""## How to use

```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{repo_id}")
classifier("Stocks rallied after the central bank held interest rates steady.")
# [{{'label': ..., 'score': ...}}] with label one of {", ".join(LABELS)}
```

The model was trained on cleaned text: AG News' escapes (a lone backslash for a line break, `#39;`
for an apostrophe, `quot;`) were undone before tokenisation. Plain text needs nothing; raw AG News
rows should be cleaned the same way (`agnews.text.clean_text`)."""


def _data_description(run: Run) -> str:
    data = run.config["data"]
    rows = data["rows"]
    counts = ", ".join(f"{name} {rows[name]:,}" for name in ("train", "validation", "test"))
    if data["source"] == HUB_DATASET_ID:
        origin = f"the Hub dataset [`{HUB_DATASET_ID}`](https://huggingface.co/datasets/{HUB_DATASET_ID})"
    else:
        files = sorted({Path(p).name for p in data["origins"].values()})
        origin = f"a local copy of AG News ({', '.join(f'`{f}`' for f in files)})"
    text = (
        f"Data: {origin}; rows used: {counts}. Validation rows are a stratified, seeded share of "
        "the training rows."
    )
    dropped = (run.data_stats or {}).get("duplicates_dropped_from_train")
    if dropped:
        text += f" Training rows equal to a test row after normalisation were dropped ({dropped:,})."
    used = rows["train"] + rows["validation"]
    if used < FULL_SPLIT_ROWS["train"]:
        text += (
            f"\n\n**This model saw {used:,} of the {FULL_SPLIT_ROWS['train']:,} rows of the AG News train "
            "split** (training plus validation), so it is a quick, small-data run: expect lower accuracy "
            "than a fine-tune on the full split."
        )
    return text


def _training_section(run: Run) -> str:
    train = run.config["train"]
    base = hub_base_model(train["base_model"])
    base_text = f"[`{base}`](https://huggingface.co/{base})" if base else "a local model folder"
    settings = [
        "epochs",
        "learning_rate",
        "batch_size",
        "max_length",
        "weight_decay",
        "warmup_ratio",
        "seed",
        "mixed_precision",
        "group_by_length",
        "freeze_embeddings",
        "freeze_layers",
    ]
    hyper = _table(
        ["setting", "value"], [[name, f"`{train[name]}`"] for name in settings if name in train], align="---"
    )
    timing = run.metrics.get("timing", {})
    validation = run.metrics.get("validation", {})
    notes = []
    if "accuracy" in validation:
        notes.append(f"- Validation accuracy of the kept epoch: {validation['accuracy']:.4f}")
    if "train_seconds" in timing:
        notes.append(f"- Training time: {timing['train_seconds']:.0f} s on `{timing.get('device', '?')}`")
    versions = _table(
        ["library", "version"], [[k, f"`{v}`"] for k, v in run.config["versions"].items()], align="---"
    )
    return "\n\n".join(
        [
            "## Training",
            f"Fine-tuned from {base_text} with the Hugging Face `Trainer` (AdamW, linear decay with "
            "warmup, evaluation every epoch, the epoch with the best validation accuracy kept).",
            _data_description(run),
            "### Hyperparameters",
            hyper,
            *(["\n".join(notes)] if notes else []),
            "### Framework versions",
            versions,
        ]
    )


def _limitations_section() -> str:
    return """## Intended use and limitations

- Intended for sorting English news headlines and short descriptions into four coarse topics
  (World, Sports, Business, Sci/Tech), for research, teaching and demos.
- Every input gets one of the four labels, even text that is not news or belongs to none of them;
  the scores are softmax outputs, not calibrated probabilities.
- AG News was gathered from more than 2,000 web news sources from July 2004 on: vocabulary, names
  and events are of that time. Some topics overlap (World/Business, Business/Sci-Tech); the
  confusion matrix above shows where this model mixes them up.
- **Data terms:** AG News is provided by the academic community for research and other
  non-commercial activity (see the dataset's readme). The `apache-2.0` licence on this card is the
  base model's licence for the weights; using this model must also respect the terms of the data
  it was trained on. `agnews_run/predictions.parquet` holds AG News test texts under the same terms."""


def _files_section(repo_id: str) -> str:
    listing = ", ".join(f"`{name}`" for name in RUN_FILES)
    return f"""## Files

The model is at the root of this repository. `{RUN_SUBFOLDER}/` holds the rest of the agnews run
that produced it: {listing} (the last three only when the run has embeddings and maps). With them
the agnews app shows predictions, errors and the embedding map without recomputing anything:
`Run.from_hub("{repo_id}")`, or `python app.py --hub {repo_id}`."""


def build_model_card(run: Run, repo_id: str) -> ModelCard:
    """The model card for `run` as it will appear at `repo_id`; every number comes from the run's files."""
    body = "\n\n".join(
        [
            f"# {repo_id.split('/')[-1]}",
            "A classifier of English news into the four AG News topics (World, Sports, Business, "
            "Sci/Tech), fine-tuned and evaluated with agnews.",
            _results_section(run),
            _usage_section(repo_id),
            _training_section(run),
            _limitations_section(),
            _files_section(repo_id),
        ]
    )
    return ModelCard(f"---\n{card_data(run, repo_id).to_yaml()}\n---\n\n{body}\n")


# --------------------------------------------------------------------------------------------------
# The upload folder
# --------------------------------------------------------------------------------------------------


def upload_files(run: Run) -> dict[str, Path]:
    """Path in the repository -> file of the run, for everything but the card."""
    files = {p.name: p for p in sorted(run.model_path.iterdir()) if p.is_file()}
    for name in RUN_FILES:
        if (run.path / name).is_file():
            files[f"{RUN_SUBFOLDER}/{name}"] = run.path / name
    return files


def _link_or_copy(source: Path, target: Path) -> None:
    """Symlink (no bytes copied); copy where the system refuses symlinks (Windows without rights)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.symlink_to(source.absolute())
    except OSError:
        shutil.copy2(source, target)


def _fill_upload_folder(run: Run, repo_id: str, folder: Path, *, link: bool) -> None:
    for path_in_repo, source in upload_files(run).items():
        target = folder / path_in_repo
        if link:
            _link_or_copy(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    build_model_card(run, repo_id).save(folder / CARD)


def _check_repo_id(repo_id: str) -> None:
    """Checked before any work: a push needs a full USER/NAME id (the card's snippet names it)."""
    with _hub_errors(repo_id, PUSH_OFFLINE_HINT):
        validate_repo_id(repo_id)
    if "/" not in repo_id:
        raise HubError(f"{repo_id!r}: give the namespace too, as USER/NAME (or ORG/NAME)")


def save_upload_folder(run_path: str | Path, out_dir: str | Path, *, repo_id: str) -> Path:
    """Write exactly what `push_run` would upload to `out_dir` (`agnews push --dry-run`).

    The folder is complete on its own (files are copied, not linked), so it can be inspected, loaded
    with `pipeline(model=out_dir)` or `load_run_from_folder`, or uploaded later by any means.
    """
    _check_repo_id(repo_id)
    run = Run.load(run_path)
    out = Path(out_dir).expanduser()
    if out.exists():
        raise RunError(f"{out}: already exists; choose another --out")
    with run_files.building_run(out) as tmp:
        _fill_upload_folder(run, repo_id, tmp, link=False)
    return out.resolve()


# --------------------------------------------------------------------------------------------------
# Push and pull
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _hub_errors(repo_id: str, offline_hint: str) -> Iterator[None]:
    """Turn huggingface_hub's network, auth and lookup failures into a HubError that says what to do.

    Server messages are passed on (they never contain the token); request headers never are.
    """
    try:
        yield
    except OfflineModeIsEnabled as exc:
        raise HubError(
            f"offline mode is on (HF_HUB_OFFLINE), so the Hub is not contacted; unset it, {offline_hint}"
        ) from exc
    except LocalEntryNotFoundError as exc:
        cause = (
            "offline mode is on (HF_HUB_OFFLINE)"
            if constants.is_offline_mode()
            else "the Hub cannot be reached"
        )
        raise HubError(
            f"{repo_id} is not in the local Hugging Face cache and {cause}; connect to the internet, "
            f"{offline_hint}"
        ) from exc
    except HFValidationError as exc:
        raise HubError(f"{repo_id!r} is not a valid repo id ({exc}); use USER/NAME") from exc
    except httpx2.TransportError as exc:
        raise HubError(
            f"cannot reach the Hub at {constants.ENDPOINT} ({type(exc).__name__}: {exc}); "
            f"check the connection, {offline_hint}"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise HubError(
            f"{repo_id}: no such repository, or it is private or gated and this login has no access; "
            f"check the id, or {LOGIN_HINT}"
        ) from exc
    except RevisionNotFoundError as exc:
        raise HubError(f"{repo_id}: no such revision ({exc.server_message or exc})") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        detail = exc.server_message or str(exc).partition("\n")[0]
        if status == 401:
            raise HubError(f"the Hub rejected the token (HTTP 401: {detail}); {LOGIN_HINT}") from exc
        if status == 403:
            raise HubError(
                f"no write access to {repo_id} (HTTP 403: {detail}); use a namespace you own and a "
                "token with write permission"
            ) from exc
        raise HubError(f"the Hub answered HTTP {status} for {repo_id}: {detail}") from exc


def _resolve_token(token: str | None) -> str:
    """The caller's token, else HF_TOKEN, else the stored Hub login; a HubError when there is none."""
    resolved = token or get_token()
    if not resolved:
        raise HubError(f"not logged in to the Hugging Face Hub; {LOGIN_HINT}")
    return resolved


def push_run(run_path: str | Path, repo_id: str, private: bool = False, token: str | None = None) -> str:
    """Create `repo_id` if needed and upload the run with one `upload_folder`; return the repo's URL.

    The repository then mirrors this run: remote files the run does not have (an older run's map,
    say) are deleted in the same upload, so analysis files of two runs never sit side by side.
    `private` only applies when the repository is created; an existing one keeps its visibility.
    """
    _check_repo_id(repo_id)
    run = Run.load(run_path)
    secret = _resolve_token(token)
    api = HfApi()
    with tempfile.TemporaryDirectory(prefix="agnews-push-") as staging:
        _fill_upload_folder(run, repo_id, Path(staging), link=True)
        with _hub_errors(repo_id, PUSH_OFFLINE_HINT):
            repo_url = api.create_repo(repo_id, token=secret, private=private, exist_ok=True)
            api.upload_folder(
                repo_id=repo_id,
                folder_path=staging,
                token=secret,
                commit_message=f"Upload agnews run {run.name}",
                delete_patterns="*",
            )
    return str(repo_url)


def default_cache_dir() -> Path:
    """Where pulled runs are assembled: beside huggingface_hub's cache, which holds the bytes."""
    return Path(constants.HF_HOME) / "agnews" / "runs"


def load_run_from_folder(
    folder: str | Path, *, name: str | None = None, cache_dir: str | Path | None = None
) -> Run:
    """Load an upload folder (a Hub snapshot or a `--dry-run` folder) as a Run.

    A run directory of symlinks is (re)built under `cache_dir`, in a subfolder keyed by the upload
    folder's location, and called `name` (default: the folder's name), which the app shows as
    `Run.name`. Rebuilding each time is cheap and never leaves links to files that have since
    changed or gone.
    """
    folder = Path(folder).expanduser().absolute()
    run_part = folder / RUN_SUBFOLDER
    if not run_part.is_dir():
        raise RunError(f"{run_part}: missing; not a folder written by `agnews push`")
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    target = Path(cache_dir or default_cache_dir()).expanduser() / digest / (name or folder.name)
    with run_files.building_run(target, overwrite=True) as tmp:
        for source in run_part.iterdir():
            if source.is_file():
                _link_or_copy(source, tmp / source.name)
        for source in folder.iterdir():
            if source.is_file() and source.name != CARD and not source.name.startswith("."):
                _link_or_copy(source, tmp / run_files.MODEL_DIR / source.name)
    return Run.load(target)


def load_run_from_hub(
    repo_id: str, revision: str | None = None, *, cache_dir: str | Path | None = None
) -> Run:
    """Download a run pushed with `push_run` into the Hugging Face cache and load it.

    snapshot_download reuses what the cache already holds and, with HF_HUB_OFFLINE=1, loads the cached
    snapshot without contacting the Hub. Private repositories need a login (HF_TOKEN or `hf auth login`).
    """
    with _hub_errors(repo_id, PULL_OFFLINE_HINT):
        snapshot = snapshot_download(repo_id, revision=revision)
    return load_run_from_folder(snapshot, name=repo_id.split("/")[-1], cache_dir=cache_dir)
