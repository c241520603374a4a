/*
 * feed_json: the v1 JSON feed format, read as a stream with yajl: no tree
 * of the document is ever built, so reading a document costs a few
 * kilobytes plus its plants' attributes, whatever its size. The document
 * is read twice. The first pass checks the syntax and the structure and
 * keeps each plant's attributes; the second hands each plant (from what the
 * first pass kept) and then its records to the sink. json_stream hands the
 * text to yajl one line at a time, so every callback knows its line.
 */
#include "feed_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json_stream.h"
#include "number.h"
#include "error_text.h"
#include "utf8.h"

#define FEED_JSON_SCHEMA "ingot.feed.v1"

/* Containers the reader looks into; anything else is skipped whole. */
enum json_role { ROLE_ROOT, ROLE_PLANTS, ROLE_PLANT, ROLE_RECORDS, ROLE_RECORD };
#define ROLE_DEPTH_MAX 5

/* What the next value fills, from the container it is in and its key. */
enum json_slot {
    SLOT_TOP,      /* the document itself */
    SLOT_IGNORED,  /* an unknown key, or anything inside a skipped value */
    SLOT_SCHEMA,
    SLOT_PLANTS,
    SLOT_PLANT,    /* an element of "plants" */
    SLOT_RECORDS,
    SLOT_RECORD,   /* an element of "records" */
    SLOT_PLANT_ID,
    SLOT_PLANT_NAME,
    SLOT_PLANT_REGION,
    SLOT_PLANT_CAPACITY,
    SLOT_PLANT_WORKERS,
    SLOT_PLANT_GREEN,
    SLOT_METAL,
    SLOT_PERIOD,
    SLOT_FIELD,    /* + enum record_field */
};
#define SLOT_COUNT (SLOT_FIELD + RECORD_FIELD_COUNT)

/* The keys each role reads; any other key is ignored. len is the name's
 * length, compared before the bytes. */
struct json_key {
    const char *name;
    size_t len;
    enum json_slot slot;
};
#define JSON_KEY(name, slot) {name, sizeof(name) - 1, slot}

static const struct json_key root_keys[] = {
    JSON_KEY("schema", SLOT_SCHEMA),
    JSON_KEY("plants", SLOT_PLANTS),
};
static const struct json_key plant_keys[] = {
    JSON_KEY("id", SLOT_PLANT_ID),
    JSON_KEY("name", SLOT_PLANT_NAME),
    JSON_KEY("region", SLOT_PLANT_REGION),
    JSON_KEY("capacity_tonnes_per_year", SLOT_PLANT_CAPACITY),
    JSON_KEY("workers_certified", SLOT_PLANT_WORKERS),
    JSON_KEY("green_operational", SLOT_PLANT_GREEN),
    JSON_KEY("records", SLOT_RECORDS),
};
static const struct json_key record_keys[] = {
    JSON_KEY("metal", SLOT_METAL),
    JSON_KEY("period", SLOT_PERIOD),
    JSON_KEY("production_tonnes", SLOT_FIELD + RECORD_PRODUCTION_TONNES),
    JSON_KEY("co2_tonnes", SLOT_FIELD + RECORD_CO2_TONNES),
    JSON_KEY("energy_mwh", SLOT_FIELD + RECORD_ENERGY_MWH),
    JSON_KEY("waste_tonnes", SLOT_FIELD + RECORD_WASTE_TONNES),
    JSON_KEY("waste_recycled_tonnes", SLOT_FIELD + RECORD_WASTE_RECYCLED_TONNES),
};

/* A copy of a string value, reused from one value to the next. */
struct json_text {
    char *s;
    size_t cap;
    bool set; /* a string without NUL bytes was stored */
};

/* A plant's attributes as the first pass found them; strings owned. */
struct held_plant {
    struct feed_plant_attrs attrs; /* id/name/region point at the copies */
    char *id, *name, *region;
};

/* The first structural problem, by precedence: top level before schema
 * before plants before the elements, whatever the document order. */
