"""Checks the GEMV's per-CTA traces (the -DGEMV_TRACE builds; tests/gpu.sh).

  python3 tests/gemv_trace.py chain LOG [--split]
                                          build/decode_trace --gemv_trace=...
                                          (--split: one chain at least must
                                          split K)
  python3 tests/gemv_trace.py step LOG    build/decode_step_trace --gemv_trace_layer=N
  python3 tests/gemv_trace.py --selftest  (CPU: logs written in the binaries'
                                          printf formats, good and broken)

Every traced launch must print all 7 points (gemv.cuh's trace()) from every
one of its CTAs, in the order a CTA passes them (so the minima, medians and
maxima are each in order too), and its SM line must account for every CTA.
A chain's launches must enter in order; inside a step each GEMV's PDL wait
returns only after the GEMV before it has written its output (the kernels
between them complete in turn), the causal order a broken trace would not
keep. The step's two norms (rmsnorm.cuh's trace, block 0) must print their
points in order, the MLP norm's wait returning after the O GEMV's output
and each norm's stores before the next GEMV's wait. Exits 1 with the reason.
"""
import re
import sys

POINT = re.compile(r"^  (\S+(?: \d+)?)\s+(\d) (.+?)\s+n\s+(\d+)\s+min\s+(-?[\d.]+)\s+median\s+(-?[\d.]+)\s+max\s+(-?[\d.]+) us$")
SMS = re.compile(r"^  (\S+(?: \d+)?)\s+on (\d+) SMs:(.*)$")
CHAIN_HEAD = re.compile(r"^(\w+) (\d+)x(\d+)x(\d+): kg \d+ split (\d+)(?:, rows evenly)?(?:, three CTAs an SM)?, (\d+) CTAs, \d+ stages")
STEP_HEAD = re.compile(r"^(qkv|o|gate_up|down): (\d+)x(\d+)x(\d+), kg \d+ split (\d+)(?:, rows evenly)?(?:, three CTAs an SM)?, (\d+) CTAs, \d+ stages$")
NORM = re.compile(r"^  (attn_norm|mlp_norm)\s+(\d) (.+?)\s+(-?[\d.]+) us$")
SKEW = 0.05  # us: %globaltimer read on different SMs


def parse(lines, head):
    """[(case, ctas, {launch: {point: (n, min, median, max)}}, {launch: (sms, ctas counted)}, split)]"""
    cases = []
    for line in lines:
        line = line.rstrip("\n")
        m = head.match(line)
        if m:
            cases.append((m.group(1), int(m.group(6)), {}, {}, int(m.group(5))))
            continue
        m = POINT.match(line)
        if m and cases:
            cases[-1][2].setdefault(m.group(1), {})[int(m.group(2))] = (
                int(m.group(4)), float(m.group(5)), float(m.group(6)), float(m.group(7)))
            continue
        m = SMS.match(line)
        if m and cases:
            pairs = [(int(a), int(b)) for a, b in re.findall(r"(\d+) SMs with (\d+) CTAs", m.group(3))]
            cases[-1][3][m.group(1)] = (int(m.group(2)), sum(a for a, _ in pairs), sum(a * b for a, b in pairs))
    return cases


