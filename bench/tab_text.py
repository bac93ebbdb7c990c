"""Compare what each tab of the app says, between two checkouts serving the same run (issue 31).

    .venv/bin/python bench/tab_text.py --old /tmp/agnews-base --new . --run runs/quick

Moving the analyses into `agnews/analyses/<name>/` promised no feature change: each tab's visible
text, normalised, stays the same. This script checks that on a real run. It serves the run with each
checkout's own `app.py` in turn (a child process whose working folder and `PYTHONPATH` are that
checkout, so the old page runs the old code; the script checks which `agnews` that imports), opens
the page in headless Chromium, clicks every tab in the order the page shows them, waits until the
tab has filled (the tabs fill when first opened) and reads the panel's `innerText`.

Each checkout serves its own copy of the run at the same temporary path: an app that finds default
stages missing starts `agnews analyze` on the run it shows, and that must neither change the run the
other checkout is shown nor make the two pages name different folders.

Normalising keeps one shown line per line, with runs of blanks collapsed and blank lines dropped,
and masks only what differs between two servings of the same run: the name of the temporary folder
the run is copied into (the Cross-domain tab prints the command to run on it), which is new on every
invocation of this script. Nothing else is masked: the durations a tab shows ("made in ...") are the
run's own records, the same on both pages, so a change in how they are written is a change a user
would see, and so is any change in a number from the run.

Prints one line per tab: its title, the normalised characters old/new, and "same" or the first
lines of a unified diff of the differing lines; tabs only one page has, and a different tab order,
are printed too. Exit status 1 when any tab differs.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
START_TIMEOUT_S = 240.0
TIMEOUT_MS = 60_000
# A tab counts as filled once its text has stayed the same for this long with no event pending.
SETTLE_S = 2.0
DIFF_LINES = 20
HEADER = "(page header)"
ERRORS = "(errors on the page)"

SCRATCH_PREFIX = "tab-text-"
# The copied run's folder, however a page writes it (absolute, or its last parts only).
SCRATCH = re.compile(r"\S*" + re.escape(SCRATCH_PREFIX) + r"[^/\s]+")
PANEL_TEXT = """
() => {
  const panels = [...document.querySelectorAll("[role='tabpanel']")].filter(
    (panel) => panel.offsetParent !== null && !panel.parentElement.closest("[role='tabpanel']")
  );
  return panels.map((panel) => panel.innerText).join("\\n");
}
"""
TOP_TABS = """
() => {
  const tablist = document.querySelector("[role='tablist']");
  const titles = [...tablist.querySelectorAll("[role='tab']")].map((tab) => tab.innerText.trim());
  return [...new Set(titles)];
}
"""
HEADER_TEXT = """
() => ["#run-header", "#run-status"]
  .map((selector) => document.querySelector(selector))
  .filter((element) => element !== null)
  .map((element) => element.innerText)
  .join("\\n")