enum json_problem {
    PROBLEM_NONE,
    PROBLEM_ELEMENT, /* the text is in element_problem */
    PROBLEM_PLANTS_NOT_ARRAY,
    PROBLEM_PLANTS_MISSING,
    PROBLEM_SCHEMA_WRONG,
    PROBLEM_SCHEMA_MISSING,
    PROBLEM_TOP_NOT_OBJECT,
};

struct json_reader {
    const struct feed_sink *sink; /* NULL in the first pass */
    struct json_stream stream;    /* the line being read; why a callback stopped */

    enum json_role roles[ROLE_DEPTH_MAX];
    unsigned depth;      /* roles in use */
    unsigned skip_depth; /* containers open inside a skipped value */
    unsigned seen_keys;  /* bit per slot, of the innermost role's object */
    unsigned outer_seen[ROLE_DEPTH_MAX];
    enum json_slot slot; /* what the next value fills */

    bool schema_seen, plants_seen;
    enum json_problem problem;
    char element_problem[96];

    size_t plant_index;  /* of the current or next plant */
    size_t record_index; /* within the current plant */
    struct held_plant *plants; /* the first pass's, [n_plants] */
    size_t n_plants, plants_cap;

    struct feed_raw_record record; /* the second pass's record being read */
    struct json_text metal, period, number;
};

static void note_problem(struct json_reader *r, enum json_problem problem)
{
    if (problem > r->problem)
        r->problem = problem;
}

/* The first element problem only: later ones do not replace it. */
static void note_element_problem(struct json_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note_element_problem(struct json_reader *r, const char *fmt, ...)
{
    if (r->problem != PROBLEM_NONE)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->element_problem, sizeof(r->element_problem), fmt, ap);
    va_end(ap);
    r->problem = PROBLEM_ELEMENT;
}

/* Stops the parse with reason; returns 0 for a yajl callback to return. */
static int stop(struct json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int stop(struct json_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->stream.failure, sizeof(r->stream.failure), fmt, ap);
    va_end(ap);
    return 0;
}

/* Copies a string value; a value with a NUL byte is not set (C strings
 * cannot hold it, and cutting it short would change its meaning). */
static int text_store(struct json_reader *r, struct json_text *t, const unsigned char *s,
                      size_t len)
{
    t->set = false;
    if (memchr(s, '\0', len) != NULL)
        return 1;
    if (len + 1 > t->cap) {
        char *grown = realloc(t->s, len + 1);
        if (grown == NULL)
            return stop(r, "out of memory");
        t->s = grown;
        t->cap = len + 1;
    }
    memcpy(t->s, s, len);
    t->s[len] = '\0';
    t->set = true;
    return 1;
}

/* The plant being read: the first pass has appended it; the second pass
 * counts plants, all of them objects once the first pass found no problem. */
static struct held_plant *current_plant(struct json_reader *r)
{
    return r->sink != NULL ? &r->plants[r->plant_index] : &r->plants[r->n_plants - 1];
}

/* ---- values: what each slot does with a scalar ------------------------ */

enum scalar_kind { SCALAR_NULL, SCALAR_BOOL, SCALAR_NUMBER, SCALAR_STRING };

struct scalar {
    enum scalar_kind kind;
    int boolean;
    double number;
    const unsigned char *s;
    size_t len;
};

static struct feed_value value_of(const struct scalar *v)
{
    if (v == NULL)
        return (struct feed_value){.state = FEED_VALUE_INVALID};
    if (v->kind == SCALAR_NULL)
        return (struct feed_value){.state = FEED_VALUE_ABSENT};
    if (v->kind != SCALAR_NUMBER)
        return (struct feed_value){.state = FEED_VALUE_INVALID};
    return (struct feed_value){.state = FEED_VALUE_PRESENT, .value = v->number};
}

/* Copies a plant's text attribute in the first pass. v is NULL for a
 * container. Returns 0 to stop. */
