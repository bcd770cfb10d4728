/*
 * Tests of codec/fp8_quant.h against a reference written here, in double
 * precision, straight from the definitions: amax over the finite elements,
 * the scale rules, round to nearest even on the FP8 grid with saturation,
 * one rounding of the dequantized product. Random cases (seeded from the
 * time, seed printed; `quant_test SEED` repeats a run) and fixed cases:
 * round trips of values on the scaled grid, and every edge case the header
 * defines. C99; prints one "ok"/"FAIL" line a check.
 */
#include "../codec/fp8_quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

static void report(int ok, const char *what, unsigned long long n)
{
    if (!ok) failures++;
    printf("%s %s (%llu cases)\n", ok ? "ok  " : "FAIL", what, n);
    fflush(stdout);
}

/* ---- random numbers: splitmix64 ---- */
static uint64_t rng_state;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd64() % n) : 0; }
static double rnd_unit(void) { return (double)(rnd64() >> 11) * 0x1p-53; }

/* ---- the formats, as the reference sees them ---- */
typedef struct {
    const char *name;
    int mbits, emin, emax; /* mantissa bits, exponent of the smallest normal, of max */
    double max;
} fmt_t;
static const fmt_t FMT[2] = {{"E4M3", 3, -6, 8, 448.0}, {"E5M2", 2, -14, 15, 57344.0}};

static float f32(uint32_t u) { return fp8kit_bits_as_f32(u); }
static uint32_t bits(float f) { return fp8kit_f32_as_bits(f); }

/* Round v to nearest even on a binary grid with mb mantissa bits and
   smallest normal exponent emin, saturating at maxv (Inf too); NaN stays. */
static double ref_round(double v, int mb, int emin, double maxv)
{
    double a = fabs(v), r;
    int E, e;
    if (isnan(v)) return v;
    if (isinf(v)) return copysign(maxv, v);
    if (a == 0) return v;
    frexp(a, &E);
    e = E - 1 < emin ? emin : E - 1;
    r = nearbyint(ldexp(a, mb - e)); /* default rounding mode: ties to even */
    r = ldexp(r, e - mb);
    return copysign(r > maxv ? maxv : r, v);
}
static double ref_fp8(double v, int f) { return ref_round(v, FMT[f].mbits, FMT[f].emin, FMT[f].max); }
/* FP8 step at magnitude |v| (the spacing of the binade |v| lies in). */
static double ref_step(double v, int f)
{
    int E, e;
    frexp(fabs(v), &E);
    e = fabs(v) == 0 || E - 1 < FMT[f].emin ? FMT[f].emin : E - 1;
    return ldexp(1.0, e - FMT[f].mbits);
}
/* RNE to FP32 and to BF16, in double. */
static double ref_f32(double v)
{
    double r = ref_round(v, 23, -126, INFINITY);
    return fabs(r) > 0x1.fffffep127 ? copysign(INFINITY, r) : r; /* overflow */
}
static double ref_bf16(double v)
{
    double r = ref_round(v, 7, -126, INFINITY);
    return fabs(r) > 0x1.fep127 ? copysign(INFINITY, r) : r; /* overflow */
}

static double ref_amax(const float *x, size_t ld, size_t rows, size_t cols)
{
    double m = 0;
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) {
            double a = fabs((double)x[i * ld + j]);
            if (isfinite(a) && a > m) m = a;
        }
    return m;
}

/* Same value and sign, or both NaN. */
static int same(double a, double b)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static double dec(int f, uint8_t c) { return (double)fp8kit_q_dec((uint32_t)f, c); }

/* ---- scale rules, from their definitions ---- */
enum { K_F32, K_POW2, K_OCP, K_CEIL, K_GIVEN };
static const char *KIND[] = {"FP32 scale", "power-of-two scale", "E8M0 OCP", "E8M0 ceil", "given scale"};

/* The smallest power of two at or above q, at least 2^lo. */
static double pow2_ceil(double q, int lo)
{
    int E;
    if (q <= ldexp(1.0, lo)) return ldexp(1.0, lo);
    frexp(q, &E); /* q = m 2^E, m in [0.5, 1) */
    return q == ldexp(1.0, E - 1) ? q : ldexp(1.0, E);
}

/* Is s the scale the rule gives for amax? (exact: the header promises it) */
static int scale_ok(int kind, int f, double amax, double s)
{
    double q = amax / FMT[f].max; /* exact to 2^-53, which these roundings absorb */
    if (!(s > 0) || !isfinite(s)) return 0;
    if (kind == K_F32) {
        if (amax == 0) return s == 1;
        if (q >= 0x1p-126) return s == ref_f32(q);  /* RNE to FP32 */
        return s == ceil(q * 0x1p149) * 0x1p-149;  /* subnormal: rounded up */
    }
    if (kind == K_POW2) return s == (amax == 0 ? 1 : pow2_ceil(q, -149));
    if (kind == K_OCP) {
        int E, k;
        if (amax == 0) return s == 0x1p-127;
        frexp(amax, &E);
        k = E - 1 - FMT[f].emax; /* floor(log2 amax) - emax */
        return s == ldexp(1.0, k < -127 ? -127 : k);
    }
    if (kind == K_CEIL) return s == pow2_ceil(q, -127);
    return 1; /* given: checked by the caller */
}

