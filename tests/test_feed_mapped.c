/*
 * test_feed_mapped: plants' own formats. Mapped JSON (feed_mapped): pointer
 * resolution, value forms, units, the records pointer's failures, duplicate
 * keys, syntax errors at every truncation, deep nesting. Mapped CSV
 * (feed_csv_parse_mapped): delimiters, decimal commas, constants, columns.
 * And the README's three plant exports: its code blocks are exactly the
 * files of conf/examples/, and each loads through its config into the
 * records the README states.
 */
#include "feed_recorder.h"

#include <math.h>
#include <stdio.h>

#include "feed_csv.h"
#include "feed_mapped.h"
#include "ingest.h"
#include "period.h"
#include "store.h"

/* 2025-07-15T00:00:00Z, as the other tests' fixture. */
#define NOW 1752537600

#define QUANTITY(f) (MAPPING_QUANTITY + (f))

/* A mapping with every field unmapped and every scale 1. */
static struct config_mapping blank_mapping(const char *records)
{
    struct config_mapping m = {.records = (char *)records, .delimiter = ','};
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
        m.fields[slot] = (struct config_mapping_field){.source = MAPPING_ABSENT, .scale = 1};
    return m;
}

static void map_field(struct config_mapping *m, int slot, enum mapping_source source,
                      const char *text, double scale)
{
    m->fields[slot] = (struct config_mapping_field){
        .source = source, .text = (char *)text, .scale = scale,
    };
}

/* Parses doc as mapped JSON, which must be accepted with n records. */
static void json_ok(struct recorder *r, const struct config_mapping *m, const char *doc, size_t n)
{
    char err[256] = "";
    assert_int_equal(feed_mapped_json_parse(doc, strlen(doc), m, &r->sink, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r->count, n);
}

/* Parses doc as mapped JSON, which must fail whole with err_want. */
static void json_fails(struct recorder *r, const struct config_mapping *m, const char *doc,
                       const char *err_want)
{
    char err[256] = "";
    size_t before = r->count;
    assert_int_equal(feed_mapped_json_parse(doc, strlen(doc), m, &r->sink, err, sizeof(err)),
                     -1);
    assert_string_equal(err, err_want);
    assert_int_equal(r->count, before);
}

static void csv_ok(struct recorder *r, const struct config_mapping *m, const char *doc, size_t n)
{
    char err[256] = "";
    assert_int_equal(feed_csv_parse_mapped(doc, strlen(doc), m, &r->sink, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r->count, n);
}

static void csv_fails(struct recorder *r, const struct config_mapping *m, const char *doc,
                      const char *err_want)
{
    char err[256] = "";
    assert_int_equal(feed_csv_parse_mapped(doc, strlen(doc), m, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, err_want);
    assert_int_equal(r->count, 0);
}

/* A PRESENT value close to want (scaled values may be a rounding off). */
static void assert_near(struct feed_value got, double want)
{
    assert_int_equal(got.state, FEED_VALUE_PRESENT);
    assert_true(fabs(got.value - want) <= 1e-9 * fmax(1, fabs(want)));
}

/* ---- mapped JSON ------------------------------------------------------- */

static void test_json_nested_pointers_and_units(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("/report/rows");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "/asset/id", 1);
    map_field(&m, MAPPING_METAL, MAPPING_VALUE, "copper", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_POINTER, "/month", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/output/kt", 1000);
    map_field(&m, QUANTITY(RECORD_ENERGY_MWH), MAPPING_POINTER, "/energy/gwh", 1000);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_POINTER, "/co2_kg", 0.001);
    json_ok(r, &m,
            "{\"report\": {\"meta\": {\"rows\": 5},\n"
            "  \"rows\": [\n"
            "    {\"asset\": {\"id\": \"kz-a\"}, \"month\": \"2025-01\",\n"
            "     \"output\": {\"kt\": \"9.8005\"}, \"energy\": {\"gwh\": 45.25},\n"
            "     \"co2_kg\": 1500},\n"
            "    {\"month\": \"2025-02\", \"asset\": {\"id\": \"kz-b\"}, \"output\": {\"t\": 1},\n"
            "     \"energy\": 7}]},\n"
            " \"rows\": \"not these\"}\n",
            2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_text(rec->plant, "kz-a");
    assert_text(rec->metal, "copper");
    assert_text(rec->period, "2025-01");
    assert_near(rec->fields[RECORD_PRODUCTION_TONNES], 9800.5);
    assert_near(rec->fields[RECORD_ENERGY_MWH], 45250);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 1.5);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0);
    assert_int_equal(rec->line, 3);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_text(rec->plant, "kz-b");
    assert_text(rec->period, "2025-02");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0); /* no /output/kt */
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0); /* a step into 7 */
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_ABSENT, 0);
    assert_int_equal(rec->line, 6);
}

