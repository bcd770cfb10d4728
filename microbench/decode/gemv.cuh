// gemv: weight-streaming GEMV / skinny GEMM for decode, Y = X * W^T.
//
//   W  N x K row-major (PyTorch Linear weight): BF16, or FP8 E4M3 with
//      per-output-channel scales (scale[N], FP32) or with 128x128 block
//      scales (scale[ceil(N/128)][K/128], FP32, row-major).
//   X  M x K row-major (M = 1..64 tokens): BF16 (W8A16 for FP8 weights), or
//      for E4M3_A8 E4M3 codes with per-token scales (W8A8, as FP8 serving
//      on Hopper runs: the kernel producing X quantizes it), or for
//      E4M3_A8G E4M3 codes with a scale a (token, 64-k group), up to 16
//      tokens: 1x64 activation tiles, which a producer holding only 64 of a
//      token's values (the gate_up GEMV's SiLU epilogue) can quantize by
//      itself. Scales in xg_index()'s order, [K / 128][MP][2] (MP: M
//      rounded up to 8), so that a stage's are one bulk copy beside its X.
//   Y  M x N row-major BF16. FP32 accumulation; block scales are applied
//      every 128 k, activation group scales every 64 k; channel (and token)
//      scales once in the epilogue.
//
// How: a CTA owns a tile of 128 / KG weight rows (KG = 1, 2 or 4 k groups)
// and a range of K. One producer warp streams the tile through a ring of
// shared-memory stages with TMA (cp.async.bulk.tensor, 128-byte swizzle, on
// full/empty mbarriers): a stage is KG sub-stages, each the tile's rows x
// 128 bytes of W (128 k of FP8, 64 k of BF16) plus the same k of every token
// of X (zero rows past M come from TMA's out-of-bounds fill): 16 KiB of W a
// stage. The ring is as deep as the CTAs sharing an SM leave room for
// (plan()). Eight consumer warps take 16 rows of one sub-stage each (warp =
// k group x 8 / KG + row group); k groups split K inside the CTA and are
// added in shared memory at the end, so a small layer fills the GPU with
// 32-row CTAs instead of splitting K over CTAs: ldmatrix.x4 reads the weight
// fragments (conflict-free under the swizzle) and mma.sync puts the weights
// in the A operand (16 rows) and the tokens in B (8 a tile), FP32
// accumulators:
//   BF16      m16n8k16 BF16; or, where wgmma_rule() says, wgmma
//             m64n(8 MT)k16 BF16 straight from the ring (struct Wg).
//   W8A16     E4M3 -> BF16 in registers (common.cuh; exact: PRMT, 2 LOP3,
//             LEA.HI, HMUL2 a pair), m16n8k16 BF16. Each lane's A registers
//             hold 4 consecutive k (ldmatrix's 4 bytes), so the k order in
//             an MMA is permuted, identically for X (one 8-byte load).
//   W8A8      m16n8k32 E4M3 x E4M3 (sm_90 runs it as F2FP.F16.E4M3 pairs and
//             FP16 HMMAs: exact products, FP32 sums); or, where
//             wgmma_rule() says (from 9 tokens; up to 8 where N >= 8192),
//             wgmma m64n(8 MT)k32 straight from the ring, the two groups of
//             four consumer warps as warpgroups (struct Wg, below).
// Each warp keeps 1-4 independent accumulator sets so that a stage's MMAs
// are not one dependent chain. K may also be split over 1..16 CTAs a tile
// (plan() weighs k groups against splits); the partial sums go to a
// workspace and the tile's last CTA adds them in rank order (deterministic).
// (The split CTAs of a tile as a thread-block cluster adding through
// distributed shared memory instead: 1.00x on average (0.80-1.11x),
// 0.80-0.83x on 70B qkv, 0.97-1.01x in the step; reverted, NOTES.md v13.)
// Epilogue: Y, or (up to 16 tokens, Params::epi) the decode step's next
// small kernel done in place: RoPE + KV append after the QKV projection,
// SiLU * up after gate_up (BF16 out, or E4M3 in 1x64 groups for a W8A8
// down projection); a CTA's rows are then pairs of rows apart in W, loaded
// as two TMA boxes. Each removes a dependent launch from a layer:
// decode_step at batch 1-16 1.01-1.03x (RoPE, FP8 8B), 1.006-1.017x (SiLU,
// BF16 8B) and 1.012-1.026x (SiLU to E4M3, FP8 8B), same call against the
// separate kernels (NOTES.md v8, v9).
//
// Correct: bit-exact on every E4M3 code (one-hot check), rel L2 ~1.6e-3
// against FP64 elsewhere (bound 4e-3; BF16 output rounding dominates);
// W8A8 on wgmma, each stage's 128 k added in FP32, 1.63-1.71e-3 over the
// whole K of 70B's and 405B's down projections in one CTA (mma.sync
// 1.55-1.66e-3; with a job's whole K in wgmma's accumulator it had grown
// to 2.6e-3; NOTES.md v18-v19).
// Measured (H200, the sweep at commit 00d0bd4, results/h200/decode.json;
// fraction of the 4.27 TB/s copy bandwidth, M <= 16, Llama-3.1-8B/70B
// layers): BF16 0.74-1.00 (cuBLASLt 0.59-1.00); W8A8 0.55-0.95 (cuBLASLt's
// per-tensor W8A8 0.54-0.99); W8A16 0.48-0.89. Below the 0.90 target on the small 8B
// layers (8B o 0.58 / 0.55 at M = 1 / 16, where cuBLASLt's W8A8 is 0.54 /
// 0.54): a launch's fixed cost against 16 MB. FP8 over BF16: 1.82x (W8A8),
// cuBLASLt 1.84x. Before k groups (bb09fae): BF16 0.53-0.95, W8A8
// 0.28-0.90, 1.59x. NOTES.md (v5) has the runs. E4M3_A8G (same file):
// 1.78x over BF16. W8A8 at 9-16 tokens on 70B qkv with the kernel for
// three CTAs an SM (Plan::minb) and wgmma: 0.81 of copy (0.68 before
// Plan::minb, NOTES.md v15; 0.77 before wgmma, v18). W8A8 at 32 / 64
// tokens on wgmma, 8B/70B layers: 0.36-0.91 / 0.26-0.84 (00d0bd4's sweep;
// 63c65e3's, before v28's rings: 0.33-0.90 / 0.27-0.83;
// split K's last CTA adds from shared memory, v21: 1.054x on average at
// 24-64 tokens against v20's chunked loads, which were 0.28-0.94 /
// 0.22-0.83 in v20's A/B; mma.sync, v18 call 3: 0.19-0.72 / 0.14-0.45).
// BF16 at 24-64 tokens on wgmma (v27): 1.000-1.123x over mma.sync, 64
// tokens 0.48-0.93 of copy (cuBLASLt 0.70-1.01; NOTES.md v27 call 1); in
// 00d0bd4's sweep 32 / 64 tokens 0.60-0.95 / 0.47-0.91 (cuBLASLt 0.58-0.94
// / 0.66-0.93).
// Rings for the launch's own CTAs an SM beyond 16 tokens (ring_residents(),
// v28 call 6): at 32 tokens BF16 0.62-0.99 of copy, W8A8 0.37-0.94, 1.099x
// on average over 17-64 tokens against the rings before.
// The rows split evenly over the SMs (8B o and down alone, plan()): W8A8
// 1.05-1.12x, W8A16 0.99-1.27x against the tiles in one call (NOTES.md v12).
#pragma once

#include "common.cuh"
#include "rope_kv_append.cuh"
#include "silu_mul.cuh"
#include "../gemm/hopper.cuh"
#include "../gemm/wgmma.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
#include <type_traits>
#ifdef GEMV_TRACE
#include <map>
#include <vector>
#endif

