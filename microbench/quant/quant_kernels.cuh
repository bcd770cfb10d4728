// Quantization kernels on the GPU, built on codec/fp8.h and codec/fp8_quant.h:
// the scale rules are the codec's (called in device code), the element is
// q = fp8((x * p) * r) with r = 1 / (s * p) exactly as fp8_quant.h does, so
// every kernel is bit-exact against the CPU codec (checked by quant --check).
//
// Every kernel comes in two element paths: HW = the hardware conversion
// (cvt.rn.satfinite.{e4m3x2,e5m2x2}.f32 through the codec's float
// functions), SW = the codec's integer software path (fp8_*_bits).
//
// Layouts: x is FP32 or BF16, 16-byte vectors per thread (4 FP32 or 8 BF16
// elements); q is FP8 bytes; scales FP32 or E8M0 bytes.
//   tensor   amax pass (atomicMax on bit patterns) + cast pass; or one pass
//            with a delayed scale from an amax history (Transformer Engine's
//            recipe), which also records this tensor's amax into the history.
//   blocks   1 x B along the contiguous dimension (B = 128 for DeepSeek-V3
//            activations, B = 32 for OCP MX): B / V lanes own one block and
//            reduce its amax with warp shuffles; no shared memory.
//   tiles    128 x 128 of a row-major matrix (DeepSeek-V3 weights): one CTA of
//            256 threads holds its tile in registers (64 elements a thread),
//            reduces, scales, casts: one pass over memory.
//   dequant  q * s to FP32 or BF16, the scale read per element group.
// Measured speed against the copy ceiling: see README (quant table), from
// results/<gpu>/quant.json.
#pragma once

#include "../../codec/fp8_quant.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#ifndef QUANT_ROWS
#define QUANT_ROWS 4 // rows a warp step in blocks_quant; on H100 4 beat 2 and 8 (occupancy vs bytes in flight)
#endif

namespace quant {

enum Fmt { E4M3 = 0, E5M2 = 1 };
enum ScaleKind { F32 = 0, F32_POW2 = 1, E8M0_OCP = 2, E8M0_CEIL = 3 };

// ---- elements ----

template <int FMT, bool HW> __device__ __forceinline__ uint32_t enc4(float a, float b, float c, float d)
{
    if constexpr (HW) {
        uint32_t lo = FMT ? fp8_e5m2x2_from_f32(a, b) : fp8_e4m3x2_from_f32(a, b);
        uint32_t hi = FMT ? fp8_e5m2x2_from_f32(c, d) : fp8_e4m3x2_from_f32(c, d);
        return lo | (hi << 16);
    }
    auto e = [](float v) -> uint32_t {
        uint32_t u = __float_as_uint(v);
        return FMT ? fp8_e5m2_from_f32_bits(u) : fp8_e4m3_from_f32_bits(u);
    };
    return e(a) | (e(b) << 8) | (e(c) << 16) | (e(d) << 24);
}

template <int FMT, bool HW> __device__ __forceinline__ void dec4(uint32_t q, float *o)
{
    if constexpr (HW) { // cvt.rn.f16x2.{e4m3x2,e5m2x2}: exact, then FP16 -> FP32 exact
        uint32_t h01, h23;
        const uint16_t lo = (uint16_t)q, hi = (uint16_t)(q >> 16);
        if (FMT) {
            asm("cvt.rn.f16x2.e5m2x2 %0, %1;" : "=r"(h01) : "h"(lo));
            asm("cvt.rn.f16x2.e5m2x2 %0, %1;" : "=r"(h23) : "h"(hi));
        } else {
            asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(h01) : "h"(lo));
            asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(h23) : "h"(hi));
        }
        const __half2 a = *reinterpret_cast<const __half2 *>(&h01), b = *reinterpret_cast<const __half2 *>(&h23);
        o[0] = __low2float(a); o[1] = __high2float(a); o[2] = __low2float(b); o[3] = __high2float(b);
    } else {
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const uint8_t c = (uint8_t)(q >> (8 * k));
            o[k] = __uint_as_float(FMT ? fp8_e5m2_to_f32_bits(c) : fp8_e4m3_to_f32_bits(c));
        }
    }
}

// Two FP32 to BF16 (lo in the low half), round to nearest even: the hardware
// cvt (canonical NaN) or the codec's software path (NaN keeps its sign).
template <bool HW> __device__ __forceinline__ uint32_t bf16x2(float lo, float hi)
{
    if constexpr (HW) {
        uint32_t r;
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
        return r;
    } else {
        return bf16_from_f32_bits(__float_as_uint(lo)) | ((uint32_t)bf16_from_f32_bits(__float_as_uint(hi)) << 16);
    }
}

