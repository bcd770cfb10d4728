// The decode GEMV's planner (microbench/decode/gemv.cuh, shape()), checked
// on the host: every plan it makes over real and odd shapes runs (runs():
// supported k groups and split, rows evenly only where they fit), its grid
// is the one its k groups, split and rows evenly imply, and forced k groups
// and splits are kept. Then the picks that other code and tests rely on, on
// 132 SMs (H100 SXM, H200), as NOTES.md records them:
//  - 70B qkv takes 32-row CTAs unsplit up to 8 tokens (v14); at 9-16 W8A8
//    keeps them with the kernel for three CTAs an SM (v15) and BF16 splits
//    K (tests/gpu.sh traces that launch as its split-K chain);
//  - 8B gate_up has one k group up to 16 tokens (decode_step's SiLU-to-E4M3
//    epilogue needs a CTA to hold 64 outputs of a token), 70B's four;
//  - 8B o and down split their rows evenly alone and keep tiles where the
//    step forbids that (force_even -1);
//  - nothing else among the Llama layers takes the three-CTA kernel;
//  - the rings' CTAs an SM (ring_residents()) beyond 16 tokens (v28).
// A planner change that moves one of these must move what relies on it.
#include "decode/gemv.cuh"

#include <cstdio>

static int fails = 0;

static void expect(bool cond, const char *what)
{
    if (!cond) {
        printf("FAIL gemv plan: %s\n", what);
        fails++;
    }
}

