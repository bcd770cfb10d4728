#!/usr/bin/env python3
"""Charts of the GPU families, per GPU in results/:

  headline.png              what FP8 buys over BF16, per GPU (the README's chart)
  gemm_speedup_<gpu>.png    FP8-over-BF16 speedup per layer against M (ours, cuBLASLt)
  gemm_tflops_<gpu>.png     TFLOP/s per shape with the measured ceilings
  roofline_<gpu>.png        arithmetic intensity vs TFLOP/s: GEMM, GEMV, attention
  decode_step.png           decode-step tokens/s (decode_step family) against batch and context, GPUs side by side
  kv_capacity.png           sequences that fit beside the weights
  quant_<gpu>.png           quantization kernels against the copy bandwidth
  decode_<gpu>.md           the README's decode tables: GEMV and attention as
                            fractions of copy, the step's tokens/s

    python plots/gpu_charts.py RESULTS_DIR OUT_DIR
Missing families are drawn as missing, with a note.
"""
import math
import os
import re
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _results as R  # noqa: E402
from _style import plt, save, stamp  # noqa: E402

SWEEPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sweeps")
SHAPE = re.compile(r"^(\w+)/([\w.-]+)/([\w.-]+)/(\d+)x(\d+)x(\d+)$")


def missing(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def ceilings(results, gpu):
    ctx, rows = R.load(results, gpu, "ceilings")
    return ctx.get("fp8kit", {}).get("ceilings", {}), ctx


def own_ceilings(results, gpu, ctx):
    """The ceilings measured by the sweep that wrote the family whose context
    is ctx (each sweep stamps them into its families), so that a chart's
    lines and points come from one run; ceilings.json (rewritten by every
    sweep) only where the family has none."""
    return ctx.get("fp8kit", {}).get("ceilings") or ceilings(results, gpu)[0]


def gemm_rows(results, gpu, notes):
    ctx, rows = R.load(results, gpu, "gemm", notes)
    out = []
    for r in rows:
        m = SHAPE.match(r["base"])
        if m and m.group(1) == "gemm":
            out.append(dict(impl=m.group(2), dtype=m.group(3), M=int(m.group(4)), N=int(m.group(5)),
                            K=int(m.group(6)), t=R.time_s(r), row=r))
    return ctx, out


def chart_gemm_speedup(results, gpu, out):
    notes = []
    ctx, rows = gemm_rows(results, gpu, notes)
    names = R.layers(SWEEPS)
    t = {(r["impl"], r["dtype"], r["M"], r["N"], r["K"]): r["t"] for r in rows}
    models = sorted({names.get((n, k), "other").split("/")[0] for (_, _, _, n, k) in t})
    fig, axes = plt.subplots(1, max(len(models), 1), figsize=(4.2 * max(len(models), 1), 3.6), squeeze=False)
    if not rows:
        missing(axes[0][0], "no GEMM results for %s" % gpu)
    for ax, model in zip(axes[0], models):
        for ci, (n, k) in enumerate(sorted({(n, k) for (_, _, _, n, k) in t if names.get((n, k), "other").startswith(model)})):
            for impl, style in (("fp8kit", "-"), ("cublaslt", "--")):
                ms = sorted(m for (i, d, m, nn, kk) in t if i == impl and d == "e4m3" and (nn, kk) == (n, k)
                            and (impl, "bf16", m, n, k) in t)
                if ms:
                    ax.plot(ms, [t[(impl, "bf16", m, n, k)] / t[(impl, "e4m3", m, n, k)] for m in ms], style,
                            marker="o", ms=3, color="C%d" % ci,
                            label="%s %s" % (names.get((n, k), "%dx%d" % (n, k)).split("/")[-1], impl))
        ax.axhline(2.0, color="0.6", lw=0.8, ls=":")
        ax.axhline(1.0, color="0.6", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("M (tokens)")
        ax.set_ylabel("FP8 / BF16 speedup (x)")
        ax.set_title(model)
        ax.legend(fontsize=6, ncol=2)
    fig.suptitle("GEMM: FP8 E4M3 over BF16, per layer (solid: fp8kit, dashed: cuBLASLt) on %s" % gpu)
    stamp(fig, R.stamp_text(ctx, gpu))
    save(fig, os.path.join(out, "gemm_speedup_%s.png" % gpu))


def chart_gemm_tflops(results, gpu, out):
    notes = []
    ctx, rows = gemm_rows(results, gpu, notes)
    ceil = own_ceilings(results, gpu, ctx)
    fig, ax = plt.subplots(figsize=(9, 4))
    if not rows:
        missing(ax, "no GEMM results for %s" % gpu)
    shapes = sorted({(r["M"], r["N"], r["K"]) for r in rows}, key=lambda s: (s[0] * s[1] * s[2], s))
    x = {s: i for i, s in enumerate(shapes)}
    for ci, (impl, dtype) in enumerate(sorted({(r["impl"], r["dtype"]) for r in rows})):
        pts = sorted((x[(r["M"], r["N"], r["K"])], 2.0 * r["M"] * r["N"] * r["K"] / r["t"] / 1e12)
                     for r in rows if (r["impl"], r["dtype"]) == (impl, dtype))
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o" if impl == "fp8kit" else "x", ms=3,
                color="C%d" % ci, label="%s %s" % (impl, dtype))
    for dt, ls in (("e4m3", "-"), ("bf16", "--")):
        if ceil.get("peak_" + dt):
            ax.axhline(ceil["peak_" + dt], color="0.4", ls=ls, lw=0.8)
            ax.text(0, ceil["peak_" + dt], " measured cuBLASLt peak %s: %.0f" % (dt, ceil["peak_" + dt]),
                    va="bottom", fontsize=7, color="0.3")
    ax.set_xlabel("shape (sorted by FLOPs)")
    ax.set_ylabel("TFLOP/s")
    ax.set_title("GEMM throughput on %s" % gpu)
    if rows:
        ax.legend(fontsize=7)
    stamp(fig, R.stamp_text(ctx, gpu))
    save(fig, os.path.join(out, "gemm_tflops_%s.png" % gpu))


def work_of(row):
    """(flops, bytes) of one launch from the counters, else from the name."""
    t = R.time_s(row)
    fl = row.get("tflops", 0) * 1e12 * t
    by = row.get("gbps", 0) * 1e9 * t
    m = SHAPE.match(row["base"])
    if not fl and m:
        fl = 2.0 * int(m.group(4)) * int(m.group(5)) * int(m.group(6))
    return fl, by


def chart_roofline(results, gpu, out):
    notes = []
    ceil, cctx = ceilings(results, gpu)
    fig, ax = plt.subplots(figsize=(7, 5))
    plotted = 0
    for fam, prefix, marker in (("gemm", "gemm/", "o"), ("decode", "gemv/", "s"), ("decode", "attn_decode/", "^")):
        _, rows = R.load(results, gpu, fam, notes)
        pts = defaultdict(list)
        for r in rows:
            if not r["base"].startswith(prefix):
                continue
            fl, by = work_of(r)
            if fl > 0 and by > 0:
                key = "%s%s" % (prefix, "/".join(r["base"].split("/")[1:3]))
                pts[key].append((fl / by, fl / R.time_s(r) / 1e12))
        for i, (k, p) in enumerate(sorted(pts.items())):
            ax.scatter([a for a, _ in p], [b for _, b in p], s=10, marker=marker, label=k, alpha=0.8)
            plotted += 1
    bw = ceil.get("copy_gbps")
    if bw:
        xs = [10 ** (e / 10) for e in range(-10, 45)]
        for dt, ls in (("e4m3", "-"), ("bf16", "--")):
            peak = ceil.get("peak_" + dt)
            if peak:
                ax.plot(xs, [min(bw * 1e9 * x / 1e12, peak) for x in xs], ls, color="0.3", lw=1,
                        label="roof: copy %.0f GB/s, cuBLASLt %s %.0f TF" % (bw, dt, peak))
    if not plotted:
        missing(ax, "no GEMM/GEMV/attention results for %s\n%s" % (gpu, "; ".join(notes)))
    else:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(fontsize=6)
    ax.set_xlabel("arithmetic intensity (FLOP / byte of device memory traffic)")
    ax.set_ylabel("TFLOP/s")
    ax.set_title("Roofline on %s (measured ceilings)" % gpu)
    stamp(fig, R.stamp_text(cctx, gpu))
    save(fig, os.path.join(out, "roofline_%s.png" % gpu))


DSTEP = re.compile(r"^decode_step/([\w.-]+)/([\w.+-]+)/b(\d+)_l(\d+)$")


def chart_decode_step(results, gpus, out):
    fig, axes = plt.subplots(2, max(len(gpus), 1), figsize=(5 * max(len(gpus), 1), 7), squeeze=False)
    any_rows = False
    stamp_bits = []
    for gi, gpu in enumerate(gpus):
        ctx, rows = R.load(results, gpu, "decode_step")
        data = defaultdict(dict)
        scaled = set()  # (model, config) with points where not every layer was resident
        for r in rows:
            m = DSTEP.match(r["base"])
            if m and "tokens_per_s" in r:
                data[(m.group(1), m.group(2))][(int(m.group(3)), int(m.group(4)))] = r["tokens_per_s"]
                if r.get("scaled"):
                    scaled.add((m.group(1), m.group(2)))
        top, bot = axes[0][gi], axes[1][gi]
        if not data:
            missing(top, "no decode-step results for %s" % gpu)
            missing(bot, "")
            continue
        any_rows = True
        stamp_bits.append(R.stamp_text(ctx, gpu))
        for ci, ((model, cfg), pts) in enumerate(sorted(data.items())):
            ls = "-" if "70b" not in model else "--"
            ctxs = sorted({l for (_, l) in pts})
            l0 = 4096 if 4096 in ctxs else ctxs[0]
            bs = sorted(b for (b, l) in pts if l == l0)
            sc = ", some layers reused" if (model, cfg) in scaled else ""
            top.plot(bs, [pts[(b, l0)] for b in bs], ls, marker="o", ms=3, label="%s %s (ctx %d%s)" % (model, cfg, l0, sc))
            bsz = sorted({b for (b, _) in pts})
            b0 = 16 if 16 in bsz else bsz[0]
            ls_ = sorted(l for (b, l) in pts if b == b0)
            bot.plot(ls_, [pts[(b0, l)] for l in ls_], ls, marker="o", ms=3, label="%s %s (batch %d%s)" % (model, cfg, b0, sc))
        for ax, xl in ((top, "batch"), (bot, "context length (tokens)")):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel(xl)
            ax.set_ylabel("tokens/s")
            ax.legend(fontsize=6)
            ax.set_title("decode step on %s" % gpu)
    fig.suptitle("Whole decode step: BF16 vs FP8 weights, BF16 vs FP8 KV cache")
    stamp(fig, " | ".join(stamp_bits) if any_rows else "no results")
    save(fig, os.path.join(out, "decode_step.png"))


def chart_kv_capacity(results, out):
    """Sequences of length L that fit beside the weights, per GPU, one line a
    model and configuration (one GPU, no tensor parallelism)."""
    import json
    path = os.path.join(results, "kv_capacity.json")
    try:
        data = json.load(open(path))
        rows = [r for r in data.get("rows", []) if r.get("tp", 1) == 1]
    except (OSError, ValueError):
        rows, data = [], {}
    gpus = sorted({r["gpu"] for r in rows}) or ["-"]
    fig, axes = plt.subplots(1, len(gpus), figsize=(5 * len(gpus), 3.8), squeeze=False)
    if not rows:
        missing(axes[0][0], "no KV-capacity results (results/kv_capacity.json)")
    for ax, gpu in zip(axes[0], gpus):
        lines = defaultdict(list)
        for r in rows:
            if r["gpu"] == gpu:
                lines[(r["model"], r["config"])].append((r["context"], r["sequences"]))
        for i, ((model, cfg), pts) in enumerate(sorted(lines.items())):
            pts = sorted(p for p in pts if p[1] > 0)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "-o", ms=3, color="C%d" % (i % 10),
                        label="%s %s" % (model, cfg))
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("context length (tokens)")
        ax.set_ylabel("sequences that fit beside the weights")
        ax.set_title("KV-cache capacity, one %s" % gpu.upper())
        ax.legend(fontsize=6)
    stamp(fig, "computed from the models' configs (%s)" % (data.get("context", {}) or {}).get("generator", "") if rows else "no results")
    save(fig, os.path.join(out, "kv_capacity.png"))


