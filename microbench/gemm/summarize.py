#!/usr/bin/env python3
"""Prints the table of a build/gemm JSON result: TFLOP/s of fp8kit and
cuBLASLt per shape and dtype, the ratios the issue's targets name, and their
geometric means over the Llama-3.1-8B/70B prefill shapes (M >= 1024).

    python3 microbench/gemm/summarize.py results.json [more.json ...]
"""
import json
import math
import re
import sys
from collections import defaultdict


def load(paths):
    runs = {}
    labels = {}
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        for b in d["benchmarks"]:
            if b.get("error_occurred"):
                continue
            agg = b.get("aggregate_name")
            if agg not in (None, "median"):
                continue
            name = b.get("run_name", b["name"]).replace("/manual_time", "")
            if "tflops" in b:
                runs[name] = b["tflops"]
                labels[name] = b.get("label", "")
    return runs, labels


def main():
    runs, labels = load(sys.argv[1:])
    shapes = defaultdict(dict)  # shape -> {impl/dtype: tflops}
    shape_label = {}
    for name, t in runs.items():
        m = re.match(r"(gemm|ceiling)/([^/]+)/([^/]+)/(\d+)x(\d+)x(\d+)$", name)
        if not m:
            continue
        kind, impl, dt = m.group(1), m.group(2), m.group(3)
        shape = tuple(int(m.group(i)) for i in (4, 5, 6))
        if kind == "ceiling":
            print("ceiling %s/%s %s: %.1f TFLOP/s" % (impl, dt, "x".join(map(str, shape)), t))
            continue
        shapes[shape]["%s/%s" % (impl, dt)] = t
        shape_label.setdefault(shape, labels.get(name, ""))
    cols = ["fp8kit/e4m3", "cublaslt/e4m3", "cublaslt/e4m3_exact", "fp8kit/bf16", "cublaslt/bf16",
            "fp8kit/e4m3_rowwise", "cublaslt/e4m3_rowwise", "fp8kit/e4m3_block", "cublaslt/e4m3_block"]
    short = ["ours8", "lt8", "lt8ex", "ours16", "lt16", "oursRw", "ltRw", "oursBlk", "ltBlk"]
    print("%-34s %-18s " % ("label", "MxNxK") + " ".join("%7s" % s for s in short) +
          "  r8    r16   r8/16")
    ratios = defaultdict(list)
    for shape in sorted(shapes, key=lambda s: (s[0] * s[1] * s[2], s)):
        r = shapes[shape]
        vals = " ".join("%7.1f" % r[c] if c in r else "%7s" % "-" for c in cols)

        def ratio(a, b):
            return r[a] / r[b] if a in r and b in r and r[b] > 0 else None
        r8, r16, r816 = ratio("fp8kit/e4m3", "cublaslt/e4m3"), ratio("fp8kit/bf16", "cublaslt/bf16"), \
            ratio("fp8kit/e4m3", "fp8kit/bf16")
        fmt = lambda x: "%5.3f" % x if x else "  -  "
        lab = shape_label.get(shape, "")
        print("%-34s %-18s %s  %s %s %s" % (lab[:34], "x".join(map(str, shape)), vals, fmt(r8), fmt(r16), fmt(r816)))
        if shape[0] >= 1024 and re.search(r"llama3\.1-(8b|70b)", lab):
            for k, v in (("fp8 ours/cuBLASLt", r8), ("bf16 ours/cuBLASLt", r16), ("ours fp8/bf16", r816),
                         ("cuBLASLt fp8/bf16", ratio("cublaslt/e4m3", "cublaslt/bf16"))):
                if v:
                    ratios[k].append(v)
    for k, v in ratios.items():
        print("geomean over %d Llama-3.1-8B/70B prefill shapes (M >= 1024): %s = %.3f"
              % (len(v), k, math.exp(sum(map(math.log, v)) / len(v))))
    # tile variants, where run with --variants=1
    best = defaultdict(dict)
    for shape, r in shapes.items():
        for key, t in r.items():
            m = re.match(r"fp8kit-(\w+)/(\w+)", key)
            if m:
                best[(shape, m.group(2))][m.group(1)] = t
    if best:
        print("variants (TFLOP/s) vs the dispatcher's pick (fp8kit):")
        for (shape, dt), v in sorted(best.items()):
            pick = shapes[shape].get("fp8kit/" + dt)
            print("  %-18s %-13s " % ("x".join(map(str, shape)), dt) +
                  " ".join("%s %.1f" % kv for kv in sorted(v.items())) +
                  ("  | fp8kit %.1f" % pick if pick else ""))


main()
