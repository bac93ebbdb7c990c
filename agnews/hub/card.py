"""The model card of a pushed run.

The text is the Jinja template `card_template.md`, rendered by `huggingface_hub.ModelCard.from_template`
(as huggingface/setfit renders its cards). This module only gathers what the template shows from the
run's typed parts: the YAML metadata (`card_data`, with the test metrics as `model-index` results),
numbers, names and the Markdown tables. Every number on the card comes from the run's files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from agnews.config import HUB_DATASET_ID
from agnews.hub.layout import RUN_SUBFOLDER, run_files
from agnews.labels import LABELS
from agnews.models import MINILM_ALIAS
from agnews.rundir import Run
from agnews.rundir.parts import Interval, Robustness
from agnews.split_weights import SPLIT_MODELS

TEMPLATE = Path(__file__).with_name("card_template.md")
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
FULL_SPLIT_ROWS = {"train": 120_000, "test": 7_600}
HYPERPARAMETERS = (
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
    "augment",
    "augment_copies",
)


def hub_base_model(base_model: str) -> str | None:
    """The base model's Hub id for the card, or None when it was a local folder.

    The Hub validates `base_model` against its own ids, and a local path (which may name a home
    folder) has no business in a public card.
    """
    if base_model == MINILM_ALIAS:
        return MINILM_HUB_ID
    if base_model in SPLIT_MODELS:
        return SPLIT_MODELS[base_model].hub_id
    if base_model.startswith((".", "/", "~")) or Path(base_model).expanduser().exists():
        return None
    try:
        validate_repo_id(base_model)
    except HFValidationError:
        return None
    return base_model


def card_data(run: Run, repo_id: str) -> ModelCardData:
    """The card's YAML metadata: what the Hub indexes (base model, dataset, licence, test metrics)."""
    test = run.metrics.test
    full = FULL_SPLIT_ROWS["test"]
    # Part of the metric's name, so that the Hub's results table says when they cover a subset.
    subset = "" if test.rows >= full else f" ({test.rows:,} of {full:,} test rows)"

    def result(metric: str, value: float, name: str, args: dict[str, str] | None = None) -> EvalResult:
        return EvalResult(
            task_type="text-classification",
            task_name="Text Classification",
            dataset_type=HUB_DATASET_ID,
            dataset_name="AG News",
            dataset_split="test",
            metric_type=metric,
            metric_value=value,
            metric_name=name + subset,
            metric_args=args,
        )

    return ModelCardData(
        base_model=hub_base_model(run.config.train.base_model),
        datasets=[HUB_DATASET_ID],
        language="en",
        library_name="transformers",
        license="apache-2.0",
        pipeline_tag="text-classification",
        tags=["text-classification", "topic-classification", "news", "ag-news", "agnews"],
        metrics=["accuracy", "f1"],
        model_name=repo_id.split("/")[-1],
        eval_results=[
            result("accuracy", test.accuracy, "Accuracy"),
            result("f1", test.f1_weighted, "Weighted F1", {"average": "weighted"}),
            result("f1", test.f1_macro, "Macro F1", {"average": "macro"}),
        ],
    )


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "---:") -> str:
    """A Markdown table: the first column left-aligned, the others aligned by `align`.

    huggingface_hub has no Markdown table helper (`huggingface_hub.utils.tabulate` lays out plain
    text for a terminal), and transformers' `modelcard.make_markdown_table` imports torch and
    centres every column; this one is all the card needs.
    """

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join(
        [line(header), "|---|" + "|".join([align] * (len(header) - 1)) + "|", *(line(row) for row in rows)]
    )


def _local_name(origin: str) -> str | None:
    """A local file's (or folder's) name for the card; None for the Hub dataset or no origin.

    Only the name: a full path may name a home folder.
    """
    if not origin or origin.split(":")[0] == HUB_DATASET_ID:
        return None
    return Path(origin).name


