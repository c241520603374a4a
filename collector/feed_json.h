/*
 * feed_json: reads an "ingot.feed.v1" JSON feed document and hands its
 * plants and records to a feed_sink.
 */
#ifndef INGOT_FEED_JSON_H
#define INGOT_FEED_JSON_H

#include <stddef.h>

#include "feed_record.h"

/* Parses the len bytes at buf (not NUL-terminated; a leading UTF-8 byte
 * order mark is skipped, and columns on the first line count from after
 * it) as
 *     {"schema": "ingot.feed.v1", "plants": [{..., "records": [{...}]}]}
 * Unknown keys are ignored; a key ingot reads that appears twice in one
 * object fails the document. Integers are read as doubles, so integers too
 * large for 64 bits are fine, but a number too large for a double
 * ("1e999") fails the document. The document is read as a stream: memory
 * does not grow with it, only with its number of plants.
 *
 * The whole structure is checked first. When it is sound, sink->plant is
 * called once per plant and then sink->record once per record of that
 * plant, in document order (a plant's attributes come first even when the
 * document puts them after its records), and 0 is returned. Otherwise -1 is
 * returned, the sink has not been called, and err (err_size bytes, may be
 * 0) holds one line: the position and yajl's message for a syntax error
 * ("line 3, column 17: parse error: premature EOF"; the column is the byte
 * reading stopped at), or the part that is wrong ("plants[2].records[0] is
 * not an object"). A plant without "records", or with "records": null, has
 * none.
 *
 * Each field is PRESENT when of the right type, ABSENT when missing or
 * null, INVALID otherwise; id, metal and period are NULL unless strings. A
 * string holding a NUL byte counts as the wrong type. Records carry their
 * plant's id, and plants and records the line their object starts on.
 * Both sink callbacks must be set. */
int feed_json_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                    size_t err_size);

#endif