namespace gemv {

enum WType { BF16 = 0, E4M3_CHANNEL = 1, E4M3_BLOCK = 2, E4M3_A8 = 3, E4M3_A8G = 4 };
// W8A8: E4M3 activations, per token (E4M3_A8) or per 1x64 group (E4M3_A8G)
__host__ __device__ constexpr bool is_a8(int wt) { return wt == E4M3_A8 || wt == E4M3_A8G; }
// W and X of one type, which wgmma multiplies from shared memory (struct Wg):
// W8A8 and BF16 (W8A16 would need its E4M3 weights converted first)
__host__ __device__ constexpr bool has_wgmma(int wt) { return is_a8(wt) || wt == BF16; }
constexpr int XGROUP = 64; // k a scale of E4M3_A8G's X
// E4M3_A8G's X scales: token m's scale of 64-k group g at xg_index(m, g, M)
// of xg_count(M, K) floats: [K / 128][MP][2], MP = 8 ceil(M / 8) (padding
// tokens' entries are read, their products discarded)
__host__ __device__ inline size_t xg_index(int m, int g, int M) { return ((size_t)(g >> 1) * (8 * ((M + 7) / 8)) + m) * 2 + (g & 1); }
__host__ __device__ inline size_t xg_count(int M, int K) { return (size_t)(K / 128) * (8 * ((M + 7) / 8)) * 2; }
// In a stage's copy (the 128-k blocks KG s.. of every token, from float
// KG s MP 2 of x_scale): k group kg's scale of token tok, half h (64 k)
__host__ __device__ constexpr int xg_stage_offset(int kg, int tok, int h, int mt) { return (kg * mt * 8 + tok) * 2 + h; }

struct Params {
    const void *w;           // N x K
    const void *x;           // M x K: BF16, or E4M3 codes (W8A8)
    const float *scale;      // see above; unused for BF16
    __nv_bfloat16 *y;        // M x N
    int M, N, K;
    int split;               // CTAs sharing one row tile's K
    const float *x_scale;    // W8A8: X's scales, [M] (E4M3_A8), xg_index() order (E4M3_A8G)
    // split > 1: workspace_size bytes, zeroed once before the first launch.
    // Partial sums from its start, the tiles' counters at its end; each launch
    // leaves its counters at zero again, so GEMVs that run one after another
    // may share one workspace of max(partial_bytes) + max(counter_bytes).
    void *workspace;
    size_t workspace_size;
    // epi: what the epilogue does with Y, up to 16 tokens (plan's mt <= 2).
    // EPI_Y writes it. The other two need pairs of rows that lie apart in W,
    // so a CTA's rows are then two TMA boxes of R / 2 rows a sub-stage, rows
    // row0.. and row0 + off.., and it holds both values of every pair:
    //   EPI_ROPE  W is a QKV projection, (Hq + 2 Hkv) heads of 128 rows (q,
    //             k, v as rope_kv_append.cuh reads them; N a multiple of
    //             128, rope.B = M); pairs (d, d + 64) of a head, off = 64:
    //             the epilogue does that kernel's work (rope_pair_store).
    //   EPI_SILU  W is the MLP's gate_up, gate rows [0, inter) then up rows
    //             [inter, 2 inter) (N = 2 inter, inter a multiple of 64);
    //             pairs (j, inter + j), off = inter: act [M][inter] =
    //             BF16(silu(gate) * up) as silu_mul.cuh's BF16 kernel does
    //             (BF16 or per-channel weights: no block scales); or, with
    //             act_q, E4M3 codes act_q [M][inter] and a scale a (token,
    //             64 outputs) act_s (xg_index(token, j / 64, M); the
    //             padding tokens' 1), amax / 448 of the FP32 values
    //             (token_quant.cuh's rule over 64 instead of a row):
    //             E4M3_A8G's X. One k group (R = 128): a tile's 64 outputs
    //             of a token are then one group.
    int epi = 0; // EPI_Y
    // even_ctas > 0 (set by launch() from Plan::even): the N rows are split
    // evenly over this many CTAs, one tile each of at most R rows, so that
    // every SM gets the same rows; a CTA loads R rows from its first and
    // writes only its share. Split 1, EPI_Y, no block scales (launch() checks).
    int even_ctas = 0;
    step::RopeParams rope{};
    __nv_bfloat16 *act = nullptr;
    int inter = 0;
    uint8_t *act_q = nullptr;
    float *act_s = nullptr;
#ifdef GEMV_TRACE
    int trace_slot = -1; // which of TRACE_LAUNCHES records its CTAs' timestamps (-1: none)
#endif
};
enum Epi { EPI_Y = 0, EPI_ROPE = 1, EPI_SILU = 2 };

// The W (and Y) row of a CTA's row r (R rows a CTA): tile * R + r, or for
// the pair epilogues two boxes of R / 2 rows, row0.. and row0 + off..
// (RoPE: d0.. and d0 + 64.. of one 128-row head, R = 128 giving the head in
// order; SiLU: gate rows j0.. and up rows inter + j0..). tests/gemv_rows.cu
// checks that the rows of all tiles are each row once and that the two
// halves are the pairs.
struct PairRows {
    int row0, off, half; // half = R / 2 when paired, else R (no second box)
    __host__ __device__ int operator()(int r) const { return row0 + r + (r >= half ? off - half : 0); }
};
__host__ __device__ inline PairRows pair_rows(int epi, int tile, int R, int inter)
{
    if (epi == EPI_ROPE) return {tile * R / 128 * 128 + tile % (128 / R) * (R / 2), 64, R / 2};
    if (epi == EPI_SILU) return {tile * (R / 2), inter, R / 2};
    return {tile * R, 0, R};
}

// Rows split evenly (Params::even_ctas): CTA `tile` of `ctas` owns rows
// [lo, hi) of N (tests/gemv_rows.cu checks that they cover N once, and fit
// the tile where even_fits() says so)
struct EvenRows { int lo, hi; };
__host__ __device__ inline EvenRows even_rows(int tile, int N, int ctas)
{
    return {(int)((long long)tile * N / ctas), (int)((long long)(tile + 1) * N / ctas)};
}

constexpr int CWARPS = 8, BN = CWARPS * 16, ROWB = 128;

// KG: k groups a CTA. The eight consumer warps are KG groups of 8 / KG;
// each group takes its own 128 bytes of every weight row of a stage, so a
// CTA owns R = 128 / KG rows and splits its K over its own warps, adding
// the groups' sums in shared memory at the end (no workspace, no second
// pass). A stage is KG sub-stages, each the weights' R rows x 128 bytes and
// the X boxes of the same k.
// CTAs an SM a kernel's launch bounds ask for at MT token tiles (Cfg::MINB
// where no instantiation overrides it)
__host__ __device__ constexpr int default_minb(int mt) { return mt <= 1 ? 3 : mt <= 4 ? 2 : 1; }
template <int WT, int MT, int KG, int MB = 0> struct Cfg {
    static constexpr int THREADS = (CWARPS + 1) * 32;
    static constexpr int WB = WT == BF16 ? 2 : 1;
    static constexpr int BK = ROWB / WB;               // k a sub-stage: 128 (FP8) or 64 (BF16)
    static constexpr int STEPK = BK * KG;              // k a stage
    static constexpr int R = BN / KG;                  // rows a CTA
    static constexpr int RG = CWARPS / KG;             // warps a k group (16 rows each)
    static constexpr int XB = is_a8(WT) ? 1 : 2;       // bytes an element of X
    static constexpr int XBOX = MT * 8 * 128;          // one box of X: MT*8 tokens x 128 bytes
    static constexpr int XK = 128 / XB;                // k a box of X
    static constexpr int XBOXES = BK / XK;             // X boxes a sub-stage
    static constexpr int WBOX = R * ROWB;              // one sub-stage of W
    static constexpr int WTILE = BN * ROWB;            // 16 KiB: KG boxes of W
    static constexpr int STAGE = WTILE + KG * XBOXES * XBOX;
    // CTAs an SM the registers allow (launch bounds); MB > 0 overrides (the
    // second instantiation plan() may take at two token tiles: Plan::minb)
    static constexpr int MINB = MB > 0 ? MB : default_minb(MT);
    static constexpr size_t RED = (size_t)CWARPS * MT * 128 * sizeof(float);
    // E4M3_A8G: a stage's X scales (KG blocks of 8 MT tokens x 2 groups),
    // in a region of their own after the ring
    static constexpr int SCB = WT == E4M3_A8G ? KG * MT * 8 * 2 * 4 : 0;
    // the ring's depth is chosen at launch (plan()): the shared memory an SM
    // has, shared by the CTAs that will sit on it
    __host__ __device__ static size_t body(int stages) { return (size_t)stages * STAGE > RED ? (size_t)stages * STAGE : RED; }
    // + the scales, the ring's barriers and one int (split K: "this CTA is the tile's last")
    static size_t smem(int stages) { return 1024 + body(stages) + (size_t)stages * SCB + 2 * (size_t)stages * sizeof(uint64_t) + 16; }
    static_assert(STAGE % 1024 == 0 && WBOX % 1024 == 0, "boxes stay 1024-aligned for the 128-byte swizzle");
};

constexpr int MIN_STAGES = 2, MAX_STAGES = 16, MAX_SPLIT = 16;
// CTAs an SM the ring is sized for, at least (tuning: --gemv_min_resident)
inline int min_resident = 2;
// Beyond 16 tokens: rings for the CTAs an SM the launch itself has (StagesOp;
// tuning: --gemv_wide_ring=0 for min_resident's floor there too)
inline int wide_ring = 1;
// plan()'s default for programmatic dependent launch (tuning: --gemv_pdl=0)
inline bool pdl_default = true;
// W8A8's and BF16's consumers (struct Wg on wgmma, or struct Warp on mma.sync):
// 1 plan()'s rule (wgmma_rule()), 0 mma.sync always, 2 wgmma always
// (tuning: --gemv_wgmma=0|1|2)
inline int wgmma_default = 1;

constexpr int MAX_KG = 4, MIN_ROWS = BN / MAX_KG;
// k groups exist for up to 16 tokens (MT <= 2): beyond, every CTA's copy of
// X would outweigh its share of W
constexpr int KG_MAX_MT = 2;

// Split-K workspace (see Params): partial sums, at most CWARPS * MT * 128
// floats a CTA, from its start; a counter a row tile (of MIN_ROWS rows or
// more) at its end.
__host__ __device__ inline size_t counter_bytes(int N) { return (((size_t)(N + MIN_ROWS - 1) / MIN_ROWS * 4) + 255) / 256 * 256; }

#ifdef GEMV_TRACE
// Diagnostic build (-DGEMV_TRACE): %globaltimer (ns) at TRACE_POINTS points
// of every CTA's life in the launches whose Params::trace_slot is set, for
// `decode --gemv_trace` and `decode_step_trace --gemv_trace_layer`: 0 entry, 1 the weights before the PDL wait issued,
// 2 the wait returned (producer), 3 the first stage in (warp 0), 4 main loop
// done (warp 0), 5 every warp's sums in shared memory, 6 the CTA's output
// written (thread 0; split K: the tile's last CTA, or the others' partial sums).
constexpr int TRACE_LAUNCHES = 4, TRACE_CTAS = 4096, TRACE_POINTS = 7;
__device__ unsigned long long trace_ns[TRACE_LAUNCHES * TRACE_CTAS * TRACE_POINTS];
__device__ int trace_sm[TRACE_LAUNCHES * TRACE_CTAS]; // the SM each CTA ran on
__device__ __forceinline__ void trace(int slot, int e)
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    if (slot >= 0 && slot < TRACE_LAUNCHES && blockIdx.x < TRACE_CTAS) {
        trace_ns[((size_t)slot * TRACE_CTAS + blockIdx.x) * TRACE_POINTS + e] = t;
        if (e == 0) {
            int sm;
            asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
            trace_sm[slot * TRACE_CTAS + blockIdx.x] = sm;
        }
    }
}
#define GEMV_TRACE_AT(cond, e) \
    if (cond) trace(p.trace_slot, e)

