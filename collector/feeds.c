/*
 * feeds: one timer and at most one fetch in flight per feed. After a success
 * the next fetch is an interval later; after a failure it is a backoff later
 * (fetch_backoff_ms: min_backoff doubling per failure in a row up to
 * max_backoff, +-10 %), so a failing feed is retried sooner than its interval
 * at first and less often the longer it fails. A feed's failure is logged
 * when it starts or its reason changes; while it goes on failing, a summary
 * with counts is logged at most once a minute, and the recovery once. A
 * feed that is down for a week does not flood the journal.
 *
 * Each feed remembers the ETag and Last-Modified of its last 200 that was
 * read successfully and sends them back (If-None-Match, If-Modified-Since):
 * a 304 is a success that costs no parsing. A reload forgets them, since
 * the new config may read the same document differently.
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
#include "xorshift.h"

struct feed_state {
    const struct config_feed *config;
    struct feeds *owner;
    struct event *timer;
    struct fetch *in_flight;
    struct feed_stats stats;
    struct failure_log failures;
    char etag[FETCH_VALIDATOR_SIZE];          /* of the last 200 read; "" none */
    char last_modified[FETCH_VALIDATOR_SIZE];
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
    struct push_state *pushes; /* [config->n_push_sources] */
    size_t n_pushes;
    uint64_t jitter_state;
};

/* A push source: no timer, no fetch; its documents arrive through
 * feeds_push_delivered. */
struct push_state {
    const struct config_feed *config;
    struct feed_stats stats;
};

static uint64_t next_random(struct feeds *feeds)
{
    return xorshift_next(&feeds->jitter_state);
}

static void schedule(struct feed_state *fs, int64_t delay_ms)
{
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
    evtimer_add(fs->timer, &tv);
}

/* The next fetch: after a success one interval later, plus up to 10% of
 * it; after a failure the backoff of the failures in a row. Returns the
 * delay. */
