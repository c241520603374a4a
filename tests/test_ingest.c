/*
 * test_ingest: the record rules end to end through ingest_document: every
 * rejection reason and its precedence, merging of fields from two feeds,
 * restatements, idempotent re-delivery, granularity, plant attributes, and
 * whole-document failures that must apply nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ingest.h"
#include "test_config_fixture.h"

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

/* Ingests doc through feed (0 = "prod" JSON, 1 = "csv") and returns the
 * parse result; counts are added to *counts. */
static int ingest(struct store *store, int feed, const char *doc, struct ingest_counts *counts)
{
    char err[256] = "";
    return ingest_document(store, &fixture_config, &fixture_feeds[feed], FIXTURE_NOW, doc,
                           strlen(doc), counts, err, sizeof(err));
}

/* The stored value of a field, or NAN when absent or not stored. */
static double stored(struct store *store, const char *plant, const char *metal, const char *period,
                     enum record_field f)
{
    struct period p;
    const struct store_plant *sp = store_plant_find(store, plant);
    int metal_id = store_metal_find(store, metal);
    if (!sp || metal_id < 0 || period_parse(period, &p) != 0)
        return NAN;
    const struct store_record *r = store_record_find(sp, metal_id, period_key(&p));
    return r && rollup_has(&r->values, f) ? r->values.value[f] : NAN;
}

#define DOC(records) \
    "{\"schema\":\"ingot.feed.v1\",\"plants\":[" records "]}"

static void test_every_reason_once(void **state)
{
    struct ingest_counts c = {0};
    /* One record per reason, in enum order, then one good record. */
    const char *doc = DOC(
        "{\"id\":\"KZ A\",\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\"}]},"
        "{\"id\":\"kz-zzz\",\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\"}]},"
        "{\"id\":\"kz-a\",\"records\":["
        "{\"metal\":\"gold\",\"period\":\"2025-01\"},"
        "{\"metal\":\"copper\",\"period\":\"2025-02-30\"},"
        "{\"metal\":\"copper\",\"period\":\"2025-08\"},"
        "{\"metal\":\"copper\",\"period\":\"2025-01\",\"co2_tonnes\":\"12\"},"
        "{\"metal\":\"copper\",\"period\":\"2025-01\",\"energy_mwh\":-1},"
        "{\"metal\":\"copper\",\"period\":\"2025-01\",\"waste_tonnes\":10,"
        "\"waste_recycled_tonnes\":11},"
        "{\"metal\":\"copper\",\"period\":\"2025-03\",\"production_tonnes\":5},"
        "{\"metal\":\"copper\",\"period\":\"2025-03-04\",\"production_tonnes\":1},"
        "{\"metal\":\"copper\",\"period\":\"2025-07\",\"production_tonnes\":7}"
        "]}");
    assert_int_equal(ingest(*state, 0, doc, &c), 0);
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        assert_int_equal(c.rejected[r], 1);
    /* 2025-03 and 2025-07 (the current month is not in the future). */
    assert_int_equal(c.accepted, 2);
    assert_int_equal(c.changed, 2);
    assert_true(isnan(stored(*state, "kz-a", "copper", "2025-01", RECORD_PRODUCTION_TONNES)));
    assert_true(store_plant_find(*state, "kz-zzz") == NULL);
}

static void test_first_reason_wins(void **state)
{
    struct ingest_counts c = {0};
    /* Every rule is broken; only the first counts. */
    assert_int_equal(ingest(*state, 0,
                            DOC("{\"id\":\"-bad\",\"records\":[{\"metal\":\"gold\","
                                "\"period\":\"x\",\"production_tonnes\":-1}]}"),
                            &c),
                     0);
    assert_int_equal(c.rejected[INGEST_INVALID_PLANT], 1);
    memset(&c, 0, sizeof(c));
    assert_int_equal(ingest(*state, 0,
                            DOC("{\"id\":\"kz-a\",\"records\":[{\"metal\":\"copper\","
                                "\"period\":\"2099-01\",\"production_tonnes\":\"x\"}]}"),
                            &c),
                     0);
    assert_int_equal(c.rejected[INGEST_FUTURE_PERIOD], 1);
    assert_int_equal(c.rejected[INGEST_INVALID_VALUE], 0);
    memset(&c, 0, sizeof(c));
    /* invalid_value before negative_value, whatever the field order. */
    assert_int_equal(ingest(*state, 0,
                            DOC("{\"id\":\"kz-a\",\"records\":[{\"metal\":\"copper\","
                                "\"period\":\"2025-01\",\"production_tonnes\":-1,"
                                "\"waste_tonnes\":true}]}"),
                            &c),
                     0);
    assert_int_equal(c.rejected[INGEST_INVALID_VALUE], 1);
    assert_int_equal(c.rejected[INGEST_NEGATIVE_VALUE], 0);
}