// Source vectors: V elements (16 bytes) as FP32 values; BF16 widens exactly.
template <class T> struct Vec;
template <> struct Vec<float> {
    static constexpr int V = 4;
    static __device__ __forceinline__ void load(const float *p, float *o)
    {
        const float4 v = __ldcs(reinterpret_cast<const float4 *>(p)); // streamed once
        o[0] = v.x; o[1] = v.y; o[2] = v.z; o[3] = v.w;
    }
};
template <> struct Vec<uint16_t> {
    static constexpr int V = 8;
    static __device__ __forceinline__ void load(const uint16_t *p, float *o)
    {
        const uint4 v = __ldcs(reinterpret_cast<const uint4 *>(p));
        const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
        for (int k = 0; k < 4; k++) {
            o[2 * k] = __uint_as_float(w[k] << 16);
            o[2 * k + 1] = __uint_as_float(w[k] & 0xFFFF0000u);
        }
    }
};

__device__ __forceinline__ uint32_t fmag(float v) { return fp8kit_q_fmag(__float_as_uint(v)); }

// The codec's scale for a group with amax bits m: FP32 scale s, and the
// E8M0 code where the kind has one.
template <int FMT, int KIND> __device__ __forceinline__ float group_scale(uint32_t m, uint8_t *code)
{
    const float amax = __uint_as_float(m);
    if (KIND == F32) return fp8_scale_rule_f32(FMT, amax);
    if (KIND == F32_POW2) return fp8_scale_rule_pow2_f32(FMT, amax);
    *code = fp8_scale_rule_e8m0(FMT, KIND == E8M0_CEIL ? FP8_E8M0_CEIL : FP8_E8M0_OCP, amax);
    return fp8_e8m0_to_f32(*code);
}

// p and r of fp8_quant.h: q = fp8((x * p) * r).
struct Apply {
    float p, r;
    __device__ __forceinline__ explicit Apply(float s) : p(fp8kit_q_pre(s)), r(1.0f / (s * fp8kit_q_pre(s))) {}
    __device__ __forceinline__ float operator()(float x) const { return (x * p) * r; }
};

// ---- per-tensor ----

// amax over n elements into *amax_bits (atomicMax; *amax_bits starts at 0).
template <class T> __global__ void tensor_amax(const T *x, size_t n, uint32_t *amax_bits)
{
    constexpr int V = Vec<T>::V;
    uint32_t m = 0;
    const size_t nv = n / V, stride = (size_t)gridDim.x * blockDim.x;
    constexpr int U = 4; // vectors in flight a thread
    for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += U * stride) {
        float v[U][V];
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv) Vec<T>::load(x + (i0 + u * stride) * V, v[u]);
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv)
#pragma unroll
                for (int k = 0; k < V; k++) m = max(m, fmag(v[u][k]));
    }
#pragma unroll
    for (int o = 16; o; o >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) atomicMax(amax_bits, m);
}

// Cast with the scale of amax bits *amax_bits (current scaling: after
// tensor_amax), or of max(history[0..hist)) (delayed scaling: then this
// tensor's amax goes to *record). The scale is written to *scale_out.
template <class T, int FMT, bool HW, bool DELAYED>
__global__ void tensor_cast(const T *x, size_t n, uint8_t *q, const uint32_t *amax_bits, int hist, uint32_t *record,
                            float *scale_out)
{
    constexpr int V = Vec<T>::V;
    uint32_t m = 0;
    if (DELAYED)
        for (int h = 0; h < hist; h++) m = max(m, amax_bits[h]);
    else
        m = *amax_bits;
    uint8_t code;
    const float s = group_scale<FMT, F32>(m, &code);
    if (blockIdx.x == 0 && threadIdx.x == 0) *scale_out = s;
    const Apply ap(s);
    uint32_t cur = 0;
    constexpr int U = 4; // vectors in flight a thread
    const size_t nv = n / V, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += U * stride) {
        float v[U][V];
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv) Vec<T>::load(x + (i0 + u * stride) * V, v[u]);
#pragma unroll
        for (int u = 0; u < U; u++) {
            const size_t i = i0 + u * stride;
            if (i >= nv) break;
            uint32_t w[V / 4];
#pragma unroll
            for (int k = 0; k < V / 4; k++) {
                w[k] = enc4<FMT, HW>(ap(v[u][4 * k]), ap(v[u][4 * k + 1]), ap(v[u][4 * k + 2]), ap(v[u][4 * k + 3]));
                if (DELAYED)
#pragma unroll
                    for (int j = 0; j < 4; j++) cur = max(cur, fmag(v[u][4 * k + j]));
            }
            if (V == 4) reinterpret_cast<uint32_t *>(q)[i] = w[0];
            else reinterpret_cast<uint2 *>(q)[i] = make_uint2(w[0], w[V / 4 - 1]);
        }
    }
    if (DELAYED) {
#pragma unroll
        for (int o = 16; o; o >>= 1) cur = max(cur, __shfl_xor_sync(0xffffffffu, cur, o));
        if ((threadIdx.x & 31) == 0) atomicMax(record, cur);
    }
}

