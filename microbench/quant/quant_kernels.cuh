// Quantization kernels on the GPU, built on codec/fp8.h and codec/fp8_quant.h:
// the scale rules are the codec's (called in device code), the element is
// q = fp8((x * p) * r) with r = 1 / (s * p) exactly as fp8_quant.h does, so
// every kernel is bit-exact against the CPU codec (checked by quant --check).
//
// Every kernel comes in two element paths: HW = the hardware conversion
// (cvt.rn.satfinite.{e4m3x2,e5m2x2}.f32 through the codec's float
// functions), SW = conversion in software with FP32 arithmetic and integer
// operations only (no FP8 or FP16 conversion instruction): sw_code below,
// which equals the codec's fp8_*_from_f32_bits for every FP32 input (quant
// --check runs both over all 2^32 inputs on the GPU). Build with
// -DQUANT_SW_CODEC to use the codec's fp8_*_bits functions themselves.
//
// Layouts: x is FP32 or BF16, 16-byte vectors per thread (4 FP32 or 8 BF16
// elements); q is FP8 bytes; scales FP32 or E8M0 bytes.
//   tensor   amax pass (atomicMax on bit patterns) + cast pass; or one pass
//            with a delayed scale from an amax history (Transformer Engine's
//            recipe), which also records this tensor's amax into the history.
//   tensor_1pass  current scaling in one pass over memory for tensors that
//            fit on chip: a persistent cooperative grid holds the tensor in
//            registers and shared memory, reduces the amax across the grid,
//            and casts from the on-chip copy.
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
#include "../gemm/hopper.cuh" // cp_async16, cp_async_wait_all

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <type_traits>

#ifndef QUANT_ROWS
// rows a warp step in blocks_quant. On the H200 (quant --variants=1, 1 GiB,
// 2026-11-30) 8 was best or within 1% of the best for block128 and mx32_ceil
// from FP32 and BF16, hardware and software paths (0.91-0.93 of copy; 4 rows:
// 0.85-0.92); with the older, costlier element path the H100 had preferred 4.
#define QUANT_ROWS 8
#endif

