"""The model card of a pushed run.

The text is the Jinja template `card_template.md`, rendered as `huggingface_hub.ModelCard.from_template`
renders it (and huggingface/setfit its cards), strictly (`render_card`). This module only gathers
what the template shows from the run's typed parts: the YAML metadata (`card_data`, with the test
metrics as `model-index` results) and `CardVariables`, one typed field per template variable.
The template receives every number as a string written here by `agnews.formatting`, as the app
writes it, and formats none itself. Every number on the card comes from the run's files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from agnews.config import HUB_DATASET_ID
from agnews.formatting import count, number, seconds
from agnews.hub.layout import RUN_SUBFOLDER, run_files
from agnews.models import MINILM_ALIAS
from agnews.present.dataset import class_summary, dataset_title
from agnews.present.markup import literal
from agnews.present.sections import markdown_table
from agnews.present.tables import example_texts
from agnews.rundir.catalog import load_attribute
from agnews.rundir.facts import REVIEW
from agnews.rundir.parts import AppliedCorrections, Baseline, DataParallel, TeacherInfo
from agnews.rundir.run import Run
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
    """The card's YAML metadata: what the Hub indexes (base model, dataset, licence, test metrics),
    and the widget's example texts, the run's own test rows (`example_texts`). AG News runs name
    AG News and its Hub id; other data is named as its run records it, and claims no language."""
    test = run.metrics.test
    ag_news = _is_ag_news(run)
    source = run.config.data.description().source
    full = FULL_SPLIT_ROWS["test"]
    # Part of the metric's name, so that the Hub's results table says when they cover a subset.
    subset = "" if test.rows >= full or not ag_news else f" ({count(test.rows)} of {count(full)} test rows)"

    def result(metric: str, value: float, name: str, args: dict[str, str] | None = None) -> EvalResult:
        return EvalResult(
            task_type="text-classification",
            task_name="Text Classification",
            dataset_type=HUB_DATASET_ID if ag_news else source,
            dataset_name=dataset_title(run),
            dataset_split="test",
            metric_type=metric,
            metric_value=value,
            metric_name=name + subset,
            metric_args=args,
        )

    return ModelCardData(
        base_model=hub_base_model(run.config.train.base_model),
        datasets=[HUB_DATASET_ID] if ag_news else None,
        language="en" if ag_news else None,
        library_name="transformers",
        license="apache-2.0",
        pipeline_tag="text-classification",
        tags=(
            ["text-classification", "topic-classification", "news", "ag-news", "agnews"]
            if ag_news
            else ["text-classification", "agnews"]
        ),
        widget=[{"text": text} for text in example_texts(run.predictions)],
        metrics=["accuracy", "f1"],
        model_name=repo_id.split("/")[-1],
        eval_results=[
            result("accuracy", test.accuracy, "Accuracy"),
            result("f1", test.f1_weighted, "Weighted F1", {"average": "weighted"}),
            result("f1", test.f1_macro, "Macro F1", {"average": "macro"}),
        ],
    )


def _is_ag_news(run: Run) -> bool:
    """Whether the card tells AG News's story (its topics, its data terms) or a generic one."""
    return dataset_title(run) == "AG News"


def _local_name(origin: str) -> str | None:
    """A local file's (or folder's) name for the card; None for the Hub dataset or no origin.

    Only the name: a full path may name a home folder.
    """
    if not origin or origin.split(":")[0] == HUB_DATASET_ID:
        return None
    return Path(origin).name


@dataclass(frozen=True)
class CardBaseline:
    """The baseline as the card writes it (`Baseline`, its numbers written)."""

    method: str
    accuracy: str
    f1_macro: str

    @classmethod
    def of(cls, baseline: Baseline) -> CardBaseline:
        return cls(baseline.method, number(baseline.accuracy), number(baseline.f1_macro))


@dataclass(frozen=True)
class CardTeacher:
    """The teacher of a distilled run as the card writes it (`TeacherInfo`, its accuracy written)."""

    run: str
    test_accuracy: str
    temperature: float
    alpha: float

    @classmethod
    def of(cls, teacher: TeacherInfo) -> CardTeacher:
        return cls(teacher.run, number(teacher.test_accuracy), teacher.temperature, teacher.alpha)


