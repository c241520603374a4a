/*
 * negotiate: HTTP content negotiation for the metrics endpoint. It owns the
 * parsing of Accept and Accept-Encoding (comma-separated elements, each a
 * value with ";name=value" parameters and an optional q weight) and the
 * choice they lead to: the exposition format, and whether to gzip. Parsing
 * walks the header in place: no allocation, linear in its length, and
 * whatever it cannot parse it skips, so no header makes it fail.
 */
#include "negotiate.h"

#include <stddef.h>
#include <string.h>

/* One element of a comma-separated header, as spans into the header. */
struct element {
    const char *value; /* "type/subtype" or a content coding */
    size_t value_len;
    const char *version; /* the version parameter, unquoted; NULL if absent */
    size_t version_len;
    int q;          /* weight in thousandths, 0-1000; 1000 when absent */
    bool malformed; /* unparseable past value: q is 0 */
};

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar: the characters of a token. */
static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_ows(const char *p)
{
    while (is_ows(*p))
        p++;
    return p;
}

static const char *skip_token(const char *p)
{
    while (is_tchar(*p))
        p++;
    return p;
}

/* ASCII case-insensitive comparison of a span with a lowercase literal,
 * independent of the locale. */
static bool span_is(const char *s, size_t len, const char *lower)
{
    size_t n = strlen(lower);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

/* Parses an RFC 9110 qvalue: "0" ["." 0*3DIGIT] or "1" ["." 0*3"0"]. The
 * weight in thousandths, or -1 when s is not one. */
static int parse_qvalue(const char *s, size_t len)
{
    if (len == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int whole = s[0] - '0';
    int thousandths = 0;
    if (len > 1) {
        if (s[1] != '.' || len > 5)
            return -1;
        int scale = 100;
        for (size_t i = 2; i < len; i++, scale /= 10) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            thousandths += (s[i] - '0') * scale;
        }
    }
    if (whole == 1 && thousandths != 0)
        return -1;
    return whole * 1000 + thousandths;
}

/* Skips to the next top-level comma (or the end), passing over quoted
 * strings and their backslash escapes. */
static const char *skip_element(const char *p)
{
    while (*p != '\0' && *p != ',') {
        if (*p == '"') {
            for (p++; *p != '\0' && *p != '"'; p++)
                if (*p == '\\' && p[1] != '\0')
                    p++;
            if (*p == '\0')
                break;
        }
        p++;
    }
    return p;
}

/*
 * Parses the element at *pos into el and moves *pos past it and its comma.
 * Returns false at the end of the header. Empty elements (",,") are
 * skipped. An element that does not parse comes back malformed, with the
 * rest of it skipped; the next one parses afresh.
 */
static bool next_element(const char **pos, struct element *el)
{
    const char *p = *pos;
    while (is_ows(*p) || *p == ',')
        p++;
    if (*p == '\0') {
        *pos = p;
        return false;
    }
    *el = (struct element){.q = 1000};
    el->value = p;
    p = skip_token(p);
    if (*p == '/')
        p = skip_token(p + 1);
    el->value_len = (size_t)(p - el->value);
    if (el->value_len == 0)
        goto malformed;
    p = skip_ows(p);

    while (*p == ';') {
        p = skip_ows(p + 1);
        if (*p == ';' || *p == ',' || *p == '\0')
            continue; /* an empty parameter, as in "text/plain;" */
        const char *name = p;
        p = skip_token(p);
        size_t name_len = (size_t)(p - name);
        p = skip_ows(p);
        if (name_len == 0 || *p != '=')
            goto malformed;
        p = skip_ows(p + 1);
        const char *value = p;
        size_t value_len;
        bool quoted = *p == '"';
        if (quoted) {
            value = ++p;
            while (*p != '"') {
                if (*p == '\0')
                    goto malformed;
                if (*p == '\\' && p[1] != '\0')
                    p++;
                p++;
            }
            value_len = (size_t)(p - value);
            p++;
        } else {
            p = skip_token(p);
            value_len = (size_t)(p - value);
            if (value_len == 0)
                goto malformed;
        }
        p = skip_ows(p);
        if (span_is(name, name_len, "q")) {
            el->q = quoted ? -1 : parse_qvalue(value, value_len);
            if (el->q < 0)
                goto malformed;
        } else if (span_is(name, name_len, "version")) {
            el->version = value;
            el->version_len = value_len;
        }
        /* charset, escaping and any other parameter: not ours to judge. */
    }
    if (*p != ',' && *p != '\0')
        goto malformed;
    *pos = *p == ',' ? p + 1 : p;
    return true;

malformed:
    el->malformed = true;
    el->q = 0;
    p = skip_element(p);
    *pos = *p == ',' ? p + 1 : p;
    return true;
}

static bool version_is(const struct element *el, const char *version)
{
    return el->version_len == strlen(version) &&
           memcmp(el->version, version, el->version_len) == 0;
}

/* The format an Accept element asks for, or -1 if ingot serves none that
 * it matches. */
static int element_format(const struct element *el)
{
    if (span_is(el->value, el->value_len, "application/openmetrics-text")) {
        if (el->version == NULL || version_is(el, "1.0.0") || version_is(el, "0.0.1"))
            return EXPO_FORMAT_OPENMETRICS;
        return -1;
    }
    if (span_is(el->value, el->value_len, "text/plain")) {
        if (el->version == NULL || version_is(el, "0.0.4"))
            return EXPO_FORMAT_TEXT;
        return -1;
    }
    if (span_is(el->value, el->value_len, "*/*") || span_is(el->value, el->value_len, "text/*"))
        return EXPO_FORMAT_TEXT;
    return -1;
}

enum expo_format negotiate_format(const char *accept)
{
    enum expo_format best = EXPO_FORMAT_TEXT;
    int best_q = 0;
    if (accept == NULL)
        return best;
    struct element el;
    const char *p = accept;
    while (next_element(&p, &el)) {
        if (el.malformed || el.q <= best_q)
            continue; /* refused, or no better than an earlier entry */
        int format = element_format(&el);
        if (format < 0)
            continue;
        best = (enum expo_format)format;
        best_q = el.q;
    }
    return best;
}

bool negotiate_gzip(const char *accept_encoding)
{
    if (accept_encoding == NULL)
        return false;
    bool gzip_listed = false, gzip_ok = false, star_ok = false;
    struct element el;
    const char *p = accept_encoding;
    while (next_element(&p, &el)) {
        /* A malformed element counts with weight 0: "gzip;q=x" refuses. */
        if (span_is(el.value, el.value_len, "gzip") || span_is(el.value, el.value_len, "x-gzip")) {
            gzip_listed = true;
            gzip_ok = gzip_ok || el.q > 0;
        } else if (span_is(el.value, el.value_len, "*")) {
            star_ok = el.q > 0;
        }
    }
    return gzip_ok || (!gzip_listed && star_ok);
}

const char *negotiate_content_type(enum expo_format format)
{
    if (format == EXPO_FORMAT_OPENMETRICS)
        return "application/openmetrics-text; version=1.0.0; charset=utf-8";
    return "text/plain; version=0.0.4; charset=utf-8";
}
