/*
 * fp8_quant.h - scaled FP8 quantization over caller buffers: per-tensor,
 * per-block, 2-D tiles, and E8M0-scaled blocks (OCP MX and the DeepSeek-V3.1
 * rule), for E4M3 and E5M2, from FP32 and BF16, back to FP32 and BF16.
 *
 * The format carries the values, the scale carries the range: an element is
 * stored as q = fp8(x / s) and read back as q * s. The scale s of a group of
 * elements (a tensor, a block, a tile) comes from its amax:
 *
 *   amax      the largest |x| over the group's FINITE elements. Inf and NaN
 *             are skipped, so they never poison the scale of the finite
 *             values beside them (a group with no finite non-zero element
 *             has amax 0).
 *   FP32 scale (default)  s = amax / max, max = 448 (E4M3) or 57344 (E5M2),
 *             rounded to nearest even FP32; where that is an FP32 subnormal
 *             it is instead rounded up to the next multiple of 2^-149, so
 *             that a block of subnormal inputs keeps the FP8 precision an
 *             FP32 scale allows. amax = 0 gives s = 1.
 *   FP32 power-of-two scale (FP8_QUANT_POW2)  the smallest power of two
 *             (2^-149 .. 2^127) at or above amax / max: multiplying by s or
 *             1/s is exact (outside FP32's subnormal range) and nothing
 *             saturates. amax = 0 gives 1.
 *   E8M0, OCP MX v1.0 rule (FP8_E8M0_OCP)  X = 2^(floor(log2 amax) - emax)
 *             with emax = 8 (E4M3) or 15 (E5M2), the exponent of the
 *             format's largest normal; at least E8M0's smallest, 2^-127,
 *             which is also what amax = 0 gives. amax / X can reach
 *             2^(emax+1) > max, so the top of a block can saturate: the spec
 *             says to clamp to max, and so does the conversion here.
 *   E8M0, round-up rule (FP8_E8M0_CEIL, DeepSeek-V3.1's UE8M0)  X = the
 *             smallest power of two at or above amax / max, at least 2^-127
 *             (which amax = 0 also gives). Nothing saturates; up to one bit
 *             of the format's range is left unused.
 * The scale rules read |amax| and treat an Inf or NaN amax as 0. They
 * compute amax / max once per group in FP64 (exact to 2^-53), so each rule
 * is exact: the FP32 rule is the correctly rounded FP32 quotient.
 *
 * Quantizing multiplies by the inverse scale: q = fp8_*_from_f32((x * p) * r)
 * with r = 1 / (s * p) rounded to FP32 and p a power of two (1 for
 * 2^-64 <= s <= 2^64, else 2^64 or 2^-64) that keeps r finite and normal
 * for every s. For s in [2^-64, 2^64] this is exactly fp8(x * (1/s)). The
 * conversion rounds to nearest even and saturates: finite values past max
 * and +-Inf give +-max, NaN gives the NaN code 0x7F (fp8_e4m3_from_f32).
 * So each finite element comes back within half an FP8 step at |x|/s, times
 * s, unless it saturated; with a scale that is not a power of two, r carries
 * FP32 rounding (2^-24 relative), so an x/s within that of a rounding
 * midpoint may go to either neighbour and the bound is half a step plus
 * 2^-23 |x|. A dequantized FP32 value can overflow to Inf only when amax
 * lies within an FP8 step of FP32's largest (the FP8 rounding carries past
 * it).
 *
 * Dequantizing: FP32 y = fp8_to_f32(q) * s (one FP32 multiplication: exact
 * for power-of-two scales unless the product is an FP32 subnormal); BF16 y
 * is that FP32 product rounded to nearest even BF16, as a GPU epilogue does
 * (FP32 multiply, then cvt.rn.bf16.f32). NaN codes give NaN.
 *
 * Layouts (every buffer is the caller's; nothing is allocated):
 *   tensor  x[0..n), one scale.
 *   blocks  x[0..n) cut into blocks of `block` consecutive elements, the
 *           last one shorter when block does not divide n; scales[b] for
 *           elements [b*block, min((b+1)*block, n)); fp8_blocks_count(n,
 *           block) scales. For 1 x B blocks along each row of a matrix
 *           whose row length B does not divide, use tiles with tile_rows 1.
 *   tiles   a row-major rows x cols matrix, element (i, j) at x[i*ldx + j]
 *           (ldx >= cols), cut into tile_rows x tile_cols tiles (partial at
 *           the right and bottom edges); scales row-major, tile (I, J) at
 *           scales[I * fp8_blocks_count(cols, tile_cols) + J]. q has its own
 *           row stride ldq >= cols. Elements outside the matrix (the stride
 *           padding) are neither read nor written.
 *
 * Every function that takes a size or flag checks it and returns 0, or
 * FP8_QUANT_EINVAL with nothing written when: block, tile_rows or
 * tile_cols is 0; a row stride is below cols; flags or rule is unknown; a
 * given scale is not finite and positive; a pointer that would be used is
 * NULL. n = 0 (or rows or cols 0) is valid and writes nothing, except that
 * a per-tensor quantization still writes its scale, 1.
 *
 * C99, C++11 and CUDA, freestanding like fp8.h (includes only it, calls
 * nothing, no tables). It uses FP32 arithmetic (one multiply per element)
 * and one FP64 division per group, and assumes IEEE arithmetic with
 * round-to-nearest-even and no flush to zero, evaluated in its own
 * precision (FLT_EVAL_METHOD 0: x86-64 SSE, AArch64, CUDA
 * without -use_fast_math / -ftz=true / -prec-div=false). The amax is an
 * integer max on bit patterns; the scale rules are one FP64 division and
 * selects on bit patterns. Only the loops over groups and elements branch.
 */
