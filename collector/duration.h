/*
 * duration: Prometheus-style durations ("500ms", "30s", "5m", "1h30m", "1d",
 * "1w", "1y"), as the config and flags spell them.
 */
#ifndef INGOT_DURATION_H
#define INGOT_DURATION_H

#include <stdint.h>

/* Parses s into milliseconds. Units ms, s, m, h, d (24h), w (7d), y (365d),
 * largest first, each at most once, as Prometheus accepts them. "0" alone is
 * zero. Returns 0, or -1 when malformed or larger than 100 years. */
int duration_parse(const char *s, int64_t *out_ms);

/* Formats ms back into the shortest such form ("5m", "1h30m", "0s"). */
void duration_format(int64_t ms, char *buf, unsigned long size);

#endif
