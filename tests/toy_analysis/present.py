"""How the toy part reads on the Overview, in the report and on the model card."""

from __future__ import annotations

from agnews.formatting import number
from agnews.present.cards import INFO, Card, absent_card
from agnews.present.notices import part_notice
from agnews.present.sections import markdown_section, section
from agnews.rundir.run import Run
from toy_analysis.schema import PART, WordCounts

TITLE = "Word counts"


def headline(counts: WordCounts) -> str:
    return f"Test texts have {number(counts.mean_words, digits=1)} words on average ({counts.rows} rows)."


def card(run: Run, coming: bool) -> Card:
    counts = run.get(PART)
    if counts is None:
        return absent_card(run, PART.name, TITLE, PART.name, "word counts", "word-counts", coming)
    return Card(
        PART.name, TITLE, headline(counts), INFO, "words split on spaces", "word-counts", "Open words"
    )


def report_section(run: Run) -> str:
    counts = run.get(PART)
    text = part_notice(run, PART.name, "word counts") if counts is None else headline(counts)
    return section(TITLE, markdown_section(text))


def model_card_section(run: Run) -> str | None:
    counts = run.get(PART)
    return None if counts is None else f"### {TITLE}\n\n{headline(counts)}"
