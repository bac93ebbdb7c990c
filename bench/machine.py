"""The machine a bench ran on, named the same way in every table."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name and which of AVX2, AVX-512, AVX512-BF16 and AMX it has (Linux), and the
    kernels torch is capped to in this process's environment, if any ("unknown" without /proc)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    flags = next(
        (line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []
    )
    have = [flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if flag in flags]
    capped = os.environ.get("ATEN_CPU_CAPABILITY")
    return f"{name} ({' '.join(have)}){f'; torch capped to {capped}' if capped else ''}"