static int hold_text(struct json_reader *r, char **copy, struct feed_text *attr,
                     const struct scalar *v)
{
    free(*copy);
    *copy = NULL;
    *attr = (struct feed_text){.state = FEED_VALUE_INVALID};
    if (v != NULL && v->kind == SCALAR_NULL)
        attr->state = FEED_VALUE_ABSENT;
    if (v == NULL || v->kind != SCALAR_STRING || memchr(v->s, '\0', v->len) != NULL)
        return 1;
    *copy = strndup((const char *)v->s, v->len);
    if (*copy == NULL)
        return stop(r, "out of memory");
    *attr = (struct feed_text){.state = FEED_VALUE_PRESENT, .s = *copy};
    return 1;
}

/* A plant attribute, kept in the first pass only. */
static int plant_value(struct json_reader *r, enum json_slot slot, const struct scalar *v)
{
    if (r->sink != NULL)
        return 1;
    struct held_plant *p = current_plant(r);
    switch (slot) {
    case SLOT_PLANT_ID:
        free(p->id);
        p->id = NULL;
        if (v != NULL && v->kind == SCALAR_STRING && memchr(v->s, '\0', v->len) == NULL) {
            p->id = strndup((const char *)v->s, v->len);
            if (p->id == NULL)
                return stop(r, "out of memory");
        }
        p->attrs.id = p->id;
        return 1;
    case SLOT_PLANT_NAME:
        return hold_text(r, &p->name, &p->attrs.name, v);
    case SLOT_PLANT_REGION:
        return hold_text(r, &p->region, &p->attrs.region, v);
    case SLOT_PLANT_CAPACITY:
        p->attrs.capacity_tonnes_per_year = value_of(v);
        return 1;
    case SLOT_PLANT_WORKERS:
        p->attrs.workers_certified = value_of(v);
        return 1;
    case SLOT_PLANT_GREEN:
        p->attrs.green_state = FEED_VALUE_INVALID;
        if (v != NULL && v->kind == SCALAR_NULL)
            p->attrs.green_state = FEED_VALUE_ABSENT;
        if (v != NULL && v->kind == SCALAR_BOOL) {
            p->attrs.green_state = FEED_VALUE_PRESENT;
            p->attrs.green_operational = v->boolean;
        }
        return 1;
    default:
        return 1;
    }
}

/* A record's metal, period or quantity, read in the second pass only. */
static int record_value(struct json_reader *r, enum json_slot slot, const struct scalar *v)
{
    if (r->sink == NULL)
        return 1;
    if (slot == SLOT_METAL || slot == SLOT_PERIOD) {
        struct json_text *t = slot == SLOT_METAL ? &r->metal : &r->period;
        t->set = false;
        if (v != NULL && v->kind == SCALAR_STRING)
            return text_store(r, t, v->s, v->len);
        return 1;
    }
    r->record.fields[slot - SLOT_FIELD] = value_of(v);
    return 1;
}

/* A value of the slot in r->slot: v is the scalar, or NULL when the value
 * is an object or an array (which the caller then skips). Returns 0 to
 * stop. */
static int take_value(struct json_reader *r, const struct scalar *v)
{
    enum json_slot slot = r->slot;
    switch (slot) {
    case SLOT_TOP:
        note_problem(r, PROBLEM_TOP_NOT_OBJECT);
        return 1;
    case SLOT_IGNORED:
        return 1;
    case SLOT_SCHEMA:
        r->schema_seen = true;
        if (v == NULL || v->kind != SCALAR_STRING || v->len != strlen(FEED_JSON_SCHEMA) ||
            memcmp(v->s, FEED_JSON_SCHEMA, v->len) != 0)
            note_problem(r, PROBLEM_SCHEMA_WRONG);
        return 1;
    case SLOT_PLANTS:
        r->plants_seen = true;
        note_problem(r, PROBLEM_PLANTS_NOT_ARRAY);
        return 1;
    case SLOT_PLANT:
        note_element_problem(r, "plants[%zu] is not an object", r->plant_index);
        r->plant_index++;
        return 1;
    case SLOT_RECORDS:
        if (v == NULL || v->kind != SCALAR_NULL)
            note_element_problem(r, "plants[%zu].records is not an array", r->plant_index);
        return 1;
    case SLOT_RECORD:
        note_element_problem(r, "plants[%zu].records[%zu] is not an object", r->plant_index,
                             r->record_index);
        r->record_index++;
        return 1;
    case SLOT_METAL:
    case SLOT_PERIOD:
        return record_value(r, slot, v);
    default:
        if (slot >= SLOT_FIELD)
            return record_value(r, slot, v);
        return plant_value(r, slot, v);
    }
}

