"""What the robustness part holds: `robustness.json`, one line per behavioural test."""

from __future__ import annotations

from dataclasses import dataclass

from agnews.rundir.declarations import ENGLISH, NEWS, Applies
from agnews.rundir.parts import Count, JsonFile, Part, Rate

# Test rows perturbed unless told otherwise (`agnews robustness RUN --rows N|all`): enough for a flip
# rate of a few percent to have a 95% interval about a point either side, few enough for a CPU.
DEFAULT_ROWS = 1000

# Where each behavioural test (`agnews.training.perturb.PERTURBATIONS`, by name) can say something;
# a test not named applies to any text. The agency markers are wire copy's ("(Reuters) - "), a
# meaningful edit of news only; the typos swap ASCII letters by an English keyboard's layout and the
# name swap draws from a list of English first names. A test left out records its reason in the
# part (`Robustness.not_run`), which the tab, the Overview card and the report show.
TEST_APPLIES: dict[str, Applies] = {
    "agency_added": Applies(domains=(NEWS,)),
    "agency_removed": Applies(domains=(NEWS,)),
    "typos": Applies(languages=(ENGLISH,)),
    "name_swap": Applies(languages=(ENGLISH,)),
}


@dataclass(frozen=True)
class RobustnessSettings:
    """How the robustness stage runs: `rows` test rows perturbed, stratified by label (None: all)."""

    rows: int | None = DEFAULT_ROWS


@dataclass
class FlippedExample:
    """A test row whose prediction a perturbation changed: both texts, both predictions (class names)
    and the confidence of each (the probability of its own predicted class)."""

    row_id: int
    label: str
    text: str
    perturbed: str
    pred_before: str
    pred_after: str
    confidence_before: float
    confidence_after: float


@dataclass
class FlipResult:
    """One behavioural test on the chosen test rows.

    `rows`: the rows it applied to (changed); `flipped`: those whose predicted class changed, with
    `flip_rate` = flipped / rows and its 95% Wilson interval (None where no row applied).
    `mean_confidence_change`: over the applied rows, the mean of (probability of the class predicted
    for the original text, given the perturbed text) minus (that probability given the original):
    negative where the perturbation shakes the model even when it does not flip it.
    `examples`: up to a few dozen flipped rows, the largest drop in that probability first.
    """

    name: str
    description: str
    rows: Count
    flipped: Count
    flip_rate: Rate | None
    low: Rate | None
    high: Rate | None
    mean_confidence_change: float | None
    examples: list[FlippedExample]


@dataclass
class Robustness:
    """`robustness.json`: behavioural stress tests (CheckList-style invariance) on test rows.

    Every perturbation keeps a text's topic, so the class should not change. The originals are
    predicted again in the same pass as the perturbed texts (same model, same settings), not read
    from the predictions part, so a flip is the perturbation's doing alone. `not_run` names the
    tests left out for this run and why: casing where the tokenizer is uncased, a test that does not
    apply to the run's kind of text (`TEST_APPLIES`), a test that changed none of the chosen rows.
    """

    rows: int
    rows_requested: int | None  # None: every test row was asked for
    selection: str
    seed: int
    backend: str
    tokenizer_cased: bool
    tests: list[FlipResult]
    not_run: dict[str, str]
    seconds: float
    # The tests whose invariance the run's `--augment` trained for (the others are held out); None:
    # trained without augmentation.
    trained_for: list[str] | None = None
    schema_version: int = 1

    def most_flipping(self) -> FlipResult | None:
        """The applied test with the highest flip rate (what the Overview judges and the Robustness
        tab opens on); None when no test applied."""
        applied = [t for t in self.tests if t.flip_rate is not None]
        return max(applied, key=lambda t: t.flip_rate or 0.0) if applied else None


# The part: one JSON file, read and checked against `Robustness`.
PART: Part[Robustness] = Part("robustness", ("robustness.json",), False, (JsonFile(Robustness),))
