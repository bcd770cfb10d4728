// quant: FP8 quantization and dequantization on the GPU (kernels in
// quant_kernels.cuh), timed under Google Benchmark, and checked bit for bit
// against the CPU codec (codec/fp8_quant.h) with --check.
//
//   quant/<impl>/<scheme>/<dtype>/<n>
//     impl    fp8kit_hw (hardware cvt) or fp8kit_sw (the software path)
//     scheme  tensor_2pass   amax pass + cast pass (current scaling)
//             tensor_1pass   current scaling in one pass, for tensors that
//                            fit on chip (registered only at sizes that fit:
//                            4 MiB, 16 MiB and the largest whole MiB that
//                            fits, beside tensor_2pass at the same sizes)
//             tensor_delayed one pass, scale from an amax history of 16
//             block128       1 x 128 blocks, FP32 scales (DeepSeek-V3 activations)
//             tile128        128 x 128 tiles, FP32 scales (DeepSeek-V3 weights)
//             mx32           OCP MX: 1 x 32 blocks, E8M0 scales (OCP rule)
//             mx32_ceil      1 x 32 blocks, E8M0 scales rounded up (DeepSeek-V3.1)
//             dequant_<scheme>  back to FP32 or BF16
//     dtype   <source>_<format> (f32_e4m3, bf16_e5m2, ...) or, for dequant,
//             <format>_<output>
//     n       elements
//   counters: gbps = bytes read + written by the kernels (the two-pass
//   scheme reads its input twice; scales count), frac_copy = gbps over the
//   measured device-to-device copy bandwidth. Every benchmark rotates
//   through enough copies of its buffers (bench::rotation_count) that its
//   input is not in L2: also the small tensor_1pass / tensor_2pass sizes
//   are DRAM numbers.
//
//   --variants=1 registers, instead, the kernel variants that one run
//   compares (quant_variant/<impl>/<scheme>/<variant>/<dtype>/<n>, 1 GiB):
//     block128, mx32_ceil  r8 (8 rows a warp step: the default, QUANT_ROWS),
//                          r4, r4_pf (the next step's rows loaded before
//                          this step's reduction and scale rule), r2_pf
//     dequant_tensor       u2 (the default: 2 groups in flight a thread,
//                          streaming stores), u4, u2_wb (plain stores)
//   and traffic references quant_variant/ref/traffic/r<R>w<W>/<n>: the
//   access pattern of a kernel that reads R bytes and writes W an element,
//   without the arithmetic (the ceiling of that traffic mix).
#include "bench.h"
#include "quant_kernels.cuh"

#include <cstdint>
#include <random>

using namespace quant;

namespace {

const char *fmt_name(int f) { return f ? "e5m2" : "e4m3"; }
template <class T> const char *src_name() { return sizeof(T) == 4 ? "f32" : "bf16"; }

int grid_for(size_t work_items)
{
    const int sms = bench::device().multiProcessorCount;
    return (int)std::min<size_t>((work_items + 255) / 256, (size_t)sms * 16);
}

// Device buffers of one operand set.
struct Bufs {
    void *x = nullptr;
    uint8_t *q = nullptr, *se = nullptr;
    float *sf = nullptr, *y = nullptr;
    uint32_t *amax = nullptr;
    OnePassState *st = nullptr; // tensor_1pass barrier state (zero between launches)
    size_t n = 0;
    void alloc(size_t n_, size_t src_bytes)
    {
        n = n_;
        CUDA_CHECK(cudaMalloc(&x, n * src_bytes));
        CUDA_CHECK(cudaMalloc(&q, n));
        CUDA_CHECK(cudaMalloc(&se, n / 32 + 16));
        CUDA_CHECK(cudaMalloc(&sf, (n / 32 + 16) * 4));
        CUDA_CHECK(cudaMalloc(&y, n * 4));
        CUDA_CHECK(cudaMalloc(&amax, 64 * 4));
        CUDA_CHECK(cudaMemset(amax, 0, 64 * 4));
        CUDA_CHECK(cudaMalloc(&st, sizeof(OnePassState)));
        CUDA_CHECK(cudaMemset(st, 0, sizeof(OnePassState)));
    }
    void free()
    {
        for (void *p : {x, (void *)q, (void *)se, (void *)sf, (void *)y, (void *)amax, (void *)st}) CUDA_CHECK(cudaFree(p));
    }
};

// Random source data on the GPU: Gaussian-like values whose magnitude
// changes every 128 elements (so scales differ between blocks), a fresh seed.
template <class T> __global__ void fill_random(T *x, size_t n, uint64_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        h ^= h >> 31; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 29;
        const float u = ((h >> 40) & 0xFFFFFF) * (1.0f / 16777216.0f) + ((h >> 16) & 0xFFFFFF) * (1.0f / 16777216.0f) - 1.0f;
        uint64_t g = (i / 128 + 7) * 0xD6E8FEB86659FD93ull ^ seed;
        g ^= g >> 32;
        const float mag = exp2f((float)(int)(g % 24) - 12.0f);
        const float v = u * mag;
        if (sizeof(T) == 4) reinterpret_cast<float *>(x)[i] = v;
        else reinterpret_cast<uint16_t *>(x)[i] = bf16_from_f32_bits(__float_as_uint(v));
    }
}

// ---- launching one scheme ----

enum Scheme { TENSOR_2PASS, TENSOR_DELAYED, BLOCK128, TILE128, MX32, MX32_CEIL, TENSOR_1PASS, NSCHEME };
const char *scheme_name[NSCHEME] = {"tensor_2pass", "tensor_delayed", "block128", "tile128", "mx32", "mx32_ceil", "tensor_1pass"};
const int HIST = 16;

// Matrix shape for the tile scheme: cols = 8192 (a weight's K), rows = n / cols.
const size_t TILE_COLS = 8192;

// ---- tensor_1pass: the persistent grid and what fits on chip ----
// One CTA of ONEPASS_THREADS an SM (as many as the occupancy API says are
// co-resident with the shared memory below), each with ONEPASS_RK register
// rounds and sk shared-memory rounds of ONEPASS_THREADS 16-byte vectors: sk
// fills the shared memory a block may opt into, less the kernel's static
// shared memory. Capacity = grid * (RK + sk) * ONEPASS_THREADS vectors.
struct OnePass {
    bool ok = false;
    int grid = 0, sk = 0;
    size_t smem = 0, round_vectors = 0; // rounds a CTA holds, in vectors
    std::string why;
    size_t capacity_bytes() const { return (size_t)grid * round_vectors * 16; }
    // the kernel's own condition: ceil(nv / grid) vectors a CTA
    template <class T> bool fits(size_t n) const
    {
        const size_t nv = n / Vec<T>::V;
        return ok && (nv + grid - 1) / grid <= round_vectors;
    }
};

