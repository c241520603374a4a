/*
 * expo_read: a line-at-a-time reader of the text exposition. Each sample
 * line is copied once into a scratch buffer where names and unescaped
 * label values are NUL-terminated in place; nothing else is allocated.
 */
#include "expo_read.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Parses a value as expo writes it ("+Inf", "-Inf", "NaN" or a decimal). */
static int parse_value(const char *s, double *out)
{
    if (strcmp(s, "+Inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(s, "-Inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno != ERANGE ? 0 : -1;
}

/* Parses the sample line in buf (NUL-terminated, modified in place) and
 * calls fn. Returns 0, 1 when fn stopped, or -1 with *what set. */
static int read_line(char *buf, expo_read_fn fn, void *arg, const char **what)
{
    struct expo_label labels[EXPO_READ_MAX_LABELS];
    size_t n = 0;
    char *p = buf;
    if (!name_start(*p)) {
        *what = "expected a metric name";
        return -1;
    }
    while (name_char(*p))
        p++;
    char *name_end = p;
    if (*p == '{') {
        *name_end = '\0';
        p++;
        while (*p != '}') {
            if (n == EXPO_READ_MAX_LABELS) {
                *what = "too many labels";
                return -1;
            }
            char *label = p;
            if (!name_start(*p)) {
                *what = "expected a label name";
                return -1;
            }
            while (name_char(*p))
                p++;
            if (p[0] != '=' || p[1] != '"') {
                *what = "expected =\" after a label name";
                return -1;
            }
            *p = '\0';
            p += 2;
            char *value = p, *out = p;
            while (*p != '"') {
                if (*p == '\0') {
                    *what = "unterminated label value";
                    return -1;
                }
                if (*p == '\\') {
                    p++;
                    if (*p == 'n')
                        *out++ = '\n';
                    else if (*p == '\\' || *p == '"')
                        *out++ = *p;
                    else {
                        *what = "unknown escape in a label value";
                        return -1;
                    }
                    p++;
                } else {
                    *out++ = *p++;
                }
            }
            p++;
            *out = '\0';
            labels[n++] = (struct expo_label){label, value};
            if (*p == ',')
                p++;
            else if (*p != '}') {
                *what = "expected , or } after a label";
                return -1;
            }
        }
        p++;
    }
    if (*p != ' ') {
        *what = "expected a space before the value";
        return -1;
    }
    *name_end = '\0';
    p++;
    double value;
    if (parse_value(p, &value) != 0) {
        *what = "the value is not a number";
        return -1;
    }
    return fn(arg, buf, labels, n, value) == 0 ? 0 : 1;
}

int expo_read_text(const char *text, size_t len, expo_read_fn fn, void *arg, char *err,
                   size_t err_size)
{
    char *buf = NULL;
    size_t cap = 0;
    unsigned long line = 0;
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0;) {
        const char *start = text + at;
        const char *nl = memchr(start, '\n', len - at);
        size_t line_len = nl ? (size_t)(nl - start) : len - at;
        at += line_len + (nl != NULL);
        line++;
        if (line_len == 0 || start[0] == '#')
            continue;
        if (line_len + 1 > cap) {
            char *grown = realloc(buf, line_len + 1);
            if (!grown) {
                snprintf(err, err_size, "line %lu: out of memory", line);
                rc = -1;
                break;
            }
            buf = grown;
            cap = line_len + 1;
        }
        memcpy(buf, start, line_len);
        buf[line_len] = '\0';
        if (memchr(buf, '\0', line_len)) {
            snprintf(err, err_size, "line %lu: NUL byte", line);
            rc = -1;
            break;
        }
        const char *what = NULL;
        int r = read_line(buf, fn, arg, &what);
        if (r < 0)
            snprintf(err, err_size, "line %lu: %s", line, what);
        rc = r ? -1 : 0;
    }
    free(buf);
    return rc;
}
