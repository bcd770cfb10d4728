// Every input of every conversion in codec/fp8.h against references written
// by others:
//   - NVIDIA's cuda_fp8.h / cuda_bf16.h / cuda_fp16.h host code, compiled
//     with the system C++ compiler (tests/exhaustive_refs.cpp);
//   - ml_dtypes, through the run-length tables of tests/ref/mldtypes.rle;
//   - the CPU's F16C instruction (vcvtps2ph / vcvtph2ps) where present;
//   - the codec's own FP32 path, for the direct BF16/FP16 conversions, which
//     must equal widening exactly to FP32 first.
// Where a reference departs from fp8kit's documented semantics, the quirk is
// named, the inputs it covers are counted, and everything else must match.
//
//   exhaustive MLDTYPES.rle [TORCH.rle]
// prints one "ok"/"FAIL" line a comparison; exits non-zero on any FAIL.
// TORCH.rle (tests/torch_ref.py, made where PyTorch is installed) adds the
// comparisons with PyTorch's tensor.to(float8_*) and back.
#include "../codec/fp8.h"

// A codec function as a lambda, so that the comparison loop inlines it.
#define FN(f) [](uint32_t x) { return f(x); }

#include "exhaustive_refs.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

int failures = 0;

struct Rle {
    int in_bits = 0;
    std::vector<uint32_t> start, value;
    // Fill out[i] with the table's value for input base + i.
    template <class T> void fill(uint64_t base, T *out, uint32_t n) const
    {
        size_t r = std::upper_bound(start.begin(), start.end(), (uint32_t)base) - start.begin() - 1;
        for (uint64_t i = base; i < base + n; r++) {
            uint64_t end = r + 1 < start.size() ? start[r + 1] : base + n;
            if (end > base + n) end = base + n;
            std::fill(out + (i - base), out + (end - base), (T)value[r]);
            i = end;
        }
    }
};

std::map<std::string, Rle> load_rle(const char *path)
{
    std::map<std::string, Rle> tables;
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    char line[256], name[128];
    int bits; unsigned count;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "table %127s %d %u", name, &bits, &count) != 3) {
            fprintf(stderr, "%s: bad line: %s", path, line); exit(2);
        }
        Rle &t = tables[name];
        t.in_bits = bits;
        for (unsigned i = 0; i < count; i++) {
            unsigned s, v;
            if (!fgets(line, sizeof line, f) || sscanf(line, "%x %x", &s, &v) != 2) {
                fprintf(stderr, "%s: truncated table %s\n", path, name); exit(2);
            }
            t.start.push_back(s); t.value.push_back(v);
        }
        if (t.start.empty() || t.start[0] != 0) { fprintf(stderr, "%s: %s must start at 0\n", path, name); exit(2); }
    }
    fclose(f);
    return tables;
}

const Rle &table(const std::map<std::string, Rle> &t, const char *name)
{
    auto it = t.find(name);
    if (it == t.end()) { fprintf(stderr, "reference table %s missing\n", name); exit(2); }
    return it->second;
}

// Compare ours(x) with a reference over inputs [0, n). fill(base, ref, len)
// writes the reference outputs for a block. quirk(x, ours, ref) says whether
// a difference is the named departure of that reference.
template <class T, class Ours, class Fill, class Quirk>
void compare(const char *what, uint64_t n, Ours ours, Fill fill, const char *quirk_name, Quirk quirk)
{
    const uint32_t B = 1u << 16;
    const double t0 = omp_get_wtime();
    uint64_t bad = 0, quirks = 0, first_bad = ~0ull;
    const int64_t blocks = (int64_t)((n + B - 1) / B);
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : bad, quirks)
    for (int64_t b = 0; b < blocks; b++) {
        uint64_t base = (uint64_t)b * B;
        uint32_t len = (uint32_t)(n - base < B ? n - base : B);
        T ref[1u << 16], got[1u << 16];
        fill(base, ref, len);
        for (uint32_t i = 0; i < len; i++) got[i] = (T)ours((uint32_t)(base + i)); // vectorizes
        if (memcmp(got, ref, len * sizeof(T)) == 0) continue;
        for (uint32_t i = 0; i < len; i++) {
            uint32_t x = (uint32_t)(base + i);
            if (got[i] == ref[i]) continue;
            if (quirk(x, got[i], ref[i])) { quirks++; continue; }
            bad++;
#pragma omp critical
            if (x < first_bad) first_bad = x;
        }
    }
    const double secs = omp_get_wtime() - t0;
    if (bad) {
        failures++;
        T r[1];
        fill(first_bad, r, 1);
        printf("FAIL %s: %llu of %llu inputs differ; first input 0x%llx: ours 0x%llx, reference 0x%llx\n", what,
               (unsigned long long)bad, (unsigned long long)n, (unsigned long long)first_bad,
               (unsigned long long)(T)ours((uint32_t)first_bad), (unsigned long long)r[0]);
    } else if (quirks) {
        printf("ok   %s: %llu inputs equal, %llu differ only by the named quirk: %s (%.1f s)\n", what,
               (unsigned long long)(n - quirks), (unsigned long long)quirks, quirk_name, secs);
    } else {
        printf("ok   %s: all %llu inputs equal (%.1f s)\n", what, (unsigned long long)n, secs);
    }
    fflush(stdout);
}

