#!/usr/bin/env python3
"""microbench/decode/step_kernels.py on a synthetic ncu CSV: a 2-layer step
(with a warm-up kernel before it and a second step after it) whose kernel
times are known, so the per-place sums and the step total are known too.
Prints one ok/FAIL line a check."""
import os
import re
import subprocess
import sys
import tempfile

from report import report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "microbench", "decode", "step_kernels.py")
HDR = ["ID", "Process ID", "Process Name", "Host Name", "Kernel Name", "Context", "Stream", "Block Size",
       "Grid Size", "Device", "CC", "Section Name", "Metric Name", "Metric Unit", "Metric Value"]
LAYER = [("step::rmsnorm_kernel(step::RmsParams)", 3000), ("void gemv::gemv_kernel<3, 1>(CUtensorMap)", 16000),
         ("void attn::attn_decode_kernel<1, false>(CUtensorMap)", 14000), ("step::rmsnorm_kernel(step::RmsParams)", 3000),
         ("void gemv::gemv_kernel<3, 1>(CUtensorMap)", 36000)]
HEAD = [("step::rmsnorm_kernel(step::RmsParams)", 3000), ("void gemv::gemv_kernel<0, 1>(CUtensorMap)", 250000)]


def row(i, name, ns):
    return ['"%s"' % v for v in [i, 1, "decode_step", "h", name, 1, 13, "(512, 1, 1)", "(1, 1, 1)", 0, "9.0",
                                 "Command line profiler metrics", "gpu__time_duration.sum", "ns", "{:,}".format(ns)]]


def main():
    seq = [("void gemv::gemv_kernel<0, 1>(CUtensorMap)", 999999)]  # before the step: not counted
    for _ in range(2):  # two steps; the first is summed
        seq += LAYER * 2 + HEAD
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "step.csv")
        with open(p, "w") as f:
            f.write("==PROF== Connected to process 1\n")
            f.write(",".join('"%s"' % h for h in HDR) + "\n")
            for i, (n, ns) in enumerate(seq):
                f.write(",".join(row(i, n, ns)) + "\n")
        r = subprocess.run([sys.executable, SCRIPT, p, "--layers", "2"], capture_output=True, text=True)
        out = r.stdout
    want_total = 2 * sum(ns for _, ns in LAYER) + sum(ns for _, ns in HEAD)
    checks = [
        (r.returncode == 0, "runs (rc %d: %s)" % (r.returncode, r.stderr.strip()[-200:])),
        ("5 kernels a layer, 12 in the step, sum %.3f ms" % (want_total / 1e6) in out, "finds one step of 2 layers and its total"),
        (re.search(r"^  4 gemv_kernel +x2 +72\.0 us +36\.00 each", out, re.M) is not None,
         "sums a place in the layer over the layers (down GEMV: 2 x 36 us)"),
        (re.search(r"^  head gemv_kernel +x1 +250\.0 us", out, re.M) is not None, "the head is its own place"),
    ]
    return report("step_kernels.py", checks, out)


if __name__ == "__main__":
    sys.exit(main())