// Host side (after the traced launches finished): the timestamps and SMs.
struct TraceDump {
    std::vector<unsigned long long> t; // [slot][CTA][point], 0 where not recorded
    std::vector<int> sm;               // [slot][CTA]
    unsigned long long at(int slot, int cta, int e) const { return t[((size_t)slot * TRACE_CTAS + cta) * TRACE_POINTS + e]; }
};
inline void trace_check(cudaError_t e, const char *what)
{
    if (e != cudaSuccess) {
        fprintf(stderr, "gemv trace: %s: %s\n", what, cudaGetErrorString(e));
        std::abort();
    }
}
inline void clear_trace()
{
    std::vector<unsigned long long> z((size_t)TRACE_LAUNCHES * TRACE_CTAS * TRACE_POINTS, 0);
    trace_check(cudaMemcpyToSymbol(trace_ns, z.data(), z.size() * 8), "clearing trace_ns");
}
inline TraceDump read_trace()
{
    TraceDump d;
    d.t.resize((size_t)TRACE_LAUNCHES * TRACE_CTAS * TRACE_POINTS);
    d.sm.resize((size_t)TRACE_LAUNCHES * TRACE_CTAS);
    trace_check(cudaMemcpyFromSymbol(d.t.data(), trace_ns, d.t.size() * 8), "reading trace_ns");
    trace_check(cudaMemcpyFromSymbol(d.sm.data(), trace_sm, d.sm.size() * 4), "reading trace_sm");
    return d;
}
// The first entry of a slot's launch (blocks CTAs), ~0 if none recorded
inline unsigned long long trace_first(const TraceDump &d, int slot, int blocks)
{
    unsigned long long t0 = ~0ull;
    for (int b = 0; b < std::min(blocks, TRACE_CTAS); b++)
        if (d.at(slot, b, 0)) t0 = std::min(t0, d.at(slot, b, 0));
    return t0;
}
// Prints each point's min / median / max over the slot's CTAs in us after
// t0, then its SMs: how many held k of its CTAs, and when those CTAs' main
// loops ended.
inline void print_trace(const TraceDump &d, int slot, int blocks, unsigned long long t0, const char *name)
{
    const int nb = std::min(blocks, TRACE_CTAS);
    const char *what[TRACE_POINTS] = {"entry", "weights issued", "PDL wait returned", "first stage in", "main loop done",
                                      "sums in smem", "output written"};
    for (int e = 0; e < TRACE_POINTS; e++) {
        std::vector<double> v;
        for (int b = 0; b < nb; b++)
            if (d.at(slot, b, e)) v.push_back(((double)d.at(slot, b, e) - (double)t0) / 1e3);
        if (v.empty()) continue;
        std::sort(v.begin(), v.end());
        printf("  %-9s %d %-18s n %5zu  min %7.2f  median %7.2f  max %7.2f us\n", name, e, what[e], v.size(), v.front(),
               v[v.size() / 2], v.back());
    }
    std::map<int, int> per_sm; // SM -> CTAs of this launch on it
    for (int b = 0; b < nb; b++)
        if (d.at(slot, b, 0)) per_sm[d.sm[(size_t)slot * TRACE_CTAS + b]]++;
    std::map<int, int> sms;                  // k -> SMs holding k
    std::map<int, std::vector<double>> done; // k -> main loop done of the CTAs on those SMs
    for (auto &kv : per_sm) sms[kv.second]++;
    for (int b = 0; b < nb; b++)
        if (d.at(slot, b, 4)) done[per_sm[d.sm[(size_t)slot * TRACE_CTAS + b]]].push_back(((double)d.at(slot, b, 4) - (double)t0) / 1e3);
    printf("  %-9s on %zu SMs:", name, per_sm.size());
    for (auto &kv : done) {
        std::sort(kv.second.begin(), kv.second.end());
        printf("  %d SMs with %d CTAs (main loop done median %.2f, max %.2f us)", sms[kv.first], kv.first,
               kv.second[kv.second.size() / 2], kv.second.back());
    }
    printf("\n");
}
#else
#define GEMV_TRACE_AT(cond, e)
#endif

// The epilogue's sums in shared memory, [warp][t][i][lane] (a warp's
// accumulators as it stores them): entry e is token tok of the tile's row
// row (row_of() gives W's)
template <int MT> __device__ __forceinline__ void red_entry(int e, int &tok, int &row)
{
    const int ln = e & 31, i = (e >> 5) & 3, t = (e >> 7) % MT, wp = (e >> 7) / MT;
    tok = 8 * t + 2 * (ln & 3) + (i & 1);
    row = wp * 16 + (ln >> 2) + (i >> 1) * 8;
}

// One consumer warp's share of a ring stage (gemv_kernel, gemv_chain.cuh):
// rows 16 rg.. of the CTA's R, k group kg (its sub-stage), the lane offsets
// of its fragments, and the stage's MMAs into NA independent accumulator
// sets (chunks alternate between them, so that a stage's MMAs into one
// token tile are not one dependent chain).
template <int WT, int MT, int KG, int MB> struct Warp {
    using C = Cfg<WT, MT, KG, MB>;
    static constexpr int NA = MT == 1 ? 4 : MT == 2 ? 2 : 1;
    int g, c, rg, kg;
    // Lane offsets inside a stage, fixed for the whole loop. ldmatrix of W:
    // FP8 chunk pair qq, BF16 chunk 4jj + {0,2} (+lchunk); X: FP8 lds64 of
    // chunk q (token g, tile t adds 1024 t), BF16 ldmatrix (row lane&7).
    uint32_t wo[4], xo[8];

    __device__ __forceinline__ Warp(int warp, int lane)
    {
        g = lane >> 2, c = lane & 3;
        rg = warp % C::RG, kg = warp / C::RG;
        // ldmatrix.x4: lanes 8i..8i+7 address matrix i = (rows 8*(i&1).., chunk +(i>>1))
        const int lrow = rg * 16 + ((lane >> 3) & 1) * 8 + (lane & 7);
        const int lchunk = lane >> 4;
#pragma unroll
        for (int i = 0; i < 4; i++) wo[i] = dec::swz(kg * C::WBOX, lrow, 2 * i + lchunk);
        const uint32_t xg = C::WTILE + kg * C::XBOXES * C::XBOX; // this k group's X boxes
#pragma unroll
        for (int q = 0; q < 8; q++) {
            if (WT == E4M3_CHANNEL || WT == E4M3_BLOCK) xo[q] = xg + (q >> 2) * C::XBOX + dec::swz(0, g, 2 * (q & 3) + (c >> 1)) + 8 * (c & 1);
            else xo[q] = xg + dec::swz(0, lane & 7, (q & 1) * 4 + (lane >> 3)); // q = jj (0, 1): chunks 4jj..+3
        }
    }

    __device__ __forceinline__ static void zero(float (&part)[NA][MT][4])
    {
#pragma unroll
        for (int a = 0; a < NA; a++)
#pragma unroll
            for (int t = 0; t < MT; t++) part[a][t][0] = part[a][t][1] = part[a][t][2] = part[a][t][3] = 0.f;
    }
    // acc += sc * (the sets' sum, in set order); the sets back to zero
    __device__ __forceinline__ static void fold(float (&part)[NA][MT][4], float (&acc)[MT][4], float sc)
    {
#pragma unroll
        for (int t = 0; t < MT; t++)
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float v = 0.f;
#pragma unroll
                for (int a = 0; a < NA; a++) v += part[a][t][i], part[a][t][i] = 0.f;
                acc[t][i] = fmaf(v, sc, acc[t][i]);
            }
    }

    // which accumulator set the MMA of k32 step 2 jj + h adds to: they
    // alternate; with group scales the two halves of a sub-stage (64 k,
    // one group each) keep to their own sets, folded after each half
    __device__ __forceinline__ static int aset(int jj, int h)
    {
        return WT != E4M3_A8G ? (2 * jj + h) % NA : NA >= 2 ? jj * (NA / 2) + h % (NA / 2) : 0;
    }

    // The stage at shared address wt (E4M3_A8G: its X scales at xs) into
    // part (E4M3_A8G: folded into acc with the group scales every half)
    __device__ __forceinline__ void stage(uint32_t wt, const float *xs, float (&part)[NA][MT][4], float (&acc)[MT][4]) const
    {
        // E4M3_A8G: the scales of (first half, second half) of the
        // sub-stage for this lane's tokens 8t + 2c + h (the accumulators' columns)
        float2 xsc[MT][2];
        if (WT == E4M3_A8G)
#pragma unroll
            for (int t = 0; t < MT; t++)
#pragma unroll
                for (int h = 0; h < 2; h++)
                    xsc[t][h] = *reinterpret_cast<const float2 *>(xs + xg_stage_offset(kg, 8 * t + 2 * c + h, 0, MT));
        if (WT == E4M3_CHANNEL || WT == E4M3_BLOCK) {
            // 8 chunks of 16 k; chunk q: A = rows g / g+8, bytes 4c..4c+3 (k = 16q + 4c + 0..3)
#pragma unroll
            for (int qq = 0; qq < 4; qq++) {
                uint32_t r[4];
                dec::ldsm_x4(wt + wo[qq], r);
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int q = 2 * qq + h;
                    uint32_t lo0, hi0, lo1, hi1;
                    dec::e4m3x4_to_bf16x2(r[2 * h], lo0, hi0);
                    dec::e4m3x4_to_bf16x2(r[2 * h + 1], lo1, hi1);
                    // X: token 8t + g, k 16q + 4c .. +3: 8 bytes of box q/4
#pragma unroll
                    for (int t = 0; t < MT; t++) {
                        const uint2 b = dec::lds64(wt + xo[q] + 1024 * t);
                        dec::mma_bf16_16816(part[q % NA][t], lo0, lo1, hi0, hi1, b.x, b.y);
                    }
                }
            }
        } else {
            // BF16: 4 k16 steps; W8A8: 4 k32 steps of E4M3 x E4M3, no
            // conversion. ldmatrix gives the A fragments of two steps and
            // (X rows as the 8x8 matrices) their B fragments, in the same
            // byte layout for both (128 bytes of a row a stage)
            auto mma = [](float(&d)[4], const uint32_t(&a)[4], uint32_t b0, uint32_t b1) {
                if (is_a8(WT)) dec::mma_e4m3_16832(d, a[0], a[1], a[2], a[3], b0, b1);
                else dec::mma_bf16_16816(d, a[0], a[1], a[2], a[3], b0, b1);
            };
#pragma unroll
            for (int jj = 0; jj < 2; jj++) {
                uint32_t a[2][4];
                dec::ldsm_x4(wt + wo[2 * jj], a[0]);
                dec::ldsm_x4(wt + wo[2 * jj + 1], a[1]);
#pragma unroll
                for (int t = 0; t < MT; t++) {
                    uint32_t b[4];
                    dec::ldsm_x4(wt + xo[jj] + 1024 * t, b);
                    mma(part[aset(jj, 0)][t], a[0], b[0], b[1]);
                    mma(part[aset(jj, 1)][t], a[1], b[2], b[3]);
                }
                if (WT == E4M3_A8G) { // this half's sums, times its group's scale, into FP32
#pragma unroll
                    for (int t = 0; t < MT; t++)
#pragma unroll
                        for (int i = 0; i < 4; i++) {
                            float v = part[aset(jj, 0)][t][i];
                            part[aset(jj, 0)][t][i] = 0.f;
                            if (aset(jj, 1) != aset(jj, 0)) v += part[aset(jj, 1)][t][i], part[aset(jj, 1)][t][i] = 0.f;
                            const float2 g2 = xsc[t][i & 1];
                            acc[t][i] = fmaf(v, jj ? g2.y : g2.x, acc[t][i]);
                        }
                }
            }
        }
    }
};

