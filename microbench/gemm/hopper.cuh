// Hopper (sm_90a) building blocks that the GEMM kernels share: PTX wrappers
// for mbarriers, TMA (cp.async.bulk.tensor), wgmma, named and cluster
// barriers; the shared-memory matrix descriptor for 128-byte-swizzled
// K-major tiles; the persistent tile order; the bf16 epilogue through shared
// memory and TMA stores; and, on the host, tensor-map encoding through the
// driver entry point (no -lcuda).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace hopper {

// ------------------------------------------------------------------ device

__device__ __forceinline__ uint32_t smem_u32(const void *p)
{
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mbar_init(uint64_t *bar, uint32_t count)
{
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_u32(bar)), "r"(count));
}

__device__ __forceinline__ void fence_barrier_init()
{
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

// The barriers of a ring of `stages` stages: full[s] completes when TMA has
// filled stage s (one arrival a producer, with its bytes), empty[s] when
// `consumers` arrivals have released it. Thread 0 initializes; the caller
// then synchronizes the CTA (or cluster) before any use.
__device__ __forceinline__ void init_ring(uint64_t *full, uint64_t *empty, int stages, uint32_t consumers,
                                          uint32_t producers = 1)
{
    if (threadIdx.x != 0) return;
    for (int s = 0; s < stages; s++) {
        mbar_init(&full[s], producers);
        mbar_init(&empty[s], consumers);
    }
    fence_barrier_init();
}

__device__ __forceinline__ void mbar_expect_tx(uint64_t *bar, uint32_t bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_u32(bar)), "r"(bytes)
                 : "memory");
}

// Arrives on `bar` in CTA `cta` of the cluster (the local one included),
// with the default .release.cta semantics, as CUTLASS does: what the arrival
// publishes (a stage that wgmma finished reading) needs no generic-proxy
// fence, and .release.cluster costs a MEMBAR.ALL.GPU per arrival.
__device__ __forceinline__ void mbar_arrive_cluster(uint64_t *bar, uint32_t cta)
{
    asm volatile("{\n\t.reg .b32 ra;\n\t"
                 "mapa.shared::cluster.u32 ra, %0, %1;\n\t"
                 "mbarrier.arrive.shared::cluster.b64 _, [ra];\n\t}" ::"r"(smem_u32(bar)),
                 "r"(cta)
                 : "memory");
}

__device__ __forceinline__ void mbar_arrive(uint64_t *bar)
{
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_u32(bar)) : "memory");
}

__device__ __forceinline__ bool mbar_try_wait(uint32_t addr, uint32_t parity)
{
    uint32_t ok;
    asm volatile("{\n\t.reg .pred p;\n\t"
                 "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\t"
                 "selp.u32 %0, 1, 0, p;\n\t}"
                 : "=r"(ok)
                 : "r"(addr), "r"(parity)
                 : "memory");
    return ok != 0;
}

__device__ __forceinline__ uint64_t global_ns()
{
    uint64_t t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Waits for the phase of `bar` with parity `parity` to complete. A wait that
// lasts 10 s is a deadlock (a bug): it traps, so that the launch fails with
// an error instead of hanging the GPU.
__device__ __forceinline__ void mbar_wait(uint64_t *bar, uint32_t parity)
{
    const uint32_t addr = smem_u32(bar);
    if (mbar_try_wait(addr, parity)) return;
    const uint64_t t0 = global_ns();
    while (!mbar_try_wait(addr, parity))
        if (global_ns() - t0 > 10000000000ull) __trap();
}

__device__ __forceinline__ void prefetch_tmap(const CUtensorMap *m)
{
    asm volatile("prefetch.tensormap [%0];" ::"l"(m) : "memory");
}

// 1-D bulk copy, global -> shared, completing on `bar` (bytes a multiple of
// 16, both addresses 16-byte aligned).
__device__ __forceinline__ void bulk_load(void *dst, const void *src, uint32_t bytes, uint64_t *bar)
{
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_u32(dst)),
                 "l"(src), "r"(bytes), "r"(smem_u32(bar))
                 : "memory");
}

// 2-D tile load, global -> shared, completing on `bar`; c0 is the inner
// (contiguous) coordinate.
__device__ __forceinline__ void tma_load(void *dst, const CUtensorMap *m, uint64_t *bar, int c0, int c1)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%3, %4}], [%2];" ::"r"(smem_u32(dst)),
                 "l"(m), "r"(smem_u32(bar)), "r"(c0), "r"(c1)
                 : "memory");
}

// The same, delivered to the same offset (data and barrier) in every CTA of
// the cluster named in `mask`.
__device__ __forceinline__ void tma_load_multicast(void *dst, const CUtensorMap *m, uint64_t *bar, int c0, int c1,
                                                   uint16_t mask)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
                 " [%0], [%1, {%3, %4}], [%2], %5;" ::"r"(smem_u32(dst)),
                 "l"(m), "r"(smem_u32(bar)), "r"(c0), "r"(c1), "h"(mask)
                 : "memory");
}

