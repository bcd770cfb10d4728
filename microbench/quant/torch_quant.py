#!/usr/bin/env python3
"""PyTorch baseline for the quant family: per-tensor scaled casts as a
PyTorch user writes them, timed with CUDA events over rotating inputs, as
Google Benchmark JSON benchmarks named like the fp8kit ones:

  quant/torch/tensor_scaled/<src>_<fmt>/<n>   (x * inv_scale).to(float8), scale given
  quant/torch/tensor_2pass/<src>_<fmt>/<n>    amax, scale, then the cast

    python3 microbench/quant/torch_quant.py --out=FILE [--quick] [--copy_gbps=X]
Writes {"context": ..., "benchmarks": [...]}; exits 3 if PyTorch or a GPU is
missing (the sweep then notes the baseline as absent).
"""
import json
import statistics
import sys


def main():
    args = dict(a[2:].split("=", 1) if "=" in a else (a[2:], "1") for a in sys.argv[1:])
    try:
        import torch
    except ImportError:
        print("torch_quant: PyTorch not installed", file=sys.stderr)
        return 3
    if not torch.cuda.is_available():
        print("torch_quant: no GPU", file=sys.stderr)
        return 3
    copy = float(args.get("copy_gbps", 0) or 0)
    sizes = [256] if "quick" in args else [256, 1024]
    out = []
    for mib in sizes:
        for src, sdt in (("f32", torch.float32), ("bf16", torch.bfloat16)):
            for fmt, fdt in (("e4m3", torch.float8_e4m3fn), ("e5m2", torch.float8_e5m2)):
                n = (mib << 20) // torch.tensor([], dtype=sdt).element_size()
                fmax = 448.0 if fmt == "e4m3" else 57344.0
                sets = [torch.randn(n, device="cuda", dtype=sdt) for _ in range(2)]
                for scheme in ("tensor_scaled", "tensor_2pass"):
                    def step(x):
                        if scheme == "tensor_scaled":
                            return (x * (fmax / 4.0)).to(fdt)
                        s = x.abs().amax().float() / fmax
                        return (x.float() / s).to(fdt)
                    for i in range(3):
                        step(sets[i % 2])
                    times = []
                    for rep in range(5):
                        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        e0.record()
                        for i in range(10):
                            step(sets[i % 2])
                        e1.record()
                        torch.cuda.synchronize()
                        times.append(e0.elapsed_time(e1) / 10 * 1e3)  # us
                    t = statistics.median(times)
                    # bytes a fused kernel would move: read the source (twice for 2 passes), write codes
                    nbytes = n * sets[0].element_size() * (2 if scheme == "tensor_2pass" else 1) + n
                    b = {"name": "quant/torch/%s/%s_%s/%d_median" % (scheme, src, fmt, n),
                         "run_name": "quant/torch/%s/%s_%s/%d" % (scheme, src, fmt, n),
                         "run_type": "aggregate", "aggregate_name": "median", "repetitions": len(times),
                         "real_time": t, "cpu_time": t, "time_unit": "us", "iterations": 10,
                         "gbps": nbytes / (t * 1e-6) / 1e9, "elements": n}
                    if copy:
                        b["frac_copy"] = b["gbps"] / copy
                    out.append(b)
                    print("%-45s %9.1f us %7.0f GB/s" % (b["run_name"], t, b["gbps"]), flush=True)
                del sets
    ctx = {"torch_version": torch.__version__, "gpu_name": torch.cuda.get_device_name(0)}
    with open(args["out"], "w") as f:
        json.dump({"context": ctx, "benchmarks": out}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
