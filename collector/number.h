/*
 * number: strict decimal numbers, as feeds and the config spell quantities.
 * Stricter than strtod: one plain decimal form, nothing locale- or
 * C-specific (no hex, no "inf" or "nan", no surrounding spaces).
 */
#ifndef INGOT_NUMBER_H
#define INGOT_NUMBER_H

#include <stddef.h>

/* The longest text number_parse accepts, in bytes. */
#define NUMBER_MAX_LEN 128

/* Parses exactly the len bytes at s, which need not be NUL-terminated, as
 *     [+|-] digits [. digits] [(e|E) [+|-] digits]
 * with at least one digit in each part present ("1.", ".5" and "1e" are
 * malformed; leading zeros are fine). The value is rounded to the nearest
 * double by strtod, so LC_NUMERIC must be "C" (the daemon never changes it);
 * values too small for a double become 0 or a subnormal.
 * Returns 0 and sets *out, or -1 leaving *out alone when the text is
 * malformed, longer than NUMBER_MAX_LEN, or too large for a finite double
 * ("1e999"). */
int number_parse(const char *s, size_t len, double *out);

#endif
