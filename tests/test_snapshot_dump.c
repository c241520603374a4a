/*
 * test_snapshot_dump: what ingotctl prints. A store and its evaluation are
 * encoded with snapshot_encode, dumped as JSON and parsed back with jansson
 * (every value as it was, unset fields left out rather than null, keys in
 * the .proto's order, the same bytes every time), and dumped as text (the
 * national table first, then feeds, plants with record counts, the
 * snapshot's facts). Unsound payloads print nothing and give
 * snapshot_read's reason; snapshot_dump_load reads snapshot files and raw
 * payloads alike and reports framing problems exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evaluation.h"
#include "snapshot.h"
#include "snapshot_dump.h"
#include "snapshot_file.h"
#include "test_config_fixture.h"

#define TAKEN_AT_MS (FIXTURE_NOW * 1000LL + 123)

/* NAN: field absent. */
static const struct fixture_record {
    const char *plant, *metal, *period;
    double v[RECORD_FIELD_COUNT];
} fixture_records[] = {
    {"kz-a", "copper", "2024-12", {1000, 900, 4200, 50, 40}},
    {"kz-a", "copper", "2025-01", {1200.25, NAN, 5000, NAN, NAN}},
    {"kz-a", "zinc", "2025-03", {300.25, 0, NAN, NAN, NAN}},
    {"kz-b", "aluminum", "2025-06-30", {7, NAN, NAN, 3, 2}},
    {"kz-b", "copper", "2025-01", {500, 450, NAN, NAN, NAN}},
};
#define N_RECORDS (sizeof(fixture_records) / sizeof(fixture_records[0]))

static struct feed_stats fixture_stats[] = {
    {.up = true, .last_success = 1752537000.25, .last_duration_seconds = 0.5, .fetches_ok = 3,
     .fetches_error = 1,
     .records = {.accepted = 5, .changed = 5, .rejected = {[INGEST_UNKNOWN_METAL] = 2}}},
    {.up = false, .last_success = 0, .last_duration_seconds = NAN},
};
static const struct snapshot_feed_status fixture_feed_status[] = {
    {"prod", &fixture_stats[0]},
    {"csv", &fixture_stats[1]},
};

/* The fixture: kz-a with every attribute, kz-b with none, kz-c with a name
 * that needs cleaning and no records. */
struct fixture {
    struct store *store;
    struct evaluation *evaluation;
    uint8_t *payload;
    size_t len;
};

static void put_record(struct store *s, const struct fixture_record *fr)
{
    struct period p;
    assert_int_equal(period_parse(fr->period, &p), 0);
    struct store_record r = {.period_key = period_key(&p), .values = rollup_values_none()};
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (!isnan(fr->v[f])) {
            r.values.value[f] = fr->v[f];
        }
    }
    struct store_plant *plant = store_plant_get(s, fr->plant);
    int metal = store_metal_id(s, fr->metal);
    assert_non_null(plant);
    assert_true(metal >= 0);
    assert_int_equal(store_put(s, plant, metal, &r), 1);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->store = store_new();
    assert_non_null(fx->store);
    for (size_t i = 0; i < N_RECORDS; i++)
        put_record(fx->store, &fixture_records[i]);
    struct store_plant *a = store_plant_get(fx->store, "kz-a");
    assert_int_equal(store_plant_set_text(&a->name, "Balkhash copper smelter"), 0);
    assert_int_equal(store_plant_set_text(&a->region, "Karaganda"), 0);
    a->capacity_tonnes_per_year = 250000;
    a->has_capacity = true;
    a->workers_certified = 1200;
    a->has_workers = true;
    a->green_operational = 1;
    struct store_plant *c = store_plant_get(fx->store, "kz-c");
    /* An escape byte for the terminal, and a byte that is not UTF-8. */
    assert_int_equal(store_plant_set_text(&c->name, "Zinc\x1b[2J \xff plant"), 0);
    c->green_operational = 0;

    fx->evaluation = evaluation_run(fx->store, &fixture_config, FIXTURE_NOW);
    assert_non_null(fx->evaluation);
    struct snapshot_source src = {
        .config = &fixture_config, .store = fx->store, .evaluation = fx->evaluation,
        .feeds = fixture_feed_status, .n_feeds = 2, .taken_at_ms = TAKEN_AT_MS,
    };
    assert_int_equal(snapshot_encode(&src, &fx->payload, &fx->len), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    free(fx->payload);
    evaluation_free(fx->evaluation);
    store_free(fx->store);
    free(fx);
    return 0;
}

