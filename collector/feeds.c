/*
 * feeds: one timer and at most one fetch in flight per feed. A feed's
 * failure is logged when it starts or its reason changes; while it goes on
 * failing, a summary with counts is logged at most once a minute, and the
 * recovery once. A feed that is down for a week does not flood the journal.
 */
#include "feeds.h"

#include <event2/event.h>
#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "failure_log.h"
#include "fetch.h"
#include "log.h"

struct feed_state {
    const struct config_feed *config;
    struct feeds *owner;
    struct event *timer;
    struct fetch *in_flight;
    struct feed_stats stats;
    struct failure_log failures;
};

/* The most often a failing feed is logged again. */
#define FAILURE_SUMMARY_SECONDS 60.0

struct feeds {
    struct event_base *base;
    struct fetcher *fetcher;
    struct store *store;
    const struct eval_clock *clock;
    feeds_changed_cb changed;
    void *changed_arg;
    const struct config *config;
    struct feed_state *states; /* [config->n_feeds] */
    size_t n_states;
    uint64_t jitter_state;
};

/* xorshift64: jitter needs spread, not secrecy. */
static uint64_t next_random(struct feeds *feeds)
{
    uint64_t x = feeds->jitter_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return feeds->jitter_state = x;
}

static void schedule(struct feed_state *fs, int64_t delay_ms)
{
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
    evtimer_add(fs->timer, &tv);
}

/* The next fetch: one interval later, plus up to 10% of it. */
static void schedule_next(struct feed_state *fs)
{
    int64_t interval = fs->config->interval_ms;
    schedule(fs, interval + (int64_t)(next_random(fs->owner) % (uint64_t)(interval / 10 + 1)));
}

static double real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record_failure(struct feed_state *fs, const char *why)
{
    struct log_fields fields = {.feed = fs->config->name};
    uint64_t count = 0;
    fs->stats.fetches_error++;
    fs->stats.up = false;
    switch (failure_log_failed(&fs->failures, why, monotonic_now(), &count)) {
    case FAILURE_REPORT_NEW:
        log_with(LOG_LEVEL_WARN, &fields, "feed down: %s", why);
        break;
    case FAILURE_REPORT_SUMMARY:
        log_with(LOG_LEVEL_WARN, &fields,
                 "feed still down: %llu failures since the last report, %llu in a row: %s",
                 (unsigned long long)count, (unsigned long long)fs->failures.in_row, why);
        break;
    case FAILURE_REPORT_QUIET:
        log_with(LOG_LEVEL_DEBUG, &fields, "feed still down: %s", why);
        break;
    }
}

static void record_success(struct feed_state *fs, const struct ingest_counts *counts)
{
    struct log_fields fields = {.feed = fs->config->name};
    uint64_t failed = failure_log_recovered(&fs->failures);
    if (failed)
        log_with(LOG_LEVEL_INFO, &fields, "feed up again after %llu failed fetches",
                 (unsigned long long)failed);
    if (failed || !fs->stats.fetches_ok)
        log_with(LOG_LEVEL_INFO, &fields, "feed up: %llu records accepted, %llu changed data",
                 (unsigned long long)counts->accepted, (unsigned long long)counts->changed);
    fs->stats.fetches_ok++;
    fs->stats.up = true;
    fs->stats.last_success = real_now();
    fs->stats.records.accepted += counts->accepted;
    fs->stats.records.changed += counts->changed;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        fs->stats.records.rejected[r] += counts->rejected[r];
}

