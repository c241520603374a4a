/*
 * rw_encode: Prometheus remote write 1.0 bodies. It turns series (labels
 * and samples) into a prometheus.WriteRequest (proto/prometheus/remote.proto),
 * snappy block-compressed for the wire or plain for the pending queue saved
 * in state_dir, and reads a plain one back. It is the only module that sees
 * the generated protobuf-c types; the rest of ingot speaks the small structs
 * below.
 */
#ifndef INGOT_RW_ENCODE_H
#define INGOT_RW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* One label. Remote write wants every label of a series, __name__
 * included, sorted by name (byte order), no empty name or value: the
 * caller hands them that way (rw_queue builds them so). */
struct rw_label {
    const char *name;
    const char *value;
};

/* One sample: a value at a Unix time in milliseconds. */
struct rw_point {
    int64_t timestamp_ms;
    double value;
};

/* One series of a request: its labels and its samples in time order. */
struct rw_timeseries {
    const struct rw_label *labels;
    size_t n_labels;
    const struct rw_point *points;
    size_t n_points;
};

/* Encodes the n series as one WriteRequest. compressed: snappy block
 * format, the remote write body; otherwise the plain protobuf (the
 * pending file's payload). On success *out is a new buffer (free()) of *len
 * bytes and 0 is returned; -1 on ENOMEM. The inputs are borrowed. */
int rw_encode_request(const struct rw_timeseries *series, size_t n, int compressed,
                      uint8_t **out, size_t *len);

/* Called for each series of a decoded request, in the order written; the
 * labels and points are valid during the call only. Return 0 to go on, -1
 * to stop (rw_decode_request then returns -1 with err as the callee left
 * it). */
typedef int (*rw_decode_fn)(void *arg, const struct rw_timeseries *series, char *err,
                            size_t err_size);

/* Reads a plain (uncompressed) WriteRequest of len bytes and hands its
 * series to fn. A malformed message, a series without labels, and a label
 * with an empty name or value are errors. Returns 0, or -1 with err set. */
int rw_decode_request(const uint8_t *buf, size_t len, rw_decode_fn fn, void *arg, char *err,
                      size_t err_size);

/* Snappy helpers for tests and tools: decompresses a block into a new
 * buffer (free()). Returns 0, or -1 when data is not a valid block. */
int rw_encode_uncompress(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len);

#endif
