/*
 * test_feed_json: the v1 JSON feed parser, through a recording sink.
 */
#include "feed_recorder.h"

#include "feed_json.h"

#include <math.h>
#include <stdio.h>

#define PLANTS_DOC(plants) "{\"schema\": \"ingot.feed.v1\", \"plants\": " plants "}"

static int parse(struct recorder *r, const char *doc, char *err, size_t err_size)
{
    return feed_json_parse(doc, strlen(doc), &r->sink, err, err_size);
}

static void test_full_example(void **state)
{
    struct recorder *r = *state;
    const char *doc =
        "{\"schema\": \"ingot.feed.v1\",\n"
        " \"plants\": [{\"id\": \"kz-balkhash-cu\", \"name\": \"Balkhash copper smelter\",\n"
        "   \"region\": \"Karaganda\", \"capacity_tonnes_per_year\": 175000,\n"
        "   \"green_operational\": true, \"workers_certified\": 1800,\n"
        "   \"records\": [{\"metal\": \"copper\", \"period\": \"2025-01\",\n"
        "     \"production_tonnes\": 9800.5, \"co2_tonnes\": 9300.1, \"energy_mwh\": 45000,\n"
        "     \"waste_tonnes\": 3000, \"waste_recycled_tonnes\": 2400}]}]}\n";
    char err[256] = "";
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r->count, 2);

    const struct feed_plant_attrs *p = recorded_plant(r, 0);
    assert_text(p->id, "kz-balkhash-cu");
    assert_int_equal(p->name.state, FEED_VALUE_PRESENT);
    assert_text(p->name.s, "Balkhash copper smelter");
    assert_int_equal(p->region.state, FEED_VALUE_PRESENT);
    assert_text(p->region.s, "Karaganda");
    assert_value(p->capacity_tonnes_per_year, FEED_VALUE_PRESENT, 175000);
    assert_value(p->workers_certified, FEED_VALUE_PRESENT, 1800);
    assert_int_equal(p->green_state, FEED_VALUE_PRESENT);
    assert_int_equal(p->green_operational, 1);
    assert_int_equal(p->line, 2);

    const struct feed_raw_record *rec = recorded_record(r, 1);
    assert_text(rec->plant, "kz-balkhash-cu");
    assert_text(rec->metal, "copper");
    assert_text(rec->period, "2025-01");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 9800.5);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 9300.1);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 45000);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 3000);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 2400);
    assert_int_equal(rec->line, 5);
    assert_null(rec->problem);
}

static void test_several_plants_in_order(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"id\": \"a\", \"records\": [{\"metal\": \"copper\", \"period\": \"2025-01\"},"
        "                            {\"metal\": \"zinc\", \"period\": \"2025-02\"}]},"
        " {\"id\": \"b\"},"
        " {\"id\": \"c\", \"records\": []},"
        " {\"id\": \"d\", \"records\": null},"
        " {\"id\": \"e\", \"records\": [{\"metal\": \"lead\", \"period\": \"2025-03\"}]}]");
    char err[256];
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 8);
    assert_text(recorded_plant(r, 0)->id, "a");
    assert_text(recorded_record(r, 1)->plant, "a");
    assert_text(recorded_record(r, 1)->metal, "copper");
    assert_text(recorded_record(r, 1)->period, "2025-01");
    assert_text(recorded_record(r, 2)->plant, "a");
    assert_text(recorded_record(r, 2)->metal, "zinc");
    assert_text(recorded_record(r, 2)->period, "2025-02");
    assert_text(recorded_plant(r, 3)->id, "b");
    assert_text(recorded_plant(r, 4)->id, "c");
    assert_text(recorded_plant(r, 5)->id, "d");
    assert_text(recorded_plant(r, 6)->id, "e");
    assert_text(recorded_record(r, 7)->plant, "e");
    assert_text(recorded_record(r, 7)->metal, "lead");
    assert_text(recorded_record(r, 7)->period, "2025-03");
}