template <class T, class Ours, class Fill>
void compare(const char *what, uint64_t n, Ours ours, Fill fill)
{
    compare<T>(what, n, ours, fill, "", [](uint32_t, T, T) { return false; });
}

// A reference given per input, turned into a block fill.
template <class T, class F> auto per_input(F f)
{
    return [f](uint64_t base, T *out, uint32_t n) {
        for (uint32_t i = 0; i < n; i++) out[i] = (T)f((uint32_t)(base + i));
    };
}

template <class T> auto from_rle(const Rle &t)
{
    return [&t](uint64_t base, T *out, uint32_t n) { t.fill(base, out, n); };
}

bool f32_nan(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }
bool h_nan(uint32_t h) { return (h & 0x7FFFu) > 0x7C00u; }
bool bf_nan(uint32_t h) { return (h & 0x7FFFu) > 0x7F80u; }

// Named quirks of the references.
const char *NV_NAN_SIGN = "NVIDIA's host code drops the sign of NaN (0x7F for -NaN)";
auto nv_nan_sign = [](uint32_t x, uint8_t o, uint8_t r) { return f32_nan(x) && r == 0x7F && o == 0xFF; };
const char *ML_E5M2_NAN = "ml_dtypes writes E5M2 NaN as 0x7E/0xFE, fp8kit as 0x7F/0xFF";
const char *NV_CANON_NAN = "NVIDIA's host code returns its canonical NaN (all ones, sign dropped)";
const char *F16C_NAN = "F16C keeps the NaN payload; fp8kit returns the quiet NaN with the sign";

} // namespace

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) { fprintf(stderr, "usage: %s tests/ref/mldtypes.rle [torch.rle]\n", argv[0]); return 2; }
    const auto ml = load_rle(argv[1]);
    const uint64_t ALL32 = 1ull << 32, ALL16 = 1u << 16, ALL8 = 256;

    // ---- FP32 -> FP8, every FP32 bit pattern ----
    compare<uint8_t>("f32->e4m3 sat   vs NVIDIA __nv_cvt_float_to_fp8 SATFINITE", ALL32, FN(fp8_e4m3_from_f32_bits),
                     [](uint64_t b, uint8_t *o, uint32_t n) { nv_fp8_from_f32(b, o, n, true, false); });
    compare<uint8_t>("f32->e5m2 sat   vs NVIDIA __nv_cvt_float_to_fp8 SATFINITE", ALL32, FN(fp8_e5m2_from_f32_bits),
                     [](uint64_t b, uint8_t *o, uint32_t n) { nv_fp8_from_f32(b, o, n, true, true); });
    compare<uint8_t>("f32->e4m3 nosat vs NVIDIA __nv_cvt_float_to_fp8 NOSAT", ALL32, FN(fp8_e4m3_from_f32_nosat_bits),
                     [](uint64_t b, uint8_t *o, uint32_t n) { nv_fp8_from_f32(b, o, n, false, false); },
                     NV_NAN_SIGN, nv_nan_sign);
    compare<uint8_t>("f32->e5m2 nosat vs NVIDIA __nv_cvt_float_to_fp8 NOSAT", ALL32, FN(fp8_e5m2_from_f32_nosat_bits),
                     [](uint64_t b, uint8_t *o, uint32_t n) { nv_fp8_from_f32(b, o, n, false, true); },
                     NV_NAN_SIGN, nv_nan_sign);
    compare<uint8_t>("f32->e4m3 nosat vs ml_dtypes float8_e4m3fn", ALL32, FN(fp8_e4m3_from_f32_nosat_bits),
                     from_rle<uint8_t>(table(ml, "f32_to_e4m3fn")));
    compare<uint8_t>("f32->e5m2 nosat vs ml_dtypes float8_e5m2", ALL32, FN(fp8_e5m2_from_f32_nosat_bits),
                     from_rle<uint8_t>(table(ml, "f32_to_e5m2")), ML_E5M2_NAN,
                     [](uint32_t x, uint8_t o, uint8_t r) { return f32_nan(x) && r == (o ^ 1); });

    // ---- FP32 -> E8M0 ----
