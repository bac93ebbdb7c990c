"""How fast a box selection on the Map answers: from releasing the mouse to the table listing the
selected points, in headless Chromium, as a table.

    .venv/bin/python bench/map_selection.py --run runs/quick [--points 500] [--repeats 3]

The box is drawn around the `--points` test rows nearest the map's middle (a square in the map's
own coordinates, converted to pixels by Plotly's axes), with Plotly's Box Select tool and the mouse,
as a person would; the time runs from the mouse's release to the line above the table naming the
selection. Median of `--repeats` selections, taking turns between that box and one of the same
size elsewhere (so that every selection changes the line). The server runs in this process
(docs/screenshots.py's `serve`), on this machine's cores. Not a test: timings depend on the machine
and on what else runs on it.
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


def box_around(points, wanted: int, quantile: float) -> tuple[float, float, float, float, int]:
    """A square in map coordinates holding about `wanted` points, around the point at `quantile` of
    both coordinates: its corners and how many points it holds."""
    x, y = points["finetuned_x"].to_numpy(), points["finetuned_y"].to_numpy()
    cx, cy = float(np.quantile(x, quantile)), float(np.quantile(y, quantile))
    reach = np.maximum(np.abs(x - cx), np.abs(y - cy))
    half = float(np.sort(reach)[min(wanted, len(reach)) - 1]) + 1e-6
    inside = int((reach <= half).sum())
    return cx - half, cy - half, cx + half, cy + half, inside


def main(argv: list[str] | None = None) -> int:
    import screenshots
    from machine import cpu_name

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
    # Two boxes of the wanted size in different places, taken in turns: each selection replaces the
    # last (a drag that starts inside a selection would move it) and changes the line the clock waits for.
    boxes = [box_around(points, args.points, 0.5), box_around(points, args.points, 0.3)]
    seconds: list[float] = []
    with screenshots.serve(run) as url, screenshots.browser_page() as (page, page_errors):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(url)
        screenshots.open_tab(page, "Map", "#map-plot .js-plotly-plot")
        page.locator("#map-plot .modebar-btn[data-title='Box Select']").click()
        page.evaluate("document.querySelector('#map-plot').scrollIntoView({block: 'start'})")
        line = page.locator("#map-selection")
        shown = line.inner_text().strip()
        sizes = []
        for turn in range(args.repeats):
            x0, y0, x1, y1, _ = boxes[turn % 2]
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
            page.mouse.move(corners[0], corners[1])
            page.mouse.down()
            page.mouse.move(corners[2], corners[3], steps=6)
            started = time.perf_counter()
            page.mouse.up()
            page.wait_for_function(  # the new line drawn, and no event of the page still running
                "(before) => { const t = document.querySelector('#map-selection').innerText.trim();"
                " const busy = document.querySelector(\"[data-testid='status-tracker']:not(.hide)\");"
                " return !busy && t !== before && t.includes('points selected'); }",
                arg=shown,
                polling="raf",
            )
            seconds.append(time.perf_counter() - started)
            shown = line.inner_text().strip()
            sizes.append(int(shown.split(" points selected")[0].split()[-1]))
        selected = shown
    print(f"CPU: {cpu_name()}; run {args.run}; {len(points)} map points")
    print("| points in the box | repeats | median s (mouse up -> table) | max s |\n|---|---|---|---|")
    median, slowest = statistics.median(seconds), max(seconds)
    print(f"| {statistics.median(sizes):.0f} | {len(seconds)} | {median:.3f} | {slowest:.3f} |")
    print(f"last line: {selected}")
    if page_errors:
        print("page errors:", page_errors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