/* The slot of the next element after a value in an array; objects set it
 * from each key. */
static void next_slot(struct json_reader *r)
{
    if (r->skip_depth > 0 || r->depth == 0) {
        r->slot = SLOT_IGNORED;
        return;
    }
    switch (r->roles[r->depth - 1]) {
    case ROLE_PLANTS:
        r->slot = SLOT_PLANT;
        break;
    case ROLE_RECORDS:
        r->slot = SLOT_RECORD;
        break;
    default:
        r->slot = SLOT_IGNORED; /* an object: its next key decides */
        break;
    }
}

static int scalar_done(struct json_reader *r, const struct scalar *v)
{
    int go_on = take_value(r, v);
    next_slot(r);
    return go_on;
}

/* ---- yajl callbacks ---------------------------------------------------- */

static int on_null(void *ctx)
{
    return scalar_done(ctx, &(struct scalar){.kind = SCALAR_NULL});
}

static int on_boolean(void *ctx, int b)
{
    return scalar_done(ctx, &(struct scalar){.kind = SCALAR_BOOL, .boolean = b});
}

/* Whether a number surely fits a double without converting it: without an
 * exponent, at most 308 characters are less than 1e308. */
static bool number_surely_finite(const char *s, size_t len)
{
    if (len > 308)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == 'e' || s[i] == 'E')
            return false;
    }
    return true;
}

/* Whether on_number converts a number in r->slot (not SLOT_IGNORED). The
 * first pass keeps plants' values, and converts any other number it cannot
 * tell fits a double, to refuse one too large: the second pass meets none,
 * and converts records' values only. */
static bool number_wanted(const struct json_reader *r, const char *s, size_t len)
{
    if (r->sink != NULL)
        return r->slot >= SLOT_FIELD;
    return r->slot < SLOT_FIELD || !number_surely_finite(s, len);
}

static int on_number(void *ctx, const char *s, size_t len)
{
    struct json_reader *r = ctx;
    struct scalar v = {.kind = SCALAR_NUMBER};
    if (r->slot != SLOT_IGNORED && number_wanted(r, s, len) &&
        number_parse_short(s, len, &v.number) != 0) {
        if (!text_store(r, &r->number, (const unsigned char *)s, len))
            return 0;
        errno = 0;
        v.number = strtod(r->number.s, NULL);
        if (errno == ERANGE && isinf(v.number))
            return stop(r, "number too large: %.40s", r->number.s);
    }
    return scalar_done(r, &v);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct json_reader *r = ctx;
    /* The first pass checks every string; the second reads the same bytes. */
    if (r->sink == NULL && !utf8_valid(s, len))
        return stop(r, JSON_STREAM_BAD_UTF8);
    return scalar_done(r, &(struct scalar){.kind = SCALAR_STRING, .s = s, .len = len});
}

