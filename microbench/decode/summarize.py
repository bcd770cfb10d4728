#!/usr/bin/env python3
"""Short tables from build/decode's JSON (and sdpa_baseline.py's): GEMV GB/s
and fraction of copy bandwidth, ours against cuBLASLt, FP8 over BF16 speed-up;
attention decode GB/s per KV type and layout, FP8 over BF16, PyTorch SDPA.

  python3 microbench/decode/summarize.py decode.json [sdpa.json] [--layers sweeps/layers.txt]
"""
import json
import re
import sys


def load(paths):
    rows, ctx = {}, {}
    for p in paths:
        d = json.load(open(p))
        for k, v in d.get("context", {}).items():
            ctx.setdefault(k, v)
        for b in d["benchmarks"]:
            # single runs, or the medians of a sweep's repetitions
            if b.get("error_occurred") or (b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median"):
                continue
            name = re.sub(r"(/iterations:\d+)?(/repeats:\d+)?(/manual_time|/real_time)?(_median)?$", "",
                          b.get("run_name", b["name"]))
            rows[name] = b
    return rows, ctx


def layer_names(path):
    names = {}
    try:
        for line in open(path):
            f = line.split("#")[0].split()
            if len(f) >= 4:
                names.setdefault((int(f[2]), int(f[3])), "%s %s" % (f[0], f[1]))
    except OSError:
        pass
    return names


def main(argv):
    layers = "sweeps/layers.txt"
    paths = []
    it = iter(argv)
    for a in it:
        if a == "--layers":
            layers = next(it)
        else:
            paths.append(a)
    rows, ctx = load(paths)
    names = layer_names(layers)
    print("# %s, copy %s GB/s" % (ctx.get("gpu_name", "?"), ctx.get("copy_gbps", "?")))

    # ---- GEMV
    impls = [("fp8kit", "e4m3_channel"), ("fp8kit", "e4m3_block"), ("fp8kit", "e4m3_a8"), ("fp8kit", "bf16"),
             ("cublaslt", "e4m3_tensor"), ("cublaslt", "e4m3_channel"), ("cublaslt", "e4m3_block"), ("cublaslt", "bf16")]
    shapes = sorted({(int(m.group(2)), int(m.group(3)), int(m.group(1)))
                     for n in rows for m in [re.match(r"gemv/\w+/\w+/(\d+)x(\d+)x(\d+)$", n)] if m},
                    key=lambda s: (s[0] * s[1], s[2]))
    if shapes:
        print("\nGEMV: GB/s of weights (fraction of copy); speed-up = BF16 time / FP8 time, same impl")
        print("(ours: channel and block W8A16, a8 W8A8 with per-token activation scales; cuBLASLt FP8 is W8A8)")
        hdr = "%-24s %3s " % ("layer (N x K)", "M") + " ".join("%15s" % ("%s/%s" % (i[0][:2], i[1].replace("e4m3_", "")))
                                                            for i in impls) + "  ours fp8/bf16  lt fp8/bf16"
        print(hdr)
        for N, K, M in shapes:
            cells, t = [], {}
            for impl, wd in impls:
                b = rows.get("gemv/%s/%s/%dx%dx%d" % (impl, wd, M, N, K))
                if b:
                    t[(impl, wd)] = b["real_time"]
                    cells.append("%8.0f (%.2f)" % (b["gbps"], b.get("frac_copy", 0)))
                else:
                    cells.append("%15s" % "-")

            def sp(impl, a, bb):
                return "%5.2fx" % (t[(impl, bb)] / t[(impl, a)]) if (impl, a) in t and (impl, bb) in t else "    - "
            lt_best = None
            lt_fp8 = [t[k] for k in t if k[0] == "cublaslt" and k[1] != "bf16"]
            if lt_fp8 and ("cublaslt", "bf16") in t:
                lt_best = "%5.2fx" % (t[("cublaslt", "bf16")] / min(lt_fp8))
            print("%-24s %3d " % (names.get((N, K), "%dx%d" % (N, K))[:24], M) + " ".join(cells) +
                  "  ch %s a8 %s  %s" % (sp("fp8kit", "e4m3_channel", "bf16"), sp("fp8kit", "e4m3_a8", "bf16"),
                                         lt_best or "    - "))

    # ---- GEMV tuning (--gemv_variants): our kernel with forced k groups / split
    tune = {}
    for n, b in rows.items():
        m = re.match(r"gemv/fp8kit(-(k\d+)?(s\d+)?(e\d+)?)?/(\w+)/(\d+)x(\d+)x(\d+)$", n)
        if m:
            var = (m.group(2) or "") + (m.group(3) or "") + (m.group(4) or "")
            tune.setdefault((m.group(5), int(m.group(7)), int(m.group(8)), int(m.group(6))), {})[var] = b
    def order(v):  # k groups, then split, then even rows, numerically
        m = re.match(r"(k(\d+))?(s(\d+))?(e(\d+))?$", v)
        return (int(m.group(2) or 0), int(m.group(4) or 0), int(m.group(6) or 0))
    variants = sorted({v for t in tune.values() for v in t if v}, key=order)
    if variants:
        print("\nGEMV tuning: fraction of copy; the planner's choice (k groups, split) against forced variants")
        print("%-14s %-24s %3s %16s " % ("weights", "layer (N x K)", "M", "planner") + " ".join("%6s" % v for v in variants))
        for (wd, N, K, M), v in sorted(tune.items(), key=lambda kv: (kv[0][0], kv[0][1] * kv[0][2], kv[0][3])):
            pl = v.get("")
            print("%-14s %-24s %3d %16s " % (wd, names.get((N, K), "%dx%d" % (N, K))[:24], M,
                                            "%.2f (k%d s%d%s)" % (pl.get("frac_copy", 0), pl.get("kg", 1), pl.get("split", 0),
                                                                    " e%d" % pl["even"] if pl.get("even") else "")
                                            if pl else "-") +
                  " ".join("%6.2f" % v[s].get("frac_copy", 0) if s in v else "%6s" % "-" for s in variants))

    # ---- attention
    att = {}
    for n, b in rows.items():
        m = re.match(r"attn_decode/(\w+)/(\w+)/b(\d+)_l(\d+)_hq(\d+)_hkv(\d+)_d(\d+)_(\w+)$", n)
        if m:
            impl, kv, B, L, hq, hkv, d, lay = m.groups()
            att[(impl, kv, int(hq), int(B), int(L), lay)] = b
    if att:
        print("\nattention decode: GB/s of KV (fraction of copy); e4m3 speed-up over bf16 (same layout)")
        print("%-28s %8s %15s %15s %15s %8s %15s" % ("hq b L", "layout", "bf16", "e4m3", "e5m2", "e4/bf", "torch sdpa bf16"))
        keys = sorted({(k[2], k[3], k[4], k[5]) for k in att if k[0] == "fp8kit"})
        for hq, B, L, lay in keys:
            cells = []
            for kv in ("bf16", "e4m3", "e5m2"):
                b = att.get(("fp8kit", kv, hq, B, L, lay))
                cells.append("%8.0f (%.2f)" % (b["gbps"], b.get("frac_copy", 0)) if b else "%15s" % "-")
            a, e = att.get(("fp8kit", "bf16", hq, B, L, lay)), att.get(("fp8kit", "e4m3", hq, B, L, lay))
            spd = "%6.2fx" % (a["real_time"] / e["real_time"]) if a and e else "     -"
            t = att.get(("torch_sdpa", "bf16", hq, B, L, "contig")) if lay == "contig" else None
            print("%-28s %8s %s %s %15s" % ("hq%d b%d l%d" % (hq, B, L), lay, " ".join(cells), spd,
                                            "%8.0f (%.2f)" % (t["gbps"], t["frac_copy"]) if t else "-"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
