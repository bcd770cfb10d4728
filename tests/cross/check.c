/*
 * codec/fp8.h on other architectures, against results computed on the host.
 *
 * One program, built three ways from this file:
 *   host:   `check gen`      writes the digests of the host's results (the
 *                            host build is the one tests/exhaustive.cpp
 *                            checks against NVIDIA's and ml_dtypes'
 *                            converters) as a C header, expected.h;
 *           `check explain`  reads a target's log from stdin and, for each
 *                            block the target dumped, names the first input
 *                            whose result differs from the host's;
 *   target: (-DCHECK_EXPECTED, with expected.h) recomputes every digest and
 *           compares. A block whose digest differs is reported with a FAIL
 *           line and its outputs are dumped (DUMP ... END) for `explain`.
 *           Exit status 0 when everything matched.
 *
 * The inputs, the same on both sides:
 *   every FP8 code (256), every BF16/FP16 pattern (65536),
 *   a fixed sample of 2^24 FP32 patterns: i << 8 | 8 hashed bits, for every
 *   24-bit prefix i (all signs, exponents and leading mantissa bits),
 *   every rounding boundary of FP32 -> E4M3, E5M2, BF16, FP16 (every tie,
 *   subnormal and overflow ties included, and the patterns one below and one
 *   above it), every power of two and its neighbours (E8M0), Inf and NaNs,
 *   with both signs.
 * A digest is FNV-1a over the 32-bit results of a block of 65536 inputs;
 * every step is a bijection of the running value, so one wrong result always
 * changes the block's digest.
 *
 * Freestanding on bare metal (-DCHECK_BAREMETAL): output through
 * bm_write0(), end through bm_exit() (tests/cross/baremetal.c); no library.
 */
#include "../../codec/fp8.h"
#include "../entry_points.h"

#if defined(CHECK_BAREMETAL)
void bm_write0(const char *s);
void bm_exit(int status);
#else
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#endif

#if !defined(CHECK_ARCH)
#define CHECK_ARCH "host"
#endif
#if !defined(CHECK_SETS)
#define CHECK_SETS 15u /* all four input sets */
#endif

enum { SET8 = 1, SET16 = 2, SET32 = 4, SETB = 8 };
#define BLOCK 65536u

/* ---- output without a C library ---- */
static char line[160];
static unsigned pos;
static void put(const char *s) { while (*s && pos < sizeof line - 2) line[pos++] = *s++; }
static void put_hex(uint32_t v, int digits)
{
    int i;
    for (i = digits - 1; i >= 0; i--) {
        uint32_t d = (v >> (4 * i)) & 15u;
        char c[2];
        c[0] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        c[1] = 0;
        put(c);
    }
}
static void put_dec(uint32_t v)
{
    char b[12];
    int i = 11;
    b[i] = 0;
    do { b[--i] = (char)('0' + v % 10u); v /= 10u; } while (v);
    put(b + i);
}
static void endline(void)
{
    line[pos++] = '\n';
    line[pos] = 0;
#if defined(CHECK_BAREMETAL)
    bm_write0(line);
#else
    fputs(line, stdout);
#endif
    pos = 0;
}