namespace quant {

enum Fmt { E4M3 = 0, E5M2 = 1 };
enum ScaleKind { F32 = 0, F32_POW2 = 1, E8M0_OCP = 2, E8M0_CEIL = 3 };

// ---- the software element path ----
//
// FP32 v -> FP8 code by one FP32 addition that rounds at the right place:
// with c = min(|v|, max) and 2^e its binade (e at least the format's
// smallest normal exponent emin), m = 2^(e + 23 - M) (M mantissa bits) has
// an ulp equal to the FP8 step at c, so t = c + m rounds c to the FP8 grid,
// ties to even, in the FP32 adder (no flush to zero on the GPU by default);
// t - m counts FP8 steps. m also carries an integer offset in its low
// mantissa bits, even and chosen so that the low byte of t's bit pattern is
// the FP8 code of c (exponent field and mantissa): one FMNMX, LOP3,
// VIADDMNMX, LEA.HI, FADD an element. NaN: min.NaN makes c the canonical NaN,
// t is NaN and its low byte 0xFF, which sw_merge turns into 0x7F whatever
// the sign. The sign is merged four codes at a time from the source's sign
// bits. quant --check compares sw_code with fp8_*_from_f32_bits for all 2^32
// FP32 inputs on the GPU.
template <int FMT> __device__ __forceinline__ uint32_t sw_code(float v)
{
    constexpr float MAXV = FMT ? 57344.0f : 448.0f;
    constexpr uint32_t M = FMT ? 2 : 3;                    // mantissa bits
    constexpr uint32_t SH = 23 - M;                        // m >> SH = 2^M (exponent field of m)
    constexpr uint32_t OFF = FMT ? 232u : 152u;            // low-byte offset: see above (even)
    constexpr uint32_t K1 = ((23u - M) << 23) + OFF;       // 2^e -> 2^(e + 23 - M), plus OFF
    constexpr uint32_t K2 = (FMT ? 0x43000000u : 0x46800000u) + OFF; // 2^(emin + 23 - M): subnormal FP8 step
    float c;
    asm("min.NaN.f32 %0, %1, %2;" : "=f"(c) : "f"(fabsf(v)), "f"(MAXV));
    const uint32_t e = __float_as_uint(c) & 0x7F800000u;
    const uint32_t m0 = (uint32_t)max((int)(e + K1), (int)K2); // NaN: e + K1 wraps negative, so K2
    const uint32_t m = m0 + (m0 >> SH);                  // low byte: 2^M (e - emin) mod 256, with OFF
    return __float_as_uint(__fadd_rn(c, __uint_as_float(m)));
}

// Four codes (low bytes of t0..t3, 0xFF for NaN) and the signs (bit 7 of
// each byte of `signs`) into one word: code | sign, but 0x7F for NaN.
__device__ __forceinline__ uint32_t sw_merge(uint32_t t0, uint32_t t1, uint32_t t2, uint32_t t3, uint32_t signs)
{
    const uint32_t c = __byte_perm(__byte_perm(t0, t1, 0x0040), __byte_perm(t2, t3, 0x0040), 0x5410);
    // (c & 0x7F7F7F7F) | (signs & ~c & 0x80808080) as one LOP3 (a = c, b = signs, c = 0x7F7F7F7F)
    uint32_t r;
    asm("lop3.b32 %0, %1, %2, %3, 0xA4;" : "=r"(r) : "r"(c), "r"(signs), "n"(0x7F7F7F7F));
    return r;
}

// One element: the byte of fp8_*_from_f32((x * p) * r) (v = that product;
// xb = the source's FP32 bits, for the sign).
template <int FMT, bool HW> __device__ __forceinline__ uint8_t enc1(float v, uint32_t xb)
{
    if constexpr (HW) return FMT ? fp8_e5m2_from_f32(v) : fp8_e4m3_from_f32(v);
#ifdef QUANT_SW_CODEC
    (void)xb;
    return FMT ? fp8_e5m2_from_f32_bits(__float_as_uint(v)) : fp8_e4m3_from_f32_bits(__float_as_uint(v));
#else
    const uint32_t t = sw_code<FMT>(v), s = xb >> 24;
    return (uint8_t)((t & 0x7Fu) | (s & ~t & 0x80u));
#endif
}

// Four elements into one word (element 0 in the low byte); signs: bit 7 of
// byte k is the sign of element k (the SW path's NaN rule needs them).
template <int FMT, bool HW>
__device__ __forceinline__ uint32_t enc4(float a, float b, float c, float d, uint32_t signs)
{
    if constexpr (HW) { // the codec's fp8_*x2_from_f32 instruction, both halves packed in PTX (no masking)
        uint32_t r;
        if (FMT)
            asm("{ .reg .b16 l, h;\n cvt.rn.satfinite.e5m2x2.f32 l, %2, %1;\n cvt.rn.satfinite.e5m2x2.f32 h, %4, %3;\n"
                " mov.b32 %0, {l, h}; }" : "=r"(r) : "f"(a), "f"(b), "f"(c), "f"(d));
        else
            asm("{ .reg .b16 l, h;\n cvt.rn.satfinite.e4m3x2.f32 l, %2, %1;\n cvt.rn.satfinite.e4m3x2.f32 h, %4, %3;\n"
                " mov.b32 %0, {l, h}; }" : "=r"(r) : "f"(a), "f"(b), "f"(c), "f"(d));
        (void)signs;
        return r;
    }
#ifdef QUANT_SW_CODEC
    (void)signs;
    auto e = [](float v) -> uint32_t {
        uint32_t u = __float_as_uint(v);
        return FMT ? fp8_e5m2_from_f32_bits(u) : fp8_e4m3_from_f32_bits(u);
    };
    return e(a) | (e(b) << 8) | (e(c) << 16) | (e(d) << 24);
#else
    return sw_merge(sw_code<FMT>(a), sw_code<FMT>(b), sw_code<FMT>(c), sw_code<FMT>(d), signs);
#endif
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

// ---- amax ----
//
// The codec's amax is the integer max of fmag(x) = |x| bits for finite x,
// 0 for Inf and NaN (three instructions an element). The same max in one:
// b(x) = (x << 1) + 2^24 drops the sign and maps finite |x| in order onto
// [2^24, 2^32) and Inf and NaN (|x| >= 0x7F800000) below 2^24, so max b
// decodes to max fmag (amax_decode). For a BF16 pair w (element 2j in the
// low half): w << 17 is the low element's b, w << 1 the high one's with the
// low element's bits below bit 17, where they only break ties: amax_decode
// masks them off. (quant --check checks the map for all 2^32 FP32 inputs.)
constexpr uint32_t AMAX_C = 0x01000000u;
__device__ __forceinline__ uint32_t amax_b(uint32_t xbits) { return (xbits << 1) + AMAX_C; }
template <class T> __device__ __forceinline__ uint32_t amax_decode(uint32_t b)
{
    const uint32_t a = b >= AMAX_C ? (b - AMAX_C) >> 1 : 0u;
    return sizeof(T) == 2 ? a & 0xFFFF0000u : a;
}

// ---- source vectors: 16 bytes, V elements, kept as raw words ----
template <class T> struct Vec;
template <> struct Vec<float> {
    static constexpr int V = 4;
    static __device__ __forceinline__ float val(const uint4 &w, int k)
    {
        return __uint_as_float(k == 0 ? w.x : k == 1 ? w.y : k == 2 ? w.z : w.w);
    }
    static __device__ __forceinline__ uint32_t amax(uint32_t b, const uint4 &w)
    {
        return max(max(b, max(amax_b(w.x), amax_b(w.y))), max(amax_b(w.z), amax_b(w.w)));
    }
    // bit 7 of byte k = sign of element 4g + k
    static __device__ __forceinline__ uint32_t signs(const uint4 &w, int)
    {
        return __byte_perm(__byte_perm(w.x, w.y, 0x0073), __byte_perm(w.z, w.w, 0x0073), 0x5410);
    }
};
template <> struct Vec<uint16_t> {
    static constexpr int V = 8;
    static __device__ __forceinline__ uint32_t word(const uint4 &w, int j)
    {
        return j == 0 ? w.x : j == 1 ? w.y : j == 2 ? w.z : w.w;
    }
    static __device__ __forceinline__ float val(const uint4 &w, int k)
    {
        const uint32_t u = word(w, k >> 1);
        return __uint_as_float(k & 1 ? u & 0xFFFF0000u : u << 16);
    }
    static __device__ __forceinline__ uint32_t amax(uint32_t b, const uint4 &w)
    {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const uint32_t u = word(w, j);
            b = max(b, max((u << 17) + AMAX_C, (u << 1) + AMAX_C));
        }
        return b;
    }
    static __device__ __forceinline__ uint32_t signs(const uint4 &w, int g)
    {
        return __byte_perm(word(w, 2 * g), word(w, 2 * g + 1), 0x7531);
    }
};

template <class T> __device__ __forceinline__ uint4 ldvec(const T *p) { return __ldcs(reinterpret_cast<const uint4 *>(p)); }
template <class T> __device__ __forceinline__ uint32_t elem_bits(const T *x, size_t i)
{
    if constexpr (sizeof(T) == 4) return __float_as_uint(x[i]);
    else return (uint32_t)x[i] << 16;
}

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

// p and r of fp8_quant.h: q = fp8((x * p) * r). p is 1 for every scale in
// [2^-64, 2^64]: then x * r is the same product with one multiplication
// less, and the kernels take that path when p is 1 for all their lanes.
struct Apply {
    float p, r;
    __device__ __forceinline__ explicit Apply(float s) : p(fp8kit_q_pre(s)), r(1.0f / (s * fp8kit_q_pre(s))) {}
    __device__ __forceinline__ float operator()(float x) const { return (x * p) * r; }
};
template <bool ONE> __device__ __forceinline__ float apply(float x, float p, float r)
{
    return ONE ? x * r : (x * p) * r;
}

// One source vector to V/4 code words (x * p * r, or x * r when ONE).
template <class T, int FMT, bool HW, bool ONE>
__device__ __forceinline__ void encode_vec(const uint4 &w, float p, float r, uint32_t *out)
{
#pragma unroll
    for (int g = 0; g < Vec<T>::V / 4; g++)
        out[g] = enc4<FMT, HW>(apply<ONE>(Vec<T>::val(w, 4 * g), p, r), apply<ONE>(Vec<T>::val(w, 4 * g + 1), p, r),
                               apply<ONE>(Vec<T>::val(w, 4 * g + 2), p, r), apply<ONE>(Vec<T>::val(w, 4 * g + 3), p, r),
                               HW ? 0u : Vec<T>::signs(w, g));
}

// Store V codes of vector i.
template <int V> __device__ __forceinline__ void store_codes(uint8_t *q, size_t i, const uint32_t *w)
{
    if (V == 4) reinterpret_cast<uint32_t *>(q)[i] = w[0];
    else reinterpret_cast<uint2 *>(q)[i] = make_uint2(w[0], w[V / 4 - 1]);
}

// The elements past the last whole vector (n % V of them): thread 0 of the
// grid takes them one by one.
template <class T> __device__ __forceinline__ uint32_t tail_amax(const T *x, size_t n, uint32_t b)
{
    constexpr int V = Vec<T>::V;
    const size_t t0 = n / V * V;
#pragma unroll 1
    for (int k = 0; k < V - 1; k++)
        if (t0 + k < n) b = max(b, amax_b(elem_bits(x, t0 + k)));
    return b;
}
template <class T, int FMT, bool HW> __device__ __forceinline__ void tail_cast(const T *x, size_t n, uint8_t *q, const Apply &ap)
{
    constexpr int V = Vec<T>::V;
    const size_t t0 = n / V * V;
#pragma unroll 1
    for (int k = 0; k < V - 1; k++)
        if (t0 + k < n) {
            const uint32_t xb = elem_bits(x, t0 + k);
            q[t0 + k] = enc1<FMT, HW>(ap(__uint_as_float(xb)), xb);
        }
}

// ---- per-tensor ----

// amax over n elements into *amax_bits (atomicMax; *amax_bits starts at 0).
template <class T> __global__ void tensor_amax(const T *x, size_t n, uint32_t *amax_bits)
{
    constexpr int V = Vec<T>::V;
    uint32_t b = 0;
    const size_t nv = n / V, stride = (size_t)gridDim.x * blockDim.x, tid = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    constexpr int U = 4; // vectors in flight a thread
    for (size_t i0 = tid; i0 < nv; i0 += U * stride) {
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv) v[u] = ldvec(x + (i0 + u * stride) * V);
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv) b = Vec<T>::amax(b, v[u]);
    }
    if (tid == 0) b = tail_amax(x, n, b);
    uint32_t m = amax_decode<T>(b);