"""


@dataclass(frozen=True)
class Page:
    """What one checkout's page showed: its tabs' titles in order and each tab's normalised text
    (with the header and the page's errors under their own pseudo-titles)."""

    titles: list[str]
    texts: dict[str, str]


def normalise(text: str) -> str:
    """One shown line per line, blanks collapsed, blank lines dropped, the run copy's folder masked."""
    lines = []
    for line in text.splitlines():
        line = " ".join(line.split())
        line = SCRATCH.sub("<COPY>", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def free_port() -> int:
    """A localhost port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def checkout_env(checkout: Path) -> dict[str, str]:
    """The environment a checkout's app runs in: its own package first, nothing sent out."""
    return {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "PYTHONUNBUFFERED": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "1",
    }


def check_imports(python: str, checkout: Path) -> None:
    """Fail unless `python`, run as the app will be, imports `agnews` from `checkout` itself (an
    editable install of the other checkout would otherwise win and both pages would be one code)."""
    found = subprocess.run(
        [python, "-c", "import agnews; print(agnews.__file__)"],
        cwd=checkout,
        env=checkout_env(checkout),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(checkout.resolve()):
        raise SystemExit(f"error: with PYTHONPATH={checkout}, agnews is imported from {found}")


@contextmanager
def served(python: str, checkout: Path, run: Path, log: Path) -> Iterator[str]:
    """`checkout`'s app.py serving `run` on a free port until the block ends: its address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [python, "app.py", "--run", str(run), "--port", str(port)],
            cwd=checkout,
            env=checkout_env(checkout),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its background analyze, if it starts one, is stopped with it
        )
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        stop(process)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once `url` answers; fail with the app's log if it exits or does not come up in time."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"error: the app exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise SystemExit(f"error: the app did not answer at {url} in {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Interrupt the app's process group (the app stops its background analyze), then kill it."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def settled_text(page, script: str) -> str:
    """`script`'s text once no event is pending and the text has not changed for SETTLE_S.

    Gradio shows a running event's elapsed seconds in its status tracker, inside the panel: the text
    is read only while no tracker shows, so that counter never reaches the comparison.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    text, since = None, time.monotonic()
    while time.monotonic() < deadline:
        page.locator("[data-testid='status-tracker']:not(.hide)").first.wait_for(state="detached")
        now = page.evaluate(script)
        if now != text:
            text, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLE_S:
            return text
        time.sleep(0.5)
    raise SystemExit(f"error: the page's text kept changing for {TIMEOUT_MS // 1000} s")


def read_page(url: str) -> Page:
    """Open `url`, click every tab in turn and read each one's normalised text (and the header's).

    The page's JavaScript errors and Gradio's error toasts are kept as one more text: a tab that
    fails to fill on both pages would otherwise read the same on both.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(f"JavaScript: {error}"))
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            page.get_by_role("tab").first.wait_for(state="visible")
            titles = page.evaluate(TOP_TABS)
            texts = {HEADER: normalise(settled_text(page, HEADER_TEXT))}
            for title in titles:
                page.get_by_role("tab", name=title, exact=True).first.click()
                texts[title] = normalise(settled_text(page, PANEL_TEXT))
            errors += page.locator("[data-testid='toast-body']").all_inner_texts()
            texts[ERRORS] = normalise("\n".join(errors))
        finally:
            browser.close()
    return Page(titles, texts)


def serve_and_read(python: str, checkout: Path, run: Path, scratch: Path) -> Page:
    """`checkout`'s page on a fresh copy of `run` at `scratch/<run name>`, read tab by tab."""
    check_imports(python, checkout)
    copy = scratch / run.name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(run, copy, symlinks=True)
    log = scratch / f"{checkout.name}.app.log"
    try:
        with served(python, checkout, copy, log) as url:
            page = read_page(url)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    for line in log.read_text().splitlines():
        if "in the background" in line or line.startswith(("note:", "warning:", "error:")):
            print(f"{checkout.name} app: {line}")
    return page


def write_texts(page: Page, folder: Path) -> None:
    """Each tab's normalised text as `folder/NN-<title>.txt`, NN its place on the page (0: header)."""
    folder.mkdir(parents=True, exist_ok=True)
    for place, (title, text) in enumerate(page.texts.items()):
        name = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        (folder / f"{place:02d}-{name}.txt").write_text(text + "\n")


def compare(old: Page, new: Page) -> list[str]:
    """One line per tab (and a diff under each that differs), plus tab order and missing tabs."""
    lines = []
    if old.titles != new.titles:
        lines.append(f"tab order differs:\n  old: {' | '.join(old.titles)}\n  new: {' | '.join(new.titles)}")
    titles = [HEADER, *old.titles, *(t for t in new.titles if t not in old.titles), ERRORS]
    width = max(len(title) for title in titles)
    for title in titles:
        before, after = old.texts.get(title), new.texts.get(title)
        if before is None or after is None:
            lines.append(f"{title:<{width}}  only in the {'new' if before is None else 'old'} page")
            continue
        counts = f"{len(before):>6}/{len(after):<6}"
        if before == after:
            lines.append(f"{title:<{width}}  {counts} same")
            continue
        diff = [
            line
            for line in difflib.unified_diff(
                before.splitlines(), after.splitlines(), "old", "new", n=0, lineterm=""
            )
            if not line.startswith(("---", "+++", "@@"))
        ]
        lines.append(f"{title:<{width}}  {counts} differs ({len(diff)} lines):")
        lines.extend(f"    {line}" for line in diff[:DIFF_LINES])
        if len(diff) > DIFF_LINES:
            lines.append(f"    ... {len(diff) - DIFF_LINES} more")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="Checkout before the change.")
    parser.add_argument("--new", type=Path, required=True, help="Checkout after the change.")
    parser.add_argument("--run", type=Path, required=True, help="Run directory both apps serve.")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="Python with both checkouts' dependencies (default: this one).",
    )
    parser.add_argument(
        "--texts",
        type=Path,
        help="Also write each page's normalised text, one file per tab, under TEXTS/old and TEXTS/new.",
    )
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    if not args.run.is_dir():
        print(f"error: no run directory at {args.run}", file=sys.stderr)
        return 2
    run = args.run.resolve()
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX) as folder:
        scratch = Path(folder)
        old = serve_and_read(args.python, args.old.resolve(), run, scratch)
        new = serve_and_read(args.python, args.new.resolve(), run, scratch)
    if args.texts is not None:
        write_texts(old, args.texts / "old")
        write_texts(new, args.texts / "new")
    print(f"tab text, old {args.old} vs new {args.new}, run {args.run} (characters old/new, normalised)")
    lines = compare(old, new)
    print("\n".join(lines))
    return 0 if old.titles == new.titles and old.texts == new.texts else 1


if __name__ == "__main__":
    sys.exit(main())
