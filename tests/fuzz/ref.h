/*
 * A straightforward reference for the fuzzer, written from the definitions
 * in the README and the headers' comments, with none of fp8.h's bit tricks:
 * values in double, FP8 encoding by searching the code whose value is
 * nearest (ties to the even code), 16-bit formats by frexp/ldexp/nearbyint.
 * Slow and obvious on purpose.
 */
#ifndef FP8KIT_FUZZ_REF_H
#define FP8KIT_FUZZ_REF_H

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ref {

inline float f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// ---- FP8 formats ----
struct Fmt { int mbits, bias; bool e5; uint32_t maxcode; }; // maxcode: largest finite magnitude code
const Fmt E4M3 = {3, 7, false, 0x7E}, E5M2 = {2, 15, true, 0x7B};

// Value of a magnitude code 0..maxcode (finite).
inline double value(const Fmt &f, uint32_t c)
{
    int e = (int)(c >> f.mbits), m = (int)(c & ((1u << f.mbits) - 1));
    if (e == 0) return std::ldexp((double)m, 1 - f.bias - f.mbits);
    return std::ldexp((double)((1 << f.mbits) + m), e - f.bias - f.mbits);
}

// Round |x| (finite) to the nearest code, ties to the even code, over codes
// 0..maxcode plus the code just past max (its value one step above), which
// stands for "rounds past max". Returns the code (maxcode + 1 = overflow).
inline uint32_t nearest(const Fmt &f, double a)
{
    uint32_t best = 0;
    double over = value(f, f.maxcode) + (value(f, f.maxcode) - value(f, f.maxcode - 1));
    if (a >= over) return f.maxcode + 1; // (and the distances below would lose precision)
    for (uint32_t c = 0; c <= f.maxcode + 1; c++) {
        double v = c <= f.maxcode ? value(f, c) : over;
        double d = std::fabs(v - a), bd = std::fabs((best <= f.maxcode ? value(f, best) : over) - a);
        if (d < bd || (d == bd && (c & 1) == 0 && (best & 1) == 1)) best = c;
    }
    return best;
}

// FP32 (or any exact double) -> FP8, saturating or not, as fp8kit documents.
inline uint8_t to_fp8(const Fmt &f, double x, bool sat)
{
    uint32_t s = std::signbit(x) ? 0x80 : 0;
    if (std::isnan(x)) return sat ? 0x7F : (uint8_t)(0x7F | s);
    uint32_t c = std::isinf(x) ? f.maxcode + 1 : nearest(f, std::fabs(x));
    if (c > f.maxcode) c = sat ? f.maxcode : (f.e5 ? 0x7C : 0x7F);
    return (uint8_t)(c | s);
}

// Stochastic rounding: down = the largest code at or below |x|; up with
// probability the discarded fraction, taken to 32 bits (floor), i.e. when
// floor(frac * 2^32) + rnd >= 2^32. Saturating; NaN -> 0x7F.
inline uint8_t to_fp8_sr(const Fmt &f, double x, uint32_t rnd)
{
    uint32_t s = std::signbit(x) ? 0x80 : 0;
    if (std::isnan(x)) return 0x7F;
    double a = std::fabs(x);
    if (a >= value(f, f.maxcode)) return (uint8_t)(f.maxcode | s);
    uint32_t d = 0;
    while (d + 1 <= f.maxcode && value(f, d + 1) <= a) d++;
    double frac = (a - value(f, d)) / (value(f, d + 1) - value(f, d)); // exact
    uint64_t f32b = (uint64_t)std::floor(std::ldexp(frac, 32));
    return (uint8_t)((f32b + rnd >= (1ull << 32) ? d + 1 : d) | s);
}

// FP8 code -> double value (NaN for NaN codes, Inf for E5M2 Inf).
inline double from_fp8(const Fmt &f, uint8_t c)
{
    uint32_t m = c & 0x7F;
    double sg = (c & 0x80) ? -1.0 : 1.0;
    if (!f.e5 && m == 0x7F) return std::nan("");
    if (f.e5 && m == 0x7C) return sg * INFINITY;
    if (f.e5 && m > 0x7C) return std::nan("");
    return sg * value(f, m);
}

// ---- 16-bit binary formats (BF16: 7 mantissa bits, bias 127; FP16: 10, 15) ----
struct Fmt16 { int mbits, bias, ebits; };
const Fmt16 BF16 = {7, 127, 8}, F16 = {10, 15, 5};

inline double from16(const Fmt16 &f, uint16_t h)
{
    uint32_t emask = (1u << f.ebits) - 1;
    uint32_t e = (h >> f.mbits) & emask, m = h & ((1u << f.mbits) - 1);
    double sg = (h & 0x8000) ? -1.0 : 1.0;
    if (e == emask) return m ? std::copysign(NAN, sg) : sg * INFINITY;
    if (e == 0) return sg * std::ldexp((double)m, 1 - f.bias - f.mbits);
    return sg * std::ldexp((double)((1u << f.mbits) + m), (int)e - f.bias - f.mbits);
}

// Round to nearest even; overflow to Inf; NaN -> the quiet NaN with the sign.
inline uint16_t to16(const Fmt16 &f, double x)
{
    uint32_t s = std::signbit(x) ? 0x8000 : 0;
    uint32_t emask = (1u << f.ebits) - 1;
    if (std::isnan(x)) return (uint16_t)(s | (emask << f.mbits) | (1u << (f.mbits - 1)));
    double a = std::fabs(x);
    if (std::isinf(a)) return (uint16_t)(s | (emask << f.mbits));
    if (a == 0) return (uint16_t)s;
    int E;
    std::frexp(a, &E);                         // a = m 2^E, m in [0.5, 1)
    int e = std::max(E - 1, 1 - f.bias);       // exponent of the binade, at least emin
    double r = std::nearbyint(std::ldexp(a, f.mbits - e)); // FE_TONEAREST: ties to even
    uint32_t code = r < std::ldexp(1.0, f.mbits)
                        ? (uint32_t)r                                        // subnormal (or min normal by carry)
                        : ((uint32_t)(e + f.bias) << f.mbits) + (uint32_t)r - (1u << f.mbits);
    if (code >= (emask << f.mbits)) code = emask << f.mbits; // overflow: Inf
    return (uint16_t)(s | code);
}

// FP32 bits of a double that is exactly representable (or NaN: the quiet NaN with sign).
inline uint32_t f32_bits(double v)
{
    if (std::isnan(v)) return 0x7FC00000u | (std::signbit(v) ? 0x80000000u : 0);
    return bits((float)v);
}

// ---- E8M0 ----
inline uint8_t e8m0(float x, bool up, bool sat)
{
    double a = std::fabs((double)x);
    if (std::isnan(a)) return 0xFF;
    if (std::isinf(a)) return sat ? 0xFE : 0xFF;
    if (a == 0) return 0;
    int E;
    double m = std::frexp(a, &E); // a = m 2^E, m in [0.5, 1): floor(log2 a) = E - 1
    int k = E - 1 + ((up && m != 0.5) ? 1 : 0);
    int c = k + 127;
    if (c < 0) c = 0;
    if (c > 0xFE) c = sat ? 0xFE : 0xFF;
    return (uint8_t)c;
}

inline uint32_t e8m0_to_f32_bits(uint8_t c)
{
    if (c == 0xFF) return 0x7FC00000u;
    return bits((float)std::ldexp(1.0, (int)c - 127));
}

} // namespace ref

#endif
