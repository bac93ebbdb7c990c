"""Regenerate the README's screenshots (docs/screenshots/*.png) of the app in headless Chromium.

    .venv/bin/python docs/screenshots.py --run runs/quick
    .venv/bin/python docs/screenshots.py --run runs/quick --out /tmp/shots
    .venv/bin/python docs/screenshots.py --run runs/quick --compare runs/quick-s1   (the Compare tab filled)
    .venv/bin/python docs/screenshots.py --run runs/quick --loop   (the loop: docs/screenshots/loop_*.png)

The run is served on localhost and Playwright drives Debian's /usr/bin/chromium through every tab the
way a person would, checking what each shows before it takes the tab's picture. tests/test_browser.py
walks the app with this same code (`serve`, `take_screenshots`) on the tests' small run and writes
its pictures to test-artifacts/; the README's come from the full quick run.

`--loop` takes the README's five pictures of the loop instead (`take_loop_screenshots`): the run is
copied into a runs folder of its own, and the page trains a new run on examples/own_data.py's tickets
with the quick preset, opens it, retrains it with its flagged training rows relabelled (one step of
decisions) and compares the two: two real trainings, minutes each on a laptop's CPU.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Before gradio is imported: no usage reports or version checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import numpy as np

from agnews.analyses.cross_domain.schema import FAMILY as CROSS_DOMAIN
from agnews.dataset.ag_news import AG_NEWS_CLASSES as LABELS
from agnews.present.glossary import tag_title
from agnews.rundir.files import RunError
from agnews.rundir.run import Run
from agnews.ui.overview import cards

if TYPE_CHECKING:
    from agnews.ui.live import LiveRun

DOCS_SHOTS = Path(__file__).resolve().parent / "screenshots"
# One PNG each, in the README's order.
SHOTS = (
    "overview",
    "classify",
    "map",
    "confusion",
    "errors",
    "neighbours",
    "calibration",
    "label_issues",
    "decision",
    "slices",
    "robustness",
    "cross_domain",
    "compare",
    "data",
    "tuning",
)
# The loop, start to finish, in the README's order (`loop_tour`).
LOOP_SHOTS = ("loop_1_upload", "loop_2_training", "loop_3_new_run", "loop_4_retrain", "loop_5_compare")
OWN_DATA = Path(__file__).resolve().parents[1] / "examples" / "own_data.py"
CHILD_MS = 120_000  # an agnews child process's start-up (the data check's, the trainer's)
TRAINING_MS = 30 * 60_000  # a quick training and every analysis after it, on a slow CPU
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HEADLINE = "Oil prices jump as OPEC agrees to cut output; shares of refiners fall on Wall Street"
SIZE = (1366, 900)
TIMEOUT_MS = 30_000
# Gradio draws a plot after its event has finished: `Plotly.react`, then `Plotly.Plots.resize`, which
# redraws on a timer. Counting the promises of both lets a screenshot wait for the last redraw itself
# rather than for a guessed delay. Gradio sets `window.Plotly` when it loads Plotly; the setter wraps
# the two functions on that object, which is the one Gradio and Plotly's own resize handler call.
PLOTLY_TRACKER = """
(() => {
  let plotly;
  window.__plotlyPending = 0;
  const track = (owner, name) => {
    const original = owner[name];
    owner[name] = function (...args) {
      const result = original.apply(this, args);
      window.__plotlyPending += 1;
      Promise.resolve(result).finally(() => { window.__plotlyPending -= 1; });
      return result;
    };
  };
  Object.defineProperty(window, "Plotly", {
    configurable: true,
    get: () => plotly,
    set: (value) => {
      plotly = value;
      track(value, "react");
      track(value.Plots, "resize");
    },
  });
})();
"""


# Resolves after two animation frames: Gradio lays out the tab bar (moving the tabs it has no room
# for into its "More tabs" menu) one frame after the bar is mounted.
TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def tab_names(page) -> list[str]:
    """Every tab's title, those in the bar and those its "More tabs" menu holds, in order."""
    page.get_by_role("tablist").first.wait_for()
    page.evaluate(TWO_FRAMES)
    in_bar = [name.strip() for name in page.get_by_role("tab").all_inner_texts()]
    in_menu = [name.strip() for name in page.locator(".overflow-dropdown > button").all_inner_texts()]
    return in_bar + [name for name in in_menu if name not in in_bar]


