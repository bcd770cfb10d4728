// attn_decode: attention for one new query token per sequence over a KV
// cache (decode), grouped-query: G = Hq / Hkv (<= 16) query heads share a KV
// head.
//
//   q    [B][Hq][128] BF16;  out [B][Hq][128] BF16
//   K, V pages [num_pages][Hkv][P][128] in BF16, FP8 E4M3 or FP8 E5M2, with
//        FP32 per-KV-head scales (k_scale[Hkv], v_scale[Hkv]) for FP8;
//        block table [B][table_stride] of page ids; P = 16 or 64 ("paged"),
//        or P >= L with table[b] = {b} (the contiguous layout
//        [B][Hkv][L][128]).
//   out = softmax(q K^T / sqrt(128)) V, FP32 softmax statistics.
//
// How: one CTA per (sequence, KV head, split of the context); the context is
// split over CTAs (flash-decoding) so that batch x KV heads x splits fills
// the resident CTAs (at most 16 splits while a split stays short: plan()),
// and the splits are merged by the last CTA to finish (an acq_rel atomic
// counter, left at zero; the last CTA loads 8 splits' parts at once and
// folds them with a running maximum). A producer warp streams the CTA's tokens
// with TMA (cp.async.bulk.tensor over the page pool seen as rows of 128
// elements, 128-byte swizzle, one box a page or part of a page; page ids
// read by the warp 32 boxes at a time, a batch ahead, the first at entry)
// into a ring of 6 stages on full/empty mbarriers (PW = 2, FP8 with 8 warps
// in 16-token pages and long splits: two producer warps, one for K's boxes
// and one for V's; producers()). NW consumer warps take 16
// (FP8) or 8 (BF16) tokens of each stage, so a stage is 16 NW (FP8) or 8 NW
// (BF16) tokens of K and V: NW = 4, 16 KiB stages, two CTAs an SM; or
// NW = 8, 32 KiB, one (plan() picks; below). S = Q K^T on the tensor cores
// with the heads as the M rows (up to 16) and tokens as N (K by
// ldmatrix, conflict-free under the swizzle); online softmax in FP32; P V as
// O^T = V^T P^T, whose B operand is exactly the S accumulators
// (FlashAttention-2's register reuse) and whose A operand (V transposed) is
// ldmatrix.trans for BF16 and, for FP8, byte permutes of 16-byte rows (also
// conflict-free). FP8 is decoded by cvt.rn.f16x2.{e4m3,e5m2}x2 (exact) and
// multiplied in FP16 (q converted BF16 -> FP16, P in FP16); BF16 KV uses
// BF16 MMAs. Scales: k_scale folds into the score scale, v_scale into the
// output. Tokens past the split's end (page tails, clamped boxes) are masked
// in S and zeroed in V, so whatever the cache holds there cannot leak in.
// PIPE (FP8, 8 warps, splits of 64 stages or more): a warp issues S of stage
// s + 1 before the softmax and P V of stage s, so that the MMAs' latency
// overlaps that work.
//
// Correct: checked against FP64 (decode --check): every KV type and layout,
// ragged lengths with one empty sequence (0 whether split or not), G = 4,
// 8, 16, 1..40 splits, each with 4 and 8 warps and, for FP8, with S ahead
// and not, and with 8 warps without S ahead one and two producers; each
// launched twice, the second right behind the first under PDL; rel L2
// 1.6e-3..2.0e-3.
// Measured (H200, results/h200/decode.json at 4b765ce; timed under
// programmatic dependent launch like the GEMV; fraction of the 4.23 TB/s
// copy bandwidth in KV bytes): batch 16-64 at 32K context BF16 1.00-1.01,
// E4M3 0.94-1.00 (1.87-1.98x over BF16); at 4K 0.95-0.99 / 0.86-0.93
// (1.80-1.89x); batch 1 0.16-0.98 / 0.07-0.90 (at 4K 8.0 us FP8, 9.8 us
// BF16: a launch's fixed cost against 4-8 MB of cache). PyTorch SDPA
// (BF16) in the same run: 0.98-1.11 at batch >= 16 and >= 4K.
// Target 0.85 at >= 4K: met at batch >= 16 (FP8 from 16K 0.92-1.02, at
// batch 64 and 4K 0.92-0.93, at batch 16 and 4K 0.86-0.89 in every layout;
// in 16-token pages 0.83-0.84 before two producers, v24), and at batch 4
// from 32K (0.87-0.98); missed at batch 1 and at batch 4 below 32K.
// Each change below measured in one binary and call against the one before
// (NOTES.md v10, v11):
// - The epilogue's O in shared memory at o_col's swizzled columns
//   (071185b; before, 16-way bank conflicts for FP8, 4-way for BF16: 2.3 us
//   of a batch-1 FP8 CTA with 8 warps, 2.4 us at batch 16): E4M3 batch 1
//   4K 1.18-1.21x, 32K 1.07x, batch 4 4K 1.11-1.13x, batch 16 4K
//   1.04-1.05x, batch 64 4K 1.02x; BF16 1.00-1.02x.
// - plan()'s warps (829ec1a: a quarter of the SMs, where before a split had
//   to hold 8 stages): batch 1 at 4K 1.04-1.21x, BF16 at 1K 1.12-1.31x,
//   batch 4 at 1K with 70B heads 1.10-1.17x; E4M3 batch 1 at 1K (32 CTAs
//   of 8 warps) keeps 4 (8: 0.91-0.98x). Earlier, 8 warps against 4 at
//   batch 1-16 where a split held 8 stages 0.98-1.08x; batch 64 (several
//   waves) 0.95-1.00x. In 16-token pages, with page ids read a stage at a
//   time, 8 warps ran FP8 0.83-0.94x from batch 4 (one producer reading the
//   next stage's 8 page ids after issuing this one's 8 boxes); read 32 boxes
//   ahead (ee18bb4) they ran 1.03-1.13x faster and beat or matched 4.
// - S ahead: 1.03-1.07x at batch 4-16 and 32K with 8 warps; 0.93-1.00x at
//   4K and with 4 warps.
// - More splits at batch 16 and 4K (2-8, 4 or 8 warps): 0.62-0.98x.
// - A ring sized to the split (2-6 stages, 33 KiB a batch-1 step CTA
//   instead of 97): alone 0.992-1.008x, in the step 0.997-1.006x (v16);
//   not kept.
// - Two producer warps by producers()'s rule (v24): batch 16 at 4K in
//   16-token pages E4M3 0.853 -> 0.889 of copy (8B heads), 0.849 -> 0.874
//   (70B), E5M2 alike: 1.034-1.045x; other cases keep the one-producer
//   kernel, whose PTX is unchanged.
// Where batch 1 at 4K goes (build/decode_trace, E4M3, 16 splits of 256
// tokens, 8 warps; medians, us after the first CTA's entry): first stage in
// 1.44, main loop done 3.17, every warp's O in shared memory 3.90 (before
// 071185b's swizzle 2.3 us after the main loop), part stored 4.70, counted
// 5.31, merge done 6.85; at 32K the main loop ends at 16.3-19.7 us over the
// CTAs. With the step's plan (32 splits of 4 warps, alone): every part
// counted by 5.5 us, the merges of 32 parts (4 rounds of 8 loads) done at
// 8.1 (median). Batch 16 at 4K, 8 warps: first stage
// 2.5 us, main loop done 30.1-35.2 us over the CTAs (the bytes at copy
// speed: 31.5 us), every warp's O in shared memory 0.8 us later, no merge.
#pragma once

