/*
 * status_page: the HTML page ingotd serves on "/": the national picture
 * (production against target per metal, output against the baseline,
 * intensities and recycling against target and benchmarks) for the
 * current year and every target year, the initiatives, feed health and
 * plant freshness, with links to the other endpoints.
 *
 * The page is one self-contained document: inline CSS, bars drawn as
 * inline SVG, no script, no external asset, readable in a terminal
 * browser (tables and headings, every bar has its value as text beside
 * it). Every number that /metrics also exports sits in an element
 *   <span data-metric="NAME" data-LABEL="VALUE"...>VALUE</span>
 * whose text is exactly the sample value /metrics prints (counters with
 * their "_total" name), so tools and tests can compare the two. Every
 * string that comes from the config or a feed is HTML-escaped. The feed
 * and plant tables stop at 50 rows, feeds down and stale plants first, so
 * the page stays a few tens of KB whatever the fleet.
 */
#ifndef INGOT_STATUS_PAGE_H
#define INGOT_STATUS_PAGE_H

#include <stddef.h>

#include "config.h"
#include "evaluation.h"
#include "feeds.h"
#include "store.h"

/* The Content-Security-Policy the page is written for: no script, no
 * external asset, only its own inline <style>. */
#define STATUS_PAGE_CSP "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

/* What the page shows, borrowed for the call. */
struct status_page_input {
    const struct config *config;
    const struct store *store;
    const struct evaluation *evaluation; /* of store and config */
    const struct feeds *feeds;           /* configured with config */
    const char *telemetry_path;          /* linked as the metrics */
};

/* Renders the page as UTF-8 HTML into a new text owned by the caller
 * (free()), its length in *len. Returns NULL (and *len = 0) on ENOMEM. */
char *status_page_render(const struct status_page_input *input, size_t *len);

#endif
