// build/decode: the decode benchmarks (issue 6) and their checks.
//
//   gemv/<impl>/<wdtype>/<M>x<N>x<K>        impl fp8kit | cublaslt,
//       wdtype e4m3_channel | e4m3_block (W8A16) | e4m3_a8 (ours, W8A8:
//       per-token activation scales) | bf16, and e4m3_tensor for cuBLASLt
//       (W8A8, as are its e4m3_channel and e4m3_block); counters gbps (weight bytes / time),
//       frac_copy, tflops. Shapes: sweeps/layers.txt x the decode token
//       counts of sweeps/tokens.txt up to 64.
//   attn_decode/fp8kit/<kvdtype>/b<B>_l<L>_hq<Hq>_hkv<Hkv>_d128_<layout>
//       kvdtype bf16 | e4m3 | e5m2, layout contig | paged16 | paged64;
//       counters gbps (KV bytes / time), frac_copy. Shapes:
//       sweeps/attention.txt; cases whose KV cache does not fit are skipped.
//   gemv_chain/<impl>/<wdtype>/<M>x<N>x<N>_j<J>   (only with --only=chain)
//       J dependent GEMVs an iteration (bm_chain: J launches, or one launch
//       of gemv_chain.cuh's persistent kernel); counters gbps (the J
//       matrices' bytes / time), frac_copy, us_per_gemv.
//
// Flags (besides Google Benchmark's): --check (every kernel against an FP64
// reference on the GPU, fresh random inputs, seed printed; no timing),
// --quick (Llama-3.1-8B/70B; M = 1, 16, 64; batch 1, 16, 64; context 4K,
// 32K), --seed=N, --models=a,b (filter), --tokens=1,16 (GEMV M list),
// --only=gemv|attn|chain, --layers=FILE --tokens_file=FILE --attention=FILE.
// Attention tuning: --attn_variants=s4,w8,s16w4p1 (also time our kernel
// with that many context splits, consumer warps and/or S a stage ahead,
// impl fp8kit-<variant>), --attn_warps=4|8, --attn_pipe=0|1,
// --attn_producers=1|2 (force them everywhere, the checks aside; two
// producer warps only where the kernel has them: FP8, 8 warps, S not
// ahead), --attn_pdl=0 (time without programmatic dependent launch).
// GEMV tuning: --gemv_variants=s2,k4,k4s2,e1,k2e1 (also time our kernel with
// forced k groups, split and/or the rows split evenly over n CTAs an SM,
// impl fp8kit-<variant>), --gemv_stages=N (ring depth), --gemv_pdl=0 (no
// programmatic dependent launch), --gemv_min_resident=N (CTAs an SM the ring
// is sized for), --gemv_wide_ring=0 (beyond 16 tokens too; default 1: there
// rings for the CTAs an SM the launch has), --gemv_wgmma=0|2 (W8A8's and BF16's consumers on mma.sync, or on
// wgmma, everywhere; 1, the default: gemv::wgmma_rule(); the checks run
// both), --chain_pre=N (the persistent chain's W stages issued
// before X's wait), --chain_ctas=2 (two of its CTAs an SM).
// Diagnostics (build/decode_trace, built with -DATTN_TRACE -DGEMV_TRACE):
// --attn_trace=..., --gemv_trace=..., --gemv_chain_trace=... (per-CTA
// timestamps; see below).
#include "bench.h"

using bench::DevBuf;
using bench::opt;
using bench::split_csv;

#include "../../codec/fp8.h"
#include "attn_decode.cuh"
#include "cublaslt_gemv.cuh"
#include "gemv.cuh"
#include "gemv_chain.cuh"
#include "random.cuh"

#include <chrono>
#include <memory>
#include <random>
#include <set>
#include <sstream>

// ---------------------------------------------------------------- random data


// Every E4M3 code but NaN, uniformly.
__global__ void fill_e4m3_codes(uint8_t *p, size_t n, uint64_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint8_t c = (uint8_t)mix64(seed * 0x100000001B3ull + i);
        if ((c & 0x7F) == 0x7F) c &= 0xF0;
        p[i] = c;
    }
}
__global__ void fill_bf16(uint16_t *p, size_t n, uint64_t seed, float amp)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = bf16_from_f32(amp * unif(seed, i));
}
__global__ void fill_f32(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = lo + (hi - lo) * 0.5f * (unif(seed, i) + 1.f);
}
// KV pages [page][Hkv][P][128]: values amp * U(-1, 1), stored as BF16 or
// quantized with the head's scale (saturating RNE, the hardware's cvt).
__global__ void fill_kv(void *p, size_t n, uint64_t seed, int kv, float amp, const float *scale, int P, int Hkv)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float v = amp * unif(seed, i);
        if (kv == attn::KV_BF16) {
            ((uint16_t *)p)[i] = bf16_from_f32(v);
        } else {
            const int h = (int)((i / ((size_t)P * attn::HD)) % Hkv);
            const float q = v / scale[h];
            ((uint8_t *)p)[i] = kv == attn::KV_E4M3 ? fp8_e4m3_from_f32(q) : fp8_e5m2_from_f32(q);
        }
    }
}

static void launch_fill_codes(void *p, size_t n, uint64_t seed)
{
    fill_e4m3_codes<<<1024, 256>>>((uint8_t *)p, n, seed);
    CUDA_CHECK_LAUNCH();
}
static void launch_fill_bf16(void *p, size_t n, uint64_t seed, float amp)
{
    fill_bf16<<<1024, 256>>>((uint16_t *)p, n, seed, amp);
    CUDA_CHECK_LAUNCH();
}
static void launch_fill_f32(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    fill_f32<<<256, 256>>>(p, n, seed, lo, hi);
    CUDA_CHECK_LAUNCH();
}

static uint64_t g_seed = 0;
static uint64_t next_seed() { return mix64(g_seed++); }

// ---------------------------------------------------------------- references (FP64, GPU)

// out[m][n] = sum_k X[m][k] * deq(W[n][k]); one warp a row n, 8 tokens at a time.
__global__ void ref_gemv(int wt, const void *W, const float *scale, const float *X, int M, int N, int K, double *out)
{
    const int n = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x & 31;
    if (n >= N) return;
    for (int m0 = 0; m0 < M; m0 += 8) {
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int k = lane; k < K; k += 32) {
            double w;
            if (wt == gemv::BF16) w = bf16_to_f32(((const uint16_t *)W)[(size_t)n * K + k]);
            else w = fp8_e4m3_to_f32(((const uint8_t *)W)[(size_t)n * K + k]);
            if (wt == gemv::E4M3_BLOCK) w *= scale[(size_t)(n / 128) * (K / 128) + k / 128];
#pragma unroll
            for (int j = 0; j < 8; j++)
                if (m0 + j < M) acc[j] += w * (double)X[(size_t)(m0 + j) * K + k];
        }
#pragma unroll
        for (int j = 0; j < 8; j++) {
            double v = acc[j];
            for (int o = 16; o; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            if (lane == 0 && m0 + j < M)
                out[(size_t)(m0 + j) * N + n] = v * (wt == gemv::E4M3_CHANNEL || gemv::is_a8(wt) ? (double)scale[n] : 1.0);
        }
    }
}

__device__ inline double kv_val(int kv, const void *p, size_t i)
{
    if (kv == attn::KV_BF16) return bf16_to_f32(((const uint16_t *)p)[i]);
    const uint8_t c = ((const uint8_t *)p)[i];
    return kv == attn::KV_E4M3 ? fp8_e4m3_to_f32(c) : fp8_e5m2_to_f32(c);
}

// One block of 128 threads a (sequence, query head).
__global__ void ref_attn(int kv, attn::Params p, int Lmax, double *scores, double *out)
{
    const int b = blockIdx.x / p.Hq, hq = blockIdx.x % p.Hq;
    const int G = p.Hq / p.Hkv, h = hq / G;
    const int L = p.seq_len[b];
    const double ks = kv == attn::KV_BF16 ? 1.0 : p.k_scale[h], vs = kv == attn::KV_BF16 ? 1.0 : p.v_scale[h];
    const int pmask = (1 << p.page_shift) - 1;
    double *sc = scores + (size_t)blockIdx.x * Lmax;
    const __nv_bfloat16 *q = p.q + ((size_t)b * p.Hq + hq) * attn::HD;
    auto off = [&](int t) {
        const int page = p.table[(size_t)b * p.table_stride + (t >> p.page_shift)];
        return ((((size_t)page * p.Hkv + h) << p.page_shift) + (t & pmask)) * attn::HD;
    };
    for (int t = threadIdx.x; t < L; t += blockDim.x) {
        const size_t o = off(t);
        double s = 0;
        for (int d = 0; d < attn::HD; d++) s += (double)__bfloat162float(q[d]) * kv_val(kv, p.k, o + d) * ks;
        sc[t] = s * (double)p.sm_scale;
    }
    __shared__ double red[128];
    __syncthreads();
    double mx = -1e300;
    for (int t = threadIdx.x; t < L; t += blockDim.x) mx = fmax(mx, sc[t]);
    red[threadIdx.x] = mx;
    __syncthreads();
    for (int s = 64; s; s >>= 1) {
        if ((int)threadIdx.x < s) red[threadIdx.x] = fmax(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    mx = red[0];
    const int d = threadIdx.x;
    double acc = 0, sum = 0;
    for (int t = 0; t < L; t++) {
        const double e = exp(sc[t] - mx);
        sum += e;
        acc += e * kv_val(kv, p.v, off(t) + d) * vs;
    }
    out[((size_t)b * p.Hq + hq) * attn::HD + d] = sum > 0 ? acc / sum : 0.0; // an empty sequence: 0
}

static std::vector<double> bf16_to_double(const std::vector<uint16_t> &v)
{
    std::vector<double> r(v.size());
    for (size_t i = 0; i < v.size(); i++) r[i] = bf16_to_f32(v[i]);
    return r;
}

static int g_fail = 0;
static void check(bool ok, const std::string &what, double err, double bound)
{
    if (!bench::report_check(ok, what, err, bound)) g_fail++;
}

// ---------------------------------------------------------------- GEMV data

// e4m3_channel / e4m3_block: W8A16 (BF16 activations); e4m3_a8: W8A8 (E4M3
// activations with per-token scales, per-channel weight scales); e4m3_a8g:
// the same with a scale a (token, 64-k group) of the activations
static const char *wt_name(int wt)
{
    return wt == gemv::BF16 ? "bf16" : wt == gemv::E4M3_CHANNEL ? "e4m3_channel" : wt == gemv::E4M3_A8 ? "e4m3_a8"
         : wt == gemv::E4M3_A8G ? "e4m3_a8g" : "e4m3_block";
}
static size_t wt_bytes(int wt) { return wt == gemv::BF16 ? 2 : 1; }
static size_t scale_count(int wt, int N, int K)
{
    return wt == gemv::E4M3_CHANNEL || gemv::is_a8(wt) ? (size_t)N : wt == gemv::E4M3_BLOCK ? (size_t)((N + 127) / 128) * (K / 128) : 1;
}

struct GemvSet {
    DevBuf<uint8_t> w;
    DevBuf<float> s;
    GemvSet(int wt, int N, int K) : w((size_t)N * K * wt_bytes(wt)), s(scale_count(wt, N, K))
    {
        if (wt == gemv::BF16) launch_fill_bf16(w.p, (size_t)N * K, next_seed(), 1.f);
        else launch_fill_codes(w.p, (size_t)N * K, next_seed());
        // scales around 2^-8, so E4M3 codes (up to 448) give values near 1
        launch_fill_f32(s.p, s.n, next_seed(), 1.f / 512, 1.f / 128);
    }
};

// Activations quantized to E4M3 for cuBLASLt and the W8A8 GEMVs: per token
// (channel mode), per token and `group` k (block mode: 128 for cuBLASLt, 64
// for E4M3_A8G) or per tensor; amax / 448, on the host.
struct QuantX {
    std::vector<uint8_t> q;
    std::vector<float> s;     // scales in cuBLASLt's expected order
    std::vector<float> deq;   // dequantized values, M x K (reference input)
};
static QuantX quantize_x(const std::vector<uint16_t> &x, int M, int K, int mode, bool mn_major, int group = 128)
{
    QuantX r;
    r.q.resize((size_t)M * K);
    r.deq.resize((size_t)M * K);
    const int kb = K / group;
    // amax of each (token, k group), of each token, of the tensor
    std::vector<float> bmax((size_t)M * kb, 0.f), rmax(M, 0.f);
    float tmax = 0;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            const float a = std::fabs(bf16_to_f32(x[(size_t)m * K + k]));
            float &b = bmax[(size_t)m * kb + k / group];
            b = std::max(b, a);
            rmax[m] = std::max(rmax[m], a);
            tmax = std::max(tmax, a);
        }
    auto sc = [](float amax) { return (amax > 0 ? amax : 1.f) / 448; };
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            const float s = mode == lt::FP8_TENSOR ? sc(tmax) : mode == lt::FP8_CHANNEL ? sc(rmax[m])
                                                                                          : sc(bmax[(size_t)m * kb + k / group]);
            const uint8_t c = fp8_e4m3_from_f32(bf16_to_f32(x[(size_t)m * K + k]) / s);
            r.q[(size_t)m * K + k] = c;
            r.deq[(size_t)m * K + k] = fp8_e4m3_to_f32(c) * s;
        }
    if (mode == lt::FP8_TENSOR) r.s = {sc(tmax)};
    else if (mode == lt::FP8_CHANNEL)
        for (int m = 0; m < M; m++) r.s.push_back(sc(rmax[m]));
    else {
        r.s.resize((size_t)M * kb);
        for (int m = 0; m < M; m++)
            for (int b = 0; b < kb; b++) r.s[mn_major ? (size_t)b * M + m : (size_t)m * kb + b] = sc(bmax[(size_t)m * kb + b]);
    }
    return r;
}
// E4M3_A8G's X: 64-k groups, the scales in gemv::xg_index() order (padding tokens 1)
static QuantX quantize_x_groups(const std::vector<uint16_t> &x, int M, int K)
{
    QuantX q = quantize_x(x, M, K, lt::FP8_BLOCK, false, gemv::XGROUP);
    std::vector<float> s(gemv::xg_count(M, K), 1.f);
    for (int m = 0; m < M; m++)
        for (int g = 0; g < K / gemv::XGROUP; g++) s[gemv::xg_index(m, g, M)] = q.s[(size_t)m * (K / gemv::XGROUP) + g];
    q.s = s;
    return q;
}