#include "common.cuh"
#include "../gemm/hopper.cuh"

#include <algorithm>
#include <cuda_runtime.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

namespace attn {

enum KvType { KV_BF16 = 0, KV_E4M3 = 1, KV_E5M2 = 2 };

constexpr int HD = 128, STAGES = 6;
static_assert(STAGES >= 2, "S a stage ahead holds two stages");
constexpr int MAX_G = 16; // query heads a KV head (Hq / Hkv) the kernel supports

// The kernel's parameters. Their layout shapes every instance's code: one
// int more (v24) moved the FP8 kernels with S ahead by 0.97-1.02x with no
// other change, so the producer warps are a launch argument, not a field.
struct Params {
    const __nv_bfloat16 *q;
    const void *k, *v;
    const int *table;
    int table_stride;
    int num_pages;            // pages in the pool (the tensor maps' extent)
    const int *seq_len;       // [B]
    const float *k_scale, *v_scale;
    __nv_bfloat16 *out;
    float *ws;                // O [B*Hkv][nsplit][G][HD], then (m, l) [B*Hkv][nsplit][G][2]
    int *counter;             // [B*Hkv]
    int B, Hq, Hkv, page_shift, nsplit, split_tokens;
    int nw;                   // consumer warps a CTA, 4 or 8 (Plan::nw)
    bool pipe;                // S = Q K^T a stage ahead (Plan::pipe; FP8 only)
    float sm_scale;
    // PDL (tuning, decode_step --pdl_late=attn): the next kernel may launch
    // once each CTA's first thread reaches the end of its main loop (a
    // producer warp, once it has issued its last stage; in the split holding
    // token L - 1 that is after its wait), not at the CTA's entry
    bool late_trigger = false;
};

template <int KV, int NW, int PW = 1> struct Cfg {
    static_assert(NW == 4 || NW == 8, "4 consumer warps (two CTAs an SM) or 8 (one)");
    static_assert(PW == 1 || PW == 2, "one producer warp, or two (K's boxes, V's)");
    static constexpr int THREADS = (NW + PW) * 32;     // the consumers and the producer warps
    static constexpr int MIN_CTAS = NW == 4 ? 2 : 1;    // CTAs an SM (launch bounds)
    static constexpr bool FP8 = KV != KV_BF16;
    static constexpr int STEP = FP8 ? 16 : 8;           // tokens a warp a stage
    static constexpr int T = STEP * NW;                 // tokens a stage
    static constexpr int ROWB = FP8 ? 128 : 256;        // bytes a token (K or V)
    static constexpr int HALF = T * 128;                // one 128-byte-wide column block of a tile
    static constexpr int KT = T * ROWB;                 // K tile (then V tile)
    static constexpr int STAGE = 2 * KT;                // 16 KiB (NW = 4) or 32 KiB
    static constexpr size_t RING = (size_t)STAGES * STAGE;
    static constexpr size_t SMEM = 1024 + RING + 2 * STAGES * sizeof(uint64_t);
    static_assert(HALF % 1024 == 0, "tiles stay 1024-aligned");
};

__device__ __forceinline__ uint32_t wsel(const uint4 &u, int i)
{
    return i == 0 ? u.x : i == 1 ? u.y : i == 2 ? u.z : u.w;
}

#ifdef ATTN_TRACE
// Diagnostic build (-DATTN_TRACE): %globaltimer (ns) at TRACE_POINTS points
// of every CTA's life, for `decode --attn_trace`: 0 entry, 1 ring ready, 2
// first copy issued, 3 q in registers, 4 first stage arrived, 5 main loop
// done (warp 0), 6 every warp's (m, l, O) in shared memory, 7 the CTA's part
// in the workspace (stores issued), 8 counted (the acq_rel atomic back), 9
// the merge done (the last CTA only), and inside the last CTA's merge: 10
// past its barrier, 11 the first 8 splits loaded and folded, 12 every
// split folded. trace_clk: clock64 at the same points (the SM clock over a
// CTA's life, against %globaltimer: NOTES.md v22).
constexpr int TRACE_CTAS = 8192, TRACE_POINTS = 13;
__device__ unsigned long long trace_ns[TRACE_CTAS * TRACE_POINTS];
__device__ long long trace_clk[TRACE_CTAS * TRACE_POINTS];
__device__ __forceinline__ void trace(int e)
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    if (blockIdx.x < TRACE_CTAS) {
        trace_ns[blockIdx.x * TRACE_POINTS + e] = t;
        trace_clk[blockIdx.x * TRACE_POINTS + e] = clock64();
    }
}
#define ATTN_TRACE_AT(cond, e) \
    if (cond) trace(e)
#else
#define ATTN_TRACE_AT(cond, e)
#endif