@dataclass(frozen=True)
class CardCorrections:
    """The corrections a run was trained with as the card writes them (`AppliedCorrections`, counted)."""

    file: str
    relabelled: str
    removed: str
    kept: str

    @classmethod
    def of(cls, corrections: AppliedCorrections) -> CardCorrections:
        return cls(
            corrections.file,
            count(corrections.relabelled),
            count(corrections.removed),
            count(corrections.kept),
        )


def _count_if_any(value: int) -> str | None:
    """A count the card mentions only when there is one: None for zero, so that the template leaves
    it out (a written "0" would be true in a Jinja `if`)."""
    return count(value) if value else None


@dataclass
class CardVariables:
    """What `card_template.md` shows besides the card data's own fields: one field per template
    variable, so that a misspelt variable fails to render (`render_card` renders strictly)."""

    repo_id: str
    model_name: str
    base_model: str | None
    labels: list[str]  # the run's classes, as Markdown text (`literal`)
    ag_news: bool  # AG News's own wording (its topics, its data terms); a generic one otherwise
    dataset_name: str
    class_summary: str  # "4 classes: World, ..." as Markdown text
    example_text: str  # the usage example's input: a test text of the run (a Python string literal)
    dataset_id: str
    full_train_rows: str
    full_test_rows: str
    # Results: the test rows' own origin (a later `agnews evaluate --data` may have changed it).
    test_rows: str
    test_subset: bool  # fewer test rows than the full split
    test_from_hub: bool
    test_file: str | None
    metrics_table: str
    per_class_table: str
    confusion_table: str
    baseline: CardBaseline | None
    calibrated: bool  # the probabilities are calibrated, and the card has a section that says how
    # Each analysis's own Markdown (`Analysis.model_card`), by where the card puts it: under the
    # results, as sections after them, under the hyperparameters, before the intended use.
    result_sections: list[str]
    sections: list[str]
    training_sections: list[str]
    closing_sections: list[str]
    # Training and its data
    data_from_hub: bool
    data_files: list[str]
    rows: dict[str, str]
    rows_seen: str
    small_data: bool  # the model saw fewer rows than the full train split
    duplicates_dropped: str | None  # None: none dropped
    corrections: CardCorrections | None
    teacher: CardTeacher | None
    teacher_base_model: str | None
    augment: str | None
    augmented_rows: str | None  # None: no augmentation
    hyperparameters_table: str
    validation_accuracy: str | None
    train_seconds: str | None  # None: a legacy run that did not record it
    device: str
    data_parallel: DataParallel | None  # how the batches split over processes (None: one process)
    versions_table: str
    # Files
    run_subfolder: str
    run_files: list[str]


def _calibrated(run: Run) -> bool:
    """Whether a calibrator is folded into the model and the card shows its effect (`REVIEW`'s part)."""
    fit = run.training.calibration
    return fit is not None and fit.method != "none" and run.fact(REVIEW) is not None


def analysis_sections(run: Run, place: str) -> list[str]:
    """The Markdown sections the run's analyses add to the card at `place`, in their ranks' order."""
    ranked = sorted(
        (a for a in run.catalog.analyses if a.model_card is not None and a.model_card_place == place),
        key=lambda a: a.rank,
    )
    found = (load_attribute(str(a.model_card))(run) for a in ranked)
    return [text for text in found if text]


