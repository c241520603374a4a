/*
 * metrics: ingot's domain metrics, as one text exposition: national figures
 * and targets, benchmarks, initiatives, plants, feeds and build info. The
 * names, labels and help texts of every family live here and only here.
 */
#ifndef INGOT_METRICS_H
#define INGOT_METRICS_H

#include <stddef.h>

#include "config.h"
#include "evaluation.h"
#include "feeds.h"
#include "store.h"

/* The daemon's own state that /metrics reports. */
struct metrics_daemon {
    int last_reload_successful;              /* 0 or 1 */
    double last_reload_success_timestamp;    /* Unix seconds: start, or last good reload */
};

/* Renders everything into a new text owned by the caller (free()), its
 * length in *len. Returns NULL on ENOMEM. */
char *metrics_render(const struct config *config, const struct store *store,
                     const struct evaluation *evaluation, const struct feeds *feeds,
                     const struct metrics_daemon *daemon, size_t *len);

#endif
