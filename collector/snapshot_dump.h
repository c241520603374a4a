/*
 * snapshot_dump: a serialised ingot.v1.Snapshot for operators (ingotctl):
 * fetched from wherever they have one (a snapshot file from state_dir, a
 * raw payload as GET /snapshot returns it, stdin, or the URL itself),
 * checked, and written out as JSON for programs or as text for people.
 *
 * JSON: one object whose keys are the .proto's field names, in the .proto's
 * field-number order at every level, so the same snapshot always gives the
 * same bytes: taken_at_unix_ms, ingot_version, ingot_revision, metals,
 * targets, plants (every plant, series and record), national, feeds. Units
 * are those the names end with (tonnes, mwh, ratio, unix_ms, seconds). A
 * singular field that is not set is left out, never written as null or 0;
 * a list is always written, [] when empty. int64 and uint64 fields are JSON
 * integers; doubles are written with 17 significant digits, so they parse
 * back to exactly the double the snapshot holds.
 *
 * Text: the national table first (per year: production per metal against
 * its target, progress and growth, output against the baseline, the
 * intensities and recycling against their targets and benchmarks; then the
 * initiatives), then the feeds, then the plants with their record counts
 * per metal (not the records themselves), then the snapshot's own facts.
 *
 * Plants are unpacked and written one at a time, so memory stays at the
 * payload plus one plant whatever the snapshot's size.
 */
#ifndef INGOT_SNAPSHOT_DUMP_H
#define INGOT_SNAPSHOT_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"

enum snapshot_dump_format { SNAPSHOT_DUMP_TEXT, SNAPSHOT_DUMP_JSON };

/* Bounds of snapshot_dump_load: a file or stdin up to the size of the
 * largest snapshot file (snapshot_file.h), a URL's body (after gzip) up to
 * 1 GiB, fetched within 30 s. */
#define SNAPSHOT_DUMP_MAX_FILE_BYTES ((uint64_t)4 << 30)
#define SNAPSHOT_DUMP_MAX_URL_BYTES ((uint64_t)1 << 30)
#define SNAPSHOT_DUMP_URL_TIMEOUT_S 30

/* True when source names a URL (http:// or https://) rather than a file. */
int snapshot_dump_is_url(const char *source);

/* Reads the serialised Snapshot at source: a path, "-" for stdin, or an
 * http:// or https:// URL (fetched with libcurl, gzip accepted, redirects
 * followed to http and https only, TLS verified, bounded as above). Input
 * that starts with the snapshot file magic "INGOTSN1" is a snapshot file:
 * its framing is checked and unwrapped by snapshot_file_read; an empty
 * file is one too ("empty file"); anything else is taken as the payload
 * itself. Returns 0 with the payload in *payload (release with free; NULL
 * when *len is 0) and *len; or -1 with err saying why, without naming
 * source ("checksum mismatch", "HTTP 404", "cannot open: No such file or
 * directory", ...). Blocking. */
int snapshot_dump_load(const char *source, uint8_t **payload, size_t *len, char *err,
                       size_t err_size);

/* The full structural check of a payload: snapshot_read with a sink that
 * keeps nothing. Returns 0 and fills info (may be NULL), or -1 with err
 * saying what is wrong, exactly as snapshot_read says it. */
int snapshot_dump_verify(const uint8_t *payload, size_t len, struct snapshot_info *info,
                         char *err, size_t err_size);

/* Writes the payload to out as format (see the top of this file). It is
 * verified first, and nothing is written when it is not sound. Returns 0;
 * or -1 with err set: not sound (snapshot_dump_verify's reason), out of
 * memory, or a write error on out ("write error: <strerror>"), after which
 * out may hold part of the dump. */
int snapshot_dump(const uint8_t *payload, size_t len, enum snapshot_dump_format format,
                  FILE *out, char *err, size_t err_size);

#endif