/* Every form a quantity may take, one record each, through "/v". */
static void test_json_quantity_forms(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *json; /* the value of "v", or NULL for a record without it */
        enum feed_value_state state;
        double value;
    } cases[] = {
        {"12", FEED_VALUE_PRESENT, 12},
        {"-1.5e2", FEED_VALUE_PRESENT, -150},
        {"-0", FEED_VALUE_PRESENT, 0}, /* negative zero: stored as 0 by ingest */
        {"1e-400", FEED_VALUE_PRESENT, 0},
        {"12345678901234567890", FEED_VALUE_PRESENT, 12345678901234567890.0},
        {"\"9.8005\"", FEED_VALUE_PRESENT, 9.8005},
        {"\"-3\"", FEED_VALUE_PRESENT, -3},
        {"\"1E3\"", FEED_VALUE_PRESENT, 1000},
        {"\"007\"", FEED_VALUE_PRESENT, 7},
        {"null", FEED_VALUE_ABSENT, 0},
        {"\"\"", FEED_VALUE_ABSENT, 0},
        {NULL, FEED_VALUE_ABSENT, 0},
        {"\"n/a\"", FEED_VALUE_INVALID, 0},
        {"\"NaN\"", FEED_VALUE_INVALID, 0},
        {"\"Infinity\"", FEED_VALUE_INVALID, 0},
        {"\"1,5\"", FEED_VALUE_INVALID, 0},
        {"\" 12\"", FEED_VALUE_INVALID, 0},
        {"\"12 t\"", FEED_VALUE_INVALID, 0},
        {"\"1e400\"", FEED_VALUE_INVALID, 0},
        {"\"0x10\"", FEED_VALUE_INVALID, 0},
        {"\"12\\u0000\"", FEED_VALUE_INVALID, 0},
        {"true", FEED_VALUE_INVALID, 0},
        {"false", FEED_VALUE_INVALID, 0},
        {"{}", FEED_VALUE_INVALID, 0},
        {"[12]", FEED_VALUE_INVALID, 0},
        {"{\"v\": 1}", FEED_VALUE_INVALID, 0},
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    char doc[2048] = "[";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(doc);
        if (cases[i].json)
            snprintf(doc + used, sizeof(doc) - used, "%s\n{\"v\": %s}", i ? "," : "",
                     cases[i].json);
        else
            snprintf(doc + used, sizeof(doc) - used, "%s\n{\"w\": 1}", i ? "," : "");
    }
    strcat(doc, "]");
    struct config_mapping m = blank_mapping("");
    map_field(&m, QUANTITY(RECORD_WASTE_TONNES), MAPPING_POINTER, "/v", 1);
    json_ok(r, &m, doc, n);
    for (size_t i = 0; i < n; i++) {
        const struct feed_raw_record *rec = recorded_record(r, i);
        assert_int_equal(rec->line, i + 2);
        assert_value(rec->fields[RECORD_WASTE_TONNES], cases[i].state, cases[i].value);
        assert_null(rec->plant);
    }
    assert_true(signbit(recorded_record(r, 2)->fields[RECORD_WASTE_TONNES].value));
}

/* Units multiply numbers and numeric strings alike; overflow is invalid. */
static void test_json_units(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("");
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/mt", 1e6);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_POINTER, "/kg", 0.001);
    map_field(&m, QUANTITY(RECORD_ENERGY_MWH), MAPPING_POINTER, "/kwh", 0.001);
    json_ok(r, &m,
            "[{\"mt\": \"0.28\", \"kg\": 398200, \"kwh\": \"210500\"},"
            " {\"mt\": 1e303, \"kg\": \"1\", \"kwh\": -2000},"
            " {\"mt\": null, \"kg\": \"x\", \"kwh\": true}]",
            3);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_near(rec->fields[RECORD_PRODUCTION_TONNES], 280000);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 398.2); /* exact: / 1000 */
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 210.5);
    rec = recorded_record(r, 1);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0); /* 1e309 */
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0.001);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, -2);
    rec = recorded_record(r, 2);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_INVALID, 0);
}

static void test_json_text_fields(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("/rows");
    map_field(&m, MAPPING_PLANT, MAPPING_VALUE, "kz-ridder-zn", 1);
    map_field(&m, MAPPING_METAL, MAPPING_POINTER, "/metal", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_POINTER, "/ts", 1);
    json_ok(r, &m,
            "{\"rows\": [{\"metal\": \"zinc\", \"ts\": \"2025-03-14T00:00:00+05:00\"},"
            " {\"metal\": 7, \"ts\": null},"
            " {\"metal\": \"zi\\u0000nc\", \"ts\": {\"d\": \"2025-03-14\"}},"
            " {\"metal\": [\"zinc\"], \"ts\": true},"
            " {\"metal\": \"\", \"ts\": \"\"},"
            " {\"metal\": \"Zn \\u00e9\"}]}",
            6);
    assert_text(recorded_record(r, 0)->plant, "kz-ridder-zn");
    assert_text(recorded_record(r, 0)->metal, "zinc");
    assert_text(recorded_record(r, 0)->period, "2025-03-14T00:00:00+05:00");
    for (size_t i = 1; i <= 3; i++) {
        assert_text(recorded_record(r, i)->plant, "kz-ridder-zn");
        assert_null(recorded_record(r, i)->metal);
        assert_null(recorded_record(r, i)->period);
    }
    assert_text(recorded_record(r, 4)->metal, "");
    assert_text(recorded_record(r, 4)->period, "");
    assert_text(recorded_record(r, 5)->metal, "Zn \xc3\xa9");
    assert_null(recorded_record(r, 5)->period);
}

