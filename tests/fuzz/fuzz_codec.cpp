// libFuzzer differential target: every entry point of codec/fp8.h, and of
// codec/fp8_quant.h, against
//   - NVIDIA's cuda_fp8.h / cuda_bf16.h / cuda_fp16.h host code (the
//     reference of tests/exhaustive.cpp, with the same named quirks), and
//   - the straightforward reference of tests/fuzz/ref.h (values in double,
//     nearest-code search), and for fp8_quant.h the definitions in its
//     header comment, computed here in double.
// Each input is read as 32-bit words: every word goes through every scalar
// conversion (as FP32, BF16/FP16 from its halves, FP8 codes from its bytes);
// the words as arrays go through every _n form (also at an odd offset); the
// first bytes parametrise the quantization calls (sizes, tiles, strides,
// flags, rules, a given scale, some invalid) over the rest.
// A mismatch prints the function, the input and both results, and aborts,
// so libFuzzer saves the input. Built with -fsanitize=fuzzer,address,undefined.
#include "../../codec/fp8.h"
#if __has_include("../../codec/fp8_quant.h")
#include "../../codec/fp8_quant.h"
#define HAVE_QUANT 1
#endif
#include "../entry_points.h"
#include "ref.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

namespace {

std::set<std::string> covered;
bool counting = false;

[[noreturn]] void mismatch(const char *fn, const char *against, unsigned long long in, unsigned long long got,
                           unsigned long long want)
{
    fprintf(stderr, "MISMATCH %s vs %s: input 0x%llx: fp8kit 0x%llx, reference 0x%llx\n", fn, against, in, got, want);
    abort();
}
#define CHECK(fn, against, in, got, want)                                                                    \
    do {                                                                                                     \
        if (counting) covered.insert(#fn);                                                                   \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);                   \
        if (g_ != w_) mismatch(#fn, against, (unsigned long long)(in), g_, w_);                              \
    } while (0)

using ref::bits;
using ref::f32;
bool nan32(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }

// NVIDIA's host converters
uint8_t nv8(uint32_t x, __nv_saturation_t s, __nv_fp8_interpretation_t f) { return __nv_cvt_float_to_fp8(f32(x), s, f); }
uint16_t nv_bf16(uint32_t x) { __nv_bfloat16_raw r = __nv_bfloat16_raw(__float2bfloat16_rn(f32(x))); return r.x; }
uint16_t nv_f16(uint32_t x) { __half_raw r = __half_raw(__float2half_rn(f32(x))); return r.x; }

// NVIDIA's named departures (tests/exhaustive.cpp): NaN sign dropped (FP8
// NOSAT gives 0x7F for -NaN), canonical NaN all ones.
uint8_t nv_nosat_quirk(bool nan, uint8_t ours, uint8_t nv) { return (nan && nv == 0x7F && ours == 0xFF) ? ours : nv; }

const ref::Fmt &fmt8(int e5) { return e5 ? ref::E5M2 : ref::E4M3; }

// FP8 code -> double, NaN carrying the code's sign.
double dec8(int e5, uint8_t c)
{
    double v = ref::from_fp8(fmt8(e5), c);
    return std::isnan(v) ? std::copysign(NAN, (c & 0x80) ? -1.0 : 1.0) : v;
}

// FUZZ_MUTANT: a deliberately wrong result (one bit of fp8_e4m3_from_f32_bits
// flipped for inputs whose low byte is 0x5A), to show the target can fail.
#if defined(FUZZ_MUTANT)
uint8_t mutant(uint32_t x) { return (x & 0xFF) == 0x5A; }
#else
uint8_t mutant(uint32_t) { return 0; }
#endif

// ---- scalar conversions of one 32-bit word ----
void scalars(uint32_t x, uint32_t r)
{
    const double xv = (double)f32(x);
    const bool xnan = nan32(x);
    // FP32 -> FP8
#define F32_FP8(fn, e5, sat, nvsat)                                                                        \
    {                                                                                                      \
        uint8_t want = ref::to_fp8(fmt8(e5), xv, sat), got = (uint8_t)(fn##_bits(x) ^ (!e5 && sat ? mutant(x) : 0)); \
        CHECK(fn##_bits, "fuzz reference", x, got, want);                                                  \
        CHECK(fn##_bits, "NVIDIA __nv_cvt_float_to_fp8", x, got,                                           \
              nv_nosat_quirk(xnan, got, nv8(x, nvsat, e5 ? __NV_E5M2 : __NV_E4M3)));                       \
        CHECK(fn, "its _bits twin", x, fn(f32(x)), got);                                                   \
    }
    F32_FP8(fp8_e4m3_from_f32, 0, true, __NV_SATFINITE)
    F32_FP8(fp8_e5m2_from_f32, 1, true, __NV_SATFINITE)
    F32_FP8(fp8_e4m3_from_f32_nosat, 0, false, __NV_NOSAT)
    F32_FP8(fp8_e5m2_from_f32_nosat, 1, false, __NV_NOSAT)
    // stochastic rounding, with r as the random bits
    CHECK(fp8_e4m3_from_f32_sr_bits, "fuzz reference", x, fp8_e4m3_from_f32_sr_bits(x, r), ref::to_fp8_sr(ref::E4M3, xv, r));
    CHECK(fp8_e5m2_from_f32_sr_bits, "fuzz reference", x, fp8_e5m2_from_f32_sr_bits(x, r), ref::to_fp8_sr(ref::E5M2, xv, r));
    CHECK(fp8_e4m3_from_f32_sr, "its _bits twin", x, fp8_e4m3_from_f32_sr(f32(x), r), fp8_e4m3_from_f32_sr_bits(x, r));
    CHECK(fp8_e5m2_from_f32_sr, "its _bits twin", x, fp8_e5m2_from_f32_sr(f32(x), r), fp8_e5m2_from_f32_sr_bits(x, r));
    // pairs: x in the low byte, r in the high byte
    CHECK(fp8_e4m3x2_from_f32, "fuzz reference", (uint64_t)x << 32 | r, fp8_e4m3x2_from_f32(f32(x), f32(r)),
          ref::to_fp8(ref::E4M3, xv, true) | ref::to_fp8(ref::E4M3, (double)f32(r), true) << 8);
    CHECK(fp8_e5m2x2_from_f32, "fuzz reference", (uint64_t)x << 32 | r, fp8_e5m2x2_from_f32(f32(x), f32(r)),
          ref::to_fp8(ref::E5M2, xv, true) | ref::to_fp8(ref::E5M2, (double)f32(r), true) << 8);
    // FP32 -> E8M0
#define F32_E8M0(fn, up, sat, nvsat, nvround)                                                              \
    CHECK(fn##_bits, "fuzz reference", x, fn##_bits(x), ref::e8m0(f32(x), up, sat));                       \
    CHECK(fn##_bits, "NVIDIA __nv_cvt_float_to_e8m0", x, fn##_bits(x),                                     \
          __nv_cvt_float_to_e8m0(f32(x), nvsat, nvround));                                                 \
    CHECK(fn, "its _bits twin", x, fn(f32(x)), fn##_bits(x));
    F32_E8M0(fp8_e8m0_from_f32_rz, false, true, __NV_SATFINITE, cudaRoundZero)
    F32_E8M0(fp8_e8m0_from_f32_rz_nosat, false, false, __NV_NOSAT, cudaRoundZero)
    F32_E8M0(fp8_e8m0_from_f32_rp, true, true, __NV_SATFINITE, cudaRoundPosInf)
    F32_E8M0(fp8_e8m0_from_f32_rp_nosat, true, false, __NV_NOSAT, cudaRoundPosInf)
    // FP32 -> BF16, FP16 (NVIDIA returns its canonical NaN 0x7FFF)
#define F32_16(fn, F, nvfn)                                                                                \
    {                                                                                                      \
        uint16_t got = fn##_bits(x);                                                                       \
        CHECK(fn##_bits, "fuzz reference", x, got, ref::to16(ref::F, xv));                                 \
        uint16_t nv = nvfn(x);                                                                             \
        CHECK(fn##_bits, "NVIDIA host code", x, got, (xnan && nv == 0x7FFF) ? got : nv);                   \
        CHECK(fn, "its _bits twin", x, fn(f32(x)), got);                                                   \
    }
    F32_16(bf16_from_f32, BF16, nv_bf16)
    F32_16(f16_from_f32, F16, nv_f16)

    // 16-bit sources: both halves of the word
    for (uint16_t h : {(uint16_t)x, (uint16_t)(x >> 16)}) {
        const double bv = ref::from16(ref::BF16, h), hv = ref::from16(ref::F16, h);
        const bool bnan = std::isnan(bv), hnan = std::isnan(hv);
        __nv_bfloat16_raw br; br.x = h;
        __half_raw hr; hr.x = h;
#define H_FP8(fn, e5, sat, nvsat, V, NAN_, NVFN, RAW)                                                      \
    {                                                                                                      \
        uint8_t got = fn(h);                                                                               \
        CHECK(fn, "fuzz reference", h, got, ref::to_fp8(fmt8(e5), V, sat));                                \
        CHECK(fn, "NVIDIA host code", h, got,                                                              \
              nv_nosat_quirk(NAN_, got, NVFN(RAW, nvsat, e5 ? __NV_E5M2 : __NV_E4M3)));                    \
    }
        H_FP8(fp8_e4m3_from_bf16, 0, true, __NV_SATFINITE, bv, bnan, __nv_cvt_bfloat16raw_to_fp8, br)
        H_FP8(fp8_e5m2_from_bf16, 1, true, __NV_SATFINITE, bv, bnan, __nv_cvt_bfloat16raw_to_fp8, br)
        H_FP8(fp8_e4m3_from_bf16_nosat, 0, false, __NV_NOSAT, bv, bnan, __nv_cvt_bfloat16raw_to_fp8, br)
        H_FP8(fp8_e5m2_from_bf16_nosat, 1, false, __NV_NOSAT, bv, bnan, __nv_cvt_bfloat16raw_to_fp8, br)
        H_FP8(fp8_e4m3_from_f16, 0, true, __NV_SATFINITE, hv, hnan, __nv_cvt_halfraw_to_fp8, hr)
        H_FP8(fp8_e5m2_from_f16, 1, true, __NV_SATFINITE, hv, hnan, __nv_cvt_halfraw_to_fp8, hr)
        H_FP8(fp8_e4m3_from_f16_nosat, 0, false, __NV_NOSAT, hv, hnan, __nv_cvt_halfraw_to_fp8, hr)
        H_FP8(fp8_e5m2_from_f16_nosat, 1, false, __NV_NOSAT, hv, hnan, __nv_cvt_halfraw_to_fp8, hr)
        // BF16/FP16 -> FP32: exact; a BF16 NaN keeps its payload (it is the top half),
        // an FP16 NaN becomes the quiet NaN with its sign
        CHECK(bf16_to_f32_bits, "fuzz reference", h, bf16_to_f32_bits(h), bnan ? (uint32_t)h << 16 : ref::f32_bits(bv));
        CHECK(f16_to_f32_bits, "fuzz reference", h, f16_to_f32_bits(h),
              ref::f32_bits(hnan ? std::copysign(NAN, (h & 0x8000) ? -1.0 : 1.0) : hv));
        {
            uint32_t nv = bits(__half2float(__half(hr)));
            CHECK(f16_to_f32_bits, "NVIDIA __half2float", h, f16_to_f32_bits(h), (hnan && nan32(nv)) ? f16_to_f32_bits(h) : nv);
        }
        CHECK(bf16_to_f32, "its _bits twin", h, bits(bf16_to_f32(h)), bf16_to_f32_bits(h));
        CHECK(f16_to_f32, "its _bits twin", h, bits(f16_to_f32(h)), f16_to_f32_bits(h));
    }

    // FP8 codes: every byte of the word
    for (int k = 0; k < 4; k++) {
        uint8_t c = (uint8_t)(x >> (8 * k));
        for (int e5 = 0; e5 < 2; e5++) {
            double v = dec8(e5, c);
            uint32_t f = e5 ? fp8_e5m2_to_f32_bits(c) : fp8_e4m3_to_f32_bits(c);
            uint16_t b = e5 ? fp8_e5m2_to_bf16(c) : fp8_e4m3_to_bf16(c);
            uint16_t hh = e5 ? fp8_e5m2_to_f16(c) : fp8_e4m3_to_f16(c);
            __half_raw nvh = __nv_cvt_fp8_to_halfraw(c, e5 ? __NV_E5M2 : __NV_E4M3);
            if (e5) {
                CHECK(fp8_e5m2_to_f32_bits, "fuzz reference", c, f, ref::f32_bits(v));
                CHECK(fp8_e5m2_to_bf16, "fuzz reference", c, b, ref::to16(ref::BF16, v));
                CHECK(fp8_e5m2_to_f16, "fuzz reference", c, hh, ref::to16(ref::F16, v));
                CHECK(fp8_e5m2_to_f16, "NVIDIA __nv_cvt_fp8_to_halfraw", c, hh, nvh.x == 0x7FFF ? hh : nvh.x);
                CHECK(fp8_e5m2_to_f32, "its _bits twin", c, bits(fp8_e5m2_to_f32(c)), f);
            } else {
                CHECK(fp8_e4m3_to_f32_bits, "fuzz reference", c, f, ref::f32_bits(v));
                CHECK(fp8_e4m3_to_bf16, "fuzz reference", c, b, ref::to16(ref::BF16, v));
                CHECK(fp8_e4m3_to_f16, "fuzz reference", c, hh, ref::to16(ref::F16, v));
                CHECK(fp8_e4m3_to_f16, "NVIDIA __nv_cvt_fp8_to_halfraw", c, hh, nvh.x == 0x7FFF ? hh : nvh.x);
                CHECK(fp8_e4m3_to_f32, "its _bits twin", c, bits(fp8_e4m3_to_f32(c)), f);
            }
        }
        uint32_t e = fp8_e8m0_to_f32_bits(c);
        CHECK(fp8_e8m0_to_f32_bits, "fuzz reference", c, e, ref::e8m0_to_f32_bits(c));
        uint32_t nv = (uint32_t)__nv_cvt_e8m0_to_bf16raw(c).x << 16;
        CHECK(fp8_e8m0_to_f32_bits, "NVIDIA __nv_cvt_e8m0_to_bf16raw", c, e, nv == 0x7FFF0000u ? e : nv);
        CHECK(fp8_e8m0_to_f32, "its _bits twin", c, bits(fp8_e8m0_to_f32(c)), e);
    }
}

// ---- array forms: over the words, and again from an odd offset ----
template <class S> S from_word(uint32_t w);
template <> float from_word<float>(uint32_t w) { return f32(w); }
template <> uint16_t from_word<uint16_t>(uint32_t w) { return (uint16_t)w; }
template <> uint8_t from_word<uint8_t>(uint32_t w) { return (uint8_t)w; }
uint32_t word_of(float v) { return bits(v); }
uint32_t word_of(uint16_t v) { return v; }
uint32_t word_of(uint8_t v) { return v; }

void arrays(const std::vector<uint32_t> &w)
{
    const size_t n = w.size();
#define ARR(fn, dst_t, src_t, scalar)                                                                      \
    {                                                                                                      \
        std::vector<src_t> s(n + 1);                                                                       \
        std::vector<dst_t> d(n + 1);                                                                       \
        for (size_t i = 0; i < n; i++) s[i] = from_word<src_t>(w[i]);                                      \
        for (size_t off = 0; off < 2 && off <= n; off++) {                                                 \
            fn(d.data() + off, s.data() + off, n - off);                                                   \
            for (size_t i = off; i < n; i++)                                                               \
                CHECK(fn, #scalar, i, word_of(d[i]), word_of(scalar(s[i])));                               \
        }                                                                                                  \
    }
    FP8KIT_ARRAYS(ARR)
}

#if defined(HAVE_QUANT)
// ---- fp8_quant.h, from the definitions in its header ----
const double QMAX[2] = {448.0, 57344.0};
const int QEMAX[2] = {8, 15};

double rule_amax(float a) { double v = std::fabs((double)a); return std::isfinite(v) ? v : 0.0; }
double pow2_ceil(double q, int lo)
{
    if (q <= std::ldexp(1.0, lo)) return std::ldexp(1.0, lo);
    int E;
    std::frexp(q, &E);
    return q == std::ldexp(1.0, E - 1) ? q : std::ldexp(1.0, E);
}
float ref_scale_f32(int f, float amax_in)
{
    double a = rule_amax(amax_in), q = a / QMAX[f];
    if (a == 0) return 1.0f;
    if (q < 0x1p-126) return (float)(std::ceil(q * 0x1p149) * 0x1p-149);
    return (float)q;
}
float ref_scale_pow2(int f, float amax_in)
{
    double a = rule_amax(amax_in);
    return a == 0 ? 1.0f : (float)pow2_ceil(a / QMAX[f], -149);
}
uint8_t ref_scale_e8m0(int f, unsigned rule, float amax_in)
{
    double a = rule_amax(amax_in);
    if (a == 0) return 0;
    int E;
    if (rule == FP8_E8M0_OCP) {
        std::frexp(a, &E);
        return (uint8_t)std::max(E - 1 - QEMAX[f] + 127, 0);
    }
    std::frexp(pow2_ceil(a / QMAX[f], -127), &E);
    return (uint8_t)(E - 1 + 127);
}
double ref_amax(const std::vector<float> &x, size_t ld, size_t r0, size_t c0, size_t h, size_t w)
{
    double m = 0;
    for (size_t i = r0; i < r0 + h; i++)
        for (size_t j = c0; j < c0 + w; j++) {
            double a = std::fabs((double)x[i * ld + j]);
            if (std::isfinite(a) && a > m) m = a;
        }
    return m;
}
// q = fp8((x * p) * r), r = 1 / (s * p) in FP32, p = 2^64, 1 or 2^-64
uint8_t ref_quant(int f, float x, float s)
{
    double p = s < 0x1p-64f ? 0x1p64 : s > 0x1p64f ? 0x1p-64 : 1.0;
    float r = (float)(1.0 / (double)(float)((double)s * p));
    float v = (float)((double)(float)((double)x * p) * (double)r);
    return ref::to_fp8(fmt8(f), (double)v, true);
}
float ref_dequant(int f, uint8_t c, float s) { return (float)(dec8(f, c) * (double)s); }
uint32_t out_word(float y) { return nan32(bits(y)) ? 0x7FC00000u : bits(y); } // any NaN is NaN
uint32_t out_word_bf16(uint16_t h) { return (h & 0x7FFF) > 0x7F80 ? 0x7FC0u : h; }

struct QParams {
    int f, bf16src, flags, rule;
    size_t n, block, rows, cols, tr, tc, ldx, ldq;
    float given;
};

// The expected outputs of one quantization over tiles (1-D: rows 1).
// kind 0: FP32 scales by flags; 1: E8M0 by rule.
void ref_tiles(const QParams &p, int kind, unsigned how, const std::vector<float> &x, size_t ldx, size_t rows,
               size_t cols, size_t tr, size_t tc, size_t ldq, std::vector<uint8_t> &q, std::vector<float> &sf,
               std::vector<uint8_t> &se)
{
    for (size_t r0 = 0, k = 0; r0 < rows; r0 += tr)
        for (size_t c0 = 0; c0 < cols; c0 += tc, k++) {
            size_t h = std::min(tr, rows - r0), w = std::min(tc, cols - c0);
            float amax = (float)ref_amax(x, ldx, r0, c0, h, w);
            float s;
            if (kind == 0) {
                s = how ? ref_scale_pow2(p.f, amax) : ref_scale_f32(p.f, amax);
                sf.push_back(s);
            } else {
                uint8_t code = ref_scale_e8m0(p.f, how, amax);
                se.push_back(code);
                s = f32(ref::e8m0_to_f32_bits(code));
            }
            for (size_t i = r0; i < r0 + h; i++)
                for (size_t j = c0; j < c0 + w; j++) q[i * ldq + j] = ref_quant(p.f, x[i * ldx + j], s);
        }
}

// Quantization checks name the function at run time: fp8_<fmt>_<what>_<type>.
std::string qn(int f, const char *what, const char *type)
{
    return std::string("fp8_") + (f ? "e5m2_" : "e4m3_") + what + "_" + type;
}
void qeq(const std::string &name, unsigned long long in, unsigned long long got, unsigned long long want)
{
    if (counting) covered.insert(name);
    if (got != want) mismatch(name.c_str(), "fp8_quant.h's definitions", in, got, want);
}
#define QCHECK(name, cond, in) qeq(name, in, !(cond), 0)
#define SRC (std::is_same<Src, float>::value ? "f32" : "bf16")

template <class Src>
void quant_one(const QParams &p, const std::vector<float> &xv, const std::vector<Src> &xs)
{
    const int f = p.f;
    const size_t n = p.n;
    // scale rules and amax
    std::vector<uint8_t> q(n + 64, 0xA5), qr(n + 64, 0xA5);
    // per tensor
    {
        float s = -1;
        std::vector<float> sf;
        std::vector<uint8_t> se;
        int rc;
        if (f == 0) rc = std::is_same<Src, float>::value ? fp8_e4m3_quantize_tensor_f32(q.data(), &s, (const float *)xs.data(), n, (unsigned)p.flags)
                                                          : fp8_e4m3_quantize_tensor_bf16(q.data(), &s, (const uint16_t *)xs.data(), n, (unsigned)p.flags);
        else rc = std::is_same<Src, float>::value ? fp8_e5m2_quantize_tensor_f32(q.data(), &s, (const float *)xs.data(), n, (unsigned)p.flags)
                                                  : fp8_e5m2_quantize_tensor_bf16(q.data(), &s, (const uint16_t *)xs.data(), n, (unsigned)p.flags);
        if (p.flags > 1) {
            QCHECK(qn(f, "quantize_tensor", SRC), rc == FP8_QUANT_EINVAL && q == qr, p.flags);
        } else {
            if (n) ref_tiles(p, 0, (unsigned)p.flags, xv, n, 1, n, 1, n, n, qr, sf, se);
            QCHECK(qn(f, "quantize_tensor", SRC), rc == 0 && bits(s) == bits(n ? sf[0] : 1.0f) && q == qr, n);
        }
        // dequantize the result back (valid scale)
        if (rc == 0 && n) {
            std::vector<float> y(n);
            std::vector<uint16_t> yb(n);
            int r1 = f ? fp8_e5m2_dequantize_tensor_f32(y.data(), q.data(), n, s) : fp8_e4m3_dequantize_tensor_f32(y.data(), q.data(), n, s);
            int r2 = f ? fp8_e5m2_dequantize_tensor_bf16(yb.data(), q.data(), n, s) : fp8_e4m3_dequantize_tensor_bf16(yb.data(), q.data(), n, s);
            QCHECK(qn(f, "dequantize_tensor", "f32"), r1 == 0 && r2 == 0, n);
            for (size_t i = 0; i < n; i++) {
                float want = ref_dequant(f, q[i], s);
                qeq(qn(f, "dequantize_tensor", "f32"), q[i], out_word(y[i]), out_word(want));
                qeq(qn(f, "dequantize_tensor", "bf16"), q[i], out_word_bf16(yb[i]),
                      out_word_bf16(ref::to16(ref::BF16, (double)want)));
            }
        }
    }
    // with a given scale
    {
        std::fill(q.begin(), q.end(), 0xA5);
        std::fill(qr.begin(), qr.end(), 0xA5);
        int rc = f ? (std::is_same<Src, float>::value ? fp8_e5m2_quantize_scaled_f32(q.data(), (const float *)xs.data(), n, p.given)
                                                      : fp8_e5m2_quantize_scaled_bf16(q.data(), (const uint16_t *)xs.data(), n, p.given))
                   : (std::is_same<Src, float>::value ? fp8_e4m3_quantize_scaled_f32(q.data(), (const float *)xs.data(), n, p.given)
                                                      : fp8_e4m3_quantize_scaled_bf16(q.data(), (const uint16_t *)xs.data(), n, p.given));
        bool valid = p.given > 0 && std::isfinite(p.given);
        if (valid)
            for (size_t i = 0; i < n; i++) qr[i] = ref_quant(f, xv[i], p.given);
        QCHECK(qn(f, "quantize_scaled", SRC), (valid ? rc == 0 : rc == FP8_QUANT_EINVAL) && q == qr, bits(p.given));
    }
    // blocks (FP32 scales) and E8M0 blocks, 1-D
    for (int kind = 0; kind < 2; kind++) {
        std::fill(q.begin(), q.end(), 0xA5);
        std::fill(qr.begin(), qr.end(), 0xA5);
        size_t nb = fp8_blocks_count(n, p.block);
        CHECK(fp8_blocks_count, "ceil(n / block)", n, nb, p.block ? (n + p.block - 1) / p.block : 0);
        std::vector<float> sf(nb + 1, -7.0f), sfr;
        std::vector<uint8_t> se(nb + 1, 0x5A), ser;
        unsigned how = kind ? (unsigned)p.rule : (unsigned)p.flags;
        int rc;
        const void *x = xs.data();
#define QB(F, S, T)                                                                                         \
    (kind ? fp8_##F##_quantize_blocks_e8m0_##S(q.data(), se.data(), (const T *)x, n, p.block, how)          \
          : fp8_##F##_quantize_blocks_##S(q.data(), sf.data(), (const T *)x, n, p.block, how))
        if (std::is_same<Src, float>::value) rc = f ? QB(e5m2, f32, float) : QB(e4m3, f32, float);
        else rc = f ? QB(e5m2, bf16, uint16_t) : QB(e4m3, bf16, uint16_t);
        bool valid = p.block != 0 && how <= 1;
        if (valid && n) ref_tiles(p, kind, how, xv, n, 1, n, 1, p.block, n, qr, sfr, ser);
        bool scales_ok = true;
        for (size_t b = 0; valid && b < nb; b++)
            scales_ok &= kind ? se[b] == ser[b] : bits(sf[b]) == bits(sfr[b]);
        QCHECK(qn(f, kind ? "quantize_blocks_e8m0" : "quantize_blocks", SRC), (valid ? rc == 0 : rc == FP8_QUANT_EINVAL) && q == qr && scales_ok, p.block);
        // OCP MX: blocks of 32 with the OCP rule
        if (kind == 1) {
            std::vector<uint8_t> qm(n + 64, 0xA5), sm(fp8_blocks_count(n, 32) + 1), qm2(n + 64, 0xA5), sm2(sm.size());
            int r1 = std::is_same<Src, float>::value
                         ? (f ? fp8_e5m2_quantize_mx_f32(qm.data(), sm.data(), (const float *)x, n) : fp8_e4m3_quantize_mx_f32(qm.data(), sm.data(), (const float *)x, n))
                         : (f ? fp8_e5m2_quantize_mx_bf16(qm.data(), sm.data(), (const uint16_t *)x, n) : fp8_e4m3_quantize_mx_bf16(qm.data(), sm.data(), (const uint16_t *)x, n));
            int r2 = std::is_same<Src, float>::value
                         ? (f ? fp8_e5m2_quantize_blocks_e8m0_f32(qm2.data(), sm2.data(), (const float *)x, n, 32, FP8_E8M0_OCP) : fp8_e4m3_quantize_blocks_e8m0_f32(qm2.data(), sm2.data(), (const float *)x, n, 32, FP8_E8M0_OCP))
                         : (f ? fp8_e5m2_quantize_blocks_e8m0_bf16(qm2.data(), sm2.data(), (const uint16_t *)x, n, 32, FP8_E8M0_OCP) : fp8_e4m3_quantize_blocks_e8m0_bf16(qm2.data(), sm2.data(), (const uint16_t *)x, n, 32, FP8_E8M0_OCP));
            QCHECK(qn(f, "quantize_mx", SRC), r1 == 0 && r2 == 0 && qm == qm2 && sm == sm2, n);
        }
        // dequantize blocks back
        if (valid && rc == 0 && n) {
            std::vector<float> y(n);
            std::vector<uint16_t> yb(n);
#define DQB(F, D, Y)                                                                                        \
    (kind ? fp8_##F##_dequantize_blocks_e8m0_##D(Y, q.data(), se.data(), n, p.block)                        \
          : fp8_##F##_dequantize_blocks_##D(Y, q.data(), sf.data(), n, p.block))
            int r1 = f ? DQB(e5m2, f32, y.data()) : DQB(e4m3, f32, y.data());
            int r2 = f ? DQB(e5m2, bf16, yb.data()) : DQB(e4m3, bf16, yb.data());
            QCHECK(qn(f, kind ? "dequantize_blocks_e8m0" : "dequantize_blocks", "f32"), r1 == 0 && r2 == 0, n);
            for (size_t i = 0; i < n; i++) {
                size_t b = i / p.block;
                float s = kind ? f32(ref::e8m0_to_f32_bits(se[b])) : sf[b];
                float want = ref_dequant(f, q[i], s);
                qeq(qn(f, kind ? "dequantize_blocks_e8m0" : "dequantize_blocks", "f32"), i, out_word(y[i]), out_word(want));
                qeq(qn(f, kind ? "dequantize_blocks_e8m0" : "dequantize_blocks", "bf16"), i, out_word_bf16(yb[i]),
                      out_word_bf16(ref::to16(ref::BF16, (double)want)));
            }
        }
    }
    // 2-D tiles: rows x cols with strides
    {
        size_t rows = p.rows, cols = p.cols, ldx = p.ldx, ldq = p.ldq;
        std::vector<uint8_t> qt(rows * ldq + 64, 0xA5), qtr(qt.size(), 0xA5);
        size_t nt = fp8_blocks_count(rows, p.tr) * fp8_blocks_count(cols, p.tc);
        std::vector<float> sf(nt + 1, -7.0f), sfr;
        std::vector<uint8_t> ser;
        const void *x = xs.data();
#define QT(F, S, T) fp8_##F##_quantize_tiles_##S(qt.data(), ldq, sf.data(), (const T *)x, ldx, rows, cols, p.tr, p.tc, (unsigned)p.flags)
        int rc;
        if (std::is_same<Src, float>::value) rc = f ? QT(e5m2, f32, float) : QT(e4m3, f32, float);
        else rc = f ? QT(e5m2, bf16, uint16_t) : QT(e4m3, bf16, uint16_t);
        bool valid = p.tr && p.tc && p.flags <= 1 && ldx >= cols && ldq >= cols;
        if (valid && rows && cols) ref_tiles(p, 0, (unsigned)p.flags, xv, ldx, rows, cols, p.tr, p.tc, ldq, qtr, sfr, ser);
        bool scales_ok = true;
        for (size_t t = 0; valid && rows && cols && t < nt; t++) scales_ok &= bits(sf[t]) == bits(sfr[t]);
        QCHECK(qn(f, "quantize_tiles", SRC), (valid ? rc == 0 : rc == FP8_QUANT_EINVAL) && qt == qtr && scales_ok,
               rows << 16 | cols << 8 | p.tr << 4 | p.tc);
        if (valid && rc == 0 && rows && cols) {
            size_t ldy = cols + 1;
            std::vector<float> y(rows * ldy, -3.0f);
            std::vector<uint16_t> yb(rows * ldy, 0x1234);
#define DQT(F, D, Y) fp8_##F##_dequantize_tiles_##D(Y, ldy, qt.data(), ldq, sf.data(), rows, cols, p.tr, p.tc)
            int r1 = f ? DQT(e5m2, f32, y.data()) : DQT(e4m3, f32, y.data());
            int r2 = f ? DQT(e5m2, bf16, yb.data()) : DQT(e4m3, bf16, yb.data());
            QCHECK(qn(f, "dequantize_tiles", "f32"), r1 == 0 && r2 == 0, rows << 8 | cols);
            size_t tcols = fp8_blocks_count(cols, p.tc);
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < ldy; j++) {
                    if (j >= cols) { // the stride padding is not written
                        QCHECK(qn(f, "dequantize_tiles", "f32"), y[i * ldy + j] == -3.0f && yb[i * ldy + j] == 0x1234, j);
                        continue;
                    }
                    float s = sf[(i / p.tr) * tcols + j / p.tc];
                    float want = ref_dequant(f, qt[i * ldq + j], s);
                    qeq(qn(f, "dequantize_tiles", "f32"), i << 16 | j, out_word(y[i * ldy + j]), out_word(want));
                    qeq(qn(f, "dequantize_tiles", "bf16"), i << 16 | j, out_word_bf16(yb[i * ldy + j]),
                          out_word_bf16(ref::to16(ref::BF16, (double)want)));
                }
        }
    }
}

void quant(const uint8_t *d, size_t size)
{
    if (size < 16) return;
    QParams p;
    p.f = d[0] & 1;
    p.bf16src = (d[0] >> 1) & 1;
    p.flags = d[1] % 3;       // 2 is invalid
    p.rule = d[2] % 3;        // 2 is invalid
    p.block = d[3] % 40;      // 0 is invalid
    p.tr = d[4] % 6;          // 0 is invalid
    p.tc = d[5] % 6;
    p.cols = d[6] % 12;
    p.ldx = p.cols + (d[7] % 3) - (p.cols && d[7] % 7 == 6); // sometimes below cols: invalid
    p.ldq = p.cols + (d[8] % 3);
    uint32_t g;
    std::memcpy(&g, d + 9, 4);
    p.given = f32(g);
    d += 13;
    size -= 13;
    // the elements
    std::vector<float> xv;
    std::vector<float> xf;
    std::vector<uint16_t> xb;
    if (p.bf16src) {
        for (size_t i = 0; i + 2 <= size; i += 2) {
            uint16_t h = (uint16_t)(d[i] | d[i + 1] << 8);
            xb.push_back(h);
            xv.push_back((float)ref::from16(ref::BF16, h));
        }
    } else {
        for (size_t i = 0; i + 4 <= size; i += 4) {
            uint32_t w;
            std::memcpy(&w, d + i, 4);
            xf.push_back(f32(w));
            xv.push_back(f32(w));
        }
    }
    p.n = xv.size();
    p.rows = p.ldx && p.ldx >= p.cols ? p.n / std::max<size_t>(p.ldx, 1) : 0;
    if (p.rows * p.ldx > p.n) p.rows = 0;
    // scale rules and amax
    float a = p.n ? xv[0] : 0.0f;
    CHECK(fp8_scale_rule_f32, "definition", bits(a), bits(fp8_scale_rule_f32((uint32_t)p.f, a)), bits(ref_scale_f32(p.f, a)));
    CHECK(fp8_scale_rule_pow2_f32, "definition", bits(a), bits(fp8_scale_rule_pow2_f32((uint32_t)p.f, a)), bits(ref_scale_pow2(p.f, a)));
    if (p.rule <= 1)
        CHECK(fp8_scale_rule_e8m0, "definition", bits(a), fp8_scale_rule_e8m0((uint32_t)p.f, (uint32_t)p.rule, a), ref_scale_e8m0(p.f, (unsigned)p.rule, a));
    CHECK(fp8_e4m3_scale, "definition", bits(a), bits(fp8_e4m3_scale(a)), bits(ref_scale_f32(0, a)));
    CHECK(fp8_e5m2_scale, "definition", bits(a), bits(fp8_e5m2_scale(a)), bits(ref_scale_f32(1, a)));
    CHECK(fp8_e4m3_scale_pow2, "definition", bits(a), bits(fp8_e4m3_scale_pow2(a)), bits(ref_scale_pow2(0, a)));
    CHECK(fp8_e5m2_scale_pow2, "definition", bits(a), bits(fp8_e5m2_scale_pow2(a)), bits(ref_scale_pow2(1, a)));
    for (unsigned r = 0; r < 2; r++) {
        CHECK(fp8_e4m3_scale_e8m0, "definition", bits(a), fp8_e4m3_scale_e8m0(a, r), ref_scale_e8m0(0, r, a));
        CHECK(fp8_e5m2_scale_e8m0, "definition", bits(a), fp8_e5m2_scale_e8m0(a, r), ref_scale_e8m0(1, r, a));
    }
    float am = p.bf16src ? fp8_amax_bf16(xb.data(), p.n) : fp8_amax_f32(xf.data(), p.n);
    qeq(p.bf16src ? "fp8_amax_bf16" : "fp8_amax_f32", p.n, bits(am), bits((float)ref_amax(xv, p.n, 0, 0, 1, p.n)));
    if (p.bf16src) quant_one<uint16_t>(p, xv, xb);
    else quant_one<float>(p, xv, xf);
}
#endif

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::vector<uint32_t> w(size / 4);
    if (!w.empty()) std::memcpy(w.data(), data, w.size() * 4);
    for (size_t i = 0; i < w.size(); i++) scalars(w[i], w[(i + 1) % w.size()] * 0x9E3779B9u + 0x7F4A7C15u);
    arrays(w);
#if defined(HAVE_QUANT)
    quant(data, size);
#endif
    return 0;
}

// Every entry point must be exercised: run a fixed input through the checks
// once, recording the functions named, and compare with the lists of
// tests/entry_points.h.
extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    if (std::fesetround(FE_TONEAREST) != 0) abort();
    std::vector<uint8_t> seed;
    for (uint32_t i = 0; i < 512; i++) seed.push_back((uint8_t)(i * 37u + (i >> 3)));
    counting = true;
    for (uint8_t v = 0; v < 4; v++) { // both formats, both sources, valid parameters
        seed[0] = v; seed[1] = v & 1; seed[2] = v >> 1; seed[3] = 7; seed[4] = 2; seed[5] = 3; seed[6] = 5; seed[7] = 1; seed[8] = 2;
        LLVMFuzzerTestOneInput(seed.data(), seed.size());
    }
    counting = false;
    std::vector<std::string> missing;
#define NAME1(n) if (!covered.count(#n)) missing.push_back(#n);
#define NAME2(n, twin) NAME1(n)
#define NAME4(n, d, s, scalar) NAME1(n)
    FP8KIT_U32_TO_U8(NAME1) FP8KIT_U32_TO_U16(NAME1) FP8KIT_SR_BITS(NAME1) FP8KIT_F32_TO_U8(NAME2)
    FP8KIT_F32_TO_U16(NAME2) FP8KIT_SR_F32(NAME2) FP8KIT_F32X2_TO_U16(NAME2) FP8KIT_U16_TO_U8(NAME1)
    FP8KIT_U16_TO_U32(NAME1) FP8KIT_U16_TO_F32(NAME2) FP8KIT_U8_TO_U32(NAME1) FP8KIT_U8_TO_F32(NAME2)
    FP8KIT_U8_TO_U16(NAME1) FP8KIT_ARRAYS(NAME4)
#if defined(HAVE_QUANT)
    for (const char *fm : {"e4m3", "e5m2"}) {
        for (const char *t : {"f32", "bf16"}) {
            for (const char *w : {"quantize_tensor", "quantize_scaled", "quantize_blocks", "quantize_tiles",
                                  "quantize_blocks_e8m0", "quantize_mx", "dequantize_tensor", "dequantize_blocks",
                                  "dequantize_tiles", "dequantize_blocks_e8m0"}) {
                std::string n = std::string("fp8_") + fm + "_" + w + "_" + t;
                if (!covered.count(n)) missing.push_back(n);
            }
        }
        for (const char *w : {"_scale", "_scale_pow2", "_scale_e8m0"})
            if (!covered.count(std::string("fp8_") + fm + w)) missing.push_back(std::string("fp8_") + fm + w);
    }
    for (const char *n : {"fp8_amax_f32", "fp8_amax_bf16", "fp8_scale_rule_f32", "fp8_scale_rule_pow2_f32",
                          "fp8_scale_rule_e8m0", "fp8_blocks_count"})
        if (!covered.count(n)) missing.push_back(n);
#endif
    if (!missing.empty()) {
        fprintf(stderr, "fuzz_codec: entry points not exercised:");
        for (auto &m : missing) fprintf(stderr, " %s", m.c_str());
        fprintf(stderr, "\n");
        abort();
    }
    fprintf(stderr, "fuzz_codec: %zu entry points exercised%s\n", covered.size(),
#if defined(HAVE_QUANT)
            " (codec/fp8.h and codec/fp8_quant.h)"
#else
            " (codec/fp8.h; codec/fp8_quant.h not present)"
#endif
    );
    return 0;
}
