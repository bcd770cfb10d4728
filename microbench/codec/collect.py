#!/usr/bin/env python3
"""Time ml_dtypes' astype (and numpy's float16 cast) on the CPU, in the same
run as the Google Benchmark binaries of bench_codec.cpp, and merge everything
into one Google Benchmark JSON file:

    results/cpu/<cpu-model>/codec.json

written atomically (a temporary file, then a rename). The context is the
native build's, plus the CPU model, both builds' compiler flags, the Python
package versions and the load average before and after.

    collect.py NATIVE.json BASELINE.json OUT_ROOT [--reps N] [--min-time S]

ml_dtypes timings: one thread (numpy's casts are single-threaded), the same
sizes as the C++ binary (4096 elements: L1; 2^25: DRAM) and the same kind
of inputs (FP32 with random sign, magnitudes log-uniform over [2^-12, 2^10];
uniform random codes). Two forms: `astype` (allocates its result, as callers
write it) and `np.copyto(out, x, casting="unsafe")` into a buffer made once.
Each repetition runs for at least --min-time seconds; the median over
--reps repetitions is what the aggregates report, as Google Benchmark's do.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time

import ml_dtypes
import numpy as np

N_L1, N_DRAM = 4096, 1 << 25


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown-cpu"


def inputs(n, rng):
    mag = np.exp2(rng.uniform(-12.0, 10.0, n)).astype(np.float32)
    sign = np.where(rng.integers(0, 2, n) == 1, -1.0, 1.0).astype(np.float32)
    f32 = mag * sign
    codes = rng.integers(0, 256, n, dtype=np.uint8)
    return f32, codes


def conversions(f32, codes):
    """(name, source array, target dtype)"""
    e4, e5, bf = ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2, ml_dtypes.bfloat16
    return [
        ("f32->e4m3", f32, e4),
        ("f32->e5m2", f32, e5),
        ("bf16->e4m3", f32.astype(bf), e4),
        ("f16->e4m3", f32.astype(np.float16), e4),
        ("e4m3->f32", codes.view(e4), np.float32),
        ("e5m2->f32", codes.view(e5), np.float32),
        ("e4m3->bf16", codes.view(e4), bf),
        ("e4m3->f16", codes.view(e4), np.float16),
        ("f32->bf16", f32, bf),
        ("f32->f16 (numpy)", f32, np.float16),
    ]


def time_one(fn, min_time):
    fn()  # warm up (and fault in pages)
    iters, t0 = 0, time.perf_counter()
    while True:
        fn()
        iters += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return iters, dt


def run_mldtypes(reps, min_time):
    rng = np.random.default_rng(12345)
    entries = []
    for size_name, n in (("L1", N_L1), ("DRAM", N_DRAM)):
        f32, codes = inputs(n, rng)
        for conv, src, dt in conversions(f32, codes):
            out = np.empty(n, dtype=dt)
            impl_fns = {
                "ml_dtypes astype": lambda: src.astype(dt),
                "ml_dtypes copyto": lambda: np.copyto(out, src, casting="unsafe"),
            }
            for impl, fn in impl_fns.items():
                name = f"python/{impl}/{conv}/{size_name}"
                times = []
                for r in range(reps):
                    iters, secs = time_one(fn, min_time)
                    per = secs / iters
                    times.append(per)
                    entries.append(entry(name, "iteration", iters, per, n, src.itemsize + np.dtype(dt).itemsize, reps, r))
                for agg, fnc in (("mean", statistics.mean), ("median", statistics.median),
                                 ("stddev", lambda v: statistics.stdev(v) if len(v) > 1 else 0.0)):
                    val = fnc(times)
                    e = entry(name + "_" + agg, "aggregate", reps, val, n, src.itemsize + np.dtype(dt).itemsize, reps, None)
                    e["run_name"] = name
                    e["aggregate_name"] = agg
                    if agg == "stddev":
                        e.pop("items_per_second")
                        e.pop("bytes_per_second")
                    entries.append(e)
                print(f"  {name}: median {n / statistics.median(times) / 1e9:.3f} G items/s", file=sys.stderr)
    return entries


def entry(name, run_type, iters, secs_per_iter, n, bytes_per_item, reps, rep_index):
    e = {
        "name": name,
        "family_index": -1,
        "per_family_instance_index": 0,
        "run_name": name,
        "run_type": run_type,
        "repetitions": reps,
        "threads": 1,
        "iterations": iters,
        "real_time": secs_per_iter * 1e9,
        "cpu_time": secs_per_iter * 1e9,
        "time_unit": "ns",
        "items_per_second": n / secs_per_iter,
        "bytes_per_second": n * bytes_per_item / secs_per_iter,
    }
    if rep_index is not None:
        e["repetition_index"] = rep_index
    return e


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("native")
    ap.add_argument("baseline")
    ap.add_argument("out_root")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--load-before", default="")
    args = ap.parse_args()

    with open(args.native) as f:
        native = json.load(f)
    with open(args.baseline) as f:
        base = json.load(f)
    py = run_mldtypes(args.reps, args.min_time)

    model = cpu_model()
    ctx = dict(native["context"])
    ctx["cpu_model"] = model
    ctx["builds"] = {
        "native": native["context"].get("compiler_flags", ""),
        "x86-64": base["context"].get("compiler_flags", ""),
    }
    ctx["compiler"] = native["context"].get("compiler", "")
    ctx["python"] = platform.python_version()
    ctx["numpy"] = np.__version__
    ctx["ml_dtypes"] = ml_dtypes.__version__
    ctx["load_avg_before"] = args.load_before
    ctx["load_avg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    ctx["inputs"] = ("FP32: random sign, magnitude log-uniform over [2^-12, 2^10]; BF16/FP16: those rounded; "
                     "codes: uniform random bytes. L1: 4096 elements; DRAM: 2^25 elements")
    ctx["pinned_cpu"] = os.environ.get("BENCH_CPU", "")
    ctx.pop("build", None)
    ctx.pop("compiler_flags", None)
    merged = {"context": ctx, "benchmarks": native["benchmarks"] + base["benchmarks"] + py}

    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-") or "unknown-cpu"
    out_dir = os.path.join(args.out_root, slug)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "codec.json")
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".codec.json.")
    with os.fdopen(fd, "w") as f:
        json.dump(merged, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    print(f"wrote {path} ({len(merged['benchmarks'])} entries)")


if __name__ == "__main__":
    main()