template <class T, int FMT, bool HW> const OnePass &onepass()
{
    static const OnePass c = [] {
        OnePass o;
        auto k = tensor_1pass<T, FMT, HW>;
        const cudaDeviceProp &p = bench::device();
        cudaFuncAttributes a;
        CUDA_CHECK(cudaFuncGetAttributes(&a, k));
        const size_t avail = p.sharedMemPerBlockOptin > a.sharedSizeBytes ? p.sharedMemPerBlockOptin - a.sharedSizeBytes : 0;
        o.sk = (int)(avail / (ONEPASS_THREADS * 16));
        o.smem = (size_t)o.sk * ONEPASS_THREADS * 16;
        CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)o.smem));
        int per_sm = 0;
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, ONEPASS_THREADS, o.smem));
        o.grid = per_sm * p.multiProcessorCount;
        o.round_vectors = (size_t)(ONEPASS_RK + o.sk) * ONEPASS_THREADS;
        if (!p.cooperativeLaunch) o.why = "the device has no cooperative launch";
        else if (per_sm < 1) o.why = "the kernel cannot be resident with its shared memory";
        else if (a.localSizeBytes) o.why = "the kernel spills registers to local memory";
        o.ok = o.why.empty();
        return o;
    }();
    return c;
}

// Launches tensor_1pass over b (cooperative launch: all CTAs resident, or
// the launch fails). Returns false, launching nothing, where n does not fit
// (force: launch anyway, to check that the kernel itself then writes nothing).
template <class T, int FMT, bool HW> bool launch_1pass(Bufs &b, bool force = false)
{
    const OnePass &o = onepass<T, FMT, HW>();
    if (!o.ok || (!o.template fits<T>(b.n) && !force)) return false;
    const T *x = (const T *)b.x;
    size_t n = b.n;
    int sk = o.sk;
    void *args[] = {(void *)&x, (void *)&n, (void *)&b.q, (void *)&b.st, (void *)&b.sf, (void *)&sk};
    CUDA_CHECK(cudaLaunchCooperativeKernel((const void *)tensor_1pass<T, FMT, HW>, dim3(o.grid), dim3(ONEPASS_THREADS), args,
                                           o.smem, 0));
    return true;
}

// 1 x B blocks with R rows a warp step, PF: prefetch the next step.
template <class T, int FMT, bool HW, int R = QUANT_ROWS, bool PF = false> void launch_blocks(int scheme, Bufs &b)
{
    const T *x = (const T *)b.x;
    const size_t n = b.n;
    const int g = grid_for(n / Vec<T>::V / R);
    switch (scheme) {
    case BLOCK128: blocks_quant<T, FMT, HW, 128, F32, R, PF><<<g, 256>>>(x, n, b.q, b.sf, b.se); break;
    case MX32: blocks_quant<T, FMT, HW, 32, E8M0_OCP, R, PF><<<g, 256>>>(x, n, b.q, b.sf, b.se); break;
    case MX32_CEIL: blocks_quant<T, FMT, HW, 32, E8M0_CEIL, R, PF><<<g, 256>>>(x, n, b.q, b.sf, b.se); break;
    }
    CUDA_CHECK_LAUNCH();
}

template <class T, int FMT, bool HW> void launch_quant(int scheme, Bufs &b)
{
    const T *x = (const T *)b.x;
    const size_t n = b.n;
    constexpr int V = Vec<T>::V;
    const int g = grid_for((n + V - 1) / V);
    switch (scheme) {
    case TENSOR_2PASS:
        CUDA_CHECK(cudaMemsetAsync(b.amax, 0, 4));
        tensor_amax<T><<<g, 256>>>(x, n, b.amax);
        tensor_cast<T, FMT, HW, false><<<g, 256>>>(x, n, b.q, b.amax, 1, nullptr, b.sf);
        break;
    case TENSOR_1PASS:
        if (!launch_1pass<T, FMT, HW>(b)) {
            fprintf(stderr, "tensor_1pass: %zu elements do not fit on chip (%s)\n", n, onepass<T, FMT, HW>().why.c_str());
            exit(1);
        }
        break;
    case TENSOR_DELAYED:
        tensor_cast<T, FMT, HW, true><<<g, 256>>>(x, n, b.q, b.amax, HIST, b.amax + HIST, b.sf);
        break;
    case BLOCK128:
    case MX32:
    case MX32_CEIL: launch_blocks<T, FMT, HW>(scheme, b); break;
    case TILE128: {
        const int rows = (int)(n / TILE_COLS);
        dim3 grid((unsigned)(TILE_COLS / 128), (unsigned)(rows / 128));
        tiles_quant<T, FMT, HW><<<grid, 256>>>(x, TILE_COLS, rows, (int)TILE_COLS, b.q, TILE_COLS, b.sf);
        break;
    }
    }
    CUDA_CHECK_LAUNCH();
}

// U groups in flight a thread, CS streaming stores.
template <int FMT, bool HW, class OUT, int U = 2, bool CS = true> void launch_dequant(int scheme, Bufs &b)
{
    const size_t n = b.n;
    const int g = grid_for(n / 8 + 1);
    OUT *y = (OUT *)b.y;
    switch (scheme) {
    case TENSOR_2PASS:
    case TENSOR_1PASS:
    case TENSOR_DELAYED: dequant<FMT, HW, F32, OUT, 0, U, CS><<<g, 256>>>(b.q, n, b.sf, b.se, 0, y); break;
    case BLOCK128: dequant<FMT, HW, F32, OUT, 128, U, CS><<<g, 256>>>(b.q, n, b.sf, b.se, 0, y); break;
    case TILE128: dequant<FMT, HW, F32, OUT, DQ_TILES, U, CS><<<g, 256>>>(b.q, n, b.sf, b.se, TILE_COLS, y); break;
    case MX32:
    case MX32_CEIL: dequant<FMT, HW, E8M0_OCP, OUT, 32, U, CS><<<g, 256>>>(b.q, n, b.sf, b.se, 0, y); break;
    }
    CUDA_CHECK_LAUNCH();
}

// Bytes a quantization moves: source read (twice for two passes), codes
// written, scales written.
template <class T> double quant_bytes(int scheme, size_t n)
{
    double src = (double)n * sizeof(T), scales = 4;
    if (scheme == BLOCK128) scales = n / 128.0 * 4;
    if (scheme == TILE128) scales = n / 16384.0 * 4;
    if (scheme == MX32 || scheme == MX32_CEIL) scales = n / 32.0;
    return src * (scheme == TENSOR_2PASS ? 2 : 1) + n + scales;
}

double dequant_bytes(int scheme, size_t n, size_t out_bytes)
{
    const double scales = scheme == BLOCK128 ? n / 128.0 * 4 : scheme == TILE128 ? n / 16384.0 * 4
                        : (scheme == MX32 || scheme == MX32_CEIL) ? n / 32.0 : 4;
    return n + (double)n * out_bytes + scales;
}

// ---- benchmarks ----

