/*
 * test_expo: exact output of the exposition writer in text 0.0.4 and
 * OpenMetrics 1.0.0 — metadata lines (HELP/TYPE; TYPE/UNIT/HELP), escaping,
 * counter naming, histograms and their canonical "le" values, "# EOF",
 * value formatting, omission of non-finite samples, the buffer's
 * take-and-reuse cycle, a 100k-sample render, allocation failure, and text
 * output checked by promtool when /usr/bin/promtool exists.
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
#include <sys/wait.h>
#include <unistd.h>

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
    *state = expo_new(EXPO_FORMAT_TEXT);
    return *state == NULL ? -1 : 0;
}

static int setup_om(void **state)
{
    reset_realloc(0);
    *state = expo_new(EXPO_FORMAT_OPENMETRICS);
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


/*
 * Both formats side by side: a fixture with a text 0.0.4 writer and an
 * OpenMetrics writer, and scenarios each written into both.
 */
struct pair {
    struct expo *text;
    struct expo *om;
};

static int setup_pair(void **state)
{
    reset_realloc(0);
    struct pair *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->text = expo_new(EXPO_FORMAT_TEXT);
    p->om = expo_new(EXPO_FORMAT_OPENMETRICS);
    *state = p;
    return p->text == NULL || p->om == NULL ? -1 : 0;
}

static int teardown_pair(void **state)
{
    struct pair *p = *state;
    expo_free(p->text);
    expo_free(p->om);
    free(p);
    return 0;
}

/* A gauge with a unit suffix, a quote in HELP and in a label value. */
static void write_gauge(struct expo *e)
{
    const struct expo_label label = {"plant", "a\"b"};
    expo_family(e, "ingot_plant_output_tonnes", EXPO_GAUGE, "Metal output, \"as reported\".");
    expo_sample(e, &label, 1, 21.5);
    expo_sample(e, NULL, 0, 0.1);
}

#define GAUGE_TEXT                                                                                 \
    "# HELP ingot_plant_output_tonnes Metal output, \"as reported\".\n"                            \
    "# TYPE ingot_plant_output_tonnes gauge\n"                                                     \
    "ingot_plant_output_tonnes{plant=\"a\\\"b\"} 21.5\n"                                           \
    "ingot_plant_output_tonnes 0.1\n"

#define GAUGE_OM                                                                                   \
    "# TYPE ingot_plant_output_tonnes gauge\n"                                                     \
    "# UNIT ingot_plant_output_tonnes tonnes\n"                                                    \
    "# HELP ingot_plant_output_tonnes Metal output, \\\"as reported\\\".\n"                        \
    "ingot_plant_output_tonnes{plant=\"a\\\"b\"} 21.5\n"                                           \
    "ingot_plant_output_tonnes 0.1\n"

/* A counter without a unit and one with a unit. */
static void write_counters(struct expo *e)
{
    const struct expo_label labels[] = {{"feed", "grid"}, {"result", "ok"}};
    expo_family(e, "ingot_feed_fetches", EXPO_COUNTER, "Fetches of the feed, by result.");
    expo_sample(e, labels, 2, 280000);
    expo_family(e, "process_cpu_seconds", EXPO_COUNTER,
                "Total user and system CPU time spent in seconds.");
    expo_sample(e, NULL, 0, 1.25);
}

#define COUNTERS_TEXT                                                                              \
    "# HELP ingot_feed_fetches_total Fetches of the feed, by result.\n"                            \
    "# TYPE ingot_feed_fetches_total counter\n"                                                    \
    "ingot_feed_fetches_total{feed=\"grid\",result=\"ok\"} 280000\n"                               \
    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"          \
    "# TYPE process_cpu_seconds_total counter\n"                                                   \
    "process_cpu_seconds_total 1.25\n"

#define COUNTERS_OM                                                                                \
    "# TYPE ingot_feed_fetches counter\n"                                                          \
    "# HELP ingot_feed_fetches Fetches of the feed, by result.\n"                                  \
    "ingot_feed_fetches_total{feed=\"grid\",result=\"ok\"} 280000\n"                               \
    "# TYPE process_cpu_seconds counter\n"                                                         \
    "# UNIT process_cpu_seconds seconds\n"                                                         \
    "# HELP process_cpu_seconds Total user and system CPU time spent in seconds.\n"                \
    "process_cpu_seconds_total 1.25\n"

/* A histogram with a label and one without; integral bounds show the
 * formats' different "le" spellings. */