#ifndef FP8KIT_FP8_QUANT_H
#define FP8KIT_FP8_QUANT_H

#include "fp8.h"

#define FP8_QUANT_EINVAL (-1)

/* flags for the FP32-scale functions */
#define FP8_QUANT_POW2 1u /* power-of-two scales */

/* rules for the E8M0-scale functions */
#define FP8_E8M0_OCP 0u  /* X = 2^(floor(log2 amax) - emax), OCP MX v1.0 */
#define FP8_E8M0_CEIL 1u /* X = 2^ceil(log2(amax / max)), DeepSeek-V3.1 UE8M0 */

#define FP8_MX_BLOCK 32u /* OCP MX v1.0 block size */

/* ------------------------------------------------------------------------ */
/* Formats: fmt 0 is E4M3, 1 is E5M2 (always a constant, folded)            */
/* ------------------------------------------------------------------------ */

/* Bits of max (448 = 0x43E00000, 57344 = 0x47600000); emax = 8 or 15. */
FP8_FN uint32_t fp8kit_q_max_bits(uint32_t fmt) { return fmt ? 0x47600000u : 0x43E00000u; }
FP8_FN uint32_t fp8kit_q_emax(uint32_t fmt) { return fmt ? 15u : 8u; }

FP8_FN uint8_t fp8kit_q_enc(uint32_t fmt, float v)
{
    return fmt ? fp8_e5m2_from_f32(v) : fp8_e4m3_from_f32(v);
}

FP8_FN float fp8kit_q_dec(uint32_t fmt, uint8_t c)
{
    return fmt ? fp8_e5m2_to_f32(c) : fp8_e4m3_to_f32(c);
}

/* Element i of an FP32 (xb NULL) or BF16 (xf NULL) source; the callers pass
   a constant NULL, so the choice folds away. */
FP8_FN uint32_t fp8kit_q_ld(const float *xf, const uint16_t *xb, size_t i)
{
    return xf ? fp8kit_f32_as_bits(xf[i]) : bf16_to_f32_bits(xb[i]);
}

FP8_FN uint32_t fp8kit_max(uint32_t a, uint32_t b)
{
    return fp8kit_sel((uint32_t)(a > b), a, b);
}

/* |x| for finite x, 0 for Inf and NaN: magnitudes of non-negative floats
   order like their bit patterns, so amax is an integer max. */
FP8_FN uint32_t fp8kit_q_fmag(uint32_t x)
{
    uint32_t a = x & 0x7FFFFFFFu;
    return a & fp8kit_mask((uint32_t)(a < 0x7F800000u));
}

/* ------------------------------------------------------------------------ */
/* amax                                                                     */
/* ------------------------------------------------------------------------ */

