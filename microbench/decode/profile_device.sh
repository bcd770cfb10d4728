#!/bin/sh
# On the GPU machine: where the decode kernels' time goes. Times a few GEMV
# and attention cases, then ncu (clocks left alone) on one launch of each
# kernel: speed of light, occupancy (and what limits it), warp stalls.
#   sh microbench/decode/profile_device.sh OUTDIR
set -u
O=${1:?usage: profile_device.sh OUTDIR}
B=${DECODE_BIN:-build/decode}
mkdir -p "$O"
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,power.limit --format=csv,noheader
SECT="--section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis"
t0=$(date +%s)
timeout 120 "$B" --only=gemv --models=llama3.1-8b,llama3.1-70b --tokens=1,16 --benchmark_min_time=0.05 \
    --benchmark_filter='(4096x4096|57344x8192|6144x4096)' --benchmark_out="$O/gemv.json" --benchmark_out_format=json >"$O/gemv.log" 2>&1
echo "gemv timing rc=$? $(( $(date +%s) - t0 )) s"
t0=$(date +%s)
printf 'llama3.1-8b 32 8 128\nbatch 1 16 64\ncontext 4096 32768\n' >/tmp/att.txt
timeout 150 "$B" --only=attn --attention=/tmp/att.txt --benchmark_min_time=0.05 --benchmark_filter='(contig|paged64)' \
    --benchmark_out="$O/attn.json" --benchmark_out_format=json >"$O/attn.log" 2>&1
echo "attn timing rc=$? $(( $(date +%s) - t0 )) s"
python3 microbench/decode/summarize.py "$O/gemv.json" "$O/attn.json" 2>&1 | tee "$O/summary.txt"
for c in "gemv/fp8kit/e4m3_channel/1x57344x8192" "gemv/fp8kit/bf16/16x4096x4096" "gemv/fp8kit/e4m3_channel/16x6144x4096"; do
    f=$(echo "$c" | tr '/' '_')
    timeout 90 ncu --clock-control none -k regex:gemv_kernel -s 3 -c 1 $SECT "$B" --only=gemv --models=llama3.1-8b,llama3.1-70b \
        --tokens=1,16 --benchmark_filter="^$c/" --benchmark_min_time=0.01 >"$O/ncu_$f.txt" 2>&1
    echo "== ncu $c rc=$?"
    grep -E 'Duration|DRAM Throughput|Memory Throughput|Registers Per|Achieved Occupancy|Theoretical Occupancy|Block Limit|Issue Slots Busy|No Eligible|Dynamic Shared|Warp Cycles Per Issued|Stall' "$O/ncu_$f.txt" | head -24
done
for c in "attn_decode/fp8kit/e4m3/b1_l32768_hq32_hkv8_d128_contig" "attn_decode/fp8kit/bf16/b16_l4096_hq32_hkv8_d128_contig"; do
    f=$(echo "$c" | tr '/' '_')
    timeout 90 ncu --clock-control none -k regex:attn_decode_kernel -s 3 -c 1 $SECT "$B" --only=attn --attention=/tmp/att.txt \
        --benchmark_filter="^$c/" --benchmark_min_time=0.01 >"$O/ncu_$f.txt" 2>&1
    echo "== ncu $c rc=$?"
    grep -E 'Duration|DRAM Throughput|Memory Throughput|Registers Per|Achieved Occupancy|Theoretical Occupancy|Block Limit|Issue Slots Busy|No Eligible|Dynamic Shared|Warp Cycles Per Issued|Stall' "$O/ncu_$f.txt" | head -24
done