__device__ __forceinline__ void tma_store(const CUtensorMap *m, const void *src, int c0, int c1)
{
    asm volatile("cp.async.bulk.tensor.2d.global.shared::cta.bulk_group [%0, {%2, %3}], [%1];" ::"l"(m),
                 "r"(smem_u32(src)), "r"(c0), "r"(c1)
                 : "memory");
}

__device__ __forceinline__ void tma_store_commit() { asm volatile("cp.async.bulk.commit_group;" ::: "memory"); }

// Thread-level asynchronous copies, global to shared (cp.async: the
// generic proxy, so ordinary fences order them). 16 bytes through L2 only,
// or 4 bytes; cp_async_wait_all waits for this thread's own copies.
__device__ __forceinline__ void cp_async16(void *dst, const void *src)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(smem_u32(dst)), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async4(void *dst, const void *src)
{
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(smem_u32(dst)), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_all;" ::: "memory"); }

// Waits until at most N committed store groups still read shared memory.
template <int N> __device__ __forceinline__ void tma_store_wait_read()
{
    asm volatile("cp.async.bulk.wait_group.read %0;" ::"n"(N) : "memory");
}

template <int N> __device__ __forceinline__ void tma_store_wait()
{
    asm volatile("cp.async.bulk.wait_group %0;" ::"n"(N) : "memory");
}

// Orders this thread's ordinary shared-memory writes before later reads by
// the async proxy (TMA store, wgmma).
__device__ __forceinline__ void fence_proxy_async()
{
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

__device__ __forceinline__ void named_bar_sync(int id, int threads)
{
    asm volatile("bar.sync %0, %1;" ::"r"(id), "r"(threads) : "memory");
}

__device__ __forceinline__ uint32_t cluster_ctarank()
{
    uint32_t r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
    return r;
}

__device__ __forceinline__ void cluster_sync()
{
    asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

template <int R> __device__ __forceinline__ void setmaxnreg_inc()
{
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" ::"n"(R));
}

template <int R> __device__ __forceinline__ void setmaxnreg_dec()
{
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" ::"n"(R));
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmma_wait()
{
    asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

// Keeps the compiler from moving accumulator reads or writes across the
// asynchronous wgmma boundaries.
template <int N> __device__ __forceinline__ void fence_operands(float (&r)[N])
{
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(r[i])::"memory");
}

// wgmma shared-memory descriptor of a K-major tile stored as rows of 128
// bytes with the 128-byte swizzle (what TMA writes with
// CU_TENSOR_MAP_SWIZZLE_128B): groups of 8 rows are 1024 bytes apart (stride
// byte offset), the leading byte offset is unused for this layout, and the
// tile starts 1024-aligned (base offset 0). Advancing along K by 16 bytes
// adds 1 to the descriptor.
__device__ __forceinline__ uint64_t desc_k128b(const void *p)
{
    const uint64_t a = smem_u32(p);
    return ((a & 0x3FFFFull) >> 4) | (1ull << 16) | (64ull << 32) | (1ull << 62);
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi)
{
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<uint32_t *>(&v);
}

__device__ __forceinline__ void st_shared_u32(uint32_t addr, uint32_t v)
{
    asm volatile("st.shared.u32 [%0], %1;" ::"r"(addr), "r"(v) : "memory");
}

// Persistent tile order: tiles are numbered along bands of `group` rows of
// tiles (M), column by column (N) inside a band, so that the CTAs running at
// one time share A rows and B columns in L2.
struct TileOrder {
    int tiles_m, tiles_n, group;
    __device__ __forceinline__ void tile(int t, int &tm, int &tn) const
    {
        const int band = group * tiles_n;
        const int first = (t / band) * group;
        const int rows = min(group, tiles_m - first);
        const int r = t % band;
        tm = first + r % rows;
        tn = r / rows;
    }
};

// Epilogue of one consumer warpgroup: its 64 x BN accumulator block (the
// wgmma m64nBN fragment: register 4j+i holds row 16*warp + lane/4 + 8*(i/2),
// column 8j + 2*(lane%4) + i%2) goes, 64 columns at a time, through a
// 128-byte-swizzled 64 x 64 bf16 buffer in shared memory (two buffers,
// alternating) and out by TMA store, which clips rows and columns outside C.
// `scale(j, v)` applies the epilogue scales to v[0..3] of column group j.
template <int BN, class Scale>
__device__ __forceinline__ void store_tile_bf16(float (&acc)[BN / 2], uint8_t *bufs, const CUtensorMap *tmC,
                                                int row0, int col0, int M, int N, int bar_id, Scale scale)
{
    const int tid = threadIdx.x % 128, warp = tid / 32, lane = tid % 32;
    const int r = warp * 16 + lane / 4;
    const uint32_t base = smem_u32(bufs);
#pragma unroll
    for (int c = 0; c < BN / 64; c++) {
        const uint32_t buf = base + (c & 1) * 8192;
        if (tid == 0) tma_store_wait_read<1>(); // the store that last read this buffer is done
        named_bar_sync(bar_id, 128);
#pragma unroll
        for (int jj = 0; jj < 8; jj++) {
            const int j = c * 8 + jj;
            float v[4] = {acc[4 * j], acc[4 * j + 1], acc[4 * j + 2], acc[4 * j + 3]};
            scale(j, v);
            st_shared_u32(buf + r * 128 + ((jj ^ (r & 7)) << 4) + (lane % 4) * 4, pack_bf16(v[0], v[1]));
            st_shared_u32(buf + (r + 8) * 128 + ((jj ^ ((r + 8) & 7)) << 4) + (lane % 4) * 4, pack_bf16(v[2], v[3]));
        }
        fence_proxy_async();
        named_bar_sync(bar_id, 128);
        if (tid == 0) {
            if (row0 < M && col0 + c * 64 < N) tma_store(tmC, bufs + (c & 1) * 8192, col0 + c * 64, row0);
            tma_store_commit(); // always, so that groups and buffers stay paired
        }
    }
}

// --------------------------------------------------------------------- host

inline PFN_cuTensorMapEncodeTiled_v12000 encode_fn()
{
    static PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void *p = nullptr;
        cudaDriverEntryPointQueryResult q;
        cudaError_t e = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q);
        if (e != cudaSuccess || q != cudaDriverEntryPointSuccess || !p) {
            fprintf(stderr, "cuTensorMapEncodeTiled not found in the driver\n");
            exit(1);
        }
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
    }();
    return fn;
}

// A row-major rows x cols matrix (cols contiguous, row stride ld elements)
// read or written in boxes of box_rows x box_cols with the 128-byte swizzle
// (box_cols * element size must be 128). Out-of-bounds reads give zeros.
inline CUtensorMap tensor_map(const void *base, CUtensorMapDataType type, int elem_bytes, uint64_t rows,
                              uint64_t cols, uint64_t ld, uint32_t box_rows, uint32_t box_cols)
{
    CUtensorMap m;
    const cuuint64_t dims[2] = {cols, rows};
    const cuuint64_t strides[1] = {ld * elem_bytes};
    const cuuint32_t box[2] = {box_cols, box_rows};
    const cuuint32_t estr[2] = {1, 1};
    CUresult r = encode_fn()(&m, type, 2, const_cast<void *>(base), dims, strides, box, estr,
                             CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "cuTensorMapEncodeTiled failed (%d): rows %llu cols %llu ld %llu box %u x %u\n", (int)r,
                (unsigned long long)rows, (unsigned long long)cols, (unsigned long long)ld, box_rows, box_cols);
        exit(1);
    }
    return m;
}

// A launch of `threads` x `grid` CTAs, `cluster` CTAs a cluster (1: none).
struct LaunchCfg {
    cudaLaunchConfig_t cfg = {};
    cudaLaunchAttribute attr[1];
    LaunchCfg(int grid, int threads, int smem, int cluster, cudaStream_t stream)
    {
        cfg.gridDim = dim3(grid);
        cfg.blockDim = dim3(threads);
        cfg.dynamicSmemBytes = smem;
        cfg.stream = stream;
        if (cluster > 1) {
            attr[0].id = cudaLaunchAttributeClusterDimension;
            attr[0].val.clusterDim.x = cluster;
            attr[0].val.clusterDim.y = 1;
            attr[0].val.clusterDim.z = 1;
            cfg.attrs = attr;
            cfg.numAttrs = 1;
        }
    }
};

template <class Kernel, class... Args>
inline cudaError_t launch(Kernel kernel, int grid, int threads, int smem, int cluster, cudaStream_t stream,
                          Args... args)
{
    LaunchCfg l(grid, threads, smem, cluster, stream);
    return cudaLaunchKernelEx(&l.cfg, kernel, args...);
}

// How many CTAs of `kernel` can run at once, in whole clusters.
template <class Kernel> inline int resident_ctas(Kernel kernel, int threads, int smem, int cluster)
{
    int sms = 0, dev = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    if (cluster == 1) return sms;
    LaunchCfg l(sms / cluster * cluster, threads, smem, cluster, 0);
    int clusters = 0;
    if (cudaOccupancyMaxActiveClusters(&clusters, kernel, &l.cfg) != cudaSuccess || clusters <= 0) {
        cudaGetLastError();
        return sms / cluster * cluster;
    }
    return clusters * cluster;
}

} // namespace hopper