/* Bits of the amax of rows [0, rows) x columns [0, cols), row stride ld. */
FP8_FN uint32_t fp8kit_q_amax2d(const float *xf, const uint16_t *xb, size_t ld,
                                size_t rows, size_t cols)
{
    uint32_t m = 0;
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++)
            m = fp8kit_max(m, fp8kit_q_fmag(fp8kit_q_ld(xf, xb, i * ld + j)));
    return m;
}

/* max |x[i]| over the finite elements (Inf and NaN skipped); 0 for n = 0. */
FP8_FN float fp8_amax_f32(const float *x, size_t n)
{
    return fp8kit_bits_as_f32(fp8kit_q_amax2d(x, NULL, 0, 1, n));
}

FP8_FN float fp8_amax_bf16(const uint16_t *x, size_t n)
{
    return fp8kit_bits_as_f32(fp8kit_q_amax2d(NULL, x, 0, 1, n));
}

/* ------------------------------------------------------------------------ */
/* Scale rules (amax: a finite, non-negative FP32)                          */
/* ------------------------------------------------------------------------ */

/* amax / max in FP64: exact to 2^-53, so rounding it to FP32 gives the
   correctly rounded FP32 quotient (FP64 has more than 2 * 24 + 2 bits), and
   rounding it up to a multiple of 2^-149 gives the exact ceiling (amax / max
   is an integer over 7 * 2^(emax-2) in units of 2^-149: an integer, or
   at least 2^-16 from one). */
FP8_FN double fp8kit_q_ratio(uint32_t fmt, float amax)
{
    return (double)amax / (double)fp8kit_bits_as_f32(fp8kit_q_max_bits(fmt));
}

/* The FP32 rule: amax / max rounded to nearest even; where that is an FP32
   subnormal, rounded up to the next multiple of 2^-149 instead. Zero amax
   gives 1. */
FP8_FN float fp8_scale_rule_f32(uint32_t fmt, float amax_in)
{
    float amax = fp8kit_bits_as_f32(fp8kit_q_fmag(fp8kit_f32_as_bits(amax_in)));
    double q = fp8kit_q_ratio(fmt, amax);
    double t = (q * 8388608.0) * (double)fp8kit_bits_as_f32(0x7E800000u); /* q * 2^149 */
    double tc = t < 8388608.0 ? t : 8388608.0;                            /* 2^23: 2^-126 */
    uint32_t k = (uint32_t)tc;                                            /* floor */
    uint32_t sb;
    k += (uint32_t)((double)k < tc);                                      /* ceil */
    sb = fp8kit_sel((uint32_t)(t < 8388608.0), k, fp8kit_f32_as_bits((float)q));
    return fp8kit_bits_as_f32(fp8kit_sel((uint32_t)(amax == 0.0f), 0x3F800000u, sb));
}

/* The power-of-two rule: the smallest power of two at or above amax / max
   (exact), at least 2^-149. From the FP32 rule's s: for normal s, carry any
   mantissa bit into the exponent; for subnormal s (an integer multiple of
   2^-149, rounded up), the next power of two of that integer. Rounding to
   nearest never puts s on a power of two below amax / max: amax / max is
   (M / 1.75) 2^k with M an FP32 significand, and the M nearest 1.75 from
   above, 1.75 + 2^-23, already gives 1 + 0.57 2^-23, past the halfway
   point to the next FP32 (the tests check these boundary cases). */
FP8_FN float fp8_scale_rule_pow2_f32(uint32_t fmt, float amax)
{
    uint32_t sb = fp8kit_f32_as_bits(fp8_scale_rule_f32(fmt, amax));
    uint32_t up = (sb + 0x7FFFFFu) & 0xFF800000u;
    uint32_t v = sb - 1u;
    v |= v >> 1; v |= v >> 2; v |= v >> 4; v |= v >> 8; v |= v >> 16;
    return fp8kit_bits_as_f32(fp8kit_sel((uint32_t)(sb < 0x00800000u), v + 1u, up));
}

/* E8M0 scale code by rule. FP8_E8M0_OCP: floor(log2 amax) + 127 - emax,
   which is the biased exponent of amax (0 for zero and subnormals) minus
   emax, at least 0. FP8_E8M0_CEIL: the power-of-two rule's scale as E8M0,
   which is at least 2^-127 (code 0); zero amax gives code 0 too. */
