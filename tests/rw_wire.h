/*
 * rw_wire: a tiny protobuf reader of prometheus.WriteRequest for the
 * tests, written from the wire format alone (varints, length-delimited
 * fields, fixed64 doubles) so that what ingot sends is checked by code that
 * shares nothing with its encoder. Unknown fields are skipped, as receivers
 * do. Sizes are the tests' own, far above what they send.
 */
#ifndef INGOT_TEST_RW_WIRE_H
#define INGOT_TEST_RW_WIRE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_MAX_LABELS 16

struct wire_label {
    char name[64];
    char value[128];
};

struct wire_sample {
    double value;
    int64_t timestamp_ms;
};

struct wire_series {
    struct wire_label labels[WIRE_MAX_LABELS];
    size_t n_labels;
    struct wire_sample *samples; /* malloc'd */
    size_t n_samples;
};

struct wire_request {
    struct wire_series *series; /* malloc'd */
    size_t n_series;
};

static inline int wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* The next field of [*p, end): its number, wire type, and for a
 * length-delimited one its bytes, for a varint its value, for fixed64 its
 * 8 bytes in *fixed. Returns 0 or -1 when malformed. */
static inline int wire_field(const uint8_t **p, const uint8_t *end, uint64_t *number,
                             int *type, const uint8_t **data, size_t *len, uint64_t *varint,
                             uint64_t *fixed)
{
    uint64_t key;
    if (wire_varint(p, end, &key) != 0)
        return -1;
    *number = key >> 3;
    *type = (int)(key & 7);
    switch (*type) {
    case 0:
        return wire_varint(p, end, varint);
    case 1:
        if (end - *p < 8)
            return -1;
        memcpy(fixed, *p, 8); /* little-endian hosts only, as the tests run */
        *p += 8;
        return 0;
    case 2: {
        uint64_t n;
        if (wire_varint(p, end, &n) != 0 || n > (uint64_t)(end - *p))
            return -1;
        *data = *p;
        *len = (size_t)n;
        *p += n;
        return 0;
    }
    case 5:
        if (end - *p < 4)
            return -1;
        *p += 4;
        return 0;
    default:
        return -1;
    }
}

static inline int wire_string(char *buf, size_t size, const uint8_t *data, size_t len)
{
    if (len >= size)
        return -1;
    memcpy(buf, data, len);
    buf[len] = '\0';
    return 0;
}

static inline int wire_label_parse(struct wire_label *l, const uint8_t *p,
                                   const uint8_t *end)
{
    memset(l, 0, sizeof(*l));
    while (p < end) {
        uint64_t number, varint, fixed;
        int type;
        const uint8_t *data = NULL;
        size_t len = 0;
        if (wire_field(&p, end, &number, &type, &data, &len, &varint, &fixed) != 0)
            return -1;
        if (number == 1 && type == 2 && wire_string(l->name, sizeof(l->name), data, len) != 0)
            return -1;
        if (number == 2 && type == 2 && wire_string(l->value, sizeof(l->value), data, len) != 0)
            return -1;
    }
    return 0;
}

static inline int wire_sample_parse(struct wire_sample *s, const uint8_t *p,
                                    const uint8_t *end)
{
    memset(s, 0, sizeof(*s));
    while (p < end) {
        uint64_t number, varint = 0, fixed = 0;
        int type;
        const uint8_t *data;
        size_t len;
        if (wire_field(&p, end, &number, &type, &data, &len, &varint, &fixed) != 0)
            return -1;
        if (number == 1 && type == 1)
            memcpy(&s->value, &fixed, 8);
        if (number == 2 && type == 0)
            s->timestamp_ms = (int64_t)varint;
    }
    return 0;
}

static inline int wire_series_parse(struct wire_series *ts, const uint8_t *p,
                                    const uint8_t *end)
{
    while (p < end) {
        uint64_t number, varint, fixed;
        int type;
        const uint8_t *data = NULL;
        size_t len = 0;
        if (wire_field(&p, end, &number, &type, &data, &len, &varint, &fixed) != 0)
            return -1;
        if (number == 1 && type == 2) {
            if (ts->n_labels == WIRE_MAX_LABELS ||
                wire_label_parse(&ts->labels[ts->n_labels++], data, data + len) != 0)
                return -1;
        } else if (number == 2 && type == 2) {
            struct wire_sample *grown =
                realloc(ts->samples, (ts->n_samples + 1) * sizeof(*ts->samples));
            if (!grown)
                return -1;
            ts->samples = grown;
            if (wire_sample_parse(&ts->samples[ts->n_samples++], data, data + len) != 0)
                return -1;
        }
    }
    return 0;
}

static inline void wire_request_free(struct wire_request *r)
{
    for (size_t i = 0; i < r->n_series; i++)
        free(r->series[i].samples);
    free(r->series);
    memset(r, 0, sizeof(*r));
}

/* Parses a plain WriteRequest into *r (release with wire_request_free).
 * Returns 0, or -1 when malformed. */
static inline int wire_request_parse(struct wire_request *r, const uint8_t *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    const uint8_t *p = buf, *end = buf + len;
    while (p < end) {
        uint64_t number, varint, fixed;
        int type;
        const uint8_t *data = NULL;
        size_t n = 0;
        if (wire_field(&p, end, &number, &type, &data, &n, &varint, &fixed) != 0)
            return -1;
        if (number != 1 || type != 2)
            continue;
        struct wire_series *grown = realloc(r->series, (r->n_series + 1) * sizeof(*r->series));
        if (!grown)
            return -1;
        r->series = grown;
        memset(&r->series[r->n_series], 0, sizeof(*r->series));
        if (wire_series_parse(&r->series[r->n_series++], data, data + n) != 0)
            return -1;
    }
    return 0;
}

/* The value of label name in ts, or NULL. */
static inline const char *wire_label_value(const struct wire_series *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (strcmp(ts->labels[i].name, name) == 0)
            return ts->labels[i].value;
    return NULL;
}

/* The first series of r whose labels include every name=value pair of
 * want (a NULL-terminated list of alternating names and values), or NULL. */
static inline const struct wire_series *wire_find(const struct wire_request *r,
                                                  const char *const *want)
{
    for (size_t i = 0; i < r->n_series; i++) {
        int all = 1;
        for (size_t k = 0; want[k] && all; k += 2) {
            const char *v = wire_label_value(&r->series[i], want[k]);
            all = v && strcmp(v, want[k + 1]) == 0;
        }
        if (all)
            return &r->series[i];
    }
    return NULL;
}

#endif
