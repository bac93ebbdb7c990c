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
