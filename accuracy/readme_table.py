"""Prints the README's table of findings from results/accuracy/accuracy.json,
so that the README's numbers are the results file's (tests/accuracy_test.py
checks that the README holds exactly this text).

    python accuracy/readme_table.py [results/accuracy/accuracy.json]"""
import json
import sys

MEAN = ["per-tensor", "block 128", "block 32", "block 16", "MX-32 OCP"]
RMS = ["per-tensor", "block 32", "block 16", "MX-32 OCP"]
SHORT = {"per-tensor": "tensor", "block 128": "B128", "block 32": "B32", "block 16": "B16", "MX-32 OCP": "MX"}
NAMES = {"gaussian": "Gaussian", "laplace": "Laplace", "student_t3": "Student-t(3)",
         "gaussian_outliers": "Gaussian + 0.1% at 100σ", "gaussian_outliers_1e4": "Gaussian + 0.1% at 10⁴σ (extra)",
         "minilm": "all-MiniLM-L6-v2, 103 tensors"}


def table(r):
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    out = ["| data | format | " + " | ".join(f"mean {SHORT[s]}" for s in MEAN)
           + " | " + " | ".join(f"RMS {SHORT[s]}" for s in RMS) + " | flushed, tensor | saturated, MX |",
           "| --- | --- | " + " | ".join("---:" for _ in MEAN + RMS) + " | ---: | ---: |"]
    for fmt in r["formats"]:
        for name in list(r["synthetic"]) + ["minilm"]:
            res = (r["minilm"]["pooled"] if name == "minilm" else r["synthetic"][name]["results"])[fmt]
            out.append(f"| {NAMES[name]} | {fmt} | " + " | ".join(pct(res[s]["mean_rel"]) for s in MEAN)
                       + " | " + " | ".join(pct(res[s]["rel_rms"]) for s in RMS)
                       + f" | {100 * res['per-tensor']['flushed']:.4f} | {pct(res['MX-32 OCP']['saturated'])} |")
    f = r["formats"]
    out.append("")
    out.append("Percentages. mean: mean relative error over the non-zero elements; RMS: ||q - x|| / ||x||; "
               "tensor: per-tensor FP32 scale; B128, B32, B16: blocks of 128, 32, 16 along rows, FP32 scales; "
               "MX: blocks of 32 with the OCP E8M0 scale; flushed: non-zero elements that came back 0; "
               "saturated: elements clipped to max. The floor from the format alone (significands log-uniform, all normal): "
               + ", ".join(f"{k} {100 * v['mean_rel_log_uniform']:.2f}% mean, {100 * v['max_rel_normal']:.2f}% max"
                           for k, v in f.items()) + ".")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "results/accuracy/accuracy.json"
    with open(path) as fh:
        sys.stdout.write(table(json.load(fh)))
