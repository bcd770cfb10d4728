/*
 * The accuracy study's window onto codec/fp8_quant.h: a few exported
 * functions that accuracy/fp8quant.py calls through ctypes. Built as
 * build/libfp8quant.so by `make accuracy`. The quantization is the
 * header's; this file only loops, allocates the scale arrays and expands the
 * scales to one per element so that the study can tell saturation.
 */
#include "../codec/fp8_quant.h"

#include <stdlib.h>

enum { SCHEME_TENSOR = 0, SCHEME_TILES = 1, SCHEME_E8M0 = 2 };

#define FORMAT(F)                                                                              \
    static int run_##F(int scheme, unsigned how, const float *x, size_t rows, size_t cols,     \
                       size_t tr, size_t tc, uint8_t *q, float *y, float *s_el)                \
    {                                                                                          \
        size_t n = rows * cols, i, j, nJ = fp8_blocks_count(cols, tc);                         \
        int rc = 0;                                                                            \
        if (scheme == SCHEME_TENSOR) {                                                         \
            float s = 0;                                                                       \
            rc = fp8_##F##_quantize_tensor_f32(q, &s, x, n, how);                              \
            if (!rc) rc = fp8_##F##_dequantize_tensor_f32(y, q, n, s);                         \
            for (i = 0; i < n; i++) s_el[i] = s;                                               \
            return rc;                                                                         \
        }                                                                                      \
        if (scheme == SCHEME_TILES) {                                                          \
            float *sc = malloc((fp8_blocks_count(rows, tr) * nJ + 1) * sizeof *sc);            \
            if (!sc) return -2;                                                                \
            if (rows == 1) { /* a 1-D tensor: the blocks functions */                          \
                rc = fp8_##F##_quantize_blocks_f32(q, sc, x, cols, tc, how);                   \
                if (!rc) rc = fp8_##F##_dequantize_blocks_f32(y, q, sc, cols, tc);             \
            } else {                                                                           \
                rc = fp8_##F##_quantize_tiles_f32(q, cols, sc, x, cols, rows, cols, tr, tc,    \
                                                  how);                                        \
                if (!rc)                                                                       \
                    rc = fp8_##F##_dequantize_tiles_f32(y, cols, q, cols, sc, rows, cols, tr,  \
                                                        tc);                                   \
            }                                                                                  \
            for (i = 0; i < rows; i++)                                                         \
                for (j = 0; j < cols; j++) s_el[i * cols + j] = sc[(i / tr) * nJ + j / tc];    \
            free(sc);                                                                          \
            return rc;                                                                         \
        }                                                                                      \
        if (scheme == SCHEME_E8M0) { /* blocks of tc along each row */                         \
            uint8_t *se = malloc(nJ + 1);                                                      \
            if (!se) return -2;                                                                \
            for (i = 0; i < rows && !rc; i++) {                                                \
                const float *xr = x + i * cols;                                                \
                uint8_t *qr = q + i * cols;                                                    \
                rc = tc == FP8_MX_BLOCK && how == FP8_E8M0_OCP                                 \
                         ? fp8_##F##_quantize_mx_f32(qr, se, xr, cols)                         \
                         : fp8_##F##_quantize_blocks_e8m0_f32(qr, se, xr, cols, tc, how);      \
                if (!rc) rc = fp8_##F##_dequantize_blocks_e8m0_f32(y + i * cols, qr, se, cols, tc); \
                for (j = 0; j < cols; j++) s_el[i * cols + j] = fp8_e8m0_to_f32(se[j / tc]);   \
            }                                                                                  \
            free(se);                                                                          \
            return rc;                                                                         \
        }                                                                                      \
        return FP8_QUANT_EINVAL;                                                               \
    }
FORMAT(e4m3)
FORMAT(e5m2)

/* Quantize the row-major rows x cols matrix x (a 1-D tensor: rows 1) with
   one scheme and dequantize it: q the codes, y the values back, s_el each
   element's scale. fmt 0 E4M3, 1 E5M2. how: flags (FP32 scales) or rule
   (E8M0). Returns the header's status. */
int fq_run(int fmt, int scheme, unsigned how, const float *x, size_t rows, size_t cols,
           size_t tr, size_t tc, uint8_t *q, float *y, float *s_el)
{
    return fmt ? run_e5m2(scheme, how, x, rows, cols, tr, tc, q, y, s_el)
               : run_e4m3(scheme, how, x, rows, cols, tr, tc, q, y, s_el);
}
