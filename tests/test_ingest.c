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

/* What a listener hears: each record's index and fate in document order
 * (JSON across plants, CSV data rows), the plant entries the feed may
 * write, and nothing from a document that fails. */
struct heard {
    size_t n;
    size_t index[8];
    enum ingest_reason reason[8];
    size_t plants;
};

static void heard_record(void *arg, size_t index, enum ingest_reason reason)
{
    struct heard *h = arg;
    assert_true(h->n < 8);
    h->index[h->n] = index;
    h->reason[h->n++] = reason;
}

static void heard_plant(void *arg, const char *plant)
{
    struct heard *h = arg;
    assert_string_equal(plant, "kz-a");
    h->plants++;
}

static int ingest_heard(struct store *store, int feed, const char *doc, struct heard *h)
{
    struct ingest_listener listener = {.record = heard_record, .plant = heard_plant, .arg = h};
    struct ingest_counts c = {0};
    char err[256];
    *h = (struct heard){0};
    return ingest_document_with_listener(store, &fixture_config, &fixture_feeds[feed],
                                         FIXTURE_NOW, doc, strlen(doc), &listener, &c, err,
                                         sizeof(err));
}

static void test_listener(void **state)
{
    struct heard h;
    assert_int_equal(
        ingest_heard(*state, 0,
               DOC("{\"id\":\"kz-a\",\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\"},"
                   "{\"metal\":\"tin\",\"period\":\"2025-01\"}]},"
                   "{\"id\":\"kz-zzz\",\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\"}]},"
                   "{\"id\":\"kz-a\",\"records\":[{\"metal\":\"zinc\",\"period\":\"2025-01\","
                   "\"production_tonnes\":-1}]}"),
               &h),
        0);
    assert_int_equal(h.n, 4);
    assert_int_equal(h.plants, 2); /* kz-a twice; kz-zzz is not the feed's */
    static const enum ingest_reason json[] = {INGEST_REASON_COUNT, INGEST_UNKNOWN_METAL,
                                              INGEST_PLANT_NOT_ALLOWED, INGEST_NEGATIVE_VALUE};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h.index[i], i);
        assert_int_equal(h.reason[i], json[i]);
    }
    assert_int_equal(ingest_heard(*state, 1,
                            "plant,metal,period\r\n\r\nkz-a,copper,2025-02\r\n"
                            "kz-a,copper,2025-99\r\n\"kz-a\",zinc,2025-02,x\r\n",
                            &h),
                     0);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.plants, 0);
    assert_int_equal(h.reason[0], INGEST_REASON_COUNT);
    assert_int_equal(h.reason[1], INGEST_INVALID_PERIOD);
    assert_int_equal(h.reason[2], INGEST_INVALID_VALUE);
    assert_int_equal(h.index[2], 2);
    assert_int_equal(ingest_heard(*state, 0, "{\"schema\":\"ingot.feed.v1\",\"plants\":[", &h), -1);
    assert_int_equal(h.n + h.plants, 0);
}

/* ---- plants' own formats, timestamps, truncated documents ---- */

static struct config_mapping json_mapping = {
    .records = "/rows",
    .delimiter = ',',
    .fields = {
        [MAPPING_PLANT] = {MAPPING_POINTER, "/site", NULL, 1},
        [MAPPING_METAL] = {MAPPING_VALUE, "zinc", NULL, 1},
        [MAPPING_PERIOD] = {MAPPING_POINTER, "/ts", NULL, 1},
        [MAPPING_QUANTITY + RECORD_PRODUCTION_TONNES] = {MAPPING_POINTER, "/out_kt", "kt", 1000},
        [MAPPING_QUANTITY + RECORD_CO2_TONNES] = {MAPPING_POINTER, "/co2", NULL, 1},
        [MAPPING_QUANTITY + RECORD_ENERGY_MWH] = {MAPPING_POINTER, "/gwh", "GWh", 1000},
    },
};
static struct config_mapping csv_mapping = {
    .delimiter = ';',
    .decimal_comma = true,
    .fields = {
        [MAPPING_PLANT] = {MAPPING_VALUE, "kz-b", NULL, 1},
        [MAPPING_METAL] = {MAPPING_COLUMN, "Metal", NULL, 1},
        [MAPPING_PERIOD] = {MAPPING_COLUMN, "Month", NULL, 1},
        [MAPPING_QUANTITY + RECORD_PRODUCTION_TONNES] = {MAPPING_COLUMN, "Output, t", NULL, 1},
        [MAPPING_QUANTITY + RECORD_WASTE_TONNES] = {MAPPING_COLUMN, "Waste kg", "kg", 0.001},
        [MAPPING_QUANTITY + RECORD_WASTE_RECYCLED_TONNES] = {MAPPING_COLUMN, "Recycled kg", "kg",
                                                             0.001},
    },
};
static struct config_feed mapped_feeds[] = {
    {.name = "plant_json", .url = "file:///dev/null", .format = FEED_FORMAT_JSON,
     .interval_ms = 60000, .timeout_ms = 1000, .stale_after_ms = 180000,
     .max_body_bytes = 1 << 20, .plants = fixture_plants, .n_plants = 2,
     .mapping = &json_mapping},
    {.name = "plant_csv", .url = "file:///dev/null", .format = FEED_FORMAT_CSV,
     .interval_ms = 60000, .timeout_ms = 1000, .stale_after_ms = 180000,
     .max_body_bytes = 1 << 20, .plants = fixture_plants, .n_plants = 2,
     .mapping = &csv_mapping},
};