// Operand sets of a quantization benchmark: random source data and, for
// delayed scaling, an amax history (the tensor's own amax, as after one step).
template <class T> std::vector<Bufs> quant_sets(size_t n)
{
    const int sets = bench::rotation_count(n * (sizeof(T) + 1));
    std::vector<Bufs> b(sets);
    for (auto &s : b) {
        s.alloc(n, sizeof(T));
        fill_random<T><<<1024, 256>>>((T *)s.x, n, std::random_device{}());
        tensor_amax<T><<<grid_for(n / Vec<T>::V + 1), 256>>>((const T *)s.x, n, s.amax);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    return b;
}

template <class T, int FMT, bool HW> void bench_quant(benchmark::State &state, int scheme, size_t n)
{
    if (scheme == TENSOR_1PASS && !onepass<T, FMT, HW>().template fits<T>(n)) {
        state.SkipWithError("tensor_1pass: the tensor does not fit on chip");
        return;
    }
    std::vector<Bufs> b = quant_sets<T>(n);
    const int sets = (int)b.size();
    bench::time_launches(state, [&](int i) { launch_quant<T, FMT, HW>(scheme, b[i % sets]); });
    bench::set_counters(state, 0, quant_bytes<T>(scheme, n));
    state.counters["elements"] = (double)n;
    for (auto &s : b) s.free();
}

template <int FMT, bool HW, class OUT, int U = 2, bool CS = true>
void bench_dequant(benchmark::State &state, int scheme, size_t n)
{
    const int sets = bench::rotation_count(n * (sizeof(OUT) + 1));
    std::vector<Bufs> b(sets);
    for (auto &s : b) {
        s.alloc(n, 4);
        fill_random<float><<<1024, 256>>>((float *)s.x, n, std::random_device{}());
        launch_quant<float, FMT, true>(scheme, s);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    bench::time_launches(state, [&](int i) { launch_dequant<FMT, HW, OUT, U, CS>(scheme, b[i % sets]); });
    bench::set_counters(state, 0, dequant_bytes(scheme, n, sizeof(OUT)));
    state.counters["elements"] = (double)n;
    for (auto &s : b) s.free();
}

std::string impl_name(bool hw) { return hw ? "fp8kit_hw" : "fp8kit_sw"; }

template <class T, int FMT, bool HW> void register_one(int s, size_t n)
{
    std::string name = "quant/" + impl_name(HW) + "/" + scheme_name[s] + "/" + src_name<T>() + "_" + fmt_name(FMT) + "/" +
                       std::to_string(n);
    benchmark::RegisterBenchmark(name.c_str(), [s, n](benchmark::State &st) { bench_quant<T, FMT, HW>(st, s, n); })
        ->UseManualTime()->Unit(benchmark::kMicrosecond);
}

template <class T, int FMT, bool HW> void register_quant(size_t bytes, bool quick)
{
    const size_t n = bytes / sizeof(T);
    for (int s = 0; s < NSCHEME; s++) {
        if (s == TENSOR_1PASS) continue; // registered at the sizes that fit: register_onchip
        if (quick && (s == MX32_CEIL || s == TENSOR_DELAYED)) continue;
        register_one<T, FMT, HW>(s, n);
    }
}

// Tensors that fit on chip: tensor_1pass beside tensor_2pass at 4 MiB,
// 16 MiB and the largest whole MiB that fits (quick: the largest only).
template <class T, int FMT, bool HW> void register_onchip(bool quick)
{
    const OnePass &o = onepass<T, FMT, HW>();
    if (!o.ok) {
        fprintf(stderr, "quant: tensor_1pass not registered: %s\n", o.why.c_str());
        return;
    }
    std::vector<size_t> mibs = {4, 16};
    if (quick) mibs.clear();
    const size_t top = o.capacity_bytes() >> 20;
    if (top > 16) mibs.push_back(top);
    for (size_t mib : mibs) {
        const size_t n = (mib << 20) / sizeof(T);
        if (!o.template fits<T>(n)) continue;
        register_one<T, FMT, HW>(TENSOR_1PASS, n);
        register_one<T, FMT, HW>(TENSOR_2PASS, n);
    }
}

template <int FMT, bool HW, class OUT> void register_dequant(size_t n, bool quick)
{
    for (int s : {TENSOR_2PASS, BLOCK128, TILE128, MX32}) {
        if (quick && s == TILE128) continue;
        std::string sch = s == TENSOR_2PASS ? "tensor" : scheme_name[s];
        std::string name = "quant/" + impl_name(HW) + "/dequant_" + sch + "/" + fmt_name(FMT) + "_" +
                           (sizeof(OUT) == 4 ? "f32" : "bf16") + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), [s, n](benchmark::State &st) { bench_dequant<FMT, HW, OUT>(st, s, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
}

// ---- --variants=1: kernel variants and traffic references ----

template <class T, int FMT, bool HW, int R, bool PF>
void bench_blocks_variant(benchmark::State &state, int scheme, size_t n)
{
    std::vector<Bufs> b = quant_sets<T>(n);
    const int sets = (int)b.size();
    bench::time_launches(state, [&](int i) { launch_blocks<T, FMT, HW, R, PF>(scheme, b[i % sets]); });
    bench::set_counters(state, 0, quant_bytes<T>(scheme, n));
    state.counters["elements"] = (double)n;
    for (auto &s : b) s.free();
}

template <class T, int FMT, bool HW> void register_blocks_variants(int s, size_t bytes)
{
    const size_t n = bytes / sizeof(T);
    const std::string pre = "quant_variant/" + impl_name(HW) + "/" + scheme_name[s] + "/",
                      post = std::string("/") + src_name<T>() + "_" + fmt_name(FMT) + "/" + std::to_string(n);
    auto reg = [&](const char *v, void (*fn)(benchmark::State &, int, size_t)) {
        benchmark::RegisterBenchmark((pre + v + post).c_str(), [fn, s, n](benchmark::State &st) { fn(st, s, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    };
    reg("r4", bench_blocks_variant<T, FMT, HW, 4, false>);
    reg("r4_pf", bench_blocks_variant<T, FMT, HW, 4, true>);
    reg("r8", bench_blocks_variant<T, FMT, HW, 8, false>);
    reg("r2_pf", bench_blocks_variant<T, FMT, HW, 2, true>);
}

template <int FMT, bool HW, class OUT> void register_dequant_variants(size_t n)
{
    const std::string pre = "quant_variant/" + impl_name(HW) + "/dequant_tensor/",
                      post = std::string("/") + fmt_name(FMT) + "_" + (sizeof(OUT) == 4 ? "f32" : "bf16") + "/" + std::to_string(n);
    auto reg = [&](const char *v, void (*fn)(benchmark::State &, int, size_t)) {
        benchmark::RegisterBenchmark((pre + v + post).c_str(), [fn, n](benchmark::State &st) { fn(st, TENSOR_2PASS, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    };
    reg("u2", bench_dequant<FMT, HW, OUT, 2, true>);
    reg("u4", bench_dequant<FMT, HW, OUT, 4, true>);
    reg("u2_wb", bench_dequant<FMT, HW, OUT, 2, false>);
}

template <int RB, int WB> void bench_traffic(benchmark::State &state, size_t n)
{
    const int sets = bench::rotation_count(n * (RB + WB));
    std::vector<std::pair<uint8_t *, uint8_t *>> b(sets);
    for (auto &p : b) {
        CUDA_CHECK(cudaMalloc(&p.first, n * RB));
        CUDA_CHECK(cudaMalloc(&p.second, n * WB));
        CUDA_CHECK(cudaMemset(p.first, 0x3C, n * RB));
    }
    const int g = grid_for(n / 4);
    bench::time_launches(state, [&](int i) {
        traffic_ref<RB, WB><<<g, 256>>>(b[i % sets].first, n, b[i % sets].second);
        CUDA_CHECK_LAUNCH();
    });
    bench::set_counters(state, 0, (double)n * (RB + WB));
    for (auto &p : b) {
        CUDA_CHECK(cudaFree(p.first));
        CUDA_CHECK(cudaFree(p.second));
    }
}

void register_variants()
{
    const size_t bytes = size_t(1) << 30;
    register_blocks_variants<float, E4M3, true>(BLOCK128, bytes);
    register_blocks_variants<float, E4M3, false>(BLOCK128, bytes);
    register_blocks_variants<uint16_t, E4M3, true>(BLOCK128, bytes);
    register_blocks_variants<float, E4M3, true>(MX32_CEIL, bytes);
    register_dequant_variants<E4M3, true, float>(bytes / 4);
    register_dequant_variants<E4M3, false, float>(bytes / 4);
    register_dequant_variants<E4M3, true, uint16_t>(bytes / 4);
    auto reg = [](const char *v, size_t n, void (*fn)(benchmark::State &, size_t)) {
        benchmark::RegisterBenchmark((std::string("quant_variant/ref/traffic/") + v + "/" + std::to_string(n)).c_str(),
                                     [fn, n](benchmark::State &st) { fn(st, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    };
    reg("r4w1", bytes / 4, bench_traffic<4, 1>); // FP32 -> FP8
    reg("r2w1", bytes / 2, bench_traffic<2, 1>); // BF16 -> FP8
    reg("r1w4", bytes / 4, bench_traffic<1, 4>); // FP8 -> FP32
    reg("r1w2", bytes / 4, bench_traffic<1, 2>); // FP8 -> BF16
}

// ---- --check: bit for bit against the CPU codec ----

int failures = 0;

void line(bool ok, const std::string &what, const std::string &detail)
{
    failures += !ok;
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.c_str());
    fflush(stdout);
}

// Host source data with the cases the codec defines: zero blocks, blocks of
// FP32 subnormals, Inf and NaN inside blocks, values near FLT_MAX.
template <class T> std::vector<T> host_data(size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<T> x(n);
    for (size_t i = 0; i < n; i++) {
        const size_t blk = i / 128;
        float v = nd(rng) * std::ldexp(1.0f, (int)(blk % 29) - 14);
        if (blk % 97 == 5) v = 0.0f;                                        // all-zero block
        if (blk % 89 == 7) v = nd(rng) * 1e-39f;                             // FP32 subnormals
        if (blk % 83 == 3) v = nd(rng) * 3e38f;                              // near FLT_MAX
        if (rng() % 4099 == 0) v = (rng() & 1) ? INFINITY : -INFINITY;
        if (rng() % 4111 == 0) v = std::nanf("") * ((rng() & 1) ? 1 : -1);
        if (sizeof(T) == 4) memcpy(&x[i], &v, 4);
        else { const uint16_t h = bf16_from_f32(v); memcpy(&x[i], &h, 2); }
    }
    return x;
}

bool same_f32(uint32_t a, uint32_t b, bool nan_equal)
{
    return a == b || (nan_equal && (a & 0x7FFFFFFFu) > 0x7F800000u && (b & 0x7FFFFFFFu) > 0x7F800000u);
}

template <class T, int FMT, bool HW> void check_case(uint64_t seed)
{
    const size_t rows = 384, cols = 640, ld = 704; // tiles: a row stride beyond cols
    const size_t n = rows * ld;                    // also 1-D length: a multiple of 128
    const std::vector<T> hx = host_data<T>(n, seed);
    Bufs b;
    b.alloc(n, sizeof(T));
    CUDA_CHECK(cudaMemcpy(b.x, hx.data(), n * sizeof(T), cudaMemcpyHostToDevice));
    const std::string tag = std::string(HW ? "hw " : "sw ") + src_name<T>() + "->" + fmt_name(FMT);
    for (int s = 0; s < NSCHEME; s++)
    for (int var = 0; var < ((s == BLOCK128 || s == MX32 || s == MX32_CEIL) ? 4 : 1); var++) {
        static const char *vname[4] = {"", " r4_pf", " r8", " r2_pf"};
        CUDA_CHECK(cudaMemset(b.q, 0xA5, n)); // poison
        CUDA_CHECK(cudaMemset(b.sf, 0xFF, (n / 32 + 16) * 4));
        CUDA_CHECK(cudaMemset(b.se, 0xA5, n / 32 + 16));
        std::vector<uint32_t> hist(2 * HIST, 0);
        if (s == TENSOR_DELAYED) { // a history whose max is some earlier amax
            std::mt19937 r(seed);
            for (int h = 0; h < HIST; h++) hist[h] = 0x3F000000u + (r() & 0x00FFFFFFu);
            CUDA_CHECK(cudaMemcpy(b.amax, hist.data(), hist.size() * 4, cudaMemcpyHostToDevice));
        }
        const size_t qn = s == TILE128 ? rows * cols : n;
        if (s == TILE128) {
            b.n = rows * cols; // the kernel reads rows x cols with stride ld
            const T *x = (const T *)b.x;
            tiles_quant<T, FMT, HW><<<dim3(cols / 128, rows / 128), 256>>>(x, ld, rows, cols, b.q, cols, b.sf);
            CUDA_CHECK_LAUNCH();
            b.n = n;
        } else if (var == 1) {
            launch_blocks<T, FMT, HW, 4, true>(s, b);
        } else if (var == 2) {
            launch_blocks<T, FMT, HW, 8, false>(s, b);
        } else if (var == 3) {
            launch_blocks<T, FMT, HW, 2, true>(s, b);
        } else {
            launch_quant<T, FMT, HW>(s, b);
        }
        CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<uint8_t> gq(qn), cq(qn), gse(n / 32), cse(n / 32);
        std::vector<float> gsf(n / 32), csf(n / 32);
        CUDA_CHECK(cudaMemcpy(gq.data(), b.q, qn, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(gsf.data(), b.sf, gsf.size() * 4, cudaMemcpyDeviceToHost));
        CUDA_CHECK(cudaMemcpy(gse.data(), b.se, gse.size(), cudaMemcpyDeviceToHost));
        size_t nscales = 0;
        bool scale_bytes = false;
        int rc = 0;
        const float *xf = sizeof(T) == 4 ? (const float *)hx.data() : nullptr;
        const uint16_t *xb = sizeof(T) == 2 ? (const uint16_t *)hx.data() : nullptr;
#define CPU(fn, ...) (FMT ? (xf ? fp8_e5m2_##fn##_f32(__VA_ARGS__, xf, ARGS) : fp8_e5m2_##fn##_bf16(__VA_ARGS__, xb, ARGS)) \
                          : (xf ? fp8_e4m3_##fn##_f32(__VA_ARGS__, xf, ARGS) : fp8_e4m3_##fn##_bf16(__VA_ARGS__, xb, ARGS)))
        switch (s) {
        case TENSOR_2PASS:
        case TENSOR_1PASS:
#define ARGS n, 0
            rc = CPU(quantize_tensor, cq.data(), csf.data());
#undef ARGS
            nscales = 1;
            break;
        case TENSOR_DELAYED: {
            uint32_t m = 0;
            for (int h = 0; h < HIST; h++) m = std::max(m, hist[h]);
            float sc;
            memcpy(&sc, &m, 4);
            csf[0] = FMT ? fp8_e5m2_scale(sc) : fp8_e4m3_scale(sc);
#define ARGS n, csf[0]
            rc = CPU(quantize_scaled, cq.data());
#undef ARGS
            nscales = 1;
            uint32_t rec;
            CUDA_CHECK(cudaMemcpy(&rec, b.amax + HIST, 4, cudaMemcpyDeviceToHost));
            const float want = xf ? fp8_amax_f32(xf, n) : fp8_amax_bf16(xb, n);
            uint32_t wb;
            memcpy(&wb, &want, 4);
            line(rec == wb, "quant " + tag + " tensor_delayed records this tensor's amax", rec == wb ? "equal" : "differs");
            break;
        }
        case BLOCK128:
#define ARGS n, 128, 0
            rc = CPU(quantize_blocks, cq.data(), csf.data());
#undef ARGS
            nscales = n / 128;
            break;
        case MX32:
        case MX32_CEIL:
#define ARGS n, 32, (s == MX32 ? FP8_E8M0_OCP : FP8_E8M0_CEIL)
            rc = CPU(quantize_blocks_e8m0, cq.data(), cse.data());
#undef ARGS
            nscales = n / 32;
            scale_bytes = true;
            break;
        case TILE128:
#define ARGS ld, rows, cols, 128, 128, 0
            rc = CPU(quantize_tiles, cq.data(), cols, csf.data());
#undef ARGS
            nscales = (rows / 128) * (cols / 128);
            break;
        }
#undef CPU
        size_t bad_q = 0, bad_s = 0, first = SIZE_MAX;
        for (size_t i = 0; i < qn; i++)
            if (gq[i] != cq[i]) { bad_q++; first = std::min(first, i); }
        for (size_t i = 0; i < nscales; i++)
            bad_s += scale_bytes ? gse[i] != cse[i] : !same_f32(*(uint32_t *)&gsf[i], *(uint32_t *)&csf[i], false);
        char d[256];
        snprintf(d, sizeof d, "%zu codes and %zu scales; %zu codes and %zu scales differ%s", qn, nscales, bad_q, bad_s,
                 bad_q ? (" (first at " + std::to_string(first) + ")").c_str() : "");
        line(rc == 0 && bad_q == 0 && bad_s == 0, "quant " + tag + " " + scheme_name[s] + vname[var] + " vs CPU codec", d);

        if (s == TENSOR_DELAYED || s == MX32_CEIL || var) continue;
        // dequantization of the same codes, to FP32 and BF16 (tensor scale: the variants too)
        for (int dv = 0; dv < (s == TENSOR_2PASS ? 3 : 1); dv++)
        for (int out32 = 0; out32 < 2; out32++) {
            static const char *dname[3] = {"", " u4", " u2_wb"};
            if (s == TILE128) continue; // dequant of tiles: checked on the contiguous benchmark layout below
            CUDA_CHECK(cudaMemset(b.y, 0xFF, n * 4));
            if (out32) {
                if (dv == 0) launch_dequant<FMT, HW, float>(s, b);
                else if (dv == 1) launch_dequant<FMT, HW, float, 4, true>(s, b);
                else launch_dequant<FMT, HW, float, 2, false>(s, b);
            } else {
                if (dv == 0) launch_dequant<FMT, HW, uint16_t>(s, b);
                else if (dv == 1) launch_dequant<FMT, HW, uint16_t, 4, true>(s, b);
                else launch_dequant<FMT, HW, uint16_t, 2, false>(s, b);
            }
            CUDA_CHECK(cudaDeviceSynchronize());
            std::vector<uint32_t> gy(n), cy(n);
            std::vector<uint16_t> gyb(n), cyb(n);
            if (out32) CUDA_CHECK(cudaMemcpy(gy.data(), b.y, n * 4, cudaMemcpyDeviceToHost));
            else CUDA_CHECK(cudaMemcpy(gyb.data(), b.y, n * 2, cudaMemcpyDeviceToHost));
            const uint8_t *qq = cq.data();
            if (s == BLOCK128)
                rc = out32 ? (FMT ? fp8_e5m2_dequantize_blocks_f32 : fp8_e4m3_dequantize_blocks_f32)((float *)cy.data(), qq, csf.data(), n, 128)
                           : (FMT ? fp8_e5m2_dequantize_blocks_bf16 : fp8_e4m3_dequantize_blocks_bf16)(cyb.data(), qq, csf.data(), n, 128);
            else if (s == MX32)
                rc = out32 ? (FMT ? fp8_e5m2_dequantize_blocks_e8m0_f32 : fp8_e4m3_dequantize_blocks_e8m0_f32)((float *)cy.data(), qq, cse.data(), n, 32)
                           : (FMT ? fp8_e5m2_dequantize_blocks_e8m0_bf16 : fp8_e4m3_dequantize_blocks_e8m0_bf16)(cyb.data(), qq, cse.data(), n, 32);
            else
                rc = out32 ? (FMT ? fp8_e5m2_dequantize_tensor_f32 : fp8_e4m3_dequantize_tensor_f32)((float *)cy.data(), qq, n, csf[0])
                           : (FMT ? fp8_e5m2_dequantize_tensor_bf16 : fp8_e4m3_dequantize_tensor_bf16)(cyb.data(), qq, n, csf[0]);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++)
                bad += out32 ? !same_f32(gy[i], cy[i], true)
                             : !(gyb[i] == cyb[i] || (HW && (gyb[i] & 0x7FFF) > 0x7F80 && (cyb[i] & 0x7FFF) > 0x7F80));
            snprintf(d, sizeof d, "%zu values, %zu differ (NaN bits aside: %s)", n, bad,
                     out32 ? "the GPU's multiply returns its canonical NaN" : "the hardware decoder drops the NaN sign");
            line(rc == 0 && bad == 0, std::string("dequant ") + (HW ? "hw " : "sw ") + fmt_name(FMT) + "->" +
                 (out32 ? "f32 " : "bf16 ") + scheme_name[s] + dname[dv] + " vs CPU codec", d);
        }
    }
    b.free();
}

template <int FMT, bool HW> void check_tile_dequant(uint64_t seed)
{
    // dequant of 128 x 128 tiles in the contiguous layout the benchmark uses
    const size_t rows = 256, cols = TILE_COLS, n = rows * cols;
    const std::vector<float> hx = host_data<float>(n, seed);
    Bufs b;
    b.alloc(n, 4);
    CUDA_CHECK(cudaMemcpy(b.x, hx.data(), n * 4, cudaMemcpyHostToDevice));
    launch_quant<float, FMT, true>(TILE128, b);
    launch_dequant<FMT, HW, float>(TILE128, b);
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<uint8_t> q(n);
    std::vector<float> sc((rows / 128) * (cols / 128)), y(n), cy(n);
    CUDA_CHECK(cudaMemcpy(q.data(), b.q, n, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(sc.data(), b.sf, sc.size() * 4, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(y.data(), b.y, n * 4, cudaMemcpyDeviceToHost));
    int rc = (FMT ? fp8_e5m2_dequantize_tiles_f32 : fp8_e4m3_dequantize_tiles_f32)(cy.data(), cols, q.data(), cols, sc.data(), rows, cols, 128, 128);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !same_f32(*(uint32_t *)&y[i], *(uint32_t *)&cy[i], true); // NaN bits aside
    char d[128];
    snprintf(d, sizeof d, "%zu values, %zu differ", n, bad);
    line(rc == 0 && bad == 0, std::string("dequant ") + (HW ? "hw " : "sw ") + fmt_name(FMT) + "->f32 tile128 vs CPU codec", d);
    b.free();
}

// ---- exhaustive checks of the element paths ----

// Every FP32 bit pattern, four a thread as the kernels take them: the
// software encoder (enc4 with the sign merge, and enc1) against the codec's
// fp8_*_from_f32_bits; the amax map b(x) against the codec's fmag, for FP32
// elements and for BF16 pairs (the 32-bit word as two BF16 elements).
__global__ void exhaustive_sw(unsigned long long *bad)
{
    unsigned long long b[6] = {0, 0, 0, 0, 0, 0};
    for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < (1ull << 30); i += (uint64_t)gridDim.x * blockDim.x) {
        const uint32_t x0 = (uint32_t)(i * 4);
        const uint4 w = make_uint4(x0, x0 + 1, x0 + 2, x0 + 3);
        const uint32_t sg = Vec<float>::signs(w, 0);
        const float f0 = __uint_as_float(x0), f1 = __uint_as_float(x0 + 1), f2 = __uint_as_float(x0 + 2), f3 = __uint_as_float(x0 + 3);
        const uint32_t c4 = enc4<E4M3, false>(f0, f1, f2, f3, sg), c5 = enc4<E5M2, false>(f0, f1, f2, f3, sg);
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const uint32_t x = x0 + k;
            const uint8_t r4 = fp8_e4m3_from_f32_bits(x), r5 = fp8_e5m2_from_f32_bits(x);
            b[0] += ((c4 >> (8 * k)) & 0xFF) != r4;
            b[1] += ((c5 >> (8 * k)) & 0xFF) != r5;
            b[2] += enc1<E4M3, false>(__uint_as_float(x), x) != r4 || enc1<E5M2, false>(__uint_as_float(x), x) != r5;
            b[3] += amax_decode<float>(amax_b(x)) != fp8kit_q_fmag(x);
            const uint32_t pair = max((x << 17) + AMAX_C, (x << 1) + AMAX_C);
            b[4] += amax_decode<uint16_t>(pair) != max(fp8kit_q_fmag(x << 16), fp8kit_q_fmag(x & 0xFFFF0000u));
        }
    }
    for (int k = 0; k < 5; k++)
        if (b[k]) atomicAdd(&bad[k], b[k]);
}

void check_exhaustive()
{
    unsigned long long *d, h[6] = {0};
    CUDA_CHECK(cudaMalloc(&d, sizeof h));
    CUDA_CHECK(cudaMemset(d, 0, sizeof h));
    exhaustive_sw<<<bench::device().multiProcessorCount * 8, 256>>>(d);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(d));
    const char *what[5] = {"software encoder (4 at a time) -> e4m3 = fp8_e4m3_from_f32_bits",
                           "software encoder (4 at a time) -> e5m2 = fp8_e5m2_from_f32_bits",
                           "software encoder (one element) = the codec, e4m3 and e5m2",
                           "amax map b(x) = fp8kit_q_fmag, FP32",
                           "amax map of a BF16 pair = max of fp8kit_q_fmag"};
    for (int k = 0; k < 5; k++)
        line(h[k] == 0, std::string(what[k]), "all 2^32 inputs, " + std::to_string(h[k]) + " differ");
}

// The dequantizer over every code (with NaN and Inf: the codec's path; and
// without: the fast software path) times scales across the range (scales
// at and past 2^(128 - F) take its two-multiplication form), per-tensor
// scale, against fp8_*_dequantize_tensor_*. n not a multiple of 8: a tail.
template <int FMT, bool HW, class OUT, int U, bool CS> void check_dequant_codes(const char *var)
{
    const float scales[] = {1.0f, 0.75f, 1.4e-45f, 3e-39f, 1.17549435e-38f, 1.0f / 448, 0.1f, 255.99998f, 256.0f,
                            257.3f, 65535.99f, 65536.0f, 1e20f, 7.59e35f, 1.7014118e38f, 3.4e38f};
    const size_t n = 256 * 40 + 5;
    Bufs b;
    b.alloc(n, 4);
    size_t bad = 0, total = 0;
    for (int finite_only = 0; finite_only < 2; finite_only++) {
        std::vector<uint8_t> q(n);
        for (size_t i = 0, c = 0; i < n; i++, c++) {
            for (;;) {
                const uint8_t m = (uint8_t)((c * 37) & 0x7F);
                if (!finite_only || (FMT ? m < 0x7C : m != 0x7F)) break;
                c++;
            }
            q[i] = (uint8_t)((c * 37) & 0xFF);
        }
        CUDA_CHECK(cudaMemcpy(b.q, q.data(), n, cudaMemcpyHostToDevice));
        for (float sc : scales) {
            CUDA_CHECK(cudaMemcpy(b.sf, &sc, 4, cudaMemcpyHostToDevice));
            CUDA_CHECK(cudaMemset(b.y, 0xFF, n * 4));
            launch_dequant<FMT, HW, OUT, U, CS>(TENSOR_2PASS, b);
            CUDA_CHECK(cudaDeviceSynchronize());
            if (sizeof(OUT) == 4) {
                std::vector<uint32_t> gy(n), cy(n);
                CUDA_CHECK(cudaMemcpy(gy.data(), b.y, n * 4, cudaMemcpyDeviceToHost));
                (FMT ? fp8_e5m2_dequantize_tensor_f32 : fp8_e4m3_dequantize_tensor_f32)((float *)cy.data(), q.data(), n, sc);
                for (size_t i = 0; i < n; i++) bad += !same_f32(gy[i], cy[i], true);
            } else {
                std::vector<uint16_t> gy(n), cy(n);
                CUDA_CHECK(cudaMemcpy(gy.data(), b.y, n * 2, cudaMemcpyDeviceToHost));
                (FMT ? fp8_e5m2_dequantize_tensor_bf16 : fp8_e4m3_dequantize_tensor_bf16)(cy.data(), q.data(), n, sc);
                for (size_t i = 0; i < n; i++)
                    bad += !(gy[i] == cy[i] || (HW && (gy[i] & 0x7FFF) > 0x7F80 && (cy[i] & 0x7FFF) > 0x7F80));
            }
            total += n;
        }
    }
    b.free();
    line(bad == 0, std::string("dequant ") + (HW ? "hw " : "sw ") + fmt_name(FMT) + "->" + (sizeof(OUT) == 4 ? "f32" : "bf16") + var +
                       " every code x " + std::to_string(sizeof scales / sizeof *scales) + " scales vs CPU codec",
         std::to_string(total) + " values, " + std::to_string(bad) + " differ" +
             (sizeof(OUT) == 4 || HW ? " (NaN bits aside)" : ""));
}

// ---- per-tensor schemes at many sizes and on special tensors ----

// Per-tensor test data by kind: 0 Gaussian, magnitudes changing every 1024
// elements, outliers 1000x, zeros, FP32 subnormals, +-Inf and NaN
// sprinkled; 1 zeros (both signs); 2 NaN; 3 +-Inf; 4 Inf and NaN; 5 NaN but
// one finite element; 6 subnormals only; 7 tiny (scale below 2^-64: p =
// 2^64); 8 huge (scale above 2^64: p = 2^-64, one element near FLT_MAX).
const char *kind_name[] = {"gaussian+outliers+specials", "zeros", "NaN", "Inf", "Inf+NaN", "NaN+one finite",
                           "subnormals", "tiny (p = 2^64)", "huge (p = 2^-64)"};
template <class T> void tensor_data(std::vector<T> &x, size_t n, uint64_t seed, int kind)
{
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    x.resize(n);
    for (size_t i = 0; i < n; i++) {
        float v = 0;
        const float sgn = (rng() & 1) ? 1.0f : -1.0f;
        switch (kind) {
        case 0:
            v = nd(rng) * std::ldexp(1.0f, (int)((i / 1024 * 2654435761u) % 9) - 4);
            if (rng() % 9973 == 0) v *= 1000.0f;
            if (rng() % 4001 == 0) v = 0.0f * sgn;
            if (rng() % 4003 == 0) v = nd(rng) * 1e-40f;
            if (rng() % 20011 == 0) v = INFINITY * sgn;
            if (rng() % 20021 == 0) v = std::nanf("") * sgn;
            break;
        case 1: v = 0.0f * sgn; break;
        case 2: v = std::nanf("") * sgn; break;
        case 3: v = INFINITY * sgn; break;
        case 4: v = (rng() & 2) ? INFINITY * sgn : std::nanf("") * sgn; break;
        case 5: v = i == n / 2 ? -3.5f : std::nanf("") * sgn; break;
        case 6: v = nd(rng) * 1e-39f; break;
        case 7: v = nd(rng) * 1e-22f; break;
        case 8: v = i == n / 3 ? 3.3e38f : nd(rng) * 1e30f; break;
        }
        if (sizeof(T) == 4) memcpy(&x[i], &v, 4);
        else { const uint16_t h = bf16_from_f32(v); memcpy(&x[i], &h, 2); }
    }
}

// tensor_2pass, tensor_1pass (twice in a row on one barrier state, which
// must reset itself) and tensor_delayed at sizes from 1 element to the
// largest that fits on chip, and on the special tensors; one line a scheme.
// Then the refusal: one vector a CTA past the capacity is refused by the
// host, and the kernel launched anyway writes nothing.
template <class T, int FMT, bool HW> void check_tensor_sizes(uint64_t seed)
{
    constexpr int V = Vec<T>::V;
    const OnePass &o = onepass<T, FMT, HW>();
    const std::string tag = std::string(HW ? "hw " : "sw ") + src_name<T>() + "->" + fmt_name(FMT);
    if (!o.ok) line(false, "tensor_1pass " + tag, "cannot run here: " + o.why);
    const size_t n_max = o.ok ? (size_t)o.grid * o.round_vectors * V + V - 1 : 0;
    const size_t n_over = o.ok ? ((size_t)o.grid * o.round_vectors + o.grid) * V : 0;
    std::vector<std::pair<size_t, int>> cases;
    for (size_t n : {(size_t)1, (size_t)2, (size_t)3, (size_t)7, (size_t)8, (size_t)9, (size_t)13, (size_t)100, (size_t)1000,
                     (size_t)4097, (size_t)65541, (size_t)(1 << 20) + 3, n_max})
        if (n) cases.push_back({n, 0});
    for (int kind = 1; kind <= 8; kind++) cases.push_back({kind & 1 ? (size_t)1003 : (size_t)65541, kind});
    cases.push_back({(size_t)(1 << 20) + 3, 8}); // big amax, then small: the 1-pass state must not keep it
    cases.push_back({(size_t)(1 << 20) + 3, 7});
    Bufs b;
    b.alloc(std::max<size_t>(std::max(n_max, n_over), 1 << 21), sizeof(T));
    std::vector<T> hx;
    size_t bad[3] = {0, 0, 0}, ncases[3] = {0, 0, 0};
    std::string first[3];
    for (size_t ci = 0; ci < cases.size(); ci++) {
        const size_t n = cases[ci].first;
        const int kind = cases[ci].second;
        tensor_data<T>(hx, n, seed + ci, kind);
        b.n = n;
        CUDA_CHECK(cudaMemcpy(b.x, hx.data(), n * sizeof(T), cudaMemcpyHostToDevice));
        const float *xf = sizeof(T) == 4 ? (const float *)hx.data() : nullptr;
        const uint16_t *xb = sizeof(T) == 2 ? (const uint16_t *)hx.data() : nullptr;
        std::vector<uint8_t> cq(n), gq(n);
        float cs = 0;
        int rc = FMT ? (xf ? fp8_e5m2_quantize_tensor_f32(cq.data(), &cs, xf, n, 0) : fp8_e5m2_quantize_tensor_bf16(cq.data(), &cs, xb, n, 0))
                     : (xf ? fp8_e4m3_quantize_tensor_f32(cq.data(), &cs, xf, n, 0) : fp8_e4m3_quantize_tensor_bf16(cq.data(), &cs, xb, n, 0));
        // delayed: a history whose max is a random earlier amax
        std::vector<uint32_t> hist(2 * HIST, 0);
        std::mt19937 r((uint32_t)(seed + ci));
        for (int h = 0; h < HIST; h++) hist[h] = 0x3A000000u + (r() & 0x07FFFFFFu);
        const uint32_t hm = *std::max_element(hist.begin(), hist.begin() + HIST);
        float hamax;
        memcpy(&hamax, &hm, 4);
        const float ds = FMT ? fp8_e5m2_scale(hamax) : fp8_e4m3_scale(hamax);
        std::vector<uint8_t> dq(n);
        rc |= FMT ? (xf ? fp8_e5m2_quantize_scaled_f32(dq.data(), xf, n, ds) : fp8_e5m2_quantize_scaled_bf16(dq.data(), xb, n, ds))
                  : (xf ? fp8_e4m3_quantize_scaled_f32(dq.data(), xf, n, ds) : fp8_e4m3_quantize_scaled_bf16(dq.data(), xb, n, ds));
        const float amax = xf ? fp8_amax_f32(xf, n) : fp8_amax_bf16(xb, n);
        for (int sc = 0; sc < 3; sc++) { // 0: 2pass, 1: 1pass, 2: delayed
            if (sc == 1 && !o.template fits<T>(n)) continue;
            for (int rep = 0; rep < (sc == 1 ? 2 : 1); rep++) {
                CUDA_CHECK(cudaMemset(b.q, 0xA5, n));
                CUDA_CHECK(cudaMemset(b.sf, 0xFF, 4));
                CUDA_CHECK(cudaMemcpy(b.amax, hist.data(), hist.size() * 4, cudaMemcpyHostToDevice));
                launch_quant<T, FMT, HW>(sc == 0 ? TENSOR_2PASS : sc == 1 ? TENSOR_1PASS : TENSOR_DELAYED, b);
                CUDA_CHECK(cudaDeviceSynchronize());
                float gs;
                uint32_t rec = 0;
                CUDA_CHECK(cudaMemcpy(gq.data(), b.q, n, cudaMemcpyDeviceToHost));
                CUDA_CHECK(cudaMemcpy(&gs, b.sf, 4, cudaMemcpyDeviceToHost));
                CUDA_CHECK(cudaMemcpy(&rec, b.amax + HIST, 4, cudaMemcpyDeviceToHost));
                const std::vector<uint8_t> &want = sc == 2 ? dq : cq;
                const float wscale = sc == 2 ? ds : cs;
                size_t bq = 0, at = 0;
                for (size_t i = 0; i < n; i++)
                    if (gq[i] != want[i] && !bq++) at = i;
                const bool ok = rc == 0 && bq == 0 && memcmp(&gs, &wscale, 4) == 0 && (sc != 2 || memcmp(&rec, &amax, 4) == 0);
                ncases[sc]++;
                if (!ok && !bad[sc]++) {
                    char d[200];
                    snprintf(d, sizeof d, "n %zu, %s%s: %zu codes differ (first at %zu), scale %g vs %g", n, kind_name[kind],
                             rep ? ", second launch" : "", bq, at, gs, wscale);
                    first[sc] = d;
                }
            }
        }
    }
    const char *nm[3] = {"tensor_2pass", "tensor_1pass", "tensor_delayed"};
    for (int sc = 0; sc < 3; sc++)
        if (sc != 1 || o.ok)
            line(bad[sc] == 0, "quant " + tag + " " + nm[sc] + " vs CPU codec, sizes 1.." + std::to_string(sc == 1 ? n_max : (size_t)(1 << 20) + 3) +
                                   " and special tensors",
                 bad[sc] ? first[sc] : std::to_string(ncases[sc]) + " runs, codes and scale equal" + (sc == 2 ? ", recorded amax equal" : "") +
                                           (sc == 1 ? " (each launched twice: the barrier state resets)" : ""));
    if (!o.ok) { b.free(); return; }
    // the refusal, and the kernel's own guard
    b.n = n_over;
    CUDA_CHECK(cudaMemset(b.q, 0xA5, n_over));
    CUDA_CHECK(cudaMemset(b.sf, 0xFF, 4));
    const bool refused = !launch_1pass<T, FMT, HW>(b);
    launch_1pass<T, FMT, HW>(b, true);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<uint8_t> gq(n_over);
    uint32_t gs, st[4];
    CUDA_CHECK(cudaMemcpy(gq.data(), b.q, n_over, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(&gs, b.sf, 4, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(st, b.st, sizeof st, cudaMemcpyDeviceToHost));
    size_t touched = 0;
    for (uint8_t c : gq) touched += c != 0xA5;
    char d[200];
    snprintf(d, sizeof d, "capacity %zu elements (%zu MiB of source, grid %d x %d threads, %d + %d rounds); %zu elements: host %s, kernel wrote %zu codes",
             n_max, o.capacity_bytes() >> 20, o.grid, ONEPASS_THREADS, ONEPASS_RK, o.sk, n_over, refused ? "refuses" : "ACCEPTS", touched);
    line(refused && touched == 0 && gs == 0xFFFFFFFFu && st[0] == 0 && st[1] == 0 && st[2] == 0,
         "tensor_1pass " + tag + " refuses a tensor past the on-chip capacity", d);
    b.free();
}

int run_checks()
{
    const uint64_t seed = bench::seed_flag(); // --seed=S repeats a run
    check_case<float, E4M3, true>(seed);
    check_case<float, E4M3, false>(seed);
    check_case<float, E5M2, true>(seed);
    check_case<float, E5M2, false>(seed);
    check_case<uint16_t, E4M3, true>(seed);
    check_case<uint16_t, E4M3, false>(seed);
    check_case<uint16_t, E5M2, true>(seed);
    check_case<uint16_t, E5M2, false>(seed);
    check_tile_dequant<E4M3, true>(seed);
    check_tile_dequant<E4M3, false>(seed);
    check_exhaustive();
    check_dequant_codes<E4M3, true, float, 2, true>("");
    check_dequant_codes<E4M3, false, float, 2, true>("");
    check_dequant_codes<E4M3, false, float, 4, true>(" u4");
    check_dequant_codes<E4M3, true, uint16_t, 2, true>("");
    check_dequant_codes<E4M3, false, uint16_t, 2, true>("");
    check_dequant_codes<E4M3, false, uint16_t, 2, false>(" u2_wb");
    check_dequant_codes<E5M2, true, float, 2, true>("");
    check_dequant_codes<E5M2, false, float, 2, true>("");
    check_dequant_codes<E5M2, true, uint16_t, 2, true>("");
    check_dequant_codes<E5M2, false, uint16_t, 2, true>("");
    check_tensor_sizes<float, E4M3, true>(seed);
    check_tensor_sizes<float, E4M3, false>(seed);
    check_tensor_sizes<float, E5M2, true>(seed);
    check_tensor_sizes<float, E5M2, false>(seed);
    check_tensor_sizes<uint16_t, E4M3, true>(seed);
    check_tensor_sizes<uint16_t, E4M3, false>(seed);
    check_tensor_sizes<uint16_t, E5M2, true>(seed);
    check_tensor_sizes<uint16_t, E5M2, false>(seed);
    printf("quant check: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
    bench::init(&argc, argv, {"variants"});
    if (bench::options().check) return run_checks();
    bench::add_context();
    const bool quick = bench::options().quick;
    if (bench::options().extra.count("variants")) {
        register_variants();
    } else {
        register_onchip<float, E4M3, true>(quick);
        register_onchip<float, E4M3, false>(quick);
        register_onchip<uint16_t, E4M3, true>(quick);
        register_onchip<uint16_t, E4M3, false>(quick);
        if (!quick) {
            register_onchip<float, E5M2, true>(quick);
            register_onchip<float, E5M2, false>(quick);
            register_onchip<uint16_t, E5M2, true>(quick);
            register_onchip<uint16_t, E5M2, false>(quick);
        }
        for (size_t mib : quick ? std::vector<size_t>{256} : std::vector<size_t>{256, 1024}) {
            const size_t bytes = mib << 20;
            register_quant<float, E4M3, true>(bytes, quick);
            register_quant<float, E4M3, false>(bytes, quick);
            register_quant<uint16_t, E4M3, true>(bytes, quick);
            register_quant<uint16_t, E4M3, false>(bytes, quick);
            if (!quick) {
                register_quant<float, E5M2, true>(bytes, quick);
                register_quant<float, E5M2, false>(bytes, quick);
                register_quant<uint16_t, E5M2, true>(bytes, quick);
                register_quant<uint16_t, E5M2, false>(bytes, quick);
            }
            const size_t n = bytes / 4; // dequant: the FP32 tensor of that size
            register_dequant<E4M3, true, float>(n, quick);
            register_dequant<E4M3, false, float>(n, quick);
            register_dequant<E4M3, true, uint16_t>(n, quick);
            register_dequant<E4M3, false, uint16_t>(n, quick);
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
