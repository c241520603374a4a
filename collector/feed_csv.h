/*
 * feed_csv: reads a CSV feed document, in ingot's native columns or in a
 * plant's own layout (a mapping), and hands its rows to a feed_sink as
 * records. CSV feeds carry no plant attributes, so sink->plant is never
 * called and may be NULL.
 */
#ifndef INGOT_FEED_CSV_H
#define INGOT_FEED_CSV_H

#include <stddef.h>

#include "config.h"
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

/* Parses like feed_csv_parse, in the layout mapping (a CSV mapping as
 * config.c validates it) describes instead of the native columns:
 *   - cells are separated by mapping->delimiter (a tab or a space too);
 *   - each field mapped by column is read from the header column of that
 *     name (compared exactly after trimming: case and UTF-8 bytes as they
 *     are), and the header must name every one of them: a missing one
 *     fails the document ("line 1: header lacks column \"CO2, kg\""), as
 *     does a header naming one twice; other columns are ignored, and two
 *     fields may read the same column;
 *   - plant and metal may be constants (mapping->fields[].text), the same
 *     for every row;
 *   - a quantity the mapping leaves out is ABSENT in every record;
 *   - with decimal_comma, quantities are read by number_parse_decimal_comma
 *     ("1.234,5"), else by number_parse;
 *   - a PRESENT quantity is then scaled into ingot's unit by its field's
 *     unit (feed_value_scale): "12,5" kt is 12500 tonnes.
 * Everything else (quoting, line ends, BOM, blank lines, trimming, ragged
 * rows, failures, memory) is as for feed_csv_parse, which is this reader
 * with the native layout: columns named like the fields, plant, metal and
 * period required, ',' and plain numbers in tonnes and MWh. */
int feed_csv_parse_mapped(const char *buf, size_t len, const struct config_mapping *mapping,
                          const struct feed_sink *sink, char *err, size_t err_size);

#endif
