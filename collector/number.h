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

/* Like number_parse, for the European spelling CSV exports use with a
 * decimal comma: the fraction follows a ',' and a '.' only groups
 * thousands, so the integer part is digits, or 1 to 3 digits followed by
 * groups of exactly three, each after a '.':
 *     [+|-] (digits | d{1,3} (.ddd)+) [, digits] [(e|E) [+|-] digits]
 * "1.234,5" is 1234.5, "1234,5" too, "1.234" is 1234, "-0,25e3" is -250;
 * "1.5", "12.34", "1,234.5", "1.2345", ",5" and "1," are malformed: a
 * misplaced point is refused rather than guessed at. Returns as
 * number_parse does. */
int number_parse_decimal_comma(const char *s, size_t len, double *out);

/* The fast path of number_parse, for the common short form
 *     [+|-] digits [. digits]     with at most 15 digits in all
 * (how feeds write tonnes to the kilogram): the digits as an integer, below
 * 2^53, divided by a power of ten up to 10^15, both exact doubles, so one
 * IEEE division gives the correctly rounded value strtod would. Returns 0
 * and sets *out, or -1 leaving *out alone for anything else (the caller
 * then reads the text the slow, general way). */
int number_parse_short(const char *s, size_t len, double *out);

#endif
