/*
 * negotiate: HTTP content negotiation for the metrics endpoint: which
 * exposition format an Accept header prefers (with q-values, as Prometheus
 * 2.42+ sends them) and whether Accept-Encoding allows gzip.
 */
#ifndef INGOT_NEGOTIATE_H
#define INGOT_NEGOTIATE_H

#include <stdbool.h>

#include "expo.h"

/* The format to answer with: OpenMetrics 1.0.0 when the highest-q type the
 * header lists that ingot supports is application/openmetrics-text (version
 * 1.0.0 or absent; 0.0.1 is served as 1.0.0), text 0.0.4 otherwise,
 * including for NULL, empty, any media type, garbage, or a header that
 * refuses both. */
enum expo_format negotiate_format(const char *accept);

/* True when accept_encoding (may be NULL) allows gzip with q > 0, through
 * "gzip", "x-gzip" or "*" (unless gzip itself is listed with q=0). */
bool negotiate_gzip(const char *accept_encoding);

/* The Content-Type of a format, with version and charset. */
const char *negotiate_content_type(enum expo_format format);

#endif