static void on_fetched(const struct fetch_result *result, void *arg)
{
    struct feed_state *fs = arg;
    struct feeds *feeds = fs->owner;
    fs->in_flight = NULL;
    fs->stats.last_duration_seconds = result->duration_seconds;
    if (!result->ok) {
        record_failure(fs, result->error);
    } else {
        struct ingest_counts counts = {0};
        char err[256];
        if (ingest_document(feeds->store, feeds->config, fs->config, eval_clock_now(feeds->clock),
                            result->body, result->body_len, &counts, err, sizeof(err)) != 0) {
            char why[300];
            snprintf(why, sizeof(why), "document rejected: %s", err);
            record_failure(fs, why);
        } else {
            record_success(fs, &counts);
        }
    }
    /* A document's parse tree and body are freed by now; hand the pages
     * back so a large feed does not leave the daemon's RSS at its peak. */
    malloc_trim(0);
    schedule_next(fs);
    feeds->changed(feeds->changed_arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct feed_state *fs = arg;
    struct fetch_options options = {
        .url = fs->config->url,
        .timeout_ms = fs->config->timeout_ms,
        .max_body_bytes = fs->config->max_body_bytes,
    };
    log_with(LOG_LEVEL_DEBUG, &(struct log_fields){.feed = fs->config->name}, "fetching");
    fs->in_flight = fetch_start(fs->owner->fetcher, &options, on_fetched, fs);
    if (!fs->in_flight) {
        record_failure(fs, "could not start the fetch");
        schedule_next(fs);
        fs->owner->changed(fs->owner->changed_arg);
    }
}

static void states_free(struct feed_state *states, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (states[i].in_flight)
            fetch_cancel(states[i].in_flight);
        if (states[i].timer)
            event_free(states[i].timer);
    }
    free(states);
}

struct feeds *feeds_new(struct event_base *base, struct store *store,
                        const struct eval_clock *clock, feeds_changed_cb changed, void *arg)
{
    struct feeds *feeds = calloc(1, sizeof(*feeds));
    if (!feeds)
        return NULL;
    *feeds = (struct feeds){
        .base = base, .store = store, .clock = clock, .changed = changed, .changed_arg = arg,
        .jitter_state = ((uint64_t)time(NULL) << 16) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15u,
    };
    feeds->fetcher = fetcher_new(base);
    if (!feeds->fetcher) {
        free(feeds);
        return NULL;
    }
    return feeds;
}

void feeds_free(struct feeds *feeds)
{
    if (!feeds)
        return;
    states_free(feeds->states, feeds->n_states);
    fetcher_free(feeds->fetcher);
    free(feeds);
}

/* The stats a feed named name had under the previous config, or NULL. */
static const struct feed_stats *previous_stats(const struct feeds *feeds, const char *name)
{
    for (size_t i = 0; i < feeds->n_states; i++)
        if (strcmp(feeds->states[i].config->name, name) == 0)
            return &feeds->states[i].stats;
    return NULL;
}

int feeds_configure(struct feeds *feeds, const struct config *config)
{
    size_t n = config->n_feeds;
    struct feed_state *states = calloc(n ? n : 1, sizeof(*states));
    if (!states)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct feed_state *fs = &states[i];
        fs->config = &config->feeds[i];
        fs->owner = feeds;
        fs->stats.last_duration_seconds = NAN;
        fs->failures.summary_interval = FAILURE_SUMMARY_SECONDS;
        const struct feed_stats *before = previous_stats(feeds, fs->config->name);
        if (before)
            fs->stats = *before;
        fs->timer = evtimer_new(feeds->base, on_timer, fs);
        if (!fs->timer) {
            states_free(states, i);
            return -1;
        }
    }
    states_free(feeds->states, feeds->n_states);
    feeds->states = states;
    feeds->n_states = n;
    feeds->config = config;
    for (size_t i = 0; i < n; i++)
        schedule(&states[i], 0);
    return 0;
}

bool feeds_plant_stale(const struct feeds *feeds, const char *plant, double now)
{
    for (size_t i = 0; i < feeds->n_states; i++) {
        const struct feed_state *fs = &feeds->states[i];
        if (fs->stats.last_success > 0 && config_feed_allows_plant(fs->config, plant) &&
            now - fs->stats.last_success <= (double)fs->config->stale_after_ms / 1000)
            return false;
    }
    return true;
}

const struct feed_stats *feeds_stats(const struct feeds *feeds, size_t i)
{
    return &feeds->states[i].stats;
}
