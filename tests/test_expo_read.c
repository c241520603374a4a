/*
 * test_expo_read: reading back what expo writes. Families with awkward
 * label values (quotes, backslashes, newlines, UTF-8) and special values
 * are written by expo and read back exactly; comment and blank lines are
 * skipped; each malformed line is named with its number.
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

#include "expo.h"
#include "expo_read.h"

struct seen {
    char lines[16][256];
    size_t n;
};

/* Records "name|l1=v1|l2=v2|value" per sample. */
static int record(void *arg, const char *name, const struct expo_label *labels, size_t n,
                  double value)
{
    struct seen *s = arg;
    char *out = s->lines[s->n++];
    int at = snprintf(out, 256, "%s", name);
    for (size_t i = 0; i < n; i++)
        at += snprintf(out + at, (size_t)(256 - at), "|%s=%s", labels[i].name, labels[i].value);
    snprintf(out + at, (size_t)(256 - at), "|%.17g", value);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct expo *e = expo_new(EXPO_FORMAT_TEXT);
    expo_family(e, "ingot_national_production_tonnes", EXPO_GAUGE, "Help with \\ and \n.");
    struct expo_label labels[] = {{"metal", "cop\"per\\"}, {"year", "20\n25"}};
    expo_sample(e, labels, 2, 280000.125);
    struct expo_label utf8 = {"plant_name", "Балхаш"};
    expo_sample(e, &utf8, 1, -0.0);
    expo_sample(e, NULL, 0, 1e-300);
    expo_family(e, "ingot_feed_fetches", EXPO_COUNTER, "Counter.");
    struct expo_label ok = {"result", "ok"};
    expo_sample(e, &ok, 1, 12);
    size_t len;
    char *text = expo_take(e, &len);
    expo_free(e);

    struct seen s = {0};
    char err[64];
    assert_int_equal(expo_read_text(text, len, record, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.lines[0],
                        "ingot_national_production_tonnes|metal=cop\"per\\|year=20\n25|280000.125");
    assert_string_equal(s.lines[1], "ingot_national_production_tonnes|plant_name=Балхаш|-0");
    assert_string_equal(s.lines[2], "ingot_national_production_tonnes|1e-300");
    assert_string_equal(s.lines[3], "ingot_feed_fetches_total|result=ok|12");
    free(text);
}

static void test_special_values(void **state)
{
    (void)state;
    static const char text[] = "# HELP a x\n\na +Inf\nb{x=\"1\",} -Inf\nc NaN\nd 1e+06";
    struct seen s = {0};
    char err[64];
    assert_int_equal(expo_read_text(text, strlen(text), record, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.lines[0], "a|inf");
    assert_string_equal(s.lines[1], "b|x=1|-inf");
    assert_string_equal(s.lines[2], "c|nan");
    assert_string_equal(s.lines[3], "d|1000000");
}

static int stop(void *arg, const char *name, const struct expo_label *labels, size_t n,
                double value)
{
    (void)name;
    (void)labels;
    (void)n;
    (void)value;
    (*(int *)arg)++;
    return -1;
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"a 1\n9x 1\n", "line 2: expected a metric name"},
        {"a{b=1} 1", "line 1: expected =\" after a label name"},
        {"a{b=\"1} 1", "line 1: unterminated label value"},
        {"a{b=\"\\t\"} 1", "line 1: unknown escape in a label value"},
        {"a{b=\"1\" c=\"2\"} 1", "line 1: expected , or } after a label"},
        {"a{=\"1\"} 1", "line 1: expected a label name"},
        {"a\t1", "line 1: expected a space before the value"},
        {"a one", "line 1: the value is not a number"},
        {"a 1 1700000000000", "line 1: the value is not a number"},
        {"a 1e999", "line 1: the value is not a number"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen s = {0};
        char err[64] = "";
        assert_int_equal(expo_read_text(cases[i].text, strlen(cases[i].text), record, &s, err,
                                        sizeof(err)),
                         -1);
        assert_string_equal(err, cases[i].err);
    }
    static const char nul[] = "a 1\nb\0 2\n";
    struct seen s = {0};
    char err[64] = "";
    assert_int_equal(expo_read_text(nul, sizeof(nul) - 1, record, &s, err, sizeof(err)), -1);
    assert_string_equal(err, "line 2: NUL byte");

    char many[2048];
    int at = snprintf(many, sizeof(many), "a{");
    for (int i = 0; i <= EXPO_READ_MAX_LABELS; i++)
        at += snprintf(many + at, sizeof(many) - (size_t)at, "l%d=\"v\",", i);
    snprintf(many + at, sizeof(many) - (size_t)at, "} 1");
    assert_int_equal(expo_read_text(many, strlen(many), record, &s, err, sizeof(err)), -1);
    assert_string_equal(err, "line 1: too many labels");

    int calls = 0;
    strcpy(err, "untouched");
    assert_int_equal(expo_read_text("a 1\nb 2\n", 8, stop, &calls, err, sizeof(err)), -1);
    assert_int_equal(calls, 1);
    assert_string_equal(err, "untouched");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
