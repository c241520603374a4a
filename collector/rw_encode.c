/*
 * rw_encode: builds prometheus.WriteRequest messages with protobuf-c from
 * ingot's own series structs, packs them into one buffer, and compresses
 * them with snappy's C API; reads a plain one back with protobuf-c's
 * unpack. The generated types stay in this file.
 */
#include "rw_encode.h"

#include <snappy-c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus/remote.pb-c.h"

int rw_encode_request(const struct rw_timeseries *series, size_t n, int compressed,
                      uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t n_labels = 0, n_points = 0;
    for (size_t i = 0; i < n; i++) {
        n_labels += series[i].n_labels;
        n_points += series[i].n_points;
    }
    /* One allocation per kind of message and one per kind of pointer array;
     * every message points into them. */
    Prometheus__TimeSeries *ts = calloc(n ? n : 1, sizeof(*ts));
    Prometheus__TimeSeries **ts_ptrs = calloc(n ? n : 1, sizeof(*ts_ptrs));
    Prometheus__Label *labels = calloc(n_labels ? n_labels : 1, sizeof(*labels));
    Prometheus__Label **label_ptrs = calloc(n_labels ? n_labels : 1, sizeof(*label_ptrs));
    Prometheus__Sample *samples = calloc(n_points ? n_points : 1, sizeof(*samples));
    Prometheus__Sample **sample_ptrs = calloc(n_points ? n_points : 1, sizeof(*sample_ptrs));
    uint8_t *plain = NULL;
    int rc = -1;
    if (!ts || !ts_ptrs || !labels || !label_ptrs || !samples || !sample_ptrs)
        goto out;

    size_t l = 0, p = 0;
    for (size_t i = 0; i < n; i++) {
        prometheus__time_series__init(&ts[i]);
        ts_ptrs[i] = &ts[i];
        ts[i].n_labels = series[i].n_labels;
        ts[i].labels = &label_ptrs[l];
        for (size_t j = 0; j < series[i].n_labels; j++, l++) {
            prometheus__label__init(&labels[l]);
            /* protobuf-c's char * fields are only read by pack. */
            labels[l].name = (char *)series[i].labels[j].name;
            labels[l].value = (char *)series[i].labels[j].value;
            label_ptrs[l] = &labels[l];
        }
        ts[i].n_samples = series[i].n_points;
        ts[i].samples = &sample_ptrs[p];
        for (size_t j = 0; j < series[i].n_points; j++, p++) {
            prometheus__sample__init(&samples[p]);
            samples[p].value = series[i].points[j].value;
            samples[p].timestamp = series[i].points[j].timestamp_ms;
            sample_ptrs[p] = &samples[p];
        }
    }
    Prometheus__WriteRequest request;
    prometheus__write_request__init(&request);
    request.n_timeseries = n;
    request.timeseries = ts_ptrs;

    size_t plain_len = prometheus__write_request__get_packed_size(&request);
    plain = malloc(plain_len ? plain_len : 1);
    if (!plain)
        goto out;
    if (prometheus__write_request__pack(&request, plain) != plain_len)
        goto out; /* NOTREACHED: pack writes what get_packed_size counted */
    if (!compressed) {
        *out = plain;
        *len = plain_len;
        plain = NULL;
        rc = 0;
        goto out;
    }
    size_t max = snappy_max_compressed_length(plain_len);
    uint8_t *body = malloc(max ? max : 1);
    if (!body)
        goto out;
    size_t body_len = max;
    if (snappy_compress((const char *)plain, plain_len, (char *)body, &body_len) != SNAPPY_OK) {
        free(body);
        goto out;
    }
    *out = body;
    *len = body_len;
    rc = 0;
out:
    free(plain);
    free(sample_ptrs);
    free(samples);
    free(label_ptrs);
    free(labels);
    free(ts_ptrs);
    free(ts);
    return rc;
}

int rw_decode_request(const uint8_t *buf, size_t len, rw_decode_fn fn, void *arg, char *err,
                      size_t err_size)
{
    Prometheus__WriteRequest *request = prometheus__write_request__unpack(NULL, len, buf);
    if (!request) {
        snprintf(err, err_size, "not a WriteRequest (malformed protobuf)");
        return -1;
    }
    int rc = 0;
    struct rw_label *labels = NULL;
    struct rw_point *points = NULL;
    size_t labels_cap = 0, points_cap = 0;
    for (size_t i = 0; i < request->n_timeseries && rc == 0; i++) {
        const Prometheus__TimeSeries *ts = request->timeseries[i];
        if (ts->n_labels == 0) {
            snprintf(err, err_size, "series %zu has no labels", i);
            rc = -1;
            break;
        }
        if (ts->n_labels > labels_cap) {
            free(labels);
            labels_cap = ts->n_labels;
            labels = malloc(labels_cap * sizeof(*labels));
        }
        if (ts->n_samples > points_cap) {
            free(points);
            points_cap = ts->n_samples;
            points = malloc(points_cap * sizeof(*points));
        }
        if (!labels || (ts->n_samples && !points)) {
            snprintf(err, err_size, "out of memory");
            rc = -1;
            break;
        }
        for (size_t j = 0; j < ts->n_labels; j++) {
            const Prometheus__Label *label = ts->labels[j];
            if (!label->name[0] || !label->value[0]) {
                snprintf(err, err_size, "series %zu has a label with an empty %s", i,
                         label->name[0] ? "value" : "name");
                rc = -1;
                break;
            }
            labels[j] = (struct rw_label){label->name, label->value};
        }
        for (size_t j = 0; j < ts->n_samples && rc == 0; j++)
            points[j] = (struct rw_point){ts->samples[j]->timestamp, ts->samples[j]->value};
        if (rc == 0) {
            struct rw_timeseries series = {labels, ts->n_labels, points, ts->n_samples};
            rc = fn(arg, &series, err, err_size);
        }
    }
    free(labels);
    free(points);
    prometheus__write_request__free_unpacked(request, NULL);
    return rc;
}

int rw_encode_uncompress(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
    size_t plain_len;
    *out = NULL;
    *out_len = 0;
    if (snappy_uncompressed_length((const char *)data, len, &plain_len) != SNAPPY_OK ||
        snappy_validate_compressed_buffer((const char *)data, len) != SNAPPY_OK)
        return -1;
    uint8_t *plain = malloc(plain_len ? plain_len : 1);
    if (!plain)
        return -1;
    if (snappy_uncompress((const char *)data, len, (char *)plain, &plain_len) != SNAPPY_OK) {
        free(plain);
        return -1;
    }
    *out = plain;
    *out_len = plain_len;
    return 0;
}
