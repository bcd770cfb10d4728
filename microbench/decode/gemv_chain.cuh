// gemv_chain: J dependent GEMVs of one square shape in one persistent launch,
//
//   X_{j+1} = BF16(X_j W_j^T),  j = 0 .. J-1   (W8A8: E4M3 with a static scale),
//
//   W_j  N x N row-major: BF16, FP8 E4M3 with per-output-channel scales and
//        BF16 X (W8A16), or the same with E4M3 X (W8A8, E4M3_A8) whose
//        scale a GEMV is fixed ahead (ChainParams::x_scale); the J matrices
//        one after another: [J N][N];
//   X_j  M x N (M <= 8 tokens) in a stack [J + 1][8][N]: X_0 the input, X_j
//        (j >= 1) GEMV j-1's output; rows M..7 of a block are never read
//        (TMA's out-of-bounds fill gives the MMA's padding) nor written.
//
// What it is for: a layer of the decode step is a chain of dependent
// kernels, and NOTES.md v16 read a chain of GEMV launches as losing ~2.9 us
// a launch to the launch boundary (8B o, W8A8: 6.9 us a launch for 4.0 us
// of bytes). This kernel has no boundary: one CTA an SM stays for all J
// GEMVs, its producer warp streams W_{j+1} into the ring as GEMV j's stages
// free their slots, and only X_{j+1} waits, on a counter that every CTA
// bumps once its share of X_{j+1} is stored (instead of a grid's
// completion). The consumer warps' math is gemv_kernel's (gemv.cuh's Warp,
// the same k groups and order): the outputs are bit-identical to J launches
// of gemv_kernel with the same k groups and rows split evenly, which
// `decode --check` compares (W8A8: each launch's BF16 output quantized).
//
// Layout as gemv_kernel's with the rows split evenly over the grid
// (even_rows()): a CTA owns rows [lo, hi) of every W_j, loads R = 128 / KG
// rows from lo (the smallest tile that holds the share), writes its share
// of X_{j+1}. The epilogue's sums have shared memory of their own, since
// the ring holds the next GEMV's weights meanwhile.
//
// Measured (H200, NOTES.md v17; us a GEMV, fraction of the copy rate;
// against J launches of gemv_kernel with the planner's plan, in one call;
// one CTA an SM, 2 stages before the wait):
//   8B o (4096 x 4096), M = 1: W8A8 6.01 (0.67) against 6.73 (0.60), 1.12x;
//   W8A16 7.14 against 7.40, 1.04x; BF16 10.11 against 10.42, 1.03x.
//   70B o (8192): 0.93-0.95x; 405B o (16384): 0.95-0.99x (one CTA of eight
//   consumer warps an SM, where the planner runs two CTAs of 32 rows);
//   with two CTAs an SM (chain_plan's per_sm) 0.95-1.03x at 70B and
//   405B, 0.73-0.96x at 8B o (16 rows a CTA, loaded as 32).
//   Without the dependency (every GEMV reading X_0, nothing waiting):
//   8B o W8A8 5.02 us (0.81), BF16 8.49 (0.95).
// So the boundary costs ~0.7 us a GEMV at 8B o, not 2.9: the rest is the
// dependency itself. After X_j is ready a CTA needs ~0.5 us to have its X
// in, then its share of W_j (what the ring did not hold) at the memory's
// rate, then ~0.25 us of epilogue and ~0.8 us until every CTA sees the
// count. The count's load comes back to the SM behind the weights already
// requested, so a full ring delays it (ChainParams::pre); bringing W_{j+1}
// into L2 instead (cp.async.bulk.prefetch.L2) made every case 1.2-1.5x
// slower.
#pragma once

#include "gemv.cuh"

#include <type_traits>

