/*
 * test_rw_queue: the bounded queue of one remote. A full queue drops its
 * oldest sample and says so; a batch takes samples from the head, grouped
 * by series in time order with a restatement within the batch keeping the
 * later value; a batch taken is out of the queue's reach; order per series
 * holds from batch to batch; the pending payload reads back in order, and
 * a payload with unsorted labels is refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rw_queue.h"
#include "rw_wire.h"

/* Series "m{plant=P}". */
static int push(struct rw_queue *q, const char *plant, int64_t ts, double v)
{
    struct rw_label labels[] = {{"__name__", "m"}, {"plant", plant}};
    return rw_queue_push(q, labels, 2, (struct rw_point){ts, v}, ts);
}

static const char *plant_of(const struct rw_timeseries *s)
{
    return s->labels[1].value;
}

static void test_bound_drops_oldest(void **state)
{
    (void)state;
    struct rw_queue *q = rw_queue_new(3);
    assert_int_equal(push(q, "a", 1, 1), 0);
    assert_int_equal(push(q, "b", 2, 2), 0);
    assert_int_equal(push(q, "a", 3, 3), 0);
    assert_int_equal(rw_queue_oldest_ms(q), 1);
    assert_int_equal(push(q, "c", 4, 4), 1); /* a@1 goes */
    assert_int_equal(push(q, "c", 5, 5), 1); /* b@2 goes */
    assert_int_equal(rw_queue_count(q), 3);
    assert_int_equal(rw_queue_oldest_ms(q), 3);

    struct rw_batch b;
    assert_int_equal(rw_queue_take(q, 10, &b), 0);
    assert_int_equal(b.n_entries, 3);
    assert_int_equal(b.n_series, 2);
    assert_string_equal(plant_of(&b.series[0]), "a");
    assert_int_equal(b.series[0].n_points, 1);
    assert_int_equal(b.series[0].points[0].timestamp_ms, 3);
    assert_string_equal(plant_of(&b.series[1]), "c");
    assert_int_equal(b.series[1].n_points, 2);
    rw_batch_release(q, &b);
    assert_int_equal(rw_queue_count(q), 0);
    assert_int_equal(rw_queue_oldest_ms(q), INT64_MAX);
    rw_queue_free(q);
}

/* A batch in flight is not the queue's: overflow drops waiting samples. */
static void test_batch_survives_overflow(void **state)
{
    (void)state;
    struct rw_queue *q = rw_queue_new(2);
    push(q, "a", 1, 1);
    push(q, "a", 2, 2);
    struct rw_batch b;
    assert_int_equal(rw_queue_take(q, 2, &b), 0);
    assert_int_equal(push(q, "a", 3, 3), 0);
    assert_int_equal(push(q, "a", 4, 4), 0);
    assert_int_equal(push(q, "a", 5, 5), 1);
    assert_int_equal(b.n_points, 2);
    assert_int_equal(b.series[0].points[1].timestamp_ms, 2);
    assert_string_equal(plant_of(&b.series[0]), "a");
    rw_batch_release(q, &b);
    assert_int_equal(rw_queue_count(q), 2);
    rw_queue_free(q);
}

/* Points of a series in time order; a restated timestamp keeps the later
 * value; series in order of first appearance; later batches carry the
 * rest in order. */
static void test_grouping_and_order(void **state)
{
    (void)state;
    struct rw_queue *q = rw_queue_new(100);
    push(q, "b", 30, 1);
    push(q, "a", 20, 2);
    push(q, "b", 10, 3);
    push(q, "b", 30, 4); /* restated within the batch */
    push(q, "a", 40, 5);
    push(q, "b", 50, 6); /* next batch */
    push(q, "a", 60, 7);
    struct rw_batch b;
    assert_int_equal(rw_queue_take(q, 5, &b), 0);
    assert_int_equal(b.n_entries, 5);
    assert_int_equal(b.n_points, 4);
    assert_int_equal(b.n_series, 2);
    assert_string_equal(plant_of(&b.series[0]), "b");
    assert_int_equal(b.series[0].n_points, 2);
    assert_int_equal(b.series[0].points[0].timestamp_ms, 10);
    assert_true(b.series[0].points[0].value == 3);
    assert_int_equal(b.series[0].points[1].timestamp_ms, 30);
    assert_true(b.series[0].points[1].value == 4);
    assert_string_equal(plant_of(&b.series[1]), "a");
    assert_int_equal(b.series[1].points[0].timestamp_ms, 20);
    assert_int_equal(b.series[1].points[1].timestamp_ms, 40);
    rw_batch_release(q, &b);

    assert_int_equal(rw_queue_take(q, 5, &b), 0);
    assert_int_equal(b.n_entries, 2);
    assert_string_equal(plant_of(&b.series[0]), "b");
    assert_int_equal(b.series[0].points[0].timestamp_ms, 50);
    assert_int_equal(b.series[1].points[0].timestamp_ms, 60);
    rw_batch_release(q, &b);

    assert_int_equal(rw_queue_take(q, 5, &b), 0);
    assert_int_equal(b.n_entries, 0);
    rw_batch_release(q, &b);
    rw_queue_free(q);
}