#pragma unroll
    for (int o = 16; o; o >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) atomicMax(amax_bits, m);
}

template <class T, int FMT, bool HW, bool DELAYED, bool ONE>
__device__ __forceinline__ uint32_t tensor_cast_loop(const T *x, size_t n, uint8_t *q, const Apply &ap)
{
    constexpr int V = Vec<T>::V;
    uint32_t b = 0;
    constexpr int U = 4; // vectors in flight a thread
    const size_t nv = n / V, stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += U * stride) {
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; u++)
            if (i0 + u * stride < nv) v[u] = ldvec(x + (i0 + u * stride) * V);
#pragma unroll
        for (int u = 0; u < U; u++) {
            const size_t i = i0 + u * stride;
            if (i >= nv) break;
            uint32_t w[V / 4];
            encode_vec<T, FMT, HW, ONE>(v[u], ap.p, ap.r, w);
            if (DELAYED) b = Vec<T>::amax(b, v[u]);
            store_codes<V>(q, i, w);
        }
    }
    return b;
}

// Cast with the scale of amax bits *amax_bits (current scaling: after
// tensor_amax), or of max(history[0..hist)) (delayed scaling: then this
// tensor's amax goes to *record). The scale is written to *scale_out.
template <class T, int FMT, bool HW, bool DELAYED>
__global__ void tensor_cast(const T *x, size_t n, uint8_t *q, const uint32_t *amax_bits, int hist, uint32_t *record,
                            float *scale_out)
{
    uint32_t m = 0;
    if (DELAYED)
        for (int h = 0; h < hist; h++) m = max(m, amax_bits[h]);
    else
        m = *amax_bits;
    uint8_t code;
    const float s = group_scale<FMT, F32>(m, &code);
    const bool first = blockIdx.x == 0 && threadIdx.x == 0;
    if (first) *scale_out = s;
    const Apply ap(s);
    uint32_t b = ap.p == 1.0f ? tensor_cast_loop<T, FMT, HW, DELAYED, true>(x, n, q, ap)
                              : tensor_cast_loop<T, FMT, HW, DELAYED, false>(x, n, q, ap);
    if (first) {
        tail_cast<T, FMT, HW>(x, n, q, ap);
        if (DELAYED) b = tail_amax(x, n, b);
    }
    if (DELAYED) {
        uint32_t cur = amax_decode<T>(b);
#pragma unroll
        for (int o = 16; o; o >>= 1) cur = max(cur, __shfl_xor_sync(0xffffffffu, cur, o));
        if ((threadIdx.x & 31) == 0) atomicMax(record, cur);
    }
}