// ---------------------------------------------------------------- GEMV checks

// wide: activations spread over 2^-24..2^20, with exact zeros.
static int g_gemv_stages = 0;   // --gemv_stages=N: force the GEMV ring's depth (tuning)
static bool g_gemv_pdl = true;  // --gemv_pdl=0: launch without programmatic dependent launch
static bool g_attn_pdl = true;  // --attn_pdl=0: the same for the attention
static int g_chain_pre = 2;     // --chain_pre=N: the persistent chain's W stages issued before X's wait (tuning; ChainParams::pre)
static int g_chain_ctas = 1;    // --chain_ctas=2: the persistent chain with two CTAs an SM (tuning)

// shared: a split-K workspace shared with other GEMVs (zeroed by the caller)
// group_mag: each (token, 64-k group) of X scaled by its own power of two in
// 2^-8..2^8, so that a group scale applied to the wrong k or token shows.
// even > 0: the rows split evenly over even CTAs an SM (Plan::even).
static double gemv_check_one(int wt, int M, int N, int K, int split, bool exact_onehot, bool wide = false,
                             int stages = 0, DevBuf<uint8_t> *shared = nullptr, int kg = 0, bool group_mag = false,
                             int even = 0)
{
    GemvSet set(wt, N, K);
    std::vector<uint16_t> xh((size_t)M * K);
    std::vector<float> xf((size_t)M * K);
    if (exact_onehot) {
        // one-hot rows: y[m][n] = W[n][k_m] * scale, one product, exact in BF16
        std::vector<uint8_t> w = set.w.download();
        std::vector<float> s(set.s.n, 1.f);
        set.s.upload(s);
        for (int m = 0; m < M; m++) {
            const int km = (m * 997 + 13) % K;
            for (int n = 0; n < N; n++) {
                if (wt == gemv::BF16) {
                    uint16_t v = bf16_from_f32(0.001f * (float)(n * 16 + m) - 2.f);
                    memcpy(&w[((size_t)n * K + km) * 2], &v, 2);
                } else {
                    uint8_t c = (uint8_t)(n * 16 + m);
                    if ((c & 0x7F) == 0x7F) c = 0;
                    w[(size_t)n * K + km] = c;
                }
            }
            for (int k = 0; k < K; k++) xh[(size_t)m * K + k] = k == km ? 0x3F80 : 0;
        }
        set.w.upload(w);
    } else {
        std::mt19937_64 rng(next_seed());
        std::uniform_real_distribution<float> u(-1.f, 1.f);
        std::uniform_int_distribution<int> ex(-24, 20);
        for (auto &v : xh) {
            float x = u(rng);
            if (wide) x = (rng() % 16 == 0) ? 0.f : std::ldexp(x, ex(rng));
            v = bf16_from_f32(x);
        }
        if (group_mag)
            for (int m = 0; m < M; m++)
                for (int k = 0; k < K; k++) {
                    uint16_t &v = xh[(size_t)m * K + k];
                    v = bf16_from_f32(std::ldexp(bf16_to_f32(v), (int)(((k / 64) * 7 + m * 3) % 17) - 8));
                }
    }
    for (size_t i = 0; i < xh.size(); i++) xf[i] = bf16_to_f32(xh[i]);
    // W8A8: X as E4M3 with per-token or per-group scales (one-hot: 1.0 = code 0x38, scale 1)
    const bool a8 = gemv::is_a8(wt), grouped = wt == gemv::E4M3_A8G;
    std::vector<uint8_t> xqh(a8 ? xh.size() : 1, 0);
    std::vector<float> xsh(grouped ? gemv::xg_count(M, K) : (size_t)M, 1.f);
    if (a8) {
        if (exact_onehot)
            for (size_t i = 0; i < xh.size(); i++) xqh[i] = xh[i] ? 0x38 : 0;
        else {
            QuantX q = grouped ? quantize_x_groups(xh, M, K) : quantize_x(xh, M, K, lt::FP8_CHANNEL, false);
            xqh = q.q, xsh = q.s, xf = q.deq;
        }
    }
    DevBuf<uint8_t> xq(xqh.size());
    xq.upload(xqh);
    DevBuf<float> xs(xsh.size());
    xs.upload(xsh);
    DevBuf<uint16_t> x(xh.size());
    x.upload(xh);
    DevBuf<float> xfd(xf.size());
    xfd.upload(xf);
    DevBuf<uint16_t> y((size_t)M * N);
    CUDA_CHECK(cudaMemset(y.p, 0xFF, y.n * 2)); // poison: BF16 NaN
    gemv::Plan pl = gemv::plan(wt, M, N, K, split, stages, gemv::pdl_default, kg, even);
    DevBuf<uint8_t> own(shared ? 4 : std::max<size_t>(4, gemv::workspace_bytes(pl, N)));
    CUDA_CHECK(cudaMemset(own.p, 0, own.n));
    DevBuf<uint8_t> &wsb = shared ? *shared : own;
    gemv::Params p{set.w.p, a8 ? (const void *)xq.p : (const void *)x.p, set.s.p, (__nv_bfloat16 *)y.p,
                   M, N, K, pl.split, xs.p, wsb.p, wsb.n};
    // twice: the second launch shows the split-K counters were left at zero
    gemv::launch(wt, p, pl, 0);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaMemset(y.p, 0xFF, y.n * 2));
    gemv::launch(wt, p, pl, 0);
    CUDA_CHECK_LAUNCH();
    DevBuf<double> ref((size_t)M * N);
    ref_gemv<<<(N + 7) / 8, 256>>>(wt, set.w.p, set.s.p, xfd.p, M, N, K, ref.p);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> out = bf16_to_double(y.download()), rf = ref.download();
    if (exact_onehot) {
        size_t bad = 0;
        for (size_t i = 0; i < out.size(); i++) {
            const uint16_t want = bf16_from_f32((float)rf[i]); // exact: one product
            if (!(out[i] == bf16_to_f32(want))) bad++;
        }
        return (double)bad;
    }
    return bench::rel_l2(out.data(), rf.data(), out.size());
}