#define E8M0(mode, sat, ours, nv_sat, nv_round_up)                                                   \
    compare<uint8_t>("f32->e8m0 " mode " " sat " vs NVIDIA __nv_cvt_float_to_e8m0", ALL32, FN(ours), \
                     [](uint64_t b, uint8_t *o, uint32_t n) { nv_e8m0_from_f32(b, o, n, nv_sat, nv_round_up); })
    E8M0("rz", "sat  ", fp8_e8m0_from_f32_rz_bits, true, false);
    E8M0("rz", "nosat", fp8_e8m0_from_f32_rz_nosat_bits, false, false);
    E8M0("rp", "sat  ", fp8_e8m0_from_f32_rp_bits, true, true);
    E8M0("rp", "nosat", fp8_e8m0_from_f32_rp_nosat_bits, false, true);

    // ---- FP32 -> BF16, FP16 ----
    compare<uint16_t>("f32->bf16 vs NVIDIA __float2bfloat16_rn", ALL32, FN(bf16_from_f32_bits),
                      nv_bf16_from_f32, NV_CANON_NAN,
                      [](uint32_t x, uint16_t o, uint16_t r) { return f32_nan(x) && r == 0x7FFF && bf_nan(o); });
    compare<uint16_t>("f32->f16  vs NVIDIA __float2half_rn", ALL32, FN(f16_from_f32_bits),
                      nv_f16_from_f32, NV_CANON_NAN,
                      [](uint32_t x, uint16_t o, uint16_t r) { return f32_nan(x) && r == 0x7FFF && h_nan(o); });
    if (f16c_present()) {
        compare<uint16_t>("f32->f16  vs F16C vcvtps2ph", ALL32, FN(f16_from_f32_bits),
                          f16c_from_f32,
                          F16C_NAN, [](uint32_t x, uint16_t o, uint16_t r) { return f32_nan(x) && h_nan(r) && h_nan(o) && ((o ^ r) & 0x8000) == 0; });
        compare<uint32_t>("f16->f32  vs F16C vcvtph2ps", ALL16, FN(f16_to_f32_bits),
                          f16c_to_f32,
                          F16C_NAN, [](uint32_t h, uint32_t o, uint32_t r) { return h_nan(h) && f32_nan(r) && f32_nan(o) && ((o ^ r) >> 31) == 0; });
    } else {
        printf("SKIPPED f32<->f16 vs F16C: this CPU has no F16C\n");
    }
    compare<uint32_t>("f16->f32  vs NVIDIA __half2float", ALL16, FN(f16_to_f32_bits),
                      nv_f16_to_f32, NV_CANON_NAN,
                      [](uint32_t h, uint32_t o, uint32_t r) { return h_nan(h) && f32_nan(r) && f32_nan(o); });

    // ---- BF16, FP16 -> FP8, every 16-bit pattern ----
    struct Src16 {
        const char *name; bool is_f16;
        uint8_t (*e4)(uint16_t); uint8_t (*e5)(uint16_t); uint8_t (*e4n)(uint16_t); uint8_t (*e5n)(uint16_t);
    } srcs[] = {
        {"bf16", false, fp8_e4m3_from_bf16, fp8_e5m2_from_bf16, fp8_e4m3_from_bf16_nosat, fp8_e5m2_from_bf16_nosat},
        {"f16", true, fp8_e4m3_from_f16, fp8_e5m2_from_f16, fp8_e4m3_from_f16_nosat, fp8_e5m2_from_f16_nosat},
    };
    for (const Src16 &s : srcs) {
        auto widen = [&s](uint32_t h) { return s.is_f16 ? f16_to_f32_bits((uint16_t)h) : bf16_to_f32_bits((uint16_t)h); };
        auto is_nan = [&s](uint32_t h) { return s.is_f16 ? h_nan(h) : bf_nan(h); };
        auto nv = s.is_f16 ? nv_fp8_from_f16 : nv_fp8_from_bf16;
        struct { const char *mode; uint8_t (*ours)(uint16_t); uint8_t (*via)(uint32_t); bool sat, e5m2; const char *ml; } m[] = {
            {"e4m3 sat  ", s.e4, fp8_e4m3_from_f32_bits, true, false, nullptr},
            {"e5m2 sat  ", s.e5, fp8_e5m2_from_f32_bits, true, true, nullptr},
            {"e4m3 nosat", s.e4n, fp8_e4m3_from_f32_nosat_bits, false, false, "e4m3fn"},
            {"e5m2 nosat", s.e5n, fp8_e5m2_from_f32_nosat_bits, false, true, "e5m2"},
        };
        for (auto &c : m) {
            auto ours = [&c](uint32_t h) { return c.ours((uint16_t)h); };
            std::string w = std::string(s.name) + "->" + c.mode;
            compare<uint8_t>((w + " vs fp8kit's own f32 path after exact widening").c_str(), ALL16, ours,
                             per_input<uint8_t>([&](uint32_t h) { return c.via(widen(h)); }));
            compare<uint8_t>((w + " vs NVIDIA host code").c_str(), ALL16, ours,
                             [&](uint64_t b, uint8_t *o, uint32_t n) { nv(b, o, n, c.sat, c.e5m2); }, NV_NAN_SIGN,
                             [&](uint32_t h, uint8_t o, uint8_t r) { return is_nan(h) && r == 0x7F && o == 0xFF; });
            if (c.ml) {
                std::string tn = std::string(s.name) + "_to_" + c.ml;
                compare<uint8_t>((w + " vs ml_dtypes").c_str(), ALL16, ours, from_rle<uint8_t>(table(ml, tn.c_str())),
                                 ML_E5M2_NAN, [&](uint32_t h, uint8_t o, uint8_t r) { return is_nan(h) && r == (o ^ 1); });
            }
        }
    }

    // ---- FP8 -> FP32, BF16, FP16, every code ----
    struct { const char *what; uint32_t (*ours)(uint32_t); const char *ml; } dec[] = {
        {"e4m3->f32  vs ml_dtypes", [](uint32_t c) { return fp8_e4m3_to_f32_bits((uint8_t)c); }, "e4m3fn_to_f32"},
        {"e5m2->f32  vs ml_dtypes", [](uint32_t c) { return fp8_e5m2_to_f32_bits((uint8_t)c); }, "e5m2_to_f32"},
        {"e4m3->bf16 vs ml_dtypes", [](uint32_t c) { return (uint32_t)fp8_e4m3_to_bf16((uint8_t)c); }, "e4m3fn_to_bf16"},
        {"e5m2->bf16 vs ml_dtypes", [](uint32_t c) { return (uint32_t)fp8_e5m2_to_bf16((uint8_t)c); }, "e5m2_to_bf16"},
        {"e4m3->f16  vs ml_dtypes", [](uint32_t c) { return (uint32_t)fp8_e4m3_to_f16((uint8_t)c); }, "e4m3fn_to_f16"},
        {"e5m2->f16  vs ml_dtypes", [](uint32_t c) { return (uint32_t)fp8_e5m2_to_f16((uint8_t)c); }, "e5m2_to_f16"},
        {"e8m0->f32  vs ml_dtypes", [](uint32_t c) { return fp8_e8m0_to_f32_bits((uint8_t)c); }, "e8m0fnu_to_f32"},
    };
    for (auto &d : dec) compare<uint32_t>(d.what, ALL8, d.ours, from_rle<uint32_t>(table(ml, d.ml)));
    struct { const char *what; uint16_t (*ours)(uint8_t); bool e5m2; } dec16[] = {
        {"e4m3->f16  vs NVIDIA __nv_cvt_fp8_to_halfraw", fp8_e4m3_to_f16, false},
        {"e5m2->f16  vs NVIDIA __nv_cvt_fp8_to_halfraw", fp8_e5m2_to_f16, true},
    };
    for (auto &d : dec16)
        compare<uint16_t>(d.what, ALL8, [&d](uint32_t c) { return d.ours((uint8_t)c); },
                          [&d](uint64_t b, uint16_t *o, uint32_t n) { nv_fp8_to_f16(b, o, n, d.e5m2); },
                          NV_CANON_NAN, [](uint32_t, uint16_t o, uint16_t r) { return r == 0x7FFF && h_nan(o); });
    compare<uint32_t>("e8m0->f32  vs NVIDIA __nv_cvt_e8m0_to_bf16raw", ALL8, [](uint32_t c) { return fp8_e8m0_to_f32_bits((uint8_t)c); },
                      nv_e8m0_to_f32,
                      NV_CANON_NAN, [](uint32_t, uint32_t o, uint32_t r) { return r == 0x7FFF0000u && f32_nan(o); });

    // ---- PyTorch (tables made where torch is installed) ----
    if (argc == 3) {
        const auto pt = load_rle(argv[2]);
        auto e5nan = [](uint32_t c) { return (c & 0x7F) > 0x7C; };
        compare<uint8_t>("f32->e4m3 nosat vs PyTorch .to(float8_e4m3fn)", ALL32, FN(fp8_e4m3_from_f32_nosat_bits),
                         from_rle<uint8_t>(table(pt, "f32_to_e4m3fn")));
        compare<uint8_t>("f32->e5m2 nosat vs PyTorch .to(float8_e5m2)", ALL32, FN(fp8_e5m2_from_f32_nosat_bits),
                         from_rle<uint8_t>(table(pt, "f32_to_e5m2")), "PyTorch's E5M2 NaN code differs (both NaN, same sign)",
                         [&](uint32_t x, uint8_t o, uint8_t r) { return f32_nan(x) && e5nan(o) && e5nan(r) && ((o ^ r) & 0x80) == 0; });
        struct { const char *what, *tab; uint8_t (*ours)(uint16_t); } s16[] = {
            {"bf16->e4m3 nosat vs PyTorch", "bf16_to_e4m3fn", fp8_e4m3_from_bf16_nosat},
            {"bf16->e5m2 nosat vs PyTorch", "bf16_to_e5m2", fp8_e5m2_from_bf16_nosat},
            {"f16->e4m3 nosat vs PyTorch", "f16_to_e4m3fn", fp8_e4m3_from_f16_nosat},
            {"f16->e5m2 nosat vs PyTorch", "f16_to_e5m2", fp8_e5m2_from_f16_nosat},
        };
        for (auto &c : s16)
            compare<uint8_t>(c.what, ALL16, [&c](uint32_t h) { return c.ours((uint16_t)h); }, from_rle<uint8_t>(table(pt, c.tab)),
                             "PyTorch drops the sign of a NaN FP16 input (0x7F for -NaN)",
                             [&](uint32_t h, uint8_t o, uint8_t r) { return (c.tab[0] == 'f') && h_nan(h) && o == 0xFF && r == 0x7F; });
        for (auto &d : dec) {
            if (strstr(d.ml, "e8m0")) continue; // PyTorch has no E8M0 here
            std::string what = std::string(d.what, strstr(d.what, " vs ")) + " vs PyTorch";
            const bool to32 = strstr(d.ml, "_f32") != nullptr, tobf = strstr(d.ml, "_bf16") != nullptr;
            compare<uint32_t>(what.c_str(), ALL8, d.ours, from_rle<uint32_t>(table(pt, d.ml)),
                              to32 ? "PyTorch keeps the NaN payload bits (0x7FF00000 | sign for E4M3)"
                                   : "PyTorch returns the canonical NaN 0x7FFF for BF16/FP16, sign dropped",
                              [to32, tobf](uint32_t, uint32_t o, uint32_t r) {
                                  if (to32) return f32_nan(o) && f32_nan(r) && ((o ^ r) >> 31) == 0;
                                  return r == 0x7FFF && (tobf ? bf_nan(o) : h_nan(o));
                              });
        }
    }

    printf("%s\n", failures ? "exhaustive: FAILED" : "exhaustive: all comparisons passed");
    return failures ? 1 : 0;
}
