// The rows a CTA of the decode GEMV owns (microbench/decode/gemv.cuh,
// pair_rows), checked on the host for every tile of real shapes: each row
// of W belongs to exactly one CTA, a CTA's two boxes are contiguous, and
// with the pair epilogues the rows r and r + R / 2 of a CTA are the pair the
// epilogue combines (RoPE: d and d + 64 of one head; SiLU: gate j and up j).
// A wrong mapping here would write the wrong K/V or activations; the GPU's
// decode_step --check would see it too, but only on a GPU. The same for the
// layout of E4M3_A8G's activation scales (check_xg).
#include "decode/gemv.cuh"

#include <cstdio>
#include <vector>

static int fails = 0;

// epi over N rows, R rows a CTA; pair(row) gives the row that must sit R / 2
// below it in the CTA (or -1 to skip that check); first_ok(row) whether a row
// may be in the first box
template <class Pair, class First>
static void check(const char *what, int epi, int N, int R, int inter, Pair pair, First first_ok)
{
    std::vector<int> seen(N, 0);
    const bool paired = epi != gemv::EPI_Y;
    int bad = 0;
    for (int tile = 0; tile < N / R; tile++) {
        const gemv::PairRows pr = gemv::pair_rows(epi, tile, R, inter);
        for (int r = 0; r < R; r++) {
            const int row = pr(r);
            if (row < 0 || row >= N) {
                bad++;
                continue;
            }
            seen[row]++;
            // the boxes the producer loads: row0.. (R / 2 rows), row0 + off..
            const int want = !paired ? tile * R + r : r < R / 2 ? pr.row0 + r : pr.row0 + pr.off + r - R / 2;
            if (row != want) bad++;
            if (paired && r < R / 2 && (pr(r + R / 2) != pair(row) || !first_ok(row))) bad++;
        }
    }
    for (int row = 0; row < N; row++) bad += seen[row] != 1;
    printf("%s gemv rows %s, N %d, %d rows a CTA: %s\n", bad ? "FAIL" : "ok  ", what, N, R,
           bad ? "rows missing, repeated or unpaired" : "every row once, the boxes contiguous, pairs together");
    fails += bad != 0;
}

// E4M3_A8G's X scales (gemv.cuh xg_index): every (token, 64-k group),
// padding tokens up to MP = 8 ceil(M / 8) included, has its own entry below
// xg_count; the entries of a 128-k block b for every token are exactly
// floats [2 MP b, 2 MP (b + 1)) (the producer copies KG blocks as one run);
// and the consumers' offset into a stage's copy (xg_stage_offset) is that
// entry for every k group, token and half.
static void check_xg(int M, int K, int KG)
{
    const int MP = 8 * ((M + 7) / 8), MT = MP / 8, G = K / gemv::XGROUP;
    const size_t n = gemv::xg_count(M, K);
    std::vector<int> seen(n, 0);
    int bad = n != (size_t)MP * G;
    for (int m = 0; m < MP; m++)
        for (int g = 0; g < G; g++) {
            const size_t i = gemv::xg_index(m, g, M);
            if (i >= n) {
                bad++;
                continue;
            }
            seen[i]++;
            if (i / (2 * (size_t)MP) != (size_t)g / 2) bad++; // in its block's run
        }
    for (size_t i = 0; i < n; i++) bad += seen[i] != 1;
    for (int b0 = 0; b0 + KG <= K / 128; b0 += KG) // a stage: blocks b0 .. b0 + KG - 1
        for (int kg = 0; kg < KG; kg++)
            for (int m = 0; m < MP; m++)
                for (int h = 0; h < 2; h++)
                    bad += (size_t)2 * MP * b0 + gemv::xg_stage_offset(kg, m, h, MT) != gemv::xg_index(m, 2 * (b0 + kg) + h, M);
    printf("%s gemv 1x64 scales M %d, K %d, %d k groups: %s\n", bad ? "FAIL" : "ok  ", M, K, KG,
           bad ? "entries missing, repeated, outside their block or not where a stage reads them"
               : "every entry once, a block's in one run, each where a stage reads it");
    fails += bad != 0;
}

// Rows split evenly over `ctas` CTAs (gemv.cuh even_rows, Plan::even):
// wherever even_fits() allows the split, the CTAs' shares cover [0, N) once,
// in order, each at least one row and at most the tile a CTA loads (R =
// 128 / kg rows from its first), so that no CTA writes a row it did not
// load and none is written twice.
static void check_even()
{
    int bad = 0, cases = 0;
    for (int sms : {78, 108, 114, 132, 144})
        for (int ctas : {sms, 2 * sms})
            for (int kg : {1, 2, 4})
                for (int N = 1; N <= 40000; N += N < 300 ? 1 : 97) {
                    if (!gemv::even_fits(N, kg, ctas)) continue;
                    cases++;
                    int next = 0;
                    for (int t = 0; t < ctas; t++) {
                        const gemv::EvenRows e = gemv::even_rows(t, N, ctas);
                        bad += e.lo != next || e.hi - e.lo < 1 || e.hi - e.lo > gemv::BN / kg;
                        next = e.hi;
                    }
                    bad += next != N;
                }
    // and even_fits() is what allows it: 4096 rows take 132 CTAs of 32, not 114
    bad += !gemv::even_fits(4096, 4, 132) || gemv::even_fits(4096, 4, 114) || gemv::even_fits(100, 4, 132);
    printf("%s gemv rows split evenly: %d (SMs, CTAs, k groups, N) cases: %s\n", bad ? "FAIL" : "ok  ", cases,
           bad ? "a share out of order, empty, past its tile, or N not covered" : "every row once, each share within its tile");
    fails += bad != 0;
}

int main()
{
    check_even();
    for (int M : {1, 5, 8, 9, 16})
        for (int K : {1024, 4096, 14336})
            for (int KG : {1, 2, 4}) check_xg(M, K, KG);
    for (int R : {128, 64, 32}) { // k groups 1, 2, 4
        for (int N : {1536, 4096, 28672}) check("Y", gemv::EPI_Y, N, R, 0, [](int) { return -1; }, [](int) { return true; });
        // QKV of the check's tiny model (8 + 2 + 2 heads), Llama-3.1-8B (48), -70B (80), -405B (144)
        for (int heads : {12, 48, 80, 144})
            check("RoPE", gemv::EPI_ROPE, heads * 128, R, 0, [](int row) { return row + 64; },
                  [](int row) { return row % 128 < 64; });
        // gate_up of the tiny model, Llama-3.1-8B, -70B, -405B
        for (int inter : {1024, 14336, 28672, 53248})
            check("SiLU", gemv::EPI_SILU, 2 * inter, R, inter, [inter](int row) { return row + inter; },
                  [inter](int row) { return row < inter; });
    }
    printf("gemv rows: %s\n", fails ? "FAILED" : "all passed");
    return fails ? 1 : 0;
}
