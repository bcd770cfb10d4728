#!/bin/sh
# The GPU benchmarks refuse flags they do not know (bench::init), and the
# decode and decode-step binaries' tuning and diagnostic flags, numbers in
# flags and in shape lists refuse bad values, each with a clear message and
# exit status 2 before any GPU work
# (so this runs on the CPU, in CI): each line is a binary, its flags and a
# piece of the message.
set -u
B=${BUILD:-build}
fail=0
n=0
# shape lists with one bad number each (@B@ in a case is $B)
printf 'llama3.1-8b  o  4096  4O96\n' >"$B/flags_layers.txt"
printf 'batch 1 4\ncontext 1k\nllama3.1-8b 32 8 128\n' >"$B/flags_attention.txt"
printf 'batch 1\ncontext 4096\nllama3.1-8b 32 8 64\n' >"$B/flags_attention_d64.txt"
printf 'llama3.1-8b 32 4096.5 14336 32 8 128 128256 1e-5 500000 8 1 4 8192\n' >"$B/flags_models.txt"
printf 'models llama3.1-8b\nbatch 1 16,\ncontext 4096\n' >"$B/flags_step.txt"
printf 'llama3.1-8b 32 4096 14336 32 8 128 128256 1e-5 500000 8 4 1 8192\n' >"$B/flags_models_ff.txt"
printf 'llama3.1-8b 32 4096 14336 32 8 128 128256 1e-5 500000 0 1 4 8192\n' >"$B/flags_models_rope.txt"
while IFS='|' read -r bin args want; do
    [ -z "$bin" ] && continue
    n=$((n + 1))
    args=$(printf '%s' "$args" | sed "s|@B@|$B|g")
    want=$(printf '%s' "$want" | sed "s|@B@|$B|g")
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
decode|--attn_producers=two|--attn_producers=two: 1 or 2 (0: the rule's)
decode|--attn_warps=8x|--attn_warps=8x: 0, 4 or 8
decode_step|--attn_pipe=|--attn_pipe=: 0 or 1 (-1: the planner's)
decode|--gemv_min_resident=0|--gemv_min_resident=0: 1 to 3
decode_step|--gemv_min_resident=two|--gemv_min_resident=two: 1 to 3
decode|--gemv_wide_ring=2|--gemv_wide_ring=2: 1 or 0 (beyond 16 tokens, rings for the CTAs an SM the launch has)
decode_step|--gemv_wide_ring=|--gemv_wide_ring=: 1 or 0 (beyond 16 tokens, rings for the CTAs an SM the launch has)
decode|--gemv_stages=1|--gemv_stages=1: 0 (the planner's) or 2 to 16
decode|--gemv_stages=17|--gemv_stages=17: 0 (the planner's) or 2 to 16
decode|--gemv_stages=4x|--gemv_stages=4x: 0 (the planner's) or 2 to 16
decode|--gemv_pdl=no|--gemv_pdl=no: 1 or 0
decode|--attn_pdl=2|--attn_pdl=2: 1 or 0
decode|--chain_pre=x|--chain_pre=x: 0 (the whole ring)
decode|--only=gemv --tokens=1,16x|--tokens=1,16x: '16x' is not a token count, 1 to 64
decode|--only=gemv --tokens=128|--tokens=128: '128' is not a token count, 1 to 64
decode|--only=gemv --tokens=1,,16|--tokens=1,,16: an empty item (each is a token count, 1 to 64)
decode|--only=gemv --tokens=+16|--tokens=+16: '+16' is not a token count, 1 to 64
decode|--only=attn --tokens=x|--tokens=x: 'x' is not a token count, 1 to 64
decode|--models=llama3.1-8bb|--models: no benchmark of 'llama3.1-8bb' in the lists this run reads (sweeps/layers.txt, sweeps/attention.txt)
decode|--check --models=llama3.1-8b|--models: --check runs fixed cases
decode|--check --tokens=1,,16|--tokens=1,,16: an empty item
decode|--only=attn --models=llama3.1-8b --attention=@B@/flags_attention_d64.txt|--models: no benchmark of 'llama3.1-8b' in the lists this run reads (@B@/flags_attention_d64.txt)
decode|--only=attn --models=llama3.1-8b,llama9-1b|--models: no benchmark of 'llama9-1b' in the lists this run reads (sweeps/attention.txt)
decode_step|--attn_splits=4.5|--attn_splits=4.5: 0 (the planner's) to 256
decode_step_trace|--gemv_trace_layer=x|--gemv_trace_layer=x: a layer index
decode|--seed=12ab|--seed=12ab: a non-negative integer
gemm|--copy_gbps=fast|--copy_gbps=fast: a number >= 0
gemm|--peak_e4m3=-1|--peak_e4m3=-1: a number >= 0
gemm|--shapes=sweeps/layers.txt --tokens=16,x|--tokens=16,x: 'x' is not a token count
gemm|--shapes=sweeps/layers.txt --tokens=16,|--tokens=16,: an empty item
gemm|--shapes=@B@/flags_layers.txt --tokens=16|@B@/flags_layers.txt: in the line 'llama3.1-8b', field 4 ('4O96') is not an integer
decode|--only=gemv --layers=@B@/flags_layers.txt|@B@/flags_layers.txt: in the line 'llama3.1-8b', field 4 ('4O96') is not an integer
decode|--only=attn --attention=@B@/flags_attention.txt|@B@/flags_attention.txt: in the line 'context', field 2 ('1k') is not an integer
decode_step|--models_file=@B@/flags_models.txt|@B@/flags_models.txt: in the line 'llama3.1-8b', field 3 ('4096.5') is not an integer
decode_step|--shapes=@B@/flags_step.txt|@B@/flags_step.txt: in the line 'batch', field 3 ('16,') is not an integer
decode_step|--models=llama9-1b|model llama9-1b is not in the models file
decode_step|--models_file=@B@/flags_models_ff.txt|high_freq_factor (1) must exceed low_freq_factor (4)
decode_step|--models_file=@B@/flags_models_rope.txt|@B@/flags_models_rope.txt: in the line 'llama3.1-8b', field 11 ('0') is not a number in [1, 1e+06]
CASES
# Good values still get past the checks (exit status not 2: 0 on a GPU,
# where the filter leaves nothing to run, or the CUDA error without one);
# --copy_gbps=0 is what the sweep passes when it could not measure the copy;
# --quick's default models need not all be in a given list.
printf 'llama3.1-8b  o  4096  4096\n' >"$B/flags_layers_8b.txt"
while read -r bin args; do
    [ -z "$bin" ] && continue
    n=$((n + 1))
    args=$(printf '%s' "$args" | sed "s|@B@|$B|g")
    # shellcheck disable=SC2086 # the flags are words
    out=$("$B/$bin" $args --benchmark_filter='^none$' 2>&1)
    if [ $? -ne 2 ]; then
        echo "ok   $bin $args: accepted"
    else
        echo "FAIL $bin $args: refused: $(printf '%s' "$out" | grep -v '^# seed' | head -2)"
        fail=1
    fi
done <<'GOOD'
gemm --copy_gbps=0.00 --peak_e4m3=0 --shapes=sweeps/gemm_quick.txt
gemm --shapes=sweeps/layers.txt --tokens=prefill
decode --seed=12 --gemv_stages=0 --gemv_min_resident=1 --gemv_wide_ring=0 --gemv_pdl=0 --attn_producers=0 --attn_pipe=-1 --attn_warps=8 --only=gemv --tokens=1,16,64
decode --chain_pre=0 --chain_ctas=2 --only=chain
decode --only=attn --models=llama3.1-70b --attn_variants=s8,w4p0
decode --quick --only=gemv --layers=@B@/flags_layers_8b.txt
decode_step --quick --attn_splits=0 --gemv_max_fp8=0 --gemv_min_resident=3 --copy_gbps=4240.42
GOOD
echo "# benchmark flags: $n cases"
exit $fail
