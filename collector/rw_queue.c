/*
 * rw_queue: a ring of samples that grows (doubling) up to its bound, and a
 * hash table of the series they belong to. A series lives as long as a
 * sample, queued or in a batch, refers to it; its labels and their strings
 * are one allocation. Taking a batch groups its samples by series with one
 * sort, so building a request costs O(n log n) in the batch size.
 */
#include "rw_queue.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_MIN_CAP 256
#define TABLE_MIN_SIZE 64
#define NO_GROUP SIZE_MAX

struct rw_series {
    struct rw_series *next; /* hash chain */
    uint64_t hash;
    size_t refs;            /* entries (queued or in a batch) pointing here */
    size_t group;           /* rw_queue_take's scratch; NO_GROUP outside it */
    size_t n_labels;
    struct rw_label labels[]; /* then the strings they point to */
};

struct rw_queue {
    struct rw_entry *ring;
    size_t cap, head, count, max;
    struct rw_series **table;
    size_t table_size, n_series; /* table_size: a power of two */
};

/* FNV-1a over names and values, each followed by its NUL. */
static uint64_t labels_hash(const struct rw_label *labels, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) {
        for (int part = 0; part < 2; part++) {
            const unsigned char *s =
                (const unsigned char *)(part ? labels[i].value : labels[i].name);
            do {
                h ^= *s;
                h *= 0x100000001b3u;
            } while (*s++);
        }
    }
    return h;
}

static bool labels_equal(const struct rw_series *s, const struct rw_label *labels, size_t n)
{
    if (s->n_labels != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->labels[i].name, labels[i].name) ||
            strcmp(s->labels[i].value, labels[i].value))
            return false;
    return true;
}

static int table_grow(struct rw_queue *q)
{
    size_t size = q->table_size ? q->table_size * 2 : TABLE_MIN_SIZE;
    struct rw_series **table = calloc(size, sizeof(*table));
    if (!table)
        return -1;
    for (size_t b = 0; b < q->table_size; b++) {
        for (struct rw_series *s = q->table[b], *next; s; s = next) {
            next = s->next;
            s->next = table[s->hash & (size - 1)];
            table[s->hash & (size - 1)] = s;
        }
    }
    free(q->table);
    q->table = table;
    q->table_size = size;
    return 0;
}

/* The interned series of labels, with one more reference; NULL on ENOMEM. */
static struct rw_series *series_ref(struct rw_queue *q, const struct rw_label *labels, size_t n)
{
    uint64_t h = labels_hash(labels, n);
    if (q->table_size) {
        for (struct rw_series *s = q->table[h & (q->table_size - 1)]; s; s = s->next) {
            if (s->hash == h && labels_equal(s, labels, n)) {
                s->refs++;
                return s;
            }
        }
    }
    if (q->n_series >= q->table_size && table_grow(q) != 0)
        return NULL;
    size_t bytes = sizeof(struct rw_series) + n * sizeof(struct rw_label);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(labels[i].name) + strlen(labels[i].value) + 2;
    struct rw_series *s = malloc(bytes);
    if (!s)
        return NULL;
    *s = (struct rw_series){.hash = h, .refs = 1, .group = NO_GROUP, .n_labels = n};
    char *text = (char *)&s->labels[n];
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strlen(labels[i].name) + 1, value_len = strlen(labels[i].value) + 1;
        memcpy(text, labels[i].name, name_len);
        s->labels[i].name = text;
        text += name_len;
        memcpy(text, labels[i].value, value_len);
        s->labels[i].value = text;
        text += value_len;
    }
    struct rw_series **bucket = &q->table[h & (q->table_size - 1)];
    s->next = *bucket;
    *bucket = s;
    q->n_series++;
    return s;
}

static void series_unref(struct rw_queue *q, struct rw_series *s)
{
    if (--s->refs > 0)
        return;
    struct rw_series **at = &q->table[s->hash & (q->table_size - 1)];
    while (*at != s)
        at = &(*at)->next;
    *at = s->next;
    q->n_series--;
    free(s);
}

