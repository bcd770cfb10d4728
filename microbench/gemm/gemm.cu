// gemm: our Hopper GEMMs (gemm_wgmma.cuh) beside cuBLASLt (cublaslt.cuh),
// FP8 against BF16, under the shared Google Benchmark harness (bench.h).
//
//   build/gemm --shapes=sweeps/gemm_quick.txt        lines "label M N K"
//   build/gemm --shapes=sweeps/layers.txt --tokens=prefill
//               lines "model layer N K" times the token counts M of that
//               line of sweeps/tokens.txt (or --tokens=1024,4096)
//   build/gemm --check [--check_shapes=small|tiny] [--check_impl=PREFIX] [--seed=S]
//               correctness against an FP64 reference, no timing
//   build/gemm --variants=1 ...                      also every fixed tile
//               configuration of our kernel (impl fp8kit-n<BN>c<cluster>)
//
// Benchmarks: ceiling/cublaslt/{e4m3,bf16}/8192x8192x8192 (the measured
// ceilings: cuBLASLt e4m3 with fast accumulation, bf16), then per shape
// gemm/<impl>/<dtype>/<M>x<N>x<K>, impl fp8kit or cublaslt, dtype
//   e4m3          per-tensor scales; fp8kit and cuBLASLt both with the
//                 tensor cores' FP8 accumulation ("fast accumulation")
//   e4m3_exact    cuBLASLt e4m3 with fast accumulation off
//   e4m3_rowwise  a scale per row of A and per row of B (per output column)
//   e4m3_block    DeepSeek-V3 scaling: 1 x 128 activation blocks, 128 x 128
//                 weight blocks, partial sums promoted to FP32 every 128 of K
//   bf16          BF16 inputs
// all with BF16 output and FP32 accumulators. Counters: tflops, gbps (A, B
// read once, C written once), frac_copy, frac_peak (over the ceiling of the
// dtype's family: e4m3* over the e4m3 ceiling, bf16 over the bf16 one,
// measured in the same run unless --peak_e4m3/--peak_bf16 give them).
// Timing: bench::time_launches over rotating operand sets (fresh random
// data; not in L2); the label is the shape's name.
#include "bench.h"
#include "cublaslt.cuh"
#include "gemm_wgmma.cuh"
#include "reference.cuh"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>

using namespace fp8kit;
using bf16 = __nv_bfloat16;
using e4m3 = __nv_fp8_e4m3;