// A warp's O in the epilogue's shared memory, [16 heads][HD]: d of head h at
// column o_col(h, d). Lane (g, c) stores d 16g + 2j (+1) (FP8) or 16j + g
// (+8) (BF16) of heads 2c, 2c + 1 (+8), j = 0..7: unswizzled, a store's 32
// lanes fall on 2 (FP8) or 8 (BF16) banks, 16- or 4-way conflicts (2.3 us
// of a batch-1 FP8 CTA with 8 warps). XOR-ing d's low bits with the head
// pair (and for FP8 with d / 32) puts them on 32 banks, and a reader's 32
// consecutive d of one head stay on 32 (tests/attn_smem.cu checks both).
template <bool FP8> __host__ __device__ constexpr int o_col(int h, int d)
{
    return d ^ (FP8 ? (((h >> 1) & 3) << 2) | ((d >> 5) & 3) : ((h >> 1) & 3) << 3);
}
// What o_col XORs into every d lane (g, c) stores (for FP8 its d / 32 is g / 2)
template <bool FP8> __host__ __device__ constexpr int o_lane_xor(int g, int c) { return FP8 ? (c << 2) | (g >> 1) : c << 3; }
// Lane (g, c)'s accumulator o[hh][j][i] of P V (i = 0..3) is head
// o_frag_h(hh, c, i), d o_frag_d(g, j, i): the MMA's C fragment, rows d
// (FP8: 16g + 2j, +1; BF16: MMA j = 2pp + e covers chunks 4pp + 2e, rows
// 0-7, and 4pp + 2e + 1, rows 8-15), columns heads 2c, 2c + 1
__host__ __device__ constexpr int o_frag_h(int hh, int c, int i) { return 8 * hh + 2 * c + (i & 1); }
template <bool FP8> __host__ __device__ constexpr int o_frag_d(int g, int j, int i)
{
    return FP8 ? 16 * g + 2 * j + (i >> 1) : 16 * j + 8 * (i >> 1) + g;
}

template <int KV, bool G16, int NW, bool PIPE, int PW>
__global__ void __launch_bounds__(Cfg<KV, NW, PW>::THREADS, Cfg<KV, NW, PW>::MIN_CTAS)
    attn_decode_kernel(const __grid_constant__ CUtensorMap tk, const __grid_constant__ CUtensorMap tv, const Params p)
{
    using C = Cfg<KV, NW, PW>;
    constexpr int THREADS = C::THREADS;
    constexpr bool FP8 = C::FP8;
    constexpr bool E5 = KV == KV_E5M2;
    constexpr int STEP = C::STEP, T = C::T;
    constexpr int NH = G16 ? 2 : 1; // 8-head tiles of the output

    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = (unsigned char *)(((uintptr_t)smem_raw + 1023) & ~(uintptr_t)1023);
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + C::RING);
    uint64_t *empty = full + STAGES;
    __shared__ float sm_m[NW][16], sm_l[NW][16], sm_M[16], sm_L[16];
    __shared__ int sm_last;

    const int item = blockIdx.x / p.nsplit, split = blockIdx.x % p.nsplit;
    const int b = item / p.Hkv, h = item % p.Hkv;
    const int G = p.Hq / p.Hkv;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int t_begin = split * p.split_tokens;
    // The producer's boxes: box r of a stage (rb tokens, inside one page) is
    // lane r's. Page ids are read a batch of PER stages at a time, lane i
    // holding box i % nbox of stage i / nbox of the batch, the next batch
    // while this one is used; the first batch with the sequence's length,
    // before the ring is set up (a global load's latency saved).
    const int P = 1 << p.page_shift;
    const int rb = min(T, P), nbox = T / rb, PER = 32 / nbox; // tokens a box, boxes a tile (1..8)
    const int *trow = p.table + (size_t)b * p.table_stride;
    auto page_batch = [&](int s0) -> int { // this lane's page id in the batch from stage s0
        const int off = (s0 + lane / nbox) * T + (lane % nbox) * rb; // token offset in the split
        const int pi = (t_begin + off) >> p.page_shift;
        return off < p.split_tokens && pi < p.table_stride ? __ldg(trow + pi) : 0;
    };
    // (== with one producer: that kernel's code stays as it was, v24)
    const bool producer = PW == 1 ? warp == NW : warp >= NW;
    int pages = producer ? page_batch(0) : 0;
    const int L = p.seq_len[b];
    // (the scales and lengths are the step's constants, not written by the
    // kernel before: read before its PDL wait; vs is for the epilogue)
    const float vs = FP8 ? p.v_scale[h] : 1.f;
    const int t_end = min(L, t_begin + p.split_tokens);
    const int nst = t_end > t_begin ? (t_end - t_begin + T - 1) / T : 0;
    ATTN_TRACE_AT(threadIdx.x == 0, 0);

    hopper::init_ring(full, empty, STAGES, NW, PW);
    __syncthreads();
    ATTN_TRACE_AT(threadIdx.x == 0, 1);
    // Programmatic dependent launch (the decode step; no-ops otherwise): the
    // next kernel may start now. The kernel before this one appends each
    // sequence's last token (L - 1) to the cache and writes q: the producer
    // streams every other token before waiting for it, the consumers wait
    // before they read q. (p.late_trigger: at the end of the main loop
    // instead; the first thread there, the producer, triggers the CTA.)
    if (!p.late_trigger) dec::pdl_trigger();

    float o[NH][8][4];
#pragma unroll
    for (int hh = 0; hh < NH; hh++)
#pragma unroll
        for (int j = 0; j < 8; j++) o[hh][j][0] = o[hh][j][1] = o[hh][j][2] = o[hh][j][3] = 0.f;
    float m[NH], l[NH];
