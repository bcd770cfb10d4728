/*
 * Properties of codec/fp8.h that hold whatever the reference says:
 * round trips of every code, sign symmetry and monotonicity over every FP32
 * magnitude, stochastic rounding that only ever picks a neighbour and is
 * unbiased, the documented boundary values, and array forms equal to the
 * scalar functions. C99; prints one "ok"/"FAIL" line a check.
 */
#include "../codec/fp8.h"

#include <stdio.h>

static int failures;

static void report(int ok, const char *what, unsigned long long n)
{
    if (!ok) failures++;
    printf("%s %s (%llu cases)\n", ok ? "ok  " : "FAIL", what, n);
    fflush(stdout);
}

typedef uint8_t (*enc32_t)(uint32_t);
typedef uint32_t (*dec32_t)(uint8_t);

static uint32_t is_nan32(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }

static float f32(uint32_t u) { return fp8kit_bits_as_f32(u); }

/* ---- round trips: every code decodes and re-encodes to itself ---- */
static void round_trips(void)
{
    unsigned c, bad = 0;
    for (c = 0; c < 256; c++) {
        uint8_t b = (uint8_t)c, s = (uint8_t)(c & 0x80);
        int e4nan = (c & 0x7F) == 0x7F, e5nan = (c & 0x7F) > 0x7C, e5inf = (c & 0x7F) == 0x7C;
        /* non-saturating: identity, but E5M2 NaNs become the one NaN 0x7F|s */
        bad += fp8_e4m3_from_f32_nosat_bits(fp8_e4m3_to_f32_bits(b)) != b;
        bad += fp8_e5m2_from_f32_nosat_bits(fp8_e5m2_to_f32_bits(b)) != (e5nan ? (0x7F | s) : b);
        /* saturating: NaN -> 0x7F, E5M2 Inf -> max */
        bad += fp8_e4m3_from_f32_bits(fp8_e4m3_to_f32_bits(b)) != (e4nan ? 0x7F : b);
        bad += fp8_e5m2_from_f32_bits(fp8_e5m2_to_f32_bits(b)) != (e5nan ? 0x7F : e5inf ? (0x7B | s) : b);
        /* through BF16 and FP16 */
        bad += fp8_e4m3_from_bf16_nosat(fp8_e4m3_to_bf16(b)) != b;
        bad += fp8_e4m3_from_f16_nosat(fp8_e4m3_to_f16(b)) != b;
        bad += fp8_e5m2_from_bf16_nosat(fp8_e5m2_to_bf16(b)) != (e5nan ? (0x7F | s) : b);
        bad += fp8_e5m2_from_f16_nosat(fp8_e5m2_to_f16(b)) != (e5nan ? (0x7F | s) : b);
        /* the 16-bit decoders are the FP32 decoder, narrowed exactly */
        bad += bf16_to_f32_bits(fp8_e4m3_to_bf16(b)) != fp8_e4m3_to_f32_bits(b);
        bad += bf16_to_f32_bits(fp8_e5m2_to_bf16(b)) != fp8_e5m2_to_f32_bits(b);
        bad += f16_to_f32_bits(fp8_e4m3_to_f16(b)) != fp8_e4m3_to_f32_bits(b);
        bad += f16_to_f32_bits(fp8_e5m2_to_f16(b)) != fp8_e5m2_to_f32_bits(b);
        /* E8M0: every code but NaN re-encodes exactly in both roundings */
        if (c != 0xFF) {
            bad += fp8_e8m0_from_f32_rz_bits(fp8_e8m0_to_f32_bits(b)) != b;
            bad += fp8_e8m0_from_f32_rp_bits(fp8_e8m0_to_f32_bits(b)) != b;
        }
    }
    report(bad == 0, "every code decodes and re-encodes to itself (FP32, BF16, FP16; E4M3, E5M2, E8M0)", 256);
}

/* ---- sign symmetry: f(-x) = f(x) | 0x80, except saturating NaN -> 0x7F ---- */
static void sign_symmetry(void)
{
    unsigned long long bad = 0;
    long long i;
#pragma omp parallel for reduction(+ : bad)
    for (i = 0; i < 0x80000000LL; i++) {
        uint32_t x = (uint32_t)i, nx = x | 0x80000000u;
        uint8_t sgn = is_nan32(x) ? 0 : 0x80;
        bad += fp8_e4m3_from_f32_bits(nx) != (fp8_e4m3_from_f32_bits(x) | sgn);
        bad += fp8_e5m2_from_f32_bits(nx) != (fp8_e5m2_from_f32_bits(x) | sgn);
        bad += fp8_e4m3_from_f32_nosat_bits(nx) != (fp8_e4m3_from_f32_nosat_bits(x) | 0x80);
        bad += fp8_e5m2_from_f32_nosat_bits(nx) != (fp8_e5m2_from_f32_nosat_bits(x) | 0x80);
        bad += bf16_from_f32_bits(nx) != (bf16_from_f32_bits(x) | 0x8000);
        bad += f16_from_f32_bits(nx) != (f16_from_f32_bits(x) | 0x8000);
        bad += fp8_e8m0_from_f32_rz_bits(nx) != fp8_e8m0_from_f32_rz_bits(x); /* E8M0 has no sign */
        bad += fp8_e8m0_from_f32_rp_bits(nx) != fp8_e8m0_from_f32_rp_bits(x);
    }
    report(bad == 0, "sign symmetry over every FP32 magnitude, 8 encoders", 0x80000000ULL);
}

