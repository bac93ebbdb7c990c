"""The toy analysis's stage: reads the predictions through the context, writes its part in one call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toy_analysis.numeric import word_counts
from toy_analysis.schema import PART

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def word_counts_stage(context: StageContext) -> None:
    context.staged.write(PART.name, word_counts(context.predictions()))
