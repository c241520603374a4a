/*
 * feed_json: the v1 JSON feed format, on jansson. The document is walked
 * twice: once to check its structure, then again to hand it to the sink.
 */
#include "feed_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#define FEED_JSON_SCHEMA "ingot.feed.v1"

/* Writes one formatted line into err; returns -1 for the caller to return. */
static int json_fail(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int json_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* A JSON number, or null/missing, or anything else. */
static struct feed_value value_of(const json_t *j)
{
    if (j == NULL || json_is_null(j))
        return (struct feed_value){.state = FEED_VALUE_ABSENT};
    if (!json_is_number(j))
        return (struct feed_value){.state = FEED_VALUE_INVALID};
    return (struct feed_value){.state = FEED_VALUE_PRESENT, .value = json_number_value(j)};
}

/* A JSON string, or null/missing, or anything else. */
static struct feed_text text_of(const json_t *j)
{
    if (j == NULL || json_is_null(j))
        return (struct feed_text){.state = FEED_VALUE_ABSENT};
    if (!json_is_string(j))
        return (struct feed_text){.state = FEED_VALUE_INVALID};
    return (struct feed_text){.state = FEED_VALUE_PRESENT, .s = json_string_value(j)};
}

static void emit_plant(const json_t *plant, const struct feed_sink *sink)
{
    struct feed_plant_attrs attrs = {
        .id = json_string_value(json_object_get(plant, "id")),
        .name = text_of(json_object_get(plant, "name")),
        .region = text_of(json_object_get(plant, "region")),
        .capacity_tonnes_per_year = value_of(json_object_get(plant, "capacity_tonnes_per_year")),
        .workers_certified = value_of(json_object_get(plant, "workers_certified")),
        .green_state = FEED_VALUE_ABSENT,
    };
    const json_t *green = json_object_get(plant, "green_operational");
    if (json_is_boolean(green)) {
        attrs.green_state = FEED_VALUE_PRESENT;
        attrs.green_operational = json_is_true(green);
    } else if (green != NULL && !json_is_null(green)) {
        attrs.green_state = FEED_VALUE_INVALID;
    }
    sink->plant(sink->ctx, &attrs);
}

static void emit_record(const json_t *record, const char *plant_id,
                        const struct feed_sink *sink)
{
    struct feed_raw_record raw = {
        .plant = plant_id,
        .metal = json_string_value(json_object_get(record, "metal")),
        .period = json_string_value(json_object_get(record, "period")),
    };
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        raw.fields[f] = value_of(json_object_get(record, record_field_names[f]));
    sink->record(sink->ctx, &raw);
}

/* Walks the plants array checking its structure and, when sink is set,
 * handing on each plant and record as it goes. Returns 0, or -1 with err
 * set at the first element that is not an object or a records member that
 * is not an array. */
static int walk_plants(const json_t *plants, const struct feed_sink *sink, char *err,
                       size_t err_size)
{
    size_t i;
    const json_t *plant;
    json_array_foreach(plants, i, plant) {
        if (!json_is_object(plant))
            return json_fail(err, err_size, "plants[%zu] is not an object", i);
        const json_t *records = json_object_get(plant, "records");
        if (records != NULL && !json_is_null(records) && !json_is_array(records))
            return json_fail(err, err_size, "plants[%zu].records is not an array", i);
        if (sink != NULL)
            emit_plant(plant, sink);
        const char *plant_id = json_string_value(json_object_get(plant, "id"));
        size_t r;
        const json_t *record;
        json_array_foreach(records, r, record) {
            if (!json_is_object(record))
                return json_fail(err, err_size, "plants[%zu].records[%zu] is not an object", i,
                                 r);
            if (sink != NULL)
                emit_record(record, plant_id, sink);
        }
    }
    return 0;
}

/* Checks the top level and finds the plants array; -1 with err set. */
static int top_level(const json_t *root, const json_t **plants, char *err, size_t err_size)
{
    if (!json_is_object(root))
        return json_fail(err, err_size, "top level is not an object");
    const json_t *schema = json_object_get(root, "schema");
    if (schema == NULL)
        return json_fail(err, err_size, "\"schema\" is missing");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), FEED_JSON_SCHEMA) != 0)
        return json_fail(err, err_size, "\"schema\" is not \"" FEED_JSON_SCHEMA "\"");
    *plants = json_object_get(root, "plants");
    if (*plants == NULL)
        return json_fail(err, err_size, "\"plants\" is missing");
    if (!json_is_array(*plants))
        return json_fail(err, err_size, "\"plants\" is not an array");
    return 0;
}

int feed_json_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                    size_t err_size)
{
    json_error_t error;
    json_t *root = json_loadb(buf, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        /* Only argument errors (a NULL buffer) come without a position. */
        if (error.line < 1)
            return json_fail(err, err_size, "%s", error.text);
        return json_fail(err, err_size, "line %d, column %d: %s", error.line, error.column,
                         error.text);
    }
    const json_t *plants = NULL;
    int rc = top_level(root, &plants, err, err_size);
    if (rc == 0)
        rc = walk_plants(plants, NULL, err, err_size);
    if (rc == 0)
        rc = walk_plants(plants, sink, err, err_size); /* checked: cannot fail now */
    json_decref(root);
    return rc;
}