/* The dump of buf in format, as a string (free it). Fails the test when
 * snapshot_dump does. */
static char *dump(const uint8_t *buf, size_t len, enum snapshot_dump_format format)
{
    char *text = NULL, err[256] = "";
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    int rc = snapshot_dump(buf, len, format, out, err, sizeof(err));
    fclose(out);
    if (rc != 0)
        fail_msg("snapshot_dump: %s", err);
    assert_int_equal(strlen(text), size);
    return text;
}

static json_t *member(const json_t *object, const char *key)
{
    json_t *v = json_object_get(object, key);
    if (!v)
        fail_msg("no key \"%s\"", key);
    return v;
}

static double real(const json_t *object, const char *key)
{
    json_t *v = member(object, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* The element of array whose key is value (a string or an integer). */
static json_t *find(const json_t *array, const char *key, const char *value, json_int_t year)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) {
        json_t *k = json_object_get(v, key);
        if ((value && json_is_string(k) && strcmp(json_string_value(k), value) == 0) ||
            (!value && json_is_integer(k) && json_integer_value(k) == year))
            return v;
    }
    fail_msg("no element with %s %s", key, value ? value : "(year)");
    return NULL;
}

static void test_json_values(void **state)
{
    struct fixture *fx = *state;
    char *text = dump(fx->payload, fx->len, SNAPSHOT_DUMP_JSON);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    if (!root)
        fail_msg("not JSON: line %d: %s", error.line, error.text);

    assert_int_equal(json_integer_value(member(root, "taken_at_unix_ms")), TAKEN_AT_MS);
    assert_string_equal(json_string_value(member(root, "ingot_version")), INGOT_VERSION);
    json_t *metals = member(root, "metals");
    assert_int_equal(json_array_size(metals), 3);
    assert_string_equal(json_string_value(json_array_get(metals, 2)), "aluminum");

    /* Targets as configured, the unset left out. */
    json_t *targets = member(root, "targets");
    assert_int_equal(json_integer_value(member(targets, "baseline_year")), 2023);
    json_t *y2025 = find(member(targets, "years"), "year", NULL, 2025);
    assert_true(real(y2025, "co2_intensity_tonnes_per_tonne") == 0.9);
    json_t *copper = find(member(y2025, "metals"), "metal", "copper", 0);
    assert_true(real(copper, "production_tonnes") == 280000);
    assert_true(real(copper, "growth_ratio") == 0.085);
    json_t *green = find(member(targets, "initiatives"), "name", "green_plants", 0);
    assert_null(json_object_get(green, "baseline"));
    assert_string_equal(json_string_value(member(green, "deadline_date")), "2025-03-31");

    /* Plants by id, every record, absent quantities absent. */
    json_t *plants = member(root, "plants");
    assert_int_equal(json_array_size(plants), 3);
    json_t *a = json_array_get(plants, 0), *b = json_array_get(plants, 1),
           *c = json_array_get(plants, 2);
    assert_string_equal(json_string_value(member(a, "id")), "kz-a");
    assert_string_equal(json_string_value(member(b, "id")), "kz-b");
    assert_string_equal(json_string_value(member(c, "id")), "kz-c");
    assert_string_equal(json_string_value(member(a, "region")), "Karaganda");
    assert_true(real(a, "capacity_tonnes_per_year") == 250000);
    assert_true(json_is_true(member(a, "green_operational")));
    json_t *a_copper = find(member(a, "series"), "metal", "copper", 0);
    json_t *records = member(a_copper, "records");
    assert_int_equal(json_array_size(records), 2);
    json_t *jan = find(records, "period", "2025-01", 0);
    assert_true(real(jan, "production_tonnes") == 1200.25);
    assert_true(real(jan, "energy_mwh") == 5000);
    assert_null(json_object_get(jan, "co2_tonnes")); /* omitted, not null, not 0 */
    assert_null(json_object_get(jan, "waste_tonnes"));
    json_t *zinc = find(member(find(member(a, "series"), "metal", "zinc", 0), "records"),
                        "period", "2025-03", 0);
    assert_true(real(zinc, "co2_tonnes") == 0); /* a reported zero stays */
    assert_true(real(zinc, "production_tonnes") == 300.25);
    assert_null(json_object_get(b, "name"));
    assert_null(json_object_get(b, "green_operational"));
    assert_null(json_object_get(c, "region"));
    assert_true(json_is_false(member(c, "green_operational")));
    assert_int_equal(json_array_size(member(c, "series")), 0); /* a list: [] */
    /* A name that is not UTF-8 still gives valid JSON. */
    assert_string_equal(json_string_value(member(c, "name")), "Zinc\x1b[2J \xEF\xBF\xBD plant");

    /* National figures exactly as evaluated. */
    const struct evaluation *e = fx->evaluation;
    json_t *national = member(root, "national");
    assert_int_equal(json_integer_value(member(national, "evaluated_at_unix_s")), FIXTURE_NOW);
    assert_int_equal(json_integer_value(member(national, "current_year")), 2025);
    json_t *years = member(national, "years");
    assert_int_equal(json_array_size(years), e->n_years);
    for (size_t i = 0; i < e->n_years; i++) {
        const struct eval_year *ey = &e->years[i];
        json_t *y = json_array_get(years, i);
        assert_int_equal(json_integer_value(member(y, "year")), ey->year);
        for (size_t m = 0; m < fixture_config.n_metals; m++) {
            json_t *my = json_array_get(member(y, "metals"), m);
            assert_string_equal(json_string_value(member(my, "metal")), fixture_metals[m]);
            assert_true(real(my, "production_tonnes") == ey->metals[m].production);
            if (isnan(ey->metals[m].target_progress))
                assert_null(json_object_get(my, "target_progress_ratio"));
            else
                assert_true(real(my, "target_progress_ratio") == ey->metals[m].target_progress);
        }
        if (isnan(ey->co2_intensity))
            assert_null(json_object_get(y, "co2_intensity_tonnes_per_tonne"));
        else
            assert_true(real(y, "co2_intensity_tonnes_per_tonne") == ey->co2_intensity);
        if (!isnan(ey->output_vs_baseline))
            assert_true(real(y, "output_vs_baseline") == ey->output_vs_baseline);
    }
    json_t *initiatives = member(national, "initiatives");
    assert_int_equal(json_array_size(initiatives), fixture_config.n_initiatives);
    json_t *capacity = json_array_get(initiatives, 0);
    assert_string_equal(json_string_value(member(capacity, "name")), "smelting_capacity");
    assert_true(real(capacity, "value") == e->initiatives[0].value);
    assert_true(json_is_boolean(member(capacity, "on_track")));

    /* Feeds, with what never happened left out. */
    json_t *feeds = member(root, "feeds");
    assert_int_equal(json_array_size(feeds), 2);
    json_t *prod = json_array_get(feeds, 0), *csv = json_array_get(feeds, 1);
    assert_string_equal(json_string_value(member(prod, "name")), "prod");
    assert_true(json_is_true(member(prod, "up")));
    assert_int_equal(json_integer_value(member(prod, "last_success_unix_ms")), 1752537000250);
    assert_true(real(prod, "last_duration_seconds") == 0.5);
    assert_int_equal(json_integer_value(member(prod, "fetches_error")), 1);
    json_t *rejected = member(prod, "records_rejected");
    assert_int_equal(json_array_size(rejected), INGEST_REASON_COUNT);
    assert_int_equal(
        json_integer_value(member(find(rejected, "reason", "unknown_metal", 0), "records")), 2);
    assert_true(json_is_false(member(csv, "up")));
    assert_null(json_object_get(csv, "last_success_unix_ms"));
    assert_null(json_object_get(csv, "last_duration_seconds"));
    assert_int_equal(json_integer_value(member(csv, "fetches_ok")), 0);

    assert_null(strstr(text, "null"));
    json_decref(root);
    free(text);
}