static int64_t schedule_next(struct feed_state *fs)
{
    const struct config_feed *c = fs->config;
    uint64_t random = next_random(fs->owner);
    int64_t delay = fs->stats.consecutive_failures
                        ? fetch_backoff_ms(c->min_backoff_ms, c->max_backoff_ms,
                                           fs->stats.consecutive_failures, random)
                        : c->interval_ms + (int64_t)(random % (uint64_t)(c->interval_ms / 10 + 1));
    schedule(fs, delay);
    return delay;
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

/* Counts a failed fetch with its outcome, schedules the retry and logs it
 * (throttled by failure_log) with the attempt and the delay. */
static void record_failure(struct feed_state *fs, enum fetch_outcome outcome, const char *why)
{
    struct log_fields fields = {.feed = fs->config->name, .reason = fetch_outcome_names[outcome]};
    uint64_t count = 0;
    fs->stats.fetches[outcome]++;
    fs->stats.fetches_error++;
    fs->stats.consecutive_failures++;
    fs->stats.up = false;
    double retry = (double)schedule_next(fs) / 1000;
    unsigned long long in_row = (unsigned long long)fs->stats.consecutive_failures;
    /* Throttled by outcome, not by curl's text, which varies between
     * attempts ("after 1001 ms"). */
    switch (failure_log_failed(&fs->failures, fetch_outcome_names[outcome], monotonic_now(),
                               &count)) {
    case FAILURE_REPORT_NEW:
        log_with(LOG_LEVEL_WARN, &fields,
                 "feed down (%s): %s; failure %llu in a row, retry in %.1fs",
                 fetch_outcome_names[outcome], why, in_row, retry);
        break;
    case FAILURE_REPORT_SUMMARY:
        log_with(LOG_LEVEL_WARN, &fields,
                 "feed still down (%s): %llu failures since the last report, %llu in a row, "
                 "retry in %.1fs: %s",
                 fetch_outcome_names[outcome], (unsigned long long)count, in_row, retry, why);
        break;
    case FAILURE_REPORT_QUIET:
        log_with(LOG_LEVEL_DEBUG, &fields, "feed still down (%s): %s; failure %llu in a row, "
                 "retry in %.1fs", fetch_outcome_names[outcome], why, in_row, retry);
        break;
    }
}

/* Counts a successful fetch (ok, or not_modified with no counts) and
 * schedules the next one an interval later. */
static void record_success(struct feed_state *fs, enum fetch_outcome outcome,
                           const struct ingest_counts *counts)
{
    struct log_fields fields = {.feed = fs->config->name};
    uint64_t failed = failure_log_recovered(&fs->failures);
    if (failed)
        log_with(LOG_LEVEL_INFO, &fields, "feed up again after %llu failed fetches",
                 (unsigned long long)failed);
    if ((failed || !fs->stats.fetches_ok) && outcome == FETCH_NOT_MODIFIED)
        log_with(LOG_LEVEL_INFO, &fields, "feed up: not modified since the last read");
    else if (failed || !fs->stats.fetches_ok)
        log_with(LOG_LEVEL_INFO, &fields, "feed up: %llu records accepted, %llu changed data",
                 (unsigned long long)counts->accepted, (unsigned long long)counts->changed);
    fs->stats.fetches[outcome]++;
    fs->stats.fetches_ok++;
    fs->stats.consecutive_failures = 0;
    fs->stats.up = true;
    fs->stats.last_success = real_now();
    fs->stats.records.accepted += counts->accepted;
    fs->stats.records.changed += counts->changed;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        fs->stats.records.rejected[r] += counts->rejected[r];
    schedule_next(fs);
}

/* Keeps the validators of a 200 that was read (or forgets stale ones). */
static void remember_validators(struct feed_state *fs, const struct fetch_result *result)
{
    snprintf(fs->etag, sizeof(fs->etag), "%s", result->etag ? result->etag : "");
    snprintf(fs->last_modified, sizeof(fs->last_modified), "%s",
             result->last_modified ? result->last_modified : "");
}

static void on_fetched(const struct fetch_result *result, void *arg)
{
    struct feed_state *fs = arg;
    struct feeds *feeds = fs->owner;
    fs->in_flight = NULL;
    fs->stats.last_duration_seconds = result->duration_seconds;
    if (result->outcome == FETCH_NOT_MODIFIED) {
        record_success(fs, FETCH_NOT_MODIFIED, &(struct ingest_counts){0});
    } else if (!result->ok) {
        record_failure(fs, result->outcome, result->error);
    } else {
        struct ingest_counts counts = {0};
        char err[256];
        if (ingest_document(feeds->store, feeds->config, fs->config, eval_clock_now(feeds->clock),
                            result->body, result->body_len, &counts, err, sizeof(err)) != 0) {
            char why[300];
            snprintf(why, sizeof(why), "document rejected: %s", err);
            record_failure(fs, FETCH_PARSE_ERROR, why);
        } else {
            remember_validators(fs, result);
            record_success(fs, FETCH_OK, &counts);
        }
    }
    /* A document's parse tree and body are freed by now; hand the pages
     * back so a large feed does not leave the daemon's RSS at its peak. */
    malloc_trim(0);
    feeds->changed(feeds->changed_arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct feed_state *fs = arg;
    const struct config_feed *c = fs->config;
    struct fetch_secrets secrets;
    char err[400] = "";
    struct fetch_options options = {
        .url = c->url,
        .timeout_ms = c->timeout_ms,
        .connect_timeout_ms = c->connect_timeout_ms,
        .max_body_bytes = c->max_body_bytes,
        .etag = fs->etag[0] ? fs->etag : NULL,
        .last_modified = fs->last_modified[0] ? fs->last_modified : NULL,
        .tls = &c->tls,
        .headers = c->headers,
        .n_headers = c->n_headers,
    };
    log_with(LOG_LEVEL_DEBUG, &(struct log_fields){.feed = c->name}, "fetching");
    if (fetch_secrets_load(&secrets, c->bearer_token_file, &c->basic_auth, &options, err,
                           sizeof(err)) == 0)
        fs->in_flight = fetch_start(fs->owner->fetcher, &options, on_fetched, fs);
    else
        fs->in_flight = NULL;
    fetch_secrets_wipe(&secrets);
    if (fs->in_flight)
        return;
    /* An unreadable secret fails the fetch as a connect_error naming the
     * file (never its content): nothing was sent. */
    record_failure(fs, FETCH_CONNECT_ERROR, err[0] ? err : "could not start the fetch");
    fs->stats.last_duration_seconds = 0;
    fs->owner->changed(fs->owner->changed_arg);
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
    free(feeds->pushes);
    fetcher_free(feeds->fetcher);
    free(feeds);
}

/* The push sources of config, each keeping the stats a push source of the
 * same name had under the previous config. NULL on ENOMEM. */
static struct push_state *pushes_new(const struct feeds *feeds, const struct config *config)
{
    size_t n = config->n_push_sources;
    struct push_state *pushes = calloc(n ? n : 1, sizeof(*pushes));
    for (size_t i = 0; pushes && i < n; i++) {
        pushes[i].config = &config->push_sources[i];
        pushes[i].stats.last_duration_seconds = NAN;
        for (size_t j = 0; j < feeds->n_pushes; j++)
            if (strcmp(feeds->pushes[j].config->name, pushes[i].config->name) == 0)
                pushes[i].stats = feeds->pushes[j].stats;
    }
    return pushes;
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
    struct push_state *pushes = pushes_new(feeds, config);
    if (!states || !pushes) {
        free(states);
        free(pushes);
        return -1;
    }
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
            free(pushes);
            return -1;
        }
    }
    states_free(feeds->states, feeds->n_states);
    feeds->states = states;
    feeds->n_states = n;
    free(feeds->pushes);
    feeds->pushes = pushes;
    feeds->n_pushes = config->n_push_sources;
    feeds->config = config;
    for (size_t i = 0; i < n; i++)
        schedule(&states[i], 0);
    return 0;
}

/* True when source, with these stats, may write plant and succeeded
 * within its stale_after before now. */
static bool keeps_fresh(const struct config_feed *source, const struct feed_stats *stats,
                        const char *plant, double now)
{
    return stats->last_success > 0 && config_feed_allows_plant(source, plant) &&
           now - stats->last_success <= (double)source->stale_after_ms / 1000;
}

bool feeds_plant_stale(const struct feeds *feeds, const char *plant, double now)
{
    for (size_t i = 0; i < feeds->n_states; i++)
        if (keeps_fresh(feeds->states[i].config, &feeds->states[i].stats, plant, now))
            return false;
    for (size_t i = 0; i < feeds->n_pushes; i++)
        if (keeps_fresh(feeds->pushes[i].config, &feeds->pushes[i].stats, plant, now))
            return false;
    return true;
}

const struct feed_stats *feeds_stats(const struct feeds *feeds, size_t i)
{
    return &feeds->states[i].stats;
}

const struct feed_stats *feeds_push_stats(const struct feeds *feeds, size_t i)
{
    return &feeds->pushes[i].stats;
}

void feeds_push_delivered(struct feeds *feeds, size_t i, const struct ingest_counts *counts,
                          bool read)
{
    struct feed_stats *stats = &feeds->pushes[i].stats;
    if (read)
        stats->last_success = real_now();
    stats->records.accepted += counts->accepted;
    stats->records.changed += counts->changed;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        stats->records.rejected[r] += counts->rejected[r];
    feeds->changed(feeds->changed_arg);
}