// W8A8 on wgmma's FP8 path (gemv_kernel's WG, from Plan::wgmma; sm_90a). With mma.sync, sm_90
// runs an E4M3 MMA as E4M3 -> FP16 conversions and FP16 MMAs, and a CTA's
// consumers turn over about the SM's share of the copy rate at 8B o
// (NOTES.md v17): the weights the ring holds before the PDL wait drain no
// faster than they stream. wgmma multiplies E4M3 natively, reading both
// operands from the ring by descriptor (no ldmatrix, no conversion): the
// eight consumer warps are two warpgroups, and a job is a 64-row weight box
// (A: 64 rows x 128 bytes, 128-byte swizzle, as TMA wrote it) times the
// stage's X box (B: 8 MT tokens), four m64n(8 MT)k32 steps. Warp w of a
// warpgroup then holds rows 16 w + g (+ 8) and tokens 8 t + 2 c (+ 1) in
// register 4 t + i, exactly the fragment of mma.sync's consumer warp w of a
// k group, so the epilogue is shared. Jobs: KG = 4 (32-row CTAs): two k
// groups a warpgroup, and the descriptor's rows 32..63 (the next box of the
// stage, or its X) are multiplied and dropped (the tensor cores have 8x
// the rate needed); KG = 2: one k group; KG = 1: 64 of the 128 rows.
// A stage's 128 k go to registers of their own (scale_d = 0 on the first
// step) and are added to FP32 accumulators (stage(), below); E4M3_A8G does
// that for each 64-k half and folds it with its group's scales, as Warp
// does. A stage's group is waited for before the stage is released
// (keeping one group in flight, released a stage later, ran 0.957-1.004x,
// median 0.990x, v18).
//
// BF16 the same way: a sub-stage's 128 bytes are 64 k, four m64n(8 MT)k16
// steps of 32 bytes, so the descriptors and the fragments are W8A8's. Its
// products are summed in FP32 (wgmma's BF16 path is not FP8's), so a job's
// whole K goes to acc directly.
template <int WT, int MT, int KG, int MB> struct Wg {
    using C = Cfg<WT, MT, KG, MB>;
    static constexpr int J = KG == 4 ? 2 : 1; // jobs a warpgroup
    static constexpr int NR = 4 * MT;         // accumulator registers of a job (m64n(8 MT))
    using Mma = hopper::Mma<std::conditional_t<WT == BF16, __nv_bfloat16, __nv_fp8_e4m3>, 8 * MT>;
    static_assert(!has_wgmma(WT) || (Mma::K * C::WB == 32 && C::XBOXES == 1), "a k-step is 32 bytes of W and of one X box");
    int wg, w, c;
    __device__ __forceinline__ Wg(int warp, int lane) : wg(warp / 4), w(warp % 4), c(lane & 3) {}
    __device__ __forceinline__ int kg(int q) const { return KG == 4 ? 2 * wg + q : KG == 2 ? wg : 0; }
    __device__ __forceinline__ int row0() const { return KG == 1 ? 64 * wg : 0; }
    // the red slot (warp of mma.sync's layout) of job q's fragment, or -1
    // where this warp's rows lie past the CTA's R (KG = 4: dropped)
    __device__ __forceinline__ int slot(int q) const
    {
        const int r = row0() + 16 * w;
        return r < C::R ? kg(q) * C::RG + r / 16 : -1;
    }

    // The stage at sp into registers of its own (its 128 k; E4M3_A8G: each
    // 64-k half), waited for, and added to acc in FP32 (E4M3_A8G: times
    // the group scales at xs). wgmma's FP8 path keeps fewer bits than FP32
    // in its accumulator (DeepSeek-V3's report: about 14): v18's calls 3-4,
    // with the whole K of a job in the accumulator, measured rel L2
    // against FP64 of 1.8e-3 at 1024 k a job, 2.2e-3 at 4096 and 2.6e-3 at
    // 8192, where mma.sync's FP32 sums gave 1.6-1.7e-3 (BF16 rounding of
    // the output alone is about 1.6e-3). Summing 128 k at a time in FP32,
    // as DeepGEMM does, bounds that: 1.63-1.71e-3 at 28672 and 53248 k,
    // at 0.996x the time (median; NOTES.md v19).
    __device__ __forceinline__ void stage(const unsigned char *sp, const float *xs, float (&acc)[J][NR]) const
    {
        if constexpr (WT == BF16) { // FP32 sums: straight into acc
            hopper::wgmma_fence();
#pragma unroll
            for (int q = 0; q < J; q++) {
                hopper::fence_operands(acc[q]);
                const uint64_t da = hopper::desc_k128b(sp + kg(q) * C::WBOX + row0() * ROWB);
                const uint64_t db = hopper::desc_k128b(sp + C::WTILE + kg(q) * C::XBOX);
#pragma unroll
                for (int kk = 0; kk < 4; kk++) Mma::run(acc[q], da + 2 * kk, db + 2 * kk, 1);
            }
            hopper::wgmma_commit();
            hopper::wgmma_wait<0>();
#pragma unroll
            for (int q = 0; q < J; q++) hopper::fence_operands(acc[q]);
            return;
        }
        float tmp[J][2][NR]; // the stage's sums (E4M3_A8G: [half])
        hopper::wgmma_fence();
#pragma unroll
        for (int q = 0; q < J; q++) {
            const uint64_t da = hopper::desc_k128b(sp + kg(q) * C::WBOX + row0() * ROWB);
            const uint64_t db = hopper::desc_k128b(sp + C::WTILE + kg(q) * C::XBOX);
#pragma unroll
            for (int kk = 0; kk < 4; kk++) { // a k-step is 32 bytes: 2 in a descriptor; scale_d = 0 starts a sum
                if (WT == E4M3_A8G) Mma::run(tmp[q][kk >> 1], da + 2 * kk, db + 2 * kk, kk & 1);
                else Mma::run(tmp[q][0], da + 2 * kk, db + 2 * kk, kk != 0);
            }
        }
        hopper::wgmma_commit();
        hopper::wgmma_wait<0>();
#pragma unroll
        for (int q = 0; q < J; q++) {
            hopper::fence_operands(acc[q]);
            hopper::fence_operands(tmp[q][0]);
            if constexpr (WT != E4M3_A8G) {
#pragma unroll
                for (int r = 0; r < NR; r++) acc[q][r] += tmp[q][0][r];
            } else {
                hopper::fence_operands(tmp[q][1]);
#pragma unroll
                for (int t = 0; t < MT; t++)
#pragma unroll
                    for (int e = 0; e < 2; e++) { // token 8t + 2c + e: its (first, second) half's scale
                        const float2 g2 = *reinterpret_cast<const float2 *>(xs + xg_stage_offset(kg(q), 8 * t + 2 * c + e, 0, MT));
#pragma unroll
                        for (int i = e; i < 4; i += 2)
                            acc[q][4 * t + i] = fmaf(tmp[q][1][4 * t + i], g2.y, fmaf(tmp[q][0][4 * t + i], g2.x, acc[q][4 * t + i]));
                    }
            }
        }
    }
};

// WG: the consumers are Wg's (W8A8 or BF16 on wgmma), else Warp's (mma.sync)
template <int WT, int MT, int KG, int MB, bool WG = false>
__global__ void __launch_bounds__(Cfg<WT, MT, KG, MB>::THREADS, Cfg<WT, MT, KG, MB>::MINB)
    gemv_kernel(const __grid_constant__ CUtensorMap tw, const __grid_constant__ CUtensorMap tx, const Params p, const int STAGES)
{
    static_assert(!WG || has_wgmma(WT), "wgmma consumers for W8A8 and BF16 only");
    using C = Cfg<WT, MT, KG, MB>;
    constexpr int THREADS = C::THREADS;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = (unsigned char *)(((uintptr_t)smem_raw + 1023) & ~(uintptr_t)1023);
    float *xsm = reinterpret_cast<float *>(smem + C::body(STAGES)); // E4M3_A8G: STAGES x SCB bytes
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + C::body(STAGES) + (size_t)STAGES * C::SCB);
    uint64_t *empty = full + STAGES;

    const int rank = blockIdx.x % p.split;
    const int tile = blockIdx.x / p.split;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    // this CTA's k steps: an even share of the K / STEPK steps (uneven by at most one)
    const int total = p.K / C::STEPK;
    const int s_beg = (int)((long)total * rank / p.split), s_end = (int)((long)total * (rank + 1) / p.split);
    const int nsteps = s_end - s_beg;
    const int epi = MT <= KG_MAX_MT ? p.epi : EPI_Y; // (launch() refuses the others beyond)
    const bool paired = epi != EPI_Y;
    // the W row of the tile's row r, and the end of the rows this CTA writes
    PairRows row_of = pair_rows(epi, tile, C::R, p.inter);
    int row_end = p.N;
    if (p.even_ctas > 0) {
        const EvenRows er = even_rows(tile, p.N, p.even_ctas);
        row_of.row0 = er.lo, row_end = er.hi;
    }
    GEMV_TRACE_AT(threadIdx.x == 0, 0);

    hopper::init_ring(full, empty, STAGES, CWARPS);
    __syncthreads();
    // Programmatic dependent launch (a no-op when launched without it): the
    // next kernel of the stream may start now, and it too streams its
    // weights before waiting for this one (dec::pdl_wait).
    dec::pdl_trigger();

    float acc[MT][4];
#pragma unroll
    for (int t = 0; t < MT; t++) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
    float wacc[Wg<WT, MT, KG, MB>::J][Wg<WT, MT, KG, MB>::NR]; // WG: the warpgroup's jobs
#pragma unroll
    for (int q = 0; q < Wg<WT, MT, KG, MB>::J; q++)
