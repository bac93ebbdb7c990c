#!/usr/bin/env bash
# The product's training path on a GPU (issue "Speed where users are", part 5): `fine_tune` with the
# stock Trainer recipe against the fast one, on a random DistilBERT and synthetic AG-News-shaped rows.
#
# Runs from any directory with the repository on PYTHONPATH (the GPU machines have no agnews install).
# Prints the card and library versions, then the table; when $OUT is set, $OUT/gpu_product.json.
# Extra arguments go to gpu_product.py; COMPILE=0 leaves out the torch_compile row.
#
#     bash bench/gpu_product.sh --tokenizer .whl/tokenizer --deadline-s 200   # on the GPU machine
#     PYTHON=.venv/bin/python bash bench/gpu_product.sh --dry-run              # the CPU rehearsal
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
export TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export PYTORCH_CUDA_ALLOC_CONF="${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}"

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv || true
fi
args=("$@")
if [[ "${COMPILE:-1}" == 1 && " ${args[*]-} " != *" --dry-run "* ]]; then
    args=(--compile ${args[@]+"${args[@]}"})
fi
exec "$PYTHON" bench/gpu_product.py ${args[@]+"${args[@]}"}
