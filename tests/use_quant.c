/* Uses every function of codec/fp8_quant.h, so that each is compiled and
   any call it makes shows up as an undefined symbol (tests/compile.sh with
   SRC=tests/use_quant.c). */
#include "../codec/fp8_quant.h"

#if defined(__cplusplus)
extern "C" {
#endif
#if defined(USE_HEADER_CUDA)
#define USE __host__ __device__
#else
#define USE
#endif

#define QUANT(F, S, src_t)                                                                        \
    USE int use_##F##_##S(uint8_t *q, float *sc, uint8_t *se, const src_t *x, size_t n,           \
                          size_t b, float s)                                                      \
    {                                                                                             \
        return fp8_##F##_quantize_tensor_##S(q, sc, x, n, FP8_QUANT_POW2) +                       \
               fp8_##F##_quantize_scaled_##S(q, x, n, s) +                                        \
               fp8_##F##_quantize_blocks_##S(q, sc, x, n, b, 0) +                                 \
               fp8_##F##_quantize_tiles_##S(q, b, sc, x, b, n, b, 128, 128, 0) +                  \
               fp8_##F##_quantize_blocks_e8m0_##S(q, se, x, n, b, FP8_E8M0_CEIL) +                \
               fp8_##F##_quantize_mx_##S(q, se, x, n);                                            \
    }
#define DEQUANT(F, D, dst_t)                                                                      \
    USE int unuse_##F##_##D(dst_t *y, const uint8_t *q, const float *sc, const uint8_t *se,       \
                            size_t n, size_t b)                                                   \
    {                                                                                             \
        return fp8_##F##_dequantize_tensor_##D(y, q, n, sc[0]) +                                  \
               fp8_##F##_dequantize_blocks_##D(y, q, sc, n, b) +                                  \
               fp8_##F##_dequantize_tiles_##D(y, b, q, b, sc, n, b, 128, 128) +                   \
               fp8_##F##_dequantize_blocks_e8m0_##D(y, q, se, n, b);                              \
    }
QUANT(e4m3, f32, float)
QUANT(e4m3, bf16, uint16_t)
QUANT(e5m2, f32, float)
QUANT(e5m2, bf16, uint16_t)
DEQUANT(e4m3, f32, float)
DEQUANT(e4m3, bf16, uint16_t)
DEQUANT(e5m2, f32, float)
DEQUANT(e5m2, bf16, uint16_t)

USE uint32_t use_scales(float a, const float *x, const uint16_t *h, size_t n)
{
    uint32_t r = 0;
    r ^= fp8kit_f32_as_bits(fp8_amax_f32(x, n)) ^ fp8kit_f32_as_bits(fp8_amax_bf16(h, n));
    r ^= fp8kit_f32_as_bits(fp8_e4m3_scale(a)) ^ fp8kit_f32_as_bits(fp8_e5m2_scale(a));
    r ^= fp8kit_f32_as_bits(fp8_e4m3_scale_pow2(a)) ^ fp8kit_f32_as_bits(fp8_e5m2_scale_pow2(a));
    r ^= (uint32_t)fp8_e4m3_scale_e8m0(a, FP8_E8M0_OCP) ^ (uint32_t)fp8_e5m2_scale_e8m0(a, FP8_E8M0_CEIL);
    r ^= (uint32_t)fp8_blocks_count(n, 32);
    return r;
}
#if defined(__cplusplus)
}
#endif