namespace gemv {

struct ChainParams {
    const void *w;      // [J N][N]
    const float *scale; // [J N] (E4M3_CHANNEL, E4M3_A8), else unused
    void *x;            // [J + 1][8][N]: BF16, or E4M3 codes (E4M3_A8)
    int M, N, J;
    // [J] counters, zero before the first launch; each launch leaves them
    // zero again (its last CTA to finish resets them)
    int *done;
    // the ceiling without the dependency (bm_chain's fp8kit-indep): every
    // GEMV reads X_0 and none waits; the outputs as before
    int indep = 0;
    // At most this many of W_j's stages issued before X_j's wait (<= 0: as
    // many as the ring holds). The wait's load comes back to the SM behind
    // the weights in flight: with the ring full (8B o, 9-11 stages) X_j's
    // ready was seen 2.3-4.9 us after the last CTA's store, with 2 stages
    // 0.8 us; 2 is the fastest of 0, 1, 2, 4, 6 at N = 4096, and within
    // 3.5% of a full ring at 8192 and 16384 (NOTES.md v17).
    int pre = 2;
    // E4M3_A8: X_j's scale ([J + 1]), one for all its tokens: a static
    // activation scale, as FP8 serving calibrates them, so that GEMV j can
    // quantize its share of X_{j+1} alone (a per-token scale would need the
    // amax of the whole row: another wait). X_{j+1} = E4M3(BF16(X_j W_j^T) / x_scale[j + 1]).
    const float *x_scale = nullptr;
};

#ifdef GEMV_TRACE
// Diagnostic (-DGEMV_TRACE, `decode_trace --gemv_chain_trace`): %globaltimer
// (ns) of every CTA at CHAIN_POINTS points of GEMVs 0..CHAIN_TRACE_JOBS-1:
// 0 the producer saw X_j ready, 1 the first stage in (warp 0), 2 main loop
// done (warp 0), 3 X_{j+1}'s share stored (thread 0, before the counter).
constexpr int CHAIN_TRACE_JOBS = 8, CHAIN_POINTS = 4, CHAIN_CTAS = 512;
__device__ unsigned long long chain_trace_ns[CHAIN_TRACE_JOBS * CHAIN_CTAS * CHAIN_POINTS];
__device__ __forceinline__ void chain_trace(int j, int e)
{
    if (j < CHAIN_TRACE_JOBS && blockIdx.x < CHAIN_CTAS)
        chain_trace_ns[((size_t)j * CHAIN_CTAS + blockIdx.x) * CHAIN_POINTS + e] = hopper::global_ns();
}
#define CHAIN_TRACE_AT(cond, j, e) \
    if (cond) chain_trace(j, e)
#else
#define CHAIN_TRACE_AT(cond, j, e)
#endif

__device__ __forceinline__ int ld_acquire(const int *p)
{
    int v;
    asm volatile("ld.acquire.gpu.global.b32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}
// Orders this thread's ordinary global accesses before later ones of the
// async proxy (TMA loads of what another CTA stored)
__device__ __forceinline__ void fence_proxy_async_global() { asm volatile("fence.proxy.async.global;" ::: "memory"); }

// 3-D tile load, global -> shared, completing on `bar` (c0 innermost)
__device__ __forceinline__ void tma_load_3d(void *dst, const CUtensorMap *m, uint64_t *bar, int c0, int c1, int c2)
{
    asm volatile("cp.async.bulk.tensor.3d.shared::cluster.global.mbarrier::complete_tx::bytes"
                 " [%0], [%1, {%3, %4, %5}], [%2];" ::"r"(hopper::smem_u32(dst)),
                 "l"(m), "r"(hopper::smem_u32(bar)), "r"(c0), "r"(c1), "r"(c2)
                 : "memory");
}

template <int WT, int KG> struct ChainCfg {
    using C = Cfg<WT, 1, KG, 1>;
    static constexpr size_t RED = C::RED; // the epilogue's sums, beside the ring
    static size_t smem(int stages) { return 1024 + (size_t)stages * C::STAGE + RED + 2 * (size_t)stages * sizeof(uint64_t); }
};

template <int WT, int KG>
__global__ void __launch_bounds__(Cfg<WT, 1, KG, 1>::THREADS, 1)
    gemv_chain_kernel(const __grid_constant__ CUtensorMap tw, const __grid_constant__ CUtensorMap tx, const ChainParams p,
                      const int STAGES)
{
    static_assert(WT == BF16 || WT == E4M3_CHANNEL || WT == E4M3_A8, "BF16, W8A16 or W8A8 (static X scales)");
    using C = Cfg<WT, 1, KG, 1>;
    using W = Warp<WT, 1, KG, 1>;
    extern __shared__ unsigned char smem_raw[];
    unsigned char *smem = (unsigned char *)(((uintptr_t)smem_raw + 1023) & ~(uintptr_t)1023);
    float *red = reinterpret_cast<float *>(smem + (size_t)STAGES * C::STAGE);
    uint64_t *full = reinterpret_cast<uint64_t *>(smem + (size_t)STAGES * C::STAGE + ChainCfg<WT, KG>::RED);
    uint64_t *empty = full + STAGES;

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int nsteps = p.N / C::STEPK;
    const EvenRows rows = even_rows(blockIdx.x, p.N, gridDim.x);

    hopper::init_ring(full, empty, STAGES, CWARPS);
    __syncthreads();

    if (warp == CWARPS) {
        // producer: one lane issues every copy; n counts the stages issued over
        // all GEMVs, so the ring's slots and phases run on across them
        if (lane != 0) return;
        hopper::prefetch_tmap(&tw);
        hopper::prefetch_tmap(&tx);
        uint32_t n = 0;
        auto slot = [&](uint32_t i) { return (int)(i % STAGES); };
        auto claim = [&](uint32_t i) { // wait for slot i's previous stage to be consumed
            if (i >= (uint32_t)STAGES) hopper::mbar_wait(&empty[slot(i)], ((i / STAGES) & 1) ^ 1);
            hopper::mbar_expect_tx(&full[slot(i)], C::STAGE);
        };
        for (int j = 0; j < p.J; j++) {
            auto load_w = [&](int s, uint32_t i) {
                unsigned char *stage = smem + (size_t)slot(i) * C::STAGE;
#pragma unroll
                for (int q = 0; q < KG; q++)
                    hopper::tma_load(stage + q * C::WBOX, &tw, &full[slot(i)], s * C::STEPK + C::BK * q, j * p.N + rows.lo);
            };
            auto load_x = [&](int s, uint32_t i) {
                unsigned char *stage = smem + (size_t)slot(i) * C::STAGE;
#pragma unroll
                for (int b = 0; b < KG * C::XBOXES; b++)
                    tma_load_3d(stage + C::WTILE + b * C::XBOX, &tx, &full[slot(i)], s * C::STEPK + C::XK * b, 0, p.indep ? 0 : j);
            };
            // W_j does not depend on X_j: issue up to `pre` stages of it
            // before the wait (their slots free as GEMV j-1's last stages
            // are consumed)
            const int pre = min(p.pre > 0 ? p.pre : STAGES, min(STAGES, nsteps));
            for (int s = 0; s < pre; s++) claim(n + s), load_w(s, n + s);
            if (j == 0 || p.indep) {
                dec::pdl_wait(); // X_0: the kernel before
            } else {             // X_j: every CTA's share of GEMV j-1's output stored
                while (ld_acquire(p.done + j - 1) < (int)gridDim.x) __nanosleep(32);
                fence_proxy_async_global();
            }
            CHAIN_TRACE_AT(true, j, 0);
            for (int s = 0; s < pre; s++) load_x(s, n + s);
            for (int s = pre; s < nsteps; s++) claim(n + s), load_w(s, n + s), load_x(s, n + s);
            n += nsteps;
        }
        return;
    }

    // consumers: gemv_kernel's main loop, once a GEMV
    const W w(warp, lane);
    constexpr int CT = CWARPS * 32; // consumer threads (named barrier 1)
    constexpr int EO = C::RG * 128; // a k group's sums
    constexpr int EPT = (EO + CT - 1) / CT; // epilogue entries a thread
    uint32_t n = 0;
    for (int j = 0; j < p.J; j++) {
        float acc[1][4] = {{0.f, 0.f, 0.f, 0.f}}, part[W::NA][1][4];
        W::zero(part);
        // this thread's epilogue rows' channel scales, loaded now so that
        // the epilogue does not wait on memory
        float scl[EPT];
#pragma unroll
        for (int q = 0; q < EPT; q++) {
            int tok, r;
            red_entry<1>((int)threadIdx.x + q * CT, tok, r);
            scl[q] = WT != BF16 && rows.lo + r < rows.hi ? __ldg(p.scale + (size_t)j * p.N + rows.lo + r) : 1.f;
            if (WT == E4M3_A8) scl[q] *= __ldg(p.x_scale + j);
        }
        const float inv_next = WT == E4M3_A8 ? 1.f / __ldg(p.x_scale + j + 1) : 1.f;
        for (int s = 0; s < nsteps; s++, n++) {
            hopper::mbar_wait(&full[n % STAGES], (n / STAGES) & 1);
            CHAIN_TRACE_AT(s == 0 && threadIdx.x == 0, j, 1);
            w.stage(hopper::smem_u32(smem + (size_t)(n % STAGES) * C::STAGE), nullptr, part, acc);
            __syncwarp();
            if (lane == 0) hopper::mbar_arrive(&empty[n % STAGES]);
        }
        W::fold(part, acc, 1.f);
        CHAIN_TRACE_AT(threadIdx.x == 0, j, 2);
        // the k groups' sums added in order (gemv_kernel's epilogue), this
        // CTA's rows of X_{j+1} stored
#pragma unroll
        for (int i = 0; i < 4; i++) red[(warp * 4 + i) * 32 + lane] = acc[0][i];
        hopper::named_bar_sync(1, CT);
        const size_t y0 = (size_t)(j + 1) * 8 * p.N; // X_{j+1}'s block
#pragma unroll
        for (int q = 0; q < EPT; q++) {
            const int e = (int)threadIdx.x + q * CT;
            int tok, r;
            red_entry<1>(e, tok, r);
            const int row = rows.lo + r;
            if (e >= EO || tok >= p.M || row >= rows.hi) continue;
            float v = red[e];
#pragma unroll
            for (int g = 1; g < KG; g++) v += red[g * EO + e];
            const __nv_bfloat16 b = __float2bfloat16_rn(v * scl[q]);
            if (WT == E4M3_A8) ((uint8_t *)p.x)[y0 + (size_t)tok * p.N + row] = fp8_e4m3_from_f32(__bfloat162float(b) * inv_next);
            else ((__nv_bfloat16 *)p.x)[y0 + (size_t)tok * p.N + row] = b;
        }
        fence_proxy_async_global(); // the stores, before other CTAs' TMA reads them
        hopper::named_bar_sync(1, CT); // (also: red is free for the next GEMV)
        if (threadIdx.x == 0) {
            CHAIN_TRACE_AT(true, j, 3);
            __threadfence();
            if (j < p.J - 1) {
                // no return value (a RED): thread 0 need not wait for the
                // count's round trip
                atomicAdd(p.done + j, 1);
            } else if (atomicAdd(p.done + j, 1) == (int)gridDim.x - 1) {
                // the last CTA of the last GEMV: every CTA is past every wait
                for (int i = 0; i < p.J; i++) p.done[i] = 0;
            }
        }
    }
}

// ---- host side ----

struct ChainPlan {
    int N = 0; // the shape it was made for
    int kg = 0, blocks = 0, stages = 0;
    size_t smem = 0;
    bool pdl = true;
};

// f(integral_constant WT, integral_constant KG) for the kernels built
template <class F> inline void chain_dispatch(int wt, int kg, F f)
{
    using std::integral_constant;
    auto k = [&](auto w) {
        if (kg == 4) f(w, integral_constant<int, 4>{});
        else if (kg == 2) f(w, integral_constant<int, 2>{});
        else f(w, integral_constant<int, 1>{});
    };
    if (wt == BF16) k(integral_constant<int, BF16>{});
    else if (wt == E4M3_CHANNEL) k(integral_constant<int, E4M3_CHANNEL>{});
    else k(integral_constant<int, E4M3_A8>{});
}

// per_sm CTAs an SM (1 or 2; all resident: the CTAs wait on each other),
// the smallest tile that holds a CTA's rows (the most k groups), the
// deepest ring the CTA's share of the SM holds. kg 0 where the shape does
// not fit (BF16, W8A16 or W8A8, M <= 8, N a multiple of a stage's k, at
// most 128 rows a CTA, per_sm CTAs resident on every SM). It also lets the
// kernel it picks have all of an SM's shared memory.
inline ChainPlan chain_plan(int wt, int M, int N, int J, bool pdl = pdl_default, int per_sm = 1)
{
    ChainPlan pl;
    int dev = 0, sms = 0, smem_sm = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
    cudaDeviceGetAttribute(&smem_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev);
    pl.pdl = pdl, pl.N = N;
    if ((wt != BF16 && wt != E4M3_CHANNEL && wt != E4M3_A8) || M < 1 || M > 8 || J < 1 || per_sm < 1 || per_sm > 2) return pl;
    for (int kg : {1, 2, 4})
        if (supported(wt, M, N, N, 1, kg) && even_fits(N, kg, per_sm * sms)) pl.kg = kg;
    if (!pl.kg) return pl;
    pl.blocks = per_sm * sms;
    chain_dispatch(wt, pl.kg, [&](auto w, auto k) {
        constexpr int WT = decltype(w)::value, KG = decltype(k)::value;
        using CC = ChainCfg<WT, KG>;
        int st = MAX_STAGES; // the deepest ring that fits the CTA's share (less the 1 KiB the driver keeps a CTA)
        while (st > MIN_STAGES && CC::smem(st) > (size_t)smem_sm / per_sm - 1024) st--;
        pl.stages = st;
        pl.smem = CC::smem(st);
        int resident = 0, optin = 0;
        cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
        cudaFuncSetAttribute(gemv_chain_kernel<WT, KG>, cudaFuncAttributeMaxDynamicSharedMemorySize, optin);
        cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, gemv_chain_kernel<WT, KG>, Cfg<WT, 1, KG, 1>::THREADS, pl.smem);
        if (resident < per_sm) pl.kg = 0; // (registers or shared memory)
    });
    return pl;
}

// X's stack as [J + 1] blocks of M rows (8 apart) x N, in boxes of 8 rows x
// 128 bytes of one block: rows M..7 come from TMA's out-of-bounds fill, not from
// memory (at M = 1, 8x less traffic than reading the padding)
inline CUtensorMap x_stack_map(int wt, const ChainParams &p)
{
    CUtensorMap m;
    const int xb = is_a8(wt) ? 1 : 2; // bytes an element; a box row is 128 bytes
    const cuuint64_t dims[3] = {(cuuint64_t)p.N, (cuuint64_t)p.M, (cuuint64_t)p.J + 1};
    const cuuint64_t strides[2] = {(cuuint64_t)p.N * xb, (cuuint64_t)p.N * xb * 8};
    const cuuint32_t box[3] = {(cuuint32_t)(128 / xb), 8, 1}, estr[3] = {1, 1, 1};
    const CUresult r = hopper::encode_fn()(&m, xb == 1 ? CU_TENSOR_MAP_DATA_TYPE_UINT8 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, p.x, dims,
                                           strides, box, estr,
                                           CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                           CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "gemv::x_stack_map: cuTensorMapEncodeTiled failed (%d): M %d N %d J %d\n", (int)r, p.M, p.N, p.J);
        std::abort();
    }
    return m;
}

// A plan with kg 0 (chain_plan() found none), or made for another N, stops
// the program here.
inline void chain_launch(int wt, const ChainParams &p, const ChainPlan &pl, cudaStream_t st)
{
    if (!pl.kg || pl.N != p.N || p.M < 1 || p.M > 8 || !p.done || (wt == E4M3_A8 && !p.x_scale)) {
        fprintf(stderr, "gemv::chain_launch: no plan for wt %d M=%d N=%d (the plan's N %d; BF16, W8A16 or W8A8 with x_scale, M <= 8, N rows evenly over the SMs)\n",
                wt, p.M, p.N, pl.N);
        std::abort();
    }
    chain_dispatch(wt, pl.kg, [&](auto w, auto k) {
        constexpr int WT = decltype(w)::value, KG = decltype(k)::value, R = BN / KG;
        const uint64_t wrows = (uint64_t)p.J * p.N;
        const CUtensorMap tw = WT == BF16 ? hopper::tensor_map(p.w, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, wrows, p.N, p.N, R, ROWB / 2)
                                          : hopper::tensor_map(p.w, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, wrows, p.N, p.N, R, ROWB);
        const CUtensorMap tx = x_stack_map(WT, p);
        dec::launch_pdl(pl.pdl, gemv_chain_kernel<WT, KG>, dim3(pl.blocks), dim3(Cfg<WT, 1, KG, 1>::THREADS), pl.smem, st,
                        tw, tx, p, pl.stages);
    });
}

} // namespace gemv