#pragma unroll
    for (int hh = 0; hh < NH; hh++) m[hh] = -INFINITY, l[hh] = 0.f;

    if (producer) {
        // ---- producer: one warp, or two (PW = 2: warp NW issues the K
        // boxes, warp NW + 1 the V boxes, each arriving on the full barrier
        // with its half of the bytes; host side: producers())
        const int pmask = P - 1;
        const bool issue_k = PW == 1 || warp == NW, issue_v = PW == 1 || warp > NW;
        if (lane == 0) {
            if (issue_k) hopper::prefetch_tmap(&tk);
            if (issue_v) hopper::prefetch_tmap(&tv);
        }
        int next = 0;
        for (int s = 0; s < nst; s++) {
            const int st = s % STAGES;
            if (s % PER == 0) {
                if (s) pages = next;
                if (s + PER < nst) next = page_batch(s + PER); // used PER stages from now
            }
            // this lane's box; past the split's end the stage's first box again (masked)
            const int j = (s % PER) * nbox;
            const int pg = __shfl_sync(0xffffffffu, pages, j + min(lane, nbox - 1));
            const int pg0 = __shfl_sync(0xffffffffu, pages, j);
            const int tok = t_begin + s * T + lane * rb;
            const int row = tok < t_end ? (pg * p.Hkv + h) * P + (tok & pmask)
                                        : (pg0 * p.Hkv + h) * P + ((t_begin + s * T) & pmask);
            if (s == nst - 1 && t_end == L) dec::pdl_wait(); // this stage holds token L - 1
            if (s >= STAGES) hopper::mbar_wait(&empty[st], ((s / STAGES) - 1) & 1);
            if (lane == 0) hopper::mbar_expect_tx(&full[st], C::STAGE / PW);
            __syncwarp();
            if (lane < nbox) {
                unsigned char *kt = smem + (size_t)st * C::STAGE + lane * rb * 128;
#pragma unroll
                for (int half = 0; half < C::ROWB / 128; half++) {
                    if (issue_k) hopper::tma_load(kt + half * C::HALF, &tk, &full[st], 64 * half * (FP8 ? 2 : 1), row);
                    if (issue_v) hopper::tma_load(kt + C::KT + half * C::HALF, &tv, &full[st], 64 * half * (FP8 ? 2 : 1), row);
                }
                ATTN_TRACE_AT(s == 0 && lane == 0 && warp == NW, 2);
            }
        }
    } else {
        // ---- consumers
        const int g = lane >> 2, c = lane & 3;
        dec::pdl_wait(); // q is the previous kernel's output
        const float ks = FP8 ? p.k_scale[h] : 1.f;
        const float qk_scale = p.sm_scale * 1.4426950408889634f * ks;

        // Q as the A operand: rows = heads g (a0/a2) and g + 8 (a1/a3), k = d.
        // FP8: k-step q covers d 16q + 4c + {0,1 | 2,3} (ldmatrix's 4 bytes of K);
        // BF16: the standard d 16q + 2c + {0,1 | 8,9}.
        uint32_t qa[8][4];
        {
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int hd = g + 8 * r;
                const bool ok = hd < G && (r == 0 || G16);
                const __nv_bfloat16 *qp = p.q + ((size_t)b * p.Hq + h * G + min(hd, G - 1)) * HD;
#pragma unroll
                for (int q = 0; q < 8; q++) {
                    uint32_t lo, hi;
                    if (FP8) {
                        const uint2 w = *reinterpret_cast<const uint2 *>(qp + 16 * q + 4 * c);
                        const float2 f0 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&w.x));
                        const float2 f1 = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162 *>(&w.y));
                        lo = dec::pack_f16x2(f0.x, f0.y);
                        hi = dec::pack_f16x2(f1.x, f1.y);
                    } else {
                        lo = *reinterpret_cast<const uint32_t *>(qp + 16 * q + 2 * c);
                        hi = *reinterpret_cast<const uint32_t *>(qp + 16 * q + 8 + 2 * c);
                    }
                    qa[q][r] = ok ? lo : 0u;     // [0]: a0 (row g), [1]: a1 (row g + 8)
                    qa[q][2 + r] = ok ? hi : 0u; // [2]: a2, [3]: a3
                }
            }
        }

        constexpr int NT = FP8 ? 2 : 1; // 8-token score tiles
        const int r0 = STEP * warp;     // first row of this warp in the tiles
        // S = Q K^T for this warp's tokens of stage s (zero past the split's end)
        auto scores = [&](int s, float(&sc)[NT][4]) {
#pragma unroll
            for (int j = 0; j < NT; j++) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.f;
            if (t_begin + s * T + r0 >= t_end) return;
            const uint32_t kt = hopper::smem_u32(smem + (size_t)(s % STAGES) * C::STAGE);
            // ---- S = Q K^T
            if (FP8) {
                // matrix i of an x4: token tile i&1, chunk qq + (i>>1)
                const int lrow = r0 + 8 * ((lane >> 3) & 1) + (lane & 7);
#pragma unroll
                for (int qq = 0; qq < 8; qq += 2) {
                    uint32_t r[4];
                    dec::ldsm_x4(dec::swz(kt, lrow, qq + (lane >> 4)), r);
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        const int j = i & 1, q = qq + (i >> 1);
                        const uint32_t b0 = dec::fp8x2_to_f16x2<E5>(r[i] & 0xFFFFu);
                        const uint32_t b1 = dec::fp8x2_to_f16x2<E5>(r[i] >> 16);
                        dec::mma_f16_16816(sc[j], qa[q][0], qa[q][1], qa[q][2], qa[q][3], b0, b1);
                    }
                }
            } else {
                // matrix i: chunk 4p + i (d 8 * chunk), rows = the warp's 8 tokens
                const int lrow = r0 + (lane & 7);
#pragma unroll
                for (int pp = 0; pp < 4; pp++) {
                    uint32_t r[4];
                    const int ch = 4 * pp + (lane >> 3);
                    dec::ldsm_x4(dec::swz(kt + (ch >> 3) * C::HALF, lrow, ch & 7), r);
                    dec::mma_bf16_16816(sc[0], qa[2 * pp][0], qa[2 * pp][1], qa[2 * pp][2], qa[2 * pp][3], r[0], r[1]);
                    dec::mma_bf16_16816(sc[0], qa[2 * pp + 1][0], qa[2 * pp + 1][1], qa[2 * pp + 1][2],
                                        qa[2 * pp + 1][3], r[2], r[3]);
                }
            }
        };
        auto wait_full = [&](int s) { hopper::mbar_wait(&full[s % STAGES], (s / STAGES) & 1); };
        // PIPE: S of stage s + 1 is issued before the softmax and P V of stage
        // s, so that its MMAs' latency overlaps that work (two stages held).
        float sc[NT][4], sn[NT][4];
        if (PIPE && nst > 0) {
            ATTN_TRACE_AT(threadIdx.x == 0, 3);
            wait_full(0);
            ATTN_TRACE_AT(threadIdx.x == 0, 4);
            scores(0, sc);
        }
        for (int s = 0; s < nst; s++) {
            const int st = s % STAGES;
            const int t0 = t_begin + s * T + r0; // this warp's first token
            if (PIPE) {
                if (s + 1 < nst) wait_full(s + 1), scores(s + 1, sn);
            } else {
                ATTN_TRACE_AT(s == 0 && threadIdx.x == 0, 3);
                wait_full(s);
                ATTN_TRACE_AT(s == 0 && threadIdx.x == 0, 4);
                scores(s, sc);
            }
            if (t0 < t_end) {
                const uint32_t vt = hopper::smem_u32(smem + (size_t)st * C::STAGE) + C::KT;
                const bool tail = t0 + STEP > t_end;
                // ---- online softmax (rows: head g in [0..1], head g + 8 in [2..3])
                float alpha[NH];
#pragma unroll
                for (int hh = 0; hh < NH; hh++) {
                    float mx = -INFINITY;
#pragma unroll
                    for (int j = 0; j < NT; j++)
#pragma unroll
                        for (int e = 0; e < 2; e++) {
                            const int tok = t0 + 8 * j + 2 * c + e;
                            const float x = tok < t_end ? sc[j][2 * hh + e] * qk_scale : -INFINITY;
                            sc[j][2 * hh + e] = x;
                            mx = fmaxf(mx, x);
                        }
                    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                    const float mn = fmaxf(m[hh], mx); // finite: t0 < t_end
                    alpha[hh] = exp2f(m[hh] - mn);
                    m[hh] = mn;
                    float ps = 0.f;
#pragma unroll
                    for (int j = 0; j < NT; j++)
#pragma unroll
                        for (int e = 0; e < 2; e++) {
                            sc[j][2 * hh + e] = exp2f(sc[j][2 * hh + e] - mn);
                            ps += sc[j][2 * hh + e];
                        }
                    l[hh] = l[hh] * alpha[hh] + ps;
                }
#pragma unroll
                for (int hh = 0; hh < NH; hh++) {
                    if (__any_sync(0xffffffffu, alpha[hh] != 1.f)) {
                        // O^T columns are heads 2c, 2c + 1 (+8): their alphas live in lanes g = 2c, 2c + 1
                        const float a_lo = __shfl_sync(0xffffffffu, alpha[hh], 8 * c);
                        const float a_hi = __shfl_sync(0xffffffffu, alpha[hh], 8 * c + 4);
#pragma unroll
                        for (int j = 0; j < 8; j++) {
                            o[hh][j][0] *= a_lo, o[hh][j][1] *= a_hi, o[hh][j][2] *= a_lo, o[hh][j][3] *= a_hi;
                        }
                    }
                }
                // ---- O^T += V^T P^T
                if (FP8) {
                    // lane reads V rows tt = 8(i>>1) + 2c + (i&1), d 16g..16g+15; A rows:
                    // row g <-> d 16g + 2u, row g + 8 <-> d 16g + 2u + 1 (MMA u)
                    uint4 vb[4];
#pragma unroll
                    for (int i = 0; i < 4; i++) {
                        const int tt = 8 * (i >> 1) + 2 * c + (i & 1);
                        vb[i] = dec::lds128(dec::swz(vt, r0 + tt, g));
                        if (tail && t0 + tt >= t_end) vb[i] = make_uint4(0, 0, 0, 0);
                    }
                    uint32_t pb[NH][2];
#pragma unroll
                    for (int hh = 0; hh < NH; hh++) {
                        pb[hh][0] = dec::pack_f16x2(sc[0][2 * hh], sc[0][2 * hh + 1]);
                        pb[hh][1] = dec::pack_f16x2(sc[1][2 * hh], sc[1][2 * hh + 1]);
                    }
#pragma unroll
                    for (int q = 0; q < 4; q++) {
                        const uint32_t A = wsel(vb[0], q), B = wsel(vb[1], q);
                        const uint32_t Cc = wsel(vb[2], q), Dd = wsel(vb[3], q);
                        const uint32_t x01 = dec::prmt(A, B, 0x5140u), y01 = dec::prmt(A, B, 0x7362u);
                        const uint32_t x23 = dec::prmt(Cc, Dd, 0x5140u), y23 = dec::prmt(Cc, Dd, 0x7362u);
                        const uint32_t ax0 = dec::fp8x2_to_f16x2<E5>(x01 & 0xFFFFu), ax1 = dec::fp8x2_to_f16x2<E5>(x01 >> 16);
                        const uint32_t ax2 = dec::fp8x2_to_f16x2<E5>(x23 & 0xFFFFu), ax3 = dec::fp8x2_to_f16x2<E5>(x23 >> 16);
                        const uint32_t ay0 = dec::fp8x2_to_f16x2<E5>(y01 & 0xFFFFu), ay1 = dec::fp8x2_to_f16x2<E5>(y01 >> 16);
                        const uint32_t ay2 = dec::fp8x2_to_f16x2<E5>(y23 & 0xFFFFu), ay3 = dec::fp8x2_to_f16x2<E5>(y23 >> 16);
#pragma unroll
                        for (int hh = 0; hh < NH; hh++) {
                            dec::mma_f16_16816(o[hh][2 * q], ax0, ax1, ax2, ax3, pb[hh][0], pb[hh][1]);
                            dec::mma_f16_16816(o[hh][2 * q + 1], ay0, ay1, ay2, ay3, pb[hh][0], pb[hh][1]);
                        }
                    }
                } else {
                    // ldmatrix.trans of 8 tokens x 8 d: lane (g, c) gets d g of the chunk, tokens 2c, 2c+1
                    uint32_t pb[NH];
#pragma unroll
                    for (int hh = 0; hh < NH; hh++) pb[hh] = dec::pack_bf16x2(sc[0][2 * hh], sc[0][2 * hh + 1]);
                    uint32_t vmask = 0xFFFFFFFFu;
                    if (tail) vmask = (t0 + 2 * c < t_end ? 0x0000FFFFu : 0u) | (t0 + 2 * c + 1 < t_end ? 0xFFFF0000u : 0u);
                    const int lrow = r0 + (lane & 7);
#pragma unroll
                    for (int pp = 0; pp < 4; pp++) {
                        uint32_t r[4];
                        const int ch = 4 * pp + (lane >> 3);
                        dec::ldsm_x4_t(dec::swz(vt + (ch >> 3) * C::HALF, lrow, ch & 7), r);
#pragma unroll
                        for (int i = 0; i < 4; i++) r[i] &= vmask;
#pragma unroll
                        for (int hh = 0; hh < NH; hh++) {
                            dec::mma_bf16_1688(o[hh][2 * pp], r[0], r[1], pb[hh]);
                            dec::mma_bf16_1688(o[hh][2 * pp + 1], r[2], r[3], pb[hh]);
                        }
                    }
                }
            }
            __syncwarp();
            if (lane == 0) hopper::mbar_arrive(&empty[st]);
            if (PIPE)
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) sc[j][e] = sn[j][e];
        }
    }

    // ---- each warp's (m, l, O) -> shared memory (over the ring, now idle)
    ATTN_TRACE_AT(threadIdx.x == 0, 5);
    if (p.late_trigger) dec::pdl_trigger();
    __syncthreads();
    float *sm_o = reinterpret_cast<float *>(smem); // [NW][16][HD], d at o_col(h, d)
    if (warp < NW) {
        const int g = lane >> 2, c = lane & 3;
        const int xm = o_lane_xor<FP8>(g, c);
#pragma unroll
        for (int hh = 0; hh < NH; hh++) {
            float lt = l[hh];
            lt += __shfl_xor_sync(0xffffffffu, lt, 1);
            lt += __shfl_xor_sync(0xffffffffu, lt, 2);
            if (c == 0) {
                sm_m[warp][g + 8 * hh] = m[hh];
                sm_l[warp][g + 8 * hh] = lt;
            }
            float *ow = sm_o + (size_t)warp * 16 * HD;
            const int h0 = o_frag_h(hh, c, 0), h1 = o_frag_h(hh, c, 1);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int d0 = o_frag_d<FP8>(g, j, 0) ^ xm, d1 = o_frag_d<FP8>(g, j, 2) ^ xm;
                ow[h0 * HD + d0] = o[hh][j][0], ow[h1 * HD + d0] = o[hh][j][1];
                ow[h0 * HD + d1] = o[hh][j][2], ow[h1 * HD + d1] = o[hh][j][3];
            }
        }
    }
    __syncthreads();
    ATTN_TRACE_AT(threadIdx.x == 0, 6);
    // per head: the CTA's maximum M, each warp's factor 2^(m_w - M) (in
    // place of m_w; 0 for a warp that saw no token) and the sum L
    if (threadIdx.x < G) {
        const int hd = threadIdx.x;
        float M = -INFINITY, Ls = 0.f;
#pragma unroll
        for (int w = 0; w < NW; w++) M = fmaxf(M, sm_m[w][hd]);
#pragma unroll
        for (int w = 0; w < NW; w++) {
            const float f = sm_m[w][hd] == -INFINITY ? 0.f : exp2f(sm_m[w][hd] - M);
            sm_m[w][hd] = f;
            Ls += sm_l[w][hd] * f;
        }
        sm_M[hd] = M, sm_L[hd] = Ls;
    }
    __syncthreads();

    dec::pdl_wait(); // (the producer's threads write too)
    // the workspace: O [B*Hkv][nsplit][G][HD], then (m, l) [B*Hkv][nsplit][G][2]
    // (O's float4 columns stay 16-byte aligned for any G)
    float *wsi = p.ws + (size_t)item * p.nsplit * G * HD;
    float *wstat = p.ws + (size_t)p.B * p.Hkv * p.nsplit * G * HD + (size_t)item * p.nsplit * G * 2;
    for (int e = threadIdx.x; e < G * HD; e += THREADS) {
        const int hd = e / HD, d = e % HD;
        const float M = sm_M[hd], Ls = sm_L[hd];
        float O = 0.f;
#pragma unroll
        for (int w = 0; w < NW; w++) O += sm_o[((size_t)w * 16 + hd) * HD + o_col<FP8>(hd, d)] * sm_m[w][hd];
        if (p.nsplit == 1) { // an empty sequence (Ls = 0) gives 0, as the merge does
            p.out[((size_t)b * p.Hq + h * G + hd) * HD + d] = __float2bfloat16_rn(Ls > 0.f ? O / Ls * vs : 0.f);
        } else {
            wsi[((size_t)split * G + hd) * HD + d] = O;
            if (d == 0) wstat[2 * (split * G + hd)] = M, wstat[2 * (split * G + hd) + 1] = Ls;
        }
    }
    if (p.nsplit == 1) return;

    // merge the splits: the last CTA of this (sequence, KV head) to finish.
    // The counter's atomic is acq_rel at GPU scope (after the CTA's barrier,
    // as CUTLASS's semaphores do): it publishes this CTA's part and, in the
    // last CTA, makes every other part visible; no separate fences.
    __syncthreads();
    ATTN_TRACE_AT(threadIdx.x == 0, 7);
    if (threadIdx.x == 0) {
        int old;
        asm volatile("atom.add.acq_rel.gpu.global.s32 %0, [%1], 1;" : "=r"(old) : "l"(p.counter + item) : "memory");
        sm_last = old == p.nsplit - 1;
    }
    ATTN_TRACE_AT(threadIdx.x == 0, 8);
    __syncthreads();
    if (!sm_last) return;
    ATTN_TRACE_AT(threadIdx.x == 0, 10);
    // The merge is a chain of L2 round trips, so it has few: a thread takes
    // a float4 column of a head's output and loads 8 splits' O and (m, l) at
    // once, then folds them in with a running maximum (online softmax).
    constexpr int CH = 8;
    const float2 *stat = reinterpret_cast<const float2 *>(wstat);
    for (int e = threadIdx.x; e < G * HD / 4; e += THREADS) {
        const int hd = e / (HD / 4), d = 4 * (e % (HD / 4));
        const float4 *col = reinterpret_cast<const float4 *>(wsi + (size_t)hd * HD + d);
        const size_t stride = (size_t)G * HD / 4; // float4s from one split to the next
        float M = -INFINITY, Ls = 0.f;
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
        for (int s0 = 0; s0 < p.nsplit; s0 += CH) {
            float4 v[CH];
            float2 ml[CH];
#pragma unroll
            for (int i = 0; i < CH; i++) { // past nsplit: the last split again, masked below
                const int sp = min(s0 + i, p.nsplit - 1);
                v[i] = __ldcg(col + sp * stride);
                ml[i] = __ldcg(stat + sp * G + hd);
            }
            float Mc = M;
#pragma unroll
            for (int i = 0; i < CH; i++)
                if (s0 + i < p.nsplit) Mc = fmaxf(Mc, ml[i].x);
            if (Mc == -INFINITY) continue; // every split so far empty
            const float r = M == -INFINITY ? 0.f : exp2f(M - Mc);
            Ls *= r, acc.x *= r, acc.y *= r, acc.z *= r, acc.w *= r;
#pragma unroll
            for (int i = 0; i < CH; i++) {
                const float f = s0 + i < p.nsplit && ml[i].x != -INFINITY ? exp2f(ml[i].x - Mc) : 0.f;
                Ls = fmaf(ml[i].y, f, Ls);
                acc.x = fmaf(v[i].x, f, acc.x), acc.y = fmaf(v[i].y, f, acc.y);
                acc.z = fmaf(v[i].z, f, acc.z), acc.w = fmaf(v[i].w, f, acc.w);
            }
            M = Mc;
            ATTN_TRACE_AT(threadIdx.x == 0 && s0 == 0, 11);
        }
        ATTN_TRACE_AT(threadIdx.x == 0, 12);
        const float sc = Ls > 0.f ? vs / Ls : 0.f; // an empty sequence gives 0
        __nv_bfloat162 *dst = reinterpret_cast<__nv_bfloat162 *>(p.out + ((size_t)b * p.Hq + h * G + hd) * HD + d);
        dst[0] = __floats2bfloat162_rn(acc.x * sc, acc.y * sc);
        dst[1] = __floats2bfloat162_rn(acc.z * sc, acc.w * sc);
    }
    if (threadIdx.x == 0) p.counter[item] = 0;
    ATTN_TRACE_AT(threadIdx.x == 0, 9);
}

