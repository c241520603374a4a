/*
 * log: the daemon's one place for diagnostics. A line has a level, an
 * optional set of fields (feed, plant, reason) and a message, and goes to
 * stderr in one of three formats: plain readable lines for a terminal, the
 * systemd journal (native fields, so `journalctl -p warning` and
 * `journalctl FEED=balkhash` work), or JSON lines for log shippers.
 * Messages below the configured level are dropped before formatting.
 * errno is preserved across every call.
 */
#ifndef INGOT_LOG_H
#define INGOT_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_PLAIN, LOG_FORMAT_JOURNAL, LOG_FORMAT_JSON };

/* What a line is about; NULL members are left out. */
struct log_fields {
    const char *feed;
    const char *plant;
    const char *reason;
};

/* Parse "debug"/"info"/"warn"/"error" and "plain"/"journal"/"json". 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
int log_format_parse(const char *name, enum log_format *out);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
int log_enabled(enum log_level level);
/* True when systemd connected stderr to the journal (JOURNAL_STREAM names
 * stderr's device and inode): the default format is then the journal's. */
bool log_stderr_is_journal(void);

/* Writes s into buf (of size bytes) as a double-quoted string safe for one
 * log line: quotes, backslashes and control bytes are escaped, and long
 * input is cut with "...". NULL gives the bare word null. Returns buf. */
const char *log_quote(const char *s, char *buf, size_t size);

void log_with(enum log_level level, const struct log_fields *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_msg(level, ...) log_with(level, NULL, __VA_ARGS__)
#define log_debug(...) log_with(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) log_with(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warn(...) log_with(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_error(...) log_with(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)

#endif
