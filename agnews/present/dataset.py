"""How the page, the report and the model card name a run's dataset and its classes: one wording,
plain text (class names are the user's: each caller escapes for where it writes, `literal` for
Markdown, `html.escape` for HTML)."""

from __future__ import annotations

from collections.abc import Sequence

from agnews.dataset.ag_news import AG_NEWS
from agnews.formatting import count
from agnews.rundir.run import Run

# Classes named in a header before the rest are counted: a line that still reads at a glance.
NAMED_CLASSES = 12


def dataset_title(run: Run) -> str:
    """The dataset as people call it: "AG News" for AG News (its recorded name is an identifier)."""
    name = run.config.data.description().name
    return "AG News" if name == AG_NEWS else name


def class_summary(classes: Sequence[str], named: int = NAMED_CLASSES) -> str:
    """ "4 classes: World, Sports, Business, Sci/Tech"; beyond `named` classes, the first `named` and
    how many more."""
    shown = ", ".join(classes[:named])
    more = f" … and {count(len(classes) - named)} more" if len(classes) > named else ""
    return f"{count(len(classes))} classes: {shown}{more}"


def dataset_line(run: Run) -> str:
    """ "Dataset: AG News · 4 classes: World, Sports, Business, Sci/Tech" for headers."""
    return f"Dataset: {dataset_title(run)} · {class_summary(run.classes)}"
