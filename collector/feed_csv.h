/*
 * feed_csv: reads a CSV feed document and hands its rows to a feed_sink as
 * records. CSV feeds carry no plant attributes, so sink->plant is never
 * called and may be NULL.
 */
#ifndef INGOT_FEED_CSV_H
#define INGOT_FEED_CSV_H

#include <stddef.h>

#include "feed_record.h"

/* Parses the len bytes at buf (not NUL-terminated) as CSV with RFC 4180
 * quoting: a header row, then one record per row. The header names the
 * columns plant, metal, period (all three required) and any of the quantity
 * columns (record_field_names), in any order, compared exactly after
 * trimming; other columns are ignored. Quoted
 * cells may hold commas, "" quotes and line ends. Lines end in LF, CRLF or
 * a lone CR; the last line may lack one; a leading UTF-8 BOM is skipped;
 * blank (or all-space) lines are skipped. Every cell is trimmed of
 * surrounding spaces and tabs, quoted or not, and a cell empty after that,
 * "" included, is empty: NULL for plant/metal/period, ABSENT for a
 * quantity. A quantity is PRESENT when number_parse accepts it, INVALID
 * otherwise. A row whose cell count differs from the header's is still
 * handed on, with problem set. line is the line the row starts on.
 *
 * The document fails as a whole (-1, the sink not called, one line in err,
 * err_size may be 0) when it has no header row ("empty document"), when the
 * header lacks a required column or names a known one twice, on a NUL byte,
 * on a malformed quote ("line 3, column 9: error parsing data while strict
 * checking enabled", libcsv's words) or a quote left open at the end
 * ("line 7: unterminated quoted field", the line the cell starts on), or
 * when out of memory. Otherwise returns 0, having called sink->record once
 * per data row in document order. Memory use is bounded by the largest
 * cell and the largest row. */
int feed_csv_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                   size_t err_size);

#endif
