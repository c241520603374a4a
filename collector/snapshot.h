/*
 * snapshot: ingot's state as one ingot.v1.Snapshot protobuf message
 * (proto/ingot/v1/snapshot.proto). This pair and snapshot_dump are the only
 * code that sees the protobuf-c generated types; everything else uses the
 * functions below and plain buffers.
 */
#ifndef INGOT_SNAPSHOT_H
#define INGOT_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evaluation.h"
#include "feed_record.h"
#include "feeds.h"
#include "store.h"

/* One feed's status as the snapshot records it. */
struct snapshot_feed_status {
    const char *name;
    const struct feed_stats *stats;
};

/* What a snapshot is taken of. Everything is borrowed for the call only. */
struct snapshot_source {
    const struct config *config;         /* metals and targets; never NULL */
    const struct store *store;           /* plants and every stored record */
    const struct evaluation *evaluation; /* national figures, evaluated against
                                            config; NULL: none */
    const struct snapshot_feed_status *feeds;
    size_t n_feeds;
    int64_t taken_at_ms; /* Unix milliseconds */
};

/* Serialises src into a new buffer: *out (release with free) of *out_len
 * bytes. The same state always gives the same bytes: plants by id, each
 * plant's series by metal name (not by the store's metal ids), records by
 * period. Memory use is the output plus one plant's messages, never the
 * whole message tree. Returns 0, or -1 on ENOMEM (then *out is NULL). */
int snapshot_encode(const struct snapshot_source *src, uint8_t **out, size_t *out_len);

/* What snapshot_read learnt about a snapshot besides its plants. */
struct snapshot_info {
    int64_t taken_at_ms;
    char version[64]; /* ingot_version that wrote it ("0.1.0"), "" when absent */
    uint64_t plants;
    uint64_t records;
};

/* Reads a serialised Snapshot of len bytes. The whole message is checked
 * first; when it is sound, sink->plant is called once per plant and
 * sink->record once per stored record after its plant's call (period spelt
 * "YYYY-MM" or "YYYY-MM-DD", values PRESENT or ABSENT, line 0; strings are
 * valid during the call only), info (may be NULL) is filled and 0 is
 * returned. Otherwise -1 is returned, the sink has not been called, and err
 * holds one line saying what is wrong (with the byte offset for wire-format
 * errors); the one exception is running out of memory part way, when err is
 * "out of memory" and the sink may have had some plants.
 *
 * Sound means: well-formed protobuf (groups, which proto3 cannot write, are
 * refused), known fields with their declared wire types, every embedded
 * message unpacking, taken_at_unix_ms present (an empty buffer is a valid
 * empty message but not a snapshot: "not a snapshot: taken_at_unix_ms
 * missing"), every plant id valid (config_plant_id_valid), every series
 * with a metal, every record with a real period, and every quantity finite
 * within the store's range (FIXED_VALUE_MAX). Fields of a later v1 this
 * reader does not know are skipped, at every level. Nothing else is judged:
 * a plant, metal or period that appears twice is handed on twice. */
int snapshot_read(const uint8_t *buf, size_t len, const struct feed_sink *sink,
                  struct snapshot_info *info, char *err, size_t err_size);

/* Restores every plant and record of a serialised Snapshot into store, as
 * it was stored (no feed validation: metals not in the current config are
 * kept too, values are not re-checked against the feed rules). A plant's
 * attributes absent from the snapshot are left as store has them; a key
 * written twice ends with its last record. Returns 0, or -1 with err set,
 * when the snapshot is not sound (store untouched) or memory ran out (store
 * partly restored). */
int snapshot_restore(struct store *store, const uint8_t *buf, size_t len,
                     struct snapshot_info *info, char *err, size_t err_size);

#endif
