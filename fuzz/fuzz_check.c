/*
 * fuzz_check: a strict reader of the exposition text ingot writes, line by
 * line, that fails on anything the text format 0.0.4, OpenMetrics 1.0.0 or
 * expo.h does not allow. It checks the output's shape; the numbers
 * themselves are the unit tests' business.
 */
#include "fuzz_check.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAMILIES 256
#define MAX_VALUE_LEN 64

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    __builtin_trap();
}

/* A piece of the text: s[0..n). */
struct span {
    const char *s;
    size_t n;
};

/* Where the reader is in a family's metadata lines. */
enum phase {
    PHASE_SAMPLES,   /* between families, or in a family's samples */
    PHASE_WANT_TYPE, /* text: after HELP */
    PHASE_WANT_HELP, /* OpenMetrics: after TYPE (UNIT may come first) */
};

struct reader {
    enum expo_format format;
    struct span families[MAX_FAMILIES]; /* every family announced so far */
    size_t n_families;
    struct span family; /* the current one; n == 0 before the first */
    struct span type;   /* its type: "gauge", "counter" or "histogram" */
    bool has_unit;
    enum phase phase;
    size_t line; /* 1-based, for messages */
};

static struct span span_of(const char *s)
{
    return (struct span){s, strlen(s)};
}

static bool same(struct span a, struct span b)
{
    return a.n == b.n && memcmp(a.s, b.s, a.n) == 0;
}

/* Whether name is base followed by the NUL-terminated suffix. */
static bool is_suffixed(struct span name, struct span base, const char *suffix)
{
    size_t k = strlen(suffix);
    return name.n == base.n + k && memcmp(name.s, base.s, base.n) == 0 &&
           memcmp(name.s + base.n, suffix, k) == 0;
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The name at *p (before end): [a-zA-Z_:][a-zA-Z0-9_:]* for a metric,
 * without ':' for a label. Advances *p past it; n == 0 when there is none. */
static struct span take_name(const char **p, const char *end, bool metric)
{
    const char *s = *p;
    while (*p < end && (is_letter(**p) || (metric && **p == ':') || (*p > s && is_digit(**p))))
        (*p)++;
    return (struct span){s, (size_t)(*p - s)};
}

/* Whether s[0..n) starts with the NUL-terminated prefix. */
static bool starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* Skips escaped text up to end or to an unescaped stop character, checking
 * that each backslash starts one of the escapes allowed ("\\", "\n", and
 * "\"" when quote is set); an unescaped '"' stops only when stop is set.
 * Returns the stop position, or NULL on a bad escape. */
static const char *skip_escaped(const char *p, const char *end, bool quote, bool stop)
{
    while (p < end && !(stop && *p == '"')) {
        if (*p == '\\') {
            if (p + 1 == end || !(p[1] == '\\' || p[1] == 'n' || (quote && p[1] == '"')))
                return NULL;
            p++;
        }
        p++;
    }
    return p;
}

/* Reads "<family> " at p; in text format HELP comes first. */
static struct span metadata_name(struct reader *r, const char **p, const char *end,
                                 const char *what)
{
    struct span name = take_name(p, end, true);
    if (name.n == 0 || *p == end || **p != ' ')
        fuzz_fail("exposition line %zu: %s without a family name", r->line, what);
    (*p)++;
    return name;
}

/* A family announced for the first time becomes the current one. */
static void start_family(struct reader *r, struct span name)
{
    for (size_t i = 0; i < r->n_families; i++)
        if (same(r->families[i], name))
            fuzz_fail("exposition line %zu: family %.*s announced twice", r->line, (int)name.n,
                      name.s);
    if (r->n_families == MAX_FAMILIES)
        fuzz_fail("exposition line %zu: more than %d families", r->line, MAX_FAMILIES);
    r->families[r->n_families++] = name;
    r->family = name;
    r->type = (struct span){NULL, 0};
    r->has_unit = false;
}

static void read_help(struct reader *r, const char *p, const char *end)
{
    struct span name = metadata_name(r, &p, end, "HELP");
    bool openmetrics = r->format == EXPO_FORMAT_OPENMETRICS;
    if (openmetrics) {
        if (r->phase != PHASE_WANT_HELP || !same(name, r->family))
            fuzz_fail("exposition line %zu: HELP not after its TYPE (and UNIT)", r->line);
        r->phase = PHASE_SAMPLES;
    } else {
        if (r->phase != PHASE_SAMPLES)
            fuzz_fail("exposition line %zu: HELP where TYPE was due", r->line);
        start_family(r, name);
        r->phase = PHASE_WANT_TYPE;
    }
    if (skip_escaped(p, end, openmetrics, false) != end)
        fuzz_fail("exposition line %zu: bad escape in HELP text", r->line);
}

static void read_type(struct reader *r, const char *p, const char *end)
{
    struct span name = metadata_name(r, &p, end, "TYPE");
    if (r->format == EXPO_FORMAT_OPENMETRICS) {
        if (r->phase != PHASE_SAMPLES)
            fuzz_fail("exposition line %zu: TYPE where HELP was due", r->line);
        start_family(r, name);
        r->phase = PHASE_WANT_HELP;
    } else {
        if (r->phase != PHASE_WANT_TYPE || !same(name, r->family))
            fuzz_fail("exposition line %zu: TYPE not right after its HELP", r->line);
        r->phase = PHASE_SAMPLES;
    }
    struct span type = {p, (size_t)(end - p)};
    if (!same(type, span_of("gauge")) && !same(type, span_of("counter")) &&
        !same(type, span_of("histogram")))
        fuzz_fail("exposition line %zu: TYPE %.*s", r->line, (int)type.n, type.s);
    r->type = type;
}

/* OpenMetrics only: "# UNIT <family> <unit>", the family ending in _<unit>. */
static void read_unit(struct reader *r, const char *p, const char *end)
{
    struct span name = metadata_name(r, &p, end, "UNIT");
    struct span unit = take_name(&p, end, false);
    if (r->format != EXPO_FORMAT_OPENMETRICS || r->phase != PHASE_WANT_HELP || r->has_unit ||
        !same(name, r->family))
        fuzz_fail("exposition line %zu: UNIT out of place", r->line);
    if (unit.n == 0 || p != end || unit.n + 1 > name.n ||
        name.s[name.n - unit.n - 1] != '_' ||
        memcmp(name.s + name.n - unit.n, unit.s, unit.n) != 0)
        fuzz_fail("exposition line %zu: family does not end in _<unit>", r->line);
    r->has_unit = true;
}

/* Whether name may be a sample of the current family. */
static bool sample_of_family(const struct reader *r, struct span name)
{
    if (same(r->type, span_of("histogram")))
        return is_suffixed(name, r->family, "_bucket") || is_suffixed(name, r->family, "_sum") ||
               is_suffixed(name, r->family, "_count");
    if (same(r->type, span_of("counter")) && r->format == EXPO_FORMAT_OPENMETRICS)
        return is_suffixed(name, r->family, "_total");
    return same(name, r->family);
}

static void read_sample(struct reader *r, const char *p, const char *end)
{
    struct span name = take_name(&p, end, true);
    if (r->phase != PHASE_SAMPLES || r->family.n == 0 || !sample_of_family(r, name))
        fuzz_fail("exposition line %zu: sample outside its family", r->line);
    if (p < end && *p == '{') {
        do {
            p++;
            struct span label = take_name(&p, end, false);
            if (label.n == 0 || end - p < 2 || p[0] != '=' || p[1] != '"')
                fuzz_fail("exposition line %zu: malformed label", r->line);
            p = skip_escaped(p + 2, end, true, true);
            if (!p || p == end)
                fuzz_fail("exposition line %zu: malformed label value", r->line);
            p++; /* the closing quote */
        } while (p < end && *p == ',');
        if (p == end || *p != '}')
            fuzz_fail("exposition line %zu: label set not closed", r->line);
        p++;
    }
    if (p == end || *p != ' ')
        fuzz_fail("exposition line %zu: no space before the value", r->line);
    p++;
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= MAX_VALUE_LEN)
        fuzz_fail("exposition line %zu: value of %zu bytes", r->line, n);
    char value[MAX_VALUE_LEN];
    memcpy(value, p, n);
    value[n] = '\0';
    char *stop;
    double v = strtod(value, &stop);
    if (*stop != '\0' || !isfinite(v))
        fuzz_fail("exposition line %zu: sample value \"%s\" is not a finite number", r->line,
                  value);
}

