#!/usr/bin/env python3
"""Markdown summary of a codec.json from `make bench-codec` (the README's
CPU speed tables are this script's output):

    python microbench/codec/summary.py results/cpu/<cpu>/codec.json
"""
import json
import sys

# label, array form, scalar function, NVIDIA benchmark prefix, ml_dtypes conversion
ROWS = [
    ("FP32 → E4M3 sat", "fp8_e4m3_from_f32_n", "fp8_e4m3_from_f32_bits", "f32->e4m3 sat", None),
    ("FP32 → E4M3 nosat", "fp8_e4m3_from_f32_nosat_n", "fp8_e4m3_from_f32_nosat_bits", "f32->e4m3 nosat", "f32->e4m3"),
    ("FP32 → E5M2 sat", "fp8_e5m2_from_f32_n", "fp8_e5m2_from_f32_bits", "f32->e5m2 sat", None),
    ("FP32 → E5M2 nosat", "fp8_e5m2_from_f32_nosat_n", "fp8_e5m2_from_f32_nosat_bits", None, "f32->e5m2"),
    ("BF16 → E4M3", "fp8_e4m3_from_bf16_n", "fp8_e4m3_from_bf16", "bf16->e4m3", "bf16->e4m3"),
    ("FP16 → E4M3", "fp8_e4m3_from_f16_n", "fp8_e4m3_from_f16", "f16->e4m3", "f16->e4m3"),
    ("E4M3 → FP32", "fp8_e4m3_to_f32_n", "fp8_e4m3_to_f32_bits", "e4m3->f32", "e4m3->f32"),
    ("E5M2 → FP32", "fp8_e5m2_to_f32_n", "fp8_e5m2_to_f32_bits", None, "e5m2->f32"),
    ("E4M3 → BF16", "fp8_e4m3_to_bf16_n", "fp8_e4m3_to_bf16", None, "e4m3->bf16"),
    ("E4M3 → FP16", "fp8_e4m3_to_f16_n", "fp8_e4m3_to_f16", "e4m3->f16", "e4m3->f16"),
    ("E5M2 → FP16", "fp8_e5m2_to_f16_n", "fp8_e5m2_to_f16", "e5m2->f16", None),
    ("FP32 → BF16", "bf16_from_f32_n", "bf16_from_f32_bits", "f32->bf16", "f32->bf16"),
    ("FP32 → FP16", "f16_from_f32_n", "f16_from_f32_bits", "f32->f16", "f32->f16 (numpy)"),
]


def medians(doc):
    return {b["run_name"]: b["items_per_second"] for b in doc["benchmarks"]
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median" and "items_per_second" in b}


def g(v):
    return f"{v / 1e9:.2f}" if v else "—"


def main():
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    med = medians(doc)
    ctx = doc["context"]

    def nv(prefix, size):
        for k, v in med.items():
            if prefix and k.startswith(f"native/nvidia/{prefix} (") and k.endswith("/" + size):
                return v
        return None

    print(f"{ctx.get('cpu_model')}, {ctx.get('num_cpus')} CPUs, {ctx.get('compiler')}, {ctx.get('date', '')[:10]}; "
          f"load average before {ctx.get('load_avg_before')}, after {ctx.get('load_avg_after')}\n")
    print("G elements/s, median of the repetitions, one thread.\n")
    print("| conversion | fp8kit L1 | fp8kit DRAM | fp8kit x86-64 L1 | fp8kit x86-64 DRAM | fp8kit scalar L1 "
          "| NVIDIA L1 | NVIDIA DRAM | ml_dtypes L1 | ml_dtypes DRAM | vs NVIDIA L1 | vs NVIDIA DRAM |")
    print("| --- |" + " ---: |" * 11)
    for label, arr, scal, nvp, ml in ROWS:
        a1, a2 = med.get(f"native/fp8kit/{arr}/L1"), med.get(f"native/fp8kit/{arr}/DRAM")
        b1, b2 = med.get(f"x86-64/fp8kit/{arr}/L1"), med.get(f"x86-64/fp8kit/{arr}/DRAM")
        s1 = med.get(f"native/fp8kit-scalar/{scal}/L1")
        n1, n2 = nv(nvp, "L1"), nv(nvp, "DRAM")
        m1 = med.get(f"python/ml_dtypes astype/{ml}/L1") if ml else None
        m2 = med.get(f"python/ml_dtypes astype/{ml}/DRAM") if ml else None
        r1 = f"{a1 / n1:.0f}x" if a1 and n1 else "—"
        r2 = f"{a2 / n2:.0f}x" if a2 and n2 else "—"
        print(f"| {label} | {g(a1)} | {g(a2)} | {g(b1)} | {g(b2)} | {g(s1)} | {g(n1)} | {g(n2)} | {g(m1)} | {g(m2)} | {r1} | {r2} |")
    hz = med.get("native/clock/dependent adds (items/s = Hz)")
    if hz:
        a1 = med.get("native/fp8kit/fp8_e4m3_from_f32_n/L1")
        print(f"\nThe core's clock during the run (a chain of dependent adds): {hz / 1e9:.2f} GHz; "
              f"FP32 → E4M3 in L1: {a1 / hz:.2f} elements a cycle.")
    c1, c2 = med.get("native/copy/memcpy f32/L1"), med.get("native/copy/memcpy f32/DRAM")
    if c2:
        print(f"\nglibc memcpy of the FP32 buffer: {c2 * 8 / 1e9:.1f} GB/s read + written at DRAM size "
              f"({c1 * 8 / 1e9:.0f} GB/s in L1).")
        a2 = med.get("native/fp8kit/fp8_e4m3_from_f32_n/DRAM")
        if a2:
            print(f"FP32 → E4M3 at DRAM size moves {a2 * 5 / 1e9:.1f} GB/s (4 bytes read + 1 written an element): "
                  f"{a2 * 5 / (c2 * 8) * 100:.0f}% of memcpy's bytes/s; in elements, {a2 / c2 * 100:.0f}% of memcpy's "
                  f"FP32 elements/s.")


if __name__ == "__main__":
    main()