/* ---- monotonicity: the code never decreases as x grows ----
   For positive values the codes of every format here are ordered like the
   values they stand for (E4M3's NaN 0x7F above max, E5M2's Inf above max),
   so comparing codes of neighbouring inputs checks monotonic rounding. */
#define MONO(enc) bad += (uint32_t)enc(x) < (uint32_t)enc(x - 1u)
static void monotonic(void)
{
    unsigned long long bad = 0;
    long long i;
#pragma omp parallel for reduction(+ : bad)
    for (i = 1; i <= 0x7F800000LL; i++) {
        uint32_t x = (uint32_t)i;
        MONO(fp8_e4m3_from_f32_bits);
        MONO(fp8_e5m2_from_f32_bits);
        MONO(fp8_e4m3_from_f32_nosat_bits);
        MONO(fp8_e5m2_from_f32_nosat_bits);
        MONO(bf16_from_f32_bits);
        MONO(f16_from_f32_bits);
        MONO(fp8_e8m0_from_f32_rz_bits);
        MONO(fp8_e8m0_from_f32_rp_bits);
    }
    report(bad == 0, "monotonic over every positive FP32 up to +Inf, 8 encoders", 0x7F800000ULL);
}

/* ---- stochastic rounding ---- */

/* Largest code whose value is <= |x| (|x| finite, below max), for a format. */
static void neighbours(uint32_t x, int e5, uint8_t *down, uint8_t *up)
{
    uint32_t a = x & 0x7FFFFFFFu;
    float v = f32(a);
    uint8_t r = e5 ? fp8_e5m2_from_f32_bits(a) : fp8_e4m3_from_f32_bits(a);
    float rv = e5 ? fp8_e5m2_to_f32(r) : fp8_e4m3_to_f32(r);
    uint8_t d = rv > v ? (uint8_t)(r - 1) : r;
    float dv = e5 ? fp8_e5m2_to_f32(d) : fp8_e4m3_to_f32(d);
    uint8_t max = e5 ? 0x7B : 0x7E;
    *down = d;
    *up = (dv < v && d < max) ? (uint8_t)(d + 1) : d;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) /* xorshift64*, fixed seed: reproducible */
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void stochastic(void)
{
    /* (a) Finite FP32 inputs, every 61st pattern (all exponents, scattered
       mantissas): random bits 0 give the neighbour toward zero, all-ones bits
       the neighbour away exactly when the discarded fraction is at least
       2^-32 (the bits' resolution), and any bits give one of the two. */
    unsigned long long bad = 0;
    long long i;
    int e5;
    for (e5 = 0; e5 < 2; e5++) {
#pragma omp parallel for reduction(+ : bad)
        for (i = 0; i < 0x7F800000LL; i += 61) {
            uint32_t x = (uint32_t)i;
            uint8_t d, u, lo, hi, mid;
            uint32_t r = x * 2654435761u;
            double v, dv, uv;
            neighbours(x, e5, &d, &u);
            v = f32(x);
            dv = e5 ? fp8_e5m2_to_f32(d) : fp8_e4m3_to_f32(d);
            uv = e5 ? fp8_e5m2_to_f32(u) : fp8_e4m3_to_f32(u);
            lo = e5 ? fp8_e5m2_from_f32_sr_bits(x, 0) : fp8_e4m3_from_f32_sr_bits(x, 0);
            hi = e5 ? fp8_e5m2_from_f32_sr_bits(x, 0xFFFFFFFFu) : fp8_e4m3_from_f32_sr_bits(x, 0xFFFFFFFFu);
            mid = e5 ? fp8_e5m2_from_f32_sr_bits(x, r) : fp8_e4m3_from_f32_sr_bits(x, r);
            bad += lo != d;
            bad += hi != ((u != d && (v - dv) / (uv - dv) >= 0x1p-32) ? u : d);
            bad += mid != d && mid != u;
            /* the sign is the input's */
            bad += (uint8_t)((e5 ? fp8_e5m2_from_f32_sr_bits(x | 0x80000000u, r) : fp8_e4m3_from_f32_sr_bits(x | 0x80000000u, r)) ^ 0x80) != mid;
        }
    }
    report(bad == 0, "stochastic rounding returns a neighbour; bits 0 round toward zero, all-ones away (E4M3, E5M2)", 2 * 0x7F800000ULL / 61);

    /* (b) Unbiased: over 10^6 draws the mean lands on x, and the share of
       upward roundings equals the discarded fraction, within 5 standard
       deviations. Inputs in the normal and subnormal ranges of both formats. */
    {
        static const float xs[] = {0.3f, 1.1f, 300.0f, -2.7f, 0.0031f, 0.0009f, 40000.0f, 1e-5f, 3e-5f};
        const int N = 1000000;
        unsigned k, ok = 1;
        for (k = 0; k < sizeof xs / sizeof xs[0]; k++) {
            for (e5 = 0; e5 < 2; e5++) {
                uint32_t x = fp8kit_f32_as_bits(xs[k]);
                uint8_t d, u;
                double dv, uv, p, sum = 0, ups = 0, sigma, mean;
                int n;
                neighbours(x, e5, &d, &u);
                dv = e5 ? fp8_e5m2_to_f32(d) : fp8_e4m3_to_f32(d);
                uv = e5 ? fp8_e5m2_to_f32(u) : fp8_e4m3_to_f32(u);
                if (u == d) continue; /* exact or saturated: nothing random */
                p = ((double)(x & 0x7FFFFFFF ? (xs[k] < 0 ? -xs[k] : xs[k]) : 0) - dv) / (uv - dv);
                for (n = 0; n < N; n++) {
                    uint8_t c = e5 ? fp8_e5m2_from_f32_sr_bits(x, next_u32()) : fp8_e4m3_from_f32_sr_bits(x, next_u32());
                    double v = e5 ? fp8_e5m2_to_f32(c) : fp8_e4m3_to_f32(c);
                    sum += v;
                    ups += (c & 0x7F) == u;
                }
                sigma = (uv - dv) * 0.5 / 1000.0; /* sd of one draw <= step/2 */
                mean = sum / N;
                if ((mean - xs[k] > 5 * sigma) || (xs[k] - mean > 5 * sigma)) ok = 0;
                if ((ups / N - p) * (ups / N - p) > 25 * p * (1 - p) / N + 1e-12) ok = 0;
                if (!ok) {
                    printf("     x=%g %s: mean %.9g, up share %.6f, expected %.6f\n", xs[k], e5 ? "e5m2" : "e4m3", mean, ups / N, p);
                    break;
                }
            }
        }
        report(ok, "stochastic rounding is unbiased: mean and up-share within 5 sd over 10^6 draws", 2ull * 9 * N);
    }
}