// ---- 1 x B blocks ----

// A warp step covers R rows of 32 vectors: lanes per block L = B / V, so a
// row holds GPR = 32 / L blocks and a step NB = R * GPR blocks. Each row's
// amax is reduced over its L lanes with shuffles; then lane t gathers the
// amax of block t of the step and computes that block's scale, so one warp
// runs the scale rule (an FP64 division) once for up to 32 blocks instead of
// once a block; the scales go back to the lanes by shuffles. All R rows are
// loaded before any is used: R x 16 bytes in flight a thread.
// Scales: FP32 (sf) or E8M0 (se) by KIND. n must be a multiple of B.
template <class T, int FMT, bool HW, int B, int KIND>
__global__ void blocks_quant(const T *x, size_t n, uint8_t *q, float *sf, uint8_t *se)
{
    constexpr int V = Vec<T>::V, L = B / V, R = QUANT_ROWS, GPR = 32 / L, NB = R * GPR, SPL = (NB + 31) / 32;
    static_assert(L >= 1 && L <= 32 && (32 % L) == 0, "block must be 16-byte vectors, at most a warp");
    const int lane = threadIdx.x & 31;
    const size_t nv = n / V, steps = (nv + 32 * R - 1) / (32 * R);
    const size_t nwarps = (size_t)gridDim.x * blockDim.x / 32;
    for (size_t st = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32; st < steps; st += nwarps) {
        const size_t base = st * 32 * R; // first vector of the step
        float v[R][V];
        uint32_t m[R];
#pragma unroll
        for (int r = 0; r < R; r++) {
            const size_t i = base + r * 32 + lane;
            if (i < nv) Vec<T>::load(x + i * V, v[r]);
            else
#pragma unroll
                for (int k = 0; k < V; k++) v[r][k] = 0.0f;
        }
#pragma unroll
        for (int r = 0; r < R; r++) {
            m[r] = 0;
#pragma unroll
            for (int k = 0; k < V; k++) m[r] = max(m[r], fmag(v[r][k]));
#pragma unroll
            for (int o = L / 2; o; o >>= 1) m[r] = max(m[r], __shfl_xor_sync(0xffffffffu, m[r], o));
        }
        // lane t: block t (and t + 32) of the step
        float sp[SPL], sr[SPL];
#pragma unroll
        for (int j = 0; j < SPL; j++) {
            const int b = lane + 32 * j, rb = b / GPR, g = b % GPR;
            uint32_t mine = 0;
#pragma unroll
            for (int r = 0; r < R; r++) {
                const uint32_t val = __shfl_sync(0xffffffffu, m[r], g * L);
                if (r == rb) mine = val;
            }
            uint8_t code = 0;
            const float s = group_scale<FMT, KIND>(mine, &code);
            const Apply ap(s);
            sp[j] = ap.p;
            sr[j] = ap.r;
            const size_t gb = base * V / B + b; // block index in the tensor
            if (b < NB && gb * B < n) {
                if (KIND >= E8M0_OCP) se[gb] = code;
                else sf[gb] = s;
            }
        }
#pragma unroll
        for (int r = 0; r < R; r++) {
            const size_t i = base + r * 32 + lane;
            const int j = r * GPR / 32, src = (r * GPR + lane / L) % 32;
            Apply ap(1.0f);
            ap.p = __shfl_sync(0xffffffffu, sp[j], src);
            ap.r = __shfl_sync(0xffffffffu, sr[j], src);
            if (i >= nv) continue;
            uint32_t w[V / 4];
#pragma unroll
            for (int k = 0; k < V / 4; k++)
                w[k] = enc4<FMT, HW>(ap(v[r][4 * k]), ap(v[r][4 * k + 1]), ap(v[r][4 * k + 2]), ap(v[r][4 * k + 3]));
            if (V == 4) reinterpret_cast<uint32_t *>(q)[i] = w[0];
            else reinterpret_cast<uint2 *>(q)[i] = make_uint2(w[0], w[V / 4 - 1]);
        }
    }
}

// ---- 128 x 128 tiles ----

