#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on a BF16 KV cache, decode shapes:
the baseline for attn_decode/fp8kit/* (issue 6).

One query token per sequence: q [B, Hq, 1, 128], k and v [B, Hkv, L, 128]
(contiguous), enable_gqa=True. Timed with CUDA events over batches of calls
that rotate through enough KV copies that none is in L2 (4x L2 between
reuses), median of the batches after warm-up; random normal data. Writes
Google-Benchmark-shaped JSON (name attn_decode/torch_sdpa/bf16/b<B>_l<L>_hq<Hq>_hkv<Hkv>_d128_contig,
real_time in us, counters gbps = KV bytes / time and frac_copy) and checks
one output per shape against an FP64 softmax(q k^T / sqrt(d)) v.

  python3 microbench/decode/sdpa_baseline.py [--quick] [--out FILE]
"""
import argparse
import json
import math
import os
import sys
import time


def read_attention(path):
    models, batches, contexts = [], [], []
    for line in open(path):
        line = line.split("#")[0].split()
        if not line:
            continue
        if line[0] == "batch":
            batches = [int(x) for x in line[1:]]
        elif line[0] == "context":
            contexts = [int(x) for x in line[1:]]
        elif len(line) >= 4:
            models.append((line[0], int(line[1]), int(line[2]), int(line[3])))
    return models, batches, contexts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="")
    ap.add_argument("--shapes", default="sweeps/attention.txt")
    ap.add_argument("--copy_gbps", type=float, default=0, help="measured copy bandwidth (else measured here)")
    args = ap.parse_args()
    import torch
    import torch.nn.functional as F

    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    l2 = props.L2_cache_size
    models, batches, contexts = read_attention(args.shapes)
    if args.quick:
        batches, contexts = [1, 16, 64], [4096, 32768]

    # copy bandwidth, read + write, 1 GiB, median of 10
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a = torch.empty(1 << 30, dtype=torch.uint8, device=dev)
    b = torch.empty_like(a)
    ts = []
    for i in range(13):
        e0.record()
        b.copy_(a)
        e1.record()
        e1.synchronize()
        if i >= 3:
            ts.append(e0.elapsed_time(e1))
    ts.sort()
    copy_gbps = args.copy_gbps or 2 * a.numel() / (ts[len(ts) // 2] * 1e-3) / 1e9
    del a, b

    free, total = torch.cuda.mem_get_info()
    out = {"context": {"gpu_name": props.name, "copy_gbps": "%.1f" % copy_gbps, "torch": torch.__version__,
                       "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "benchmarks": []}
    fails = 0
    for name, hq, hkv, d in models:
        for B in batches:
            for L in contexts:
                kv_bytes = 2 * B * hkv * L * d * 2
                copies = 1 if kv_bytes >= 4 * l2 else max(2, (4 * l2 + kv_bytes - 1) // kv_bytes + 1)
                bname = "attn_decode/torch_sdpa/bf16/b%d_l%d_hq%d_hkv%d_d%d_contig" % (B, L, hq, hkv, d)
                if kv_bytes * copies > 0.8 * free:
                    out["benchmarks"].append({"name": bname, "run_name": bname, "error_occurred": True,
                                              "error_message": "KV cache does not fit in GPU memory"})
                    continue
                q = torch.randn(B, hq, 1, d, device=dev, dtype=torch.bfloat16)
                kvs = [(torch.randn(B, hkv, L, d, device=dev, dtype=torch.bfloat16),
                        torch.randn(B, hkv, L, d, device=dev, dtype=torch.bfloat16)) for _ in range(copies)]
                # correctness, one output against FP64
                o = F.scaled_dot_product_attention(q, kvs[0][0], kvs[0][1], enable_gqa=True)
                g = hq // hkv
                k64 = kvs[0][0][:1].double().repeat_interleave(g, dim=1)
                v64 = kvs[0][1][:1].double().repeat_interleave(g, dim=1)
                s = (q[:1].double() @ k64.transpose(-1, -2)) / math.sqrt(d)
                ref = torch.softmax(s, dim=-1) @ v64
                err = ((o[:1].double() - ref).norm() / ref.norm()).item()
                ok = math.isfinite(err) and err < 1e-2
                fails += not ok
                print("%s %s: rel err %.3g (bound 0.01)" % ("ok  " if ok else "FAIL", bname, err), flush=True)
                del k64, v64, s, ref
                # timing: batches of calls >= ~2 ms
                for i in range(3):
                    F.scaled_dot_product_attention(q, kvs[i % copies][0], kvs[i % copies][1], enable_gqa=True)
                torch.cuda.synchronize()
                e0.record()
                for i in range(5):
                    F.scaled_dot_product_attention(q, kvs[i % copies][0], kvs[i % copies][1], enable_gqa=True)
                e1.record()
                e1.synchronize()
                per = max(e0.elapsed_time(e1) / 5, 1e-4)
                n = int(min(2000, max(5, math.ceil(2.0 / per))))
                times = []
                j = 0
                for rep in range(15):
                    e0.record()
                    for i in range(n):
                        F.scaled_dot_product_attention(q, kvs[j % copies][0], kvs[j % copies][1], enable_gqa=True)
                        j += 1
                    e1.record()
                    e1.synchronize()
                    times.append(e0.elapsed_time(e1) / n)
                times.sort()
                ms = times[len(times) // 2]
                gbps = kv_bytes / (ms * 1e-3) / 1e9
                out["benchmarks"].append({"name": bname, "run_type": "iteration", "iterations": n * 15,
                                          "real_time": ms * 1e3, "time_unit": "us", "gbps": gbps,
                                          "frac_copy": gbps / copy_gbps, "rotation": copies})
                del kvs, q, o
                torch.cuda.empty_cache()
    table = ["%-70s %9.1f us %8.0f GB/s %5.2f" % (b["name"], b["real_time"], b["gbps"], b["frac_copy"])
             for b in out["benchmarks"] if "gbps" in b]
    print("\n".join(table))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
