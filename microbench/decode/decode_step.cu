// build/decode_step: one whole decode step of a Llama-3.1 model on one GPU,
// every kernel of every layer in order, captured in one CUDA Graph.
//
//   decode_step/<model>/<config>/b<B>_l<L>
//     model   a line of sweeps/models.txt (Llama-3.1-8B, -70B, -405B)
//     config  bf16w_bf16kv   BF16 weights, BF16 KV cache
//             fp8w_bf16kv    FP8 E4M3 weights (per-output-channel scales), BF16 KV
//             fp8w_fp8kv     FP8 weights, FP8 E4M3 KV (per-KV-head scales)
//     B sequences, each with L tokens cached; the step appends token L of
//     each and attends over L + 1 tokens. Shapes: sweeps/decode_step.txt.
//
// One step: (embedding out of scope: the input hidden states are given)
// for each layer
//   rmsnorm (+ residual)  rmsnorm.cuh
//   qkv projection        one [(Hq + 2 Hkv) 128 x hidden] matrix
//   RoPE + KV append      rope_kv_append.cuh (llama3 rope scaling; FP8 KV quantized on write);
//                         up to 16 tokens the QKV GEMV's epilogue (gemv.cuh EPI_ROPE)
//   attention             attn_decode.cuh, paged (64-token pages, shuffled block table)
//   o projection
//   rmsnorm (+ residual)
//   gate_up projection    one [2 intermediate x hidden] matrix
//   SiLU * up             silu_mul.cuh; up to 16 tokens the gate_up GEMV's
//                         epilogue (EPI_SILU; FP8 weights: E4M3 out in 1x64 groups)
//   down projection
// then the final residual add + RMSNorm and the LM head (vocab x hidden,
// BF16 logits). The LM head stays BF16 in every configuration, as FP8
// checkpoints ship it (and as kv_capacity.py counts it); --lm_head=fp8
// quantizes it like the layers.
//
// Linear layers, M = B tokens (what serving stacks do):
//   FP8 weights are W8A8 throughout, as FP8 serving on Hopper runs them: the
//   kernel before each linear layer (rmsnorm, silu_mul, or token_quant.cuh
//   on the attention output) writes E4M3 activations with per-token scales;
//   up to 16 tokens, where the gate_up GEMV's plan has one k group
//   (Llama-3.1-8B), the down projection's come from that GEMV's epilogue
//   with a scale a (token, 64 values) instead (gemv E4M3_A8G: a CTA holds
//   64 of a token's outputs, not the row), which the PyTorch reference
//   follows (the dump's down_act_group).
//   Up to GEMV_MAX_M_BF16 tokens (BF16) or gemv_max_w8a8(K) (W8A8: 48
//   or 64 by the layer's shape, the measured crossover), our GEMV (gemv.cuh:
//   BF16, or E4M3_A8); beyond, our wgmma GEMM (../gemm/gemm_wgmma.cuh), BF16 x BF16 or E4M3 x
//   E4M3 with both scales in its epilogue (Epi::Rowwise); tile width by the
//   GEMM's own gemm_wgmma_tile_n rule. Plans (tensor maps) are built per
//   case, before capture.
//
// Memory: the weights of every layer and the KV cache of every layer for B
// sequences of L + 1 tokens stay resident; weights are random (BF16 ~
// N(0, 1/K); FP8 codes of N(0, 100^2) with per-channel scales bringing them
// to the same), KV random with per-head scales amp/448 where amp bounds the
// data. Where weights + KV + activations exceed 90% of the free memory (as
// measured at start), the largest number of layers that fits is resident,
// and the graph still runs all layers: layer i uses the weights and KV
// cache of resident layer i mod layers_run (counter scaled = 1; the label
// says so). Every resident layer's weights and KV are far larger than L2
// (the smallest, an 8B FP8 layer, is 218 MB), so a reused layer comes from
// DRAM like a fresh one, and the time includes every launch of the real
// step. (This replaces timing the layers and the head as two graphs and
// scaling: one graph, measured directly.) If one layer does not fit, the
// case is skipped. Llama-3.1-405B has 16 query heads a KV head (the
// attention kernel takes up to attn::MAX_G = 16).
//
// Timing: bench::time_launches over replays of the graph (each replay
// recomputes the same step from the same input, appending at the same
// position). Weights are kept from case to case of one (model, config);
// the KV cache and the plans are rebuilt per (B, L).
// Counters: tokens_per_s (B / step time), ms_per_step, layers_run,
// layers_total, scaled, weight_gb and kv_gb (bytes read a step), gbps and
// frac_copy (their sum over the time), tflops, gemm (1: the linear layers
// ran the wgmma GEMM, 0: the GEMV).
//
// Correctness: --check [--check_dir=DIR] runs one step of a small model of
// the same architecture (2 layers, hidden 512, intermediate 1024, 8 q / 2 kv
// heads, head dim 128, vocab 1000) per configuration, batch 1, 5, 12, 24,
// 70 (up to 16 the GEMV with the fused epilogues, each batch through other
// k groups and splits; 24: the GEMM for FP8 weights, the GEMV for BF16;
// 70: the GEMM) and context 7, 300 (ragged positions), on fresh random
// data (seed printed), outputs poisoned with NaN first; it fails a case
// whose outputs are not all finite and dumps weights, KV cache, inputs and
// outputs to DIR (default build/decode_step_check) for
// microbench/decode/step_reference.py, the PyTorch forward that compares
// (tests/gpu.sh runs both).
//
// Speed (H200, results/h200/decode_step.json, commit 63c65e3, 0.1 s of
// warm-up a case; the card slowed itself down in 264 of 319 samples): FP8
// weights + FP8 KV over BF16 at batch <= 16: 8B 1.51-1.83x, 70B
// 1.62-1.84x (1.62x: batch 16 at 32K, the cell that throttles most), 405B
// 1.81-1.91x (geometric mean 1.72x; target 1.9x); batch 32 1.53-1.88x,
// batch 64 1.52-2.04x, batch 256 1.66-1.99x. RoPE + append in the QKV GEMV's epilogue: 8B FP8 +
// FP8 KV batch 1 4K 1.033x, batch 16 1.015x (same call, --fuse_rope=0);
// SiLU in gate_up's: BF16 8B 1.006-1.017x, FP8 8B (E4M3 in 1x64 groups)
// 1.012-1.026x at 4K (--fuse_silu=0). Every kernel but the wgmma GEMM is launched with
// programmatic dependent launch (each waits for the one before it, and
// starts early: GEMVs stream weights, attention the cached tokens); in one
// run against PDL for the GEMVs alone (--pdl=gemv, quick list): 8B FP8 +
// FP8 KV batch 1 3.50 -> 3.10 ms, BF16 4.64 -> 4.47; 70B FP8 batch 16
// 24.3 -> 23.2 ms. The attention's splits fill every resident slot here
// (attn::plan's in_step; with 4 warps 32 at batch 1, where alone 16 are
// best): 8B at batch 1 and 32K 1.06-1.08x, 70B 1.00-1.03x; with 8
// consumer warps a CTA where one wave of them fills the GPU (attn::plan at
// v10: batch 16, and batch 1 at 32K; S a stage ahead at batch 16 and 32K)
// against 4 (--attn_warps=4 --attn_pipe=0, same call): 8B FP8 + FP8 KV
// batch 16 32K 1.050x, 70B at 32K 1.01-1.03x, elsewhere 0.99-1.01x; where
// that wave covers a quarter of the SMs (829ec1a: batch 1 from 4K, with
// BF16 KV from 1K; batch 4 from 1K) against the rule before: 8B batch 1 4K 1.005-1.035x, 70B
// 1.006-1.021x, batch 4 at 1K 0.992-1.008x; the attention's epilogue
// without bank conflicts (071185b): 8B FP8 + FP8 KV 1.013-1.015x, 70B
// 1.003-1.007x (same call each). The small batches are held down by
// fixed costs that FP8 does not shorten (--omit measures each kind
// of kernel inside the step; NOTES.md v7, before the fusions): at 8B batch
// 1 and 4K, ~85 us a FP8 layer against 53 us of bytes, of which attention ~10 us over its
// cache, two norms, RoPE, SiLU and the quantization ~13 us, the GEMVs ~5
// us; and the BF16 LM head (which alone caps 8B at 1.87x). Not faster
// (NOTES.md v13, v14): kernels letting the next one launch only after
// their own wait, so that a GEMV's CTAs find the SMs the attention leaves
// (--pdl_late, 8B 0.970-1.006x); split K in thread-block clusters
// (0.967-1.008x, reverted); other k groups or splits for the O, down and
// QKV GEMVs (--gemv_force, 0.92-1.01x); the O or gate_up GEMV prefetching
// its weights past the ring into L2 before its PDL wait (0.95-1.00x,
// reverted; v7 found the same for every GEMV). Nor (v16, none kept): the
// attention writing O's input as E4M3 in 1x64 groups itself, no
// quantization kernel (0.990-1.007x); its ring sized to its split, so
// that O's CTAs would find shared memory beside it (0.997-1.006x; O still
// ran on 66 SMs); its producers bringing gate_up's first 8-32 MB into L2
// (0.965-1.002x, worse the more MB); the FP8 norms' one reduction
// (rmsnorm.cuh).
// The 70B QKV GEMV runs k4 s1 up to 8 tokens (gemv::plan, v14: 1.004-1.016x
// at batch 1 and 4 against k1 s3), and with FP8 weights at 9-16 tokens too,
// in the kernel built for three CTAs an SM (v15: 1.011-1.022x at batch 12
// and 16, 4K; 1.017-1.023x at batch 12, 32K; 0.999x at batch 16, 32K).
//
// Flags (besides Google Benchmark's): --shapes=FILE (default
// sweeps/decode_step.txt), --models_file=FILE (default sweeps/models.txt),
// --quick (the file's quick lists), --models=a,b --configs=a,b (filters),
// --lm_head=bf16|fp8, --seed=N, --check, --check_dir=DIR; tuning:
// --gemv_min_resident=N, --gemv_wide_ring=0 (gemv::wide_ring), --gemv_wgmma=0|2 (W8A8 and BF16 GEMVs on mma.sync, or on
// wgmma, everywhere; default gemv::wgmma_rule()), --gemv_max_fp8=N (W8A8
// through the GEMV up to N tokens in every layer, 16..64; default 0: gemv_max_w8a8), --pdl=0|gemv (programmatic dependent launch for no
// kernel, or for the GEMVs only; default: every kernel but the wgmma GEMM),
// --omit=KERNELS (see g_omit), --attn_splits=N (forced context splits),
// --attn_warps=4|8, --attn_pipe=0|1, --attn_producers=1|2 (forced consumer
// warps a CTA, S a stage ahead or not, producer warps where the kernel has
// two),
// --fuse_rope=0, --fuse_silu=0 (RoPE + KV append, SiLU * up as kernels
// of their own at every batch), --gemv_even=1 (the O and down GEMVs may
// split their rows evenly over the SMs where gemv::plan would alone),
// --gemv_force=down:k4s1,o:r1,qkv:e1 (those GEMVs' k groups, split, ring
// depth or rows split evenly; see g_force),
// --pdl_late=attn_norm,attn,quant,mlp_norm (those kernels let the next
// launch only after their wait; the attention once its producers have
// issued their last stages).
// Diagnostic: build/decode_step_trace --gemv_trace_layer=N (below).
#include "bench.h"

#include <set>

using bench::DevBuf;
using bench::opt;
using bench::split_csv;