// ---- per-tensor current scaling in one pass (tensors that fit on chip) ----
//
// A persistent grid of ONEPASS_THREADS-thread CTAs, all co-resident
// (cudaLaunchCooperativeKernel, one CTA an SM with the shared memory below).
// CTA c owns vectors [c * chunk, (c + 1) * chunk), chunk = ceil(nv / grid),
// as rounds of ONEPASS_THREADS consecutive vectors (thread t: vector t of
// each round). Rounds 0 .. RK-1 are loaded into registers, rounds RK ..
// RK+sk-1 into dynamic shared memory with cp.async (all of them in flight at
// once). Each CTA reduces its amax and folds it into st->amax; a grid-wide
// barrier (an arrival counter, valid because every CTA is resident); every
// CTA reads the tensor's amax, computes the scale with the codec's rule
// (group_scale, as tensor_cast does) and casts from the on-chip copy. DRAM
// traffic: x read once, q written once. The barrier state resets itself:
// the last CTA to leave zeroes it, so consecutive launches need no memset.
// The host refuses tensors of more than grid * (RK + sk) * ONEPASS_THREADS
// vectors (struct OnePass in quant.cu); the kernel then writes nothing.
constexpr int ONEPASS_THREADS = 512;
#ifndef ONEPASS_RK
#define ONEPASS_RK 16 // register rounds: 16 x 16 bytes a thread (64 registers)
#endif
struct OnePassState {
    uint32_t amax, arrive, depart, pad;
};

__device__ __forceinline__ uint32_t ld_acquire(const uint32_t *p)
{
    uint32_t v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}

template <class T, int FMT, bool HW, bool ONE, int RK>
__device__ __forceinline__ void onepass_cast(const T *x, size_t n, uint8_t *q, const uint4 *reg, const uint4 *sbuf,
                                             int sk, size_t c0, size_t c1, const Apply &ap)
{
    constexpr int V = Vec<T>::V, NT = ONEPASS_THREADS;
#pragma unroll
    for (int k = 0; k < RK; k++) {
        const size_t i = c0 + (size_t)k * NT + threadIdx.x;
        if (i < c1) {
            uint32_t w[V / 4];
            encode_vec<T, FMT, HW, ONE>(reg[k], ap.p, ap.r, w);
            store_codes<V>(q, i, w);
        }
    }
#pragma unroll 4
    for (int k = 0; k < sk; k++) {
        const size_t i = c0 + (size_t)(RK + k) * NT + threadIdx.x;
        if (i < c1) {
            uint32_t w[V / 4];
            encode_vec<T, FMT, HW, ONE>(sbuf[k * NT + threadIdx.x], ap.p, ap.r, w);
            store_codes<V>(q, i, w);
        }
    }
    if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) tail_cast<T, FMT, HW>(x, n, q, ap);
}

