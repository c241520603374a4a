/*
 * expo_read: reads back the text format 0.0.4 that expo writes, sample by
 * sample, so a consumer that needs the exported figures as values (remote
 * write) takes them from the very text /metrics serves instead of knowing
 * every family again. Comment lines (HELP, TYPE) are skipped; a sample line
 * is a metric name, optional {label="value",...} with \\, \" and \n
 * escapes, a value as expo_format_double writes it, and no timestamp.
 */
#ifndef INGOT_EXPO_READ_H
#define INGOT_EXPO_READ_H

#include <stddef.h>

#include "expo.h"

#define EXPO_READ_MAX_LABELS 32

/* Called once per sample line, in order; name, labels and values are valid
 * during the call only. Return 0 to go on, -1 to stop. */
typedef int (*expo_read_fn)(void *arg, const char *name, const struct expo_label *labels,
                            size_t n_labels, double value);

/* Reads len bytes of text (need not be NUL-terminated) and calls fn for
 * each sample. Returns 0; -1 when fn stopped (err untouched), or when a
 * line is malformed or has more than EXPO_READ_MAX_LABELS labels, with err
 * "line N: what" (then fn saw the lines before it). */
int expo_read_text(const char *text, size_t len, expo_read_fn fn, void *arg, char *err,
                   size_t err_size);

#endif