/* RFC 6901 resolution inside a record: indices, escapes, keys that look
 * like indices, steps into scalars, "" and "/". */
static void test_json_pointer_resolution(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("/data/1/rows");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "/a~1b", 1);
    map_field(&m, MAPPING_METAL, MAPPING_POINTER, "/m~0n", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_POINTER, "/", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/vals/0", 1);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_POINTER, "/vals/2/x", 1);
    map_field(&m, QUANTITY(RECORD_ENERGY_MWH), MAPPING_POINTER, "/obj/0", 1);
    map_field(&m, QUANTITY(RECORD_WASTE_TONNES), MAPPING_POINTER, "/vals/01", 1);
    map_field(&m, QUANTITY(RECORD_WASTE_RECYCLED_TONNES), MAPPING_POINTER, "/vals/-", 1);
    json_ok(r, &m,
            "{\"data\": [{\"rows\": [{\"a/b\": \"wrong\"}]},\n"
            "  {\"rows\": [\n"
            "    {\"a/b\": \"kz-a\", \"m~n\": \"zinc\", \"\": \"2025-01\",\n"
            "     \"vals\": [1, 2, {\"x\": 3}], \"obj\": {\"0\": 4}},\n"
            "    {\"a~1b\": \"no\", \"m~0n\": \"no\", \"vals\": [[5], 6, 7], \"obj\": [8]},\n"
            "    {\"vals\": \"123\", \"obj\": null}]},\n"
            "  {\"rows\": [{\"a/b\": \"wrong too\"}]}]}",
            3);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_text(rec->plant, "kz-a");
    assert_text(rec->metal, "zinc");
    assert_text(rec->period, "2025-01");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 1);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 3);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 4); /* the member "0" */
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0);  /* "01" no index */
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_ABSENT, 0); /* "-" */
    assert_int_equal(rec->line, 3);
    rec = recorded_record(r, 1);
    assert_null(rec->plant); /* "a~1b" is not the member "a/b" */
    assert_null(rec->metal);
    assert_null(rec->period);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0); /* [5] */
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_ABSENT, 0);  /* a step into 7 */
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 8); /* element 0 */
    assert_int_equal(rec->line, 5);
    rec = recorded_record(r, 2);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0); /* into "123" */
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0);        /* into null */
}