def check_launch(what, ctas, pts, sms):
    if sorted(pts) != list(range(7)):
        return f"{what}: points {sorted(pts)}, not 0-6"
    for e in range(7):
        if pts[e][0] != ctas:
            return f"{what}: point {e} from {pts[e][0]} CTAs of {ctas}"
    for i in (1, 2, 3):  # min, median, max
        v = [pts[e][i] for e in range(7)]
        if any(b < a for a, b in zip(v, v[1:])):
            return f"{what}: points out of order: {v}"
    if sms is None:
        return f"{what}: no SM line"
    if sms[1] != sms[0] or sms[2] != ctas:
        return f"{what}: SM line counts {sms[1]} SMs / {sms[2]} CTAs, says {sms[0]} SMs, launch has {ctas} CTAs"
    return None


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] not in ("chain", "step") or args[2:] not in ([], ["--split"]):
        return "usage: gemv_trace.py chain|step LOG [--split] (or --selftest)", None
    mode, log = args[0], args[1]
    lines = open(log).readlines()
    cases = parse(lines, CHAIN_HEAD if mode == "chain" else STEP_HEAD)
    if not cases:
        return "no traced case in the log", None
    if mode == "chain":
        if args[2:] == ["--split"] and not any(c[4] > 1 for c in cases):
            return "no traced chain splits K (--split)", None
        for name, ctas, launches, sms, _ in cases:
            names = [f"launch {i}" for i in range(8, 12)]
            if sorted(launches) != sorted(names):
                return f"{name}: launches {sorted(launches)}, not 8-11", None
            for ln in names:
                err = check_launch(f"{name} {ln}", ctas, launches[ln], sms.get(ln))
                if err:
                    return err, None
            entries = [launches[ln][0][1] for ln in names]
            if any(b < a - SKEW for a, b in zip(entries, entries[1:])):
                return f"{name}: launches entered out of order: {entries}", None
        return None, f"ok   GEMV trace: {len(cases)} chains of 4 launches, 7 points from every CTA, in order"
    else:
        order = ["qkv", "o", "gate_up", "down"]
        if [c[0] for c in cases] != order:
            return f"step trace: GEMVs {[c[0] for c in cases]}, not {order}", None
        for name, ctas, launches, sms, _ in cases:
            if list(launches) != [name]:
                return f"{name}: point lines named {list(launches)}", None
            err = check_launch(name, ctas, launches[name], sms.get(name))
            if err:
                return err, None
        for a, b in zip(cases, cases[1:]):
            out_max, wait_min = a[2][a[0]][6][3], b[2][b[0]][2][1]
            if wait_min < out_max - SKEW:
                return f"step trace: {b[0]}'s PDL wait returned at {wait_min} us, before {a[0]} wrote its output ({out_max} us)", None
        norms = {}
        for line in lines:
            m = NORM.match(line.rstrip("\n"))
            if m:
                norms.setdefault(m.group(1), {})[int(m.group(2))] = float(m.group(4))
        if sorted(norms) != ["attn_norm", "mlp_norm"]:
            return f"step trace: norms {sorted(norms)}, not attn_norm and mlp_norm", None
        for name, pts in norms.items():
            if not {0, 1, 2, 3, 5} <= set(pts) or not set(pts) <= set(range(6)):
                return f"{name}: points {sorted(pts)}, not 0-3 and 5 (4 with E4M3 out)", None
            v = [pts[e] for e in sorted(pts)]
            if any(b < a for a, b in zip(v, v[1:])):
                return f"{name}: points out of order: {v}", None
        gemv = {c[0]: c[2][c[0]] for c in cases}
        if norms["mlp_norm"][2] < gemv["o"][6][3] - SKEW:
            return f"mlp_norm's PDL wait returned at {norms['mlp_norm'][2]} us, before o wrote its output ({gemv['o'][6][3]} us)", None
        for name, nxt in (("attn_norm", "qkv"), ("mlp_norm", "gate_up")):
            if gemv[nxt][2][1] < norms[name][5] - SKEW:
                return f"{nxt}'s PDL wait returned at {gemv[nxt][2][1]} us, before {name} stored ({norms[name][5]} us)", None
    return None, ("ok   GEMV trace in the step: qkv, o, gate_up, down, 7 points from every CTA, each wait after the GEMV "
                  "before; both norms' points in order, between the GEMVs")


WHAT = ["entry", "weights issued", "PDL wait returned", "first stage in", "main loop done", "sums in smem",
        "output written"]


def fake_launch(name, ctas, t, sms_one=None):
    """Lines as gemv.cuh's print_trace() writes them (printf formats copied), points t .. t + 6."""
    out = [f"  {name:<9s} {e} {WHAT[e]:<18s} n {ctas:5d}  min {t + e:7.2f}  median {t + e + 0.3:7.2f}  max {t + e + 0.6:7.2f} us"
           for e in range(7)]
    one = ctas - 8 if sms_one is None else sms_one
    two = (ctas - one) // 2
    out.append(f"  {name:<9s} on {one + two} SMs:  {one} SMs with 1 CTAs (main loop done median 1.00, max 2.00 us)"
               f"  {two} SMs with 2 CTAs (main loop done median 1.50, max 2.50 us)")
    return out