template <class T, int FMT, bool HW, int RK = ONEPASS_RK>
__global__ void __launch_bounds__(ONEPASS_THREADS, 1)
    tensor_1pass(const T *x, size_t n, uint8_t *q, OnePassState *st, float *scale_out, int sk)
{
    constexpr int V = Vec<T>::V, NT = ONEPASS_THREADS;
    extern __shared__ uint4 sbuf[]; // sk rounds of NT vectors
    __shared__ uint32_t red[NT / 32];
    const size_t nv = n / V, chunk = (nv + gridDim.x - 1) / gridDim.x;
    if (chunk > (size_t)(RK + sk) * NT) return; // does not fit: the host refuses such launches
    const size_t c0 = min(nv, blockIdx.x * chunk), c1 = min(nv, c0 + chunk);
    uint4 reg[RK];
#pragma unroll
    for (int k = 0; k < RK; k++) {
        const size_t i = c0 + (size_t)k * NT + threadIdx.x;
        reg[k] = i < c1 ? ldvec(x + i * V) : make_uint4(0, 0, 0, 0);
    }
    for (int k = 0; k < sk; k++) {
        const size_t i = c0 + (size_t)(RK + k) * NT + threadIdx.x;
        if (i < c1) hopper::cp_async16(&sbuf[k * NT + threadIdx.x], x + i * V);
    }
    asm volatile("cp.async.commit_group;" ::: "memory");
    uint32_t b = 0;
#pragma unroll
    for (int k = 0; k < RK; k++) b = Vec<T>::amax(b, reg[k]); // zeros (b = 2^24) where past c1: no effect
    hopper::cp_async_wait_all(); // each thread reads back only its own copies
    for (int k = 0; k < sk; k++)
        if (c0 + (size_t)(RK + k) * NT + threadIdx.x < c1) b = Vec<T>::amax(b, sbuf[k * NT + threadIdx.x]);
    if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) b = tail_amax(x, n, b);
    uint32_t m = amax_decode<T>(b);
#pragma unroll
    for (int o = 16; o; o >>= 1) m = max(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x / 32] = m;
    __syncthreads();
    if (threadIdx.x == 0) {
#pragma unroll
        for (int w = 1; w < NT / 32; w++) m = max(m, red[w]);
        atomicMax(&st->amax, m);
        __threadfence();
        atomicAdd(&st->arrive, 1u); // arrival after this CTA's amax
        while (ld_acquire(&st->arrive) < gridDim.x) __nanosleep(64);
        __threadfence();
        m = *(volatile uint32_t *)&st->amax;
        red[0] = m;
        // the last CTA to leave resets the state for the next launch (all have read amax)
        if (atomicAdd(&st->depart, 1u) == gridDim.x - 1) {
            st->amax = 0;
            st->arrive = 0;
            st->depart = 0;
        }
    }
    __syncthreads();
    m = red[0];
    uint8_t code;
    const float s = group_scale<FMT, F32>(m, &code);
    if (blockIdx.x == 0 && threadIdx.x == 0) *scale_out = s;
    const Apply ap(s);
    if (ap.p == 1.0f) onepass_cast<T, FMT, HW, true, RK>(x, n, q, reg, sbuf, sk, c0, c1, ap);
    else onepass_cast<T, FMT, HW, false, RK>(x, n, q, reg, sbuf, sk, c0, c1, ap);
}

// ---- 1 x B blocks ----

// A warp step covers R rows of 32 vectors: lanes per block L = B / V, so a
// row holds GPR = 32 / L blocks and a step NB = R * GPR blocks. Each row's
// amax is reduced over its L lanes with shuffles; then lane t gathers the
// amax of block t of the step and computes that block's scale, so one warp
// runs the scale rule (an FP64 division) once for up to 32 blocks instead of
// once a block; the scales go back to the lanes by shuffles. All R rows are
// loaded before any is used: R x 16 bytes in flight a thread. PF: the next
// step's rows are loaded before this step is reduced and cast (2 R x 16
// bytes in flight while the scale rule runs). Scales: FP32 (sf) or E8M0
// (se) by KIND. n must be a multiple of B.
template <class T, int FMT, bool HW, bool ONE, int R, int L, int GPR>
__device__ __forceinline__ void blocks_cast_rows(const uint4 *v, const float *sp, const float *sr, size_t base, size_t nv,
                                                 uint8_t *q, int lane)
{
    constexpr int V = Vec<T>::V;
#pragma unroll
    for (int r = 0; r < R; r++) {
        const size_t i = base + r * 32 + lane;
        const int j = r * GPR / 32, src = (r * GPR + lane / L) % 32;
        const float p = __shfl_sync(0xffffffffu, sp[j], src);
        const float rr = __shfl_sync(0xffffffffu, sr[j], src);
        if (i >= nv) continue;
        uint32_t w[V / 4];
        encode_vec<T, FMT, HW, ONE>(v[r], p, rr, w);
        store_codes<V>(q, i, w);
    }
}