/* ---- one case: a layout, a format, a source type, a scale kind ---- */
typedef struct {
    int f, bf16, kind;
    size_t rows, cols, ldx, ldq, tr, tc; /* 1-D: rows 1, tr 1 */
    int layout;                          /* 0 tensor, 1 blocks, 2 tiles */
    float given;                         /* K_GIVEN */
} case_t;

typedef struct {
    unsigned long long elems, groups, midpoint_ties, saturated;
    int bad_scale, bad_elem, bad_bound, bad_deq, bad_bf16, bad_ret, bad_guard;
} tally_t;

#define GUARD 0xA5u

/* Runs the header on x (FP32 values; BF16 cases convert them first) and
   checks every output against the reference. */
static void run_case(const case_t *c, const float *x, tally_t *t)
{
    size_t R = c->rows, C = c->cols, n = R ? (R - 1) * c->ldx + C : 0;
    size_t nq = R ? (R - 1) * c->ldq + C : 0;
    size_t gI = fp8_blocks_count(R, c->tr), gJ = fp8_blocks_count(C, c->tc), ng = gI * gJ;
    size_t i, j, xsz = n + 1, qsz = nq + 8, ssz = ng + 8;
    int f = c->f, rc = 0, rc2 = 0, rc3 = 0;
    float *xs = malloc(xsz * sizeof *xs), *sf = malloc(ssz * sizeof *sf);
    float *yf = malloc(qsz * sizeof *yf);
    uint16_t *xb = malloc(xsz * sizeof *xb), *yb = malloc(qsz * sizeof *yb);
    uint8_t *q = malloc(qsz), *se = malloc(ssz);
    for (i = 0; i < n; i++) {
        xb[i] = bf16_from_f32(x[i]);
        xs[i] = c->bf16 ? bf16_to_f32(xb[i]) : x[i]; /* the values the header sees */
    }
    memset(q, GUARD, qsz);
    memset(se, GUARD, ssz);
    for (i = 0; i < ssz; i++) sf[i] = -7.0f;
    for (i = 0; i < qsz; i++) { yf[i] = -7.0f; yb[i] = 0xDEADu & 0xFFFFu; }

#define Q(F, S, src)                                                                            \
    do {                                                                                        \
        if (c->kind == K_GIVEN)                                                                 \
            rc = fp8_##F##_quantize_scaled_##S(q, src, C, c->given), sf[0] = c->given;           \
        else if (c->kind == K_OCP || c->kind == K_CEIL)                                         \
            rc = (c->kind == K_OCP && c->tc == 32 && !(rnd32() & 1))                            \
                     ? fp8_##F##_quantize_mx_##S(q, se, src, C)                                 \
                     : fp8_##F##_quantize_blocks_e8m0_##S(q, se, src, C, c->tc,                 \
                                                         c->kind == K_OCP ? FP8_E8M0_OCP        \
                                                                          : FP8_E8M0_CEIL);     \
        else if (c->layout == 0)                                                                \
            rc = fp8_##F##_quantize_tensor_##S(q, sf, src, C, c->kind == K_POW2 ? FP8_QUANT_POW2 : 0); \
        else if (c->layout == 1)                                                                \
            rc = fp8_##F##_quantize_blocks_##S(q, sf, src, C, c->tc,                            \
                                               c->kind == K_POW2 ? FP8_QUANT_POW2 : 0);         \
        else                                                                                    \
            rc = fp8_##F##_quantize_tiles_##S(q, c->ldq, sf, src, c->ldx, R, C, c->tr, c->tc,   \
                                              c->kind == K_POW2 ? FP8_QUANT_POW2 : 0);          \
    } while (0)
#define D(F, S, y)                                                                              \
    do {                                                                                        \
        if (c->kind == K_OCP || c->kind == K_CEIL)                                              \
            r = fp8_##F##_dequantize_blocks_e8m0_##S(y, q, se, C, c->tc);                        \
        else if (c->layout == 0)                                                                \
            r = fp8_##F##_dequantize_tensor_##S(y, q, C, sf[0]);                                 \
        else if (c->layout == 1)                                                                \
            r = fp8_##F##_dequantize_blocks_##S(y, q, sf, C, c->tc);                             \
        else                                                                                    \
            r = fp8_##F##_dequantize_tiles_##S(y, c->ldq, q, c->ldq, sf, R, C, c->tr, c->tc);    \
    } while (0)

    if (f == 0) {
        if (c->bf16) Q(e4m3, bf16, xb); else Q(e4m3, f32, xs);
        { int r; D(e4m3, f32, yf); rc2 = r; D(e4m3, bf16, yb); rc3 = r; }
    } else {
        if (c->bf16) Q(e5m2, bf16, xb); else Q(e5m2, f32, xs);
        { int r; D(e5m2, f32, yf); rc2 = r; D(e5m2, bf16, yb); rc3 = r; }
    }