static void test_empty_plants(void **state)
{
    struct recorder *r = *state;
    char err[256];
    assert_int_equal(parse(r, PLANTS_DOC("[]"), err, sizeof(err)), 0);
    assert_int_equal(r->count, 0);
}

static void test_plant_attribute_states(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"id\": 42, \"name\": null, \"capacity_tonnes_per_year\": \"175000\","
        "  \"workers_certified\": null, \"green_operational\": \"yes\"},"
        " {\"id\": \"p2\", \"name\": 7, \"region\": \"Karaganda\","
        "  \"capacity_tonnes_per_year\": -5, \"workers_certified\": 0,"
        "  \"green_operational\": false},"
        " {\"id\": null, \"name\": [], \"region\": {}, \"capacity_tonnes_per_year\": [1],"
        "  \"workers_certified\": true, \"green_operational\": 1}]");
    char err[256];
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 3);

    const struct feed_plant_attrs *p = recorded_plant(r, 0);
    assert_null(p->id);
    assert_int_equal(p->name.state, FEED_VALUE_ABSENT);
    assert_null(p->name.s);
    assert_int_equal(p->region.state, FEED_VALUE_ABSENT);
    assert_null(p->region.s);
    assert_value(p->capacity_tonnes_per_year, FEED_VALUE_INVALID, 0);
    assert_value(p->workers_certified, FEED_VALUE_ABSENT, 0);
    assert_int_equal(p->green_state, FEED_VALUE_INVALID);

    p = recorded_plant(r, 1);
    assert_text(p->id, "p2");
    assert_int_equal(p->name.state, FEED_VALUE_INVALID);
    assert_null(p->name.s);
    assert_int_equal(p->region.state, FEED_VALUE_PRESENT);
    assert_text(p->region.s, "Karaganda");
    assert_value(p->capacity_tonnes_per_year, FEED_VALUE_PRESENT, -5);
    assert_value(p->workers_certified, FEED_VALUE_PRESENT, 0);
    assert_int_equal(p->green_state, FEED_VALUE_PRESENT);
    assert_int_equal(p->green_operational, 0);

    p = recorded_plant(r, 2);
    assert_null(p->id);
    assert_int_equal(p->name.state, FEED_VALUE_INVALID);
    assert_int_equal(p->region.state, FEED_VALUE_INVALID);
    assert_value(p->capacity_tonnes_per_year, FEED_VALUE_INVALID, 0);
    assert_value(p->workers_certified, FEED_VALUE_INVALID, 0);
    assert_int_equal(p->green_state, FEED_VALUE_INVALID);
}

static void test_record_field_states(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"records\": ["
        "  {\"metal\": 7, \"production_tonnes\": \"9800\", \"co2_tonnes\": true,"
        "   \"energy_mwh\": {}, \"waste_tonnes\": [], \"waste_recycled_tonnes\": null},"
        "  {\"metal\": \"zinc\", \"period\": \"2025-02\", \"production_tonnes\": -1.5,"
        "   \"co2_tonnes\": 0, \"energy_mwh\": false, \"waste_tonnes\": null}]}]");
    char err[256];
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 3);
    assert_null(recorded_plant(r, 0)->id);

    const struct feed_raw_record *rec = recorded_record(r, 1);
    assert_null(rec->plant);
    assert_null(rec->metal);
    assert_null(rec->period);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_ABSENT, 0);
    assert_int_equal(rec->line, 1);
    assert_null(rec->problem);

    rec = recorded_record(r, 2);
    assert_null(rec->plant);
    assert_text(rec->metal, "zinc");
    assert_text(rec->period, "2025-02");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, -1.5);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_ABSENT, 0);
}

