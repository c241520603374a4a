/*
 * feed_mapped: mapped JSON feeds, read as a stream with yajl (json_stream)
 * like the native format: no tree of the document is built. The mapping's
 * pointers are decoded once (json_pointer); while the document streams by,
 * the reader keeps only the containers on the way to the records array and,
 * inside each record, on the way to a mapped field, and matches each key
 * and index against the pointers' tokens. Everything else is skipped whole.
 * Memory is a frame per pointer token plus the record's text fields,
 * whatever the document's size or depth.
 *
 * The document is read twice: the first pass checks the syntax, the
 * records array, the type of each record and the numbers read; the second,
 * over a document known to be sound, hands the records to the sink.
 */
#include "feed_mapped.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json_pointer.h"
#include "json_stream.h"
#include "error_text.h"
#include "utf8.h"
#include "number.h"

enum value_kind { KIND_NULL, KIND_BOOLEAN, KIND_NUMBER, KIND_STRING, KIND_OBJECT, KIND_ARRAY };

/* Each kind as messages name it: "records[2] is a string, not an object". */
static const char *const kind_phrases[] = {
    [KIND_NULL] = "null",           [KIND_BOOLEAN] = "a boolean", [KIND_NUMBER] = "a number",
    [KIND_STRING] = "a string",     [KIND_OBJECT] = "an object",  [KIND_ARRAY] = "an array",
};

/* A scalar as yajl hands it over; s/len for strings and numbers. */
struct scalar {
    enum value_kind kind;
    const unsigned char *s;
    size_t len;
};

/* A container the reader looks into. frames[k] is at depth k: the root
 * value is at depth 0, the records array at depth records.n, each record
 * one deeper. */
struct frame {
    bool is_array;
    bool on_path;    /* named by the first (depth) tokens of the records pointer */
    bool is_records; /* the records array */
    bool is_record;  /* one of its elements */
    unsigned fields; /* bit per mapping slot: on the way to that field's value */
    size_t index;    /* arrays: the index of the next element */
    /* Objects: the key each pointer continues with, seen already (a second
     * one is a duplicate), and what the current key's value is. */
    bool path_key_seen;
    unsigned keys_seen;
    bool child_on_path;
    unsigned child_fields;
};

/* What the value starting now is to the reader. */
struct place {
    bool on_path;    /* on the records pointer's way (or its end) */
    bool record;     /* an element of the records array, at index */
    size_t index;
    unsigned fields; /* the fields whose pointers go through or end at it */
};

/* A copy of a string value, reused from record to record. */
struct text {
    char *s;
    size_t cap;
    bool set; /* a string without NUL bytes was stored */
};

struct mapped_reader {
    const struct config_mapping *mapping;
    const struct feed_sink *sink; /* NULL in the first pass */
    struct json_stream stream;
    struct json_pointer records;
    struct json_pointer pointers[MAPPING_SLOT_COUNT]; /* of the fields read by pointer */
    unsigned pointer_fields;                          /* their bits */

    struct frame *frames;
    size_t depth, max_depth; /* frames[0..depth) are open */
    unsigned skip_depth;     /* containers open inside a skipped value */

    /* The records pointer's walk, for the verdict. */
    bool records_found;
    long reached; /* depth of the deepest value on its way; -1 before the root */
    enum value_kind reached_kind;
    char problem[160]; /* the first structural problem, "" for none */

    /* The record being read. */
    unsigned long record_line;
    struct feed_value values[RECORD_FIELD_COUNT];
    struct text texts[MAPPING_QUANTITY];
    struct text number; /* a number's text, for strtod */
};

