/*
 * persistence: ingotd's state across restarts, in state_dir. At start the
 * newest sound snapshot file is restored into the store. While running,
 * the state is snapshotted every snapshot.interval when it changed: encoded
 * on the loop (a consistent copy), written and fsynced by a worker thread,
 * so a scrape never waits behind a disk. At a clean shutdown a last
 * snapshot is written before ingotd exits.
 */
#ifndef INGOT_PERSISTENCE_H
#define INGOT_PERSISTENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

struct event_base;
struct persistence;

/* Encodes the current state: a new buffer in *out (the callee's malloc,
 * released by persistence), *len bytes, taken at *taken_at_ms (Unix ms).
 * Returns 0, or -1 on ENOMEM. Called on the loop. */
typedef int (*persistence_encode_fn)(void *arg, uint8_t **out, size_t *len,
                                     int64_t *taken_at_ms);

struct persistence_stats {
    bool enabled;             /* state_dir is usable */
    uint64_t writes_ok;
    uint64_t writes_failed;
    double last_success;      /* Unix seconds of the last file written; 0 before */
    uint64_t last_bytes;      /* payload size of the last file written */
    uint64_t restored_records; /* by persistence_restore */
};

/* Persistence into config->state_dir, created (mode 0750, parent must
 * exist) when missing. A state_dir that cannot be used is logged and
 * persistence is disabled, never fatal: stats say so. NULL on ENOMEM or
 * when the worker thread cannot start (logged). base and the encode
 * callback's arg must outlive it. */
struct persistence *persistence_new(struct event_base *base, const struct config *config,
                                    persistence_encode_fn encode, void *arg);

/* Restores the newest sound snapshot of state_dir into store (empty),
 * logging what it took, what it skipped and why, or that there was none.
 * Returns 0 (also when nothing was restored), -1 when state_dir cannot be
 * read (logged; ingotd starts empty). */
int persistence_restore(struct persistence *p, struct store *store);

/* The state changed: the next interval writes a snapshot. */
void persistence_changed(struct persistence *p);

/* A reloaded config: new snapshot.interval and keep. A new state_dir takes
 * effect at the next start (logged). */
void persistence_configure(struct persistence *p, const struct config *config);

void persistence_stats(struct persistence *p, struct persistence_stats *out);

/* Writes a last snapshot when the state changed since the last one, waits
 * for the worker to finish, and frees everything. NULL is fine. */
void persistence_free(struct persistence *p);

#endif