static void test_json_order_and_stability(void **state)
{
    struct fixture *fx = *state;
    char *text = dump(fx->payload, fx->len, SNAPSHOT_DUMP_JSON);
    /* Top-level keys in field-number order, plants in their place. */
    static const char *const keys[] = {
        "{\n  \"taken_at_unix_ms\": ", "\n  \"ingot_version\": ", "\n  \"ingot_revision\": ",
        "\n  \"metals\": [",         "\n  \"targets\": {",       "\n  \"plants\": [",
        "\n  \"national\": {",       "\n  \"feeds\": [",
    };
    const char *at = text;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *found = strstr(at, keys[i]);
        if (!found)
            fail_msg("key %zu (%s) missing or out of order", i, keys[i]);
        at = found;
    }
    /* Nested keys in field-number order too, and nested with the document. */
    assert_non_null(strstr(text, "\n    {\n      \"id\": \"kz-a\",\n      \"name\": "
                                 "\"Balkhash copper smelter\",\n      \"region\": "));
    assert_non_null(strstr(text, "\"period\": \"2024-12\",\n"
                                 "              \"production_tonnes\": 1000.0,\n"
                                 "              \"co2_tonnes\": 900.0,\n"));
    assert_string_equal(text + strlen(text) - 7, "\n  ]\n}\n");
    /* 17 digits: doubles come back exact. */
    assert_non_null(strstr(text, "\"growth_ratio\": 0.085000000000000006"));

    char *again = dump(fx->payload, fx->len, SNAPSHOT_DUMP_JSON);
    assert_string_equal(text, again);
    free(again);
    free(text);
}

