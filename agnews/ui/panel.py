"""The one shape of an analysis tab: its notice (not in this run / being built / its stage failed),
then its content, filled from the run the first time the tab is opened.

Every analysis tab shows parts made by stages (`agnews.rundir.catalog`). When it says that it has
none of them is decided here, for all tabs alike, from the run as it is when the tab is opened; the
words (the stage failed, with its message and the command that makes it again; it is being built;
the run never had it, with the command that adds it) are `agnews.present.notices`', which the static
report shares. A tab keeps only its layout and its fill function.

The content is laid out whether or not the app's run has the parts: a page may show another run
(`?run=NAME`), whose notice and content follow that run (`agnews.ui.run_state.PageRuns.refresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio.components import Component

from agnews.present.notices import failures, stages_notice
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened
from agnews.ui.page import TabPage


class Panel:
    """An analysis tab's notice, laid out first in the tab, then its content (`with panel.content:`),
    shown for the run the page shows; register the content's fill with `fill_when_opened`.

    `parts`: what the tab shows (it fills once the run has any of them); `what`: how the notices
    name it ("calibration report"); `key`: the tab's id, for element ids and the API name of its
    opening (`KEY_open`, with dashes as underscores). Laid out for the app's run, where `page.coming`
    (a background `agnews analyze` is making the parts) makes their absence "being built" rather
    than "not available"; a page on another run gets that run's notice and content (`page.refresh`),
    and no analyze of this app makes that run's parts.
    """

    def __init__(self, page: TabPage, parts: Sequence[str], *, what: str, key: str) -> None:
        run = page.run
        self.page = page
        self.parts = tuple(parts)
        self.stages = tuple(dict.fromkeys(run.catalog.maker(part).name for part in self.parts))
        self.what = what
        self.key = key
        present = self.present(run)
        self.status = gr.Markdown(
            "" if present else stages_notice(run, self.stages, what, coming=page.coming),
            visible=not present,
            elem_id=f"{key}-status",
        )
        # Laid out whatever the app's run has: a page may show another run that has the parts.
        self.content = gr.Column(visible=present or page.coming, elem_id=f"{key}-content")
        page.refresh(self.shown_for, [self.status, self.content])

    def present(self, run: Run) -> bool:
        """Whether `run` has any of the parts the tab shows."""
        return any(run.has(part) for part in self.parts)

    def shown_for(self, run: Run) -> dict[Any, Any]:
        """The notice and the content's visibility for a page on `run`, another run than the app's."""
        present = self.present(run)
        notice = "" if present else stages_notice(run, self.stages, self.what, coming=False)
        return {
            self.status: gr.update(value=notice, visible=not present),
            self.content: gr.update(visible=present),
        }

    def fill_when_opened(
        self, fill: Callable[[Run], dict[Component, Any]], outputs: Sequence[Component]
    ) -> None:
        """On the first opening of the tab that finds one of the parts in the page's run, hide the
        notice, show the content and set `outputs` to `fill(run)`; an opening that finds the stage
        failed shows why instead."""

        def opened(run: Run) -> dict[Any, Any] | None:
            if not self.present(run):
                if not failures(run, self.stages):  # still coming, or never made: the notice stands
                    return None  # and the next opening looks again
                notice = stages_notice(run, self.stages, self.what, coming=False)
                return {
                    self.status: gr.update(value=notice, visible=True),
                    self.content: gr.update(visible=False),
                }
            return {
                self.status: gr.update(value="", visible=False),
                self.content: gr.update(visible=True),
                **fill(run),
            }

        name = f"{self.key.replace('-', '_')}_open"
        outputs = [self.status, self.content, *outputs]
        fill_when_opened(self.page.tab, opened, outputs, current=self.page.current, name=name)