namespace {

// ---------------------------------------------------------------- dtypes

enum class DType { E4M3, E4M3Exact, E4M3Rowwise, E4M3Block, BF16 };

const char *dtype_name(DType d)
{
    switch (d) {
    case DType::E4M3: return "e4m3";
    case DType::E4M3Exact: return "e4m3_exact";
    case DType::E4M3Rowwise: return "e4m3_rowwise";
    case DType::E4M3Block: return "e4m3_block";
    default: return "bf16";
    }
}

int elem_bytes(DType d) { return d == DType::BF16 ? 2 : 1; }

// ------------------------------------------------------- problem and data

inline int ceil_div(long a, long b) { return (int)((a + b - 1) / b); }

// The scales of one problem (device), in the layouts of gemm_wgmma.cuh.
struct Scales {
    float *a = nullptr, *b = nullptr;
    int ld_b = 0;
};

void fill_launch_e4m3(void *p, size_t n, uint64_t seed, float sd)
{
    fill_e4m3<<<1024, 256>>>((uint8_t *)p, n, seed, sd);
    CUDA_CHECK_LAUNCH();
}

Scales make_scales(DType d, int M, int N, int K, uint64_t seed)
{
    Scales s;
    size_t na = 0, nb = 0;
    if (d == DType::E4M3 || d == DType::E4M3Exact) na = nb = 1;
    if (d == DType::E4M3Rowwise) na = M, nb = N;
    if (d == DType::E4M3Block) {
        const int kb = ceil_div(K, 128);
        s.ld_b = (kb + 3) / 4 * 4; // rows padded to 16 bytes, as cuBLASLt wants
        na = (size_t)kb * M;
        nb = (size_t)ceil_div(N, 128) * s.ld_b;
    }
    if (na) {
        CUDA_CHECK(cudaMalloc(&s.a, na * 4));
        CUDA_CHECK(cudaMalloc(&s.b, nb * 4));
        fill_scales<<<256, 256>>>(s.a, na, seed ^ 0xA5, -2.f, 2.f);
        fill_scales<<<256, 256>>>(s.b, nb, seed ^ 0x5A, -2.f, 2.f);
        CUDA_CHECK_LAUNCH();
    }
    return s;
}

void free_scales(Scales &s)
{
    if (s.a) CUDA_CHECK(cudaFree(s.a));
    if (s.b) CUDA_CHECK(cudaFree(s.b));
    s = Scales();
}

// Fresh random operands: A M x K, B N x K (E4M3 or BF16 of N(0, 1)).
void fill_operand(DType d, void *p, size_t n, uint64_t seed)
{
    if (d == DType::BF16) {
        fill_bf16<<<1024, 256>>>((uint16_t *)p, n, seed, 1.f);
        CUDA_CHECK_LAUNCH();
    } else {
        fill_launch_e4m3(p, n, seed, 1.f);
    }
}

// ------------------------------------------------------------ our kernel

// A runner launches one product on the default stream.
using Runner = std::function<void()>;
// Binds a prepared product to operands.
using Binder = std::function<Runner(const void *A, const void *B, bf16 *C)>;

struct Shape {
    int M, N, K;
};

// Tile configurations of our kernel: BN and cluster size.
struct Config {
    int bn, cluster;
    std::string name() const { return "n" + std::to_string(bn) + "c" + std::to_string(cluster); }
};

template <typename T, Epi EPI>
GemmPlan plan_for(Config c, const void *A, const void *B, bf16 *C, Shape s, const Scales &sc)
{
    const T *a = (const T *)A, *b = (const T *)B;
    if constexpr (EPI == Epi::Block) {
        if (c.cluster == 2) return gemm_wgmma_plan<T, 128, 6, 2, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b, 8, sc.ld_b);
        return gemm_wgmma_plan<T, 128, 6, 1, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b, 8, sc.ld_b);
    } else {
        if (c.bn == 256 && c.cluster == 2) return gemm_wgmma_plan<T, 256, 4, 2, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b);
        if (c.bn == 256) return gemm_wgmma_plan<T, 256, 4, 1, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b);
        if (c.cluster == 2) return gemm_wgmma_plan<T, 128, 6, 2, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b);
        return gemm_wgmma_plan<T, 128, 6, 1, EPI>(a, b, C, s.M, s.N, s.K, sc.a, sc.b);
    }
}

std::vector<Config> configs_for(DType d)
{
    if (d == DType::E4M3Block) return {{128, 1}, {128, 2}};
    return {{256, 2}, {256, 1}, {128, 2}, {128, 1}};
}

// The configuration the fp8kit impl uses for a shape: gemm_wgmma_tile_n's
// tile width. No clusters: on the H100 the multicast of B (c2) measured no
// faster than c1 (first run with --variants=1, see NOTES.md).
Config choose_config(DType d, Shape s)
{
    if (d == DType::E4M3Block) return {128, 1};
    return {fp8kit::gemm_wgmma_tile_n(s.M, s.N, bench::device().multiProcessorCount), 1};
}

// impl "fp8kit" (the chosen configuration) or "fp8kit-<config>".
Binder prepare_fp8kit(const std::string &impl, DType d, Shape s, const Scales &sc, std::string *err)
{
    if (d == DType::E4M3Exact) {
        *err = "no such kernel";
        return nullptr;
    }
    Config c = choose_config(d, s);
    if (impl != "fp8kit") {
        bool found = false;
        for (Config k : configs_for(d))
            if (impl == "fp8kit-" + k.name()) c = k, found = true;
        if (!found) {
            *err = "no such configuration";
            return nullptr;
        }
    }
    return [=](const void *A, const void *B, bf16 *C) -> Runner {
        std::string why = d == DType::BF16 ? gemm_wgmma_check<bf16>(s.M, s.N, s.K, A, B, C)
                                           : gemm_wgmma_check<e4m3>(s.M, s.N, s.K, A, B, C);
        if (!why.empty()) {
            fprintf(stderr, "fp8kit %dx%dx%d: %s\n", s.M, s.N, s.K, why.c_str());
            exit(2);
        }
        GemmPlan p;
        switch (d) {
        case DType::E4M3: p = plan_for<e4m3, Epi::Tensor>(c, A, B, C, s, sc); break;
        case DType::E4M3Rowwise: p = plan_for<e4m3, Epi::Rowwise>(c, A, B, C, s, sc); break;
        case DType::E4M3Block: p = plan_for<e4m3, Epi::Block>(c, A, B, C, s, sc); break;
        default: p = plan_for<bf16, Epi::None>(c, A, B, C, s, sc); break;
        }
        return [p] { p.run(0); };
    };
}

