// quant: FP8 quantization and dequantization on the GPU (kernels in
// quant_kernels.cuh), timed under Google Benchmark, and checked bit for bit
// against the CPU codec (codec/fp8_quant.h) with --check.
//
//   quant/<impl>/<scheme>/<dtype>/<n>
//     impl    fp8kit_hw (hardware cvt) or fp8kit_sw (the codec's software path)
//     scheme  tensor_2pass   amax pass + cast pass (current scaling)
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
//   scheme reads its input twice), frac_copy = gbps over the measured
//   device-to-device copy bandwidth.
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
    }
    void free()
    {
        for (void *p : {x, (void *)q, (void *)se, (void *)sf, (void *)y, (void *)amax}) CUDA_CHECK(cudaFree(p));
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

enum Scheme { TENSOR_2PASS, TENSOR_DELAYED, BLOCK128, TILE128, MX32, MX32_CEIL, NSCHEME };
const char *scheme_name[NSCHEME] = {"tensor_2pass", "tensor_delayed", "block128", "tile128", "mx32", "mx32_ceil"};
const int HIST = 16;

// Matrix shape for the tile scheme: cols = 8192 (a weight's K), rows = n / cols.
const size_t TILE_COLS = 8192;

template <class T, int FMT, bool HW> void launch_quant(int scheme, Bufs &b, size_t ld = 0)
{
    const T *x = (const T *)b.x;
    const size_t n = b.n;
    constexpr int V = Vec<T>::V;
    switch (scheme) {
    case TENSOR_2PASS:
        CUDA_CHECK(cudaMemsetAsync(b.amax, 0, 4));
        tensor_amax<T><<<grid_for(n / V), 256>>>(x, n, b.amax);
        tensor_cast<T, FMT, HW, false><<<grid_for(n / V), 256>>>(x, n, b.q, b.amax, 1, nullptr, b.sf);
        break;
    case TENSOR_DELAYED:
        tensor_cast<T, FMT, HW, true><<<grid_for(n / V), 256>>>(x, n, b.q, b.amax, HIST, b.amax + HIST, b.sf);
        break;
    case BLOCK128:
        blocks_quant<T, FMT, HW, 128, F32><<<grid_for(n / V / QUANT_ROWS), 256>>>(x, n, b.q, b.sf, b.se);
        break;
    case MX32:
        blocks_quant<T, FMT, HW, 32, E8M0_OCP><<<grid_for(n / V / QUANT_ROWS), 256>>>(x, n, b.q, b.sf, b.se);
        break;
    case MX32_CEIL:
        blocks_quant<T, FMT, HW, 32, E8M0_CEIL><<<grid_for(n / V / QUANT_ROWS), 256>>>(x, n, b.q, b.sf, b.se);
        break;
    case TILE128: {
        const size_t cols = ld ? ld : TILE_COLS;
        const int rows = (int)(n / cols);
        dim3 grid((unsigned)(cols / 128), (unsigned)(rows / 128));
        tiles_quant<T, FMT, HW><<<grid, 256>>>(x, ld ? ld : cols, rows, (int)cols, b.q, cols, b.sf);
        break;
    }
    }
    CUDA_CHECK_LAUNCH();
}

template <int FMT, bool HW, class OUT> void launch_dequant(int scheme, Bufs &b)
{
    const size_t n = b.n;
    const int g = grid_for(n / 8);
    OUT *y = (OUT *)b.y;
    switch (scheme) {
    case TENSOR_2PASS:
    case TENSOR_DELAYED: dequant<FMT, HW, F32, OUT><<<g, 256>>>(b.q, n, b.sf, b.se, 0, 0, y); break;
    case BLOCK128: dequant<FMT, HW, F32, OUT><<<g, 256>>>(b.q, n, b.sf, b.se, 128, 0, y); break;
    case TILE128: dequant<FMT, HW, F32, OUT><<<g, 256>>>(b.q, n, b.sf, b.se, 0, TILE_COLS, y); break;
    case MX32:
    case MX32_CEIL: dequant<FMT, HW, E8M0_OCP, OUT><<<g, 256>>>(b.q, n, b.sf, b.se, 32, 0, y); break;
    }
    CUDA_CHECK_LAUNCH();
}

// Bytes a quantization moves: source read (twice for two passes), codes
// written, scales written.
template <class T> double quant_bytes(int scheme, size_t n)
{
    double src = (double)n * sizeof(T), scales = 0;
    if (scheme == BLOCK128) scales = n / 128.0 * 4;
    if (scheme == TILE128) scales = n / 16384.0 * 4;
    if (scheme == MX32 || scheme == MX32_CEIL) scales = n / 32.0;
    return src * (scheme == TENSOR_2PASS ? 2 : 1) + n + scales;
}

// ---- benchmarks ----

template <class T, int FMT, bool HW> void bench_quant(benchmark::State &state, int scheme, size_t n)
{
    const int sets = bench::rotation_count(n * (sizeof(T) + 1));
    std::vector<Bufs> b(sets);
    for (auto &s : b) {
        s.alloc(n, sizeof(T));
        fill_random<T><<<1024, 256>>>((T *)s.x, n, std::random_device{}());
        // an amax history for delayed scaling: the tensor's own amax, as after one step
        tensor_amax<T><<<grid_for(n), 256>>>((const T *)s.x, n, s.amax);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    bench::time_launches(state, [&](int i) { launch_quant<T, FMT, HW>(scheme, b[i % sets]); });
    bench::set_counters(state, 0, quant_bytes<T>(scheme, n));
    state.counters["elements"] = (double)n;
    for (auto &s : b) s.free();
}

template <int FMT, bool HW, class OUT> void bench_dequant(benchmark::State &state, int scheme, size_t n)
{
    const int sets = bench::rotation_count(n * (sizeof(OUT) + 1));
    std::vector<Bufs> b(sets);
    for (auto &s : b) {
        s.alloc(n, 4);
        fill_random<float><<<1024, 256>>>((float *)s.x, n, std::random_device{}());
        launch_quant<float, FMT, true>(scheme, s);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    bench::time_launches(state, [&](int i) { launch_dequant<FMT, HW, OUT>(scheme, b[i % sets]); });
    double scales = scheme == BLOCK128 ? n / 128.0 * 4 : scheme == TILE128 ? n / 16384.0 * 4 : (scheme >= MX32 ? n / 32.0 : 4);
    bench::set_counters(state, 0, n + (double)n * sizeof(OUT) + scales);
    state.counters["elements"] = (double)n;
    for (auto &s : b) s.free();
}

template <class T, int FMT, bool HW> void register_quant(size_t bytes, bool quick)
{
    const size_t n = bytes / sizeof(T);
    for (int s = 0; s < NSCHEME; s++) {
        if (quick && (s == MX32_CEIL || s == TENSOR_DELAYED)) continue;
        std::string name = std::string("quant/") + (HW ? "fp8kit_hw/" : "fp8kit_sw/") + scheme_name[s] + "/" +
                           src_name<T>() + "_" + fmt_name(FMT) + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), [s, n](benchmark::State &st) { bench_quant<T, FMT, HW>(st, s, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
}

template <int FMT, bool HW, class OUT> void register_dequant(size_t n, bool quick)
{
    for (int s : {TENSOR_2PASS, BLOCK128, TILE128, MX32}) {
        if (quick && s == TILE128) continue;
        std::string sch = s == TENSOR_2PASS ? "tensor" : scheme_name[s];
        std::string name = std::string("quant/") + (HW ? "fp8kit_hw/" : "fp8kit_sw/") + "dequant_" + sch + "/" +
                           fmt_name(FMT) + "_" + (sizeof(OUT) == 4 ? "f32" : "bf16") + "/" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), [s, n](benchmark::State &st) { bench_dequant<FMT, HW, OUT>(st, s, n); })
            ->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
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
    for (int s = 0; s < NSCHEME; s++) {
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
        line(rc == 0 && bad_q == 0 && bad_s == 0, "quant " + tag + " " + scheme_name[s] + " vs CPU codec", d);

        if (s == TENSOR_DELAYED || s == MX32_CEIL) continue;
        // dequantization of the same codes, to FP32 and BF16
        for (int out32 = 0; out32 < 2; out32++) {
            if (s == TILE128) continue; // dequant of tiles: checked on the contiguous benchmark layout below
            CUDA_CHECK(cudaMemset(b.y, 0xFF, n * 4));
            if (out32) launch_dequant<FMT, HW, float>(s, b);
            else launch_dequant<FMT, HW, uint16_t>(s, b);
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
                 (out32 ? "f32 " : "bf16 ") + scheme_name[s] + " vs CPU codec", d);
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

int run_checks()
{
    const uint64_t seed = std::random_device{}() | ((uint64_t)time(nullptr) << 32);
    printf("     quant --check: seed %llu\n", (unsigned long long)seed);
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
    printf("quant check: %s\n", failures ? "FAILED" : "all passed");
    return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
    bench::init(&argc, argv);
    if (bench::options().check) return run_checks();
    bench::add_context();
    const bool quick = bench::options().quick;
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
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
