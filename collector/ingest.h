/*
 * ingest: judges each record of a feed document against the config, the
 * feed's permissions, the clock and what is already stored, and applies
 * the ones that pass. A record is rejected with exactly one reason, the
 * first of enum ingest_reason that applies; the rest of the document still
 * applies.
 */
#ifndef INGOT_INGEST_H
#define INGOT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* In the order they are checked. */
enum ingest_reason {
    INGEST_INVALID_PLANT,
    INGEST_PLANT_NOT_ALLOWED,
    INGEST_UNKNOWN_METAL,
    INGEST_INVALID_PERIOD,
    INGEST_FUTURE_PERIOD,
    INGEST_INVALID_VALUE,
    INGEST_NEGATIVE_VALUE,
    INGEST_RECYCLED_EXCEEDS_WASTE,
    INGEST_GRANULARITY_CONFLICT,
    INGEST_REASON_COUNT
};

/* The reason label values: "invalid_plant", ... */
extern const char *const ingest_reason_names[INGEST_REASON_COUNT];

struct ingest_counts {
    uint64_t accepted; /* records that passed (whether or not they changed data) */
    uint64_t changed;  /* accepted records that changed the store */
    uint64_t rejected[INGEST_REASON_COUNT];
};

/* Parses body (in feed->format) and applies it to store as of now (Unix
 * seconds, the evaluation clock). Returns 0 and adds to *counts when the
 * document was read; -1 when it failed as a whole, with the reason in err:
 * then nothing was applied. */
int ingest_document(struct store *store, const struct config *config,
                    const struct config_feed *feed, int64_t now, const char *body, size_t len,
                    struct ingest_counts *counts, char *err, size_t err_size);

#endif
