/*
 * test_failure_log: a failure repeated every second for five minutes gives
 * one report and one summary a minute; a new reason is reported at once;
 * recovery ends the run and the next failure is new again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "failure_log.h"

static void test_throttles_a_steady_failure(void **state)
{
    (void)state;
    struct failure_log log = {.summary_interval = 60};
    int reports = 0, summaries = 0;
    uint64_t count = 0, covered = 0;
    for (int second = 0; second < 300; second++) {
        switch (failure_log_failed(&log, "HTTP 503", 1000.0 + second, &count)) {
        case FAILURE_REPORT_NEW:
            reports++;
            covered += count;
            break;
        case FAILURE_REPORT_SUMMARY:
            summaries++;
            assert_int_equal(count, 60);
            covered += count;
            break;
        case FAILURE_REPORT_QUIET:
            break;
        }
    }
    assert_int_equal(reports, 1);
    assert_int_equal(summaries, 4); /* at 60, 120, 180 and 240 seconds */
    assert_int_equal(covered, 241);
    assert_int_equal(log.in_row, 300);
    assert_int_equal(log.unreported, 59);
}

static void test_new_reason_reported_at_once(void **state)
{
    (void)state;
    struct failure_log log = {.summary_interval = 60};
    uint64_t count;
    assert_int_equal(failure_log_failed(&log, "HTTP 503", 0, &count), FAILURE_REPORT_NEW);
    assert_int_equal(failure_log_failed(&log, "HTTP 503", 1, &count), FAILURE_REPORT_QUIET);
    assert_int_equal(failure_log_failed(&log, "timeout after 30s", 2, &count), FAILURE_REPORT_NEW);
    assert_int_equal(count, 2);
    assert_int_equal(failure_log_failed(&log, "timeout after 30s", 3, &count),
                     FAILURE_REPORT_QUIET);
}

static void test_recovery_starts_over(void **state)
{
    (void)state;
    struct failure_log log = {.summary_interval = 60};
    uint64_t count;
    failure_log_failed(&log, "HTTP 503", 0, &count);
    failure_log_failed(&log, "HTTP 503", 1, &count);
    assert_int_equal(failure_log_recovered(&log), 2);
    assert_int_equal(failure_log_recovered(&log), 0);
    assert_int_equal(failure_log_failed(&log, "HTTP 503", 2, &count), FAILURE_REPORT_NEW);
    assert_int_equal(count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttles_a_steady_failure),
        cmocka_unit_test(test_new_reason_reported_at_once),
        cmocka_unit_test(test_recovery_starts_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
