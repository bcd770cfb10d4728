#!/usr/bin/env python3
"""The PyTorch reference for `build/decode_step --check`: one decode step of
the same small Llama-3.1-architecture model, in float64, from the dumped
weights, KV cache and inputs, compared with what the GPU step produced.

    python3 microbench/decode/step_reference.py DIR      # every case dumped in DIR
    python3 microbench/decode/step_reference.py --selftest

DIR holds one folder a case (manifest.json + raw little-endian tensors,
written by decode_step.cu's check mode): the weights exactly as the kernels
read them (BF16, or E4M3 codes and FP32 per-output-channel scales), the KV
cache before the step (logical [layer][b][kv head][token][128], BF16 or E4M3
codes with per-KV-head scales), the RoPE inverse frequencies the GPU used,
the positions, the input hidden states, and the GPU's outputs: logits, and
the new token's K and V as written into the cache.

The reference model (HF transformers' LlamaForCausalLM from the residual
stream on, float64 from the dequantized weights): RMSNorm (rms_norm_eps),
fused q/k/v projection (q heads, k heads, v heads), RoPE with HF's
rotate_half (pairs (d, d + 64)) at the token's position (angle = position x
inv_freq as one FP32 product, as HF and the GPU compute it), GQA attention
(query head i uses KV head i // G) with softmax over the cached tokens and
the new one, o projection, residual, RMSNorm, gate/up, SiLU(gate) * up,
down, residual; final RMSNorm and the LM head. Where the configuration
quantizes, the reference applies the same quantization, because it is part
of the model being served, not an error of the kernels:
  * FP8 KV: the new token's k and v are stored as E4M3 with the head's
    scale (saturating, round to nearest even), and attention reads them so;
  * W8A8 (FP8 weights): every linear layer's input is quantized per token
    to E4M3 with scale amax / 448; where the manifest's down_act_group
    (one entry a layer) is g > 0 (the GEMV path up to 16 tokens, where the
    gate_up GEMV's epilogue quantizes SiLU's output), that layer's down
    projection input has a scale per (token, g consecutive values) instead.
The dumped inv_freq is also checked against Llama-3.1's "llama3" rope
scaling computed here independently (theta 500000, factor 8, low/high
frequency factors 1/4, original context 8192).

Bounds (relative L2 error over all values of a tensor; NaN or Inf anywhere
fails). --selftest stands in for the GPU with this forward rounded to BF16
wherever the kernels store BF16 (residual, normed input, q/k/v, attention
output, projections, SiLU output, logits), and prints the worst errors that
gives over 18 synthetic cases. On 5 seeds (1, 100, 200, 300, 500; CPU,
torch 2.11) those were: logits 0.0079 (worst token 0.0088), new K/V 0.0043;
with FP8 KV, new K/V 0.020 (the GPU's and the reference's values differ by
the BF16 roundings before the cast, so some E4M3 codes land one step, 6-12%
of the value, apart); W8A8 logits 0.050 (worst token 0.076), new K/V 0.028,
with FP8 KV 0.039 (the same one-step effect on every linear layer's
input). The bounds are about twice those (FP32 accumulation order, the
attention kernel's BF16/FP16 probabilities and the FP8 tensor cores'
reduced-precision accumulation are not in the stand-in); the errors that
the self-test plants (interleaved RoPE pairs, RoPE at position + 1, a wrong
scale on the new K, a NaN) give 0.22 and more:
  logits: 2e-2, W8A8 1e-1; the worst token's logits: twice that;
  new K/V: 1e-2, FP8 KV 4e-2, W8A8 6e-2, W8A8 and FP8 KV 8e-2.
"""
import json
import math
import os
import shutil
import sys
import tempfile

BOUND_LOGITS = {False: 2e-2, True: 1e-1}  # by W8A8
BOUND_KV = {(False, False): 1e-2, (False, True): 4e-2, (True, False): 6e-2, (True, True): 8e-2}  # (W8A8, FP8 KV)
BOUND_INV_FREQ = 1e-6  # FP32 rounding of the table (6e-8) with room
WORST_TOKEN = 2.0  # the worst token's logits: this many times the bound  # FP32 rounding of the table (6e-8) with room


