// gemm_wgmma: C = scale(A * B^T), our Hopper (sm_90a) GEMM: one kernel
// template for
//   FP8 E4M3 x E4M3 -> FP32 -> BF16 with per-tensor scales (C = sa*sb*acc) or
//       rowwise scales (C[m][n] = sa[m]*sb[n]*acc[m][n]) in the epilogue; the
//       accumulators stay in the wgmma registers for the whole K loop, with
//       the tensor cores' own FP8 accumulation (what cuBLASLt calls fast
//       accumulation);
//   FP8 with DeepSeek-V3 block scales (Epi::Block): 1 x 128 activation and
//       128 x 128 weight scales; each 128-wide K block is accumulated in fresh
//       registers and promoted into FP32: out += acc * sa[m][kb] * sb[nb][kb];
//   BF16 x BF16 -> FP32 -> BF16.
// A is M x K row-major (activations), B is N x K row-major (a PyTorch Linear
// weight), C is M x N row-major; both operands K-major in shared memory.
//
// Tiling and pipeline: CTA tile 128 x BN (BN = 256, or 128: smaller problems,
// block scales) x 128 bytes of K (128 FP8 / 64 BF16); 384 threads. Warpgroup
// 0 produces (setmaxnreg 40): one thread issues TMA loads (128-byte swizzle)
// into a ring of STAGES (BN 256: 4, BN 128: 6) on full/empty mbarriers.
// Warpgroups 1 and 2 consume (setmaxnreg 232), 64 rows each: per stage four
// wgmma m64nBNk32 (FP8) or m64nBNk16 (BF16), one commit group, one group kept
// in flight (wait_group 1) before the previous stage is released; the block
// path waits for each K block (wait_group 0) and promotes it. Optional
// clusters of 2 CTAs on adjacent M tiles that share the B tile by TMA
// multicast (measured no faster; the dispatcher uses 1). Persistent: one CTA
// per SM, tiles in bands of 8 M tiles; the producer runs into the next tile
// during the epilogue, which scales, converts to BF16, writes 64 x 64
// swizzled buffers in shared memory (two per warpgroup, alternating) and
// stores them by TMA. TMA zero-fills the M/N/K tails on load and clips M/N on
// store. SASS (cuobjdump): QGMMA.64x256x32 / HGMMA.64x256x16, UTMALDG,
// UTMASTG, USETMAXREG, no local memory; 168 registers at entry.
//
// Constraints (gemm_wgmma_check): K a multiple of 16 bytes (FP8: 16, BF16:
// 8 elements; TMA's row pitch), N a multiple of 8 (C's row pitch), 16-byte
// aligned pointers; any M >= 1.
//
// Measured on one H100 80GB HBM3 (700 W; SM clock under load 1444 MHz mean),
// same run as cuBLASLt 13.0 (heuristic's first algorithm), 8192^3:
//   FP8 per-tensor 1253 TFLOP/s (cuBLASLt fast accumulation 1268: 0.99x;
//     the e4m3 ceiling, same run, 1268 and 1281);
//   FP8 rowwise 1276 (cuBLASLt 1287); BF16 673 (cuBLASLt 686: 0.98x);
//   FP8 block scales 817 (cuBLASLt 1088: 0.75x).
// Over the 40 Llama-3.1-8B/70B prefill shapes (M = 1024..16384): geometric
// mean FP8 1.006x cuBLASLt, BF16 0.999x, our FP8 over our BF16 1.89x.
// On one H200 (results/h200/gemm.json, commit 337099e, power-throttled):
// 24 Llama-3.1-8B/70B prefill shapes FP8 1.003x cuBLASLt, BF16 0.999x, our
// FP8 over BF16 1.90x; 8192^3 FP8 0.983-1.013x over three runs (ncu: tensor
// pipe 91.8% busy), BF16 1.009-1.029x; block scales 0.77x.
// See microbench/gemm/NOTES.md for the runs and where the time goes.
#pragma once

#include "hopper.cuh"
#include "wgmma.cuh"

#include <algorithm>
#include <string>

