"""The package's shape: imports only go down the layers (import-linter), and no module imports
itself back through others (no cycles)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_layer_contract_holds() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def _find_cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """A cycle among the package's modules, as a path that starts and ends at the same module."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported.startswith("agnews"):
                found = visit(imported, [*path, module])
                if found:
                    return found
        done.add(module)
        return None

    for module in sorted(graph.modules):
        found = visit(module, [])
        if found:
            return found
    return None


def test_no_import_cycles() -> None:
    assert _find_cycle(grimp.build_graph("agnews", cache_dir=None)) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("agnews.a", "agnews.b"), ("agnews.b", "agnews.c"), ("agnews.c", "agnews.a")):
        graph.add_import(importer=importer, imported=imported)
    assert _find_cycle(graph) == ["agnews.a", "agnews.b", "agnews.c", "agnews.a"]
