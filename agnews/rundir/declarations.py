"""What a stage and an analysis are: the declarations everything else reads.

A stage reads some parts of a run and writes its own; an analysis (`agnews/analyses/<name>/`) is
one or more parts, the stages that make them, and how a person sees them: a tab on the page, a card
on the Overview, a section of the HTML report and of the model card, a command of the CLI. Each
analysis declares all of that once, in its `declaration.py`, and `agnews.analyses` lists them; the
page, the report, the card, the CLI and the runner iterate that list (`agnews.rundir.catalog`).

Declarations are torch-free and gradio-free, so that a server of a finished run learns what a run
can hold without loading the training or page code: the code a declaration names is given as an
import path ("module:attribute") and imported only where it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from agnews.dataset.description import DatasetDescription
from agnews.rundir.parts import Part, PartFamily

Value = TypeVar("Value")


def hyphenated(name: str) -> str:
    """The form of a snake_case name used where people type or read it: tab ids, CLI words."""
    return name.replace("_", "-")


@dataclass(frozen=True)
class Fact(Generic[Value]):
    """Something about a run that the core uses and an analysis knows: the review threshold, say,
    which the page, the JSON route and big-file predictions mark low-confidence rows with. The core
    names the facts it asks for (`agnews.rundir.facts`); an analysis declares which it provides, so
    the core asks `run.fact(FACT)` without knowing which analysis answers."""

    name: str


@dataclass(frozen=True)
class Provides:
    """An analysis's answer to a fact: read from its part `part` by `read` ("module:attribute" of a
    `(part value) -> fact value | None`; None: the part's value is the answer)."""

    fact: Fact[Any]
    part: str
    read: str | None = None


# The language a dataset is taken to be in. A run records no language and agnews detects none, so
# every dataset is read as English: English-only parts run on all data and say that they are
# English-only (a base model that cannot read the text shows as the dataset checks' unknown-token
# warning instead).
ENGLISH = "en"
NEWS = "news"  # the `DatasetDescription.domain` of news text (AG News's): news-agency markers mean something


# What a stage left out because its analysis does not apply to the run's data records (the words
# between the stage's name and the reason): the views then say "left out", not "failed".
NOT_APPLICABLE = "does not apply to this run"


@dataclass(frozen=True)
class Applies:
    """Where an analysis, or one part of it (a behavioural test, a slice tag), can say something.

    `min_rows_per_class`: the least training rows per class it needs (k-fold out-of-fold
    probabilities need k per class); `domains`: the kinds of text it is about (the dataset's declared
    `domain`, e.g. `NEWS`), None for any; `languages`: the languages its word lists and edits are
    written for, None for any (data is taken as `ENGLISH`, see above).
    """

    min_rows_per_class: int = 1
    domains: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None

    def refusal(self, class_counts: Mapping[str, int], dataset: DatasetDescription) -> str | None:
        """Why it cannot run on `dataset` with these training rows per class (None: it can). The
        reason is what the run records and every view shows in place of a result."""
        if self.domains is not None and dataset.domain not in self.domains:
            declared = (
                f"declared {dataset.domain!r}" if dataset.domain else "not declared as any kind of text"
            )
            return (
                f"it is about {' or '.join(self.domains)} text only; the dataset {dataset.name} is {declared}"
            )
        if self.languages is not None and ENGLISH not in self.languages:
            return f"it is written for {', '.join(self.languages)} text; the data is taken as English"
        scarce = {name: n for name, n in class_counts.items() if n < self.min_rows_per_class}
        if not scarce:
            return None
        listed = ", ".join(f"{name} ({n})" for name, n in list(scarce.items())[:LISTED_CLASSES])
        more = f" and {len(scarce) - LISTED_CLASSES} more classes" if len(scarce) > LISTED_CLASSES else ""
        return (
            f"it needs at least {self.min_rows_per_class} training rows per class; {listed}{more} "
            f"{'has' if len(scarce) == 1 else 'have'} fewer"
        )

    def limits(self) -> list[str]:
        """Where it applies, in words, for the views that show it (empty: anywhere)."""
        said = []
        if self.domains is not None:
            said.append(f"{' or '.join(self.domains)} text only")
        if self.languages == (ENGLISH,):
            said.append("English text only (data is taken as English: no language is recorded)")
        elif self.languages is not None:
            said.append(f"{', '.join(self.languages)} text only")
        if self.min_rows_per_class > 1:
            said.append(f"at least {self.min_rows_per_class} training rows per class")
        return said