def click_tab(page, name: str) -> None:
    """Click a tab, in the bar or, where the bar has no room for it, in its "More tabs" menu."""
    page.get_by_role("tablist").first.wait_for()
    page.evaluate(TWO_FRAMES)
    in_menu = page.locator(".overflow-dropdown > button").filter(has_text=re.compile(f"^{re.escape(name)}$"))
    if in_menu.count():
        page.get_by_label("More tabs").click()
        in_menu.click()
    else:
        page.get_by_role("tab", name=name, exact=True).click()


def open_tab(page, name: str, ready: str) -> None:
    """Click a tab (`click_tab`) and wait until `ready` (a selector inside it) is visible."""
    click_tab(page, name)
    page.locator(ready).first.wait_for(state="visible")


def shoot(page, path: Path, at: str | None = None) -> None:
    """Screenshot once no event is pending (Gradio dims outputs while one runs) and Plotly is drawn:
    from the page's top, or with the element `at` selects at the top of the window (a tab longer
    than the window)."""
    page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
    page.wait_for_function("() => window.__plotlyPending === 0")
    if at is None:
        page.evaluate("window.scrollTo(0, 0)")
    else:
        page.locator(at).first.evaluate("(element) => element.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(path))


def tour(page, url: str, run: Run, out: Path, *, compared: bool) -> None:
    """Walk through every tab, asserting what each shows, and screenshot each as `out/<SHOT>.png`.
    `compared`: the app was started with a run to compare with (else the Compare tab has none)."""
    from playwright.sync_api import expect

    out.mkdir(parents=True, exist_ok=True)
    page.add_init_script(PLOTLY_TRACKER)
    page.set_viewport_size({"width": SIZE[0], "height": SIZE[1]})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)

    page.locator("#overview-accuracy-text").wait_for(state="visible")  # the page opens on the Overview
    shoot(page, out / "overview.png")

    open_tab(page, "Classify", "#classify-text textarea")
    page.locator("#classify-text textarea").fill(HEADLINE)
    page.locator("#classify-button").click()
    any_class = re.compile("|".join(re.escape(name) for name in LABELS))
    page.locator("#classify-label").get_by_text(any_class).first.wait_for()
    page.locator("#classify-words").get_by_text("OPEC").first.wait_for()
    page.wait_for_function(
        "() => (document.querySelector('#classify-map .js-plotly-plot')?.data ?? [])"
        ".some((trace) => trace.name === 'your text')"
    )
    page.locator("#classify-neighbours [data-testid='cell-0-0']").wait_for()
    shoot(page, out / "classify.png")

    open_tab(page, "Map", "#map-plot .js-plotly-plot")
    first = page.locator("#map-table [data-testid='cell-0-0']")
    row_id = first.inner_text().strip()
    first.click()
    page.locator("#map-details").get_by_text(f"Row {row_id}").wait_for()
    page.locator("#map-plot [data-testid='status-tracker']:not(.hide)").wait_for(state="detached")
    page.wait_for_timeout(1000)  # Plotly fades the redrawn points in
    shoot(page, out / "map.png")

    open_tab(page, "Confusion matrix", "#confusion-plot .js-plotly-plot")
    shoot(page, out / "confusion.png")
    matrix = np.asarray(run.metrics.test.confusion_matrix)
    np.fill_diagonal(matrix, -1)
    true, pred = np.unravel_index(matrix.argmax(), matrix.shape)
    page.locator(f"#confusion-cells [data-testid='cell-{true}-{pred + 1}']").click()
    opened = f"true {LABELS[true]}, predicted {LABELS[pred]}"
    expect(page.locator("#errors-count")).to_contain_text(opened, timeout=TIMEOUT_MS)
    page.locator("#errors-table [data-testid='cell-0-2']").get_by_text(LABELS[true]).wait_for()
    page.locator("#errors-table [data-testid='cell-0-0']").click()
    page.locator("#errors-details").get_by_text("wrong").wait_for()
    shoot(page, out / "errors.png")

    open_tab(page, "Neighbours", "#neighbours-table [data-testid='cell-0-0']")
    expect(page.locator("#neighbours-summary")).to_contain_text("nearest training rows")
    shoot(page, out / "neighbours.png")

    # the weakest slice's button lands on its mistakes
    weakest = next(card for card in cards(run) if card.key == "slices")
    if weakest.errors_filter is not None:
        open_tab(page, "Overview", "#overview-slices-open")
        page.locator("#overview-slices-open").click()
        tag = weakest.errors_filter[2]
        expect(page.locator("#errors-count")).to_contain_text(f"tag {tag_title(tag)}", timeout=TIMEOUT_MS)

    open_tab(page, "Calibration", "#calibration-reliability .js-plotly-plot")
    expect(page.locator("#calibration-metrics")).to_contain_text("ECE")
    expect(page.locator("#calibration-review")).to_contain_text("threshold")
    shoot(page, out / "calibration.png")

    open_tab(page, "Label issues", "#label-issues-test [data-testid='cell-0-0']")
    expect(page.locator("#label-issues-test-note")).to_contain_text("likely mislabelled")
    expect(page.locator("#label-issues-train-note")).to_contain_text("out-of-fold")
    shoot(page, out / "label_issues.png")
    suggested = decide_on_first_training_row(page, note="headline is about a merger")
    expect(page.locator("#label-issues-decisions")).to_contain_text(f"relabel → {suggested}")
    page.locator("#label-issues-decision-storage").scroll_into_view_if_needed()
    page.screenshot(path=str(out / "decision.png"))

    open_tab(page, "Slices", "#slices-plot .js-plotly-plot")
    expect(page.locator("#slices-table")).to_contain_text("all rows")
    shoot(page, out / "slices.png")

    open_tab(page, "Robustness", "#robustness-table [data-testid='cell-0-0']")
    expect(page.locator("#robustness-table")).to_contain_text("Typos")
    expect(page.locator("#robustness-explanation")).to_contain_text("flips")
    expect(page.locator("#robustness-examples-note")).to_contain_text("flipped")
    shoot(page, out / "robustness.png")

    if run.members(CROSS_DOMAIN):
        open_tab(page, "Cross-domain", "#cross-domain-plot .js-plotly-plot")
        expect(page.locator("#cross-domain-scores")).to_contain_text("TF-IDF")
    else:
        open_tab(page, "Cross-domain", "#cross-domain-missing")
    shoot(page, out / "cross_domain.png")

    if compared:
        open_tab(page, "Compare", "#compare-confusion .js-plotly-plot")
        expect(page.locator("#compare-summary")).to_contain_text("McNemar")
        first = page.locator("#compare-table [data-testid='cell-0-0']")
        row_id = first.inner_text().strip()
        first.click()
        page.locator("#compare-details").get_by_text(f"Row {row_id}").wait_for()
    else:
        open_tab(page, "Compare", "#compare-none")
    shoot(page, out / "compare.png")

    open_tab(page, "Data", ".js-plotly-plot:visible")
    expect(page.locator(".js-plotly-plot:visible")).to_have_count(2, timeout=TIMEOUT_MS)
    expect(page.locator("#dataset-checks-warnings")).to_contain_text("Dataset warnings")
    shoot(page, out / "data.png")

    open_tab(page, "Tuning", "#tuning-how, #tuning-summary")
    shoot(page, out / "tuning.png")