def _slices_table(run: Run) -> str | None:
    """Accuracy per smart tag of the test rows (the `slices` part), or None without the part."""
    if run.slice_report is None:
        return None
    return markdown_table(
        ["slice", "rows", "accuracy", "95% interval"],
        [
            [s.name, s.rows, "n/a", "n/a"]
            if s.accuracy is None
            else [s.name, s.rows, f"{s.accuracy:.4f}", f"{s.low:.4f} to {s.high:.4f}"]
            for s in run.slice_report.slices
        ],
    )


def robustness_table(report: Robustness) -> str:
    """The stress tests as a Markdown table: rows applied, flipped, flip rate with its 95% Wilson
    interval, mean confidence change in percentage points (also what `agnews stress` prints)."""
    return markdown_table(
        ["test", "rows", "flipped", "flip rate (95% interval)", "mean confidence change (pts)"],
        [
            [t.name, t.rows, "n/a", "n/a", "n/a"]
            if t.flip_rate is None
            else [
                t.name,
                t.rows,
                t.flipped,
                f"{t.flip_rate:.1%} ({t.low:.1%} to {t.high:.1%})",
                f"{100 * t.mean_confidence_change:+.2f}",
            ]
            for t in report.tests
        ],
    )


def _robustness(run: Run) -> dict[str, object] | None:
    """What the card says about the behavioural stress tests (the `robustness` part), or None."""
    report = run.robustness
    if report is None:
        return None
    return {
        "selection": report.selection,
        "backend": report.backend,
        "table": robustness_table(report),
        "tests": {t.name: t.description for t in report.tests},
        "not_run": report.not_run,
    }


def _cross_domain_table(run: Run) -> str | None:
    """One line per `cross_domain/<name>` part: rows scored, mapped classes, the model's and the TF-IDF
    baseline's scores; None without any. The file is named by its part name only, not its local path."""
    if not run.cross_domain:
        return None
    return markdown_table(
        [
            "evaluation",
            "rows scored",
            "classes",
            "accuracy",
            "macro F1",
            "TF-IDF accuracy",
            "TF-IDF macro F1",
        ],
        [
            [
                f"`{name}`",
                part.metrics.rows,
                ", ".join(part.metrics.mapped_classes),
                f"{part.metrics.model.accuracy:.2%}",
                f"{part.metrics.model.f1_macro:.4f}",
                f"{part.metrics.baseline.accuracy:.2%}",
                f"{part.metrics.baseline.f1_macro:.4f}",
            ]
            for name, part in sorted(run.cross_domain.items())
        ],
    )


def _label_issues(run: Run) -> dict[str, object] | None:
    """What the card says about likely mislabelled rows (the `label_issues_*` parts, and the training
    rows a `--drop-label-issues` run left out), or None when the run has none of it."""
    test, train = run.label_issues_test, run.train_label_issues_info
    dropped = run.data_stats.label_issue_rows_dropped
    if test is None and train is None and not dropped:
        return None
    return {
        "test_flagged": int(test["flagged"].sum()) if test is not None else None,
        "test_rows": len(test) if test is not None else None,
        "train": train,
        "dropped": dropped,
    }


def _calibration(run: Run) -> dict[str, object] | None:
    """What the card says about calibration (the `calibration` part), or None without the part."""
    report = run.calibration
    if report is None:
        return None

    def cell(interval: Interval, percent: bool) -> str:
        if percent:
            return f"{interval.value:.2%} ({interval.low:.2%} to {interval.high:.2%})"
        return f"{interval.value:.4f} ({interval.low:.4f} to {interval.high:.4f})"

    names = {"ece": "ECE (15 bins)", "adaptive_ece": "adaptive ECE", "nll": "NLL", "brier": "Brier score"}
    return {
        "method": report.method,
        "reason": report.reason,
        "parameters": "; ".join(
            f"{name} {', '.join(f'{v:.3f}' for v in values)}" for name, values in report.parameters.items()
        ),
        "rows": report.rows,
        "resamples": report.bootstrap_resamples,
        "table": markdown_table(
            ["metric", "before", "after"],
            [
                [name, *(cell(getattr(side, key), "ece" in key) for side in (report.before, report.after))]
                for key, name in names.items()
            ],
        ),
        "threshold": report.review_threshold,
        "target": report.target_accuracy,
        "coverage": report.test_coverage,
        "accuracy": report.test_accuracy,
    }