/* A pointer "" names the record itself: an object, the wrong type. */
static void test_json_pointer_to_the_record(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "", 1);
    json_ok(r, &m, "[{\"x\": 1}, {}]", 2);
    assert_null(recorded_record(r, 0)->plant);
    assert_value(recorded_record(r, 0)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(recorded_record(r, 1)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
}

static void test_json_records_pointer_failures(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *records;
        const char *doc;
        const char *err;
    } cases[] = {
        {"/data/rows", "{\"data\": {\"rowz\": []}}",
         "records \"/data/rows\" does not resolve: \"/data\" is an object without \"rows\""},
        {"/data/rows", "{\"data\": [[]]}",
         "records \"/data/rows\" does not resolve: \"/data\" is an array without \"rows\""},
        {"/data/rows", "{\"data\": \"x\"}",
         "records \"/data/rows\" does not resolve: \"/data\" is a string, not an object or "
         "array"},
        {"/data/rows", "{\"data\": null}",
         "records \"/data/rows\" does not resolve: \"/data\" is null, not an object or array"},
        {"/data", "{\"x\": 1}",
         "records \"/data\" does not resolve: the document is an object without \"data\""},
        {"/data", "\"text\"",
         "records \"/data\" does not resolve: the document is a string, not an object or "
         "array"},
        {"/data", "[]", "records \"/data\" does not resolve: the document is an array without "
                        "\"data\""},
        {"/rows/-", "{\"rows\": [[{}]]}",
         "records \"/rows/-\" does not resolve: \"/rows\" is an array without \"-\""},
        {"/rows/1", "{\"rows\": [[{}]]}",
         "records \"/rows/1\" does not resolve: \"/rows\" is an array without \"1\""},
        {"/rows/01", "{\"rows\": [[], [{}]]}",
         "records \"/rows/01\" does not resolve: \"/rows\" is an array without \"01\""},
        {"/a~1b", "{\"a~1b\": []}",
         "records \"/a~1b\" does not resolve: the document is an object without \"a/b\""},
        {"/rows", "{\"rows\": {}}", "records \"/rows\" is an object, not an array"},
        {"/rows", "{\"rows\": null}", "records \"/rows\" is null, not an array"},
        {"/rows", "{\"rows\": \"[]\"}", "records \"/rows\" is a string, not an array"},
        {"", "{}", "records \"\" is an object, not an array"},
        {"", "12", "records \"\" is a number, not an array"},
        {"", "[[1], {}]", "records[0] is an array, not an object"},
        /* The first element that is not an object is named, whatever follows. */
        {"", "[{}, 5, \"x\"]", "records[1] is a number, not an object"},
        {"", "[{}, {}, null]", "records[2] is null, not an object"},
        {"/r", "{\"r\": [{}, true]}", "records[1] is a boolean, not an object"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config_mapping m = blank_mapping(cases[i].records);
        map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/v", 1);
        json_fails(r, &m, cases[i].doc, cases[i].err);
    }
    /* Sound ones: an empty array, an index, the root. */
    struct config_mapping m = blank_mapping("/rows/1");
    json_ok(r, &m, "{\"rows\": [[{}, {}], [{}]]}", 1);
    m = blank_mapping("");
    json_ok(r, &m, "[]", 1);
    json_ok(r, &m, " [ {} ] ", 2);
}

/* A key the mapping reads twice in one object fails the document; other
 * repeated keys are not looked at. */
static void test_json_duplicate_keys(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("/rows");
    map_field(&m, MAPPING_PERIOD, MAPPING_POINTER, "/out/month", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/out/kt", 1);
    json_fails(r, &m, "{\"rows\": [], \"rows\": []}", "line 1, column 19: duplicate key \"rows\"");
    json_fails(r, &m, "{\"rows\": [{\"out\": {\"kt\": 1, \"kt\": 2}}]}",
               "line 1, column 32: duplicate key \"kt\"");
    json_fails(r, &m, "{\"rows\": [{\"out\": {\"kt\": 1},\n \"out\": {\"month\": \"x\"}}]}",
               "line 2, column 6: duplicate key \"out\"");
    /* Elsewhere, and in different objects, repeats are fine. */
    json_ok(r, &m,
            "{\"meta\": {\"rows\": 1, \"rows\": 2}, \"rows\": [{\"x\": 1, \"x\": 2,"
            " \"out\": {\"kt\": 3, \"t\": 1, \"t\": 2}}, {\"out\": {\"kt\": 4}}],"
            " \"other\": [{\"rows\": 1}]}",
            2);
    assert_value(recorded_record(r, 0)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 3);
    assert_value(recorded_record(r, 1)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 4);
}

static void test_json_syntax_and_numbers(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "/p", 1);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_POINTER, "/v", 1);
    static const struct {
        const char *doc;
        const char *err;
    } cases[] = {
        {"", "empty document"},
        {"\xEF\xBB\xBF", "empty document"},
        {"  \n ", "line 2, column 2: parse error: premature EOF"},
        {"[{\"v\": 1e400}]", "line 1, column 12: number too large: 1e400"},
        {"[{\"v\": -1e999}]", "line 1, column 13: number too large: -1e999"},
        {"[{\"v\": NaN}]", "line 1, column 8: lexical error: invalid char in json text."},
        {"[{\"v\": Infinity}]", "line 1, column 8: lexical error: invalid char in json text."},
        {"[{\"p\": \"\xff\"}]", "line 1, column 9: lexical error: invalid bytes in UTF8 string."},
        {"[{\"p\": \"\xc3\"}]", "line 1, column 10: lexical error: invalid bytes in UTF8 string."},
        /* yajl passes these; ingot's own check does not (the column is the
         * string's end): a surrogate, an overlong "/", a code point above
         * U+10FFFF, a lone low surrogate escaped, and in a key. */
        {"[{\"x\": \"\xed\xa0\x80\"}]",
         "line 1, column 12: lexical error: invalid bytes in UTF8 string."},
        {"[{\"x\": \"\xc0\xaf\"}]",
         "line 1, column 11: lexical error: invalid bytes in UTF8 string."},
        {"[{\"x\": \"\xf4\x90\x80\x80\"}]",
         "line 1, column 13: lexical error: invalid bytes in UTF8 string."},
        {"[{\"x\": \"\\udc00\"}]",
         "line 1, column 15: lexical error: invalid bytes in UTF8 string."},
        {"[{\"\xed\xa0\x80\": 1}]",
         "line 1, column 7: lexical error: invalid bytes in UTF8 string."},
        {"[{}] x", "line 1, column 6: parse error: trailing garbage"},
        {"[{}] // a comment", "line 1, column 5: parse error: trailing garbage"},
        {"[{}, ]", "line 1, column 6: parse error: unallowed token at this point in JSON text"},
        {"[{'v': 1}]", "line 1, column 3: lexical error: invalid char in json text."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        json_fails(r, &m, cases[i].doc, cases[i].err);
    char err[64];
    assert_int_equal(feed_mapped_json_parse(NULL, 0, &m, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "no document");
    /* A number the mapping does not read is not converted. */
    json_ok(r, &m, "[{\"other\": 1e400, \"v\": 2}]", 1);
    assert_value(recorded_record(r, 0)->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 2);
}

/* Truncated at every byte, a document fails as a whole with a position,
 * and nothing is handed on. */
static void test_json_every_truncation_fails(void **state)
{
    struct recorder *r = *state;
    const char *doc =
        "{\"report\": {\"rows\": [\n"
        "  {\"asset\": {\"id\": \"kz-a\"}, \"month\": \"2025-01\", \"v\": \"9.8005\",\n"
        "   \"n\": -12.5e-3, \"t\": true, \"f\": false, \"z\": null, \"e\": \"\\u00e9\\n\"},\n"
        "  {\"asset\": {\"id\": \"kz-b\"}, \"month\": \"2025-02\", \"v\": [1, {}]}]}}";
    struct config_mapping m = blank_mapping("/report/rows");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "/asset/id", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_POINTER, "/month", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/v", 1000);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_POINTER, "/n", 1);
    size_t len = strlen(doc);
    for (size_t k = 0; k < len; k++) {
        char err[256] = "";
        assert_int_equal(feed_mapped_json_parse(doc, k, &m, &r->sink, err, sizeof(err)), -1);
        if (k == 0)
            assert_string_equal(err, "empty document");
        else
            assert_true(strncmp(err, "line ", 5) == 0 && strstr(err, ", column ") != NULL);
        assert_int_equal(r->count, 0);
    }
    json_ok(r, &m, doc, 2);
    assert_near(recorded_record(r, 0)->fields[RECORD_PRODUCTION_TONNES], 9800.5);
    assert_value(recorded_record(r, 0)->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, -0.0125);
    assert_value(recorded_record(r, 1)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
    assert_int_equal(recorded_record(r, 1)->line, 4);
}

/* 10,000 levels: skipped where the mapping does not look, a wrong type
 * where it does, and a syntax error when never closed. */
static void test_json_deep_nesting(void **state)
{
    struct recorder *r = *state;
    enum { DEEP = 10000 };
    char *doc = malloc(4 * DEEP + 256);
    assert_non_null(doc);
    struct config_mapping m = blank_mapping("/rows");
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_POINTER, "/v", 1);

    size_t k = (size_t)sprintf(doc, "{\"junk\": ");
    memset(doc + k, '[', DEEP), k += DEEP;
    memset(doc + k, ']', DEEP), k += DEEP;
    k += (size_t)sprintf(doc + k, ", \"rows\": [{\"v\": ");
    memset(doc + k, '[', DEEP), k += DEEP;
    memset(doc + k, ']', DEEP), k += DEEP;
    k += (size_t)sprintf(doc + k, ", \"x\": ");
    memset(doc + k, '{', 1), k += 1;
    sprintf(doc + k, "}}, {\"v\": 5}]}");
    json_ok(r, &m, doc, 2);
    assert_value(recorded_record(r, 0)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(recorded_record(r, 1)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 5);

    /* Never closed. */
    memset(doc, '[', DEEP);
    char err[256] = "";
    assert_int_equal(feed_mapped_json_parse(doc, DEEP, &m, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1, column 10001: parse error: premature EOF");

    /* As the records themselves. */
    m = blank_mapping("");
    memset(doc, '[', DEEP);
    memset(doc + DEEP, ']', DEEP);
    assert_int_equal(feed_mapped_json_parse(doc, 2 * DEEP, &m, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "records[0] is an array, not an object");
    assert_int_equal(r->count, 2);
    free(doc);
}

static void test_json_bom_and_crlf(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping("/rows");
    map_field(&m, MAPPING_PLANT, MAPPING_POINTER, "/p", 1);
    json_ok(r, &m, "\xEF\xBB\xBF{\"rows\": [\r\n{\"p\": \"a\"},\r\n\r\n{\"p\": \"b\"}]}\r\n", 2);
    assert_text(recorded_record(r, 0)->plant, "a");
    assert_int_equal(recorded_record(r, 0)->line, 2);
    assert_int_equal(recorded_record(r, 1)->line, 4);
    /* A BOM anywhere else is not whitespace. */
    json_fails(r, &m, "{\"rows\": []}\xEF\xBB\xBF",
               "line 1, column 13: parse error: trailing garbage");
}

/* ---- mapped CSV -------------------------------------------------------- */

static struct config_mapping sheet_mapping(void)
{
    struct config_mapping m = blank_mapping(NULL);
    m.delimiter = ';';
    m.decimal_comma = true;
    map_field(&m, MAPPING_PLANT, MAPPING_VALUE, "kz-pavlodar-al", 1);
    map_field(&m, MAPPING_METAL, MAPPING_COLUMN, "Металл", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_COLUMN, "Период", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_COLUMN, "Выпуск, т", 1);
    map_field(&m, QUANTITY(RECORD_CO2_TONNES), MAPPING_COLUMN, "CO2, kg", 0.001);
    map_field(&m, QUANTITY(RECORD_ENERGY_MWH), MAPPING_COLUMN, "Energy GWh", 1000);
    return m;
}

static void test_csv_mapped_layout(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = sheet_mapping();
    csv_ok(r, &m,
           "\xEF\xBB\xBF" "Примечание;Energy GWh; Период ;CO2, kg;Выпуск, т;Металл\r\n"
           "\"a; b\";0,5;2025-01;1.234.000;21.450,5;aluminum\r\n"
           "\"two\r\nlines\";;2025-02-03T00:00:00+05:00;\"12,5\";1.5;aluminum\r\n"
           ";1,5e1;2025-03;-0;;aluminum",
           3);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_text(rec->plant, "kz-pavlodar-al");
    assert_text(rec->metal, "aluminum");
    assert_text(rec->period, "2025-01");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 21450.5);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 1234);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 500);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0); /* not mapped */
    assert_int_equal(rec->line, 2);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_text(rec->period, "2025-02-03T00:00:00+05:00");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0); /* "1.5" */
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0.0125);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0);
    assert_int_equal(rec->line, 3);
    rec = recorded_record(r, 2);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 15000);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);
    assert_int_equal(rec->line, 5);
}