LISTED_CLASSES = 10  # classes a refusal names by name (a 150-class dataset may lack rows in many)


@dataclass(frozen=True)
class Stage:
    """One stage's declaration.

    `makes`: the parts it writes (for a part family, the family's prefix); `needs`: the parts it
    refuses to run without; `reads_if_present`: the parts it also reads when the run has them. Every
    part it writes is recorded as made from the needed and present read parts, and with the values
    of its analysis's settings (`Analysis.settings`) it ran with. `uses`: the facts it reads when the
    run has them (`Fact`): their parts count as read if present. `order`: where a default stage runs
    among the others, cheap ones first so the page fills quickly.
    """

    name: str
    makes: tuple[str, ...]
    needs: tuple[str, ...]
    label: str  # what the status line calls it
    help: str  # one line, for `--help` and the log
    function: str | None = None  # "module:attribute" of its `(StageContext) -> None`
    command: str | None = None  # for a stage without `function`: the command that makes its parts
    default: bool = False  # made for every run by `agnews train` and `agnews analyze`
    reads_if_present: tuple[str, ...] = ()
    uses: tuple[Fact[Any], ...] = ()
    order: int = 0
    applies: Applies = Applies()  # the data it can say something about
    # For a stage made by its own command: "module:attribute" of a `(run: Path, part: str) -> str`
    # that spells out the command making `part` again (a family member's own file and options).
    remake: str | None = None

    @property
    def runnable(self) -> bool:
        """Whether `agnews analyze --stages NAME` can run it."""
        return self.function is not None


@dataclass(frozen=True)
class Tab:
    """Where an analysis shows on the page: a tab titled `title`, placed right after the tab whose id
    is `after`, laid out by `build` ("module:attribute" of a `(agnews.ui.page.TabPage) -> Follower |
    None`: a tab that follows a live run as a background analyze completes it returns its
    `agnews.ui.live.Follower`)."""

    title: str
    after: str
    build: str


@dataclass(frozen=True)
class Command:
    """An analysis's own `agnews` command (its word: the analysis's name, hyphenated): `run`
    ("module:attribute" of a `(argv: list[str], description: str, catalog: Catalog) -> int`, given
    `help` as the description and the catalog of the CLI's analyses) parses its arguments and does it."""

    help: str
    run: str


@dataclass(frozen=True)
class Analysis:
    """One analysis, declared once.

    `name`: snake_case; its folder, its main part and stage, its tab id and CLI word (hyphenated).
    `parts` and `stages`: what it adds to a run. `settings`: the dataclass of its stages' settings
    (its defaults are what `agnews train` and `agnews analyze` use); their values are recorded
    with its parts. The presentation hooks are "module:attribute" paths:

    - `card`: `(run, coming: bool) -> agnews.present.cards.Card`, its Overview card, placed by
      `rank` (lower first); `coming` is whether a background analyze is still making its parts;
    - `report`: `(run) -> str`, its HTML report section(s), placed by `rank`;
    - `model_card`: `(run) -> str | None`, Markdown for the model card (None: nothing to say for
      this run), placed by `model_card_place`: "results" (a subsection of the results, after the
      confusion matrix), "sections" (a section of its own after the results) or "training" (under
      the hyperparameters).

    `provides`: the facts it answers (`Provides`).
    """

    name: str
    title: str
    parts: tuple[Part | PartFamily, ...]
    stages: tuple[Stage, ...]
    rank: int
    tab: Tab | None = None
    card: str | None = None
    report: str | None = None
    model_card: str | None = None
    model_card_place: str = "results"
    command: Command | None = None
    provides: tuple[Provides, ...] = ()
    settings: type[Any] | None = None

    @property
    def tab_id(self) -> str:
        return hyphenated(self.name)

    @property
    def default_stages(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages if stage.default)