/* Enters a container. is_map tells an object from an array. */
static int open_container(struct json_reader *r, bool is_map)
{
    enum json_slot slot = r->slot;
    enum json_role role;
    bool wanted;
    switch (slot) {
    case SLOT_TOP:
        role = ROLE_ROOT, wanted = is_map;
        break;
    case SLOT_PLANTS:
        role = ROLE_PLANTS, wanted = !is_map;
        if (wanted)
            r->plants_seen = true;
        break;
    case SLOT_PLANT:
        role = ROLE_PLANT, wanted = is_map;
        break;
    case SLOT_RECORDS:
        role = ROLE_RECORDS, wanted = !is_map;
        break;
    case SLOT_RECORD:
        role = ROLE_RECORD, wanted = is_map;
        break;
    default:
        role = ROLE_ROOT, wanted = false;
        break;
    }
    if (!wanted) {
        /* Counted as the wrong type (or ignored), then skipped whole. The
         * element counters move on at the close, like a scalar's. */
        if (slot != SLOT_PLANT && slot != SLOT_RECORD) {
            if (!take_value(r, NULL))
                return 0;
        }
        r->skip_depth++;
        r->slot = SLOT_IGNORED;
        return 1;
    }

    if (role == ROLE_PLANT && r->sink == NULL) {
        if (r->n_plants == r->plants_cap) {
            size_t cap = r->plants_cap ? r->plants_cap * 2 : 16;
            struct held_plant *grown = realloc(r->plants, cap * sizeof(*grown));
            if (grown == NULL)
                return stop(r, "out of memory");
            r->plants = grown;
            r->plants_cap = cap;
        }
        r->plants[r->n_plants++] = (struct held_plant){.attrs.line = r->stream.line};
    }
    if (role == ROLE_PLANT)
        r->record_index = 0;
    if (role == ROLE_RECORD && r->sink != NULL) {
        r->record =
            (struct feed_raw_record){.plant = current_plant(r)->id, .line = r->stream.line};
        r->metal.set = r->period.set = false;
    }
    r->outer_seen[r->depth] = r->seen_keys;
    r->seen_keys = 0;
    r->roles[r->depth++] = role;
    r->slot = is_map ? SLOT_IGNORED : (role == ROLE_PLANTS ? SLOT_PLANT : SLOT_RECORD);
    return 1;
}

static int close_container(struct json_reader *r)
{
    if (r->skip_depth > 0) {
        r->skip_depth--;
        if (r->skip_depth > 0)
            return 1;
        /* The end of a skipped value: a wrong element moves its counter. */
        if (r->depth == 0) {
            next_slot(r);
            return 1;
        }
        enum json_role role = r->roles[r->depth - 1];
        if (role == ROLE_PLANTS) {
            note_element_problem(r, "plants[%zu] is not an object", r->plant_index);
            r->plant_index++;
        } else if (role == ROLE_RECORDS) {
            note_element_problem(r, "plants[%zu].records[%zu] is not an object",
                                 r->plant_index, r->record_index);
            r->record_index++;
        }
        next_slot(r);
        return 1;
    }
    enum json_role role = r->roles[--r->depth];
    r->seen_keys = r->outer_seen[r->depth];
    if (role == ROLE_PLANT) {
        if (r->sink != NULL && r->plant_index >= r->n_plants)
            return stop(r, "document changed between passes");
        r->plant_index++;
    } else if (role == ROLE_RECORD) {
        if (r->sink != NULL) {
            r->record.metal = r->metal.set ? r->metal.s : NULL;
            r->record.period = r->period.set ? r->period.s : NULL;
            r->sink->record(r->sink->ctx, &r->record);
        }
        r->record_index++;
    }
    next_slot(r);
    return 1;
}

static int on_start_map(void *ctx)
{
    struct json_reader *r = ctx;
    /* A plant's attributes go to the sink before its records: the first
     * pass kept them. */
    if (r->slot == SLOT_PLANT && r->sink != NULL && r->skip_depth == 0) {
        if (r->plant_index >= r->n_plants)
            return stop(r, "document changed between passes");
        r->sink->plant(r->sink->ctx, &current_plant(r)->attrs);
    }
    return open_container(r, true);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, false);
}

static int on_end(void *ctx)
{
    return close_container(ctx);
}

