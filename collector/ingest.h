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

/* Who wants to know what became of each record of a document (the push
 * API answers with it). Either callback may be NULL. */
struct ingest_listener {
    /* Once per record the parser handed on, in document order: index
     * counts records from 0 (for JSON across all plants, for CSV the data
     * rows); reason is the rejection, or INGEST_REASON_COUNT when the record
     * was accepted. A record lost to an allocation failure (logged) is
     * neither: its index is skipped. */
    void (*record)(void *arg, size_t index, enum ingest_reason reason);
    /* Once per plant entry (JSON) the feed may write, before its
     * attributes are applied. */
    void (*plant)(void *arg, const char *plant);
    void *arg;
};

/* ingest_document, telling listener (NULL: nobody) about every record and
 * plant as it is judged. Not called when the document fails as a whole. */
int ingest_document_with_listener(struct store *store, const struct config *config,
                                  const struct config_feed *feed, int64_t now, const char *body,
                                  size_t len, const struct ingest_listener *listener,
                                  struct ingest_counts *counts, char *err, size_t err_size);

#endif
