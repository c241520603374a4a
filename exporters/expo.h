/*
 * expo: writer of the Prometheus text exposition format 0.0.4. It owns the
 * format's rules: HELP and TYPE lines, label value escaping, float
 * formatting that round-trips through Go's ParseFloat, and the omission of
 * samples whose value is not finite. Callers emit one family at a time,
 * contiguous, and never the same labelset twice.
 */
#ifndef INGOT_EXPO_H
#define INGOT_EXPO_H

#include <stddef.h>

enum expo_type { EXPO_GAUGE, EXPO_COUNTER };

struct expo_label {
    const char *name;
    const char *value; /* any UTF-8; escaped on output */
};

struct expo;

/* A new, empty writer; release with expo_free. Returns NULL on ENOMEM. */
struct expo *expo_new(void);
void expo_free(struct expo *e);

/* Starts a family. For EXPO_COUNTER, name is the family name without
 * "_total"; samples are written as name_total. */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);

/* Writes one sample of the current family. Samples whose value is NaN or
 * infinite are omitted (ingot never exports them). */
void expo_sample(struct expo *e, const struct expo_label *labels, size_t n_labels, double value);

/* Formats value as the shortest decimal that parses back to the same double
 * ("+Inf", "-Inf" and "NaN" for the non-finite). buf holds at least 32
 * bytes. Returns the length written. */
size_t expo_format_double(double value, char *buf);

/* Hands the text written so far to the caller, who frees it with free();
 * *len receives its length (not counting the terminating NUL). Returns NULL
 * (and *len = 0) if an allocation failed since expo_new or the last take.
 * The writer is left empty and reusable; the next sample needs a family.
 * Names are written as given: callers pass valid metric and label names
 * and non-NULL help and label values. */
char *expo_take(struct expo *e, size_t *len);

#endif