#pragma unroll
        for (int r = 0; r < Wg<WT, MT, KG, MB>::NR; r++) wacc[q][r] = 0.f;

    if (warp == CWARPS) {
        // producer: one lane issues every copy
        if (lane == 0) {
            hopper::prefetch_tmap(&tw);
            hopper::prefetch_tmap(&tx);
            auto load_x = [&](int s, int st) {
                unsigned char *stage = smem + (size_t)st * C::STAGE;
#pragma unroll
                for (int b = 0; b < KG * C::XBOXES; b++)
                    hopper::tma_load(stage + C::WTILE + b * C::XBOX, &tx, &full[st], (s_beg + s) * C::STEPK + C::XK * b, 0);
                if (WT == E4M3_A8G) // the stage's KG blocks of scales, one after another in x_scale
                    hopper::bulk_load(xsm + st * (C::SCB / 4), p.x_scale + (size_t)(s_beg + s) * (C::SCB / 4), C::SCB, &full[st]);
            };
            auto load_w = [&](int s, int st) {
                unsigned char *stage = smem + (size_t)st * C::STAGE;
#pragma unroll
                for (int j = 0; j < KG; j++) {
                    const int k = (s_beg + s) * C::STEPK + C::BK * j;
                    hopper::tma_load(stage + j * C::WBOX, &tw, &full[st], k, row_of.row0);
                    if (paired) // the pairs' second halves: the box's other R / 2 rows, off rows on
                        hopper::tma_load(stage + j * C::WBOX + C::R / 2 * ROWB, &tw, &full[st], k, row_of.row0 + row_of.off);
                }
            };
            // the first ring's worth of weights does not depend on the
            // previous kernel: issue it before waiting for that kernel's X
            const int pre = min(STAGES, nsteps);
            for (int s = 0; s < pre; s++) {
                hopper::mbar_expect_tx(&full[s], C::STAGE + C::SCB);
                load_w(s, s);
            }
            GEMV_TRACE_AT(true, 1);
            dec::pdl_wait();
            GEMV_TRACE_AT(true, 2);
            for (int s = 0; s < pre; s++) load_x(s, s);
            for (int s = pre, st = pre % STAGES, ph = pre / STAGES; s < nsteps; s++) {
                if (s >= STAGES) hopper::mbar_wait(&empty[st], ph ^ 1);
                hopper::mbar_expect_tx(&full[st], C::STAGE + C::SCB);
                load_w(s, st);
                load_x(s, st);
                if (++st == STAGES) st = 0, ph ^= 1;
            }
        }
    } else if (WG) {
        const Wg<WT, MT, KG, MB> g(warp, lane);
        for (int s = 0, st = 0, ph = 0; s < nsteps; s++) {
            hopper::mbar_wait(&full[st], ph);
            GEMV_TRACE_AT(s == 0 && threadIdx.x == 0, 3);
            g.stage(smem + (size_t)st * C::STAGE, xsm + st * (C::SCB / 4), wacc);
            __syncwarp();
            if (lane == 0) hopper::mbar_arrive(&empty[st]);
            if (++st == STAGES) st = 0, ph ^= 1;
        }
    } else {
        const Warp<WT, MT, KG, MB> w(warp, lane);
        float part[Warp<WT, MT, KG, MB>::NA][MT][4];
        w.zero(part);
        // block scales: the 128-row block holding this CTA's R rows
        const float *srow = WT == E4M3_BLOCK ? p.scale + (size_t)(tile * C::R / 128) * (p.K / 128) : nullptr;
        for (int s = 0, st = 0, ph = 0; s < nsteps; s++) {
            float sc = 1.f;
            if (WT == E4M3_BLOCK) sc = __ldg(srow + (s_beg + s) * KG + w.kg); // BK = 128: one scale block a sub-stage
            hopper::mbar_wait(&full[st], ph);
            GEMV_TRACE_AT(s == 0 && threadIdx.x == 0, 3);
            w.stage(hopper::smem_u32(smem + (size_t)st * C::STAGE), xsm + st * (C::SCB / 4), part, acc);
            __syncwarp();
            if (lane == 0) hopper::mbar_arrive(&empty[st]);
            if (++st == STAGES) st = 0, ph ^= 1;
            if (WT == E4M3_BLOCK) w.fold(part, acc, sc); // the stage's partial sums, scaled, into FP32
        }
        if (WT != E4M3_BLOCK && WT != E4M3_A8G) w.fold(part, acc, 1.f); // (those two folded their sums every sub-stage)
    }

    GEMV_TRACE_AT(threadIdx.x == 0, 4);
    // Epilogue. The warps' sums go through shared memory (the ring, idle
    // now), where each row's k groups are added in order. One CTA a tile:
    // to Y. Split K: each CTA writes its sums to the workspace; the last of
    // the tile's CTAs to finish (a counter) adds all of them in rank order
    // (deterministic) and resets the counter.
    dec::pdl_wait(); // long since satisfied: the producer waited
    constexpr int EO = C::RG * MT * 128; // a k group's sums: [rg][t][i][lane]
    auto index = [&](int e, int &tok, int &row) { red_entry<MT>(e, tok, row); };
    // paired: the tile's outputs, BF16-rounded, [token][R] after the sums
    float *fin = reinterpret_cast<float *>(smem) + CWARPS * MT * 128;
    // paired, once every output of the tile is in fin: each pair (token, r <
    // R / 2) through rope_kv_append.cuh's rope_pair_store, or silu_mul.cuh's
    // silu_mul1 into act, or into act_q / act_s (a warp a token: its 64
    // outputs, one group, two a lane)
    auto pair_pass = [&]() {
        if constexpr (MT <= KG_MAX_MT) {
            // (red + fin <= 16 KiB <= one stage: true at any ring depth)
            static_assert(C::STAGE >= C::RED + MT * 8 * C::R * sizeof(float), "fin fits beside red in the ring");
            __syncthreads();
            if (epi == EPI_SILU && p.act_q) {
                if constexpr (KG == 1) { // (launch() refuses the others)
                    const int MP = 8 * MT, j = row_of.row0 / XGROUP; // (row0 = 64 tile)
                    for (int tok = warp; tok < MP; tok += CWARPS + 1) {
                        if (tok >= p.M) { // padding: a finite scale for the reader's discarded products
                            if (lane == 0) p.act_s[xg_index(tok, j, p.M)] = 1.f;
                            continue;
                        }
                        const float *f = fin + tok * C::R;
                        const float y0 = step::silu_mul1(f[lane], f[lane + 64]), y1 = step::silu_mul1(f[lane + 32], f[lane + 96]);
                        float amax = fmaxf(fabsf(y0), fabsf(y1));
#pragma unroll
                        for (int o = 16; o; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
                        const float sc = step::token_scale(amax), inv = 1.f / sc;
                        const uint16_t q2 = fp8_e4m3x2_from_f32(y0 * inv, y1 * inv);
                        uint8_t *out = p.act_q + (size_t)tok * p.inter + row_of.row0;
                        out[lane] = (uint8_t)q2, out[lane + 32] = (uint8_t)(q2 >> 8);
                        if (lane == 0) p.act_s[xg_index(tok, j, p.M)] = sc;
                    }
                }
                return;
            }
            for (int e = (int)threadIdx.x; e < p.M * (C::R / 2); e += THREADS) {
                const int tok = e / (C::R / 2), r = e % (C::R / 2), row = row_of(r);
                const float a = fin[tok * C::R + r], b = fin[tok * C::R + r + C::R / 2];
                if (epi == EPI_ROPE) step::rope_pair_store(p.rope, tok, row / 128, row % 128, a, b);
                else p.act[(size_t)tok * p.inter + row] = __float2bfloat16_rn(step::silu_mul1(a, b));
            }
        }
    };
    __syncthreads();
    float *red = reinterpret_cast<float *>(smem); // [kg][rg][t][i][lane]: warp = kg * RG + rg
    if (warp < CWARPS && WG) {
        const Wg<WT, MT, KG, MB> g(warp, lane);
#pragma unroll
        for (int q = 0; q < Wg<WT, MT, KG, MB>::J; q++) {
            const int sl = g.slot(q);
            if (sl >= 0)
#pragma unroll
                for (int t = 0; t < MT; t++)
#pragma unroll
                    for (int i = 0; i < 4; i++) red[((sl * MT + t) * 4 + i) * 32 + lane] = wacc[q][4 * t + i];
        }
    } else if (warp < CWARPS)
#pragma unroll
        for (int t = 0; t < MT; t++)
#pragma unroll
            for (int i = 0; i < 4; i++) red[((warp * MT + t) * 4 + i) * 32 + lane] = acc[t][i];
    __syncthreads();
    GEMV_TRACE_AT(threadIdx.x == 0, 5);
    auto sum = [&](int e) {
        float v = red[e];
#pragma unroll
        for (int q = 1; q < KG; q++) v += red[q * EO + e];
        return v;
    };
    // The tile's outputs (split K: the tile's last CTA), EC entries a
    // thread at a time: a chunk's loads (split K's partial sums, rank by
    // rank, Q ranks at once; the scales) are all issued before the first
    // is used, so that a thread waits on the memory once or twice a chunk
    // rather than twice an entry. Entry by entry, each a dependent L2 or HBM
    // round trip, the last CTA's sums took 10-13 us a launch at 32 tokens
    // with split K (H200, 70B o split 2, 8B o split 4; NOTES.md v20). tws:
    // the tile's partial sums (split K), else the CTA's own in red.
    // Q: 4, or 2 where the registers allow two CTAs an SM (96 a thread; 4 spilled)
    constexpr int EC = (EO + THREADS - 1) / THREADS < 8 ? (EO + THREADS - 1) / THREADS : 8, Q = C::MINB >= 2 ? 2 : 4;
    constexpr bool SCALED = WT == E4M3_CHANNEL || is_a8(WT), XSCALED = WT == E4M3_A8; // (block scales: folded every stage; E4M3_A8G: X's every group)
    auto put = [&](int tok, int r, float y) { // one output: fin (paired) or Y
        if (paired) fin[tok * C::R + r] = __bfloat162float(__float2bfloat16_rn(y));
        else p.y[(size_t)tok * p.N + row_of(r)] = __float2bfloat16_rn(y);
    };
    auto finish = [&](const float *tws) {
        for (int e0 = (int)threadIdx.x; e0 < EO; e0 += EC * THREADS) {
            float v[EC], sc[EC];
            int tok[EC], r[EC];
            bool ok[EC];
#pragma unroll
            for (int j = 0; j < EC; j++) {
                const int e = e0 + j * THREADS;
                red_entry<MT>(e < EO ? e : 0, tok[j], r[j]);
                ok[j] = e < EO && tok[j] < p.M && row_of(r[j]) < row_end;
                v[j] = 0.f, sc[j] = 1.f;
            }
            if (!tws) {
#pragma unroll
                for (int j = 0; j < EC; j++)
                    if (ok[j]) v[j] = sum(e0 + j * THREADS);
            } else {
#pragma unroll 1
                for (int q0 = 0; q0 < p.split; q0 += Q) // rank order: deterministic
#pragma unroll
                    for (int q = q0; q < q0 + Q; q++)
                        if (q < p.split)
#pragma unroll
                            for (int j = 0; j < EC; j++)
                                if (ok[j]) v[j] += __ldcg(tws + (size_t)q * EO + e0 + j * THREADS);
            }
#pragma unroll
            for (int j = 0; j < EC; j++)
                if (ok[j] && SCALED) {
                    sc[j] = __ldg(p.scale + row_of(r[j]));
                    if (XSCALED) sc[j] *= __ldg(p.x_scale + tok[j]);
                }
#pragma unroll
            for (int j = 0; j < EC; j++)
                if (ok[j]) put(tok[j], r[j], SCALED ? v[j] * sc[j] : v[j]);
        }
    };
    // Split K's last CTA, where the tile's partial sums and its scales fit in
    // the ring past red and fin: all of them copied into shared memory at
    // once (cp.async: one round trip, where finish() waits for two or more;
    // the scales' copies issued before the count, so they overlap it), then
    // added in rank order from there, EC entries a thread at a time (H200,
    // NOTES.md v21: GEMVs at 24-64 tokens 1.054x on average, up to 1.27x).
    // tsm: [rank][EO] sums, then R row scales, then 8 MT token scales.
    constexpr size_t OFF = C::RED + (MT <= KG_MAX_MT ? (size_t)MT * 8 * C::R * sizeof(float) : 0);
    float *tsm = reinterpret_cast<float *>(smem + OFF);
    const bool staged = p.split > 1 && OFF + ((size_t)p.split * EO + C::R + MT * 8) * sizeof(float) <= C::body(STAGES);
    auto finish_staged = [&]() {
        const float *ssc = tsm + (size_t)p.split * EO, *xsc = ssc + C::R;
        for (int e0 = (int)threadIdx.x; e0 < EO; e0 += EC * THREADS) { // EC entries a thread at a time (registers)
            float v[EC];
#pragma unroll
            for (int j = 0; j < EC; j++) v[j] = 0.f;
#pragma unroll 1
            for (int q = 0; q < p.split; q++) // rank order: deterministic
#pragma unroll
                for (int j = 0; j < EC; j++)
                    if (e0 + j * THREADS < EO) v[j] += tsm[(size_t)q * EO + e0 + j * THREADS];
#pragma unroll
            for (int j = 0; j < EC; j++) {
                const int e = e0 + j * THREADS;
                int tok, r;
                red_entry<MT>(e < EO ? e : 0, tok, r);
                if (e >= EO || tok >= p.M || row_of(r) >= row_end) continue;
                put(tok, r, SCALED ? v[j] * (XSCALED ? ssc[r] * xsc[tok] : ssc[r]) : v[j]);
            }
        }
    };
    if (p.split == 1) {
        finish(nullptr);
        if (paired) pair_pass();
        GEMV_TRACE_AT(threadIdx.x == 0, 6);
        return;
    }
    const int ntiles = (p.N + C::R - 1) / C::R;
    int *counter = reinterpret_cast<int *>(reinterpret_cast<unsigned char *>(p.workspace) + p.workspace_size) - ntiles + tile;
    float *ws = reinterpret_cast<float *>(p.workspace);
    float *mine = ws + (size_t)blockIdx.x * EO;
    for (int e = (int)threadIdx.x; e < EO; e += THREADS) {
        int tok, row;
        index(e, tok, row);
        if (tok < p.M) __stcg(mine + e, sum(e));
    }
    if (staged && SCALED) { // the scales (every CTA: it may be the last)
        float *ssc = tsm + (size_t)p.split * EO;
        for (int r = (int)threadIdx.x; r < C::R; r += THREADS)
            if (row_of(r) < row_end) hopper::cp_async4(ssc + r, p.scale + row_of(r));
        if (XSCALED)
            for (int t = (int)threadIdx.x; t < p.M && t < MT * 8; t += THREADS) hopper::cp_async4(ssc + C::R + t, p.x_scale + t);
    }
    // One fence, in the thread that counts, after the barrier (as cooperative
    // groups' grid sync does): the barrier orders the CTA's stores before it,
    // the fence (cumulative) orders them before the count; the last CTA's
    // fence after the count orders the other CTAs' sums before the barrier
    // that releases its loads.
    __syncthreads();
    int &last = *reinterpret_cast<int *>(empty + STAGES);
    if (threadIdx.x == 0) {
        __threadfence();
        last = atomicAdd(counter, 1) == p.split - 1;
        if (last) {
            *counter = 0; // every CTA of the tile has counted: ready for the next launch
            __threadfence();
        }
    }
    __syncthreads();
    GEMV_TRACE_AT(threadIdx.x == 0 && !last, 6);
    if (!last) {
        if (staged) hopper::cp_async_wait_all(); // (the scales' copies land before the CTA exits)
        return;
    }
    const float *tws = ws + (size_t)tile * p.split * EO;
    if (staged) {
        for (int i = 4 * (int)threadIdx.x; i < p.split * EO; i += 4 * THREADS) hopper::cp_async16(tsm + i, tws + i);
        hopper::cp_async_wait_all();
        __syncthreads();
        finish_staged();
    } else
        finish(tws);
    if (paired) pair_pass();
    GEMV_TRACE_AT(threadIdx.x == 0, 6);
}