FP8_FN uint8_t fp8_scale_rule_e8m0(uint32_t fmt, uint32_t rule, float amax_in)
{
    float amax = fp8kit_bits_as_f32(fp8kit_q_fmag(fp8kit_f32_as_bits(amax_in)));
    uint32_t e = fp8kit_f32_as_bits(amax) >> 23;
    uint32_t emax = fp8kit_q_emax(fmt);
    uint32_t ocp = (e - emax) & fp8kit_mask((uint32_t)(e > emax));
    uint32_t ceil = fp8_e8m0_from_f32_rp(fp8_scale_rule_pow2_f32(fmt, amax)) &
                    fp8kit_mask((uint32_t)(amax != 0.0f));
    return (uint8_t)fp8kit_sel((uint32_t)(rule != 0), ceil, ocp);
}

/* ------------------------------------------------------------------------ */
/* Generic kernels                                                          */
/* ------------------------------------------------------------------------ */

/* Power of two p that keeps 1 / (s * p) finite and normal for any finite
   positive s (see the top of the file). */
FP8_FN float fp8kit_q_pre(float s)
{
    uint32_t b = fp8kit_f32_as_bits(s);
    return fp8kit_bits_as_f32(fp8kit_sel((uint32_t)(b < 0x1F800000u), 0x5F800000u,
                              fp8kit_sel((uint32_t)(b > 0x5F800000u), 0x1F800000u, 0x3F800000u)));
}

/* Quantize a rows x cols region with scale s: q[i*ldq + j] from x[i*ldx + j]. */
FP8_FN void fp8kit_q_apply(uint32_t fmt, uint8_t *q, size_t ldq, const float *xf,
                           const uint16_t *xb, size_t ldx, size_t rows, size_t cols,
                           float s)
{
    float p = fp8kit_q_pre(s);
    float r = 1.0f / (s * p);
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++)
            q[i * ldq + j] = fp8kit_q_enc(fmt, (fp8kit_bits_as_f32(fp8kit_q_ld(xf, xb, i * ldx + j)) * p) * r);
}

/* Dequantize a rows x cols region with scale s into FP32 (yf) or BF16 (yb). */
FP8_FN void fp8kit_q_unapply(uint32_t fmt, float *yf, uint16_t *yb, size_t ldy,
                             const uint8_t *q, size_t ldq, size_t rows, size_t cols,
                             float s)
{
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) {
            float v = fp8kit_q_dec(fmt, q[i * ldq + j]) * s;
            if (yf)
                yf[i * ldy + j] = v;
            else
                yb[i * ldy + j] = bf16_from_f32(v);
        }
}

FP8_FN size_t fp8kit_q_min(size_t a, size_t b) { return a < b ? a : b; }

/* The number of blocks of `block` elements that cover n: ceil(n / block);
   0 when block is 0. Also the number of tile rows and columns. */
FP8_FN size_t fp8_blocks_count(size_t n, size_t block)
{
    return block ? n / block + (size_t)(n % block != 0) : 0;
}

/* Scale kinds of the generic tile walker: FP32 by flags, or E8M0 by rule. */
#define FP8KIT_Q_F32 0u
#define FP8KIT_Q_E8M0 1u

FP8_FN float fp8kit_q_scale_of(uint32_t fmt, uint32_t kind, uint32_t how, float amax,
                               uint8_t *code)
{
    if (kind == FP8KIT_Q_E8M0) {
        *code = fp8_scale_rule_e8m0(fmt, how, amax);
        return fp8_e8m0_to_f32(*code);
    }
    return how ? fp8_scale_rule_pow2_f32(fmt, amax) : fp8_scale_rule_f32(fmt, amax);
}

/*
 * The walker every quantizer is: tiles of tr x tc over a rows x cols matrix
 * (a 1-D array of n is 1 x n with tiles of 1 x block). For each tile: amax,
 * the scale, and the elements. Scales go to sf (FP32) or se (E8M0).
 */
