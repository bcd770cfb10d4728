// CPU speed of codec/fp8.h, one thread: items/s of every array form and of
// every scalar conversion (a loop calling it with vectorization switched off:
// the one-at-a-time rate), at an L1-sized buffer (4096 elements: source and
// destination together at most 20 KiB) and a DRAM-sized one (2^25 elements,
// 160 MiB or more for FP32 sources, past any cache), against NVIDIA's
// cuda_fp8.hpp / cuda_bf16 / cuda_fp16 host converters compiled into this
// same binary with the same flags, and glibc's memcpy as the copy rate.
//
// Names: BUILD/impl/conversion/size, BUILD being "native" (-march=native) or
// "x86-64" (the baseline ISA), impl fp8kit (array form), fp8kit-scalar,
// nvidia (a loop over NVIDIA's scalar host function), or copy.
// Inputs: FP32 values with random sign, magnitudes log-uniform over
// [2^-12, 2^10] (FP8's range and a little past both ends), the same bits as
// BF16/FP16 sources after rounding; codes: uniform random bytes.
// make bench-codec runs both builds and merges them with ml_dtypes' timings.
#include "../../codec/fp8.h"
#include "../../tests/entry_points.h"

#include <benchmark/benchmark.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifndef BENCH_BUILD
#define BENCH_BUILD "native"
#endif
#ifndef BENCH_FLAGS
#define BENCH_FLAGS "?"
#endif

