"""Clicks and box/lasso selections on a Plotly figure, carried to Python.

Gradio's `gr.Plot` reports no Plotly events. `plot_events(plot)` adds, beside a plot, a hidden
textbox that a small script (`HEAD`, launched with every server of this app) fills with each click or
selection on that plot: the points' `id`s where the figure gives its points ids (the map's row ids,
the slices' tag names), else their `x` and `y` (the heatmap's class names). Its `change` event is then
an ordinary Gradio event. The value comes from the browser, so `parse` treats it as hostile: size
capped, types checked, nothing but strings kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

# Plenty for every point of the largest map (ids are short); a longer value is refused, not parsed.
MAX_EVENT_CHARS = 2_000_000
EVENTS_SUFFIX = "-events"
EVENTS_CLASS = "agnews-plot-events"

# The script binds each `.agnews-plot-events` box to the Plotly graph inside the element whose id is
# the box's without the suffix, re-binding whenever Gradio redraws that graph into a new element.
HEAD = f"""<script>
(() => {{
  const suffix = "{EVENTS_SUFFIX}";
  let serial = 0;
  const send = (box, kind, points) => {{
    const field = box.querySelector("textarea, input");
    if (!field) return;
    const value = JSON.stringify({{kind, serial: ++serial, points}});
    const proto = Object.getPrototypeOf(field);
    Object.getOwnPropertyDescriptor(proto, "value").set.call(field, value);
    field.dispatchEvent(new Event("input", {{bubbles: true}}));
  }};
  const point = (p) => (p.id !== undefined ? {{id: String(p.id)}} : {{x: String(p.x), y: String(p.y)}});
  const bind = () => {{
    for (const box of document.querySelectorAll(".{EVENTS_CLASS}")) {{
      const plotId = box.id.slice(0, -suffix.length);
      const graph = document.querySelector(`#${{plotId}} .js-plotly-plot`);
      // Plotly gives a graph a new event emitter (`_ev`) when it redraws it from scratch.
      if (!graph || typeof graph.on !== "function" || graph.__agnewsEvents === graph._ev) continue;
      graph.on("plotly_click", (e) => send(box, "click", e.points.slice(0, 1).map(point)));
      graph.on("plotly_selected", (e) => send(box, "select", e ? e.points.map(point) : []));
      graph.on("plotly_deselect", () => send(box, "select", []));
      graph.__agnewsEvents = graph._ev;
    }}
  }};
  setInterval(bind, 400);
}})();
</script>"""


@dataclass(frozen=True)
class PlotEvent:
    """A click (one point) or a selection (any number, none when cleared) on a plot. `ids`: the
    points' ids, for figures that give them; `cells`: (x, y) of the points that have none."""

    kind: str  # "click" or "select"
    ids: tuple[str, ...]
    cells: tuple[tuple[str, str], ...]


def plot_events(plot: gr.Plot) -> gr.Textbox:
    """The hidden box that carries `plot`'s clicks and selections (`plot` must have an `elem_id`);
    listen to its `change` and read the value with `parse`."""
    if not plot.elem_id:
        raise ValueError("a plot whose events are read needs an elem_id")
    return gr.Textbox(
        visible="hidden",
        elem_id=plot.elem_id + EVENTS_SUFFIX,
        elem_classes=[EVENTS_CLASS],
        show_label=False,
        container=False,
    )


def parse(raw: str | None) -> PlotEvent | None:
    """The event in `raw` (the box's value), or None for an empty, oversized or malformed one."""
    if not raw or len(raw) > MAX_EVENT_CHARS:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("kind") not in ("click", "select"):
        return None
    points = value.get("points")
    if not isinstance(points, list):
        return None
    ids: list[str] = []
    cells: list[tuple[str, str]] = []
    for point in points:
        if not isinstance(point, dict):
            continue
        if isinstance(point.get("id"), str):
            ids.append(point["id"])
        elif isinstance(point.get("x"), str) and isinstance(point.get("y"), str):
            cells.append((point["x"], point["y"]))
    return PlotEvent(value["kind"], tuple(ids), tuple(cells))
