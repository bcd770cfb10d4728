/*
 * The array forms of codec/fp8.h against their scalar functions, for every
 * input: every FP32 bit pattern through the four FP32 -> FP8 forms, every
 * code through the FP8 -> FP32/BF16/FP16 forms, every BF16/FP16 pattern
 * through the BF16/FP16 -> FP8 forms, at every start alignment mod 32
 * and with ragged tails, in the default floating-point environment and (on
 * a sample) in the other three rounding modes and with DAZ/FTZ set. Where
 * the header has an explicit vector path (AVX2), this is what shows it
 * exact; elsewhere it checks the plain loops. The scalar functions are in
 * turn checked against NVIDIA's and ml_dtypes' converters (exhaustive.cpp).
 * C99 + OpenMP; prints one "ok"/"FAIL" line a check.
 */
#include "../codec/fp8.h"

#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

static int failures;

typedef void (*enc_n_t)(uint8_t *, const float *, size_t);
typedef uint8_t (*enc_t)(float);
typedef void (*dec_n_t)(float *, const uint8_t *, size_t);
typedef float (*dec_t)(uint8_t);

static const struct { const char *name; enc_n_t n; enc_t s; } ENC[] = {
    {"fp8_e4m3_from_f32_n", fp8_e4m3_from_f32_n, fp8_e4m3_from_f32},
    {"fp8_e5m2_from_f32_n", fp8_e5m2_from_f32_n, fp8_e5m2_from_f32},
    {"fp8_e4m3_from_f32_nosat_n", fp8_e4m3_from_f32_nosat_n, fp8_e4m3_from_f32_nosat},
    {"fp8_e5m2_from_f32_nosat_n", fp8_e5m2_from_f32_nosat_n, fp8_e5m2_from_f32_nosat},
};
static const struct { const char *name; dec_n_t n; dec_t s; } DEC[] = {
    {"fp8_e4m3_to_f32_n", fp8_e4m3_to_f32_n, fp8_e4m3_to_f32},
    {"fp8_e5m2_to_f32_n", fp8_e5m2_to_f32_n, fp8_e5m2_to_f32},
};

/* The floating-point environments: 0 default, 1-3 the other rounding
   modes, 4 DAZ and FTZ (x86). Set in each thread. */
static const char *ENV_NAME[] = {"round to nearest", "round upward", "round downward", "round toward zero", "DAZ+FTZ"};
static int set_env(int env)
{
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    if (env < 4) return fesetround(modes[env]) == 0;
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(_mm_getcsr() | 0x8040u);
    return 1;
#else
    return 0;
#endif
}
static void reset_env(void)
{
    fesetround(FE_TONEAREST);
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(_mm_getcsr() & ~0x8040u);
#endif
}

typedef void (*enc16_n_t)(uint8_t *, const uint16_t *, size_t);
typedef uint8_t (*enc16_t)(uint16_t);
typedef void (*dec16_n_t)(uint16_t *, const uint8_t *, size_t);
typedef uint16_t (*dec16_t)(uint8_t);
static const struct { const char *name; enc16_n_t n; enc16_t s; } ENC16[] = {
    {"fp8_e4m3_from_bf16_n", fp8_e4m3_from_bf16_n, fp8_e4m3_from_bf16},
    {"fp8_e5m2_from_bf16_n", fp8_e5m2_from_bf16_n, fp8_e5m2_from_bf16},
    {"fp8_e4m3_from_f16_n", fp8_e4m3_from_f16_n, fp8_e4m3_from_f16},
    {"fp8_e5m2_from_f16_n", fp8_e5m2_from_f16_n, fp8_e5m2_from_f16},
};
static const struct { const char *name; dec16_n_t n; dec16_t s; } DEC16[] = {
    {"fp8_e4m3_to_bf16_n", fp8_e4m3_to_bf16_n, fp8_e4m3_to_bf16},
    {"fp8_e5m2_to_bf16_n", fp8_e5m2_to_bf16_n, fp8_e5m2_to_bf16},
    {"fp8_e4m3_to_f16_n", fp8_e4m3_to_f16_n, fp8_e4m3_to_f16},
    {"fp8_e5m2_to_f16_n", fp8_e5m2_to_f16_n, fp8_e5m2_to_f16},
};

/* The 16-bit forms: every BF16/FP16 pattern from every start offset mod 32
   (so every pattern lands in every vector lane), every code likewise. */
static void forms16(int env)
{
    static uint16_t h[65536 + 64], o16[65536 + 64];
    static uint8_t c[65536 + 64], o8[65536 + 64];
    unsigned k, off, i;
    if (!set_env(env)) failures++;
    for (k = 0; k < sizeof ENC16 / sizeof ENC16[0]; k++) {
        unsigned long long bad = 0, n = 0;
        for (off = 0; off < 32; off++) {
            for (i = 0; i < 65536; i++) h[off + i] = (uint16_t)i;
            ENC16[k].n(o8 + off, h + off, 65536 - off % 7);
            for (i = 0; i < 65536 - off % 7; i++) bad += o8[off + i] != ENC16[k].s((uint16_t)i);
            n += 65536 - off % 7;
        }
        if (bad) failures++;
        printf("%s %s (%s): %llu of %llu results %s the scalar function\n", bad ? "FAIL" : "ok  ", ENC16[k].name,
               ENV_NAME[env], bad ? bad : n, n, bad ? "differ from" : "equal");
    }
    for (k = 0; k < sizeof DEC16 / sizeof DEC16[0]; k++) {
        unsigned long long bad = 0, n = 0;
        for (off = 0; off < 32; off++) {
            unsigned len = 4096u - off % 13;
            for (i = 0; i < len; i++) c[off + i] = (uint8_t)(i * 7u + off);
            DEC16[k].n(o16 + off, c + off, len);
            for (i = 0; i < len; i++) bad += o16[off + i] != DEC16[k].s(c[off + i]);
            n += len;
        }
        if (bad) failures++;
        printf("%s %s (%s): %llu of %llu results %s the scalar function\n", bad ? "FAIL" : "ok  ", DEC16[k].name,
               ENV_NAME[env], bad ? bad : n, n, bad ? "differ from" : "equal");
    }
    reset_env();
    fflush(stdout);
}

