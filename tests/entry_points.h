/*
 * Every public function of codec/fp8.h, grouped by signature, as X-macro
 * lists. The cross-architecture test, the no-branch/no-table test, the code
 * size table, the fuzzer and the CPU benchmark all walk these lists, and
 * tests/nobranch.sh checks that they name every function the header
 * defines, so a new entry point cannot be left out of them unnoticed.
 *
 * X(name) for functions of the list's signature; the float wrappers carry
 * their integer twin: X(name, bits_twin).
 */
#ifndef FP8KIT_TESTS_ENTRY_POINTS_H
#define FP8KIT_TESTS_ENTRY_POINTS_H

/* uint8_t f(uint32_t): FP32 bits -> FP8 / E8M0 */
#define FP8KIT_U32_TO_U8(X)                                                     \
    X(fp8_e4m3_from_f32_bits) X(fp8_e5m2_from_f32_bits)                         \
    X(fp8_e4m3_from_f32_nosat_bits) X(fp8_e5m2_from_f32_nosat_bits)             \
    X(fp8_e8m0_from_f32_rz_bits) X(fp8_e8m0_from_f32_rz_nosat_bits)             \
    X(fp8_e8m0_from_f32_rp_bits) X(fp8_e8m0_from_f32_rp_nosat_bits)

/* uint16_t f(uint32_t): FP32 bits -> BF16 / FP16 bits */
#define FP8KIT_U32_TO_U16(X) X(bf16_from_f32_bits) X(f16_from_f32_bits)

/* uint8_t f(uint32_t bits, uint32_t random_bits): stochastic rounding */
#define FP8KIT_SR_BITS(X) X(fp8_e4m3_from_f32_sr_bits) X(fp8_e5m2_from_f32_sr_bits)

/* uint8_t f(float), with the bits twin */
#define FP8KIT_F32_TO_U8(X)                                                     \
    X(fp8_e4m3_from_f32, fp8_e4m3_from_f32_bits)                                \
    X(fp8_e5m2_from_f32, fp8_e5m2_from_f32_bits)                                \
    X(fp8_e4m3_from_f32_nosat, fp8_e4m3_from_f32_nosat_bits)                    \
    X(fp8_e5m2_from_f32_nosat, fp8_e5m2_from_f32_nosat_bits)                    \
    X(fp8_e8m0_from_f32_rz, fp8_e8m0_from_f32_rz_bits)                          \
    X(fp8_e8m0_from_f32_rz_nosat, fp8_e8m0_from_f32_rz_nosat_bits)              \
    X(fp8_e8m0_from_f32_rp, fp8_e8m0_from_f32_rp_bits)                          \
    X(fp8_e8m0_from_f32_rp_nosat, fp8_e8m0_from_f32_rp_nosat_bits)

/* uint16_t f(float), with the bits twin */
#define FP8KIT_F32_TO_U16(X) X(bf16_from_f32, bf16_from_f32_bits) X(f16_from_f32, f16_from_f32_bits)

/* uint8_t f(float, uint32_t random_bits), with the bits twin */
#define FP8KIT_SR_F32(X)                                                        \
    X(fp8_e4m3_from_f32_sr, fp8_e4m3_from_f32_sr_bits)                          \
    X(fp8_e5m2_from_f32_sr, fp8_e5m2_from_f32_sr_bits)

/* uint16_t f(float lo, float hi): two values, lo in the low byte, with the
   bits twin of each half */
#define FP8KIT_F32X2_TO_U16(X)                                                  \
    X(fp8_e4m3x2_from_f32, fp8_e4m3_from_f32_bits)                              \
    X(fp8_e5m2x2_from_f32, fp8_e5m2_from_f32_bits)

/* uint8_t f(uint16_t): BF16 / FP16 bits -> FP8 */
#define FP8KIT_U16_TO_U8(X)                                                     \
    X(fp8_e4m3_from_bf16) X(fp8_e5m2_from_bf16)                                 \
    X(fp8_e4m3_from_bf16_nosat) X(fp8_e5m2_from_bf16_nosat)                     \
    X(fp8_e4m3_from_f16) X(fp8_e5m2_from_f16)                                   \
    X(fp8_e4m3_from_f16_nosat) X(fp8_e5m2_from_f16_nosat)

/* uint32_t f(uint16_t): BF16 / FP16 bits -> FP32 bits */
#define FP8KIT_U16_TO_U32(X) X(bf16_to_f32_bits) X(f16_to_f32_bits)

/* float f(uint16_t), with the bits twin */
#define FP8KIT_U16_TO_F32(X) X(bf16_to_f32, bf16_to_f32_bits) X(f16_to_f32, f16_to_f32_bits)

/* uint32_t f(uint8_t): FP8 / E8M0 code -> FP32 bits */
#define FP8KIT_U8_TO_U32(X) X(fp8_e4m3_to_f32_bits) X(fp8_e5m2_to_f32_bits) X(fp8_e8m0_to_f32_bits)

/* float f(uint8_t), with the bits twin */
#define FP8KIT_U8_TO_F32(X)                                                     \
    X(fp8_e4m3_to_f32, fp8_e4m3_to_f32_bits)                                    \
    X(fp8_e5m2_to_f32, fp8_e5m2_to_f32_bits)                                    \
    X(fp8_e8m0_to_f32, fp8_e8m0_to_f32_bits)

/* uint16_t f(uint8_t): FP8 code -> BF16 / FP16 bits */
#define FP8KIT_U8_TO_U16(X) X(fp8_e4m3_to_bf16) X(fp8_e5m2_to_bf16) X(fp8_e4m3_to_f16) X(fp8_e5m2_to_f16)

/* Array forms: X(name, dst_t, src_t, scalar) */
#define FP8KIT_ARRAYS(X)                                                        \
    X(fp8_e4m3_from_f32_n, uint8_t, float, fp8_e4m3_from_f32)                   \
    X(fp8_e5m2_from_f32_n, uint8_t, float, fp8_e5m2_from_f32)                   \
    X(fp8_e4m3_from_f32_nosat_n, uint8_t, float, fp8_e4m3_from_f32_nosat)       \
    X(fp8_e5m2_from_f32_nosat_n, uint8_t, float, fp8_e5m2_from_f32_nosat)       \
    X(fp8_e4m3_from_bf16_n, uint8_t, uint16_t, fp8_e4m3_from_bf16)              \
    X(fp8_e5m2_from_bf16_n, uint8_t, uint16_t, fp8_e5m2_from_bf16)              \
    X(fp8_e4m3_from_f16_n, uint8_t, uint16_t, fp8_e4m3_from_f16)                \
    X(fp8_e5m2_from_f16_n, uint8_t, uint16_t, fp8_e5m2_from_f16)                \
    X(fp8_e4m3_to_f32_n, float, uint8_t, fp8_e4m3_to_f32)                       \
    X(fp8_e5m2_to_f32_n, float, uint8_t, fp8_e5m2_to_f32)                       \
    X(fp8_e4m3_to_bf16_n, uint16_t, uint8_t, fp8_e4m3_to_bf16)                  \
    X(fp8_e5m2_to_bf16_n, uint16_t, uint8_t, fp8_e5m2_to_bf16)                  \
    X(fp8_e4m3_to_f16_n, uint16_t, uint8_t, fp8_e4m3_to_f16)                    \
    X(fp8_e5m2_to_f16_n, uint16_t, uint8_t, fp8_e5m2_to_f16)                    \
    X(bf16_from_f32_n, uint16_t, float, bf16_from_f32)                          \
    X(f16_from_f32_n, uint16_t, float, f16_from_f32)

#endif
