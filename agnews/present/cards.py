"""An Overview card: one analysis's headline, a plain judgement by a rule stated on the card, and
where its button goes. Built from a run's parts by each analysis (`Analysis.card`) and by the core
(accuracy, confusion, comparison); laid out by `agnews.ui.overview`. No Gradio here.
"""

from __future__ import annotations

from dataclasses import dataclass

from agnews.present.notices import part_notice
from agnews.rundir.run import Run

LOOK, FINE, INFO, ABSENT = "look here", "fine", "for reading", "absent"
BADGES = {LOOK: "⚠ **look here**", FINE: "✓ fine", INFO: "", ABSENT: ""}
# The Overview's reading order: what needs a look first, then numbers to read, then what is fine, then
# what the run lacks.
SEVERITY = (LOOK, INFO, FINE, ABSENT)
ANY = "any"  # the Errors tab's "no filter" (`agnews.ui.errors.ANY`)


@dataclass(frozen=True)
class Card:
    """One analysis on the Overview: its headline, the judgement and the rule behind it, and where
    its button goes: `tab`, and for the Errors tab `errors_filter` = (true class, predicted class,
    tag) to set there."""

    key: str
    title: str
    headline: str
    verdict: str  # LOOK, FINE, INFO, or ABSENT (the headline then says why)
    rule: str
    tab: str
    button: str
    errors_filter: tuple[str, str, str] | None = None

    def markdown(self) -> str:
        badge = BADGES[self.verdict]
        lines = [f"#### {self.title}" + (f" · {badge}" if badge else ""), "", self.headline]
        if self.rule and self.verdict != ABSENT:
            lines += ["", f"*Rule: {self.rule}*"]
        return "\n".join(lines)


def absent_card(run: Run, key: str, title: str, part: str, what: str, tab: str, coming: bool) -> Card:
    notice = part_notice(run, part, what, coming=coming).removeprefix("> ").replace("\n> ", "\n")
    return Card(key, title, notice, ABSENT, "", tab, f"Open {title.lower()}")


def by_severity(cards: list[Card]) -> list[Card]:
    """`cards` ordered by `SEVERITY` (stable: within one verdict, the order they came in)."""
    return sorted(cards, key=lambda card: SEVERITY.index(card.verdict))


def apart(low: float | None, high: float | None, reference_low: float, reference_high: float) -> int:
    """Whether an interval lies wholly above (1) or below (-1) a reference interval, or overlaps it (0).

    The Overview's rules judge intervals, not points: two values whose 95% intervals overlap may not
    differ at all on this many rows, so a card only says "look here" when they are apart.
    """
    if low is not None and low > reference_high:
        return 1
    if high is not None and high < reference_low:
        return -1
    return 0
