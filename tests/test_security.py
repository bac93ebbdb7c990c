"""Security properties, asserted: safetensors only, no remote code, no pickles in or out of a run."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agnews.rundir.files import RunError, pickle_files
from agnews.rundir.run import Run

PACKAGE = Path(__file__).resolve().parents[1] / "agnews"
SOURCES = sorted(PACKAGE.rglob("*.py"))
TOKENIZER_LOADERS = {"AutoTokenizer"}


def _from_pretrained_calls() -> list[tuple[Path, ast.Call]]:
    calls = []
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "from_pretrained":
                calls.append((source, node))
    return calls


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def test_every_load_refuses_remote_code_and_model_loads_require_safetensors() -> None:
    calls = _from_pretrained_calls()
    assert calls, "expected from_pretrained calls in the package"
    for source, call in calls:
        where = f"{source.name}:{call.lineno}"
        assert _keyword(call, "trust_remote_code") is False, f"{where} must pass trust_remote_code=False"
        loader = getattr(call.func.value, "id", "")
        if loader not in TOKENIZER_LOADERS:
            assert _keyword(call, "use_safetensors") is True, f"{where} must pass use_safetensors=True"


UNPICKLING_RULES = "S102,S301,S302,S307,S506,TID251"


def _ruff(*paths: Path) -> subprocess.CompletedProcess[str]:
    ruff = Path(sys.executable).parent / "ruff"
    command = [str(ruff), "check", "--no-cache", "--select", UNPICKLING_RULES, *map(str, paths)]
    return subprocess.run(command, cwd=PACKAGE.parent, capture_output=True, text=True)


def test_package_never_unpickles(tmp_path: Path) -> None:
    """ruff's security rules and the project's banned APIs (pyproject.toml) find no unpickling."""
    assert _ruff(PACKAGE).returncode == 0, _ruff(PACKAGE).stdout
    planted = tmp_path / "planted.py"
    planted.write_text("import pickle\nimport torch\n\npickle.loads(b'')\ntorch.load('x.pt')\n")
    found = _ruff(planted).stdout
    assert "S301" in found and "TID251" in found and "torch.load" in found


def test_a_run_holds_no_pickle_and_one_with_a_planted_pickle_is_refused(
    synthetic_run: Path, tmp_path: Path
) -> None:
    assert pickle_files(synthetic_run) == []
    for file in synthetic_run.rglob("*"):
        if file.is_file():
            head = file.read_bytes()[:2]
            assert head != b"\x80\x04" and head != b"\x80\x05", f"{file} looks like a pickle"
    planted = tmp_path / "planted"
    shutil.copytree(synthetic_run, planted)
    (planted / "model" / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(RunError, match=r"pickle-format files \(model/pytorch_model\.bin\)"):
        Run.load(planted)