int main()
{
    using namespace gemv;
    // Llama-3.1-8B/70B/405B layers (N x K), then odd ones
    const int shapes[][2] = {{6144, 4096},   {4096, 4096},   {28672, 4096},  {4096, 14336}, {10240, 8192},
                             {8192, 8192},   {57344, 8192},  {8192, 28672},  {18432, 16384}, {16384, 16384},
                             {106496, 16384}, {16384, 53248}, {1000, 512},    {256, 1024},    {32, 128},
                             {131, 384},     {4097, 2048},   {128256, 4096}};
    const int ms[] = {1, 2, 5, 8, 9, 12, 16, 17, 24, 32, 40, 64};
    const int sm_counts[] = {132, 114, 78, 16};
    int plans = 0;
    char what[256];
    for (int wt = BF16; wt <= E4M3_A8G; wt++)
        for (auto &nk : shapes)
            for (int M : ms)
                for (int sms : sm_counts) {
                    const int N = nk[0], K = nk[1];
                    if (!supported(wt, M, N, K, 1, 1)) continue;
                    for (int fe : {0, -1}) {
                        const Plan pl = shape(wt, M, N, K, sms, 0, 0, fe);
                        plans++;
                        const int grid = pl.even ? pl.even * sms : (N + BN / pl.kg - 1) / (BN / pl.kg) * pl.split;
                        snprintf(what, sizeof what, "wt %d M %d N %d K %d sms %d force_even %d: kg %d split %d even %d blocks %d minb %d",
                                 wt, M, N, K, sms, fe, pl.kg, pl.split, pl.even, pl.blocks, pl.minb);
                        if (!runs(wt, M, N, K, pl) || pl.blocks != grid || pl.mt != (M + 7) / 8 || (fe < 0 && pl.even) ||
                            (pl.even && pl.split != 1) || !minb_built(wt, pl.mt, pl.kg, pl.minb) ||
                            (pl.minb && (pl.even || pl.blocks > 3 * sms || pl.blocks <= 2 * sms)))
                            expect(false, what);
                    }
                    for (int kg : {1, 2, 4})
                        for (int split : {1, 2, 3}) {
                            if (!supported(wt, M, N, K, split, kg)) continue;
                            const Plan pl = shape(wt, M, N, K, sms, split, kg);
                            plans++;
                            if (pl.kg != kg || pl.split != split || pl.even || pl.minb) {
                                snprintf(what, sizeof what, "wt %d M %d N %d K %d: forced kg %d split %d gave kg %d split %d even %d minb %d",
                                         wt, M, N, K, kg, split, pl.kg, pl.split, pl.even, pl.minb);
                                expect(false, what);
                            }
                        }
                }
    if (!fails) printf("ok   gemv plan: %d plans over %d shapes x 5 types x %d M x %d SM counts run, their grids as implied, forced k groups and splits kept\n",
                       plans, (int)(sizeof shapes / sizeof shapes[0]), (int)(sizeof ms / sizeof ms[0]),
                       (int)(sizeof sm_counts / sizeof sm_counts[0]));

    const int before = fails;
    auto pick = [&](const char *layer, int wt, int M, int N, int K, int fe, int kg, int split, int even, int minb = 0) {
        const Plan pl = shape(wt, M, N, K, 132, 0, 0, fe);
        const bool good = pl.kg == kg && (split < 0 ? pl.split > 1 : pl.split == split) && pl.even == even && pl.minb == minb;
        snprintf(what, sizeof what, "%s (%s, M %d%s): kg %d split %d even %d minb %d, expected kg %d split %s%d even %d minb %d",
                 layer, wt == BF16 ? "bf16" : wt == E4M3_A8 ? "e4m3_a8" : "e4m3_a8g", M, fe < 0 ? ", in the step" : "",
                 pl.kg, pl.split, pl.even, pl.minb, kg, split < 0 ? "> " : "", split < 0 ? 1 : split, even, minb);
        expect(good, what);
    };
    for (int M : {9, 12, 16}) {
        pick("70B qkv", E4M3_A8, M, 10240, 8192, 0, 4, 1, 0, 3);
        pick("70B qkv", E4M3_A8G, M, 10240, 8192, 0, 4, 1, 0, 3);
        pick("70B qkv", E4M3_A8, M, 10240, 8192, -1, 4, 1, 0, 3);
        pick("70B qkv", BF16, M, 10240, 8192, 0, 1, -1, 0);
    }
    for (int wt = BF16; wt <= E4M3_A8G; wt++) // the three-CTA kernel nowhere else among the Llama layers
        for (int i = 0; i < 12; i++)
            for (int M : {1, 8, 9, 16, 17})
                if (supported(wt, M, shapes[i][0], shapes[i][1], 1, 1) && shapes[i][0] != 10240) {
                    const Plan pl = shape(wt, M, shapes[i][0], shapes[i][1], 132);
                    snprintf(what, sizeof what, "wt %d M %d N %d K %d: minb %d, expected 0", wt, M, shapes[i][0],
                             shapes[i][1], pl.minb);
                    expect(pl.minb == 0, what);
                }
    for (int wt : {(int)E4M3_A8, (int)BF16}) {
        for (int M : {1, 2, 4, 8}) pick("70B qkv", wt, M, 10240, 8192, 0, 4, 1, 0);
        for (int M : {1, 16}) {
            pick("8B qkv", wt, M, 6144, 4096, 0, 4, 1, 0);
            pick("8B o", wt, M, 4096, 4096, 0, 4, 1, 1);
            pick("8B down", wt, M, 4096, 14336, 0, 4, 1, 1);
            pick("8B o", wt, M, 4096, 4096, -1, 4, 1, 0);
            pick("8B down", wt, M, 4096, 14336, -1, 4, 2, 0);
            pick("70B down", wt, M, 8192, 28672, -1, 4, 1, 0);
        }
    }
    for (int M : {1, 5, 12, 16}) {
        pick("8B gate_up", E4M3_A8, M, 28672, 4096, -1, 1, 1, 0);
        pick("70B gate_up", E4M3_A8, M, 57344, 8192, -1, 4, 1, 0);
    }
    if (fails == before) printf("ok   gemv plan: the picks that the step's epilogues, tests/gpu.sh and NOTES.md rely on (132 SMs)\n");

    // The rings' CTAs an SM (ring_residents(), NOTES.md v28): at least two
    // up to 16 tokens; beyond, the launch's own CTAs an SM: one where they do
    // not outnumber the SMs, two where they do at 17-32 tokens, and at 33-64
    // only on wgmma without split K
    const int before_rings = fails;
    auto rings = [&](const char *layer, int wt, int M, int N, int K, int want) {
        const Plan pl = shape(wt, M, N, K, 132);
        const bool wg = on_wgmma(wt, pl.mt, N);
        const int got = ring_residents(pl.mt, pl.minb ? pl.minb : default_minb(pl.mt), pl.blocks, 132, wg, pl.split);
        snprintf(what, sizeof what, "%s (wt %d, M %d: %d CTAs, split %d%s): rings for %d CTAs an SM, expected %d", layer, wt,
                 M, pl.blocks, pl.split, wg ? ", wgmma" : "", got, want);
        expect(got == want, what);
    };
    for (int wt : {(int)BF16, (int)E4M3_A8, (int)E4M3_CHANNEL}) {
        for (int M : {1, 16}) rings("8B o", wt, M, 4096, 4096, 2);
        for (int M : {17, 32, 48, 64}) {
            rings("8B o", wt, M, 4096, 4096, 1);
            rings("70B down", wt, M, 8192, 28672, 1);
        }
        for (int M : {17, 32}) rings("70B gate_up", wt, M, 57344, 8192, 2);
        rings("70B gate_up", wt, 64, 57344, 8192, wt == E4M3_CHANNEL ? 1 : 2); // W8A16 has no wgmma path
        rings("8B gate_up", wt, 64, 28672, 4096, wt == E4M3_CHANNEL ? 1 : 2);  // 224 CTAs
    }
    for (int M : {17, 32}) rings("70B qkv", BF16, M, 10240, 8192, 2); // 240 CTAs, split K: two at 17-32 tokens
    rings("70B qkv", E4M3_A8, 32, 10240, 8192, 1);                    // 80 CTAs
    {
        const Plan pl = shape(BF16, 64, 10240, 8192, 132); // split K, more CTAs than SMs: one
        snprintf(what, sizeof what, "70B qkv BF16 at 64 tokens: split %d, %d CTAs (the case for one-CTA rings wants split K and more CTAs than SMs)", pl.split, pl.blocks);
        expect(pl.split > 1 && pl.blocks > 132, what);
        rings("70B qkv", BF16, 64, 10240, 8192, 1);
    }
    wide_ring = 0; // the old rings: half an SM up to 32 tokens, one beyond
    rings("8B o", BF16, 32, 4096, 4096, 2);
    rings("70B gate_up", BF16, 64, 57344, 8192, 1);
    wide_ring = 1;
    if (fails == before_rings) printf("ok   gemv plan: rings for the CTAs an SM the launch has beyond 16 tokens, for at least two up to 16 (132 SMs)\n");
    return fails ? 1 : 0;
}