QNAME = re.compile(r"^quant/(\w+)/(\w+)/(\w+)/(\d+)$")


def chart_quant(results, gpu, out):
    notes = []
    ctx, rows = R.load(results, gpu, "quant", notes)
    data = defaultdict(dict)
    for r in rows:
        m = QNAME.match(r["base"])
        if m and "gbps" in r:
            data[(m.group(2), m.group(3), int(m.group(4)))][m.group(1)] = r["gbps"]
    copy = own_ceilings(results, gpu, ctx).get("copy_gbps")
    fig, ax = plt.subplots(figsize=(8, max(3, 0.18 * len(data) + 1)))
    if not data:
        missing(ax, "no quantization results for %s" % gpu)
    else:
        keys = sorted(data)
        impls = sorted({i for v in data.values() for i in v})
        h = 0.8 / len(impls)
        for j, impl in enumerate(impls):
            ax.barh([i + j * h for i in range(len(keys))], [data[k].get(impl, 0) for k in keys], h, label=impl)
        ax.set_yticks([i + 0.4 - h / 2 for i in range(len(keys))])
        ax.set_yticklabels(["%s %s %dM" % (k[0], k[1], k[2] >> 20) for k in keys], fontsize=6)
        if copy:
            ax.axvline(copy, color="0.3", lw=1)
            ax.axvline(0.9 * copy, color="0.3", lw=0.8, ls=":")
            ax.text(copy, len(keys), " copy %.0f GB/s" % copy, fontsize=7, va="bottom")
        ax.set_xlabel("GB/s (bytes read + written by the kernels)")
        ax.legend(fontsize=7)
    ax.set_title("Quantization kernels on %s" % gpu)
    stamp(fig, R.stamp_text(ctx, gpu))
    save(fig, os.path.join(out, "quant_%s.png" % gpu))


