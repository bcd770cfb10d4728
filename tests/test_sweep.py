#!/usr/bin/env python3
"""The sweep planner (sweeps/sweep.py) on fixtures, with no GPU: fake
nvidia-smi and fake benchmark binaries that speak Google Benchmark's flags.
Prints one ok/FAIL line a check."""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = os.path.join(ROOT, "sweeps", "sweep.py")
failures = 0

FAKE_SMI = r'''#!/bin/sh
# fake nvidia-smi: GPU name from $FAKE_GPU ("none": no GPU)
[ "$FAKE_GPU" = none ] && { echo "NVIDIA-SMI has failed" >&2; exit 9; }
case "$*" in
  *clocks.sm*) echo "1980, 1980, 512.5, 55, 0x0000000000000000" ;;
  *) echo "0, $FAKE_GPU, $FAKE_MEM"; [ -z "$FAKE_TWO" ] || echo "1, $FAKE_GPU, $FAKE_MEM" ;;
esac
'''

FAKE_BASELINE = r'''#!/usr/bin/env python3
# fake baseline script (like sdpa_baseline.py): one result and one error
# entry without run_name (what a baseline wrote when a case did not fit)
import json, sys
out = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--out=")][0]
json.dump({"context": {}, "benchmarks": [
    {"name": "base/ok", "run_name": "base/ok", "run_type": "aggregate", "aggregate_name": "median",
     "real_time": 2.0, "time_unit": "us"},
    {"name": "base/too_big", "error_occurred": True, "error_message": "does not fit"}]}, open(out, "w"))
'''

FAKE_BENCH = r'''#!/usr/bin/env python3
# fake Google Benchmark binary: names from argv[1]; "crash" exits 1 midway
import json, sys
mode, names = sys.argv[1], sys.argv[2].split(",")
out = None
for a in sys.argv[3:]:
    if a == "--benchmark_list_tests=true":
        print("\n".join(names)); sys.exit(0)
    if a.startswith("--benchmark_out="):
        out = a.split("=", 1)[1]
benches = []
for i, n in enumerate(names):
    if mode == "crash" and i == 1:
        open(out, "w").write('{"context": {}, "benchmarks": [')  # what a crash leaves
        sys.exit(1)
    print("%s_median  1.0 us  1.0 us  3" % n, flush=True)
    if mode == "skip" and i == 0:  # a library with no algorithm for this shape
        benches.append({"name": n, "run_name": n, "error_occurred": True, "error_message": "no algorithm"})
        continue
    benches.append({"name": n + "_median", "run_name": n, "run_type": "aggregate",
                    "aggregate_name": "median", "real_time": 1.0, "time_unit": "us",
                    "gbps": 3000.0, "tflops": 1000.0 if "cublaslt" in n else 0.0})
json.dump({"context": {"host_name": "fake"}, "benchmarks": benches}, open(out, "w"))
'''


