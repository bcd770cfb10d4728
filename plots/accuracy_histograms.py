"""Per-element relative error of the all-MiniLM-L6-v2 weights, per-tensor
against per-block scaling, from results/accuracy/accuracy.json."""
import os

import _accuracy
import _style
import matplotlib.pyplot as plt
import numpy as np


def main(r, out):
    h = r["histograms"]
    edges = 10.0 ** np.array(h["edges_log10"])
    pooled = r["minilm"]["pooled"]
    fig, axes = plt.subplots(1, len(h["results"]), figsize=(11, 3.6), sharey=True, squeeze=False)
    for ax, (fmt, by_scheme) in zip(axes[0], h["results"].items()):
        for i, (scheme, d) in enumerate(by_scheme.items()):
            total = d["exact"] + sum(d["counts"])
            frac = np.array(d["counts"]) / total
            m = pooled[fmt][scheme]
            ax.stairs(frac, edges, color=f"C{i}", lw=1.3,
                      label=f"{scheme}: mean {100 * m['mean_rel']:.2f}%, exact {100 * d['exact'] / total:.2f}%, "
                            f"flushed {100 * m['flushed']:.4f}%")
        ax.set_xscale("log")
        ax.set_yscale("log")  # the tails (subnormals, flushes at 1) are where the schemes differ
        ax.set_ylim(1e-8, 0.3)
        ax.set_xlabel("relative error |q - x| / |x| (log scale; left bin holds all below it)")
        ax.set_title(f"{fmt}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    axes[0, 0].set_ylabel("fraction of non-zero weights per bin")
    n = r["minilm"]["model"]["elements_measured"]
    fig.suptitle(f"all-MiniLM-L6-v2: per-element relative error of FP8 quantization, per-tensor vs per-block scaling "
                 f"({n:,} weights, {r['minilm']['model']['tensors_measured']} tensors)", fontsize=10)
    fig.tight_layout()
    _style.stamp(fig, _accuracy.stamp_text(r))
    _style.save(fig, os.path.join(out, "accuracy_histograms.png"))


if __name__ == "__main__":
    _accuracy.cli(main)