#undef Q
#undef D
    t->bad_ret += rc != 0 || rc2 != 0 || rc3 != 0;

    /* nothing written past the outputs, nor into the row padding */
    for (i = nq; i < qsz; i++) t->bad_guard += q[i] != GUARD;
    for (i = 0; i + 1 < R; i++)
        for (j = C; j < c->ldq; j++) t->bad_guard += q[i * c->ldq + j] != GUARD;
    if (c->kind == K_OCP || c->kind == K_CEIL) {
        for (i = ng; i < ssz; i++) t->bad_guard += se[i] != GUARD;
    } else if (c->kind != K_GIVEN) {
        size_t ns = c->layout == 0 ? 1 : ng;
        for (i = ns; i < ssz; i++) t->bad_guard += sf[i] != -7.0f;
    }

    for (i = 0; i < gI; i++)
        for (j = 0; j < gJ; j++) {
            size_t r0 = i * c->tr, c0 = j * c->tc, k = i * gJ + j, a, b;
            size_t h = R - r0 < c->tr ? R - r0 : c->tr, w = C - c0 < c->tc ? C - c0 : c->tc;
            double amax = ref_amax(xs + r0 * c->ldx + c0, c->ldx, h, w);
            int pow2;
            double s = (c->kind == K_OCP || c->kind == K_CEIL) ? (double)fp8_e8m0_to_f32(se[k])
                                                               : (double)sf[c->layout == 0 ? 0 : k];
            t->groups++;
            frexp(s, &pow2);
            pow2 = s == ldexp(1.0, pow2 - 1);
            if (!scale_ok(c->kind, f, amax, s)) {
                if (t->bad_scale++ < 5)
                    printf("     %s %s: amax %a gives scale %a\n", FMT[f].name, KIND[c->kind], amax, s);
            }
            for (a = r0; a < r0 + h; a++)
                for (b = c0; b < c0 + w; b++) {
                    double xv = xs[a * c->ldx + b], v = xv / s, r = ref_fp8(v, f);
                    uint8_t code = q[a * c->ldq + b];
                    double d = dec(f, code), y = yf[a * c->ldq + b];
                    double yh = (double)bf16_to_f32(yb[a * c->ldq + b]);
                    t->elems++;
                    if (!same(d, r)) {
                        /* only where v sits on a rounding midpoint up to the
                           FP32 rounding of 1/s (2^-24 relative): both
                           neighbours are then equally right */
                        if (isfinite(v) && fabs(fabs(d - v) - fabs(r - v)) <= 0x1p-21 * fabs(v) &&
                            fabs(d - r) <= ref_step(v, f) * 1.0000001)
                            t->midpoint_ties++;
                        else if (t->bad_elem++ < 5)
                            printf("     %s %s: x %a / s %a -> %a, reference %a\n", FMT[f].name,
                                   KIND[c->kind], xv, s, d, r);
                    }
                    if (isfinite(xv) && fabs(v) > FMT[f].max) t->saturated++;
                    /* the bound: within half a step times the scale
                       (exact for power-of-two scales; otherwise plus the
                       FP32 rounding of 1/s), unless saturated or past FP32 */
                    if (isfinite(xv) && fabs(v) <= FMT[f].max && fabs(d * s) <= 0x1.fffffep127 &&
                        !(fabs(y - xv) <= 0.5 * ref_step(v, f) * s + 0x1p-149 +
                                              (pow2 ? 0 : 0x1p-23 * fabs(xv))))
                        if (t->bad_bound++ < 5)
                            printf("     %s %s: x %a comes back as %a (s %a)\n", FMT[f].name,
                                   KIND[c->kind], xv, y, s);
                    /* dequantized: d * s rounded once, then once more to BF16 */
                    if (!same(y, ref_f32(d * s)) && t->bad_deq++ < 5)
                        printf("     %s: dequant %a x %a gives FP32 %a\n", FMT[f].name, d, s, y);
                    if (!same(yh, ref_bf16(y)) && t->bad_bf16++ < 5)
                        printf("     %s: dequant %a x %a gives BF16 %a\n", FMT[f].name, d, s, yh);
                }
        }
    free(xs); free(sf); free(yf); free(xb); free(yb); free(q); free(se);
}

/* ---- data: wide dynamic range, around a random magnitude ---- */
static float rnd_value(int base, int spread, int specials)
{
    uint32_t u = rnd32() % 1000;
    double m;
    if (specials && u < 8) {
        switch (u) {
        case 0: return 0.0f;
        case 1: return -0.0f;
        case 2: return f32(0x7F800000u);
        case 3: return f32(0xFF800000u);
        case 4: return f32(0x7FC00000u);
        case 5: return f32(0xFFC00001u);
        case 6: return f32(rnd32() & 0x807FFFFFu); /* FP32 subnormal */
        default: return f32(rnd32() & 0x0FFFFFFFu);
        }
    }
    if (u < 20) return u & 1 ? -0.0f : 0.0f;
    m = ldexp(1 + rnd_unit(), base - (int)rnd_below((size_t)spread + 1));
    return (float)(rnd32() & 1 ? -m : m); /* rounds; overflow gives Inf, underflow 0 */
}

