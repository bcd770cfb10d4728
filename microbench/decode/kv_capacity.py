#!/usr/bin/env python3
"""KV-cache capacity: how many sequences of length L fit beside the weights,
per model, configuration (weight and KV dtypes), GPU and tensor-parallel
degree, from the models' real configs (issue 6).

  python3 microbench/decode/kv_capacity.py [--out results/kv_capacity.json] [--util 0.90]
  python3 microbench/decode/kv_capacity.py --check [results/kv_capacity.json]

Assumptions, all stated in the JSON:
  * Parameters counted from config.json (Llama-3.1: untied embedding and
    lm_head, no biases): q/k/v/o, gate/up/down, two RMSNorms a layer, final
    norm, embedding, lm_head. 8B = 8,030,261,248; 70B = 70,553,706,496;
    405B = 405,853,388,800 (the published counts).
  * BF16 weights: 2 bytes a parameter. FP8 weights: the linear layers in E4M3
    (1 byte) plus one FP32 scale per output channel; embedding, lm_head and
    norms stay BF16 (as FP8 checkpoints ship them). 128x128 block scales
    would add (N/128)(K/128) FP32 a layer instead: under 0.02% more.
  * KV bytes a token = 2 (K, V) x layers x KV heads x head dim x bytes
    (BF16 2, FP8 1; per-head FP32 scales are per layer, not per token).
  * GPU memory: the totals the cards report (nvidia-smi: H100 SXM 81559 MiB,
    H200 143771 MiB); usable = util x total (default 0.90, vLLM's default
    gpu_memory_utilization, leaving room for activations, workspaces and the
    CUDA context). With tensor parallelism over t GPUs (t <= KV heads) each
    GPU holds 1/t of the weights and of every token's KV.
  * sequences = floor((t x usable - weights) / (KV bytes a token x L)).
Standard library only.
"""
import argparse
import json
import sys

MIB = 1 << 20
GPUS = {"h100": 81559 * MIB, "h200": 143771 * MIB}

# From the models' config.json (meta-llama/Llama-3.1-*).
MODELS = {
    "llama3.1-8b": dict(layers=32, hidden=4096, inter=14336, heads=32, kv_heads=8, head_dim=128, vocab=128256),
    "llama3.1-70b": dict(layers=80, hidden=8192, inter=28672, heads=64, kv_heads=8, head_dim=128, vocab=128256),
    "llama3.1-405b": dict(layers=126, hidden=16384, inter=53248, heads=128, kv_heads=8, head_dim=128, vocab=128256),
}
CONFIGS = {  # name: (weight dtype, KV dtype)
    "bf16_kv_bf16": ("bf16", "bf16"),
    "fp8_kv_bf16": ("fp8", "bf16"),
    "fp8_kv_fp8": ("fp8", "fp8"),
}
CONTEXTS = [1024, 4096, 8192, 16384, 32768, 131072]
TP = [1, 2, 4, 8]


def linear_shapes(m):
    """(out, in) of every Linear of one layer."""
    q, kv = m["heads"] * m["head_dim"], m["kv_heads"] * m["head_dim"]
    h, i = m["hidden"], m["inter"]
    return [(q, h), (kv, h), (kv, h), (h, q), (i, h), (i, h), (h, i)]


def params(m):
    lin = sum(o * i for o, i in linear_shapes(m))
    per_layer = lin + 2 * m["hidden"]
    return m["layers"] * per_layer + 2 * m["vocab"] * m["hidden"] + m["hidden"]


def weight_bytes(m, wdtype):
    lin = m["layers"] * sum(o * i for o, i in linear_shapes(m))
    other = params(m) - lin
    if wdtype == "bf16":
        return 2 * params(m)
    scales = m["layers"] * sum(o for o, _ in linear_shapes(m)) * 4
    return lin + scales + 2 * other


def kv_bytes_per_token(m, kvdtype):
    return 2 * m["layers"] * m["kv_heads"] * m["head_dim"] * (2 if kvdtype == "bf16" else 1)