def e4m3_values():
    """The 256 E4M3 (OCP, 'fn') codes as floats; 0x7F and 0xFF are NaN."""
    out = []
    for c in range(256):
        s = -1.0 if c & 0x80 else 1.0
        e, m = (c >> 3) & 0xF, c & 7
        if e == 15 and m == 7:
            out.append(float("nan"))
        elif e == 0:
            out.append(s * m / 8.0 * 2.0 ** -6)
        else:
            out.append(s * (1.0 + m / 8.0) * 2.0 ** (e - 7))
    return out


def llama3_inv_freq(theta, dim, factor, low_ff, high_ff, orig):
    """HF transformers' _compute_llama3_parameters, in float64."""
    out = []
    low_wl, high_wl = orig / low_ff, orig / high_ff
    for i in range(0, dim, 2):
        inv = 1.0 / theta ** (i / dim)
        wl = 2 * math.pi / inv
        if wl < high_wl:
            v = inv
        elif wl > low_wl:
            v = inv / factor
        else:
            smooth = (orig / wl - low_ff) / (high_ff - low_ff)
            v = (1 - smooth) * inv / factor + smooth * inv
        out.append(v)
    return out


class Case:
    """One dumped case: the manifest and its tensors, as float64 values."""

    def __init__(self, torch, path):
        self.torch, self.path = torch, path
        with open(os.path.join(path, "manifest.json")) as f:
            self.m = json.load(f)
        self.e4m3 = torch.tensor(e4m3_values(), dtype=torch.float64)

    def raw(self, name):
        t = self.torch
        spec = self.m["tensors"][name]
        with open(os.path.join(self.path, spec["file"]), "rb") as f:
            data = bytearray(f.read())
        dt = {"bf16": t.bfloat16, "e4m3": t.uint8, "f32": t.float32, "i32": t.int32}[spec["dtype"]]
        x = t.frombuffer(data, dtype=dt) if data else t.empty(0, dtype=dt)
        n = 1
        for s in spec["shape"]:
            n *= s
        if x.numel() != n:
            raise ValueError("%s: %d values in %s, shape %s" % (name, x.numel(), spec["file"], spec["shape"]))
        return x.reshape(spec["shape"]), spec["dtype"]

    def has(self, name):
        return name in self.m["tensors"]

    def val(self, name):
        """Values as stored (E4M3 codes decoded, no scale applied), float64."""
        x, dt = self.raw(name)
        if dt == "e4m3":
            return self.e4m3[x.long()]
        return x.to(self.torch.float64)

    def weight(self, name):
        w = self.val(name + ".weight")
        if self.has(name + ".scale"):
            w = w * self.val(name + ".scale")[:, None]
        return w


def quant_e4m3(torch, x, s):
    """E4M3(x / s) * s: round to nearest even, saturating at 448 (PyTorch's cast)."""
    q = (x / s).clamp(-448.0, 448.0).to(torch.float32).to(torch.float8_e4m3fn).to(torch.float64)
    return q * s


def quant_tokens(torch, x):
    """Per-token (per-row) E4M3 with scale amax / 448 (1 for a zero row), dequantized."""
    s = x.abs().amax(dim=-1, keepdim=True) / 448.0
    s = torch.where(s > 0, s, torch.ones_like(s))
    return quant_e4m3(torch, x, s)


