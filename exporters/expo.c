/*
 * expo: writer of the Prometheus text exposition format 0.0.4. It owns one
 * growable output buffer, the escaping of HELP text and label values, and
 * the formatting of sample values. An allocation failure is remembered:
 * every later call is a no-op and expo_take reports it by returning NULL.
 */
#include "expo.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Capacity of the first allocation when no earlier render suggests one. */
#define EXPO_MIN_CAP 4096

struct expo {
    char *buf;
    size_t len; /* bytes written, not counting the NUL expo_take adds */
    size_t cap;
    size_t hint;    /* length of the last text taken: the next first capacity */
    bool failed;    /* an allocation failed since expo_new or expo_take */
    size_t fam_off; /* the current family's sample name, inside buf */
    size_t fam_len; /* 0 when there is no current family */
};

struct expo *expo_new(void)
{
    return calloc(1, sizeof(struct expo));
}

void expo_free(struct expo *e)
{
    if (e == NULL)
        return;
    free(e->buf);
    free(e);
}

/* Makes room for n more bytes plus a terminating NUL. Returns false, and
 * marks the writer failed, if that cannot be done or it already failed. */
static bool reserve(struct expo *e, size_t n)
{
    if (e->failed)
        return false;
    if (n < e->cap - e->len)
        return true;
    if (n >= SIZE_MAX / 2 - e->len) {
        e->failed = true;
        return false;
    }
    size_t need = e->len + n + 1;
    size_t cap = e->cap ? e->cap : (e->hint > EXPO_MIN_CAP ? e->hint : EXPO_MIN_CAP);
    while (cap < need)
        cap *= 2;
    char *buf = realloc(e->buf, cap);
    if (buf == NULL) {
        e->failed = true;
        return false;
    }
    e->buf = buf;
    e->cap = cap;
    return true;
}

static void put(struct expo *e, const char *s, size_t n)
{
    if (!reserve(e, n))
        return;
    memcpy(e->buf + e->len, s, n);
    e->len += n;
}

static void put_str(struct expo *e, const char *s)
{
    put(e, s, strlen(s));
}

/* Writes s with each character from special replaced by its backslash
 * escape, copying the runs between them whole. special holds only
 * backslash, double quote and newline. */
static void put_escaped(struct expo *e, const char *s, const char *special)
{
    for (;;) {
        size_t run = strcspn(s, special);
        put(e, s, run);
        s += run;
        switch (*s) {
        case '\0':
            return;
        case '\n':
            put(e, "\\n", 2);
            break;
        case '"':
            put(e, "\\\"", 2);
            break;
        default:
            put(e, "\\\\", 2);
            break;
        }
        s++;
    }
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
    if (e->failed)
        return;
    const char *suffix = type == EXPO_COUNTER ? "_total" : "";
    put_str(e, "# HELP ");
    put_str(e, name);
    put_str(e, suffix);
    put(e, " ", 1);
    put_escaped(e, help, "\\\n");
    put_str(e, "\n# TYPE ");
    e->fam_off = e->len;
    put_str(e, name);
    put_str(e, suffix);
    e->fam_len = e->len - e->fam_off;
    put_str(e, type == EXPO_COUNTER ? " counter\n" : " gauge\n");
}

void expo_sample(struct expo *e, const struct expo_label *labels, size_t n_labels, double value)
{
    if (e->failed || !isfinite(value))
        return;
    assert(e->fam_len > 0 && "expo_sample without a current family");
    if (!reserve(e, e->fam_len))
        return;
    /* The name lies before e->len, so source and destination are apart. */
    memcpy(e->buf + e->len, e->buf + e->fam_off, e->fam_len);
    e->len += e->fam_len;
    for (size_t i = 0; i < n_labels; i++) {
        put(e, i == 0 ? "{" : ",", 1);
        put_str(e, labels[i].name);
        put(e, "=\"", 2);
        put_escaped(e, labels[i].value, "\\\"\n");
        put(e, "\"", 1);
    }
    if (n_labels > 0)
        put(e, "}", 1);
    char num[32];
    size_t n = expo_format_double(value, num);
    put(e, " ", 1);
    put(e, num, n);
    put(e, "\n", 1);
}

/* Integral values below 1e15 in magnitude print as their digits, which is
 * what "%.15g" gives for them, without the cost of snprintf and strtod. */
static size_t format_integer(double value, char *buf)
{
    char digits[16];
    size_t n = 0;
    uint64_t u = (uint64_t)fabs(value);
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t k = 0;
    if (signbit(value))
        buf[k++] = '-';
    while (n > 0)
        buf[k++] = digits[--n];
    buf[k] = '\0';
    return k;
}

size_t expo_format_double(double value, char *buf)
{
    const char *special = NULL;
    if (isnan(value))
        special = "NaN";
    else if (isinf(value))
        special = value > 0 ? "+Inf" : "-Inf";
    if (special != NULL) {
        size_t n = strlen(special);
        memcpy(buf, special, n + 1);
        return n;
    }
    if (fabs(value) < 1e15 && value == trunc(value))
        return format_integer(value, buf);
    for (int prec = 15; prec < 17; prec++) {
        int n = snprintf(buf, 32, "%.*g", prec, value);
        if (strtod(buf, NULL) == value)
            return (size_t)n;
    }
    /* 17 significant digits always round-trip. */
    return (size_t)snprintf(buf, 32, "%.17g", value);
}

char *expo_take(struct expo *e, size_t *len)
{
    char *text = NULL;
    *len = 0;
    if (reserve(e, 0)) {
        e->buf[e->len] = '\0';
        text = e->buf;
        *len = e->len;
        e->hint = e->len + 1;
    } else {
        free(e->buf);
    }
    e->buf = NULL;
    e->len = 0;
    e->cap = 0;
    e->failed = false;
    e->fam_len = 0;
    return text;
}