static void test_csv_mapped_columns_required(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = sheet_mapping();
    csv_fails(r, &m, "Период;Металл;Выпуск, т;CO2, kg\n2025-01;aluminum;1;2\n",
              "line 1: header lacks column \"Energy GWh\"");
    csv_fails(r, &m, "Период;Металл;Выпуск, т;CO2, kg;energy gwh;Energy GWh ;Energy GWh\n",
              "line 1: header names column \"Energy GWh\" twice");
    csv_fails(r, &m, "Период,Металл,Выпуск, т,CO2, kg,Energy GWh\n",
              "line 1: header lacks column \"Металл\"");
    /* Other columns may repeat; the native names mean nothing here. */
    csv_ok(r, &m,
           "x;plant;Период;x;Металл;Выпуск, т;CO2, kg;Energy GWh;metal\n"
           "1;kz-other;2025-01;2;aluminum;3;;;zinc\n",
           1);
    assert_text(recorded_record(r, 0)->plant, "kz-pavlodar-al");
    assert_text(recorded_record(r, 0)->metal, "aluminum");
}

static void test_csv_decimal_comma_cells(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *cell;
        enum feed_value_state state;
        double value;
    } cases[] = {
        {"1.234,5", FEED_VALUE_PRESENT, 1234.5},   {"1234,5", FEED_VALUE_PRESENT, 1234.5},
        {"1.234", FEED_VALUE_PRESENT, 1234},       {"-0,25", FEED_VALUE_PRESENT, -0.25},
        {" 12 ", FEED_VALUE_PRESENT, 12},          {"\"3,5\"", FEED_VALUE_PRESENT, 3.5},
        {"1,5E3", FEED_VALUE_PRESENT, 1500},       {"", FEED_VALUE_ABSENT, 0},
        {"1.5", FEED_VALUE_INVALID, 0},            {"12.34", FEED_VALUE_INVALID, 0},
        {"1,234.5", FEED_VALUE_INVALID, 0},        {"1 234,5", FEED_VALUE_INVALID, 0},
        {"NaN", FEED_VALUE_INVALID, 0},            {"1,", FEED_VALUE_INVALID, 0},
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    char doc[1024] = "p;v\n";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(doc);
        snprintf(doc + used, sizeof(doc) - used, "2025-01;%s\n", cases[i].cell);
    }
    struct config_mapping m = blank_mapping(NULL);
    m.delimiter = ';';
    m.decimal_comma = true;
    map_field(&m, MAPPING_PERIOD, MAPPING_COLUMN, "p", 1);
    map_field(&m, QUANTITY(RECORD_WASTE_TONNES), MAPPING_COLUMN, "v", 1);
    csv_ok(r, &m, doc, n);
    for (size_t i = 0; i < n; i++)
        assert_value(recorded_record(r, i)->fields[RECORD_WASTE_TONNES], cases[i].state,
                     cases[i].value);

    /* Without decimal_comma, numbers are plain. */
    recorder_teardown(state);
    recorder_setup(state);
    r = *state;
    m.decimal_comma = false;
    csv_ok(r, &m, "p;v\n2025-01;1,5\n2025-01;1.5\n2025-01;1.234\n", 3);
    assert_value(recorded_record(r, 0)->fields[RECORD_WASTE_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(recorded_record(r, 1)->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 1.5);
    assert_value(recorded_record(r, 2)->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 1.234);
}

/* Two fields may read one column, each with its own unit. */
static void test_csv_shared_column(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping(NULL);
    map_field(&m, MAPPING_PLANT, MAPPING_COLUMN, "site", 1);
    map_field(&m, MAPPING_METAL, MAPPING_COLUMN, "site", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_COLUMN, "month", 1);
    map_field(&m, QUANTITY(RECORD_WASTE_TONNES), MAPPING_COLUMN, "waste kt", 1000);
    map_field(&m, QUANTITY(RECORD_WASTE_RECYCLED_TONNES), MAPPING_COLUMN, "waste kt", 1000);
    csv_ok(r, &m, "site,month,waste kt\nkz-a,2025-01,0.5\n", 1);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_text(rec->plant, "kz-a");
    assert_text(rec->metal, "kz-a");
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 500);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 500);
}