template <class T, int FMT, bool HW, int B, int KIND, int R = QUANT_ROWS, bool PF = false>
__global__ void blocks_quant(const T *x, size_t n, uint8_t *q, float *sf, uint8_t *se)
{
    constexpr int V = Vec<T>::V, L = B / V, GPR = 32 / L, NB = R * GPR, SPL = (NB + 31) / 32;
    static_assert(L >= 1 && L <= 32 && (32 % L) == 0, "block must be 16-byte vectors, at most a warp");
    const int lane = threadIdx.x & 31;
    const size_t nv = n / V, steps = (nv + 32 * R - 1) / (32 * R);
    const size_t nwarps = (size_t)gridDim.x * blockDim.x / 32;
    auto load = [&](size_t st, uint4 *v) {
#pragma unroll
        for (int r = 0; r < R; r++) {
            const size_t i = st * 32 * R + r * 32 + lane;
            v[r] = st < steps && i < nv ? ldvec(x + i * V) : make_uint4(0, 0, 0, 0);
        }
    };
    size_t st = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32;
    uint4 v[R], nxt[R];
    if (PF) load(st, nxt);
    for (; st < steps; st += nwarps) {
        const size_t base = st * 32 * R; // first vector of the step
        if (PF) {
#pragma unroll
            for (int r = 0; r < R; r++) v[r] = nxt[r];
            load(st + nwarps, nxt);
        } else {
            load(st, v);
        }
        uint32_t m[R];
#pragma unroll
        for (int r = 0; r < R; r++) {
            m[r] = amax_decode<T>(Vec<T>::amax(0u, v[r]));
#pragma unroll
            for (int o = L / 2; o; o >>= 1) m[r] = max(m[r], __shfl_xor_sync(0xffffffffu, m[r], o));
        }
        // lane t: block t (and t + 32) of the step
        float sp[SPL], sr[SPL];
        bool one = true;
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
            one = one && ap.p == 1.0f;
            const size_t gb = base * V / B + b; // block index in the tensor
            if (b < NB && gb * B < n) {
                if (KIND >= E8M0_OCP) se[gb] = code;
                else sf[gb] = s;
            }
        }
        if (__all_sync(0xffffffffu, one)) blocks_cast_rows<T, FMT, HW, true, R, L, GPR>(v, sp, sr, base, nv, q, lane);
        else blocks_cast_rows<T, FMT, HW, false, R, L, GPR>(v, sp, sr, base, nv, q, lane);
    }
}

// ---- 128 x 128 tiles ----

// One CTA of 256 threads a tile; thread t owns rows t/16 + 16*j (j < 8) and
// the V-element vector at column (t % 16) * V ... repeated to cover 128
// columns. rows and cols multiples of 128 for this kernel; ld in elements.
template <class T, int FMT, bool HW, bool ONE, int N, int TPR>
__device__ __forceinline__ void tiles_cast(const uint4 *v, const Apply &ap, uint8_t *q, size_t ldq, int tr, int tc, int r0, int cv)
{
    constexpr int V = Vec<T>::V;
#pragma unroll
    for (int j = 0; j < N; j++) {
        const size_t row = (size_t)tr * 128 + r0 + j * TPR;
        uint32_t w[V / 4];
        encode_vec<T, FMT, HW, ONE>(v[j], ap.p, ap.r, w);
        uint8_t *dst = q + row * ldq + (size_t)tc * 128 + cv * V;
        if (V == 4) *reinterpret_cast<uint32_t *>(dst) = w[0];
        else *reinterpret_cast<uint2 *>(dst) = make_uint2(w[0], w[V / 4 - 1]);
    }
}

template <class T, int FMT, bool HW>
__global__ void __launch_bounds__(256) tiles_quant(const T *x, size_t ld, int rows, int cols, uint8_t *q, size_t ldq,
                                                   float *sf)
{
    constexpr int V = Vec<T>::V, VPR = 128 / V, TPR = 256 / VPR, N = 128 / TPR; // vectors a row, thread rows
    const int tr = blockIdx.y, tc = blockIdx.x;
    const int cv = threadIdx.x % VPR, r0 = threadIdx.x / VPR;
    uint4 v[N];
    uint32_t b = 0;
#pragma unroll
    for (int j = 0; j < N; j++) {
        const size_t row = (size_t)tr * 128 + r0 + j * TPR;
        v[j] = ldvec(x + row * ld + (size_t)tc * 128 + cv * V);
    }
#pragma unroll
    for (int j = 0; j < N; j++) b = Vec<T>::amax(b, v[j]);
    uint32_t m = amax_decode<T>(b);
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
    if (ap.p == 1.0f) tiles_cast<T, FMT, HW, true, N, TPR>(v, ap, q, ldq, tr, tc, r0, cv);
    else tiles_cast<T, FMT, HW, false, N, TPR>(v, ap, q, ldq, tr, tc, r0, cv);
}

