/*
 * remote_write: one struct remote per configured receiver, each a small
 * state machine on the loop around its queue:
 *
 *   idle ----(a batch is full, or the oldest sample waited batch_deadline)---> sending
 *   sending --2xx--> idle (or sending the next batch at once when one is due)
 *   sending --5xx, 429 when retried, timeout, connection or TLS error--> backoff
 *   backoff --(min_backoff doubled per failure up to max_backoff, or Retry-After)--> sending
 *   sending --any other answer--> the batch is dropped and counted; idle
 *
 * The batch being sent stays out of the queue until it is done, so it is
 * retried whole and in order, and a full queue drops only waiting samples.
 * Its compressed body is kept for the retries. One timer per remote serves
 * both the batch deadline and the backoff. Requests go through fetch's
 * libcurl multi handle on the same loop as the feeds.
 */
#include "remote_write.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "expo_read.h"
#include "failure_log.h"
#include "fetch.h"
#include "log.h"
#include "xorshift.h"
#include "period.h"
#include "rw_encode.h"
#include "rw_queue.h"
#include "snapshot_file.h"

#define PENDING_MAGIC "INGOTRW1"
#define EVALUATE_DELAY_MS 1000
/* A receiver's success body is not read; anything this large is odd. */
#define MAX_ANSWER_BYTES (1u << 20)
/* Retry-After is honoured up to this. */
#define MAX_RETRY_AFTER_S 3600
#define FAILURE_SUMMARY_SECONDS 300.0

