/*
 * log: the daemon's one place for diagnostics. Lines go to stderr with a
 * level; messages below the configured level are dropped before formatting.
 * errno is preserved across every call so callers can log and then inspect it.
 */
#ifndef INGOT_LOG_H
#define INGOT_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Parses "debug", "info", "warn" or "error" into *out. Returns 0, or -1. */
int log_level_parse(const char *name, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Writes s into buf (of size bytes) as a double-quoted string safe for one
 * log line: quotes, backslashes and control bytes are escaped, and long
 * input is cut with "...". NULL gives the bare word null. Returns buf. */
const char *log_quote(const char *s, char *buf, size_t size);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