// ---- host side ----

struct Plan {
    int nsplit = 1, split_tokens = 0, blocks = 0;
    int nw = 4;       // consumer warps a CTA (Params::nw)
    bool pipe = false; // the consumers' S one stage ahead (Params::pipe)
};

// The split workspace (Params::ws), in floats: for every (sequence, KV head),
// split and query head of the group, its output row (HD) and its (m, l).
inline size_t ws_floats(int B, int Hkv, int nsplit, int G) { return (size_t)B * Hkv * nsplit * G * (HD + 2); }

// Calls f(KernelTag<KV, G16, NW, PIPE, PW>{}) for the kernel that runs
// (kv, G, nw, pipe, pw); pipe and two producers only for FP8 (BF16 has no
// such instances), two producers only with 8 warps and S not ahead.
template <int KV_, bool G16_, int NW_, bool PIPE_, int PW_> struct KernelTag {
    static constexpr int KV = KV_, NW = NW_, PW = PW_;
    static constexpr bool G16 = G16_, PIPE = PIPE_;
    using C = Cfg<KV, NW, PW>;
    static constexpr auto kernel() { return attn_decode_kernel<KV, G16, NW, PIPE, PW>; }
};
template <int KV, bool G16, class F> inline void with_nw(int nw, bool pipe, int pw, F &&f)
{
    constexpr bool FP8 = KV != KV_BF16;
    if (nw == 8) {
        if (FP8 && pipe) f(KernelTag<KV, G16, 8, FP8, 1>{});
        else if (FP8 && pw == 2) f(KernelTag<KV, G16, 8, false, FP8 ? 2 : 1>{});
        else f(KernelTag<KV, G16, 8, false, 1>{});
    } else {
        FP8 && pipe ? f(KernelTag<KV, G16, 4, FP8, 1>{}) : f(KernelTag<KV, G16, 4, false, 1>{});
    }
}
template <class F> inline void with_kernel(int kv, int G, int nw, bool pipe, int pw, F &&f)
{
    const bool g16 = G > 8;
    if (kv == KV_BF16) g16 ? with_nw<KV_BF16, true>(nw, pipe, pw, f) : with_nw<KV_BF16, false>(nw, pipe, pw, f);
    else if (kv == KV_E4M3) g16 ? with_nw<KV_E4M3, true>(nw, pipe, pw, f) : with_nw<KV_E4M3, false>(nw, pipe, pw, f);
    else g16 ? with_nw<KV_E5M2, true>(nw, pipe, pw, f) : with_nw<KV_E5M2, false>(nw, pipe, pw, f);
}