// ---- dequantization: y = fp8(q) * s, groups of G elements share a scale ----
//
// The software decoder: the code's magnitude bits shifted to FP32's exponent
// field, c << (23 - M), are the FP32 pattern of value(c) * 2^-F (F = 120 for
// E4M3, 112 for E5M2: the difference of the biases), subnormal codes
// included (they become FP32 subnormals). So y = value(c) * s is
// as_float(c << (23 - M)) * (s * 2^F), one FP32 multiplication with one
// rounding, whenever s * 2^F is exact and finite (s < 2^(128 - F)); else
// (as_float(...) * 2^F) * s, the first product exact. The sign is ORed into
// the product. NaN and Inf codes (rare: quantization never writes Inf, and
// writes NaN only for NaN inputs), and scales that are not finite and
// positive, send the thread's words to the codec's functions.
template <int FMT> struct Dec {
    static constexpr int M = FMT ? 2 : 3, SH = 23 - M;
    static constexpr float TWO_F = FMT ? 5.192296858534828e33f : 1.329227995784916e36f; // 2^112, 2^120
    static constexpr float S_LIMIT = FMT ? 65536.0f : 256.0f;                          // 2^(128 - F)
    // some byte of q is NaN (or Inf) code: E4M3 mag 0x7F; E5M2 mag >= 0x7C
    static __device__ __forceinline__ uint32_t special(uint32_t q)
    {
        return ((q & 0x7F7F7F7Fu) + (FMT ? 0x04040404u : 0x01010101u)) & 0x80808080u;
    }
    // magnitude bits of code k of q at FP32's exponent field
    static __device__ __forceinline__ uint32_t mag(uint32_t q, int k)
    {
        const int sh = SH - 8 * k;
        return (sh >= 0 ? q << sh : q >> -sh) & (0x7Fu << SH);
    }
    // sign of code k at bit 31
    static __device__ __forceinline__ uint32_t sign(uint32_t q, int k) { return (q << (24 - 8 * k)) & 0x80000000u; }
};

// Four codes times s, FP32 results. MODE 0: dec4 (the hardware cvt, or the
// codec's functions) then * s; 1: the software decoder with sF = s * 2^F;
// 2: the software decoder with two multiplications (s >= 2^(128 - F)).
template <int FMT, bool HW, int MODE>
__device__ __forceinline__ void dq4(uint32_t q, float s, float sF, float *o)
{
    if constexpr (MODE == 0) {
        dec4<FMT, HW>(q, o);
        // SW: a NaN code keeps the decoded NaN (quiet, with the code's sign) as the CPU's multiply
        // does; the GPU's multiply would return its canonical NaN. (HW: NaN bits are not compared.)
#pragma unroll
        for (int k = 0; k < 4; k++) o[k] = HW || o[k] == o[k] ? o[k] * s : o[k];
    } else {
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const float a = __uint_as_float(Dec<FMT>::mag(q, k));
            const float y = MODE == 1 ? a * sF : (a * Dec<FMT>::TWO_F) * s;
            o[k] = __uint_as_float(__float_as_uint(y) | Dec<FMT>::sign(q, k));
        }
    }
}

// FP32 -> BF16 bits, round to nearest even, for a finite or infinite value
// (the codec's bf16_from_f32_bits without its NaN select).
__device__ __forceinline__ uint32_t bf16_rne_nonan(float y)
{
    const uint32_t u = __float_as_uint(y);
    return u + 0x7FFFu + ((u >> 16) & 1u);
}

// Each thread decodes C codes (4 for FP32 output: one 16-byte store; 8 for
// BF16: one 16-byte store), U groups in flight, so that consecutive
// threads store consecutive 16 bytes. Scale of element e, by the layout G
// (a template parameter, so that the index costs shifts): G = 0: one for
// the tensor; G > 0: scale e / G (1 x G blocks, G a multiple of 8);
// G = DQ_TILES: the 128 x 128 tile of e in a row-major matrix of `cols`
// columns. KIND F32: FP32 scales; E8M0_*: E8M0 codes. OUT float or uint16_t
// (BF16 bits, by the codec's round-to-nearest-even, as fp8_quant.h does).
// CS: streaming stores (st.global.cs) or plain ones. n % C trailing
// elements: thread 0.
constexpr int DQ_TILES = -1;
template <int FMT, bool HW, int KIND, class OUT, int G, int U = 2, bool CS = true>
__global__ void dequant(const uint8_t *q, size_t n, const float *sf, const uint8_t *se, size_t cols, OUT *y)
{
    constexpr int C = sizeof(OUT) == 4 ? 4 : 8;
    static_assert(G <= 0 || G % 8 == 0, "a group of codes a thread shares one scale");
    const size_t nv = n / C, stride = (size_t)gridDim.x * blockDim.x;
    auto scale_of = [&](size_t e) -> float {
        const size_t g = G == DQ_TILES ? (e / cols / 128) * (cols / 128) + (e % cols) / 128 : G > 0 ? e / (G > 0 ? G : 1) : 0;
        return KIND >= E8M0_OCP ? fp8_e8m0_to_f32(se[g]) : sf[g];
    };
    const size_t tid = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    for (size_t i0 = tid; i0 < nv; i0 += U * stride) {
        uint32_t w[U][C / 4];
        float s[U];
        uint32_t special = 0;
        bool small = true;
#pragma unroll
        for (int u = 0; u < U; u++) {
            const size_t i = i0 + u * stride;
            if (i >= nv) { s[u] = 1.0f; for (int k = 0; k < C / 4; k++) w[u][k] = 0; continue; }
            if (C == 4) w[u][0] = __ldcs(reinterpret_cast<const uint32_t *>(q) + i);
            else { const uint2 c = __ldcs(reinterpret_cast<const uint2 *>(q) + i); w[u][0] = c.x; w[u][C / 4 - 1] = c.y; }
            s[u] = scale_of(i * C);
        }
        if (!HW) {
#pragma unroll
            for (int u = 0; u < U; u++) {
#pragma unroll
                for (int k = 0; k < C / 4; k++) special |= Dec<FMT>::special(w[u][k]);
                special |= __float_as_uint(s[u]) >= 0x7F800000u; // negative, Inf or NaN scale: the codec's path
                small = small && s[u] < Dec<FMT>::S_LIMIT;
            }
        }
        // The software decoder's fast path unless a NaN/Inf code is in this thread's words.
        auto body = [&](auto mode) {
            constexpr int MODE = decltype(mode)::value;
#pragma unroll
            for (int u = 0; u < U; u++) {
                const size_t i = i0 + u * stride;
                if (i >= nv) break;
                const float sF = MODE == 1 ? s[u] * Dec<FMT>::TWO_F : 0.0f;
                float f[C];
#pragma unroll
                for (int k = 0; k < C / 4; k++) dq4<FMT, HW, MODE>(w[u][k], s[u], sF, f + 4 * k);
                if (C == 4) {
                    const float4 v = make_float4(f[0], f[1], f[2], f[3]);
                    if (CS) __stcs(reinterpret_cast<float4 *>(y) + i, v);
                    else reinterpret_cast<float4 *>(y)[i] = v;
                } else {
                    uint32_t h[4];
#pragma unroll
                    for (int k = 0; k < 4; k++)
                        h[k] = MODE == 0 ? bf16x2<HW>(f[2 * k], f[2 * k + 1])
                                         : __byte_perm(bf16_rne_nonan(f[2 * k]), bf16_rne_nonan(f[2 * k + 1]), 0x7632);
                    const uint4 v = make_uint4(h[0], h[1], h[2], h[3]);
                    if (CS) __stcs(reinterpret_cast<uint4 *>(y) + i, v);
                    else reinterpret_cast<uint4 *>(y)[i] = v;
                }
            }
        };
        if (HW || special) body(std::integral_constant<int, 0>{});
        else if (small) body(std::integral_constant<int, 1>{});
        else body(std::integral_constant<int, 2>{});
    }
    if (tid == 0)
#pragma unroll 1
        for (size_t e = nv * C; e < n; e++) {
            float f[4];
            dq4<FMT, HW, 0>(q[e], scale_of(e), 0.0f, f);
            if (sizeof(OUT) == 4) reinterpret_cast<float *>(y)[e] = f[0];
            else reinterpret_cast<uint16_t *>(y)[e] = (uint16_t)bf16x2<HW>(f[0], 0.0f);
        }
}