namespace {

const size_t N_L1 = 4096, N_DRAM = size_t(1) << 25;

struct Sizes { const char *name; size_t n; };
const Sizes SIZES[] = {{"L1", N_L1}, {"DRAM", N_DRAM}};

// Aligned buffers, filled once and shared.
template <class T> T *alloc(size_t n)
{
    void *p = nullptr;
    if (posix_memalign(&p, 64, n * sizeof(T) + 64)) abort();
    std::memset(p, 0, n * sizeof(T) + 64);
    return static_cast<T *>(p);
}

struct Data {
    float *f32;
    uint16_t *bf16, *f16;
    uint8_t *codes;
    uint32_t *rnd;
    Data()
    {
        f32 = alloc<float>(N_DRAM);
        bf16 = alloc<uint16_t>(N_DRAM);
        f16 = alloc<uint16_t>(N_DRAM);
        codes = alloc<uint8_t>(N_DRAM);
        rnd = alloc<uint32_t>(N_DRAM);
        std::mt19937_64 g(12345);
        std::uniform_real_distribution<double> e(-12.0, 10.0);
        for (size_t i = 0; i < N_DRAM; i++) {
            uint64_t r = g();
            float v = (float)std::exp2(e(g)) * ((r & 1) ? -1.0f : 1.0f);
            f32[i] = v;
            bf16[i] = bf16_from_f32(v);
            f16[i] = f16_from_f32(v);
            codes[i] = (uint8_t)(r >> 8);
            rnd[i] = (uint32_t)(r >> 32);
        }
    }
};
Data &data()
{
    static Data d;
    return d;
}

// 16-bit sources: FP16 for f16 conversions, BF16 otherwise (chosen by name)
const uint16_t *src16(const std::string &name)
{
    return name.find("f16") != std::string::npos && name.find("bf16") == std::string::npos ? data().f16 : data().bf16;
}

void finish(benchmark::State &st, size_t n, size_t bytes_per_item)
{
    st.SetItemsProcessed((int64_t)st.iterations() * (int64_t)n);
    st.SetBytesProcessed((int64_t)st.iterations() * (int64_t)(n * bytes_per_item));
}

// ---- array forms ----
template <class D, class S>
void reg_array(const char *name, void (*fn)(D *, const S *, size_t), const S *(*src)(const char *))
{
    for (const Sizes &sz : SIZES) {
        std::string full = std::string(BENCH_BUILD) + "/fp8kit/" + name + "/" + sz.name;
        size_t n = sz.n;
        benchmark::RegisterBenchmark(full.c_str(), [=](benchmark::State &st) {
            const S *s = src(name);
            D *d = alloc<D>(n);
            for (auto _ : st) {
                fn(d, s, n);
                benchmark::DoNotOptimize(d);
                benchmark::ClobberMemory();
            }
            finish(st, n, sizeof(S) + sizeof(D));
            free(d);
        });
    }
}
const float *src_f32(const char *) { return data().f32; }
const uint8_t *src_u8(const char *) { return data().codes; }
const uint16_t *src_u16(const char *name) { return src16(name); }
template <class S> struct SrcFn;
template <> struct SrcFn<float> { static constexpr auto f = src_f32; };
template <> struct SrcFn<uint8_t> { static constexpr auto f = src_u8; };
template <> struct SrcFn<uint16_t> { static constexpr auto f = src_u16; };

// ---- scalar conversions, one at a time ----
// An empty asm with a memory clobber after each element keeps the compiler
// from vectorizing the loop (it costs no instruction).
template <class D, class S, class F> void scalar_loop(D *d, const S *s, size_t n, F f)
{
    for (size_t i = 0; i < n; i++) {
        d[i] = f(s[i]);
        __asm__ volatile("" ::: "memory");
    }
}

template <class D, class S, class F>
void reg_loop(const std::string &impl, const std::string &name, const S *src, F f, bool novec)
{
    for (const Sizes &sz : SIZES) {
        std::string full = std::string(BENCH_BUILD) + "/" + impl + "/" + name + "/" + sz.name;
        size_t n = sz.n;
        benchmark::RegisterBenchmark(full.c_str(), [=](benchmark::State &st) {
            D *d = alloc<D>(n);
            for (auto _ : st) {
                if (novec) {
                    scalar_loop(d, src, n, f);
                } else {
                    for (size_t i = 0; i < n; i++) d[i] = f(src[i]);
                }
                benchmark::DoNotOptimize(d);
                benchmark::ClobberMemory();
            }
            finish(st, n, sizeof(S) + sizeof(D));
            free(d);
        });
    }
}

void register_all()
{
    Data &dt = data();
    // array forms
#define ARR(fn, dst_t, src_t, scalar) reg_array<dst_t, src_t>(#fn, fn, SrcFn<src_t>::f);
    FP8KIT_ARRAYS(ARR)

    // scalar conversions, not vectorized
    const uint32_t *u32 = reinterpret_cast<const uint32_t *>(dt.f32);
#define S_U32(fn) reg_loop<uint32_t>("fp8kit-scalar", #fn, u32, [](uint32_t x) { return (uint32_t)fn(x); }, true);
    FP8KIT_U32_TO_U8(S_U32)
    FP8KIT_U32_TO_U16(S_U32)
#define S_SR(fn) reg_loop<uint32_t>("fp8kit-scalar", #fn, u32, [](uint32_t x) { return (uint32_t)fn(x, x * 2654435761u); }, true);
    FP8KIT_SR_BITS(S_SR)
#define S_X2(fn, twin) reg_loop<uint32_t>("fp8kit-scalar", #fn, dt.f32, [](float x) { return (uint32_t)fn(x, -x); }, true);
    FP8KIT_F32X2_TO_U16(S_X2)
#define S_U16(fn) reg_loop<uint32_t>("fp8kit-scalar", #fn, src16(#fn), [](uint16_t h) { return (uint32_t)fn(h); }, true);
    FP8KIT_U16_TO_U8(S_U16)
    FP8KIT_U16_TO_U32(S_U16)
#define S_U8(fn) reg_loop<uint32_t>("fp8kit-scalar", #fn, dt.codes, [](uint8_t c) { return (uint32_t)fn(c); }, true);
    FP8KIT_U8_TO_U32(S_U8)
    FP8KIT_U8_TO_U16(S_U8)

    // NVIDIA's host converters: plain loops with the same flags (the
    // compiler may vectorize them if it can)
    const __nv_bfloat16_raw *nb = reinterpret_cast<const __nv_bfloat16_raw *>(dt.bf16);
    const __half_raw *nh = reinterpret_cast<const __half_raw *>(dt.f16);
    reg_loop<uint8_t>("nvidia", "f32->e4m3 sat (__nv_cvt_float_to_fp8)", dt.f32,
                      [](float x) { return (uint8_t)__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3); }, false);
    reg_loop<uint8_t>("nvidia", "f32->e5m2 sat (__nv_cvt_float_to_fp8)", dt.f32,
                      [](float x) { return (uint8_t)__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2); }, false);
    reg_loop<uint8_t>("nvidia", "f32->e4m3 nosat (__nv_cvt_float_to_fp8)", dt.f32,
                      [](float x) { return (uint8_t)__nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E4M3); }, false);
    reg_loop<uint8_t>("nvidia", "bf16->e4m3 sat (__nv_cvt_bfloat16raw_to_fp8)", nb,
                      [](__nv_bfloat16_raw h) { return (uint8_t)__nv_cvt_bfloat16raw_to_fp8(h, __NV_SATFINITE, __NV_E4M3); }, false);
    reg_loop<uint8_t>("nvidia", "f16->e4m3 sat (__nv_cvt_halfraw_to_fp8)", nh,
                      [](__half_raw h) { return (uint8_t)__nv_cvt_halfraw_to_fp8(h, __NV_SATFINITE, __NV_E4M3); }, false);
    reg_loop<float>("nvidia", "e4m3->f32 (__nv_fp8_e4m3 to float)", dt.codes, [](uint8_t c) {
        __nv_fp8_e4m3 v;
        v.__x = c;
        return (float)v;
    }, false);
    reg_loop<uint16_t>("nvidia", "e4m3->f16 (__nv_cvt_fp8_to_halfraw)", dt.codes,
                       [](uint8_t c) { return __nv_cvt_fp8_to_halfraw(c, __NV_E4M3).x; }, false);
    reg_loop<uint16_t>("nvidia", "e5m2->f16 (__nv_cvt_fp8_to_halfraw)", dt.codes,
                       [](uint8_t c) { return __nv_cvt_fp8_to_halfraw(c, __NV_E5M2).x; }, false);
    reg_loop<uint16_t>("nvidia", "f32->bf16 (__float2bfloat16_rn)", dt.f32,
                       [](float x) { return __nv_bfloat16_raw(__float2bfloat16_rn(x)).x; }, false);
    reg_loop<uint16_t>("nvidia", "f32->f16 (__float2half_rn)", dt.f32,
                       [](float x) { return __half_raw(__float2half_rn(x)).x; }, false);
    reg_loop<uint8_t>("nvidia", "f32->e8m0 rz (__nv_cvt_float_to_e8m0)", dt.f32,
                      [](float x) { return (uint8_t)__nv_cvt_float_to_e8m0(x, __NV_SATFINITE, cudaRoundZero); }, false);

    // the core's clock while the benchmarks run: a chain of dependent
    // one-cycle adds, so items/s is cycles/s (what a shared, boosting VM gives)
    benchmark::RegisterBenchmark((std::string(BENCH_BUILD) + "/clock/dependent adds (items/s = Hz)").c_str(),
                                 [](benchmark::State &st) {
                                     uint64_t x = 1;
                                     for (auto _ : st) {
                                         for (int i = 0; i < 100000; i++) __asm__ volatile("add $1, %0" : "+r"(x));
                                     }
                                     benchmark::DoNotOptimize(x);
                                     st.SetItemsProcessed((int64_t)st.iterations() * 100000);
                                 });

    // the copy rate: glibc memcpy of the FP32 buffer; bytes = read + written
    for (const Sizes &sz : SIZES) {
        size_t n = sz.n;
        std::string full = std::string(BENCH_BUILD) + "/copy/memcpy f32/" + sz.name;
        benchmark::RegisterBenchmark(full.c_str(), [=](benchmark::State &st) {
            float *d = alloc<float>(n);
            for (auto _ : st) {
                std::memcpy(d, data().f32, n * sizeof(float));
                benchmark::DoNotOptimize(d);
                benchmark::ClobberMemory();
            }
            finish(st, n, 2 * sizeof(float));
            free(d);
        });
    }
}

} // namespace

int main(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    benchmark::AddCustomContext("build", BENCH_BUILD);
    benchmark::AddCustomContext("compiler_flags", BENCH_FLAGS);
#if defined(__VERSION__)
    benchmark::AddCustomContext("compiler", __VERSION__);
#endif
    data(); // fill the inputs before timing
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
