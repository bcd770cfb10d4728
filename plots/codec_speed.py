"""CPU speed of the codec (results/cpu/*/codec.json, from `make bench-codec`).

One chart a CPU: G elements/s (median of the repetitions, log scale) for the
main conversions, at an L1-sized and a DRAM-sized buffer: fp8kit's array
forms (-march=native and baseline x86-64 builds), fp8kit's scalar functions
one at a time, NVIDIA's cuda_fp8/bf16/fp16 host converters, and ml_dtypes'
astype. The dashed line is glibc memcpy's rate as FP32 -> FP8 elements
(its bytes read + written / 5 bytes an element).

    python plots/codec_speed.py RESULTS_DIR OUT_DIR
"""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _style  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

# row label: (array form, scalar function, NVIDIA benchmark prefix, ml_dtypes conversion)
ROWS = [
    ("FP32 -> E4M3 sat", "fp8_e4m3_from_f32_n", "fp8_e4m3_from_f32_bits", "f32->e4m3 sat", None),
    ("FP32 -> E4M3 nosat", "fp8_e4m3_from_f32_nosat_n", "fp8_e4m3_from_f32_nosat_bits", "f32->e4m3 nosat", "f32->e4m3"),
    ("FP32 -> E5M2 sat", "fp8_e5m2_from_f32_n", "fp8_e5m2_from_f32_bits", "f32->e5m2 sat", None),
    ("FP32 -> E5M2 nosat", "fp8_e5m2_from_f32_nosat_n", "fp8_e5m2_from_f32_nosat_bits", None, "f32->e5m2"),
    ("BF16 -> E4M3", "fp8_e4m3_from_bf16_n", "fp8_e4m3_from_bf16", "bf16->e4m3", "bf16->e4m3"),
    ("FP16 -> E4M3", "fp8_e4m3_from_f16_n", "fp8_e4m3_from_f16", "f16->e4m3", "f16->e4m3"),
    ("E4M3 -> FP32", "fp8_e4m3_to_f32_n", "fp8_e4m3_to_f32_bits", "e4m3->f32", "e4m3->f32"),
    ("E5M2 -> FP32", "fp8_e5m2_to_f32_n", "fp8_e5m2_to_f32_bits", None, "e5m2->f32"),
    ("E4M3 -> BF16", "fp8_e4m3_to_bf16_n", "fp8_e4m3_to_bf16", None, "e4m3->bf16"),
    ("E4M3 -> FP16", "fp8_e4m3_to_f16_n", "fp8_e4m3_to_f16", "e4m3->f16", "e4m3->f16"),
    ("E5M2 -> FP16", "fp8_e5m2_to_f16_n", "fp8_e5m2_to_f16", "e5m2->f16", None),
    ("FP32 -> BF16", "bf16_from_f32_n", "bf16_from_f32_bits", "f32->bf16", "f32->bf16"),
    ("FP32 -> FP16", "f16_from_f32_n", "f16_from_f32_bits", "f32->f16", "f32->f16 (numpy)"),
]
SERIES = [  # (legend, colour)
    ("fp8kit array form, -march=native", "#1f77b4"),
    ("fp8kit array form, baseline x86-64", "#9ecae1"),
    ("fp8kit scalar, one at a time", "#2ca02c"),
    ("NVIDIA cuda_fp8.hpp host code (same binary)", "#d62728"),
    ("ml_dtypes astype (non-saturating)", "#ff7f0e"),
]


def medians(doc):
    """{run name: median items/s}"""
    out = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median" and "items_per_second" in b:
            out[b["run_name"]] = b["items_per_second"]
    return out


def lookup(med, size, row):
    _, arr, scal, nv, ml = row
    vals = [med.get(f"native/fp8kit/{arr}/{size}"), med.get(f"x86-64/fp8kit/{arr}/{size}"),
            med.get(f"native/fp8kit-scalar/{scal}/{size}"), None, None]
    if nv:
        for k, v in med.items():
            if k.startswith(f"native/nvidia/{nv} (") and k.endswith(f"/{size}"):
                vals[3] = v
    if ml:
        vals[4] = med.get(f"python/ml_dtypes astype/{ml}/{size}")
    return vals


def chart(path, out_dir):
    with open(path) as f:
        doc = json.load(f)
    med = medians(doc)
    ctx = doc["context"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 8), sharey=True)
    nrow, nser = len(ROWS), len(SERIES)
    h = 0.8 / nser
    for ax, size in zip(axes, ("L1", "DRAM")):
        for r, row in enumerate(ROWS):
            for s, v in enumerate(lookup(med, size, row)):
                if v:
                    y = r + (s - (nser - 1) / 2) * h
                    ax.barh(y, v / 1e9, height=h, color=SERIES[s][1], label=SERIES[s][0])
        copy = med.get(f"native/copy/memcpy f32/{size}")
        if copy and size == "DRAM":
            bytes_s = copy * 8  # items are floats; bytes read + written
            ax.axvline(bytes_s / 5 / 1e9, color="0.3", ls="--", lw=1)
            ax.text(bytes_s / 5 / 1e9, -0.6, f" memcpy as FP32->FP8\n ({bytes_s / 1e9:.1f} GB/s r+w)", fontsize=7, va="bottom")
        ax.set_xscale("log")
        ax.set_xlabel("G elements / s (median; log scale)")
        n = "4096 elements" if size == "L1" else "2^25 elements"
        ax.set_title(f"{size}-sized buffer ({n})")
        ax.set_yticks(range(nrow))
        ax.set_yticklabels([row[0] for row in ROWS])
        ax.grid(axis="y", alpha=0)
    axes[0].set_ylim(nrow - 0.5, -1.2)  # first row on top (the axes share y)
    handles, labels = axes[0].get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    fig.legend([uniq[l] for l, _ in SERIES if l in uniq], [l for l, _ in SERIES if l in uniq],
               loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.07))
    fig.suptitle("fp8kit codec on the CPU, one thread: conversions per second", fontsize=11)
    flags = ", ".join(f"{k}: {v}" for k, v in ctx.get("builds", {}).items())
    _style.stamp(fig, f"{ctx.get('cpu_model', '?')}; {ctx.get('compiler', '')}; {flags}; {ctx.get('date', '')[:10]}")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(os.path.dirname(path)))
    _style.save(fig, os.path.join(out_dir, f"codec_speed_{slug}.png"))


def main():
    results, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(results, "cpu", "*", "codec.json"))):
        chart(path, out_dir)


if __name__ == "__main__":
    main()
