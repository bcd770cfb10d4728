// Test kernels of the GEMM benchmark: random operands generated on the GPU
// (a counter-based hash, so every run draws fresh data from a printed seed)
// and an FP64 reference product of the already-quantized inputs.
#pragma once

#include "../../codec/fp8.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace fp8kit {

__host__ __device__ inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

// Roughly normal (the sum of four uniforms, variance 1), times `sd`.
__host__ __device__ inline float rand_normal(uint64_t seed, uint64_t i, float sd)
{
    const uint64_t h = mix64(seed ^ mix64(i + 0x9E3779B97F4A7C15ull));
    float s = 0.f;
    for (int j = 0; j < 4; j++) s += (float)((h >> (16 * j)) & 0xFFFF) * (1.f / 65536.f);
    return (s - 2.f) * 1.7320508f * sd;
}

// n values: E4M3 codes of N(0, sd) (saturating RNE, the hardware cvt) or
// BF16 of the same.
__global__ void fill_e4m3(uint8_t *p, size_t n, uint64_t seed, float sd)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = fp8_e4m3_from_f32(rand_normal(seed, i, sd));
}

__global__ void fill_bf16(uint16_t *p, size_t n, uint64_t seed, float sd)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = bf16_from_f32(rand_normal(seed, i, sd));
}

// n positive scales 2^u, u uniform in [lo, hi).
__global__ void fill_scales(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float u = (float)(mix64(seed ^ mix64(i)) >> 40) * (1.f / 16777216.f);
        p[i] = exp2f(lo + (hi - lo) * u);
    }
}

// How an operand's elements are read: type and scale layout.
struct RefOperand {
    const void *p;
    int type;           // 0: FP32, 1: E4M3, 2: BF16
    const float *scale; // nullptr: none
    int scale_mode;     // 0: one value, 1: per row, 2: [ceil(K/128)][rows] (1 x 128), 3: [rows/128][ld] (128 x 128)
    int ld_scale;
};

__device__ inline double ref_value(const RefOperand &o, long row, long k, long K, long rows)
{
    double v;
    if (o.type == 0) v = ((const float *)o.p)[row * K + k];
    else if (o.type == 1) v = fp8_e4m3_to_f32(((const uint8_t *)o.p)[row * K + k]);
    else v = bf16_to_f32(((const uint16_t *)o.p)[row * K + k]);
    if (o.scale) {
        if (o.scale_mode == 0) v *= o.scale[0];
        else if (o.scale_mode == 1) v *= o.scale[row];
        else if (o.scale_mode == 2) v *= o.scale[(k / 128) * rows + row];
        else v *= o.scale[(row / 128) * o.ld_scale + k / 128];
    }
    return v;
}

// out[i][n] = sum_k a(rows[i], k) * b(n, k) in FP64, for the nrows listed
// rows of A. 16 x 16 threads; each computes 4 x 4 outputs of a 64 x 64 block.
__global__ void __launch_bounds__(256) ref_gemm(RefOperand a, RefOperand b, const int *rows, int nrows, int M,
                                                int N, int K, double *out)
{
    __shared__ double sa[64][17], sb[64][17];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int i0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
    double acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += 16) {
        for (int e = threadIdx.x; e < 64 * 16; e += 256) {
            const int r = e / 16, kk = e % 16, k = k0 + kk;
            const int i = i0 + r, n = n0 + r;
            sa[r][kk] = (i < nrows && k < K) ? ref_value(a, rows[i], k, K, M) : 0.0;
            sb[r][kk] = (n < N && k < K) ? ref_value(b, n, k, K, N) : 0.0;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < 16; kk++)
#pragma unroll
            for (int x = 0; x < 4; x++)
#pragma unroll
                for (int y = 0; y < 4; y++) acc[y][x] += sa[ty + 16 * y][kk] * sb[tx + 16 * x][kk];
        __syncthreads();
    }
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            const int i = i0 + ty + 16 * y, n = n0 + tx + 16 * x;
            if (i < nrows && n < N) out[(size_t)i * N + n] = acc[y][x];
        }
}

} // namespace fp8kit
