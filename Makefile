# fp8kit: plain make. `make test` builds and runs every CPU test (GPU tests
# too when a GPU is present); `make sweep GPU=h100` runs the benchmarks.

CC      ?= gcc
CXX     ?= g++
CUDA_HOME ?= /usr/local/cuda
NVCC    ?= $(CUDA_HOME)/bin/nvcc
BUILD   := build
PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python

CFLAGS_TEST   := -O3 -march=native -fopenmp -Wall -Wextra -Werror
SANITIZE      := -O1 -g -fopenmp -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CUDA_INC      := -I$(CUDA_HOME)/include
CODEC         := codec/fp8.h

.SECONDEXPANSION:
.PHONY: all test test-deps venv clean
all: $(BUILD)/properties $(BUILD)/exhaustive

# ---- Python environment (made on first use; no other set-up step) ----
$(VENV)/stamp: tests/requirements.txt tests/requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r tests/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --require-hashes -r tests/requirements-nodeps.txt
	touch $@
venv: $(VENV)/stamp

# ---- codec tests ----
$(BUILD)/properties: tests/properties.c $(CODEC)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic $(CFLAGS_TEST) $< -o $@
# The references written by others (NVIDIA's host code, F16C) are one object
# built with the normal flags, so the sanitizers instrument only our codec.
$(BUILD)/exhaustive_refs.o: tests/exhaustive_refs.cpp tests/exhaustive_refs.h
	@mkdir -p $(BUILD)
	$(CXX) -std=c++17 $(CFLAGS_TEST) $(CUDA_INC) -c $< -o $@
$(BUILD)/exhaustive: tests/exhaustive.cpp $(BUILD)/exhaustive_refs.o $(CODEC)
	@mkdir -p $(BUILD)
	$(CXX) -std=c++17 $(CFLAGS_TEST) $< $(BUILD)/exhaustive_refs.o -o $@
$(BUILD)/properties-san: tests/properties.c $(CODEC)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(SANITIZE) $< -o $@
$(BUILD)/exhaustive-san: tests/exhaustive.cpp $(BUILD)/exhaustive_refs.o $(CODEC)
	@mkdir -p $(BUILD)
	$(CXX) -std=c++17 $(SANITIZE) $< $(BUILD)/exhaustive_refs.o -o $@

# The ml_dtypes tables are regenerated from ml_dtypes and compared with the
# committed ones (comment lines, which name versions, aside).
$(BUILD)/mldtypes.rle: tests/mldtypes_ref.py $(VENV)/stamp
	@mkdir -p $(BUILD)
	$(PY) tests/mldtypes_ref.py $@

# ---- the test list ----
# Each group is a name in TESTS and a shell command in test-cmd-<name> that
# prints "ok"/"FAIL"/"SKIPPED" lines (tests/run.sh counts them). A part of
# the project adds its groups and the files they need:
#   TESTS += mygroup
#   test-cmd-mygroup = $(BUILD)/mytest
#   TEST_DEPS += $(BUILD)/mytest
TESTS := compile codec-refs codec-properties codec-exhaustive codec-asan-ubsan
test-cmd-compile          = NVCC=$(NVCC) sh tests/compile.sh
test-cmd-codec-refs       = sh tests/same_tables.sh tests/ref/mldtypes.rle $(BUILD)/mldtypes.rle
test-cmd-codec-properties = $(BUILD)/properties
test-cmd-codec-exhaustive = $(BUILD)/exhaustive tests/ref/mldtypes.rle tests/ref/torch.rle
test-cmd-codec-asan-ubsan = $(BUILD)/properties-san && $(BUILD)/exhaustive-san tests/ref/mldtypes.rle tests/ref/torch.rle
TEST_DEPS := $(BUILD)/properties $(BUILD)/exhaustive $(BUILD)/properties-san $(BUILD)/exhaustive-san \
             $(BUILD)/mldtypes.rle

# ---- more parts register their tests below this line ----

