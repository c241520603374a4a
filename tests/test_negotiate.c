/*
 * test_negotiate: the format chosen for Accept headers that real scrapers,
 * curl and browsers send, and for refused, odd, malformed and huge ones;
 * whether Accept-Encoding allows gzip; the Content-Type of each format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

#define OM EXPO_FORMAT_OPENMETRICS
#define TEXT EXPO_FORMAT_TEXT

struct accept_case {
    const char *accept;
    enum expo_format want;
};

static const struct accept_case accept_cases[] = {
    /* Prometheus 2.42. */
    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
     OM},
    /* Older Prometheus 2.x. */
    {"application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", OM},
    /* Prometheus 2.49+ defaults, and with scrape_protocols text first. */
    {"application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;"
     "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
     OM},
    {"text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;q=0.3",
     TEXT},
    /* Protobuf first (native histograms), which ingot does not serve. */
    {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;"
     "q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,application/openmetrics-text;"
     "version=0.0.1;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
     OM},
    /* Prometheus 3 style: escaping parameters and text 1.0.0. */
    {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
     "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;"
     "escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
     OM},
    {"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.3,"
     "application/openmetrics-text;version=1.0.0;q=0.2",
     TEXT},
    /* curl, and a browser. */
    {"*/*", TEXT},
    {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", TEXT},
    {"text/*", TEXT},
    /* Versions. */
    {"application/openmetrics-text", OM},
    {"application/openmetrics-text;version=1.0.0", OM},
    {"application/openmetrics-text;version=0.0.1", OM},
    {"application/openmetrics-text;version=\"1.0.0\"", OM},
    {"application/openmetrics-text;version=2.0.0", TEXT},
    {"application/openmetrics-text;version=2.0.0,text/plain;q=0.1", TEXT},
    {"application/openmetrics-text;version=2.0.0,application/openmetrics-text;q=0.1", OM},
    {"text/plain;version=0.0.4", TEXT},
    {"text/plain;version=0.0.5,application/openmetrics-text;q=0.2", OM},
    /* Refusals, weights and ties. */
    {"application/openmetrics-text;q=0,text/plain", TEXT},
    {"application/openmetrics-text;q=0", TEXT},
    {"application/openmetrics-text;q=0,text/plain;q=0", TEXT},
    {"text/plain;q=0.5,application/openmetrics-text;q=0.501", OM},
    {"text/plain;q=0.5,application/openmetrics-text;q=0.5", TEXT},
    {"application/openmetrics-text;q=0.5,text/plain;q=0.5", OM},
    {"application/openmetrics-text;q=1.0,text/plain;q=1.000", OM},
    {"text/plain;q=0.001,application/openmetrics-text;q=0.0", TEXT},
    /* Malformed weights count as refusals of their element only. */
    {"application/openmetrics-text;q=2,text/plain;q=0.1", TEXT},
    {"application/openmetrics-text;q=1.5", TEXT},
    {"application/openmetrics-text;q=-1", TEXT},
    {"application/openmetrics-text;q=0.1234", TEXT},
    {"application/openmetrics-text;q=.5", TEXT},
    {"application/openmetrics-text;q=", TEXT},
    {"application/openmetrics-text;q=abc,*/*;q=0.1", TEXT},
    {"application/openmetrics-text;q=\"0.5\"", TEXT},
    {"application/openmetrics-text;q=0.5x,application/openmetrics-text;version=1.0.0;q=0.2", OM},
    /* Case and whitespace. */
    {"APPLICATION/OPENMETRICS-TEXT;VERSION=1.0.0", OM},
    {"Application/OpenMetrics-Text; Version=1.0.0; Q=0.9, Text/Plain; q=0.5", OM},
    {"  application/openmetrics-text ; version = 1.0.0 ; q = 0.9 ,\ttext/plain ; q=0.5  ", OM},
    {"application/openmetrics-text;charset=utf-8;version=1.0.0", OM},
    {"application/openmetrics-text;version=1.0.0;charset=\"utf-8\";q=0.7,text/plain;q=0.6", OM},
    {",,application/openmetrics-text,,", OM},
    {"text/plain;,application/openmetrics-text;q=0.5", TEXT},
    /* Garbage and emptiness. */
    {"", TEXT},
    {"   ", TEXT},
    {",", TEXT},
    {";", TEXT},
    {"garbage", TEXT},
    {"application/openmetrics-text;;;=;q", TEXT},
    {"application/openmetrics-text;version", TEXT},
    {"application/openmetrics-text;version=\"1.0.0", TEXT},
    {"application/openmetrics-text;foo=\"a,b\";q=0.1,text/plain;q=0.05", OM},
    {"application/openmetrics-text x", TEXT},
    {"\"application/openmetrics-text\"", TEXT},
    {"application/openmetrics-text\x01", TEXT},
    {"text/plain ; q=0.1, garbage;;==, application/openmetrics-text ; q=0.2", OM},
};