static void test_unknown_fields_ignored(void **state)
{
    struct recorder *r = *state;
    const char *doc =
        "{\"generated_at\": \"2025-02-01T00:00:00Z\", \"schema\": \"ingot.feed.v1\","
        " \"extra\": {\"plants\": 5},"
        " \"plants\": [{\"owner\": {\"name\": 1}, \"id\": \"kz\", \"tags\": [1, 2],"
        "   \"records\": [{\"grade\": \"A\", \"metal\": \"copper\", \"notes\": [null],"
        "     \"period\": \"2025-01\", \"energy_mwh\": 12}]}]}";
    char err[256];
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 2);
    const struct feed_plant_attrs *p = recorded_plant(r, 0);
    assert_text(p->id, "kz");
    assert_int_equal(p->name.state, FEED_VALUE_ABSENT);
    const struct feed_raw_record *rec = recorded_record(r, 1);
    assert_text(rec->plant, "kz");
    assert_text(rec->metal, "copper");
    assert_text(rec->period, "2025-01");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 12);
}

static void test_huge_integers_are_numbers(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"id\": \"kz\", \"workers_certified\": 12345678901234567890,"
        "  \"records\": [{\"production_tonnes\": 1000000000000000000000000000000,"
        "                 \"co2_tonnes\": -9223372036854775809}]}]");
    char err[256];
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 2);
    assert_value(recorded_plant(r, 0)->workers_certified, FEED_VALUE_PRESENT,
                 12345678901234567890.0);
    const struct feed_raw_record *rec = recorded_record(r, 1);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 1e30);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, -9223372036854775809.0);
}

/* Attributes after "records" still reach the sink before the records. */
static void test_attributes_after_records(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"records\": [{\"metal\": \"zinc\", \"period\": \"2025-01\"},\n"
        "              {\"metal\": \"lead\", \"period\": \"2025-02\"}],\n"
        "  \"id\": \"late\", \"name\": \"Late\", \"notes\": 1, \"notes\": 2}]");
    char err[256] = "";
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r->count, 3);
    assert_text(recorded_plant(r, 0)->id, "late");
    assert_text(recorded_plant(r, 0)->name.s, "Late");
    assert_text(recorded_record(r, 1)->plant, "late");
    assert_int_equal(recorded_record(r, 1)->line, 1);
    assert_text(recorded_record(r, 2)->plant, "late");
    assert_text(recorded_record(r, 2)->metal, "lead");
    assert_int_equal(recorded_record(r, 2)->line, 2);
}

/* A C string cannot hold a NUL: such a string is treated as the wrong type,
 * never cut short into another plant's id. */
static void test_nul_in_strings(void **state)
{
    struct recorder *r = *state;
    const char *doc = PLANTS_DOC(
        "[{\"id\": \"kz\\u0000x\", \"name\": \"a\\u0000b\","
        "  \"records\": [{\"metal\": \"zinc\\u0000\", \"period\": \"2025-01\"}]}]");
    char err[256] = "";
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 2);
    assert_null(recorded_plant(r, 0)->id);
    assert_int_equal(recorded_plant(r, 0)->name.state, FEED_VALUE_INVALID);
    assert_null(recorded_record(r, 1)->plant);
    assert_null(recorded_record(r, 1)->metal);
    assert_text(recorded_record(r, 1)->period, "2025-01");
}

/* A document that fails as a whole, and the one line it fails with. */
struct failing_doc {
    const char *doc;
    const char *err;
};

static void expect_failures(struct recorder *r, const struct failing_doc *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char err[256] = "";
        assert_int_equal(parse(r, cases[i].doc, err, sizeof(err)), -1);
        assert_string_equal(err, cases[i].err);
        assert_int_equal(r->count, 0);
    }
}