static int ingest_mapped(struct store *store, int feed, const char *doc, size_t len,
                         struct ingest_counts *counts)
{
    char err[256] = "";
    return ingest_document(store, &fixture_config, &mapped_feeds[feed], FIXTURE_NOW, doc, len,
                           counts, err, sizeof(err));
}

/* A feed with a JSON mapping is read through it: units, quoted numbers,
 * timestamps as days, and each bad record rejected with its reason. */
static void test_mapped_json_feed(void **state)
{
    const char *doc =
        "{\"rows\": [\n"
        " {\"site\": \"kz-a\", \"ts\": \"2025-03-14T23:30:00-05:00\", \"out_kt\": \"1.5\","
        "  \"co2\": 1400, \"gwh\": 0.25},\n"
        " {\"site\": \"kz-b\", \"ts\": \"2025-03\", \"out_kt\": \"n/a\"},\n"
        " {\"site\": \"kz-b\", \"ts\": \"2025-03\", \"co2\": \"NaN\"},\n"
        " {\"site\": \"kz-b\", \"ts\": \"2025-04\", \"out_kt\": -0, \"co2\": \"\"},\n"
        " {\"site\": \"kz-a\", \"ts\": \"2025-03-14T25:00:00Z\"},\n"
        " {\"site\": \"kz-zzz\", \"ts\": \"2025-03\"},\n"
        " {\"site\": 7, \"ts\": \"2025-03\"}]}";
    struct ingest_counts c = {0};
    assert_int_equal(ingest_mapped(*state, 0, doc, strlen(doc), &c), 0);
    assert_int_equal(c.accepted, 2);
    assert_int_equal(c.rejected[INGEST_INVALID_VALUE], 2);
    assert_int_equal(c.rejected[INGEST_INVALID_PERIOD], 1);
    assert_int_equal(c.rejected[INGEST_PLANT_NOT_ALLOWED], 1);
    assert_int_equal(c.rejected[INGEST_INVALID_PLANT], 1);
    /* The day as written (2025-03-14), not UTC's (2025-03-15). */
    assert_true(stored(*state, "kz-a", "zinc", "2025-03-14", RECORD_PRODUCTION_TONNES) == 1500);
    assert_true(stored(*state, "kz-a", "zinc", "2025-03-14", RECORD_CO2_TONNES) == 1400);
    assert_true(stored(*state, "kz-a", "zinc", "2025-03-14", RECORD_ENERGY_MWH) == 250);
    assert_true(isnan(stored(*state, "kz-a", "zinc", "2025-03-15", RECORD_PRODUCTION_TONNES)));
    /* -0 is stored as 0, not rejected as negative. */
    double zero = stored(*state, "kz-b", "zinc", "2025-04", RECORD_PRODUCTION_TONNES);
    assert_true(zero == 0 && !signbit(zero));
    assert_true(isnan(stored(*state, "kz-b", "zinc", "2025-04", RECORD_CO2_TONNES)));
}

/* A feed with a CSV mapping: ';', decimal commas, a plant constant, kg. */
static void test_mapped_csv_feed(void **state)
{
    const char *doc = "Month;Metal;Output, t;Waste kg;Recycled kg\n"
                      "2025-02;copper;1.234,5;2.000;1.500\n"
                      "2025-02-03T00:00:00Z;zinc;7;;\n"
                      "2025-05;copper;1.5;;\n"
                      "2025-06;copper;;1.000;2.000\n";
    struct ingest_counts c = {0};
    assert_int_equal(ingest_mapped(*state, 1, doc, strlen(doc), &c), 0);
    assert_int_equal(c.accepted, 2);
    assert_int_equal(c.rejected[INGEST_INVALID_VALUE], 1);
    assert_int_equal(c.rejected[INGEST_RECYCLED_EXCEEDS_WASTE], 1);
    assert_true(stored(*state, "kz-b", "copper", "2025-02", RECORD_PRODUCTION_TONNES) == 1234.5);
    assert_true(stored(*state, "kz-b", "copper", "2025-02", RECORD_WASTE_TONNES) == 2);
    assert_true(stored(*state, "kz-b", "copper", "2025-02", RECORD_WASTE_RECYCLED_TONNES) == 1.5);
    assert_true(stored(*state, "kz-b", "zinc", "2025-02-03", RECORD_PRODUCTION_TONNES) == 7);
    /* A missing mapped column fails the document: nothing applied. */
    struct ingest_counts none = {0};
    const char *bad = "Month;Metal;Output, t;Waste kg\n2025-01;copper;1;2\n";
    assert_int_equal(ingest_mapped(*state, 1, bad, strlen(bad), &none), -1);
    assert_int_equal(none.accepted, 0);
    assert_true(isnan(stored(*state, "kz-b", "copper", "2025-01", RECORD_PRODUCTION_TONNES)));
}