static uint32_t mix32(uint32_t x) /* a fixed bijective hash */
{
    x ^= x >> 16; x *= 0x7FEB352Du;
    x ^= x >> 15; x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

static uint32_t fnv(uint32_t h, uint32_t v) { return (h ^ v) * 0x01000193u; }
#define FNV0 0x811C9DC5u

/* ---- every entry point as uint32_t -> uint32_t ---- */
#define W_PLAIN(n, T) static uint32_t w_##n(uint32_t x) { return (uint32_t)n((T)x); }
#define W_U32(n) W_PLAIN(n, uint32_t)
#define W_U16(n) W_PLAIN(n, uint16_t)
#define W_U8(n) W_PLAIN(n, uint8_t)
FP8KIT_U32_TO_U8(W_U32)
FP8KIT_U32_TO_U16(W_U32)
FP8KIT_U16_TO_U8(W_U16)
FP8KIT_U16_TO_U32(W_U16)
FP8KIT_U8_TO_U32(W_U8)
FP8KIT_U8_TO_U16(W_U8)
/* stochastic rounding: random bits hashed from the input, all zeros, all ones */
#define W_SR(n)                                                                \
    static uint32_t w_##n(uint32_t x) { return n(x, mix32(x ^ 0xA5A5A5A5u)); } \
    static uint32_t w0_##n(uint32_t x) { return n(x, 0u); }                    \
    static uint32_t w1_##n(uint32_t x) { return n(x, 0xFFFFFFFFu); }
FP8KIT_SR_BITS(W_SR)
/* float wrappers: floats in and out by bit pattern */
#define W_FIN(n, twin) static uint32_t w_##n(uint32_t x) { return (uint32_t)n(fp8kit_bits_as_f32(x)); }
FP8KIT_F32_TO_U8(W_FIN)
FP8KIT_F32_TO_U16(W_FIN)
#define W_SRF(n, twin) static uint32_t w_##n(uint32_t x) { return n(fp8kit_bits_as_f32(x), mix32(x ^ 0xA5A5A5A5u)); }
FP8KIT_SR_F32(W_SRF)
/* pairs: the input and a hashed partner */
#define W_X2(n, twin) static uint32_t w_##n(uint32_t x) { return n(fp8kit_bits_as_f32(x), fp8kit_bits_as_f32(mix32(x))); }
FP8KIT_F32X2_TO_U16(W_X2)
#define W_FOUT(n, twin, T) static uint32_t w_##n(uint32_t x) { return fp8kit_f32_as_bits(n((T)x)); }
#define W_FOUT16(n, twin) W_FOUT(n, twin, uint16_t)
#define W_FOUT8(n, twin) W_FOUT(n, twin, uint8_t)
FP8KIT_U16_TO_F32(W_FOUT16)
FP8KIT_U8_TO_F32(W_FOUT8)

/* array forms: the digest of a block's results, in chunks */
#define CHUNK 512u
#define TO_float(x) fp8kit_bits_as_f32(x)
#define TO_uint16_t(x) ((uint16_t)(x))
#define TO_uint8_t(x) ((uint8_t)(x))
#define FROM_float(v) fp8kit_f32_as_bits(v)
#define FROM_uint16_t(v) ((uint32_t)(v))
#define FROM_uint8_t(v) ((uint32_t)(v))
#define W_ARR(n, dst_t, src_t, scalar)                                         \
    static void a_##n(const uint32_t *in, uint32_t *out, uint32_t cnt)         \
    {                                                                          \
        static src_t s[CHUNK];                                                 \
        static dst_t d[CHUNK];                                                 \
        uint32_t i, j;                                                         \
        for (i = 0; i < cnt; i += CHUNK) {                                     \
            uint32_t c = cnt - i < CHUNK ? cnt - i : CHUNK;                    \
            for (j = 0; j < c; j++) s[j] = TO_##src_t(in[i + j]);              \
            n(d, s, (size_t)c);                                                \
            for (j = 0; j < c; j++) out[i + j] = FROM_##dst_t(d[j]);           \
        }                                                                      \
    }
FP8KIT_ARRAYS(W_ARR)

typedef uint32_t (*fn_t)(uint32_t);
typedef void (*arr_t)(const uint32_t *, uint32_t *, uint32_t);
struct entry { const char *name; unsigned sets; fn_t f; arr_t a; };

#define F32SETS (SET32 | SETB)
#define E(n, sets) {#n, sets, w_##n, 0},
#define E_U32(n) E(n, F32SETS)
#define E_U16(n) E(n, SET16)
#define E_U8(n) E(n, SET8)
#define E_SR(n) E(n, F32SETS) {#n " (random bits 0)", SETB, w0_##n, 0}, {#n " (random bits all ones)", SETB, w1_##n, 0},
#define E_F32(n, twin) E(n, F32SETS)
#define E_FOUT16(n, twin) E(n, SET16)
#define E_FOUT8(n, twin) E(n, SET8)
#define E_ARR(n, dst_t, src_t, scalar) \
    {#n, sizeof(src_t) == 4 ? F32SETS : sizeof(src_t) == 2 ? SET16 : SET8, 0, a_##n},

static const struct entry entries[] = {
    FP8KIT_U32_TO_U8(E_U32) FP8KIT_U32_TO_U16(E_U32) FP8KIT_SR_BITS(E_SR)
    FP8KIT_F32_TO_U8(E_F32) FP8KIT_F32_TO_U16(E_F32) FP8KIT_SR_F32(E_F32) FP8KIT_F32X2_TO_U16(E_F32)
    FP8KIT_U16_TO_U8(E_U16) FP8KIT_U16_TO_U32(E_U16) FP8KIT_U16_TO_F32(E_FOUT16)
    FP8KIT_U8_TO_U32(E_U8) FP8KIT_U8_TO_U16(E_U8) FP8KIT_U8_TO_F32(E_FOUT8)
    FP8KIT_ARRAYS(E_ARR)
};
#define N_ENTRIES (sizeof entries / sizeof entries[0])

static const char *set_name(unsigned set)
{
    return set == SET8 ? "all 256 codes" : set == SET16 ? "all 65536 BF16/FP16 patterns"
         : set == SET32 ? "2^24 sampled FP32 patterns" : "FP32 rounding boundaries";
}

/* ---- the modes ---- */
enum { GEN, RUN, EXPLAIN };
static int mode;
static uint32_t in[BLOCK], out[BLOCK];
static uint32_t nin, block_no, n_digests, set_inputs, failures;
#if defined(CHECK_EXPECTED)
static uint32_t dumps;
#endif
static unsigned cur_set;

#if defined(CHECK_EXPECTED)
#include "expected.h"
#endif

/* explain: the block a target dumped, and its results */
static const char *want_name;
static unsigned want_set;
static uint32_t want_block, want_count, *dumped;
static int explained;
static const char *arch = CHECK_ARCH;

static void compute(const struct entry *e)
{
    uint32_t i;
    if (e->f) {
        for (i = 0; i < nin; i++) out[i] = e->f(in[i]);
    } else {
        e->a(in, out, nin);
    }
#if defined(CHECK_MUTANT) /* a deliberately wrong result, to show the test fails */
    if (e->f == w_fp8_e4m3_from_bf16)
        for (i = 0; i < nin; i++) out[i] ^= (uint32_t)(in[i] == 0x3F81u);
#endif
}

static int same_name(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static void process_block(void)
{
    unsigned k;
    uint32_t i;
    for (k = 0; k < N_ENTRIES; k++) {
        const struct entry *e = &entries[k];
        uint32_t h = FNV0;
        if (!(e->sets & cur_set)) continue;
        if (mode == EXPLAIN) {
            if (cur_set != want_set || block_no != want_block || !same_name(e->name, want_name)) continue;
            compute(e);
            explained = 1;
            for (i = 0; i < nin && i < want_count && out[i] == dumped[i]; i++) {
            }
            put("FAIL "); put(arch); put(": "); put(e->name);
            if (i < nin && i < want_count) {
                put(": first differing input 0x"); put_hex(in[i], 8); put(" ("); put(set_name(cur_set));
                put("): target 0x"); put_hex(dumped[i], 8); put(", host 0x"); put_hex(out[i], 8);
            } else {
                put(": the dumped results equal the host's");
            }
            endline();
            break;
        }
        compute(e);
        for (i = 0; i < nin; i++) h = fnv(h, out[i]);
        if (mode == GEN) {
            put("0x"); put_hex(h, 8); put(","); endline();
        }
#if defined(CHECK_EXPECTED)
        else if (n_digests >= CHECK_N_EXPECTED || check_expected[n_digests] != h) {
            failures++;
            put("FAIL "); put(CHECK_ARCH); put(": "); put(e->name); put(" over "); put(set_name(cur_set));
            put(", block "); put_dec(block_no); put(": results differ from the host's"); endline();
            if (dumps < 4) { /* the block's results, for `check explain` */
                dumps++;
                put("DUMP "); put(e->name); put("|"); put_dec(cur_set); put(" "); put_dec(block_no); put(" ");
                put_dec(nin); endline();
                for (i = 0; i < nin; i++) {
                    put_hex(out[i], 8);
                    if (i % 12 == 11 || i == nin - 1) endline(); else put(" ");
                }
                put("END"); endline();
            }
        }
#endif
        n_digests++;
    }
    set_inputs += nin;
    nin = 0;
    block_no++;
}

static void emit(uint32_t x)
{
    in[nin++] = x;
    if (nin == BLOCK) process_block();
}

static void begin_set(unsigned set) { cur_set = set; block_no = 0; set_inputs = 0; nin = 0; }

static void end_set(uint32_t fails_before)
{
    unsigned k, fns = 0;
    if (nin) process_block();
    if (mode != RUN) return;
    for (k = 0; k < N_ENTRIES; k++) fns += (entries[k].sets & cur_set) != 0;
    if (failures == fails_before) {
        put("ok   "); put(CHECK_ARCH); put(": "); put(set_name(cur_set)); put(" ("); put_dec(set_inputs);
        put(" inputs) through "); put_dec(fns); put(" functions: every result equals the host's"); endline();
    }
}

/* The rounding boundaries of FP32 -> a format with m mantissa bits and
   normal exponents [emin, emax], in the FP32 binades of magnitude up to the
   format's largest: in FP32 binade E the format's step is 2^p FP32 steps,
   and every odd multiple of 2^(p-1) is a tie. */
static void boundaries(uint32_t sign, uint32_t m, int emin, int emax)
{
    uint32_t E, k;
    for (E = 0; E < 255; E++) {
        int e = (E ? (int)E : 1) - 127;
        uint32_t p;
        if (e > emax) break;
        p = 23u - m + (uint32_t)(e < emin ? emin - e : 0);
        if (p > 23u) continue; /* the tie, if any, is the binade's start */
        for (k = 0; k < (1u << (23u - p)); k++) {
            uint32_t t = sign | (E << 23) | (k << p) | (1u << (p - 1u));
            emit(t - 1u); emit(t); emit(t + 1u);
        }
    }
}

static void run_sets(void)
{
    uint32_t i, f;
    if (CHECK_SETS & SET8) {
        f = failures; begin_set(SET8);
        for (i = 0; i < 256u; i++) emit(i);
        end_set(f);
    }
    if (CHECK_SETS & SET16) {
        f = failures; begin_set(SET16);
        for (i = 0; i < 65536u; i++) emit(i);
        end_set(f);
    }
    if (CHECK_SETS & SETB) {
        uint32_t s;
        f = failures; begin_set(SETB);
        for (s = 0; s < 2u; s++) {
            uint32_t sign = s << 31, E;
            for (E = 0; E < 256u; E++) { /* powers of two (E8M0), Inf, NaN */
                uint32_t b = sign | (E << 23);
                if (E) emit(b - 1u);
                emit(b); emit(b + 1u);
            }
            emit(sign | 0x7FC00000u); emit(sign | 0x7FFFFFFFu);
            boundaries(sign, 3, -6, 8);    /* E4M3 */
            boundaries(sign, 2, -14, 15);  /* E5M2 */
            boundaries(sign, 7, -126, 127); /* BF16 */
            boundaries(sign, 10, -14, 15); /* FP16 */
        }
        end_set(f);
    }
    if (CHECK_SETS & SET32) {
        f = failures; begin_set(SET32);
        for (i = 0; i < (1u << 24); i++) emit(i << 8 | mix32(i) >> 24);
        end_set(f);
    }
}

static int byte_order(void)
{
    union { uint32_t u; uint8_t b[4]; } v;
    v.u = 0x01020304u;
    return v.b[0] == 1;
}

#if !defined(CHECK_EXPECTED)
/* explain: read "DUMP name|set block count" sections from stdin */
static int explain(void)
{
    static char buf[256];
    int found = 0;
    while (fgets(buf, sizeof buf, stdin)) {
        char name[200];
        unsigned set, blk, cnt, i;
        if (sscanf(buf, "DUMP %199[^|]|%u %u %u", name, &set, &blk, &cnt) != 4) continue;
        dumped = (uint32_t *)malloc(cnt * sizeof *dumped);
        for (i = 0; i < cnt; i++)
            if (scanf("%x", &dumped[i]) != 1) { printf("FAIL %s: truncated dump\n", name); return 1; }
        want_name = name; want_set = set; want_block = blk; want_count = cnt;
        explained = 0;
        run_sets();
        if (!explained) printf("FAIL %s: dumped block %u of set %u not found on the host\n", name, blk, set);
        free(dumped);
        found = 1;
    }
    return found;
}
#endif

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
#if defined(CHECK_EXPECTED)
    mode = RUN;
    put("info "); put(CHECK_ARCH); put(": byte order "); put(byte_order() ? "big-endian" : "little-endian"); endline();
    run_sets();
    if (n_digests != CHECK_N_EXPECTED) {
        failures++;
        put("FAIL "); put(CHECK_ARCH); put(": computed "); put_dec(n_digests); put(" digests, the host "); put_dec(CHECK_N_EXPECTED);
        endline();
    }
#if defined(CHECK_BAREMETAL)
    bm_exit(failures != 0);
#endif
    return failures != 0;
#else
    if (argc == 2 && strcmp(argv[1], "gen") == 0) {
        mode = GEN;
        printf("/* generated by the host build of tests/cross/check.c: digests of the host's results */\n");
        printf("static const uint32_t check_expected[] = {\n");
        run_sets();
        printf("};\n#define CHECK_N_EXPECTED %uu\n", n_digests);
        (void)byte_order;
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "explain") == 0) {
        mode = EXPLAIN;
        arch = argv[2];
        return explain() ? 0 : 1;
    }
    fprintf(stderr, "usage: %s gen > expected.h | %s explain TARGET < target.log\n", argv[0], argv[0]);
    return 2;
#endif
}