/* ---- documented boundary values (the README's semantics table) ---- */
static void boundaries(void)
{
    struct { float x; uint8_t e4, e4n, e5, e5n; } t[] = {
        {448.0f, 0x7E, 0x7E, 0x5F, 0x5F},
        {464.0f, 0x7E, 0x7E, 0x5F, 0x5F},    /* tie between 448 and 480: even is 448 */
        {464.0001f, 0x7E, 0x7F, 0x5F, 0x5F}, /* past the tie: E4M3 nosat is NaN */
        {-1e6f, 0xFE, 0xFF, 0xFB, 0xFC},
        {57344.0f, 0x7E, 0x7F, 0x7B, 0x7B},
        {61439.996f, 0x7E, 0x7F, 0x7B, 0x7B},
        {61440.0f, 0x7E, 0x7F, 0x7B, 0x7C},  /* tie above E5M2 max: even is Inf */
        {-0.0f, 0x80, 0x80, 0x80, 0x80},
        {0.001953125f, 0x01, 0x01, 0x18, 0x18},   /* 2^-9: E4M3's smallest subnormal */
        {0.0009765625f, 0x00, 0x00, 0x14, 0x14},  /* 2^-10: tie to even gives 0 */
        {1.52587890625e-05f, 0x00, 0x00, 0x01, 0x01}, /* 2^-16: E5M2's smallest */
        {7.62939453125e-06f, 0x00, 0x00, 0x00, 0x00}, /* 2^-17: tie, rounds to 0 */
    };
    unsigned k, bad = 0;
    float inf = f32(0x7F800000u), nan = f32(0xFFC00000u);
    for (k = 0; k < sizeof t / sizeof t[0]; k++) {
        bad += fp8_e4m3_from_f32(t[k].x) != t[k].e4;
        bad += fp8_e4m3_from_f32_nosat(t[k].x) != t[k].e4n;
        bad += fp8_e5m2_from_f32(t[k].x) != t[k].e5;
        bad += fp8_e5m2_from_f32_nosat(t[k].x) != t[k].e5n;
    }
    bad += fp8_e4m3_from_f32(inf) != 0x7E || fp8_e5m2_from_f32(-inf) != 0xFB;
    bad += fp8_e4m3_from_f32_nosat(-inf) != 0xFF || fp8_e5m2_from_f32_nosat(inf) != 0x7C;
    bad += fp8_e4m3_from_f32(nan) != 0x7F || fp8_e5m2_from_f32(nan) != 0x7F;
    bad += fp8_e4m3_from_f32_nosat(nan) != 0xFF || fp8_e5m2_from_f32_nosat(nan) != 0xFF;
    bad += fp8_e8m0_from_f32_rz(0.0f) != 0 || fp8_e8m0_from_f32_rp(3.0f) != 129 || fp8_e8m0_from_f32_rz(3.0f) != 128;
    bad += fp8_e8m0_from_f32_rz(inf) != 0xFE || fp8_e8m0_from_f32_rz_nosat(inf) != 0xFF || fp8_e8m0_from_f32_rp(nan) != 0xFF;
    report(bad == 0, "documented boundary values (ties, overflow, Inf, NaN, -0, subnormals)", sizeof t / sizeof t[0] * 4 + 14);
}

