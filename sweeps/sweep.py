#!/usr/bin/env python3
"""`make sweep GPU=h100`: measure the ceilings, then run every benchmark
family, and leave Google Benchmark JSON under results/<gpu>/.

    python3 sweeps/sweep.py --gpu h100 [--quick] [--only gemm,quant]
                            [--resume] [--force] [--devices 0,1]

- The GPU present must match the profile sweeps/gpus/<gpu>.json (name, SM
  count, memory); otherwise it refuses, unless --force.
- Ceilings first (results/<gpu>/ceilings.json): device-to-device copy
  bandwidth and cuBLASLt's peak per dtype; every family gets them as flags.
  The file also holds what one launch reading a single layer's bytes
  reaches (ceiling/read*, see microbench/ceilings.cu), for reading the
  GEMVs at small layers; those are not flags.
- Each family writes results/<gpu>/<family>.json atomically: the binary
  writes a temporary file, which replaces the old one only when the run
  exited cleanly and produced a complete, well-formed result. A crashed or
  interrupted family leaves the previous file intact and says so.
- Each file records, beside Google Benchmark's own context: the ceilings,
  SM clock and power sampled during the run (throttling flagged), the
  profile, git commit and date.
- Progress: family, benchmark n of N, elapsed and estimated time left.
- With no GPU it runs the CPU families and lists the GPU families skipped.
Python standard library only (it runs on GPU machines as they come).
"""
import argparse
import json
import os
import queue
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SweepError(Exception):
    """A refusal with a message for the user (exit status 2)."""


# With DEVICES=0,1 two workers print at once: each line goes out whole, in
# one write under a lock (print's separate writes of text and newline let
# lines of the two interleave mid-line).
_out_lock = threading.Lock()


def say(line):
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def log(msg):
    say("[sweep] " + msg)


# ---------------------------------------------------------------- profiles

def load_profiles(profile_dir):
    profiles = {}
    for fn in sorted(os.listdir(profile_dir)):
        if fn.endswith(".json"):
            with open(os.path.join(profile_dir, fn)) as f:
                p = json.load(f)
            profiles[p["name"]] = p
    return profiles


def pick_profile(profiles, name):
    runnable = sorted(n for n, p in profiles.items() if not p.get("plot_only"))
    if name not in profiles:
        raise SweepError("unknown GPU profile '%s'; known: %s" % (name, ", ".join(runnable)))
    if profiles[name].get("plot_only"):
        raise SweepError("profile '%s' is for plotting ceilings only; runnable profiles: %s"
                         % (name, ", ".join(runnable)))
    return profiles[name]


# ---------------------------------------------------------------- the GPU