/* The ring grows past its first size and wraps in order. */
static void test_growth_and_wrap(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct rw_queue *q = rw_queue_new(N);
    char plant[16];
    for (int i = 0; i < N + 700; i++) {
        snprintf(plant, sizeof(plant), "p%d", i % 7);
        assert_int_equal(push(q, plant, i, i), i < N ? 0 : 1);
    }
    assert_int_equal(rw_queue_oldest_ms(q), 700);
    int64_t next = 700;
    while (rw_queue_count(q)) {
        struct rw_batch b;
        assert_int_equal(rw_queue_take(q, 999, &b), 0);
        int64_t low = INT64_MAX;
        for (size_t i = 0; i < b.n_entries; i++) {
            assert_int_equal(b.entries[i].point.timestamp_ms, next + (int64_t)i);
            if (b.entries[i].point.timestamp_ms < low)
                low = b.entries[i].point.timestamp_ms;
        }
        assert_int_equal(low, next);
        assert_int_equal(b.n_series, b.n_entries < 7 ? b.n_entries : 7);
        next += (int64_t)b.n_entries;
        rw_batch_release(q, &b);
    }
    assert_int_equal(next, N + 700);
    rw_queue_free(q);
}

static void test_set_max(void **state)
{
    (void)state;
    struct rw_queue *q = rw_queue_new(10);
    for (int i = 0; i < 10; i++)
        push(q, "a", i, i);
    assert_int_equal(rw_queue_set_max(q, 4), 6);
    assert_int_equal(rw_queue_oldest_ms(q), 6);
    assert_int_equal(push(q, "a", 10, 10), 1);
    assert_int_equal(rw_queue_set_max(q, 20), 0);
    assert_int_equal(push(q, "a", 11, 11), 0);
    assert_int_equal(rw_queue_count(q), 5);
    rw_queue_free(q);
}

/* The pending payload: the batch, then the queue, in order, readable by an
 * independent reader and back into a queue. */
static void test_pending_round_trip(void **state)
{
    (void)state;
    struct rw_queue *q = rw_queue_new(100);
    push(q, "a", 1, 1);
    push(q, "a", 2, 2);
    push(q, "b", 3, 3);
    push(q, "b", 4, 4);
    push(q, "a", 5, 5);
    struct rw_batch b;
    assert_int_equal(rw_queue_take(q, 2, &b), 0); /* a@1, a@2 in flight */
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(rw_queue_encode(q, &b, &payload, &len), 0);

    struct wire_request r;
    assert_int_equal(wire_request_parse(&r, payload, len), 0);
    assert_int_equal(r.n_series, 3); /* a(1,2) b(3,4) a(5) */
    assert_string_equal(wire_label_value(&r.series[0], "plant"), "a");
    assert_int_equal(r.series[0].n_samples, 2);
    assert_string_equal(wire_label_value(&r.series[1], "plant"), "b");
    assert_int_equal(r.series[1].samples[1].timestamp_ms, 4);
    assert_string_equal(wire_label_value(&r.series[2], "plant"), "a");
    assert_int_equal(r.series[2].samples[0].timestamp_ms, 5);
    wire_request_free(&r);

    struct rw_queue *back = rw_queue_new(4);
    uint64_t dropped = 0;
    char err[128];
    assert_int_equal(rw_queue_decode(back, payload, len, 77, &dropped, err, sizeof(err)), 5);
    assert_int_equal(dropped, 1); /* a bound of 4: the oldest goes */
    assert_int_equal(rw_queue_oldest_ms(back), 77);
    struct rw_batch again;
    assert_int_equal(rw_queue_take(back, 10, &again), 0);
    assert_int_equal(again.entries[0].point.timestamp_ms, 2);
    assert_int_equal(again.entries[3].point.timestamp_ms, 5);
    rw_batch_release(back, &again);
    rw_queue_free(back);
    free(payload);
    rw_batch_release(q, &b);
    rw_queue_free(q);
}

static void test_pending_refused(void **state)
{
    (void)state;
    static const struct rw_label unsorted[] = {{"plant", "a"}, {"__name__", "m"}};
    static const struct rw_label sorted[] = {{"__name__", "m"}, {"plant", "a"}};
    static const struct rw_point one = {1, 1};
    struct rw_timeseries series[] = {{sorted, 2, &one, 1}, {unsorted, 2, &one, 1}};
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(rw_encode_request(series, 2, 0, &payload, &len), 0);
    struct rw_queue *q = rw_queue_new(10);
    uint64_t dropped = 0;
    char err[128];
    assert_int_equal(rw_queue_decode(q, payload, len, 0, &dropped, err, sizeof(err)), -1);
    assert_string_equal(err, "labels of a series not sorted or repeated (\"__name__\")");
    assert_int_equal(rw_queue_count(q), 0); /* not even the sound first series */
    free(payload);
    static const uint8_t junk[] = {0x0a, 0x7f};
    assert_int_equal(rw_queue_decode(q, junk, sizeof(junk), 0, &dropped, err, sizeof(err)), -1);
    rw_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_drops_oldest),
        cmocka_unit_test(test_batch_survives_overflow),
        cmocka_unit_test(test_grouping_and_order),
        cmocka_unit_test(test_growth_and_wrap),
        cmocka_unit_test(test_set_max),
        cmocka_unit_test(test_pending_round_trip),
        cmocka_unit_test(test_pending_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