#include "../../codec/fp8.h"
#include "../gemm/gemm_wgmma.cuh"
#include "attn_decode.cuh"
#include "gemv.cuh"
#include "random.cuh"
#include "rmsnorm.cuh"
#include "rope_kv_append.cuh"
#include "silu_mul.cuh"
#include "token_quant.cuh"

#include <sys/stat.h>

#include <cerrno>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

namespace {

using bf16 = __nv_bfloat16;
using e4m3 = __nv_fp8_e4m3;

// ---------------------------------------------------------------- configurations

enum Config { BF16W_BF16KV = 0, FP8W_BF16KV = 1, FP8W_FP8KV = 2, NCONFIG = 3 };

const char *config_name(int c) { return c == BF16W_BF16KV ? "bf16w_bf16kv" : c == FP8W_BF16KV ? "fp8w_bf16kv" : "fp8w_fp8kv"; }
bool fp8_weights(int c) { return c != BF16W_BF16KV; }
bool fp8_kv(int c) { return c == FP8W_FP8KV; }

constexpr int PAGE_SHIFT = 6; // 64-token pages
constexpr int GEMV_MAX_M_BF16 = 64, GEMV_MAX_M_FP8 = 16;
// The most tokens a W8A8 layer of K columns takes through the GEMV (its
// consumers on wgmma from 9 tokens) before the wgmma GEMM: where the GEMV ran
// faster on Llama-3.1's layers (NOTES v19, calls 1-2: the two kernels at 24,
// 32, 48 and 64 tokens, each model's layers in one H200 call; GEMM / GEMV):
//   K >= 8192: to 64 tokens. Every down and 405B's qkv, o, gate_up (down
//     1.10-1.61x, 405B o 1.27-1.46x, gate_up 1.12-1.37x; 405B qkv 1.14-1.23x
//     to 32 but 0.82-0.88x at 48-64, left in: 1.3-1.9% of a 405B step
//     at batch 48-64; v29, with v28's rings, the step at batch 48 / 64
//     and 1K with 405B qkv on the GEMM beyond 32 tokens: 0.999x / 1.007x)
//     70B qkv, o, gate_up (gate_up was to 48 up to v28:
//     1.07-1.15x at 24-48, 0.99x at 64 in v19; with v28's rings the FP8 +
//     FP8 KV step at batch 64 and 4K runs 1.002-1.005x faster with it on
//     the GEMV in two calls, NOTES v29)
//   else (8B qkv, o, gate_up): to 48 (gate_up was to 32 up to v28: 1.11-1.13x at
//     24-32, 0.91-0.97x beyond in v19; with v28's rings the step at batch
//     48 runs 1.017-1.022x faster with it on the GEMV, at 64 0.986x, NOTES v29)
// (v20: since the split-K epilogue issues its loads together, the GEMV at
// 17-64 tokens runs up to 1.5x faster, and in the FP8 + FP8 KV step at 4K
// 8B's qkv and o on the GEMV ran 1.044 / 1.048 / 1.036x at batch 24 / 32 /
// 48 against the GEMM, 0.993x at 64; 70B's at 64 1.024x; one H200 call,
// NOTES v20.) The GEMV's time grows with the tokens (a k32 MMA step a stage
// per 8 tokens), the GEMM's hardly (its m64 tile holds up to 64): long rows
// keep the GEMV ahead longest. (An FP8 LM head, --lm_head=fp8, takes the
// same rule, unmeasured there.)
int gemv_max_w8a8(int K) { return K >= 8192 ? 64 : 48; }
// --gemv_max_fp8=N (tuning, 16..64): W8A8 through the GEMV up to N tokens in
// every layer; 0 (default): gemv_max_w8a8
int g_gemv_max_fp8 = 0;
constexpr float CODE_SD = 100.f; // FP8 weight codes: E4M3 of N(0, CODE_SD^2), under 448 but for 4.5 sigma

bool g_lm_head_fp8 = false;
// --omit=norm,qkv,rope,attn,quant,o,gate_up,silu,down,head: leave these
// kernels out of every step (tuning: what each costs inside the step; the
// results are not a decode step and --check refuses it)
std::set<std::string> g_omit;
bool g_pdl = true; // the step's kernels but GEMV and GEMM with programmatic dependent launch (--pdl)
int g_attn_splits = 0; // --attn_splits=N: the attention's context splits (tuning; 0: attn::plan's choice)
// --fuse_rope=0: RoPE + KV append as its own kernel even where the QKV
// projection's GEMV could do it in its epilogue; --fuse_silu=0 the same for
// SiLU * up after the gate_up GEMV (with FP8 weights the down projection's
// input is then per-token E4M3 again, not 1x64 groups). Tuning;
// gemv::Params::epi. Neither fusion happens under --omit, which times the
// separate kernels.
bool g_fuse_rope = true, g_fuse_silu = true;
bool g_gemv_even = false; // --gemv_even=1 (tuning; see make_linear)
// --pdl_late=attn_norm,attn,quant,mlp_norm (tuning): these kernels let the
// next one launch (PDL) only once their own wait has returned (the
// attention: once each CTA's producer has issued its last stage, the split
// holding the new token after its wait; attn_decode.cuh), not at their
// entry, so that the next kernel's CTAs find the SMs the kernel before has left
std::set<std::string> g_late;
// --gemv_force=NAME:[k<n>][s<n>][r<n>][e<n>],... (tuning; NAME qkv, o,
// gate_up or down; outside --check): that GEMV's k groups (1, 2, 4), split
// (1..16), its ring sized for r CTAs an SM (1..3: gemv::min_resident for
// that GEMV alone), and its rows split evenly over e CTAs an SM (1, 2;
// split 1; where the rows fit the tiles; qkv and gate_up only where their
// epilogues are not fused: RoPE and SiLU pair rows), and m<n>: W8A8
// through the GEMV up to n tokens in that layer (16..64, in place of
// gemv_max_w8a8; --gemv_max_fp8 for every layer), each absent one the
// planner's.
// (NOTES v12's --gemv_res_o=1 is o:r1 here; v19's Next 0 is qkv:e1,o:e1.)
struct GemvForce { int kg = 0, split = 0, resident = 0, even = 0, max = 0; };
std::map<std::string, GemvForce> g_force;
#ifdef GEMV_TRACE
// build/decode_step_trace --gemv_trace_layer=N: layer N's four GEMVs record
// gemv.cuh's per-CTA timestamps and SMs (slots 0-3: qkv, o, gate_up, down);
// printed after the benchmarks, from the last replay of the last case (so
// select one case with --benchmark_filter).
int g_trace_layer = -1;
#endif

// One line of sweeps/models.txt (values from the models' config.json).
struct ModelCfg {
    std::string name;
    int layers = 0, hidden = 0, inter = 0, hq = 0, hkv = 0, hd = 0, vocab = 0;
    float eps = 1e-5f;
    double theta = 500000, rope_factor = 8, low_ff = 1, high_ff = 4;
    int orig_ctx = 8192;
    int qkv_n() const { return (hq + 2 * hkv) * hd; }
    int q_dim() const { return hq * hd; }
};

std::vector<ModelCfg> read_models(const std::string &path)
{
    std::vector<ModelCfg> out;
    for (auto &r : bench::read_shapes(path)) {
        if (r.size() != 14) {
            fprintf(stderr, "%s: a model line has 14 fields, '%s' has %zu\n", path.c_str(), r[0].c_str(), r.size());
            exit(2);
        }
        ModelCfg m;
        m.name = r[0];
        auto i = [&](size_t k) { return bench::field_int(path, r, k); };
        auto d = [&](size_t k, double lo, double hi) { return bench::field_double(path, r, k, lo, hi); };
        m.layers = i(1), m.hidden = i(2), m.inter = i(3), m.hq = i(4), m.hkv = i(5), m.hd = i(6), m.vocab = i(7);
        // RoPE's wavelengths divide by the factors (Llama 3.1's scaling: factor >= 1, high > low)
        m.eps = (float)d(8, 1e-12, 1), m.theta = d(9, 1, 1e12), m.rope_factor = d(10, 1, 1e6);
        m.low_ff = d(11, 1e-6, 1e6), m.high_ff = d(12, 1e-6, 1e6), m.orig_ctx = i(13);
        if (m.high_ff <= m.low_ff) {
            fprintf(stderr, "%s: in the line '%s', high_freq_factor (%g) must exceed low_freq_factor (%g)\n", path.c_str(),
                    r[0].c_str(), m.high_ff, m.low_ff);
            exit(2);
        }
        out.push_back(m);
    }
    return out;
}

// Llama-3.1's RoPE frequencies ("llama3" rope scaling), as HF transformers'
// _compute_llama3_parameters: inv_freq[i] = theta^(-2i/d), then divided by
// `factor` for wavelengths beyond original_max_position_embeddings /
// low_freq_factor, kept below ... / high_freq_factor, and interpolated
// between. Computed in double, stored as FP32.
std::vector<float> llama3_inv_freq(const ModelCfg &m)
{
    std::vector<float> f(m.hd / 2);
    const double pi = 3.14159265358979323846;
    const double low_wl = m.orig_ctx / m.low_ff, high_wl = m.orig_ctx / m.high_ff;
    for (int i = 0; i < m.hd / 2; i++) {
        const double inv = 1.0 / std::pow(m.theta, 2.0 * i / m.hd);
        const double wl = 2 * pi / inv;
        double v;
        if (wl < high_wl) v = inv;
        else if (wl > low_wl) v = inv / m.rope_factor;
        else {
            const double smooth = (m.orig_ctx / wl - m.low_ff) / (m.high_ff - m.low_ff);
            v = (1 - smooth) * inv / m.rope_factor + smooth * inv;
        }
        f[i] = (float)v;
    }
    return f;
}

// ---------------------------------------------------------------- device buffers and random data

// About N(0, 1): four uniforms of variance 1/3, summed and scaled.
__device__ inline float normal(uint64_t seed, size_t i)
{
    const uint64_t h = mix64(seed * 0x100000001B3ull + i), g = mix64(h);
    float s = 0.f;
    for (int j = 0; j < 2; j++) {
        s += (float)((h >> (32 * j)) & 0xFFFFFFFFu) * (2.f / 4294967296.f) - 1.f;
        s += (float)((g >> (32 * j)) & 0xFFFFFFFFu) * (2.f / 4294967296.f) - 1.f;
    }
    return s * 0.8660254f;
}

#define GRID_STRIDE(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void fill_bf16_normal(uint16_t *p, size_t n, uint64_t seed, float sd)
{
    GRID_STRIDE(i, n) p[i] = bf16_from_f32(sd * normal(seed, i));
}
__global__ void fill_bf16_unif(uint16_t *p, size_t n, uint64_t seed, float lo, float hi)
{
    GRID_STRIDE(i, n) p[i] = bf16_from_f32(lo + (hi - lo) * 0.5f * (unif(seed, i) + 1.f));
}
__global__ void fill_e4m3_normal(uint8_t *p, size_t n, uint64_t seed, float sd)
{
    GRID_STRIDE(i, n) p[i] = fp8_e4m3_from_f32(sd * normal(seed, i));
}
__global__ void fill_f32_unif(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    GRID_STRIDE(i, n) p[i] = lo + (hi - lo) * 0.5f * (unif(seed, i) + 1.f);
}
// KV pages [page][Hkv][P][128]: amp[h] * U(-1, 1), BF16 or E4M3 of value / scale[h].
__global__ void fill_kv(void *p, size_t n, uint64_t seed, bool fp8, const float *amp, const float *scale, int Hkv)
{
    GRID_STRIDE(i, n)
    {
        const int h = (int)((i >> (PAGE_SHIFT + 7)) % Hkv);
        const float v = amp[h] * unif(seed, i);
        if (fp8) ((uint8_t *)p)[i] = fp8_e4m3_from_f32(v / scale[h]);
        else ((uint16_t *)p)[i] = bf16_from_f32(v);
    }
}
const int FILL_GRID = 4096, FILL_BLOCK = 256;

uint64_t g_seed = 0;
uint64_t next_seed() { return mix64(g_seed++); }

// ---------------------------------------------------------------- weights

// A Linear layer's weight W [N x K] as the kernels read it: BF16, or E4M3
// codes with FP32 per-output-channel scales s[N] (W = code * s[n]).
struct Linear {
    int N = 0, K = 0;
    bool fp8 = false;
    DevBuf<uint8_t> w;
    DevBuf<float> s;
    // Entries ~ N(0, (gain^2)/K), so that outputs keep the inputs' size.
    void init(int N_, int K_, bool fp8_, float gain = 1.f)
    {
        N = N_, K = K_, fp8 = fp8_;
        const float sd = gain / std::sqrt((float)K);
        w.alloc((size_t)N * K * (fp8 ? 1 : 2));
        if (fp8) {
            fill_e4m3_normal<<<FILL_GRID, FILL_BLOCK>>>(w.p, (size_t)N * K, next_seed(), CODE_SD);
            s.alloc(N);
            // per-channel scales that vary by +-50%, so that a wrong index shows
            fill_f32_unif<<<64, 256>>>(s.p, N, next_seed(), 0.5f * sd / CODE_SD, 1.5f * sd / CODE_SD);
        } else {
            fill_bf16_normal<<<FILL_GRID, FILL_BLOCK>>>((uint16_t *)w.p, (size_t)N * K, next_seed(), sd);
        }
        CUDA_CHECK_LAUNCH();
    }
    static size_t read_bytes(int N, int K, bool fp8) { return (size_t)N * K * (fp8 ? 1 : 2) + (fp8 ? (size_t)N * 4 : 0); }
    size_t read_bytes() const { return read_bytes(N, K, fp8); }
};

// RMSNorm weights around 1 (U(0.5, 1.5): not all equal, so that a wrong index shows).
void init_norm(DevBuf<uint16_t> &g, int H)
{
    g.alloc(H);
    fill_bf16_unif<<<64, 256>>>(g.p, H, next_seed(), 0.5f, 1.5f);
    CUDA_CHECK_LAUNCH();
}

struct LayerW {
    Linear qkv, o, gate_up, down;
    DevBuf<uint16_t> attn_norm, mlp_norm;
    LayerW(const ModelCfg &m, bool fp8)
    {
        init_norm(attn_norm, m.hidden);
        qkv.init(m.qkv_n(), m.hidden, fp8);
        o.init(m.hidden, m.q_dim(), fp8);
        init_norm(mlp_norm, m.hidden);
        gate_up.init(2 * m.inter, m.hidden, fp8);
        down.init(m.hidden, m.inter, fp8);
    }
    // Bytes a step reads; params: multiply-adds a token.
    static size_t read_bytes(const ModelCfg &m, bool fp8)
    {
        return Linear::read_bytes(m.qkv_n(), m.hidden, fp8) + Linear::read_bytes(m.hidden, m.q_dim(), fp8) +
               Linear::read_bytes(2 * m.inter, m.hidden, fp8) + Linear::read_bytes(m.hidden, m.inter, fp8) +
               4 * (size_t)m.hidden;
    }
    static double params(const ModelCfg &m)
    {
        return (double)m.hidden * (m.qkv_n() + m.q_dim() + 3.0 * m.inter);
    }
};

// cudaMalloc rounds large allocations up (2 MiB pages); counted per buffer.
constexpr size_t ALLOC_SLACK = size_t(2) << 20;

// The weights of one (model, configuration): the head, and as many layers
// as the current case keeps resident.
struct Resident {
    ModelCfg m;
    int cfg;
    DevBuf<uint16_t> final_norm;
    Linear lm_head;
    DevBuf<float> inv_freq;
    std::vector<std::unique_ptr<LayerW>> layers;
    Resident(const ModelCfg &m_, int cfg_) : m(m_), cfg(cfg_)
    {
        init_norm(final_norm, m.hidden);
        lm_head.init(m.vocab, m.hidden, g_lm_head_fp8);
        inv_freq.alloc(m.hd / 2);
        inv_freq.upload(llama3_inv_freq(m));
    }
    void resize(int n)
    {
        while ((int)layers.size() > n) layers.pop_back();
        while ((int)layers.size() < n) layers.emplace_back(new LayerW(m, fp8_weights(cfg)));
        CUDA_CHECK(cudaDeviceSynchronize());
    }
    // the four weight matrices round up; scales and norms are small
    static size_t layer_alloc_bytes(const ModelCfg &m, bool fp8) { return LayerW::read_bytes(m, fp8) + 4 * ALLOC_SLACK; }
};

// ---------------------------------------------------------------- one step

// whether M tokens through L take the GEMM (else the GEMV); force_max (the
// check's): W8A8 through the GEMV up to that many tokens
bool use_gemm(const Linear &L, int M, int force_max = 0)
{
    if (!L.fp8) return M > GEMV_MAX_M_BF16;
    const int mx = force_max ? force_max : g_gemv_max_fp8 ? g_gemv_max_fp8 : gemv_max_w8a8(L.K);
    return M > mx;
}

// One linear layer's launch: GEMV or wgmma GEMM (use_gemm).
struct LinearExec {
    bool gemm = false;
    int wt = gemv::BF16;
    gemv::Plan gp;
    gemv::Params gparams{};
    fp8kit::GemmPlan mp;
    void run(cudaStream_t s) const
    {
        if (gemm) mp.run(s);
        else gemv::launch(wt, gparams, gp, s);
    }
};

// Prepares y = x W^T for M tokens: x BF16 (GEMV, BF16 GEMM) or xq/xs (E4M3
// and per-token scales, W8A8 GEMM). Returns why it cannot run ("" if it can).
// xgroups: xs holds a scale a (token, 64-k group) (gemv E4M3_A8G; the GEMV only).
// The GEMVs keep to tiles (no rows split evenly over the SMs, gemv::plan's
// force_even -1): inside the step the kernels before a GEMV hold SM slots
// unevenly when its CTAs launch, so one CTA an SM is not what the block
// scheduler gives, and the SMs that get two finish last (H200, 8B o and
// down evenly: the step 0.93-0.99x at batch 1-16, BF16 and FP8; NOTES v12).
// even_ok with --gemv_even=1 (tuning): the planner's rule (O and down; not
// QKV or gate_up, whose epilogues pair rows). force_even > 0 (tuning,
// --gemv_force=NAME:e<n>): rows evenly over n CTAs an SM, for any layer;
// the caller refuses it where a fused epilogue pairs rows. force_max > 0
// (the check's): W8A8 through the GEMV up to that many tokens (use_gemm).
std::string make_linear(LinearExec &e, const Linear &L, int M, const bf16 *x, const uint8_t *xq, const float *xs, bf16 *y,
                        int force_bn = 0, int force_kg = 0, int force_split = 0, bool xgroups = false, bool even_ok = false,
                        int resident = 0, int force_minb = 0, int force_max = 0, int force_even = 0)
{
    char why[160];
    if (!use_gemm(L, M, force_max)) {
        e.gemm = false;
        e.wt = L.fp8 ? (xgroups ? gemv::E4M3_A8G : gemv::E4M3_A8) : gemv::BF16;
        const int res_was = gemv::min_resident;
        if (resident > 0) gemv::min_resident = resident;
        e.gp = gemv::plan(e.wt, M, L.N, L.K, force_split, 0, gemv::pdl_default, force_kg,
                          force_even > 0 ? force_even : even_ok && g_gemv_even ? 0 : -1, force_minb);
        gemv::min_resident = res_was;
        if (!gemv::runs(e.wt, M, L.N, L.K, e.gp)) { // (runs: also whether rows split evenly fit the tiles)
            snprintf(why, sizeof why, "gemv does not support M=%d N=%d K=%d split=%d kg=%d even=%d%s", M, L.N, L.K,
                     e.gp.split, e.gp.kg, e.gp.even, force_kg || force_split || force_even ? " (forced)" : "");
            return why;
        }
        // the workspace (split K) is set once the step knows the largest
        e.gparams = L.fp8 ? gemv::Params{L.w.p, xq, L.s.p, y, M, L.N, L.K, e.gp.split, xs, nullptr, 0}
                          : gemv::Params{L.w.p, x, nullptr, y, M, L.N, L.K, e.gp.split, nullptr, nullptr, 0};
        return "";
    }
    if (xgroups) return "the wgmma GEMM takes per-token activation scales, not 64-k groups";
    e.gemm = true;
    const int bn = force_bn ? force_bn : fp8kit::gemm_wgmma_tile_n(M, L.N, bench::device().multiProcessorCount);
    using fp8kit::Epi;
    if (!L.fp8) {
        const std::string w = fp8kit::gemm_wgmma_check<bf16>(M, L.N, L.K, x, L.w.p, y);
        if (!w.empty()) return "gemm_wgmma: " + w;
        const bf16 *B = (const bf16 *)L.w.p;
        e.mp = bn == 256 ? fp8kit::gemm_wgmma_plan<bf16, 256, 4, 1, Epi::None>(x, B, y, M, L.N, L.K, nullptr, nullptr)
                         : fp8kit::gemm_wgmma_plan<bf16, 128, 6, 1, Epi::None>(x, B, y, M, L.N, L.K, nullptr, nullptr);
    } else {
        const std::string w = fp8kit::gemm_wgmma_check<e4m3>(M, L.N, L.K, xq, L.w.p, y);
        if (!w.empty()) return "gemm_wgmma: " + w;
        const e4m3 *A = (const e4m3 *)xq, *B = (const e4m3 *)L.w.p;
        e.mp = bn == 256 ? fp8kit::gemm_wgmma_plan<e4m3, 256, 4, 1, Epi::Rowwise>(A, B, y, M, L.N, L.K, xs, L.s.p)
                         : fp8kit::gemm_wgmma_plan<e4m3, 128, 6, 1, Epi::Rowwise>(A, B, y, M, L.N, L.K, xs, L.s.p);
    }
    return "";
}

// One layer's KV cache: pages [pages][Hkv][64][128] for K and V, per-head scales.
struct LayerKV {
    DevBuf<uint8_t> k, v;
    DevBuf<float> ks, vs;
};

int kv_pages(int B, int Lmax) { return B * ((Lmax + 1 + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT); }

size_t kv_layer_bytes(const ModelCfg &m, bool fp8, int B, int Lmax)
{
    return 2 * ((size_t)kv_pages(B, Lmax) * m.hkv * (1 << PAGE_SHIFT) * m.hd * (fp8 ? 1 : 2) + ALLOC_SLACK);
}

// Activations and workspaces of a step of B tokens.
size_t act_bytes(const ModelCfg &m, int B, int Lmax, int nsplit)
{
    const size_t e = (size_t)B * (5 * m.hidden + m.qkv_n() + 2 * m.q_dim() + 3 * m.inter + m.vocab) * 2 +
                     (size_t)B * std::max(std::max(m.hidden, m.q_dim()), m.inter) +
                     attn::ws_floats(B, m.hkv, nsplit, m.hq / m.hkv) * 4 + (size_t)kv_pages(B, Lmax) * 4;
    return e + 20 * ALLOC_SLACK;
}

// Every buffer and launch of one step over a Resident's weights: B
// sequences, sequence b with pos[b] tokens cached (its new token at
// position pos[b]), `total` layers run over the resident ones.
struct Step {
    const Resident &R;
    const ModelCfg &m;
    int B, Lmax, total, n;
    bool kv8, w8a8, head_w8a8;
    int stride = 0;
    std::vector<int> pos_h, table_h;
    std::vector<std::unique_ptr<LayerKV>> kv;
    DevBuf<uint16_t> h0, h, xn, qkv, q, attn_out, o_out, gu, act, down, logits;
    DevBuf<uint8_t> xq, aq, gemv_ws;
    DevBuf<float> xs, aqs, ws;
    DevBuf<int> cnt, lens, pos, table;
    attn::Plan apl;
    struct LayerExec {
        LinearExec qkv, o, gate_up, down;
        attn::Params ap;
        step::RopeParams rp;
        bool rope_fused = false; // the QKV GEMV does RoPE + append (no rope kernel)
        bool silu_fused = false; // the gate_up GEMV does SiLU * up (no silu kernel)
        bool silu_groups = false; // ... into E4M3 with 1x64 group scales (aq, aqs), down is E4M3_A8G
    };
    std::vector<LayerExec> ex;
    LinearExec head;
    cudaStream_t stream = nullptr;
    cudaGraphExec_t exec = nullptr;
    std::string error; // not empty: the step cannot run

    // the linear launches of the step (four a layer it runs, resident layers
    // reused in turn, then the LM head) on the wgmma GEMM
    int gemm_launches() const
    {
        int g = head.gemm;
        for (int i = 0; i < total; i++) {
            const LayerExec &E = ex[i % n];
            g += E.qkv.gemm + E.o.gemm + E.gate_up.gemm + E.down.gemm;
        }
        return g;
    }
    int linear_launches() const { return 4 * total + 1; }
    // whether the GEMV named (qkv, o, gate_up, down) runs in some layer
    bool runs_gemv(const std::string &name) const
    {
        for (auto &E : ex) {
            const LinearExec &e = name == "qkv" ? E.qkv : name == "o" ? E.o : name == "gate_up" ? E.gate_up : E.down;
            if (!e.gemm) return true;
        }
        return false;
    }
    // "gemv", "gemm_wgmma", or which took the GEMM ("gemm_wgmma: l0.qkv l1.down lm_head; gemv: the rest")
    std::string linear_paths() const
    {
        const int g = gemm_launches();
        if (g == 0 || g == linear_launches()) return g ? "gemm_wgmma" : "gemv";
        std::string p = "gemm_wgmma:";
        for (size_t l = 0; l < ex.size(); l++) {
            const LinearExec *e[4] = {&ex[l].qkv, &ex[l].o, &ex[l].gate_up, &ex[l].down};
            static const char *nm[4] = {"qkv", "o", "gate_up", "down"};
            for (int i = 0; i < 4; i++)
                if (e[i]->gemm) p += " l" + std::to_string(l) + "." + nm[i];
        }
        return p + (head.gemm ? " lm_head" : "") + "; gemv: the rest";
    }

    Step(const Resident &R_, const std::vector<int> &positions, int total_, bool check)
        : R(R_), m(R_.m), B((int)positions.size()), total(total_), n((int)R_.layers.size()), pos_h(positions)
    {
        Lmax = *std::max_element(pos_h.begin(), pos_h.end());
        kv8 = fp8_kv(R.cfg);
        w8a8 = fp8_weights(R.cfg);
        head_w8a8 = R.lm_head.fp8;
        stride = (Lmax + 1 + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT;
        const int pages = B * stride;
        const int H = m.hidden;

        // block table: every page of every sequence, scattered
        table_h.resize(pages);
        for (int i = 0; i < pages; i++) table_h[i] = i;
        std::mt19937_64 rng(next_seed());
        std::shuffle(table_h.begin(), table_h.end(), rng);
        table.alloc(pages);
        table.upload(table_h);
        pos.alloc(B);
        pos.upload(pos_h);
        std::vector<int> l1(B);
        for (int b = 0; b < B; b++) l1[b] = pos_h[b] + 1;
        lens.alloc(B);
        lens.upload(l1);

        // KV caches: values amp * U(-1, 1), amp per head in [2, 4] (the
        // projections give k, v of RMS ~1); FP8 scales amp / 448
        const size_t elems = (size_t)pages * m.hkv * (1 << PAGE_SHIFT) * m.hd;
        std::uniform_real_distribution<float> ua(2.f, 4.f);
        for (int l = 0; l < n; l++) {
            std::unique_ptr<LayerKV> c(new LayerKV);
            std::vector<float> ak(m.hkv), av(m.hkv), sk(m.hkv), sv(m.hkv);
            for (int i = 0; i < m.hkv; i++) {
                ak[i] = ua(rng), av[i] = ua(rng);
                sk[i] = ak[i] / step::E4M3_MAX, sv[i] = av[i] / step::E4M3_MAX;
            }
            c->ks.alloc(m.hkv);
            c->vs.alloc(m.hkv);
            DevBuf<float> amp_k(m.hkv), amp_v(m.hkv);
            amp_k.upload(ak), amp_v.upload(av), c->ks.upload(sk), c->vs.upload(sv);
            c->k.alloc(elems * (kv8 ? 1 : 2));
            c->v.alloc(elems * (kv8 ? 1 : 2));
            fill_kv<<<FILL_GRID, FILL_BLOCK>>>(c->k.p, elems, next_seed(), kv8, amp_k.p, c->ks.p, m.hkv);
            fill_kv<<<FILL_GRID, FILL_BLOCK>>>(c->v.p, elems, next_seed(), kv8, amp_v.p, c->vs.p, m.hkv);
            CUDA_CHECK_LAUNCH();
            CUDA_CHECK(cudaDeviceSynchronize()); // amp_k/amp_v go out of scope
            kv.push_back(std::move(c));
        }

        // activations; the step's input hidden states ~ N(0, 1)
        h0.alloc((size_t)B * H), h.alloc((size_t)B * H), xn.alloc((size_t)B * H);
        qkv.alloc((size_t)B * m.qkv_n()), q.alloc((size_t)B * m.q_dim()), attn_out.alloc((size_t)B * m.q_dim());
        o_out.alloc((size_t)B * H), gu.alloc((size_t)B * 2 * m.inter), act.alloc((size_t)B * m.inter);
        down.alloc((size_t)B * H), logits.alloc((size_t)B * m.vocab);
        xq.alloc((size_t)B * std::max(std::max(H, m.q_dim()), m.inter));
        xs.alloc(B);
        aq.alloc((size_t)B * m.inter), aqs.alloc(gemv::xg_count(B, m.inter));
        fill_bf16_normal<<<256, 256>>>(h0.p, h0.n, next_seed(), 1.f);
        CUDA_CHECK_LAUNCH();

        const int kvt = kv8 ? attn::KV_E4M3 : attn::KV_BF16;
        const int G = m.hq / m.hkv;
        apl = attn::plan(kvt, B, m.hkv, Lmax + 1, g_attn_splits, G, true);
        ws.alloc(attn::ws_floats(B, m.hkv, apl.nsplit, G));
        cnt.alloc((size_t)B * m.hkv);
        CUDA_CHECK(cudaMemset(cnt.p, 0, cnt.bytes()));

        // launches
        auto X = [](const DevBuf<uint16_t> &b) { return (const bf16 *)b.p; };
        auto Y = [](DevBuf<uint16_t> &b) { return (bf16 *)b.p; };
        ex.resize(n);
        for (int l = 0; l < n && error.empty(); l++) {
            const LayerW &W = *R.layers[l];
            LayerExec &E = ex[l];
            // the check covers both GEMM tile widths
            const int bn = check ? (l % 2 ? 256 : 128) : 0;
            // and the QKV and gate_up GEMVs' shapes of CTA (k groups 4, 2, 1:
            // 32, 64, 128 rows) with and without split K, which the fused
            // epilogues' row pairing depends on: two of six variants a (batch,
            // layer); k groups only up to 16 tokens, a split only where K has
            // the steps for it
            // (gate_up three variants on from QKV's: each of batch 1, 5, 12 has
            // gate_up at one k group on one layer, the FP8 SiLU epilogue's
            // case, and at two or four on the other)
            int kg = 0, split = 0, kg_gu = 0, split_gu = 0;
            auto forced = [](const char *name) {
                const auto f = g_force.find(name);
                return f == g_force.end() ? GemvForce{} : f->second;
            };
            const GemvForce fq = forced("qkv"), fo = forced("o"), fg = forced("gate_up"), fd = forced("down");
            kg = fq.kg, split = fq.split, kg_gu = fg.kg, split_gu = fg.split;
            if (check) {
                static const int vk[6] = {4, 2, 1, 1, 4, 2}, vs[6] = {1, 2, 1, 2, 2, 1};
                const int v = (l + 2 * (B == 1 ? 0 : B <= 8 ? 1 : 2)) % 6, vg = (v + 3) % 6;
                const bool kgs = (B + 7) / 8 <= gemv::KG_MAX_MT;
                kg = kgs ? vk[v] : 1, split = vs[v];
                kg_gu = kgs ? vk[vg] : 1, split_gu = vs[vg];
                const int wt = w8a8 ? gemv::E4M3_A8 : gemv::BF16;
                if (!gemv::supported(wt, B, W.qkv.N, W.qkv.K, split, kg)) split = 1;
                if (!gemv::supported(wt, B, W.gate_up.N, W.gate_up.K, split_gu, kg_gu)) split_gu = 1;
            }
            // up to 16 tokens the GEMVs' epilogues do RoPE + append and SiLU *
            // up; with FP8 weights SiLU's output is E4M3 in 1x64 groups (a
            // gate_up CTA of one k group holds 64 outputs of a token), which
            // the down projection's GEMV takes as E4M3_A8G, where gate_up's
            // plan has one k group (Llama-3.1-8B; 70B's has four, 32-row
            // CTAs: forced to one, 70B's FP8 step ran 0.95x at batch 1)
            // (fused epilogues need qkv and gate_up on the GEMV: every W8A8 limit is >= 16 tokens)
            static_assert(GEMV_MAX_M_FP8 >= 8 * gemv::KG_MAX_MT, "a fused epilogue on a GEMM launch");
            const bool fuse = g_omit.empty() && (B + 7) / 8 <= gemv::KG_MAX_MT;
            // the check runs layer 0's W8A8 GEMVs of four k groups at 9-16
            // tokens with the kernel for three CTAs an SM (gemv::Plan::minb),
            // which the planner takes only on larger layers, and layer 1's with two
            const int mb = check && l == 0 ? 3 : 0;
            // and W8A8 at 17-64 tokens on the GEMM in layer 0 and the GEMV in layer 1
            const int gx = check && w8a8 ? (l % 2 ? 64 : GEMV_MAX_M_FP8) : 0;
            std::string e;
            if ((fq.even && fuse && g_fuse_rope) || (fg.even && fuse && g_fuse_silu))
                e = "--gemv_force: rows evenly on qkv or gate_up only where their epilogues are not fused (beyond 16 "
                    "tokens, or with --fuse_rope=0 / --fuse_silu=0): RoPE and SiLU pair rows";
            if (e.empty()) e = make_linear(E.qkv, W.qkv, B, X(xn), xq.p, xs.p, Y(qkv), bn, kg, split, false, false, fq.resident, mb, gx ? gx : fq.max, fq.even);
            if (e.empty()) e = make_linear(E.o, W.o, B, X(attn_out), xq.p, xs.p, Y(o_out), bn, fo.kg, fo.split, false, true, fo.resident, mb, gx ? gx : fo.max, fo.even);
            if (e.empty()) e = make_linear(E.gate_up, W.gate_up, B, X(xn), xq.p, xs.p, Y(gu), bn, kg_gu, split_gu, false, false, fg.resident, mb, gx ? gx : fg.max, fg.even);
            E.silu_fused = fuse && g_fuse_silu && (!w8a8 || (e.empty() && E.gate_up.gp.kg == 1));
            E.silu_groups = E.silu_fused && w8a8;
            if (e.empty())
                e = E.silu_groups ? make_linear(E.down, W.down, B, X(act), aq.p, aqs.p, Y(down), bn, fd.kg, fd.split, true, true, fd.resident, mb, gx ? gx : fd.max, fd.even)
                                  : make_linear(E.down, W.down, B, X(act), xq.p, xs.p, Y(down), bn, fd.kg, fd.split, false, true, fd.resident, mb, gx ? gx : fd.max, fd.even);
            if (!e.empty()) error = "layer " + std::to_string(l) + ": " + e;

            attn::Params &a = E.ap;
            a.q = X(q), a.k = kv[l]->k.p, a.v = kv[l]->v.p, a.table = table.p, a.table_stride = stride;
            a.num_pages = kv_pages(B, Lmax);
            a.seq_len = lens.p, a.k_scale = kv[l]->ks.p, a.v_scale = kv[l]->vs.p, a.out = Y(attn_out);
            a.ws = ws.p, a.counter = cnt.p, a.B = B, a.Hq = m.hq, a.Hkv = m.hkv, a.page_shift = PAGE_SHIFT;
            a.nsplit = apl.nsplit, a.split_tokens = apl.split_tokens, a.nw = apl.nw, a.pipe = apl.pipe, a.sm_scale = 1.f / std::sqrt((float)m.hd);
            a.late_trigger = g_late.count("attn") > 0;

            step::RopeParams &r = E.rp;
            r.qkv = X(qkv), r.q_out = Y(q), r.k_cache = kv[l]->k.p, r.v_cache = kv[l]->v.p, r.table = table.p;
            r.table_stride = stride, r.page_shift = PAGE_SHIFT, r.pos = pos.p, r.inv_freq = R.inv_freq.p;
            r.k_scale = kv[l]->ks.p, r.v_scale = kv[l]->vs.p, r.B = B, r.Hq = m.hq, r.Hkv = m.hkv, r.kv_fp8 = kv8;
            if (fuse && g_fuse_rope) {
                E.qkv.gparams.epi = gemv::EPI_ROPE, E.qkv.gparams.rope = r;
                E.rope_fused = true;
            }
            if (E.silu_fused) {
                gemv::Params &g = E.gate_up.gparams;
                g.epi = gemv::EPI_SILU, g.inter = m.inter;
                if (E.silu_groups) g.act_q = aq.p, g.act_s = aqs.p;
                else g.act = Y(act);
            }
        }
        if (error.empty()) {
            const std::string e = make_linear(head, R.lm_head, B, X(xn), xq.p, xs.p, Y(logits), check ? 256 : 0);
            if (!e.empty()) error = "lm_head: " + e;
        }
        // one split-K workspace for every GEMV of the step (they run in turn):
        // the largest partial sums plus the most counters (gemv::Params)
        std::vector<LinearExec *> lins{&head};
        for (auto &E : ex) lins.insert(lins.end(), {&E.qkv, &E.o, &E.gate_up, &E.down});
        size_t partials = 0, counters = 0;
        for (auto *e : lins)
            if (!e->gemm && e->gp.split > 1) {
                partials = std::max(partials, gemv::partial_bytes(e->gp));
                counters = std::max(counters, gemv::counter_bytes(e->gparams.N));
            }
        gemv_ws.alloc(std::max<size_t>(4, partials + counters));
        CUDA_CHECK(cudaMemset(gemv_ws.p, 0, gemv_ws.bytes()));
        for (auto *e : lins) e->gparams.workspace = gemv_ws.p, e->gparams.workspace_size = gemv_ws.bytes();
#ifdef GEMV_TRACE
        if (g_trace_layer >= 0 && g_trace_layer < n) {
            LayerExec &E = ex[g_trace_layer];
            int slot = 0;
            for (LinearExec *e : {&E.qkv, &E.o, &E.gate_up, &E.down}) e->gparams.trace_slot = slot++;
            step::clear_rms_trace(); // (its norms get their slots in enqueue)
        }
#endif
        CUDA_CHECK(cudaDeviceSynchronize());
        CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    }
    Step(const Step &) = delete;
    Step &operator=(const Step &) = delete;
    ~Step()
    {
        if (exec) cudaGraphExecDestroy(exec);
        if (stream) cudaStreamDestroy(stream);
    }

    void rmsnorm(const bf16 *h_in, const bf16 *delta, const DevBuf<uint16_t> &gamma, bool fp8_out, bool late, cudaStream_t s,
                 int trace_slot = -1)
    {
        step::RmsParams p;
        p.h_in = h_in, p.delta = delta, p.gamma = (const bf16 *)gamma.p, p.h_out = (bf16 *)h.p;
        p.y = fp8_out ? nullptr : (bf16 *)xn.p;
        p.yq = fp8_out ? xq.p : nullptr;
        p.ys = xs.p;
        p.H = m.hidden, p.eps = m.eps;
        p.late_trigger = late, p.trace_slot = trace_slot;
        step::rmsnorm(p, B, s, g_pdl);
    }

    // The whole step into stream s (less the kernels --omit names).
    void enqueue(cudaStream_t s)
    {
        auto on = [](const char *k) { return !g_omit.count(k); };
        const int kvt = kv8 ? attn::KV_E4M3 : attn::KV_BF16;
        const bf16 *down_p = (const bf16 *)down.p;
        for (int i = 0; i < total; i++) {
            const int l = i % n;
            const LayerW &W = *R.layers[l];
            const LayerExec &E = ex[l];
            int ts = -1; // the traced layer's norms record timestamps (decode_step_trace)
#ifdef GEMV_TRACE
            if (l == g_trace_layer) ts = 0;
#endif
            if (on("norm")) rmsnorm(i == 0 ? (const bf16 *)h0.p : (const bf16 *)h.p, i == 0 ? nullptr : down_p, W.attn_norm, w8a8, g_late.count("attn_norm"), s, ts);
            if (on("qkv")) E.qkv.run(s);
            if (on("rope") && !E.rope_fused) step::rope_kv_append(E.rp, s, g_pdl);
            if (on("attn")) attn::launch(kvt, E.ap, s, g_pdl);
            if (w8a8 && on("quant")) step::quant_rows((const bf16 *)attn_out.p, xq.p, xs.p, B, m.q_dim(), s, g_pdl, g_late.count("quant"));
            if (on("o")) E.o.run(s);
            if (on("norm")) rmsnorm((const bf16 *)h.p, (const bf16 *)o_out.p, W.mlp_norm, w8a8, g_late.count("mlp_norm"), s, ts < 0 ? -1 : 1);
            if (on("gate_up")) E.gate_up.run(s);
            step::SiluParams sp{(const bf16 *)gu.p, w8a8 ? nullptr : (bf16 *)act.p, w8a8 ? xq.p : nullptr, xs.p, m.inter};
            if (on("silu") && !E.silu_fused) step::silu_mul(sp, B, s, g_pdl);
            if (on("down")) E.down.run(s);
        }
        if (on("head")) {
            rmsnorm((const bf16 *)h.p, down_p, R.final_norm, head_w8a8, false, s);
            head.run(s);
        }
    }

    // One eager run (first-use set-up of every kernel happens outside the
    // capture), then the capture.
    void capture()
    {
        enqueue(stream);
        CUDA_CHECK(cudaStreamSynchronize(stream));
        CUDA_CHECK_LAUNCH();
        cudaGraph_t g;
        CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
        enqueue(stream);
        CUDA_CHECK(cudaStreamEndCapture(stream, &g));
        CUDA_CHECK_LAUNCH();
        CUDA_CHECK(cudaGraphInstantiate(&exec, g, 0));
        CUDA_CHECK(cudaGraphDestroy(g));
    }
    // A replay on the legacy default stream (where bench::time_launches records its events).
    void launch() const { CUDA_CHECK(cudaGraphLaunch(exec, 0)); }
};

// ---------------------------------------------------------------- benchmarks

double g_budget = 0; // 90% of the free memory at start, bytes

struct StepCase {
    ModelCfg m;
    int cfg, B, L;
};

std::unique_ptr<Resident> g_res;
std::unique_ptr<Step> g_step;
std::string g_step_key;

void bm_step(benchmark::State &st, const StepCase c)
{
    const ModelCfg &m = c.m;
    if (m.hd != attn::HD || m.hq % m.hkv || m.hq / m.hkv > attn::MAX_G) {
        char why[200];
        snprintf(why, sizeof why, "%s: %d query heads a KV head, head dim %d; attn_decode supports head dim %d and at most "
                 "attn::MAX_G = %d", m.name.c_str(), m.hq / std::max(m.hkv, 1), m.hd, attn::HD, attn::MAX_G);
        st.SkipWithError(why);
        return;
    }
    const bool fp8w = fp8_weights(c.cfg), kv8 = fp8_kv(c.cfg);
    const std::string key = m.name + "/" + config_name(c.cfg) + "/" + std::to_string(c.B) + "/" + std::to_string(c.L);
    if (key != g_step_key || !g_step) {
        g_step.reset();
        g_step_key.clear();
        if (!g_res || g_res->m.name != m.name || g_res->cfg != c.cfg) {
            g_res.reset();
            g_res.reset(new Resident(m, c.cfg));
        }
        // layers that fit in the budget beside the head and the activations
        const attn::Plan apl =
            attn::plan(kv8 ? attn::KV_E4M3 : attn::KV_BF16, c.B, m.hkv, c.L + 1, g_attn_splits, m.hq / m.hkv, true);
        const double fixed = (double)g_res->lm_head.read_bytes() + 2.0 * m.hidden + 2 * ALLOC_SLACK +
                             (double)act_bytes(m, c.B, c.L, apl.nsplit);
        const double per_layer = (double)Resident::layer_alloc_bytes(m, fp8w) + (double)kv_layer_bytes(m, kv8, c.B, c.L);
        int n = (int)std::min<double>(m.layers, std::floor((g_budget - fixed) / per_layer));
        // and what is free now (another process may hold memory)
        size_t free_b = 0, total_b = 0;
        CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
        const double held = (double)g_res->layers.size() * Resident::layer_alloc_bytes(m, fp8w);
        const double margin = 256.0 * (1 << 20);
        while (n >= 1 && (double)n * per_layer - held + (double)act_bytes(m, c.B, c.L, apl.nsplit) > (double)free_b - margin)
            n--;
        if (n < 1) {
            char why[200];
            snprintf(why, sizeof why, "one layer does not fit: %.1f GB a layer (weights + KV) beside %.1f GB of head and "
                     "activations, budget %.1f GB (90%% of the free memory)", per_layer / 1e9, fixed / 1e9, g_budget / 1e9);
            st.SkipWithError(why);
            return;
        }
        g_res->resize(n);
        g_step.reset(new Step(*g_res, std::vector<int>(c.B, c.L), m.layers, false));
        if (!g_step->error.empty()) {
            st.SkipWithError(g_step->error.c_str());
            g_step.reset();
            return;
        }
        g_step->capture();
        g_step_key = key;
    }
    const Step &s = *g_step;
    const double sec = bench::time_launches(st, [&](int) { s.launch(); });
    const double wbytes = (double)m.layers * LayerW::read_bytes(m, fp8w) + g_res->lm_head.read_bytes() + 2.0 * m.hidden;
    const double kvbytes = (double)m.layers * 2.0 * c.B * m.hkv * (c.L + 1.0) * m.hd * (kv8 ? 1 : 2);
    const double flops = 2.0 * c.B * (m.layers * LayerW::params(m) + (double)m.vocab * m.hidden) +
                         4.0 * c.B * m.hq * (c.L + 1.0) * m.hd * m.layers;
    bench::set_counters(st, flops, wbytes + kvbytes);
    st.counters["tokens_per_s"] = sec > 0 ? c.B / sec : 0;
    st.counters["ms_per_step"] = sec * 1e3;
    st.counters["layers_run"] = s.n;
    st.counters["layers_total"] = m.layers;
    st.counters["scaled"] = s.n < m.layers ? 1 : 0;
    st.counters["weight_gb"] = wbytes / 1e9;
    st.counters["kv_gb"] = kvbytes / 1e9;
    // the share of the step's linear launches on the wgmma GEMM (0: all on the GEMV)
    st.counters["gemm"] = (double)s.gemm_launches() / s.linear_launches();
    std::string label;
    auto add = [&label](const std::string &part) { label += (label.empty() ? "" : "; ") + part; };
    if (s.n < m.layers) add("scaled: " + std::to_string(s.n) + " of " + std::to_string(m.layers) + " layers resident, reused in turn");
    if (!g_omit.empty()) { // a timing experiment, and its results say so
        std::string om;
        for (auto &k : g_omit) om += (om.empty() ? "" : ",") + k;
        add("NOT A STEP: --omit=" + om);
    }
    if (g_attn_splits) add("attn_splits=" + std::to_string(g_attn_splits) + " forced");
    if (!g_fuse_rope) add("fuse_rope=0");
    if (!g_fuse_silu) add("fuse_silu=0");
    if (g_gemv_even) add("gemv_even=1");
    if (g_gemv_max_fp8) add("gemv_max_fp8=" + std::to_string(g_gemv_max_fp8));
    for (auto &f : g_force) // (the GEMM takes no k groups or split: the flag does nothing there)
        if (s.runs_gemv(f.first))
            add("gemv_force=" + f.first + ":k" + std::to_string(f.second.kg) + "s" + std::to_string(f.second.split) + "r" +
                std::to_string(f.second.resident) + "e" + std::to_string(f.second.even) + "m" + std::to_string(f.second.max));
    if (!g_late.empty()) {
        std::string late;
        for (auto &k : g_late) late += (late.empty() ? "" : ",") + k;
        add("pdl_late=" + late);
    }
    if (!label.empty()) st.SetLabel(label);
}

// ---------------------------------------------------------------- check mode

// Raw little-endian tensors and a JSON manifest, for step_reference.py.
struct Dump {
    std::string dir;
    std::vector<std::string> entries;
    void tensor(const std::string &name, const void *data, size_t bytes, const char *dtype, const std::vector<long> &shape)
    {
        const std::string file = name + ".bin";
        FILE *f = fopen((dir + "/" + file).c_str(), "wb");
        if (!f || fwrite(data, 1, bytes, f) != bytes) {
            fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), file.c_str());
            exit(1);
        }
        fclose(f);
        std::string sh;
        for (size_t i = 0; i < shape.size(); i++) sh += (i ? ", " : "") + std::to_string(shape[i]);
        entries.push_back("  \"" + name + "\": {\"file\": \"" + file + "\", \"dtype\": \"" + dtype + "\", \"shape\": [" + sh + "]}");
    }
    template <class T> void tensor(const std::string &name, const DevBuf<T> &b, const char *dtype, const std::vector<long> &shape)
    {
        const std::vector<T> h = b.download();
        tensor(name, h.data(), h.size() * sizeof(T), dtype, shape);
    }
    void linear(const std::string &name, const Linear &L)
    {
        tensor(name + ".weight", L.w, L.fp8 ? "e4m3" : "bf16", {L.N, L.K});
        if (L.fp8) tensor(name + ".scale", L.s, "f32", {L.N});
    }
    void finish(const std::string &meta)
    {
        FILE *f = fopen((dir + "/manifest.json").c_str(), "w");
        if (!f) {
            fprintf(stderr, "cannot write %s/manifest.json\n", dir.c_str());
            exit(1);
        }
        fprintf(f, "{\n%s,\n \"tensors\": {\n", meta.c_str());
        for (size_t i = 0; i < entries.size(); i++) fprintf(f, " %s%s\n", entries[i].c_str(), i + 1 < entries.size() ? "," : "");
        fprintf(f, " }\n}\n");
        fclose(f);
    }
};

void make_dir(const std::string &d)
{
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", d.c_str(), strerror(errno));
        exit(1);
    }
}