static void random_cases(int ncases)
{
    tally_t t;
    int it;
    memset(&t, 0, sizeof t);
    for (it = 0; it < ncases; it++) {
        case_t c;
        size_t n, i;
        float *x;
        int base = (int)rnd_below(290) - 155, spread = (int)rnd_below(41);
        static const size_t common[] = {16, 32, 64, 128, 256};
        memset(&c, 0, sizeof c);
        c.f = (int)(rnd32() & 1);
        c.bf16 = (int)(rnd32() & 1);
        c.kind = (int)rnd_below(5);
        c.layout = c.kind == K_GIVEN ? 0 : (c.kind == K_OCP || c.kind == K_CEIL) ? 1 : (int)rnd_below(3);
        c.rows = 1;
        c.cols = rnd_below(4) == 0 ? rnd_below(8) : rnd_below(3000);
        c.tr = 1;
        c.tc = rnd32() & 1 ? common[rnd_below(5)] : 1 + rnd_below(300);
        if (c.kind == K_OCP && rnd32() & 1) c.tc = 32;
        if (c.layout == 0) c.tc = c.cols ? c.cols : 1;
        if (c.layout == 2) {
            c.rows = rnd_below(70);
            c.cols = rnd_below(70);
            c.tr = 1 + rnd_below(40);
            c.tc = 1 + rnd_below(40);
        }
        c.ldx = c.cols + (c.layout == 2 ? rnd_below(5) : 0);
        c.ldq = c.cols + (c.layout == 2 ? rnd_below(5) : 0);
        if (c.kind == K_GIVEN) /* any finite positive scale, tiny and huge too */
            c.given = f32(1u + rnd32() % 0x7F7FFFFFu);
        n = c.rows ? (c.rows - 1) * c.ldx + c.cols : 0;
        x = malloc((n + 1) * sizeof *x);
        for (i = 0; i < n; i++) x[i] = rnd_value(base, spread, (int)(it & 1));
        /* stride padding: values that would change every scale if read */
        for (i = 0; i + 1 < c.rows; i++) {
            size_t j;
            for (j = c.cols; j < c.ldx; j++) x[i * c.ldx + j] = 3e38f;
        }
        run_case(&c, x, &t);
        free(x);
    }
    printf("     %llu elements in %llu groups; %llu on a rounding midpoint up to FP32 rounding of 1/s, %llu saturated\n",
           t.elems, t.groups, t.midpoint_ties, t.saturated);
    report(t.bad_ret == 0, "random cases: every call returns 0", (unsigned long long)ncases);
    report(t.bad_scale == 0, "random cases: every scale is its rule's (amax over finite elements)", t.groups);
    report(t.bad_elem == 0, "random cases: every code is the reference's RNE of x / s, saturating", t.elems);
    report(t.bad_bound == 0, "random cases: |dequant - x| <= half an FP8 step x scale (unsaturated)", t.elems);
    report(t.bad_deq == 0 && t.bad_bf16 == 0, "random cases: FP32 dequant is q*s rounded once; BF16 is that rounded again", t.elems);
    report(t.bad_guard == 0, "random cases: nothing written past the outputs or into row padding", (unsigned long long)ncases);
    report(t.midpoint_ties * 1000 < t.elems + 1000, "random cases: midpoint departures are rare (< 0.1%)", t.elems);
}

