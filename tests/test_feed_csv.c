/*
 * test_feed_csv: the CSV feed parser, through a recording sink.
 */
#include "feed_recorder.h"

#include <math.h>
#include <stdio.h>

#include "feed_csv.h"

#define HEADER                                                                              \
    "plant,metal,period,production_tonnes,co2_tonnes,energy_mwh,waste_tonnes,"             \
    "waste_recycled_tonnes"

static int parse(struct recorder *r, const char *doc, char *err, size_t err_size)
{
    return feed_csv_parse(doc, strlen(doc), &r->sink, err, err_size);
}

/* Parses doc, which must be accepted, and checks it gave n records. */
static void parse_ok(struct recorder *r, const char *doc, size_t n)
{
    char err[256] = "";
    assert_int_equal(parse(r, doc, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r->count, n);
}

/* Parses doc, which must fail as a whole with err_want, calling no sink. */
static void parse_fails(struct recorder *r, const char *doc, size_t len, const char *err_want)
{
    char err[256] = "";
    assert_int_equal(feed_csv_parse(doc, len, &r->sink, err, sizeof(err)), -1);
    assert_string_equal(err, err_want);
    assert_int_equal(r->count, 0);
}

static void assert_key(const struct feed_raw_record *rec, const char *plant, const char *metal,
                       const char *period, unsigned long line)
{
    assert_text(rec->plant, plant);
    assert_text(rec->metal, metal);
    assert_text(rec->period, period);
    assert_int_equal(rec->line, line);
}

static void test_rows_in_order(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             HEADER "\n"
                    "kz-balkhash-cu,copper,2025-01,9800.5,9300.1,45000,3000,2400\n"
                    "kz-balkhash-cu,zinc,2025-02,-1,0,1e3,+2.5E-1,007\n",
             2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz-balkhash-cu", "copper", "2025-01", 2);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 9800.5);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 9300.1);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 45000);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 3000);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 2400);
    assert_null(rec->problem);

    rec = recorded_record(r, 1);
    assert_key(rec, "kz-balkhash-cu", "zinc", "2025-02", 3);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, -1);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 1000);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_PRESENT, 0.25);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 7);
    assert_null(rec->problem);
}

static void test_crlf_and_no_final_line_end(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             HEADER "\r\n"
                    "a,copper,2025-01,1,2,3,4,5\r\n"
                    "\r\n"
                    "b,zinc,2025-02,6,7,8,9,10",
             2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "a", "copper", "2025-01", 2);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 5);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_key(rec, "b", "zinc", "2025-02", 4);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 6);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 10);
    assert_null(rec->problem);
}

static void test_lone_cr_ends_lines(void **state)
{
    struct recorder *r = *state;
    parse_ok(r, "plant,metal,period\ra,copper,2025-01\r\rb,zinc,2025-02\r", 2);
    assert_key(recorded_record(r, 0), "a", "copper", "2025-01", 2);
    assert_key(recorded_record(r, 1), "b", "zinc", "2025-02", 4);
}

static void test_bom_is_skipped(void **state)
{
    struct recorder *r = *state;
    parse_ok(r, "\xEF\xBB\xBFplant,metal,period,energy_mwh\nkz,copper,2025-01,12\n", 1);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz", "copper", "2025-01", 2);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 12);
    assert_null(rec->problem);
}

static void test_quoted_cells(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             "plant,metal,period,production_tonnes\n"          /* line 1 */
             "\"kz, \"\"north\"\" plant\",copper,2025-01,\"12.5\"\n" /* line 2 */
             "\"multi\nline\",\"zinc\",2025-02,1\n"               /* lines 3-4 */
             "\"crlf\r\ninside\",lead,2025-03,\" 7 \"\r\n"        /* lines 5-6 */
             "\" tin \" , \"\" ,2025-04,2",                       /* line 7 */
             4);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz, \"north\" plant", "copper", "2025-01", 2);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 12.5);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_key(rec, "multi\nline", "zinc", "2025-02", 3);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 1);
    rec = recorded_record(r, 2);
    assert_key(rec, "crlf\r\ninside", "lead", "2025-03", 5);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 7);
    /* Quoted cells are trimmed too, and "" is an empty cell. */
    rec = recorded_record(r, 3);
    assert_key(rec, "tin", NULL, "2025-04", 7);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 2);
    assert_null(rec->problem);
}

static void test_columns_in_any_order(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             "  period , note,metal,\" co2_tonnes\",plant,Energy_mwh,,note\n"
             "2025-01,hello,copper,5,kz,9,x,y\n",
             1);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz", "copper", "2025-01", 2);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 5);
    /* Not in the header ("Energy_mwh" is not "energy_mwh"): absent. */
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_ABSENT, 0);
    assert_null(rec->problem);
}