static void test_accept_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accept_cases) / sizeof(accept_cases[0]); i++) {
        enum expo_format got = negotiate_format(accept_cases[i].accept);
        if (got != accept_cases[i].want)
            fail_msg("Accept: %s: got %s, want %s", accept_cases[i].accept,
                     got == OM ? "OpenMetrics" : "text",
                     accept_cases[i].want == OM ? "OpenMetrics" : "text");
    }
}

static void test_accept_null(void **state)
{
    (void)state;
    assert_int_equal(negotiate_format(NULL), TEXT);
}

enum { LONG_SIZE = 64 * 1024 };

static int setup_long(void **state)
{
    *state = malloc(LONG_SIZE + 64);
    return *state == NULL ? -1 : 0;
}

static int teardown_long(void **state)
{
    free(*state);
    return 0;
}

/* 64 KiB headers: a long run of types with the deciding one at the end,
 * one huge token, and unterminated quotes. */
static void test_accept_long(void **state)
{
    enum { SIZE = LONG_SIZE };
    char *h = *state;

    size_t n = 0;
    while (n + 32 < SIZE)
        n += (size_t)snprintf(h + n, 32, "a/b;q=1;c=d, text/plain;q=0.9, ");
    strcpy(h + n, "application/openmetrics-text;q=0.95");
    assert_true(strlen(h) > SIZE - 32);
    assert_int_equal(negotiate_format(h), OM);
    strcpy(h + n, "application/openmetrics-text;q=0.9");
    assert_int_equal(negotiate_format(h), TEXT);

    memset(h, 'x', SIZE);
    h[SIZE] = '\0';
    assert_int_equal(negotiate_format(h), TEXT);

    memset(h, '"', SIZE);
    assert_int_equal(negotiate_format(h), TEXT);

    strcpy(h, "application/openmetrics-text;v=\"");
    memset(h + strlen(h), '\\', SIZE - 64);
    h[SIZE - 32] = '\0';
    assert_int_equal(negotiate_format(h), TEXT);
}

struct encoding_case {
    const char *accept_encoding;
    bool gzip;
};

static const struct encoding_case encoding_cases[] = {
    {"gzip", true},
    {"gzip, deflate, br", true},
    {"deflate", false},
    {"gzip;q=0", false},
    {"gzip;q=0.000", false},
    {"*", true},
    {"*;q=0", false},
    {"identity", false},
    {"x-gzip", true},
    {"GZIP", true},
    {"X-Gzip;Q=0.1", true},
    {"br;q=1, gzip;q=0.5", true},
    {"deflate, *", true},
    {"gzip;q=0, *", false},
    {"*, gzip;q=0", false},
    {"*;q=0, gzip", true},
    {"gzip;q=0, x-gzip;q=0.5", true},
    {"identity;q=1, *;q=0", false},
    {" gzip ; q=0.8 ", true},
    {"gzip;q=abc", false},
    {"gzip;q=abc, *", false},
    {"gzip;q=2", false},
    {"gzipx", false},
    {"", false},
    {",,,", false},
    {"garbage;;==", false},
};

static void test_accept_encoding_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(encoding_cases) / sizeof(encoding_cases[0]); i++) {
        bool got = negotiate_gzip(encoding_cases[i].accept_encoding);
        if (got != encoding_cases[i].gzip)
            fail_msg("Accept-Encoding: %s: got %d, want %d", encoding_cases[i].accept_encoding,
                     got, encoding_cases[i].gzip);
    }
    assert_false(negotiate_gzip(NULL));
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(negotiate_content_type(OM),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_string_equal(negotiate_content_type(TEXT), "text/plain; version=0.0.4; charset=utf-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_table),
        cmocka_unit_test(test_accept_null),
        cmocka_unit_test_setup_teardown(test_accept_long, setup_long, teardown_long),
        cmocka_unit_test(test_accept_encoding_table),
        cmocka_unit_test(test_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