# ---- CUDA: GPU tests and benchmarks (CI builds them; they run on a GPU) ----
# Google Benchmark: the system's (Debian's libbenchmark-dev), else Debian's
# packages extracted into .gbench/ (dpkg -x) on a machine without apt.
GBENCH_ROOT := $(firstword $(wildcard /usr/include/benchmark/benchmark.h) $(wildcard .gbench/usr/include/benchmark/benchmark.h))
# The rpath lets a binary built where the system has the library run on a
# machine that has only .gbench/ (the lent GPU machines).
GBENCH_FLAGS := -Xlinker -rpath -Xlinker '$$ORIGIN/../.gbench/usr/lib/x86_64-linux-gnu'
ifeq ($(GBENCH_ROOT),.gbench/usr/include/benchmark/benchmark.h)
GBENCH_FLAGS += -I.gbench/usr/include -L.gbench/usr/lib/x86_64-linux-gnu
endif
SM90      := -gencode=arch=compute_90a,code=sm_90a
NVFLAGS   := -O3 -std=c++17 $(SM90) -Xcompiler -Wall,-Wextra -Imicrobench
BENCH_DEP := microbench/bench.h

$(BUILD)/gpu_codec: tests/gpu_codec.cu $(CODEC)
	@mkdir -p $(BUILD)
	$(NVCC) $(NVFLAGS) -Xcompiler -fopenmp $< -o $@ -lgomp

$(BUILD)/ceilings: microbench/ceilings.cu microbench/decode/common.cuh $(BENCH_DEP)
	@mkdir -p $(BUILD)
	@test -n "$(GBENCH_ROOT)" || { echo "Google Benchmark not found: apt-get install libbenchmark-dev (or dpkg -x its Debian packages into .gbench/)"; exit 1; }
	$(NVCC) $(NVFLAGS) $< -o $@ $(GBENCH_FLAGS) -lbenchmark

$(BUILD)/quant: microbench/quant/quant.cu microbench/quant/quant_kernels.cuh microbench/gemm/hopper.cuh $(BENCH_DEP) $(CODEC) codec/fp8_quant.h
	@mkdir -p $(BUILD)
	$(NVCC) $(NVFLAGS) $< -o $@ $(GBENCH_FLAGS) -lbenchmark