Binder prepare_cublaslt(DType d, Shape s, const Scales &sc, std::string *err)
{
    LtKind k = d == DType::BF16          ? LtKind::BF16
               : d == DType::E4M3        ? LtKind::E4M3
               : d == DType::E4M3Exact   ? LtKind::E4M3Exact
               : d == DType::E4M3Rowwise ? LtKind::E4M3Rowwise
                                         : LtKind::E4M3Block;
    auto lt = std::make_shared<LtGemm>(k, s.M, s.N, s.K, sc.a, sc.b);
    if (!lt->error.empty()) {
        *err = lt->error;
        return nullptr;
    }
    return [lt](const void *A, const void *B, bf16 *C) -> Runner { return [lt, A, B, C] { lt->run(A, B, C, 0); }; };
}

Binder prepare(const std::string &impl, DType d, Shape s, const Scales &sc, std::string *err)
{
    if (impl == "cublaslt") return prepare_cublaslt(d, s, sc, err);
    return prepare_fp8kit(impl, d, s, sc, err);
}

// ------------------------------------------------------------- benchmarks

struct Spec {
    std::string impl, label;
    DType dtype;
    Shape shape;
    bool ceiling;
};

double &peak_of(DType d) { return d == DType::BF16 ? bench::options().peak_bf16 : bench::options().peak_e4m3; }

// The operand sets of the running benchmarks: fresh random data, kept while
// consecutive benchmarks (and Google Benchmark's repeated calls of one) use
// the same shape and data kind (e4m3 and e4m3_exact share theirs).
struct DataSet {
    Shape s{0, 0, 0};
    DType kind = DType::BF16;
    int rot = 0;
    size_t na = 0, nb = 0;
    std::vector<void *> A, B;
    bf16 *C = nullptr;
    Scales sc;
};

DataSet &data_for(Shape s, DType d)
{
    static DataSet cur;
    const DType kind = d == DType::E4M3Exact ? DType::E4M3 : d;
    if (cur.rot && cur.s.M == s.M && cur.s.N == s.N && cur.s.K == s.K && cur.kind == kind) return cur;
    for (int i = 0; i < cur.rot; i++) {
        CUDA_CHECK(cudaFree(cur.A[i]));
        CUDA_CHECK(cudaFree(cur.B[i]));
    }
    if (cur.C) CUDA_CHECK(cudaFree(cur.C));
    free_scales(cur.sc);
    cur = DataSet();
    const int eb = elem_bytes(kind);
    cur.s = s;
    cur.kind = kind;
    cur.na = (size_t)s.M * s.K * eb;
    cur.nb = (size_t)s.N * s.K * eb;
    cur.rot = bench::rotation_count(cur.na + cur.nb);
    const uint64_t seed = std::random_device{}() ^ ((uint64_t)std::random_device{}() << 32);
    cur.sc = make_scales(kind, s.M, s.N, s.K, seed);
    CUDA_CHECK(cudaMalloc(&cur.C, (size_t)s.M * s.N * 2));
    cur.A.resize(cur.rot);
    cur.B.resize(cur.rot);
    for (int i = 0; i < cur.rot; i++) {
        CUDA_CHECK(cudaMalloc(&cur.A[i], cur.na));
        CUDA_CHECK(cudaMalloc(&cur.B[i], cur.nb));
        fill_operand(kind, cur.A[i], cur.na / eb, seed + 2 * i);
        fill_operand(kind, cur.B[i], cur.nb / eb, seed + 2 * i + 1);
    }
    CUDA_CHECK(cudaDeviceSynchronize());
    return cur;
}

