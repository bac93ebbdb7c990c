"""The one shape of an analysis tab: its notice (not in this run / being built / its stage failed),
then its content, filled from the run the first time the tab is opened.

Every analysis tab shows parts made by stages (`agnews.rundir.catalog`). When it says that it has
none of them is decided here, for all tabs alike, from the run as it is when the tab is opened; the
words (the stage failed, with its message and the command that makes it again; it is being built;
the run never had it, with the command that adds it) are `agnews.present.notices`', which the static
report shares. A tab keeps only its layout and its fill function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr
from gradio.components import Component

from agnews.present.notices import failures, stages_notice
from agnews.rundir.run import Run
from agnews.ui.lazy import fill_when_opened


class Panel:
    """An analysis tab's notice: lay it out first in the tab, then the content if `shown`, and
    register the content's fill with `fill_when_opened`.

    `parts`: what the tab shows (it fills once the run has any of them); `what`: how the notices
    name it ("calibration report"); `key`: the tab's id, for element ids and the API name of its
    opening (`KEY_open`, with dashes as underscores); `coming`: a background `agnews analyze` is
    making the parts, so their absence is "being built" rather than "not available".
    """

    def __init__(self, run: Run, parts: Sequence[str], *, what: str, key: str, coming: bool = False) -> None:
        self.parts = tuple(parts)
        self.stages = tuple(dict.fromkeys(run.catalog.maker(part).name for part in self.parts))
        self.what = what
        self.key = key
        self.coming = coming
        present = self.present(run)
        self.shown = present or coming or bool(failures(run, self.stages))
        self.status = gr.Markdown(
            "" if present else stages_notice(run, self.stages, what, coming=coming),
            visible=not present,
            elem_id=f"{key}-status",
        )

    def present(self, run: Run) -> bool:
        return any(run.has(part) for part in self.parts)

    def fill_when_opened(
        self,
        tab: gr.Tab,
        fill: Callable[[Run], dict[Component, Any]],
        outputs: Sequence[Component],
        *,
        current: Callable[[], Run],
    ) -> None:
        """On the first opening of `tab` that finds one of the parts, hide the notice and set
        `outputs` to `fill(run)`; an opening that finds the stage failed shows why instead."""

        def opened(run: Run) -> dict[Component, Any] | None:
            if not self.present(run):
                if not failures(run, self.stages):
                    return None  # still coming: the next opening looks again
                return {self.status: stages_notice(run, self.stages, self.what, coming=False)}
            return {self.status: gr.update(value="", visible=False), **fill(run)}

        name = f"{self.key.replace('-', '_')}_open"
        fill_when_opened(tab, opened, [self.status, *outputs], current=current, name=name)
