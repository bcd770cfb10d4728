/* Every scalar conversion of codec/fp8.h as an external function k_NAME, so
   that tests/nobranch.py can disassemble each one and measure its size. */
#include "../../codec/fp8.h"
#include "../entry_points.h"

#define K1(n, ret, T) ret k_##n(T x); ret k_##n(T x) { return n(x); }
#define K_U32_U8(n) K1(n, uint8_t, uint32_t)
#define K_U32_U16(n) K1(n, uint16_t, uint32_t)
#define K_U16_U8(n) K1(n, uint8_t, uint16_t)
#define K_U16_U32(n) K1(n, uint32_t, uint16_t)
#define K_U8_U32(n) K1(n, uint32_t, uint8_t)
#define K_U8_U16(n) K1(n, uint16_t, uint8_t)
#define K_F32_U8(n, twin) K1(n, uint8_t, float)
#define K_F32_U16(n, twin) K1(n, uint16_t, float)
#define K_U16_F32(n, twin) K1(n, float, uint16_t)
#define K_U8_F32(n, twin) K1(n, float, uint8_t)
#define K_SR(n) uint8_t k_##n(uint32_t x, uint32_t r); uint8_t k_##n(uint32_t x, uint32_t r) { return n(x, r); }
#define K_SRF(n, twin) uint8_t k_##n(float x, uint32_t r); uint8_t k_##n(float x, uint32_t r) { return n(x, r); }
#define K_X2(n, twin) uint16_t k_##n(float a, float b); uint16_t k_##n(float a, float b) { return n(a, b); }

FP8KIT_U32_TO_U8(K_U32_U8)
FP8KIT_U32_TO_U16(K_U32_U16)
FP8KIT_SR_BITS(K_SR)
FP8KIT_F32_TO_U8(K_F32_U8)
FP8KIT_F32_TO_U16(K_F32_U16)
FP8KIT_SR_F32(K_SRF)
FP8KIT_F32X2_TO_U16(K_X2)
FP8KIT_U16_TO_U8(K_U16_U8)
FP8KIT_U16_TO_U32(K_U16_U32)
FP8KIT_U16_TO_F32(K_U16_F32)
FP8KIT_U8_TO_U32(K_U8_U32)
FP8KIT_U8_TO_F32(K_U8_F32)
FP8KIT_U8_TO_U16(K_U8_U16)