void fuzz_check_exposition(enum expo_format format, const char *text, size_t len)
{
    FUZZ_REQUIRE(format == EXPO_FORMAT_TEXT || format == EXPO_FORMAT_OPENMETRICS);
    FUZZ_REQUIRE(text != NULL);
    FUZZ_REQUIRE(len > 0 && text[len - 1] == '\n');
    FUZZ_REQUIRE(text[len] == '\0' && strlen(text) == len);
    struct reader r = {.format = format, .phase = PHASE_SAMPLES};
    for (const char *line = text; line < text + len;) {
        const char *end = memchr(line, '\n', (size_t)(text + len - line));
        size_t n = (size_t)(end - line);
        r.line++;
        if (starts_with(line, n, "# HELP "))
            read_help(&r, line + 7, end);
        else if (starts_with(line, n, "# TYPE "))
            read_type(&r, line + 7, end);
        else if (starts_with(line, n, "# UNIT "))
            read_unit(&r, line + 7, end);
        else if (n > 0 && line[0] != '#')
            read_sample(&r, line, end);
        else if (n > 0 || format == EXPO_FORMAT_OPENMETRICS)
            fuzz_fail("exposition line %zu: %s", r.line,
                      n > 0 ? "a comment ingot does not write" : "empty line");
        line = end + 1;
    }
    if (r.phase != PHASE_SAMPLES)
        fuzz_fail("exposition ends inside a family's metadata");
}