def template_variables(run: Run, repo_id: str) -> dict[str, object]:
    """Everything `card_template.md` shows besides the card data's own fields."""
    test = run.metrics.test
    train = run.config.train
    data = run.config.data
    validation_accuracy = run.training.validation.get("accuracy")
    labels = test.confusion_matrix_labels or list(LABELS)
    return {
        "repo_id": repo_id,
        "model_name": repo_id.split("/")[-1],
        "base_model": hub_base_model(train.base_model),
        "labels": list(LABELS),
        "dataset_id": HUB_DATASET_ID,
        "full_train_rows": FULL_SPLIT_ROWS["train"],
        "full_test_rows": FULL_SPLIT_ROWS["test"],
        # Results: the test rows' own origin (a later `agnews evaluate --data` may have changed it).
        "test_rows": test.rows,
        "test_from_hub": run.metrics.test_origin.split(":")[0] == HUB_DATASET_ID,
        "test_file": _local_name(run.metrics.test_origin),
        "metrics_table": markdown_table(
            ["metric", "value"],
            [
                ["accuracy", f"{test.accuracy:.4f}"],
                ["weighted F1", f"{test.f1_weighted:.4f}"],
                ["macro F1", f"{test.f1_macro:.4f}"],
            ],
        ),
        "per_class_table": markdown_table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [name, f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}", c.support]
                for name, c in ((name, test.per_class[name]) for name in LABELS)
            ],
        ),
        "confusion_table": markdown_table(
            ["true \\ predicted", *labels],
            [[name, *row] for name, row in zip(labels, test.confusion_matrix, strict=True)],
        ),
        "baseline": run.baseline,
        "calibration": _calibration(run),
        "label_issues": _label_issues(run),
        "slices_table": _slices_table(run),
        "robustness": _robustness(run),
        "cross_domain_table": _cross_domain_table(run),
        # Training data
        "data_from_hub": data.source == HUB_DATASET_ID,
        "data_files": sorted({name for name in map(_local_name, data.origins.values()) if name}),
        "rows": {split: data.rows[split] for split in ("train", "validation", "test")},
        "rows_seen": data.rows["train"] + data.rows["validation"],
        "duplicates_dropped": run.data_stats.duplicates_dropped_from_train,
        "teacher": run.training.teacher,
        "tuning": run.tuning,
        "teacher_base_model": None
        if run.training.teacher is None
        else hub_base_model(run.training.teacher.base_model),
        "augment": train.augment,
        "augmented_rows": run.data_stats.augmented_training_rows,
        "hyperparameters_table": markdown_table(
            ["setting", "value"], [[name, f"`{getattr(train, name)}`"] for name in HYPERPARAMETERS], "---"
        ),
        "validation_accuracy": validation_accuracy,
        "train_seconds": run.training.seconds or None,  # 0: a legacy run that did not record it
        "device": run.training.device,
        "versions_table": markdown_table(
            ["library", "version"], [[name, f"`{v}`"] for name, v in run.config.versions.items()], "---"
        ),
        # Files
        "run_subfolder": RUN_SUBFOLDER,
        "run_files": run_files(run),
    }


def build_model_card(run: Run, repo_id: str) -> ModelCard:
    """The model card for `run` as it will appear at `repo_id`; every number comes from the run's files."""
    return ModelCard.from_template(
        card_data(run, repo_id), template_path=str(TEMPLATE), **template_variables(run, repo_id)
    )