/* ---- array forms equal the scalar functions ---- */
static void arrays(void)
{
    enum { N = 4099 }; /* odd length: vector bodies and scalar tails both run */
    static float f[N], g[N];
    static uint16_t h[N], hb[N], h2[N];
    static uint8_t c[N], o[N];
    unsigned i, bad = 0;
    for (i = 0; i < N; i++) {
        uint32_t r = next_u32();
        f[i] = f32((r & 0x8FFFFFFFu) | 0x30000000u); /* spread over the FP8 range, some huge */
        if (i % 97 == 0) f[i] = f32(0x7FC00000u | r);
        h[i] = (uint16_t)r;
        c[i] = (uint8_t)r;
    }
#define CHECK_N(fn_n, scalar, src, dst)                                   \
    fn_n(dst, src, N);                                                    \
    for (i = 0; i < N; i++) bad += !((dst)[i] == scalar((src)[i]) || ((dst)[i] != (dst)[i] && scalar((src)[i]) != scalar((src)[i])));
    CHECK_N(fp8_e4m3_from_f32_n, fp8_e4m3_from_f32, f, o)
    CHECK_N(fp8_e5m2_from_f32_n, fp8_e5m2_from_f32, f, o)
    CHECK_N(fp8_e4m3_from_f32_nosat_n, fp8_e4m3_from_f32_nosat, f, o)
    CHECK_N(fp8_e5m2_from_f32_nosat_n, fp8_e5m2_from_f32_nosat, f, o)
    CHECK_N(fp8_e4m3_from_bf16_n, fp8_e4m3_from_bf16, h, o)
    CHECK_N(fp8_e5m2_from_bf16_n, fp8_e5m2_from_bf16, h, o)
    CHECK_N(fp8_e4m3_from_f16_n, fp8_e4m3_from_f16, h, o)
    CHECK_N(fp8_e5m2_from_f16_n, fp8_e5m2_from_f16, h, o)
    CHECK_N(fp8_e4m3_to_bf16_n, fp8_e4m3_to_bf16, c, hb)
    CHECK_N(fp8_e5m2_to_bf16_n, fp8_e5m2_to_bf16, c, hb)
    CHECK_N(fp8_e4m3_to_f16_n, fp8_e4m3_to_f16, c, hb)
    CHECK_N(fp8_e5m2_to_f16_n, fp8_e5m2_to_f16, c, hb)
    CHECK_N(bf16_from_f32_n, bf16_from_f32, f, h2)
    CHECK_N(f16_from_f32_n, f16_from_f32, f, h2)
    /* decoders to float: compare bit patterns (NaN != NaN as floats) */
    fp8_e4m3_to_f32_n(g, c, N);
    for (i = 0; i < N; i++) bad += fp8kit_f32_as_bits(g[i]) != fp8_e4m3_to_f32_bits(c[i]);
    fp8_e5m2_to_f32_n(g, c, N);
    for (i = 0; i < N; i++) bad += fp8kit_f32_as_bits(g[i]) != fp8_e5m2_to_f32_bits(c[i]);
    report(bad == 0, "array forms equal the scalar functions (16 forms, odd length)", 16ull * N);
}

int main(void)
{
    round_trips();
    boundaries();
    arrays();
    sign_symmetry();
    monotonic();
    stochastic();
    printf("%s\n", failures ? "properties: FAILED" : "properties: all passed");
    return failures != 0;
}
