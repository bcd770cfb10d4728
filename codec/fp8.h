/*
 * fp8.h - freestanding codec for the OCP 8-bit floating-point formats.
 *
 *   E4M3 ("FN"): bias 7, max 448, min subnormal 2^-9, NaN 0x7F/0xFF, no Inf.
 *   E5M2:        bias 15, max 57344, min subnormal 2^-16, Inf 0x7C/0xFC,
 *                NaN 0x7D..0x7F (and negatives).
 *   E8M0:        the OCP MX scale type, 2^(e-127); 0xFF is NaN; no zero.
 *
 * To and from FP32, BF16 and FP16 (16-bit types are uint16_t bit patterns).
 *
 *   fp8_e4m3_from_f32        round to nearest even, saturating: overflow and
 *                            +-Inf give +-max, any NaN gives 0x7F.
 *                            (Hopper's cvt.rn.satfinite, bit for bit.)
 *   fp8_e4m3_from_f32_nosat  round to nearest even, non-saturating: results
 *                            that round past max give NaN (E4M3) or Inf
 *                            (E5M2) with the input's sign; a NaN keeps its
 *                            sign. (PyTorch's tensor.to(float8_*), bit for bit.)
 *   fp8_e4m3_from_f32_sr     stochastic rounding from 32 random bits,
 *                            saturating.
 *   fp8_e4m3_to_f32          exact. NaN decodes to the quiet NaN with the
 *                            code's sign (0x7FC00000 | sign).
 *   ..._bits                 integer-only twins on bit patterns, for targets
 *                            without an FPU; the float functions wrap them.
 *   ..._n                    array forms over caller buffers.
 *
 * C99, C++11 and CUDA (host and device). Freestanding: includes only
 * <stdint.h> and <stddef.h>, calls nothing, no tables, no global state, and
 * the scalar conversions have no data-dependent branches: every choice is a
 * mask select or a min. The compiler folds the generic helpers' format
 * parameters, which are always constants.
 */
#ifndef FP8KIT_FP8_H
#define FP8KIT_FP8_H

#include <stddef.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define FP8_FN static inline __host__ __device__
#else
#define FP8_FN static inline
#endif

/* The internal helpers (fp8kit_*) are always inlined, so that each public
   function is compiled with its format constants folded, also at -Os (where
   gcc would otherwise keep one generic, larger copy of each helper). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define FP8KIT_FN FP8_FN __attribute__((always_inline))
#else
#define FP8KIT_FN FP8_FN
#endif

#if defined(__cplusplus) || defined(_MSC_VER)
#define FP8_RESTRICT __restrict
#else
#define FP8_RESTRICT restrict
#endif

/* ------------------------------------------------------------------------ */
/* Bit casts and branch-free selection                                      */
/* ------------------------------------------------------------------------ */

FP8KIT_FN uint32_t fp8kit_f32_as_bits(float f)
{
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#elif defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
    uint32_t u;
    __builtin_memcpy(&u, &f, sizeof u); /* folds to a register move */
    return u;
#else
    union { float f; uint32_t u; } v; /* defined behaviour in C99 */
    v.f = f;
    return v.u;
#endif
}

FP8KIT_FN float fp8kit_bits_as_f32(uint32_t u)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#elif defined(__cplusplus) && (defined(__GNUC__) || defined(__clang__))
    float f;
    __builtin_memcpy(&f, &u, sizeof f);
    return f;
#else
    union { uint32_t u; float f; } v;
    v.u = u;
    return v.f;
#endif
}

/*
 * On targets without a conditional move (RISC-V without Zicond), gcc and
 * clang recognise a mask select as a select and lower it to a branch.
 * Hiding the mask's value from the optimizer (an empty asm that "changes"
 * it) keeps the arithmetic; elsewhere it is nothing, so that x86 and ARM
 * keep their cmov/IT forms and loops still vectorize. tests/nobranch.sh
 * checks the generated code.
 */
#if defined(__riscv) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
#define FP8KIT_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define FP8KIT_OPAQUE(v) ((void)0)
#endif

/* All-ones when c is 1, zero when c is 0: turns a comparison into a mask. */
FP8KIT_FN uint32_t fp8kit_mask(uint32_t c)
{
    uint32_t m = 0u - c;
    FP8KIT_OPAQUE(m);
    return m;
}

/* c ? a : b for c in {0, 1}, by masks. */
FP8KIT_FN uint32_t fp8kit_sel(uint32_t c, uint32_t a, uint32_t b)
{
    return b ^ ((a ^ b) & fp8kit_mask(c));
}

/* Where the target has a conditional move or select (x86 cmov, ARM IT and
   csel, CUDA selp) a plain min compiles to it, and vectorizes to one
   vpminud; elsewhere (RISC-V, Thumb-1, unknown targets) it is a mask select. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__CUDA_ARCH__) || \
    (defined(__arm__) && (defined(__thumb2__) || !defined(__thumb__)))
#define FP8KIT_HAVE_CSEL 1
#endif

FP8KIT_FN uint32_t fp8kit_min(uint32_t a, uint32_t b)
{
#if defined(FP8KIT_HAVE_CSEL)
    return a < b ? a : b;
#else
    return fp8kit_sel((uint32_t)(a < b), a, b);
#endif
}

FP8KIT_FN uint32_t fp8kit_umax(uint32_t a, uint32_t b)
{
#if defined(FP8KIT_HAVE_CSEL)
    return a > b ? a : b;
#else
    return fp8kit_sel((uint32_t)(a > b), a, b);
#endif
}

/* ------------------------------------------------------------------------ */
/* Generic narrowing and widening of binary floats                          */
/* ------------------------------------------------------------------------ */

/*
 * Significand of magnitude `a` (a float with im mantissa bits and bias ib),
 * positioned for a target with om mantissa bits and bias ob (ob <= ib).
 * Sets *lead to the target code of the exponent part, *shift to the right
 * shift that leaves the target's mantissa, and returns the significand.
 *
 * Why it works: a target subnormal is a normal number whose significand is
 * shifted right by (1 - e) more places, where e is the would-be biased
 * exponent. So shift = (im - om) + max(1 - e, 0), and the exponent field
 * becomes max(e, 1) - 1 plus the hidden bit, which adding the shifted
 * significand supplies. A rounding carry moves into the exponent field by
 * plain addition, which is exactly how the next binade begins.
 */