// One CTA of 256 threads a tile; thread t owns rows t/16 + 16*j (j < 8) and
// the V-element vector at column (t % 16) * V ... repeated to cover 128
// columns. rows and cols multiples of 128 for this kernel; ld in elements.
template <class T, int FMT, bool HW>
__global__ void __launch_bounds__(256) tiles_quant(const T *x, size_t ld, int rows, int cols, uint8_t *q, size_t ldq,
                                                   float *sf)
{
    constexpr int V = Vec<T>::V, VPR = 128 / V, TPR = 256 / VPR, N = 128 / TPR; // vectors a row, thread rows
    const int tr = blockIdx.y, tc = blockIdx.x;
    const int cv = threadIdx.x % VPR, r0 = threadIdx.x / VPR;
    float v[N][V];
    uint32_t m = 0;
#pragma unroll
    for (int j = 0; j < N; j++) {
        const size_t row = (size_t)tr * 128 + r0 + j * TPR;
        Vec<T>::load(x + row * ld + (size_t)tc * 128 + cv * V, v[j]);
#pragma unroll
        for (int k = 0; k < V; k++) m = max(m, fmag(v[j][k]));
    }
    __shared__ uint32_t red[8];
#pragma unroll
    for (int o = 16; o; o >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = m;
    __syncthreads();
    m = red[0];
#pragma unroll
    for (int w = 1; w < 8; w++) m = max(m, red[w]);
    uint8_t code;
    const float s = group_scale<FMT, F32>(m, &code);
    if (threadIdx.x == 0) sf[(size_t)tr * (cols / 128) + tc] = s;
    const Apply ap(s);
#pragma unroll
    for (int j = 0; j < N; j++) {
        const size_t row = (size_t)tr * 128 + r0 + j * TPR;
        uint32_t w[V / 4];
#pragma unroll
        for (int k = 0; k < V / 4; k++)
            w[k] = enc4<FMT, HW>(ap(v[j][4 * k]), ap(v[j][4 * k + 1]), ap(v[j][4 * k + 2]), ap(v[j][4 * k + 3]));
        uint8_t *dst = q + row * ldq + (size_t)tc * 128 + cv * V;
        if (V == 4) *reinterpret_cast<uint32_t *>(dst) = w[0];
        else *reinterpret_cast<uint2 *>(dst) = make_uint2(w[0], w[V / 4 - 1]);
    }
}

// ---- dequantization: y = fp8(q) * s, groups of G elements share a scale ----

// Each thread decodes C codes (4 for FP32 output: one 16-byte store; 8 for
// BF16: one 16-byte store), two groups in flight, so that consecutive
// threads store consecutive 16 bytes. Scale of element e: G = 0: one for the
// tensor; cols = 0: scale e / G (1 x G blocks); cols > 0: the 128 x 128 tile
// of e in a row-major matrix of that many columns. KIND F32: FP32 scales;
// E8M0_*: E8M0 codes. OUT float or uint16_t (BF16 bits, by the codec's
// round-to-nearest-even, as fp8_quant.h does).
template <int FMT, bool HW, int KIND, class OUT>
__global__ void dequant(const uint8_t *q, size_t n, const float *sf, const uint8_t *se, int G, size_t cols, OUT *y)
{
    constexpr int C = sizeof(OUT) == 4 ? 4 : 8, U = 2;
    const size_t nv = n / C, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += U * stride) {
        uint32_t w[U][C / 4];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const size_t i = i0 + u * stride;
            if (i >= nv) break;
            if (C == 4) w[u][0] = __ldcs(reinterpret_cast<const uint32_t *>(q) + i);
            else { const uint2 c = __ldcs(reinterpret_cast<const uint2 *>(q) + i); w[u][0] = c.x; w[u][C / 4 - 1] = c.y; }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            const size_t i = i0 + u * stride;
            if (i >= nv) break;
            const size_t e = i * C;
            const size_t g = cols ? (e / cols / 128) * (cols / 128) + (e % cols) / 128 : G ? e / G : 0;
            const float s = KIND >= E8M0_OCP ? fp8_e8m0_to_f32(se[g]) : sf[g];
            float f[C];
#pragma unroll
            for (int k = 0; k < C / 4; k++) dec4<FMT, HW>(w[u][k], f + 4 * k);
#pragma unroll
            for (int k = 0; k < C; k++) f[k] *= s;
            if (C == 4) {
                __stcs(reinterpret_cast<float4 *>(y) + i, make_float4(f[0], f[1], f[2], f[3]));
            } else {
                uint32_t h[4];
#pragma unroll
                for (int k = 0; k < 4; k++) h[k] = bf16x2<HW>(f[2 * k], f[2 * k + 1]);
                __stcs(reinterpret_cast<uint4 *>(y) + i, make_uint4(h[0], h[1], h[2], h[3]));
            }
        }
    }
}

} // namespace quant
