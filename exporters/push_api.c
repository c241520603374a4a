/*
 * push_api: the ingest endpoint's checks in order (token, media type,
 * document) and its JSON answers.
 */
#include "push_api.h"

#include <event2/buffer.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static const char *const realm = "Bearer realm=\"ingot\"";
static const char *const realm_invalid = "Bearer realm=\"ingot\", error=\"invalid_token\"";

int push_api_bearer(const char *authorization, const char **token, size_t *len)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return -1;
    const char *p = authorization + 7;
    while (*p == ' ')
        p++;
    size_t n = 0;
    while (p[n] > ' ' && p[n] < 0x7f)
        n++;
    size_t rest = n;
    while (p[rest] == ' ' || p[rest] == '\t')
        rest++;
    if (n == 0 || p[rest] != '\0')
        return -1;
    *token = p;
    *len = n;
    return 0;
}

/* RFC 9110 token characters. */
static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static size_t token_len(const char *p)
{
    size_t n = 0;
    while (tchar(p[n]))
        n++;
    return n;
}

static int fail(char *err, size_t err_size, const char *why)
{
    if (err_size)
        snprintf(err, err_size, "%s", why);
    return -1;
}

/* Reads a parameter value at *p (a token or a quoted string) into value
 * (truncated to value_size - 1 bytes); advances *p. -1 when malformed. */
static int param_value(const char **p, char *value, size_t value_size)
{
    const char *s = *p;
    size_t n = 0;
    if (*s == '"') {
        for (s++; *s != '"'; s++) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '\0' || *s == '\\')
                return -1;
            if (n + 1 < value_size)
                value[n++] = *s;
        }
        s++;
    } else {
        size_t len = token_len(s);
        if (len == 0)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (n + 1 < value_size)
                value[n++] = s[i];
        s += len;
    }
    value[n] = '\0';
    *p = s;
    return 0;
}

int push_api_content_type(const char *content_type, enum feed_format *format, char *err,
                          size_t err_size)
{
    if (!content_type)
        return fail(err, err_size, "no Content-Type: send application/json or text/csv");
    const char *p = skip_ows(content_type);
    size_t type_len = token_len(p);
    size_t subtype_len = p[type_len] == '/' ? token_len(p + type_len + 1) : 0;
    if (type_len == 0 || subtype_len == 0)
        return fail(err, err_size, "malformed Content-Type: send application/json or text/csv");
    size_t media_len = type_len + 1 + subtype_len;
    if (media_len == 16 && strncasecmp(p, "application/json", 16) == 0)
        *format = FEED_FORMAT_JSON;
    else if (media_len == 8 && strncasecmp(p, "text/csv", 8) == 0)
        *format = FEED_FORMAT_CSV;
    else
        return fail(err, err_size,
                    "unsupported Content-Type: send application/json or text/csv");
    p += media_len;
    for (;;) {
        p = skip_ows(p);
        if (*p == '\0')
            return 0;
        if (*p != ';')
            return fail(err, err_size, "malformed Content-Type parameters");
        p = skip_ows(p + 1);
        if (*p == '\0')
            return 0;
        size_t name_len = token_len(p);
        const char *name = p;
        char value[32];
        p += name_len;
        if (name_len == 0 || *p != '=')
            return fail(err, err_size, "malformed Content-Type parameters");
        p++;
        if (param_value(&p, value, sizeof(value)) != 0)
            return fail(err, err_size, "malformed Content-Type parameters");
        if (name_len == 7 && strncasecmp(name, "charset", 7) == 0 &&
            strcasecmp(value, "utf-8") != 0 && strcasecmp(value, "us-ascii") != 0)
            return fail(err, err_size, "unsupported charset: send UTF-8");
    }
}

/* Appends s as a JSON string: quotes, backslashes and control characters
 * escaped, bytes outside ASCII as \u00XX so the answer is valid JSON
 * whatever the parser quoted from the document. */
static void json_string(struct evbuffer *b, const char *s)
{
    evbuffer_add(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            evbuffer_add_printf(b, "\\%c", *c);
        else if (*c < 0x20 || *c >= 0x7f)
            evbuffer_add_printf(b, "\\u%04x", *c);
        else
            evbuffer_add(b, c, 1);
    }
    evbuffer_add(b, "\"", 1);
}

static void answer_error(struct http_response *r, int status, const char *message)
{
    r->status = status;
    r->content_type = "application/json";
    evbuffer_add_printf(r->body, "{\"error\": ");
    json_string(r->body, message);
    evbuffer_add_printf(r->body, "}\n");
}

static void answer_accepted(struct http_response *r, const struct push_outcome *out)
{
    r->status = 202;
    r->content_type = "application/json";
    evbuffer_add_printf(r->body, "{\"accepted\": %llu, \"rejected\": %llu, \"rejections\": [",
                        (unsigned long long)out->accepted, (unsigned long long)out->rejected);
    for (size_t i = 0; i < out->n_rejections; i++)
        evbuffer_add_printf(r->body, "%s{\"index\": %zu, \"reason\": \"%s\"}", i ? ", " : "",
                            out->rejections[i].index,
                            ingest_reason_names[out->rejections[i].reason]);
    evbuffer_add_printf(r->body, "], \"truncated\": %s}\n", out->truncated ? "true" : "false");
}

void push_api_serve(struct push *push, const struct http_request *req, struct http_response *r)
{
    const char *token;
    size_t len;
    if (push_api_bearer(req->authorization, &token, &len) != 0) {
        http_response_header(r, "WWW-Authenticate", realm);
        answer_error(r, 401, "a push source's token is required: Authorization: Bearer <token>");
        return;
    }
    int source = push_authenticate(push, token, len);
    if (source < 0) {
        log_debug("push refused: unknown token");
        http_response_header(r, "WWW-Authenticate", realm_invalid);
        answer_error(r, 401, "unknown token");
        return;
    }
    enum feed_format format;
    char why[128];
    if (push_api_content_type(req->content_type, &format, why, sizeof(why)) != 0) {
        answer_error(r, 415, why);
        return;
    }
    struct push_outcome out;
    char message[320];
    push_ingest(push, (size_t)source, format, req->body, req->body_len, &out);
    switch (out.result) {
    case PUSH_APPLIED:
        answer_accepted(r, &out);
        break;
    case PUSH_UNREADABLE:
        snprintf(message, sizeof(message), "document rejected, nothing applied: %s", out.error);
        answer_error(r, 400, message);
        break;
    case PUSH_FOREIGN:
        snprintf(message, sizeof(message),
                 "push source %s may not write the plants of any of the %llu records; nothing "
                 "applied", push_source_name(push, (size_t)source),
                 (unsigned long long)out.rejected);
        answer_error(r, 403, message);
        break;
    }
    push_outcome_release(&out);
}
