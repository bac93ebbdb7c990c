#!/usr/bin/env bash
# GPU throughput check for issue 7, item 2: the fast training recipe against the stock recipe, same card.
#
# Why a shell wrapper: the GPU machines are bare (a Python with torch, transformers and numpy only), and
# the numbers are worth nothing without the card, driver and library versions printed next to them.
# Runs from any directory; extra arguments go to gpu_train.py (e.g. --archs distilbert, --rows 4096).
# Results: a table on stdout and, when $OUT is set, $OUT/gpu_bench.json. Exits non-zero on any failure.
#
#     bash bench/gpu.sh                 # on the GPU machine; COMPILE=0 skips the torch.compile row
#     PYTHON=.venv/bin/python bash bench/gpu.sh --dry-run   # the CPU rehearsal
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"

# Offline and quiet: nothing is downloaded; transformers' advisory warnings would bury the table.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false
# Variable-length batches fragment the caching allocator; expandable segments avoid the waste.
export PYTORCH_CUDA_ALLOC_CONF="${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}"
export PYTHONUNBUFFERED=1

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || true
else
    echo "nvidia-smi not found"
fi
"$PYTHON" - <<'PY'
import platform

import numpy
import torch
import transformers

print(f"python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
      f"transformers {transformers.__version__}, numpy {numpy.__version__}")
if torch.cuda.is_available():
    print(f"device {torch.cuda.get_device_name()}, capability {torch.cuda.get_device_capability()}, "
          f"bf16 {torch.cuda.is_bf16_supported()}")
else:
    print("no CUDA device visible to torch")
PY

# --compile is measured, not assumed: it appears as its own row, and a compile failure is recorded
# in the table rather than losing the eager numbers. COMPILE=0 leaves it out (saves the compile time).
args=("$@")
if [[ "${COMPILE:-1}" == 1 && " ${args[*]-} " != *" --dry-run "* ]]; then
    args=(--compile ${args[@]+"${args[@]}"})
fi
exec "$PYTHON" bench/gpu_train.py ${args[@]+"${args[@]}"}