def decide_on_first_training_row(page, note: str = "") -> str:
    """In the open Label issues tab: relabel the first flagged training row to the class cleanlab
    suggests, with `note`; wait until the page confirms, and return the class."""
    page.locator("#label-issues-train [data-testid='cell-0-0']").click()
    suggested = page.locator("#label-issues-train [data-testid='cell-0-3']").inner_text().strip()
    page.locator("#label-issues-decision-row").get_by_text("training row").wait_for()
    page.locator("#label-issues-decision-label input").click()
    page.get_by_role("option", name=suggested, exact=True).click()
    if note:
        page.locator("#label-issues-decision-note textarea").fill(note)
    page.locator("#label-issues-decision-record").click()
    page.locator("#label-issues-decision-status").get_by_text("Recorded").wait_for()
    return suggested


def loop_tour(page, url: str, data: tuple[Path, Path], out: Path) -> None:
    """The loop as a person goes through it, on the app at `url`, each step checked and screenshot
    as `out/<LOOP_SHOT>.png`: `data` (a training and a test file) uploaded and checked on the Train
    tab; trained with the first preset offered (quick), watched; the new run opened; its flagged
    training rows relabelled to cleanlab's suggestion (the Label issues tab) and "Retrain with my
    decisions" running; the retrained run compared with the run it came from."""
    from playwright.sync_api import expect

    out.mkdir(parents=True, exist_ok=True)
    page.add_init_script(PLOTLY_TRACKER)
    page.set_viewport_size({"width": SIZE[0], "height": SIZE[1]})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.locator("#overview-accuracy-text").wait_for(state="visible")

    open_tab(page, "Train", "#train-upload-train")
    train, test = data
    # The test file first: its upload shows nothing, the training file's proposes the run's name.
    page.locator("#train-upload-test input[type=file]").set_input_files(str(test))
    page.locator("#train-upload-train input[type=file]").set_input_files(str(train))
    expect(page.locator("#train-name input, #train-name textarea")).to_have_value(train.stem)
    page.locator("#train-check").click()
    expect(page.locator("#train-check-result")).to_contain_text(
        "OK: training would read 3 classes", timeout=CHILD_MS
    )
    expect(page.locator("#train-estimate")).to_contain_text("Fine-tuning")
    shoot(page, out / "loop_1_upload.png", at="#train-from-data")

    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text(f"Training {train.stem}", timeout=CHILD_MS)
    expect(status).to_contain_text("Validation accuracy: epoch 1", timeout=TRAINING_MS)
    shoot(page, out / "loop_2_training.png")

    expect(status).to_contain_text(f"{train.stem} is trained", timeout=TRAINING_MS)
    page.locator("#train-open-link").click()
    page.wait_for_url(f"**?run={train.stem}")
    expect(page.locator("#run-header")).to_contain_text(f"run {train.stem}")
    page.locator("#overview-accuracy-text").wait_for(state="visible")
    shoot(page, out / "loop_3_new_run.png")

    open_tab(page, "Label issues", "#label-issues-train [data-testid='cell-0-0']")
    page.locator("#label-issues-train-bulk-relabel").click()
    expect(page.locator("#label-issues-decision-status")).to_contain_text(
        "Recorded: relabel to their suggestion"
    )
    open_tab(page, "Train", "#train-status")
    page.get_by_text("From data: train on a labelled dataset").click()  # folded: the retraining shows
    page.get_by_text("From decisions: retrain the shown run").click()
    expect(page.locator("#train-decisions-summary")).to_contain_text("everyone agrees on")
    page.locator("#train-retrain").click()
    retrained = f"{train.stem}-corrected"
    expect(status).to_contain_text(f"Training {retrained}", timeout=CHILD_MS)
    expect(status).to_contain_text("Validation accuracy: epoch 1", timeout=TRAINING_MS)
    shoot(page, out / "loop_4_retrain.png")

    expect(status).to_contain_text(f"{retrained} is trained", timeout=TRAINING_MS)
    page.locator("#train-open-link").click()
    page.wait_for_url(f"**?run={retrained}")
    open_tab(page, "Compare", "#compare-parent")
    page.locator("#compare-parent").click()
    page.locator("#compare-confusion .js-plotly-plot").wait_for(state="visible")
    expect(page.locator("#compare-summary")).to_contain_text("McNemar")
    expect(page.locator("#compare-scores")).to_contain_text(f"B {train.stem}")
    shoot(page, out / "loop_5_compare.png")


