// rope_kv_append: the new token's rotary embedding and its append to the
// paged KV cache, one decode step, head dim 128:
//
//   qkv [B][(Hq + 2 Hkv) * 128] BF16, the fused QKV projection's output:
//       q heads, then k heads, then v heads, 128 contiguous values a head.
//   q_out [B][Hq][128] BF16 = RoPE(q)  (attn_decode.cuh's query layout)
//   K cache <- BF16(RoPE(k)), V cache <- v, at token position pos[b] of
//       sequence b: page table[b][pos >> page_shift], row pos & (P - 1) of
//       the pages [page][Hkv][P][128] (attn_decode.cuh's paged layout).
//       FP8 E4M3 KV: the BF16-rounded value times 1 / scale of its KV head
//       (k_scale[Hkv], v_scale[Hkv]), round to nearest even, saturating
//       (cvt.rn.satfinite through codec/fp8.h), as vLLM's cache write does.
//   RoPE, HF transformers' rotate_half convention (vLLM's neox style): the
//       pairs are (d, d + 64), d < 64, angle = pos * inv_freq[d] (FP32
//       product, then sincosf), x'[d] = x[d] cos - x[d+64] sin,
//       x'[d+64] = x[d+64] cos + x[d] sin. inv_freq [64] is computed on the
//       host with Llama-3.1's "llama3" frequency scaling (decode_step.cu).
//
// How: one warp a (token, head); lane j owns the pairs d = j and j + 32
// (rope_pair_store). Every replay of a step writes the same slot. Where the
// QKV projection runs our GEMV at up to 16 tokens, the decode step skips
// this kernel: the GEMV's epilogue calls rope_pair_store itself (gemv.cuh,
// Params::rope), one dependent launch fewer a layer.
//
// Speed: B x (Hq + 2 Hkv) x 256 bytes in; once a layer. Inside the step
// (decode_step --omit=rope, NOTES.md v7) ~3.8 us a layer at 8B, batch 1,
// almost all of it the launch's link in the chain.
#pragma once

#include "token_quant.cuh"

namespace step {

constexpr int ROPE_HD = 128;

struct RopeParams {
    const __nv_bfloat16 *qkv; // [B][(Hq + 2 Hkv) * 128]
    __nv_bfloat16 *q_out;     // [B][Hq][128]
    void *k_cache, *v_cache;  // this layer's pages: [page][Hkv][P][128], BF16 or E4M3
    const int *table;         // [B][table_stride] page ids
    int table_stride, page_shift;
    const int *pos;           // [B]: the new token's position (= tokens already cached)
    const float *inv_freq;    // [64]
    const float *k_scale, *v_scale; // [Hkv], FP8 KV only
    int B, Hq, Hkv;
    bool kv_fp8;
};

// One RoPE pair of head hh (q heads, then k heads, then v heads) of token
// b: lo = x[d], hi = x[d + 64], d < 64, the projection's BF16 outputs as
// floats. q and k are rotated; q goes to q_out, k and v to the cache.
__device__ inline void rope_pair_store(const RopeParams &p, int b, int hh, int d, float lo, float hi)
{
    const int pos = p.pos[b];
    if (hh < p.Hq + p.Hkv) {
        float s, c;
        sincosf((float)pos * p.inv_freq[d], &s, &c);
        const float l = lo, h = hi;
        lo = l * c - h * s;
        hi = h * c + l * s;
    }
    if (hh < p.Hq) {
        __nv_bfloat16 *dst = p.q_out + ((size_t)b * p.Hq + hh) * ROPE_HD;
        dst[d] = __float2bfloat16_rn(lo);
        dst[d + 64] = __float2bfloat16_rn(hi);
        return;
    }
    const bool is_v = hh >= p.Hq + p.Hkv;
    const int h = is_v ? hh - p.Hq - p.Hkv : hh - p.Hq;
    const int page = p.table[(size_t)b * p.table_stride + (pos >> p.page_shift)];
    const size_t row = ((((size_t)page * p.Hkv + h) << p.page_shift) + (pos & ((1 << p.page_shift) - 1))) * ROPE_HD;
    void *cache = is_v ? p.v_cache : p.k_cache;
    if (p.kv_fp8) {
        const float inv = 1.f / (is_v ? p.v_scale : p.k_scale)[h];
        uint8_t *dst = (uint8_t *)cache + row;
        dst[d] = fp8_e4m3_from_f32(round_bf16(lo) * inv);
        dst[d + 64] = fp8_e4m3_from_f32(round_bf16(hi) * inv);
    } else {
        __nv_bfloat16 *dst = (__nv_bfloat16 *)cache + row;
        dst[d] = __float2bfloat16_rn(lo);
        dst[d + 64] = __float2bfloat16_rn(hi);
    }
}

__global__ void rope_kv_append_kernel(const RopeParams p)
{
    // the attention after this kernel may launch now and stream the cache
    // (PDL); this one waits for the QKV projection
    dec::pdl_trigger();
    dec::pdl_wait();
    const int nh = p.Hq + 2 * p.Hkv;
    const int item = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (item >= p.B * nh) return;
    const int b = item / nh, hh = item % nh;
    const __nv_bfloat16 *src = p.qkv + ((size_t)b * nh + hh) * ROPE_HD;
    for (int d = threadIdx.x & 31; d < 64; d += 32)
        rope_pair_store(p, b, hh, d, __bfloat162float(src[d]), __bfloat162float(src[d + 64]));
}

inline void rope_kv_append(const RopeParams &p, cudaStream_t st, bool pdl = false)
{
    const int warps = p.B * (p.Hq + 2 * p.Hkv);
    dec::launch_pdl(pdl, rope_kv_append_kernel, dim3((warps + 7) / 8), dim3(256), 0, st, p);
}

} // namespace step
