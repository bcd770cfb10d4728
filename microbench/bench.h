// The GPU benchmark harness that every fp8kit benchmark binary shares.
//
//   - Google Benchmark with manual time: each iteration launches a batch of
//     kernels between two CUDA events and reports the time per launch.
//   - Rotating operand sets, so that inputs are not sitting in L2: a
//     benchmark cycles through enough copies of its inputs that the bytes it
//     touches between two uses of one copy exceed several times the L2.
//   - Warm-up launches before timing; repetitions with the median reported
//     (the sweep runs with --benchmark_repetitions and aggregates).
//   - The JSON context names the GPU, SM count, clocks, power limit, driver,
//     CUDA version, git commit, date, and the measured copy bandwidth.
//   - Our own flags (parsed after Google Benchmark takes its own):
//       --shapes=FILE     shape list from sweeps/ (each binary's format)
//       --check           run every kernel against a reference, don't time
//       --quick           fewer shapes / shorter runs
//       --copy_gbps=X     measured device-to-device copy bandwidth (else measured here)
//       --peak_e4m3=X --peak_bf16=X   measured cuBLASLt TFLOP/s ceilings
#pragma once

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <vector>

#define CUDA_CHECK(call)                                                                        \
    do {                                                                                        \
        cudaError_t err_ = (call);                                                              \
        if (err_ != cudaSuccess) {                                                              \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(err_)); \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

// After a launch: the launch's own error, at once.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

namespace bench {

struct Options {
    std::string shapes;
    bool check = false;
    bool quick = false;
    double copy_gbps = 0;  // measured D2D copy bandwidth, bytes read + written
    double peak_e4m3 = 0;  // measured cuBLASLt TFLOP/s
    double peak_bf16 = 0;
    std::map<std::string, std::string> extra;  // --key=value flags for one binary
};

inline Options &options()
{
    static Options o;
    return o;
}

inline const cudaDeviceProp &device()
{
    static cudaDeviceProp p = [] {
        cudaDeviceProp q;
        int dev = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaGetDeviceProperties(&q, dev));
        return q;
    }();
    return p;
}

// A device buffer of n T's (cudaMalloc, freed with the object).
template <class T> struct DevBuf {
    T *p = nullptr;
    size_t n = 0;
    DevBuf() = default;
    explicit DevBuf(size_t n_) { alloc(n_); }
    void alloc(size_t n_)
    {
        if (p) cudaFree(p);
        n = n_;
        CUDA_CHECK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T)));
    }
    DevBuf(const DevBuf &) = delete;
    DevBuf &operator=(const DevBuf &) = delete;
    ~DevBuf()
    {
        if (p) cudaFree(p);
    }
    size_t bytes() const { return n * sizeof(T); }
    void upload(const std::vector<T> &h) { CUDA_CHECK(cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice)); }
    std::vector<T> download() const
    {
        std::vector<T> h(n);
        CUDA_CHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
};