/* Timestamps are periods in the native formats too. */
static void test_timestamp_periods(void **state)
{
    struct ingest_counts c = {0};
    assert_int_equal(ingest(*state, 0,
                            DOC("{\"id\":\"kz-a\",\"records\":["
                                "{\"metal\":\"copper\",\"period\":\"2025-03-15T00:30:00+05:00\","
                                "\"production_tonnes\":1},"
                                "{\"metal\":\"copper\",\"period\":\"2025-07-16T00:30:00+05:00\","
                                "\"production_tonnes\":1},"
                                "{\"metal\":\"copper\",\"period\":\"2025-03\","
                                "\"production_tonnes\":1}]}"),
                            &c),
                     0);
    assert_int_equal(c.accepted, 1);
    assert_int_equal(c.rejected[INGEST_FUTURE_PERIOD], 1);
    assert_int_equal(c.rejected[INGEST_GRANULARITY_CONFLICT], 1); /* a day of 2025-03 is stored */
    assert_true(stored(*state, "kz-a", "copper", "2025-03-15", RECORD_PRODUCTION_TONNES) == 1);
    assert_int_equal(ingest(*state, 1,
                            "plant,metal,period,production_tonnes\n"
                            "kz-b,zinc,2025-03-14T08:00:00Z,4\n",
                            &c),
                     0);
    assert_true(stored(*state, "kz-b", "zinc", "2025-03-14", RECORD_PRODUCTION_TONNES) == 4);
}

static bool counted_nothing(const struct ingest_counts *c)
{
    uint64_t n = c->accepted + c->changed;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        n += c->rejected[r];
    return n == 0;
}

/* A document cut at any byte fails whole: nothing counted, nothing stored,
 * and what was stored before stays. */
static void test_every_truncation_applies_nothing(void **state)
{
    const char *native =
        DOC("{\"id\":\"kz-a\",\"name\":\"A\",\"records\":[{\"metal\":\"copper\","
            "\"period\":\"2025-01\",\"production_tonnes\":9800.5,\"co2_tonnes\":12}]},\n"
            "{\"id\":\"kz-b\",\"records\":[{\"metal\":\"zinc\",\"period\":\"2025-02\"}]}");
    const char *mapped = "{\"rows\": [{\"site\": \"kz-a\", \"ts\": \"2025-01\", \"out_kt\": "
                         "\"9.8\"},\n {\"site\": \"kz-b\", \"ts\": \"2025-02\", \"co2\": 1}]}";
    struct ingest_counts c = {0};
    assert_int_equal(ingest(*state, 1, "plant,metal,period,energy_mwh\nkz-a,tin,2025-01,5\n"
                                       "kz-a,copper,2025-01,5\n", &c), 0);
    assert_int_equal(c.accepted, 1);
    for (size_t k = 0; k < strlen(native); k++) {
        c = (struct ingest_counts){0};
        char err[256] = "";
        assert_int_equal(ingest_document(*state, &fixture_config, &fixture_feeds[0], FIXTURE_NOW,
                                         native, k, &c, err, sizeof(err)),
                         -1);
        assert_true(err[0] != '\0');
        assert_true(counted_nothing(&c));
    }
    for (size_t k = 0; k < strlen(mapped); k++) {
        c = (struct ingest_counts){0};
        assert_int_equal(ingest_mapped(*state, 0, mapped, k, &c), -1);
        assert_true(counted_nothing(&c));
    }
    assert_int_equal(store_plant_count(*state), 1);
    assert_true(stored(*state, "kz-a", "copper", "2025-01", RECORD_ENERGY_MWH) == 5);
    assert_true(isnan(stored(*state, "kz-a", "copper", "2025-01", RECORD_PRODUCTION_TONNES)));
    assert_null(store_plant_find(*state, "kz-a")->name);
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
        cmocka_unit_test_setup_teardown(test_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapped_json_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mapped_csv_feed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_periods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_applies_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
