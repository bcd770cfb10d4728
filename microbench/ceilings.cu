// The measured ceilings every other benchmark is compared with:
//   ceiling/copy/<MiB>: device-to-device copy (cudaMemcpyAsync), in GB/s
//   counting bytes read plus bytes written, at sizes far beyond L2.
//   ceiling/read/<MiB>, ceiling/read_pdl/<MiB>: one kernel launch that only
//   reads <MiB> from HBM (16-byte streaming loads, 4 in flight a thread, two
//   512-thread CTAs an SM), launched back to back in a CUDA graph; gbps
//   counts the bytes read. The sizes are those of single decode layers
//   (Llama-3.1-8B o in FP8 is 16 MiB) and of one layer's KV cache at batch
//   1 (8 KV heads, 4K context: 8 MiB in FP8): what one launch a layer can
//   reach at that size, launch and tail included, against which the GEMVs'
//   and the attention's frac_copy at small sizes reads. read_pdl launches
//   with programmatic dependent launch, each launch letting the next start
//   at once and waiting for the one before only to write its result, as a
//   GEMV streams its weights before its wait for X.
// The GEMM binary measures the matrix ceilings (cuBLASLt at its best shape).
#include "bench.h"
#include "decode/common.cuh"

static void copy_bench(benchmark::State &state)
{
    const size_t bytes = (size_t)state.range(0) << 20;
    const int n = bench::rotation_count(2 * bytes);
    std::vector<void *> src(n), dst(n);
    for (int i = 0; i < n; i++) {
        CUDA_CHECK(cudaMalloc(&src[i], bytes));
        CUDA_CHECK(cudaMalloc(&dst[i], bytes));
        CUDA_CHECK(cudaMemset(src[i], 0x3C + i, bytes));
    }
    bench::time_launches(state, [&](int i) {
        CUDA_CHECK(cudaMemcpyAsync(dst[i % n], src[i % n], bytes, cudaMemcpyDeviceToDevice));
    });
    bench::set_counters(state, 0, 2.0 * bytes);
    for (int i = 0; i < n; i++) {
        CUDA_CHECK(cudaFree(src[i]));
        CUDA_CHECK(cudaFree(dst[i]));
    }
}

// n16 16-byte words from p: each thread xors its words in rounds of 8
// independent loads (a grid-stride loop, so each round of loads is one
// contiguous span; the last round's loads past the end are predicated off,
// so no thread ends in a chain of single loads each waiting for the one
// before). ptxas issues a round as two groups of 4: 64 KiB in flight an SM,
// about twice what the memory's latency times its rate needs. The xor goes
// to sink only where it equals a value no fill gives, so the loads cannot
// be dropped and nothing is written in practice.
__global__ void __launch_bounds__(512) read_kernel(const uint4 *__restrict__ p, size_t n16, uint4 *sink)
{
    dec::pdl_trigger(); // the next launch may start (no-op without PDL)
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    uint4 a = {0, 0, 0, 0};
    constexpr int U = 8;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n16; i += U * stride) {
        uint4 v[U];
#pragma unroll
        for (int u = 0; u < U; u++) // streaming: not kept in L1/L2
            v[u] = i + u * stride < n16 ? __ldcs(p + i + u * stride) : make_uint4(0, 0, 0, 0);
#pragma unroll
        for (int u = 0; u < U; u++) a.x ^= v[u].x, a.y ^= v[u].y, a.z ^= v[u].z, a.w ^= v[u].w;
    }
    dec::pdl_wait(); // the launch before has finished (its sink writes ordered)
    if (a.x == 0x9E3779B9u && a.y == 0x7F4A7C15u) sink[blockIdx.x] = a;
}

// Fills words with a hash of their index (no run of zeros, no repeats a
// cache could exploit).
__global__ void fill_kernel(uint4 *p, size_t n16, uint32_t salt)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n16; i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 0x9E3779B1u ^ salt;
        h ^= h >> 15, h *= 0x85EBCA77u, h ^= h >> 13;
        p[i] = make_uint4(h, h * 3u + 1u, ~h, h ^ 0xA5A5A5A5u);
    }
}

static void read_bench(benchmark::State &state, bool pdl)
{
    const size_t bytes = (size_t)state.range(0) << 20, n16 = bytes / 16;
    const int n = bench::rotation_count(bytes);
    const int sms = bench::device().multiProcessorCount;
    std::vector<uint4 *> buf(n);
    uint4 *sink = nullptr;
    CUDA_CHECK(cudaMalloc(&sink, 2 * sms * sizeof(uint4)));
    for (int i = 0; i < n; i++) {
        CUDA_CHECK(cudaMalloc(&buf[i], bytes));
        fill_kernel<<<4 * sms, 256>>>(buf[i], n16, 0x1234567u + i);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK_LAUNCH();
    bench::time_graph(state, [&](int i, cudaStream_t s) {
        dec::launch_pdl(pdl, read_kernel, dim3(2 * sms), dim3(512), 0, s, (const uint4 *)buf[i % n], n16, sink);
    }, 2 * n);
    CUDA_CHECK_LAUNCH();
    bench::set_counters(state, 0, (double)bytes);
    for (int i = 0; i < n; i++) CUDA_CHECK(cudaFree(buf[i]));
    CUDA_CHECK(cudaFree(sink));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--gpu_info") == 0) { // for the sweep's GPU check
        const cudaDeviceProp &p = bench::device();
        printf("name=%s\nsm_count=%d\nmemory_bytes=%zu\n", p.name, p.multiProcessorCount, p.totalGlobalMem);
        return 0;
    }
    bench::init(&argc, argv);
    bench::add_context();
    for (int mib : {256, 1024, 4096})
        benchmark::RegisterBenchmark(("ceiling/copy/" + std::to_string(mib) + "MiB").c_str(), copy_bench)
            ->Arg(mib)->UseManualTime()->Unit(benchmark::kMicrosecond);
    for (bool pdl : {false, true})
        for (int mib : {4, 8, 16, 24, 32, 48, 64, 128, 256, 1024, 2048, 4096})
            benchmark::RegisterBenchmark(("ceiling/" + std::string(pdl ? "read_pdl/" : "read/") + std::to_string(mib) + "MiB").c_str(),
                                         read_bench, pdl)
                ->Arg(mib)->UseManualTime()->Unit(benchmark::kMicrosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