# GEMM: our wgmma kernels beside cuBLASLt (microbench/gemm/)
GEMM_SRC := $(wildcard microbench/gemm/*.cuh)
$(BUILD)/gemm: microbench/gemm/gemm.cu $(GEMM_SRC) $(BENCH_DEP) $(CODEC)
	@mkdir -p $(BUILD)
	@test -n "$(GBENCH_ROOT)" || { echo "Google Benchmark not found: apt-get install libbenchmark-dev (or dpkg -x its Debian packages into .gbench/)"; exit 1; }
	$(NVCC) $(NVFLAGS) $< -o $@ $(GBENCH_FLAGS) -lbenchmark -lcublasLt

GPU_BINS := $(BUILD)/gpu_codec $(BUILD)/ceilings $(BUILD)/quant
GPU_BINS += $(BUILD)/gemm

# Decode (issue 6): GEMV and attention decode kernels, cuBLASLt baseline (microbench/decode/)
DECODE_SRC := $(wildcard microbench/decode/*.cuh)
$(BUILD)/decode: microbench/decode/decode.cu $(DECODE_SRC) $(BENCH_DEP) $(CODEC)
	@mkdir -p $(BUILD)
	@test -n "$(GBENCH_ROOT)" || { echo "Google Benchmark not found: apt-get install libbenchmark-dev (or dpkg -x its Debian packages into .gbench/)"; exit 1; }
	$(NVCC) $(NVFLAGS) $< -o $@ $(GBENCH_FLAGS) -lbenchmark -lcublasLt
GPU_BINS += $(BUILD)/decode
# the same with per-CTA timestamps of the attention and the GEMV (diagnostic: decode --attn_trace=e4m3:1:4096:16, --gemv_trace=e4m3_a8:1:4096:4096)
$(BUILD)/decode_trace: microbench/decode/decode.cu $(DECODE_SRC) $(BENCH_DEP) $(CODEC)
	@mkdir -p $(BUILD)
	@test -n "$(GBENCH_ROOT)" || { echo "Google Benchmark not found: apt-get install libbenchmark-dev (or dpkg -x its Debian packages into .gbench/)"; exit 1; }
	$(NVCC) $(NVFLAGS) -DATTN_TRACE -DGEMV_TRACE $< -o $@ $(GBENCH_FLAGS) -lbenchmark -lcublasLt
GPU_BINS += $(BUILD)/decode_trace
# The whole decode step (issue 6): every kernel of every layer in one CUDA Graph, our GEMV/GEMM/attention;
# decode_step_trace the same with the GEMVs' per-CTA timestamps (diagnostic: --gemv_trace_layer=N)
$(BUILD)/decode_step $(BUILD)/decode_step_trace: $(BUILD)/%: microbench/decode/decode_step.cu $(DECODE_SRC) $(GEMM_SRC) $(BENCH_DEP) $(CODEC)
	@mkdir -p $(BUILD)
	@test -n "$(GBENCH_ROOT)" || { echo "Google Benchmark not found: apt-get install libbenchmark-dev (or dpkg -x its Debian packages into .gbench/)"; exit 1; }
	$(NVCC) $(NVFLAGS) $(if $(findstring trace,$*),-DGEMV_TRACE) $< -o $@ $(GBENCH_FLAGS) -lbenchmark
GPU_BINS += $(BUILD)/decode_step $(BUILD)/decode_step_trace
# Host-only checks of the decode kernels' index math (no GPU needed): the
# rows the GEMV's pair epilogues give each CTA, the GEMV planner's plans,
# and the attention epilogue's shared-memory layout (the headers include ../gemm/hopper.cuh)
DECODE_HOST_TESTS := $(BUILD)/gemv_rows $(BUILD)/gemv_plan $(BUILD)/attn_smem
$(DECODE_HOST_TESTS): $(BUILD)/%: tests/%.cu $(DECODE_SRC) $(GEMM_SRC)
	@mkdir -p $(BUILD)
	$(NVCC) $(NVFLAGS) $< -o $@
TESTS += decode-gemv-rows decode-gemv-plan decode-attn-smem
test-cmd-decode-gemv-rows = $(BUILD)/gemv_rows
test-cmd-decode-gemv-plan = $(BUILD)/gemv_plan
test-cmd-decode-attn-smem = $(BUILD)/attn_smem
TEST_DEPS += $(DECODE_HOST_TESTS)
# The GPU benchmarks' flags: unknown ones and bad values refused (exit 2, a clear message) before any GPU work
TESTS += bench-flags
test-cmd-bench-flags = sh tests/bench_flags.sh
# The GEMV trace checker (tests/gpu.sh runs it on the traces) against logs good and broken
TESTS += decode-gemv-trace-check
test-cmd-decode-gemv-trace-check = $(PYTHON) tests/gemv_trace.py --selftest
# KV-cache capacity table (CPU): the committed results/kv_capacity.json must be the script's output
TESTS += decode-kv-capacity
test-cmd-decode-kv-capacity = $(PYTHON) microbench/decode/kv_capacity.py --check results/kv_capacity.json
TESTS += gpu
test-cmd-gpu = sh tests/gpu.sh
TEST_DEPS += $(GPU_BINS)

# ---- the sweep: make sweep GPU=h100 [QUICK=1] [ONLY=gemm,quant] [RESUME=1] [FORCE=1] [DEVICES=0,1] ----
# Installs Google Benchmark where it is missing and apt can (root); builds
# every benchmark; sweeps/sweep.py checks the GPU against sweeps/gpus/$(GPU).json.
.PHONY: sweep gbench
gbench:
	@if [ -z "$(GBENCH_ROOT)" ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Google Benchmark (libbenchmark-dev)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libbenchmark-dev; \
	  else \
	    echo "Google Benchmark not found: apt-get install libbenchmark-dev, or extract Debian's"; \
	    echo "libbenchmark-dev and libbenchmark1debian packages into .gbench/ with dpkg -x"; exit 1; \
	  fi; \
	fi
sweep: gbench
	@test -n "$(GPU)" || { echo "usage: make sweep GPU=<profile>; profiles: $$(ls sweeps/gpus | sed 's/.json//' | tr '\n' ' ')"; exit 2; }
	@$(MAKE) --no-print-directory $(GPU_BINS)
	$(PYTHON) sweeps/sweep.py --gpu $(GPU) $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY)) \
	  $(if $(RESUME),--resume) $(if $(FORCE),--force) $(if $(DEVICES),--devices $(DEVICES))

TESTS += sweep-planner
test-cmd-sweep-planner = $(PYTHON) tests/test_sweep.py
TESTS += decode-step-kernels
test-cmd-decode-step-kernels = $(PYTHON) tests/test_step_kernels.py
TESTS += decode-summarize
test-cmd-decode-summarize = $(PYTHON) tests/test_summarize.py

TESTS += plots
test-cmd-plots = PY=$(PY) sh tests/test_plots.sh
TEST_DEPS += $(VENV)/stamp

# ---- codec on other architectures (big-endian PowerPC, Cortex-M3, rv32) ----
# tests/cross.sh builds with the cross compilers itself, so that a machine
# without them prints SKIPPED instead of failing to make a dependency.
TESTS += cross
test-cmd-cross = sh tests/cross.sh
# The scalar conversions' machine code (x86-64, Thumb-2, rv32; gcc and
# clang, -O2) has no conditional branch and no table load; code sizes.
TESTS += nobranch
test-cmd-nobranch = $(PYTHON) tests/nobranch.py
# libFuzzer differential target over every entry point of fp8.h and
# fp8_quant.h: briefly in `make test`, FUZZ_SECONDS (default 600) in `make fuzz`.
TESTS += fuzz
test-cmd-fuzz = FUZZ_SECONDS=40 sh tests/fuzz.sh
# The array forms against the scalar functions for every input (the AVX2
# path of fp8.h included), in every rounding mode.
$(BUILD)/arrays_exhaustive: tests/arrays_exhaustive.c $(CODEC)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic $(CFLAGS_TEST) $< -o $@ -lm
TESTS += codec-arrays
test-cmd-codec-arrays = $(BUILD)/arrays_exhaustive
TEST_DEPS += $(BUILD)/arrays_exhaustive

# ---- CPU speed of the codec: make bench-codec ----
# Two builds of microbench/codec/bench_codec.cpp (Google Benchmark, NVIDIA's
# host converters in the same binary): -march=native and baseline x86-64.
# One thread, pinned to BENCH_CPU; BENCH_REPS repetitions (the median is
# what counts); ml_dtypes timed in the same run and merged into
# results/cpu/<cpu-model>/codec.json; then the chart.
BENCH_CODEC_DEPS := microbench/codec/bench_codec.cpp $(CODEC) tests/entry_points.h
BENCH_CODEC_CXX = $(CXX) -std=c++17 -Wall -Wextra -Werror $(CUDA_INC) $< -o $@ -lbenchmark -lpthread
BENCH_REPS ?= 5
BENCH_CPU ?= 1
TASKSET := $(if $(shell command -v taskset),taskset -c $(BENCH_CPU))
$(BUILD)/bench_codec-native: $(BENCH_CODEC_DEPS)
	@mkdir -p $(BUILD)
	$(BENCH_CODEC_CXX) -O3 -march=native -DBENCH_BUILD='"native"' -DBENCH_FLAGS='"-O3 -march=native"'
$(BUILD)/bench_codec-x86-64: $(BENCH_CODEC_DEPS)
	@mkdir -p $(BUILD)
	$(BENCH_CODEC_CXX) -O3 -DBENCH_BUILD='"x86-64"' -DBENCH_FLAGS='"-O3 (baseline x86-64: SSE2)"'
.PHONY: bench-codec
bench-codec: $(BUILD)/bench_codec-native $(BUILD)/bench_codec-x86-64 $(VENV)/stamp
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)"
	$(TASKSET) $(BUILD)/bench_codec-native --benchmark_repetitions=$(BENCH_REPS) --benchmark_min_time=0.1 \
	    --benchmark_out=$(BUILD)/bench_codec-native.json --benchmark_out_format=json --benchmark_report_aggregates_only=false >/dev/null
	$(TASKSET) $(BUILD)/bench_codec-x86-64 --benchmark_repetitions=$(BENCH_REPS) --benchmark_min_time=0.1 \
	    --benchmark_out=$(BUILD)/bench_codec-x86-64.json --benchmark_out_format=json >/dev/null
	BENCH_CPU=$(BENCH_CPU) $(TASKSET) $(PY) microbench/codec/collect.py $(BUILD)/bench_codec-native.json \
	    $(BUILD)/bench_codec-x86-64.json results/cpu --reps $(BENCH_REPS) --load-before "$$(cut -d' ' -f1-3 /proc/loadavg)"
	@mkdir -p plots/charts
	$(PY) plots/codec_speed.py results plots/charts
FUZZ_SECONDS ?= 600
.PHONY: fuzz
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/run.sh fuzz 'sh tests/fuzz.sh'

# ---- scaled quantization (codec/fp8_quant.h) and the accuracy study ----
QUANT := codec/fp8_quant.h $(CODEC)
$(BUILD)/quant_test: tests/quant_test.c $(QUANT)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic $(CFLAGS_TEST) $< -o $@ -lm
$(BUILD)/quant_test-san: tests/quant_test.c $(QUANT)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 $(SANITIZE) $< -o $@ -lm
TESTS += compile-quant quant quant-asan-ubsan
test-cmd-compile-quant   = SRC=tests/use_quant.c NVCC=$(NVCC) sh tests/compile.sh
test-cmd-quant           = $(BUILD)/quant_test
test-cmd-quant-asan-ubsan = $(BUILD)/quant_test-san "" 300
TEST_DEPS += $(BUILD)/quant_test $(BUILD)/quant_test-san

# The accuracy study measures the C quantizer through this library (ctypes).
$(BUILD)/libfp8quant.so: accuracy/fp8quant_lib.c $(QUANT)
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -O2 -fPIC -shared -Wall -Wextra -Werror $< -o $@
TESTS += accuracy-study
test-cmd-accuracy-study = $(PY) tests/accuracy_test.py
TEST_DEPS += $(BUILD)/libfp8quant.so $(VENV)/stamp

# `make accuracy`: the study (results/accuracy/accuracy.json) and its charts.
.PHONY: accuracy plots
accuracy: $(BUILD)/libfp8quant.so $(VENV)/stamp
	$(PY) accuracy/study.py --lib $(BUILD)/libfp8quant.so --out results/accuracy/accuracy.json \
	    --cc "$(CC) -std=c99 -O2 -fPIC -shared: $$($(CC) --version | head -1)"
	$(PY) plots/accuracy_granularity.py results plots/charts
	$(PY) plots/accuracy_histograms.py results plots/charts

# `make plots`: every plots/*.py not starting with _, from results/ only.
plots: $(VENV)/stamp
	@mkdir -p plots/charts
	@set -e; for p in $(filter-out plots/_%,$(wildcard plots/*.py)); do \
	    echo "$(PY) $$p results plots/charts"; $(PY) $$p results plots/charts; done

# The tests' binaries build in parallel, one job a core unless make was given
# -j (the CUDA builds take most of CI's time on a small machine), each job's
# output kept together; the groups then run one at a time.
test-deps: $$(TEST_DEPS)
test:
	@$(MAKE) --no-print-directory --output-sync=target \
	  $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1)) test-deps
	@sh tests/run.sh $(foreach t,$(TESTS),'$(t)' '$(test-cmd-$(t))')

clean:
	rm -rf $(BUILD)
