/*
 * test_time: calendar arithmetic, the strict date, RFC 3339 and period
 * parsers, Prometheus durations, and exact fixed-point conversions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "civil_time.h"
#include "duration.h"
#include "fixed.h"
#include "period.h"

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(civil_days_from_date(1970, 1, 1), 0);
    assert_int_equal(civil_days_from_date(2025, 7, 15) * 86400, 1752537600);
    assert_int_equal(civil_days_from_date(1969, 12, 31), -1);
    int y, m, d;
    civil_date_from_time(1752537600 + 86399, &y, &m, &d);
    assert_int_equal(y * 10000 + m * 100 + d, 20250715);
    civil_date_from_time(-1, &y, &m, &d);
    assert_int_equal(y * 10000 + m * 100 + d, 19691231);
    assert_int_equal(civil_days_in_month(2024, 2), 29);
    assert_int_equal(civil_days_in_month(2100, 2), 28);
    assert_int_equal(civil_days_in_month(2000, 2), 29);
}

static void test_dates(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(civil_parse_date("2024-09-30", &t), 0);
    assert_int_equal(t, 1727654400);
    const char *bad[] = {"2024-9-30", "2024-09-31", "2023-02-29", "2024-09-30 ", "24-09-30",
                         "2024/09/30", "", "2024-00-10", "0000-01-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(civil_parse_date(bad[i], &t), -1);
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(civil_parse_rfc3339("2025-07-15T00:00:00Z", &t), 0);
    assert_int_equal(t, 1752537600);
    assert_int_equal(civil_parse_rfc3339("2025-07-15T05:00:00.123+05:00", &t), 0);
    assert_int_equal(t, 1752537600);
    assert_int_equal(civil_parse_rfc3339("2025-07-14T23:30:00-00:30", &t), 0);
    assert_int_equal(t, 1752537600);
    const char *bad[] = {"2025-07-15", "2025-07-15T00:00:00", "2025-07-15T24:00:00Z",
                         "2025-07-15T00:00:00+0500", "2025-07-15T00:00:00.Z",
                         "2025-07-15T00:00Z", "2025-07-15T00:00:00Zjunk"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(civil_parse_rfc3339(bad[i], &t), -1);
    char buf[32];
    civil_format_rfc3339(1752537600 + 3661, buf, sizeof(buf));
    assert_string_equal(buf, "2025-07-15T01:01:01Z");
}

static void test_periods(void **state)
{
    (void)state;
    struct period p;
    char buf[16];
    assert_int_equal(period_parse("2025-01", &p), 0);
    assert_int_equal(period_key(&p), 20250100);
    assert_int_equal(period_start(&p), 1735689600);
    period_format(&p, buf, sizeof(buf));
    assert_string_equal(buf, "2025-01");
    assert_int_equal(period_parse("2024-02-29", &p), 0);
    assert_int_equal(period_key(&p), 20240229);
    struct period back = period_from_key(20240229);
    assert_int_equal(back.day, 29);
    period_format(&back, buf, sizeof(buf));
    assert_string_equal(buf, "2024-02-29");
    const char *bad[] = {"2025-13", "2025-00", "2025-1", "2023-02-29", "2025-01-32", "2025",
                         "2025-01-", "2025-01-1", "abcd-ef", "+025-01", "2025-01 ",
                         " 2025-01", "2025-01-01 ", "2025-01-01T", "2025-01-01T00:00:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(period_parse(bad[i], &p), -1);
}

/* An RFC 3339 timestamp is the day its date part names, as written: the
 * plant's own date, not the UTC date of the instant. */
static void test_timestamp_periods(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int32_t key;
    } good[] = {
        {"2025-03-14T08:00:00Z", 20250314},
        {"2025-03-14t08:00:00z", 20250314},
        {"2025-03-14 08:00:00Z", 20250314},
        {"2025-03-15T00:30:00+05:00", 20250315}, /* 2025-03-14T19:30Z */
        {"2025-03-14T23:30:00-05:00", 20250314}, /* 2025-03-15T04:30Z */
        {"2025-03-14T08:00:00.123456789+05:00", 20250314},
        {"2024-02-29T23:59:60Z", 20240229}, /* a leap second */
        {"0001-01-01T00:00:00+14:00", 10101},
        {"9999-12-31T23:59:59-12:00", 99991231},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct period p = {0};
        assert_int_equal(period_parse(good[i].text, &p), 0);
        assert_int_equal(period_key(&p), good[i].key);
        assert_int_not_equal(p.day, 0);
    }
    const char *bad[] = {
        "2025-02-29T08:00:00Z",      /* not a date */
        "2025-03-14T24:00:00Z",      /* not a time */
        "2025-03-14T08:60:00Z",
        "2025-03-14T08:00:00",       /* no offset */
        "2025-03-14T08:00:00+0500",  /* offset without a colon */
        "2025-03-14T08:00:00+24:00", /* offset out of range */
        "2025-03-14T08:00Z",         /* no seconds */
        "2025-03-14T08:00:00.Z",     /* empty fraction */
        "2025-03-14T08:00:00Z ",     /* trailing space */
        "2025-03-14X08:00:00Z",
        "2025-03T08:00:00Z",         /* a month with a time */
        "20250314T080000Z",          /* ISO 8601 basic form */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct period p = {0};
        assert_int_equal(period_parse(bad[i], &p), -1);
    }
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
        const char *formatted;
    } good[] = {
        {"500ms", 500, "500ms"}, {"30s", 30000, "30s"},   {"5m", 300000, "5m"},
        {"1h", 3600000, "1h"},   {"1d", 86400000, "1d"},  {"1h30m", 5400000, "1h30m"},
        {"0", 0, "0s"},          {"1w", 604800000, "1w"}, {"90s", 90000, "1m30s"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms;
        char buf[32];
        assert_int_equal(duration_parse(good[i].text, &ms), 0);
        assert_int_equal(ms, good[i].ms);
        duration_format(ms, buf, sizeof(buf));
        assert_string_equal(buf, good[i].formatted);
    }
    const char *bad[] = {"", "5", "5 m", "m", "1m1h", "1s1s", "-5m", "5M", "1.5h", "200y"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        assert_int_equal(duration_parse(bad[i], &ms), -1);
    }
}

static void test_fixed(void **state)
{
    (void)state;
    assert_true(fixed_to_double(fixed_from_double(9800.5)) == 9800.5);
    assert_true(fixed_to_double(fixed_from_double(0.1) * 3) == 0.3);
    assert_true(fixed_to_double(fixed_from_double(-2.75)) == -2.75);
    assert_true(fixed_to_double(fixed_from_double(1e15)) == 1e15);
    assert_true(fixed_to_double(fixed_from_double(123456.123456789)) == 123456.123456789);
    assert_true(fixed_to_double(0) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calendar),  cmocka_unit_test(test_dates),
        cmocka_unit_test(test_rfc3339),   cmocka_unit_test(test_periods),
        cmocka_unit_test(test_timestamp_periods),
        cmocka_unit_test(test_durations), cmocka_unit_test(test_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
