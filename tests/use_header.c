/* Uses every function of codec/fp8.h, so that each is compiled and any
   call it makes shows up as an undefined symbol (tests/compile.sh). */
#include "../codec/fp8.h"

#if defined(__cplusplus)
extern "C" {
#endif
#if defined(USE_HEADER_CUDA)
#define USE __host__ __device__
#else
#define USE
#endif

#define U(v) r ^= (uint32_t)(v)
USE uint32_t use_scalars(float x, uint32_t u, uint16_t h, uint8_t c)
{
    uint32_t r = 0;
    U(fp8_e4m3_from_f32(x)); U(fp8_e5m2_from_f32(x)); U(fp8_e4m3_from_f32_nosat(x)); U(fp8_e5m2_from_f32_nosat(x));
    U(fp8_e4m3_from_f32_sr(x, u)); U(fp8_e5m2_from_f32_sr(x, u)); U(fp8_e4m3x2_from_f32(x, x)); U(fp8_e5m2x2_from_f32(x, x));
    U(fp8_e4m3_from_bf16(h)); U(fp8_e5m2_from_bf16(h)); U(fp8_e4m3_from_bf16_nosat(h)); U(fp8_e5m2_from_bf16_nosat(h));
    U(fp8_e4m3_from_f16(h)); U(fp8_e5m2_from_f16(h)); U(fp8_e4m3_from_f16_nosat(h)); U(fp8_e5m2_from_f16_nosat(h));
    U(fp8_e4m3_to_f32_bits(c)); U(fp8_e5m2_to_f32_bits(c)); U(fp8_e4m3_to_f32(c)); U(fp8_e5m2_to_f32(c));
    U(fp8_e4m3_to_bf16(c)); U(fp8_e5m2_to_bf16(c)); U(fp8_e4m3_to_f16(c)); U(fp8_e5m2_to_f16(c));
    U(fp8_e8m0_from_f32_rz(x)); U(fp8_e8m0_from_f32_rz_nosat(x)); U(fp8_e8m0_from_f32_rp(x)); U(fp8_e8m0_from_f32_rp_nosat(x));
    U(fp8_e8m0_to_f32_bits(c)); U(fp8_e8m0_to_f32(c));
    U(bf16_from_f32(x)); U(f16_from_f32(x)); U(bf16_to_f32(h)); U(f16_to_f32(h));
    return r;
}

void use_arrays(uint8_t *b, uint16_t *h, float *f, size_t n)
{
    fp8_e4m3_from_f32_n(b, f, n); fp8_e5m2_from_f32_n(b, f, n);
    fp8_e4m3_from_f32_nosat_n(b, f, n); fp8_e5m2_from_f32_nosat_n(b, f, n);
    fp8_e4m3_from_bf16_n(b, h, n); fp8_e5m2_from_bf16_n(b, h, n);
    fp8_e4m3_from_f16_n(b, h, n); fp8_e5m2_from_f16_n(b, h, n);
    fp8_e4m3_to_f32_n(f, b, n); fp8_e5m2_to_f32_n(f, b, n);
    fp8_e4m3_to_bf16_n(h, b, n); fp8_e5m2_to_bf16_n(h, b, n);
    fp8_e4m3_to_f16_n(h, b, n); fp8_e5m2_to_f16_n(h, b, n);
    bf16_from_f32_n(h, f, n); f16_from_f32_n(h, f, n);
}
#if defined(__cplusplus)
}
#endif
