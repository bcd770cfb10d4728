// The measured ceilings every other benchmark is compared with:
//   ceiling/copy/<MiB>: device-to-device copy (cudaMemcpyAsync), in GB/s
//   counting bytes read plus bytes written, at sizes far beyond L2.
// The GEMM binary measures the matrix ceilings (cuBLASLt at its best shape).
#include "bench.h"

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
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
