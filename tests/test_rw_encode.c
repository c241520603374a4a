/*
 * test_rw_encode: remote write bodies. A compressed body is a snappy
 * *block* (it starts with the varint of the plain length, not the framing
 * format's stream header) of a WriteRequest that an independent wire reader
 * (rw_wire.h) finds labels, values and timestamps in, zeros included; a
 * plain one reads back through rw_decode_request; broken input is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_encode.h"
#include "rw_wire.h"

static const struct rw_label copper_labels[] = {
    {"__name__", "ingot_plant_production_tonnes"}, {"country", "kz"},
    {"granularity", "month"}, {"metal", "copper"}, {"plant", "kz-balkhash-cu"},
};
static const struct rw_point copper_points[] = {
    {1672531200000, 11630.6}, {1675209600000, 11334.4}, {1677628800000, 0},
};
static const struct rw_label national_labels[] = {
    {"__name__", "ingot_national_production_tonnes"}, {"metal", "zinc"}, {"year", "2025"},
};
static const struct rw_point national_points[] = {{0, -1.5e300}};

static const struct rw_timeseries two_series[] = {
    {copper_labels, 5, copper_points, 3},
    {national_labels, 3, national_points, 1},
};

static void check_two_series(const struct wire_request *r)
{
    assert_int_equal(r->n_series, 2);
    const struct wire_series *ts = &r->series[0];
    assert_int_equal(ts->n_labels, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(ts->labels[i].name, copper_labels[i].name);
        assert_string_equal(ts->labels[i].value, copper_labels[i].value);
    }
    assert_int_equal(ts->n_samples, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ts->samples[i].timestamp_ms, copper_points[i].timestamp_ms);
        assert_true(ts->samples[i].value == copper_points[i].value);
    }
    ts = &r->series[1];
    assert_string_equal(wire_label_value(ts, "__name__"), "ingot_national_production_tonnes");
    assert_string_equal(wire_label_value(ts, "year"), "2025");
    assert_int_equal(ts->n_samples, 1);
    assert_int_equal(ts->samples[0].timestamp_ms, 0); /* proto3 leaves zeros out */
    assert_true(ts->samples[0].value == -1.5e300);
}

static void test_compressed_body(void **state)
{
    (void)state;
    uint8_t *body = NULL, *plain = NULL, *again = NULL;
    size_t body_len = 0, plain_len = 0, again_len = 0;
    assert_int_equal(rw_encode_request(two_series, 2, 0, &plain, &plain_len), 0);
    assert_int_equal(rw_encode_request(two_series, 2, 1, &body, &body_len), 0);

    /* A snappy block opens with the plain length as a varint; the framing
     * format would open with ff 06 00 00 "sNaPpY". */
    const uint8_t *p = body;
    uint64_t announced;
    assert_int_equal(wire_varint(&p, body + body_len, &announced), 0);
    assert_int_equal(announced, plain_len);
    assert_int_not_equal(body[0], 0xff);

    assert_int_equal(rw_encode_uncompress(body, body_len, &again, &again_len), 0);
    assert_int_equal(again_len, plain_len);
    assert_memory_equal(again, plain, plain_len);

    struct wire_request r;
    assert_int_equal(wire_request_parse(&r, again, again_len), 0);
    check_two_series(&r);
    wire_request_free(&r);
    free(body);
    free(plain);
    free(again);
}

static void test_empty_request(void **state)
{
    (void)state;
    uint8_t *body = NULL;
    size_t len = 99;
    assert_int_equal(rw_encode_request(NULL, 0, 0, &body, &len), 0);
    assert_int_equal(len, 0);
    free(body);
}

/* rw_decode_request's callback: copies what it sees into a wire_request. */
static int collect(void *arg, const struct rw_timeseries *series, char *err, size_t err_size)
{
    (void)err;
    (void)err_size;
    struct wire_request *r = arg;
    r->series = realloc(r->series, (r->n_series + 1) * sizeof(*r->series));
    struct wire_series *ts = &r->series[r->n_series++];
    memset(ts, 0, sizeof(*ts));
    for (size_t i = 0; i < series->n_labels; i++) {
        snprintf(ts->labels[i].name, sizeof(ts->labels[i].name), "%s", series->labels[i].name);
        snprintf(ts->labels[i].value, sizeof(ts->labels[i].value), "%s", series->labels[i].value);
    }
    ts->n_labels = series->n_labels;
    ts->samples = calloc(series->n_points + 1, sizeof(*ts->samples));
    for (size_t i = 0; i < series->n_points; i++)
        ts->samples[i] = (struct wire_sample){series->points[i].value,
                                              series->points[i].timestamp_ms};
    ts->n_samples = series->n_points;
    return 0;
}

static void test_plain_round_trip(void **state)
{
    (void)state;
    uint8_t *plain = NULL;
    size_t len = 0;
    assert_int_equal(rw_encode_request(two_series, 2, 0, &plain, &len), 0);
    struct wire_request r = {0};
    char err[128] = "";
    assert_int_equal(rw_decode_request(plain, len, collect, &r, err, sizeof(err)), 0);
    check_two_series(&r);
    wire_request_free(&r);
    free(plain);
}

static int stop_at_first(void *arg, const struct rw_timeseries *series, char *err,
                         size_t err_size)
{
    (void)series;
    (*(int *)arg)++;
    snprintf(err, err_size, "enough");
    return -1;
}

static void test_decode_errors(void **state)
{
    (void)state;
    char err[128];
    struct wire_request r = {0};
    /* Field 1, length 5, but only 2 bytes follow. */
    static const uint8_t truncated[] = {0x0a, 0x05, 0x0a, 0x00};
    assert_int_equal(rw_decode_request(truncated, sizeof(truncated), collect, &r, err,
                                       sizeof(err)),
                     -1);
    assert_string_equal(err, "not a WriteRequest (malformed protobuf)");

    /* A label with an empty value is written as a name only. */
    static const struct rw_label empty_value[] = {{"__name__", "x"}, {"plant", ""}};
    static const struct rw_point one = {1000, 1};
    struct rw_timeseries bad = {empty_value, 2, &one, 1};
    uint8_t *plain = NULL;
    size_t len = 0;
    assert_int_equal(rw_encode_request(&bad, 1, 0, &plain, &len), 0);
    assert_int_equal(rw_decode_request(plain, len, collect, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "series 0 has a label with an empty value");
    free(plain);

    /* A series without labels. */
    struct rw_timeseries bare = {NULL, 0, &one, 1};
    assert_int_equal(rw_encode_request(&bare, 1, 0, &plain, &len), 0);
    assert_int_equal(rw_decode_request(plain, len, collect, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "series 0 has no labels");
    free(plain);
    wire_request_free(&r);

    /* The callback stops the walk. */
    int calls = 0;
    assert_int_equal(rw_encode_request(two_series, 2, 0, &plain, &len), 0);
    assert_int_equal(rw_decode_request(plain, len, stop_at_first, &calls, err, sizeof(err)), -1);
    assert_int_equal(calls, 1);
    assert_string_equal(err, "enough");
    free(plain);

    /* Not snappy. */
    uint8_t *out = NULL;
    size_t out_len = 0;
    static const uint8_t junk[] = {0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'};
    assert_int_equal(rw_encode_uncompress(junk, sizeof(junk), &out, &out_len), -1);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compressed_body),
        cmocka_unit_test(test_empty_request),
        cmocka_unit_test(test_plain_round_trip),
        cmocka_unit_test(test_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