const double remote_write_duration_bounds[REMOTE_WRITE_DURATION_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* The headers of the protocol, before the configured ones. fetch's header
 * type has non-const members: these arrays are never written. */
static char content_encoding[] = "Content-Encoding", snappy[] = "snappy";
static char content_type[] = "Content-Type", protobuf[] = "application/x-protobuf";
static char version_header[] = "X-Prometheus-Remote-Write-Version", version[] = "0.1.0";
#define PROTOCOL_HEADERS 3

struct remote {
    struct remote_write *owner;
    char *name;
    const struct config_remote_write *config; /* &settings */
    struct config_remote_write settings;      /* a copy: a reload frees the config */
    struct config_header *headers; /* the protocol's, then the configured ones */
    size_t n_headers;
    struct rw_queue *queue;
    struct rw_batch batch;  /* being sent or waiting to be retried; empty otherwise */
    uint8_t *body;          /* the batch, compressed */
    size_t body_len;
    struct fetch *fetch;    /* in flight */
    struct event *timer;    /* the batch deadline, or the next retry */
    uint64_t failures;      /* requests failed in a row */
    struct failure_log retry_log, drop_log;
    struct remote_write_stats stats;
};

struct remote_write {
    struct event_base *base;
    struct fetcher *fetcher;
    char *state_dir; /* NULL: pending samples are not saved */
    remote_write_render_fn render;
    void *render_arg;
    struct event *evaluate; /* the coalesced render of the evaluated families */
    int64_t last_evaluation_ms;
    struct remote **remotes;
    size_t n_remotes;
    struct rw_label *scratch; /* a sample's labels being built */
    size_t scratch_cap;
    uint64_t random;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_random(struct remote_write *rw)
{
    return xorshift_next(&rw->random);
}

static void arm(struct remote *r, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
    evtimer_add(r->timer, &tv);
}

char *remote_write_pending_name(const char *remote)
{
    static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
    size_t len = strlen(remote);
    char *name = malloc(strlen("remote-write-") + 3 * len + strlen(".pending") + 1);
    if (!name)
        return NULL;
    char *p = name + sprintf(name, "remote-write-");
    for (const unsigned char *s = (const unsigned char *)remote; *s; s++)
        p += strchr(safe, *s) ? sprintf(p, "%c", *s) : sprintf(p, "%%%02X", *s);
    strcpy(p, ".pending");
    return name;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */

static void send_batch(struct remote *r);
static void schedule(struct remote *r);

/* Takes the next batch from the queue and sends it; a batch that cannot be
 * encoded is dropped and counted as failed. */
static void start_next(struct remote *r)
{
    while (rw_queue_count(r->queue) > 0) {
        if (rw_queue_take(r->queue, r->config->batch_max_samples, &r->batch) != 0) {
            log_error("remote write %s: out of memory taking a batch", r->name);
            arm(r, 1000);
            return;
        }
        if (rw_encode_request(r->batch.series, r->batch.n_series, 1, &r->body, &r->body_len) ==
            0) {
            r->failures = 0;
            send_batch(r);
            return;
        }
        log_error("remote write %s: out of memory encoding %zu samples: dropped", r->name,
                  r->batch.n_entries);
        r->stats.failed += r->batch.n_entries;
        rw_batch_release(r->queue, &r->batch);
    }
}

/* After a batch is done: the next one now when it is due (a full batch
 * waits, or the oldest sample waited batch_deadline), else the timer for
 * when it will be. */
static void schedule(struct remote *r)
{
    if (r->fetch || r->batch.n_entries || rw_queue_count(r->queue) == 0)
        return;
    int64_t due = rw_queue_oldest_ms(r->queue) + r->config->batch_deadline_ms;
    if (rw_queue_count(r->queue) >= r->config->batch_max_samples || due <= mono_ms()) {
        event_del(r->timer);
        start_next(r);
    } else if (!evtimer_pending(r->timer, NULL)) {
        arm(r, due - mono_ms());
    }
}

static void finish_batch(struct remote *r)
{
    rw_batch_release(r->queue, &r->batch);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

static void observe_duration(struct remote *r, double seconds)
{
    for (size_t b = 0; b < REMOTE_WRITE_DURATION_BUCKETS; b++)
        if (seconds <= remote_write_duration_bounds[b])
            r->stats.duration_counts[b]++;
    r->stats.duration_count++;
    r->stats.duration_sum += seconds;
}

/* The receiver's message: the first line of its answer, quoted. */
static void describe_answer(const struct fetch_result *result, char *buf, size_t size)
{
    const char *body = result->error_body ? result->error_body : "";
    char line[256];
    size_t len = strcspn(body, "\r\n");
    snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1),
             body);
    char quoted[300];
    snprintf(buf, size, "%s%s%s", result->error ? result->error : "failed",
             line[0] ? ": " : "", line[0] ? log_quote(line, quoted, sizeof(quoted)) : "");
}

int64_t remote_write_retry_delay_ms(const struct config_remote_write *c, uint64_t failures,
                                    long retry_after_s, uint64_t random)
{
    if (retry_after_s > 0)
        return (retry_after_s < MAX_RETRY_AFTER_S ? retry_after_s : MAX_RETRY_AFTER_S) * 1000LL;
    return fetch_backoff_ms(c->min_backoff_ms, c->max_backoff_ms, failures, random);
}

/* A failed attempt the batch will be retried after. The log is throttled
 * by the kind of failure (the status, or fetch's outcome: "timeout",
 * "connect_error", ...), not by its text, which varies from try to try
 * ("after 3 ms"). */
static void retry_later(struct remote *r, const struct fetch_result *result, const char *why)
{
    r->failures++;
    int64_t delay = remote_write_retry_delay_ms(r->config, r->failures,
                                                result ? result->retry_after_s : 0,
                                                next_random(r->owner));
    char key[64];
    if (!result)
        snprintf(key, sizeof(key), "not started");
    else if (result->http_status)
        snprintf(key, sizeof(key), "HTTP %ld", result->http_status);
    else
        snprintf(key, sizeof(key), "%s",
                 (unsigned)result->outcome < FETCH_OUTCOME_COUNT
                     ? fetch_outcome_names[result->outcome]
                     : "error");
    uint64_t count = 0;
    double now = (double)time(NULL);
    switch (failure_log_failed(&r->retry_log, key, now, &count)) {
    case FAILURE_REPORT_NEW:
        log_warn("remote write %s: %s; retrying %zu sample%s in %" PRId64 " ms", r->name, why,
                 r->batch.n_entries, r->batch.n_entries == 1 ? "" : "s", delay);
        break;
    case FAILURE_REPORT_SUMMARY:
        log_warn("remote write %s: still failing (%" PRIu64 " attempts since the last report): "
                 "%s", r->name, count, why);
        break;
    case FAILURE_REPORT_QUIET:
        log_debug("remote write %s: %s; retrying in %" PRId64 " ms", r->name, why, delay);
        break;
    }
    arm(r, delay);
}

static void on_sent(const struct fetch_result *result, void *arg)
{
    struct remote *r = arg;
    r->fetch = NULL;
    observe_duration(r, result->duration_seconds);
    long status = result->http_status;
    char why[640];
    if (status >= 200 && status <= 299) {
        r->stats.sent += r->batch.n_entries;
        r->stats.last_success = (double)time(NULL);
        uint64_t failed = failure_log_recovered(&r->retry_log);
        if (failed)
            log_info("remote write %s: sending again after %" PRIu64 " failed attempts",
                     r->name, failed);
        failure_log_recovered(&r->drop_log);
        finish_batch(r);
        schedule(r);
        return;
    }
    describe_answer(result, why, sizeof(why));
    bool retry = status == 0 || (status >= 500 && status <= 599) ||
                 (status == 429 && r->config->retry_on_http_429);
    if (retry) {
        retry_later(r, result, why);
        return;
    }
    /* Throttled by status, so a receiver naming each rejected series in
     * its message is not logged per batch. */
    char key[32];
    snprintf(key, sizeof(key), "HTTP %ld", status);
    uint64_t count = 0;
    switch (failure_log_failed(&r->drop_log, key, (double)time(NULL), &count)) {
    case FAILURE_REPORT_NEW:
        log_warn("remote write %s: %s; %zu sample%s dropped", r->name, why, r->batch.n_entries,
                 r->batch.n_entries == 1 ? "" : "s");
        break;
    case FAILURE_REPORT_SUMMARY:
        log_warn("remote write %s: %" PRIu64 " more batches dropped (%s)", r->name, count, why);
        break;
    case FAILURE_REPORT_QUIET:
        log_debug("remote write %s: %s; %zu samples dropped", r->name, why, r->batch.n_entries);
        break;
    }
    r->stats.failed += r->batch.n_entries;
    r->failures = 0;
    finish_batch(r);
    schedule(r);
}

/* Sends r->body, with the secrets read afresh for every attempt
 * (fetch_secrets_load). */
static void send_batch(struct remote *r)
{
    const struct config_remote_write *c = r->config;
    struct fetch_secrets secrets;
    char err[400] = "";
    struct fetch_options options = {
        .url = c->url,
        .timeout_ms = c->timeout_ms,
        .max_body_bytes = MAX_ANSWER_BYTES,
        .tls = &c->tls,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .post_body = r->body,
        .post_len = r->body_len,
    };
    if (fetch_secrets_load(&secrets, c->bearer_token_file, &c->basic_auth, &options, err,
                           sizeof(err)) == 0)
        r->fetch = fetch_start(r->owner->fetcher, &options, on_sent, r);
    fetch_secrets_wipe(&secrets);
    if (r->fetch)
        return;
    retry_later(r, NULL, err[0] ? err : "could not start the request");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct remote *r = arg;
    if (r->fetch)
        return;
    if (r->batch.n_entries)
        send_batch(r);
    else
        start_next(r);
}

/* ------------------------------------------------------------------ */
/* Queueing                                                            */

static int compare_label_names(const void *a, const void *b)
{
    return strcmp(((const struct rw_label *)a)->name, ((const struct rw_label *)b)->name);
}

/* Queues one sample of the series name{own labels} on every remote, with
 * the remote's external labels where the series has no label of that name;
 * own labels with an empty value are left out, as remote write wants. */
static void queue_sample(struct remote_write *rw, const char *name, const struct rw_label *own,
                         size_t n_own, struct rw_point point)
{
    int64_t now = mono_ms();
    for (size_t i = 0; i < rw->n_remotes; i++) {
        struct remote *r = rw->remotes[i];
        size_t need = n_own + 1 + r->config->n_external_labels;
        if (need > rw->scratch_cap) {
            struct rw_label *grown = realloc(rw->scratch, need * sizeof(*grown));
            if (!grown) {
                log_error("remote write %s: out of memory: a sample is dropped", r->name);
                r->stats.dropped++;
                continue;
            }
            rw->scratch = grown;
            rw->scratch_cap = need;
        }
        size_t n = 0;
        rw->scratch[n++] = (struct rw_label){"__name__", name};
        for (size_t j = 0; j < n_own; j++)
            if (own[j].value[0])
                rw->scratch[n++] = own[j];
        size_t n_series = n;
        for (size_t e = 0; e < r->config->n_external_labels; e++) {
            const struct config_label *ext = &r->config->external_labels[e];
            bool taken = false;
            for (size_t j = 0; j < n_series && !taken; j++)
                taken = strcmp(rw->scratch[j].name, ext->name) == 0;
            if (!taken)
                rw->scratch[n++] = (struct rw_label){ext->name, ext->value};
        }
        qsort(rw->scratch, n, sizeof(*rw->scratch), compare_label_names);
        int dropped = rw_queue_push(r->queue, rw->scratch, n, point, now);
        if (dropped < 0) {
            log_error("remote write %s: out of memory: a sample is dropped", r->name);
            r->stats.dropped++;
            continue;
        }
        if (dropped > 0 && r->stats.dropped++ == 0)
            log_warn("remote write %s: queue full (%" PRIu64 " samples): dropping the oldest "
                     "(ingot_remote_write_samples_total{result=\"dropped\"} counts them)",
                     r->name, r->config->queue_max_samples);
        schedule(r);
    }
}

void remote_write_record(void *arg, const struct store_plant *plant, const char *metal,
                         int32_t period_key, const struct rollup_values *before,
                         const struct rollup_values *after)
{
    struct remote_write *rw = arg;
    if (rw->n_remotes == 0)
        return;
    struct period p = period_from_key(period_key);
    struct rw_point point = {.timestamp_ms = period_start(&p) * 1000};
    /* Sorted by name, as queue_sample keeps them. */
    struct rw_label labels[] = {
        {"granularity", p.day ? "day" : "month"}, {"metal", metal}, {"plant", plant->id}};
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        /* A field that became absent sends nothing: remote write cannot
         * unsay a sample (a stale marker would end the series, not erase
         * the value). A merge never removes a field anyway. */
        if (!rollup_has(after, f))
            continue;
        if (before && rollup_has(before, f) && before->value[f] == after->value[f])
            continue;
        char name[64];
        snprintf(name, sizeof(name), "ingot_plant_%s", record_field_names[f]);
        point.value = after->value[f];
        queue_sample(rw, name, labels, 3, point);
    }
}

struct exposition_ctx {
    struct remote_write *rw;
    int64_t timestamp_ms;
};

static int exposition_sample(void *arg, const char *name, const struct expo_label *labels,
                             size_t n_labels, double value)
{
    struct exposition_ctx *ctx = arg;
    struct rw_label own[EXPO_READ_MAX_LABELS];
    for (size_t i = 0; i < n_labels; i++)
        own[i] = (struct rw_label){labels[i].name, labels[i].value};
    queue_sample(ctx->rw, name, own, n_labels, (struct rw_point){ctx->timestamp_ms, value});
    return 0;
}

static void on_evaluate(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct remote_write *rw = arg;
    if (rw->n_remotes == 0)
        return;
    size_t len = 0;
    char *text = rw->render(rw->render_arg, &len);
    if (!text) {
        log_error("remote write: the evaluated figures could not be rendered");
        return;
    }
    /* One timestamp per evaluation, never repeated: a receiver refuses a
     * second value at the same instant. */
    int64_t now = wall_ms();
    if (now <= rw->last_evaluation_ms)
        now = rw->last_evaluation_ms + 1;
    rw->last_evaluation_ms = now;
    struct exposition_ctx ctx = {rw, now};
    char err[128];
    if (expo_read_text(text, len, exposition_sample, &ctx, err, sizeof(err)) != 0)
        log_error("remote write: cannot read the rendered figures: %s", err);
    free(text);
}

void remote_write_evaluate(struct remote_write *rw)
{
    if (rw->n_remotes == 0 || evtimer_pending(rw->evaluate, NULL))
        return;
    struct timeval tv = {.tv_sec = EVALUATE_DELAY_MS / 1000,
                         .tv_usec = (EVALUATE_DELAY_MS % 1000) * 1000};
    evtimer_add(rw->evaluate, &tv);
}

/* ------------------------------------------------------------------ */
/* Pending files                                                       */

static char *pending_path(const struct remote_write *rw, const char *remote)
{
    char *name = remote_write_pending_name(remote), *path = NULL;
    if (name && asprintf(&path, "%s/%s", rw->state_dir, name) < 0)
        path = NULL;
    free(name);
    return path;
}

/* Queues the remote's pending file and removes it. */
static void restore_pending(struct remote *r)
{
    struct remote_write *rw = r->owner;
    if (!rw->state_dir)
        return;
    char *path = pending_path(rw, r->name);
    if (!path) {
        log_error("remote write %s: out of memory reading its pending samples", r->name);
        return;
    }
    if (access(path, F_OK) != 0) {
        free(path);
        return;
    }
    uint8_t *payload = NULL;
    size_t len = 0;
    uint64_t dropped = 0;
    char err[256];
    long queued = -1;
    if (snapshot_file_read_framed(path, PENDING_MAGIC, "remote write pending", &payload, &len,
                                  err, sizeof(err)) == 0)
        queued = rw_queue_decode(r->queue, payload, len, mono_ms(), &dropped, err, sizeof(err));
    free(payload);
    if (queued < 0) {
        /* Left in place: the next clean shutdown replaces it. */
        log_warn("remote write %s: pending samples in %s not restored: %s", r->name, path, err);
    } else {
        log_info("remote write %s: %ld pending samples restored from %s", r->name, queued, path);
        r->stats.dropped += dropped;
        if (unlink(path) != 0 && errno != ENOENT)
            log_warn("remote write %s: cannot remove %s: %s", r->name, path, strerror(errno));
        schedule(r);
    }
    free(path);
}

/* Saves the batch and the queue to the remote's pending file. */
static void save_pending(struct remote *r)
{
    struct remote_write *rw = r->owner;
    uint64_t pending = rw_queue_count(r->queue) + r->batch.n_entries;
    if (pending == 0)
        return;
    char *path = rw->state_dir ? pending_path(rw, r->name) : NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    char err[512] = "no state_dir";
    if (path && rw_queue_encode(r->queue, &r->batch, &payload, &len) != 0)
        snprintf(err, sizeof(err), "out of memory");
    const char *name = path ? strrchr(path, '/') + 1 : NULL;
    if (payload && snapshot_file_write_framed(rw->state_dir, name, PENDING_MAGIC, payload, len,
                                              err, sizeof(err)) == 0)
        log_info("remote write %s: %" PRIu64 " pending samples saved to %s", r->name, pending,
                 path);
    else
        log_error("remote write %s: %" PRIu64 " pending samples lost: %s", r->name, pending,
                  path ? err : "out of memory");
    free(payload);
    free(path);
}

/* ------------------------------------------------------------------ */
/* Remotes                                                             */

static void settings_release(struct config_remote_write *s)
{
    free(s->name);
    free(s->url);
    free(s->tls.ca_file);
    free(s->tls.cert_file);
    free(s->tls.key_file);
    free(s->tls.server_name);
    free(s->bearer_token_file);
    free(s->basic_auth.username);
    free(s->basic_auth.password_file);
    for (size_t i = 0; i < s->n_headers; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    free(s->headers);
    for (size_t i = 0; i < s->n_external_labels; i++) {
        free(s->external_labels[i].name);
        free(s->external_labels[i].value);
    }
    free(s->external_labels);
    *s = (struct config_remote_write){0};
}

/* *dst = a deep copy of src. Returns 0, or -1 on ENOMEM (*dst empty). */
static int settings_copy(struct config_remote_write *dst, const struct config_remote_write *src)
{
    *dst = *src;
    char **strings[] = {&dst->name, &dst->url, &dst->tls.ca_file, &dst->tls.cert_file,
                        &dst->tls.key_file, &dst->tls.server_name, &dst->bearer_token_file,
                        &dst->basic_auth.username, &dst->basic_auth.password_file};
    size_t n_strings = sizeof(strings) / sizeof(strings[0]), copied = 0;
    for (; copied < n_strings; copied++)
        if (*strings[copied] && !(*strings[copied] = strdup(*strings[copied])))
            break;
    dst->headers = NULL;
    dst->external_labels = NULL;
    dst->n_headers = dst->n_external_labels = 0;
    if (copied < n_strings) {
        for (size_t i = copied; i < n_strings; i++)
            *strings[i] = NULL; /* still the source's */
        settings_release(dst);
        return -1;
    }
    if (src->n_headers && !(dst->headers = calloc(src->n_headers, sizeof(*dst->headers))))
        goto fail;
    for (; dst->n_headers < src->n_headers; dst->n_headers++) {
        struct config_header *h = &dst->headers[dst->n_headers];
        h->name = strdup(src->headers[dst->n_headers].name);
        h->value = strdup(src->headers[dst->n_headers].value);
        if (!h->name || !h->value) {
            dst->n_headers++;
            goto fail;
        }
    }
    if (src->n_external_labels &&
        !(dst->external_labels = calloc(src->n_external_labels, sizeof(*dst->external_labels))))
        goto fail;
    for (; dst->n_external_labels < src->n_external_labels; dst->n_external_labels++) {
        struct config_label *l = &dst->external_labels[dst->n_external_labels];
        l->name = strdup(src->external_labels[dst->n_external_labels].name);
        l->value = strdup(src->external_labels[dst->n_external_labels].value);
        if (!l->name || !l->value) {
            dst->n_external_labels++;
            goto fail;
        }
    }
    return 0;
fail:
    settings_release(dst);
    return -1;
}

static void remote_free(struct remote *r)
{
    if (!r)
        return;
    if (r->fetch)
        fetch_cancel(r->fetch);
    if (r->timer)
        event_free(r->timer);
    if (r->queue) {
        rw_batch_release(r->queue, &r->batch);
        rw_queue_free(r->queue);
    }
    free(r->body);
    free(r->headers);
    settings_release(&r->settings);
    free(r->name);
    free(r);
}

/* Gives r a copy of its (new) settings, the headers it sends and the queue
 * bound. Returns 0, or -1 on ENOMEM (the previous settings stay). */
static int remote_apply(struct remote *r, const struct config_remote_write *c)
{
    struct config_remote_write settings;
    if (settings_copy(&settings, c) != 0)
        return -1;
    struct config_header *headers =
        malloc((PROTOCOL_HEADERS + settings.n_headers) * sizeof(*headers));
    if (!headers) {
        settings_release(&settings);
        return -1;
    }
    headers[0] = (struct config_header){content_encoding, snappy};
    headers[1] = (struct config_header){content_type, protobuf};
    headers[2] = (struct config_header){version_header, version};
    if (settings.n_headers)
        memcpy(headers + PROTOCOL_HEADERS, settings.headers,
               settings.n_headers * sizeof(*headers));
    free(r->headers);
    r->headers = headers;
    r->n_headers = PROTOCOL_HEADERS + settings.n_headers;
    settings_release(&r->settings);
    r->settings = settings;
    r->config = &r->settings;
    size_t dropped = rw_queue_set_max(r->queue, c->queue_max_samples);
    if (dropped) {
        log_warn("remote write %s: queue_max_samples lowered to %" PRIu64 ": the %zu oldest "
                 "samples dropped", r->name, c->queue_max_samples, dropped);
        r->stats.dropped += dropped;
    }
    return 0;
}

static struct remote *remote_new(struct remote_write *rw, const struct config_remote_write *c)
{
    struct remote *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->owner = rw;
    r->name = strdup(c->name);
    r->queue = rw_queue_new(c->queue_max_samples);
    r->timer = evtimer_new(rw->base, on_timer, r);
    if (!r->name || !r->queue || !r->timer || remote_apply(r, c) != 0) {
        remote_free(r);
        return NULL;
    }
    r->retry_log.summary_interval = FAILURE_SUMMARY_SECONDS;
    r->drop_log.summary_interval = FAILURE_SUMMARY_SECONDS;
    r->stats.name = r->name;
    return r;
}

struct remote_write *remote_write_new(struct event_base *base, const char *state_dir,
                                      remote_write_render_fn render, void *arg)
{
    struct remote_write *rw = calloc(1, sizeof(*rw));
    if (!rw)
        goto fail;
    rw->base = base;
    rw->render = render;
    rw->render_arg = arg;
    rw->random = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15u;
    rw->evaluate = evtimer_new(base, on_evaluate, rw);
    rw->fetcher = fetcher_new(base);
    if (!rw->evaluate || !rw->fetcher || (state_dir && !(rw->state_dir = strdup(state_dir))))
        goto fail;
    return rw;
fail:
    log_error("cannot set up remote write");
    remote_write_free(rw);
    return NULL;
}

int remote_write_configure(struct remote_write *rw, const struct config *config)
{
    struct remote **next = calloc(config->n_remote_writes ? config->n_remote_writes : 1,
                                  sizeof(*next));
    if (!next)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < config->n_remote_writes; i++) {
        const struct config_remote_write *c = &config->remote_writes[i];
        for (size_t j = 0; j < rw->n_remotes && !next[i]; j++) {
            if (rw->remotes[j] && strcmp(rw->remotes[j]->name, c->name) == 0) {
                next[i] = rw->remotes[j];
                rw->remotes[j] = NULL;
            }
        }
        if (next[i] && remote_apply(next[i], c) != 0)
            rc = -1; /* the old settings stay */
        if (!next[i]) {
            if (!(next[i] = remote_new(rw, c))) {
                rc = -1;
                continue;
            }
            restore_pending(next[i]);
        }
    }
    for (size_t j = 0; j < rw->n_remotes; j++) {
        if (!rw->remotes[j])
            continue;
        log_info("remote write %s: no longer configured", rw->remotes[j]->name);
        save_pending(rw->remotes[j]);
        remote_free(rw->remotes[j]);
    }
    free(rw->remotes);
    /* Compact: a remote that could not be set up leaves no hole. */
    size_t n = 0;
    for (size_t i = 0; i < config->n_remote_writes; i++)
        if (next[i])
            next[n++] = next[i];
    rw->remotes = next;
    rw->n_remotes = n;
    for (size_t i = 0; i < n; i++)
        schedule(next[i]);
    if (rc != 0)
        log_error("remote write: out of memory setting up the remotes");
    return rc;
}

size_t remote_write_count(const struct remote_write *rw)
{
    return rw ? rw->n_remotes : 0;
}

void remote_write_stats(const struct remote_write *rw, size_t i, struct remote_write_stats *out)
{
    const struct remote *r = rw->remotes[i];
    *out = r->stats;
    out->pending = rw_queue_count(r->queue) + r->batch.n_entries;
}

void remote_write_free(struct remote_write *rw)
{
    if (!rw)
        return;
    for (size_t i = 0; i < rw->n_remotes; i++) {
        if (rw->remotes[i]->fetch) {
            fetch_cancel(rw->remotes[i]->fetch);
            rw->remotes[i]->fetch = NULL;
        }
        save_pending(rw->remotes[i]);
        remote_free(rw->remotes[i]);
    }
    free(rw->remotes);
    fetcher_free(rw->fetcher);
    if (rw->evaluate)
        event_free(rw->evaluate);
    free(rw->scratch);
    free(rw->state_dir);
    free(rw);
}