static void write_histogram(struct expo *e)
{
    static const double bounds[] = {0.005, 0.25, 1, 10};
    static const uint64_t counts[] = {1, 5, 7, 7};
    static const uint64_t zeros[] = {0, 0, 0, 0};
    const struct expo_label label = {"handler", "metrics"};
    expo_family(e, "ingot_http_request_duration_seconds", EXPO_HISTOGRAM, "Time to answer.");
    expo_histogram(e, &label, 1, bounds, counts, 4, 9, 12.5);
    expo_histogram(e, NULL, 0, bounds, zeros, 4, 0, 0);
}

#define H "ingot_http_request_duration_seconds"

#define HISTOGRAM_TEXT                                                                             \
    "# HELP " H " Time to answer.\n"                                                               \
    "# TYPE " H " histogram\n"                                                                     \
    H "_bucket{handler=\"metrics\",le=\"0.005\"} 1\n"                                              \
    H "_bucket{handler=\"metrics\",le=\"0.25\"} 5\n"                                               \
    H "_bucket{handler=\"metrics\",le=\"1\"} 7\n"                                                  \
    H "_bucket{handler=\"metrics\",le=\"10\"} 7\n"                                                 \
    H "_bucket{handler=\"metrics\",le=\"+Inf\"} 9\n"                                               \
    H "_sum{handler=\"metrics\"} 12.5\n"                                                           \
    H "_count{handler=\"metrics\"} 9\n"                                                            \
    H "_bucket{le=\"0.005\"} 0\n"                                                                  \
    H "_bucket{le=\"0.25\"} 0\n"                                                                   \
    H "_bucket{le=\"1\"} 0\n"                                                                      \
    H "_bucket{le=\"10\"} 0\n"                                                                     \
    H "_bucket{le=\"+Inf\"} 0\n"                                                                   \
    H "_sum 0\n"                                                                                   \
    H "_count 0\n"

#define HISTOGRAM_OM                                                                               \
    "# TYPE " H " histogram\n"                                                                     \
    "# UNIT " H " seconds\n"                                                                       \
    "# HELP " H " Time to answer.\n"                                                               \
    H "_bucket{handler=\"metrics\",le=\"0.005\"} 1\n"                                              \
    H "_bucket{handler=\"metrics\",le=\"0.25\"} 5\n"                                               \
    H "_bucket{handler=\"metrics\",le=\"1.0\"} 7\n"                                                \
    H "_bucket{handler=\"metrics\",le=\"10.0\"} 7\n"                                               \
    H "_bucket{handler=\"metrics\",le=\"+Inf\"} 9\n"                                               \
    H "_sum{handler=\"metrics\"} 12.5\n"                                                           \
    H "_count{handler=\"metrics\"} 9\n"                                                            \
    H "_bucket{le=\"0.005\"} 0\n"                                                                  \
    H "_bucket{le=\"0.25\"} 0\n"                                                                   \
    H "_bucket{le=\"1.0\"} 0\n"                                                                    \
    H "_bucket{le=\"10.0\"} 0\n"                                                                   \
    H "_bucket{le=\"+Inf\"} 0\n"                                                                   \
    H "_sum 0\n"                                                                                   \
    H "_count 0\n"

static void test_both_gauge(void **state)
{
    struct pair *p = *state;
    write_gauge(p->text);
    write_gauge(p->om);
    assert_output(p->text, GAUGE_TEXT);
    assert_output(p->om, GAUGE_OM);
}

static void test_both_counter(void **state)
{
    struct pair *p = *state;
    write_counters(p->text);
    write_counters(p->om);
    assert_output(p->text, COUNTERS_TEXT);
    assert_output(p->om, COUNTERS_OM);
}

static void test_both_histogram(void **state)
{
    struct pair *p = *state;
    write_histogram(p->text);
    write_histogram(p->om);
    assert_output(p->text, HISTOGRAM_TEXT);
    assert_output(p->om, HISTOGRAM_OM);
}

/* A whole exposition: "# EOF" only in OpenMetrics, no blank lines. */
static void test_both_exposition_eof(void **state)
{
    struct pair *p = *state;
    struct expo *writers[] = {p->text, p->om};
    for (size_t i = 0; i < 2; i++) {
        write_gauge(writers[i]);
        write_counters(writers[i]);
        write_histogram(writers[i]);
        expo_eof(writers[i]);
    }
    assert_output(p->text, GAUGE_TEXT COUNTERS_TEXT HISTOGRAM_TEXT);
    assert_output(p->om, GAUGE_OM COUNTERS_OM HISTOGRAM_OM "# EOF\n");

    /* An empty exposition is just the EOF line. */
    expo_eof(p->text);
    expo_eof(p->om);
    assert_output(p->text, "");
    assert_output(p->om, "# EOF\n");
}

