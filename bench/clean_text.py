"""How `clean_text`'s time grows with the length of a hostile text, as a table.

    .venv/bin/python bench/clean_text.py [--repeats 3]

Four kinds of text, each at 2,000 to 20,000 characters: one run of whitespace between two words
(what made the old apostrophe pattern quadratic: every start position rescanned the run), a run of
unclosed tags, a run of entities with and without their ampersand, and ordinary news text. Each
figure is the median of `--repeats` calls, in milliseconds; `ratio` is the time at the longest
length over the time at the shortest. Text cleaning must be linear in its input: ten times the
text may cost about ten times the time, and a ratio over 15 (ACCEPTABLE_RATIO) fails the bench
(exit status 1). The server runs `clean_text` on every text it is sent, holding the interpreter
lock while a pattern runs, so a quadratic pattern stalls every request, not only its own.
Run it with PYTHONPATH pointing at another checkout to measure that checkout's cleaning.
Not a test: timings depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from machine import cpu_name

from agnews.text import clean_text

LENGTHS = (2_000, 5_000, 10_000, 20_000)
ACCEPTABLE_RATIO = 15.0
NEWS = "Oil prices rise as OPEC cuts output (Reuters) Reuters - Crude climbed #36;2 on Tuesday. "


def _repeated(piece: str) -> Callable[[int], str]:
    return lambda length: (piece * (length // len(piece) + 1))[:length]


KINDS: dict[str, Callable[[int], str]] = {
    "whitespace run": lambda length: "Oil" + " " * (length - 9) + "prices",
    "tag run (unclosed)": _repeated("<div class=x "),
    "entity run": _repeated("&amp;quot;#39;s #151; "),
    "ordinary text": _repeated(NEWS),
}


def median_ms(text: str, repeats: int) -> float:
    """The median time of `clean_text(text)` over `repeats` calls, in milliseconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        clean_text(text)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"CPU: {cpu_name()}; clean_text, median of {args.repeats} calls, ms")
    width = max(len(kind) for kind in KINDS) + 2
    print(f"{'text':<{width}}" + "".join(f"{length:>10,}" for length in LENGTHS) + f"{'ratio':>9}")
    failed = []
    for kind, make in KINDS.items():
        times = [median_ms(make(length), args.repeats) for length in LENGTHS]
        ratio = times[-1] / times[0]
        if ratio > ACCEPTABLE_RATIO:
            failed.append(kind)
        print(f"{kind:<{width}}" + "".join(f"{ms:>10.2f}" for ms in times) + f"{ratio:>9.1f}")
    verdict = f"over {ACCEPTABLE_RATIO:g}: {', '.join(failed)}" if failed else f"all <= {ACCEPTABLE_RATIO:g}"
    print(f"ratio = time at {LENGTHS[-1]:,} / time at {LENGTHS[0]:,} characters; {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