/* Where needle is in text; fails when it is not. */
static size_t position(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (!p)
        fail_msg("text dump lacks \"%s\":\n%s", needle, text);
    return (size_t)(p - text);
}

static void test_text(void **state)
{
    struct fixture *fx = *state;
    char *text = dump(fx->payload, fx->len, SNAPSHOT_DUMP_TEXT);
    /* The national table first, then feeds, plants, the snapshot. */
    assert_int_equal(position(text, "NATIONAL, evaluated at 2025-07-15T00:00:00Z\n"), 0);
    size_t national_2025 = position(text, "\n2025 (current year, target year)\n");
    size_t feeds = position(text, "\nFEEDS (2)\n");
    size_t plants = position(text, "\nPLANTS (3 plants, 5 records)\n");
    size_t snapshot = position(text, "\nSNAPSHOT\n");
    assert_true(position(text, "\n2023 (baseline year)\n") < national_2025);
    assert_true(national_2025 < position(text, "\ninitiatives\n"));
    assert_true(position(text, "\ninitiatives\n") < feeds);
    assert_true(feeds < plants && plants < snapshot);

    /* Production per metal against target, with progress and growth. */
    const struct eval_metal_year *cu = NULL;
    for (size_t i = 0; i < fx->evaluation->n_years; i++)
        if (fx->evaluation->years[i].year == 2025)
            cu = &fx->evaluation->years[i].metals[0];
    assert_non_null(cu);
    char row[160];
    snprintf(row, sizeof(row), "  %-12s %14s %14s %7.1f %%", "copper", "1,700", "280,000",
             cu->target_progress * 100);
    assert_true(position(text, row) > national_2025);
    position(text, "  output vs baseline ");
    position(text, "   target 0.9   global_leader_avg 1.2\n");
    position(text, "   target 85.0 %   global_leader_avg 75.0 %\n");
    position(text, "  smelting_capacity       capacity_increase_ratio ");
    position(text, "2024-09-30");

    /* Feeds with their rejections by reason. */
    position(text, "  prod               yes 2025-07-14T23:50:00.250Z   0.500 s      3      1");
    position(text, "      rejected: unknown_metal 2\n");
    position(text, "  csv                no  -                                -      0      0");

    /* Plants with their counts, not their records; control bytes cleaned. */
    position(text, "  kz-a: Balkhash copper smelter, Karaganda; capacity 250,000 t/year; "
                   "green operational; 1,200 workers certified\n"
                   "    copper              2 records  2024-12..2025-01\n"
                   "    zinc                1 record   2025-03\n");
    position(text, "  kz-b\n    aluminum            1 record   2025-06-30\n");
    position(text, "  kz-c: Zinc?[2J \xff plant; not green operational\n");
    assert_null(strstr(text, "1200.25"));
    assert_null(strstr(text, "\x1b"));

    position(text, "  taken at       2025-07-15T00:00:00.123Z\n");
    position(text, "  written by     ingot " INGOT_VERSION " (revision ");
    position(text, "  metals         copper, zinc, aluminum\n");
    free(text);
}

/* A snapshot taken without an evaluation or feeds still dumps. */
static void test_bare_snapshot(void **state)
{
    struct fixture *fx = *state;
    struct snapshot_source src = {
        .config = &fixture_config, .store = fx->store, .taken_at_ms = TAKEN_AT_MS,
    };
    uint8_t *buf;
    size_t len;
    assert_int_equal(snapshot_encode(&src, &buf, &len), 0);
    char *text = dump(buf, len, SNAPSHOT_DUMP_TEXT);
    assert_int_equal(position(text, "NATIONAL\n  none: "), 0);
    position(text, "\nFEEDS (0)\n\nPLANTS (3 plants, 5 records)\n");
    free(text);
    text = dump(buf, len, SNAPSHOT_DUMP_JSON);
    assert_null(strstr(text, "\"national\""));
    position(text, "\"feeds\": []\n}\n");
    free(text);
    free(buf);
}

