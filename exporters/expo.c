/*
 * expo: writer of the Prometheus exposition formats, text 0.0.4 and
 * OpenMetrics 1.0.0. It owns one growable output buffer, the metadata lines
 * of each format (HELP and TYPE; TYPE, UNIT and HELP), the escaping of HELP
 * text and label values, counter and histogram sample naming, and the
 * formatting of sample values and histogram bounds. An allocation failure
 * is remembered: every later call is a no-op and expo_take reports it by
 * returning NULL. Writing a sample allocates nothing beyond the buffer's
 * growth.
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
    size_t hint; /* length of the last text taken: the next first capacity */
    bool failed; /* an allocation failed since expo_new or expo_take */
    enum expo_format format;
    enum expo_type fam_type;
    size_t fam_off; /* the current family's name (no "_total"), inside buf */
    size_t fam_len; /* 0 when there is no current family */
};

struct expo *expo_new(enum expo_format format)
{
    struct expo *e = calloc(1, sizeof(struct expo));
    if (e != NULL)
        e->format = format;
    return e;
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

/*
 * The units an OpenMetrics "# UNIT" line names, recognised as suffixes of
 * the family name (for a counter, the name without "_total"). A family
 * whose name ends in none of them gets no UNIT line. When several match,
 * the longest wins; the UNIT value is the suffix without its underscore.
 *
 *   suffix              UNIT value          used by
 *   _seconds            seconds             durations, timestamps, CPU time
 *   _bytes              bytes               memory, exposition sizes
 *   _tonnes_per_tonne   tonnes_per_tonne    emission intensities
 *   _mwh_per_tonne      mwh_per_tonne       energy intensities
 *   _tonnes_per_year    tonnes_per_year     capacities
 *   _tonnes             tonnes              production and emissions
 *   _mwh                mwh                 energy
 *   _ratio              ratio               0-1 fractions
 */
static const char *const unit_suffixes[] = {
    "_seconds", "_bytes", "_tonnes_per_tonne", "_mwh_per_tonne",
    "_tonnes_per_year", "_tonnes", "_mwh", "_ratio",
};

/* The UNIT value for a family name (inside name, no allocation), or NULL. */
static const char *family_unit(const char *name, size_t name_len)
{
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++) {
        size_t n = strlen(unit_suffixes[i]);
        if (n > best_len && n <= name_len && memcmp(name + name_len - n, unit_suffixes[i], n) == 0) {
            best = unit_suffixes[i];
            best_len = n;
        }
    }
    return best == NULL ? NULL : name + name_len - best_len + 1;
}

static const char *type_name(enum expo_type type)
{
    switch (type) {
    case EXPO_COUNTER:
        return "counter";
    case EXPO_HISTOGRAM:
        return "histogram";
    case EXPO_GAUGE:
        break;
    }
    return "gauge";
}

/* Writes "# TYPE name[suffix] type\n" and makes name the current family. */
static void put_type(struct expo *e, const char *name, size_t name_len, const char *suffix,
                     enum expo_type type)
{
    put_str(e, "# TYPE ");
    e->fam_off = e->len;
    put(e, name, name_len);
    put_str(e, suffix);
    put(e, " ", 1);
    put_str(e, type_name(type));
    put(e, "\n", 1);
    e->fam_len = name_len;
    e->fam_type = type;
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
    if (e->failed)
        return;
    size_t name_len = strlen(name);
    if (e->format == EXPO_FORMAT_OPENMETRICS) {
        /* The family name, bare even for a counter; HELP escapes quotes. */
        put_type(e, name, name_len, "", type);
        const char *unit = family_unit(name, name_len);
        if (unit != NULL) {
            put_str(e, "# UNIT ");
            put(e, name, name_len);
            put(e, " ", 1);
            put_str(e, unit);
            put(e, "\n", 1);
        }
        put_str(e, "# HELP ");
        put(e, name, name_len);
        put(e, " ", 1);
        put_escaped(e, help, "\\\"\n");
        put(e, "\n", 1);
        return;
    }
    /* Text 0.0.4 names a counter family by its sample name, and its HELP
     * escapes only backslash and newline. */
    const char *suffix = type == EXPO_COUNTER ? "_total" : "";
    put_str(e, "# HELP ");
    put(e, name, name_len);
    put_str(e, suffix);
    put(e, " ", 1);
    put_escaped(e, help, "\\\n");
    put(e, "\n", 1);
    put_type(e, name, name_len, suffix, type);
}

/* Writes the current family's name followed by suffix. */
static void put_sample_name(struct expo *e, const char *suffix)
{
    if (!reserve(e, e->fam_len))
        return;
    /* The name lies before e->len, so source and destination are apart. */
    memcpy(e->buf + e->len, e->buf + e->fam_off, e->fam_len);
    e->len += e->fam_len;
    put_str(e, suffix);
}

/* Writes the label set, with le="le" after the caller's labels when le is
 * not NULL; nothing when there are no labels at all. */