FP8_FN int fp8kit_q_tiles(uint32_t fmt, uint32_t kind, uint32_t how, uint8_t *q,
                          size_t ldq, float *sf, uint8_t *se, const float *xf,
                          const uint16_t *xb, size_t ldx, size_t rows, size_t cols,
                          size_t tr, size_t tc)
{
    size_t r0, c0, h, w, k = 0;
    if (tr == 0 || tc == 0 || ldx < cols || ldq < cols || how > 1u)
        return FP8_QUANT_EINVAL;
    if (rows == 0 || cols == 0)
        return 0;
    if (!q || (!xf && !xb) || (kind == FP8KIT_Q_F32 ? !sf : !se))
        return FP8_QUANT_EINVAL;
    for (r0 = 0; r0 < rows; r0 += h) {
        h = fp8kit_q_min(tr, rows - r0);
        for (c0 = 0; c0 < cols; c0 += w, k++) {
            size_t xo = r0 * ldx + c0;
            const float *tf = xf ? xf + xo : NULL;
            const uint16_t *tb = xb ? xb + xo : NULL;
            uint8_t code = 0;
            float amax, s;
            w = fp8kit_q_min(tc, cols - c0);
            amax = fp8kit_bits_as_f32(fp8kit_q_amax2d(tf, tb, ldx, h, w));
            s = fp8kit_q_scale_of(fmt, kind, how, amax, &code);
            if (kind == FP8KIT_Q_F32)
                sf[k] = s;
            else
                se[k] = code;
            fp8kit_q_apply(fmt, q + r0 * ldq + c0, ldq, tf, tb, ldx, h, w, s);
        }
    }
    return 0;
}

FP8_FN int fp8kit_q_untiles(uint32_t fmt, uint32_t kind, float *yf, uint16_t *yb,
                            size_t ldy, const uint8_t *q, size_t ldq, const float *sf,
                            const uint8_t *se, size_t rows, size_t cols, size_t tr,
                            size_t tc)
{
    size_t r0, c0, h, w, k = 0;
    if (tr == 0 || tc == 0 || ldy < cols || ldq < cols)
        return FP8_QUANT_EINVAL;
    if (rows == 0 || cols == 0)
        return 0;
    if (!q || (!yf && !yb) || (kind == FP8KIT_Q_F32 ? !sf : !se))
        return FP8_QUANT_EINVAL;
    for (r0 = 0; r0 < rows; r0 += h) {
        h = fp8kit_q_min(tr, rows - r0);
        for (c0 = 0; c0 < cols; c0 += w, k++) {
            size_t yo = r0 * ldy + c0;
            float s = kind == FP8KIT_Q_F32 ? sf[k] : fp8_e8m0_to_f32(se[k]);
            w = fp8kit_q_min(tc, cols - c0);
            fp8kit_q_unapply(fmt, yf ? yf + yo : NULL, yb ? yb + yo : NULL, ldy,
                             q + r0 * ldq + c0, ldq, h, w, s);
        }
    }
    return 0;
}

/* A given scale: finite and positive. */
FP8_FN int fp8kit_q_scale_ok(float s)
{
    uint32_t b = fp8kit_f32_as_bits(s);
    return b != 0 && b < 0x7F800000u;
}

FP8_FN int fp8kit_q_with_scale(uint32_t fmt, uint8_t *q, const float *xf,
                               const uint16_t *xb, size_t n, float s)
{
    if (!fp8kit_q_scale_ok(s))
        return FP8_QUANT_EINVAL;
    if (n == 0)
        return 0;
    if (!q || (!xf && !xb))
        return FP8_QUANT_EINVAL;
    fp8kit_q_apply(fmt, q, n, xf, xb, n, 1, n, s);
    return 0;
}

FP8_FN int fp8kit_q_tensor(uint32_t fmt, uint8_t *q, float *scale, const float *xf,
                           const uint16_t *xb, size_t n, uint32_t flags)
{
    if (!scale || flags > 1u || (n && (!q || (!xf && !xb))))
        return FP8_QUANT_EINVAL;
    if (n == 0) {
        *scale = 1.0f;
        return 0;
    }
    return fp8kit_q_tiles(fmt, FP8KIT_Q_F32, flags, q, n, scale, NULL, xf, xb, n, 1, n, 1, n);
}

