/*
 * feeds: the schedule of every configured feed on the event loop. Each feed
 * is fetched at start and then every interval (plus a little jitter so a
 * fleet does not fetch in lockstep); a completed document is ingested into
 * the store, and the feed's health and counters are kept for /metrics.
 * Push sources (push.h) keep their counters here too, so one place knows
 * every source that may keep a plant fresh (feeds_plant_stale).
 */
#ifndef INGOT_FEEDS_H
#define INGOT_FEEDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "eval_clock.h"
#include "fetch.h"
#include "ingest.h"
#include "store.h"

struct event_base;
struct feeds;

struct feed_stats {
    bool up;                        /* the last fetch succeeded (ok or not_modified) */
    double last_success;            /* Unix seconds (real clock); 0 before any */
    double last_duration_seconds;   /* of the last fetch; NAN before any */
    uint64_t fetches[FETCH_OUTCOME_COUNT]; /* by outcome */
    uint64_t fetches_ok;            /* ok + not_modified */
    uint64_t fetches_error;         /* every other outcome */
    uint64_t consecutive_failures;  /* since the last success; drives the backoff */
    struct ingest_counts records;
};

/* Called on the loop after a fetch completed and changed what /metrics shows. */
typedef void (*feeds_changed_cb)(void *arg);

/* A scheduler with no feeds, writing into store; the caller keeps base,
 * store and clock alive until feeds_free. NULL on failure. */
struct feeds *feeds_new(struct event_base *base, struct store *store,
                        const struct eval_clock *clock, feeds_changed_cb changed, void *arg);
/* Cancels every fetch in flight (without callbacks) and frees the feeds. */
void feeds_free(struct feeds *feeds);

/* Starts fetching config's feeds, all at once now, replacing the feeds of
 * an earlier config: fetches in flight are cancelled, and a feed of the
 * same name keeps its counters. config must outlive its use here (until
 * the next feeds_configure or feeds_free). Returns 0, or -1 on ENOMEM (the
 * previous feeds keep running). */
int feeds_configure(struct feeds *feeds, const struct config *config);

/* Stats of config->feeds[i] of the configured config. */
const struct feed_stats *feeds_stats(const struct feeds *feeds, size_t i);

/* True when no configured feed or push source that may write plant has
 * succeeded within its stale_after before now (Unix seconds, the real
 * clock, like last_success). A plant nothing may write is stale. The one
 * staleness rule: /metrics and the status page both ask it. */
bool feeds_plant_stale(const struct feeds *feeds, const char *plant, double now);

/* Stats of config->push_sources[i] of the configured config: only
 * last_success and records are kept (a push source is never fetched). */
const struct feed_stats *feeds_push_stats(const struct feeds *feeds, size_t i);

/* A document from config->push_sources[i] was ingested with counts. read:
 * it was read and judged (the push succeeded: last_success is now, the
 * real clock); false when it was refused as a whole after its records were
 * judged (counts still added). Calls the changed callback. */
void feeds_push_delivered(struct feeds *feeds, size_t i, const struct ingest_counts *counts,
                          bool read);

#endif