FP8KIT_FN uint32_t fp8kit_align(uint32_t a, uint32_t im, uint32_t ib,
                             uint32_t om, uint32_t ob, uint32_t *lead,
                             uint32_t *shift)
{
    uint32_t e_in = a >> im;                   /* biased exponent, 0 for subnormal */
    uint32_t norm = (uint32_t)(e_in != 0);
    uint32_t sig = (a & ((1u << im) - 1u)) | (fp8kit_mask(norm) & (1u << im)); /* hidden bit */
    uint32_t e = e_in + (norm ^ 1u);           /* subnormals share exponent 1 */
    uint32_t k = ib - ob + 1u;                 /* e < k: target subnormal */
    uint32_t extra = (k - e) & fp8kit_mask((uint32_t)(e < k));
    *lead = (e + extra - k) << om;             /* max(e', 1) - 1, in place */
    *shift = im - om + extra;                  /* may exceed 31 for tiny inputs */
    return sig;
}

/*
 * Round magnitude `a` to the target format, ties to even. Returns the code
 * (exponent << om | mantissa), which can exceed the target's largest code:
 * overflow, Inf and NaN inputs give large codes, and the caller's policy
 * clamps them.
 * The same shift as fp8kit_align, without taking the exponent apart: with
 * m = the input exponent clamped to [1, k], subtracting (m - 1) << im
 * leaves, for m < k (a target subnormal), the significand with its hidden
 * bit (or a subnormal input's bits, for m = 1), and for m = k the input
 * with its exponent rebased so that shifting it right by im - om lands the
 * exponent field of the code in place; below k the shift grows by k - m.
 * Ties to even: adding half-1 rounds up what is above half; adding the
 * lowest kept bit as well turns an exact half into a carry only when that
 * bit is odd. (A straight-line form that vectorizes: mins, shifts, adds.)
 */
FP8KIT_FN uint32_t fp8kit_round_rne(uint32_t a, uint32_t im, uint32_t ib,
                                 uint32_t om, uint32_t ob)
{
    uint32_t k = ib - ob + 1u;                             /* e < k: target subnormal */
    uint32_t m = fp8kit_min(fp8kit_umax(a >> im, 1u), k);   /* exponent, in [1, k] */
    uint32_t v = a - ((m - 1u) << im);
    uint32_t s = fp8kit_min(im - om + (k - m), 31u);       /* v < 2^24 when s is cut */
    uint32_t half_m1 = (1u << (s - 1u)) - 1u;
    return (v + half_m1 + ((v >> s) & 1u)) >> s;
}

/*
 * Round magnitude `a` away from zero with probability equal to the
 * discarded fraction: the fraction, scaled to 32 bits, plus 32 random bits
 * carries out of 32 bits exactly that often. The fraction is taken to 32
 * bits (truncated past that), so the probability is exact to 2^-32.
 */
FP8KIT_FN uint32_t fp8kit_round_sr(uint32_t a, uint32_t rnd, uint32_t im,
                                uint32_t ib, uint32_t om, uint32_t ob)
{
    uint32_t lead, s;
    uint32_t sig = fp8kit_align(a, im, ib, om, ob, &lead, &s);
    uint32_t big = (uint32_t)(s > 32u);
    /* s <= 32: the discarded bits, moved to the top of the word (s >= 8);
       s > 32: the fraction is sig / 2^s, which is sig >> (s - 32) in 32 bits */
    uint32_t frac = fp8kit_sel(big, sig >> (fp8kit_min(s - 32u, 31u) & fp8kit_mask(big)),
                               sig << (32u - fp8kit_min(s, 32u)));
    uint32_t carry = (uint32_t)(frac + rnd < frac);
    s = fp8kit_min(s, 31u);
    return lead + (sig >> s) + carry;
}

/*
 * Widen a finite, non-NaN magnitude `mag` (im mantissa bits, bias ib) to a
 * wider format (om, ob) in which every input value is normal. A subnormal
 * input is normalised: shifting its mantissa left until the leading one sits
 * at the hidden-bit position lowers the exponent by the same count. The
 * leading one's index p comes from comparisons, not a count-leading-zeros
 * table. Zero is masked out at the end.
 */
FP8KIT_FN uint32_t fp8kit_widen(uint32_t mag, uint32_t im, uint32_t ib,
                             uint32_t om, uint32_t ob)
{
    uint32_t e = mag >> im;
    uint32_t man = mag & ((1u << im) - 1u);
    uint32_t sub = (uint32_t)(e == 0);
    /* p = sum over k in [1, im) of (man >> k != 0), written out for im <= 10
       so that no compiler keeps a loop (and its branch) */
#define FP8KIT_P(k) ((uint32_t)((k) < im) & (uint32_t)((man >> (k)) != 0))
    uint32_t p = FP8KIT_P(1) + FP8KIT_P(2) + FP8KIT_P(3) + FP8KIT_P(4) + FP8KIT_P(5) +
                 FP8KIT_P(6) + FP8KIT_P(7) + FP8KIT_P(8) + FP8KIT_P(9);
#undef FP8KIT_P
    uint32_t norm_shift = (im - p) & fp8kit_mask(sub);
    uint32_t sig = (man | (~fp8kit_mask(sub) & (1u << im))) << norm_shift; /* hidden bit at im */
    /* exponent field minus one; the hidden bit adds the one back */
    uint32_t lead = (e + sub - norm_shift + (ob - ib - 1u)) << om;
    uint32_t bits = lead + (sig << (om - im));
    return bits & fp8kit_mask((uint32_t)(mag != 0));
}

/* ------------------------------------------------------------------------ */
/* Overflow policies: code -> byte                                          */
/* ------------------------------------------------------------------------ */

/* Saturating: past max (Inf too) clamps to max; NaN gives 0x7F, unsigned. */
FP8KIT_FN uint8_t fp8kit_pack_sat(uint32_t sign, uint32_t code, uint32_t nan,
                               uint32_t max)
{
    return (uint8_t)fp8kit_sel(nan, 0x7Fu, fp8kit_min(code, max) | sign);
}

/* E4M3 non-saturating: every code past max is the NaN code 0x7F, so one
   min covers overflow, Inf and NaN alike; the sign stays. */
FP8KIT_FN uint8_t fp8kit_pack_e4m3_nosat(uint32_t sign, uint32_t code)
{
    return (uint8_t)(fp8kit_min(code, 0x7Fu) | sign);
}

/* E5M2 non-saturating: past max is Inf (0x7C); NaN sets the two mantissa
   bits on top of it (0x7F). The sign stays. */
FP8KIT_FN uint8_t fp8kit_pack_e5m2_nosat(uint32_t sign, uint32_t code,
                                      uint32_t nan)
{
    return (uint8_t)(fp8kit_min(code, 0x7Cu) | (fp8kit_mask(nan) & 3u) | sign);
}

