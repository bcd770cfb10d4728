/* Negative controls for tests/nobranch.py: each must be flagged, on every
   architecture and compiler, or the checker is not checking. */
#include <stdint.h>

/* a data-dependent loop: a conditional branch no compiler can remove */
uint8_t k_control_branch(uint32_t x);
uint8_t k_control_branch(uint32_t x)
{
    uint8_t n = 0;
    while (x > 1u) { x >>= 1; n++; }
    return n;
}

/* a table lookup: a load whose address depends on the input */
static const uint8_t control_table[32] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3,
                                          2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5};
uint8_t k_control_table(uint32_t x);
uint8_t k_control_table(uint32_t x) { return control_table[x & 31u]; }