void bench_gemm(benchmark::State &state, Spec sp)
{
    const Shape s = sp.shape;
    DataSet &ds = data_for(s, sp.dtype);
    std::string err;
    Binder bind = prepare(sp.impl, sp.dtype, s, ds.sc, &err);
    if (!bind) {
        state.SkipWithError(err.c_str());
        return;
    }
    std::vector<Runner> run(ds.rot);
    for (int i = 0; i < ds.rot; i++) run[i] = bind(ds.A[i], ds.B[i], ds.C);
    const double sec = bench::time_launches(state, [&](int i) { run[i % ds.rot](); });
    const double flops = 2.0 * s.M * s.N * (double)s.K;
    if (sp.ceiling && sec > 0) peak_of(sp.dtype) = std::max(peak_of(sp.dtype), flops / sec / 1e12);
    bench::set_counters(state, flops, (double)(ds.na + ds.nb) + 2.0 * s.M * s.N, sp.ceiling ? 0 : peak_of(sp.dtype));
    state.SetLabel(sp.label);
}

std::string shape_name(Shape s)
{
    return std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K);
}

// Token counts from --tokens: numbers, or the name of a line of sweeps/tokens.txt.
std::vector<int> token_counts(const std::string &arg)
{
    std::vector<int> m;
    if (!arg.empty() && isdigit((unsigned char)arg[0])) return bench::int_list("tokens", arg, 1, 1 << 20, "a token count (1 to 2^20)");
    for (auto &row : bench::read_shapes("sweeps/tokens.txt"))
        if (row[0] == arg)
            for (size_t i = 1; i < row.size(); i++) m.push_back(bench::field_int("sweeps/tokens.txt", row, i));
    if (m.empty()) {
        fprintf(stderr, "--tokens=%s: not a list of numbers nor a line of sweeps/tokens.txt\n", arg.c_str());
        exit(2);
    }
    return m;
}

// (label, shape) pairs from --shapes (and --tokens).
std::vector<std::pair<std::string, Shape>> read_gemm_shapes()
{
    const bench::Options &o = bench::options();
    std::vector<std::pair<std::string, Shape>> out;
    if (o.shapes.empty()) return out;
    auto rows = bench::read_shapes(o.shapes);
    auto tok = o.extra.find("tokens");
    for (auto &r : rows) {
        if (r.size() != 4) {
            fprintf(stderr, "%s: each line needs 4 fields (label M N K, or model layer N K with --tokens)\n",
                    o.shapes.c_str());
            exit(2);
        }
        if (tok != o.extra.end()) {
            for (int m : token_counts(tok->second))
                out.push_back({r[0] + "/" + r[1], Shape{m, bench::field_int(o.shapes, r, 2), bench::field_int(o.shapes, r, 3)}});
        } else {
            out.push_back({r[0], Shape{bench::field_int(o.shapes, r, 1), bench::field_int(o.shapes, r, 2),
                                       bench::field_int(o.shapes, r, 3)}});
        }
    }
    return out;
}

void register_benchmarks(bool variants)
{
    auto add = [](const std::string &name, Spec sp) {
        benchmark::RegisterBenchmark(name.c_str(), bench_gemm, sp)->UseManualTime()->Unit(benchmark::kMicrosecond);
    };
    const Shape big{8192, 8192, 8192};
    add("ceiling/cublaslt/e4m3/" + shape_name(big), Spec{"cublaslt", "ceiling", DType::E4M3, big, true});
    add("ceiling/cublaslt/bf16/" + shape_name(big), Spec{"cublaslt", "ceiling", DType::BF16, big, true});

    // one benchmark per distinct name; labels of repeated shapes joined
    std::vector<std::pair<std::string, Spec>> list;
    std::map<std::string, size_t> seen;
    // 8192^3, the square shape the issue's first target names, beside every list
    auto shapes = read_gemm_shapes();
    if (!shapes.empty()) shapes.push_back({"square", big});
    for (auto &ls : shapes) {
        const Shape s = ls.second;
        for (DType d : {DType::E4M3, DType::E4M3Exact, DType::E4M3Rowwise, DType::E4M3Block, DType::BF16}) {
            std::vector<std::string> impls = {"fp8kit", "cublaslt"};
            if (variants)
                for (Config c : configs_for(d)) impls.push_back("fp8kit-" + c.name());
            for (auto &impl : impls) {
                if (impl != "cublaslt" && d == DType::E4M3Exact) continue;
                const std::string name = "gemm/" + impl + "/" + dtype_name(d) + "/" + shape_name(s);
                auto it = seen.find(name);
                if (it != seen.end()) {
                    list[it->second].second.label += "," + ls.first;
                    continue;
                }
                seen[name] = list.size();
                list.push_back({name, Spec{impl, ls.first, d, s, false}});
            }
        }
    }
    for (auto &e : list) add(e.first, e.second);
}

