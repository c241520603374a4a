/*
 * feed_mapped: reads a plant's own JSON export through the feed's mapping
 * (config.h, struct config_mapping): JSON Pointers to the records and to
 * each field of a record, constants for plant and metal, a unit per
 * quantity. Mapped CSV is feed_csv's (feed_csv_parse_mapped).
 */
#ifndef INGOT_FEED_MAPPED_H
#define INGOT_FEED_MAPPED_H

#include <stddef.h>

#include "config.h"
#include "feed_record.h"

/* Parses the len bytes at buf (not NUL-terminated; a leading UTF-8 byte
 * order mark is skipped) as a JSON document and reads its records through
 * mapping, a JSON mapping as config.c validates it.
 *
 * The whole document is checked first. It fails (-1, the sink not called,
 * one line in err, err_size may be 0) when it is empty or not JSON
 * ("line 3, column 17: parse error: premature EOF", positions as
 * json_stream.h gives them), when a key the mapping reads (on the way to
 * the records, or from a record to a field) appears twice in one object
 * ("duplicate key \"rows\""), when a number a quantity reads is too large
 * for a double ("number too large: 1e400"), when mapping->records names
 * nothing ("records \"/data/rows\" does not resolve: \"/data\" is an
 * array without \"rows\"", "... the document is a string, not an object or
 * array") or something other than an array ("records \"\" is an object,
 * not an array"), or when an element of that array is not an object
 * ("records[2] is a string, not an object"; the index is 0-based). Keys and
 * values the mapping does not read are not looked at beyond JSON's syntax.
 *
 * Otherwise sink->record is called once per element, in order, and 0 is
 * returned; sink->plant is never called (plant attributes are not mapped)
 * and may be NULL. A record's line is the line its "{" is on. A field's
 * pointer is resolved relative to its record, per RFC 6901 (json_pointer.h:
 * an array index is "0" or digits without a leading zero; "-" names
 * nothing):
 *   - plant, metal, period: the string found (NULL when the pointer names
 *     nothing, or not a string, or a string holding a NUL byte); plant and
 *     metal may instead be the mapping's constant.
 *   - a quantity: ABSENT when its pointer names nothing (a missing member,
 *     an index out of range, a step into a scalar), null, or the empty
 *     string ""; PRESENT for a number, or for a string holding exactly a
 *     plain decimal number as number_parse reads it ("9.8005", "-1e3":
 *     plants' exports often quote numbers), then scaled by the field's unit
 *     (feed_value_scale); INVALID for anything else (booleans, objects,
 *     arrays, "n/a", "NaN", "1,5", " 12", "1e400"). A quantity the mapping
 *     leaves out is ABSENT.
 *
 * The document is read as a stream (json_stream.h), twice: memory is a few
 * kilobytes plus the mapping's pointers and the record's text fields,
 * whatever the document's size or depth (a document nested 10,000 deep
 * costs yajl 10 KB). */
int feed_mapped_json_parse(const char *buf, size_t len, const struct config_mapping *mapping,
                           const struct feed_sink *sink, char *err, size_t err_size);

#endif