/* ------------------------------------------------------------------------ */
/* FP32 -> FP8 (integer-only, on bit patterns)                              */
/* ------------------------------------------------------------------------ */

#define FP8KIT_F32_SIGN(x) (((x) >> 24) & 0x80u)
#define FP8KIT_F32_NAN(a) ((uint32_t)((a) > 0x7F800000u))

FP8_FN uint8_t fp8_e4m3_from_f32_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_sat(FP8KIT_F32_SIGN(x), fp8kit_round_rne(a, 23, 127, 3, 7),
                           FP8KIT_F32_NAN(a), 0x7Eu);
}

FP8_FN uint8_t fp8_e5m2_from_f32_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_sat(FP8KIT_F32_SIGN(x), fp8kit_round_rne(a, 23, 127, 2, 15),
                           FP8KIT_F32_NAN(a), 0x7Bu);
}

FP8_FN uint8_t fp8_e4m3_from_f32_nosat_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_e4m3_nosat(FP8KIT_F32_SIGN(x),
                                  fp8kit_round_rne(a, 23, 127, 3, 7));
}

FP8_FN uint8_t fp8_e5m2_from_f32_nosat_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_e5m2_nosat(FP8KIT_F32_SIGN(x),
                                  fp8kit_round_rne(a, 23, 127, 2, 15),
                                  FP8KIT_F32_NAN(a));
}

FP8_FN uint8_t fp8_e4m3_from_f32_sr_bits(uint32_t x, uint32_t random_bits)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_sat(FP8KIT_F32_SIGN(x),
                           fp8kit_round_sr(a, random_bits, 23, 127, 3, 7),
                           FP8KIT_F32_NAN(a), 0x7Eu);
}

FP8_FN uint8_t fp8_e5m2_from_f32_sr_bits(uint32_t x, uint32_t random_bits)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_pack_sat(FP8KIT_F32_SIGN(x),
                           fp8kit_round_sr(a, random_bits, 23, 127, 2, 15),
                           FP8KIT_F32_NAN(a), 0x7Bu);
}

/* ------------------------------------------------------------------------ */
/* BF16, FP16 -> FP8 (direct, integer-only; equal to widening to FP32 first) */
/* ------------------------------------------------------------------------ */

#define FP8KIT_H_SIGN(h) (((uint32_t)(h) >> 8) & 0x80u)

FP8_FN uint8_t fp8_e4m3_from_bf16(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_sat(FP8KIT_H_SIGN(h), fp8kit_round_rne(a, 7, 127, 3, 7),
                           (uint32_t)(a > 0x7F80u), 0x7Eu);
}

FP8_FN uint8_t fp8_e5m2_from_bf16(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_sat(FP8KIT_H_SIGN(h), fp8kit_round_rne(a, 7, 127, 2, 15),
                           (uint32_t)(a > 0x7F80u), 0x7Bu);
}

FP8_FN uint8_t fp8_e4m3_from_bf16_nosat(uint16_t h)
{
    return fp8kit_pack_e4m3_nosat(FP8KIT_H_SIGN(h),
                                  fp8kit_round_rne(h & 0x7FFFu, 7, 127, 3, 7));
}

FP8_FN uint8_t fp8_e5m2_from_bf16_nosat(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_e5m2_nosat(FP8KIT_H_SIGN(h),
                                  fp8kit_round_rne(a, 7, 127, 2, 15),
                                  (uint32_t)(a > 0x7F80u));
}

FP8_FN uint8_t fp8_e4m3_from_f16(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_sat(FP8KIT_H_SIGN(h), fp8kit_round_rne(a, 10, 15, 3, 7),
                           (uint32_t)(a > 0x7C00u), 0x7Eu);
}

/* E5M2 is FP16 without its low byte, so rounding to it is rounding the
   16-bit pattern at bit 8, subnormals included (the generic helper, with
   equal biases, reduces to exactly that). */
FP8_FN uint8_t fp8_e5m2_from_f16(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_sat(FP8KIT_H_SIGN(h), fp8kit_round_rne(a, 10, 15, 2, 15),
                           (uint32_t)(a > 0x7C00u), 0x7Bu);
}

FP8_FN uint8_t fp8_e4m3_from_f16_nosat(uint16_t h)
{
    return fp8kit_pack_e4m3_nosat(FP8KIT_H_SIGN(h),
                                  fp8kit_round_rne(h & 0x7FFFu, 10, 15, 3, 7));
}

FP8_FN uint8_t fp8_e5m2_from_f16_nosat(uint16_t h)
{
    uint32_t a = h & 0x7FFFu;
    return fp8kit_pack_e5m2_nosat(FP8KIT_H_SIGN(h),
                                  fp8kit_round_rne(a, 10, 15, 2, 15),
                                  (uint32_t)(a > 0x7C00u));
}

/* ------------------------------------------------------------------------ */
/* FP8 -> FP32, BF16, FP16 (exact; NaN -> quiet NaN with the code's sign)   */
/* ------------------------------------------------------------------------ */

/* E4M3 has one NaN magnitude (0x7F) and no Inf. */
FP8KIT_FN uint32_t fp8kit_e4m3_widen(uint8_t c, uint32_t om, uint32_t ob,
                                  uint32_t qnan, uint32_t sign_bit)
{
    uint32_t mag = c & 0x7Fu;
    uint32_t sign = (uint32_t)(c >> 7) << sign_bit;
    uint32_t v = fp8kit_sel((uint32_t)(mag == 0x7Fu), qnan,
                            fp8kit_widen(mag, 3, 7, om, ob));
    return v | sign;
}

/* E5M2: exponent 31 is Inf (mantissa 0) or NaN; infnan is the target's
   all-ones exponent field. */
FP8KIT_FN uint32_t fp8kit_e5m2_widen(uint8_t c, uint32_t om, uint32_t ob,
                                  uint32_t inf, uint32_t qnan, uint32_t sign_bit)
{
    uint32_t mag = c & 0x7Fu;
    uint32_t sign = (uint32_t)(c >> 7) << sign_bit;
    uint32_t v = fp8kit_widen(mag, 2, 15, om, ob);
    v = fp8kit_sel((uint32_t)(mag >= 0x7Cu),
                   fp8kit_sel((uint32_t)(mag == 0x7Cu), inf, qnan), v);
    return v | sign;
}

FP8_FN uint32_t fp8_e4m3_to_f32_bits(uint8_t c)
{
    return fp8kit_e4m3_widen(c, 23, 127, 0x7FC00000u, 31);
}