struct rw_queue *rw_queue_new(size_t max_samples)
{
    struct rw_queue *q = calloc(1, sizeof(*q));
    if (q)
        q->max = max_samples ? max_samples : 1;
    return q;
}

/* Removes the oldest waiting sample. */
static void drop_head(struct rw_queue *q)
{
    series_unref(q, q->ring[q->head].series);
    q->head = (q->head + 1) % q->cap;
    q->count--;
}

void rw_queue_free(struct rw_queue *q)
{
    if (!q)
        return;
    while (q->count)
        drop_head(q);
    free(q->ring);
    free(q->table);
    free(q);
}

size_t rw_queue_set_max(struct rw_queue *q, size_t max_samples)
{
    size_t dropped = 0;
    q->max = max_samples ? max_samples : 1;
    for (; q->count > q->max; dropped++)
        drop_head(q);
    return dropped;
}

/* Makes room for one more entry below the bound (the ring grows, in
 * order). Returns 0 or -1 on ENOMEM. */
static int ring_reserve(struct rw_queue *q)
{
    if (q->count < q->cap)
        return 0;
    size_t cap = q->cap ? q->cap * 2 : RING_MIN_CAP;
    if (cap > q->max)
        cap = q->max > q->count ? q->max : q->count + 1;
    struct rw_entry *ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return -1;
    for (size_t i = 0; i < q->count; i++)
        ring[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int rw_queue_push(struct rw_queue *q, const struct rw_label *labels, size_t n,
                  struct rw_point point, int64_t now_ms)
{
    struct rw_series *s = series_ref(q, labels, n);
    if (!s)
        return -1;
    int dropped = 0;
    if (q->count >= q->max) {
        drop_head(q);
        dropped = 1;
    } else if (ring_reserve(q) != 0) {
        series_unref(q, s);
        return -1;
    }
    q->ring[(q->head + q->count) % q->cap] =
        (struct rw_entry){.series = s, .point = point, .queued_ms = now_ms};
    q->count++;
    return dropped;
}

size_t rw_queue_count(const struct rw_queue *q)
{
    return q->count;
}

int64_t rw_queue_oldest_ms(const struct rw_queue *q)
{
    return q->count ? q->ring[q->head].queued_ms : INT64_MAX;
}

/* Sort key of a taken entry: its series' group, its time, its place. */
struct slot {
    size_t group;
    int64_t timestamp_ms;
    size_t pos;
};

static int slot_cmp(const void *pa, const void *pb)
{
    const struct slot *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->timestamp_ms != b->timestamp_ms)
        return a->timestamp_ms < b->timestamp_ms ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

int rw_queue_take(struct rw_queue *q, size_t max, struct rw_batch *batch)
{
    *batch = (struct rw_batch){0};
    size_t n = q->count < max ? q->count : max;
    if (n == 0)
        return 0;
    struct rw_entry *entries = malloc(n * sizeof(*entries));
    struct slot *slots = malloc(n * sizeof(*slots));
    struct rw_point *points = malloc(n * sizeof(*points));
    struct rw_timeseries *series = NULL;
    if (!entries || !slots || !points)
        goto fail;

    size_t groups = 0;
    for (size_t i = 0; i < n; i++) {
        entries[i] = q->ring[(q->head + i) % q->cap];
        struct rw_series *s = entries[i].series;
        if (s->group == NO_GROUP)
            s->group = groups++;
        slots[i] = (struct slot){s->group, entries[i].point.timestamp_ms, i};
    }
    series = malloc(groups * sizeof(*series));
    if (!series) {
        for (size_t i = 0; i < n; i++)
            entries[i].series->group = NO_GROUP;
        goto fail;
    }
    qsort(slots, n, sizeof(*slots), slot_cmp);
    size_t n_series = 0, n_points = 0;
    for (size_t i = 0; i < n; i++) {
        const struct rw_entry *e = &entries[slots[i].pos];
        bool same_series = i > 0 && slots[i].group == slots[i - 1].group;
        if (!same_series) {
            series[n_series++] = (struct rw_timeseries){
                .labels = e->series->labels, .n_labels = e->series->n_labels,
                .points = &points[n_points],
            };
        } else if (slots[i].timestamp_ms == slots[i - 1].timestamp_ms) {
            points[n_points - 1] = e->point; /* restated within the batch: the later wins */
            continue;
        }
        points[n_points++] = e->point;
        series[n_series - 1].n_points++;
    }
    for (size_t i = 0; i < n; i++)
        entries[i].series->group = NO_GROUP;
    free(slots);
    q->head = (q->head + n) % q->cap;
    q->count -= n;
    *batch = (struct rw_batch){entries, n, series, n_series, points, n_points};
    return 0;

fail:
    free(entries);
    free(slots);
    free(points);
    free(series);
    return -1;
}

void rw_batch_release(struct rw_queue *q, struct rw_batch *batch)
{
    for (size_t i = 0; i < batch->n_entries; i++)
        series_unref(q, batch->entries[i].series);
    free(batch->entries);
    free(batch->series);
    free(batch->points);
    *batch = (struct rw_batch){0};
}

int rw_queue_encode(const struct rw_queue *q, const struct rw_batch *batch, uint8_t **out,
                    size_t *len)
{
    size_t in_batch = batch ? batch->n_series : 0;
    size_t max_series = in_batch + q->count;
    struct rw_timeseries *series = malloc((max_series ? max_series : 1) * sizeof(*series));
    struct rw_point *points = malloc((q->count ? q->count : 1) * sizeof(*points));
    int rc = -1;
    if (series && points) {
        size_t n = 0;
        for (size_t i = 0; i < in_batch; i++)
            series[n++] = batch->series[i];
        const struct rw_series *last = NULL;
        for (size_t i = 0; i < q->count; i++) {
            const struct rw_entry *e = &q->ring[(q->head + i) % q->cap];
            points[i] = e->point;
            if (e->series != last) {
                series[n++] = (struct rw_timeseries){e->series->labels, e->series->n_labels,
                                                     &points[i], 0};
                last = e->series;
            }
            series[n - 1].n_points++;
        }
        rc = rw_encode_request(series, n, 0, out, len);
    }
    free(series);
    free(points);
    return rc;
}

/* rw_queue_decode's passes: the first checks every series, the second
 * queues. */
struct decode_pass {
    struct rw_queue *q; /* NULL: checking */
    int64_t now_ms;
    long queued;
    uint64_t dropped;
};

static int decode_series(void *arg, const struct rw_timeseries *series, char *err,
                         size_t err_size)
{
    struct decode_pass *pass = arg;
    if (!pass->q) {
        for (size_t i = 1; i < series->n_labels; i++) {
            if (strcmp(series->labels[i - 1].name, series->labels[i].name) >= 0) {
                snprintf(err, err_size, "labels of a series not sorted or repeated (\"%s\")",
                         series->labels[i].name);
                return -1;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < series->n_points; i++) {
        int dropped = rw_queue_push(pass->q, series->labels, series->n_labels,
                                    series->points[i], pass->now_ms);
        if (dropped < 0) {
            snprintf(err, err_size, "out of memory after %ld samples", pass->queued);
            return -1;
        }
        pass->dropped += (uint64_t)dropped;
        pass->queued++;
    }
    return 0;
}

long rw_queue_decode(struct rw_queue *q, const uint8_t *payload, size_t len, int64_t now_ms,
                     uint64_t *dropped, char *err, size_t err_size)
{
    struct decode_pass pass = {.now_ms = now_ms};
    *dropped = 0;
    if (rw_decode_request(payload, len, decode_series, &pass, err, err_size) != 0)
        return -1;
    pass.q = q;
    int rc = rw_decode_request(payload, len, decode_series, &pass, err, err_size);
    *dropped = pass.dropped;
    return rc == 0 ? pass.queued : -1;
}
