// attn_merge: the flash-decoding merge of attn_decode.cuh's context splits
// as a kernel of its own, for the decode step (Params::defer_merge): the
// attention CTAs only write their parts, and this kernel, launched next,
// folds them and writes the attention output
//
//   ws   the attention's workspace: O [B*Hkv][nsplit][G][128] FP32, then
//        (m, l) [B*Hkv][nsplit][G][2] (m in log2 units, -inf: empty split)
//   out  [B][Hq][128] BF16 = sum_s 2^(m_s - M) O_s / sum_s 2^(m_s - M) l_s
//        times v_scale of the KV head (FP8 KV), or
//   yq   [B][Hq * 128] E4M3 codes with per-token scales ys [B] (amax/448)
//        of that BF16-rounded output: the W8A8 O projection's input, what
//        token_quant.cuh's quant_rows would make of `out`.
// The fold is the attention kernel's own (8 splits loaded at once, a
// running maximum), so both give the same bits.
//
// How: one CTA a (sequence, KV head): its G heads x 128 outputs, 8 a
// thread, in registers. With E4M3 out the CTAs of a sequence form a
// thread-block cluster (Hkv <= 8) and meet their amax through distributed
// shared memory. This replaces, on the W8A8 path, the attention's last-CTA
// merge (an acq_rel counter, then the parts' L2 round trips) and the
// quantization kernel after it.
#pragma once

#include "attn_decode.cuh"
#include "token_quant.cuh"

#include <algorithm>
#include <cooperative_groups.h>

namespace attn {

struct MergeParams {
    const float *ws;
    const float *v_scale; // [Hkv], FP8 KV; nullptr: 1
    __nv_bfloat16 *out;   // or nullptr
    uint8_t *yq;          // or nullptr (then out)
    float *ys;
    int B, Hq, Hkv, nsplit;
};

__global__ void attn_merge_kernel(const MergeParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL)
    dec::pdl_trigger();
    const int b = blockIdx.x / p.Hkv, h = blockIdx.x % p.Hkv, G = p.Hq / p.Hkv;
    const int hd = threadIdx.x / (HD / 8), d = threadIdx.x % (HD / 8) * 8; // this thread's head and d
    const bool mine = hd < G;
    const size_t item = (size_t)b * p.Hkv + h;
    float y[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    dec::pdl_wait(); // the attention's parts
    if (mine) {
        const float4 *col = reinterpret_cast<const float4 *>(p.ws + (item * p.nsplit * G + hd) * HD + d);
        const float2 *stat =
            reinterpret_cast<const float2 *>(p.ws + (size_t)p.B * p.Hkv * p.nsplit * G * HD) + item * p.nsplit * G + hd;
        const size_t stride = (size_t)G * HD / 4; // float4s from one split to the next
        float M = -INFINITY, Ls = 0.f, acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
        constexpr int CH = 8;
        for (int s0 = 0; s0 < p.nsplit; s0 += CH) {
            float4 v[CH][2];
            float2 ml[CH];
#pragma unroll
            for (int i = 0; i < CH; i++) { // past nsplit: the last split again, masked below
                const int sp = min(s0 + i, p.nsplit - 1);
                v[i][0] = __ldcg(col + sp * stride);
                v[i][1] = __ldcg(col + sp * stride + 1);
                ml[i] = __ldcg(stat + (size_t)sp * G);
            }
            float Mc = M;
#pragma unroll
            for (int i = 0; i < CH; i++)
                if (s0 + i < p.nsplit) Mc = fmaxf(Mc, ml[i].x);
            if (Mc == -INFINITY) continue; // every split so far empty
            const float r = M == -INFINITY ? 0.f : exp2f(M - Mc);
            Ls *= r;
#pragma unroll
            for (int k = 0; k < 8; k++) acc[k] *= r;
#pragma unroll
            for (int i = 0; i < CH; i++) {
                const float f = s0 + i < p.nsplit && ml[i].x != -INFINITY ? exp2f(ml[i].x - Mc) : 0.f;
                Ls = fmaf(ml[i].y, f, Ls);
                acc[0] = fmaf(v[i][0].x, f, acc[0]), acc[1] = fmaf(v[i][0].y, f, acc[1]);
                acc[2] = fmaf(v[i][0].z, f, acc[2]), acc[3] = fmaf(v[i][0].w, f, acc[3]);
                acc[4] = fmaf(v[i][1].x, f, acc[4]), acc[5] = fmaf(v[i][1].y, f, acc[5]);
                acc[6] = fmaf(v[i][1].z, f, acc[6]), acc[7] = fmaf(v[i][1].w, f, acc[7]);
            }
            M = Mc;
        }
        const float vs = p.v_scale ? p.v_scale[h] : 1.f;
        const float sc = Ls > 0.f ? vs / Ls : 0.f; // an empty sequence gives 0
#pragma unroll
        for (int k = 0; k < 8; k++) y[k] = dec::round_bf16(acc[k] * sc);
    }
    const size_t e = ((size_t)b * p.Hq + h * G + hd) * HD + d; // element of out / yq
    if (!p.yq) {
        if (mine) step::store8_bf16(p.out + e, y);
        return;
    }
    // E4M3: the sequence's amax over the cluster (its Hkv CTAs)
    cooperative_groups::cluster_group cluster = cooperative_groups::this_cluster();
    __shared__ float cta_max;
    float amax = 0.f;
#pragma unroll
    for (int k = 0; k < 8; k++) amax = fmaxf(amax, fabsf(y[k]));
    amax = step::block_max(amax);
    if (threadIdx.x == 0) cta_max = amax;
    cluster.sync(); // every CTA's amax is written
    for (int r = 0; r < p.Hkv; r++) amax = fmaxf(amax, *cluster.map_shared_rank(&cta_max, r));
    const float ts = step::token_scale(amax);
    if (mine) step::store8_e4m3(p.yq + e, y, 1.f / ts);
    if (h == 0 && threadIdx.x == 0) p.ys[b] = ts;
    cluster.sync(); // no CTA leaves while another may still read its cta_max
}

constexpr int MERGE_MAX_CLUSTER = 8;

inline void merge(const MergeParams &p, cudaStream_t st, bool pdl = false)
{
    if (p.yq && p.Hkv > MERGE_MAX_CLUSTER) {
        fprintf(stderr, "attn::merge to E4M3: Hkv = %d, at most %d (a cluster a sequence)\n", p.Hkv, MERGE_MAX_CLUSTER);
        exit(2);
    }
    cudaLaunchAttribute at[2];
    at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at[0].val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
    at[1].id = cudaLaunchAttributeClusterDimension;
    at[1].val.clusterDim.x = p.yq ? p.Hkv : 1, at[1].val.clusterDim.y = 1, at[1].val.clusterDim.z = 1;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = dim3(p.B * p.Hkv);
    cfg.blockDim = dim3((std::max(32, p.Hq / p.Hkv * (HD / 8)) + 31) / 32 * 32); // a thread per 8 outputs
    cfg.stream = st;
    cfg.attrs = at;
    cfg.numAttrs = 2;
    cudaLaunchKernelEx(&cfg, attn_merge_kernel, p);
}

} // namespace attn
