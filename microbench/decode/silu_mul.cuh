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
// In the decode step, up to 16 tokens this is the gate_up GEMV's epilogue
// instead (gemv.cuh EPI_SILU, with silu_mul1): BF16 out, or for FP8 weights
// E4M3 with a scale a (token, 64 values), where the gate_up plan has one k
// group (a CTA holds 64 of a token's outputs, never the row that the
// per-token scale here needs).
//
// How: BF16 out: a 2-D grid (token, chunk of 8 x 256 elements), one pass.
// FP8 out: a cluster of 8 CTAs a token, each CTA one eighth of the row held
// in registers (up to 16 elements a thread): one pass over the input; the
// CTAs' amax meet through distributed shared memory (I a multiple of 64, at
// most 131072).
//
// Speed (H200, ncu, one Llama-3.1-8B step, batch 1, I = 14336, each kernel
// alone): BF16 out 2.6 us; FP8 out 4.4 us (6.3 us as one CTA a token with
// two passes, which the cluster replaced). In the graph-timed step the
// change did not show (0.97-1.02x, geometric mean 1.00x): programmatic
// dependent launch had already hidden most of it behind the next GEMV's
// weight prefetch.
#pragma once

#include "token_quant.cuh"

#include <algorithm>
#include <cooperative_groups.h>
#include <cstdio>
#include <cstdlib>

namespace step {

struct SiluParams {
    const __nv_bfloat16 *gu; // [M][2I]
    __nv_bfloat16 *y;        // [M][I] or nullptr
    uint8_t *yq;             // [M][I] or nullptr
    float *ys;               // [M] (with yq)
    int I;
};

// silu(g) * u in FP32 (also the gate_up GEMV's epilogue, gemv.cuh EPI_SILU)
__device__ __forceinline__ float silu_mul1(float g, float u) { return g / (1.f + expf(-g)) * u; }

__device__ __forceinline__ void silu_mul8(const __nv_bfloat16 *gu, int I, int k, float (&y)[8])
{
    float u[8];
    load8(gu + k, y);
    load8(gu + I + k, u);
#pragma unroll
    for (int i = 0; i < 8; i++) y[i] = silu_mul1(y[i], u[i]);
}

constexpr int SILU_THREADS = 256;

// BF16 out: blockIdx.y = token, blockIdx.x = chunk of SILU_THREADS * 8.
__global__ void silu_mul_bf16_kernel(const SiluParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL);
    // this one waits for the kernel before it
    dec::pdl_trigger();
    dec::pdl_wait();
    const int k = (blockIdx.x * SILU_THREADS + threadIdx.x) * 8;
    if (k >= p.I) return;
    float y[8];
    silu_mul8(p.gu + (size_t)blockIdx.y * 2 * p.I, p.I, k, y);
    store8_bf16(p.y + (size_t)blockIdx.y * p.I + k, y);
}

// FP8 out: blockIdx.y = token, a cluster of SILU_CLUSTER CTAs along x
// shares it; CTA r takes elements [r I / SILU_CLUSTER, (r + 1) I / SILU_CLUSTER).
constexpr int SILU_CLUSTER = 8, SILU_CHUNKS = 2; // chunks of 8 elements a thread, at most

__global__ void __cluster_dims__(SILU_CLUSTER, 1, 1) silu_mul_e4m3_kernel(const SiluParams p)
{
    // the GEMV after this kernel may launch now and stream its weights (PDL);
    // this one waits for the kernel before it
    dec::pdl_trigger();
    dec::pdl_wait();
    cooperative_groups::cluster_group cluster = cooperative_groups::this_cluster();
    __shared__ float cta_max;
    const int slice = p.I / SILU_CLUSTER;
    const int beg = (int)cluster.block_rank() * slice;
    const __nv_bfloat16 *gu = p.gu + (size_t)blockIdx.y * 2 * p.I;
    float y[SILU_CHUNKS][8];
    float amax = 0.f;
#pragma unroll
    for (int c = 0; c < SILU_CHUNKS; c++) {
        const int k = (c * blockDim.x + threadIdx.x) * 8;
        if (k < slice) {
            silu_mul8(gu + beg, p.I, k, y[c]);
#pragma unroll
            for (int i = 0; i < 8; i++) amax = fmaxf(amax, fabsf(y[c][i]));
        }
    }
    amax = block_max(amax);
    if (threadIdx.x == 0) cta_max = amax;
    cluster.sync(); // every CTA's amax is written
#pragma unroll
    for (int r = 0; r < SILU_CLUSTER; r++) amax = fmaxf(amax, *cluster.map_shared_rank(&cta_max, r));
    const float sc = token_scale(amax);
    const float inv = 1.f / sc;
#pragma unroll
    for (int c = 0; c < SILU_CHUNKS; c++) {
        const int k = (c * blockDim.x + threadIdx.x) * 8;
        if (k < slice) store8_e4m3(p.yq + (size_t)blockIdx.y * p.I + beg + k, y[c], inv);
    }
    if (cluster.block_rank() == 0 && threadIdx.x == 0) p.ys[blockIdx.y] = sc;
    cluster.sync(); // no CTA leaves while another may still read its cta_max
}

inline void silu_mul(const SiluParams &p, int M, cudaStream_t st, bool pdl = false)
{
    if (p.yq) {
        if (p.I % (8 * SILU_CLUSTER) != 0 || p.I > SILU_CLUSTER * 1024 * 8 * SILU_CHUNKS) {
            fprintf(stderr, "silu_mul to E4M3: I = %d must be a multiple of %d and at most %d\n", p.I, 8 * SILU_CLUSTER,
                    SILU_CLUSTER * 1024 * 8 * SILU_CHUNKS);
            exit(2);
        }
        // threads: the slice's chunks of 8 in at most SILU_CHUNKS rounds, a multiple of 32
        const int chunks = p.I / SILU_CLUSTER / 8;
        const int threads = std::max(32, ((chunks + SILU_CHUNKS - 1) / SILU_CHUNKS + 31) / 32 * 32);
        dec::launch_pdl(pdl, silu_mul_e4m3_kernel, dim3(SILU_CLUSTER, M), dim3(threads), 0, st, p);
    } else {
        const dim3 grid((p.I + SILU_THREADS * 8 - 1) / (SILU_THREADS * 8), M);
        dec::launch_pdl(pdl, silu_mul_bf16_kernel, grid, dim3(SILU_THREADS), 0, st, p);
    }
}

} // namespace step