// Device-to-device copy bandwidth in GB/s, counting bytes read plus bytes
// written, over a 2 GiB copy (far beyond L2); median of 10 after warm-up.
inline double measure_copy_gbps()
{
    const size_t bytes = size_t(1) << 30;
    void *a, *b;
    CUDA_CHECK(cudaMalloc(&a, bytes));
    CUDA_CHECK(cudaMalloc(&b, bytes));
    CUDA_CHECK(cudaMemset(a, 0x5A, bytes));
    cudaEvent_t e0, e1;
    CUDA_CHECK(cudaEventCreate(&e0));
    CUDA_CHECK(cudaEventCreate(&e1));
    std::vector<float> ms;
    for (int i = 0; i < 13; i++) {
        CUDA_CHECK(cudaEventRecord(e0));
        CUDA_CHECK(cudaMemcpyAsync(i & 1 ? a : b, i & 1 ? b : a, bytes, cudaMemcpyDeviceToDevice));
        CUDA_CHECK(cudaEventRecord(e1));
        CUDA_CHECK(cudaEventSynchronize(e1));
        float t;
        CUDA_CHECK(cudaEventElapsedTime(&t, e0, e1));
        if (i >= 3) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    CUDA_CHECK(cudaFree(a));
    CUDA_CHECK(cudaFree(b));
    CUDA_CHECK(cudaEventDestroy(e0));
    CUDA_CHECK(cudaEventDestroy(e1));
    return 2.0 * bytes / (ms[ms.size() / 2] * 1e-3) / 1e9;
}

// How many copies of a working set of `bytes` to rotate through so that
// consecutive uses of one copy are separated by >= 4x the L2 size.
inline int rotation_count(size_t bytes, size_t max_total = size_t(8) << 30)
{
    const size_t l2 = (size_t)device().l2CacheSize;
    size_t n = bytes >= 4 * l2 ? 1 : (4 * l2 + bytes - 1) / bytes + 1;
    n = std::max<size_t>(n, 2);
    n = std::min<size_t>(n, std::max<size_t>(2, max_total / std::max<size_t>(bytes, 1)));
    return (int)n;
}

// Google Benchmark's timed passes over one stream: each pass is run(n), n
// launches between two CUDA events, and reports their time, counted as n
// iterations (KeepRunningBatch), so the iteration time is the time per
// launch and --benchmark_min_time is real time. A pass is about 2 ms at
// `per` seconds a launch (a multiple of `unit` launches); the last pass is
// cut to what is left of max_iterations, so that every repetition runs
// exactly as many iterations as planned (Google Benchmark checks that they
// agree). Returns the mean time per launch, in seconds.
inline double timed_passes(benchmark::State &state, cudaStream_t s, double per, long unit,
                           const std::function<void(long)> &run)
{
    cudaEvent_t e0, e1;
    CUDA_CHECK(cudaEventCreate(&e0));
    CUDA_CHECK(cudaEventCreate(&e1));
    const long batch = std::min(20000L, std::max(unit, (long)std::ceil(2e-3 / std::max(per, 1e-7) / unit) * unit));
    double total = 0;
    long passes = 0;
    for (benchmark::IterationCount done = 0;;) {
        const benchmark::IterationCount n =
            std::max<benchmark::IterationCount>(1, std::min<benchmark::IterationCount>(batch, state.max_iterations - done));
        if (!state.KeepRunningBatch(n)) break;
        CUDA_CHECK(cudaEventRecord(e0, s));
        run((long)n);
        CUDA_CHECK(cudaEventRecord(e1, s));
        CUDA_CHECK(cudaEventSynchronize(e1));
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
        state.SetIterationTime(ms * 1e-3);
        total += ms * 1e-3 / n;
        passes++;
        done += n;
    }
    CUDA_CHECK_LAUNCH();
    CUDA_CHECK(cudaEventDestroy(e0));
    CUDA_CHECK(cudaEventDestroy(e1));
    return passes ? total / passes : 0;
}

// Seconds a launch of run() takes, from `count` launches on stream s (also a warm-up).
inline double probe(cudaStream_t s, int count, const std::function<void()> &run)
{
    cudaEvent_t e0, e1;
    CUDA_CHECK(cudaEventCreate(&e0));
    CUDA_CHECK(cudaEventCreate(&e1));
    CUDA_CHECK(cudaEventRecord(e0, s));
    run();
    CUDA_CHECK(cudaEventRecord(e1, s));
    CUDA_CHECK(cudaEventSynchronize(e1));
    CUDA_CHECK_LAUNCH();
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, e0, e1));
    CUDA_CHECK(cudaEventDestroy(e0));
    CUDA_CHECK(cudaEventDestroy(e1));
    return ms * 1e-3 / count;
}

// Times launch(i) for i = 0, 1, 2, ... on the default stream, after three
// warm-up launches that also size the passes.
inline double time_launches(benchmark::State &state, const std::function<void(int)> &launch)
{
    int next = 0;
    const double per = probe(0, 3, [&] { for (int i = 0; i < 3; i++) launch(next++); });
    return timed_passes(state, 0, per, 1, [&](long n) { for (long i = 0; i < n; i++) launch(next++); });
}

