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
// How: one block a row (H/8 threads, at most 1024); pass 1 adds, stores
// h_out and sums squares; pass 2 re-reads h_out (this thread's own writes)
// and writes y; with FP8 output, pass 2 finds the amax and pass 3 quantizes.
//
// Speed: not yet measured (a few tens of KiB a token; twice a layer).
#pragma once

#include "token_quant.cuh"

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
};

__global__ void rmsnorm_kernel(const RmsParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL);
    // this one waits for the kernel before it
    dec::pdl_trigger();
    dec::pdl_wait();
    const size_t row = (size_t)blockIdx.x * p.H;
    const int step = blockDim.x * 8;
    const bool copy = p.delta || p.h_out != p.h_in;
    float ss = 0.f;
    for (int k = threadIdx.x * 8; k < p.H; k += step) {
        float h[8];
        load8(p.h_in + row + k, h);
        if (p.delta) {
            float d[8];
            load8(p.delta + row + k, d);
#pragma unroll
            for (int i = 0; i < 8; i++) h[i] = round_bf16(h[i] + d[i]);
        }
        if (copy) store8_bf16(p.h_out + row + k, h);
#pragma unroll
        for (int i = 0; i < 8; i++) ss += h[i] * h[i];
    }
    const float r = rsqrtf(block_sum(ss) / (float)p.H + p.eps);
    auto normed = [&](int k, float (&y)[8]) {
        float g[8];
        load8(p.h_out + row + k, y);
        load8(p.gamma + k, g);
#pragma unroll
        for (int i = 0; i < 8; i++) y[i] = y[i] * r * g[i];
    };
    float amax = 0.f;
    for (int k = threadIdx.x * 8; k < p.H; k += step) {
        float y[8];
        normed(k, y);
        if (p.y) store8_bf16(p.y + row + k, y);
#pragma unroll
        for (int i = 0; i < 8; i++) amax = fmaxf(amax, fabsf(y[i]));
    }
    if (!p.yq) return;
    const float sc = token_scale(block_max(amax));
    const float inv = 1.f / sc;
    for (int k = threadIdx.x * 8; k < p.H; k += step) {
        float y[8];
        normed(k, y);
        store8_e4m3(p.yq + row + k, y, inv);
    }
    if (threadIdx.x == 0) p.ys[blockIdx.x] = sc;
}

inline void rmsnorm(const RmsParams &p, int M, cudaStream_t st, bool pdl = false)
{
    dec::launch_pdl(pdl, rmsnorm_kernel, dim3(M), dim3(row_threads(p.H)), 0, st, p);
}

} // namespace step