// ---- host side ----

struct Plan {
    int split = 1;
    int mt = 1;
    int kg = 1; // k groups a CTA (Cfg): a CTA owns 128 / kg rows
    int even = 0; // > 0: even CTAs an SM, the rows split evenly over them (Params::even_ctas); 0: tiles of 128 / kg rows
    int blocks = 0;
    // > 0: the kernel built with launch bounds for minb CTAs an SM (Cfg's MB;
    // only 3, at two token tiles, four k groups, W8A8); 0: Cfg's default
    int minb = 0;
    int stages = 0; // the ring's depth
    size_t smem = 0;
    bool pdl = true; // programmatic dependent launch (see the kernel)
    bool wgmma = false; // W8A8 or BF16 on wgmma (gemv_kernel's WG; plan(): wgmma_default, wgmma_rule())
};

template <int WT, int MT, int KG, int MB, bool WG> inline void set_attr()
{
    static bool done = [] {
        int dev = 0, optin = 0;
        cudaGetDevice(&dev);
        cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
        cudaFuncAttributes fa{};
        cudaFuncGetAttributes(&fa, gemv_kernel<WT, MT, KG, MB, WG>);
        cudaFuncSetAttribute(gemv_kernel<WT, MT, KG, MB, WG>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             optin - (int)fa.sharedSizeBytes);
        return true;
    }();
    (void)done;
}

// W in boxes of (rows a CTA) x 128 bytes
inline CUtensorMap w_map(int wt, int rows, const Params &p)
{
    if (wt == BF16)
        return hopper::tensor_map(p.w, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, p.N, p.K, p.K, rows, ROWB / 2);
    return hopper::tensor_map(p.w, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, p.N, p.K, p.K, rows, ROWB);
}

inline CUtensorMap x_map(int wt, int mt, const Params &p)
{
    if (is_a8(wt)) return hopper::tensor_map(p.x, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, p.M, p.K, p.K, 8 * mt, 128);
    return hopper::tensor_map(p.x, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, p.M, p.K, p.K, 8 * mt, 64);
}

template <int WT, int MT, int KG, int MB, bool WG>
inline void launch_wg(const Params &p, const Plan &pl, cudaStream_t st)
{
    set_attr<WT, MT, KG, MB, WG>();
    const CUtensorMap tw = w_map(WT, Cfg<WT, MT, KG, MB>::R / (p.epi != EPI_Y ? 2 : 1), p), tx = x_map(WT, MT, p);
    dec::launch_pdl(pl.pdl, gemv_kernel<WT, MT, KG, MB, WG>, dim3(pl.blocks), dim3(Cfg<WT, MT, KG, MB>::THREADS), pl.smem,
                    st, tw, tx, p, pl.stages);
}
template <int WT, int MT, int KG, int MB>
inline void launch_mt(const Params &p, const Plan &pl, cudaStream_t st)
{
    if constexpr (has_wgmma(WT))
        if (pl.wgmma) return launch_wg<WT, MT, KG, MB, true>(p, pl, st);
    launch_wg<WT, MT, KG, MB, false>(p, pl, st);
}

// Whether the kernel of launch bounds for `minb` CTAs an SM exists for
// (wt, mt, kg): only 3, for W8A8 at two token tiles and four k groups
// (Plan::minb); 0 (the default bounds) always.
constexpr bool minb_built(int wt, int mt, int kg, int minb)
{
    return minb == 0 || (minb == 3 && mt == 2 && kg == MAX_KG && (wt == E4M3_A8 || wt == E4M3_A8G));
}