// The same, for kernels short enough that the host's launch cost could hide
// them: `per_graph` consecutive launches launch(i, stream) are captured in a
// CUDA graph, and the graph is replayed (a pass ending in the middle of a
// graph launches the rest one by one). Warm-up launches run before capture.
inline double time_graph(benchmark::State &state, const std::function<void(int, cudaStream_t)> &launch, int per_graph)
{
    cudaStream_t s;
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    for (int i = 0; i < 3; i++) launch(i, s);
    CUDA_CHECK(cudaStreamSynchronize(s));
    CUDA_CHECK_LAUNCH();
    cudaGraph_t g;
    cudaGraphExec_t ge;
    CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < per_graph; i++) launch(i, s);
    CUDA_CHECK(cudaStreamEndCapture(s, &g));
    CUDA_CHECK(cudaGraphInstantiate(&ge, g, 0));
    const double per = probe(s, per_graph, [&] { CUDA_CHECK(cudaGraphLaunch(ge, s)); });
    int next = 0;
    const double t = timed_passes(state, s, per, per_graph, [&](long n) {
        for (long i = 0; i + per_graph <= n; i += per_graph) CUDA_CHECK(cudaGraphLaunch(ge, s));
        for (long i = 0; i < n % per_graph; i++) launch(next++ % per_graph, s);
    });
    CUDA_CHECK(cudaGraphExecDestroy(ge));
    CUDA_CHECK(cudaGraphDestroy(g));
    CUDA_CHECK(cudaStreamDestroy(s));
    state.counters["graph"] = per_graph;
    return t;
}

// Counters every GPU benchmark reports, from the per-launch work:
//   tflops, gbps, frac_copy (gbps over the measured copy bandwidth) and,
//   given the measured TFLOP/s ceiling of the dtype, frac_peak.
inline void set_counters(benchmark::State &state, double flops, double bytes, double peak_tflops = 0)
{
    using benchmark::Counter;
    const Counter::Flags rate = Counter::kIsIterationInvariantRate;
    if (flops > 0) state.counters["tflops"] = Counter(flops / 1e12, rate);
    if (bytes > 0) state.counters["gbps"] = Counter(bytes / 1e9, rate);
    if (bytes > 0 && options().copy_gbps > 0)
        state.counters["frac_copy"] = Counter(bytes / 1e9 / options().copy_gbps, rate);
    if (flops > 0 && peak_tflops > 0) state.counters["frac_peak"] = Counter(flops / 1e12 / peak_tflops, rate);
}

// Reads a shape list: one shape a line, whitespace-separated fields, '#'
// comments. Each binary says what the fields mean.
inline std::vector<std::vector<std::string>> read_shapes(const std::string &path)
{
    std::vector<std::vector<std::string>> rows;
    FILE *f = fopen(path.c_str(), "r");
    if (!f) {
        fprintf(stderr, "cannot open shape list %s\n", path.c_str());
        exit(2);
    }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        std::vector<std::string> row;
        for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(nullptr, " \t\r\n")) row.push_back(tok);
        if (!row.empty()) rows.push_back(row);
    }
    fclose(f);
    if (rows.empty()) {
        fprintf(stderr, "shape list %s is empty\n", path.c_str());
        exit(2);
    }
    return rows;
}