bool finite_code(uint16_t bits, bool fp8)
{
    return fp8 ? (bits & 0x7F) != 0x7F : (bits & 0x7F80) != 0x7F80;
}

// One check case: run, test for non-finite outputs, dump. Returns pass.
bool check_case(const ModelCfg &m, int cfg, int B, int L, const std::string &root)
{
    const std::string name = std::string(config_name(cfg)) + "_b" + std::to_string(B) + "_l" + std::to_string(L);
    const uint64_t case_seed = g_seed;
    Resident R(m, cfg);
    R.resize(m.layers);
    // ragged: sequence b has pos[b] tokens cached, pos[0] = L
    std::vector<int> positions(B);
    for (int b = 0; b < B; b++) positions[b] = L - (b * 7) % (L / 2 + 1);
    Step S(R, positions, m.layers, true);
    if (!S.error.empty()) {
        printf("FAIL decode_step check %s: cannot run: %s\n", name.c_str(), S.error.c_str());
        return false;
    }
    S.capture(); // also one eager run
    const bool kv8 = S.kv8;
    const size_t eb = kv8 ? 1 : 2, row = (size_t)m.hd * eb;
    auto slot = [&](int b, int h, int t) { // byte offset of token t of sequence b, head h
        const int page = S.table_h[(size_t)b * S.stride + (t >> PAGE_SHIFT)];
        return ((((size_t)page * m.hkv + h) << PAGE_SHIFT) + (t & ((1 << PAGE_SHIFT) - 1))) * row;
    };
    // poison what the graph must write: the logits and every new-token slot
    CUDA_CHECK(cudaMemset(S.logits.p, 0xFF, S.logits.bytes()));
    std::vector<std::vector<uint8_t>> kb(m.layers), vb(m.layers);
    for (int l = 0; l < m.layers; l++) {
        kb[l] = S.kv[l]->k.download();
        vb[l] = S.kv[l]->v.download();
        for (int b = 0; b < B; b++)
            for (int h = 0; h < m.hkv; h++) {
                memset(&kb[l][slot(b, h, positions[b])], 0xFF, row);
                memset(&vb[l][slot(b, h, positions[b])], 0xFF, row);
            }
        CUDA_CHECK(cudaMemcpy(S.kv[l]->k.p, kb[l].data(), kb[l].size(), cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(S.kv[l]->v.p, vb[l].data(), vb[l].size(), cudaMemcpyHostToDevice));
    }
    // the cache before the step, logical [layer][b][head][token < L][128] (zeros past pos[b])
    const size_t nb = (size_t)m.layers * B * m.hkv * L * row;
    std::vector<uint8_t> kc(nb, 0), vc(nb, 0);
    for (int l = 0; l < m.layers; l++)
        for (int b = 0; b < B; b++)
            for (int h = 0; h < m.hkv; h++)
                for (int t = 0; t < positions[b]; t++) {
                    const size_t dst = ((((size_t)l * B + b) * m.hkv + h) * L + t) * row;
                    memcpy(&kc[dst], &kb[l][slot(b, h, t)], row);
                    memcpy(&vc[dst], &vb[l][slot(b, h, t)], row);
                }

    S.launch();
    CUDA_CHECK(cudaDeviceSynchronize());
    CUDA_CHECK_LAUNCH();

    // outputs: logits, the new token's K and V as written, [layer][b][head][128]
    const std::vector<uint16_t> logits = S.logits.download();
    std::vector<uint8_t> nk((size_t)m.layers * B * m.hkv * row), nv(nk.size());
    for (int l = 0; l < m.layers; l++) {
        const std::vector<uint8_t> k = S.kv[l]->k.download(), v = S.kv[l]->v.download();
        for (int b = 0; b < B; b++)
            for (int h = 0; h < m.hkv; h++) {
                const size_t dst = (((size_t)l * B + b) * m.hkv + h) * row;
                memcpy(&nk[dst], &k[slot(b, h, positions[b])], row);
                memcpy(&nv[dst], &v[slot(b, h, positions[b])], row);
            }
    }
    size_t bad = 0;
    for (uint16_t x : logits) bad += !finite_code(x, false);
    for (size_t i = 0; i < nk.size(); i += eb) {
        const uint16_t ck = kv8 ? nk[i] : (uint16_t)(nk[i] | nk[i + 1] << 8);
        const uint16_t cv = kv8 ? nv[i] : (uint16_t)(nv[i] | nv[i + 1] << 8);
        bad += !finite_code(ck, kv8) + !finite_code(cv, kv8);
    }
    int minb3 = 0; // GEMVs that ran the kernel for three CTAs an SM
    for (const auto &E : S.ex)
        for (const LinearExec *x : {&E.qkv, &E.o, &E.gate_up, &E.down}) minb3 += !x->gemm && x->gp.minb == 3;
    printf("%s decode_step check %s: logits and new K/V all finite (%zu non-finite of %zu)%s\n", bad ? "FAIL" : "ok  ",
           name.c_str(), bad, logits.size() + 2 * nk.size() / eb,
           minb3 ? (" (" + std::to_string(minb3) + " GEMVs with three CTAs an SM)").c_str() : "");
    fflush(stdout);

    Dump d;
    d.dir = root + "/" + name;
    make_dir(d.dir);
    const char *kvd = kv8 ? "e4m3" : "bf16";
    const long Lz = m.layers, Bz = B, Hz = m.hkv, Dz = m.hd;
    d.tensor("inv_freq", R.inv_freq, "f32", {m.hd / 2});
    d.tensor("positions", positions.data(), positions.size() * 4, "i32", {Bz});
    d.tensor("input_hidden", S.h0, "bf16", {Bz, m.hidden});
    for (int l = 0; l < m.layers; l++) {
        const LayerW &W = *R.layers[l];
        const std::string p = "layers." + std::to_string(l) + ".";
        d.tensor(p + "attn_norm", W.attn_norm, "bf16", {m.hidden});
        d.linear(p + "qkv", W.qkv);
        d.linear(p + "o", W.o);
        d.tensor(p + "mlp_norm", W.mlp_norm, "bf16", {m.hidden});
        d.linear(p + "gate_up", W.gate_up);
        d.linear(p + "down", W.down);
        if (kv8) {
            d.tensor(p + "k_scale", S.kv[l]->ks, "f32", {Hz});
            d.tensor(p + "v_scale", S.kv[l]->vs, "f32", {Hz});
        }
    }
    d.tensor("final_norm", R.final_norm, "bf16", {m.hidden});
    d.linear("lm_head", R.lm_head);
    d.tensor("k_cache", kc.data(), kc.size(), kvd, {Lz, Bz, Hz, (long)L, Dz});
    d.tensor("v_cache", vc.data(), vc.size(), kvd, {Lz, Bz, Hz, (long)L, Dz});
    d.tensor("out.logits", logits.data(), logits.size() * 2, "bf16", {Bz, m.vocab});
    d.tensor("out.new_k", nk.data(), nk.size(), kvd, {Lz, Bz, Hz, Dz});
    d.tensor("out.new_v", nv.data(), nv.size(), kvd, {Lz, Bz, Hz, Dz});
    std::string groups; // each layer's down projection input: 64-value groups, or per token (0)
    for (int l = 0; l < m.layers; l++) groups += (l ? ", " : "") + std::to_string(S.ex[l].silu_groups ? gemv::XGROUP : 0);
    char meta[2048];
    snprintf(meta, sizeof meta,
             " \"format\": \"fp8kit decode_step check dump 1\",\n"
             " \"case\": \"%s\", \"config\": \"%s\", \"seed\": %llu,\n"
             " \"weights\": \"%s\", \"kv\": \"%s\", \"lm_head\": \"%s\",\n"
             " \"act_quant\": %s, \"head_act_quant\": %s, \"down_act_group\": [%s],\n"
             " \"linear_path\": \"%s\",\n"
             " \"layers\": %d, \"hidden\": %d, \"intermediate\": %d, \"q_heads\": %d, \"kv_heads\": %d,\n"
             " \"head_dim\": %d, \"vocab\": %d, \"rms_eps\": %.9g, \"batch\": %d, \"max_cached\": %d, \"page_size\": %d,\n"
             " \"rope\": {\"type\": \"llama3\", \"theta\": %.17g, \"factor\": %.17g, \"low_freq_factor\": %.17g,\n"
             "          \"high_freq_factor\": %.17g, \"original_max_position_embeddings\": %d}",
             name.c_str(), config_name(cfg), (unsigned long long)case_seed, fp8_weights(cfg) ? "e4m3_channel" : "bf16", kvd,
             R.lm_head.fp8 ? "e4m3_channel" : "bf16", S.w8a8 ? "true" : "false", S.head_w8a8 ? "true" : "false",
             groups.c_str(),
             S.linear_paths().c_str(), m.layers, m.hidden, m.inter, m.hq, m.hkv, m.hd, m.vocab, m.eps, B, L,
             1 << PAGE_SHIFT, m.theta, m.rope_factor, m.low_ff, m.high_ff, m.orig_ctx);
    d.finish(meta);
    return bad == 0;
}

// SiLU * up to E4M3 against a double-precision host computation from the
// same BF16 gate/up values gu [M][2I]: each group's scale (`group` values of
// a token; I = one a token) is its amax / 448 (relative 1e-5: the GPU's
// expf), and every code is within half an E4M3 step of y / scale (round to
// nearest). Worst errors into worst_scale / worst_code; NaN fails.
// Scales: sc[m] (group = I), or gemv::xg_index() order (group = 64).
bool compare_silu_e4m3(const std::vector<uint16_t> &gu, int M, int I, int group, const std::vector<uint8_t> &q,
                       const std::vector<float> &sc, double &worst_scale, double &worst_code)
{
    bool ok = true;
    worst_scale = worst_code = 0;
    const int ng = I / group;
    for (int m = 0; m < M; m++) {
        std::vector<double> y(I);
        for (int i = 0; i < I; i++) {
            const double g = bf16_to_f32(gu[(size_t)m * 2 * I + i]), u = bf16_to_f32(gu[(size_t)m * 2 * I + I + i]);
            y[i] = g / (1 + std::exp(-g)) * u;
        }
        for (int j = 0; j < ng; j++) {
            double amax = 0;
            for (int i = j * group; i < (j + 1) * group; i++) amax = std::max(amax, std::fabs(y[i]));
            const double ref_s = amax > 0 ? amax / 448.0 : 1.0, got = sc[group == I ? (size_t)m : gemv::xg_index(m, j, M)];
            const double es = std::fabs(got - ref_s) / ref_s;
            worst_scale = std::max(worst_scale, std::isnan(es) ? 1e30 : es);
            if (!(es <= 1e-5)) ok = false;
            if (group != I) // the padding tokens' entries, up to a multiple of 8 tokens: 1
                for (int t = M; t < 8 * ((M + 7) / 8) && m == 0; t++)
                    if (!(sc[gemv::xg_index(t, j, M)] == 1.f)) ok = false, worst_scale = 1e30;
            for (int i = j * group; i < (j + 1) * group; i++) {
                const double v = fp8_e4m3_to_f32(q[(size_t)m * I + i]), t = y[i] / got;
                // one E4M3 step at |t|: 2^(e - 3) for normals, 2^-9 below 2^-6
                const double step = std::ldexp(1.0, std::max(std::ilogb(std::max(std::fabs(t), 1e-30)), -6) - 3);
                const double e = std::fabs(v - t) / step;
                worst_code = std::max(worst_code, std::isnan(v) ? 1e30 : e);
                if (!(e <= 0.5 + 1e-3)) ok = false;
            }
        }
    }
    return ok;
}

// silu_mul to E4M3 (a cluster of CTAs a token), per-token scales, from
// random BF16 gate/up values; outputs poisoned first.
bool check_silu_e4m3(int M, int I)
{
    std::mt19937_64 rng(next_seed());
    std::normal_distribution<float> nd(0.f, 2.f);
    std::vector<uint16_t> gu((size_t)M * 2 * I);
    for (auto &v : gu) v = fp8kit_f32_as_bits(nd(rng)) >> 16; // BF16 by truncation: any BF16 will do
    DevBuf<uint16_t> d_gu(gu.size());
    d_gu.upload(gu);
    DevBuf<uint8_t> d_q((size_t)M * I);
    DevBuf<float> d_s(M);
    CUDA_CHECK(cudaMemset(d_q.p, 0x7F, d_q.bytes())); // E4M3 NaN
    CUDA_CHECK(cudaMemset(d_s.p, 0xFF, d_s.bytes())); // FP32 NaN
    step::SiluParams sp{};
    sp.gu = (const bf16 *)d_gu.p, sp.yq = d_q.p, sp.ys = d_s.p, sp.I = I;
    step::silu_mul(sp, M, 0);
    CUDA_CHECK(cudaDeviceSynchronize());
    double worst_scale = 0, worst_code = 0;
    const bool ok = compare_silu_e4m3(gu, M, I, I, d_q.download(), d_s.download(), worst_scale, worst_code);
    printf("%s decode_step check silu_mul e4m3 M=%d I=%d: scale rel err %.2g (bound 1e-5), codes within %.3g E4M3 steps (bound 0.501)\n",
           ok ? "ok  " : "FAIL", M, I, worst_scale, worst_code);
    return ok;
}

// The W8A8 gate_up GEMV's SiLU epilogue to E4M3 in 1x64 groups (gemv.cuh
// EPI_SILU with act_q), against compare_silu_e4m3 over the same GEMV's plain
// output (EPI_Y, the same plan: the same FP32 sums, rounded to the same
// BF16 that the epilogue starts from); outputs poisoned first.
bool check_gate_up_silu_e4m3(int M, int I, int K, int split)
{
    Linear W;
    W.init(2 * I, K, true);
    DevBuf<uint8_t> x((size_t)M * K), q((size_t)M * I);
    DevBuf<float> xs(M), s(gemv::xg_count(M, I));
    DevBuf<uint16_t> gu((size_t)M * 2 * I);
    fill_e4m3_normal<<<FILL_GRID, FILL_BLOCK>>>(x.p, x.n, next_seed(), CODE_SD);
    fill_f32_unif<<<1, 64>>>(xs.p, M, next_seed(), 0.5f / CODE_SD, 1.5f / CODE_SD);
    CUDA_CHECK_LAUNCH();
    const gemv::Plan pl = gemv::plan(gemv::E4M3_A8, M, 2 * I, K, split, 0, gemv::pdl_default, 1);
    DevBuf<uint8_t> ws(std::max<size_t>(4, gemv::workspace_bytes(pl, 2 * I)));
    CUDA_CHECK(cudaMemset(ws.p, 0, ws.bytes()));
    CUDA_CHECK(cudaMemset(gu.p, 0xFF, gu.bytes()));  // BF16 NaN
    CUDA_CHECK(cudaMemset(q.p, 0x7F, q.bytes()));    // E4M3 NaN
    CUDA_CHECK(cudaMemset(s.p, 0xFF, s.bytes()));    // FP32 NaN
    gemv::Params p{W.w.p, x.p, W.s.p, (bf16 *)gu.p, M, 2 * I, K, pl.split, xs.p, ws.p, ws.bytes()};
    gemv::launch(gemv::E4M3_A8, p, pl, 0);
    p.epi = gemv::EPI_SILU, p.inter = I, p.act_q = q.p, p.act_s = s.p;
    gemv::launch(gemv::E4M3_A8, p, pl, 0);
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    double worst_scale = 0, worst_code = 0;
    const bool ok = compare_silu_e4m3(gu.download(), M, I, gemv::XGROUP, q.download(), s.download(), worst_scale, worst_code);
    printf("%s decode_step check gate_up GEMV + SiLU to e4m3 in 1x%d groups M=%d I=%d K=%d split=%d: scale rel err %.2g "
           "(bound 1e-5), codes within %.3g E4M3 steps (bound 0.501)\n", ok ? "ok  " : "FAIL", gemv::XGROUP, M, I, K,
           pl.split, worst_scale, worst_code);
    return ok;
}

int run_checks(const std::string &dir)
{
    const cudaDeviceProp &p = bench::device();
    printf("# %s, %d SMs; dumps in %s (compare: python3 microbench/decode/step_reference.py %s)\n", p.name,
           p.multiProcessorCount, dir.c_str(), dir.c_str());
    make_dir(dir);
    // a small model of Llama-3.1's architecture; every K a multiple of 128
    ModelCfg tiny;
    tiny.name = "tiny-llama";
    tiny.layers = 2, tiny.hidden = 512, tiny.inter = 1024, tiny.hq = 8, tiny.hkv = 2, tiny.hd = 128, tiny.vocab = 1000;
    int fails = 0;
    for (int M : {1, 5, 24})
        for (int I : {1024, 14336, 53248}) fails += !check_silu_e4m3(M, I);
    for (int M : {1, 5, 16})
        for (int split : {1, 3}) {
            fails += !check_gate_up_silu_e4m3(M, 1024, 512, split);
            fails += !check_gate_up_silu_e4m3(M, 14336, 1024, split);
        }
    for (int cfg = 0; cfg < NCONFIG; cfg++)
        for (int B : {1, 5, 12, 24, 70})
            for (int L : {7, 300}) fails += !check_case(tiny, cfg, B, L, dir);
    printf("# %d failed\n", fails);
    return fails ? 1 : 0;
}

// ---------------------------------------------------------------- shapes

} // namespace

