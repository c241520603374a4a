/*
 * fixed: exact decimal quantities. Values are held as signed 128-bit counts
 * of 1e-9 units, so sums and the deltas of restatements are exact and do
 * not depend on the order records arrive in: national figures "come out
 * right to the last digit" and never drift.
 */
#ifndef INGOT_FIXED_H
#define INGOT_FIXED_H

__extension__ typedef __int128 fixed_t;

/* The largest magnitude a single value may have (1e15): far above any real
 * plant's output, far below what 128 bits of nano-units can sum. */
#define FIXED_VALUE_MAX 1e15

/* The nearest 1e-9 multiple of v; v must be finite with |v| <= FIXED_VALUE_MAX. */
fixed_t fixed_from_double(double v);
/* The double nearest to f's exact decimal value (correctly rounded). */
double fixed_to_double(fixed_t f);

#endif