/* The first problem only: later ones do not replace it. */
static void note_problem(struct mapped_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note_problem(struct mapped_reader *r, const char *fmt, ...)
{
    if (r->problem[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof(r->problem), fmt, ap);
    va_end(ap);
}

/* The depth of the records, one below the records array. */
static size_t record_depth(const struct mapped_reader *r)
{
    return r->records.n + 1;
}

/* ---- a record's fields ------------------------------------------------- */

static int text_store(struct mapped_reader *r, struct text *t, const unsigned char *s,
                      size_t len)
{
    t->set = false;
    if (memchr(s, '\0', len) != NULL)
        return 1; /* a C string cannot carry it: the wrong type */
    if (len + 1 > t->cap) {
        char *grown = realloc(t->s, len + 1);
        if (grown == NULL)
            return json_stream_stop(&r->stream, "out of memory");
        t->s = grown;
        t->cap = len + 1;
    }
    memcpy(t->s, s, len);
    t->s[len] = '\0';
    t->set = true;
    return 1;
}

/* A number's value; stops the parse when a double cannot hold it. */
static int number_value(struct mapped_reader *r, const struct scalar *v, double *out)
{
    if (!text_store(r, &r->number, v->s, v->len))
        return 0;
    errno = 0;
    *out = strtod(r->number.s, NULL);
    if (errno == ERANGE && isinf(*out))
        return json_stream_stop(&r->stream, "number too large: %.40s", r->number.s);
    return 1;
}

/* The value a field's pointer names. v is NULL for an object or an array.
 * Returns 0 to stop. */
static int take_field(struct mapped_reader *r, int slot, const struct scalar *v)
{
    if (slot < MAPPING_QUANTITY) {
        struct text *t = &r->texts[slot];
        t->set = false;
        if (v != NULL && v->kind == KIND_STRING && r->sink != NULL)
            return text_store(r, t, v->s, v->len);
        return 1;
    }
    struct feed_value out = {.state = FEED_VALUE_INVALID};
    if (v == NULL) {
        /* an object or an array: INVALID */
    } else if (v->kind == KIND_NULL || (v->kind == KIND_STRING && v->len == 0)) {
        out.state = FEED_VALUE_ABSENT;
    } else if (v->kind == KIND_NUMBER) {
        if (!number_value(r, v, &out.value))
            return 0;
        out.state = FEED_VALUE_PRESENT;
    } else if (v->kind == KIND_STRING &&
               number_parse((const char *)v->s, v->len, &out.value) == 0) {
        out.state = FEED_VALUE_PRESENT;
    }
    feed_value_scale(&out, r->mapping->fields[slot].scale);
    r->values[slot - MAPPING_QUANTITY] = out;
    return 1;
}

static void start_record(struct mapped_reader *r)
{
    r->record_line = r->stream.line;
    for (int f = 0; f < RECORD_FIELD_COUNT; f++)
        r->values[f] = (struct feed_value){.state = FEED_VALUE_ABSENT};
    for (int slot = 0; slot < MAPPING_QUANTITY; slot++)
        r->texts[slot].set = false;
    /* A pointer "" names the record itself: an object, the wrong type. */
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
        if ((r->pointer_fields & (1u << slot)) && r->pointers[slot].n == 0)
            take_field(r, slot, NULL);
}

/* A text field of the record: the mapping's constant, or what was read. */
static const char *record_text(const struct mapped_reader *r, int slot)
{
    const struct config_mapping_field *f = &r->mapping->fields[slot];
    if (f->source == MAPPING_VALUE)
        return f->text;
    return r->texts[slot].set ? r->texts[slot].s : NULL;
}

static void end_record(struct mapped_reader *r)
{
    if (r->sink == NULL)
        return;
    struct feed_raw_record raw = {
        .plant = record_text(r, MAPPING_PLANT),
        .metal = record_text(r, MAPPING_METAL),
        .period = record_text(r, MAPPING_PERIOD),
        .line = r->record_line,
    };
    memcpy(raw.fields, r->values, sizeof(raw.fields));
    r->sink->record(r->sink->ctx, &raw);
}

/* ---- where a value is -------------------------------------------------- */

/* The fields of frame f (at depth d, inside a record) whose pointers
 * continue with the key or index given. */
static unsigned fields_continuing(const struct mapped_reader *r, const struct frame *f, size_t d,
                                  const unsigned char *key, size_t key_len, size_t index)
{
    unsigned out = 0;
    size_t k = d - record_depth(r); /* the token a child of f matches */
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (!(f->fields & (1u << slot)))
            continue;
        const struct json_pointer_token *t = &r->pointers[slot].tokens[k];
        if (key != NULL ? json_pointer_token_is_key(t, key, key_len)
                        : json_pointer_token_is_index(t, index))
            out |= 1u << slot;
    }
    return out;
}

/* Where the value starting now is; moves an array's element counter. */
static struct place next_place(struct mapped_reader *r)
{
    struct place pl = {0};
    if (r->skip_depth > 0)
        return pl;
    if (r->depth == 0) {
        pl.on_path = true; /* the root */
        return pl;
    }
    struct frame *f = &r->frames[r->depth - 1];
    if (!f->is_array) {
        pl.on_path = f->child_on_path;
        pl.fields = f->child_fields;
        f->child_on_path = false;
        f->child_fields = 0;
        return pl;
    }
    size_t d = r->depth - 1, i = f->index++;
    if (f->is_records) {
        pl.record = true;
        pl.index = i;
        return pl;
    }
    pl.on_path = f->on_path && d < r->records.n &&
                 json_pointer_token_is_index(&r->records.tokens[d], i);
    if (f->fields)
        pl.fields = fields_continuing(r, f, d, NULL, 0, i);
    return pl;
}

/* Reads the value starting now at pl: kind, and v for a scalar (NULL for a
 * container). For a container, fills *next with the frame to open and
 * returns 2 when the reader looks into it, 1 when it is skipped; 0 stops. */
static int take_value(struct mapped_reader *r, struct place pl, enum value_kind kind,
                      const struct scalar *v, struct frame *next)
{
    size_t d = r->depth;
    bool container = kind == KIND_OBJECT || kind == KIND_ARRAY;
    *next = (struct frame){.is_array = kind == KIND_ARRAY};

    if (pl.on_path) {
        r->reached = (long)d;
        r->reached_kind = kind;
        if (d == r->records.n && kind == KIND_ARRAY) {
            r->records_found = true;
            next->is_records = true;
        } else if (d == r->records.n) {
            note_problem(r, "records \"%s\" is %s, not an array", r->records.text,
                         kind_phrases[kind]);
        }
        next->on_path = d < r->records.n;
        return container && (next->on_path || next->is_records) ? 2 : 1;
    }
    if (pl.record) {
        if (kind != KIND_OBJECT) {
            note_problem(r, "records[%zu] is %s, not an object", pl.index, kind_phrases[kind]);
            return 1;
        }
        next->is_record = true;
        next->fields = 0;
        for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
            if ((r->pointer_fields & (1u << slot)) && r->pointers[slot].n > 0)
                next->fields |= 1u << slot;
        start_record(r);
        return 2;
    }
    if (pl.fields == 0)
        return 1; /* nothing the mapping reads */
    size_t q = d - record_depth(r); /* tokens from the record to this value */
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (!(pl.fields & (1u << slot)))
            continue;
        if (r->pointers[slot].n == q) {
            if (!take_field(r, slot, v))
                return 0;
        } else if (container) {
            next->fields |= 1u << slot; /* the pointer goes on inside */
        }
    }
    return container && next->fields ? 2 : 1;
}