// Runs Op<WT, MT, KG, MB>::run(args...) with wt, mt (1..8), kg (1, 2, 4;
// above 1 only where mt <= KG_MAX_MT) and the launch bounds' minb (0, or 3
// where minb_built()) as constants.
template <template <int, int, int, int> class Op, int WT, int MT, class... A>
inline auto dispatch_kg(int kg, int minb, A... a)
{
    static_assert(MT <= KG_MAX_MT, "k groups only up to KG_MAX_MT token tiles");
    if constexpr (minb_built(WT, MT, MAX_KG, 3))
        if (kg == MAX_KG && minb == 3) return Op<WT, MT, MAX_KG, 3>::run(a...);
    if (kg == 4) return Op<WT, MT, 4, 0>::run(a...);
    if (kg == 2) return Op<WT, MT, 2, 0>::run(a...);
    return Op<WT, MT, 1, 0>::run(a...);
}
template <template <int, int, int, int> class Op, int WT, class... A> inline auto dispatch_mt(int mt, int kg, int minb, A... a)
{
    switch (mt) {
    case 1: return dispatch_kg<Op, WT, 1>(kg, minb, a...);
    case 2: return dispatch_kg<Op, WT, 2>(kg, minb, a...);
    case 3: return Op<WT, 3, 1, 0>::run(a...);
    case 4: return Op<WT, 4, 1, 0>::run(a...);
    case 5: return Op<WT, 5, 1, 0>::run(a...);
    case 6: return Op<WT, 6, 1, 0>::run(a...);
    case 7: return Op<WT, 7, 1, 0>::run(a...);
    default: return Op<WT, 8, 1, 0>::run(a...);
    }
}
template <template <int, int, int, int> class Op, class... A> inline auto dispatch(int wt, int mt, int kg, int minb, A... a)
{
    if (wt == BF16) return dispatch_mt<Op, BF16>(mt, kg, minb, a...);
    if (wt == E4M3_CHANNEL) return dispatch_mt<Op, E4M3_CHANNEL>(mt, kg, minb, a...);
    if (wt == E4M3_A8) return dispatch_mt<Op, E4M3_A8>(mt, kg, minb, a...);
    if (wt == E4M3_A8G) // up to 16 tokens (supported())
        return mt <= 1 ? dispatch_kg<Op, E4M3_A8G, 1>(kg, minb, a...) : dispatch_kg<Op, E4M3_A8G, 2>(kg, minb, a...);
    return dispatch_mt<Op, E4M3_BLOCK>(mt, kg, minb, a...);
}

template <int WT, int MT, int KG, int MB> struct LaunchOp {
    static int run(const Params *p, const Plan *pl, cudaStream_t st)
    {
        launch_mt<WT, MT, KG, MB>(*p, *pl, st);
        return 0;
    }
};

// k a sub-stage (a 128-byte row of W): 128 for FP8 weights, 64 for BF16
inline int k_sub(int wt) { return wt == BF16 ? ROWB / 2 : ROWB; }

// Whether (wt, M, N, K) is supported with this split and these k groups:
// K a multiple of a stage's k (128 kg for FP8, 64 kg for BF16) with at
// least one stage a CTA, M 1..64, k groups only up to KG_MAX_MT * 8 tokens,
// group-scaled X (E4M3_A8G) too.
inline bool supported(int wt, int M, int N, int K, int split, int kg)
{
    const int bk = k_sub(wt) * kg;
    const bool kg_ok = kg == 1 || ((kg == 2 || kg == 4) && (M + 7) / 8 <= KG_MAX_MT);
    const bool m_ok = M >= 1 && (wt == E4M3_A8G ? (M + 7) / 8 <= KG_MAX_MT : M <= 64);
    return m_ok && N >= 1 && kg_ok && K % bk == 0 && split >= 1 && split <= MAX_SPLIT && K / bk >= split;
}

// Rows split evenly over `ctas` CTAs of 128 / kg rows: each CTA's share fits
// its tile, and every CTA has a row.
inline bool even_fits(int N, int kg, int ctas) { return ctas >= 1 && N >= ctas && (N + ctas - 1) / ctas <= BN / kg; }

// Whether a plan (forced variants included) runs on (wt, M, N, K) with the
// plain epilogue: supported(), and rows split evenly only where they fit.
inline bool runs(int wt, int M, int N, int K, const Plan &pl)
{
    return supported(wt, M, N, K, pl.split, pl.kg) && (!pl.even || (wt != E4M3_BLOCK && even_fits(N, pl.kg, pl.blocks)));
}

// A plan that supported() rejects (a forced kg or split) stops the program
// here: dispatch would otherwise run the KG = 1 kernel with a grid and
// workspace sized for the k groups asked for.
inline void launch(int wt, const Params &p, const Plan &pl, cudaStream_t st)
{
    if (!supported(wt, p.M, p.N, p.K, pl.split, pl.kg) || pl.mt != std::max(1, std::min(8, (p.M + 7) / 8)) ||
        !minb_built(wt, pl.mt, pl.kg, pl.minb)) {
        fprintf(stderr, "gemv::launch: plan (kg %d, split %d, mt %d, minb %d) does not fit M=%d N=%d K=%d\n", pl.kg,
                pl.split, pl.mt, pl.minb, p.M, p.N, p.K);
        std::abort();
    }
    // (block scales: a CTA's scale row is its first row's 128-row block, which
    // the SiLU pairs' two halves do not share)
    const bool rope_bad = p.epi == EPI_ROPE && (p.N != (p.rope.Hq + 2 * p.rope.Hkv) * 128 || p.rope.B != p.M ||
                                                !p.rope.q_out || !p.rope.k_cache || !p.rope.v_cache || !p.rope.pos);
    // (act_s in xg_index order: whole 128-k blocks, 16-byte aligned for the reader's bulk copies)
    const bool silu_bad = p.epi == EPI_SILU && (p.inter % 64 || p.N != 2 * p.inter || wt == E4M3_BLOCK ||
                                                (p.act_q ? !p.act_s || pl.kg != 1 || p.inter % 128 || (uintptr_t)p.act_s % 16
                                                         : !p.act));
    if (p.epi != EPI_Y && (pl.mt > KG_MAX_MT || rope_bad || silu_bad)) {
        fprintf(stderr, "gemv::launch: epilogue %d needs M <= %d and, RoPE, N = (Hq + 2 Hkv) 128, rope.B = M and its "
                "pointers, SiLU, N = 2 inter, inter a multiple of 64, no block scales, act, or act_q, act_s (16-byte "
                "aligned), one k group and inter a multiple of 128 (M=%d N=%d rope.B=%d inter=%d kg=%d)\n", p.epi, 8 * KG_MAX_MT, p.M, p.N, p.rope.B, p.inter, pl.kg);
        std::abort();
    }
    if (is_a8(wt) && (!p.x_scale || (wt == E4M3_A8G && (uintptr_t)p.x_scale % 16))) {
        fprintf(stderr, "gemv::launch: W8A8 needs X's scales (x_scale; E4M3_A8G: 16-byte aligned, xg_count(M, K) floats)\n");
        std::abort();
    }
    if (pl.wgmma && !has_wgmma(wt)) {
        fprintf(stderr, "gemv::launch: wgmma is for W8A8 and BF16 only (weights and activations of one type)\n");
        std::abort();
    }
    Params q = p;
    q.even_ctas = pl.even > 0 ? pl.blocks : 0;
    if (pl.even > 0 && (pl.split != 1 || p.epi != EPI_Y || wt == E4M3_BLOCK || !even_fits(p.N, pl.kg, pl.blocks))) {
        fprintf(stderr, "gemv::launch: rows split evenly over %d CTAs need split 1, no epilogue, no block scales and at "
                "most %d rows a CTA (N=%d, split %d, epilogue %d)\n", pl.blocks, BN / pl.kg, p.N, pl.split, p.epi);
        std::abort();
    }
    dispatch<LaunchOp>(wt, pl.mt, pl.kg, pl.minb, &q, &pl, st);
}

// The ring's depth: as deep as the shared memory of an SM allows when it is
// shared by the CTAs that will sit on it (ring_residents()), and no deeper
// than a CTA's k steps, so that short CTAs issue all their loads at once.
// Up to 16 tokens: ceil(CTAs / SMs), at most the launch bounds' MINB, and
// at most half an SM where the registers allow two CTAs, so that a
// following GEMV (programmatic dependent launch) can start beside this one
// (v25: rings for one CTA an SM lost there, 8B o W8A8 0.83-0.86x).
// Beyond 16 tokens (wide_ring) the ring is sized for the CTAs an SM the
// launch has: one where they do not outnumber the SMs; two where they do,
// at 17-32 tokens, and at 33-64 on wgmma without split K. H200, 8B/70B
// layers, one call (NOTES.md v28 call 6), against half an SM at 17-32
// tokens: BF16 1.06-1.22x (8B qkv 0.57 -> 0.68 of copy at 17 tokens), W8A8
// 1.07-1.24x (but 70B qkv, 80 CTAs, 0.991-0.995x), W8A16 1.21-1.67x where
// the launch has one CTA an SM, the rest 0.991-1.003x; two CTAs an SM at
// 48-64 tokens on gate_up 1.005-1.031x (BF16), 1.049-1.102x (W8A8), where
// 70B qkv BF16 (split 3) lost (0.945x at 64 tokens, call 4). Two CTAs fit
// at 33-64 tokens although MINB is 1 there: the wgmma kernels take 66-81
// registers. The decode step at batch 32: 1.035-1.114x (4K),
// 1.010-1.044x (32K); batch 64 0.999-1.010x.
// CTAs an SM a launch's ring is sized for (minb: the kernel's launch bounds,
// Cfg::MINB; host only, tests/gemv_plan.cu checks it)
inline int ring_residents(int mt, int minb, int blocks, int sms, bool wgmma, int split)
{
    if (wide_ring && mt > KG_MAX_MT) return blocks > sms && (mt <= 4 || (wgmma && split == 1)) ? 2 : 1;
    // at least two CTAs an SM where registers allow: with programmatic
    // dependent launch the next kernel's CTAs start streaming beside this one's
    return std::max(1, std::min(minb, std::max(min_resident, (blocks + sms - 1) / sms)));
}
template <int WT, int MT, int KG, int MB> struct StagesOp {
    static int run(Plan *pl, int steps_per_cta, int sms, int force)
    {
        using C = Cfg<WT, MT, KG, MB>;
        int dev = 0, per_sm = 0;
        cudaGetDevice(&dev);
        cudaDeviceGetAttribute(&per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev);
        const int resident = ring_residents(MT, C::MINB, pl->blocks, sms, pl->wgmma, pl->split);
        // per CTA: its share of the SM, less the 1 KiB the driver reserves a CTA
        const long share = per_sm / resident - 1024;
        int st = (int)((share - 1024 - 2 * MAX_STAGES * 8 - 16) / (C::STAGE + C::SCB));
        st = std::max(MIN_STAGES, std::min({st, MAX_STAGES, std::max(MIN_STAGES, steps_per_cta)}));
        if (force > 0) st = force;
        pl->stages = st;
        pl->smem = C::smem(st);
        return 0;
    }
};

