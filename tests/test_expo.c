/*
 * test_expo: exact output of the exposition writer — HELP/TYPE lines,
 * escaping, value formatting, omission of non-finite samples, the buffer's
 * take-and-reuse cycle, a 100k-sample render, and allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"

/*
 * Failure injection. Linked with -Wl,--wrap=realloc, expo.c's realloc calls
 * come here; realloc_fail_at numbers the call (counted from the last
 * reset_realloc) that returns NULL, 0 for none. __real_realloc is weak so
 * that the binary still links without the flag; test_alloc_failure then
 * fails and says so rather than passing without testing anything.
 */
extern void *__real_realloc(void *ptr, size_t size) __attribute__((weak));
void *__wrap_realloc(void *ptr, size_t size);

static int realloc_calls;
static int realloc_fail_at;

void *__wrap_realloc(void *ptr, size_t size)
{
    if (++realloc_calls == realloc_fail_at)
        return NULL;
    return __real_realloc(ptr, size);
}

static void reset_realloc(int fail_at)
{
    realloc_calls = 0;
    realloc_fail_at = fail_at;
}

static int setup(void **state)
{
    reset_realloc(0);
    *state = expo_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    expo_free(*state);
    return 0;
}

/* Takes the writer's text and checks it is exactly expected. */
static void assert_output(struct expo *e, const char *expected)
{
    size_t len = 99;
    char *text = expo_take(e, &len);
    assert_non_null(text);
    assert_string_equal(text, expected);
    assert_int_equal(len, strlen(expected));
    free(text);
}

struct format_case {
    double value;
    const char *text;
};

static void test_format_table(void **state)
{
    (void)state;
    static const struct format_case cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {-42.0, "-42"},
        {0.1, "0.1"},
        {9800.5, "9800.5"},
        {280000.0, "280000"},
        {999999999999999.0, "999999999999999"},
        {1e15, "1e+15"},
        {1e21, "1e+21"},
        {1e-7, "1e-07"},
        {0.30000000000000004, "0.30000000000000004"},
        {2.0 / 3.0, "0.6666666666666666"},
        {-1.5, "-1.5"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {-DBL_MAX, "-1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {5e-324, "4.94065645841247e-324"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'x', sizeof(buf));
        size_t n = expo_format_double(cases[i].value, buf);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(n, strlen(cases[i].text));
        double back = strtod(buf, NULL);
        assert_true(back == cases[i].value);
        assert_int_equal(!!signbit(back), !!signbit(cases[i].value));
    }
}

static void test_format_non_finite(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(expo_format_double(INFINITY, buf), 4);
    assert_string_equal(buf, "+Inf");
    assert_int_equal(expo_format_double(-INFINITY, buf), 4);
    assert_string_equal(buf, "-Inf");
    assert_int_equal(expo_format_double(NAN, buf), 3);
    assert_string_equal(buf, "NaN");
    assert_int_equal(expo_format_double(-NAN, buf), 3);
    assert_string_equal(buf, "NaN");
}

/* Integral values print as "%.15g" would print them, and every value
 * round-trips; the values are spread over many magnitudes of both signs. */
static void test_format_sweep(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double integral = (double)(x >> (11 + i % 53));
        if (i % 2)
            integral = -integral;
        char got[32], want[32];
        expo_format_double(integral, got);
        if (fabs(integral) < 1e15) {
            snprintf(want, sizeof(want), "%.15g", integral);
            assert_string_equal(got, want);
        }
        assert_true(strtod(got, NULL) == integral);

        double fraction = integral / 1024.0 / (double)(1 + i % 1000);
        expo_format_double(fraction, got);
        assert_true(strtod(got, NULL) == fraction);
    }
}

static void test_gauge_with_labels(void **state)
{
    struct expo *e = *state;
    const struct expo_label labels[] = {{"a", "x"}, {"b", "y"}};
    expo_family(e, "ingot_temp_celsius", EXPO_GAUGE, "Temperature.");
    expo_sample(e, labels, 2, 21.5);
    expo_sample(e, labels, 1, -3);
    assert_output(e, "# HELP ingot_temp_celsius Temperature.\n"
                     "# TYPE ingot_temp_celsius gauge\n"
                     "ingot_temp_celsius{a=\"x\",b=\"y\"} 21.5\n"
                     "ingot_temp_celsius{a=\"x\"} -3\n");
}

static void test_counter_total(void **state)
{
    struct expo *e = *state;
    const struct expo_label label = {"feed", "grid"};
    expo_family(e, "ingot_fetches", EXPO_COUNTER, "Fetches made.");
    expo_sample(e, &label, 1, 280000);
    expo_sample(e, NULL, 0, 7);
    assert_output(e, "# HELP ingot_fetches_total Fetches made.\n"
                     "# TYPE ingot_fetches_total counter\n"
                     "ingot_fetches_total{feed=\"grid\"} 280000\n"
                     "ingot_fetches_total 7\n");
}

static void test_no_labels(void **state)
{
    struct expo *e = *state;
    expo_family(e, "ingot_up", EXPO_GAUGE, "1 if up.");
    expo_sample(e, NULL, 0, 1);
    assert_output(e, "# HELP ingot_up 1 if up.\n"
                     "# TYPE ingot_up gauge\n"
                     "ingot_up 1\n");
}

