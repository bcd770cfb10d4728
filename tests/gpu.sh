#!/bin/sh
# GPU tests: run when a GPU is present (CI has none: it builds the CUDA code
# and this group says SKIPPED). Prints ok/FAIL/SKIPPED lines.
set -u
B=${BUILD:-build}
if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "SKIPPED gpu: no GPU on this machine (the CUDA code was built; run make test on a GPU machine)"
    exit 0
fi
fail=0
"$B/gpu_codec" || fail=1
"$B/gemm" --check || fail=1
"$B/quant" --check || fail=1
# PyTorch's conversions, regenerated where torch is installed, must equal the
# committed tables that the CPU tests compare the codec with.
if python3 -c 'import torch' 2>/dev/null; then
    python3 tests/torch_ref.py "$B/torch.rle" && sh tests/same_tables.sh tests/ref/torch.rle "$B/torch.rle" || fail=1
else
    echo "SKIPPED torch tables: PyTorch not installed here"
fi
exit $fail
