/*
 * test_store: plants kept sorted and found, records keyed by period, the
 * granularity rule, store_put's change detection, and rollups that follow
 * every put, restatement and removal of a field exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "store.h"

static int setup(void **state)
{
    *state = store_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    store_free(*state);
    return 0;
}

static struct store_record record(const char *period, double production, double co2)
{
    struct period p;
    assert_int_equal(period_parse(period, &p), 0);
    struct store_record r = {.period_key = period_key(&p), .values = rollup_values_none()};
    if (production >= 0) {
        r.values.value[RECORD_PRODUCTION_TONNES] = production;
    }
    if (co2 >= 0) {
        r.values.value[RECORD_CO2_TONNES] = co2;
    }
    return r;
}

static void test_plants_sorted_and_unique(void **state)
{
    struct store *s = *state;
    const char *ids[] = {"kz-m", "kz-a", "kz-z", "kz-a", "kz-b"};
    for (size_t i = 0; i < 5; i++)
        assert_non_null(store_plant_get(s, ids[i]));
    assert_int_equal(store_plant_count(s), 4);
    assert_string_equal(store_plant_at(s, 0)->id, "kz-a");
    assert_string_equal(store_plant_at(s, 1)->id, "kz-b");
    assert_string_equal(store_plant_at(s, 3)->id, "kz-z");
    assert_ptr_equal(store_plant_find(s, "kz-m"), store_plant_get(s, "kz-m"));
    assert_null(store_plant_find(s, "kz-q"));
    assert_int_equal(store_plant_at(s, 0)->green_operational, -1);
}

static void test_metals_interned(void **state)
{
    struct store *s = *state;
    assert_int_equal(store_metal_id(s, "copper"), 0);
    assert_int_equal(store_metal_id(s, "zinc"), 1);
    assert_int_equal(store_metal_id(s, "copper"), 0);
    assert_int_equal(store_metal_find(s, "zinc"), 1);
    assert_int_equal(store_metal_find(s, "gold"), -1);
}

static void test_put_detects_change_and_rolls_up(void **state)
{
    struct store *s = *state;
    struct store_plant *p = store_plant_get(s, "kz-a");
    int cu = store_metal_id(s, "copper");
    struct store_record r = record("2025-01", 9800.5, -1);
    assert_int_equal(store_put(s, p, cu, &r), 1);
    assert_int_equal(store_put(s, p, cu, &r), 0);
    struct store_record r2 = record("2025-01-15", 0.25, 1);
    struct store_plant *q = store_plant_get(s, "kz-b");
    assert_int_equal(store_put(s, q, cu, &r2), 1);

    const struct rollup_month *m = store_national_month(s, cu, 2025, 1);
    assert_true(fixed_to_double(m->production) == 9800.75);
    assert_int_equal(m->production_records, 2);
    assert_true(fixed_to_double(m->co2_matched) == 1);
    assert_true(fixed_to_double(m->production_co2_matched) == 0.25);
    assert_null(store_national_month(s, cu, 2024, 1));

    /* Restating drops the old contribution: co2 matched now includes kz-a. */
    struct store_record r3 = record("2025-01", 9800.5, 100);
    assert_int_equal(store_put(s, p, cu, &r3), 1);
    assert_true(fixed_to_double(m->production) == 9800.75);
    assert_true(fixed_to_double(m->co2_matched) == 101);
    assert_true(fixed_to_double(m->production_co2_matched) == 9800.75);

    const struct rollup_plant_year *py = store_plant_year(p, cu, 2025);
    assert_true(fixed_to_double(py->sum[ROLLUP_PLANT_PRODUCTION]) == 9800.5);
    assert_true(fixed_to_double(py->sum[ROLLUP_PLANT_CO2]) == 100);
    assert_int_equal(py->records[ROLLUP_PLANT_ENERGY], 0);
    assert_null(store_plant_year(p, cu, 2024));
    assert_null(store_plant_year(p, store_metal_id(s, "zinc"), 2025));
}

/* What the observer saw of each call. */
struct observed {
    int calls;
    const struct store_plant *plant;
    char metal[16];
    int32_t period_key;
    int had_before;
    struct rollup_values before, after;
};

static void observe(void *arg, const struct store_plant *plant, const char *metal,
                    int32_t period_key, const struct rollup_values *before,
                    const struct rollup_values *after)
{
    struct observed *o = arg;
    o->calls++;
    o->plant = plant;
    snprintf(o->metal, sizeof(o->metal), "%s", metal);
    o->period_key = period_key;
    o->had_before = before != NULL;
    if (before)
        o->before = *before;
    o->after = *after;
}

/* The observer hears of new and restated records with the values before
 * and after, never of an identical one; none is called once unset. */
static void test_observer(void **state)
{
    struct store *s = *state;
    struct observed o = {0};
    struct store_plant *p = store_plant_get(s, "kz-a");
    int zn = store_metal_id(s, "zinc");
    store_set_observer(s, observe, &o);
    struct store_record r = record("2025-03", 10, -1);
    assert_int_equal(store_put(s, p, zn, &r), 1);
    assert_int_equal(o.calls, 1);
    assert_ptr_equal(o.plant, p);
    assert_string_equal(o.metal, "zinc");
    assert_int_equal(o.period_key, r.period_key);
    assert_false(o.had_before);
    assert_true(o.after.value[RECORD_PRODUCTION_TONNES] == 10);

    assert_int_equal(store_put(s, p, zn, &r), 0);
    assert_int_equal(o.calls, 1);

    struct store_record restated = record("2025-03", 12, 3);
    assert_int_equal(store_put(s, p, zn, &restated), 1);
    assert_int_equal(o.calls, 2);
    assert_true(o.had_before);
    assert_true(o.before.value[RECORD_PRODUCTION_TONNES] == 10);
    assert_false(rollup_has(&o.before, RECORD_CO2_TONNES));
    assert_true(rollup_has(&o.after, RECORD_CO2_TONNES));
    assert_true(o.after.value[RECORD_PRODUCTION_TONNES] == 12);

    store_set_observer(s, NULL, NULL);
    struct store_record later = record("2025-04", 1, -1);
    assert_int_equal(store_put(s, p, zn, &later), 1);
    assert_int_equal(o.calls, 2);
}