def write_tickets(folder: Path) -> tuple[Path, Path]:
    """examples/own_data.py's tickets, with its defaults, as `folder`/tickets.csv and tickets-test.csv
    (the page names the dataset, and proposes the run's name, after the training file)."""
    spec = importlib.util.spec_from_file_location("agnews_own_data", OWN_DATA)
    assert spec is not None and spec.loader is not None
    own_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(own_data)
    own_data.main([str(folder)])
    return (folder / "train.csv").rename(folder / "tickets.csv"), (folder / "test.csv").rename(
        folder / "tickets-test.csv"
    )


def take_loop_screenshots(run: Run, out: Path) -> list[str]:
    """The loop's five screenshots (`loop_tour`) as `out/<LOOP_SHOT>.png`, on a copy of `run` in a
    temporary runs folder (what the loop trains goes there, and is removed with it); the page's JS
    errors. A training still running when it stops (a failed step) is cancelled."""
    from agnews.ui import training_job

    with tempfile.TemporaryDirectory(prefix="agnews-loop-", ignore_cleanup_errors=True) as folder:
        root = Path(folder) / "runs"
        shutil.copytree(run.path, root / run.name)
        data = write_tickets(Path(folder) / "tickets")
        try:
            with serve(Run.load(root / run.name), runs_root=root) as url, browser_page() as (page, errors):
                loop_tour(page, url, data, out)
        finally:
            job = training_job.latest()
            if job is not None:
                job.cancel()
    return errors