static void test_header_failures(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *doc;
        const char *err;
    } cases[] = {
        {"metal,period\nkz,2025-01\n", "line 1: header lacks column \"plant\""},
        {"plant,period,co2_tonnes\nkz,2025-01,1\n", "line 1: header lacks column \"metal\""},
        {"\n\nplant,metal,Period\n", "line 3: header lacks column \"period\""},
        {"plant,metal", "line 1: header lacks column \"period\""},
        {"plant,metal,period,co2_tonnes, co2_tonnes\nkz,copper,2025-01,1,2\n",
         "line 1: header names column \"co2_tonnes\" twice"},
        {"\"plant\",metal,period,plant\n", "line 1: header names column \"plant\" twice"},
        /* The first failure is the one reported. */
        {"metal,metal\n", "line 1: header names column \"metal\" twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fails(r, cases[i].doc, strlen(cases[i].doc), cases[i].err);
}

static void test_malformed_quotes(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *doc;
        const char *err;
    } cases[] = {
        {HEADER "\nkz,copper,2025-01\nkz,cop\"per,2025-02\n",
         "line 3, column 7: error parsing data while strict checking enabled"},
        {HEADER "\r\n\"kz\"x,copper,2025-01\r\n",
         "line 2, column 5: error parsing data while strict checking enabled"},
        {HEADER "\nkz,copper,2025-01\nkz,\"copper,2025-02\nmore\n",
         "line 3: unterminated quoted field"},
        {HEADER "\nkz,copper,2025-01\n\n\"open,\nmore", "line 4: unterminated quoted field"},
        /* The open cell starts after the comma on line 4. */
        {HEADER "\nkz,copper,2025-01\n\"a\nb\",\"open\nstill open",
         "line 4: unterminated quoted field"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        parse_fails(r, cases[i].doc, strlen(cases[i].doc), cases[i].err);
}

static void test_empty_documents(void **state)
{
    struct recorder *r = *state;
    parse_fails(r, "", 0, "empty document");
    parse_fails(r, NULL, 0, "empty document");
    parse_fails(r, "\n\r\n \t\n", 6, "empty document");
    parse_fails(r, "\xEF\xBB\xBF", 3, "empty document");
}

static void test_header_only(void **state)
{
    struct recorder *r = *state;
    parse_ok(r, HEADER "\n", 0);
    parse_ok(r, HEADER, 0);
    parse_ok(r, "\xEF\xBB\xBF" HEADER "\r\n\r\n", 0);
}

static void test_nul_byte_fails(void **state)
{
    static const char doc[] = HEADER "\nkz,cop\0per,2025-01\n";
    parse_fails(*state, doc, sizeof(doc) - 1, "line 2, column 7: NUL byte");
}

static void test_cell_count_mismatch(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             HEADER "\n"
                    "kz,copper,2025-01,1,2\n"
                    "kz,copper,2025-02,1,2,3,4,5,6\n"
                    "kz\n"
                    "kz,copper,2025-03,1,2,3,4,5\n",
             4);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz", "copper", "2025-01", 2);
    assert_string_equal(rec->problem, "row has 5 cells, header has 8");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 1);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 2);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_WASTE_TONNES], FEED_VALUE_ABSENT, 0);
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_ABSENT, 0);

    rec = recorded_record(r, 1);
    assert_key(rec, "kz", "copper", "2025-02", 3);
    assert_string_equal(rec->problem, "row has 9 cells, header has 8");
    assert_value(rec->fields[RECORD_WASTE_RECYCLED_TONNES], FEED_VALUE_PRESENT, 5);

    rec = recorded_record(r, 2);
    assert_key(rec, "kz", NULL, NULL, 4);
    assert_string_equal(rec->problem, "row has 1 cell, header has 8");
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);

    rec = recorded_record(r, 3);
    assert_key(rec, "kz", "copper", "2025-03", 5);
    assert_null(rec->problem);
}

static void test_quantity_cells(void **state)
{
    struct recorder *r = *state;
    static const struct {
        const char *cell;
        enum feed_value_state state;
        double value;
    } cases[] = {
        {"", FEED_VALUE_ABSENT, 0},
        {"\"\"", FEED_VALUE_ABSENT, 0},
        {"\" \t \"", FEED_VALUE_ABSENT, 0},
        {"  -3  ", FEED_VALUE_PRESENT, -3},
        {"+4e2", FEED_VALUE_PRESENT, 400},
        {"\" 0.25\t\"", FEED_VALUE_PRESENT, 0.25},
        {"1E-2", FEED_VALUE_PRESENT, 0.01},
        {"abc", FEED_VALUE_INVALID, 0},
        {"NaN", FEED_VALUE_INVALID, 0},
        {"inf", FEED_VALUE_INVALID, 0},
        {"-Infinity", FEED_VALUE_INVALID, 0},
        {"1e999", FEED_VALUE_INVALID, 0},
        {"0x10", FEED_VALUE_INVALID, 0},
        {"\"1,5\"", FEED_VALUE_INVALID, 0},
        {"1.", FEED_VALUE_INVALID, 0},
        {".5", FEED_VALUE_INVALID, 0},
        {"1 000", FEED_VALUE_INVALID, 0},
        {"12t", FEED_VALUE_INVALID, 0},
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    char doc[1024] = "plant,metal,period,co2_tonnes\n";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(doc);
        snprintf(doc + used, sizeof(doc) - used, "kz,copper,2025-01,%s\n", cases[i].cell);
    }
    parse_ok(r, doc, n);
    for (size_t i = 0; i < n; i++) {
        const struct feed_raw_record *rec = recorded_record(r, i);
        assert_int_equal(rec->line, i + 2);
        assert_null(rec->problem);
        assert_value(rec->fields[RECORD_CO2_TONNES], cases[i].state, cases[i].value);
    }
}