def table(util):
    rows = []
    for gpu, total in GPUS.items():
        for name, m in MODELS.items():
            for cfg, (wd, kd) in CONFIGS.items():
                for tp in TP:
                    if tp > m["kv_heads"]:
                        continue
                    w = weight_bytes(m, wd)
                    free = tp * util * total - w
                    for L in CONTEXTS:
                        per_seq = kv_bytes_per_token(m, kd) * L
                        n = int(free // per_seq) if free > 0 else 0
                        rows.append({"gpu": gpu, "model": name, "config": cfg, "tp": tp, "context": L,
                                     "sequences": n, "weights_fit": free > 0,
                                     "weight_bytes": w, "kv_bytes_per_token": kv_bytes_per_token(m, kd),
                                     "kv_bytes_free": max(0, int(free))})
    return rows


def lesson_check():
    """The lesson: '70B at 32K context with batch 16 has ~80 GB of KV in BF16'."""
    m = MODELS["llama3.1-70b"]
    per_tok = kv_bytes_per_token(m, "bf16")
    total = per_tok * 32768 * 16
    return {"claim": "a 70B model at 32K context with batch 16 has ~80 GB of KV in BF16",
            "kv_bytes_per_token_bf16": per_tok, "per_sequence_bytes": per_tok * 32768,
            "bf16_bytes": total, "bf16_gb": total / 1e9, "bf16_gib": total / (1 << 30),
            "fp8_bytes": total // 2, "fp8_gb": total / 2e9, "fp8_gib": total / 2 / (1 << 30),
            "verdict": "BF16 is %.1f GB (%.0f GiB), %.2fx the lesson's 80 GB; 80 GiB is the FP8 figure"
                       % (total / 1e9, total / (1 << 30), total / 80e9)}


def build(util):
    return {"context": {"generator": "microbench/decode/kv_capacity.py", "util": util,
                        "gpu_memory_bytes": GPUS, "models": MODELS,
                        "assumptions": __doc__.split("Assumptions, all stated in the JSON:")[1].split("Standard library")[0].strip(),
                        "params": {k: params(m) for k, m in MODELS.items()},
                        "lesson_check": lesson_check()},
            "rows": [r for r in table(util) if r["tp"] == 1],
            "rows_tensor_parallel": [r for r in table(util) if r["tp"] > 1]}


def check(path):
    fails = 0

    def ok(cond, what):
        nonlocal fails
        fails += not cond
        print("%s kv_capacity: %s" % ("ok  " if cond else "FAIL", what))

    ok(params(MODELS["llama3.1-8b"]) == 8030261248, "Llama-3.1-8B has 8,030,261,248 parameters")
    ok(params(MODELS["llama3.1-70b"]) == 70553706496, "Llama-3.1-70B has 70,553,706,496 parameters")
    ok(params(MODELS["llama3.1-405b"]) == 405853388800, "Llama-3.1-405B has 405,853,388,800 parameters")
    ok(kv_bytes_per_token(MODELS["llama3.1-70b"], "bf16") == 327680, "70B BF16 KV is 320 KiB a token")
    ok(kv_bytes_per_token(MODELS["llama3.1-8b"], "bf16") == 131072, "8B BF16 KV is 128 KiB a token")
    lc = lesson_check()
    ok(lc["bf16_bytes"] == 171798691840, "70B, 32K x 16 sequences, BF16 KV = 171,798,691,840 bytes (160 GiB)")
    rows = table(0.90)
    by = {(r["gpu"], r["model"], r["config"], r["tp"], r["context"]): r["sequences"] for r in rows}
    ok(all(by[(g, m, "fp8_kv_fp8", t, L)] >= 2 * by[(g, m, "fp8_kv_bf16", t, L)]
           for (g, m, c, t, L) in by if c == "fp8_kv_fp8"), "FP8 KV holds at least twice the sequences of BF16 KV")
    ok(all(by[(g, m, "fp8_kv_bf16", t, L)] >= by[(g, m, "bf16_kv_bf16", t, L)]
           for (g, m, c, t, L) in by if c == "fp8_kv_bf16"), "FP8 weights never hold fewer sequences than BF16")
    ok(by[("h100", "llama3.1-70b", "bf16_kv_bf16", 1, 4096)] == 0, "70B BF16 does not fit one H100")
    ok(by[("h100", "llama3.1-8b", "bf16_kv_bf16", 1, 4096)] ==
       int((0.9 * 81559 * MIB - 2 * 8030261248) // (131072 * 4096)), "8B BF16 on one H100 at 4K: the formula by hand")
    if path:
        try:
            committed = json.load(open(path))
            ok(committed == json.loads(json.dumps(build(committed["context"]["util"]))),
               "%s is this script's output" % path)
        except (OSError, ValueError, KeyError) as e:
            ok(False, "%s readable (%s)" % (path, e))
    return 1 if fails else 0


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="")
    ap.add_argument("--util", type=float, default=0.90)
    ap.add_argument("--check", nargs="?", const="", default=None)
    a = ap.parse_args(argv)
    if a.check is not None:
        return check(a.check)
    d = build(a.util)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(d, f, indent=1)
            f.write("\n")
    lc = d["context"]["lesson_check"]
    print("lesson: %s\n  true: %d B/token x 32768 x 16 = %d bytes = %.1f GB = %.0f GiB (BF16); FP8 %.1f GB = %.0f GiB"
          % (lc["claim"], lc["kv_bytes_per_token_bf16"], lc["bf16_bytes"], lc["bf16_gb"], lc["bf16_gib"],
             lc["fp8_gb"], lc["fp8_gib"]))
    print("%-5s %-14s %-13s %8s %8s %8s %8s %8s %8s   (sequences, one GPU, util %.2f)"
          % (("gpu", "model", "config") + tuple("L=%dK" % (L // 1024) for L in CONTEXTS) + (a.util,)))
    for gpu in GPUS:
        for m in MODELS:
            for c in CONFIGS:
                r = [x for x in d["rows"] if x["gpu"] == gpu and x["model"] == m and x["config"] == c]
                print("%-5s %-14s %-13s " % (gpu, m, c) + " ".join(
                    "%8d" % x["sequences"] if x["weights_fit"] else "%8s" % "no fit" for x in r))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