// ------------------------------------------------------------------ check

// Rows of the output compared with the reference: all of them for small M,
// else the first and last 8, those around the first tile boundaries, and 40
// drawn at random.
std::vector<int> check_rows(int M, std::mt19937_64 &rng)
{
    std::vector<int> r;
    if (M <= 512) {
        for (int i = 0; i < M; i++) r.push_back(i);
        return r;
    }
    for (int i = 0; i < 8; i++) r.push_back(i), r.push_back(M - 1 - i);
    for (int i : {63, 64, 127, 128, 255, 256}) r.push_back(i);
    for (int i = 0; i < 40; i++) r.push_back((int)(rng() % M));
    return r;
}

struct CheckData {
    Shape s;
    DType d;
    void *A, *B;
    Scales sc;
    std::vector<int> rows;
    std::vector<double> ref; // rows.size() x N
};

RefOperand ref_operand(const void *p, int type, const float *scale, int mode, int ld)
{
    RefOperand o;
    o.p = p;
    o.type = type;
    o.scale = scale;
    o.scale_mode = mode;
    o.ld_scale = ld;
    return o;
}

// FP64 reference of the listed rows, on the GPU.
std::vector<double> reference(Shape s, RefOperand a, RefOperand b, const std::vector<int> &rows)
{
    int *drows;
    double *dout;
    const int nr = (int)rows.size();
    CUDA_CHECK(cudaMalloc(&drows, nr * 4));
    CUDA_CHECK(cudaMalloc(&dout, (size_t)nr * s.N * 8));
    CUDA_CHECK(cudaMemcpy(drows, rows.data(), nr * 4, cudaMemcpyHostToDevice));
    ref_gemm<<<dim3(ceil_div(s.N, 64), ceil_div(nr, 64)), 256>>>(a, b, drows, nr, s.M, s.N, s.K, dout);
    CUDA_CHECK_LAUNCH();
    std::vector<double> out((size_t)nr * s.N);
    CUDA_CHECK(cudaMemcpy(out.data(), dout, out.size() * 8, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaFree(drows));
    CUDA_CHECK(cudaFree(dout));
    return out;
}

std::vector<double> reference_of(const CheckData &c)
{
    const int t = c.d == DType::BF16 ? 2 : 1;
    int ma = 0, mb = 0;
    if (c.d == DType::E4M3Rowwise) ma = mb = 1;
    if (c.d == DType::E4M3Block) ma = 2, mb = 3;
    return reference(c.s, ref_operand(c.A, t, c.sc.a, ma, 0), ref_operand(c.B, t, c.sc.b, mb, c.sc.ld_b), c.rows);
}

// The listed rows of C, as doubles.
std::vector<double> fetch_rows(const bf16 *C, Shape s, const std::vector<int> &rows)
{
    std::vector<bf16> h((size_t)rows.size() * s.N);
    for (size_t i = 0; i < rows.size(); i++)
        CUDA_CHECK(cudaMemcpy(&h[i * s.N], C + (size_t)rows[i] * s.N, (size_t)s.N * 2, cudaMemcpyDeviceToHost));
    std::vector<double> out(h.size());
    for (size_t i = 0; i < h.size(); i++) out[i] = (double)__bfloat162float(h[i]);
    return out;
}

struct Err {
    double rel, max; // ||out - ref|| / ||ref||; max |out - ref| / (|ref| + rms(ref))
};

Err compare(const std::vector<double> &out, const std::vector<double> &ref)
{
    Err e;
    e.rel = bench::rel_l2(out.data(), ref.data(), out.size());
    double ss = 0, mx = 0;
    for (size_t i = 0; i < ref.size(); i++) ss += ref[i] * ref[i];
    const double rms = std::sqrt(ss / std::max<size_t>(ref.size(), 1));
    for (size_t i = 0; i < ref.size(); i++)
        mx = std::max(mx, std::fabs(out[i] - ref[i]) / (std::fabs(ref[i]) + rms + 1e-300));
    e.max = std::isfinite(e.rel) ? mx : INFINITY;
    return e;
}

// Bounds on the error against the FP64 product of the quantized inputs.
// FP32 accumulation leaves only the BF16 rounding of the output (relative
// 2^-9 at most, about 1.1e-3 RMS): 4e-3 RMS, and at every element
// |out - ref| <= 1e-2 (|ref| + rms(ref)). The tensor cores' FP8 accumulation
// (fast accumulation) keeps fewer mantissa bits in the running sum (about 13
// or 14, per DeepSeek-V3's report): 2e-2 RMS and 0.1 at every element. A
// wrong tile, a lost K block or an unwritten element (poisoned with NaN) is
// far beyond either.
Err bounds_for(DType d)
{
    const bool fast = d == DType::E4M3 || d == DType::E4M3Rowwise;
    return fast ? Err{2e-2, 0.1} : Err{4e-3, 1e-2};
}

bool check_one(const std::string &impl, const CheckData &c, int *skipped)
{
    std::string err;
    Binder bind = prepare(impl, c.d, c.s, c.sc, &err);
    const std::string what = impl + "/" + dtype_name(c.d) + "/" + shape_name(c.s);
    if (!bind) {
        printf("SKIPPED %s: %s\n", what.c_str(), err.c_str());
        (*skipped)++;
        return true;
    }
    bf16 *C;
    CUDA_CHECK(cudaMalloc(&C, (size_t)c.s.M * c.s.N * 2));
    CUDA_CHECK(cudaMemset(C, 0xFF, (size_t)c.s.M * c.s.N * 2)); // NaN
    bind(c.A, c.B, C)();
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaDeviceSynchronize());
    Err e = compare(fetch_rows(C, c.s, c.rows), c.ref);
    CUDA_CHECK(cudaFree(C));
    Err b = bounds_for(c.d);
    const bool ok = e.rel <= b.rel && e.max <= b.max;
    char buf[128];
    snprintf(buf, sizeof buf, " (max |out-ref|/(|ref|+rms) %.3g, bound %.3g)", e.max, b.max);
    return bench::report_check(ok, what + buf, e.rel, b.rel);
}