/* An unsound payload prints nothing and says what snapshot_read says. */
static void test_refused(void **state)
{
    struct fixture *fx = *state;
    const struct feed_sink sink = {0};
    struct {
        const uint8_t *buf;
        size_t len;
    } cases[] = {
        {fx->payload, fx->len - 1},
        {(const uint8_t *)"this is not a snapshot", 22},
        {(const uint8_t *)"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[256], got[256], verified[256];
        assert_int_equal(snapshot_read(cases[i].buf, cases[i].len, &sink, NULL, want,
                                       sizeof(want)),
                         -1);
        assert_int_equal(snapshot_dump_verify(cases[i].buf, cases[i].len, NULL, verified,
                                              sizeof(verified)),
                         -1);
        assert_string_equal(verified, want);
        for (int format = SNAPSHOT_DUMP_TEXT; format <= SNAPSHOT_DUMP_JSON; format++) {
            char *text = NULL;
            size_t size = 0;
            FILE *out = open_memstream(&text, &size);
            assert_int_equal(snapshot_dump(cases[i].buf, cases[i].len, format, out, got,
                                           sizeof(got)),
                             -1);
            fclose(out);
            assert_string_equal(got, want);
            assert_int_equal(size, 0);
            free(text);
        }
    }
    struct snapshot_info info;
    char err[256];
    assert_int_equal(snapshot_dump_verify(fx->payload, fx->len, &info, err, sizeof(err)), 0);
    assert_int_equal(info.plants, 3);
    assert_int_equal(info.records, N_RECORDS);
    assert_int_equal(info.taken_at_ms, TAKEN_AT_MS);
}

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Snapshot files and raw payloads load alike; framing problems are
 * snapshot_file_read's exact words. */
static void test_load(void **state)
{
    struct fixture *fx = *state;
    char dir[] = "/tmp/test_snapshot_dump.XXXXXX", path[256], framed[256], err[256];
    assert_non_null(mkdtemp(dir));
    uint8_t *payload;
    size_t len;

    snprintf(path, sizeof(path), "%s/raw.pb", dir);
    write_file(path, fx->payload, fx->len);
    assert_int_equal(snapshot_dump_load(path, &payload, &len, err, sizeof(err)), 0);
    assert_int_equal(len, fx->len);
    assert_memory_equal(payload, fx->payload, len);
    free(payload);

    assert_int_equal(snapshot_file_write(dir, TAKEN_AT_MS, fx->payload, fx->len, 3, err,
                                         sizeof(err)),
                     0);
    snprintf(framed, sizeof(framed), "%s/snapshot-20250715T000000.123Z.pb", dir);
    assert_int_equal(snapshot_dump_load(framed, &payload, &len, err, sizeof(err)), 0);
    assert_int_equal(len, fx->len);
    assert_memory_equal(payload, fx->payload, len);
    free(payload);

    /* A flipped bit in the framed payload. */
    FILE *f = fopen(framed, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    int byte = fgetc(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    fputc(byte ^ 4, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(snapshot_dump_load(framed, &payload, &len, err, sizeof(err)), -1);
    assert_null(payload);
    assert_string_equal(err, "checksum mismatch");
    assert_int_equal(truncate(framed, 30), 0);
    assert_int_equal(snapshot_dump_load(framed, &payload, &len, err, sizeof(err)), -1);
    snprintf(path, sizeof(path), "truncated: 10 of %zu payload bytes", fx->len);
    assert_string_equal(err, path);
    assert_int_equal(truncate(framed, 0), 0);
    assert_int_equal(snapshot_dump_load(framed, &payload, &len, err, sizeof(err)), -1);
    assert_string_equal(err, "empty file");
    assert_int_equal(unlink(framed), 0);
    assert_int_equal(snapshot_dump_load(framed, &payload, &len, err, sizeof(err)), -1);
    assert_string_equal(err, "cannot open: No such file or directory");

    snprintf(path, sizeof(path), "%s/raw.pb", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);

    assert_true(snapshot_dump_is_url("http://127.0.0.1:8467/snapshot"));
    assert_true(snapshot_dump_is_url("HTTPS://example.com/snapshot"));
    assert_false(snapshot_dump_is_url("file:///var/lib/ingot/x.pb"));
    assert_false(snapshot_dump_is_url("http.pb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_order_and_stability, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