static void put_labels(struct expo *e, const struct expo_label *labels, size_t n_labels,
                       const char *le, size_t le_len)
{
    for (size_t i = 0; i < n_labels; i++) {
        put(e, i == 0 ? "{" : ",", 1);
        put_str(e, labels[i].name);
        put(e, "=\"", 2);
        put_escaped(e, labels[i].value, "\\\"\n");
        put(e, "\"", 1);
    }
    if (le != NULL) {
        put_str(e, n_labels == 0 ? "{le=\"" : ",le=\"");
        put(e, le, le_len);
        put(e, "\"}", 2);
    } else if (n_labels > 0) {
        put(e, "}", 1);
    }
}

void expo_sample(struct expo *e, const struct expo_label *labels, size_t n_labels, double value)
{
    if (e->failed || !isfinite(value))
        return;
    assert(e->fam_len > 0 && "expo_sample without a current family");
    assert(e->fam_type != EXPO_HISTOGRAM && "expo_sample in a histogram family");
    put_sample_name(e, e->fam_type == EXPO_COUNTER ? "_total" : "");
    put_labels(e, labels, n_labels, NULL, 0);
    char num[32];
    size_t n = expo_format_double(value, num);
    put(e, " ", 1);
    put(e, num, n);
    put(e, "\n", 1);
}

/* Writes u in decimal into buf (at least 21 bytes). Returns the length. */
static size_t format_u64(uint64_t u, char *buf)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t k = 0;
    while (n > 0)
        buf[k++] = digits[--n];
    buf[k] = '\0';
    return k;
}

/*
 * Formats a finite value as an OpenMetrics canonical number, the form the
 * spec requires for "le" label values: Go's shortest %g (exponent form when
 * the decimal exponent is below -4 or at least 6, with at least two
 * exponent digits), with ".0" appended when that has neither a point nor an
 * exponent: 0.0, 0.005, 1.0, 10.0, 100000.0, 1e+06, 1e-05. The digits are
 * the fewest that printf rounds to a string strtod reads back as value. buf
 * holds at least 32 bytes. Returns the length.
 */
static size_t format_canonical(double value, char *buf)
{
    if (value == 0) {
        memcpy(buf, "0.0", 4);
        return 3;
    }
    char sci[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec, value);
        if (strtod(sci, NULL) == value)
            break;
    }
    /* sci is [-]d[.ddd]e±XX: gather the significant digits and exponent. */
    const char *p = sci;
    size_t k = 0;
    if (*p == '-')
        buf[k++] = *p++;
    char digits[20];
    size_t nd = 0;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;

    if (exp < -4 || exp >= 6) {
        buf[k++] = digits[0];
        if (nd > 1) {
            buf[k++] = '.';
            memcpy(buf + k, digits + 1, nd - 1);
            k += nd - 1;
        }
        int n = snprintf(buf + k, 8, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        k += (size_t)n;
    } else if (exp < 0) {
        buf[k++] = '0';
        buf[k++] = '.';
        for (int i = -1; i > exp; i--)
            buf[k++] = '0';
        memcpy(buf + k, digits, nd);
        k += nd;
    } else {
        size_t whole = (size_t)exp + 1;
        for (size_t i = 0; i < whole; i++)
            buf[k++] = i < nd ? digits[i] : '0';
        buf[k++] = '.';
        if (nd > whole) {
            memcpy(buf + k, digits + whole, nd - whole);
            k += nd - whole;
        } else {
            buf[k++] = '0';
        }
    }
    buf[k] = '\0';
    return k;
}

/* Writes one histogram line: name_suffix{labels[,le="le"]} value. */
static void put_histogram_line(struct expo *e, const char *suffix, const struct expo_label *labels,
                               size_t n_labels, const char *le, size_t le_len, const char *value,
                               size_t value_len)
{
    put_sample_name(e, suffix);
    put_labels(e, labels, n_labels, le, le_len);
    put(e, " ", 1);
    put(e, value, value_len);
    put(e, "\n", 1);
}

void expo_histogram(struct expo *e, const struct expo_label *labels, size_t n_labels,
                    const double *upper_bounds, const uint64_t *cumulative_counts, size_t n_bounds,
                    uint64_t count, double sum)
{
    if (e->failed || !isfinite(sum))
        return;
    assert(e->fam_len > 0 && "expo_histogram without a current family");
    assert(e->fam_type == EXPO_HISTOGRAM && "expo_histogram outside a histogram family");
    char le[32], num[32];
    size_t le_len, num_len;
    for (size_t i = 0; i < n_bounds; i++) {
        if (!isfinite(upper_bounds[i]))
            continue;
        if (e->format == EXPO_FORMAT_OPENMETRICS)
            le_len = format_canonical(upper_bounds[i], le);
        else
            le_len = expo_format_double(upper_bounds[i], le);
        num_len = format_u64(cumulative_counts[i], num);
        put_histogram_line(e, "_bucket", labels, n_labels, le, le_len, num, num_len);
    }
    num_len = format_u64(count, num);
    put_histogram_line(e, "_bucket", labels, n_labels, "+Inf", 4, num, num_len);
    char sum_text[32];
    size_t sum_len = expo_format_double(sum, sum_text);
    put_histogram_line(e, "_sum", labels, n_labels, NULL, 0, sum_text, sum_len);
    put_histogram_line(e, "_count", labels, n_labels, NULL, 0, num, num_len);
}

void expo_eof(struct expo *e)
{
    if (e->format == EXPO_FORMAT_OPENMETRICS)
        put(e, "# EOF\n", 6);
    e->fam_len = 0;
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