def geomean(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def headline_numbers(results, gpu):
    """{label: (FP8 over BF16, source file)}: geometric means of time ratios
    of the same shape, measured in one run."""
    out = {}
    _, g = gemm_rows(results, gpu, [])
    t = {(r["impl"], r["dtype"], r["M"], r["N"], r["K"]): r["t"] for r in g}
    for impl in ("fp8kit", "cublaslt"):
        r = [t[(impl, "bf16", m, n, k)] / t[(i, d, m, n, k)] for (i, d, m, n, k) in t
             if i == impl and d == "e4m3" and m >= 1024 and (impl, "bf16", m, n, k) in t]
        if r:
            out["GEMM, prefill M >= 1024 (%s)" % impl] = (geomean(r), "gemm.json")
    _, rows = R.load(results, gpu, "decode")
    tm = {}
    for r in rows:
        tm[r["base"]] = R.time_s(r)
    for impl, fp8, what in (("fp8kit", "e4m3_a8", "fp8kit W8A8"), ("fp8kit", "e4m3_channel", "fp8kit W8A16"),
                            ("cublaslt", "e4m3_tensor", "cublaslt W8A8")):
        r = []
        for name, tt in tm.items():
            p = name.split("/")
            if p[0] == "gemv" and p[1] == impl and p[2] == fp8 and int(p[3].split("x")[0]) <= 16:
                bf = "/".join(["gemv", impl, "bf16", p[3]])
                if bf in tm:
                    r.append(tm[bf] / tt)
        if r:
            out["GEMV, M <= 16 (%s)" % what] = (geomean(r), "decode.json")
    r = []
    for name, tt in tm.items():
        p = name.split("/")
        m = re.match(r"b\d+_l(\d+)_", p[3]) if len(p) == 4 else None
        if p[0] == "attn_decode" and p[1] == "fp8kit" and p[2] == "e4m3" and m and int(m.group(1)) >= 4096:
            bf = "/".join(["attn_decode", "fp8kit", "bf16", p[3]])
            if bf in tm:
                r.append(tm[bf] / tt)
    if r:
        out["attention decode, context >= 4K (fp8kit)"] = (geomean(r), "decode.json")
    # the whole step (build/decode_step): tokens/s of FP8 weights + FP8 KV
    # over BF16 weights + BF16 KV, same model, batch and context; batch <= 16
    # (the target's range)
    _, rows = R.load(results, gpu, "decode_step")
    step = defaultdict(dict)
    for r in rows:
        m = DSTEP.match(r["base"])
        if m and "tokens_per_s" in r and int(m.group(3)) <= 16:
            step[(m.group(1), m.group(3), m.group(4))][m.group(2)] = r["tokens_per_s"]
    sr = [v[c] / v[b] for v in step.values() for c in v for b in v if c.count("fp8") == 2 and b.count("fp8") == 0]
    if sr:
        out["decode step, batch <= 16 (FP8 weights + KV)"] = (geomean(sr), "decode_step.json")
    return out


def chart_headline(results, gpus, out):
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels, series = [], {}
    for gpu in gpus:
        h = headline_numbers(results, gpu)
        series[gpu] = h
        for k in h:
            if k not in labels:
                labels.append(k)
    if not labels:
        missing(ax, "no results yet: run make sweep GPU=<gpu>")
    else:
        w = 0.8 / max(len(gpus), 1)
        for j, gpu in enumerate(gpus):
            vals = [series[gpu].get(k, (0, ""))[0] for k in labels]
            bars = ax.bar([i + j * w for i in range(len(labels))], vals, w, label=gpu)
            for b, v in zip(bars, vals):
                if v:
                    ax.text(b.get_x() + b.get_width() / 2, v, "%.2fx" % v, ha="center", va="bottom", fontsize=7)
        ax.set_xticks([i + 0.4 - w / 2 for i in range(len(labels))])
        ax.set_xticklabels([k.replace(", ", "\n") for k in labels], fontsize=7)
        ax.axhline(2.0, color="0.6", ls=":", lw=0.8)
        ax.axhline(1.0, color="0.6", lw=0.8)
        ax.set_ylabel("FP8 over BF16 (x)")
        ax.legend(fontsize=7)
    ax.set_title("What FP8 buys over BF16, measured (time ratio, geometric mean over shapes)")
    ctxs = [R.stamp_text(R.load(results, g, "ceilings")[0], g) for g in gpus]
    stamp(fig, " | ".join(c for c in ctxs if c) or "no results")
    save(fig, os.path.join(out, "headline.png"))


LESSON = {"GEMM": "2x peak TFLOP/s (spec sheet)", "GEMV": "~2x (bytes saved)", "attention": "KV bytes halved",
          "decode": "~1.7x on H100, ~2.0x on H200"}


def headline_table(results, gpus):
    """The README's table: FP8 over BF16 per GPU, each number linked to the
    results file it comes from."""
    nums = {g: headline_numbers(results, g) for g in gpus}
    labels = []
    for g in gpus:
        labels += [k for k in nums[g] if k not in labels]
    lines = ["| FP8 over BF16 (geometric mean of time ratios) | " + " | ".join(gpus) + " | the lesson says |",
             "| --- |" + " --- |" * (len(gpus) + 1)]
    for k in labels:
        cells = []
        for g in gpus:
            v = nums[g].get(k)
            cells.append("[%.2fx](results/%s/%s)" % (v[0], g, v[1]) if v else "not measured")
        lines.append("| %s | %s | %s |" % (k, " | ".join(cells), LESSON.get(k.split(",")[0].split(" ")[0], "")))
    return "\n".join(lines) + "\n"


def quant_table(results, gpu):
    """Markdown: each quantization scheme's fraction of the measured copy
    bandwidth on one GPU, at its largest tensor, hardware and software
    element paths and PyTorch."""
    ctx, rows = R.load(results, gpu, "quant")
    copy = ctx.get("fp8kit", {}).get("ceilings", {}).get("copy_gbps")
    best = defaultdict(dict)
    for r in rows:
        m = QNAME.match(r["base"])
        if m and "gbps" in r and copy:
            key = (m.group(2), m.group(3))
            n = int(m.group(4))
            if n >= best[key].get(m.group(1), (0, 0))[0]:
                best[key][m.group(1)] = (n, r["gbps"] / copy)
    lines = ["| scheme | dtype | hardware cvt | software path | PyTorch |", "| --- | --- | --- | --- | --- |"]
    for (sch, dt), v in sorted(best.items()):
        cell = lambda i: "%.0f%%" % (100 * v[i][1]) if i in v else "—"  # noqa: E731
        lines.append("| %s | %s | %s | %s | %s |" % (sch, dt, cell("fp8kit_hw"), cell("fp8kit_sw"), cell("torch")))
    return "\n".join(lines) + "\n"


def tokens(x):
    """tokens/s without an exponent: whole numbers from 100, else three significant figures."""
    return "%.0f" % x if x >= 100 else "%.1f" % x if x >= 10 else "%.2f" % x


def model_size(name):
    """Sort key of a model name: its size in billions ('llama3.1-70b' -> 70), then the name."""
    m = re.search(r"(\d+(?:\.\d+)?)b$", name)
    return (float(m.group(1)) if m else float("inf"), name)


def read_ceilings(results, gpu, ctx):
    """(context, {bytes: {"read": f, "read_pdl": f}}) from ceilings.json's
    ceiling/read*/<MiB> rows, f the fraction of the copy bandwidth; empty
    unless ceilings.json is from the sweep that wrote the family whose
    context is ctx (its ceilings and commit), so that only numbers of one
    run stand side by side (every sweep rewrites ceilings.json)."""
    cctx, crows = R.load(results, gpu, "ceilings")
    reads = defaultdict(dict)
    fam, cf = ctx.get("fp8kit", {}), cctx.get("fp8kit", {})
    copy = cf.get("ceilings", {}).get("copy_gbps")
    if not copy or fam.get("ceilings") != cf.get("ceilings") or fam.get("git_commit") != cf.get("git_commit"):
        return cctx, reads
    for r in crows:
        m = re.match(r"ceiling/(read|read_pdl)/(\d+)MiB", r["base"])
        if m and r.get("gbps"):
            reads[int(m.group(2)) << 20][m.group(1)] = r["gbps"] / copy
    return cctx, reads


def read_ceiling_table(gpu, cctx, reads, by, shapes):
    """Markdown lines: the Llama layers whose weights (W8A8 or BF16) are as
    many bytes as a read ceiling (read_ceilings()), each with one launch
    reading that many bytes, back to back and with programmatic dependent
    launch, beside our GEMV at M = 1 / 16; all as fractions of the copy
    bandwidth. [] where there are no read ceilings of the same sweep."""
    out = []
    for v, (n, k) in shapes:
        for dt, w, label in (("e4m3_a8", 1, "W8A8"), ("bf16", 2, "BF16")):
            rd = reads.get(n * k * w, {})
            f = [by.get("gemv/fp8kit/%s/%dx%dx%d" % (dt, m, n, k), {}).get("frac_copy") for m in (1, 16)]
            if "read" in rd and "read_pdl" in rd and None not in f:
                model, layer = v.split("/")
                out.append("| Llama-3.1-%s %s, %s (%d MiB) | %.2f | %.2f | %.2f / %.2f |"
                           % (model[len("llama3.1-"):].upper(), layer, label, n * k * w >> 20, rd["read"],
                              rd["read_pdl"], f[0], f[1]))
    if not out:
        return []
    return ["One launch that only reads a layer's bytes (`results/%s/ceilings.json`, %s, the same sweep: "
            "`ceiling/read`, launches back to back, and `ceiling/read_pdl`, each launch letting the next start at "
            "once), beside our GEMV of that many weight bytes; fractions of the copy bandwidth:\n"
            % (gpu, R.stamp_text(cctx, gpu)),
            "| layer, weights (bytes) | read, one launch | read, launches overlapped (PDL) | our GEMV, M = 1 / 16 |",
            "| --- | --- | --- | --- |"] + out + [""]


def decode_tables(results, gpu):
    """Markdown: the README's decode tables for one GPU, from decode.json and
    decode_step.json: each Llama-3.1 layer's GEMV at M = 1 and 16 (fraction
    of the measured copy bandwidth, ours and cuBLASLt's), attention with 8B's
    heads, and the step's tokens/s at 4K context (405B: its shortest)."""
    ctx, rows = R.load(results, gpu, "decode")
    by = {r["base"]: r for r in rows}
    names = R.layers(SWEEPS)
    copy = ctx.get("fp8kit", {}).get("ceilings", {}).get("copy_gbps")
    out = []
    if rows:
        out.append("GEMV at M = 1 / 16 (`results/%s/decode.json`, %s; fraction of the measured copy bandwidth%s):\n"
                   % (gpu, R.stamp_text(ctx, gpu), ", %.2f TB/s read + write" % (copy / 1e3) if copy else " (not recorded)"))
        cols = (("fp8kit", "bf16", "ours BF16"), ("fp8kit", "e4m3_a8", "ours W8A8"),
                ("fp8kit", "e4m3_channel", "ours W8A16 (channel)"), ("cublaslt", "bf16", "cuBLASLt BF16"),
                ("cublaslt", "e4m3_tensor", "cuBLASLt W8A8 (tensor)"))
        out.append("| GEMV, M = 1 / 16 | " + " | ".join(c[2] for c in cols) + " |")
        out.append("| --- |" + " --- |" * len(cols))
        order = {"qkv": 0, "o": 1, "gate_up": 2, "down": 3}
        shapes = sorted(((v, nk) for nk, v in names.items() if v.startswith("llama3.1-")),
                        key=lambda t: (model_size(t[0].split("/")[0]), order.get(t[0].split("/")[1], 9)))
        for v, (n, k) in shapes:
            cells = []
            for impl, dt, _ in cols:
                f = [by.get("gemv/%s/%s/%dx%dx%d" % (impl, dt, m, n, k), {}).get("frac_copy") for m in (1, 16)]
                cells.append(" / ".join("%.2f" % x if x is not None else "-" for x in f))
            if any(c != "- / -" for c in cells):
                model, layer = v.split("/")
                out.append("| Llama-3.1-%s %s (%d x %d) | %s |" % (model[len("llama3.1-"):].upper(), layer, n, k,
                                                                   " | ".join(cells)))
        out.append("")
        cctx, reads = read_ceilings(results, gpu, ctx)
        out += read_ceiling_table(gpu, cctx, reads, by, shapes)
        rcol = " one launch reading the KV's bytes (BF16 / E4M3; `ceiling/read`) |" if reads else ""
        out.append("| attention, Llama-3.1-8B heads (32/8), contiguous | BF16 KV | E4M3 KV | E4M3 over BF16 | "
                   "PyTorch SDPA (BF16) |" + rcol)
        out.append("| --- | --- | --- | --- | --- |" + (" --- |" if reads else ""))
        for b, l in ((1, 4096), (1, 32768), (16, 4096), (16, 32768), (64, 32768)):
            case = "b%d_l%d_hq32_hkv8_d128_contig" % (b, l)
            bf, e4 = by.get("attn_decode/fp8kit/bf16/" + case), by.get("attn_decode/fp8kit/e4m3/" + case)
            sd = by.get("attn_decode/torch_sdpa/bf16/" + case)
            if not (bf and e4) or R.time_s(e4) <= 0:
                continue
            fr = lambda r: "%.2f" % r["frac_copy"] if r and "frac_copy" in r else "-"  # noqa: E731
            kvb = 2 * b * 8 * l * 128  # K and V bytes at one byte an element, 8 KV heads of 128
            rd = " / ".join("%.2f" % reads[kvb * w]["read"] if "read" in reads.get(kvb * w, {}) else "-" for w in (2, 1))
            out.append("| batch %d, %dK context | %s | %s | %.2fx | %s |" % (b, l // 1024, fr(bf), fr(e4),
                                                                          R.time_s(bf) / R.time_s(e4), fr(sd))
                       + (" %s |" % rd if reads else ""))
        out.append("")
    sctx, srows = R.load(results, gpu, "decode_step")
    step = defaultdict(dict)
    scaled = set()
    for r in srows:
        m = DSTEP.match(r["base"])
        if m and "tokens_per_s" in r:
            step[(m.group(1), int(m.group(3)), int(m.group(4)))][m.group(2)] = r["tokens_per_s"]
            if r.get("scaled"):
                scaled.add((m.group(1), int(m.group(3)), int(m.group(4))))
    if step:
        out.append("The step, tokens/s (`results/%s/decode_step.json`, %s; 4K context, or a model's shortest where it has "
                   "no 4K; *: not every layer fits beside the KV cache in some configuration, so the resident layers are "
                   "reused in turn and the time scaled by the layer count):\n" % (gpu, R.stamp_text(sctx, gpu)))
        cfgs = ("bf16w_bf16kv", "fp8w_bf16kv", "fp8w_fp8kv")
        out.append("| model, batch | BF16 w + KV | FP8 w + BF16 KV | FP8 w + FP8 KV | FP8 w+KV over BF16 |")
        out.append("| --- | --- | --- | --- | --- |")
        models = sorted({k[0] for k in step}, key=model_size)
        for model in models:
            # 4K, else the shortest context with every configuration
            ls = sorted({k[2] for k in step if k[0] == model and all(c in step[k] for c in cfgs)})
            if not ls:
                continue
            l0 = 4096 if 4096 in ls else ls[0]
            for b in sorted({k[1] for k in step if k[0] == model and k[2] == l0}):
                v = step[(model, b, l0)]
                if not all(c in v for c in cfgs) or v[cfgs[0]] <= 0:
                    continue
                name = model.replace("llama3.1-", "Llama-3.1-").upper().replace("LLAMA", "Llama")
                out.append("| %s, %d%s%s | %s | %s | %s | %.2fx |" % (name, b, "" if l0 == 4096 else " (%dK)" % (l0 // 1024),
                                                                  " *" if (model, b, l0) in scaled else "",
                                                                  tokens(v[cfgs[0]]), tokens(v[cfgs[1]]),
                                                                  tokens(v[cfgs[2]]), v[cfgs[2]] / v[cfgs[0]]))
    return "\n".join(out) + "\n" if out else ""


def main():
    results, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    gs = R.gpus(results)
    for gpu in gs:
        chart_gemm_speedup(results, gpu, out)
        chart_gemm_tflops(results, gpu, out)
        chart_roofline(results, gpu, out)
        chart_quant(results, gpu, out)
    chart_decode_step(results, gs, out)
    chart_kv_capacity(results, out)
    chart_headline(results, gs, out)
    with open(os.path.join(out, "headline.md"), "w") as f:
        f.write(headline_table(results, gs))
    for gpu in gs:
        with open(os.path.join(out, "quant_%s.md" % gpu), "w") as f:
            f.write(quant_table(results, gpu))
        with open(os.path.join(out, "decode_%s.md" % gpu), "w") as f:
            f.write(decode_tables(results, gpu))


if __name__ == "__main__":
    main()