static void test_syntax_errors(void **state)
{
    static const struct failing_doc cases[] = {
        {"", "empty document"},
        {"{\"schema\": \"ingot.feed.v1\",\n \"plants\": [\n",
         "line 3, column 1: parse error: premature EOF"},
        {PLANTS_DOC("[]") " x", "line 1, column 43: parse error: trailing garbage"},
        {PLANTS_DOC("[]") " {}", "line 1, column 43: parse error: trailing garbage"},
        {"{\"schema\": 'ingot.feed.v1'}", "line 1, column 12: lexical error: invalid char in json text."},
        {"{\"a\": [1,]}", "line 1, column 10: parse error: unallowed token at this point in JSON text"},
        {"{\"a\": \"\xff\"}", "line 1, column 8: lexical error: invalid bytes in UTF8 string."},
        {"{\"a\": 1} // comment", "line 1, column 9: parse error: trailing garbage"},
        /* A double cannot hold it, so the whole document fails; the column is
         * the number's last digit. */
        {PLANTS_DOC("[{\"records\": [{\"co2_tonnes\": 1e999}]}]"),
         "line 1, column 72: number too large: 1e999"},
    };
    expect_failures(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_duplicate_keys_fail(void **state)
{
    static const struct failing_doc cases[] = {
        {"{\"schema\": \"ingot.feed.v1\", \"schema\": \"ingot.feed.v1\", \"plants\": []}",
         "line 1, column 36: duplicate key \"schema\""},
        {PLANTS_DOC("[{\"id\": \"kz\", \"id\": \"kz\"}]"),
         "line 1, column 56: duplicate key \"id\""},
        {PLANTS_DOC("[{\"id\": \"kz\", \"records\": [{\"metal\": \"copper\",\n"
                    "  \"metal\": \"zinc\"}]}]"),
         "line 2, column 9: duplicate key \"metal\""},
    };
    expect_failures(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_structure_failures(void **state)
{
    static const struct failing_doc cases[] = {
        {"[]", "top level is not an object"},
        {"\"ingot.feed.v1\"", "top level is not an object"},
        {"[{\"schema\": 1}]", "top level is not an object"},
        {"{\"plants\": []}", "\"schema\" is missing"},
        {"{\"schema\": \"ingot.feed.v2\", \"plants\": []}", "\"schema\" is not \"ingot.feed.v1\""},
        {"{\"schema\": \"ingot.feed.v1 \", \"plants\": []}", "\"schema\" is not \"ingot.feed.v1\""},
        {"{\"schema\": 1, \"plants\": []}", "\"schema\" is not \"ingot.feed.v1\""},
        {"{\"schema\": null, \"plants\": []}", "\"schema\" is not \"ingot.feed.v1\""},
        {"{\"schema\": \"ingot.feed.v1\"}", "\"plants\" is missing"},
        {PLANTS_DOC("{}"), "\"plants\" is not an array"},
        {PLANTS_DOC("null"), "\"plants\" is not an array"},
        {PLANTS_DOC("[{\"id\": \"a\"}, 5]"), "plants[1] is not an object"},
        {PLANTS_DOC("[{\"id\": \"a\", \"records\": {}}]"), "plants[0].records is not an array"},
        {PLANTS_DOC("[{\"id\": \"a\", \"records\": \"none\"}]"),
         "plants[0].records is not an array"},
        /* Sound plants and records come first: still nothing is handed on. */
        {PLANTS_DOC("[{\"id\": \"a\", \"records\": [{\"metal\": \"copper\"}]},"
                    " {\"id\": \"b\", \"records\": [{}, {}, [\"x\"]]}]"),
         "plants[1].records[2] is not an object"},
    };
    expect_failures(*state, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Truncated at every byte, a document fails as a whole with a position,
 * and nothing is handed on. */
static void test_every_truncation_fails(void **state)
{
    struct recorder *r = *state;
    const char *doc =
        "{\"schema\": \"ingot.feed.v1\",\n"
        " \"plants\": [{\"id\": \"kz-balkhash-cu\", \"name\": \"Balkhash \\u00e9\\n\",\n"
        "   \"capacity_tonnes_per_year\": 175000, \"green_operational\": true,\n"
        "   \"records\": [{\"metal\": \"copper\", \"period\": \"2025-01\",\n"
        "     \"production_tonnes\": 9800.5, \"co2_tonnes\": -0.25e-1, \"x\": [null, false]}]},\n"
        "  {\"id\": \"kz-b\", \"records\": []}]}";
    size_t len = strlen(doc);
    for (size_t k = 0; k < len; k++) {
        char err[256] = "";
        assert_int_equal(feed_json_parse(doc, k, &r->sink, err, sizeof(err)), -1);
        if (k == 0)
            assert_string_equal(err, "empty document");
        else
            assert_true(strncmp(err, "line ", 5) == 0 && strstr(err, ", column ") != NULL);
        assert_int_equal(r->count, 0);
    }
    char err[256] = "";
    assert_int_equal(feed_json_parse(doc, len, &r->sink, err, sizeof(err)), 0);
    assert_int_equal(r->count, 3);
}

/* 10,000 levels cost yajl a byte each, never stack: skipped where ingot
 * does not look, a wrong type where it does, a syntax error unclosed. */
static void test_deep_nesting(void **state)
{
    struct recorder *r = *state;
    enum { DEEP = 10000 };
    char *doc = malloc(2 * DEEP + 256);
    assert_non_null(doc);
    size_t k = (size_t)sprintf(doc, "{\"schema\": \"ingot.feed.v1\", \"plants\": [{\"id\": \"a\","
                                    " \"records\": [{\"metal\": \"zinc\", \"x\": ");
    memset(doc + k, '[', DEEP), k += DEEP;
    memset(doc + k, ']', DEEP), k += DEEP;
    sprintf(doc + k, "}]}]}");
    char err[256] = "";
    assert_int_equal(feed_json_parse(doc, strlen(doc), &r->sink, err, sizeof(err)), 0);
    assert_int_equal(r->count, 2);
    assert_text(recorded_record(r, 1)->metal, "zinc");

    memset(doc, '[', DEEP);
    memset(doc + DEEP, ']', DEEP);
    assert_int_equal(feed_json_parse(doc, 2 * DEEP, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "top level is not an object");
    assert_int_equal(feed_json_parse(doc, DEEP, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1, column 10001: parse error: premature EOF");

    k = (size_t)sprintf(doc, "{\"schema\": \"ingot.feed.v1\", \"plants\": [");
    memset(doc + k, '{', 1), k += 1;
    k += (size_t)sprintf(doc + k, "\"records\": [");
    memset(doc + k, '[', DEEP), k += DEEP;
    memset(doc + k, ']', DEEP), k += DEEP;
    sprintf(doc + k, "]}]}");
    assert_int_equal(feed_json_parse(doc, strlen(doc), &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "plants[0].records[0] is not an object");
    assert_int_equal(r->count, 2);
    free(doc);
}

/* Numbers at the edges: -0 is a number (ingest stores 0), a number too
 * large fails the document only where ingot reads it, "NaN" is a string. */
static void test_edge_numbers(void **state)
{
    struct recorder *r = *state;
    static const struct failing_doc cases[] = {
        {PLANTS_DOC("[{\"records\": [{\"waste_tonnes\": 1e400}]}]"),
         "line 1, column 74: number too large: 1e400"},
        {PLANTS_DOC("[{\"capacity_tonnes_per_year\": -1e400}]"),
         "line 1, column 74: number too large: -1e400"},
        {PLANTS_DOC("[{\"records\": [{\"co2_tonnes\": NaN}]}]"),
         "line 1, column 68: lexical error: invalid char in json text."},
        {PLANTS_DOC("[{\"records\": [{\"co2_tonnes\": -Infinity}]}]"),
         "line 1, column 68: lexical error: malformed number, a digit is required after the "
         "minus sign."},
    };
    expect_failures(r, cases, sizeof(cases) / sizeof(cases[0]));
    char err[256] = "";
    const char *doc = PLANTS_DOC(
        "[{\"id\": \"kz\", \"notes\": 1e400, \"records\": [{\"production_tonnes\": -0,"
        "  \"co2_tonnes\": \"NaN\", \"energy_mwh\": 1e-400, \"other\": -1e999}]}]");
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    const struct feed_raw_record *rec = recorded_record(r, 1);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 0);
    assert_true(signbit(rec->fields[RECORD_PRODUCTION_TONNES].value));
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_INVALID, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 0);
}

/* yajl passes surrogates, overlong forms and code points above U+10FFFF;
 * ingot does not, in values or keys, read or not. */
#define BAD_UTF8 "lexical error: invalid bytes in UTF8 string."
static void test_strict_utf8(void **state)
{
    static const struct failing_doc cases[] = {
        /* The column is the end of the string (or key). */
        {"{\"a\": \"\xed\xa0\x80\"}", "line 1, column 11: " BAD_UTF8},          /* surrogate */
        {"{\"a\": \"x\xc0\xaf\"}", "line 1, column 11: " BAD_UTF8},              /* overlong */
        {"{\"a\": \"\xf4\x90\x80\x80\"}", "line 1, column 12: " BAD_UTF8},      /* > U+10FFFF */
        {"{\"a\": \"\\udc00\"}", "line 1, column 14: " BAD_UTF8}, /* yajl makes it ED B0 80 */
        {"{\"\xed\xbf\xbf\": 1}", "line 1, column 6: " BAD_UTF8},              /* in a key */
        {PLANTS_DOC("[{\"id\": \"kz\", \"name\": \"\xe0\x80\x80\"}]"),
         "line 1, column 65: " BAD_UTF8},
    };
    expect_failures(*state, cases, sizeof(cases) / sizeof(cases[0]));
    struct recorder *r = *state;
    char err[256] = "";
    assert_int_equal(parse(r,
                           PLANTS_DOC("[{\"id\": \"kz\","
                                      " \"name\": \"\\u00e9 \\ud83d\\ude00 \xe2\x82\xac\"}]"),
                           err, sizeof(err)),
                     0);
    assert_text(recorded_plant(r, 0)->name.s, "\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
}

/* A byte order mark is skipped (columns count after it); CRLF is space. */
static void test_bom_and_crlf(void **state)
{
    struct recorder *r = *state;
    static const struct failing_doc cases[] = {
        {"\xEF\xBB\xBF", "empty document"},
        {"\xEF\xBB\xBF[", "line 1, column 2: parse error: premature EOF"},
        {"\xEF\xBB\xBF\xEF\xBB\xBF{}",
         "line 1, column 1: lexical error: invalid char in json text."},
    };
    expect_failures(r, cases, sizeof(cases) / sizeof(cases[0]));
    char err[256] = "";
    const char *doc = "\xEF\xBB\xBF{\"schema\": \"ingot.feed.v1\",\r\n"
                      " \"plants\": [{\"id\": \"kz\",\r\n"
                      "  \"records\": [{\"metal\": \"zinc\"}]}]}\r\n";
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_int_equal(r->count, 2);
    assert_int_equal(recorded_plant(r, 0)->line, 2);
    assert_int_equal(recorded_record(r, 1)->line, 3);
}

static void test_error_buffer(void **state)
{
    struct recorder *r = *state;
    char err[8];
    assert_int_equal(parse(r, "[]", err, sizeof(err)), -1);
    assert_string_equal(err, "top lev");
    assert_int_equal(parse(r, "[]", NULL, 0), -1);
    assert_int_equal(feed_json_parse(NULL, 0, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, "no docu");
    assert_int_equal(r->count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_example, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_several_plants_in_order, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_empty_plants, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_plant_attribute_states, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_record_field_states, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields_ignored, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_huge_integers_are_numbers, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_attributes_after_records, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_nul_in_strings, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_fail, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_structure_failures, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_error_buffer, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_every_truncation_fails, recorder_setup,
                                        recorder_teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_edge_numbers, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_strict_utf8, recorder_setup, recorder_teardown),
        cmocka_unit_test_setup_teardown(test_bom_and_crlf, recorder_setup, recorder_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