static void test_sums_are_exact(void **state)
{
    struct store *s = *state;
    struct store_plant *p = store_plant_get(s, "kz-a");
    int cu = store_metal_id(s, "copper");
    /* 0.1 added ten times is not 1 in doubles; the exact sum is. */
    for (int day = 1; day <= 10; day++) {
        char period[16];
        snprintf(period, sizeof(period), "2025-03-%02d", day);
        struct store_record r = record(period, 0.1, -1);
        assert_int_equal(store_put(s, p, cu, &r), 1);
    }
    assert_true(fixed_to_double(store_national_month(s, cu, 2025, 3)->production) == 1.0);
}

static void test_granularity(void **state)
{
    struct store *s = *state;
    struct store_plant *p = store_plant_get(s, "kz-a");
    int cu = store_metal_id(s, "copper");
    struct period month, day, next_month_day;
    period_parse("2025-02", &month);
    period_parse("2025-02-10", &day);
    period_parse("2025-03-01", &next_month_day);
    struct store_record r = record("2025-02", 1, -1);
    store_put(s, p, cu, &r);
    assert_true(store_granularity_conflict(p, cu, &day));
    assert_false(store_granularity_conflict(p, cu, &month));
    assert_false(store_granularity_conflict(p, cu, &next_month_day));
    assert_false(store_granularity_conflict(p, store_metal_id(s, "zinc"), &day));

    struct store_record d = record("2025-03-01", 1, -1);
    store_put(s, p, cu, &d);
    period_parse("2025-03", &month);
    assert_true(store_granularity_conflict(p, cu, &month));
    assert_false(store_granularity_conflict(p, cu, &next_month_day));
}

/* Absence is NAN: never equal to a present value, zero included. */
static void test_absent_is_not_zero(void **state)
{
    (void)state;
    struct rollup_values none = rollup_values_none(), zero = none, other = none;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        assert_false(rollup_has(&none, f));
    assert_true(rollup_values_equal(&none, &other));
    zero.value[RECORD_CO2_TONNES] = 0;
    assert_true(rollup_has(&zero, RECORD_CO2_TONNES));
    assert_false(rollup_values_equal(&none, &zero));
    assert_false(rollup_values_equal(&zero, &none));
    other.value[RECORD_CO2_TONNES] = 0;
    assert_true(rollup_values_equal(&zero, &other));
}

/* Shrinking arrays on a change of plant and at store_trim keeps every
 * record and sum, whether plants come one after another or interleaved. */
static void test_trim_keeps_records(void **state)
{
    struct store *s = *state;
    int cu = store_metal_id(s, "copper"), zn = store_metal_id(s, "zinc");
    const char *ids[3] = {"kz-a", "kz-b", "kz-c"};
    for (int pass = 0; pass < 2; pass++) { /* grouped, then interleaved */
        for (int i = 0; i < 3 * 40; i++) {
            int plant = pass ? i % 3 : i / 40, n = pass ? i / 3 : i % 40;
            char period[16];
            snprintf(period, sizeof(period), "%d-%02d", 2020 + pass * 4 + n / 12, n % 12 + 1);
            struct store_record r = record(period, 1 + n, pass ? -1 : 2);
            assert_int_equal(store_put(s, store_plant_get(s, ids[plant]), n % 2 ? zn : cu, &r), 1);
        }
        store_trim(s);
    }
    for (int plant = 0; plant < 3; plant++) {
        const struct store_plant *p = store_plant_find(s, ids[plant]);
        assert_int_equal(store_record_count(p, cu) + store_record_count(p, zn), 80);
        for (int n = 0; n < 40; n++) {
            char period[16];
            snprintf(period, sizeof(period), "%d-%02d", 2024 + n / 12, n % 12 + 1);
            struct period pp;
            assert_int_equal(period_parse(period, &pp), 0);
            const struct store_record *r = store_record_find(p, n % 2 ? zn : cu, period_key(&pp));
            assert_non_null(r);
            assert_true(r->values.value[RECORD_PRODUCTION_TONNES] == 1 + n);
            assert_false(rollup_has(&r->values, RECORD_CO2_TONNES));
        }
        /* 2020: n 0..11, copper the even ones: 1+3+...+11. */
        const struct rollup_plant_year *y = store_plant_year(p, cu, 2020);
        assert_non_null(y);
        assert_true(fixed_to_double(y->sum[ROLLUP_PLANT_PRODUCTION]) == 36);
        assert_int_equal(y->records[ROLLUP_PLANT_CO2], 6);
    }
}

static void test_text_attributes(void **state)
{
    struct store_plant *p = store_plant_get(*state, "kz-a");
    assert_null(p->name);
    assert_int_equal(store_plant_set_text(&p->name, "Balkhash"), 0);
    assert_int_equal(store_plant_set_text(&p->name, "Balkhash smelter"), 0);
    assert_string_equal(p->name, "Balkhash smelter");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plants_sorted_and_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metals_interned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_detects_change_and_rolls_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_observer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sums_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_granularity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_attributes, setup, teardown),
        cmocka_unit_test(test_absent_is_not_zero),
        cmocka_unit_test_setup_teardown(test_trim_keeps_records, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
