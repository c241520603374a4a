/*
 * store: every accepted record, keyed by (plant, metal, period), with each
 * plant's attributes, and the rollups derived from them. The store knows
 * nothing about feeds or validation: ingest decides what goes in, and the
 * store keeps the records and their sums consistent.
 *
 * Plants are kept sorted by id, records of a plant and metal by period key,
 * so iteration order (and therefore the exposition) is deterministic.
 * Metals are interned by name into small ids that stay valid for the life
 * of the store, across config reloads.
 */
#ifndef INGOT_STORE_H
#define INGOT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "period.h"
#include "rollup.h"

struct store;

struct store_record {
    int32_t period_key; /* period_key() of the record's period */
    struct rollup_values values;
};
/* A million records are stored in 48 MB; keep it that way (issue 9). */
_Static_assert(sizeof(struct store_record) == 48, "store_record grew");

struct store_plant {
    char *id;
    char *name;   /* NULL until a feed reports one */
    char *region; /* NULL until a feed reports one */
    double capacity_tonnes_per_year; /* valid when has_capacity */
    double workers_certified;        /* valid when has_workers */
    bool has_capacity;
    bool has_workers;
    int green_operational; /* -1 unknown, 0 or 1 */
};

/* A new empty store (NULL on ENOMEM); store_free releases it and every
 * plant, record and string in it. */
struct store *store_new(void);
void store_free(struct store *store);

/* The id of metal, interned on first use. Returns -1 on ENOMEM. */
int store_metal_id(struct store *store, const char *metal);
/* The id of metal if it was ever interned, or -1. */
int store_metal_find(const struct store *store, const char *metal);
/* Every metal ever interned has an id 0 <= id < store_metal_count, in
 * interning order (not meaningful outside this store). store_metal_name is
 * its name, owned by the store and valid for the store's life. */
size_t store_metal_count(const struct store *store);
const char *store_metal_name(const struct store *store, int metal_id);

/* The plant with this id, or NULL. */
struct store_plant *store_plant_find(const struct store *store, const char *id);
/* The plant with this id, created empty if new. NULL on ENOMEM. */
struct store_plant *store_plant_get(struct store *store, const char *id);
size_t store_plant_count(const struct store *store);
/* Plants in id order, 0 <= i < store_plant_count. */
const struct store_plant *store_plant_at(const struct store *store, size_t i);
/* Replaces a text attribute (*slot is plant->name or plant->region) with a
 * copy of value. Returns 0, or -1 on ENOMEM (the old value stays). */
int store_plant_set_text(char **slot, const char *value);

/* The stored record of (plant, metal, period key), or NULL. */
const struct store_record *store_record_find(const struct store_plant *plant, int metal_id,
                                             int32_t period_key);
/* The records of (plant, metal) in period-key order: store_record_at(i) for
 * 0 <= i < store_record_count (0 for a metal the plant never reported). The
 * pointer is valid until the next store_put (on any plant: moving on to
 * another plant shrinks the last one's arrays) or store_trim. */
size_t store_record_count(const struct store_plant *plant, int metal_id);
const struct store_record *store_record_at(const struct store_plant *plant, int metal_id,
                                           size_t i);
/* True when storing period p for (plant, metal) would mix a month record
 * with day records of the same month. */
bool store_granularity_conflict(const struct store_plant *plant, int metal_id,
                                const struct period *p);
/* Stores record as the complete new state of its key (the caller has merged
 * it with what was stored) and updates every rollup by the difference.
 * Returns 1 when something changed, 0 when identical, -1 on ENOMEM (then
 * nothing changed). */
int store_put(struct store *store, struct store_plant *plant, int metal_id,
              const struct store_record *record);

/* Memory: a (plant, metal) series keeps its records and its yearly sums in
 * two arrays that grow by doubling (amortised O(1) appends). Their slack is
 * given back by shrinking them to their exact size (realloc) as soon as the
 * store moves on to another plant, so the freed tails are reused by the
 * next plant's allocations instead of staying as holes the kernel never
 * gets back (shrinking everything at the end of a document frees nothing:
 * measured, docs/benchmarks.md "Fleet scale"). A plant is shrunk this way
 * at most once per document, so a document that interleaves plants cannot
 * make every record copy an array; it keeps its slack. store_trim ends a
 * document: it shrinks the last plant that grew. Ingest calls it after
 * each document and snapshot_restore after a restore. O(metals). */
void store_trim(struct store *store);

/* Told of every record store_put changed, after the rollups were updated:
 * the plant, the metal's name (owned by the store), the period key, the
 * values stored before (NULL for a new record) and after. It must not
 * modify the store. */
typedef void (*store_observer_fn)(void *arg, const struct store_plant *plant, const char *metal,
                                  int32_t period_key, const struct rollup_values *before,
                                  const struct rollup_values *after);
/* Sets the one observer (NULL: none), e.g. after a restore whose records
 * it should not see. */
void store_set_observer(struct store *store, store_observer_fn fn, void *arg);

/* The key of the latest period stored for (plant, metal), or 0 when none. */
int32_t store_latest_period(const struct store_plant *plant, int metal_id);

/* National sums of metal for one month, or NULL when nothing was ever
 * stored there. */
const struct rollup_month *store_national_month(const struct store *store, int metal_id,
                                                int year, int month);
/* A plant's sums of metal for one year, or NULL when nothing was stored. */
const struct rollup_plant_year *store_plant_year(const struct store_plant *plant, int metal_id,
                                                 int year);

#endif
