// Random test data for the decode benchmarks, computed on the GPU from a
// seed and an index (so a fill is one kernel, and any element can be
// recomputed): splitmix64 finalizer, uniform and approximately normal values.
#pragma once

#include <cstddef>
#include <cstdint>

__host__ __device__ inline uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// Uniform on [-1, 1), 24 bits.
__device__ inline float unif(uint64_t seed, size_t i)
{
    return (float)((mix64(seed * 0x100000001B3ull + i) >> 40) * (1.0 / (1 << 23)) - 1.0);
}
