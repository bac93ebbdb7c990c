"""What a section of the HTML report and of the model card is made of: shared by the report's frame
(`agnews.present.report`), the model card (`agnews.hub.card`) and each analysis's own sections.

Everything from a run is escaped: Markdown is rendered with raw HTML off, tables with escaping on.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.graph_objects as go
from markdown_it import MarkdownIt

from agnews.formatting import DASH

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML in a text is escaped


def markdown_section(text: str) -> str:
    return _MARKDOWN.render(text)


def table_html(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, na_rep=DASH, border=0)


def figure_html(figure: go.Figure, key: str) -> str:
    """The figure as a div and the script that draws it; `key` names the div (plotly's default is a
    random id, which would make two reports of one run differ, and a push re-upload the same run)."""
    return figure.to_html(
        full_html=False, include_plotlyjs=False, div_id=f"figure-{key}", config={"displaylogo": False}
    )


def section(title: str, *body: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>\n" + "\n".join(body) + "</section>\n"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "---:") -> str:
    """A Markdown table: the first column left-aligned, the others aligned by `align`.

    huggingface_hub has no Markdown table helper (`huggingface_hub.utils.tabulate` lays out plain
    text for a terminal), and transformers' `modelcard.make_markdown_table` imports torch and
    centres every column; this one is all the card needs.
    """

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join(
        [line(header), "|---|" + "|".join([align] * (len(header) - 1)) + "|", *(line(row) for row in rows)]
    )
