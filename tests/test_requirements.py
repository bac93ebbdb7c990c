"""What a Space installs (requirements.txt, pre-requirements.txt) against what development adds."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT

DEV_TOOLS = ("pytest", "ruff", "playwright", "import-linter", "nbclient", "nbformat", "ipykernel")
DEV_MODULES = ("pytest", "playwright", "importlinter", "ruff", "nbclient", "nbformat", "ipykernel")


def requirement_names(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [re.split(r"[<>=!~ @\[]", line)[0].lower() for line in lines if line and not line.startswith("-")]


def test_the_runtime_list_has_no_development_tools_and_the_dev_list_adds_them() -> None:
    runtime = requirement_names(ROOT / "requirements.txt")
    assert not set(DEV_TOOLS) & set(runtime)
    dev = ROOT / "requirements-dev.txt"
    assert "-r requirements.txt" in dev.read_text().splitlines()
    assert set(requirement_names(dev)) == set(DEV_TOOLS)


def test_the_app_and_library_import_no_development_tool() -> None:
    sources = [ROOT / "app.py", *sorted((ROOT / "agnews").rglob("*.py"))]
    pattern = re.compile(rf"^\s*(?:import|from)\s+({'|'.join(DEV_MODULES)})\b", re.MULTILINE)
    offenders = [str(path.relative_to(ROOT)) for path in sources if pattern.search(path.read_text())]
    assert offenders == []


def test_the_space_takes_the_cpu_build_of_the_pinned_torch() -> None:
    pinned = re.search(r"^torch==([\w.]+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    early = (ROOT / "pre-requirements.txt").read_text()
    assert pinned is not None
    assert f"torch=={pinned.group(1)}+cpu" in early.splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in early.splitlines()