static void test_om_help_escaping(void **state)
{
    struct pair *p = *state;
    const char *help = "say \"hi\" to C:\\dir\nnext line\\";
    expo_family(p->text, "m", EXPO_GAUGE, help);
    expo_family(p->om, "m", EXPO_GAUGE, help);
    expo_family(p->om, "n", EXPO_GAUGE, "");
    assert_output(p->text, "# HELP m say \"hi\" to C:\\\\dir\\nnext line\\\\\n"
                           "# TYPE m gauge\n");
    assert_output(p->om, "# TYPE m gauge\n"
                         "# HELP m say \\\"hi\\\" to C:\\\\dir\\nnext line\\\\\n"
                         "# TYPE n gauge\n"
                         "# HELP n \n");
}

static void test_om_label_escaping(void **state)
{
    struct expo *e = *state;
    const struct expo_label labels[] = {
        {"mixed", "a\\b\"c\nd"},
        {"utf8", "Zürich – 東京"},
    };
    expo_family(e, "m", EXPO_GAUGE, "h");
    expo_sample(e, labels, 2, 0.5);
    assert_output(e, "# TYPE m gauge\n"
                     "# HELP m h\n"
                     "m{mixed=\"a\\\\b\\\"c\\nd\",utf8=\"Zürich – 東京\"} 0.5\n");
}

struct unit_case {
    const char *name;
    enum expo_type type;
    const char *unit; /* NULL: no UNIT line */
};