/* A tab delimiter: a line of tabs is a row of empty cells, not a blank
 * line, and its line number is right. */
static void test_csv_tab_delimiter(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = blank_mapping(NULL);
    m.delimiter = '\t';
    map_field(&m, MAPPING_PLANT, MAPPING_COLUMN, "plant id", 1);
    map_field(&m, MAPPING_METAL, MAPPING_VALUE, "zinc", 1);
    map_field(&m, MAPPING_PERIOD, MAPPING_COLUMN, "day", 1);
    map_field(&m, QUANTITY(RECORD_PRODUCTION_TONNES), MAPPING_COLUMN, "t", 1);
    csv_ok(r, &m,
           "plant id\tday\tt\n"
           "kz-a\t2025-01-02\t1,5\n"
           "  \n"
           "\t\t\n"
           "kz b\t 2025-01-03 \t7\n"
           "kz-c\t2025-01-04\n",
           4);
    assert_text(recorded_record(r, 0)->plant, "kz-a");
    assert_value(recorded_record(r, 0)->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
    assert_int_equal(recorded_record(r, 0)->line, 2);
    assert_null(recorded_record(r, 1)->plant);
    assert_text(recorded_record(r, 1)->metal, "zinc");
    assert_int_equal(recorded_record(r, 1)->line, 4);
    assert_null(recorded_record(r, 1)->problem);
    assert_text(recorded_record(r, 2)->plant, "kz b");
    assert_text(recorded_record(r, 2)->period, "2025-01-03");
    assert_int_equal(recorded_record(r, 2)->line, 5);
    assert_string_equal(recorded_record(r, 3)->problem, "row has 2 cells, header has 3");
    assert_int_equal(recorded_record(r, 3)->line, 6);
}

/* Header only; malformed quotes and NUL bytes fail as in native CSV. */
static void test_csv_mapped_failures(void **state)
{
    struct recorder *r = *state;
    struct config_mapping m = sheet_mapping();
    const char *header = "Период;Металл;Выпуск, т;CO2, kg;Energy GWh\n";
    csv_ok(r, &m, header, 0);
    char doc[256];
    snprintf(doc, sizeof(doc), "%s2025-01;alu\"minum;1;2;3\n", header);
    csv_fails(r, &m, doc, "line 2, column 12: error parsing data while strict checking enabled");
    snprintf(doc, sizeof(doc), "%s2025-01;\"aluminum;1;2;3\n", header);
    csv_fails(r, &m, doc, "line 2: unterminated quoted field");
    csv_fails(r, &m, "", "empty document");
}

/* ---- the README's plant exports ----------------------------------------- */

/* The whole file at path (relative to the source tree), NUL-terminated. */
static char *read_source_file(const char *path, size_t *len)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s/%s", INGOT_SOURCE_DIR, path);
    FILE *f = fopen(full, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)size;
    return buf;
}