namespace fp8kit {

// None: BF16, no scales. Tensor: C = sa[0] * sb[0] * acc. Rowwise: C[m][n] =
// sa[m] * sb[n] * acc[m][n]. Block (FP8, BN = 128): sa is [ceil(K/128)][M]
// (1 x 128 activation blocks, M contiguous), sb is [ceil(N/128)][ld_sb]
// (128 x 128 weight blocks, ld_sb >= ceil(K/128)): cuBLASLt's VEC128_32F and
// BLK128x128_32F layouts, as PyTorch passes them.
enum class Epi { None, Tensor, Rowwise, Block };

struct GemmArgs {
    int M, N, K;
    const float *scale_a;
    const float *scale_b;
    int ld_sb;
    hopper::TileOrder order;
};

template <typename T, int BN_, int STAGES_, int CLUSTER_> struct WgmmaCfg {
    static constexpr int BM = 128, BN = BN_, STAGES = STAGES_, CLUSTER = CLUSTER_;
    static constexpr int BK = 128 / (int)sizeof(T); // one 128-byte swizzle row of K
    static constexpr int A_TILE = BM * 128, B_TILE = BN * 128, STAGE = A_TILE + B_TILE;
    static constexpr int EPI = 2 * 2 * 8192; // 2 consumers x 2 buffers x 64 x 64 bf16
    static constexpr int SMEM = 1024 + STAGES * STAGE + EPI + 2 * STAGES * 8;
    static constexpr int THREADS = 384;
    static_assert(SMEM <= 232448, "shared memory");
    static_assert(BN % (64 * CLUSTER) == 0, "B tile split across the cluster");
    static_assert(hopper::Mma<T, BN>::K * sizeof(T) == 32, "a k-step is 32 bytes: 2 in the descriptor");
};

template <typename T, int BN, int STAGES, int CLUSTER, Epi EPI>
__global__ void __launch_bounds__(384, 1)
    gemm_wgmma_kernel(const __grid_constant__ CUtensorMap tmA, const __grid_constant__ CUtensorMap tmB,
                      const __grid_constant__ CUtensorMap tmC, const GemmArgs args)
{
    using namespace hopper;
    using Cfg = WgmmaCfg<T, BN, STAGES, CLUSTER>;
    using MMA = Mma<T, BN>;
    constexpr bool BLOCK = EPI == Epi::Block;
    static_assert(!BLOCK || (BN == 128 && sizeof(T) == 1), "block scaling: FP8, BN = 128");
    extern __shared__ uint8_t smem_raw[];
    uint8_t *smem = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(smem_raw) + 1023) & ~uintptr_t(1023));
    uint8_t *sA = smem;
    uint8_t *sB = sA + STAGES * Cfg::A_TILE;
    uint8_t *sC = sB + STAGES * Cfg::B_TILE;
    uint64_t *full = reinterpret_cast<uint64_t *>(sC + Cfg::EPI);
    uint64_t *empty = full + STAGES;

    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;
    const uint32_t rank = CLUSTER > 1 ? cluster_ctarank() : 0;
    if (threadIdx.x == 0) {
        prefetch_tmap(&tmA);
        prefetch_tmap(&tmB);
        prefetch_tmap(&tmC);
    }
    init_ring(full, empty, STAGES, 2 * CLUSTER);
    if (CLUSTER > 1) cluster_sync();
    else __syncthreads();

    const int ktiles = (args.K + Cfg::BK - 1) / Cfg::BK;
    const int cid = blockIdx.x / CLUSTER, nclusters = gridDim.x / CLUSTER;
    const int units = args.order.tiles_m * args.order.tiles_n; // tiles_m counts CLUSTER-row units

    if (wg == 0) {
        setmaxnreg_dec<40>();
        if (tid == 0) {
            int stage = 0;
            uint32_t phase = 0;
            for (int u = cid; u < units; u += nclusters) {
                int um, tn;
                args.order.tile(u, um, tn);
                const int m0 = (um * CLUSTER + (int)rank) * Cfg::BM, n0 = tn * BN;
                for (int kt = 0; kt < ktiles; kt++) {
                    mbar_wait(&empty[stage], phase ^ 1);
                    mbar_expect_tx(&full[stage], Cfg::STAGE);
                    tma_load(sA + stage * Cfg::A_TILE, &tmA, &full[stage], kt * Cfg::BK, m0);
                    if (CLUSTER == 1) {
                        tma_load(sB + stage * Cfg::B_TILE, &tmB, &full[stage], kt * Cfg::BK, n0);
                    } else {
                        constexpr int part = BN / CLUSTER;
                        tma_load_multicast(sB + stage * Cfg::B_TILE + rank * part * 128, &tmB, &full[stage],
                                           kt * Cfg::BK, n0 + rank * part, (uint16_t)((1 << CLUSTER) - 1));
                    }
                    if (++stage == STAGES) stage = 0, phase ^= 1;
                }
            }
        }
    } else {
        setmaxnreg_inc<232>();
        const int cw = wg - 1; // rows 64*cw .. 64*cw+63 of the tile
        float acc[BN / 2];
#pragma unroll
        for (int i = 0; i < BN / 2; i++) acc[i] = 0.f;
        float s_tensor = 1.f;
        if (EPI == Epi::Tensor) s_tensor = args.scale_a[0] * args.scale_b[0];
        const int lane = tid % 32, rloc = (tid / 32) * 16 + lane / 4;

        int stage = 0;
        uint32_t phase = 0;
        auto release = [&](int s) {
            if (tid == 0) {
                if constexpr (CLUSTER == 1) mbar_arrive(&empty[s]);
                else
                    for (int c = 0; c < CLUSTER; c++) mbar_arrive_cluster(&empty[s], c);
            }
        };
        // Issues the wgmmas of the stage `st` into d: A rows of this
        // warpgroup, B rows from `b_row`, N = the width of d's MMA.
        auto issue = [&](auto mma, auto &d, int st, int b_row, bool accumulate) {
            using M = decltype(mma);
            const uint64_t da = desc_k128b(sA + st * Cfg::A_TILE + cw * 64 * 128);
            const uint64_t db = desc_k128b(sB + st * Cfg::B_TILE + b_row * 128);
            fence_operands(d);
            wgmma_fence();
#pragma unroll
            for (int k = 0; k < Cfg::BK / M::K; k++) M::run(d, da + 2 * k, db + 2 * k, accumulate || k > 0);
            wgmma_commit();
            fence_operands(d);
        };
        // Waits for the next stage; returns it.
        auto next_stage = [&]() {
            mbar_wait(&full[stage], phase);
            const int s = stage;
            if (++stage == STAGES) stage = 0, phase ^= 1;
            return s;
        };
        for (int u = cid; u < units; u += nclusters) {
            int um, tn;
            args.order.tile(u, um, tn);
            const int m0 = (um * CLUSTER + (int)rank) * Cfg::BM + cw * 64, n0 = tn * BN;
            if constexpr (BLOCK) {
                // DeepSeek-V3 promotion: each 128-wide K block into fresh
                // registers, then out += acc * sa[m][kb] * sb[n/128][kb] in FP32.
                float out[BN / 2];
#pragma unroll
                for (int i = 0; i < BN / 2; i++) out[i] = 0.f;
                const int nb = n0 / 128;
                auto load_scales = [&](int kt, float (&s)[3]) {
                    if (kt >= ktiles) return;
                    s[0] = m0 + rloc < args.M ? __ldg(args.scale_a + (size_t)kt * args.M + m0 + rloc) : 0.f;
                    s[1] = m0 + rloc + 8 < args.M ? __ldg(args.scale_a + (size_t)kt * args.M + m0 + rloc + 8) : 0.f;
                    s[2] = __ldg(args.scale_b + (size_t)nb * args.ld_sb + kt);
                };
                // out's column groups [g0, g0 + N/8) += d * scales
                auto promote = [&](auto &d, int g0, const float (&sc)[3]) {
                    const float s0 = sc[0] * sc[2], s1 = sc[1] * sc[2];
                    constexpr int G = sizeof(d) / sizeof(float) / 4;
#pragma unroll
                    for (int j = 0; j < G; j++) {
                        out[4 * (g0 + j)] += s0 * d[4 * j];
                        out[4 * (g0 + j) + 1] += s0 * d[4 * j + 1];
                        out[4 * (g0 + j) + 2] += s1 * d[4 * j + 2];
                        out[4 * (g0 + j) + 3] += s1 * d[4 * j + 3];
                    }
                };
                float cur[3] = {0.f, 0.f, 0.f}, nxt[3] = {0.f, 0.f, 0.f};
                load_scales(0, cur);
                for (int kt = 0; kt < ktiles; kt++) {
                    load_scales(kt + 1, nxt);
                    const int st = next_stage();
                    issue(Mma<T, BN>(), acc, st, 0, false);
                    wgmma_wait<0>();
                    fence_operands(acc);
                    release(st);
                    promote(acc, 0, cur);
#pragma unroll
                    for (int i = 0; i < 3; i++) cur[i] = nxt[i];
                }

                store_tile_bf16<BN>(out, sC + cw * 16384, &tmC, m0, n0, args.M, args.N, 1 + cw,
                                    [](int, float (&)[4]) {});
            } else {
                int prev = 0;
                for (int kt = 0; kt < ktiles; kt++) {
                    const int st = next_stage();
                    issue(MMA(), acc, st, 0, kt > 0);
                    wgmma_wait<1>(); // the previous stage's wgmmas are done: release it
                    if (kt > 0) release(prev);
                    prev = st;
                }
                // Rowwise scales, loaded while the last wgmmas run. Column
                // group j of this thread's fragment needs sb[n0 + 8j + 2(lane%4)
                // + {0, 1}]; lane l loads those of j = l/4 + 8s (s = 0..3) and
                // the epilogue shuffles them over: 8 registers instead of BN/4.
                float ra[2] = {0.f, 0.f};
                float2 cb[BN / 64];
                if constexpr (EPI == Epi::Rowwise) {
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int m = m0 + rloc + 8 * h;
                        ra[h] = m < args.M ? __ldg(args.scale_a + m) : 0.f;
                    }
#pragma unroll
                    for (int sl = 0; sl < BN / 64; sl++) {
                        const int n = n0 + 8 * (lane / 4 + 8 * sl) + 2 * (lane % 4);
                        cb[sl] = n < args.N ? __ldg(reinterpret_cast<const float2 *>(args.scale_b + n))
                                            : make_float2(0.f, 0.f);
                    }
                }
                wgmma_wait<0>();
                fence_operands(acc);
                release(prev);
                store_tile_bf16<BN>(acc, sC + cw * 16384, &tmC, m0, n0, args.M, args.N, 1 + cw,
                                    [&](int j, float (&v)[4]) {
                                        if constexpr (EPI == Epi::Tensor) {
#pragma unroll
                                            for (int i = 0; i < 4; i++) v[i] *= s_tensor;
                                        } else if constexpr (EPI == Epi::Rowwise) {
                                            const int src = (j % 8) * 4 + (lane % 4);
                                            const float bx = __shfl_sync(~0u, cb[j / 8].x, src);
                                            const float by = __shfl_sync(~0u, cb[j / 8].y, src);
                                            v[0] *= ra[0] * bx;
                                            v[1] *= ra[0] * by;
                                            v[2] *= ra[1] * bx;
                                            v[3] *= ra[1] * by;
                                        }
                                    });
            }
        }
        if (tid == 0) tma_store_wait<0>();
    }
    if (CLUSTER > 1) cluster_sync(); // no CTA leaves while its peer may still signal it
}

