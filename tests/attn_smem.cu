// The attention epilogue's shared-memory layout of a warp's O
// (microbench/decode/attn_decode.cuh, o_col, o_lane_xor and the P V
// fragment's o_frag_h / o_frag_d, which the kernel's stores use), checked
// on the host: for FP8 and BF16 KV, every head's 128 columns are a
// permutation of d (nothing overwritten), the fragments cover each of 8
// heads x 128 d once, each store instruction of the epilogue puts its 32
// lanes on 32 distinct banks at the column o_col gives (the lanes' XOR and
// o_col agree), and the reader's 32 consecutive d of a head fall on 32
// banks. A wrong column would corrupt the output (decode --check sees that
// on a GPU); a conflict only costs time, which no GPU check sees.
#include "decode/attn_decode.cuh"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

static int fails = 0;

template <bool FP8> static void check()
{
    const char *kv = FP8 ? "FP8" : "BF16";
    constexpr int HD = attn::HD;
    int bad_perm = 0, bad_store = 0, bad_read = 0, worst_plain = 1;
    for (int h = 0; h < 16; h++) {
        std::set<int> cols;
        for (int d = 0; d < HD; d++) cols.insert(attn::o_col<FP8>(h, d));
        bad_perm += cols.size() != HD || *cols.begin() != 0 || *cols.rbegin() != HD - 1;
        for (int d0 = 0; d0 < HD; d0 += 32) { // the reader: 32 consecutive d of head h
            std::set<int> banks;
            for (int d = d0; d < d0 + 32; d++) banks.insert((h * HD + attn::o_col<FP8>(h, d)) % 32);
            bad_read += banks.size() != 32;
        }
    }
    // the stores: lane (g, c)'s o[hh][j][i] at the kernel's o_frag_h / o_frag_d
    // (each head's 128 d once over the lanes and j: checked below too)
    for (int hh = 0; hh < 2; hh++) {
        std::set<std::pair<int, int>> held;
        for (int j = 0; j < 8; j++)
            for (int i = 0; i < 4; i++) {
                std::set<int> banks, plain;
                for (int lane = 0; lane < 32; lane++) {
                    const int g = lane >> 2, c = lane & 3;
                    const int h = attn::o_frag_h(hh, c, i);
                    const int d = attn::o_frag_d<FP8>(g, j, i);
                    held.insert({h, d});
                    const int col = d ^ attn::o_lane_xor<FP8>(g, c);
                    bad_store += col != attn::o_col<FP8>(h, d);
                    banks.insert((h * HD + col) % 32);
                    plain.insert((h * HD + d) % 32);
                }
                bad_store += banks.size() != 32;
                worst_plain = std::max(worst_plain, 32 / (int)plain.size());
            }
        // 8 heads x 128 d, each held by exactly one (lane, j, i)
        bad_store += held.size() != 8 * HD || held.begin()->first != 8 * hh || held.rbegin()->first != 8 * hh + 7;
    }
    const bool ok = !bad_perm && !bad_store && !bad_read;
    printf("%s attention O in shared memory, %s: %s (unswizzled: %d-way store conflicts)\n", ok ? "ok  " : "FAIL", kv,
           ok ? "each head's columns a permutation of d, every store and read on 32 banks"
              : "columns repeated, fragments not covering each (head, d) once, a store or read with a bank "
                "conflict, or the lanes' XOR not o_col",
           worst_plain);
    fails += !ok;
}

int main()
{
    check<true>();
    check<false>();
    printf("attention smem layout: %s\n", fails ? "FAILED" : "all passed");
    return fails ? 1 : 0;
}
