// rmsnorm: the residual add fused with RMSNorm, one token a row, as a
// Llama decoder layer applies it before attention and before the MLP:
//
//   h_out = BF16(h_in + delta)              (delta optional; h_out may be h_in)
//   y     = h_out * rsqrt(mean(h_out^2) + eps) * gamma     (FP32)
//   y -> BF16 [M][H] (the GEMV's and the BF16 GEMM's input), and/or
//   y -> E4M3 codes [M][H] with per-token scales [M] (amax/448; the W8A8
//        GEMM's input; token_quant.cuh), quantized from the FP32 y.
//
// The residual stream stays BF16 (as in vLLM's fused_add_rms_norm); the
// statistics are FP32 over the BF16-rounded h_out. The first layer of a
// step reads the step's input as h_in and writes the residual buffer, so
// that a replayed step starts from the same state. H a multiple of 8.
//
// How: one block a row (H/8 threads, at most 1024), the row in registers
// (up to RMS_CHUNKS chunks of 8 a thread, so H <= 16384): gamma is loaded
// before the wait for the previous kernel (it is a weight); one pass adds,
// stores h_out and sums squares; y is formed from the registers, and with
// FP8 output quantized after a second block reduction (the amax). No
// global memory is read twice.
//
// Speed: inside the graph-timed step (decode_step --omit=norm, H200): with
// two or three passes over global memory a norm cost 2.5 us (8B, batch 1,
// FP8 out) and 1.9-3.75 us (70B). The step with this kernel against that
// one, same call (NOTES.md v8): FP8 + FP8 KV 1.005-1.014x (batch 16 at 4K
// 1.014x for 8B and 70B), BF16 1.000-1.006x. (At batch 1 the next GEMV
// making X itself in its prologue was slower still: NOTES.md v8.) One
// block reduction for both the sum and the amax (amax |y| = fl(amax |h
// gamma| r), exact) shortened the batch-1 FP8 norm's link by 2.3 us but
// not the step: 0.991-1.008x, BF16 0.993-0.999x (v16); not kept.
#pragma once

#include "token_quant.cuh"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace step {

struct RmsParams {
    const __nv_bfloat16 *h_in;  // [M][H]
    const __nv_bfloat16 *delta; // [M][H] or nullptr
    const __nv_bfloat16 *gamma; // [H]
    __nv_bfloat16 *h_out;       // [M][H], may equal h_in
    __nv_bfloat16 *y;           // [M][H] or nullptr
    uint8_t *yq;                // [M][H] or nullptr
    float *ys;                  // [M] (with yq)
    int H;
    float eps;
    bool late_trigger = false;  // PDL: the next kernel launches once the one before has finished (tuning)
    int trace_slot = -1;        // GEMV_TRACE builds: which of RMS_TRACE_SLOTS records block 0's timestamps
};

constexpr int RMS_CHUNKS = 2; // chunks of 8 a thread, at most

#ifdef GEMV_TRACE
// Diagnostic build (-DGEMV_TRACE, beside gemv.cuh's trace): %globaltimer
// (ns) at RMS_TRACE_POINTS points of block 0 (thread 0) in the norms whose
// RmsParams::trace_slot is set (decode_step_trace --gemv_trace_layer: that
// layer's two norms): 0 entry, 1 gamma's loads issued, 2 the PDL wait returned, 3
// sum of squares reduced, 4 amax reduced (E4M3 out only), 5 the block's
// stores issued (after a block barrier).
constexpr int RMS_TRACE_SLOTS = 2, RMS_TRACE_POINTS = 6;
__device__ unsigned long long rms_trace_ns[RMS_TRACE_SLOTS * RMS_TRACE_POINTS];
__device__ __forceinline__ void rms_trace(int slot, int e, bool barrier = false)
{
    if (slot < 0 || slot >= RMS_TRACE_SLOTS) return;
    if (barrier) __syncthreads(); // (slot is the same for the whole block)
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    rms_trace_ns[slot * RMS_TRACE_POINTS + e] = t;
}
// zeros, so that a point this case's norms do not record (4 with BF16 out) reads as absent
inline void clear_rms_trace()
{
    const std::vector<unsigned long long> z(RMS_TRACE_SLOTS * RMS_TRACE_POINTS, 0);
    if (cudaMemcpyToSymbol(rms_trace_ns, z.data(), z.size() * 8) != cudaSuccess) {
        fprintf(stderr, "rmsnorm trace: clearing rms_trace_ns failed\n");
        std::abort();
    }
}
inline std::vector<unsigned long long> read_rms_trace()
{
    std::vector<unsigned long long> t(RMS_TRACE_SLOTS * RMS_TRACE_POINTS);
    if (cudaMemcpyFromSymbol(t.data(), rms_trace_ns, t.size() * 8) != cudaSuccess) {
        fprintf(stderr, "rmsnorm trace: reading rms_trace_ns failed\n");
        std::abort();
    }
    return t;
}
#define RMS_TRACE_AT(e, ...) rms_trace(p.trace_slot, e, ##__VA_ARGS__)
#else
#define RMS_TRACE_AT(e, ...)
#endif

