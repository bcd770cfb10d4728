// The cuBLASLt baselines: the same product as our kernels,
// C[M x N] (row-major, BF16) = scale(A[M x K] * B[N x K]^T) with A and B
// row-major, through cublasLtMatmul.
//
// cuBLASLt is column-major, and its FP8 kernels take only the "TN" form
// (op(A) = T, op(B) = N: both operands K-major). A row-major M x N matrix is
// a column-major N x M one, so we ask for C^T = B * A^T: cuBLAS's A is our B
// (K x N column-major, ld K, transposed), its B is our A (K x M column-major,
// ld K, not transposed), its D is N x M with ld N. Scales follow the
// operands: CUBLASLT_MATMUL_DESC_A_SCALE_POINTER gets our B's scale.
//
// Kinds: bf16; e4m3 (per-tensor scales, FP8 fast accumulation on); e4m3_exact
// (the same with fast accumulation off: partial sums promoted to FP32);
// e4m3_rowwise (OUTER_VEC_32F: a scale per row of A and per row of B);
// e4m3_block (VEC128_32F activations, BLK128x128_32F weights; cuBLASLt
// allows no fast accumulation with these). The algorithm is the first of the
// heuristic's list (as PyTorch does), with a 32 MiB workspace.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace fp8kit {

#define CUBLAS_CHECK(call)                                                                      \
    do {                                                                                        \
        cublasStatus_t st_ = (call);                                                            \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            fprintf(stderr, "%s:%d: %s: cuBLAS status %d\n", __FILE__, __LINE__, #call, (int)st_); \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

enum class LtKind { BF16, E4M3, E4M3Exact, E4M3Rowwise, E4M3Block };

inline cublasLtHandle_t lt_handle()
{
    static cublasLtHandle_t h = [] {
        cublasLtHandle_t x;
        CUBLAS_CHECK(cublasLtCreate(&x));
        return x;
    }();
    return h;
}

inline void *lt_workspace(size_t *bytes)
{
    static const size_t n = size_t(32) << 20;
    static void *p = [] {
        void *q;
        if (cudaMalloc(&q, n) != cudaSuccess) {
            fprintf(stderr, "cuBLASLt workspace: out of memory\n");
            exit(1);
        }
        return q;
    }();
    *bytes = n;
    return p;
}

// One planned cuBLASLt product. The scale pointers (device) are fixed at
// plan time; the operands are given to run().
struct LtGemm {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
    cublasLtMatmulAlgo_t algo;
    std::string error; // non-empty: cuBLASLt has no algorithm for this

    LtGemm(LtKind kind, int M, int N, int K, const float *scale_a, const float *scale_b)
    {
        const bool fp8 = kind != LtKind::BF16;
        const cudaDataType_t in = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
        CUBLAS_CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        const cublasOperation_t t = CUBLAS_OP_T, n = CUBLAS_OP_N;
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t));
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &n, sizeof n));
        if (fp8) {
            const int8_t fast = kind == LtKind::E4M3 || kind == LtKind::E4M3Rowwise;
            CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof fast));
            int32_t mode_w = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, mode_x = mode_w;
            if (kind == LtKind::E4M3Rowwise) mode_w = mode_x = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
            if (kind == LtKind::E4M3Block) {
                mode_w = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
                mode_x = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
            }
            // cuBLAS's A is our B (weights), its B our A (activations)
            CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &mode_w, sizeof mode_w));
            CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &mode_x, sizeof mode_x));
            CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &scale_b, sizeof scale_b));
            CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &scale_a, sizeof scale_a));
        }
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&la, in, K, N, K));
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&lb, in, K, M, K));
        CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&ld, CUDA_R_16BF, N, M, N));
        cublasLtMatmulPreference_t pref;
        CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
        size_t ws;
        lt_workspace(&ws);
        CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws));
        cublasLtMatmulHeuristicResult_t res[4] = {};
        int found = 0;
        cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(lt_handle(), op, la, lb, ld, ld, pref, 4, res, &found);
        cublasLtMatmulPreferenceDestroy(pref);
        if (st != CUBLAS_STATUS_SUCCESS || found == 0)
            error = "cuBLASLt has no algorithm (status " + std::to_string((int)st) + ")";
        else
            algo = res[0].algo;
    }
    LtGemm(const LtGemm &) = delete;
    LtGemm &operator=(const LtGemm &) = delete;
    ~LtGemm()
    {
        if (ld) cublasLtMatrixLayoutDestroy(ld);
        if (lb) cublasLtMatrixLayoutDestroy(lb);
        if (la) cublasLtMatrixLayoutDestroy(la);
        if (op) cublasLtMatmulDescDestroy(op);
    }

    void run(const void *A, const void *B, void *C, cudaStream_t s) const
    {
        const float one = 1.f, zero = 0.f;
        size_t ws;
        void *w = lt_workspace(&ws);
        CUBLAS_CHECK(cublasLtMatmul(lt_handle(), op, &one, B, la, A, lb, &zero, C, ld, C, ld, &algo, w, ws, s));
    }
};

} // namespace fp8kit
