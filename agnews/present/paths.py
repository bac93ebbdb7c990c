"""How a page or a report names a file: relative to the runs folder, never by its server path.

A public page shows what the app says to everyone who opens it; an absolute path tells them the
server's layout (a home folder, a user name, where uploads are kept, the decisions folder). Every
path a page or report shows goes through `shown_path`, and every message that may carry one (a
run's warnings, an error, a failed stage's message) through `shown_text`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# An absolute path inside a message: a "/" that does not continue a word, a number, a URL or
# another path, up to the next blank, quote or bracket. One greedy class and a fixed lookbehind:
# linear in the message's length.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/[^\s`'\"<>()\[\]{},;]+")


def shown_path(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """`path` as a page names it: relative to the folder `root` and led by that folder's own name
    (`runs/quick/metrics.json` for a `root` of `/srv/app/runs`); a path outside `root` by its file
    name alone. Nothing is read from the disk besides resolving `root`'s links."""
    plain = Path(os.path.normpath(path))
    top = Path(os.path.normpath(root))
    for base in dict.fromkeys((top, top.resolve())):
        if plain.is_relative_to(base):
            return (Path(base.name) / plain.relative_to(base)).as_posix()
    return plain.name


def shown_text(message: str, root: str | os.PathLike[str] | None = None) -> str:
    """`message` with every absolute path in it written as `shown_path` writes it (without a
    `root`: by its file name alone)."""

    def shown(found: re.Match[str]) -> str:
        return shown_path(found[0], root) if root is not None else Path(found[0]).name

    return _ABSOLUTE_PATH.sub(shown, message)


def model_name(base_model: str) -> str:
    """A run's base model as a page names it: a Hub id ("org/name") or a preset's name as given, a
    local folder (absolute, or from "." or "~") by its own name, not the server path it was read from."""
    local = base_model.startswith(("/", ".", "~"))
    return Path(base_model).name if local else base_model
