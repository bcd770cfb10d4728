#!/usr/bin/env python3
"""Where one decode step's time goes: the kernels of one step, each timed
alone by ncu (gpu__time_duration.sum, CSV), summed by their place in a layer.

    ncu --csv --metrics gpu__time_duration.sum -k 'regex:rmsnorm|gemv|attn|rope|silu|quant_rows|gemm' -c 400 \\
        build/decode_step --models=llama3.1-8b --configs=fp8w_fp8kv --benchmark_filter=/b1_l4096/ ... >step.csv
    python3 microbench/decode/step_kernels.py step.csv [--layers 32]

(microbench/decode/gemv_device.sh stepncu runs both.) The step is found as
the first run of `--layers` layers, a layer being the kernels from one
RMSNorm to the one after the next (two RMSNorms a layer), then the head's
RMSNorm and GEMV. Times are of kernels run alone, one after another: no
overlap between kernels (programmatic dependent launch), so their sum is
more than the graph-timed step.
"""
import argparse
import csv
import re


def kernels(path):
    rows = [r for r in csv.reader(open(path)) if len(r) > 10]
    hdr = rows[0]
    ki, vi, ui = hdr.index("Kernel Name"), hdr.index("Metric Value"), hdr.index("Metric Unit")
    scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}
    out = []
    for r in rows[1:]:
        if r[ui] not in scale:
            raise SystemExit("%s: unknown unit %r" % (path, r[ui]))
        name = re.sub(r"[(<].*", "", r[ki].replace("void ", "")).split("::")[-1]
        out.append((name, float(r[vi].replace(",", "")) * scale[r[ui]]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--layers", type=int, default=32)
    a = ap.parse_args()
    for path in a.csv:
        seq = kernels(path)
        norms = [i for i, (n, _) in enumerate(seq) if n == "rmsnorm_kernel"]
        if len(norms) < 2 * a.layers + 1:
            raise SystemExit("%s: %d RMSNorm launches, fewer than one step of %d layers" % (path, len(norms), a.layers))
        first, per = norms[0], norms[2] - norms[0]
        step = seq[first:first + a.layers * per + 2]
        tot, cnt, order = {}, {}, []
        for k, (name, us) in enumerate(step):
            key = "%s %s" % (k % per if k < a.layers * per else "head", name)
            if key not in tot:
                order.append(key)
            tot[key] = tot.get(key, 0.0) + us
            cnt[key] = cnt.get(key, 0) + 1
        s = sum(tot.values())
        print("%s: %d kernels a layer, %d in the step, sum %.3f ms" % (path, per, len(step), s / 1e3))
        for key in order:
            print("  %-28s x%-3d %8.1f us  %7.2f each  %5.1f%%" % (key, cnt[key], tot[key], tot[key] / cnt[key],
                                                                100 * tot[key] / s))


if __name__ == "__main__":
    main()