// Accuracy of the scaling schemes on data with outliers, against the FP64
// product of the unquantized FP32 inputs: activations with per-row
// magnitudes over 2^-4..2^4 and a few channels 30x larger, weights with
// per-output-channel magnitudes 2^-2..2^2. Per-tensor FP8 (amax / 448),
// DeepSeek-V3 blocks, BF16. The block scheme must beat the per-tensor one.
int accuracy_study(uint64_t seed)
{
    const int M = 256, N = 1024, K = 7168, KB = K / 128, NB = N / 128;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> nd;
    std::uniform_real_distribution<float> ud;
    std::vector<float> a((size_t)M * K), b((size_t)N * K);
    std::vector<float> rs(M), cs(N);
    for (auto &x : rs) x = exp2f(-4.f + 8.f * ud(rng));
    for (auto &x : cs) x = exp2f(-2.f + 4.f * ud(rng));
    std::vector<char> outlier(K, 0);
    for (int i = 0; i < 16; i++) outlier[rng() % K] = 1;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) a[(size_t)m * K + k] = nd(rng) * rs[m] * (outlier[k] ? 30.f : 1.f);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < K; k++) b[(size_t)n * K + k] = nd(rng) * 0.02f * cs[n];

    auto amax_of = [](const float *p, size_t n, size_t stride, size_t count) {
        float m = 0;
        for (size_t i = 0; i < count; i++)
            for (size_t j = 0; j < n; j++) m = std::max(m, std::fabs(p[i * stride + j]));
        return m;
    };
    auto scale_of = [](float amax) { return amax > 0 ? amax / 448.f : 1.f; };
    // per tensor
    std::vector<uint8_t> qa(a.size()), qb(b.size()), qa_blk(a.size()), qb_blk(b.size());
    const float sa_t = scale_of(amax_of(a.data(), a.size(), 0, 1)), sb_t = scale_of(amax_of(b.data(), b.size(), 0, 1));
    for (size_t i = 0; i < a.size(); i++) qa[i] = fp8_e4m3_from_f32(a[i] / sa_t);
    for (size_t i = 0; i < b.size(); i++) qb[i] = fp8_e4m3_from_f32(b[i] / sb_t);
    // blocks: sa [KB][M], sb [NB][ld]
    const int ld = (KB + 3) / 4 * 4;
    std::vector<float> sa_b((size_t)KB * M), sb_b((size_t)NB * ld, 1.f);
    for (int m = 0; m < M; m++)
        for (int kb = 0; kb < KB; kb++) {
            const float s = scale_of(amax_of(&a[(size_t)m * K + kb * 128], 128, 0, 1));
            sa_b[(size_t)kb * M + m] = s;
            for (int k = kb * 128; k < kb * 128 + 128; k++) qa_blk[(size_t)m * K + k] = fp8_e4m3_from_f32(a[(size_t)m * K + k] / s);
        }
    for (int nb = 0; nb < NB; nb++)
        for (int kb = 0; kb < KB; kb++) {
            const float s = scale_of(amax_of(&b[(size_t)nb * 128 * K + kb * 128], 128, K, 128));
            sb_b[(size_t)nb * ld + kb] = s;
            for (int n = nb * 128; n < nb * 128 + 128; n++)
                for (int k = kb * 128; k < kb * 128 + 128; k++)
                    qb_blk[(size_t)n * K + k] = fp8_e4m3_from_f32(b[(size_t)n * K + k] / s);
        }
    std::vector<uint16_t> ha(a.size()), hb(b.size());
    for (size_t i = 0; i < a.size(); i++) ha[i] = bf16_from_f32(a[i]);
    for (size_t i = 0; i < b.size(); i++) hb[i] = bf16_from_f32(b[i]);

    auto up = [](const void *p, size_t bytes) {
        void *d;
        CUDA_CHECK(cudaMalloc(&d, bytes));
        CUDA_CHECK(cudaMemcpy(d, p, bytes, cudaMemcpyHostToDevice));
        return d;
    };
    void *dA = up(a.data(), a.size() * 4), *dB = up(b.data(), b.size() * 4);
    const Shape s{M, N, K};
    std::vector<int> rows(M);
    for (int i = 0; i < M; i++) rows[i] = i;
    const std::vector<double> exact = reference(s, ref_operand(dA, 0, nullptr, 0, 0), ref_operand(dB, 0, nullptr, 0, 0), rows);

    struct Case {
        const char *impl;
        DType d;
        const void *a, *b;
        size_t bytes_a, bytes_b;
        std::vector<float> sa, sb;
        int ld;
    };
    std::vector<Case> cases = {
        {"fp8kit", DType::E4M3, qa.data(), qb.data(), qa.size(), qb.size(), {sa_t}, {sb_t}, 0},
        {"cublaslt", DType::E4M3, qa.data(), qb.data(), qa.size(), qb.size(), {sa_t}, {sb_t}, 0},
        {"cublaslt", DType::E4M3Exact, qa.data(), qb.data(), qa.size(), qb.size(), {sa_t}, {sb_t}, 0},
        {"fp8kit", DType::E4M3Block, qa_blk.data(), qb_blk.data(), qa.size(), qb.size(), sa_b, sb_b, ld},
        {"cublaslt", DType::E4M3Block, qa_blk.data(), qb_blk.data(), qa.size(), qb.size(), sa_b, sb_b, ld},
        {"fp8kit", DType::BF16, ha.data(), hb.data(), ha.size() * 2, hb.size() * 2, {}, {}, 0},
    };
    std::map<std::string, double> err;
    for (auto &c : cases) {
        const std::string what = std::string("accuracy vs unquantized FP32 inputs (M=256 N=1024 K=7168, outliers): ") +
                                 c.impl + "/" + dtype_name(c.d);
        Scales sc;
        if (!c.sa.empty()) {
            sc.a = (float *)up(c.sa.data(), c.sa.size() * 4);
            sc.b = (float *)up(c.sb.data(), c.sb.size() * 4);
            sc.ld_b = c.ld;
        }
        void *qa_d = up(c.a, c.bytes_a), *qb_d = up(c.b, c.bytes_b);
        std::string why;
        Binder bind = prepare(c.impl, c.d, s, sc, &why);
        if (bind) {
            bf16 *C;
            CUDA_CHECK(cudaMalloc(&C, (size_t)M * N * 2));
            CUDA_CHECK(cudaMemset(C, 0xFF, (size_t)M * N * 2));
            bind(qa_d, qb_d, C)();
            CUDA_CHECK_LAUNCH();
            CUDA_CHECK(cudaDeviceSynchronize());
            Err e = compare(fetch_rows(C, s, rows), exact);
            err[std::string(c.impl) + "/" + dtype_name(c.d)] = e.rel;
            printf("info %s: rel err %.4g, max |out-ref|/(|ref|+rms) %.4g\n", what.c_str(), e.rel, e.max);
            CUDA_CHECK(cudaFree(C));
        } else {
            printf("info %s: skipped (%s)\n", what.c_str(), why.c_str());
        }
        CUDA_CHECK(cudaFree(qa_d));
        CUDA_CHECK(cudaFree(qb_d));
        free_scales(sc);
    }
    CUDA_CHECK(cudaFree(dA));
    CUDA_CHECK(cudaFree(dB));
    const double et = err["fp8kit/e4m3"], eb = err["fp8kit/e4m3_block"];
    const bool ok = eb < et && std::isfinite(eb);
    printf("%s accuracy: fp8kit e4m3_block (%.4g) more accurate than per-tensor e4m3 (%.4g) on outlier data\n",
           ok ? "ok  " : "FAIL", eb, et);
    return ok ? 0 : 1;
}

