#!/usr/bin/env python3
"""microbench/decode/summarize.py on a synthetic Google Benchmark file whose
times are known: the GEMV table (fraction of copy, FP8 over BF16), the
tuning table (the planner's k groups and split beside forced variants, in
numeric order) and the attention table (E4M3 over BF16). Only medians of
repetitions count. Prints one ok/FAIL line a check."""
import json
import os
import re
import subprocess
import sys
import tempfile

from report import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "microbench", "decode", "summarize.py")


def bench(name, us, frac, **counters):
    # a median aggregate, as the sweep writes them, and a mean that must be ignored
    med = dict(name=name + "/manual_time_median", run_name=name + "/manual_time", run_type="aggregate",
               aggregate_name="median", real_time=us, time_unit="us", gbps=frac * 4000.0, frac_copy=frac, **counters)
    mean = dict(med, name=name + "/manual_time_mean", aggregate_name="mean", real_time=us * 9, frac_copy=0.01)
    return [mean, med]


def main():
    g = "gemv/%s/%s/1x4096x4096"
    rows = []
    rows += bench(g % ("fp8kit", "bf16"), 12.0, 0.70, kg=4, split=1)
    rows += bench(g % ("fp8kit", "e4m3_a8"), 8.0, 0.52, kg=4, split=1)
    rows += bench(g % ("fp8kit-k1s8", "e4m3_a8"), 11.0, 0.38)
    rows += bench(g % ("fp8kit-s2", "e4m3_a8"), 12.5, 0.33)
    rows += bench(g % ("fp8kit-k4s12", "e4m3_a8"), 14.0, 0.30)
    rows += bench(g % ("fp8kit-k4s2", "e4m3_a8"), 9.0, 0.47)
    rows += bench(g % ("cublaslt", "bf16"), 13.0, 0.65)
    rows += bench(g % ("cublaslt", "e4m3_tensor"), 6.5, 0.55)
    a = "attn_decode/fp8kit/%s/b16_l4096_hq32_hkv8_d128_contig"
    rows += bench(a % "bf16", 40.0, 0.85)
    rows += bench(a % "e4m3", 25.0, 0.70)
    doc = {"context": {"gpu_name": "Synthetic GPU", "copy_gbps": "4000.0"}, "benchmarks": rows}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "decode.json")
        with open(p, "w") as f:
            json.dump(doc, f)
        layers = os.path.join(d, "layers.txt")
        with open(layers, "w") as f:
            f.write("llama3.1-8b o 4096 4096\n")
        r = subprocess.run([sys.executable, SCRIPT, p, "--layers", layers], capture_output=True, text=True)
    out = r.stdout
    gemv = re.search(r"^llama3\.1-8b o +1 .*$", out, re.M)
    tune_hdr = re.search(r"^weights +layer \(N x K\) +M +planner +(.*)$", out, re.M)
    tune = re.search(r"^e4m3_a8 +llama3\.1-8b o +1 +(.*)$", out, re.M)
    att = re.search(r"^hq32 b16 l4096 +contig .*$", out, re.M)
    checks = [
        (r.returncode == 0, "runs (rc %d: %s)" % (r.returncode, r.stderr.strip()[-200:])),
        (gemv is not None and "2080 (0.52)" in gemv.group(0) and "2800 (0.70)" in gemv.group(0),
         "GEMV row: GB/s and fraction of copy of the medians, not the means"),
        (gemv is not None and "a8  1.50x" in gemv.group(0) and gemv.group(0).rstrip().endswith("2.00x"),
         "GEMV row: FP8 over BF16, ours (12 / 8 us) and cuBLASLt's (13 / 6.5 us)"),
        (tune_hdr is not None and tune_hdr.group(1).split() == ["s2", "k1s8", "k4s2", "k4s12"],
         "tuning columns in numeric order (k groups, then split): s2 k1s8 k4s2 k4s12"),
        (tune is not None and tune.group(1).split() == ["0.52", "(k4", "s1)", "0.33", "0.38", "0.47", "0.30"],
         "tuning row: the planner's pick with its k groups and split, then each variant"),
        (att is not None and "1.60x" in att.group(0), "attention: E4M3 over BF16 (40 / 25 us)"),
    ]
    return report("summarize.py", checks, out)


if __name__ == "__main__":
    sys.exit(main())
