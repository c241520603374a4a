/*
 * failure_log: the throttling rule for repeated failures.
 */
#include "failure_log.h"

#include <stdio.h>
#include <string.h>

enum failure_report failure_log_failed(struct failure_log *log, const char *reason, double now,
                                       uint64_t *count)
{
    log->in_row++;
    log->unreported++;
    enum failure_report report;
    if (log->in_row == 1 || strcmp(log->reason, reason) != 0)
        report = FAILURE_REPORT_NEW;
    else if (now - log->last_report >= log->summary_interval)
        report = FAILURE_REPORT_SUMMARY;
    else
        return FAILURE_REPORT_QUIET;
    *count = log->unreported;
    log->unreported = 0;
    log->last_report = now;
    snprintf(log->reason, sizeof(log->reason), "%s", reason);
    return report;
}

uint64_t failure_log_recovered(struct failure_log *log)
{
    uint64_t ended = log->in_row;
    log->in_row = 0;
    log->unreported = 0;
    log->reason[0] = '\0';
    return ended;
}