template <class K> inline void set_attr(K)
{
    static bool done = [] {
        cudaFuncSetAttribute(K::kernel(), cudaFuncAttributeMaxDynamicSharedMemorySize, (int)K::C::SMEM);
        return true;
    }();
    (void)done;
}

inline int occupancy(int kv, int G, int nw)
{
    int n = 0;
    with_kernel(kv, G, nw, false, 1, [&](auto k) {
        using K = decltype(k);
        set_attr(k);
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, K::kernel(), K::C::THREADS, K::C::SMEM);
    });
    return std::max(n, 1);
}

inline int stage_tokens(int kv, int nw) { return (kv == KV_BF16 ? 8 : 16) * nw; }

// Consumer warps: 0 lets plan() choose; 4 or 8 forces (tuning: --attn_warps).
// The S pipeline: -1 lets plan() choose; 0 or 1 forces (--attn_pipe).
// Producer warps: 0 lets producers() choose; 1 or 2 forces where the kernel
// has both (FP8, 8 warps, S not ahead; --attn_producers).
inline int force_nw = 0, force_pipe = -1, force_pw = 0;

// The tuning flags --attn_warps=0|4|8, --attn_pipe=-1|0|1 and
// --attn_producers=0|1|2 (decode and decode_step) into force_nw, force_pipe
// and force_pw; false, with a message, for anything else.
inline bool set_forced(const char *warps, const char *pipe, const char *producers)
{
    // a whole small integer, else -99, which every check below refuses (atoi
    // would read "two" as 0, the rule's choice, and run it silently)
    auto value = [](const char *t) {
        char *end = nullptr;
        const long v = strtol(t, &end, 10);
        return *t && !isspace((unsigned char)*t) && !*end && v >= -9 && v <= 9 ? (int)v : -99;
    };
    force_nw = value(warps), force_pipe = value(pipe), force_pw = value(producers);
    if (force_pw < 0 || force_pw > 2) {
        fprintf(stderr, "--attn_producers=%s: 1 or 2 (0: the rule's)\n", producers);
        return false;
    }
    if (force_nw != 0 && force_nw != 4 && force_nw != 8) {
        fprintf(stderr, "--attn_warps=%s: 0, 4 or 8\n", warps);
        return false;
    }
    if (force_pipe < -1 || force_pipe > 1) {
        fprintf(stderr, "--attn_pipe=%s: 0 or 1 (-1: the planner's)\n", pipe);
        return false;
    }
    return true;
}