int run_check()
{
    const uint64_t seed = bench::seed_flag(); // --seed=S repeats a run
    std::mt19937_64 rng(seed);
    const std::string which = bench::options().extra.count("check_shapes") ? bench::options().extra.at("check_shapes") : "";
    const bool small = which == "small" || which == "tiny";
    // Every shape class: M = 1..16 (decode), tails of M, N and K against
    // the 128 x {128, 256} x {128, 64} tiles, one exact tile, real layers,
    // and 8192^3.
    std::vector<Shape> shapes = {{1, 576, 7168}, {7, 200, 176},  {16, 4096, 4096}, {128, 256, 128},
                                 {100, 1000, 1040}, {300, 520, 272}, {129, 136, 4112}};
    if (which == "tiny") // one tile with K, M and N tails, and one exact tile (compute-sanitizer racecheck)
        shapes = {{7, 200, 176}, {128, 256, 128}};
    if (!small)
        for (Shape s : std::vector<Shape>{{1000, 576, 512}, {1024, 6144, 4096}, {2048, 1536, 7168},
                                          {4096, 28672, 4096}, {8192, 8192, 8192}})
            shapes.push_back(s);
    int fails = 0, skipped = 0;
    for (Shape s : shapes) {
        for (DType d : {DType::E4M3, DType::E4M3Rowwise, DType::E4M3Block, DType::BF16}) {
            CheckData c;
            c.s = s;
            c.d = d;
            const int eb = elem_bytes(d);
            CUDA_CHECK(cudaMalloc(&c.A, (size_t)s.M * s.K * eb));
            CUDA_CHECK(cudaMalloc(&c.B, (size_t)s.N * s.K * eb));
            fill_operand(d, c.A, (size_t)s.M * s.K, rng());
            fill_operand(d, c.B, (size_t)s.N * s.K, rng());
            c.sc = make_scales(d, s.M, s.N, s.K, rng());
            c.rows = check_rows(s.M, rng);
            c.ref = reference_of(c);
            std::vector<std::string> impls = {"fp8kit", "cublaslt"};
            for (Config k : configs_for(d)) impls.push_back("fp8kit-" + k.name());
            const auto only = bench::options().extra.find("check_impl");
            for (auto &impl : impls)
                if (only == bench::options().extra.end() || impl.compare(0, only->second.size(), only->second) == 0)
                    fails += !check_one(impl, c, &skipped);
            if (d == DType::E4M3 && (only == bench::options().extra.end() || only->second == "cublaslt")) {
                c.d = DType::E4M3Exact; // same data and reference
                fails += !check_one("cublaslt", c, &skipped);
            }
            CUDA_CHECK(cudaFree(c.A));
            CUDA_CHECK(cudaFree(c.B));
            free_scales(c.sc);
        }
    }
    if (!bench::options().extra.count("check_impl")) fails += accuracy_study(rng());
    printf("gemm --check: %d failed, %d skipped\n", fails, skipped);
    return fails ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
    bench::init(&argc, argv, {"tokens", "variants", "check_shapes", "check_impl"});
    const bench::Options &o = bench::options();
    if (o.check) return run_check();
    register_benchmarks(o.extra.count("variants") != 0); // reads the shape list: bad input exits before GPU work
    bench::add_context();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
