/*
 * remote_write: Prometheus remote write 1.0 to every configured receiver.
 * Each remote has its own bounded queue (rw_queue), sends batches of up to
 * batch_max_samples asynchronously on the loop through fetch (libcurl
 * multi), at the latest batch_deadline after a sample arrived, and retries
 * 5xx, timeouts and connection errors (and 429 when configured) with capped
 * exponential backoff, honouring Retry-After; other answers drop the batch
 * and count it. What is sent:
 *   - every record the store changed, one sample per field that is new or
 *     changed, at the start of its period: ingot_plant_production_tonnes,
 *     _co2_tonnes, _energy_mwh, _waste_tonnes, _waste_recycled_tonnes
 *     {plant, metal, granularity="month"|"day"};
 *   - at each evaluation, the national and target families exactly as
 *     /metrics exports them (the daemon's render hook gives their text),
 *     at the wall-clock time of the evaluation.
 * external_labels are added to every series; a series' own label of the
 * same name wins, as in Prometheus. A clean shutdown saves every pending
 * sample to state_dir/remote-write-NAME.pending (snapshot_file framing,
 * magic "INGOTRW1", a plain WriteRequest), and setting the remote up again
 * queues them first.
 */
#ifndef INGOT_REMOTE_WRITE_H
#define INGOT_REMOTE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rollup.h"
#include "store.h"

struct event_base;
struct remote_write;

/* Upper bounds of the request duration histogram, in seconds. */
#define REMOTE_WRITE_DURATION_BUCKETS 11
extern const double remote_write_duration_bounds[REMOTE_WRITE_DURATION_BUCKETS];

/* One remote's counters, for /metrics. */
struct remote_write_stats {
    const char *name;        /* the remote label */
    uint64_t sent;           /* samples a receiver accepted (2xx) */
    uint64_t failed;         /* samples of batches dropped: a 4xx (or an unretried 429) */
    uint64_t dropped;        /* samples dropped from a full queue, oldest first */
    uint64_t pending;        /* samples queued, the batch in flight included */
    double last_success;     /* Unix seconds of the last 2xx; 0 before */
    uint64_t duration_counts[REMOTE_WRITE_DURATION_BUCKETS]; /* cumulative */
    uint64_t duration_count; /* requests answered or failed */
    double duration_sum;
};

/* The text exposition (text 0.0.4) of the families to send at an
 * evaluation: a new buffer (free()) of *len bytes, or NULL on failure. */
typedef char *(*remote_write_render_fn)(void *arg, size_t *len);

/* Remote write on base, saving pending samples into state_dir (copied;
 * NULL: none are saved), with render giving the evaluated families. No
 * remote until remote_write_configure. NULL on failure (logged). */
struct remote_write *remote_write_new(struct event_base *base, const char *state_dir,
                                      remote_write_render_fn render, void *arg);

/* Sets up config's remote_writes (their settings are copied): a remote of
 * the same name as before keeps its queue, batch and counters and takes
 * the new settings; a new one first queues its pending file, if any; one
 * no longer configured saves its pending samples to its file and goes.
 * Returns 0, or -1 on ENOMEM (logged): a remote that could not take its
 * new settings keeps its old ones, one that could not be created is
 * missing until the next call. */
int remote_write_configure(struct remote_write *rw, const struct config *config);

/* A store_observer_fn (arg is the struct remote_write): queues the fields
 * of after that are new or changed against before. */
void remote_write_record(void *arg, const struct store_plant *plant, const char *metal,
                         int32_t period_key, const struct rollup_values *before,
                         const struct rollup_values *after);

/* The figures changed or time moved on: the evaluated families are
 * rendered and queued shortly (once for several calls within a second).
 * Nothing happens without a remote. */
void remote_write_evaluate(struct remote_write *rw);

/* The configured remotes, and the counters of the i-th (i < count). */
size_t remote_write_count(const struct remote_write *rw);
void remote_write_stats(const struct remote_write *rw, size_t i, struct remote_write_stats *out);

/* Cancels what is in flight, saves every remote's pending samples (the
 * batch in flight first) to state_dir, and frees everything. NULL is
 * fine. */
void remote_write_free(struct remote_write *rw);

/* The wait before retrying a batch after its failures-th failed attempt
 * in a row (>= 1): the answer's Retry-After when it gave one (> 0 seconds,
 * honoured up to an hour), else min_backoff doubled per failure up to
 * max_backoff, spread by +-10 % with random (fetch_backoff_ms). */
int64_t remote_write_retry_delay_ms(const struct config_remote_write *c, uint64_t failures,
                                    long retry_after_s, uint64_t random);

/* The pending file name of a remote: "remote-write-" NAME ".pending" with
 * every byte of NAME outside [A-Za-z0-9_.-] written %XX. A new string
 * (free()), or NULL on ENOMEM. */
char *remote_write_pending_name(const char *remote);

#endif