/* One record an example must load into. NAN: the field is absent. */
struct expected_record {
    const char *plant, *metal, *period; /* period as stored */
    unsigned long line;
    double values[RECORD_FIELD_COUNT];
};

struct example {
    const char *name;     /* conf/examples/<name>.<ext> and <name>.yaml */
    const char *ext;      /* and the README block's language */
    size_t n;
    struct expected_record records[3];
};

#define ABSENT NAN
static const struct example examples[] = {
    {"balkhash-api", "json", 2,
     {{"kz-balkhash-cu", "copper", "2025-01", 8, {9800.5, 9300.1, 45250, ABSENT, ABSENT}},
      {"kz-balkhash-cu", "copper", "2025-02", 16, {9120.4, ABSENT, 42800, ABSENT, ABSENT}}}},
    {"pavlodar-sheet", "csv", 2,
     {{"kz-pavlodar-al", "aluminum", "2025-01", 2, {21450.5, 35392.8, 312450, 1820.4, 1547.3}},
      {"kz-pavlodar-al", "aluminum", "2025-02", 3, {19874.2, 32800.1, 289604.5, 1702.9, 1430.6}}}},
    {"ridder-historian", "json", 3,
     {{"kz-ridder-zn", "zinc", "2025-03-14", 5, {412.5, 398.2, 1520, ABSENT, ABSENT}},
      {"kz-ridder-zn", "copper", "2025-03-14", 7, {38.25, 41.9, 210.5, ABSENT, ABSENT}},
      {"kz-ridder-zn", "zinc", "2025-03-15", 9, {405, ABSENT, 1498, ABSENT, ABSENT}}}},
};
#undef ABSENT

/* The README shows each example file as a fenced block of its own, byte
 * for byte, and no other block in "Plants' own formats". */
static void test_readme_blocks_are_the_examples(void **state)
{
    (void)state;
    char *readme = read_source_file("README.md", NULL);
    const char *section = strstr(readme, "\n### Plants' own formats\n");
    assert_non_null(section);
    const char *section_end = strstr(section + 1, "\n### ");
    assert_non_null(section_end);
    size_t blocks = 0;
    for (const char *p = section; (p = strstr(p, "\n```")) != NULL && p < section_end; p += 4)
        blocks++;
    assert_int_equal(blocks, 2 * 2 * (sizeof(examples) / sizeof(examples[0]))); /* open, close */
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const char *exts[2] = {examples[i].ext, "yaml"}; /* also the blocks' languages */
        for (int k = 0; k < 2; k++) {
            char path[256];
            snprintf(path, sizeof(path), "conf/examples/%s.%s", examples[i].name, exts[k]);
            char *body = read_source_file(path, NULL);
            size_t need = strlen(body) + 32;
            char *block = malloc(need);
            assert_non_null(block);
            snprintf(block, need, "\n```%s\n%s```\n", exts[k], body);
            const char *at = strstr(section, block);
            if (at == NULL || at > section_end)
                fail_msg("README's \"Plants' own formats\" lacks %s as a block of its own", path);
            free(block);
            free(body);
        }
    }
    free(readme);
}