FP8_FN int fp8kit_q_untensor(uint32_t fmt, float *yf, uint16_t *yb, const uint8_t *q,
                             size_t n, float s)
{
    if (n == 0)
        return 0;
    if (!q || (!yf && !yb))
        return FP8_QUANT_EINVAL;
    fp8kit_q_unapply(fmt, yf, yb, n, q, n, 1, n, s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The functions, for E4M3 and E5M2 (e4m3 <-> e5m2), FP32 and BF16 sources  */
/* ------------------------------------------------------------------------ */

/*
 * Per-tensor.
 *   fp8_e4m3_quantize_tensor_f32(q, &scale, x, n, flags)
 *       amax of x, scale by the FP32 rule (flags 0) or power-of-two rule
 *       (FP8_QUANT_POW2), q[i] = fp8(x[i] / scale). n = 0 writes scale = 1.
 *   fp8_e4m3_quantize_scaled_f32(q, x, n, scale)
 *       with a scale the caller chose (delayed scaling, calibration):
 *       finite and positive, else FP8_QUANT_EINVAL.
 *   fp8_e4m3_dequantize_tensor_f32(y, q, n, scale), ..._bf16(yb, q, n, scale)
 *
 * Per-block (1-D, `block` consecutive elements, last block partial).
 *   fp8_e4m3_quantize_blocks_f32(q, scales, x, n, block, flags)
 *       scales: fp8_blocks_count(n, block) floats.
 *   fp8_e4m3_dequantize_blocks_f32(y, q, scales, n, block), ..._bf16
 *
 * 2-D tiles of a row-major matrix (DeepSeek-V3's 128 x 128 weight blocks;
 * tile_rows = 1 gives 1 x B blocks along each row).
 *   fp8_e4m3_quantize_tiles_f32(q, ldq, scales, x, ldx, rows, cols,
 *                               tile_rows, tile_cols, flags)
 *       scales: fp8_blocks_count(rows, tile_rows) *
 *               fp8_blocks_count(cols, tile_cols) floats, row-major.
 *   fp8_e4m3_dequantize_tiles_f32(y, ldy, q, ldq, scales, rows, cols,
 *                                 tile_rows, tile_cols), ..._bf16
 *
 * E8M0-scaled blocks (1-D; the scale is one byte, X = 2^(code - 127)).
 *   fp8_e4m3_quantize_blocks_e8m0_f32(q, scales, x, n, block, rule)
 *       rule FP8_E8M0_OCP (OCP MX) or FP8_E8M0_CEIL (DeepSeek-V3.1 UE8M0).
 *   fp8_e4m3_quantize_mx_f32(q, scales, x, n)
 *       OCP MX v1.0: blocks of 32, FP8_E8M0_OCP (MXFP8 E4M3 / E5M2).
 *   fp8_e4m3_dequantize_blocks_e8m0_f32(y, q, scales, n, block), ..._bf16
 *
 * Every quantizer has an _f32 (const float *x) and a _bf16 (const uint16_t
 * *x, BF16 bit patterns) source; a BF16 source is exactly its FP32 value.
 */
#define FP8KIT_QUANT_API(F, fmt, S, src_t, XF, XB)                                              \
    FP8_FN int fp8_##F##_quantize_tensor_##S(uint8_t *q, float *scale, const src_t *x,          \
                                             size_t n, unsigned flags)                          \
    {                                                                                           \
        return fp8kit_q_tensor(fmt, q, scale, XF, XB, n, flags);                                \
    }                                                                                           \
    FP8_FN int fp8_##F##_quantize_scaled_##S(uint8_t *q, const src_t *x, size_t n, float scale) \
    {                                                                                           \
        return fp8kit_q_with_scale(fmt, q, XF, XB, n, scale);                                   \
    }                                                                                           \
    FP8_FN int fp8_##F##_quantize_blocks_##S(uint8_t *q, float *scales, const src_t *x,         \
                                             size_t n, size_t block, unsigned flags)            \
    {                                                                                           \
        return fp8kit_q_tiles(fmt, FP8KIT_Q_F32, flags, q, n, scales, NULL, XF, XB, n, 1, n,    \
                              1, block);                                                        \
    }                                                                                           \
    FP8_FN int fp8_##F##_quantize_tiles_##S(uint8_t *q, size_t ldq, float *scales,              \
                                            const src_t *x, size_t ldx, size_t rows,            \
                                            size_t cols, size_t tile_rows, size_t tile_cols,    \
                                            unsigned flags)                                     \
    {                                                                                           \
        return fp8kit_q_tiles(fmt, FP8KIT_Q_F32, flags, q, ldq, scales, NULL, XF, XB, ldx,      \
                              rows, cols, tile_rows, tile_cols);                                \
    }                                                                                           \
    FP8_FN int fp8_##F##_quantize_blocks_e8m0_##S(uint8_t *q, uint8_t *scales, const src_t *x,  \
                                                  size_t n, size_t block, unsigned rule)        \
    {                                                                                           \
        return fp8kit_q_tiles(fmt, FP8KIT_Q_E8M0, rule, q, n, NULL, scales, XF, XB, n, 1, n, 1, \
                              block);                                                           \
    }                                                                                           \
    FP8_FN int fp8_##F##_quantize_mx_##S(uint8_t *q, uint8_t *scales, const src_t *x, size_t n) \
    {                                                                                           \
        return fp8_##F##_quantize_blocks_e8m0_##S(q, scales, x, n, FP8_MX_BLOCK, FP8_E8M0_OCP); \
    }

