// cublaslt_gemv: the cuBLASLt baseline for the decode GEMV, Y = X * W^T with
// the same layouts as gemv.cuh (W N x K row-major, X M x K, Y M x N, BF16
// out), as the column-major product Y^T (N x M) = op_T(W) * X^T ("TN", the
// only layout cuBLASLt's FP8 kernels take).
//
//   BF16:          A = W bf16, B = X bf16.
//   FP8 (Hopper's FP8 tensor cores need both operands in FP8): A = W E4M3,
//   B = X quantized to E4M3 by us before timing (not timed), with
//     channel: A scale OUTER_VEC_32F (the per-output-channel weight scales),
//              B scale OUTER_VEC_32F (one scale per token);
//     block:   A scale BLK128x128_32F (the 128x128 weight scales),
//              B scale VEC128_32F (one scale per token and 128 k);
//     tensor:  per-tensor scalars (the fallback where a mode is refused).
// The first algorithm of cuBLASLt's heuristic, 32 MiB workspace.
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace lt {

enum Mode { BF16 = 0, FP8_TENSOR = 1, FP8_CHANNEL = 2, FP8_BLOCK = 3 };

inline const char *mode_name(int m)
{
    return m == BF16 ? "bf16" : m == FP8_TENSOR ? "e4m3_tensor" : m == FP8_CHANNEL ? "e4m3_channel" : "e4m3_block";
}

struct Gemv {
    cublasLtHandle_t h = nullptr;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
    cublasLtMatmulAlgo_t algo;
    void *ws = nullptr;
    size_t ws_bytes = size_t(32) << 20;
    std::string why; // empty when usable
    int M = 0, N = 0, K = 0, mode = 0;

    // a_scale, b_scale: device FP32 arrays (FP8 modes), laid out per mode.
    bool init(int M_, int N_, int K_, int mode_, const float *a_scale, const float *b_scale)
    {
        M = M_, N = N_, K = K_, mode = mode_;
        const bool fp8 = mode != BF16;
        const cudaDataType_t ta = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
        if (cublasLtCreate(&h) != CUBLAS_STATUS_SUCCESS) return fail("cublasLtCreate");
        if (cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS)
            return fail("MatmulDescCreate");
        cublasOperation_t opa = CUBLAS_OP_T, opb = CUBLAS_OP_N;
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa);
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb);
        if (fp8) {
            cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &a_scale, sizeof a_scale);
            cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &b_scale, sizeof b_scale);
            int32_t ma = CUBLASLT_MATMUL_MATRIX_SCALE_SCALAR_32F, mb = ma;
            if (mode == FP8_CHANNEL) ma = mb = CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F;
            if (mode == FP8_BLOCK) {
                ma = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F;
                mb = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
            }
            if (cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &ma, sizeof ma) !=
                    CUBLAS_STATUS_SUCCESS ||
                cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &mb, sizeof mb) !=
                    CUBLAS_STATUS_SUCCESS)
                return fail("scale mode refused");
        }
        if (cublasLtMatrixLayoutCreate(&la, ta, K, N, K) != CUBLAS_STATUS_SUCCESS ||
            cublasLtMatrixLayoutCreate(&lb, ta, K, M, K) != CUBLAS_STATUS_SUCCESS ||
            cublasLtMatrixLayoutCreate(&ld, CUDA_R_16BF, N, M, N) != CUBLAS_STATUS_SUCCESS)
            return fail("MatrixLayoutCreate");
        if (cudaMalloc(&ws, ws_bytes) != cudaSuccess) return fail("workspace");
        cublasLtMatmulPreference_t pref;
        cublasLtMatmulPreferenceCreate(&pref);
        cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes, sizeof ws_bytes);
        cublasLtMatmulHeuristicResult_t res;
        int n = 0;
        cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(h, desc, la, lb, ld, ld, pref, 1, &res, &n);
        cublasLtMatmulPreferenceDestroy(pref);
        if (st != CUBLAS_STATUS_SUCCESS || n == 0)
            return fail(std::string("no algorithm (status ") + std::to_string((int)st) + ")");
        algo = res.algo;
        return true;
    }

    bool run(const void *W, const void *X, void *Y, cudaStream_t s)
    {
        const float alpha = 1.f, beta = 0.f;
        return cublasLtMatmul(h, desc, &alpha, W, la, X, lb, &beta, Y, ld, Y, ld, &algo, ws, ws_bytes, s) ==
               CUBLAS_STATUS_SUCCESS;
    }

    bool fail(const std::string &w)
    {
        why = w;
        return false;
    }

    ~Gemv()
    {
        if (la) cublasLtMatrixLayoutDestroy(la);
        if (lb) cublasLtMatrixLayoutDestroy(lb);
        if (ld) cublasLtMatrixLayoutDestroy(ld);
        if (desc) cublasLtMatmulDescDestroy(desc);
        if (h) cublasLtDestroy(h);
        if (ws) cudaFree(ws);
    }
};

} // namespace lt