inline std::string run_cmd(const char *cmd)
{
    std::string out;
    FILE *p = popen(cmd, "r");
    if (!p) return out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

// A --key=value flag of one binary (Options::extra), or def.
inline std::string opt(const char *k, const std::string &def)
{
    auto &e = options().extra;
    auto it = e.find(k);
    return it == e.end() ? def : it->second;
}

// Numbers from flags and shape lists, strictly: the whole text a decimal
// integer in [lo, hi] (atoi reads "two" as 0 and "16x" as 16, and the run
// would go on with a number nobody asked for).
inline bool parse_int(const std::string &s, long lo, long hi, int *out)
{
    if (s.empty() || !(isdigit((unsigned char)s[0]) || s[0] == '-')) return false; // (no space, no '+')
    char *end = nullptr;
    errno = 0;
    const long v = strtol(s.c_str(), &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

// The same for a finite real number in [lo, hi].
inline bool parse_double(const std::string &s, double lo, double hi, double *out)
{
    if (s.empty() || isspace((unsigned char)s[0])) return false;
    char *end = nullptr;
    errno = 0;
    const double v = strtod(s.c_str(), &end);
    if (errno || *end || !std::isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

// An integer flag --k=N in [lo, hi], or def where it is not given; anything
// else is refused (exit 2) with `hint`, what the flag takes.
inline int opt_int(const char *k, int def, long lo, long hi, const char *hint)
{
    const std::string v = opt(k, std::to_string(def));
    int n = def;
    if (!parse_int(v, lo, hi, &n)) {
        fprintf(stderr, "--%s=%s: %s\n", k, v.c_str(), hint);
        exit(2);
    }
    return n;
}

// Field i of a shape list's row (read_shapes) is not `what`: exit 2 naming
// the file, the row and the field.
[[noreturn]] inline void refuse_field(const std::string &path, const std::vector<std::string> &row, size_t i,
                                      const char *what)
{
    fprintf(stderr, "%s: in the line '%s', field %zu ('%s') is not %s\n", path.c_str(), row[0].c_str(), i + 1,
            i < row.size() ? row[i].c_str() : "", what);
    exit(2);
}

// Field i of a shape list's row: an integer in [lo, hi], else refused.
inline int field_int(const std::string &path, const std::vector<std::string> &row, size_t i, long lo = 1,
                     long hi = 1L << 30)
{
    int n = 0;
    if (i < row.size() && parse_int(row[i], lo, hi, &n)) return n;
    char what[64];
    snprintf(what, sizeof what, "an integer in [%ld, %ld]", lo, hi);
    refuse_field(path, row, i, what);
}

// The same for a real number (a model's epsilon, RoPE theta, ...).
inline double field_double(const std::string &path, const std::vector<std::string> &row, size_t i, double lo,
                           double hi)
{
    double v = 0;
    if (i < row.size() && parse_double(row[i], lo, hi, &v)) return v;
    char what[64];
    snprintf(what, sizeof what, "a number in [%g, %g]", lo, hi);
    refuse_field(path, row, i, what);
}

// --flag=a,b,c as integers, each in [lo, hi]; an empty item (1,,16) or any
// other text is refused (exit 2) with `hint`, what each item may be.
inline std::vector<int> int_list(const char *flag, const std::string &arg, long lo, long hi, const char *hint)
{
    std::vector<int> r;
    size_t i = 0;
    while (true) {
        const size_t j = std::min(arg.find(',', i), arg.size());
        const std::string t = arg.substr(i, j - i);
        int n = 0;
        if (t.empty()) {
            fprintf(stderr, "--%s=%s: an empty item (each is %s)\n", flag, arg.c_str(), hint);
            exit(2);
        }
        if (!parse_int(t, lo, hi, &n)) {
            fprintf(stderr, "--%s=%s: '%s' is not %s\n", flag, arg.c_str(), t.c_str(), hint);
            exit(2);
        }
        r.push_back(n);
        if (j == arg.size()) return r;
        i = j + 1;
    }
}

// "a,b,,c" -> {"a", "b", "c"}
inline std::vector<std::string> split_csv(const std::string &s)
{
    std::vector<std::string> r;
    size_t i = 0;
    while (i <= s.size()) {
        const size_t j = std::min(s.find(',', i), s.size());
        if (j > i) r.push_back(s.substr(i, j - i));
        i = j + 1;
    }
    return r;
}

// A tuning variant's name (decode's --gemv_variants and --attn_variants,
// decode_step's --gemv_force): each of `letters` in order, each optional,
// followed by 1..max_digits digits, into *vals[i] (left as it was where the
// letter is absent). False for anything else.
inline bool parse_variant(const std::string &t, const char *letters, int *const *vals, size_t max_digits)
{
    size_t i = 0;
    for (int k = 0; letters[k]; k++) {
        if (i >= t.size() || t[i] != letters[k]) continue;
        const size_t b = ++i;
        while (i < t.size() && isdigit((unsigned char)t[i])) i++;
        if (i == b || i - b > max_digits) return false;
        *vals[k] = atoi(t.substr(b, i - b).c_str());
    }
    return i == t.size();
}

// A diagnostic flag given to the binary built without it (the trace builds):
// says which build has it; true if the flag was given (the caller exits 2).
inline bool refuse_unbuilt(const char *flag, const char *build, const char *define)
{
    if (!options().extra.count(flag)) return false;
    fprintf(stderr, "--%s: %s has it (this binary is built without -D%s)\n", flag, build, define);
    return true;
}

// The run's random seed: --seed=N, else from the clock; printed, so that a
// failing check can be rerun on the same data.
inline uint64_t seed_flag()
{
    const std::string s = opt("seed", "");
    char *end = nullptr;
    errno = 0;
    const uint64_t seed = s.empty() ? ((uint64_t)std::random_device{}() << 32) ^ std::random_device{}() ^ (uint64_t)time(nullptr)
                                    : strtoull(s.c_str(), &end, 10);
    if (!s.empty() && (errno || *end || !isdigit((unsigned char)s[0]))) {
        fprintf(stderr, "--seed=%s: a non-negative integer (the seed a run printed)\n", s.c_str());
        exit(2);
    }
    printf("# seed %llu (--seed=%llu repeats this run)\n", (unsigned long long)seed, (unsigned long long)seed);
    return seed;
}

// GPU and build facts into the JSON context.
inline void add_context()
{
    const cudaDeviceProp &p = device();
    int drv = 0, rt = 0;
    CUDA_CHECK(cudaDriverGetVersion(&drv));
    CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    int clock_khz = 0, mem_clock_khz = 0;
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
    cudaDeviceGetAttribute(&mem_clock_khz, cudaDevAttrMemoryClockRate, 0);
    char buf[64];
    benchmark::AddCustomContext("gpu_name", p.name);
    benchmark::AddCustomContext("gpu_sm_count", std::to_string(p.multiProcessorCount));
    benchmark::AddCustomContext("gpu_memory_bytes", std::to_string(p.totalGlobalMem));
    benchmark::AddCustomContext("gpu_l2_bytes", std::to_string(p.l2CacheSize));
    benchmark::AddCustomContext("gpu_max_sm_clock_mhz", std::to_string(clock_khz / 1000));
    benchmark::AddCustomContext("gpu_max_mem_clock_mhz", std::to_string(mem_clock_khz / 1000));
    benchmark::AddCustomContext("cuda_driver_api", std::to_string(drv));
    benchmark::AddCustomContext("cuda_runtime", std::to_string(rt));
    benchmark::AddCustomContext("gpu_driver", run_cmd("nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1"));
    benchmark::AddCustomContext("gpu_power_limit_w", run_cmd("nvidia-smi --query-gpu=power.limit --format=csv,noheader,nounits 2>/dev/null | head -1"));
    // FP8KIT_GIT_COMMIT: for a copy of the tree without its history (a lent machine)
    const char *commit = getenv("FP8KIT_GIT_COMMIT");
    benchmark::AddCustomContext("git_commit", commit ? commit : run_cmd("git rev-parse HEAD 2>/dev/null"));
    // with FP8KIT_GIT_COMMIT, the copy's own git state says nothing (a lent
    // machine's copy has a stale index): FP8KIT_GIT_DIRTY says, where given
    const char *dirty = getenv("FP8KIT_GIT_DIRTY");
    benchmark::AddCustomContext("git_dirty", dirty      ? dirty
                                             : commit ? "unknown"
                                                      : run_cmd("git status --porcelain --untracked-files=no 2>/dev/null | head -1 | wc -l"));
    time_t now = time(nullptr);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    benchmark::AddCustomContext("run_date", buf);
    Options &o = options();
    if (o.copy_gbps <= 0) o.copy_gbps = measure_copy_gbps();
    snprintf(buf, sizeof buf, "%.1f", o.copy_gbps);
    benchmark::AddCustomContext("copy_gbps", buf);
    if (o.peak_e4m3 > 0) benchmark::AddCustomContext("peak_tflops_e4m3", std::to_string(o.peak_e4m3));
    if (o.peak_bf16 > 0) benchmark::AddCustomContext("peak_tflops_bf16", std::to_string(o.peak_bf16));
}

// A measured rate given on the command line (GB/s, TFLOP/s): a number >= 0
// (0: not given; add_context() measures the copy bandwidth itself, as when
// the sweep's ceilings could not), else exit 2.
inline double flag_rate(const char *k, const char *v)
{
    double r = 0;
    if (!parse_double(v, 0, 1e9, &r)) {
        fprintf(stderr, "--%s=%s: a number >= 0 (the measured rate; 0: not known)\n", k, v);
        exit(2);
    }
    return r;
}

// Google Benchmark takes its flags; we take ours from what is left: the
// shared ones above, --seed=N, and the binary's own --name=value flags
// (`flags`, read with opt()). Anything else is refused (exit 2), so that a
// misspelt or retired flag does not run a different experiment silently.
inline void init(int *argc, char **argv, std::initializer_list<const char *> flags = {})
{
    benchmark::Initialize(argc, argv);
    Options &o = options();
    for (int i = 1; i < *argc; i++) {
        std::string a = argv[i];
        auto val = [&](const char *k) -> const char * {
            size_t n = strlen(k);
            return a.compare(0, n, k) == 0 ? a.c_str() + n : nullptr;
        };
        if (const char *v = val("--shapes=")) o.shapes = v;
        else if (a == "--check") o.check = true;
        else if (a == "--quick") o.quick = true;
        else if (const char *v = val("--copy_gbps=")) o.copy_gbps = flag_rate("copy_gbps", v);
        else if (const char *v = val("--peak_e4m3=")) o.peak_e4m3 = flag_rate("peak_e4m3", v);
        else if (const char *v = val("--peak_bf16=")) o.peak_bf16 = flag_rate("peak_bf16", v);
        else if (a.compare(0, 2, "--") == 0 && a.find('=') != std::string::npos) {
            const std::string k = a.substr(2, a.find('=') - 2);
            bool known = k == "seed";
            for (const char *f : flags) known |= k == f;
            if (!known) {
                std::string list = "--seed";
                for (const char *f : flags) list += std::string(", --") + f;
                fprintf(stderr, "unknown argument: %s (this binary's own flags: %s; Google Benchmark's: --help)\n",
                        argv[i], list.c_str());
                exit(2);
            }
            o.extra[k] = a.substr(a.find('=') + 1);
        } else {
            fprintf(stderr, "unknown argument: %s\n", argv[i]);
            exit(2);
        }
    }
}

// ---- correctness checks (--check and the GPU tests) ----

// One "ok"/"FAIL" line (the project's test protocol); returns pass.
inline bool report_check(bool ok, const std::string &what, double err, double bound)
{
    printf("%s %s: rel err %.3g (bound %.3g)\n", ok ? "ok  " : "FAIL", what.c_str(), err, bound);
    fflush(stdout);
    return ok;
}

// ||out - ref|| / ||ref|| over n values; NaN anywhere gives +Inf.
inline double rel_l2(const double *out, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!std::isfinite(out[i])) return INFINITY;
        num += (out[i] - ref[i]) * (out[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

} // namespace bench