// Split the context so that B x Hkv x splits fills the resident CTAs without
// starting a second, nearly empty wave, keeping at least 2 stages a split,
// and, launched alone, at most 16 splits where a split stays short (below).
// in_step: the decode step, where the kernels around the attention change
// the balance: there the splits fill every resident slot (H200, decode_step
// --attn_splits at batch 1: 32 splits against the 16 of the rule below, 8B
// at 32K 1.06-1.08x, 4K 1.01-1.025x, 70B 1.00-1.03x; 48 and 64 slower
// than 32). force_nsplit > 0 overrides (the checks use it). Either way at
// most MAX_SPLITS.
constexpr int MAX_SPLITS = 256;
inline Plan plan_nw(int kv, int B, int Hkv, int L, int force_nsplit, int G, bool in_step, int nw)
{
    Plan pl;
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    const int items = B * Hkv;
    const int slots = occupancy(kv, G, nw) * sms;
    const int T = stage_tokens(kv, nw);
    int ns = force_nsplit;
    if (ns <= 0) {
        ns = std::max(1, std::min(slots / std::max(items, 1), L / (2 * T)));
        // Past 16 splits (batch 1) the merge costs more than the extra CTAs
        // bring, unless a split would hold more than 2048 FP8 (BF16) tokens,
        // where its consumers become the limit (H200, forced splits 8-64 at
        // 1K-128K: 16 best at 4K and 16K, even at 32K, 33 best for FP8 at 128K)
        const int per = 2048;
        if (!in_step) ns = std::min(ns, std::max(16, (L + per - 1) / per));
    }
    ns = std::min(ns, MAX_SPLITS);
    int st = (L + ns - 1) / ns;
    st = (st + T - 1) / T * T;
    pl.split_tokens = st;
    pl.nsplit = (L + st - 1) / st;
    pl.blocks = items * pl.nsplit;
    pl.nw = nw;
    // With 8 warps, FP8 splits of at least 64 stages issue S a stage ahead
    // (H200, forced against not, same call: 8B heads, 32K, batch 16 1.07x,
    // batch 4 1.03x; but batch 1 (16 stages a split) 0.975x, 4K 0.93-1.00x,
    // BF16 0.96-0.98x; with 4 warps at batch 64 1.00x alone and 0.976x in
    // the 70B step at 32K)
    pl.pipe = force_pipe >= 0 ? force_pipe == 1 && kv != KV_BF16 : kv != KV_BF16 && nw == 8 && st / T >= 64;
    return pl;
}