/* ---- yajl callbacks ---------------------------------------------------- */

static int on_scalar(struct mapped_reader *r, const struct scalar *v)
{
    struct frame unused;
    return take_value(r, next_place(r), v->kind, v, &unused) != 0;
}

static int on_null(void *ctx)
{
    return on_scalar(ctx, &(struct scalar){.kind = KIND_NULL});
}

static int on_boolean(void *ctx, int b)
{
    (void)b;
    return on_scalar(ctx, &(struct scalar){.kind = KIND_BOOLEAN});
}

static int on_number(void *ctx, const char *s, size_t len)
{
    const unsigned char *text = (const unsigned char *)s;
    return on_scalar(ctx, &(struct scalar){.kind = KIND_NUMBER, .s = text, .len = len});
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    struct mapped_reader *r = ctx;
    if (!utf8_valid(s, len))
        return json_stream_stop(&r->stream, JSON_STREAM_BAD_UTF8);
    return on_scalar(r, &(struct scalar){.kind = KIND_STRING, .s = s, .len = len});
}

static int open_container(struct mapped_reader *r, enum value_kind kind)
{
    struct frame next;
    int rc = take_value(r, next_place(r), kind, NULL, &next);
    if (rc == 0)
        return 0;
    if (rc == 1 || r->skip_depth > 0 || r->depth == r->max_depth) {
        r->skip_depth++;
        return 1;
    }
    r->frames[r->depth++] = next;
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_container(ctx, KIND_OBJECT);
}

static int on_start_array(void *ctx)
{
    return open_container(ctx, KIND_ARRAY);
}

static int on_end(void *ctx)
{
    struct mapped_reader *r = ctx;
    if (r->skip_depth > 0) {
        r->skip_depth--;
        return 1;
    }
    struct frame *f = &r->frames[--r->depth];
    if (f->is_record)
        end_record(r);
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    struct mapped_reader *r = ctx;
    if (!utf8_valid(key, len))
        return json_stream_stop(&r->stream, JSON_STREAM_BAD_UTF8);
    if (r->skip_depth > 0)
        return 1;
    size_t d = r->depth - 1;
    struct frame *f = &r->frames[d];
    f->child_on_path = f->on_path && d < r->records.n &&
                       json_pointer_token_is_key(&r->records.tokens[d], key, len);
    f->child_fields = f->fields ? fields_continuing(r, f, d, key, len, 0) : 0;
    if ((f->child_on_path && f->path_key_seen) || (f->child_fields & f->keys_seen))
        return json_stream_stop(&r->stream, "duplicate key \"%.*s\"", len > 64 ? 64 : (int)len,
                                (const char *)key);
    f->path_key_seen |= f->child_on_path;
    f->keys_seen |= f->child_fields;
    return 1;
}