/* ---- values already on the scaled grid come back exactly ---- */
static void grid_round_trips(void)
{
    unsigned long long cases = 0;
    int bad = 0, it;
    for (it = 0; it < 2000; it++) {
        int f = it & 1, kind = (it >> 1) % 4, E;
        size_t n = 1 + rnd_below(700), block = 1 + rnd_below(200), i, nb;
        float s;
        float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *sc = malloc(n * sizeof *sc);
        uint8_t *code = malloc(n), *q = malloc(n), *se = malloc(n);
        if (kind >= 2) { /* E8M0: a power of two */
            E = (int)rnd_below(200) - 110;
            s = (float)ldexp(1.0, E);
        } else { /* any scale with <= 20 significant bits, so that g * s is exact */
            s = f32(((rnd32() % 200u + 27u) << 23) | (rnd32() & 0x7FFFF0u));
            if (kind == 1) s = f32(bits(s) & 0xFF800000u);
        }
        for (i = 0; i < n; i++) {
            uint8_t cd = (uint8_t)rnd32();
            double g;
            if ((f == 0 && (cd & 0x7F) == 0x7F) || (f == 1 && (cd & 0x7F) >= 0x7C)) cd &= 0x80; /* no NaN/Inf */
            if (i % block == 0) cd = (uint8_t)((cd & 0x80) | (f ? 0x7B : 0x7E)); /* each block holds +-max */
            g = dec(f, cd);
            x[i] = (float)(g * s);
            code[i] = cd;
            if ((double)x[i] != g * s && bad++ < 5) printf("     premise: %a x %a inexact\n", g, (double)s);
        }
        nb = fp8_blocks_count(n, block);
        if (f == 0) {
            if (kind < 2) fp8_e4m3_quantize_blocks_f32(q, sc, x, n, block, kind ? FP8_QUANT_POW2 : 0);
            else fp8_e4m3_quantize_blocks_e8m0_f32(q, se, x, n, block, kind == 2 ? FP8_E8M0_OCP : FP8_E8M0_CEIL);
            if (kind < 2) fp8_e4m3_dequantize_blocks_f32(y, q, sc, n, block);
            else fp8_e4m3_dequantize_blocks_e8m0_f32(y, q, se, n, block);
        } else {
            if (kind < 2) fp8_e5m2_quantize_blocks_f32(q, sc, x, n, block, kind ? FP8_QUANT_POW2 : 0);
            else fp8_e5m2_quantize_blocks_e8m0_f32(q, se, x, n, block, kind == 2 ? FP8_E8M0_OCP : FP8_E8M0_CEIL);
            if (kind < 2) fp8_e5m2_dequantize_blocks_f32(y, q, sc, n, block);
            else fp8_e5m2_dequantize_blocks_e8m0_f32(y, q, se, n, block);
        }
        for (i = 0; i < nb; i++) {
            double got = kind < 2 ? (double)sc[i] : (double)fp8_e8m0_to_f32(se[i]);
            if (got != (double)s && bad++ < 5)
                printf("     %s kind %d: block scale %a, built with %a\n", FMT[f].name, kind, got, (double)s);
        }
        for (i = 0; i < n; i++) {
            /* +-0 may come back as either zero code; the value is what counts */
            if ((!same(dec(f, q[i]), dec(f, code[i])) || !same((double)y[i], (double)x[i])) && bad++ < 5)
                printf("     %s kind %d: %a (code %02x) comes back as %a (code %02x)\n", FMT[f].name, kind,
                       (double)x[i], code[i], (double)y[i], q[i]);
        }
        cases += n;
        free(x); free(y); free(sc); free(code); free(q); free(se);
    }
    report(bad == 0, "values on the scaled grid: same scale, same codes, exact round trip (FP32, pow2, E8M0 OCP and ceil)", cases);
}

/* ---- the scale rules over every binade, at the mantissas where they turn ---- */
static void scale_rules(void)
{
    static const uint32_t mant[] = {0, 1, 2, 3, 0x3FFFFF, 0x400000, 0x400001, 0x5FFFFD, 0x5FFFFE,
                                    0x5FFFFF, 0x600000, 0x600001, 0x600002, 0x600003, 0x7FFFFE, 0x7FFFFF};
    unsigned long long cases = 0;
    int bad = 0, f;
    uint32_t e, m, sign;
    for (f = 0; f < 2; f++)
        for (e = 0; e < 255; e++)
            for (m = 0; m < sizeof mant / sizeof mant[0]; m++)
                for (sign = 0; sign < 2; sign++) {
                    float a = f32(sign << 31 | e << 23 | mant[m]);
                    double am = fabs((double)a);
                    float s = f ? fp8_e5m2_scale(a) : fp8_e4m3_scale(a);
                    float p = f ? fp8_e5m2_scale_pow2(a) : fp8_e4m3_scale_pow2(a);
                    uint8_t o = f ? fp8_e5m2_scale_e8m0(a, FP8_E8M0_OCP) : fp8_e4m3_scale_e8m0(a, FP8_E8M0_OCP);
                    uint8_t c = f ? fp8_e5m2_scale_e8m0(a, FP8_E8M0_CEIL) : fp8_e4m3_scale_e8m0(a, FP8_E8M0_CEIL);
                    int ok = scale_ok(K_F32, f, am, s) && scale_ok(K_POW2, f, am, p) &&
                             scale_ok(K_OCP, f, am, fp8_e8m0_to_f32(o)) &&
                             scale_ok(K_CEIL, f, am, fp8_e8m0_to_f32(c));
                    cases += 4;
                    if (!ok && bad++ < 5)
                        printf("     %s amax %a: scales %a %a 2^%d 2^%d\n", FMT[f].name, am, (double)s,
                               (double)p, o - 127, c - 127);
                }
    /* Inf and NaN as amax count as 0 */
    for (f = 0; f < 2; f++) {
        float inf = f32(0x7F800000u), nan = f32(0x7FC00000u);
        bad += fp8_e4m3_scale(inf) != 1.0f || fp8_e5m2_scale(nan) != 1.0f || fp8_e4m3_scale_pow2(nan) != 1.0f ||
               fp8_e5m2_scale_e8m0(inf, FP8_E8M0_OCP) != 0 || fp8_e4m3_scale_e8m0(nan, FP8_E8M0_CEIL) != 0;
    }
    report(bad == 0, "scale rules (FP32, power of two, E8M0 OCP and ceil) for every binade of amax, at the mantissas where they turn", cases);
}

