"""How fast a box selection on the Map answers: from releasing the mouse to the table listing the
selected points, in headless Chromium, as a table.

    .venv/bin/python bench/map_selection.py --run runs/quick [--points 500] [--repeats 3]

The box is drawn around the `--points` test rows nearest the map's centre (a square in the map's
own coordinates, converted to pixels by Plotly's axes), with Plotly's Box Select tool and the mouse,
as a person would; the time runs from the mouse's release to the line above the table naming the
selection. Median of `--repeats` selections, each after clearing the previous one. The server runs
in this process (docs/screenshots.py's `serve`), on this machine's cores. Not a test: timings
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
sys.path.insert(0, str(ROOT / "bench"))


def box_around(points, wanted: int) -> tuple[float, float, float, float, int]:
    """A square in map coordinates around the centre holding about `wanted` points: its corners and
    how many points it holds."""
    x, y = points["finetuned_x"].to_numpy(), points["finetuned_y"].to_numpy()
    cx, cy = float(np.median(x)), float(np.median(y))
    reach = np.maximum(np.abs(x - cx), np.abs(y - cy))
    half = float(np.sort(reach)[min(wanted, len(reach)) - 1]) + 1e-6
    inside = int((reach <= half).sum())
    return cx - half, cy - half, cx + half, cy + half, inside


def main(argv: list[str] | None = None) -> int:
    import screenshots
    from machine import cpu_name
    from playwright.sync_api import expect

    from agnews.present.tables import map_points
    from agnews.rundir.run import Run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--points", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    run = Run.load(args.run)
    points = map_points(run)
    if points is None:
        raise SystemExit(f"{args.run} has no map")
    x0, y0, x1, y1, inside = box_around(points, args.points)
    seconds: list[float] = []
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(url)
        screenshots.open_tab(page, "Map", "#map-plot .js-plotly-plot")
        page.locator("#map-plot .modebar-btn[data-title='Box Select']").click()
        corners = page.evaluate(
            """([x0, y0, x1, y1]) => {
                const gd = document.querySelector('#map-plot .js-plotly-plot');
                const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                const at = (x, y) => [box.left + xa.d2p(x), box.top + ya.d2p(y)];
                return [...at(x0, y1), ...at(x1, y0)];
            }""",
            [x0, y0, x1, y1],
        )
        line = page.locator("#map-selection")
        for _ in range(args.repeats):
            page.mouse.move(corners[0], corners[1])
            page.mouse.down()
            page.mouse.move(corners[2], corners[3], steps=6)
            started = time.perf_counter()
            page.mouse.up()
            expect(line).to_contain_text("points selected")
            seconds.append(time.perf_counter() - started)
            page.mouse.dblclick(corners[0] - 5, corners[1] - 5)  # clears the selection
            expect(line).not_to_contain_text("points selected")
        selected = line.inner_text()
    print(f"CPU: {cpu_name()}; run {args.run}; {len(points)} map points")
    print("| points in the box | repeats | median s (mouse up -> table) | max s |\n|---|---|---|---|")
    print(f"| {inside} | {len(seconds)} | {statistics.median(seconds):.3f} | {max(seconds):.3f} |")
    print(f"last line: {selected}")
    if page_errors:
        print("page errors:", page_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