static void gemv_checks()
{
    const double bound = 4e-3; // BF16 output rounding (2^-9 relative) dominates
    // W8A8 and BF16 twice: their consumers on wgmma and on mma.sync everywhere
    const int wgmma_was = gemv::wgmma_default;
    for (int wt : {gemv::BF16, gemv::E4M3_CHANNEL, gemv::E4M3_BLOCK, gemv::E4M3_A8, gemv::E4M3_A8G})
        for (int wgm : {1, 0}) {
            if (!wgm && !gemv::has_wgmma(wt)) continue;
            gemv::wgmma_default = wgm ? 2 : 0;
            const std::string wname = std::string(wt_name(wt)) + (gemv::has_wgmma(wt) ? (wgm ? " wgmma" : " mma.sync") : "");
            // every E4M3 code through the whole kernel, split K or not, in k
            // groups or not, bit-exact (at 40 tokens split K's last CTA adds
            // the partial sums in shared memory where they fit, else from
            // global memory; the shallow rings below take both ways: 2 stages
            // hold too little, 3 enough)
            for (int kg : {1, 2, 4})
                for (int split : {1, 2, 5, 8, 16})
                    for (int M : {16, 1, 40}) {
                        if (!gemv::supported(wt, M, 256, 4096, split, kg)) continue;
                        const double bad = gemv_check_one(wt, M, 256, 4096, split, true, false, 0, nullptr, kg);
                        char what[160];
                        snprintf(what, sizeof what,
                                 "gemv fp8kit %s one-hot M=%d N=256 K=4096 split=%d kg=%d: every code exact (mismatches)",
                                 wname.c_str(), M, split, kg);
                        check(bad == 0, what, bad, 0);
                    }
            // shallow rings that wrap many times (the planner's rings are deep)
            for (int stages : {2, 3})
                for (int M : {1, 16, 40})
                    for (int kg : {1, 4}) {
                        if (!gemv::supported(wt, M, 256, 8192, 2, kg)) continue;
                        const double bad = gemv_check_one(wt, M, 256, 8192, 2, true, false, stages, nullptr, kg);
                        char what[160];
                        snprintf(what, sizeof what,
                                 "gemv fp8kit %s one-hot M=%d N=256 K=8192 split=2 kg=%d stages=%d: exact (mismatches)",
                                 wname.c_str(), M, kg, stages);
                        check(bad == 0, what, bad, 0);
                    }
            struct S { int N, K, split; };
            // (10240 x 8192 at 9-16 tokens: W8A8's kernel for three CTAs an SM)
            for (S s : {S{4096, 4096, 0}, S{6144, 4096, 0}, S{576, 7168, 0}, S{1536, 1536, 4}, S{28672, 4096, 0},
                        S{4096, 14336, 0}, S{10240, 8192, 0}, S{1024, 2048, 2}})
                for (int M : {1, 3, 8, 13, 16, 24, 32, 40, 48, 56, 64}) { // every token tile count, 1-8
                    if (s.N * (size_t)s.K > 50000000 && M > 16 && M != 64) continue;
                    const gemv::Plan pl = gemv::plan(wt, M, s.N, s.K, s.split);
                    if (!gemv::supported(wt, M, s.N, s.K, pl.split, pl.kg)) continue;
                    const double err = gemv_check_one(wt, M, s.N, s.K, s.split, false);
                    char what[160];
                    snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=%d K=%d split=%d kg=%d%s%s vs FP64", wname.c_str(), M, s.N,
                             s.K, pl.split, pl.kg, pl.even ? ", rows evenly (the planner's)" : "",
                             pl.minb ? ", three CTAs an SM (the planner's)" : "");
                    check(err <= bound, what, err, bound);
                }
            // GEMVs of different N sharing one split-K workspace, as the decode
            // step's do: the small one's partial sums must not reach the large
            // one's counters (large, small, large again)
            {
                const int Ns = 1024, Nl = 80 * gemv::BN, Kk = 2048, sp = 4, M = 16;
                const gemv::Plan ps = gemv::plan(wt, M, Ns, Kk, sp), pl = gemv::plan(wt, M, Nl, Kk, sp);
                DevBuf<uint8_t> ws(std::max(gemv::partial_bytes(ps), gemv::partial_bytes(pl)) +
                                   std::max(gemv::counter_bytes(Ns), gemv::counter_bytes(Nl)));
                CUDA_CHECK(cudaMemset(ws.p, 0, ws.n));
                for (int N : {Nl, Ns, Nl}) {
                    const double err = gemv_check_one(wt, M, N, Kk, sp, false, false, 0, &ws);
                    char what[200];
                    snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=%d K=%d split=%d, workspace shared with N=%d vs FP64",
                             wname.c_str(), M, N, Kk, sp, N == Nl ? Ns : Nl);
                    check(err <= bound, what, err, bound);
                }
            }
            // the whole K of Llama-3.1-70B's and 405B's down projections in
            // one CTA (one k group, no split): what its sums lose over K
            for (int K : {28672, 53248})
                for (int M : {1, 16, 64}) {
                    if (!gemv::supported(wt, M, 1024, K, 1, 1)) continue;
                    const double err = gemv_check_one(wt, M, 1024, K, 1, false, false, 0, nullptr, 1);
                    char what[200];
                    snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=1024 K=%d split=1 kg=1 (the whole K a CTA) vs FP64",
                             wname.c_str(), M, K);
                    check(err <= bound, what, err, bound);
                }
            // activations over a wide range of magnitudes
            for (int M : {1, 5, 16}) {
                const double err = gemv_check_one(wt, M, 1536, 7168, 0, false, true);
                char what[200];
                snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=1536 K=7168, X over 2^-24..2^20 vs FP64", wname.c_str(), M);
                check(err <= bound, what, err, bound);
            }
            // X's magnitude by (token, 64-k group): a group scale applied to the
            // wrong group or token (E4M3_A8G) is off by 2^1..2^16
            for (int kg : {1, 2, 4})
                for (int sp : {1, 3})
                    for (int M : {1, 6, 16}) {
                        const int N = 1000, K = 8192;
                        if (!gemv::supported(wt, M, N, K, sp, kg)) continue;
                        const double err = gemv_check_one(wt, M, N, K, sp, false, false, 0, nullptr, kg, true);
                        char what[200];
                        snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=%d K=%d split=%d kg=%d, X 2^-8..2^8 by 64-k group vs FP64",
                                 wname.c_str(), M, N, K, sp, kg);
                        check(err <= bound, what, err, bound);
                    }
            // rows split evenly over one or two CTAs an SM: each CTA loads a whole
            // tile from its first row and writes only its share (N = 512: 1-4
            // rows of 32 written; 4096 and 8192: 31-32 of 32, 62-63 of 64)
            if (wt != gemv::E4M3_BLOCK)
                for (int even : {1, 2})
                    for (int kg : {4, 2, 1})
                        for (int M : {1, 16, 40}) {
                            const int sms = bench::device().multiProcessorCount;
                            if (!gemv::supported(wt, M, 512, 4096, 1, kg)) continue;
                            if (gemv::even_fits(512, kg, even * sms)) {
                                const double bad = gemv_check_one(wt, M, 512, 4096, 1, true, false, 0, nullptr, kg, false, even);
                                char what[200];
                                snprintf(what, sizeof what, "gemv fp8kit %s one-hot M=%d N=512 K=4096 kg=%d, rows evenly over %d CTAs: every code exact (mismatches)",
                                         wname.c_str(), M, kg, even * sms);
                                check(bad == 0, what, bad, 0);
                            }
                            for (int N : {4096, 8192, 1000}) {
                                if (!gemv::even_fits(N, kg, even * sms)) continue;
                                const double err = gemv_check_one(wt, M, N, 4096, 1, false, false, 0, nullptr, kg, false, even);
                                char what[200];
                                snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=%d K=4096 kg=%d, rows evenly over %d CTAs vs FP64",
                                         wname.c_str(), M, N, kg, even * sms);
                                check(err <= bound, what, err, bound);
                            }
                        }
            // k groups with and without split K, and rows past N inside a CTA's
            // 32 or 64 rows (N = 1000: the last CTA holds 8 or 40 real rows)
            for (int kg : {2, 4})
                for (int sp : {1, 3})
                    for (int M : {1, 9}) {
                        const int N = 1000, K = 8192;
                        if (!gemv::supported(wt, M, N, K, sp, kg)) continue;
                        const double err = gemv_check_one(wt, M, N, K, sp, false, false, 0, nullptr, kg);
                        char what[200];
                        snprintf(what, sizeof what, "gemv fp8kit %s M=%d N=%d K=%d split=%d kg=%d vs FP64", wname.c_str(), M, N, K,
                                 sp, kg);
                        check(err <= bound, what, err, bound);
                    }
        }
    gemv::wgmma_default = wgmma_was;
}

// cuBLASLt against the FP64 reference on the operands it was given (the
// quantized activations, for FP8).
static void cublaslt_checks()
{
    const double bound = 4e-3;
    struct S { int M, N, K; };
    for (int mode : {lt::BF16, lt::FP8_TENSOR, lt::FP8_CHANNEL, lt::FP8_BLOCK})
        for (S s : {S{1, 4096, 4096}, S{16, 6144, 4096}, S{64, 4096, 14336}}) {
            // block mode: cuBLASLt's layout of the VEC128 activation scales is
            // not documented where we looked; both are tried, and a case where
            // neither matches is reported (SKIPPED, with the errors), not hidden
            std::string block_errs;
            bool block_ok = false, block_ran = false;
            for (int layout = 0; layout < (mode == lt::FP8_BLOCK ? 2 : 1); layout++) {
                const int wt = mode == lt::BF16 ? gemv::BF16 : mode == lt::FP8_BLOCK ? gemv::E4M3_BLOCK : gemv::E4M3_CHANNEL;
                GemvSet set(wt, s.N, s.K);
                std::vector<float> one(1, 1.f / 256);
                DevBuf<float> tensor_scale(1);
                tensor_scale.upload(one);
                std::mt19937_64 rng(next_seed());
                std::uniform_real_distribution<float> u(-1.f, 1.f);
                std::vector<uint16_t> xh((size_t)s.M * s.K);
                // magnitudes that vary 2^0..2^3 by 128-k block and 1..3 by token, so
                // that a wrong activation-scale layout shows in the error
                for (size_t i = 0; i < xh.size(); i++) {
                    const int m = (int)(i / s.K), k = (int)(i % s.K);
                    xh[i] = bf16_from_f32(u(rng) * (float)(1 << ((k / 128) % 4)) * (float)(1 + m % 3));
                }
                QuantX qx;
                std::vector<float> xf((size_t)s.M * s.K);
                DevBuf<uint8_t> xd((size_t)s.M * s.K * 2);
                DevBuf<float> xs(std::max<size_t>(1, (size_t)s.M * (s.K / 128)));
                if (mode == lt::BF16) {
                    for (size_t i = 0; i < xh.size(); i++) xf[i] = bf16_to_f32(xh[i]);
                    CUDA_CHECK(cudaMemcpy(xd.p, xh.data(), xh.size() * 2, cudaMemcpyHostToDevice));
                } else {
                    qx = quantize_x(xh, s.M, s.K, mode, layout == 1);
                    xf = qx.deq;
                    CUDA_CHECK(cudaMemcpy(xd.p, qx.q.data(), qx.q.size(), cudaMemcpyHostToDevice));
                    CUDA_CHECK(cudaMemcpy(xs.p, qx.s.data(), qx.s.size() * 4, cudaMemcpyHostToDevice));
                }
                const float *a_scale = mode == lt::FP8_TENSOR ? tensor_scale.p : set.s.p;
                lt::Gemv g;
                char what[200];
                snprintf(what, sizeof what, "gemv cublaslt %s%s M=%d N=%d K=%d vs FP64", lt::mode_name(mode),
                         mode == lt::FP8_BLOCK ? (layout ? " (activation scales MN-major)" : " (activation scales K-major)") : "", s.M, s.N, s.K);
                if (!g.init(s.M, s.N, s.K, mode, a_scale, xs.p)) {
                    printf("SKIPPED %s: cuBLASLt refuses: %s\n", what, g.why.c_str());
                    continue;
                }
                DevBuf<float> xfd(xf.size());
                xfd.upload(xf);
                DevBuf<uint16_t> y((size_t)s.M * s.N);
                CUDA_CHECK(cudaMemset(y.p, 0xFF, y.n * 2));
                if (!g.run(set.w.p, xd.p, y.p, 0)) {
                    check(false, std::string(what) + " (cublasLtMatmul failed)", INFINITY, bound);
                    continue;
                }
                CUDA_CHECK(cudaDeviceSynchronize());
                // reference: channel mode scales rows by the weight scale; tensor by the scalar
                std::vector<float> sref = set.s.download();
                if (mode == lt::FP8_TENSOR) {
                    std::fill(sref.begin(), sref.end(), 1.f / 256);
                    set.s.upload(sref);
                }
                DevBuf<double> ref((size_t)s.M * s.N);
                ref_gemv<<<(s.N + 7) / 8, 256>>>(wt, set.w.p, set.s.p, xfd.p, s.M, s.N, s.K, ref.p);
                CUDA_CHECK_LAUNCH();
                CUDA_CHECK(cudaDeviceSynchronize());
                std::vector<double> out = bf16_to_double(y.download()), rf = ref.download();
                const double err = bench::rel_l2(out.data(), rf.data(), out.size());
                if (mode == lt::FP8_BLOCK) {
                    block_ran = true;
                    char e[64];
                    snprintf(e, sizeof e, "%s%s %.3g", block_errs.empty() ? "" : ", ", layout ? "MN-major" : "K-major", err);
                    block_errs += e;
                    if (err > bound) continue;
                    block_ok = true;
                }
                check(err <= bound, what, err, bound);
            }
            if (block_ran && !block_ok)
                printf("SKIPPED gemv cublaslt e4m3_block M=%d N=%d K=%d: no activation-scale layout within %.3g of FP64 "
                       "(rel err %s); its timing does not depend on the scale values\n",
                       s.M, s.N, s.K, bound, block_errs.c_str());
        }
}

// ---------------------------------------------------------------- attention data

