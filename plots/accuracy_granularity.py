"""FP8 quantization error against scaling granularity, one figure per format,
one panel per distribution (and the MiniLM weights), from
results/accuracy/accuracy.json. The lesson's claims are drawn as bands."""
import os
import textwrap

import _accuracy
import _style
import matplotlib.pyplot as plt

LADDER = ["per-tensor", "tile 128x128", "block 256", "block 128", "block 64", "block 32", "block 16"]
EXTRA = {"per-tensor pow2": ("per-tensor", "v"), "MX-32 OCP": ("block 32", "s"), "MX-32 ceil": ("block 32", "D")}
METRICS = [("mean_rel", "mean relative error", "C0"), ("rel_rms", "relative RMS error ||q-x||/||x||", "C1"),
           ("nmae", "sum|q-x| / sum|x|", "C2")]


def main(r, out):
    panels = [(name, d["description"], d["results"]) for name, d in r["synthetic"].items()]
    mm = r["minilm"]
    panels.append(("all-MiniLM-L6-v2", f"{mm['model']['elements_measured']:,} weights, {mm['model']['tensors_measured']} tensors, pooled", mm["pooled"]))
    for fmt in r["formats"]:
        cols = 3
        rows = (len(panels) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.1 * rows), sharey=True, squeeze=False)
        for ax, (name, desc, res) in zip(axes.flat, panels):
            xs = range(len(LADDER))
            ax.axhspan(3, 5, xmin=0, xmax=1 / len(LADDER), color="C3", alpha=0.12, lw=0)
            ax.axhspan(1, 2, xmin=2 / len(LADDER), xmax=1, color="C3", alpha=0.12, lw=0)
            for key, label, color in METRICS:
                ax.plot(xs, [100 * res[fmt][s][key] for s in LADDER], "o-", color=color, ms=3.5, lw=1.2, label=label)
                for s, (at, marker) in EXTRA.items():
                    ax.plot([LADDER.index(at)], [100 * res[fmt][s][key]], marker, color=color, ms=5, mfc="none")
            ax.set_title(name + "\n" + textwrap.fill(desc, 60), fontsize=7.5)
            ax.set_xticks(list(xs))
            ax.set_xticklabels(LADDER, rotation=35, ha="right", fontsize=7)
        top = max(100 * res[fmt][s][k] for _, _, res in panels for s in res[fmt] for k, _, _ in METRICS)
        axes[0, 0].set_ylim(0, max(6.0, 1.08 * top))  # shared by every panel
        for ax in axes[:, 0]:
            ax.set_ylabel("error (%)")
        for ax in list(axes.flat)[len(panels):]:
            ax.axis("off")
        h, l = axes[0, 0].get_legend_handles_labels()
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        h += [Line2D([], [], marker=m, ls="", color="0.3", mfc="none") for _, m in EXTRA.values()]
        l += ["per-tensor, power-of-two scale", "MX-32, E8M0 OCP rule (floor)", "MX-32, E8M0 round-up rule"]
        h.append(Patch(color="C3", alpha=0.12))
        l.append("the lesson: per-tensor 3-5%, per-block 1-2% mean relative error")
        fig.legend(h, l, loc="lower center", ncol=4, fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.06))
        fig.suptitle(f"FP8 {fmt}: quantization error vs scaling granularity (codec/fp8_quant.h, FP32 data)", fontsize=10)
        fig.tight_layout()
        _style.stamp(fig, _accuracy.stamp_text(r))
        _style.save(fig, os.path.join(out, f"accuracy_granularity_{fmt.lower()}.png"))


if __name__ == "__main__":
    _accuracy.cli(main)
