"""Shared look of fp8kit charts, and deterministic output.

Every chart script in plots/ is run by `make plots` as
    python plots/NAME.py RESULTS_DIR OUT_DIR
reads only RESULTS_DIR, and writes PNGs to OUT_DIR through save() below, so
that the same results give byte-identical files.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "fp8kit",
})


def stamp(fig, text):
    """Put the source of the numbers (GPU or CPU, date) in the corner."""
    fig.text(0.995, 0.005, text, ha="right", va="bottom", fontsize=7, color="0.4")


def save(fig, path):
    """Save without the metadata (software version, date) that would make
    identical charts differ byte for byte."""
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
