/*
 * xorshift: the pseudo-random numbers jitter needs (spread, not secrecy):
 * xorshift64, on a state the caller owns and seeds non-zero.
 */
#ifndef INGOT_XORSHIFT_H
#define INGOT_XORSHIFT_H

#include <stdint.h>

/* The next number of *state (never 0 when *state was not 0). */
static inline uint64_t xorshift_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