@contextmanager
def browser_page() -> Iterator[tuple[Any, list[str]]]:
    """A page in headless Chromium, and the list its JavaScript errors are added to."""
    from playwright.sync_api import sync_playwright

    page_errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            yield page, page_errors
        finally:
            browser.close()


def take_screenshots(url: str, run: Run, out: Path, *, compared: bool = False) -> list[str]:
    """Tour the app at `url` in headless Chromium, writing `out/<SHOT>.png`; the page's JS errors."""
    with browser_page() as (page, page_errors):
        tour(page, url, run, out, compared=compared)
    return page_errors


@contextmanager
def serve(
    run: Run,
    live: LiveRun | None = None,
    compare_with: Run | None = None,
    *,
    may_write: bool = True,
    runs_root: Path | None = None,
    may_train: bool = True,
) -> Iterator[str]:
    """The app on `run`, as app.py builds and launches it, on a free localhost port: its address.
    With `live`, the page follows the run as its stages add parts (`agnews.ui.live`); the Compare tab
    opens on `compare_with` and offers the runs under `runs_root`, into which the Train tab trains;
    `may_write` False serves it as a public page not allowed to write, `may_train` False as one not
    allowed to train (started without `--allow-training`)."""
    from agnews.serving.predictor import Predictor
    from agnews.ui import build_app
    from agnews.ui.app import LAUNCH_LIMITS

    demo = build_app(
        run,
        Predictor.from_run(run),
        live,
        compare_with=compare_with,
        may_write=may_write,
        runs_root=runs_root,
        may_train=may_train,
    )
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **LAUNCH_LIMITS)
    try:
        yield url
    finally:
        demo.close()


def quantize(path: Path) -> None:
    """Rewrite a screenshot with a 256-colour palette: a third of the size, the same to the eye."""
    from PIL import Image

    with Image.open(path) as image:
        # Octree keeps small patches of colour (a legend's markers) that median cut folds into greys.
        palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    palette.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="Run directory to show (e.g. runs/quick).")
    parser.add_argument(
        "--out", type=Path, default=DOCS_SHOTS, help="Folder for the PNGs (default: docs/screenshots)."
    )
    parser.add_argument("--compare", type=Path, help="A run for the Compare tab to open with.")
    parser.add_argument(
        "--loop",
        action="store_true",
        help="The loop's five screenshots instead (loop_*.png): train, open, retrain with decisions, "
        "compare, on a copy of --run (two quick trainings: minutes each).",
    )
    args = parser.parse_args(argv)
    if args.loop and args.compare:
        parser.error("--loop compares the run it trains with its parent: give --compare without --loop")
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        run = Run.load(args.run)
        compare_with = Run.load(args.compare) if args.compare else None
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.loop:
        page_errors, names = take_loop_screenshots(run, args.out), LOOP_SHOTS
    else:
        # As app.py serves it: the runs beside it in the header's picker, and the Train tab.
        with serve(run, compare_with=compare_with, runs_root=run.path.parent) as url:
            page_errors = take_screenshots(url, run, args.out, compared=compare_with is not None)
        names = SHOTS
    for name in names:
        quantize(args.out / f"{name}.png")
        print(args.out / f"{name}.png")
    if page_errors:
        print("error: the page raised:\n" + "\n".join(page_errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
