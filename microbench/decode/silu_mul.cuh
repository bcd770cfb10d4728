// silu_mul: the MLP's activation, SiLU(gate) * up, from the fused gate/up
// projection's output:
//
//   gu [M][2I] BF16: gate = gu[m][0, I), up = gu[m][I, 2I) (the gate_up
//   weight is one [2I x hidden] matrix, gate rows first, as vLLM merges it)
//   y[m][i] = silu(g) * u = g / (1 + exp(-g)) * u in FP32, then
//   -> BF16 [M][I] (the GEMV's / BF16 GEMM's input), or
//   -> E4M3 codes [M][I] with per-token scales [M] (amax/448 of the FP32 y;
//      the W8A8 GEMM's input; token_quant.cuh).
// I a multiple of 8.
//
// How: BF16 out: a 2-D grid (token, chunk of 8 x 256 elements), one pass.
// FP8 out: one block a token, pass 1 for the amax, pass 2 recomputes and
// quantizes (the 2I inputs are read twice; the second time from L2).
//
// Speed: not yet measured (once a layer; M x 2I x 2 bytes in).
#pragma once

#include "token_quant.cuh"

namespace step {

struct SiluParams {
    const __nv_bfloat16 *gu; // [M][2I]
    __nv_bfloat16 *y;        // [M][I] or nullptr
    uint8_t *yq;             // [M][I] or nullptr
    float *ys;               // [M] (with yq)
    int I;
};

__device__ __forceinline__ void silu_mul8(const __nv_bfloat16 *gu, int I, int k, float (&y)[8])
{
    float u[8];
    load8(gu + k, y);
    load8(gu + I + k, u);
#pragma unroll
    for (int i = 0; i < 8; i++) y[i] = y[i] / (1.f + expf(-y[i])) * u[i];
}

constexpr int SILU_THREADS = 256;

// BF16 out: blockIdx.y = token, blockIdx.x = chunk of SILU_THREADS * 8.
__global__ void silu_mul_bf16_kernel(const SiluParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL)
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    const int k = (blockIdx.x * SILU_THREADS + threadIdx.x) * 8;
    if (k >= p.I) return;
    float y[8];
    silu_mul8(p.gu + (size_t)blockIdx.y * 2 * p.I, p.I, k, y);
    store8_bf16(p.y + (size_t)blockIdx.y * p.I + k, y);
}

// FP8 out: one block a token.
__global__ void silu_mul_e4m3_kernel(const SiluParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL)
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
    const __nv_bfloat16 *gu = p.gu + (size_t)blockIdx.x * 2 * p.I;
    const int step = blockDim.x * 8;
    float amax = 0.f;
    for (int k = threadIdx.x * 8; k < p.I; k += step) {
        float y[8];
        silu_mul8(gu, p.I, k, y);
#pragma unroll
        for (int i = 0; i < 8; i++) amax = fmaxf(amax, fabsf(y[i]));
    }
    const float sc = token_scale(block_max(amax));
    const float inv = 1.f / sc;
    for (int k = threadIdx.x * 8; k < p.I; k += step) {
        float y[8];
        silu_mul8(gu, p.I, k, y);
        store8_e4m3(p.yq + (size_t)blockIdx.x * p.I + k, y, inv);
    }
    if (threadIdx.x == 0) p.ys[blockIdx.x] = sc;
}

inline void silu_mul(const SiluParams &p, int M, cudaStream_t st)
{
    if (p.yq) {
        silu_mul_e4m3_kernel<<<M, row_threads(p.I), 0, st>>>(p);
    } else {
        const dim3 grid((p.I + SILU_THREADS * 8 - 1) / (SILU_THREADS * 8), M);
        silu_mul_bf16_kernel<<<grid, SILU_THREADS, 0, st>>>(p);
    }
}

} // namespace step