FP8_FN uint32_t fp8_e5m2_to_f32_bits(uint8_t c)
{
    return fp8kit_e5m2_widen(c, 23, 127, 0x7F800000u, 0x7FC00000u, 31);
}

FP8_FN uint16_t fp8_e4m3_to_bf16(uint8_t c)
{
    return (uint16_t)fp8kit_e4m3_widen(c, 7, 127, 0x7FC0u, 15);
}

FP8_FN uint16_t fp8_e5m2_to_bf16(uint8_t c)
{
    return (uint16_t)fp8kit_e5m2_widen(c, 7, 127, 0x7F80u, 0x7FC0u, 15);
}

FP8_FN uint16_t fp8_e4m3_to_f16(uint8_t c)
{
    return (uint16_t)fp8kit_e4m3_widen(c, 10, 15, 0x7E00u, 15);
}

/* E5M2 is the top byte of an FP16: a shift, with NaN made the quiet NaN. */
FP8_FN uint16_t fp8_e5m2_to_f16(uint8_t c)
{
    uint32_t h = (uint32_t)c << 8;
    uint32_t nan = (uint32_t)((h & 0x7FFFu) > 0x7C00u);
    return (uint16_t)fp8kit_sel(nan, (h & 0x8000u) | 0x7E00u, h);
}

/* ------------------------------------------------------------------------ */
/* E8M0 (OCP MX scale): 2^(e - 127), 0xFF = NaN, no zero, no sign           */
/* ------------------------------------------------------------------------ */

/* Toward zero: the biased exponent of |x|. Zero and FP32 subnormals give 0
   (2^-127, the smallest E8M0); Inf and NaN give 0xFF. Saturating: a finite
   result of 0xFF, and Inf, become 0xFE; NaN stays 0xFF. */
FP8KIT_FN uint8_t fp8kit_e8m0_pack(uint32_t a, uint32_t e, uint32_t sat)
{
    uint32_t clamp = sat & (uint32_t)(a <= 0x7F800000u) & (uint32_t)(e == 0xFFu);
    return (uint8_t)(e - clamp);
}

FP8_FN uint8_t fp8_e8m0_from_f32_rz_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_e8m0_pack(a, a >> 23, 1u);
}

FP8_FN uint8_t fp8_e8m0_from_f32_rz_nosat_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_e8m0_pack(a, a >> 23, 0u);
}

/* Toward +Inf on |x|: adding 2^23 - 1 carries into the exponent whenever any
   mantissa bit is set, which is ceil(log2 |x|). Magnitudes at or below
   2^-127 (bits 0x00400000) give 0; NaN keeps 0xFF. */
FP8KIT_FN uint32_t fp8kit_e8m0_ceil(uint32_t a)
{
    uint32_t e = fp8kit_min((a + 0x7FFFFFu) >> 23, 0xFFu);
    return e & fp8kit_mask((uint32_t)(a > 0x00400000u));
}

FP8_FN uint8_t fp8_e8m0_from_f32_rp_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_e8m0_pack(a, fp8kit_e8m0_ceil(a), 1u);
}

FP8_FN uint8_t fp8_e8m0_from_f32_rp_nosat_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return fp8kit_e8m0_pack(a, fp8kit_e8m0_ceil(a), 0u);
}

/* e << 23 is 2^(e-127) for e >= 1; e = 0 is the subnormal 2^-127 and
   e = 0xFF the quiet NaN: both are e << 23 with bit 22 set. (One OR of a
   masked bit rather than selects of constants, which clang turns into a
   branch and a constant load when the result goes to a float register.) */
FP8_FN uint32_t fp8_e8m0_to_f32_bits(uint8_t e)
{
    uint32_t special = (uint32_t)(e == 0) | (uint32_t)(e == 0xFF);
    return ((uint32_t)e << 23) | (fp8kit_mask(special) & 0x00400000u);
}

/* ------------------------------------------------------------------------ */
/* FP32 -> BF16, FP16 (round to nearest even; NaN -> quiet NaN with sign)   */
/* ------------------------------------------------------------------------ */

FP8_FN uint16_t bf16_from_f32_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t v = fp8kit_sel(FP8KIT_F32_NAN(a), 0x7FC0u,
                            fp8kit_round_rne(a, 23, 127, 7, 127));
    return (uint16_t)(v | sign);
}

FP8_FN uint16_t f16_from_f32_bits(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t v = fp8kit_min(fp8kit_round_rne(a, 23, 127, 10, 15), 0x7C00u);
    return (uint16_t)(fp8kit_sel(FP8KIT_F32_NAN(a), 0x7E00u, v) | sign);
}

/* BF16 is the top half of an FP32. */
FP8_FN uint32_t bf16_to_f32_bits(uint16_t h) { return (uint32_t)h << 16; }

FP8_FN uint32_t f16_to_f32_bits(uint16_t h)
{
    uint32_t mag = h & 0x7FFFu;
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t v = fp8kit_widen(mag, 10, 15, 23, 127);
    v = fp8kit_sel((uint32_t)(mag >= 0x7C00u),
                   fp8kit_sel((uint32_t)(mag == 0x7C00u), 0x7F800000u, 0x7FC00000u), v);
    return v | sign;
}

/* ------------------------------------------------------------------------ */
/* Float wrappers                                                           */
/* ------------------------------------------------------------------------ */

/*
 * On sm_89 and later (Ada, Hopper, Blackwell) the saturating conversions use
 * the hardware's cvt.rn.satfinite, which tests/gpu_codec.cu shows equal to
 * the software path for every input. Define FP8KIT_NO_HW_CVT to force the
 * software path in device code. The _bits functions are always software.
 */
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 890) && !defined(FP8KIT_NO_HW_CVT)
#define FP8KIT_HW_CVT 1
#endif

/* Two values at once (lo in the low byte), as the hardware packs them. */
FP8_FN uint16_t fp8_e4m3x2_from_f32(float lo, float hi)
{
#if defined(FP8KIT_HW_CVT)
    uint16_t r;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
    return r;
#else
    return (uint16_t)(fp8_e4m3_from_f32_bits(fp8kit_f32_as_bits(lo)) |
                      (fp8_e4m3_from_f32_bits(fp8kit_f32_as_bits(hi)) << 8));
#endif
}