static const char *kv_name(int kv) { return kv == attn::KV_BF16 ? "bf16" : kv == attn::KV_E4M3 ? "e4m3" : "e5m2"; }

static int ilog2(long long v)
{
    int s = 0;
    while ((1ll << s) < v) s++;
    return s;
}

// One KV cache: pages, block table, scales. page = 0: contiguous.
struct KvSet {
    int kv, B, Hkv, L, P, page_shift, stride, pages;
    DevBuf<uint8_t> k, v;
    DevBuf<int> table;
    DevBuf<float> ks, vs;
    KvSet(int kv_, int B_, int Hkv_, int L_, int page, std::mt19937_64 &rng)
        : kv(kv_), B(B_), Hkv(Hkv_), L(L_)
    {
        P = page ? page : (1 << ilog2(L));
        page_shift = ilog2(P);
        stride = (L + P - 1) / P;
        pages = B * stride;
        const size_t elems = (size_t)pages * Hkv * P * attn::HD;
        const size_t eb = kv == attn::KV_BF16 ? 2 : 1;
        k.alloc(elems * eb);
        v.alloc(elems * eb);
        std::vector<int> t(pages);
        for (int i = 0; i < pages; i++) t[i] = i;
        if (page) std::shuffle(t.begin(), t.end(), rng); // pages scattered
        table.alloc(pages);
        table.upload(t);
        const float amp_k = 4.f, amp_v = 2.f;
        const float fmax_ = kv == attn::KV_E5M2 ? 57344.f : 448.f;
        std::vector<float> hk(Hkv), hv(Hkv);
        std::uniform_real_distribution<float> u(0.75f, 1.25f);
        for (int h = 0; h < Hkv; h++) hk[h] = amp_k / fmax_ * u(rng), hv[h] = amp_v / fmax_ * u(rng);
        ks.alloc(Hkv);
        vs.alloc(Hkv);
        ks.upload(hk);
        vs.upload(hv);
        fill_kv<<<2048, 256>>>(k.p, elems, next_seed(), kv, amp_k, ks.p, P, Hkv);
        CUDA_CHECK_LAUNCH();
        fill_kv<<<2048, 256>>>(v.p, elems, next_seed(), kv, amp_v, vs.p, P, Hkv);
        CUDA_CHECK_LAUNCH();
    }
};

static size_t kv_cache_bytes(int kv, int B, int Hkv, int L, int page)
{
    const int P = page ? page : (1 << ilog2(L));
    return 2 * (size_t)B * ((L + P - 1) / P) * P * Hkv * attn::HD * (kv == attn::KV_BF16 ? 2 : 1);
}

static attn::Params attn_params(const KvSet &s, const __nv_bfloat16 *q, const int *lens, __nv_bfloat16 *out, float *ws,
                                int *cnt, int Hq, const attn::Plan &pl)
{
    attn::Params p;
    p.q = q, p.k = s.k.p, p.v = s.v.p, p.table = s.table.p, p.table_stride = s.stride, p.num_pages = s.pages;
    p.seq_len = lens;
    p.k_scale = s.ks.p, p.v_scale = s.vs.p, p.out = out, p.ws = ws, p.counter = cnt;
    p.B = s.B, p.Hq = Hq, p.Hkv = s.Hkv, p.page_shift = s.page_shift, p.nsplit = pl.nsplit,
    p.split_tokens = pl.split_tokens, p.nw = pl.nw, p.pipe = pl.pipe;
    p.sm_scale = 1.f / sqrtf((float)attn::HD);
    return p;
}

static void attn_checks()
{
    const double bound = 8e-3;
    struct S { int B, Hq, Hkv, L, nsplit; bool ragged; };
    std::mt19937_64 rng(next_seed());
    for (int kv : {attn::KV_BF16, attn::KV_E4M3, attn::KV_E5M2})
        for (int page : {0, 16, 64})
            for (S s : {S{3, 32, 8, 1000, 0, false}, S{2, 64, 8, 4133, 0, false}, S{1, 64, 8, 20000, 0, false},
                        S{5, 32, 8, 777, 1, true}, S{4, 64, 8, 3000, 7, true}, S{2, 32, 8, 9, 0, false},
                        S{2, 128, 8, 3000, 0, true}, S{3, 128, 8, 70, 2, false}, S{2, 32, 8, 6000, 40, true}})
                for (int nw : {4, 8})     // both consumer-warp counts and, for FP8, S a stage
                for (int pipe : {0, 1})   // ahead or not and, for FP8 with 8 warps without S
                for (int pw : {1, 2}) {   // ahead, one producer warp and two, whatever the rules would pick
                if (pipe && kv == attn::KV_BF16) continue;
                if (pw == 2 && (kv == attn::KV_BF16 || nw != 8 || pipe)) continue;
                KvSet set(kv, s.B, s.Hkv, s.L, page, rng);
                std::vector<int> lens(s.B);
                // ragged: lengths fall by 37 a sequence, and the last one is empty (its output must be 0, split or not)
                for (int b = 0; b < s.B; b++) lens[b] = !s.ragged ? s.L : b == s.B - 1 ? 0 : std::max(1, s.L - 37 * b);
                DevBuf<int> lensd(s.B);
                lensd.upload(lens);
                DevBuf<uint16_t> q((size_t)s.B * s.Hq * attn::HD), out(q.n), out2(q.n);
                launch_fill_bf16(q.p, q.n, next_seed(), 1.f);
                attn::Plan pl = attn::plan_nw(kv, s.B, s.Hkv, s.L, s.nsplit, s.Hq / s.Hkv, false, nw);
                pl.pipe = pipe;
                DevBuf<float> ws(attn::ws_floats(s.B, s.Hkv, pl.nsplit, s.Hq / s.Hkv));
                DevBuf<int> cnt((size_t)s.B * s.Hkv);
                CUDA_CHECK(cudaMemset(cnt.p, 0, cnt.n * 4));
                CUDA_CHECK(cudaMemset(out.p, 0xFF, out.n * 2));
                CUDA_CHECK(cudaMemset(out2.p, 0xFF, out2.n * 2));
                attn::Params p = attn_params(set, (const __nv_bfloat16 *)q.p, lensd.p, (__nv_bfloat16 *)out.p, ws.p, cnt.p,
                                             s.Hq, pl);
                // twice, into two poisoned outputs: the counters must be left
                // at zero for the next launch, here right behind the first
                // (programmatic dependent launch, as timed)
                attn::Params p2 = p;
                p2.out = (__nv_bfloat16 *)out2.p;
                attn::launch(kv, p, 0, false, pw);
                CUDA_CHECK_LAUNCH();
                attn::launch(kv, p2, 0, true, pw);
                CUDA_CHECK_LAUNCH();
                DevBuf<double> scores((size_t)s.B * s.Hq * s.L), ref(q.n);
                ref_attn<<<s.B * s.Hq, 128>>>(kv, p, s.L, scores.p, ref.p);
                CUDA_CHECK_LAUNCH();
                CUDA_CHECK(cudaDeviceSynchronize());
                const std::vector<double> rf = ref.download();
                double err = 0; // the worse of the two launches
                for (auto *ob : {&out, &out2}) {
                    const std::vector<double> o = bf16_to_double(ob->download());
                    err = std::max(err, bench::rel_l2(o.data(), rf.data(), o.size()));
                }
                char what[200];
                snprintf(what, sizeof what, "attn_decode fp8kit %s %s B=%d Hq=%d Hkv=%d L=%d%s splits=%d warps=%d%s%s vs FP64",
                         kv_name(kv), page ? (page == 16 ? "paged16" : "paged64") : "contig", s.B, s.Hq, s.Hkv, s.L,
                         s.ragged ? " (ragged lengths, one empty)" : "", pl.nsplit, pl.nw, pl.pipe ? " S ahead" : "",
                         attn::producers(kv, p, pw) == 2 ? " 2 producers" : "");
                check(err <= bound, what, err, bound);
            }
}

// ---------------------------------------------------------------- GEMV chains (gemv_chain.cuh)

// E4M3(BF16(y) * (1 / s)), saturating: X_{j+1} from GEMV j's BF16 output,
// as gemv_chain.cuh's W8A8 epilogue forms it (the reference's quantizer)
__global__ void quant_static(const uint16_t *y, uint8_t *q, size_t n, const float *s)
{
    const float inv = 1.f / *s;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        q[i] = fp8_e4m3_from_f32(bf16_to_f32(y[i]) * inv);
}

// A chain's data: J weight matrices N x N stacked ([J N][N], per-channel
// scales [J N]) of about unit gain (a chain of J GEMVs neither grows nor
// shrinks much: BF16 amp sqrt(3 / N); E4M3 codes, whose RMS is ~84, with
// scales near 1 / (84 sqrt(N))); X's stack [J + 1][8][N] (BF16, or E4M3
// codes for W8A8 with the static scales x_scale[j] = 1 / 448: X_0's codes
// uniform, so values within +-1) with X_0 random in rows < M, zero padding,
// the outputs' rows poisoned (NaN); the chain's counters, zero.
struct ChainData {
    int wt, M, N, J;
    size_t xb; // bytes an element of X
    DevBuf<uint8_t> w, x;
    DevBuf<float> s, xs;
    DevBuf<int> done;
    ChainData(int wt_, int M_, int N_, int J_)
        : wt(wt_), M(M_), N(N_), J(J_), xb(gemv::is_a8(wt_) ? 1 : 2), w((size_t)J_ * N_ * N_ * wt_bytes(wt_)),
          x((size_t)(J_ + 1) * 8 * N_ * xb), s((size_t)J_ * N_), xs((size_t)J_ + 1), done((size_t)J_)
    {
        if (wt == gemv::BF16) launch_fill_bf16(w.p, (size_t)J * N * N, next_seed(), sqrtf(3.f / N));
        else launch_fill_codes(w.p, (size_t)J * N * N, next_seed());
        launch_fill_f32(s.p, s.n, next_seed(), 0.5f / 84 / sqrtf((float)N), 1.5f / 84 / sqrtf((float)N));
        std::vector<float> xsh(xs.n, 1.f / 448);
        xs.upload(xsh);
        CUDA_CHECK(cudaMemset(done.p, 0, done.n * 4));
        reset(next_seed());
    }
    void reset(uint64_t seed)
    {
        const size_t row = (size_t)N * xb, block = 8 * row;
        std::vector<uint8_t> h(x.n, 0);
        DevBuf<uint8_t> t((size_t)M * row);
        if (xb == 1) launch_fill_codes(t.p, t.n, seed);
        else launch_fill_bf16(t.p, t.n / 2, seed, 1.f);
        const std::vector<uint8_t> x0 = t.download();
        std::copy(x0.begin(), x0.end(), h.begin());
        for (int j = 1; j <= J; j++) // NaN: 0x7F (E4M3), 0xFFFF (BF16)
            for (size_t i = 0; i < (size_t)M * row; i++) h[j * block + i] = xb == 1 ? 0x7F : 0xFF;
        x.upload(h);
    }
    gemv::ChainParams params(bool indep = false) const
    {
        gemv::ChainParams p{w.p, s.p, x.p, M, N, J, done.p, indep, g_chain_pre};
        p.x_scale = xs.p;
        return p;
    }
    // GEMV j as a gemv_kernel launch: X_j's block in, Y to y (BF16, M x N)
    gemv::Params launch_params(int j, void *y, const float *tok_scale) const
    {
        return gemv::Params{w.p + (size_t)j * N * N * wt_bytes(wt), x.p + (size_t)j * 8 * N * xb, s.p + (size_t)j * N,
                            (__nv_bfloat16 *)y, M, N, N, 1, tok_scale, nullptr, 0};
    }
};