static void test_label_escaping(void **state)
{
    struct expo *e = *state;
    const struct expo_label labels[] = {
        {"mixed", "a\\b\"c\nd"},
        {"edges", "\"\\\n"},
        {"doubled", "\\\\\"\"\n\n"},
        {"empty", ""},
        {"utf8", "Zürich – 東京"},
    };
    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, labels, 5, 0.5);
    assert_output(e, "# HELP m h\n"
                     "# TYPE m gauge\n"
                     "m{mixed=\"a\\\\b\\\"c\\nd\",edges=\"\\\"\\\\\\n\","
                     "doubled=\"\\\\\\\\\\\"\\\"\\n\\n\",empty=\"\","
                     "utf8=\"Zürich – 東京\"} 0.5\n");
}

static void test_help_escaping(void **state)
{
    struct expo *e = *state;
    expo_family(e, "m", EXPO_GAUGE, "say \"hi\" to C:\\dir\nnext line\\");
    expo_family(e, "n", EXPO_GAUGE, "");
    assert_output(e, "# HELP m say \"hi\" to C:\\\\dir\\nnext line\\\\\n"
                     "# TYPE m gauge\n"
                     "# HELP n \n"
                     "# TYPE n gauge\n");
}

static void test_non_finite_omitted(void **state)
{
    struct expo *e = *state;
    const struct expo_label label = {"k", "v"};
    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, &label, 1, NAN);
    expo_sample(e, &label, 1, INFINITY);
    expo_sample(e, NULL, 0, -INFINITY);
    expo_sample(e, &label, 1, 2);
    assert_output(e, "# HELP m h\n"
                     "# TYPE m gauge\n"
                     "m{k=\"v\"} 2\n");
}

static void test_families_in_order(void **state)
{
    struct expo *e = *state;
    const struct expo_label label = {"zone", "a"};
    expo_family(e, "b_first", EXPO_GAUGE, "First.");
    expo_sample(e, &label, 1, 1);
    expo_family(e, "a_second", EXPO_COUNTER, "Second.");
    expo_sample(e, &label, 1, 2);
    expo_sample(e, NULL, 0, 3);
    expo_family(e, "c_third", EXPO_GAUGE, "Third.");
    expo_sample(e, NULL, 0, 0.25);
    assert_output(e, "# HELP b_first First.\n"
                     "# TYPE b_first gauge\n"
                     "b_first{zone=\"a\"} 1\n"
                     "# HELP a_second_total Second.\n"
                     "# TYPE a_second_total counter\n"
                     "a_second_total{zone=\"a\"} 2\n"
                     "a_second_total 3\n"
                     "# HELP c_third Third.\n"
                     "# TYPE c_third gauge\n"
                     "c_third 0.25\n");
}

static void test_take_resets(void **state)
{
    struct expo *e = *state;
    assert_output(e, "");

    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, NULL, 0, 1);
    assert_output(e, "# HELP m h\n# TYPE m gauge\nm 1\n");
    assert_output(e, "");

    expo_family(e, "n", EXPO_COUNTER, "g");
    expo_sample(e, NULL, 0, 2);
    assert_output(e, "# HELP n_total g\n# TYPE n_total counter\nn_total 2\n");
}

#define BIG_SAMPLES 100000

static void test_large_output(void **state)
{
    struct expo *e = *state;
    static const char head[] = "# HELP ingot_big Many series.\n"
                               "# TYPE ingot_big gauge\n";
    size_t expected = strlen(head);
    expo_family(e, "ingot_big", EXPO_GAUGE, "Many series.");
    for (int i = 0; i < BIG_SAMPLES; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%d", i);
        const struct expo_label labels[] = {{"job", "ingot"}, {"id", id}};
        expo_sample(e, labels, 2, i + 0.5);
        expected += (size_t)snprintf(NULL, 0, "ingot_big{job=\"ingot\",id=\"%d\"} %d.5\n", i, i);
    }
    size_t len = 0;
    char *text = expo_take(e, &len);
    assert_non_null(text);
    assert_int_equal(len, expected);
    assert_int_equal(strlen(text), expected);
    assert_memory_equal(text, head, strlen(head));
    const char *first = text + strlen(head);
    static const char first_line[] = "ingot_big{job=\"ingot\",id=\"0\"} 0.5\n";
    assert_memory_equal(first, first_line, strlen(first_line));
    static const char last_line[] = "ingot_big{job=\"ingot\",id=\"99999\"} 99999.5\n";
    assert_string_equal(text + len - strlen(last_line), last_line);
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, BIG_SAMPLES + 2);
    free(text);
}

static void test_alloc_failure(void **state)
{
    struct expo *e = *state;
    expo_family(e, "m", EXPO_GAUGE, "h");
    if (realloc_calls == 0)
        fail_msg("test_expo must be linked with -Wl,--wrap=realloc");
    assert_output(e, "# HELP m h\n# TYPE m gauge\n");

    /* The first allocation fails: nothing is written, take says so. */
    reset_realloc(1);
    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, NULL, 0, 1);
    size_t len = 99;
    assert_null(expo_take(e, &len));
    assert_int_equal(len, 0);

    /* A later growth fails: what was written is dropped, the writer
     * ignores further calls until take, and works again after it. */
    reset_realloc(3);
    expo_family(e, "m", EXPO_GAUGE, "h");
    for (int i = 0; i < 10000; i++)
        expo_sample(e, NULL, 0, i);
    assert_int_equal(realloc_calls, 3);
    expo_family(e, "n", EXPO_GAUGE, "h");
    assert_null(expo_take(e, &len));
    assert_int_equal(len, 0);

    reset_realloc(0);
    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, NULL, 0, 1);
    assert_output(e, "# HELP m h\n# TYPE m gauge\nm 1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_format_non_finite),
        cmocka_unit_test(test_format_sweep),
        cmocka_unit_test_setup_teardown(test_gauge_with_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_total, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_finite_omitted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_families_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_resets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