def query_gpus(nvidia_smi):
    """[(index, name, memory MiB)] of the GPUs present, [] if none."""
    try:
        out = subprocess.run([nvidia_smi, "--query-gpu=index,name,memory.total",
                              "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    gpus = []
    for line in out.stdout.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3 and parts[0].isdigit():
            gpus.append((int(parts[0]), parts[1], float(parts[2])))
    return gpus


def check_gpu(profile, gpu, sm_count):
    """Reasons the GPU does not match the profile ([] if it does)."""
    _, name, mem_mib = gpu
    why = []
    if not any(m.lower() in name.lower() for m in profile["match"]):
        why.append("name '%s' is not %s" % (name, " or ".join(profile["match"])))
    if sm_count is not None and sm_count != profile["sm_count"]:
        why.append("%d SMs, profile has %d" % (sm_count, profile["sm_count"]))
    gib = mem_mib / 1024.0
    if not profile["memory_gib_min"] <= gib <= profile["memory_gib_max"]:
        why.append("%.0f GiB of memory, profile has %g..%g" %
                   (gib, profile["memory_gib_min"], profile["memory_gib_max"]))
    return why


# ---------------------------------------------------------------- telemetry

class Telemetry(threading.Thread):
    """Samples SM clock, power and clock-event reasons once a second."""
    # clocks_event_reasons bits that mean the GPU slowed itself down:
    # SW power cap, HW slowdown, SW thermal, HW thermal, HW power brake.
    SLOWDOWN = 0x4 | 0x8 | 0x20 | 0x40 | 0x80

    def __init__(self, nvidia_smi, device):
        super().__init__(daemon=True)
        self.cmd = [nvidia_smi, "-i", str(device), "--format=csv,noheader,nounits",
                    "--query-gpu=clocks.sm,clocks.max.sm,power.draw,temperature.gpu,"
                    "clocks_event_reasons.active"]
        self.samples, self.stop_flag = [], threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                out = subprocess.run(self.cmd, capture_output=True, text=True, timeout=10).stdout
                f = [x.strip() for x in out.strip().split(",")]
                self.samples.append((float(f[0]), float(f[1]), float(f[2]), float(f[3]), int(f[4], 16)))
            except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
                pass
            self.stop_flag.wait(1.0)

    def summary(self):
        self.stop_flag.set()
        self.join(timeout=15)
        s = self.samples
        if not s:
            return {"samples": 0}
        clocks = [x[0] for x in s]
        slowed = sum(1 for x in s if x[4] & self.SLOWDOWN)
        return {
            "samples": len(s),
            "sm_clock_mhz_min": min(clocks), "sm_clock_mhz_median": statistics.median(clocks),
            "sm_clock_mhz_max_rated": s[0][1],
            "power_w_median": statistics.median(x[2] for x in s), "power_w_max": max(x[2] for x in s),
            "temperature_c_max": max(x[3] for x in s),
            "slowdown_samples": slowed,
            "throttled": slowed > 0.05 * len(s),
        }


# ---------------------------------------------------------------- results

def valid_result(path):
    """A complete Google Benchmark JSON file (parsed), or None. Benchmarks
    that skipped themselves with an error (e.g. a library with no algorithm
    for a shape) are kept and counted, not fatal; a file where every
    benchmark failed is not a result."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    benches = data.get("benchmarks")
    if not isinstance(data.get("context"), dict) or not benches:
        return None
    if all(b.get("error_occurred") for b in benches):
        return None
    return data


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def git_commit():
    if os.environ.get("FP8KIT_GIT_COMMIT"):  # a copy of the tree without its history
        return os.environ["FP8KIT_GIT_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30).stdout.strip()
    except OSError:
        return ""


def run_benchmark(cmd, out_json, env, label, total):
    """Runs a Google Benchmark binary, streaming its output with progress
    (one step a benchmark: its median line). Returns the exit status."""
    start, done = time.time(), 0
    proc = subprocess.Popen(cmd + ["--benchmark_out=" + out_json, "--benchmark_out_format=json"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, bufsize=1)
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if "_median" in line:
                done += 1
                el = time.time() - start
                left = "~%.0fs left" % (el / done * (total - done)) if total >= done else ""
                say("[%s %d/%d, %.0fs, %s] %s" % (label, done, total, el, left, line))
            elif line.startswith(("ok ", "FAIL", "SKIPPED")) or "rror" in line:
                say("[%s] %s" % (label, line))
    except BaseException:  # never leave a benchmark running on the GPU behind us
        proc.kill()
        proc.wait()
        raise
    return proc.wait()


def count_benchmarks(cmd, env):
    try:
        out = subprocess.run(cmd + ["--benchmark_list_tests=true"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        return len([l for l in out.stdout.splitlines() if l.strip()])
    except (OSError, subprocess.TimeoutExpired):
        return 0


# ---------------------------------------------------------------- the sweep

def run_family(fam, args, out_dir, extra, env, telemetry_cmd, device):
    """Runs one GPU family; returns 'ok', 'crashed' or 'empty'."""
    binary = os.path.join(ROOT, fam["binary"])
    if not os.path.exists(binary):
        log("%s: %s not built; previous results (if any) kept" % (fam["name"], fam["binary"]))
        return "missing"
    if "min_time" in fam:  # a family's own --benchmark_min_time (seconds a repetition)
        extra = [a for a in extra if not a.startswith("--benchmark_min_time=")] + \
            ["--benchmark_min_time=%s" % fam["min_time"]]
    if "warmup" in fam:  # seconds each benchmark runs untimed before its repetitions
        extra = [a for a in extra if not a.startswith("--benchmark_min_warmup_time=")] + \
            ["--benchmark_min_warmup_time=%s" % fam["warmup"]]
    cmd = [binary] + (fam["quick_args"] if args.quick else fam["args"]) + extra
    final = os.path.join(out_dir, fam["name"] + ".json")
    tmp = final + ".partial"
    if os.path.exists(tmp):
        os.remove(tmp)
    n = count_benchmarks(cmd, env)
    t0 = time.time()
    tele = Telemetry(telemetry_cmd, device)
    tele.start()
    log("%s: %d benchmarks: %s" % (fam["name"], n, " ".join(shlex.quote(c) for c in cmd)))
    try:
        rc = run_benchmark(cmd, tmp, env, fam["name"], n)
    finally:
        sampled = tele.summary()  # stops the sampling thread, also on an exception
    data = valid_result(tmp)
    if rc != 0 or data is None:
        what = "crashed (exit status %d)" % rc if rc != 0 else "produced no complete results"
        kept = "previous %s kept intact" % final if os.path.exists(final) else "no previous results"
        log("%s: %s; %s; partial output left in %s" % (fam["name"], what, kept, tmp))
        return "crashed" if rc != 0 else "empty"
    baselines = merge_baselines(fam, args, tmp + ".baseline", env)
    data["benchmarks"] += baselines.pop("benchmarks", [])
    data["context"]["fp8kit"] = {
        "baselines": baselines,
        "family": fam["name"], "profile": args.gpu, "quick": args.quick, "command": cmd,
        "git_commit": git_commit(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "ceilings": args.ceilings, "sampled_during_run": sampled, "elapsed_s": round(time.time() - t0, 1),
        "device_index": device,
        "skipped": sorted({"%s: %s" % (b.get("run_name", b.get("name", "?")), b.get("error_message", ""))
                           for b in data["benchmarks"]
                           if b.get("error_occurred")}),
    }
    if sampled.get("throttled"):
        log("%s: WARNING: the GPU slowed itself down in %d of %d samples (power or thermal); flagged in the results"
            % (fam["name"], sampled["slowdown_samples"], sampled["samples"]))
    write_atomic(final, data)
    os.remove(tmp)
    log("%s: wrote %s (%d benchmarks)" % (fam["name"], os.path.relpath(final, ROOT), len(data["benchmarks"])))
    return "ok"


def merge_baselines(fam, args, path, env):
    """Runs a family's baseline scripts (e.g. PyTorch), which write Google
    Benchmark-style JSON to --out=PATH; returns their benchmarks and, per
    script, whether it ran (a missing PyTorch is noted, not an error)."""
    got = {"benchmarks": []}
    for cmd in fam.get("baselines", []):
        full = cmd + ["--out=" + path, "--copy_gbps=%.2f" % args.ceilings.get("copy_gbps", 0)]
        if args.quick:
            full.append("--quick")
        rc = subprocess.run(full, cwd=ROOT, env=env).returncode
        data = valid_result(path)
        got[" ".join(cmd)] = "ran" if rc == 0 and data else "absent (exit status %d)" % rc
        if rc == 0 and data:
            got["benchmarks"] += data["benchmarks"]
        if os.path.exists(path):
            os.remove(path)
    return got


def measure_ceilings(cfg, args, out_dir, env):
    """Runs the ceiling commands; returns {copy_gbps, peak_e4m3, peak_bf16}."""
    merged, ceilings = None, {}
    for i, cmd in enumerate(cfg["ceilings"]["commands"]):
        binary = os.path.join(ROOT, cmd[0])
        if not os.path.exists(binary):
            log("ceilings: %s not built; skipped" % cmd[0])
            continue
        tmp = os.path.join(out_dir, "ceilings.partial%d" % i)
        rc = run_benchmark([binary] + cmd[1:] + ["--benchmark_repetitions=3",
                                                  "--benchmark_report_aggregates_only=true"],
                           tmp, env, "ceilings", 0)
        data = valid_result(tmp)
        if rc != 0 or data is None:
            log("ceilings: %s failed (exit status %d)" % (cmd[0], rc))
            continue
        os.remove(tmp)
        if merged is None:
            merged = data
        else:
            merged["benchmarks"] += data["benchmarks"]
    if merged is None:
        raise SweepError("could not measure the ceilings: no ceiling benchmark ran")
    for b in merged["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        if name.startswith("ceiling/copy/"):
            ceilings["copy_gbps"] = max(ceilings.get("copy_gbps", 0), b["gbps"])
        for dt in ("e4m3", "bf16"):
            if name.startswith("ceiling/cublaslt/%s/" % dt):
                ceilings["peak_" + dt] = max(ceilings.get("peak_" + dt, 0), b["tflops"])
    merged["context"]["fp8kit"] = {"family": "ceilings", "profile": args.gpu, "ceilings": ceilings,
                                   "git_commit": git_commit(),
                                   "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_atomic(os.path.join(out_dir, "ceilings.json"), merged)
    log("ceilings: " + ", ".join("%s %.1f" % kv for kv in sorted(ceilings.items())))
    return ceilings


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gpu", required=True, help="profile name (sweeps/gpus/<gpu>.json)")
    ap.add_argument("--quick", action="store_true", help="short shape lists (about 3 minutes)")
    ap.add_argument("--only", default="", help="comma-separated families to run")
    ap.add_argument("--resume", action="store_true",
                    help="skip families whose results are from this commit")
    ap.add_argument("--force", action="store_true", help="run even if the GPU does not match the profile")
    ap.add_argument("--devices", default="", help="GPU indices to spread families over, e.g. 0,1")
    ap.add_argument("--results", default=os.path.join(ROOT, "results"))
    ap.add_argument("--profiles", default=os.path.join(ROOT, "sweeps", "gpus"))
    ap.add_argument("--families", default=os.path.join(ROOT, "sweeps", "families.json"))
    ap.add_argument("--repetitions", type=int, default=3)
    args = ap.parse_args(argv)
    nvidia_smi = os.environ.get("FP8KIT_NVIDIA_SMI", "nvidia-smi")
    try:
        return sweep(args, nvidia_smi)
    except SweepError as e:
        print("sweep: error: %s" % e, file=sys.stderr, flush=True)
        return 2


def sweep(args, nvidia_smi):
    profile = pick_profile(load_profiles(args.profiles), args.gpu)
    with open(args.families) as f:
        cfg = json.load(f)
    fams = cfg["families"]
    known = [f["name"] for f in fams]
    only = [x for x in args.only.split(",") if x]
    for x in only:
        if x not in known:
            raise SweepError("unknown family '%s'; known: %s" % (x, ", ".join(known)))
    if only:
        fams = [f for f in fams if f["name"] in only]
    t0 = time.time()
    gpus = query_gpus(nvidia_smi)
    devices = [int(d) for d in args.devices.split(",") if d.strip()] or ([gpus[0][0]] if gpus else [])
    gpu_fams = [f for f in fams if f["kind"] == "gpu"]
    cpu_fams = [f for f in fams if f["kind"] == "cpu"]
    status = {}
    out_dir = os.path.join(args.results, args.gpu)

    if not gpus:
        if gpu_fams:
            log("no GPU present: skipping the GPU families (%s); running the CPU families"
                % ", ".join(f["name"] for f in gpu_fams))
        for f in gpu_fams:
            status[f["name"]] = "skipped (no GPU)"
    else:
        by_index = {g[0]: g for g in gpus}
        for d in devices:
            if d not in by_index:
                raise SweepError("device %d not present; GPUs: %s" % (d, ", ".join(
                    "%d: %s" % (g[0], g[1]) for g in gpus)))
            sm = gpu_sm_count(d)
            why = check_gpu(profile, by_index[d], sm)
            if why and not args.force:
                raise SweepError("GPU %d (%s) does not match profile '%s': %s. Pick the right GPU= "
                                 "(profiles: sweeps/gpus/), or pass FORCE=1 to run anyway and label "
                                 "the results '%s'." % (d, by_index[d][1], args.gpu, "; ".join(why), args.gpu))
            if why:
                log("WARNING: GPU %d does not match '%s' (%s); running because of --force"
                    % (d, args.gpu, "; ".join(why)))
        os.makedirs(out_dir, exist_ok=True)
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(devices[0]))
        args.ceilings = measure_ceilings(cfg, args, out_dir, env)
        extra = ["--benchmark_repetitions=%d" % args.repetitions, "--benchmark_report_aggregates_only=true",
                 "--benchmark_min_time=0.05"]
        extra += ["--copy_gbps=%.2f" % args.ceilings.get("copy_gbps", 0)]
        for dt in ("e4m3", "bf16"):
            if args.ceilings.get("peak_" + dt):
                extra.append("--peak_%s=%.2f" % (dt, args.ceilings["peak_" + dt]))
        todo = []
        for f in gpu_fams:
            final = os.path.join(out_dir, f["name"] + ".json")
            old = valid_result(final) if args.resume else None
            if old and old["context"].get("fp8kit", {}).get("git_commit") == git_commit() \
                    and old["context"]["fp8kit"].get("quick") == args.quick:
                log("%s: results from this commit exist; skipped (--resume)" % f["name"])
                status[f["name"]] = "done earlier"
            else:
                todo.append(f)
        # several GPUs: longest family first (its est_s), so that the last to
        # finish is a short one
        if len(devices) > 1:
            todo.sort(key=lambda f: -float(f.get("est_s", 0)))
        work = queue.Queue()
        for f in todo:
            work.put(f)

        def worker(dev):
            while True:
                try:
                    f = work.get_nowait()
                except queue.Empty:
                    return
                denv = dict(os.environ, CUDA_VISIBLE_DEVICES=str(dev))
                try:
                    status[f["name"]] = run_family(f, args, out_dir, extra, denv, nvidia_smi, dev)
                except Exception as e:  # a bug in the bookkeeping: report it, keep the other families going
                    log("%s: failed in the sweep's own code (%s: %s); its results file was not replaced unless a"
                        " 'wrote' line above says so" % (f["name"], type(e).__name__, e))
                    status[f["name"]] = "failed (%s)" % type(e).__name__

        threads = [threading.Thread(target=worker, args=(d,)) for d in devices]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for f in cpu_fams:
        cmd = ["make", "--no-print-directory", f["make"]] if "make" in f else f["command"]
        log("%s: %s" % (f["name"], " ".join(cmd)))
        rc = subprocess.run(cmd, cwd=ROOT).returncode
        status[f["name"]] = "ok" if rc == 0 else "failed (exit status %d; its previous results kept)" % rc
    log("done in %.0f s: %s" % (time.time() - t0, ", ".join("%s %s" % kv for kv in status.items())))
    failed = [k for k, v in status.items() if v not in ("ok", "done earlier") and not v.startswith("skipped")]
    return 1 if failed else 0


def gpu_sm_count(device):
    """SM count from the ceilings binary (None where it is not built)."""
    binary = os.path.join(ROOT, "build", "ceilings")
    if os.environ.get("FP8KIT_SM_COUNT"):
        return int(os.environ["FP8KIT_SM_COUNT"])
    if not os.path.exists(binary):
        return None
    out = subprocess.run([binary, "--gpu_info"], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, CUDA_VISIBLE_DEVICES=str(device)))
    m = re.search(r"sm_count=(\d+)", out.stdout)
    return int(m.group(1)) if m else None


if __name__ == "__main__":
    sys.exit(main())