// The persistent chain against J launches of gemv_kernel with the same k
// groups and rows (bit-exact: the same sums in the same order; W8A8 with
// quant_static after each launch), twice (the second launch finds the
// counters the first reset), and its first GEMV against FP64.
static void chain_checks()
{
    for (int wt : {gemv::BF16, gemv::E4M3_CHANNEL, gemv::E4M3_A8})
        for (int N : {2048, 4096, 8192, 16384})
            for (int M : {1, 5, 8}) {
                const int J = N >= 16384 ? 3 : 4;
                const gemv::ChainPlan cp = gemv::chain_plan(wt, M, N, J, true, g_chain_ctas);
                char what[200];
                if (!cp.kg) {
                    snprintf(what, sizeof what, "gemv chain %s M=%d N=%d: no plan", wt_name(wt), M, N);
                    check(false, what, 1, 0);
                    continue;
                }
                ChainData d(wt, M, N, J);
                const uint64_t seed = next_seed();
                const bool a8 = gemv::is_a8(wt);
                // the reference: J launches through the stack
                d.reset(seed);
                gemv::Plan pl = gemv::plan(wt, M, N, N, 1, 0, true, cp.kg, g_chain_ctas);
                pl.wgmma = false; // the chain's consumers are mma.sync's (Warp): bit-exact against those only
                DevBuf<uint16_t> y((size_t)M * N);
                DevBuf<float> ts((size_t)M);
                ts.upload(std::vector<float>(M, 1.f / 448)); // X_j's static scale for every token
                for (int j = 0; j < J; j++) {
                    const size_t next = (size_t)(j + 1) * 8 * N * d.xb;
                    gemv::launch(wt, d.launch_params(j, a8 ? (void *)y.p : (void *)(d.x.p + next), ts.p), pl, 0);
                    if (a8) quant_static<<<64, 256>>>(y.p, d.x.p + next, (size_t)M * N, d.xs.p + j + 1);
                    CUDA_CHECK(cudaDeviceSynchronize());
                }
                CUDA_CHECK_LAUNCH();
                const std::vector<uint8_t> want = d.x.download();
                std::vector<uint8_t> got;
                for (int rep = 0; rep < 2; rep++) {
                    d.reset(seed);
                    gemv::chain_launch(wt, d.params(), cp, 0);
                    CUDA_CHECK(cudaDeviceSynchronize());
                    CUDA_CHECK_LAUNCH();
                    got = d.x.download();
                    long bad = 0;
                    const size_t row = (size_t)N * d.xb;
                    for (int j = 1; j <= J; j++)
                        for (size_t i = 0; i < (size_t)M * row; i += d.xb) {
                            const size_t e = (size_t)j * 8 * row + i;
                            const bool nan = a8 ? (got[e] & 0x7F) == 0x7F : ((got[e] | got[e + 1] << 8) & 0x7FFF) > 0x7F80;
                            bad += nan || memcmp(&got[e], &want[e], d.xb) != 0;
                        }
                    snprintf(what, sizeof what,
                             "gemv chain %s M=%d N=%d J=%d kg=%d stages=%d, launch %d: bit-exact against %d launches (mismatches or NaN)",
                             wt_name(wt), M, N, J, cp.kg, cp.stages, rep + 1, J);
                    check(bad == 0, what, (double)bad, 0);
                    long left = 0;
                    for (int v : d.done.download()) left += v != 0;
                    snprintf(what, sizeof what, "gemv chain %s M=%d N=%d J=%d, launch %d: counters reset (nonzero)", wt_name(wt), M, N, J, rep + 1);
                    check(left == 0, what, (double)left, 0);
                }
                // X_1 against X_0 W_0^T in FP64 (W8A8: X_1 dequantized, so
                // E4M3's rounding is in the error: the bound is the error of
                // quantizing the FP64 result itself, plus 0.01)
                auto val = [&](size_t e) { return a8 ? fp8_e4m3_to_f32(got[e]) / 448.f : bf16_to_f32((uint16_t)(got[2 * e] | got[2 * e + 1] << 8)); };
                std::vector<float> x0((size_t)M * N);
                for (size_t i = 0; i < x0.size(); i++) x0[i] = val(i);
                DevBuf<float> x0d(x0.size());
                x0d.upload(x0);
                DevBuf<double> ref((size_t)M * N);
                ref_gemv<<<(N + 7) / 8, 256>>>(wt, d.w.p, d.s.p, x0d.p, M, N, N, ref.p);
                CUDA_CHECK_LAUNCH();
                std::vector<double> out((size_t)M * N);
                for (size_t i = 0; i < out.size(); i++) out[i] = val((size_t)8 * N + i);
                const std::vector<double> rf = ref.download();
                double bound = 4e-3;
                if (a8) {
                    std::vector<double> rq(rf.size());
                    for (size_t i = 0; i < rf.size(); i++) rq[i] = fp8_e4m3_to_f32(fp8_e4m3_from_f32((float)(rf[i] * 448))) / 448.f;
                    bound = bench::rel_l2(rq.data(), rf.data(), rf.size()) + 0.01;
                }
                const double err = bench::rel_l2(out.data(), rf.data(), out.size());
                snprintf(what, sizeof what, "gemv chain %s M=%d N=%d: X_1 vs FP64", wt_name(wt), M, N);
                check(err <= bound, what, err, bound);
            }
}

// ---------------------------------------------------------------- benchmarks

static size_t single_copy_bytes() { return 4 * (size_t)bench::device().l2CacheSize; }
// copies of a working set to rotate through; one where it alone is >= 4x L2
static int copies(size_t bytes) { return bytes >= single_copy_bytes() ? 1 : bench::rotation_count(bytes); }

struct GemvCase {
    int wt, M, N, K;
    int ltmode; // -1: ours; else the cuBLASLt mode
    int split;  // ours: 0 = the planner's choice, else forced (tuning variants fp8kit-s<n>)
    int kg;     // ours: 0 = the planner's choice, else forced k groups (fp8kit-k<n>)
    int even;   // ours: 0 = the planner's choice, else rows evenly over even CTAs an SM (fp8kit-e<n>)
};

// Launches in one timed CUDA graph: a multiple of the rotation, >= 16.
static int graph_len(int rotation) { return rotation * ((16 + rotation - 1) / rotation); }

static void bm_gemv(benchmark::State &st, GemvCase c)
{
    const size_t wbytes = (size_t)c.N * c.K * wt_bytes(c.wt);
    const int n = copies(wbytes);
    std::vector<std::unique_ptr<GemvSet>> sets;
    for (int i = 0; i < n; i++) sets.emplace_back(new GemvSet(c.wt, c.N, c.K));
    DevBuf<uint16_t> x((size_t)c.M * c.K), y((size_t)c.M * c.N);
    launch_fill_bf16(x.p, x.n, next_seed(), 1.f);
    if (c.ltmode < 0) {
        const gemv::Plan pl = gemv::plan(c.wt, c.M, c.N, c.K, c.split, g_gemv_stages, g_gemv_pdl, c.kg, c.even);
        if (!gemv::runs(c.wt, c.M, c.N, c.K, pl)) {
            st.SkipWithError("shape not supported");
            return;
        }
        // W8A8: X quantized per token (or 64-k group) beforehand (in a
        // model, by the kernel that produces it), as for cuBLASLt's FP8 modes below
        const bool a8 = gemv::is_a8(c.wt);
        DevBuf<uint8_t> xq(a8 ? (size_t)c.M * c.K : 1);
        DevBuf<float> xs(c.wt == gemv::E4M3_A8G ? gemv::xg_count(c.M, c.K) : (size_t)c.M);
        if (a8) {
            QuantX q = c.wt == gemv::E4M3_A8G ? quantize_x_groups(x.download(), c.M, c.K)
                                              : quantize_x(x.download(), c.M, c.K, lt::FP8_CHANNEL, false);
            xq.upload(q.q);
            xs.upload(q.s);
        }
        const void *xp = a8 ? (const void *)xq.p : (const void *)x.p;
        DevBuf<uint8_t> wsb(std::max<size_t>(4, gemv::workspace_bytes(pl, c.N)));
        CUDA_CHECK(cudaMemset(wsb.p, 0, wsb.n));
        bench::time_graph(st, [&](int i, cudaStream_t strm) {
            const GemvSet &s = *sets[i % n];
            gemv::Params p{s.w.p, xp, s.s.p, (__nv_bfloat16 *)y.p, c.M, c.N, c.K, pl.split, xs.p, wsb.p, wsb.n};
            gemv::launch(c.wt, p, pl, strm);
        }, graph_len(n));
        st.counters["split"] = pl.split;
        st.counters["kg"] = pl.kg;
        st.counters["even"] = pl.even;
        st.counters["minb"] = pl.minb;
        st.counters["wgmma"] = pl.wgmma; // W8A8's and BF16's consumers: 1 wgmma, 0 mma.sync
        st.counters["blocks"] = pl.blocks;
        st.counters["stages"] = pl.stages;
    } else {
        const int mode = c.ltmode;
        std::vector<uint16_t> xh = x.download();
        DevBuf<uint8_t> xq((size_t)c.M * c.K);
        DevBuf<float> xs(std::max<size_t>(1, (size_t)c.M * (c.K / 128))), tscale(1);
        std::vector<float> one(1, 1.f / 256);
        tscale.upload(one);
        auto setup = [&](lt::Gemv &g, int md) {
            if (md != lt::BF16) {
                QuantX q = quantize_x(xh, c.M, c.K, md, false);
                CUDA_CHECK(cudaMemcpy(xq.p, q.q.data(), q.q.size(), cudaMemcpyHostToDevice));
                CUDA_CHECK(cudaMemcpy(xs.p, q.s.data(), q.s.size() * 4, cudaMemcpyHostToDevice));
            }
            return g.init(c.M, c.N, c.K, md, md == lt::FP8_TENSOR ? tscale.p : sets[0]->s.p, xs.p);
        };
        std::unique_ptr<lt::Gemv> g(new lt::Gemv);
        if (!setup(*g, mode)) {
            st.SkipWithError(("cuBLASLt refuses " + std::string(lt::mode_name(mode)) + ": " + g->why).c_str());
            return;
        }
        // A scale pointer is fixed in the descriptor: every rotated set uses set 0's scales (same bytes).
        bool ok = true;
        bench::time_graph(st, [&](int i, cudaStream_t strm) {
            ok &= g->run(sets[i % n]->w.p, mode == lt::BF16 ? (const void *)x.p : (const void *)xq.p, y.p, strm);
        }, graph_len(n));
        if (!ok) st.SkipWithError("cublasLtMatmul failed");
    }
    bench::set_counters(st, 2.0 * c.M * c.N * c.K, (double)wbytes);
    st.counters["rotation"] = n;
}

