/*
 * feed_recorder: the feed parser tests' sink. It copies everything it is
 * handed, in order, so tests can assert on it after the parse returns, and
 * gives the cmocka fixtures and assertions both parser tests use.
 */
#ifndef INGOT_TEST_FEED_RECORDER_H
#define INGOT_TEST_FEED_RECORDER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feed_record.h"

#define RECORDER_MAX 32

/* One sink call; its strings are the recorder's own copies. */
struct recorded {
    int is_plant;
    struct feed_plant_attrs plant;
    struct feed_raw_record record;
};

struct recorder {
    struct feed_sink sink;
    size_t count;
    struct recorded calls[RECORDER_MAX];
};

static inline const char *recorder_copy(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static inline struct recorded *recorder_next(struct recorder *r)
{
    assert_true(r->count < RECORDER_MAX);
    return &r->calls[r->count++];
}

static inline void recorder_plant_cb(void *ctx, const struct feed_plant_attrs *attrs)
{
    struct recorded *call = recorder_next(ctx);
    call->is_plant = 1;
    call->plant = *attrs;
    call->plant.id = recorder_copy(attrs->id);
    call->plant.name.s = recorder_copy(attrs->name.s);
    call->plant.region.s = recorder_copy(attrs->region.s);
}

static inline void recorder_record_cb(void *ctx, const struct feed_raw_record *record)
{
    struct recorded *call = recorder_next(ctx);
    call->record = *record;
    call->record.plant = recorder_copy(record->plant);
    call->record.metal = recorder_copy(record->metal);
    call->record.period = recorder_copy(record->period);
    call->record.problem = recorder_copy(record->problem);
}

/* cmocka setup: *state becomes an empty recorder. */
static inline int recorder_setup(void **state)
{
    struct recorder *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->sink = (struct feed_sink){.plant = recorder_plant_cb, .record = recorder_record_cb, .ctx = r};
    *state = r;
    return 0;
}

static inline int recorder_teardown(void **state)
{
    struct recorder *r = *state;
    for (size_t i = 0; i < r->count; i++) {
        struct recorded *call = &r->calls[i];
        free((void *)call->plant.id);
        free((void *)call->plant.name.s);
        free((void *)call->plant.region.s);
        free((void *)call->record.plant);
        free((void *)call->record.metal);
        free((void *)call->record.period);
        free((void *)call->record.problem);
    }
    free(r);
    return 0;
}

/* The i-th call, which must have been sink->plant. */
static inline const struct feed_plant_attrs *recorded_plant(const struct recorder *r, size_t i)
{
    assert_true(i < r->count);
    assert_true(r->calls[i].is_plant);
    return &r->calls[i].plant;
}

/* The i-th call, which must have been sink->record. */
static inline const struct feed_raw_record *recorded_record(const struct recorder *r, size_t i)
{
    assert_true(i < r->count);
    assert_false(r->calls[i].is_plant);
    return &r->calls[i].record;
}

/* got equals want, both possibly NULL. */
static inline void assert_text(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* A feed_value in the given state; a PRESENT one holds exactly value. */
static inline void assert_value(struct feed_value got, enum feed_value_state state,
                                double value)
{
    assert_int_equal(got.state, state);
    if (state == FEED_VALUE_PRESENT)
        assert_true(got.value == value);
}

#endif
