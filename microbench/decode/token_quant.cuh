// token_quant: per-token FP8 quantization of activations for the W8A8 GEMM
// path of the decode step (decode_step.cu), and the row helpers that
// rmsnorm.cuh and silu_mul.cuh share (block reductions, 8-wide BF16 loads
// and stores, the per-token scale).
//
//   x [M][K] BF16 row-major -> q [M][K] E4M3 codes, s [M] FP32:
//   s[m] = amax_k |x[m][k]| / 448 (1 for an all-zero row),
//   q[m][k] = E4M3(x[m][k] * (1 / s[m])), round to nearest even, saturating
//   (cvt.rn.satfinite through codec/fp8.h), so that x ~ q * s: the layout
//   and scales that gemm_wgmma's Epi::Rowwise takes as its A operand.
//   K must be a multiple of 8 and rows 16-byte aligned.
//
// How: one block a row (up to 1024 threads, 8 elements a thread a step,
// 16-byte loads); pass 1 finds the row's amax, pass 2 reads the row again
// (from L1/L2) and writes the codes. NaN propagates: fmaxf ignores it in the
// amax, but the NaN input converts to the E4M3 NaN code.
//
// Speed: not yet measured (it runs once a layer, on the attention output,
// only on the W8A8 path: M > 64 tokens with FP8 weights).
#pragma once

#include "../../codec/fp8.h"
#include "common.cuh"

#include <cuda_runtime.h>

namespace step {

constexpr float E4M3_MAX = 448.f;

// Threads a block for rows of `len` elements, 8 a thread: a multiple of 32,
// at most 1024.
inline int row_threads(int len)
{
    int t = (len / 8 + 31) / 32 * 32;
    return t < 32 ? 32 : t > 1024 ? 1024 : t;
}

// Reduction over the block (any multiple of 32 threads); every thread gets
// the result. `ident` is the operation's identity.
template <class Op>
__device__ __forceinline__ float block_reduce(float v, float ident, Op op)
{
    __shared__ float red[32];
#pragma unroll
    for (int o = 16; o; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    const int w = threadIdx.x >> 5, l = threadIdx.x & 31;
    __syncthreads(); // red[] is free: every thread has read it in a previous call
    if (l == 0) red[w] = v;
    __syncthreads();
    v = l < (int)(blockDim.x >> 5) ? red[l] : ident;
#pragma unroll
    for (int o = 16; o; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
struct OpAdd {
    __device__ float operator()(float a, float b) const { return a + b; }
};
struct OpMax {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
__device__ __forceinline__ float block_sum(float v) { return block_reduce(v, 0.f, OpAdd()); }
__device__ __forceinline__ float block_max(float v) { return block_reduce(v, 0.f, OpMax()); }

// 8 BF16 (16 bytes) <-> 8 floats.
__device__ __forceinline__ void load8(const __nv_bfloat16 *p, float (&f)[8])
{
    const uint4 u = *reinterpret_cast<const uint4 *>(p);
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const float2 t = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&w[i]));
        f[2 * i] = t.x;
        f[2 * i + 1] = t.y;
    }
}
__device__ __forceinline__ void store8_bf16(__nv_bfloat16 *p, const float (&f)[8])
{
    uint4 u;
    u.x = dec::pack_bf16x2(f[0], f[1]);
    u.y = dec::pack_bf16x2(f[2], f[3]);
    u.z = dec::pack_bf16x2(f[4], f[5]);
    u.w = dec::pack_bf16x2(f[6], f[7]);
    *reinterpret_cast<uint4 *>(p) = u;
}
// 8 codes E4M3(f * inv) (8 bytes).
__device__ __forceinline__ void store8_e4m3(uint8_t *p, const float (&f)[8], float inv)
{
    uint2 u;
    u.x = (uint32_t)fp8_e4m3x2_from_f32(f[0] * inv, f[1] * inv) |
          ((uint32_t)fp8_e4m3x2_from_f32(f[2] * inv, f[3] * inv) << 16);
    u.y = (uint32_t)fp8_e4m3x2_from_f32(f[4] * inv, f[5] * inv) |
          ((uint32_t)fp8_e4m3x2_from_f32(f[6] * inv, f[7] * inv) << 16);
    *reinterpret_cast<uint2 *>(p) = u;
}
__device__ __forceinline__ float round_bf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }

// The per-token scale of a row whose largest magnitude is amax.
__device__ __forceinline__ float token_scale(float amax) { return amax > 0.f ? amax / E4M3_MAX : 1.f; }

__global__ void quant_rows_kernel(const __nv_bfloat16 *x, uint8_t *q, float *s, int K, bool late_trigger)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL);
    // this one waits for the kernel before it (late_trigger, tuning: the
    // GEMV launches once that kernel has finished)
    if (!late_trigger) dec::pdl_trigger();
    dec::pdl_wait();
    if (late_trigger) dec::pdl_trigger();
    const size_t row = (size_t)blockIdx.x * K;
    const int step = blockDim.x * 8;
    float amax = 0.f;
    for (int k = threadIdx.x * 8; k < K; k += step) {
        float f[8];
        load8(x + row + k, f);
#pragma unroll
        for (int i = 0; i < 8; i++) amax = fmaxf(amax, fabsf(f[i]));
    }
    const float sc = token_scale(block_max(amax));
    const float inv = 1.f / sc;
    for (int k = threadIdx.x * 8; k < K; k += step) {
        float f[8];
        load8(x + row + k, f);
        store8_e4m3(q + row + k, f, inv);
    }
    if (threadIdx.x == 0) s[blockIdx.x] = sc;
}

inline void quant_rows(const __nv_bfloat16 *x, uint8_t *q, float *s, int M, int K, cudaStream_t st, bool pdl = false,
                       bool late_trigger = false)
{
    dec::launch_pdl(pdl, quant_rows_kernel, dim3(M), dim3(row_threads(K)), 0, st, x, q, s, K, late_trigger);
}

} // namespace step
