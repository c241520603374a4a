/*
 * json_stream: the yajl driver shared by the JSON feed readers. yajl keeps
 * its nesting on the heap (a byte per level), so a deeply nested document
 * costs memory in proportion to its size, never stack.
 */
#include "json_stream.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int json_stream_stop(struct json_stream *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->failure, sizeof(st->failure), fmt, ap);
    va_end(ap);
    return 0;
}

/* Fills err with where the parse stopped and why. offset counts the bytes
 * read: the position given is the last byte read, or just past the end of
 * a document that ended too early (at_end). */
static int parse_error(const char *buf, size_t offset, bool at_end, const char *why, char *err,
                       size_t err_size)
{
    if (offset > 0 && !at_end)
        offset--;
    unsigned long line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < offset; i++) {
        if (buf[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    snprintf(err, err_size, "line %lu, column %zu: %s", line, offset - line_start + 1, why);
    return -1;
}

/* yajl's own message for a syntax error, without its trailing newline. */
static int syntax_error(yajl_handle h, const char *buf, size_t offset, bool at_end, char *err,
                        size_t err_size)
{
    unsigned char *message = yajl_get_error(h, 0, NULL, 0);
    char why[128];
    snprintf(why, sizeof(why), "%s", message ? (const char *)message : "syntax error");
    why[strcspn(why, "\n")] = '\0';
    if (message)
        yajl_free_error(h, message);
    return parse_error(buf, offset, at_end, why, err, err_size);
}

int json_stream_parse(struct json_stream *st, const yajl_callbacks *callbacks, void *ctx,
                      const char *buf, size_t len, char *err, size_t err_size)
{
    yajl_handle h = yajl_alloc(callbacks, NULL, ctx);
    if (h == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    st->line = 1;
    st->failure[0] = '\0';
    size_t offset = 0;
    yajl_status status = yajl_status_ok;
    while (offset < len && status == yajl_status_ok) {
        const char *nl = memchr(buf + offset, '\n', len - offset);
        size_t chunk = nl ? (size_t)(nl - (buf + offset)) + 1 : len - offset;
        status = yajl_parse(h, (const unsigned char *)buf + offset, chunk);
        if (status != yajl_status_ok)
            offset += yajl_get_bytes_consumed(h);
        else
            offset += chunk;
        st->line += nl != NULL && status == yajl_status_ok;
    }
    bool at_end = status == yajl_status_ok;
    if (at_end)
        status = yajl_complete_parse(h);

    int rc = 0;
    if (status == yajl_status_client_canceled)
        rc = parse_error(buf, offset, at_end, st->failure, err, err_size);
    else if (status == yajl_status_error)
        rc = syntax_error(h, buf, offset, at_end, err, err_size);
    yajl_free(h);
    return rc;
}