// The k groups and the split of K (1..MAX_SPLIT CTAs a row tile, each at
// least 4 stages). A CTA's warps work through its stages one after another,
// each stage a chain of shared-memory loads and MMAs, so the time is about
// the stages a CTA times the rounds of CTAs the SMs hold at once:
//   cost = ceil(CTAs / (SMs x resident)) x (stages / split + 2 + (split > 1 ? 10 : 0))
// (2: a CTA's start and its pipeline filling; 10 more: the split-K
// epilogue's chain of L2 round trips, which the k groups' shared-memory sum
// does not have). resident = 2 CTAs an SM up to 16 tokens (the ring is sized
// for two; measured: Llama-3.1-8B qkv at M = 1, 192 CTAs of 32 rows run at
// 0.74 of copy, 96 CTAs of 64 rows at 0.58, although both give some SM 256
// KiB); 1 beyond, where k groups do not exist (the earlier waves model, as
// measured there). Ties go to more k groups, then to the smaller split.
// Fitted to 32 measured (layer, M, variant) cases of Llama-3.1-8B/70B at M =
// 1 and 16 (H200, NOTES.md v5); against 14 forced variants over 48 (layer,
// M, type) cases of Llama-3.1-8B/70B/405B (NOTES.md v13) the pick runs at
// 0.991 of the best, worst 70B qkv W8A8 at M = 1 (k1 s3 0.80 of copy
// against k4 s1 0.85; since v14 the rule below picks k4 s1 there).
// force_split / force_kg > 0 override (the checks use them); force_stages >
// 0 sets the ring's depth.
// Rows split evenly over the SMs (Plan::even): where N needs one 32-row tile
// an SM and each CTA writes at least 7/8 of the rows it loads, up to 16
// tokens, unless split or k groups are forced: one CTA on every SM, where
// the tiles (ceil(N / 32) of them, or twice that with split K) leave some
// SMs idle and others with two CTAs of the launch. H200, Llama-3.1-8B o and
// down (N = 4096), a chain of the same GEMV under PDL: the tiles' launches
// ran on 120-124 SMs, 4-8 of them with two CTAs; evenly, every launch on
// all 132, one each, and against the tiles W8A8 1.05-1.12x (o), 1.06x
// (down), E4M3_A8G 0.99-1.16x, W8A16 0.99-1.27x, BF16 0.985-1.03x (NOTES.md
// v12). That needs every SM to have one free slot when the CTAs launch:
// after other kernels (the decode step) it does not hold, and the step
// forbids it (decode_step --gemv_even=1, tuning, allows it for O and down).
// force_even > 0 forces n CTAs an SM, < 0 forbids it. force_minb > 0 takes
// the kernel with launch bounds for that many CTAs an SM where it is built
// (minb_built(); the checks use it).
// shape(): the k groups, split, rows evenly and grid for `sms` SMs (host
// only, no GPU: tests/gemv_plan.cu checks its picks); plan() adds the ring.
inline Plan shape(int wt, int M, int N, int K, int sms, int force_split = 0, int force_kg = 0, int force_even = 0,
                  int force_minb = 0)
{
    Plan pl;
    pl.mt = std::max(1, std::min(8, (M + 7) / 8));
    const int bk = k_sub(wt);
    const int slots = sms * (pl.mt <= KG_MAX_MT ? 2 : 1);
    int best_kg = 1, best_split = 1;
    double best_cost = 1e300;
    for (int kg : {4, 2, 1}) {
        if (force_kg > 0 && kg != force_kg) continue;
        if (!supported(wt, M, N, K, 1, kg)) continue;
        const int tiles = (N + BN / kg - 1) / (BN / kg);
        const int steps = K / (bk * kg);
        for (int s = 1; s <= MAX_SPLIT && (s == 1 || steps / s >= 4); s++) {
            if (force_split > 0 && s != force_split) continue;
            const double cost = (double)((tiles * s + slots - 1) / slots) * ((double)steps / s + 2.0 + (s > 1 ? 10.0 : 0.0));
            if (cost < best_cost - 1e-9) best_kg = kg, best_split = s, best_cost = cost;
        }
    }
    // At one token tile (up to 8 tokens) a split is not worth a second
    // round of unsplit 32-row CTAs when that round is at most half the
    // slots: the model's whole round overstates it. H200, Llama-3.1-70B qkv
    // (N = 10240, K = 8192: 320 CTAs on 264 slots, where the model picks k1
    // s3): alone 0.85 of copy against 0.80 at M = 1 (NOTES.md v13); in the
    // decode step 1.004-1.016x at batch 1 and 4, every configuration, 3
    // alternations of 5 repetitions (v14); at 16 tokens it lost (0.994x)
    const int tiles4 = (N + MIN_ROWS - 1) / MIN_ROWS; // unsplit CTAs of 32 rows
    const bool free_kg = force_split <= 0 && force_kg <= 0 && supported(wt, M, N, K, 1, MAX_KG);
    if (free_kg && pl.mt == 1 && best_split > 1 && tiles4 > slots && 2 * tiles4 <= 3 * slots)
        best_kg = MAX_KG, best_split = 1;
    // At two token tiles (9-16 tokens) the kernel's registers allow two CTAs
    // an SM; where unsplit 32-row CTAs need more than two slots an SM but at
    // most three, W8A8 takes them in one round with the kernel built for
    // three (launch bounds of 72 registers; E4M3_A8 spills 24 bytes). H200,
    // Llama-3.1-70B qkv (320 CTAs) at 16 tokens alone: k4 s1 with three
    // slots 0.80 of copy (E4M3_A8G 0.82) against 0.67 with two and the
    // model's k1 s3 0.69; three slots for every kernel at 9-16 tokens lost
    // 2-6% elsewhere (NOTES.md v14)
    if (free_kg && minb_built(wt, pl.mt, MAX_KG, 3) && tiles4 > 2 * sms && tiles4 <= 3 * sms)
        best_kg = MAX_KG, best_split = 1, pl.minb = 3;
    pl.kg = force_kg > 0 ? force_kg : best_kg;
    pl.split = force_split > 0 ? force_split : best_split;
    if (force_minb > 0) pl.minb = minb_built(wt, pl.mt, pl.kg, force_minb) ? force_minb : 0;
    pl.blocks = (N + BN / pl.kg - 1) / (BN / pl.kg) * pl.split;
    if (force_even > 0) { // the smallest tile (most k groups) that holds a CTA's share, unless kg is forced
        pl.even = force_even, pl.split = 1, pl.blocks = force_even * sms, pl.minb = 0;
        if (force_kg <= 0)
            for (int kg : {1, 2, 4})
                if (supported(wt, M, N, K, 1, kg) && even_fits(N, kg, pl.blocks)) pl.kg = kg;
    } else if (force_even == 0 && force_split <= 0 && force_kg <= 0 && wt != E4M3_BLOCK && pl.mt <= KG_MAX_MT &&
               supported(wt, M, N, K, 1, MAX_KG) && 8 * N > 7 * MIN_ROWS * sms && even_fits(N, MAX_KG, sms)) {
        pl.even = 1, pl.kg = MAX_KG, pl.split = 1, pl.blocks = sms, pl.minb = 0;
    }
    return pl;
}

// W8A8 on wgmma (struct Wg) or mma.sync (struct Warp): wgmma from 9
// tokens, and up to 8 where N >= 8192. H200, Llama-3.1-8B/70B layers, one
// binary, one call (NOTES.md v18 call 3), wgmma against mma.sync: at
// 17-64 tokens 1.21-2.23x (median 1.51x: mma.sync converts each E4M3
// weight once a token tile there); at 9-16 tokens 1.008-1.054x (E4M3_A8G
// 1.018-1.082x); up to 8 tokens where N >= 8192 0.994-1.040x (E4M3_A8G
// 0.984-1.056x; 8B gate_up 1.02-1.06x, E4M3_A8G on 70B gate_up
// 0.984-0.991x), but 0.966-0.993x (E4M3_A8G 0.936-0.993x) on 8B o, qkv and
// down (N = 4096, 6144: one CTA an SM of 8 stages, whose last stage's wgmma
// chain is the CTA's tail)
// BF16 on wgmma from 17 tokens. H200, Llama-3.1-8B/70B layers, one call
// (NOTES.md v27 call 1), wgmma against mma.sync: at 24-64 tokens
// 1.000-1.123x (8B o 1.05-1.12x, 70B gate_up at 64 tokens 1.12x; the
// decode step's BF16 at batch 64 and 4K 1.033x on 8B, 1.059x on 70B); at
// 9-16 tokens 0.956-1.008x, up to 8 0.965-1.001x (why is not measured;
// mma.sync's shared-memory reads of X grow with the token tiles).
inline bool wgmma_rule(int wt, int mt, int N) { return wt == BF16 ? mt >= 3 : mt >= 2 || N >= 8192; }
// Whether a plan runs on wgmma: the rule, unless --gemv_wgmma forces a side
inline bool on_wgmma(int wt, int mt, int N)
{
    return has_wgmma(wt) && (wgmma_default == 2 || (wgmma_default == 1 && wgmma_rule(wt, mt, N)));
}

inline Plan plan(int wt, int M, int N, int K, int force_split = 0, int force_stages = 0, bool pdl = pdl_default,
                 int force_kg = 0, int force_even = 0, int force_minb = 0)
{
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    Plan pl = shape(wt, M, N, K, sms, force_split, force_kg, force_even, force_minb);
    pl.pdl = pdl;
    pl.wgmma = on_wgmma(wt, pl.mt, N);
    const int steps = K / (k_sub(wt) * pl.kg);
    dispatch<StagesOp>(wt, pl.mt, pl.kg, pl.minb, &pl, (steps + pl.split - 1) / pl.split, sms, force_stages);
    return pl;
}

// Split-K workspace sizes (0 without split K): the partial sums of a launch
// with this plan, and the whole workspace of one GEMV. GEMVs that share a
// workspace need the largest partial_bytes plus the largest counter_bytes.
inline size_t partial_bytes(const Plan &pl)
{
    return pl.split > 1 ? (size_t)pl.blocks * (CWARPS / pl.kg) * pl.mt * 128 * sizeof(float) : 0;
}
inline size_t workspace_bytes(const Plan &pl, int N) { return pl.split > 1 ? partial_bytes(pl) + counter_bytes(N) : 0; }

} // namespace gemv