static void test_empty_text_cells_are_null(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             "plant,metal,period,energy_mwh\n"
             ",,,1\n"
             "\"\",\"  \", \"\" ,\n",
             2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, NULL, NULL, NULL, 2);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_PRESENT, 1);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_key(rec, NULL, NULL, NULL, 3);
    assert_value(rec->fields[RECORD_ENERGY_MWH], FEED_VALUE_ABSENT, 0);
    assert_null(rec->problem);
}

static void test_blank_lines_are_skipped(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             "\n\n" HEADER "\n"              /* header on line 3 */
             "\n   \n"                       /* lines 4 and 5 */
             "a,copper,2025-01,,,,,\n"       /* line 6 */
             "\t\r\n"                        /* line 7 */
             "b,zinc,2025-02,1,,,,\n\n\n",   /* line 8 */
             2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "a", "copper", "2025-01", 6);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_ABSENT, 0);
    assert_null(rec->problem);
    rec = recorded_record(r, 1);
    assert_key(rec, "b", "zinc", "2025-02", 8);
    assert_value(rec->fields[RECORD_PRODUCTION_TONNES], FEED_VALUE_PRESENT, 1);
    assert_null(rec->problem);
}

static void test_long_cells(void **state)
{
    struct recorder *r = *state;
    /* Longer than libcsv's first buffer, to check the second pass reuses it. */
    char doc[2048] = "plant,metal,period\n\"";
    size_t used = strlen(doc);
    memset(doc + used, 'x', 1000);
    used += 1000;
    snprintf(doc + used, sizeof(doc) - used, "\",copper,2025-01\nshort,zinc,2025-02\n");
    parse_ok(r, doc, 2);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_int_equal(strlen(rec->plant), 1000);
    assert_int_equal(strspn(rec->plant, "x"), 1000);
    assert_key(recorded_record(r, 1), "short", "zinc", "2025-02", 3);
}

/* Bytes are not decoded: invalid UTF-8 reaches the record as it is, for
 * the plant, metal and period rules to reject; a timestamp period too.
 * Everything at once: a BOM, CRLF, a quoted line break, a ragged row. */
static void test_bytes_pass_through(void **state)
{
    struct recorder *r = *state;
    parse_ok(r,
             "\xEF\xBB\xBFplant,metal,period,co2_tonnes\r\n"
             "kz-\xff,zinc,2025-03-14T08:00:00+05:00,-0\r\n"
             "\"kz\r\n-a\",\xed\xa0\x80,2025-01,1e400\r\n"
             "kz-a,zinc\r\n",
             3);
    const struct feed_raw_record *rec = recorded_record(r, 0);
    assert_key(rec, "kz-\xff", "zinc", "2025-03-14T08:00:00+05:00", 2);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_PRESENT, 0);
    assert_true(signbit(rec->fields[RECORD_CO2_TONNES].value));
    rec = recorded_record(r, 1);
    assert_key(rec, "kz\r\n-a", "\xed\xa0\x80", "2025-01", 3);
    assert_value(rec->fields[RECORD_CO2_TONNES], FEED_VALUE_INVALID, 0);
    assert_null(rec->problem);
    rec = recorded_record(r, 2);
    assert_key(rec, "kz-a", "zinc", NULL, 5);
    assert_string_equal(rec->problem, "row has 2 cells, header has 4");
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, recorder_setup, recorder_teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_rows_in_order),
        TEST(test_crlf_and_no_final_line_end),
        TEST(test_lone_cr_ends_lines),
        TEST(test_bom_is_skipped),
        TEST(test_quoted_cells),
        TEST(test_columns_in_any_order),
        TEST(test_header_failures),
        TEST(test_malformed_quotes),
        TEST(test_empty_documents),
        TEST(test_header_only),
        TEST(test_nul_byte_fails),
        TEST(test_cell_count_mismatch),
        TEST(test_quantity_cells),
        TEST(test_empty_text_cells_are_null),
        TEST(test_blank_lines_are_skipped),
        TEST(test_long_cells),
        TEST(test_bytes_pass_through),
    };
#undef TEST
    return cmocka_run_group_tests(tests, NULL, NULL);
}
