/*
 * feed_json: reads an "ingot.feed.v1" JSON feed document and hands its
 * plants and records to a feed_sink.
 */
#ifndef INGOT_FEED_JSON_H
#define INGOT_FEED_JSON_H

#include <stddef.h>

#include "feed_record.h"

/* Parses the len bytes at buf (not NUL-terminated) as
 *     {"schema": "ingot.feed.v1", "plants": [{..., "records": [{...}]}]}
 * Duplicate keys anywhere fail the document; unknown keys are ignored;
 * integers are read as doubles, so integers too large for 64 bits are fine,
 * but a number too large for a double ("1e999") fails the document.
 *
 * The whole structure is checked first. When it is sound, sink->plant is
 * called once per plant and sink->record once per record of that plant,
 * in document order, and 0 is returned. Otherwise -1 is returned, the sink
 * has not been called, and err (err_size bytes, may be 0) holds one line:
 * jansson's position and message ("line 3, column 17: '}' expected near end
 * of file"), or the part that is wrong ("plants[2].records[0] is not an
 * object"). A plant without "records", or with "records": null, has none.
 *
 * Each field is PRESENT when of the right type, ABSENT when missing or
 * null, INVALID otherwise; id, metal and period are NULL unless strings.
 * Records carry their plant's id. jansson keeps no node positions, so every
 * line is 0: log the plant and period instead. Both sink callbacks must be
 * set. */
int feed_json_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                    size_t err_size);

#endif