// gemv_chain/<impl>/<wdtype>/<M>x<N>x<N>_j<J>: J dependent GEMVs (X_{j+1} =
// X_j W_j^T) a timed iteration: impl fp8kit, J launches with the planner's
// plan (PDL, as the decode step launches them; W8A8 and BF16 on wgmma where
// gemv::wgmma_rule says); fp8kit-even, J launches with the persistent
// kernel's k groups, rows and consumers (mma.sync; --chain_ctas CTAs an SM);
// fp8kit-persistent, one launch of gemv_chain.cuh. J copies of W, >= 4x L2.
// fp8kit-indep, the persistent kernel with every GEMV reading X_0 and none
// waiting (the ceiling without the dependency).
struct ChainCase { int wt, M, N, J, impl; }; // impl 0 fp8kit, 1 fp8kit-even, 2 fp8kit-persistent, 3 fp8kit-indep
static void bm_chain(benchmark::State &st, ChainCase c)
{
    const gemv::ChainPlan cp = gemv::chain_plan(c.wt, c.M, c.N, c.J, true, g_chain_ctas);
    if (!cp.kg) {
        st.SkipWithError("shape not supported");
        return;
    }
    gemv::Plan pl = c.impl == 1 ? gemv::plan(c.wt, c.M, c.N, c.N, 1, g_gemv_stages, g_gemv_pdl, cp.kg, g_chain_ctas)
                                : gemv::plan(c.wt, c.M, c.N, c.N, 0, g_gemv_stages, g_gemv_pdl);
    if (c.impl == 1) pl.wgmma = false; // the persistent kernel's consumers (mma.sync) as well as its rows
    ChainData d(c.wt, c.M, c.N, c.J);
    // the launches: BF16 and W8A16 write X_{j+1}; W8A8 writes BF16 Y to y
    // (quantizing it would be one more kernel a GEMV, which the persistent
    // kernel's epilogue does)
    const bool a8 = gemv::is_a8(c.wt);
    DevBuf<uint16_t> y((size_t)c.M * c.N);
    DevBuf<float> ts((size_t)c.M);
    ts.upload(std::vector<float>(c.M, 1.f / 448));
    DevBuf<uint8_t> wsb(std::max<size_t>(4, gemv::workspace_bytes(pl, c.N)));
    CUDA_CHECK(cudaMemset(wsb.p, 0, wsb.n));
    bench::time_graph(st, [&](int, cudaStream_t strm) {
        if (c.impl >= 2) {
            gemv::chain_launch(c.wt, d.params(c.impl == 3), cp, strm);
            return;
        }
        for (int j = 0; j < c.J; j++) {
            gemv::Params p = d.launch_params(j, a8 ? (void *)y.p : (void *)(d.x.p + (size_t)(j + 1) * 8 * c.N * d.xb), ts.p);
            p.split = pl.split, p.workspace = wsb.p, p.workspace_size = wsb.n;
            gemv::launch(c.wt, p, pl, strm);
        }
    }, 4);
    const double wbytes = (double)c.N * c.N * wt_bytes(c.wt);
    bench::set_counters(st, 2.0 * c.M * c.N * c.N * c.J, wbytes * c.J);
    st.counters["J"] = c.J;
    st.counters["kg"] = c.impl >= 2 ? cp.kg : pl.kg;
    st.counters["wgmma"] = c.impl >= 2 ? 0 : pl.wgmma;
    st.counters["split"] = c.impl >= 2 ? 1 : pl.split;
    st.counters["blocks"] = c.impl >= 2 ? cp.blocks : pl.blocks;
    st.counters["stages"] = c.impl >= 2 ? cp.stages : pl.stages;
    st.counters["us_per_gemv"] = benchmark::Counter(c.J / 1e6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

struct AttnCase {
    int kv, B, Hq, Hkv, L, page;
    int nsplit; // 0: the planner's; else forced (tuning variants fp8kit-s<n>)
    int nw;     // 0: the planner's; else forced consumer warps (fp8kit-w<n>)
    int pipe;   // -1: the planner's; else S a stage ahead forced off or on (fp8kit-p<0|1>)
};

static void bm_attn(benchmark::State &st, AttnCase c)
{
    const size_t bytes = kv_cache_bytes(c.kv, c.B, c.Hkv, c.L, c.page);
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    const int n = copies(bytes);
    if ((double)bytes * n > 0.85 * (double)free_b) {
        st.SkipWithError("KV cache does not fit in GPU memory");
        return;
    }
    std::mt19937_64 rng(next_seed());
    std::vector<std::unique_ptr<KvSet>> sets;
    for (int i = 0; i < n; i++) sets.emplace_back(new KvSet(c.kv, c.B, c.Hkv, c.L, c.page, rng));
    std::vector<int> lens(c.B, c.L);
    DevBuf<int> lensd(c.B);
    lensd.upload(lens);
    DevBuf<uint16_t> q((size_t)c.B * c.Hq * attn::HD), out(q.n);
    launch_fill_bf16(q.p, q.n, next_seed(), 1.f);
    attn::Plan pl = c.nw ? attn::plan_nw(c.kv, c.B, c.Hkv, c.L, c.nsplit, c.Hq / c.Hkv, false, c.nw)
                         : attn::plan(c.kv, c.B, c.Hkv, c.L, c.nsplit, c.Hq / c.Hkv);
    if (c.pipe >= 0) pl.pipe = c.pipe == 1 && c.kv != attn::KV_BF16;
    DevBuf<float> ws(attn::ws_floats(c.B, c.Hkv, pl.nsplit, c.Hq / c.Hkv));
    DevBuf<int> cnt((size_t)c.B * c.Hkv);
    CUDA_CHECK(cudaMemset(cnt.p, 0, cnt.n * 4));
    std::vector<attn::Params> ps;
    for (int i = 0; i < n; i++)
        ps.push_back(attn_params(*sets[i], (const __nv_bfloat16 *)q.p, lensd.p, (__nv_bfloat16 *)out.p, ws.p, cnt.p, c.Hq, pl));
    // with programmatic dependent launch, as in the decode step and as the
    // GEMV is timed (--attn_pdl=0: without): a launch's CTAs start as the
    // previous launch's leave, its producer streaming all but the stage of
    // token L - 1 before the wait
    bench::time_graph(st, [&](int i, cudaStream_t strm) { attn::launch(c.kv, ps[i % n], strm, g_attn_pdl); }, graph_len(n));
    // KV bytes of the L tokens read (the padding of a last page is not read)
    const double kvb = 2.0 * c.B * c.Hkv * (double)c.L * attn::HD * (c.kv == attn::KV_BF16 ? 2 : 1);
    bench::set_counters(st, 4.0 * c.B * c.Hq * (double)c.L * attn::HD, kvb);
    st.counters["splits"] = pl.nsplit;
    st.counters["warps"] = pl.nw;
    st.counters["pipe"] = pl.pipe;
    st.counters["producers"] = attn::producers(c.kv, ps[0]);
    st.counters["rotation"] = n;
}

#ifdef ATTN_TRACE
// Diagnostic (build with -DATTN_TRACE): --attn_trace=e4m3:1:4096:16,...
// (KV type, batch, context, splits[:consumer warps]; 8B heads, contiguous;
// splits 0 and no warps: the planner's) launches each case
// 20 times, then once with every CTA's timestamps recorded, and prints for
// each point of attn_decode.cuh's trace() the min / median / max over CTAs,
// in us after the first CTA's entry, and the SM clock (clock64 against
// %globaltimer, entry to count, or to the parts in shared memory where
// nothing is split); then the same after 0.3 s of launches (a
// clock that had not ramped up would show there: H200, 1.73-1.79 GHz both
// ways, NOTES.md v22).
static void attn_trace(const std::string &list)
{
    for (auto &c : split_csv(list)) {
        char kvn[8];
        int B = 0, L = 0, ns = 0, nw = 0;
        const int got = sscanf(c.c_str(), "%7[^:]:%d:%d:%d:%d", kvn, &B, &L, &ns, &nw);
        if (got < 4 || (got == 5 && nw != 4 && nw != 8)) {
            fprintf(stderr, "--attn_trace: '%s' is not kv:B:L:splits[:4|8]\n", c.c_str());
            exit(2);
        }
        const int kv = std::string(kvn) == "bf16" ? attn::KV_BF16 : std::string(kvn) == "e5m2" ? attn::KV_E5M2 : attn::KV_E4M3;
        const int Hq = 32, Hkv = 8;
        std::mt19937_64 rng(next_seed());
        KvSet set(kv, B, Hkv, L, 0, rng);
        std::vector<int> lens(B, L);
        DevBuf<int> lensd(B);
        lensd.upload(lens);
        DevBuf<uint16_t> q((size_t)B * Hq * attn::HD), out(q.n);
        launch_fill_bf16(q.p, q.n, next_seed(), 1.f);
        const attn::Plan pl = nw ? attn::plan_nw(kv, B, Hkv, L, ns, Hq / Hkv, false, nw) : attn::plan(kv, B, Hkv, L, ns, Hq / Hkv);
        DevBuf<float> ws(attn::ws_floats(B, Hkv, pl.nsplit, Hq / Hkv));
        DevBuf<int> cnt((size_t)B * Hkv);
        CUDA_CHECK(cudaMemset(cnt.p, 0, cnt.n * 4));
        const attn::Params p = attn_params(set, (const __nv_bfloat16 *)q.p, lensd.p, (__nv_bfloat16 *)out.p, ws.p, cnt.p, Hq, pl);
        // the trace twice: after 20 launches (as every earlier session's), then after 0.3 s of them
        for (int warm = 0; warm < 2; warm++) {
            if (!warm)
                for (int i = 0; i < 20; i++) attn::launch(kv, p, 0);
            else
                for (const auto w0 = std::chrono::steady_clock::now();
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count() < 0.3;) {
                    for (int i = 0; i < 500; i++) attn::launch(kv, p, 0);
                    CUDA_CHECK(cudaDeviceSynchronize());
                }
            constexpr int NP = attn::TRACE_POINTS;
            std::vector<unsigned long long> t((size_t)attn::TRACE_CTAS * NP, 0);
            CUDA_CHECK(cudaMemcpyToSymbol(attn::trace_ns, t.data(), t.size() * 8));
            attn::launch(kv, p, 0);
            CUDA_CHECK_LAUNCH();
            CUDA_CHECK(cudaDeviceSynchronize());
            CUDA_CHECK(cudaMemcpyFromSymbol(t.data(), attn::trace_ns, t.size() * 8));
            const int n = std::min(pl.blocks, attn::TRACE_CTAS);
            unsigned long long t0 = ~0ull, t1 = 0;
            for (int b = 0; b < n; b++) {
                t0 = std::min(t0, t[b * NP]);
                for (int e = 0; e < NP; e++) t1 = std::max(t1, t[b * NP + e]);
            }
            std::vector<long long> ck((size_t)attn::TRACE_CTAS * NP, 0);
            CUDA_CHECK(cudaMemcpyFromSymbol(ck.data(), attn::trace_clk, ck.size() * 8));
            // clock64 cycles over ns from entry (0) to counted (8); without
            // splits no CTA counts, so to every warp's part in smem (6)
            const int end = pl.nsplit > 1 ? 8 : 6;
            std::vector<double> ghz;
            for (int b = 0; b < n; b++)
                if (t[b * NP + end] > t[b * NP])
                    ghz.push_back((double)(ck[b * NP + end] - ck[b * NP]) / (double)(t[b * NP + end] - t[b * NP]));
            std::sort(ghz.begin(), ghz.end());
            printf("[%s: SM clock entry..%s, median over CTAs %.3f GHz] ", warm ? "after 0.3 s of launches" : "after 20 launches",
                   end == 8 ? "counted" : "parts in smem", ghz.empty() ? 0. : ghz[ghz.size() / 2]);
            printf("%s b%d l%d splits %d, %d warps (%d CTAs): first entry to last timestamp %.2f us\n", kvn, B, L, pl.nsplit, pl.nw,
                   pl.blocks, (t1 - t0) / 1e3);
            const char *what[NP] = {"entry", "ring ready", "first copy issued", "q loaded", "first stage in",
                                    "main loop done (warp 0)", "warps' parts in smem", "part stored", "counted",
                                    "merge done (last CTAs)", "last CTA past its barrier", "first 8 splits folded",
                                    "every split folded"};
            for (int e = 0; e < NP; e++) {
                std::vector<double> v;
                for (int b = 0; b < n; b++)
                    if (t[b * NP + e]) v.push_back((t[b * NP + e] - t0) / 1e3);
                if (v.empty()) continue;
                std::sort(v.begin(), v.end());
                printf("  %d %-24s n %5zu  min %6.2f  median %6.2f  max %6.2f us\n", e, what[e], v.size(), v.front(),
                       v[v.size() / 2], v.back());
            }
        }
    }
}
#endif

#ifdef GEMV_TRACE
// Diagnostic (build with -DGEMV_TRACE): --gemv_trace=e4m3_a8:1:4096:4096,...
// (weights as the benchmarks name them, M, N, K, and optionally :n for the
// rows split evenly over n CTAs an SM; else the planner's plan, with
// --gemv_stages and --gemv_pdl applied as the benchmark applies them) captures
// a CUDA graph of graph_len() launches over rotating weight sets as the
// benchmark does, replays it, then once more with launches 8..11 recording
// every CTA's timestamps, and prints for each of those launches and each
// point of gemv.cuh's trace() the min / median / max over CTAs, in us after
// the first entry of launch 8: how consecutive launches overlap under
// programmatic dependent launch.
static void gemv_trace(const std::string &list)
{
    const int wts[] = {gemv::BF16, gemv::E4M3_CHANNEL, gemv::E4M3_BLOCK, gemv::E4M3_A8, gemv::E4M3_A8G};
    for (auto &c : split_csv(list)) {
        char wn[16];
        int M = 0, N = 0, K = 0, wt = -1, even = 0;
        if (sscanf(c.c_str(), "%15[^:]:%d:%d:%d:%d", wn, &M, &N, &K, &even) >= 4)
            for (int w : wts)
                if (std::string(wn) == wt_name(w)) wt = w;
        const gemv::Plan pl = wt >= 0 ? gemv::plan(wt, M, N, K, 0, g_gemv_stages, g_gemv_pdl, 0, even) : gemv::Plan{};
        if (wt < 0 || !gemv::runs(wt, M, N, K, pl)) {
            fprintf(stderr, "--gemv_trace: '%s' is not a supported wtype:M:N:K[:even] (wtype bf16, e4m3_channel, e4m3_block, e4m3_a8, e4m3_a8g)\n", c.c_str());
            exit(2);
        }
        const size_t wbytes = (size_t)N * K * wt_bytes(wt);
        const int n = copies(wbytes), len = std::max(graph_len(n), 12);
        std::vector<std::unique_ptr<GemvSet>> sets;
        for (int i = 0; i < n; i++) sets.emplace_back(new GemvSet(wt, N, K));
        // the inputs' values do not matter here, only finite
        DevBuf<uint8_t> x((size_t)M * K * (gemv::is_a8(wt) ? 1 : 2));
        if (gemv::is_a8(wt)) launch_fill_codes(x.p, x.n, next_seed());
        else launch_fill_bf16(x.p, x.n / 2, next_seed(), 1.f);
        DevBuf<float> xs(wt == gemv::E4M3_A8G ? gemv::xg_count(M, K) : (size_t)M);
        launch_fill_f32(xs.p, xs.n, next_seed(), 1.f / 512, 1.f / 128);
        DevBuf<uint16_t> y((size_t)M * N);
        DevBuf<uint8_t> wsb(std::max<size_t>(4, gemv::workspace_bytes(pl, N)));
        CUDA_CHECK(cudaMemset(wsb.p, 0, wsb.n));
        cudaStream_t strm;
        CUDA_CHECK(cudaStreamCreateWithFlags(&strm, cudaStreamNonBlocking));
        auto capture = [&](bool traced) {
            cudaGraph_t g;
            cudaGraphExec_t ge;
            CUDA_CHECK(cudaStreamBeginCapture(strm, cudaStreamCaptureModeThreadLocal));
            for (int i = 0; i < len; i++) {
                const GemvSet &s = *sets[i % n];
                gemv::Params p{s.w.p, x.p, s.s.p, (__nv_bfloat16 *)y.p, M, N, K, pl.split, xs.p, wsb.p, wsb.n};
                p.trace_slot = traced && i >= 8 && i < 8 + gemv::TRACE_LAUNCHES ? i - 8 : -1;
                gemv::launch(wt, p, pl, strm);
            }
            CUDA_CHECK(cudaStreamEndCapture(strm, &g));
            CUDA_CHECK(cudaGraphInstantiate(&ge, g, 0));
            CUDA_CHECK(cudaGraphDestroy(g));
            return ge;
        };
        cudaGraphExec_t plain = capture(false), traced = capture(true);
        for (int r = 0; r < 5; r++) CUDA_CHECK(cudaGraphLaunch(plain, strm));
        gemv::clear_trace();
        CUDA_CHECK(cudaGraphLaunch(traced, strm));
        CUDA_CHECK(cudaStreamSynchronize(strm));
        CUDA_CHECK_LAUNCH();
        const gemv::TraceDump d = gemv::read_trace();
        CUDA_CHECK(cudaGraphExecDestroy(plain));
        CUDA_CHECK(cudaGraphExecDestroy(traced));
        CUDA_CHECK(cudaStreamDestroy(strm));
        printf("%s %dx%dx%d: kg %d split %d%s, %d CTAs, %d stages; %d launches a graph, launches 8-%d (us after launch 8's first entry)\n",
               wn, M, N, K, pl.kg, pl.split, pl.even ? ", rows evenly" : "", pl.blocks, pl.stages, len, 7 + gemv::TRACE_LAUNCHES);
        const unsigned long long t0 = gemv::trace_first(d, 0, pl.blocks);
        for (int l = 0; l < gemv::TRACE_LAUNCHES; l++) {
            const std::string name = "launch " + std::to_string(8 + l);
            gemv::print_trace(d, l, pl.blocks, t0, name.c_str());
        }
    }
}
#endif

#ifdef GEMV_TRACE
// Diagnostic (build with -DGEMV_TRACE): --gemv_chain_trace=e4m3_channel:1:4096,...
// (weights, M, N): the persistent chain of 16 GEMVs launched 5 times, then
// once more recording gemv_chain.cuh's points for GEMVs 0..7; prints each
// point's min / median / max over the CTAs, in us after GEMV 1's first
// "X ready", and the period between GEMVs.
static void gemv_chain_trace(const std::string &list)
{
    for (auto &c : split_csv(list)) {
        char wn[16];
        int M = 0, N = 0, wt = -1;
        if (sscanf(c.c_str(), "%15[^:]:%d:%d", wn, &M, &N) == 3)
            for (int w : {gemv::BF16, gemv::E4M3_CHANNEL, gemv::E4M3_A8})
                if (std::string(wn) == wt_name(w)) wt = w;
        const int J = 16;
        const gemv::ChainPlan cp = wt >= 0 ? gemv::chain_plan(wt, M, N, J, true, g_chain_ctas) : gemv::ChainPlan{};
        if (!cp.kg || cp.blocks > gemv::CHAIN_CTAS) {
            fprintf(stderr, "--gemv_chain_trace: '%s' is not a supported wtype:M:N (bf16, e4m3_channel, e4m3_a8; M <= 8)\n", c.c_str());
            exit(2);
        }
        ChainData d(wt, M, N, J);
        const gemv::ChainParams p = d.params();
        for (int r = 0; r < 5; r++) gemv::chain_launch(wt, p, cp, 0);
        std::vector<unsigned long long> z((size_t)gemv::CHAIN_TRACE_JOBS * gemv::CHAIN_CTAS * gemv::CHAIN_POINTS, 0);
        CUDA_CHECK(cudaDeviceSynchronize());
        CUDA_CHECK(cudaMemcpyToSymbol(gemv::chain_trace_ns, z.data(), z.size() * 8));
        gemv::chain_launch(wt, p, cp, 0);
        CUDA_CHECK(cudaDeviceSynchronize());
        CUDA_CHECK_LAUNCH();
        CUDA_CHECK(cudaMemcpyFromSymbol(z.data(), gemv::chain_trace_ns, z.size() * 8));
        auto at = [&](int j, int b, int e) { return z[((size_t)j * gemv::CHAIN_CTAS + b) * gemv::CHAIN_POINTS + e]; };
        unsigned long long t0 = ~0ull;
        for (int b = 0; b < cp.blocks; b++) t0 = std::min(t0, at(1, b, 0));
        printf("%s %dx%dx%d: kg %d, %d CTAs, %d stages, %d GEMVs a launch (us after GEMV 1's first X ready)\n", wn, M, N, N, cp.kg,
               cp.blocks, cp.stages, J);
        const char *what[gemv::CHAIN_POINTS] = {"X ready seen", "first stage in", "main loop done", "share stored"};
        double prev = 0;
        for (int j = 0; j < gemv::CHAIN_TRACE_JOBS; j++) {
            for (int e = 0; e < gemv::CHAIN_POINTS; e++) {
                std::vector<double> v;
                for (int b = 0; b < cp.blocks; b++) v.push_back(((double)at(j, b, e) - (double)t0) / 1e3);
                std::sort(v.begin(), v.end());
                printf("  gemv %d %d %-15s min %7.2f  median %7.2f  max %7.2f us", j, e, what[e], v.front(), v[v.size() / 2], v.back());
                if (e == 3) printf("  (period %.2f)", v.back() - prev), prev = v.back();
                printf("\n");
            }
        }
    }
}
#endif

int main(int argc, char **argv)
{
    bench::init(&argc, argv, {"only", "models", "layers", "attention", "tokens", "tokens_file", "gemv_variants", "gemv_stages",
                              "gemv_pdl", "gemv_min_resident", "gemv_wide_ring", "gemv_wgmma", "gemv_trace", "gemv_chain_trace", "chain_pre", "chain_ctas", "attn_variants", "attn_warps", "attn_pipe", "attn_producers",
                              "attn_pdl", "attn_trace"});
    const bench::Options &o = bench::options();
    g_seed = bench::seed_flag();
    const std::string only = opt("only", "");
    const std::string stages_hint = "0 (the planner's) or " + std::to_string(gemv::MIN_STAGES) + " to " + std::to_string(gemv::MAX_STAGES);
    g_gemv_stages = bench::opt_int("gemv_stages", 0, 0, gemv::MAX_STAGES, stages_hint.c_str());
    if (g_gemv_stages != 0 && g_gemv_stages < gemv::MIN_STAGES) {
        fprintf(stderr, "--gemv_stages=%d: %s\n", g_gemv_stages, stages_hint.c_str());
        return 2;
    }
    g_gemv_pdl = bench::opt_int("gemv_pdl", 1, 0, 1, "1 or 0 (programmatic dependent launch)");
    gemv::min_resident = bench::opt_int("gemv_min_resident", 2, 1, 3, "1 to 3 (CTAs an SM the ring is sized for)");
    gemv::wide_ring = bench::opt_int("gemv_wide_ring", 1, 0, 1, "1 or 0 (beyond 16 tokens, rings for the CTAs an SM the launch has)"); // tuning
    const std::string wgmma = opt("gemv_wgmma", "1"); // tuning
    if (wgmma != "0" && wgmma != "1" && wgmma != "2") {
        fprintf(stderr, "--gemv_wgmma=%s: 0 (mma.sync), 1 (the planner's rule) or 2 (wgmma)\n", wgmma.c_str());
        return 2;
    }
    gemv::wgmma_default = wgmma[0] - '0';
    g_attn_pdl = bench::opt_int("attn_pdl", 1, 0, 1, "1 or 0 (programmatic dependent launch)");
    g_chain_pre = bench::opt_int("chain_pre", 2, 0, 64, "0 (the whole ring) to 64 stages before X's wait");
    g_chain_ctas = bench::opt_int("chain_ctas", 1, 1, 2, "1 or 2 (the persistent chain's CTAs an SM)");
    if (!only.empty() && only != "gemv" && only != "attn" && only != "chain") {
        fprintf(stderr, "--only=%s: gemv, attn or chain\n", only.c_str());
        return 2;
    }
    // tuning: consumer warps and S a stage ahead forced (attn::set_forced)
    if (!attn::set_forced(opt("attn_warps", "0").c_str(), opt("attn_pipe", "-1").c_str(),
                            opt("attn_producers", "0").c_str()))
        return 2;

#ifdef ATTN_TRACE
    if (bench::options().extra.count("attn_trace")) {
        attn_trace(opt("attn_trace", ""));
        return 0;
    }
#else
    if (bench::refuse_unbuilt("attn_trace", "build/decode_trace", "ATTN_TRACE")) return 2;
#endif
#ifdef GEMV_TRACE
    if (bench::options().extra.count("gemv_trace")) {
        gemv_trace(opt("gemv_trace", ""));
        return 0;
    }
    if (bench::options().extra.count("gemv_chain_trace")) {
        gemv_chain_trace(opt("gemv_chain_trace", ""));
        return 0;
    }
#else
    if (bench::refuse_unbuilt("gemv_chain_trace", "build/decode_trace", "GEMV_TRACE")) return 2;
    if (bench::refuse_unbuilt("gemv_trace", "build/decode_trace", "GEMV_TRACE")) return 2;
#endif
    // --tokens is read whatever else is asked; --models selects benchmarks
    // (the checks and the chains run fixed cases)
    std::vector<int> toks;
    if (bench::options().extra.count("tokens"))
        toks = bench::int_list("tokens", opt("tokens", ""), 1, 64, "a token count, 1 to 64");
    if (bench::options().extra.count("models") && (o.check || only == "chain")) {
        fprintf(stderr, "--models: %s runs fixed cases, not the models' shapes\n", o.check ? "--check" : "--only=chain");
        return 2;
    }
    if (o.check) {
        const cudaDeviceProp &p = bench::device();
        printf("# %s, %d SMs\n", p.name, p.multiProcessorCount);
        if (only.empty() || only == "gemv") {
            gemv_checks();
            cublaslt_checks();
        }
        if (only.empty() || only == "gemv" || only == "chain") chain_checks();
        if (only.empty() || only == "attn") attn_checks();
        CUDA_CHECK(cudaDeviceSynchronize());
        printf("# %d failed\n", g_fail);
        return g_fail ? 1 : 0;
    }

    // the lists and flags first (bad input exits 2 before any GPU work), the
    // GPU's context (and the copy bandwidth) just before the runs
    std::set<std::string> models;
    for (auto &m : split_csv(opt("models", o.quick ? "llama3.1-8b,llama3.1-70b" : ""))) models.insert(m);
    auto want = [&](const std::string &m) { return models.empty() || models.count(m); };

    // every name given in --models must have benchmarks in this run
    std::set<std::string> listed;
    if (only.empty() || only == "gemv") {
        if (bench::options().extra.count("tokens") == 0 && o.quick) {
            toks = {1, 16, 64};
        } else if (bench::options().extra.count("tokens") == 0) {
            const std::string tf = opt("tokens_file", "sweeps/tokens.txt");
            for (auto &r : bench::read_shapes(tf))
                if (r[0] == "decode")
                    for (size_t i = 1; i < r.size(); i++)
                        if (const int m = bench::field_int(tf, r, i); m <= 64) toks.push_back(m);
        }
        // --gemv_variants=s2,k4,k4s1,e1,k2e1: also time our kernel with
        // forced k groups (k<n>), split (s<n>) and/or the rows split evenly
        // over n CTAs an SM (e<n>, split 1) (tuning)
        struct Variant { std::string name; int kg, split, even; };
        std::vector<Variant> variants{{"", 0, 0, 0}};
        for (auto &t : split_csv(opt("gemv_variants", ""))) {
            // exactly [k<n>][s<n>][e<n>], one at least (the names summarize.py reads)
            Variant v{t, 0, 0, 0};
            int *const vals[] = {&v.kg, &v.split, &v.even};
            if (!bench::parse_variant(t, "kse", vals, 2) || (v.kg != 0 && v.kg != 1 && v.kg != 2 && v.kg != 4) ||
                v.split > gemv::MAX_SPLIT || v.even > 2 || (v.even && v.split > 1) || (v.kg == 0 && v.split == 0 && v.even == 0)) {
                fprintf(stderr, "--gemv_variants: '%s' is not [k<1|2|4>][s<1..%d>][e<1|2>] (e: split 1)\n", t.c_str(), gemv::MAX_SPLIT);
                return 2;
            }
            variants.push_back(v);
        }
        std::set<std::pair<int, int>> seen;
        const std::string lf = opt("layers", "sweeps/layers.txt");
        for (auto &r : bench::read_shapes(lf)) {
            if (r.size() < 4 || !want(r[0])) continue;
            listed.insert(r[0]);
            const int N = bench::field_int(lf, r, 2), K = bench::field_int(lf, r, 3);
            if (!seen.insert({N, K}).second) continue;
            struct Impl { int wt, ltmode; };
            for (int M : toks)
                for (Impl im : {Impl{gemv::E4M3_CHANNEL, -1}, Impl{gemv::E4M3_BLOCK, -1}, Impl{gemv::E4M3_A8, -1},
                                Impl{gemv::E4M3_A8G, -1}, Impl{gemv::BF16, -1},
                                Impl{gemv::E4M3_CHANNEL, lt::FP8_TENSOR}, Impl{gemv::E4M3_CHANNEL, lt::FP8_CHANNEL},
                                Impl{gemv::E4M3_BLOCK, lt::FP8_BLOCK}, Impl{gemv::BF16, lt::BF16}})
                    for (const Variant &v : im.ltmode < 0 ? variants : std::vector<Variant>{variants[0]}) {
                        if (im.wt == gemv::E4M3_A8G && im.ltmode < 0 && M > 8 * gemv::KG_MAX_MT) continue; // (its range)
                        const std::string impl = im.ltmode >= 0 ? "cublaslt" : v.name.empty() ? "fp8kit" : "fp8kit-" + v.name;
                        const std::string name = "gemv/" + impl + "/" +
                                                 (im.ltmode >= 0 ? lt::mode_name(im.ltmode) : wt_name(im.wt)) + "/" +
                                                 std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
                        benchmark::RegisterBenchmark(name.c_str(), bm_gemv, GemvCase{im.wt, M, N, K, im.ltmode, v.split, v.kg, v.even})
                            ->UseManualTime()
                            ->Unit(benchmark::kMicrosecond);
                    }
        }
    }
    // GEMV chains (gemv_chain.cuh): only when asked for (--only=chain)
    if (only == "chain")
        for (int N : {4096, 8192, 16384})
            for (int M : {1, 8})
                for (int wt : {gemv::E4M3_A8, gemv::E4M3_CHANNEL, gemv::BF16}) {
                    const size_t wbytes = (size_t)N * N * wt_bytes(wt);
                    const int J = std::max<int>(16, (int)((single_copy_bytes() + wbytes - 1) / wbytes));
                    const char *impls[] = {"fp8kit", "fp8kit-even", "fp8kit-persistent", "fp8kit-indep"};
                    for (int impl = 0; impl < 4; impl++) {
                        const std::string name = "gemv_chain/" + std::string(impls[impl]) + "/" + wt_name(wt) + "/" + std::to_string(M) + "x" +
                                                 std::to_string(N) + "x" + std::to_string(N) + "_j" + std::to_string(J);
                        benchmark::RegisterBenchmark(name.c_str(), bm_chain, ChainCase{wt, M, N, J, impl})
                            ->UseManualTime()
                            ->Unit(benchmark::kMicrosecond);
                    }
                }
    if (only.empty() || only == "attn") {
        std::vector<int> batches, contexts;
        struct Mdl { std::string name; int hq, hkv, d; };
        std::vector<Mdl> mdls;
        const std::string af = opt("attention", "sweeps/attention.txt");
        for (auto &r : bench::read_shapes(af)) {
            if (r[0] == "batch") for (size_t i = 1; i < r.size(); i++) batches.push_back(bench::field_int(af, r, i));
            else if (r[0] == "context") for (size_t i = 1; i < r.size(); i++) contexts.push_back(bench::field_int(af, r, i));
            else if (r.size() >= 4 && want(r[0]))
                mdls.push_back({r[0], bench::field_int(af, r, 1), bench::field_int(af, r, 2), bench::field_int(af, r, 3)});
        }
        if (o.quick) batches = {1, 16, 64}, contexts = {4096, 32768};
        // --attn_variants=s4,w8,s16w4p1: also time our kernel with that many
        // context splits (s<n>), consumer warps (w4, w8) and/or S a stage
        // ahead or not (p1, p0) (tuning)
        struct AVariant { std::string name; int ns, nw, pipe; };
        std::vector<AVariant> avars{{"", 0, 0, -1}};
        for (auto &t : split_csv(opt("attn_variants", ""))) {
            AVariant v{t, 0, 0, -1};
            int *const vals[] = {&v.ns, &v.nw, &v.pipe};
            if (!bench::parse_variant(t, "swp", vals, 3) || v.ns > attn::MAX_SPLITS || (v.nw != 0 && v.nw != 4 && v.nw != 8) ||
                v.pipe > 1 || (v.ns == 0 && v.nw == 0 && v.pipe < 0)) {
                fprintf(stderr, "--attn_variants: '%s' is not [s<1..%d>][w<4|8>][p<0|1>]\n", t.c_str(), attn::MAX_SPLITS);
                return 2;
            }
            avars.push_back(v);
        }
        for (auto &m : mdls) {
            if (m.d != attn::HD || m.hq % m.hkv || m.hq / m.hkv > attn::MAX_G) continue; // kernel: head dim 128, G <= MAX_G
            listed.insert(m.name);
            for (int B : batches)
                for (int L : contexts)
                    for (int kv : {attn::KV_BF16, attn::KV_E4M3, attn::KV_E5M2})
                        for (int page : {0, 16, 64})
                            for (const AVariant &v : avars) {
                                const std::string impl = v.name.empty() ? "fp8kit" : "fp8kit-" + v.name;
                                const std::string name = "attn_decode/" + impl + "/" + kv_name(kv) + "/b" + std::to_string(B) +
                                                         "_l" + std::to_string(L) + "_hq" + std::to_string(m.hq) + "_hkv" +
                                                         std::to_string(m.hkv) + "_d" + std::to_string(m.d) + "_" +
                                                         (page == 0 ? "contig" : page == 16 ? "paged16" : "paged64");
                                benchmark::RegisterBenchmark(name.c_str(), bm_attn, AttnCase{kv, B, m.hq, m.hkv, L, page, v.ns, v.nw, v.pipe})
                                    ->UseManualTime()
                                    ->Unit(benchmark::kMicrosecond);
                            }
        }
    }
    if (bench::options().extra.count("models"))
        for (auto &m : models)
            if (!listed.count(m)) {
                fprintf(stderr, "--models: no benchmark of '%s' in the lists this run reads (%s%s%s)\n",
                        m.c_str(), only != "attn" ? opt("layers", "sweeps/layers.txt").c_str() : "", only.empty() ? ", " : "",
                        only != "gemv" ? opt("attention", "sweeps/attention.txt").c_str() : "");
                return 2;
            }
    bench::add_context();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