// Why a problem cannot run ("" if it can).
template <typename T> std::string gemm_wgmma_check(int M, int N, int K, const void *A, const void *B, const void *C)
{
    if (M < 1 || N < 1 || K < 1) return "M, N and K must be positive";
    if ((K * sizeof(T)) % 16) return "K must be a multiple of " + std::to_string(16 / sizeof(T)) + " (TMA row pitch of 16 bytes)";
    if (N % 8) return "N must be a multiple of 8 (TMA row pitch of C, 16 bytes)";
    if ((reinterpret_cast<uintptr_t>(A) | reinterpret_cast<uintptr_t>(B) | reinterpret_cast<uintptr_t>(C)) % 16)
        return "A, B and C must be 16-byte aligned";
    return "";
}

// The tile width (BN) for an M x N product on `sms` SMs: the fewest waves of
// tiles over the SMs, each tile's time taken proportional to BN, with
// 128-wide tiles 15% less efficient (measured on the H100, NOTES.md).
inline int gemm_wgmma_tile_n(long M, long N, long sms)
{
    auto cdiv = [](long a, long b) { return (a + b - 1) / b; };
    const long tiles_m = cdiv(M, 128);
    const double w256 = cdiv(tiles_m * cdiv(N, 256), sms) * 256.0;
    const double w128 = cdiv(tiles_m * cdiv(N, 128), sms) * 128.0 / 0.85;
    return w256 <= w128 ? 256 : 128;
}

