"""The package's shape: imports only go down the layers (import-linter), no module imports itself back
through others (no cycles), and an analysis is named only in its own folder."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
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


# The modules allowed to name an analysis outside its folder: the one list, and the one map of the
# names older agnews gave.
NAMING_MODULES = {Path("agnews/analyses/__init__.py"), Path("agnews/rundir/renames.py")}


def string_literals(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, value) of every string constant in `tree`, the constant pieces of f-strings included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_an_analysis_is_named_only_in_its_own_folder() -> None:
    """Its name, its parts' and its stages' (snake_case or hyphenated) are string literals nowhere
    else but the list and the rename map: whatever else needs them gets them from the declaration."""
    from agnews.analyses import ANALYSES
    from agnews.rundir.declarations import hyphenated
    from agnews.rundir.parts import PartFamily

    sources = [ROOT / "app.py", *sorted((ROOT / "agnews").rglob("*.py"))]
    found = []
    for analysis in ANALYSES:
        own = [analysis.name, *(p.prefix if isinstance(p, PartFamily) else p.name for p in analysis.parts)]
        own += [stage.name for stage in analysis.stages]
        names = {form for name in own for form in (name, hyphenated(name))}
        folder = ROOT / "agnews" / "analyses" / analysis.name
        for source in sources:
            if source.is_relative_to(folder) or source.relative_to(ROOT) in NAMING_MODULES:
                continue
            for line, value in string_literals(ast.parse(source.read_text(), str(source))):
                if value in names:
                    found.append(f"{source.relative_to(ROOT)}:{line}: {value!r}")
    assert found == []