__global__ void rmsnorm_kernel(const RmsParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL)
    if (!p.late_trigger) dec::pdl_trigger();
    RMS_TRACE_AT(0);
    const size_t row = (size_t)blockIdx.x * p.H;
    const int step = blockDim.x * 8;
    float g[RMS_CHUNKS][8], h[RMS_CHUNKS][8];
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++) {
        const int k = threadIdx.x * 8 + c * step;
        if (k < p.H) load8(p.gamma + k, g[c]);
    }
    RMS_TRACE_AT(1);
    // h_in and delta are the previous kernels' outputs
    dec::pdl_wait();
    RMS_TRACE_AT(2);
    if (p.late_trigger) dec::pdl_trigger();
    const bool copy = p.delta || p.h_out != p.h_in;
    float ss = 0.f;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++) {
        const int k = threadIdx.x * 8 + c * step;
        if (k >= p.H) continue;
        load8(p.h_in + row + k, h[c]);
        if (p.delta) {
            float d[8];
            load8(p.delta + row + k, d);
#pragma unroll
            for (int i = 0; i < 8; i++) h[c][i] = round_bf16(h[c][i] + d[i]);
        }
        if (copy) store8_bf16(p.h_out + row + k, h[c]);
#pragma unroll
        for (int i = 0; i < 8; i++) ss += h[c][i] * h[c][i];
    }
    const float r = rsqrtf(block_sum(ss) / (float)p.H + p.eps);
    RMS_TRACE_AT(3);
    float amax = 0.f;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++) {
        const int k = threadIdx.x * 8 + c * step;
        if (k >= p.H) continue;
#pragma unroll
        for (int i = 0; i < 8; i++) h[c][i] = h[c][i] * r * g[c][i];
        if (p.y) store8_bf16(p.y + row + k, h[c]);
#pragma unroll
        for (int i = 0; i < 8; i++) amax = fmaxf(amax, fabsf(h[c][i]));
    }
    if (!p.yq) {
        RMS_TRACE_AT(5, true);
        return;
    }
    const float sc = token_scale(block_max(amax));
    RMS_TRACE_AT(4);
    const float inv = 1.f / sc;
#pragma unroll
    for (int c = 0; c < RMS_CHUNKS; c++) {
        const int k = threadIdx.x * 8 + c * step;
        if (k < p.H) store8_e4m3(p.yq + row + k, h[c], inv);
    }
    if (threadIdx.x == 0) p.ys[blockIdx.x] = sc;
    RMS_TRACE_AT(5, true);
}

inline void rmsnorm(const RmsParams &p, int M, cudaStream_t st, bool pdl = false)
{
    if (p.H % 8 != 0 || p.H > 1024 * 8 * RMS_CHUNKS) {
        fprintf(stderr, "rmsnorm: H = %d must be a multiple of 8 and at most %d\n", p.H, 1024 * 8 * RMS_CHUNKS);
        exit(2);
    }
    dec::launch_pdl(pdl, rmsnorm_kernel, dim3(M), dim3(row_threads(p.H)), 0, st, p);
}

} // namespace step
