#!/usr/bin/env python3
"""Run-length reference tables from PyTorch, in the format of
tests/mldtypes_ref.py, for the conversions PyTorch has: FP32, BF16 and FP16
to float8_e4m3fn / float8_e5m2 (tensor.to(dtype), non-saturating), and back.

    python3 tests/torch_ref.py OUT.rle      (needs torch; uses the GPU if present)

PyTorch's conversion is c10's software code on both CPU and GPU; the GPU
only makes the 2^32-input sweep fast.
"""
import sys

import torch
from rle import write_tables


def runs(out, base, prev):
    change = (out[1:] != out[:-1]).nonzero().flatten() + 1
    starts = [base + int(i) for i in change.tolist()]
    vals = [int(v) for v in out[change].tolist()]
    if prev is None or int(out[0]) != prev:
        starts.insert(0, base)
        vals.insert(0, int(out[0]))
    return starts, vals


def as_unsigned(t, bits):
    return t.view({8: torch.uint8, 16: torch.int16, 32: torch.int32}[bits]).to(torch.int64) & ((1 << bits) - 1)


def table_f32(dtype, dev):
    starts, vals, prev, chunk = [], [], None, 1 << 28
    for base in range(0, 1 << 32, chunk):
        u = torch.arange(base, base + chunk, dtype=torch.int64, device=dev)
        u = torch.where(u >= 1 << 31, u - (1 << 32), u).to(torch.int32)
        out = as_unsigned(u.view(torch.float32).to(dtype), 8)
        s, v = runs(out, base, prev)
        starts += s
        vals += v
        prev = int(out[-1])
    return starts, vals


def table_small(in_bits, in_dtype, out_dtype, out_bits, dev):
    u = torch.arange(1 << in_bits, dtype=torch.int64, device=dev)
    if in_bits == 16:
        u = torch.where(u >= 1 << 15, u - (1 << 16), u).to(torch.int16)
    else:
        u = u.to(torch.uint8)
    out = as_unsigned(u.view(in_dtype).to(out_dtype), out_bits)
    return runs(out, 0, None)


def main():
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    e4, e5 = torch.float8_e4m3fn, torch.float8_e5m2
    f32, bf16, f16 = torch.float32, torch.bfloat16, torch.float16
    tables = [
        ("f32_to_e4m3fn", 32, lambda: table_f32(e4, dev)),
        ("f32_to_e5m2", 32, lambda: table_f32(e5, dev)),
        ("bf16_to_e4m3fn", 16, lambda: table_small(16, bf16, e4, 8, dev)),
        ("bf16_to_e5m2", 16, lambda: table_small(16, bf16, e5, 8, dev)),
        ("f16_to_e4m3fn", 16, lambda: table_small(16, f16, e4, 8, dev)),
        ("f16_to_e5m2", 16, lambda: table_small(16, f16, e5, 8, dev)),
        ("e4m3fn_to_f32", 8, lambda: table_small(8, e4, f32, 32, dev)),
        ("e5m2_to_f32", 8, lambda: table_small(8, e5, f32, 32, dev)),
        ("e4m3fn_to_bf16", 8, lambda: table_small(8, e4, bf16, 16, dev)),
        ("e5m2_to_bf16", 8, lambda: table_small(8, e5, bf16, 16, dev)),
        ("e4m3fn_to_f16", 8, lambda: table_small(8, e4, f16, 16, dev)),
        ("e5m2_to_f16", 8, lambda: table_small(8, e5, f16, 16, dev)),
    ]
    out_path = sys.argv[1]
    write_tables(out_path, ["fp8kit run-length reference from torch %s on %s" % (torch.__version__, dev)], tables)

if __name__ == "__main__":
    main()