// Eight consumer warps (one CTA an SM, a stage twice as long) where the grid
// is one wave of them and covers at least a quarter of the SMs; otherwise
// four (two CTAs an SM). (Until 8 warps were timed under PDL, a split also
// had to hold 8 of their stages; that kept batch 1 at 1K-4K and batch 4 at
// 1K on 4 warps.)
// The header gives the measurements behind the rule.
inline Plan plan(int kv, int B, int Hkv, int L, int force_nsplit = 0, int G = 8, bool in_step = false)
{
    if (force_nw) return plan_nw(kv, B, Hkv, L, force_nsplit, G, in_step, force_nw);
    int dev = 0, sms = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    const Plan p8 = plan_nw(kv, B, Hkv, L, force_nsplit, G, in_step, 8);
    if (p8.blocks <= sms && 4 * p8.blocks >= sms) return p8;
    return plan_nw(kv, B, Hkv, L, force_nsplit, G, in_step, 4);
}

// The page pool as rows of 128 elements, boxes of min(stage tokens, page)
// rows by 128 bytes.
inline CUtensorMap pool_map(int kv, const void *base, const Params &p)
{
    const int P = 1 << p.page_shift;
    const uint64_t rows = (uint64_t)p.num_pages * p.Hkv * P;
    const int rb = std::min(stage_tokens(kv, p.nw), P);
    if (kv == KV_BF16) return hopper::tensor_map(base, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, rows, HD, HD, rb, 64);
    return hopper::tensor_map(base, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, rows, HD, HD, rb, 128);
}

// Producer warps for a launch: pw if set, else force_pw, else the rule:
// two (where the kernel has both: FP8, 8 warps, S not ahead) in 16-token
// pages with splits of at least 32 stages. There a stage of 8 warps is
// eight 2 KiB boxes of K and eight of V, one a page, that one warp's lanes
// issue one after another (NOTES.md v24, H200, against one producer: batch
// 16 at 4K in 16-token pages 1.034-1.045x; but batch 4 at 4K there, splits
// of 8 stages, 0.90-0.92x, and contiguous caches and 64-token pages
// 0.98-1.01x at batch 1-16). From 64 stages a split plan() puts S ahead,
// which has one producer, so the rule covers splits of 32-63 stages.
inline int producers(int kv, const Params &p, int pw = 0)
{
    const bool both = kv != KV_BF16 && p.nw == 8 && !p.pipe;
    if (!both) return 1;
    if (pw) return pw;
    if (force_pw) return force_pw;
    return p.page_shift == 4 && p.split_tokens / stage_tokens(kv, p.nw) >= 32 ? 2 : 1;
}

// pdl: programmatic dependent launch, for a kernel after the one that
// appends each sequence's last token and writes q (see the kernel); pw:
// producer warps (1 or 2; 0: producers()'s rule; the checks run both).
// p.split_tokens must be a multiple of stage_tokens(kv, p.nw) (plan()).
inline void launch(int kv, const Params &p, cudaStream_t st, bool pdl = false, int pw = 0)
{
    // the producer's lanes hold a stage's boxes (one a page or part of one)
    const int T = stage_tokens(kv, p.nw), P = 1 << p.page_shift;
    if ((p.nw != 4 && p.nw != 8) || p.split_tokens <= 0 || p.split_tokens % T || T / std::min(T, P) > 32) {
        fprintf(stderr, "attn::launch: %d warps, split of %d tokens, pages of %d: needs 4 or 8 warps, splits of whole "
                        "%d-token stages and at most 32 boxes a stage (plan() gives that; contiguous caches of >= %d tokens)\n",
                p.nw, p.split_tokens, P, T, T / 32);
        std::abort();
    }
    const CUtensorMap tk = pool_map(kv, p.k, p), tv = pool_map(kv, p.v, p);
    with_kernel(kv, p.Hq / p.Hkv, p.nw, p.pipe, producers(kv, p, pw), [&](auto k) {
        using K = decltype(k);
        using C = typename K::C;
        set_attr(k);
        dec::launch_pdl(pdl, K::kernel(), dim3(p.B * p.Hkv * p.nsplit), dim3(C::THREADS), C::SMEM, st, tk, tv, p);
    });
}

} // namespace attn
