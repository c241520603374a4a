/*
 * fixed: conversions between doubles and exact nano-unit quantities.
 */
#include "fixed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NANO 1000000000

fixed_t fixed_from_double(double v)
{
    double whole = trunc(v);
    /* Both parts are exact in double; only the fraction is rounded. */
    return (fixed_t)(long long)whole * NANO + (fixed_t)llround((v - whole) * NANO);
}

double fixed_to_double(fixed_t f)
{
    /* Print the exact decimal and let strtod round it once, correctly. */
    int negative = f < 0;
    unsigned __int128 u = negative ? -(unsigned __int128)f : (unsigned __int128)f;
    unsigned __int128 whole = u / NANO;
    unsigned long long frac = (unsigned long long)(u % NANO);
    char digits[48];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(whole % 10));
        whole /= 10;
    } while (whole);
    char text[64];
    size_t len = 0;
    if (negative)
        text[len++] = '-';
    while (n)
        text[len++] = digits[--n];
    snprintf(text + len, sizeof(text) - len, ".%09llu", frac);
    return strtod(text, NULL);
}
