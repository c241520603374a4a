/*
 * failure_log: when a repeating failure deserves a log line. The first
 * failure, and a change of reason, are reported at once; while the same
 * failure goes on, a summary with counts at most once per interval; the
 * rest stays quiet. It only decides: the caller writes the lines.
 */
#ifndef INGOT_FAILURE_LOG_H
#define INGOT_FAILURE_LOG_H

#include <stdint.h>

struct failure_log {
    char reason[256];        /* the last reason reported */
    uint64_t in_row;         /* failures since the last success */
    uint64_t unreported;     /* failures since the last line about them */
    double last_report;      /* when that line was written (caller's clock, seconds) */
    double summary_interval; /* seconds between summaries */
};

enum failure_report {
    FAILURE_REPORT_NEW,     /* log it: first failure, or a new reason */
    FAILURE_REPORT_SUMMARY, /* log a summary: *count failures since the last line */
    FAILURE_REPORT_QUIET,   /* log nothing above debug */
};

/* Accounts one failure with reason at now. For SUMMARY, *count receives the
 * failures the summary covers (this one included). */
enum failure_report failure_log_failed(struct failure_log *log, const char *reason, double now,
                                       uint64_t *count);
/* Accounts a success; returns how many failures in a row it ends. */
uint64_t failure_log_recovered(struct failure_log *log);

#endif
