#!/usr/bin/env python3
"""Run-length reference tables from ml_dtypes, for the C exhaustive test.

Every table maps every input bit pattern of a conversion (all 2^32 FP32
patterns, all 2^16 BF16 or FP16 patterns, all 256 FP8 codes) to the bit
pattern ml_dtypes produces. Outputs are piecewise constant in the input bits,
so the table is stored as runs: a line "start value" (hex) begins each run.

    python3 tests/mldtypes_ref.py OUT.rle

The committed tests/ref/mldtypes.rle is this script's output; `make test`
regenerates it and compares, so a new ml_dtypes that changes an answer shows
up as a difference rather than passing silently.
"""
import sys

import ml_dtypes
import numpy as np
from rle import write_tables

CHUNK = 1 << 26


def runs_of(values, start_input, prev):
    """Run starts (input index) and values where `values` changes."""
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = [start_input + int(i) for i in change]
    vals = [int(values[i]) for i in change]
    if prev is None or int(values[0]) != prev:
        starts.insert(0, start_input)
        vals.insert(0, int(values[0]))
    return starts, vals


def table_f32(dtype):
    """All 2^32 FP32 bit patterns through astype(dtype), as runs."""
    starts, vals, prev = [], [], None
    for base in range(0, 1 << 32, CHUNK):
        u = np.arange(base, base + CHUNK, dtype=np.uint64).astype(np.uint32)
        out = u.view(np.float32).astype(dtype).view(np.uint8)
        s, v = runs_of(out, base, prev)
        starts += s
        vals += v
        prev = int(out[-1])
    return starts, vals


def table_small(in_bits, in_view, out_dtype, out_view):
    u = np.arange(1 << in_bits, dtype=np.uint32).astype(
        {8: np.uint8, 16: np.uint16}[in_bits])
    out = u.view(in_view).astype(out_dtype).view(out_view)
    return runs_of(out, 0, None)


def main():
    np.seterr(all="ignore")  # NaN and overflow casts are the point here
    out_path = sys.argv[1]
    e4, e5 = ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2
    bf16, e8 = ml_dtypes.bfloat16, ml_dtypes.float8_e8m0fnu
    tables = [
        ("f32_to_e4m3fn", 32, lambda: table_f32(e4)),
        ("f32_to_e5m2", 32, lambda: table_f32(e5)),
        ("bf16_to_e4m3fn", 16, lambda: table_small(16, bf16, e4, np.uint8)),
        ("bf16_to_e5m2", 16, lambda: table_small(16, bf16, e5, np.uint8)),
        ("f16_to_e4m3fn", 16, lambda: table_small(16, np.float16, e4, np.uint8)),
        ("f16_to_e5m2", 16, lambda: table_small(16, np.float16, e5, np.uint8)),
        ("e4m3fn_to_f32", 8, lambda: table_small(8, e4, np.float32, np.uint32)),
        ("e5m2_to_f32", 8, lambda: table_small(8, e5, np.float32, np.uint32)),
        ("e4m3fn_to_bf16", 8, lambda: table_small(8, e4, bf16, np.uint16)),
        ("e5m2_to_bf16", 8, lambda: table_small(8, e5, bf16, np.uint16)),
        ("e4m3fn_to_f16", 8, lambda: table_small(8, e4, np.float16, np.uint16)),
        ("e5m2_to_f16", 8, lambda: table_small(8, e5, np.float16, np.uint16)),
        ("e8m0fnu_to_f32", 8, lambda: table_small(8, e8, np.float32, np.uint32)),
    ]
    write_tables(out_path, ["fp8kit run-length reference from ml_dtypes %s, numpy %s"
                            % (ml_dtypes.__version__, np.__version__),
                            "regenerate: python3 tests/mldtypes_ref.py tests/ref/mldtypes.rle"], tables)

if __name__ == "__main__":
    main()
