// The references of tests/exhaustive.cpp that are code written by others:
// NVIDIA's cuda_fp8.h / cuda_bf16.h / cuda_fp16.h host code and the CPU's
// F16C instructions, each as a block fill over a range of inputs.
// A translation unit of its own, always built with the normal flags, so that
// the sanitizer build of the exhaustive test instruments fp8kit's codec and
// not NVIDIA's code (not ours to fix, and most of the time under the
// sanitizers). The loop is here, beside the reference, so that the compiler
// inlines it and folds the mode flags as before.
#include "exhaustive_refs.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cstring>
#include <type_traits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {
float f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

template <class T, class F> void fill(uint64_t base, T *out, uint32_t n, F f)
{
    for (uint32_t i = 0; i < n; i++) out[i] = (T)f((uint32_t)(base + i));
}
// Two mode flags as compile-time constants, so each mode is its own loop
// with NVIDIA's code inlined and its branches on the mode folded.
template <class G> void modes(bool a, bool b, G g)
{
    using T = std::true_type;
    using F = std::false_type;
    if (a && b) g(T{}, T{}); else if (a) g(T{}, F{}); else if (b) g(F{}, T{}); else g(F{}, F{});
}
template <class A> constexpr __nv_saturation_t sat_of(A) { return A::value ? __NV_SATFINITE : __NV_NOSAT; }
template <class A> constexpr __nv_fp8_interpretation_t fmt_of(A) { return A::value ? __NV_E5M2 : __NV_E4M3; }
} // namespace

void nv_fp8_from_f32(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2)
{
    modes(sat, e5m2, [&](auto S, auto E) {
        fill(base, out, n, [](uint32_t x) { return __nv_cvt_float_to_fp8(f32(x), sat_of(decltype(S){}), fmt_of(decltype(E){})); });
    });
}
void nv_fp8_from_f16(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2)
{
    modes(sat, e5m2, [&](auto S, auto E) {
        fill(base, out, n, [](uint32_t h) {
            __half_raw r; r.x = (uint16_t)h;
            return __nv_cvt_halfraw_to_fp8(r, sat_of(decltype(S){}), fmt_of(decltype(E){}));
        });
    });
}
void nv_fp8_from_bf16(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2)
{
    modes(sat, e5m2, [&](auto S, auto E) {
        fill(base, out, n, [](uint32_t h) {
            __nv_bfloat16_raw r; r.x = (uint16_t)h;
            return __nv_cvt_bfloat16raw_to_fp8(r, sat_of(decltype(S){}), fmt_of(decltype(E){}));
        });
    });
}
void nv_e8m0_from_f32(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool round_up)
{
    modes(sat, round_up, [&](auto S, auto U) {
        fill(base, out, n, [](uint32_t x) {
            return __nv_cvt_float_to_e8m0(f32(x), sat_of(decltype(S){}), decltype(U)::value ? cudaRoundPosInf : cudaRoundZero);
        });
    });
}
void nv_bf16_from_f32(uint64_t base, uint16_t *out, uint32_t n)
{
    fill(base, out, n, [](uint32_t x) { __nv_bfloat16 b = __float2bfloat16_rn(f32(x)); uint16_t u; std::memcpy(&u, &b, 2); return u; });
}
void nv_f16_from_f32(uint64_t base, uint16_t *out, uint32_t n)
{
    fill(base, out, n, [](uint32_t x) { __half h = __float2half_rn(f32(x)); uint16_t u; std::memcpy(&u, &h, 2); return u; });
}
void nv_f16_to_f32(uint64_t base, uint32_t *out, uint32_t n)
{
    fill(base, out, n, [](uint32_t h) { __half_raw r; r.x = (uint16_t)h; return bits(__half2float(__half(r))); });
}
void nv_fp8_to_f16(uint64_t base, uint16_t *out, uint32_t n, bool e5m2)
{
    const __nv_fp8_interpretation_t f = e5m2 ? __NV_E5M2 : __NV_E4M3;
    fill(base, out, n, [f](uint32_t c) { return __nv_cvt_fp8_to_halfraw((uint8_t)c, f).x; });
}
void nv_e8m0_to_f32(uint64_t base, uint32_t *out, uint32_t n)
{
    fill(base, out, n, [](uint32_t c) { return (uint32_t)__nv_cvt_e8m0_to_bf16raw((uint8_t)c).x << 16; });
}

#if defined(__x86_64__)
bool f16c_present() { return __builtin_cpu_supports("f16c"); }
__attribute__((target("f16c"))) void f16c_from_f32(uint64_t base, uint16_t *out, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) out[i] = (uint16_t)_cvtss_sh(f32((uint32_t)(base + i)), _MM_FROUND_TO_NEAREST_INT);
}
__attribute__((target("f16c"))) void f16c_to_f32(uint64_t base, uint32_t *out, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) out[i] = bits(_cvtsh_ss((uint16_t)(base + i)));
}
#else
bool f16c_present() { return false; }
void f16c_from_f32(uint64_t, uint16_t *, uint32_t) {}
void f16c_to_f32(uint64_t, uint32_t *, uint32_t) {}
#endif
