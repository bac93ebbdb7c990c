"""The neighbours stage: the fine-tuned [CLS] vectors of the run's training rows.

Its own stage, apart from the test rows' vectors (`agnews.training.embed`), so that a run gets the
tab's training rows without paying for them at every evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agnews.analyses.neighbours.schema import KEY, PART
from agnews.serving.map_index import unit_rows
from agnews.text import text_hash

if TYPE_CHECKING:
    from agnews.training.context import StageContext


def neighbours_stage(context: StageContext) -> None:
    """The fine-tuned [CLS] vectors of the run's training rows, where the Neighbours tab looks for the
    rows nearest a test row or a typed text.

    In fp32, as the test rows' vectors (the evaluation pass) and the app's typed text are, so that the
    three compare in one space. Stored unit length: the only use is cosine similarity.
    """
    train = context.data().splits["train"]
    texts = list(train["text"])
    vectors = context.infer(texts, "fine-tuned [CLS], training rows").cls
    rows = pd.DataFrame(
        {
            "text_hash": [text_hash(text) for text in texts],
            "text": texts,
            "label": np.asarray(train["label"], dtype=np.int64),
        }
    )
    context.staged.write(PART.name, rows, {KEY: unit_rows(vectors).astype(np.float16)})