// ---- traffic references: the access pattern of a kernel without its arithmetic ----
// R bytes read and W written an element, in the shapes the kernels use:
// read 4 write 1 (FP32 -> FP8: 16-byte loads, 4-byte stores), read 2 write 1
// (BF16 -> FP8: 16-byte loads, 8-byte stores), read 1 write 4 (FP8 -> FP32:
// 4-byte loads, 16-byte stores), read 1 write 2 (FP8 -> BF16). The output is
// a byte shuffle of the input. They bound what any kernel of that traffic
// mix reaches on the machine, beside the device-to-device copy.
template <int RB, int WB> __global__ void traffic_ref(const uint8_t *in, size_t n, uint8_t *out)
{
    constexpr int U = 4;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    if constexpr (RB > WB) { // 16-byte loads: 16 / RB elements, (16 / RB) * WB bytes out
        constexpr int E = 16 / RB;
        const size_t nv = n / E;
        for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += U * stride) {
            uint4 v[U];
#pragma unroll
            for (int u = 0; u < U; u++)
                if (i0 + u * stride < nv) v[u] = __ldcs(reinterpret_cast<const uint4 *>(in) + i0 + u * stride);
#pragma unroll
            for (int u = 0; u < U; u++) {
                const size_t i = i0 + u * stride;
                if (i >= nv) break;
                if (E == 4) reinterpret_cast<uint32_t *>(out)[i] = __byte_perm(__byte_perm(v[u].x, v[u].y, 0x0073), __byte_perm(v[u].z, v[u].w, 0x0073), 0x5410);
                else reinterpret_cast<uint2 *>(out)[i] = make_uint2(__byte_perm(v[u].x, v[u].y, 0x7531), __byte_perm(v[u].z, v[u].w, 0x7531));
            }
        }
    } else { // 16-byte stores: 16 / WB elements
        constexpr int E = 16 / WB, UD = 2;
        const size_t nv = n / E;
        for (size_t i0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i0 < nv; i0 += UD * stride) {
            uint32_t w[UD][E / 4];
#pragma unroll
            for (int u = 0; u < UD; u++) {
                const size_t i = i0 + u * stride;
                if (i >= nv) break;
                if (E == 4) w[u][0] = __ldcs(reinterpret_cast<const uint32_t *>(in) + i);
                else { const uint2 c = __ldcs(reinterpret_cast<const uint2 *>(in) + i); w[u][0] = c.x; w[u][E / 4 - 1] = c.y; }
            }
#pragma unroll
            for (int u = 0; u < UD; u++) {
                const size_t i = i0 + u * stride;
                if (i >= nv) break;
                const uint32_t a = w[u][0], b = w[u][E / 4 - 1];
                uint4 o = E == 4 ? make_uint4(a << 24, a << 16, a << 8, a) : make_uint4(a << 8, a, b << 8, b);
                __stcs(reinterpret_cast<uint4 *>(out) + i, o);
            }
        }
    }
}

} // namespace quant