#define FP8KIT_DEQUANT_API(F, fmt, D, dst_t, YF, YB)                                            \
    FP8_FN int fp8_##F##_dequantize_tensor_##D(dst_t *y, const uint8_t *q, size_t n,            \
                                               float scale)                                     \
    {                                                                                           \
        return fp8kit_q_untensor(fmt, YF, YB, q, n, scale);                                     \
    }                                                                                           \
    FP8_FN int fp8_##F##_dequantize_blocks_##D(dst_t *y, const uint8_t *q, const float *scales, \
                                               size_t n, size_t block)                          \
    {                                                                                           \
        return fp8kit_q_untiles(fmt, FP8KIT_Q_F32, YF, YB, n, q, n, scales, NULL, 1, n, 1,      \
                                block);                                                         \
    }                                                                                           \
    FP8_FN int fp8_##F##_dequantize_tiles_##D(dst_t *y, size_t ldy, const uint8_t *q,           \
                                              size_t ldq, const float *scales, size_t rows,     \
                                              size_t cols, size_t tile_rows, size_t tile_cols)  \
    {                                                                                           \
        return fp8kit_q_untiles(fmt, FP8KIT_Q_F32, YF, YB, ldy, q, ldq, scales, NULL, rows,     \
                                cols, tile_rows, tile_cols);                                    \
    }                                                                                           \
    FP8_FN int fp8_##F##_dequantize_blocks_e8m0_##D(dst_t *y, const uint8_t *q,                 \
                                                    const uint8_t *scales, size_t n,            \
                                                    size_t block)                               \
    {                                                                                           \
        return fp8kit_q_untiles(fmt, FP8KIT_Q_E8M0, YF, YB, n, q, n, NULL, scales, 1, n, 1,     \
                                block);                                                         \
    }

FP8KIT_QUANT_API(e4m3, 0u, f32, float, x, NULL)
FP8KIT_QUANT_API(e4m3, 0u, bf16, uint16_t, NULL, x)
FP8KIT_QUANT_API(e5m2, 1u, f32, float, x, NULL)
FP8KIT_QUANT_API(e5m2, 1u, bf16, uint16_t, NULL, x)
FP8KIT_DEQUANT_API(e4m3, 0u, f32, float, y, NULL)
FP8KIT_DEQUANT_API(e4m3, 0u, bf16, uint16_t, NULL, y)
FP8KIT_DEQUANT_API(e5m2, 1u, f32, float, y, NULL)
FP8KIT_DEQUANT_API(e5m2, 1u, bf16, uint16_t, NULL, y)

/* Scale rules by format, for callers that manage their own layouts. */
FP8_FN float fp8_e4m3_scale(float amax) { return fp8_scale_rule_f32(0u, amax); }
FP8_FN float fp8_e5m2_scale(float amax) { return fp8_scale_rule_f32(1u, amax); }
FP8_FN float fp8_e4m3_scale_pow2(float amax) { return fp8_scale_rule_pow2_f32(0u, amax); }
FP8_FN float fp8_e5m2_scale_pow2(float amax) { return fp8_scale_rule_pow2_f32(1u, amax); }
FP8_FN uint8_t fp8_e4m3_scale_e8m0(float amax, unsigned rule) { return fp8_scale_rule_e8m0(0u, rule, amax); }
FP8_FN uint8_t fp8_e5m2_scale_e8m0(float amax, unsigned rule) { return fp8_scale_rule_e8m0(1u, rule, amax); }

#endif /* FP8KIT_FP8_QUANT_H */
