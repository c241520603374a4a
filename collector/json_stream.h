/*
 * json_stream: runs yajl over a whole JSON document for the streaming feed
 * readers (feed_json: the native v1 format; feed_mapped: plants' own JSON):
 * the text is handed to yajl one line at a time, so every callback knows its
 * line, and a syntax error or a callback's stop becomes one message with a
 * position.
 */
#ifndef INGOT_JSON_STREAM_H
#define INGOT_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_parse.h>

struct json_stream {
    unsigned long line; /* 1-based line yajl is reading: the callbacks' position */
    char failure[160];  /* why a callback stopped the parse (json_stream_stop) */
};

/* For a callback that stops the parse: keeps the reason, formatted, in
 * st->failure. Returns 0, for the callback to return to yajl. */
int json_stream_stop(struct json_stream *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses the len bytes at buf (len > 0) as one JSON document (no comments,
 * strings checked as UTF-8, trailing whitespace only), calling callbacks
 * with ctx. st->line is 1 when the first callback runs. Returns 0 when the
 * document is well formed and no callback stopped; otherwise -1 with one
 * line in err (err_size may be 0): "line L, column C: why", where why is
 * yajl's message for a syntax error ("parse error: premature EOF") or the
 * callback's reason, and the position is the last byte read (the one that
 * was wrong, or the end of the token that was), or just past the end of a
 * document that ended too early. Columns count bytes. */
int json_stream_parse(struct json_stream *st, const yajl_callbacks *callbacks, void *ctx,
                      const char *buf, size_t len, char *err, size_t err_size);

/* yajl checks only the shape of UTF-8 sequences (see utf8.h): the readers'
 * string and key callbacks stop on what utf8_valid refuses with this
 * message, so that no such string reaches a label value or a log line. */
#define JSON_STREAM_BAD_UTF8 "lexical error: invalid bytes in UTF8 string."

#endif
