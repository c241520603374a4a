/*
 * test_number: the strict decimal number parser.
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

#include "number.h"

static void test_accepts_decimal_forms(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        {"0", 0},          {"42", 42},         {"-42", -42},        {"+42", 42},
        {"007", 7},        {"9800.5", 9800.5}, {"-0.25", -0.25},    {"1e3", 1000},
        {"1E+3", 1000},    {"25e-2", 0.25},    {"1.5e2", 150},      {"0.1", 0.1},
        {"1e308", 1e308},  {"123456789012345678901234567890", 1.2345678901234568e29},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double out = -1;
        assert_int_equal(number_parse(cases[i].text, strlen(cases[i].text), &out), 0);
        assert_true(out == cases[i].value);
    }
}

static void test_rejects_everything_else(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",      "-",      "+",     ".",     "1.",       "1.e5",  ".5",  "-.5",
        "1e",    "1e+",    "e5",    "1.5.",  "1e5.",     "1e5e5", "--1", "+-1",
        " 1",    "1 ",     "1\t",   "1 000", "1,5",      "1_000", "0x10", "0X1A",
        "inf",   "-inf",   "NaN",   "nan",   "Infinity", "1e999", "-1e999",
        "\xd9\xa1", /* ARABIC-INDIC DIGIT ONE */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double out = 123;
        assert_int_equal(number_parse(cases[i], strlen(cases[i]), &out), -1);
        assert_true(out == 123);
    }
}

static void test_reads_exactly_len_bytes(void **state)
{
    (void)state;
    double out = 0;
    assert_int_equal(number_parse("12345", 2, &out), 0);
    assert_true(out == 12);
    assert_int_equal(number_parse("1.5e3x", 5, &out), 0);
    assert_true(out == 1500);
    assert_int_equal(number_parse("7", 0, &out), -1);
}

static void test_length_limit(void **state)
{
    (void)state;
    char text[NUMBER_MAX_LEN + 2];
    memset(text, '0', sizeof(text));
    text[NUMBER_MAX_LEN - 1] = '5';
    double out = 0;
    assert_int_equal(number_parse(text, NUMBER_MAX_LEN, &out), 0);
    assert_true(out == 5);
    text[NUMBER_MAX_LEN] = '5';
    assert_int_equal(number_parse(text, NUMBER_MAX_LEN + 1, &out), -1);
}

static void test_tiny_and_negative_zero(void **state)
{
    (void)state;
    double out = 1;
    assert_int_equal(number_parse("1e-400", 6, &out), 0);
    assert_true(out == 0);
    assert_int_equal(number_parse("-0", 2, &out), 0);
    assert_true(out == 0 && signbit(out));
}

/* The short fast path gives strtod's value, bit for bit, and declines
 * what it does not handle. */
static void test_short_form_matches_strtod(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    char text[40];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int frac = (int)(x % 16);
        uint64_t digits = (x >> 8) % 1000000000000000u; /* up to 15 digits */
        int n = snprintf(text, sizeof(text), "%s%0*llu", (x >> 4) & 1 ? "-" : "", frac + 1,
                         (unsigned long long)digits);
        if (frac) { /* a point before the last frac digits */
            memmove(text + n - frac + 1, text + n - frac, (size_t)frac + 1);
            text[n - frac] = '.';
            n++;
        }
        double fast = 0, slow = strtod(text, NULL);
        if (number_parse_short(text, (size_t)n, &fast) == 0)
            assert_memory_equal(&fast, &slow, sizeof(fast));
        else
            assert_true(strlen(text) - (text[0] == '-') - (strchr(text, '.') != NULL) > 15);
    }
    double v = 7;
    assert_int_equal(number_parse_short("-0", 2, &v), 0);
    assert_true(v == 0 && signbit(v));
    assert_int_equal(number_parse_short("1234567890123456", 16, &v), -1);
    assert_int_equal(number_parse_short("1e3", 3, &v), -1);
    assert_int_equal(number_parse_short("1.", 2, &v), -1);
    assert_int_equal(number_parse_short(".5", 2, &v), -1);
    assert_int_equal(number_parse_short("1.2.3", 5, &v), -1);
    assert_int_equal(number_parse_short("", 0, &v), -1);
    assert_true(v == 0);
}

static void test_decimal_comma(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double value;
    } good[] = {
        {"0", 0},           {"1234,5", 1234.5},     {"1.234,5", 1234.5},
        {"1.234", 1234},    {"-1.234.567,89", -1234567.89},
        {"+0,25", 0.25},    {"-0,25e3", -250},      {"12.345.678", 12345678},
        {"999.000,001", 999000.001}, {"1,5E-1", 0.15}, {"007", 7},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double out = -1;
        assert_int_equal(number_parse_decimal_comma(good[i].text, strlen(good[i].text), &out),
                         0);
        assert_true(out == good[i].value);
    }
    static const char *const bad[] = {
        "",        "-",        ",5",      "1,",      "1.5",      "12.34",   "1.2345",
        "1234.567", ".123",    "1..234",  "1.234.",  "1,234.5",  "1,2,3",   "1,5e1.0",
        "1.234,",  "1 234,5",  "NaN",     "1e999",   "1,5 ",     " 1,5",    "1.234,5.6",
        "0x1,5",   "1.234e3,5",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double out = 123;
        assert_int_equal(number_parse_decimal_comma(bad[i], strlen(bad[i]), &out), -1);
        assert_true(out == 123);
    }
    char text[NUMBER_MAX_LEN + 1];
    memset(text, '1', sizeof(text));
    double out = 0;
    assert_int_equal(number_parse_decimal_comma(text, NUMBER_MAX_LEN + 1, &out), -1);
    assert_int_equal(number_parse_decimal_comma(text, NUMBER_MAX_LEN, &out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_decimal_forms),
        cmocka_unit_test(test_rejects_everything_else),
        cmocka_unit_test(test_reads_exactly_len_bytes),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_tiny_and_negative_zero),
        cmocka_unit_test(test_decimal_comma),
        cmocka_unit_test(test_short_form_matches_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