def template_variables(run: Run, repo_id: str) -> CardVariables:
    """Everything `card_template.md` shows besides the card data's own fields, from the run's parts."""
    test = run.metrics.test
    train = run.config.train
    data = run.config.data
    classes = list(run.classes)
    labels = [literal(name) for name in test.confusion_matrix_labels or classes]
    teacher = run.training.teacher
    corrections = run.data_stats.corrections
    validation_accuracy = run.training.validation.get("accuracy")
    rows_seen = data.rows["train"] + data.rows["validation"]
    return CardVariables(
        repo_id=repo_id,
        model_name=repo_id.split("/")[-1],
        base_model=hub_base_model(train.base_model),
        labels=[literal(name) for name in classes],
        ag_news=_is_ag_news(run),
        dataset_name=literal(dataset_title(run)),
        class_summary=literal(class_summary(classes)),
        # A Python string literal inside a code fence: a backtick written as an escape cannot end it.
        example_text=repr((example_texts(run.predictions, per_class=1) or [""])[0]).replace("`", "\\x60"),
        dataset_id=HUB_DATASET_ID,
        full_train_rows=count(FULL_SPLIT_ROWS["train"]),
        full_test_rows=count(FULL_SPLIT_ROWS["test"]),
        test_rows=count(test.rows),
        test_subset=_is_ag_news(run) and test.rows < FULL_SPLIT_ROWS["test"],
        test_from_hub=run.metrics.test_origin.split(":")[0] == HUB_DATASET_ID,
        test_file=_local_name(run.metrics.test_origin),
        metrics_table=markdown_table(
            ["metric", "value"],
            [
                ["accuracy", number(test.accuracy)],
                ["weighted F1", number(test.f1_weighted)],
                ["macro F1", number(test.f1_macro)],
            ],
        ),
        per_class_table=markdown_table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [literal(name), number(c.precision), number(c.recall), number(c.f1), c.support]
                for name, c in ((name, test.per_class[name]) for name in classes)
            ],
        ),
        confusion_table=markdown_table(
            ["true \\ predicted", *labels],
            [[name, *row] for name, row in zip(labels, test.confusion_matrix, strict=True)],
        ),
        baseline=None if run.baseline is None else CardBaseline.of(run.baseline),
        calibrated=_calibrated(run),
        closing_sections=analysis_sections(run, "limitations"),
        result_sections=analysis_sections(run, "results"),
        sections=analysis_sections(run, "sections"),
        data_from_hub=data.source == HUB_DATASET_ID,
        data_files=sorted({name for name in map(_local_name, data.origins.values()) if name}),
        rows={split: count(data.rows[split]) for split in ("train", "validation", "test")},
        rows_seen=count(rows_seen),
        small_data=_is_ag_news(run) and rows_seen < FULL_SPLIT_ROWS["train"],
        duplicates_dropped=_count_if_any(run.data_stats.duplicates_dropped_from_train),
        corrections=None if corrections is None else CardCorrections.of(corrections),
        teacher=None if teacher is None else CardTeacher.of(teacher),
        teacher_base_model=None if teacher is None else hub_base_model(teacher.base_model),
        training_sections=analysis_sections(run, "training"),
        augment=train.augment,
        augmented_rows=_count_if_any(run.data_stats.augmented_training_rows),
        hyperparameters_table=markdown_table(
            ["setting", "value"], [[name, f"`{getattr(train, name)}`"] for name in HYPERPARAMETERS], "---"
        ),
        validation_accuracy=None if validation_accuracy is None else number(validation_accuracy),
        train_seconds=seconds(run.training.seconds, 0) if run.training.seconds else None,
        device=run.training.device,
        data_parallel=run.training.data_parallel,
        versions_table=markdown_table(
            ["library", "version"], [[name, f"`{v}`"] for name, v in run.config.versions.items()], "---"
        ),
        run_subfolder=RUN_SUBFOLDER,
        run_files=run_files(run),
    )


def render_card(data: ModelCardData, variables: CardVariables, template: str | None = None) -> ModelCard:
    """The card text: `card_template.md` (or `template`) rendered with the card data and `variables`,
    as `ModelCard.from_template` renders it, but strictly: a variable the template names and
    nobody provides is an error, not an empty string."""
    import jinja2

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    compiled = environment.from_string(template if template is not None else TEMPLATE.read_text())
    values = {**data.to_dict(), **{f.name: getattr(variables, f.name) for f in fields(variables)}}
    return ModelCard(compiled.render(card_data=data.to_yaml(), **values))


def build_model_card(run: Run, repo_id: str) -> ModelCard:
    """The model card for `run` as it will appear at `repo_id`; every number comes from the run's files."""
    return render_card(card_data(run, repo_id), template_variables(run, repo_id))
