// tests/exhaustive_refs.cpp: NVIDIA's host code and F16C, each as a block
// fill: out[i] = reference(base + i) for i < n, inputs and outputs as bits
// (sat: satfinite, else no saturation; e5m2: E5M2, else E4M3; round_up: E8M0
// toward +Inf, else toward zero).
#pragma once
#include <cstdint>

void nv_fp8_from_f32(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2);
void nv_fp8_from_f16(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2);
void nv_fp8_from_bf16(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool e5m2);
void nv_e8m0_from_f32(uint64_t base, uint8_t *out, uint32_t n, bool sat, bool round_up);
void nv_bf16_from_f32(uint64_t base, uint16_t *out, uint32_t n);
void nv_f16_from_f32(uint64_t base, uint16_t *out, uint32_t n);
void nv_f16_to_f32(uint64_t base, uint32_t *out, uint32_t n);
void nv_fp8_to_f16(uint64_t base, uint16_t *out, uint32_t n, bool e5m2);
void nv_e8m0_to_f32(uint64_t base, uint32_t *out, uint32_t n);

bool f16c_present(); // x86-64 with F16C
void f16c_from_f32(uint64_t base, uint16_t *out, uint32_t n);
void f16c_to_f32(uint64_t base, uint32_t *out, uint32_t n);