#define B 65536u

/* The scalar function over a block, called directly so that it inlines. */
static void scalar_loop(unsigned k, uint8_t *ref, const float *src)
{
    unsigned i;
#define LOOP(fn) for (i = 0; i < B; i++) ref[i] = fn(src[i]); break;
    switch (k) {
    case 0: LOOP(fp8_e4m3_from_f32)
    case 1: LOOP(fp8_e5m2_from_f32)
    case 2: LOOP(fp8_e4m3_from_f32_nosat)
    default: LOOP(fp8_e5m2_from_f32_nosat)
    }
#undef LOOP
}

/* Encoders over FP32 inputs [0, 2^32) in blocks of B, every `stride`-th
   block; each block converted from a start offset off = block % 32 (the
   first off inputs, then the rest, so both the head and the tail lengths
   vary). */
static void encoders(int env, unsigned stride)
{
    unsigned k;
    for (k = 0; k < sizeof ENC / sizeof ENC[0]; k++) {
        unsigned long long bad = 0, first = ~0ull, n = 0;
        long long b;
#pragma omp parallel reduction(+ : bad, n)
        {
            float *src = (float *)malloc(B * sizeof *src);
            uint8_t *dst = (uint8_t *)malloc(B), *ref = (uint8_t *)malloc(B);
            if (!set_env(env)) bad++;
#pragma omp for schedule(dynamic, 16)
            for (b = 0; b < (long long)(0x100000000ull / B); b += stride) {
                uint32_t base = (uint32_t)((unsigned long long)b * B), i, off = (uint32_t)(b % 32);
                for (i = 0; i < B; i++) src[i] = fp8kit_bits_as_f32(base + i);
                ENC[k].n(dst, src, off);
                ENC[k].n(dst + off, src + off, B - off);
                scalar_loop(k, ref, src);
                if (memcmp(dst, ref, B) == 0) {
                    n += B;
                    continue;
                }
                for (i = 0; i < B; i++)
                    if (dst[i] != ref[i]) {
                        bad++;
#pragma omp critical
                        if (base + i < first) first = base + i;
                    }
                n += B;
            }
            reset_env();
            free(src);
            free(dst);
            free(ref);
        }
        if (bad) {
            failures++;
            printf("FAIL %s (%s): %llu of %llu inputs differ from the scalar function; first 0x%08llx\n", ENC[k].name,
                   ENV_NAME[env], bad, n, first);
        } else {
            printf("ok   %s (%s): %llu inputs equal the scalar function\n", ENC[k].name, ENV_NAME[env], n);
        }
        fflush(stdout);
    }
}

/* Decoders: every code, at every position mod 32 of a buffer, every length
   up to 100. */
static void decoders(int env)
{
    unsigned k;
    for (k = 0; k < sizeof DEC / sizeof DEC[0]; k++) {
        static uint8_t src[256 + 132];
        static float dst[256 + 132];
        unsigned long long bad = 0, n = 0;
        unsigned off, len, i;
        if (!set_env(env)) bad++;
        for (off = 0; off < 32; off++)
            for (len = 0; len <= 100; len++) {
                for (i = 0; i < 256 + 100; i++) src[i] = (uint8_t)(i * 7u + off);
                for (i = 0; i < 256; i += 100) {
                    unsigned j;
                    DEC[k].n(dst + off, src + i, len);
                    for (j = 0; j < len; j++)
                        bad += fp8kit_f32_as_bits(dst[off + j]) != fp8kit_f32_as_bits(DEC[k].s(src[i + j]));
                    n += len;
                }
            }
        /* and all 256 codes in one call */
        for (i = 0; i < 256; i++) src[i] = (uint8_t)i;
        DEC[k].n(dst, src, 256);
        for (i = 0; i < 256; i++) bad += fp8kit_f32_as_bits(dst[i]) != fp8kit_f32_as_bits(DEC[k].s((uint8_t)i));
        n += 256;
        reset_env();
        if (bad) {
            failures++;
            printf("FAIL %s (%s): %llu of %llu results differ from the scalar function\n", DEC[k].name, ENV_NAME[env], bad, n);
        } else {
            printf("ok   %s (%s): all 256 codes, every offset mod 32 and length to 100: %llu results equal the scalar function\n",
                   DEC[k].name, ENV_NAME[env], n);
        }
        fflush(stdout);
    }
}

int main(void)
{
    int env;
#if defined(FP8KIT_AVX2)
    printf("     (the header's AVX2 path is compiled in)\n");
#else
    printf("     (no explicit vector path in this build: checking the plain loops)\n");
#endif
    encoders(0, 1);
    decoders(0);
    forms16(0);
    for (env = 1; env < 5; env++) {
#if !(defined(__x86_64__) || defined(__i386__))
        if (env == 4) break;
#endif
        encoders(env, 97); /* a sample: every 97th block */
        decoders(env);
        forms16(env);
    }
    printf("%s\n", failures ? "arrays: FAILED" : "arrays: all passed");
    return failures != 0;
}
