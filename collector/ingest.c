/*
 * ingest: the validation rules of feed records and plant attributes, and
 * their application to the store. Parsers hand raw records to the sink
 * callbacks here; nothing is applied from a document the parser failed.
 */
#include "ingest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "feed_csv.h"
#include "feed_json.h"
#include "feed_mapped.h"
#include "log.h"
#include "utf8.h"
#include "snapshot.h"

const char *const ingest_reason_names[INGEST_REASON_COUNT] = {
    [INGEST_INVALID_PLANT] = "invalid_plant",
    [INGEST_PLANT_NOT_ALLOWED] = "plant_not_allowed",
    [INGEST_UNKNOWN_METAL] = "unknown_metal",
    [INGEST_INVALID_PERIOD] = "invalid_period",
    [INGEST_FUTURE_PERIOD] = "future_period",
    [INGEST_INVALID_VALUE] = "invalid_value",
    [INGEST_NEGATIVE_VALUE] = "negative_value",
    [INGEST_RECYCLED_EXCEEDS_WASTE] = "recycled_exceeds_waste",
    [INGEST_GRANULARITY_CONFLICT] = "granularity_conflict",
};

struct ingest {
    struct store *store;
    const struct config *config;
    const struct config_feed *feed;
    int64_t now;
    struct ingest_counts *counts;
    const struct ingest_listener *listener; /* NULL: nobody listens */
    size_t n_records; /* records seen so far: the index of the next */
    size_t index;     /* index of the record being judged */
};

/* Tells the listener the fate of the record being judged. */
static void notify(const struct ingest *in, enum ingest_reason reason)
{
    if (in->listener && in->listener->record)
        in->listener->record(in->listener->arg, in->index, reason);
}

/* A present value ingot can store: finite, within range, not negative.
 * Negative zero is stored as zero. */
static bool value_in_range(double v)
{
    return isfinite(v) && fabs(v) <= FIXED_VALUE_MAX;
}

static void reject(struct ingest *in, const struct feed_raw_record *raw, enum ingest_reason reason,
                   const char *detail)
{
    in->counts->rejected[reason]++;
    notify(in, reason);
    if (!log_enabled(LOG_LEVEL_DEBUG))
        return;
    char period[40];
    struct log_fields fields = {
        .feed = in->feed->name, .plant = raw->plant, .reason = ingest_reason_names[reason],
    };
    log_with(LOG_LEVEL_DEBUG, &fields, "record rejected: period %s, line %lu%s%s",
             log_quote(raw->period, period, sizeof(period)), raw->line, detail ? ": " : "",
             detail ? detail : "");
}

static void out_of_memory(const struct ingest *in, const char *what)
{
    log_with(LOG_LEVEL_ERROR, &(struct log_fields){.feed = in->feed->name},
             "out of memory storing %s", what);
}

/* The first value rule a record breaks, or INGEST_REASON_COUNT. */
static enum ingest_reason check_values(const struct feed_raw_record *raw)
{
    if (raw->problem)
        return INGEST_INVALID_VALUE;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        if (raw->fields[f].state == FEED_VALUE_INVALID ||
            (raw->fields[f].state == FEED_VALUE_PRESENT && !value_in_range(raw->fields[f].value)))
            return INGEST_INVALID_VALUE;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        if (raw->fields[f].state == FEED_VALUE_PRESENT && raw->fields[f].value < 0)
            return INGEST_NEGATIVE_VALUE;
    return INGEST_REASON_COUNT;
}

static void on_record(void *ctx, const struct feed_raw_record *raw)
{
    struct ingest *in = ctx;
    struct period p;

    in->index = in->n_records++;
    if (!raw->plant || !config_plant_id_valid(raw->plant))
        return reject(in, raw, INGEST_INVALID_PLANT, NULL);
    if (!config_feed_allows_plant(in->feed, raw->plant))
        return reject(in, raw, INGEST_PLANT_NOT_ALLOWED, NULL);
    if (!raw->metal || config_metal_index(in->config, raw->metal) < 0)
        return reject(in, raw, INGEST_UNKNOWN_METAL, NULL);
    if (!raw->period || period_parse(raw->period, &p) != 0)
        return reject(in, raw, INGEST_INVALID_PERIOD, NULL);
    if (period_start(&p) > in->now)
        return reject(in, raw, INGEST_FUTURE_PERIOD, NULL);
    enum ingest_reason value_reason = check_values(raw);
    if (value_reason != INGEST_REASON_COUNT)
        return reject(in, raw, value_reason, raw->problem);

    struct store_plant *plant = store_plant_get(in->store, raw->plant);
    int metal_id = store_metal_id(in->store, raw->metal);
    if (!plant || metal_id < 0) {
        out_of_memory(in, "a record");
        return;
    }
    struct store_record merged = {.period_key = period_key(&p), .values = rollup_values_none()};
    const struct store_record *stored = store_record_find(plant, metal_id, merged.period_key);
    if (stored)
        merged.values = stored->values;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++) {
        if (raw->fields[f].state == FEED_VALUE_PRESENT) {
            merged.values.value[f] = raw->fields[f].value + 0.0; /* -0 becomes 0 */
        }
    }
    if (rollup_has(&merged.values, RECORD_WASTE_RECYCLED_TONNES) &&
        rollup_has(&merged.values, RECORD_WASTE_TONNES) &&
        merged.values.value[RECORD_WASTE_RECYCLED_TONNES] >
            merged.values.value[RECORD_WASTE_TONNES])
        return reject(in, raw, INGEST_RECYCLED_EXCEEDS_WASTE, NULL);
    if (store_granularity_conflict(plant, metal_id, &p))
        return reject(in, raw, INGEST_GRANULARITY_CONFLICT, NULL);

    int changed = store_put(in->store, plant, metal_id, &merged);
    if (changed < 0) {
        out_of_memory(in, "a record");
        return;
    }
    in->counts->accepted++;
    in->counts->changed += (uint64_t)changed;
    notify(in, INGEST_REASON_COUNT);
}

