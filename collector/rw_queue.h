/*
 * rw_queue: the bounded queue of samples waiting for one remote write
 * receiver. Samples wait in arrival order; each points to its series (a
 * labelset, interned and reference-counted, so a series queued ten
 * thousand times is stored once). When the queue holds its maximum, the
 * oldest sample is dropped to make room and counted, never silently.
 * Batches are taken from the head: a batch leaves the queue whole, so a
 * batch being sent or retried is never dropped by newer samples, and the
 * order of each series' samples is kept from batch to batch.
 */
#ifndef INGOT_RW_QUEUE_H
#define INGOT_RW_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "rw_encode.h"

struct rw_queue;
struct rw_series;

/* One queued sample. */
struct rw_entry {
    struct rw_series *series;
    struct rw_point point;
    int64_t queued_ms; /* caller's clock when pushed */
};

/* Samples taken from the queue, grouped as one request: a series appears
 * once, its points in time order, and of two points of a series with the
 * same timestamp only the later queued one is kept (a restatement within
 * the batch). */
struct rw_batch {
    struct rw_entry *entries;     /* taken, in queue order (they hold their series) */
    size_t n_entries;
    struct rw_timeseries *series; /* the request: labels borrowed from the entries */
    size_t n_series;
    struct rw_point *points;      /* series[i].points point in here */
    size_t n_points;              /* <= n_entries */
};

/* A queue of at most max_samples samples (>= 1). NULL on ENOMEM. Release
 * with rw_queue_free, after every batch taken from it was released. */
struct rw_queue *rw_queue_new(size_t max_samples);
void rw_queue_free(struct rw_queue *q);

/* Changes the bound; when the queue holds more, the oldest are dropped.
 * Returns how many were dropped. */
size_t rw_queue_set_max(struct rw_queue *q, size_t max_samples);

/* Appends a sample of the series labels (n >= 1, sorted by name, no empty
 * name or value: the caller's promise; copied). When the queue is full
 * the oldest sample is dropped first. Returns the number dropped (0 or 1),
 * or -1 on ENOMEM (the new sample is not queued; nothing else changed). */
int rw_queue_push(struct rw_queue *q, const struct rw_label *labels, size_t n,
                  struct rw_point point, int64_t now_ms);

/* Samples waiting (not counting batches taken). */
size_t rw_queue_count(const struct rw_queue *q);
/* When the oldest waiting sample was pushed (now_ms of rw_queue_push);
 * INT64_MAX when none waits. */
int64_t rw_queue_oldest_ms(const struct rw_queue *q);

/* Moves up to max samples (>= 1) from the head into *batch, grouped.
 * Returns 0 (an empty queue gives an empty batch), or -1 on ENOMEM (the
 * queue is unchanged and *batch empty). Release with rw_batch_release. */
int rw_queue_take(struct rw_queue *q, size_t max, struct rw_batch *batch);
/* Releases a batch taken from q (its series references and arrays) and
 * empties it. An empty batch is fine. */
void rw_batch_release(struct rw_queue *q, struct rw_batch *batch);

/* Encodes batch (NULL: none) and then the waiting samples, in that order,
 * as one plain WriteRequest (rw_encode_request), consecutive samples of a
 * series sharing a TimeSeries: the pending file's payload. *out is a new
 * buffer (free()). Returns 0, or -1 on ENOMEM. */
int rw_queue_encode(const struct rw_queue *q, const struct rw_batch *batch, uint8_t **out,
                    size_t *len);

/* Pushes every sample of a plain WriteRequest (as rw_queue_encode writes
 * it) at now_ms, in order. Series whose labels are not sorted, repeat a
 * name or are empty make the payload invalid: nothing is queued then.
 * Returns the samples queued (more than the bound drop the oldest, counted
 * in *dropped), or -1 with err set. */
long rw_queue_decode(struct rw_queue *q, const uint8_t *payload, size_t len, int64_t now_ms,
                     uint64_t *dropped, char *err, size_t err_size);

#endif