/* The entry of keys[n] named key, or NULL. */
static const struct json_key *key_find(const struct json_key *keys, size_t n,
                                       const unsigned char *key, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].len == len && keys[i].name[0] == key[0] &&
            memcmp(keys[i].name, key, len) == 0)
            return &keys[i];
    }
    return NULL;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct json_reader *r = ctx;
    r->slot = SLOT_IGNORED;
    const struct json_key *found = NULL;
    if (r->skip_depth == 0) {
        switch (r->roles[r->depth - 1]) {
        case ROLE_ROOT:
            found = key_find(root_keys, sizeof(root_keys) / sizeof(root_keys[0]), key, len);
            break;
        case ROLE_PLANT:
            found = key_find(plant_keys, sizeof(plant_keys) / sizeof(plant_keys[0]), key, len);
            break;
        case ROLE_RECORD:
            found = key_find(record_keys, sizeof(record_keys) / sizeof(record_keys[0]), key, len);
            break;
        default:
            break;
        }
    }
    if (found == NULL) {
        /* A key of the table is ASCII; any other is checked, in the first
         * pass only (the second reads the same bytes). */
        if (r->sink == NULL && !utf8_valid(key, len))
            return stop(r, JSON_STREAM_BAD_UTF8);
        return 1;
    }
    unsigned bit = 1u << found->slot;
    if (r->seen_keys & bit)
        return stop(r, "duplicate key \"%s\"", found->name);
    r->seen_keys |= bit;
    r->slot = found->slot;
    return 1;
}

static const yajl_callbacks json_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

_Static_assert(SLOT_COUNT <= 32, "seen_keys has a bit per slot");

/* ---- passes ------------------------------------------------------------ */

/* One pass over the document; 0, or -1 with err set. */
static int run_pass(struct json_reader *r, const char *buf, size_t len, char *err,
                    size_t err_size)
{
    r->depth = r->skip_depth = 0;
    r->slot = SLOT_TOP;
    r->plant_index = 0;
    return json_stream_parse(&r->stream, &json_callbacks, r, buf, len, err, err_size);
}

/* The first pass's verdict on the structure; 0, or -1 with err set. */
static int structure_verdict(const struct json_reader *r, char *err, size_t err_size)
{
    enum json_problem problem = r->problem;
    if (problem < PROBLEM_SCHEMA_MISSING && !r->schema_seen)
        problem = PROBLEM_SCHEMA_MISSING;
    if (problem < PROBLEM_PLANTS_MISSING && !r->plants_seen)
        problem = PROBLEM_PLANTS_MISSING;
    switch (problem) {
    case PROBLEM_NONE:
        return 0;
    case PROBLEM_ELEMENT:
        return error_text(err, err_size, "%s", r->element_problem);
    case PROBLEM_PLANTS_NOT_ARRAY:
        return error_text(err, err_size, "\"plants\" is not an array");
    case PROBLEM_PLANTS_MISSING:
        return error_text(err, err_size, "\"plants\" is missing");
    case PROBLEM_SCHEMA_WRONG:
        return error_text(err, err_size, "\"schema\" is not \"" FEED_JSON_SCHEMA "\"");
    case PROBLEM_SCHEMA_MISSING:
        return error_text(err, err_size, "\"schema\" is missing");
    case PROBLEM_TOP_NOT_OBJECT:
        return error_text(err, err_size, "top level is not an object");
    }
    return error_text(err, err_size, "internal error");
}

static void reader_release(struct json_reader *r)
{
    for (size_t i = 0; i < r->n_plants; i++) {
        free(r->plants[i].id);
        free(r->plants[i].name);
        free(r->plants[i].region);
    }
    free(r->plants);
    free(r->metal.s);
    free(r->period.s);
    free(r->number.s);
}

int feed_json_parse(const char *buf, size_t len, const struct feed_sink *sink, char *err,
                    size_t err_size)
{
    static const char bom[3] = "\xEF\xBB\xBF";
    if (buf == NULL)
        return error_text(err, err_size, "no document");
    if (len >= sizeof(bom) && memcmp(buf, bom, sizeof(bom)) == 0) {
        buf += sizeof(bom);
        len -= sizeof(bom);
    }
    if (len == 0)
        return error_text(err, err_size, "empty document");
    struct json_reader r = {0};
    int rc = run_pass(&r, buf, len, err, err_size);
    if (rc == 0)
        rc = structure_verdict(&r, err, err_size);
    if (rc == 0) {
        r.sink = sink;
        rc = run_pass(&r, buf, len, err, err_size); /* checked: cannot fail now */
    }
    reader_release(&r);
    return rc;
}