def selftest():
    import os
    import tempfile
    chain = ["e4m3_a8 1x4096x4096: kg 4 split 1, rows evenly, 132 CTAs, 8 stages; 24 launches a graph, launches 8-11 (us after launch 8's first entry)"]
    for i in range(4):
        chain += fake_launch(f"launch {8 + i}", 132, 8.0 * i)
    def make_step(starts):
        L = ["llama3.1-8b/fp8w_fp8kv/b1_l4096, resident layer 1's GEMVs in the last replay (the step's layer 1; us after their first entry):"]
        for (n, c), t in zip([("qkv", 192), ("o", 128), ("gate_up", 224), ("down", 256)], starts):
            L.append(f"{n}: 1x4096x4096, kg 4 split 1, {c} CTAs, 6 stages")
            L += fake_launch(n, c, t)
        return L + fake_norms()
    def fake_norms(mlp=(14.0, 14.5, 16.8, 17.3, 17.8, 18.3)):
        """Lines as decode_step.cu prints the norms' trace (printf format copied)."""
        what = ["entry", "gamma issued", "PDL wait returned", "sum reduced", "amax reduced", "stores issued"]
        pts = {"attn_norm": (-6.0, -5.5, -3.0, -2.5, -2.0, -1.5), "mlp_norm": mlp}
        return [f"  {n:<9s} {e} {what[e]:<18s} {t:8.2f} us" for n, ts in pts.items() for e, t in enumerate(ts)]
    def no_norms(L):
        return [x for x in L if "_norm " not in x]
    step = make_step([0.0, 10.0, 20.0, 30.0])
    broken = {
        "chain": [
            ("a point missing", lambda L: [x for x in L if "sums in smem" not in x or "launch 9" not in x]),
            ("a point from fewer CTAs", lambda L: [x.replace("n   132", "n   131", 1) if "launch 10 3" in x else x for x in L]),
            ("points out of order", lambda L: [x.replace("median    3.30", "median    9.30") if "launch 8" in x else x for x in L]),
            ("SM line short of CTAs", lambda L: [x.replace("124 SMs with 1", "123 SMs with 1") if "launch 11 on" in x else x for x in L]),
            ("a launch missing", lambda L: [x for x in L if "launch 11" not in x]),
            ("launches out of order", lambda L: [x.replace("min   16.00", "min    1.00") if "launch 10 0" in x else x for x in L]),
            ("no split K where --split asks", lambda L: L),
        ],
        "step": [
            ("a GEMV missing", lambda L: [x for x in L if not x.startswith("gate_up") and "  gate_up" not in x]),
            ("o waiting before qkv wrote", lambda L: make_step([0.0, 3.0, 20.0, 30.0])),
            ("a norm missing", lambda L: [x for x in L if "mlp_norm" not in x]),
            ("norm points out of order", lambda L: no_norms(L) + fake_norms((14.0, 14.5, 16.8, 16.7, 17.8, 18.3))),
            ("MLP norm waiting before o wrote", lambda L: no_norms(L) + fake_norms((14.0, 14.5, 15.0, 17.3, 17.8, 18.3))),
            ("gate_up waiting before the MLP norm stored",
             lambda L: no_norms(L) + fake_norms((14.0, 14.5, 16.8, 17.3, 17.8, 23.0))),
        ],
    }
    fails = 0
    with tempfile.TemporaryDirectory() as d:
        for mode, good in (("chain", chain), ("step", step)):
            cases = [("good", good)] + [(why, f(good)) for why, f in broken[mode]]
            for why, lines in cases:
                log = os.path.join(d, "log")
                with open(log, "w") as f:
                    f.write("\n".join(lines) + "\n")
                sys.argv = ["gemv_trace.py", mode, log] + (["--split"] if why == "no split K where --split asks" else [])
                err, _ = main()
                changed = lines != good or sys.argv[3:] == ["--split"]
                if (err is None) != (why == "good") or (why != "good" and not changed):
                    print(f"FAIL selftest {mode} {why}: {err}")
                    fails += 1
                else:
                    print(f"ok   selftest {mode} {why}: {err or 'passes'}")
        # a chain that splits K passes --split
        with open(os.path.join(d, "log"), "w") as f:
            f.write("\n".join([chain[0].replace("split 1,", "split 3,")] + chain[1:]) + "\n")
        sys.argv = ["gemv_trace.py", "chain", os.path.join(d, "log"), "--split"]
        err, _ = main()
        print(("FAIL" if err else "ok  ") + f" selftest chain split K with --split: {err or 'passes'}")
        fails += err is not None
    return fails


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(1 if selftest() else 0)
    err, ok = main()
    if ok:
        print(ok)
    if err:
        print("FAIL GEMV trace:", err)
        sys.exit(1)