def quant_groups(torch, x, g):
    """E4M3 with a scale a (row, g consecutive values), amax / 448 (1 for an all-zero group), dequantized."""
    rows, K = x.shape
    return quant_tokens(torch, x.reshape(rows, K // g, g)).reshape(rows, K)


def forward(c, gpu_like=False, rope_pairs="half", pos_shift=0):
    """Logits [B][vocab] and the new token's k, v [layer][B][kv head][128].
    gpu_like: round to BF16 where the GPU kernels store BF16 (the self-test's
    stand-in for the GPU); rope_pairs / pos_shift: deliberate errors for the
    self-test."""
    torch = c.torch
    m = c.m
    B, H, I = m["batch"], m["hidden"], m["intermediate"]
    Hq, Hkv, D, nl = m["q_heads"], m["kv_heads"], m["head_dim"], m["layers"]
    G, eps = Hq // Hkv, m["rms_eps"]
    kv8 = m["kv"] == "e4m3"

    def r(x):
        return x.to(torch.bfloat16).to(torch.float64) if gpu_like else x

    def aq(x, on, group=0):
        return (quant_groups(torch, x, group) if group else quant_tokens(torch, x)) if on else r(x)

    def rms(x, g):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * g

    pos = c.raw("positions")[0].long()
    inv = c.raw("inv_freq")[0].to(torch.float32)
    ang = ((pos + pos_shift).to(torch.float32)[:, None] * inv[None, :]).to(torch.float64)  # FP32 product
    cos, sin = ang.cos()[:, None, :], ang.sin()[:, None, :]

    def rope(t):  # [B][heads][128]
        if rope_pairs == "half":  # HF rotate_half: (d, d + 64)
            a, b = t[..., : D // 2], t[..., D // 2:]
            return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)
        a, b = t[..., 0::2], t[..., 1::2]  # interleaved (Meta's original layout): wrong for HF checkpoints
        return torch.stack([a * cos - b * sin, b * cos + a * sin], dim=-1).flatten(-2)

    Lmax = m["max_cached"]
    t_idx = torch.arange(Lmax + 1)
    mask = t_idx[None, :] <= pos[:, None]  # [B][Lmax + 1]: cached tokens and the new one
    aq_on = m["act_quant"]
    h = c.val("input_hidden")
    kc, vc = c.val("k_cache"), c.val("v_cache")  # [layer][B][Hkv][Lmax][D], scales not applied
    new_k, new_v = [], []
    for l in range(nl):
        p = "layers.%d." % l
        ks = c.val(p + "k_scale")[None, :, None] if kv8 else None
        vs = c.val(p + "v_scale")[None, :, None] if kv8 else None
        x = aq(rms(h, c.val(p + "attn_norm")), aq_on)
        qkv = r(x @ c.weight(p + "qkv").T)
        q = qkv[:, : Hq * D].reshape(B, Hq, D)
        k = qkv[:, Hq * D: (Hq + Hkv) * D].reshape(B, Hkv, D)
        v = qkv[:, (Hq + Hkv) * D:].reshape(B, Hkv, D)
        q, k = r(rope(q)), r(rope(k))
        if kv8:
            k, v = quant_e4m3(torch, k, ks), quant_e4m3(torch, v, vs)
        new_k.append(k)
        new_v.append(v)
        K = torch.cat([kc[l], torch.zeros(B, Hkv, 1, D, dtype=torch.float64)], dim=2)
        V = torch.cat([vc[l], torch.zeros(B, Hkv, 1, D, dtype=torch.float64)], dim=2)
        if kv8:
            K, V = K * ks[..., None], V * vs[..., None]
        K[torch.arange(B), :, pos] = k
        V[torch.arange(B), :, pos] = v
        s = torch.einsum("bhgd,bhtd->bhgt", q.reshape(B, Hkv, G, D), K) / math.sqrt(D)
        s = s.masked_fill(~mask[:, None, None, :], float("-inf"))
        o = torch.einsum("bhgt,bhtd->bhgd", torch.softmax(s, dim=-1), V).reshape(B, Hq * D)
        h = r(h + r(aq(o, aq_on) @ c.weight(p + "o").T))
        x = aq(rms(h, c.val(p + "mlp_norm")), aq_on)
        gu = r(x @ c.weight(p + "gate_up").T)
        a = gu[:, :I] * torch.sigmoid(gu[:, :I]) * gu[:, I:]
        h = r(h + r(aq(a, aq_on, m.get("down_act_group", [0] * nl)[l]) @ c.weight(p + "down").T))
    x = aq(rms(h, c.val("final_norm")), m["head_act_quant"])
    logits = r(x @ c.weight("lm_head").T)
    return logits, torch.stack(new_k), torch.stack(new_v)


def rel_l2(torch, out, ref):
    if not bool(torch.isfinite(out).all()) or not bool(torch.isfinite(ref).all()):
        return float("inf")
    den = float(torch.linalg.norm(ref))
    return float(torch.linalg.norm(out - ref)) / (den if den > 0 else 1.0)


def check_case(torch, path, report=print):
    """Compares one dumped case; returns (failures, {quantity: error})."""
    c = Case(torch, path)
    m = c.m
    name = m["case"]
    ref_logits, ref_k, ref_v = forward(c)
    kv8 = m["kv"] == "e4m3"
    nk, nv = c.val("out.new_k"), c.val("out.new_v")
    if kv8:
        nl = m["layers"]
        ks = torch.stack([c.val("layers.%d.k_scale" % l) for l in range(nl)])[:, None, :, None]
        vs = torch.stack([c.val("layers.%d.v_scale" % l) for l in range(nl)])[:, None, :, None]
        nk, nv = nk * ks, nv * vs
    rope = m["rope"]
    want = torch.tensor(llama3_inv_freq(rope["theta"], m["head_dim"], rope["factor"], rope["low_freq_factor"],
                                        rope["high_freq_factor"], rope["original_max_position_embeddings"]),
                        dtype=torch.float64)
    got = c.val("inv_freq")
    inv_err = float(((got - want).abs() / want).max()) if bool(torch.isfinite(got).all()) else float("inf")
    w8a8 = bool(m["act_quant"] or m["head_act_quant"])
    kvb, lb = BOUND_KV[(bool(m["act_quant"]), kv8)], BOUND_LOGITS[w8a8]
    logits = c.val("out.logits")
    worst = max(rel_l2(torch, logits[b], ref_logits[b]) for b in range(m["batch"]))
    rows = [("logits (%s)" % m["linear_path"], rel_l2(torch, logits, ref_logits), lb),
            ("logits, worst of %d tokens" % m["batch"], worst, WORST_TOKEN * lb),
            ("new K, %d layers" % m["layers"], rel_l2(torch, nk, ref_k), kvb),
            ("new V, %d layers" % m["layers"], rel_l2(torch, nv, ref_v), kvb)]
    fails, errs = 0, {}
    for what, err, bound in rows:
        ok = err <= bound
        fails += not ok
        errs[what.split(" (")[0].split(" of")[0].split(",")[0] if "worst" not in what else "logits, worst token"] = err
        report("%s decode_step reference %s: %s rel err %.3g (bound %.3g)" % ("ok  " if ok else "FAIL", name, what,
                                                                             err, bound))
    ok = inv_err <= BOUND_INV_FREQ
    fails += not ok
    report("%s decode_step reference %s: inv_freq against llama3 rope scaling: max rel err %.3g (bound %.3g)"
           % ("ok  " if ok else "FAIL", name, inv_err, BOUND_INV_FREQ))
    return fails, errs


# ---------------------------------------------------------------- self-test

def write_case(torch, root, name, config, B, L, seed, mutate=None):
    """A synthetic dump in decode_step.cu's format: random weights and cache
    as the binary makes them, outputs from forward(gpu_like=True) (BF16 at
    every kernel boundary, the GPU's storage points), optionally mutated."""
    g = torch.Generator().manual_seed(seed)
    nl, H, I, Hq, Hkv, D, V = 2, 512, 1024, 8, 2, 128, 1000
    fp8w, kv8 = config != "bf16w_bf16kv", config == "fp8w_fp8kv"
    d = os.path.join(root, name)
    os.makedirs(d)
    tensors = {}

    def put(n, x, dt):
        if dt == "bf16":
            b = x.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        elif dt == "e4m3":
            b = x.to(torch.uint8).numpy().tobytes()
        elif dt == "f32":
            b = x.to(torch.float32).numpy().tobytes()
        else:
            b = x.to(torch.int32).numpy().tobytes()
        with open(os.path.join(d, n + ".bin"), "wb") as f:
            f.write(b)
        tensors[n] = {"file": n + ".bin", "dtype": dt, "shape": list(x.shape)}

    def codes(x):  # E4M3 codes of x, saturating
        return x.clamp(-448, 448).to(torch.float32).to(torch.float8_e4m3fn).view(torch.uint8)

    def linear(n, N, K):
        sd = 1 / math.sqrt(K)
        if fp8w:
            put(n + ".weight", codes(torch.randn(N, K, generator=g, dtype=torch.float64) * 100), "e4m3")
            put(n + ".scale", (0.5 + torch.rand(N, generator=g, dtype=torch.float64)) * sd / 100, "f32")
        else:
            put(n + ".weight", torch.randn(N, K, generator=g, dtype=torch.float64) * sd, "bf16")

    def norm(n):
        put(n, 0.5 + torch.rand(H, generator=g, dtype=torch.float64), "bf16")

    rope = dict(type="llama3", theta=500000.0, factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                original_max_position_embeddings=8192)
    inv = torch.tensor(llama3_inv_freq(500000.0, D, 8.0, 1.0, 4.0, 8192), dtype=torch.float64)
    put("inv_freq", inv, "f32")
    positions = torch.tensor([L - (b * 7) % (L // 2 + 1) for b in range(B)])
    put("positions", positions, "i32")
    put("input_hidden", torch.randn(B, H, generator=g, dtype=torch.float64), "bf16")
    kvdt = "e4m3" if kv8 else "bf16"
    kc, vc = [], []
    for l in range(nl):
        p = "layers.%d." % l
        norm(p + "attn_norm")
        linear(p + "qkv", (Hq + 2 * Hkv) * D, H)
        linear(p + "o", H, Hq * D)
        norm(p + "mlp_norm")
        linear(p + "gate_up", 2 * I, H)
        linear(p + "down", H, I)
        ak, av = 2 + 2 * torch.rand(Hkv, generator=g, dtype=torch.float64), 2 + 2 * torch.rand(Hkv, generator=g, dtype=torch.float64)
        k = (2 * torch.rand(B, Hkv, L, D, generator=g, dtype=torch.float64) - 1) * ak[None, :, None, None]
        v = (2 * torch.rand(B, Hkv, L, D, generator=g, dtype=torch.float64) - 1) * av[None, :, None, None]
        keep = (torch.arange(L)[None, :] < positions[:, None])[:, None, :, None]
        if kv8:
            put(p + "k_scale", ak / 448, "f32")
            put(p + "v_scale", av / 448, "f32")
            k = codes(k / (ak / 448).to(torch.float32).to(torch.float64)[None, :, None, None]) * keep
            v = codes(v / (av / 448).to(torch.float32).to(torch.float64)[None, :, None, None]) * keep
        kc.append(k * keep)
        vc.append(v * keep)
    norm("final_norm")
    linear("lm_head", V, H)
    put("k_cache", torch.stack(kc), kvdt)
    put("v_cache", torch.stack(vc), kvdt)
    aq = fp8w
    meta = {"format": "fp8kit decode_step check dump 1", "case": name, "config": config, "seed": seed,
            "weights": "e4m3_channel" if fp8w else "bf16", "kv": kvdt, "lm_head": "bf16",
            "act_quant": aq, "head_act_quant": False, "linear_path": "gemm_wgmma" if B > (16 if fp8w else 64) else "gemv",
            "down_act_group": [64 if fp8w and B <= 16 and l % 2 == 0 else 0 for l in range(nl)],
            "layers": nl, "hidden": H, "intermediate": I, "q_heads": Hq, "kv_heads": Hkv, "head_dim": D,
            "vocab": V, "rms_eps": 1e-5, "batch": B, "max_cached": L, "page_size": 64, "rope": rope}
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict(meta, tensors=tensors), f)
    c = Case(torch, d)
    kw = {} if mutate in (None, "nan", "scale") else {"rope_pairs": "interleaved"} if mutate == "rope" else {"pos_shift": 1}
    logits, nk, nv = forward(c, gpu_like=True, **kw)
    if mutate == "nan":
        logits[0, 3] = float("nan")
    if kv8:
        ks = torch.stack([c.val("layers.%d.k_scale" % l) for l in range(nl)])[:, None, :, None]
        vs = torch.stack([c.val("layers.%d.v_scale" % l) for l in range(nl)])[:, None, :, None]
        nk, nv = codes(nk / (2 * ks if mutate == "scale" else ks)), codes(nv / vs)  # scale: twice the head's
    elif mutate == "scale":
        nk = nk * 1.25
    put("out.logits", logits, "bf16")
    put("out.new_k", nk, kvdt)
    put("out.new_v", nv, kvdt)
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(dict(meta, tensors=tensors), f)
    return d


def selftest(torch, seed=1):
    """The comparison on synthetic dumps: BF16 rounding at the GPU's storage
    points must pass with room; NaN, the interleaved RoPE convention, an
    off-by-one position and a wrong KV scale must fail."""
    fails = 0
    root = tempfile.mkdtemp(prefix="step_ref_selftest_")
    try:
        worst = {}
        for config in ("bf16w_bf16kv", "fp8w_bf16kv", "fp8w_fp8kv"):
            for B in (1, 5, 70):
                for L in (7, 300):
                    name = "%s_b%d_l%d" % (config, B, L)
                    seed += 1
                    f, errs = check_case(torch, write_case(torch, root, name, config, B, L, seed), report=lambda s: None)
                    for k, e in errs.items():
                        key = (k, config != "bf16w_bf16kv", config == "fp8w_fp8kv")  # FP8 weights: W8A8
                        worst[key] = max(worst.get(key, 0), e)
                    if f:
                        print("FAIL decode_step reference self-test: a BF16-rounded synthetic case fails: %s" % name)
                        check_case(torch, os.path.join(root, name))
                        fails += 1
        for (k, w8a8, kv8), e in sorted(worst.items()):
            bound = BOUND_LOGITS[w8a8] if k.startswith("logits") else BOUND_KV[(w8a8, kv8)]
            bound *= WORST_TOKEN if "worst" in k else 1
            print("# ERR %s%s%s: worst rel err with BF16 rounding at the kernel boundaries %.3g (bound %.3g, %.1fx)"
                  % (k, ", W8A8" if w8a8 else "", ", FP8 KV" if kv8 else "", e, bound, bound / max(e, 1e-30)))
        if not fails:
            print("ok   decode_step reference self-test: 18 synthetic cases with BF16 rounding at every kernel boundary pass")
        for mutate, config, want in (("nan", "fp8w_fp8kv", "logits"), ("rope", "bf16w_bf16kv", "new K"),
                                     ("pos", "fp8w_bf16kv", "new K"), ("scale", "fp8w_fp8kv", "new K"),
                                     ("scale", "bf16w_bf16kv", "new K")):
            name = "bad_%s_%s" % (mutate, config)
            seed += 1
            f, errs = check_case(torch, write_case(torch, root, name, config, 5, 300, seed, mutate=mutate),
                                 report=lambda s: None)
            caught = f > 0 and errs[want] > max(BOUND_KV[(True, True)], BOUND_LOGITS[True])
            fails += not caught
            print("%s decode_step reference self-test: %s (%s) is caught: %s rel err %.3g"
                  % ("ok  " if caught else "FAIL", {"nan": "a NaN logit", "rope": "interleaved RoPE pairs",
                                                    "pos": "RoPE at position + 1", "scale": "a wrong scale on the new K"}[mutate],
                     config, want, errs[want]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return fails


def main(argv):
    try:
        import torch
    except ImportError:
        print("SKIPPED decode_step reference: PyTorch is not installed for %s (the step's outputs were only checked "
              "for NaN/Inf by the binary)" % sys.executable)
        return 0
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    if argv[1:2] == ["--selftest"]:
        return 1 if selftest(torch, int(argv[2]) if len(argv) > 2 else 1) else 0
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    root = argv[1]
    cases = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "manifest.json")))
    if not cases:
        print("FAIL decode_step reference: no dumped case in %s (run build/decode_step --check --check_dir=%s)" % (root, root))
        return 1
    print("# torch %s, float64 on the CPU; %d cases in %s" % (torch.__version__, len(cases), root))
    fails = 0
    for d in cases:
        try:
            fails += check_case(torch, os.path.join(root, d))[0]
        except (OSError, ValueError, KeyError) as e:
            print("FAIL decode_step reference %s: cannot read the dump: %s: %s" % (d, e.__class__.__name__, e))
            fails += 1
    print("# %d failed" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
