/*
 * expo: writer of the Prometheus exposition formats, text 0.0.4 and
 * OpenMetrics 1.0.0. It owns the formats' rules: metadata lines (HELP and
 * TYPE; TYPE, UNIT and HELP in OpenMetrics), escaping, counter naming,
 * histogram series, float formatting that round-trips through Go's
 * ParseFloat, the omission of samples whose value is not finite, and the
 * OpenMetrics "# EOF". Callers emit one family at a time, contiguous, and
 * never the same labelset twice.
 */
#ifndef INGOT_EXPO_H
#define INGOT_EXPO_H

#include <stddef.h>
#include <stdint.h>

enum expo_format { EXPO_FORMAT_TEXT, EXPO_FORMAT_OPENMETRICS };
enum expo_type { EXPO_GAUGE, EXPO_COUNTER, EXPO_HISTOGRAM };

struct expo_label {
    const char *name;
    const char *value; /* any UTF-8; escaped on output */
};

struct expo;

/* A new, empty writer of format; release with expo_free. NULL on ENOMEM. */
struct expo *expo_new(enum expo_format format);
void expo_free(struct expo *e);

/* Starts a family. For EXPO_COUNTER, name is the family name without
 * "_total"; samples are written as name_total. Text 0.0.4 writes HELP
 * (escaping backslash and newline) then TYPE, both naming a counter
 * name_total. OpenMetrics writes TYPE, a UNIT line when name ends in a
 * known unit suffix (the table in expo.c: _seconds, _bytes, _tonnes, ...),
 * then HELP (escaping backslash, newline and double quote), all naming the
 * family without "_total"; it writes no _created samples. */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);

/* Writes one sample of the current family. Samples whose value is NaN or
 * infinite are omitted (ingot never exports them). */
void expo_sample(struct expo *e, const struct expo_label *labels, size_t n_labels, double value);

/* Writes one histogram of the current family, which must be
 * EXPO_HISTOGRAM: for each of the n_bounds upper_bounds, in order,
 * name_bucket{labels...,le="bound"} with its cumulative_counts entry; then
 * the le="+Inf" bucket with count, name_sum with sum and name_count with
 * count. The le label follows the caller's labels (which must not include
 * one). Bounds are written as expo_format_double writes values in text
 * 0.0.4 and as canonical numbers in OpenMetrics ("1.0", "0.005", "1e+06").
 * The caller passes finite bounds in strictly increasing order, without
 * +Inf (written here; a non-finite bound is skipped), non-decreasing
 * cumulative counts no greater than count, and, because OpenMetrics allows
 * no _sum beside negative buckets, non-negative bounds. Nothing is written
 * when sum is NaN or infinite. Counts are written as exact integers. */
void expo_histogram(struct expo *e, const struct expo_label *labels, size_t n_labels,
                    const double *upper_bounds, const uint64_t *cumulative_counts, size_t n_bounds,
                    uint64_t count, double sum);

/* Ends the exposition: "# EOF" in OpenMetrics, nothing in text 0.0.4. The
 * caller calls it once, after the last family; the next sample needs a
 * family. */
void expo_eof(struct expo *e);

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
