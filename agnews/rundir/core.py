"""The core of a run: the parts every run has or may have whatever analyses it gets (config, model,
training log, data stats, predictions, metrics, serving graphs, embeddings, ...) and the stages that
make them. The analyses add theirs (`agnews.analyses`); `agnews.rundir.catalog` puts both together.

Parts that belong to analyses not yet in a folder of their own are declared here too, until they move.
"""

from __future__ import annotations

from agnews.rundir.declarations import Stage
from agnews.rundir.parts import (
    BASELINE,
    CONFIG,
    DATA_STATS,
    EMBEDDINGS,
    METRICS,
    MODEL_DIR,
    PREDICTION_COLUMNS,
    PREDICTIONS,
    SERVING_ONNX,
    SERVING_ONNX_INT8,
    TEACHER_LOGITS,
    TEACHER_LOGITS_FILE,
    TRAINING,
    Baseline,
    DataStats,
    EmbeddingsFile,
    IntactFile,
    JsonFile,
    Metrics,
    ModelFolder,
    Part,
    PartFamily,
    RunConfig,
    TableFile,
    Training,
    predictions_valid,
)

CORE_PARTS: tuple[Part | PartFamily, ...] = (
    Part("config", (CONFIG,), True, (JsonFile(RunConfig),)),
    Part("model", (MODEL_DIR,), True, (ModelFolder(),)),
    Part("training", (TRAINING,), True, (JsonFile(Training),)),
    Part("data_stats", (DATA_STATS,), True, (JsonFile(DataStats),)),
    Part(
        "predictions",
        (PREDICTIONS,),
        True,
        (TableFile(PREDICTION_COLUMNS),),
        schema_version=2,
        check=predictions_valid,
    ),
    Part("metrics", (METRICS,), True, (JsonFile(Metrics),)),
    Part("serving", (SERVING_ONNX, SERVING_ONNX_INT8), False, (IntactFile(), IntactFile())),
    Part("embeddings", (EMBEDDINGS,), False, (EmbeddingsFile(),)),
    Part("baseline", (BASELINE,), False, (JsonFile(Baseline),)),
    PartFamily(TEACHER_LOGITS, (TEACHER_LOGITS_FILE,), (TableFile(("text_hash", "logit_0", "logit_1")),)),
)

# In the order they are declared; `Stage.order` says where a default one runs among all of them.
CORE_STAGES: tuple[Stage, ...] = (
    Stage(
        "train",
        ("config", "model", "training", "data_stats"),
        (),
        "model",
        "fine-tune the base model",
        command="agnews train",
    ),
    Stage(
        "evaluate",
        ("predictions", "metrics"),
        ("model", "config"),
        "test predictions",
        "test predictions and metrics",
        function="agnews.training.evaluate:evaluate_stage",
    ),
    Stage(
        "export",
        ("serving",),
        ("model",),
        "ONNX serving graphs",
        "ONNX serving graphs (fp32, int8)",
        function="agnews.training.onnx_export:export_stage",
        default=True,
        order=40,
    ),
    Stage(
        "embed",
        ("embeddings", "baseline"),
        ("model", "config", "predictions"),
        "embeddings and frozen-feature baseline",
        "base and fine-tuned [CLS] vectors, frozen-feature baseline",
        function="agnews.training.embed:embed_stage",
        default=True,
        order=50,
    ),
    Stage(
        "distill",
        ("teacher_logits",),
        ("model",),
        "teacher logits",
        "a teacher's logits for a student's training texts",
        command="agnews train --teacher",
    ),
)
