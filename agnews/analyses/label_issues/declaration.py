"""The label-issues analysis, declared once: which given labels are likely wrong, among the test rows
(from the model's own held-out probabilities) and the training rows (from a cheap classifier's
out-of-fold ones); it answers the core's facts on both, which the Errors tab, the decisions, the
training-row neighbours and the slices read."""

from __future__ import annotations

from agnews.analyses.label_issues.numeric import FOLDS
from agnews.analyses.label_issues.schema import TEST_PART, TRAIN_PART
from agnews.rundir.declarations import Analysis, Applies, Provides, Stage, Tab
from agnews.rundir.facts import TEST_LABEL_ISSUES, TRAIN_LABEL_ISSUES

_HERE = "agnews.analyses.label_issues"

LABEL_ISSUES = Analysis(
    name="label_issues",
    title="Label issues",
    parts=(TEST_PART, TRAIN_PART),
    stages=(
        Stage(
            TEST_PART.name,
            (TEST_PART.name,),
            ("predictions",),
            "test label issues",
            "likely mislabelled test rows (cleanlab on the test probabilities)",
            function=f"{_HERE}.stage:label_issues_test_stage",
            default=True,
            order=20,
        ),
        Stage(
            TRAIN_PART.name,
            (TRAIN_PART.name,),
            ("config",),
            "training label issues",
            "likely mislabelled training rows (cleanlab on out-of-fold probabilities)",
            function=f"{_HERE}.stage:label_issues_train_stage",
            default=True,
            order=80,
            applies=Applies(min_rows_per_class=FOLDS),
        ),
    ),
    rank=40,
    tab=Tab("Label issues", after="errors", build=f"{_HERE}.tab:build"),
    card=f"{_HERE}.present:card",
    report=f"{_HERE}.present:report_section",
    model_card=f"{_HERE}.present:model_card_section",
    model_card_place="limitations",
    provides=(
        Provides(TEST_LABEL_ISSUES, TEST_PART.name),
        Provides(TRAIN_LABEL_ISSUES, TRAIN_PART.name, f"{_HERE}.schema:issues_of_training_rows"),
    ),
)