static void test_merge_restate_redeliver(void **state)
{
    struct ingest_counts c = {0};
    const char *production = DOC("{\"id\":\"kz-a\",\"records\":[{\"metal\":\"copper\","
                                 "\"period\":\"2025-01\",\"production_tonnes\":9800.5}]}");
    const char *emissions = "plant,metal,period,co2_tonnes,waste_tonnes,waste_recycled_tonnes\r\n"
                            "kz-a,copper,2025-01,9300.1,3000,2400\r\n";
    assert_int_equal(ingest(*state, 0, production, &c), 0);
    assert_int_equal(ingest(*state, 1, emissions, &c), 0);
    assert_int_equal(c.accepted, 2);
    assert_int_equal(c.changed, 2);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_PRODUCTION_TONNES) == 9800.5);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_CO2_TONNES) == 9300.1);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_WASTE_RECYCLED_TONNES) == 2400);
    assert_true(isnan(stored(*state, "kz-a", "copper", "2025-01", RECORD_ENERGY_MWH)));

    /* The same documents again change nothing. */
    assert_int_equal(ingest(*state, 0, production, &c), 0);
    assert_int_equal(ingest(*state, 1, emissions, &c), 0);
    assert_int_equal(c.accepted, 4);
    assert_int_equal(c.changed, 2);
    const struct rollup_month *m =
        store_national_month(*state, store_metal_find(*state, "copper"), 2025, 1);
    assert_non_null(m);
    assert_true(fixed_to_double(m->production) == 9800.5);
    assert_int_equal(m->production_records, 1);

    /* A restatement replaces the value and the sums follow. */
    assert_int_equal(ingest(*state, 0,
                            DOC("{\"id\":\"kz-a\",\"records\":[{\"metal\":\"copper\","
                                "\"period\":\"2025-01\",\"production_tonnes\":10000}]}"),
                            &c),
                     0);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_PRODUCTION_TONNES) == 10000);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_CO2_TONNES) == 9300.1);
    assert_true(fixed_to_double(m->production) == 10000);
    assert_true(fixed_to_double(m->co2_matched) == 9300.1);
    assert_true(fixed_to_double(m->production_co2_matched) == 10000);
}

static void test_recycled_judged_after_merge(void **state)
{
    struct ingest_counts c = {0};
    assert_int_equal(ingest(*state, 1,
                            "plant,metal,period,waste_tonnes\nkz-b,zinc,2025-02,100\n", &c),
                     0);
    /* Alone this record is fine; merged with the stored waste it is not. */
    assert_int_equal(ingest(*state, 1,
                            "plant,metal,period,waste_recycled_tonnes\nkz-b,zinc,2025-02,150\n"
                            "kz-b,zinc,2025-02,100\n",
                            &c),
                     0);
    assert_int_equal(c.rejected[INGEST_RECYCLED_EXCEEDS_WASTE], 1);
    assert_int_equal(c.accepted, 2);
    assert_true(stored(*state, "kz-b", "zinc", "2025-02", RECORD_WASTE_RECYCLED_TONNES) == 100);
}

static void test_granularity_both_ways(void **state)
{
    struct ingest_counts c = {0};
    assert_int_equal(ingest(*state, 1,
                            "plant,metal,period,production_tonnes\n"
                            "kz-a,zinc,2025-04-01,10\n"
                            "kz-a,zinc,2025-04-02,11\n"
                            "kz-a,zinc,2025-04,300\n"  /* month after days: conflict */
                            "kz-a,zinc,2025-05,300\n"
                            "kz-a,zinc,2025-05-01,10\n" /* day after month: conflict */
                            "kz-b,zinc,2025-04,300\n"  /* another plant: fine */
                            "kz-a,copper,2025-04,300\n", /* another metal: fine */
                            &c),
                     0);
    assert_int_equal(c.rejected[INGEST_GRANULARITY_CONFLICT], 2);
    assert_int_equal(c.accepted, 5);
    const struct rollup_month *m =
        store_national_month(*state, store_metal_find(*state, "zinc"), 2025, 4);
    assert_true(fixed_to_double(m->production) == 321);
}

static void test_plant_attributes(void **state)
{
    struct ingest_counts c = {0};
    assert_int_equal(
        ingest(*state, 0,
               DOC("{\"id\":\"kz-a\",\"name\":\"Kazzinc \\\"Ridder\\\" \\\\ complex\","
                   "\"region\":\"East Kazakhstan\",\"capacity_tonnes_per_year\":-5,"
                   "\"green_operational\":\"yes\",\"workers_certified\":1800},"
                   "{\"id\":\"kz-zzz\",\"name\":\"not allowed\"}"),
               &c),
        0);
    const struct store_plant *p = store_plant_find(*state, "kz-a");
    assert_non_null(p);
    assert_string_equal(p->name, "Kazzinc \"Ridder\" \\ complex");
    assert_string_equal(p->region, "East Kazakhstan");
    assert_false(p->has_capacity);
    assert_int_equal(p->green_operational, -1);
    assert_true(p->has_workers && p->workers_certified == 1800);
    assert_int_equal(c.rejected[INGEST_INVALID_VALUE], 2);
    assert_null(store_plant_find(*state, "kz-zzz"));
}

static void test_failed_document_applies_nothing(void **state)
{
    static const char *const bad[] = {
        /* truncated */
        ("{\"schema\":\"ingot.feed.v1\",\"plants\":[{\"id\":\"kz-a\",\"records\":[{\"metal\":"
         "\"copper\",\"period\":\"2025-01\",\"production_tonnes\":1}]}"),
        "{\"schema\":\"ingot.feed.v2\",\"plants\":[]}",
        "{\"plants\":[]}",
        "{\"schema\":\"ingot.feed.v1\",\"plants\":{}}",
        "{\"schema\":\"ingot.feed.v1\",\"plants\":[{\"id\":\"kz-a\",\"records\":{}}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ingest_counts c = {0};
        assert_int_equal(ingest(*state, 0, bad[i], &c), -1);
        assert_int_equal(c.accepted, 0);
    }
    struct ingest_counts c = {0};
    assert_int_equal(ingest(*state, 1, "plant,metal\nkz-a,copper\n", &c), -1);
    assert_int_equal(store_plant_count(*state), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_reason_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_reason_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_restate_redeliver, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recycled_judged_after_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_granularity_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plant_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_document_applies_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