/* Counts and logs an attribute that cannot be used. */
static void reject_attribute(struct ingest *in, const char *plant, const char *attribute)
{
    in->counts->rejected[INGEST_INVALID_VALUE]++;
    struct log_fields fields = {
        .feed = in->feed->name, .plant = plant, .reason = ingest_reason_names[INGEST_INVALID_VALUE],
    };
    log_with(LOG_LEVEL_WARN, &fields, "plant attribute %s ignored: invalid value", attribute);
}

static void apply_text(struct ingest *in, struct store_plant *plant, char **slot,
                       const struct feed_text *text, const char *attribute)
{
    /* JSON feeds are checked as they are read; a snapshot's strings are
     * not (protobuf-c does not check UTF-8), and they become label values. */
    if (text->state == FEED_VALUE_INVALID ||
        (text->state == FEED_VALUE_PRESENT &&
         !utf8_valid((const unsigned char *)text->s, strlen(text->s))))
        reject_attribute(in, plant->id, attribute);
    else if (text->state == FEED_VALUE_PRESENT && store_plant_set_text(slot, text->s) != 0)
        out_of_memory(in, attribute);
}

static void apply_quantity(struct ingest *in, struct store_plant *plant, double *slot,
                           bool *has, const struct feed_value *v, const char *attribute)
{
    if (v->state == FEED_VALUE_ABSENT)
        return;
    if (v->state == FEED_VALUE_INVALID || !value_in_range(v->value) || v->value < 0)
        return reject_attribute(in, plant->id, attribute);
    *slot = v->value + 0.0;
    *has = true;
}

static void on_plant(void *ctx, const struct feed_plant_attrs *attrs)
{
    struct ingest *in = ctx;
    /* A plant this feed may not write keeps its attributes; its records are
     * rejected (and counted) one by one. */
    if (!attrs->id || !config_plant_id_valid(attrs->id) ||
        !config_feed_allows_plant(in->feed, attrs->id))
        return;
    struct store_plant *plant = store_plant_get(in->store, attrs->id);
    if (!plant) {
        out_of_memory(in, "a plant");
        return;
    }
    if (in->listener && in->listener->plant)
        in->listener->plant(in->listener->arg, attrs->id);
    apply_text(in, plant, &plant->name, &attrs->name, "name");
    apply_text(in, plant, &plant->region, &attrs->region, "region");
    apply_quantity(in, plant, &plant->capacity_tonnes_per_year, &plant->has_capacity,
                   &attrs->capacity_tonnes_per_year, "capacity_tonnes_per_year");
    apply_quantity(in, plant, &plant->workers_certified, &plant->has_workers,
                   &attrs->workers_certified, "workers_certified");
    if (attrs->green_state == FEED_VALUE_INVALID)
        reject_attribute(in, plant->id, "green_operational");
    else if (attrs->green_state == FEED_VALUE_PRESENT)
        plant->green_operational = attrs->green_operational ? 1 : 0;
}

/* Parses body in feed's format into sink. */
static int read_document(const struct config_feed *feed, const char *body, size_t len,
                         const struct feed_sink *sink, char *err, size_t err_size)
{
    switch (feed->format) {
    case FEED_FORMAT_CSV:
        if (feed->mapping)
            return feed_csv_parse_mapped(body, len, feed->mapping, sink, err, err_size);
        return feed_csv_parse(body, len, sink, err, err_size);
    case FEED_FORMAT_INGOT_SNAPSHOT:
        /* Another ingotd's records, validated like any feed's. */
        return snapshot_read((const uint8_t *)body, len, sink, NULL, err, err_size);
    case FEED_FORMAT_JSON:
        break;
    }
    if (feed->mapping) /* a plant's own JSON export */
        return feed_mapped_json_parse(body, len, feed->mapping, sink, err, err_size);
    return feed_json_parse(body, len, sink, err, err_size);
}

int ingest_document_with_listener(struct store *store, const struct config *config,
                                  const struct config_feed *feed, int64_t now, const char *body,
                                  size_t len, const struct ingest_listener *listener,
                                  struct ingest_counts *counts, char *err, size_t err_size)
{
    struct ingest in = {
        .store = store, .config = config, .feed = feed, .now = now, .counts = counts,
        .listener = listener,
    };
    struct feed_sink sink = {.plant = on_plant, .record = on_record, .ctx = &in};
    int rc = read_document(feed, body, len, &sink, err, err_size);
    /* A rejected document may have stored records before its error. */
    store_trim(store);
    return rc;
}

int ingest_document(struct store *store, const struct config *config,
                    const struct config_feed *feed, int64_t now, const char *body, size_t len,
                    struct ingest_counts *counts, char *err, size_t err_size)
{
    return ingest_document_with_listener(store, config, feed, now, body, len, NULL, counts, err,
                                         err_size);
}
