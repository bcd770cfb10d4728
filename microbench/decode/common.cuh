// Device helpers shared by the decode kernels (microbench/decode/*.cuh):
// tensor-core mma.sync wrappers, swizzled
// shared-memory addressing and ldmatrix, and FP8 -> 16-bit conversions that
// feed the tensor cores.
//
//   e4m3x4_to_bf16x2: 4 E4M3 bytes -> two BF16 pairs, exact for every code
//     but NaN (0x7F/0xFF; quantizers never produce it). The 7 magnitude bits
//     are moved under the BF16 exponent/mantissa (a shift and two masks), so
//     the BF16 value is the E4M3 value times 2^-120 (E4M3 subnormals become
//     BF16 subnormals); one BF16x2 multiply by 2^120 restores it exactly.
//     The "one-hot" check in decode.cu verifies all 254 codes through the
//     whole GEMV (MMA included), bit for bit.
//   The attention kernel uses the hardware's cvt.rn.f16x2.{e4m3,e5m2}x2
//     (exact: both formats are subsets of FP16) and FP16 MMAs.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace dec {

// Programmatic dependent launch (PDL). A kernel launched with it may start
// while the kernel before it in the stream still runs. pdl_wait() blocks the
// calling thread until that kernel has finished and its writes are visible;
// every kernel of the decode step calls it before it reads what an earlier
// kernel wrote or writes what an earlier kernel reads, so the chain stays
// ordered however early each kernel starts. pdl_trigger() lets the next
// kernel start (once every CTA of this one has triggered or exited). Both
// are no-ops in a kernel launched without PDL.
__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_trigger() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }

// kernel<<<grid, block, smem, st>>>(args...), with PDL when pdl is set.
template <class... P, class... A>
inline void launch_pdl(bool pdl, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, cudaStream_t st, A &&...args)
{
    cudaLaunchAttribute at[1];
    at[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    at[0].val.programmaticStreamSerializationAllowed = pdl ? 1 : 0;
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    cfg.attrs = at;
    cfg.numAttrs = 1;
    cudaLaunchKernelEx(&cfg, kernel, static_cast<A &&>(args)...);
}

// Byte address of (row, 16-byte chunk) of a shared-memory tile of 128-byte
// rows written by TMA with CU_TENSOR_MAP_SWIZZLE_128B (1024-aligned): the
// chunk is XORed with the row mod 8.
__device__ __forceinline__ uint32_t swz(uint32_t tile, int row, int chunk)
{
    return tile + row * 128 + ((chunk ^ (row & 7)) << 4);
}

// ldmatrix .x4 (and transposed): lanes 8i..8i+7 give the row addresses of
// 8x8 b16 matrix i; lane l receives row l/4, elements 2(l%4), +1 of each.
__device__ __forceinline__ void ldsm_x4(uint32_t addr, uint32_t (&r)[4])
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(uint32_t addr, uint32_t (&r)[4])
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ uint2 lds64(uint32_t addr)
{
    uint2 v;
    asm volatile("ld.shared.v2.u32 {%0,%1}, [%2];" : "=r"(v.x), "=r"(v.y) : "r"(addr));
    return v;
}
__device__ __forceinline__ uint4 lds128(uint32_t addr)
{
    uint4 v;
    asm volatile("ld.shared.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "r"(addr));
    return v;
}

__device__ __forceinline__ uint32_t prmt(uint32_t a, uint32_t b, uint32_t sel)
{
    uint32_t r;
    asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(sel));
    return r;
}

// D = A*B + D, m16n8k16, BF16 inputs, FP32 accumulators.
__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                               uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mma_f16_16816(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                              uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// m16n8k32, E4M3 inputs, FP32 accumulators (sm_89+). Fragments: A regs
// a0..a3 = rows g, g+8 at k 4c..4c+3, then the same at k 16+4c.. (what
// ldmatrix.x4 of byte rows gives); B regs b0, b1 = column g at k 4c.. and
// 16+4c.. (g = lane/4, c = lane%4).
__device__ __forceinline__ void mma_e4m3_16832(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                               uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// m16n8k8, BF16 inputs.
__device__ __forceinline__ void mma_bf16_1688(float (&d)[4], uint32_t a0, uint32_t a1, uint32_t b0)
{
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(b0));
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b)
{
    uint32_t r;
    asm("mul.rn.bf16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

// Bytes 0,1 (lo) and 2,3 (hi) of w, E4M3, as two BF16x2 words (low byte in
// the low half): natural order, so that activations pair with them as
// stored.
__device__ __forceinline__ void e4m3x4_to_bf16x2(uint32_t w, uint32_t &lo, uint32_t &hi)
{
    const uint32_t t0 = prmt(w, 0u, 0x1404u); // [0, b0, 0, b1]
    const uint32_t t1 = prmt(w, 0u, 0x3424u); // [0, b2, 0, b3]
    const uint32_t u0 = (t0 & 0x80008000u) | ((t0 & 0x7F007F00u) >> 4);
    const uint32_t u1 = (t1 & 0x80008000u) | ((t1 & 0x7F007F00u) >> 4);
    const uint32_t two120 = 0x7B807B80u; // BF16 2^120 in both halves
    lo = bf16x2_mul(u0, two120);
    hi = bf16x2_mul(u1, two120);
}

// Two FP8 codes (low byte -> low half) to FP16x2, exact.
template <bool E5M2>
__device__ __forceinline__ uint32_t fp8x2_to_f16x2(uint32_t two_bytes)
{
    __half2_raw h = __nv_cvt_fp8x2_to_halfraw2((__nv_fp8x2_storage_t)two_bytes, E5M2 ? __NV_E5M2 : __NV_E4M3);
    return (uint32_t)h.x | ((uint32_t)h.y << 16);
}

__device__ __forceinline__ uint32_t pack_f16x2(float lo, float hi)
{
    __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&h);
}

__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi)
{
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&h);
}

} // namespace dec