static void test_om_unit_table(void **state)
{
    struct expo *e = *state;
    static const struct unit_case cases[] = {
        {"ingot_render_seconds", EXPO_GAUGE, "seconds"},
        {"ingot_exposition_bytes", EXPO_GAUGE, "bytes"},
        {"ingot_emission_intensity_tonnes_per_tonne", EXPO_GAUGE, "tonnes_per_tonne"},
        {"ingot_energy_intensity_mwh_per_tonne", EXPO_GAUGE, "mwh_per_tonne"},
        {"ingot_capacity_tonnes_per_year", EXPO_GAUGE, "tonnes_per_year"},
        {"ingot_production_tonnes", EXPO_GAUGE, "tonnes"},
        {"ingot_energy_mwh", EXPO_COUNTER, "mwh"},
        {"ingot_target_progress_ratio", EXPO_GAUGE, "ratio"},
        {"ingot_request_duration_seconds", EXPO_HISTOGRAM, "seconds"},
        {"process_cpu_seconds", EXPO_COUNTER, "seconds"},
        {"ingot_bytes_ratio", EXPO_GAUGE, "ratio"},
        {"_seconds", EXPO_GAUGE, "seconds"},
        {"ingot_feed_fetches", EXPO_COUNTER, NULL},
        {"ingot_build_info", EXPO_GAUGE, NULL},
        {"ingot_megabytes", EXPO_GAUGE, NULL},
        {"ingot_kilotonnes", EXPO_GAUGE, NULL},
        {"ingot_per_tonne", EXPO_GAUGE, NULL},
        {"ingot_seconds_total", EXPO_GAUGE, NULL},
        {"seconds", EXPO_GAUGE, NULL},
        {"ingot_ratio_x", EXPO_GAUGE, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static const char *const types[] = {"gauge", "counter", "histogram"};
        char want[256];
        int n = snprintf(want, sizeof(want), "# TYPE %s %s\n", cases[i].name, types[cases[i].type]);
        if (cases[i].unit != NULL)
            n += snprintf(want + n, sizeof(want) - (size_t)n, "# UNIT %s %s\n", cases[i].name,
                          cases[i].unit);
        snprintf(want + n, sizeof(want) - (size_t)n, "# HELP %s h\n", cases[i].name);
        expo_family(e, cases[i].name, cases[i].type, "h");
        assert_output(e, want);
    }
}

struct le_case {
    double bound;
    const char *om;   /* OpenMetrics canonical number */
    const char *text; /* expo_format_double */
};

/* The spec's canonical examples (0.0 ... 10.0 and 1e-10 ... 1e+10), Go's
 * switch to exponent form at 1e+06, and values needing 17 digits. */
static void test_le_formats(void **state)
{
    struct pair *p = *state;
    static const struct le_case cases[] = {
        {0.0, "0.0", "0"},
        {1e-10, "1e-10", "1e-10"},
        {1e-09, "1e-09", "1e-09"},
        {1e-05, "1e-05", "1e-05"},
        {0.0001, "0.0001", "0.0001"},
        {0.00025, "0.00025", "0.00025"},
        {0.001, "0.001", "0.001"},
        {0.002, "0.002", "0.002"},
        {0.01, "0.01", "0.01"},
        {0.1, "0.1", "0.1"},
        {0.30000000000000004, "0.30000000000000004", "0.30000000000000004"},
        {0.9, "0.9", "0.9"},
        {0.95, "0.95", "0.95"},
        {0.99, "0.99", "0.99"},
        {0.999, "0.999", "0.999"},
        {1.0, "1.0", "1"},
        {1.7, "1.7", "1.7"},
        {2.5, "2.5", "2.5"},
        {10.0, "10.0", "10"},
        {100000.0, "100000.0", "100000"},
        {123456.0, "123456.0", "123456"},
        {999999.5, "999999.5", "999999.5"},
        {1e+06, "1e+06", "1000000"},
        {1234567.0, "1.234567e+06", "1234567"},
        {1e+10, "1e+10", "10000000000"},
        {1e+23, "1e+23", "1e+23"},
        {1.1e+23, "1.1e+23", "1.1e+23"},
        {DBL_MAX, "1.7976931348623157e+308", "1.7976931348623157e+308"},
    };
    enum { N_CASES = sizeof(cases) / sizeof(cases[0]) };
    double bounds[N_CASES];
    uint64_t counts[N_CASES];
    for (size_t i = 0; i < N_CASES; i++) {
        bounds[i] = cases[i].bound;
        counts[i] = i;
    }
    expo_family(p->text, "h", EXPO_HISTOGRAM, "x");
    expo_family(p->om, "h", EXPO_HISTOGRAM, "x");
    expo_histogram(p->text, NULL, 0, bounds, counts, N_CASES, N_CASES, 1);
    expo_histogram(p->om, NULL, 0, bounds, counts, N_CASES, N_CASES, 1);

    char want_text[4096], want_om[4096];
    size_t t = (size_t)snprintf(want_text, sizeof(want_text), "# HELP h x\n# TYPE h histogram\n");
    size_t o = (size_t)snprintf(want_om, sizeof(want_om), "# TYPE h histogram\n# HELP h x\n");
    for (size_t i = 0; i < N_CASES; i++) {
        t += (size_t)snprintf(want_text + t, sizeof(want_text) - t, "h_bucket{le=\"%s\"} %zu\n",
                              cases[i].text, i);
        o += (size_t)snprintf(want_om + o, sizeof(want_om) - o, "h_bucket{le=\"%s\"} %zu\n",
                              cases[i].om, i);
        assert_true(strtod(cases[i].om, NULL) == cases[i].bound);
    }
    static const char tail[] = "h_bucket{le=\"+Inf\"} 28\nh_sum 1\nh_count 28\n";
    snprintf(want_text + t, sizeof(want_text) - t, "%s", tail);
    snprintf(want_om + o, sizeof(want_om) - o, "%s", tail);
    assert_int_equal(N_CASES, 28);
    assert_output(p->text, want_text);
    assert_output(p->om, want_om);
}

/* A histogram whose sum is not finite is left out; non-finite bounds are
 * skipped; counts beyond 2^53 are written exactly. */
static void test_histogram_edges(void **state)
{
    struct pair *p = *state;
    const double bounds[] = {0.5, INFINITY, NAN};
    const uint64_t counts[] = {UINT64_MAX - 1, 1, 1};
    struct expo *writers[] = {p->text, p->om};
    for (size_t i = 0; i < 2; i++) {
        expo_family(writers[i], "h_bytes", EXPO_HISTOGRAM, "x");
        expo_histogram(writers[i], NULL, 0, bounds, counts, 1, 1, NAN);
        expo_histogram(writers[i], NULL, 0, bounds, counts, 1, 1, INFINITY);
        expo_histogram(writers[i], NULL, 0, bounds, counts, 3, UINT64_MAX, 1e300);
    }
    assert_output(p->text, "# HELP h_bytes x\n"
                           "# TYPE h_bytes histogram\n"
                           "h_bytes_bucket{le=\"0.5\"} 18446744073709551614\n"
                           "h_bytes_bucket{le=\"+Inf\"} 18446744073709551615\n"
                           "h_bytes_sum 1e+300\n"
                           "h_bytes_count 18446744073709551615\n");
    assert_output(p->om, "# TYPE h_bytes histogram\n"
                         "# UNIT h_bytes bytes\n"
                         "# HELP h_bytes x\n"
                         "h_bytes_bucket{le=\"0.5\"} 18446744073709551614\n"
                         "h_bytes_bucket{le=\"+Inf\"} 18446744073709551615\n"
                         "h_bytes_sum 1e+300\n"
                         "h_bytes_count 18446744073709551615\n");
}

/* The format survives expo_take; the family does not. */
static void test_om_take_keeps_format(void **state)
{
    struct expo *e = *state;
    expo_family(e, "n", EXPO_COUNTER, "g");
    expo_sample(e, NULL, 0, 2);
    assert_output(e, "# TYPE n counter\n# HELP n g\nn_total 2\n");
    expo_family(e, "n", EXPO_COUNTER, "g");
    expo_sample(e, NULL, 0, 3);
    expo_eof(e);
    assert_output(e, "# TYPE n counter\n# HELP n g\nn_total 3\n# EOF\n");
}

static void test_om_alloc_failure(void **state)
{
    struct expo *e = *state;
    static const double bounds[] = {1};
    static const uint64_t counts[] = {1};
    reset_realloc(1);
    expo_family(e, "h", EXPO_HISTOGRAM, "x");
    expo_histogram(e, NULL, 0, bounds, counts, 1, 1, 1);
    expo_eof(e);
    if (realloc_calls == 0)
        fail_msg("test_expo must be linked with -Wl,--wrap=realloc");
    size_t len = 99;
    assert_null(expo_take(e, &len));
    assert_int_equal(len, 0);

    reset_realloc(0);
    expo_family(e, "h", EXPO_HISTOGRAM, "x");
    expo_histogram(e, NULL, 0, bounds, counts, 1, 1, 1);
    expo_eof(e);
    assert_output(e, "# TYPE h histogram\n# HELP h x\n"
                     "h_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
                     "# EOF\n");
}

#define PROMTOOL "/usr/bin/promtool"

/* Runs "promtool check metrics" on text; returns its exit status, or -1
 * if it could not be run. Its findings go to the test's output. */
static int promtool_check(const char *text)
{
    FILE *p = popen(PROMTOOL " check metrics", "w");
    if (p == NULL)
        return -1;
    size_t len = strlen(text);
    size_t written = fwrite(text, 1, len, p);
    int status = pclose(p);
    if (written != len || status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* promtool (Prometheus 2.42 reads only the text format) accepts the text
 * output, lint included (exit 0), and rejects what it should: OpenMetrics
 * HELP escaping in a text exposition (exit 1). */
static void test_promtool_text(void **state)
{
    struct expo *e = *state;
    if (access(PROMTOOL, X_OK) != 0) {
        print_message("[  SKIP    ] %s not found: promtool checks skipped\n", PROMTOOL);
        skip();
    }
    write_gauge(e);
    write_counters(e);
    write_histogram(e);
    const struct expo_label labels[] = {
        {"mixed", "a\\b\"c\nd"}, {"utf8", "Zürich – 東京"}, {"empty", ""}};
    expo_family(e, "ingot_escapes", EXPO_GAUGE, "Backslash \\ and\nnewline, \"quoted\".");
    expo_sample(e, labels, 3, -1.5e-7);
    static const double bounds[] = {0.0001, 0.5, 1, 1e6, 1e23};
    static const uint64_t counts[] = {0, 1, 2, 3, 4};
    expo_family(e, "ingot_odd_bounds_bytes", EXPO_HISTOGRAM, "Odd bounds.");
    expo_histogram(e, labels, 3, bounds, counts, 5, UINT64_MAX, 0.30000000000000004);
    expo_eof(e);
    size_t len = 0;
    char *text = expo_take(e, &len);
    assert_non_null(text);
    assert_int_equal(promtool_check(text), 0);
    free(text);

    assert_int_equal(promtool_check("# HELP m say \\\"hi\\\"\n# TYPE m gauge\nm 1\n"), 1);
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
        cmocka_unit_test_setup_teardown(test_both_gauge, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_both_counter, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_both_histogram, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_both_exposition_eof, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_om_help_escaping, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_om_label_escaping, setup_om, teardown),
        cmocka_unit_test_setup_teardown(test_om_unit_table, setup_om, teardown),
        cmocka_unit_test_setup_teardown(test_le_formats, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_histogram_edges, setup_pair, teardown_pair),
        cmocka_unit_test_setup_teardown(test_om_take_keeps_format, setup_om, teardown),
        cmocka_unit_test_setup_teardown(test_om_alloc_failure, setup_om, teardown),
        cmocka_unit_test_setup_teardown(test_promtool_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