static const yajl_callbacks mapped_callbacks = {
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

_Static_assert(MAPPING_SLOT_COUNT <= 32, "a bit per mapping slot");

/* ---- the document ------------------------------------------------------ */

/* Decodes the mapping's pointers and sizes the frames. */
static int reader_init(struct mapped_reader *r, const struct config_mapping *mapping, char *err,
                       size_t err_size)
{
    r->mapping = mapping;
    if (json_pointer_parse(mapping->records ? mapping->records : "", &r->records) != 0)
        return error_text(err, err_size, "mapping: records \"%s\" is not a JSON Pointer",
                           mapping->records);
    size_t deepest = 0;
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        const struct config_mapping_field *f = &mapping->fields[slot];
        if (f->source != MAPPING_POINTER)
            continue;
        if (json_pointer_parse(f->text, &r->pointers[slot]) != 0)
            return error_text(err, err_size, "mapping: \"%s\" is not a JSON Pointer", f->text);
        r->pointer_fields |= 1u << slot;
        if (r->pointers[slot].n > deepest)
            deepest = r->pointers[slot].n;
    }
    /* The path, the records array, the record, and the containers on the
     * way to the deepest field (its value itself is never opened). */
    r->max_depth = r->records.n + 1 + (deepest > 0 ? deepest : 1);
    r->frames = calloc(r->max_depth, sizeof(*r->frames));
    if (r->frames == NULL)
        return error_text(err, err_size, "out of memory");
    return 0;
}

static void reader_release(struct mapped_reader *r)
{
    json_pointer_free(&r->records);
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
        json_pointer_free(&r->pointers[slot]);
    for (int slot = 0; slot < MAPPING_QUANTITY; slot++)
        free(r->texts[slot].s);
    free(r->number.s);
    free(r->frames);
}

/* One pass over the document; 0, or -1 with err set. */
static int run_pass(struct mapped_reader *r, const char *buf, size_t len, char *err,
                    size_t err_size)
{
    r->depth = r->skip_depth = 0;
    r->reached = -1;
    return json_stream_parse(&r->stream, &mapped_callbacks, r, buf, len, err, err_size);
}

/* The first pass's verdict on the records; 0, or -1 with err set. */
static int structure_verdict(const struct mapped_reader *r, char *err, size_t err_size)
{
    if (r->problem[0] != '\0')
        return error_text(err, err_size, "%s", r->problem);
    if (r->records_found)
        return 0;
    /* The walk stopped at depth reached (the root at least: the document
     * parsed), short of the pointer's end. */
    size_t at = (size_t)r->reached;
    int prefix = (int)json_pointer_prefix_len(&r->records, at);
    char place[80] = "the document";
    if (at > 0)
        snprintf(place, sizeof(place), "\"%.*s\"", prefix < 60 ? prefix : 60, r->records.text);
    if (r->reached_kind == KIND_OBJECT || r->reached_kind == KIND_ARRAY)
        return error_text(err, err_size,
                           "records \"%s\" does not resolve: %s is %s without \"%s\"",
                           r->records.text, place, kind_phrases[r->reached_kind],
                           r->records.tokens[at].name);
    return error_text(err, err_size,
                       "records \"%s\" does not resolve: %s is %s, not an object or array",
                       r->records.text, place, kind_phrases[r->reached_kind]);
}

int feed_mapped_json_parse(const char *buf, size_t len, const struct config_mapping *mapping,
                           const struct feed_sink *sink, char *err, size_t err_size)
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

    struct mapped_reader r = {0};
    int rc = reader_init(&r, mapping, err, err_size);
    if (rc == 0)
        rc = run_pass(&r, buf, len, err, err_size);
    if (rc == 0)
        rc = structure_verdict(&r, err, err_size);
    if (rc == 0) {
        r.sink = sink;
        rc = run_pass(&r, buf, len, err, err_size); /* checked: cannot fail now */
    }
    reader_release(&r);
    return rc;
}