static void assert_stored(const struct store *store, const struct expected_record *want)
{
    const struct store_plant *plant = store_plant_find(store, want->plant);
    assert_non_null(plant);
    int metal = store_metal_find(store, want->metal);
    assert_true(metal >= 0);
    struct period p;
    assert_int_equal(period_parse(want->period, &p), 0);
    const struct store_record *rec = store_record_find(plant, metal, period_key(&p));
    assert_non_null(rec);
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (isnan(want->values[f])) {
            assert_false(rollup_has(&rec->values, f));
        } else {
            assert_true(rollup_has(&rec->values, f));
            if (fabs(rec->values.value[f] - want->values[f]) > 1e-9 * fabs(want->values[f]))
                fail_msg("%s %s %s %s: %.17g, want %.17g", want->plant, want->metal,
                         want->period, record_field_names[f], rec->values.value[f],
                         want->values[f]);
        }
    }
}

/* Each example's config loads, its export parses through the mapping
 * into exactly the records the README states, and ingests with none
 * rejected. */
static void test_readme_examples_load(void **state)
{
    struct recorder *r = *state;
    for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
        const struct example *ex = &examples[i];
        char path[512];
        snprintf(path, sizeof(path), "%s/conf/examples/%s.yaml", INGOT_SOURCE_DIR, ex->name);
        struct config_errors errors = {0};
        struct config *cfg = config_load(path, &errors);
        if (cfg == NULL)
            fail_msg("%s: %s", path, errors.count ? errors.messages[0] : "?");
        assert_int_equal(cfg->n_feeds, 1);
        const struct config_feed *feed = &cfg->feeds[0];
        assert_non_null(feed->mapping);

        snprintf(path, sizeof(path), "conf/examples/%s.%s", ex->name, ex->ext);
        size_t len;
        char *body = read_source_file(path, &len);
        char err[256] = "";

        /* Through the parser: the raw records, lines and scaled values. */
        r->count = 0;
        int rc = feed->format == FEED_FORMAT_CSV
                     ? feed_csv_parse_mapped(body, len, feed->mapping, &r->sink, err, sizeof(err))
                     : feed_mapped_json_parse(body, len, feed->mapping, &r->sink, err, sizeof(err));
        if (rc != 0)
            fail_msg("%s: %s", path, err);
        assert_int_equal(r->count, ex->n);
        for (size_t k = 0; k < ex->n; k++) {
            const struct feed_raw_record *rec = &r->calls[k].record;
            const struct expected_record *want = &ex->records[k];
            assert_text(rec->plant, want->plant);
            assert_text(rec->metal, want->metal);
            assert_int_equal(rec->line, want->line);
            struct period got, expect;
            assert_int_equal(period_parse(rec->period, &got), 0);
            assert_int_equal(period_parse(want->period, &expect), 0);
            assert_int_equal(period_key(&got), period_key(&expect));
            for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
                if (isnan(want->values[f]))
                    assert_int_equal(rec->fields[f].state, FEED_VALUE_ABSENT);
                else
                    assert_near(rec->fields[f], want->values[f]);
            }
        }

        /* Through ingest, as ingotd reads the feed: all accepted, stored. */
        struct store *store = store_new();
        assert_non_null(store);
        struct ingest_counts counts = {0};
        assert_int_equal(
            ingest_document(store, cfg, feed, NOW, body, len, &counts, err, sizeof(err)), 0);
        assert_int_equal(counts.accepted, ex->n);
        for (int reason = 0; reason < INGEST_REASON_COUNT; reason++)
            assert_int_equal(counts.rejected[reason], 0);
        for (size_t k = 0; k < ex->n; k++)
            assert_stored(store, &ex->records[k]);

        store_free(store);
        free(body);
        config_free(cfg);
        for (size_t k = 0; k < r->count; k++) {
            free((void *)r->calls[k].record.plant);
            free((void *)r->calls[k].record.metal);
            free((void *)r->calls[k].record.period);
            free((void *)r->calls[k].record.problem);
        }
        r->count = 0;
    }
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, recorder_setup, recorder_teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_json_nested_pointers_and_units),
        TEST(test_json_quantity_forms),
        TEST(test_json_units),
        TEST(test_json_text_fields),
        TEST(test_json_pointer_resolution),
        TEST(test_json_pointer_to_the_record),
        TEST(test_json_records_pointer_failures),
        TEST(test_json_duplicate_keys),
        TEST(test_json_syntax_and_numbers),
        TEST(test_json_every_truncation_fails),
        TEST(test_json_deep_nesting),
        TEST(test_json_bom_and_crlf),
        TEST(test_csv_mapped_layout),
        TEST(test_csv_mapped_columns_required),
        TEST(test_csv_decimal_comma_cells),
        TEST(test_csv_shared_column),
        TEST(test_csv_tab_delimiter),
        TEST(test_csv_mapped_failures),
        TEST(test_readme_blocks_are_the_examples),
        TEST(test_readme_examples_load),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
