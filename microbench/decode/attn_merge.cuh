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
// How: one CTA a sequence (a token's row: Hq * 128 <= 16384 elements, up
// to MERGE_CHUNKS chunks of 8 a thread), the row in registers; with E4M3
// out, the amax is a block reduction. This replaces, on the W8A8 path, the
// attention's last-CTA merge (an acq_rel counter, then the parts' L2 round
// trips) and the quantization kernel after it.
#pragma once

#include "attn_decode.cuh"
#include "token_quant.cuh"

namespace attn {

struct MergeParams {
    const float *ws;
    const float *v_scale; // [Hkv], FP8 KV; nullptr: 1
    __nv_bfloat16 *out;   // or nullptr
    uint8_t *yq;          // or nullptr (then out)
    float *ys;
    int B, Hq, Hkv, nsplit;
};

constexpr int MERGE_CHUNKS = 2;

__global__ void attn_merge_kernel(const MergeParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL)
    dec::pdl_trigger();
    const int b = blockIdx.x, G = p.Hq / p.Hkv;
    const int row = p.Hq * HD;
    float y[MERGE_CHUNKS][8];
    dec::pdl_wait(); // the attention's parts
    float amax = 0.f;
#pragma unroll
    for (int c = 0; c < MERGE_CHUNKS; c++) {
        const int e = (threadIdx.x + c * blockDim.x) * 8; // element of the row
        if (e >= row) continue;
        const int qh = e / HD, d = e % HD, h = qh / G, hd = qh % G;
        const size_t item = (size_t)b * p.Hkv + h;
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
        for (int k = 0; k < 8; k++) {
            y[c][k] = dec::round_bf16(acc[k] * sc);
            amax = fmaxf(amax, fabsf(y[c][k]));
        }
        if (!p.yq) step::store8_bf16(p.out + (size_t)b * row + e, y[c]);
    }
    if (!p.yq) return;
    const float ts = step::token_scale(step::block_max(amax));
    const float inv = 1.f / ts;
#pragma unroll
    for (int c = 0; c < MERGE_CHUNKS; c++) {
        const int e = (threadIdx.x + c * blockDim.x) * 8;
        if (e < row) step::store8_e4m3(p.yq + (size_t)b * row + e, y[c], inv);
    }
    if (threadIdx.x == 0) p.ys[b] = ts;
}

inline void merge(const MergeParams &p, cudaStream_t st, bool pdl = false)
{
    const int row = p.Hq * HD;
    if (row > 1024 * 8 * MERGE_CHUNKS) {
        fprintf(stderr, "attn::merge: Hq * 128 = %d, at most %d\n", row, 1024 * 8 * MERGE_CHUNKS);
        exit(2);
    }
    dec::launch_pdl(pdl, attn_merge_kernel, dim3(p.B), dim3(step::row_threads(row)), 0, st, p);
}

} // namespace attn
