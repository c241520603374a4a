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

/* Renders everything into a new text owned by the caller (free()), its
 * length in *len. Returns NULL on ENOMEM. */
char *metrics_render(const struct config *config, const struct store *store,
                     const struct evaluation *evaluation, const struct feeds *feeds,
                     size_t *len);

#endif
