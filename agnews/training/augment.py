"""Training-time augmentation: extra training texts made by label-preserving edits (`--augment`).

The families mirror the behavioural stress tests (`agnews.training.perturb`), so training can teach
the invariances the robustness stage measures, but with **their own word lists**: agency names, prefixes,
boilerplate sentences and first names that the stress tests never use. A flip rate measured after
training on these lists is then a test of generalising the invariance, not of having seen the test's
exact words. One family the stress tests do not have, `eda` (Wei and Zou's "easy data augmentation":
two words swapped, or words deleted), adds noise of another shape.

    typos        the stress tests' typo mechanism (keyboard neighbours, swaps, drops; no word list)
    agency       an agency marker from TRAIN_AGENCY_TAGS put first, or the text's own marker removed
    prefix       a prefix from TRAIN_PREFIXES
    boilerplate  a sentence from TRAIN_BOILERPLATE at the end
    names        first names (of either list) swapped for names of augment_names.txt, none of which
                 the stress tests swap in
    eda          two words swapped, or about one word in ten deleted (at least one)

Each training row gets `augment_copies` variants, each from a family drawn (seeded per row) among
the chosen ones that change the row. Variants keep their row's label and are added to the rows the
Trainer sees only: the run's training split, its hashes and every analysis stay those of the source
rows, and validation and test are never augmented.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources

from agnews.text import AGENCY_MARKER
from agnews.training.perturb import first_names, remove_agency, replace_names, row_rng, typos

TRAIN_AGENCY_TAGS = ("(Bloomberg) - ", "(UPI) - ", "(Xinhua) - ", "(dpa) - ", "CP - ")
TRAIN_PREFIXES = ("Exclusive:", "Analysis:", "Developing:", "Just in:", "Report:")
TRAIN_BOILERPLATE = (
    "Follow us for more updates.",
    "Read more on our website.",
    "Comments are closed for this story.",
    "This story has been updated.",
)
NAMES_FILE = "augment_names.txt"
EDA_DELETE_RATE = 0.1
_WORD = re.compile(r"\S+")


@cache
def train_names() -> tuple[str, ...]:
    """The first names augmentation swaps (`augment_names.txt`): none of them in the stress tests'
    list, which a test checks."""
    text = resources.files(__package__).joinpath(NAMES_FILE).read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


@cache
def _any_name_pattern() -> re.Pattern[str]:
    """A first name of either list: news texts mostly carry common names, which only the stress
    tests' list has, so recognising only the training list would leave almost nothing to swap."""
    known = dict.fromkeys([*train_names(), *first_names()])
    return re.compile(r"\b(?:" + "|".join(map(re.escape, known)) + r")\b")


def agency(text: str, rng: random.Random) -> str | None:
    """Remove the text's agency marker (with its dash), or put a training-list marker first."""
    if AGENCY_MARKER.search(text):
        return remove_agency(text, rng)
    return rng.choice(TRAIN_AGENCY_TAGS) + text


def prefix(text: str, rng: random.Random) -> str | None:
    return f"{rng.choice(TRAIN_PREFIXES)} {text}"


def boilerplate(text: str, rng: random.Random) -> str | None:
    return f"{text} {rng.choice(TRAIN_BOILERPLATE)}"


def names(text: str, rng: random.Random) -> str | None:
    """Each first name in the text swapped for a name of the training list (`replace_names`, as the
    stress test swaps). The names put in are never the stress tests' own, which stay held out."""
    return replace_names(text, rng, _any_name_pattern(), train_names())


def eda(text: str, rng: random.Random) -> str | None:
    """Two words swapped, or about one word in ten deleted (at least one, never all)."""
    words = _WORD.findall(text)
    if len(words) < 3:
        return None
    if rng.random() < 0.5:
        i, j = rng.sample(range(len(words)), 2)
        words[i], words[j] = words[j], words[i]
        return " ".join(words)
    count = max(1, round(len(words) * EDA_DELETE_RATE))
    dropped = set(rng.sample(range(len(words)), count))
    return " ".join(word for k, word in enumerate(words) if k not in dropped)


FAMILIES: dict[str, Callable[[str, random.Random], str | None]] = {
    "typos": typos,
    "agency": agency,
    "prefix": prefix,
    "boilerplate": boilerplate,
    "names": names,
    "eda": eda,
}
# The stress tests each family teaches invariance to (`agnews.training.perturb.PERTURBATIONS` names);
# the others are held out: a flip rate there measures transfer, not training.
STRESS_TESTS_TAUGHT = {
    "typos": ("typos",),
    "agency": ("agency_added", "agency_removed"),
    "prefix": ("neutral_prefix",),
    "boilerplate": ("boilerplate_suffix",),
    "names": ("name_swap",),
    "eda": (),
}


class AugmentError(ValueError):
    """An `--augment` setting that names no known family."""


def parse_families(setting: str) -> tuple[str, ...]:
    """`--augment` as family names: "all", or a comma-separated list of FAMILIES' names."""
    if setting.strip() == "all":
        return tuple(FAMILIES)
    chosen = tuple(dict.fromkeys(name.strip() for name in setting.split(",") if name.strip()))
    unknown = [name for name in chosen if name not in FAMILIES]
    if unknown or not chosen:
        raise AugmentError(f"--augment {setting!r}: choose 'all' or some of {', '.join(FAMILIES)}")
    return chosen


def augment_rows(
    texts: Sequence[str],
    labels: Sequence[int],
    families: Sequence[str],
    *,
    copies: int,
    seed: int,
) -> tuple[list[str], list[int], dict[str, int]]:
    """The variants of each row (up to `copies`, each from a family drawn among those that change the
    row, seeded per row and copy), their labels, and how many each family made."""
    new_texts, new_labels = [], []
    made = dict.fromkeys(families, 0)
    for row, (text, label) in enumerate(zip(texts, labels, strict=True)):
        for copy in range(copies):
            rng = row_rng(seed, f"augment/{copy}", row)
            for family in rng.sample(list(families), len(families)):
                variant = FAMILIES[family](text, rng)
                if variant and variant != text:
                    new_texts.append(variant)
                    new_labels.append(int(label))
                    made[family] += 1
                    break
    return new_texts, new_labels, made


def stress_tests_taught(families: Sequence[str]) -> set[str]:
    """The stress tests whose invariance `families` train for."""
    return {test for family in families for test in STRESS_TESTS_TAUGHT[family]}