// A prepared launch: tensor maps, grid and arguments for one set of buffers.
struct GemmPlan {
    CUtensorMap a, b, c;
    GemmArgs args;
    int grid = 0, smem = 0, cluster = 1;
    void (*kernel)(CUtensorMap, CUtensorMap, CUtensorMap, GemmArgs) = nullptr;
    void run(cudaStream_t s) const
    {
        cudaError_t e = hopper::launch(kernel, grid, 384, smem, cluster, s, a, b, c, args);
        if (e != cudaSuccess) {
            fprintf(stderr, "gemm_wgmma launch: %s\n", cudaGetErrorString(e));
            exit(1);
        }
    }
};

template <typename T> constexpr CUtensorMapDataType tmap_type()
{
    return sizeof(T) == 1 ? CU_TENSOR_MAP_DATA_TYPE_UINT8 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
}

// Plans C[M x N] = scale(A[M x K] * B[N x K]^T); the caller checked the
// shape with gemm_wgmma_check. `group`: M tiles per band of the tile order.
template <typename T, int BN, int STAGES, int CLUSTER, Epi EPI>
GemmPlan gemm_wgmma_plan(const T *A, const T *B, __nv_bfloat16 *C, int M, int N, int K, const float *scale_a,
                         const float *scale_b, int group = 8, int ld_sb = 0)
{
    using Cfg = WgmmaCfg<T, BN, STAGES, CLUSTER>;
    auto kernel = gemm_wgmma_kernel<T, BN, STAGES, CLUSTER, EPI>;
    static bool attr = [&] {
        cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::SMEM);
        if (e != cudaSuccess) {
            fprintf(stderr, "gemm_wgmma: cannot get %d bytes of shared memory: %s\n", Cfg::SMEM, cudaGetErrorString(e));
            exit(1);
        }
        return true;
    }();
    (void)attr;
    GemmPlan p;
    p.a = hopper::tensor_map(A, tmap_type<T>(), sizeof(T), M, K, K, Cfg::BM, Cfg::BK);
    p.b = hopper::tensor_map(B, tmap_type<T>(), sizeof(T), N, K, K, BN / CLUSTER, Cfg::BK);
    p.c = hopper::tensor_map(C, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, M, N, N, 64, 64);
    const int tiles_m = (M + Cfg::BM - 1) / Cfg::BM, tiles_n = (N + BN - 1) / BN;
    const int units_m = (tiles_m + CLUSTER - 1) / CLUSTER;
    p.args = GemmArgs{M, N, K, scale_a, scale_b, ld_sb, hopper::TileOrder{units_m, tiles_n, std::max(1, group / CLUSTER)}};
    static int resident = hopper::resident_ctas(kernel, Cfg::THREADS, Cfg::SMEM, CLUSTER);
    p.grid = std::min(resident / CLUSTER, units_m * tiles_n) * CLUSTER;
    p.smem = Cfg::SMEM;
    p.cluster = CLUSTER;
    p.kernel = kernel;
    return p;
}

} // namespace fp8kit
