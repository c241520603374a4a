/*
 * log: level filtering and the three line formats.
 *   plain:   2026-11-28T14:35:57.123Z level=warn feed=balkhash message
 *   journal: sd_journal_sendv with MESSAGE, PRIORITY, FEED, PLANT, REASON;
 *            without journald's socket, "<4>feed=balkhash message" on
 *            stderr, which systemd's stream reader turns into a priority.
 *   json:    {"ts":"...","level":"warn","msg":"...","feed":"balkhash"}
 */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_format current_format = LOG_FORMAT_PLAIN;
/* journal format: journald's socket answered at setup, so native fields work. */
static bool journal_native;

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *const level_names[] = {
    [LOG_LEVEL_DEBUG] = "debug",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error",
};

static const int level_priorities[] = {
    [LOG_LEVEL_DEBUG] = LOG_DEBUG,
    [LOG_LEVEL_INFO] = LOG_INFO,
    [LOG_LEVEL_WARN] = LOG_WARNING,
    [LOG_LEVEL_ERROR] = LOG_ERR,
};

static const char *const format_names[] = {
    [LOG_FORMAT_PLAIN] = "plain",
    [LOG_FORMAT_JOURNAL] = "journal",
    [LOG_FORMAT_JSON] = "json",
};

/* Index of name in names[0..n), or -1. */
static int lookup(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

int log_level_parse(const char *name, enum log_level *out)
{
    int i = lookup(level_names, sizeof(level_names) / sizeof(*level_names), name);
    if (i >= 0)
        *out = (enum log_level)i;
    return i >= 0 ? 0 : -1;
}

int log_format_parse(const char *name, enum log_format *out)
{
    int i = lookup(format_names, sizeof(format_names) / sizeof(*format_names), name);
    if (i >= 0)
        *out = (enum log_format)i;
    return i >= 0 ? 0 : -1;
}

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_format(enum log_format format)
{
    current_format = format;
    /* libsystemd drops messages silently when journald is absent, so look
     * first and fall back to priority-prefixed stderr lines. */
    journal_native = format == LOG_FORMAT_JOURNAL && access(JOURNAL_SOCKET, W_OK) == 0;
}

int log_enabled(enum log_level level)
{
    return level >= current_level;
}

bool log_stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

const char *log_quote(const char *s, char *buf, size_t size)
{
    if (!s) {
        snprintf(buf, size, "null");
        return buf;
    }
    size_t n = 0;
    buf[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int escape = c == '"' || c == '\\' || c < 0x20 || c == 0x7f;
        if (n + (escape ? 4 : 1) + 5 > size) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (escape) {
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

/* "feed=x plant=y reason=z " for the plain and stream formats. */
static void format_fields(const struct log_fields *f, char *buf, size_t size)
{
    buf[0] = '\0';
    if (!f)
        return;
    char quoted[96];
    size_t used = 0;
    const char *names[] = {"feed", "plant", "reason"};
    const char *values[] = {f->feed, f->plant, f->reason};
    for (size_t i = 0; i < 3 && used < size; i++)
        if (values[i])
            used += (size_t)snprintf(buf + used, size - used, "%s=%s ", names[i],
                                     i == 1 ? log_quote(values[i], quoted, sizeof(quoted))
                                            : values[i]);
}

static void write_plain(enum log_level level, const char *fields, const char *message)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ level=%s %s%s\n", stamp, ts.tv_nsec / 1000000L,
            level_names[level], fields, message);
}

static void write_journal(enum log_level level, const struct log_fields *f, const char *fields,
                          const char *message)
{
    if (!journal_native) {
        fprintf(stderr, "<%d>%s%s\n", level_priorities[level], fields, message);
        return;
    }
    char buf[6][2200];
    struct iovec iov[6];
    int n = 0;
    snprintf(buf[n++], sizeof(buf[0]), "MESSAGE=%s", message);
    snprintf(buf[n++], sizeof(buf[0]), "PRIORITY=%d", level_priorities[level]);
    snprintf(buf[n++], sizeof(buf[0]), "SYSLOG_IDENTIFIER=ingotd");
    if (f && f->feed)
        snprintf(buf[n++], sizeof(buf[0]), "FEED=%s", f->feed);
    if (f && f->plant)
        snprintf(buf[n++], sizeof(buf[0]), "PLANT=%s", f->plant);
    if (f && f->reason)
        snprintf(buf[n++], sizeof(buf[0]), "REASON=%s", f->reason);
    for (int i = 0; i < n; i++)
        iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = strlen(buf[i])};
    if (sd_journal_sendv(iov, n) < 0)
        fprintf(stderr, "<%d>%s%s\n", level_priorities[level], fields, message);
}

static void write_json(enum log_level level, const struct log_fields *f, const char *message)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *line = json_pack("{s:f, s:s, s:s}", "ts", (double)ts.tv_sec + ts.tv_nsec / 1e9,
                             "level", level_names[level], "msg", message);
    if (line && f) {
        if (f->feed)
            json_object_set_new(line, "feed", json_string(f->feed));
        if (f->plant)
            json_object_set_new(line, "plant", json_string(f->plant));
        if (f->reason)
            json_object_set_new(line, "reason", json_string(f->reason));
    }
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text)
        fprintf(stderr, "%s\n", text);
    else /* not UTF-8: still say it, in plain text */
        write_plain(level, "", message);
    free(text);
    json_decref(line);
}

void log_with(enum log_level level, const struct log_fields *fields, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    int saved_errno = errno;

    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    char prefix[320];
    format_fields(fields, prefix, sizeof(prefix));

    switch (current_format) {
    case LOG_FORMAT_PLAIN:
        write_plain(level, prefix, message);
        break;
    case LOG_FORMAT_JOURNAL:
        write_journal(level, fields, prefix, message);
        break;
    case LOG_FORMAT_JSON:
        write_json(level, fields, message);
        break;
    }
    errno = saved_errno;
}