def check(ok, what, detail=""):
    global failures
    failures += not ok
    print("%s sweep planner: %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail and not ok else ""))
    sys.stdout.flush()


def setup(tmp):
    smi = os.path.join(tmp, "nvidia-smi")
    bench = os.path.join(tmp, "bench.py")
    base = os.path.join(tmp, "baseline.py")
    open(smi, "w").write(FAKE_SMI)
    open(bench, "w").write(FAKE_BENCH)
    open(base, "w").write(FAKE_BASELINE)
    for f in (smi, bench, base):
        os.chmod(f, 0o755)
    fams = {
        "ceilings": {"commands": [[bench, "ok", "ceiling/copy/1024MiB,ceiling/cublaslt/e4m3/8192x8192x8192"]]},
        "families": [
            {"name": "good", "kind": "gpu", "binary": bench, "args": ["skip", "gemm/a/1x1x1,gemm/b/2x2x2"], "min_time": 0.02, "warmup": 0.1,
             "baselines": [[sys.executable, base]],
             "quick_args": ["ok", "gemm/a/1x1x1"]},
            {"name": "bad", "kind": "gpu", "binary": bench, "args": ["crash", "x/1,x/2,x/3"],
             "quick_args": ["crash", "x/1,x/2"]},
            {"name": "cpu", "kind": "cpu", "command": ["sh", "-c", "echo cpu family ran > %s/cpu.txt" % tmp]},
        ],
    }
    fam_path = os.path.join(tmp, "families.json")
    json.dump(fams, open(fam_path, "w"))
    return smi, fam_path


def sweep(tmp, smi, fams, gpu_name, *args, mem="81559", sms="132", two=False):
    env = dict(os.environ, FP8KIT_NVIDIA_SMI=smi, FAKE_GPU=gpu_name, FAKE_MEM=mem, FP8KIT_SM_COUNT=sms,
               FAKE_TWO="1" if two else "")
    r = subprocess.run([sys.executable, SWEEP, "--families", fams, "--results", os.path.join(tmp, "results")]
                       + list(args), capture_output=True, text=True, env=env, timeout=120)
    return r.returncode, r.stdout + r.stderr


def main():
    with tempfile.TemporaryDirectory() as tmp:
        smi, fams = setup(tmp)
        res = os.path.join(tmp, "results", "h100")

        rc, out = sweep(tmp, smi, fams, "NVIDIA H100 80GB HBM3", "--gpu", "a100")
        check(rc == 2 and "unknown GPU profile 'a100'" in out and "h100" in out and "h200" in out,
              "an unknown GPU name is an error that lists the known profiles", out)

        rc, out = sweep(tmp, smi, fams, "NVIDIA H200", "--gpu", "h100", mem="143771")
        check(rc == 2 and "does not match profile 'h100'" in out and "FORCE=1" in out and not os.path.exists(res),
              "a GPU that does not match the profile is refused before anything runs", out)

        rc, out = sweep(tmp, smi, fams, "NVIDIA H100 80GB HBM3", "--gpu", "h100", sms="114")
        check(rc == 2 and "114 SMs" in out, "an SM count that does not match is refused (H100 PCIe vs SXM)", out)

        os.makedirs(res)
        old = {"context": {"old": True}, "benchmarks": [{"name": "x/1", "real_time": 5}]}
        json.dump(old, open(os.path.join(res, "bad.json"), "w"))
        rc, out = sweep(tmp, smi, fams, "NVIDIA H100 80GB HBM3", "--gpu", "h100")
        gp = os.path.join(res, "good.json")
        check(os.path.exists(gp), "a family beside a crashing one writes its results", out)
        good = json.load(open(gp)) if os.path.exists(gp) else {"context": {"fp8kit": {
            "skipped": [], "baselines": {}, "ceilings": {}, "sampled_during_run": {}, "command": [], "elapsed_s": -1}},
            "benchmarks": []}
        check(rc == 1 and json.load(open(os.path.join(res, "bad.json"))) == old and "previous" in out
              and "kept intact" in out, "a family that crashes mid-run keeps the old results file", out)
        check(good["context"]["fp8kit"]["skipped"] == ["base/too_big: does not fit", "gemm/a/1x1x1: no algorithm"],
              "a benchmark that skips itself (no algorithm; a baseline's case that does not fit, even without "
              "run_name) is kept and listed, not fatal", json.dumps(good)[:300])
        check(len(good["benchmarks"]) == 4 and good["context"]["fp8kit"]["baselines"].get(
              "%s %s" % (sys.executable, os.path.join(tmp, "baseline.py"))) == "ran" and good["context"]["fp8kit"]["ceilings"]["copy_gbps"] == 3000.0
              and good["context"]["fp8kit"]["sampled_during_run"]["samples"] >= 1
              and os.path.exists(os.path.join(res, "ceilings.json")),
              "results record the ceilings and the SM clock and power sampled during the run", json.dumps(good)[:300])
        check("[good 2/2" in out, "progress shows benchmark n of N", out)
        cmd = good["context"]["fp8kit"]["command"]
        check("--benchmark_min_time=0.02" in cmd and "--benchmark_min_time=0.05" not in cmd
              and good["context"]["fp8kit"]["elapsed_s"] >= 0,
              "a family's own min_time replaces the default; the family's time is recorded", " ".join(cmd))
        check(cmd.count("--benchmark_min_warmup_time=0.1") == 1,
              "a family's warmup becomes its --benchmark_min_warmup_time", " ".join(cmd))
        check(os.path.exists(os.path.join(tmp, "cpu.txt")), "CPU families run after the GPU families", out)

        rc, out = sweep(tmp, smi, fams, "NVIDIA H100 80GB HBM3", "--gpu", "h100", "--resume", "--only", "good")
        check("good: results from this commit exist; skipped (--resume)" in out, "resume skips what is done", out)

        rc, out = sweep(tmp, smi, fams, "NVIDIA H100 80GB HBM3", "--gpu", "h100", "--only", "nope")
        check(rc == 2 and "unknown family 'nope'" in out, "an unknown family name is an error", out)

        # two GPUs: families spread over both, the longest (est_s) first
        two = json.load(open(fams))
        bench = two["families"][0]["binary"]
        two["families"] = [
            {"name": "short", "kind": "gpu", "binary": bench, "args": ["ok", "s/1"], "quick_args": [], "est_s": 10},
            {"name": "long", "kind": "gpu", "binary": bench, "args": ["ok", "l/1,l/2"], "quick_args": [], "est_s": 500},
            {"name": "mid", "kind": "gpu", "binary": bench, "args": ["ok", "m/1"], "quick_args": [], "est_s": 100}]
        fams2 = os.path.join(tmp, "families2.json")
        json.dump(two, open(fams2, "w"))
        rc, out = sweep(tmp, smi, fams2, "NVIDIA H100 80GB HBM3", "--gpu", "h100", "--devices", "0,1", two=True)
        starts = [l.split(":")[0].split()[-1] for l in out.splitlines() if re.match(r"\[sweep\] \w+: \d+ benchmarks", l)]
        devs = {n: json.load(open(os.path.join(res, n + ".json")))["context"]["fp8kit"]["device_index"]
                for n in ("short", "long", "mid") if os.path.exists(os.path.join(res, n + ".json"))}
        check(rc == 0 and starts[:2] in (["long", "mid"], ["mid", "long"]) and starts[-1] == "short"
              and set(devs) == {"short", "long", "mid"} and set(devs.values()) == {0, 1},
              "DEVICES=0,1 spreads the families over both GPUs, longest first", "%s %s %s" % (starts, devs, out[-500:]))

        os.remove(os.path.join(tmp, "cpu.txt"))
        rc, out = sweep(tmp, smi, fams, "none", "--gpu", "h100")
        check(rc == 0 and "no GPU present: skipping the GPU families (good, bad)" in out
              and os.path.exists(os.path.join(tmp, "cpu.txt")),
              "with no GPU the CPU families run and the skipped GPU families are named", out)
    print("sweep planner: %s" % ("FAILED" if failures else "all passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