/* ---- amax over buffers: finite elements only ---- */
static void amax_buffers(void)
{
    int bad = 0, it;
    for (it = 0; it < 500; it++) {
        size_t n = rnd_below(600), i;
        float x[600];
        uint16_t h[600];
        for (i = 0; i < n; i++) {
            x[i] = rnd_value((int)rnd_below(290) - 155, 40, 1);
            h[i] = bf16_from_f32(x[i]);
        }
        if (it % 7 == 0) /* only Inf and NaN */
            for (i = 0; i < n; i++) x[i] = f32(i & 1 ? 0x7F800000u : 0xFFC00000u), h[i] = bf16_from_f32(x[i]);
        {
            double a = (double)fp8_amax_f32(x, n), b = (double)fp8_amax_bf16(h, n);
            float xb[600];
            for (i = 0; i < n; i++) xb[i] = bf16_to_f32(h[i]);
            bad += !same(a, ref_amax(x, n, 1, n)) || !same(b, ref_amax(xb, n, 1, n));
        }
    }
    report(bad == 0, "amax of FP32 and BF16 buffers: largest |x| over finite elements, +0 for none (n = 0, all Inf/NaN)", 500);
}

/* ---- edge cases ---- */
static void edge_cases(void)
{
    int f, bad;
    /* all-zero blocks: zeros, and a finite scale (1; E8M0 2^-127), never NaN */
    bad = 0;
    for (f = 0; f < 2; f++) {
        float x[100], y[100], sc[8], st;
        uint8_t q[100], se[8];
        uint16_t yb[100];
        int i, k;
        for (i = 0; i < 100; i++) x[i] = i < 40 || i >= 64 ? (i & 1 ? -0.0f : 0.0f) : (float)i;
        /* blocks 0 (elements 0..31) is all zero, block 1 (32..63) is not, 2..3 zero */
        for (k = 0; k < 3; k++) {
            if (k == 0) { if (f) fp8_e5m2_quantize_blocks_f32(q, sc, x, 100, 32, 0); else fp8_e4m3_quantize_blocks_f32(q, sc, x, 100, 32, 0); }
            if (k == 1) { if (f) fp8_e5m2_quantize_blocks_f32(q, sc, x, 100, 32, FP8_QUANT_POW2); else fp8_e4m3_quantize_blocks_f32(q, sc, x, 100, 32, FP8_QUANT_POW2); }
            if (k == 2) {
                if (f) fp8_e5m2_quantize_mx_f32(q, se, x, 100); else fp8_e4m3_quantize_mx_f32(q, se, x, 100);
                for (i = 0; i < 4; i++) sc[i] = fp8_e8m0_to_f32(se[i]);
                bad += se[0] != 0 || se[2] != 0 || se[3] != 0;
            }
            bad += sc[0] != (k == 2 ? 0x1p-127f : 1.0f) || sc[2] != sc[0] || sc[3] != sc[0];
            if (f) fp8_e5m2_dequantize_blocks_f32(y, q, sc, 100, 32); else fp8_e4m3_dequantize_blocks_f32(y, q, sc, 100, 32);
            if (f) fp8_e5m2_dequantize_blocks_bf16(yb, q, sc, 100, 32); else fp8_e4m3_dequantize_blocks_bf16(yb, q, sc, 100, 32);
            for (i = 0; i < 100; i++)
                if (i < 32 || i >= 64)
                    bad += q[i] != (i & 1 ? 0x80 : 0) || !same((double)y[i], (double)x[i]) ||
                           yb[i] != (i & 1 ? 0x8000 : 0);
        }
        /* a whole tensor of zeros, and of zeros with Inf and NaN */
        x[5] = f32(0x7F800000u);
        x[6] = f32(0x7FC00000u);
        for (i = 32; i < 64; i++) x[i] = 0;
        if (f) fp8_e5m2_quantize_tensor_f32(q, &st, x, 100, 0); else fp8_e4m3_quantize_tensor_f32(q, &st, x, 100, 0);
        bad += st != 1.0f || q[5] != (f ? 0x7B : 0x7E) || q[6] != 0x7F || q[7] != 0x80;
    }
    report(bad == 0, "all-zero blocks and tensors: zero codes (sign kept), finite scale 1 (E8M0: 2^-127), zeros back", 12);

    /* subnormal FP32 blocks keep the FP8 precision an FP32 scale allows:
       the scale is a subnormal (not 0, not 1), and every element is the
       reference's rounding at that scale, so the block's top elements
       keep full FP8 precision */
    {
        tally_t t;
        int it, worst_bad = 0;
        memset(&t, 0, sizeof t);
        for (it = 0; it < 400; it++) {
            case_t c;
            float x[256], sc;
            uint8_t qq[256];
            size_t i, n = 1 + rnd_below(256);
            int top = (int)rnd_below(23); /* amax around 2^(top-149) */
            memset(&c, 0, sizeof c);
            c.f = it & 1; c.bf16 = 0; c.kind = (it >> 1) % 4; c.layout = c.kind >= K_OCP ? 1 : 0;
            c.rows = 1; c.cols = n; c.ldx = c.ldq = n; c.tr = 1; c.tc = c.layout ? 32 : n;
            for (i = 0; i < n; i++) x[i] = f32((rnd32() & 0x80000000u) | (rnd32() & ((2u << top) - 1u)));
            x[0] = f32(1u << top);
            run_case(&c, x, &t);
            if (c.kind == K_F32) {
                if (c.f) fp8_e5m2_quantize_tensor_f32(qq, &sc, x, n, 0); else fp8_e4m3_quantize_tensor_f32(qq, &sc, x, n, 0);
                /* amax element within half an FP8 step of the normal range */
                {
                    double am = ref_amax(x, n, 1, n), back = dec(c.f, qq[0]) * (double)sc;
                    int ia = 0;
                    for (i = 0; i < n; i++) if (fabs((double)x[i]) == am) ia = (int)i;
                    back = dec(c.f, qq[ia]) * (double)sc;
                    worst_bad += !(sc > 0 && sc < 0x1p-126f) ||
                                 fabs(fabs(back) - am) > am * ldexp(1.0, -FMT[c.f].mbits - 1) + 0x1p-149;
                }
            }
        }
        report(t.bad_elem + t.bad_scale + t.bad_bound + t.bad_deq + t.bad_bf16 + worst_bad == 0,
               "subnormal FP32 blocks: subnormal scale, every element the reference's rounding, amax to FP8 precision",
               t.elems);
    }

    /* Inf and NaN leave the rest of their block exactly as without them */
    bad = 0;
    {
        int it;
        for (it = 0; it < 400; it++) {
            float x[130], x0[130], sc[8], sc0[8];
            uint8_t q[130], q0[130], se[8], se0[8];
            int i, kind = it % 3, ff = (it / 3) & 1;
            for (i = 0; i < 130; i++) x[i] = x0[i] = rnd_value((int)rnd_below(60) - 30, 20, 0);
            for (i = 0; i < 6; i++) {
                int k = (int)rnd_below(130);
                uint32_t sp[4] = {0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFFFFFFFu};
                x[k] = f32(sp[rnd32() & 3]);
                x0[k] = 0.0f;
            }
#define RUN(F)                                                                                   \
    do {                                                                                         \
        if (kind == 0) { fp8_##F##_quantize_blocks_f32(q, sc, x, 130, 32, 0); fp8_##F##_quantize_blocks_f32(q0, sc0, x0, 130, 32, 0); } \
        if (kind == 1) { fp8_##F##_quantize_tensor_f32(q, sc, x, 130, FP8_QUANT_POW2); fp8_##F##_quantize_tensor_f32(q0, sc0, x0, 130, FP8_QUANT_POW2); } \
        if (kind == 2) { fp8_##F##_quantize_mx_f32(q, se, x, 130); fp8_##F##_quantize_mx_f32(q0, se0, x0, 130); } \
    } while (0)
            if (ff) RUN(e5m2); else RUN(e4m3);
#undef RUN
            for (i = 0; i < (kind == 1 ? 1 : 5); i++)
                bad += kind == 2 ? se[i] != se0[i] : sc[i] != sc0[i] || !(sc[i] > 0 && sc[i] < 3e38f);
            for (i = 0; i < 130; i++) {
                uint32_t b = bits(x[i]);
                if ((b & 0x7FFFFFFFu) > 0x7F800000u) bad += q[i] != 0x7F; /* NaN */
                else if ((b & 0x7FFFFFFFu) == 0x7F800000u) bad += q[i] != ((b >> 24 & 0x80) | (ff ? 0x7B : 0x7E)); /* +-max */
                else bad += q[i] != q0[i];
            }
        }
    }
    report(bad == 0, "Inf/NaN elements: NaN -> NaN code, Inf -> +-max, scales and other codes as without them", 400);

    /* n = 0 writes nothing (the tensor form: its scale, 1); zero-size tiles */
    bad = 0;
    {
        float x[4] = {1, 2, 3, 4}, sc[2] = {-7, -7}, y[4] = {-7, -7, -7, -7};
        uint8_t q[4] = {GUARD, GUARD, GUARD, GUARD}, se[2] = {GUARD, GUARD};
        uint16_t yb[4] = {1, 1, 1, 1};
        int i;
        bad += fp8_e4m3_quantize_blocks_f32(q, sc, x, 0, 32, 0) != 0;
        bad += fp8_e5m2_quantize_blocks_bf16(q, sc, NULL, 0, 32, 0) != 0;
        bad += fp8_e4m3_quantize_mx_f32(q, se, x, 0) != 0;
        bad += fp8_e4m3_quantize_tiles_f32(q, 4, sc, x, 4, 0, 4, 128, 128, 0) != 0;
        bad += fp8_e4m3_quantize_tiles_f32(q, 0, sc, x, 0, 3, 0, 128, 128, 0) != 0;
        bad += fp8_e4m3_quantize_scaled_f32(q, x, 0, 2.0f) != 0;
        bad += fp8_e4m3_dequantize_blocks_f32(y, q, sc, 0, 32) != 0;
        bad += fp8_e5m2_dequantize_tensor_bf16(yb, q, 0, 1.0f) != 0;
        bad += fp8_e4m3_dequantize_tiles_f32(y, 4, q, 4, sc, 0, 4, 128, 128) != 0;
        for (i = 0; i < 4; i++) bad += q[i] != GUARD || y[i] != -7 || yb[i] != 1;
        bad += sc[0] != -7 || sc[1] != -7 || se[0] != GUARD;
        bad += fp8_e4m3_quantize_tensor_f32(q, sc, x, 0, 0) != 0 || sc[0] != 1.0f || q[0] != GUARD;
    }
    report(bad == 0, "n = 0 (and 0 rows or columns): returns 0, writes nothing but a per-tensor scale of 1", 12);

    /* bad input: FP8_QUANT_EINVAL and nothing written */
    bad = 0;
    {
        float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, sc[8] = {-7}, y[8];
        uint8_t q[8], se[8];
        int i;
        memset(q, GUARD, sizeof q);
        memset(se, GUARD, sizeof se);
        bad += fp8_e4m3_quantize_blocks_f32(q, sc, x, 8, 0, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_blocks_f32(q, sc, x, 8, 4, 2u) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_blocks_f32(q, NULL, x, 8, 4, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_blocks_f32(NULL, sc, x, 8, 4, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_blocks_f32(q, sc, NULL, 8, 4, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e5m2_quantize_blocks_e8m0_f32(q, se, x, 8, 4, 2u) != FP8_QUANT_EINVAL;
        bad += fp8_e5m2_quantize_blocks_e8m0_f32(q, se, x, 8, 0, FP8_E8M0_OCP) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_tiles_f32(q, 4, sc, x, 3, 2, 4, 1, 1, 0) != FP8_QUANT_EINVAL; /* ldx < cols */
        bad += fp8_e4m3_quantize_tiles_f32(q, 3, sc, x, 4, 2, 4, 1, 1, 0) != FP8_QUANT_EINVAL; /* ldq < cols */
        bad += fp8_e4m3_quantize_tiles_f32(q, 4, sc, x, 4, 2, 4, 0, 1, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_tiles_f32(q, 4, sc, x, 4, 2, 4, 1, 0, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_tensor_f32(q, NULL, x, 8, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_tensor_f32(q, sc, x, 8, 7u) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_scaled_f32(q, x, 8, 0.0f) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_scaled_f32(q, x, 8, -1.0f) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_scaled_f32(q, x, 8, f32(0x7F800000u)) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_quantize_scaled_f32(q, x, 8, f32(0x7FC00000u)) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_dequantize_blocks_f32(y, q, sc, 8, 0) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_dequantize_tiles_f32(y, 3, q, 4, sc, 2, 4, 1, 1) != FP8_QUANT_EINVAL;
        bad += fp8_e4m3_dequantize_blocks_e8m0_f32(y, q, NULL, 8, 4) != FP8_QUANT_EINVAL;
        for (i = 0; i < 8; i++) bad += q[i] != GUARD || se[i] != GUARD;
        bad += sc[0] != -7;
    }
    report(bad == 0, "bad input (block 0, stride < cols, unknown flag or rule, bad given scale, NULL): FP8_QUANT_EINVAL, nothing written", 21);

    /* a BF16 source is its FP32 value: same codes and scales */
    bad = 0;
    {
        int it;
        for (it = 0; it < 200; it++) {
            float x[300], sc[20], sc2[20];
            uint16_t xb[300];
            uint8_t q[300], q2[300], se[20], se2[20];
            int i, ff = it & 1;
            size_t n = 1 + rnd_below(300);
            for (i = 0; i < (int)n; i++) { xb[i] = bf16_from_f32(rnd_value((int)rnd_below(200) - 100, 30, 1)); x[i] = bf16_to_f32(xb[i]); }
            if (ff) {
                fp8_e5m2_quantize_tiles_f32(q, 20, sc, x, 20, n / 20, 20, 3, 7, 0);
                fp8_e5m2_quantize_tiles_bf16(q2, 20, sc2, xb, 20, n / 20, 20, 3, 7, 0);
                for (i = 0; i < 7 * 3; i++) bad += i < (int)(fp8_blocks_count(n / 20, 3) * 3) && sc[i] != sc2[i];
                for (i = 0; i < (int)(n / 20 * 20); i++) bad += q[i] != q2[i];
                fp8_e5m2_quantize_mx_f32(q, se, x, n);
                fp8_e5m2_quantize_mx_bf16(q2, se2, xb, n);
            } else {
                fp8_e4m3_quantize_blocks_e8m0_f32(q, se, x, n, 17, FP8_E8M0_CEIL);
                fp8_e4m3_quantize_blocks_e8m0_bf16(q2, se2, xb, n, 17, FP8_E8M0_CEIL);
            }
            for (i = 0; i < (int)fp8_blocks_count(n, ff ? 32 : 17); i++) bad += se[i] != se2[i];
            for (i = 0; i < (int)n; i++) bad += q[i] != q2[i];
        }
    }
    report(bad == 0, "BF16 sources give the codes and scales of their FP32 values", 200);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 && argv[1][0] ? strtoull(argv[1], NULL, 0) : (uint64_t)time(NULL);
    rng_state = seed;
    printf("     seed %llu (repeat with: quant_test %llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    random_cases(argc > 2 ? atoi(argv[2]) : 3000);
    grid_round_trips();
    scale_rules();
    amax_buffers();
    edge_cases();
    if (failures) printf("FAIL quant: %d checks failed (seed %llu)\n", failures, (unsigned long long)seed);
    return failures != 0;
}
