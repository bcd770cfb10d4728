#!/bin/sh
# The GPU benchmarks refuse flags they do not know (bench::init), and the
# decode and decode-step binaries' tuning and diagnostic flags refuse bad
# values, each with a clear message and exit status 2 before any GPU work
# (so this runs on the CPU, in CI): each line is a binary, its flags and a
# piece of the message.
set -u
B=${BUILD:-build}
fail=0
n=0
while IFS='|' read -r bin args want; do
    [ -z "$bin" ] && continue
    n=$((n + 1))
    # shellcheck disable=SC2086 # the flags are words
    out=$("$B/$bin" $args 2>&1)
    rc=$?
    if [ $rc -eq 2 ] && printf '%s' "$out" | grep -qF -- "$want"; then
        echo "ok   $bin $args: refused ($want)"
    else
        echo "FAIL $bin $args: rc $rc, want 2 and '$want'; got: $(printf '%s' "$out" | grep -v '^# seed' | head -3)"
        fail=1
    fi
done <<'CASES'
decode_step|--gemv_force=down:k4s1xyz|--gemv_force=down:k4s1xyz: qkv|o|gate_up|down
decode_step|--gemv_force=down:k3s1|--gemv_force=down:k3s1:
decode_step|--gemv_force=down:k4s17|--gemv_force=down:k4s17:
decode_step|--gemv_force=o:r4|--gemv_force=o:r4:
decode_step|--gemv_force=o:e3|--gemv_force=o:e3:
decode_step|--gemv_force=o:s2e1|--gemv_force=o:s2e1: qkv|o|gate_up|down:[k<1|2|4>][s<1..16>][r<1..3>][e<1|2> (split 1)]
decode_step|--gemv_force=o:m8|--gemv_force=o:m8: qkv|o|gate_up|down:[k<1|2|4>][s<1..16>][r<1..3>][e<1|2> (split 1)][m<16..64>]
decode_step|--gemv_force=o:e1m65|--gemv_force=o:e1m65:
decode_step|--gemv_force=o:|--gemv_force=o::
decode_step|--gemv_force=o|--gemv_force=o:
decode_step|--gemv_force=foo:k4s1|--gemv_force=foo:k4s1:
decode_step|--gemv_force=down:k4s1,down:r1|each name once
decode_step|--gemv_force=down:k4s1 --check|--gemv_force and --check
decode_step|--gemv_res_o=1|unknown argument: --gemv_res_o=1 (this binary's own flags: --seed, --models_file
decode|--gemv_force=o:r1|unknown argument: --gemv_force=o:r1
gemm|--token=16|unknown argument: --token=16
quant|--variant=1|unknown argument: --variant=1
ceilings|--copy=1|unknown argument: --copy=1
decode_step|--pdl_late=bogus|--pdl_late=bogus: attn_norm, attn, quant, mlp_norm
decode_step|--gemv_trace_layer=3|--gemv_trace_layer: build/decode_step_trace has it (this binary is built without -DGEMV_TRACE)
decode_step|--attn_splits=-1|--attn_splits=-1: 0 (the planner's)
decode_step|--attn_warps=5|--attn_warps=5: 0, 4 or 8
decode|--attn_producers=3|--attn_producers=3: 1 or 2 (0: the rule's)
decode_step|--fuse_rope=2|--fuse_rope=2: 1 or 0
decode_step|--gemv_even=yes|--gemv_even=yes: 1 or 0
decode_step|--pdl=x|--pdl=x: 1, 0 or gemv
decode_step|--omit=bogus|--omit=bogus: norm, qkv
decode_step|--omit=norm --check|--omit and --check
decode_step_trace|--gemv_trace_layer=-2|--gemv_trace_layer=-2: a layer index
decode|--gemv_trace=e4m3_a8:1:4096:4096|built without -DGEMV_TRACE
decode|--attn_trace=e4m3:1:4096:16|built without -DATTN_TRACE
decode_trace|--gemv_trace=bogus:1:2:3|is not a supported wtype:M:N:K
decode|--gemv_wgmma=3|--gemv_wgmma=3: 0 (mma.sync), 1 (the planner's rule) or 2 (wgmma)
decode_step|--gemv_wgmma=x|--gemv_wgmma=x: 0 (mma.sync), 1 (the planner's rule) or 2 (wgmma)
decode_step|--gemv_max_fp8=65|--gemv_max_fp8=65: 16 to 64
decode_step|--gemv_max_fp8=8|--gemv_max_fp8=8: 16 to 64
decode_step|--gemv_max_fp8=|--gemv_max_fp8=: 16 to 64 (W8A8 tokens through the GEMV in every layer), or 0 (by layer)
decode_step|--gemv_max_fp8=1x|--gemv_max_fp8=1x: 16 to 64
decode|--only=bogus|--only=bogus: gemv, attn or chain
decode|--chain_ctas=3|--chain_ctas=3: 1 or 2
CASES
echo "# benchmark flags: $n cases"
exit $fail
