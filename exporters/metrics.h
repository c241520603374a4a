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
#include "expo.h"
#include "persistence.h"
#include "feeds.h"
#include "remote_write.h"
#include "http_server.h"
#include "store.h"

/* The daemon's own state that /metrics reports on every scrape. */
struct metrics_daemon {
    int last_reload_successful;              /* 0 or 1 */
    double last_reload_success_timestamp;    /* Unix seconds: start, or last good reload */
    const struct http_server_stats *http;    /* NULL before the server runs */
    struct persistence_stats snapshots;      /* state_dir writes and the restore */
    const struct remote_write *remote_write; /* NULL: no remote */
};

/* Renders the domain families in format into a new text owned by the
 * caller (free()), its length in *len; no "# EOF". Returns NULL on ENOMEM. */
char *metrics_render(const struct config *config, const struct store *store,
                     const struct evaluation *evaluation, const struct feeds *feeds,
                     enum expo_format format, size_t *len);

/* Renders only the families of the evaluation (national figures, targets,
 * benchmarks, initiatives) in text 0.0.4, exactly as metrics_render writes
 * them: what remote write sends at each evaluation. Like metrics_render. */
char *metrics_render_evaluation(const struct config *config, const struct evaluation *evaluation,
                                size_t *len);

/* Writes the daemon's per-scrape families (config reloads, connections,
 * remote write). */
void metrics_render_daemon(struct expo *e, const struct metrics_daemon *daemon);

#endif