FP8_FN uint16_t fp8_e5m2x2_from_f32(float lo, float hi)
{
#if defined(FP8KIT_HW_CVT)
    uint16_t r;
    asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
    return r;
#else
    return (uint16_t)(fp8_e5m2_from_f32_bits(fp8kit_f32_as_bits(lo)) |
                      (fp8_e5m2_from_f32_bits(fp8kit_f32_as_bits(hi)) << 8));
#endif
}

FP8_FN uint8_t fp8_e4m3_from_f32(float x)
{
#if defined(FP8KIT_HW_CVT)
    return (uint8_t)fp8_e4m3x2_from_f32(x, 0.0f);
#else
    return fp8_e4m3_from_f32_bits(fp8kit_f32_as_bits(x));
#endif
}

FP8_FN uint8_t fp8_e5m2_from_f32(float x)
{
#if defined(FP8KIT_HW_CVT)
    return (uint8_t)fp8_e5m2x2_from_f32(x, 0.0f);
#else
    return fp8_e5m2_from_f32_bits(fp8kit_f32_as_bits(x));
#endif
}
FP8_FN uint8_t fp8_e4m3_from_f32_nosat(float x) { return fp8_e4m3_from_f32_nosat_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint8_t fp8_e5m2_from_f32_nosat(float x) { return fp8_e5m2_from_f32_nosat_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint8_t fp8_e4m3_from_f32_sr(float x, uint32_t random_bits) { return fp8_e4m3_from_f32_sr_bits(fp8kit_f32_as_bits(x), random_bits); }
FP8_FN uint8_t fp8_e5m2_from_f32_sr(float x, uint32_t random_bits) { return fp8_e5m2_from_f32_sr_bits(fp8kit_f32_as_bits(x), random_bits); }
FP8_FN float fp8_e4m3_to_f32(uint8_t c) { return fp8kit_bits_as_f32(fp8_e4m3_to_f32_bits(c)); }
FP8_FN float fp8_e5m2_to_f32(uint8_t c) { return fp8kit_bits_as_f32(fp8_e5m2_to_f32_bits(c)); }
FP8_FN uint8_t fp8_e8m0_from_f32_rz(float x) { return fp8_e8m0_from_f32_rz_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint8_t fp8_e8m0_from_f32_rz_nosat(float x) { return fp8_e8m0_from_f32_rz_nosat_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint8_t fp8_e8m0_from_f32_rp(float x) { return fp8_e8m0_from_f32_rp_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint8_t fp8_e8m0_from_f32_rp_nosat(float x) { return fp8_e8m0_from_f32_rp_nosat_bits(fp8kit_f32_as_bits(x)); }
FP8_FN float fp8_e8m0_to_f32(uint8_t e) { return fp8kit_bits_as_f32(fp8_e8m0_to_f32_bits(e)); }
FP8_FN uint16_t bf16_from_f32(float x) { return bf16_from_f32_bits(fp8kit_f32_as_bits(x)); }
FP8_FN uint16_t f16_from_f32(float x) { return f16_from_f32_bits(fp8kit_f32_as_bits(x)); }
FP8_FN float bf16_to_f32(uint16_t h) { return fp8kit_bits_as_f32(bf16_to_f32_bits(h)); }
FP8_FN float f16_to_f32(uint16_t h) { return fp8kit_bits_as_f32(f16_to_f32_bits(h)); }

/* ------------------------------------------------------------------------ */
/* Array forms: plain loops over branch-free bodies, which gcc and clang    */
/* vectorize (-O3, or -O2 on gcc 12+ and clang).                            */
/* ------------------------------------------------------------------------ */

#define FP8KIT_ARRAY(name, dst_t, src_t, fn)                                   \
    FP8_FN void name(dst_t *FP8_RESTRICT dst, const src_t *FP8_RESTRICT src,   \
                     size_t n)                                                 \
    {                                                                          \
        size_t i;                                                              \
        for (i = 0; i < n; i++)                                                \
            dst[i] = fn(src[i]);                                               \
    }

/*
 * x86 with AVX2 (gcc, clang; not under nvcc): FP32 <-> E4M3/E5M2 arrays take
 * 32 elements a step through explicit vector code (GNU vector extensions and
 * the compilers' own AVX2 builtins; no header). Two steps use the FPU, which
 * makes them short and exact only in the default floating-point
 * environment, so each call reads MXCSR first and falls back to the plain
 * loop under any other rounding mode or with DAZ set (FTZ does not matter):
 *   encoding: a target subnormal is |x| + 2^(emin - om) (the FP32 adder
 *   rounds to nearest even at the target's smallest step: the new low bits
 *   are the code); a target normal is the integer round at bit 23 - om of
 *   |x| with its exponent rebased. NaN and Inf never reach the adder.
 *   decoding: normal codes by integer field moves; a subnormal code is
 *   (2^(emin - om + 23) with the code in its low bits) - 2^(emin - om + 23),
 *   an exact subtraction (no rounding, no denormal operand), so decoding
 *   needs no check; NaN and Inf by mask.
 * Results equal the scalar functions bit for bit (tests/arrays_exhaustive.c
 * checks every FP32 input and every code, in every rounding mode).
 * FP8KIT_NO_SIMD turns this off.
 */
#if defined(__AVX2__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__) && \
    !defined(FP8KIT_NO_SIMD)
#define FP8KIT_AVX2 1
__extension__ typedef uint32_t fp8kit_v8u __attribute__((vector_size(32)));
__extension__ typedef int32_t fp8kit_v8i __attribute__((vector_size(32)));
__extension__ typedef float fp8kit_v8f __attribute__((vector_size(32)));
__extension__ typedef short fp8kit_v16s __attribute__((vector_size(32)));
__extension__ typedef char fp8kit_v32c __attribute__((vector_size(32)));
__extension__ typedef uint8_t fp8kit_v8b __attribute__((vector_size(8)));
__extension__ typedef char fp8kit_v16c __attribute__((vector_size(16)));
__extension__ typedef long long fp8kit_v2q __attribute__((vector_size(16)));
__extension__ typedef short fp8kit_v8hi __attribute__((vector_size(16)));
__extension__ typedef uint16_t fp8kit_v8hu __attribute__((vector_size(16)));
__extension__ typedef long long fp8kit_v4q __attribute__((vector_size(32)));

FP8KIT_FN fp8kit_v8u fp8kit_v8(uint32_t c)
{
    fp8kit_v8u v = {c, c, c, c, c, c, c, c};
    return v;
}

/* min of lanes below 2^31 (signed compare is all AVX2 has) */
FP8KIT_FN fp8kit_v8u fp8kit_v8_min(fp8kit_v8u a, fp8kit_v8u b)
{
#if defined(__clang__)
    return (fp8kit_v8u)__builtin_elementwise_min((fp8kit_v8i)a, (fp8kit_v8i)b);
#else
    return (fp8kit_v8u)__builtin_ia32_pminsd256((fp8kit_v8i)a, (fp8kit_v8i)b);
#endif
}

/* mask ? a : b for lane masks of all ones or zeros: one vpblendvb */
FP8KIT_FN fp8kit_v8u fp8kit_v8_sel(fp8kit_v8u mask, fp8kit_v8u a, fp8kit_v8u b)
{
    return (fp8kit_v8u)__builtin_ia32_pblendvb256((fp8kit_v32c)b, (fp8kit_v32c)a, (fp8kit_v32c)mask);
}

/* sign of d < 0 ? a : b, lane by lane (vblendvps reads only the sign bit,
   so a difference serves as the condition without a compare) */
FP8KIT_FN fp8kit_v8u fp8kit_v8_sel_neg(fp8kit_v8u d, fp8kit_v8u a, fp8kit_v8u b)
{
    return (fp8kit_v8u)__builtin_ia32_blendvps256((fp8kit_v8f)b, (fp8kit_v8f)a, (fp8kit_v8f)d);
}

/* round to nearest and no DAZ: MXCSR's RC field (bits 13-14) and DAZ (bit 6) clear */
FP8KIT_FN int fp8kit_avx2_fenv_ok(void) { return (__builtin_ia32_stmxcsr() & 0x6040u) == 0; }

/* 8 FP32 bit patterns -> 8 codes, one a lane: E5M2 (e5) or E4M3, saturating
   (sat) or not, with the policies of the scalar functions. */
FP8KIT_FN fp8kit_v8u fp8kit_v8_enc(fp8kit_v8u x, uint32_t e5, uint32_t sat)
{
    const uint32_t sh = e5 ? 21u : 20u;               /* 23 - om */
    const uint32_t thr = (e5 ? 113u : 121u) << 23;    /* the target's smallest normal */
    const uint32_t magic = (e5 ? 134u : 141u) << 23;  /* 2^(emin - om + 23): its ulp is the smallest subnormal */
    const uint32_t rebias = (e5 ? 112u : 120u) << 23; /* (127 - ob) << 23 */
    const uint32_t max = sat ? (e5 ? 0x7Bu : 0x7Eu) : (e5 ? 0x7Cu : 0x7Fu);
    fp8kit_v8u a = x & fp8kit_v8(0x7FFFFFFFu);
    fp8kit_v8u nrm = (a - fp8kit_v8(rebias) + fp8kit_v8((1u << (sh - 1u)) - 1u) + ((a >> sh) & fp8kit_v8(1u))) >> sh;
    fp8kit_v8f small = (fp8kit_v8f)fp8kit_v8_min(a, fp8kit_v8(thr));
    fp8kit_v8u sub = (fp8kit_v8u)(small + (fp8kit_v8f)fp8kit_v8(magic)) - fp8kit_v8(magic);
    fp8kit_v8u code = fp8kit_v8_min(fp8kit_v8_sel_neg(a - fp8kit_v8(thr), sub, nrm), fp8kit_v8(max));
    fp8kit_v8u sign = (x >> 24) & fp8kit_v8(0x80u);
    fp8kit_v8u nan = (fp8kit_v8u)((fp8kit_v8i)a > (fp8kit_v8i)fp8kit_v8(0x7F800000u));
    if (sat)
        return fp8kit_v8_sel(nan, fp8kit_v8(0x7Fu), code | sign);
    if (e5)
        return code | (nan & fp8kit_v8(3u)) | sign;
    return code | sign;
}

/* 8 codes (one a lane) -> 8 FP32 bit patterns. Normal codes: the fields
   moved into place and the exponent rebased, in integers. Subnormal codes:
   2^(emin - om + 23) with the code added to its bits is that power plus code
   steps of the target's smallest subnormal; subtracting the power leaves the
   value exactly (FP32 normals only: no denormal operand, whose microcode
   assist would cost more than the whole conversion). */
FP8KIT_FN fp8kit_v8u fp8kit_v8_dec(fp8kit_v8u c, uint32_t e5)
{
    const uint32_t magic = (e5 ? 134u : 141u) << 23;
    fp8kit_v8u m = c & fp8kit_v8(0x7Fu);
    fp8kit_v8u sign = (c & fp8kit_v8(0x80u)) << 24;
    fp8kit_v8u nrm = (m << (e5 ? 21u : 20u)) + fp8kit_v8((e5 ? 112u : 120u) << 23);
    fp8kit_v8u sub = (fp8kit_v8u)((fp8kit_v8f)(m | fp8kit_v8(magic)) - (fp8kit_v8f)fp8kit_v8(magic)) &
                     fp8kit_v8(0x7FFFFFFFu); /* code 0: x - x is -0 when rounding downward */
    fp8kit_v8u v = fp8kit_v8_sel_neg(m - fp8kit_v8(e5 ? 4u : 8u), sub, nrm);
    if (e5) { /* 0x7C: Inf; above: NaN */
        fp8kit_v8u special = fp8kit_v8_sel_neg(fp8kit_v8(0x7Cu) - m, fp8kit_v8(0x7FC00000u), fp8kit_v8(0x7F800000u));
        v = fp8kit_v8_sel_neg(fp8kit_v8(0x7Bu) - m, special, v);
    } else { /* 0x7F: NaN */
        v = fp8kit_v8_sel_neg(fp8kit_v8(0x7Eu) - m, fp8kit_v8(0x7FC00000u), v);
    }
    return v | sign;
}

/* 8 bytes -> 8 lanes */
FP8KIT_FN fp8kit_v8u fp8kit_v8_load8(const uint8_t *p)
{
#if defined(__clang__)
    fp8kit_v8b b;
    __builtin_memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, fp8kit_v8u);
#else
    long long w;
    fp8kit_v2q q;
    __builtin_memcpy(&w, p, sizeof w);
    q[0] = w; /* one vmovq; a memcpy into the vector would go through the stack */
    q[1] = 0;
    return (fp8kit_v8u)__builtin_ia32_pmovzxbd256((fp8kit_v16c)q);
#endif
}

/* 4 x 8 codes (lanes below 256) -> 32 bytes in order */
FP8KIT_FN void fp8kit_v8_store32(uint8_t *d, fp8kit_v8u r0, fp8kit_v8u r1, fp8kit_v8u r2, fp8kit_v8u r3)
{
    fp8kit_v16s lo = __builtin_ia32_packusdw256((fp8kit_v8i)r0, (fp8kit_v8i)r1);
    fp8kit_v16s hi = __builtin_ia32_packusdw256((fp8kit_v8i)r2, (fp8kit_v8i)r3);
    fp8kit_v32c b = __builtin_ia32_packuswb256(lo, hi);
    fp8kit_v8i order = {0, 4, 1, 5, 2, 6, 3, 7}; /* the packs interleave 4-byte groups */
    fp8kit_v8i q = __builtin_ia32_permvarsi256((fp8kit_v8i)b, order);
    __builtin_memcpy(d, &q, 32);
}

/* 8 BF16 patterns -> their FP32 bit patterns (the top halves: exact) */
FP8KIT_FN fp8kit_v8u fp8kit_v8_from_bf16(const uint16_t *p)
{
    fp8kit_v8hi h;
    __builtin_memcpy(&h, p, sizeof h);
#if defined(__clang__)
    return __builtin_convertvector((fp8kit_v8hu)h, fp8kit_v8u) << 16;
#else
    return (fp8kit_v8u)__builtin_ia32_pmovzxwd256(h) << 16;
#endif
}

#if defined(__F16C__)
/* 8 FP16 patterns -> FP32 bit patterns by vcvtph2ps: exact; a NaN keeps its
   sign (all that the encoders read of a NaN) */
FP8KIT_FN fp8kit_v8u fp8kit_v8_from_f16(const uint16_t *p)
{
    fp8kit_v8hi h;
    __builtin_memcpy(&h, p, sizeof h);
    return (fp8kit_v8u)__builtin_ia32_vcvtph2ps256(h);
}

/* 2 x 8 FP32 patterns of FP8 values (FP16 normals, zeros, NaN) -> 16 FP16:
   vcvtps2ph is exact on them (the quiet NaN 0x7FC00000 | s gives 0x7E00 | s) */
FP8KIT_FN void fp8kit_v8_store_f16(uint16_t *d, fp8kit_v8u a, fp8kit_v8u b)
{
    fp8kit_v8hi lo = __builtin_ia32_vcvtps2ph256((fp8kit_v8f)a, 0);
    fp8kit_v8hi hi = __builtin_ia32_vcvtps2ph256((fp8kit_v8f)b, 0);
    __builtin_memcpy(d, &lo, sizeof lo);
    __builtin_memcpy(d + 8, &hi, sizeof hi);
}
#endif

/* 2 x 8 FP32 patterns of FP8 values -> 16 BF16: the top halves (exact) */
FP8KIT_FN void fp8kit_v8_store_bf16(uint16_t *d, fp8kit_v8u a, fp8kit_v8u b)
{
    fp8kit_v16s p = __builtin_ia32_packusdw256((fp8kit_v8i)(a >> 16), (fp8kit_v8i)(b >> 16));
    fp8kit_v4q q = __builtin_ia32_permdi256((fp8kit_v4q)p, 0xD8);
    __builtin_memcpy(d, &q, sizeof q);
}

/* E5M2 -> FP16, 16 codes: the code is the top byte; NaN becomes 0x7E00 | s */
__extension__ typedef short fp8kit_v16hs __attribute__((vector_size(32)));
__extension__ typedef uint8_t fp8kit_v16b __attribute__((vector_size(16)));
__extension__ typedef uint16_t fp8kit_v16hu __attribute__((vector_size(32)));
FP8KIT_FN fp8kit_v16hs fp8kit_v16h(short c)
{
    fp8kit_v16hs v = {c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c};
    return v;
}

FP8KIT_FN void fp8kit_v16_e5m2_to_f16(uint16_t *d, const uint8_t *p)
{
    fp8kit_v16b b;
    fp8kit_v16hs h, mag, nan;
    __builtin_memcpy(&b, p, sizeof b);
#if defined(__clang__)
    h = (fp8kit_v16hs)(__builtin_convertvector(b, fp8kit_v16hu) << 8);
#else
    h = (fp8kit_v16hs)__builtin_ia32_pmovzxbw256((fp8kit_v16c)b) << 8;
#endif
    mag = h & fp8kit_v16h(0x7FFF);
    nan = (fp8kit_v16hs)(mag > fp8kit_v16h(0x7C00));
    h = (h & ~nan) | (((h ^ mag) | fp8kit_v16h(0x7E00)) & nan);
    __builtin_memcpy(d, &h, sizeof h);
}

/* BF16/FP16 sources: widened to FP32 exactly, then the FP32 encoder (the
   scalar functions equal that path: tests/exhaustive.cpp) */
#define FP8KIT_ENC16_N(name, scalar, e5, sat, widen)                                        \
    FP8_FN void name(uint8_t *FP8_RESTRICT dst, const uint16_t *FP8_RESTRICT src, size_t n) \
    {                                                                                        \
        size_t i = 0, nv = n & ~(size_t)31;                                                  \
        if (fp8kit_avx2_fenv_ok()) {                                                         \
            for (; i < nv; i += 32u)                                                         \
                fp8kit_v8_store32(dst + i, fp8kit_v8_enc(widen(src + i), e5, sat),           \
                                  fp8kit_v8_enc(widen(src + i + 8), e5, sat),                \
                                  fp8kit_v8_enc(widen(src + i + 16), e5, sat),               \
                                  fp8kit_v8_enc(widen(src + i + 24), e5, sat));              \
        }                                                                                    \
        for (; i < n; i++)                                                                   \
            dst[i] = scalar(src[i]);                                                         \
    }

/* FP8 -> BF16/FP16: the FP32 decoder, then an exact narrowing */
#define FP8KIT_DEC16_N(name, scalar, e5, store)                                              \
    FP8_FN void name(uint16_t *FP8_RESTRICT dst, const uint8_t *FP8_RESTRICT src, size_t n) \
    {                                                                                        \
        size_t i = 0, nv = n & ~(size_t)15;                                                  \
        for (; i < nv; i += 16u)                                                             \
            store(dst + i, fp8kit_v8_dec(fp8kit_v8_load8(src + i), e5),                      \
                  fp8kit_v8_dec(fp8kit_v8_load8(src + i + 8), e5));                          \
        for (; i < n; i++)                                                                   \
            dst[i] = scalar(src[i]);                                                         \
    }

#define FP8KIT_ENC_N(name, scalar, e5, sat)                                                  \
    FP8_FN void name(uint8_t *FP8_RESTRICT dst, const float *FP8_RESTRICT src, size_t n)    \
    {                                                                                        \
        size_t i = 0, nv = n & ~(size_t)31;                                                  \
        if (fp8kit_avx2_fenv_ok()) {                                                         \
            for (; i < nv; i += 32u) {                                                       \
                fp8kit_v8u x0, x1, x2, x3; /* separately: an array would live on the stack */ \
                __builtin_memcpy(&x0, src + i, sizeof x0);                                   \
                __builtin_memcpy(&x1, src + i + 8, sizeof x1);                               \
                __builtin_memcpy(&x2, src + i + 16, sizeof x2);                              \
                __builtin_memcpy(&x3, src + i + 24, sizeof x3);                              \
                fp8kit_v8_store32(dst + i, fp8kit_v8_enc(x0, e5, sat), fp8kit_v8_enc(x1, e5, sat), \
                                  fp8kit_v8_enc(x2, e5, sat), fp8kit_v8_enc(x3, e5, sat));   \
            }                                                                                \
        }                                                                                    \
        for (; i < n; i++)                                                                   \
            dst[i] = scalar(src[i]);                                                         \
    }

#define FP8KIT_DEC_N(name, scalar, e5)                                                       \
    FP8_FN void name(float *FP8_RESTRICT dst, const uint8_t *FP8_RESTRICT src, size_t n)    \
    {                                                                                        \
        size_t i = 0, nv = n & ~(size_t)7;                                                   \
        for (; i < nv; i += 8u) { /* exact in any rounding mode, DAZ and FTZ too */         \
            fp8kit_v8u v = fp8kit_v8_dec(fp8kit_v8_load8(src + i), e5);                      \
            __builtin_memcpy(dst + i, &v, sizeof v);                                         \
        }                                                                                    \
        for (; i < n; i++)                                                                   \
            dst[i] = scalar(src[i]);                                                         \
    }

FP8KIT_ENC_N(fp8_e4m3_from_f32_n, fp8_e4m3_from_f32, 0u, 1u)
FP8KIT_ENC_N(fp8_e5m2_from_f32_n, fp8_e5m2_from_f32, 1u, 1u)
FP8KIT_ENC_N(fp8_e4m3_from_f32_nosat_n, fp8_e4m3_from_f32_nosat, 0u, 0u)
FP8KIT_ENC_N(fp8_e5m2_from_f32_nosat_n, fp8_e5m2_from_f32_nosat, 1u, 0u)
FP8KIT_DEC_N(fp8_e4m3_to_f32_n, fp8_e4m3_to_f32, 0u)
FP8KIT_DEC_N(fp8_e5m2_to_f32_n, fp8_e5m2_to_f32, 1u)
FP8KIT_ENC16_N(fp8_e4m3_from_bf16_n, fp8_e4m3_from_bf16, 0u, 1u, fp8kit_v8_from_bf16)
FP8KIT_ENC16_N(fp8_e5m2_from_bf16_n, fp8_e5m2_from_bf16, 1u, 1u, fp8kit_v8_from_bf16)
FP8KIT_DEC16_N(fp8_e4m3_to_bf16_n, fp8_e4m3_to_bf16, 0u, fp8kit_v8_store_bf16)
FP8KIT_DEC16_N(fp8_e5m2_to_bf16_n, fp8_e5m2_to_bf16, 1u, fp8kit_v8_store_bf16)
FP8_FN void fp8_e5m2_to_f16_n(uint16_t *FP8_RESTRICT dst, const uint8_t *FP8_RESTRICT src, size_t n)
{
    size_t i = 0, nv = n & ~(size_t)15;
    for (; i < nv; i += 16u)
        fp8kit_v16_e5m2_to_f16(dst + i, src + i);
    for (; i < n; i++)
        dst[i] = fp8_e5m2_to_f16(src[i]);
}
#if defined(__F16C__)
FP8KIT_ENC16_N(fp8_e4m3_from_f16_n, fp8_e4m3_from_f16, 0u, 1u, fp8kit_v8_from_f16)
FP8KIT_DEC16_N(fp8_e4m3_to_f16_n, fp8_e4m3_to_f16, 0u, fp8kit_v8_store_f16)
#else
FP8KIT_ARRAY(fp8_e4m3_from_f16_n, uint8_t, uint16_t, fp8_e4m3_from_f16)
FP8KIT_ARRAY(fp8_e4m3_to_f16_n, uint16_t, uint8_t, fp8_e4m3_to_f16)
#endif
#else
FP8KIT_ARRAY(fp8_e4m3_from_f32_n, uint8_t, float, fp8_e4m3_from_f32)
FP8KIT_ARRAY(fp8_e5m2_from_f32_n, uint8_t, float, fp8_e5m2_from_f32)
FP8KIT_ARRAY(fp8_e4m3_from_f32_nosat_n, uint8_t, float, fp8_e4m3_from_f32_nosat)
FP8KIT_ARRAY(fp8_e5m2_from_f32_nosat_n, uint8_t, float, fp8_e5m2_from_f32_nosat)
FP8KIT_ARRAY(fp8_e4m3_to_f32_n, float, uint8_t, fp8_e4m3_to_f32)
FP8KIT_ARRAY(fp8_e5m2_to_f32_n, float, uint8_t, fp8_e5m2_to_f32)
FP8KIT_ARRAY(fp8_e4m3_from_bf16_n, uint8_t, uint16_t, fp8_e4m3_from_bf16)
FP8KIT_ARRAY(fp8_e5m2_from_bf16_n, uint8_t, uint16_t, fp8_e5m2_from_bf16)
FP8KIT_ARRAY(fp8_e4m3_from_f16_n, uint8_t, uint16_t, fp8_e4m3_from_f16)
FP8KIT_ARRAY(fp8_e4m3_to_bf16_n, uint16_t, uint8_t, fp8_e4m3_to_bf16)
FP8KIT_ARRAY(fp8_e5m2_to_bf16_n, uint16_t, uint8_t, fp8_e5m2_to_bf16)
FP8KIT_ARRAY(fp8_e4m3_to_f16_n, uint16_t, uint8_t, fp8_e4m3_to_f16)
FP8KIT_ARRAY(fp8_e5m2_to_f16_n, uint16_t, uint8_t, fp8_e5m2_to_f16)
#endif
FP8KIT_ARRAY(fp8_e5m2_from_f16_n, uint8_t, uint16_t, fp8_e5m2_from_f16)
FP8KIT_ARRAY(bf16_from_f32_n, uint16_t, float, bf16_from_f32)
FP8KIT_ARRAY(f16_from_f32_n, uint16_t, float, f16_from_f32)

#endif /* FP8KIT_FP8_H */