int main(int argc, char **argv)
{
    bench::init(&argc, argv, {"models_file", "models", "configs", "lm_head", "check_dir", "omit", "pdl", "pdl_late",
                              "gemv_min_resident", "gemv_wide_ring", "gemv_wgmma", "gemv_max_fp8", "gemv_force", "gemv_even", "gemv_trace_layer", "fuse_rope", "fuse_silu",
                              "attn_splits", "attn_warps", "attn_pipe", "attn_producers"});
    const bench::Options &o = bench::options();
    g_seed = bench::seed_flag();
    const std::string lm = opt("lm_head", "bf16");
    if (lm != "bf16" && lm != "fp8") {
        fprintf(stderr, "--lm_head=%s: bf16 or fp8\n", lm.c_str());
        return 2;
    }
    g_lm_head_fp8 = lm == "fp8";
    gemv::min_resident = bench::opt_int("gemv_min_resident", 2, 1, 3, "1 to 3 (CTAs an SM the GEMVs' rings are sized for)"); // tuning
    gemv::wide_ring = bench::opt_int("gemv_wide_ring", 1, 0, 1, "1 or 0 (beyond 16 tokens, rings for the CTAs an SM the launch has)"); // tuning
    const std::string wgmma = opt("gemv_wgmma", "1"); // tuning
    if (wgmma != "0" && wgmma != "1" && wgmma != "2") {
        fprintf(stderr, "--gemv_wgmma=%s: 0 (mma.sync), 1 (the planner's rule) or 2 (wgmma)\n", wgmma.c_str());
        return 2;
    }
    gemv::wgmma_default = wgmma[0] - '0';
#ifdef GEMV_TRACE
    g_trace_layer = bench::opt_int("gemv_trace_layer", -1, -1, 1 << 20, "a layer index (0 ..)");
#else
    if (bench::refuse_unbuilt("gemv_trace_layer", "build/decode_step_trace", "GEMV_TRACE")) return 2;
#endif
    g_attn_splits = bench::opt_int("attn_splits", 0, 0, attn::MAX_SPLITS, ("0 (the planner's) to " + std::to_string(attn::MAX_SPLITS)).c_str()); // tuning
    // tuning: consumer warps and S a stage ahead forced (attn::set_forced)
    if (!attn::set_forced(opt("attn_warps", "0").c_str(), opt("attn_pipe", "-1").c_str(),
                            opt("attn_producers", "0").c_str()))
        return 2;
    for (auto f : {std::make_pair("fuse_rope", &g_fuse_rope), std::make_pair("fuse_silu", &g_fuse_silu),
                   std::make_pair("gemv_even", &g_gemv_even)}) { // tuning
        const std::string v = opt(f.first, *f.second ? "1" : "0"); // default: the flag's initial value
        if (v != "1" && v != "0") {
            fprintf(stderr, "--%s=%s: 1 or 0\n", f.first, v.c_str());
            return 2;
        }
        *f.second = v == "1";
    }
    const std::string gmax = opt("gemv_max_fp8", "0"); // tuning
    if (!bench::parse_int(gmax, 0, 64, &g_gemv_max_fp8)) g_gemv_max_fp8 = -1;
    if (g_gemv_max_fp8 != 0 && (g_gemv_max_fp8 < GEMV_MAX_M_FP8 || g_gemv_max_fp8 > 64)) {
        fprintf(stderr, "--gemv_max_fp8=%s: %d to 64 (W8A8 tokens through the GEMV in every layer), or 0 (by layer)\n",
                gmax.c_str(), GEMV_MAX_M_FP8);
        return 2;
    }
    const std::string pdl = opt("pdl", "1"); // tuning
    if (pdl != "1" && pdl != "0" && pdl != "gemv") {
        fprintf(stderr, "--pdl=%s: 1, 0 or gemv\n", pdl.c_str());
        return 2;
    }
    gemv::pdl_default = pdl != "0";
    g_pdl = pdl == "1";

    for (auto &f : split_csv(opt("gemv_force", ""))) {
        const size_t colon = f.find(':');
        const std::string name = f.substr(0, colon), v = colon == std::string::npos ? "" : f.substr(colon + 1);
        GemvForce g;
        int *const vals[] = {&g.kg, &g.split, &g.resident, &g.even, &g.max};
        if (!bench::parse_variant(v, "ksrem", vals, 2) || v.empty() || (g.kg != 0 && g.kg != 1 && g.kg != 2 && g.kg != 4) ||
            g.split > gemv::MAX_SPLIT || g.resident > 3 || g.even > 2 || (g.even && g.split > 1) ||
            (g.max != 0 && (g.max < GEMV_MAX_M_FP8 || g.max > 64)) || g_force.count(name) ||
            (name != "qkv" && name != "o" && name != "gate_up" && name != "down")) {
            fprintf(stderr, "--gemv_force=%s: qkv|o|gate_up|down:[k<1|2|4>][s<1..%d>][r<1..3>][e<1|2> (split 1)][m<%d..64>], each name once\n",
                    f.c_str(), gemv::MAX_SPLIT, GEMV_MAX_M_FP8);
            return 2;
        }
        if (o.check) {
            fprintf(stderr, "--gemv_force and --check: the check forces its own variants\n");
            return 2;
        }
        g_force[name] = g;
    }
    for (auto &k : split_csv(opt("pdl_late", ""))) {
        if (k != "attn_norm" && k != "attn" && k != "quant" && k != "mlp_norm") {
            fprintf(stderr, "--pdl_late=%s: attn_norm, attn, quant, mlp_norm\n", k.c_str());
            return 2;
        }
        g_late.insert(k);
    }
    for (auto &k : split_csv(opt("omit", ""))) {
        static const std::set<std::string> known = {"norm", "qkv", "rope", "attn", "quant", "o", "gate_up", "silu", "down", "head"};
        if (!known.count(k)) {
            fprintf(stderr, "--omit=%s: norm, qkv, rope, attn, quant, o, gate_up, silu, down, head\n", k.c_str());
            return 2;
        }
        g_omit.insert(k);
    }
    if (!g_omit.empty()) {
        if (o.check) {
            fprintf(stderr, "--omit and --check: a step without some of its kernels cannot be checked\n");
            return 2;
        }
        fprintf(stderr, "--omit: timing experiment, not a decode step; do not keep these results\n");
    }
    if (o.check) {
        const int rc = run_checks(opt("check_dir", "build/decode_step_check"));
        CUDA_CHECK(cudaDeviceSynchronize());
        return rc;
    }

    // shapes: models from models.txt; batches, contexts, model names from decode_step.txt
    const std::vector<ModelCfg> all = read_models(opt("models_file", "sweeps/models.txt"));
    std::map<std::string, std::vector<std::string>> lists;
    const std::string sf = o.shapes.empty() ? "sweeps/decode_step.txt" : o.shapes;
    for (auto &r : bench::read_shapes(sf)) {
        lists[r[0]] = std::vector<std::string>(r.begin() + 1, r.end());
        if (r[0].find("batch") != std::string::npos || r[0].find("context") != std::string::npos)
            for (size_t i = 1; i < r.size(); i++) bench::field_int(sf, r, i); // numbers, or exit 2 here
    }
    const std::string pre = o.quick ? "quick_" : "";
    for (const char *k : {"models", "batch", "context"})
        if (!lists.count(pre + k)) {
            fprintf(stderr, "shape list: no '%s%s' line\n", pre.c_str(), k);
            return 2;
        }
    std::vector<std::string> models = lists[pre + "models"];
    if (o.extra.count("models")) models = split_csv(opt("models", ""));
    std::set<std::string> configs;
    for (auto &c : split_csv(opt("configs", ""))) configs.insert(c);
    for (auto &name : models) // before any GPU work, as every other bad input
        if (std::none_of(all.begin(), all.end(), [&](const ModelCfg &x) { return x.name == name; })) {
            fprintf(stderr, "model %s is not in the models file\n", name.c_str());
            return 2;
        }

    bench::add_context();
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    g_budget = 0.9 * (double)free_b;
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", g_budget / 1e9);
    benchmark::AddCustomContext("decode_step_budget_gb", buf);
    benchmark::AddCustomContext("decode_step_lm_head", lm);

    for (auto &name : models) {
        const ModelCfg *m = nullptr;
        for (auto &x : all)
            if (x.name == name) m = &x; // (checked above)
        for (int cfg = 0; cfg < NCONFIG; cfg++) {
            if (!configs.empty() && !configs.count(config_name(cfg))) continue;
            // a model's own grid ("batch.MODEL", "context.MODEL") where the list has one
            auto grid = [&](const std::string &k) {
                const auto it = lists.find(pre + k + "." + m->name);
                return it != lists.end() ? it->second : lists[pre + k];
            };
            for (auto &bs : grid("batch"))
                for (auto &ls : grid("context")) {
                    const int B = std::stoi(bs), L = std::stoi(ls); // checked where the list was read
                    const std::string bn = "decode_step/" + m->name + "/" + config_name(cfg) + "/b" + std::to_string(B) +
                                           "_l" + std::to_string(L);
                    benchmark::RegisterBenchmark(bn.c_str(), bm_step, StepCase{*m, cfg, B, L})
                        ->UseManualTime()
                        ->Unit(benchmark::kMillisecond);
                }
        }
    }
    benchmark::RunSpecifiedBenchmarks();
#ifdef GEMV_TRACE
    if (g_step && g_trace_layer >= g_step->n)
        fprintf(stderr, "--gemv_trace_layer=%d: the last case holds %d resident layers; nothing traced\n", g_trace_layer,
                g_step->n);
    if (g_step && g_trace_layer >= 0 && g_trace_layer < g_step->n) {
        const gemv::TraceDump d = gemv::read_trace();
        const Step::LayerExec &E = g_step->ex[g_trace_layer];
        const LinearExec *lin[4] = {&E.qkv, &E.o, &E.gate_up, &E.down};
        const char *names[4] = {"qkv", "o", "gate_up", "down"};
        unsigned long long t0 = ~0ull; // the first entry of the traced GEMVs (QKV's unless --omit left it out)
        for (int i = 0; i < 4; i++)
            if (!lin[i]->gemm) t0 = std::min(t0, gemv::trace_first(d, i, lin[i]->gp.blocks));
        // the step's layers i run resident layer i % n: the last i that ran this one
        const int last_use = g_trace_layer + (g_step->total - 1 - g_trace_layer) / g_step->n * g_step->n;
        printf("%s, resident layer %d's GEMVs in the last replay (the step's layer %d%s; us after their first entry):\n",
               g_step_key.c_str(), g_trace_layer, last_use,
               g_step->n < g_step->total ? ", the last of the layers that reuse it" : "");
        for (int i = 0; i < 4; i++) {
            if (lin[i]->gemm) continue;
            const gemv::Plan &pl = lin[i]->gp;
            printf("%s: %dx%dx%d, kg %d split %d%s%s, %d CTAs, %d stages\n", names[i], lin[i]->gparams.M, lin[i]->gparams.N,
                   lin[i]->gparams.K, pl.kg, pl.split, pl.even ? ", rows evenly" : "", pl.minb ? ", three CTAs an SM" : "",
                   pl.blocks, pl.stages);
            gemv::print_trace(d, i, pl.blocks, t0, names[i]);
        }
        // its norms' block 0 (before qkv: attn_norm; before gate_up: mlp_norm)
        const std::vector<unsigned long long> rt = step::read_rms_trace();
        const char *norm_names[2] = {"attn_norm", "mlp_norm"};
        const char *what[step::RMS_TRACE_POINTS] = {"entry", "gamma issued", "PDL wait returned", "sum reduced",
                                                    "amax reduced", "stores issued"};
        for (int sl = 0; sl < step::RMS_TRACE_SLOTS; sl++)
            for (int e = 0; e < step::RMS_TRACE_POINTS; e++) {
                const unsigned long long t = rt[sl * step::RMS_TRACE_POINTS + e];
                if (t) printf("  %-9s %d %-18s %8.2f us\n", norm_names[sl], e, what[e], ((double)t - (double)t0) / 1e3);
            }
    }
#endif
    benchmark::Shutdown();
    g_step.reset();
    g_res.reset();
    return 0;
}
