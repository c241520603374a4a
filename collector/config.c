/*
 * config: reads ingotd's YAML file with libyaml's document API into an
 * immutable struct config, checking every value and reporting every problem
 * as "file:line:column: path: message" in one pass, sorted into file order.
 *
 * The file, key by key ([default]; a name is [a-z0-9_]+, at most 64 chars):
 *
 *   web:
 *     listen_address      HOST:PORT, [IPv6]:PORT or :PORT, port 1..65535 [":8467"]
 *   evaluation_interval   duration 1s..1d [1m]
 *   metals                required non-empty list of unique names, at most
 *                         CONFIG_MAX_METALS, kept in file order
 *   feeds                 list (may be empty) of mappings:
 *     name                required name, unique among feeds
 *     url                 required: http:// or https:// with a host, or
 *                         file:// with an absolute path (file:///path)
 *     format              required: json | csv
 *     interval            duration >= 1s [5m]
 *     timeout             duration > 0 and <= interval [min(30s, interval)]
 *     max_body_bytes      integer 1..1073741824 [8388608]
 *     plants              required non-empty list of unique plant ids
 *                         [a-z0-9][a-z0-9_-]{0,63}, kept sorted
 *   targets:
 *     baseline_year       integer 1..9999 [0: none]
 *     years               list of mappings, kept sorted by year:
 *       year              required integer 1..9999, unique among years
 *       output_vs_baseline             number > 0
 *       production_tonnes              mapping metal -> number >= 0
 *       growth                         mapping metal -> number > -1
 *       co2_intensity_tonnes_per_tonne number >= 0
 *       energy_intensity_mwh_per_tonne number >= 0
 *       waste_recycling_ratio          number 0..1
 *     benchmarks          mapping name -> the last three keys of a year
 *     initiatives         list of mappings:
 *       name              required name, unique among initiatives
 *       measure           required: capacity_increase_ratio |
 *                         green_plants_operational | workers_certified
 *       baseline          number > 0: required for capacity_increase_ratio,
 *                         an error for the other measures
 *       target            required number > 0
 *       start, deadline   required dates YYYY-MM-DD (00:00 UTC); deadline
 *                         after start
 *
 * Numbers are plain (unquoted) decimal scalars: optional sign, digits,
 * optional fraction and exponent; integers have neither. Metal keys must be
 * configured metals. An absent optional number is NAN. Strings, durations and
 * dates may be quoted. A null value (empty, ~, null) is never accepted.
 *
 * How: each mapping kind is a table of struct key rows (name, required,
 * parser, field offset, bounds). walk_mapping() finds unknown and duplicate
 * keys in document order, then runs the rows in table order, so a row may
 * rely on the rows above it: metals are known before targets are read,
 * wherever they sit in the file.
 */
#include "config.h"

#include "civil_time.h"
#include "duration.h"
#include "number.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define NAME_MAX_LEN 64
#define FILE_MAX_BYTES (4u << 20)
#define PATH_LEN 256      /* a key path in a message: "targets.years[2].growth.zinc" */
#define MESSAGE_LEN 1024  /* one message, before the "file:line:column: " prefix */
#define LIST_LEN 320      /* "expected one of: ..." */
#define QUOTE_LEN 96      /* a user's value as quoted in a message */
#define MAX_KEYS 8        /* rows in the largest key table */
#define SUGGEST_DISTANCE 2

#define SECOND_MS 1000LL
#define DEFAULT_EVALUATION_INTERVAL_MS (60 * SECOND_MS)
#define DEFAULT_FEED_INTERVAL_MS (5 * 60 * SECOND_MS)
#define DEFAULT_FEED_TIMEOUT_MS (30 * SECOND_MS)
#define DEFAULT_MAX_BODY_BYTES (8u << 20)

static const char NAME_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
static const char PLANT_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
static const char HOST_CHARS[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

static const char *const format_names[] = {
    [FEED_FORMAT_JSON] = "json",
    [FEED_FORMAT_CSV] = "csv",
};

static const char *const measure_names[] = {
    [INITIATIVE_CAPACITY_INCREASE_RATIO] = "capacity_increase_ratio",
    [INITIATIVE_GREEN_PLANTS_OPERATIONAL] = "green_plants_operational",
    [INITIATIVE_WORKERS_CERTIFIED] = "workers_certified",
};

/* ------------------------------------------------------------------ */
/* The loader and its error list                                       */

struct pending_error {
    size_t line, column; /* 1-based; 0 for a message about the whole file */
    size_t seq;          /* discovery order, to keep sorting stable */
    char *text;
};

struct loader {
    const char *file;
    yaml_document_t *doc;
    struct config *cfg; /* being built */
    bool metals_ok;     /* metals read without error: metal keys can be checked */
    bool failed;        /* set by every error, even one whose text could not be kept */
    struct pending_error *errors;
    size_t n_errors, cap_errors;
};

/* Records one error. line 0 gives "file: message". */
static void report(struct loader *ld, size_t line, size_t column, const char *path,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void report(struct loader *ld, size_t line, size_t column, const char *path,
                   const char *fmt, va_list ap)
{
    ld->failed = true;
    if (ld->n_errors == ld->cap_errors) {
        size_t cap = ld->cap_errors ? 2 * ld->cap_errors : 8;
        struct pending_error *grown = realloc(ld->errors, cap * sizeof(*grown));
        if (!grown)
            return;
        ld->errors = grown;
        ld->cap_errors = cap;
    }
    char msg[MESSAGE_LEN];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char *text;
    int rc = line ? asprintf(&text, "%s:%zu:%zu: %s%s%s", ld->file, line, column, path,
                             *path ? ": " : "", msg)
                  : asprintf(&text, "%s: %s", ld->file, msg);
    if (rc < 0)
        return;
    ld->errors[ld->n_errors] = (struct pending_error){line, column, ld->n_errors, text};
    ld->n_errors++;
}

/* An error at a libyaml mark (0-based, reported 1-based) about path. */
static void error_at(struct loader *ld, yaml_mark_t mark, const char *path, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void error_at(struct loader *ld, yaml_mark_t mark, const char *path, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ld, mark.line + 1, mark.column + 1, path, fmt, ap);
    va_end(ap);
}

/* An error about the whole file: "file: message". */
static void error_file(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void error_file(struct loader *ld, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ld, 0, 0, "", fmt, ap);
    va_end(ap);
}

static int by_position(const void *a, const void *b)
{
    const struct pending_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the errors into file order and hands their texts to out. */
static void finish_errors(struct loader *ld, struct config_errors *out)
{
    if (ld->n_errors) {
        qsort(ld->errors, ld->n_errors, sizeof(*ld->errors), by_position);
        out->messages = calloc(ld->n_errors, sizeof(*out->messages));
    }
    for (size_t i = 0; i < ld->n_errors; i++) {
        if (out->messages)
            out->messages[out->count++] = ld->errors[i].text;
        else
            free(ld->errors[i].text);
    }
    free(ld->errors);
}

static void out_of_memory(struct loader *ld)
{
    error_file(ld, "out of memory");
}

/* calloc of at least one element, so an empty list still gets an array. */
static void *ld_calloc(struct loader *ld, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        out_of_memory(ld);
    return p;
}

static char *dup_text(struct loader *ld, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        out_of_memory(ld);
    return copy;
}

/* Replaces the string in *field (a char *) with a copy of s. */
static int store_string(struct loader *ld, const char *s, void *field)
{
    char **dst = field;
    char *copy = dup_text(ld, s);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */

static yaml_node_t *node_at(struct loader *ld, int index)
{
    return yaml_document_get_node(ld->doc, index);
}

static size_t pair_count(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

static size_t item_count(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

static yaml_node_t *item_at(struct loader *ld, const yaml_node_t *seq, size_t i)
{
    return node_at(ld, seq->data.sequence.items.start[i]);
}

static const char *text_of(const yaml_node_t *scalar)
{
    return (const char *)scalar->data.scalar.value;
}

static bool same_text(const yaml_node_t *a, const yaml_node_t *b)
{
    return a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
           a->data.scalar.length == b->data.scalar.length &&
           memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

/* The value of the first key spelled key in the mapping map, or NULL. */
static yaml_node_t *mapping_value(struct loader *ld, const yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node_at(ld, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(text_of(k), key) == 0)
            return node_at(ld, p->value);
    }
    return NULL;
}

/* A plain scalar YAML reads as null: empty, ~ or null. */
static bool is_null(const yaml_node_t *n)
{
    static const char *const spellings[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < ARRAY_LEN(spellings); i++)
        if (strcmp(text_of(n), spellings[i]) == 0)
            return true;
    return false;
}

struct quoted {
    char s[QUOTE_LEN];
};

/* A scalar's text in double quotes for a message: quotes, backslashes and
 * control bytes escaped, long text cut at a character boundary with "...". */
static struct quoted quote(const yaml_node_t *scalar)
{
    struct quoted q;
    const unsigned char *s = scalar->data.scalar.value;
    size_t o = 0;
    q.s[o++] = '"';
    for (size_t i = 0; i < scalar->data.scalar.length; i++) {
        unsigned char c = s[i];
        /* Room for a 4-byte character or an escape, "...", '"' and NUL. */
        if ((c & 0xC0) != 0x80 && o + 12 >= sizeof(q.s)) {
            memcpy(q.s + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            q.s[o++] = '\\';
            q.s[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            o += (size_t)snprintf(q.s + o, sizeof(q.s) - o, "\\x%02x", c);
        } else {
            q.s[o++] = (char)c;
        }
    }
    q.s[o++] = '"';
    q.s[o] = '\0';
    return q;
}

/* Reports that n is not what was expected ("a mapping", "a string", ...). */
static void wrong_type(struct loader *ld, const yaml_node_t *n, const char *path,
                       const char *expected)
{
    if (is_null(n))
        error_at(ld, n->start_mark, path, "found an empty value, expected %s", expected);
    else if (n->type == YAML_SCALAR_NODE)
        error_at(ld, n->start_mark, path, "found %s, expected %s", quote(n).s, expected);
    else
        error_at(ld, n->start_mark, path, "found a %s, expected %s",
                 n->type == YAML_MAPPING_NODE ? "mapping" : "sequence", expected);
}

/* True when n is a mapping or sequence as type says; reports otherwise. */
static bool expect_type(struct loader *ld, const yaml_node_t *n, const char *path,
                        yaml_node_type_t type)
{
    if (n->type == type)
        return true;
    wrong_type(ld, n, path, type == YAML_MAPPING_NODE ? "a mapping" : "a sequence");
    return false;
}

/* The text of a non-null scalar without NUL bytes, or NULL after reporting. */
static const char *scalar(struct loader *ld, const yaml_node_t *n, const char *path,
                          const char *expected)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n)) {
        wrong_type(ld, n, path, expected);
        return NULL;
    }
    if (strlen(text_of(n)) != n->data.scalar.length) {
        error_at(ld, n->start_mark, path, "%s contains a NUL character (expected %s)",
                 quote(n).s, expected);
        return NULL;
    }
    return text_of(n);
}

static void child_path(char *buf, const char *path, const char *key)
{
    snprintf(buf, PATH_LEN, *path ? "%s.%s" : "%s%s", path, key);
}

static void item_path(char *buf, const char *path, size_t i)
{
    snprintf(buf, PATH_LEN, "%s[%zu]", path, i);
}

/* ------------------------------------------------------------------ */
/* Suggestions: "did you mean" and "expected one of"                   */

struct name_list {
    const void *base;
    size_t n;
    const char *(*at)(const void *base, size_t i);
};

static const char *choice_at(const void *base, size_t i)
{
    return ((const char *const *)base)[i];
}

static const char *metal_at(const void *base, size_t i)
{
    return ((char *const *)base)[i];
}

/* Levenshtein distance, or SIZE_MAX when it is surely over SUGGEST_DISTANCE. */
static size_t edit_distance(const char *word, const char *known)
{
    size_t lw = strlen(word), lk = strlen(known);
    if (lk > NAME_MAX_LEN || (lw > lk ? lw - lk : lk - lw) > SUGGEST_DISTANCE)
        return SIZE_MAX;
    size_t row[NAME_MAX_LEN + 1];
    for (size_t j = 0; j <= lk; j++)
        row[j] = j;
    for (size_t i = 1; i <= lw; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lk; j++) {
            size_t above = row[j];
            size_t best = diagonal + (word[i - 1] != known[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lk];
}

/* "a, b, c", ending in "..." when the names do not all fit. */
static void join_names(const struct name_list *names, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < names->n; i++) {
        const char *name = names->at(names->base, i);
        size_t need = strlen(name) + 2;
        if (used + need + 5 >= size) {
            snprintf(buf + used, size - used, "%s...", i ? ", " : "");
            return;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", name);
    }
}

/* Reports the scalar n as an unknown what ("key", "metal", ...), suggesting
 * the closest known name or listing them all. */
static void report_unknown(struct loader *ld, const yaml_node_t *n, const char *path,
                           const char *what, const struct name_list *known)
{
    const char *best = NULL;
    size_t best_distance = SUGGEST_DISTANCE + 1;
    for (size_t i = 0; i < known->n; i++) {
        size_t d = edit_distance(text_of(n), known->at(known->base, i));
        if (d < best_distance) {
            best_distance = d;
            best = known->at(known->base, i);
        }
    }
    if (best) {
        error_at(ld, n->start_mark, path, "unknown %s %s (did you mean \"%s\"?)", what,
                 quote(n).s, best);
        return;
    }
    char list[LIST_LEN];
    join_names(known, list, sizeof(list));
    error_at(ld, n->start_mark, path, "unknown %s %s (expected one of: %s)", what, quote(n).s,
             list);
}

/* ------------------------------------------------------------------ */
/* Key tables and the walkers                                          */

struct key;
struct mapping_spec;

/* Reads value into field (the row's offset in the mapping's struct).
 * Returns 0, or -1 after reporting. */
typedef int parse_fn(struct loader *ld, yaml_node_t *value, const char *path,
                     const struct key *key, void *field);
/* NULL when s is acceptable, else what is wrong ("has no host (...)"). */
typedef const char *problem_fn(const char *s);
/* True when two list items' fields hold the same set value. */
typedef bool same_fn(const void *a, const void *b);

/* Bounds; an upper bound is always inclusive and never combined with an
 * exclusive lower one (no key needs that). */
struct range {
    double min, max;
    bool min_open;
};
#define ABOVE(x) {.min = (x), .max = INFINITY, .min_open = true}
#define AT_LEAST(x) {.min = (x), .max = INFINITY}
#define BETWEEN(x, y) {.min = (x), .max = (y)}

struct key {
    const char *name;
    bool required;
    parse_fn *parse;
    size_t offset;                   /* of the field parse fills */
    struct range range;              /* numbers, integers, durations */
    problem_fn *problem;             /* parse_text: what the string must be */
    const struct mapping_spec *spec; /* nested mapping, or the items of a list */
    same_fn *same;                   /* set when unique across the items of a list */
};

enum key_state { KEY_ABSENT, KEY_VALID, KEY_INVALID };

struct seen {
    yaml_node_t *key, *value; /* NULL when absent */
    enum key_state state;
};

struct mapping_spec {
    const struct key *keys;
    size_t n_keys;
    size_t size; /* of one item, for lists of this kind */
    /* Sets defaults before any key is read. Returns 0, or -1 after reporting. */
    int (*init)(struct loader *ld, void *obj);
    /* Rules across keys, after every key is read; seen is indexed like keys. */
    int (*check)(struct loader *ld, yaml_node_t *map, const char *path,
                 const struct seen *seen, void *obj);
};

/* walk_mapping() keeps a struct seen per row on the stack. */
#define FITS_SEEN(keys) _Static_assert(ARRAY_LEN(keys) <= MAX_KEYS, #keys " exceeds MAX_KEYS")

static const char *key_at(const void *base, size_t i)
{
    return ((const struct key *)base)[i].name;
}

static parse_fn parse_number;

/* The key node of pair i of map when it is a string not used by an earlier
 * pair; otherwise reports and returns NULL. */
static yaml_node_t *first_key(struct loader *ld, yaml_node_t *map, size_t i, const char *path)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    yaml_node_t *key = node_at(ld, pairs[i].key);
    if (!scalar(ld, key, path, "a string key"))
        return NULL;
    for (size_t j = 0; j < i; j++) {
        yaml_node_t *earlier = node_at(ld, pairs[j].key);
        if (same_text(earlier, key)) {
            error_at(ld, key->start_mark, path, "duplicate key %s (first at line %zu, column %zu)",
                     quote(key).s, earlier->start_mark.line + 1, earlier->start_mark.column + 1);
            return NULL;
        }
    }
    return key;
}

/* Reads map into obj by spec: unknown and duplicate keys are reported in
 * document order, then rows run in table order. Optional numbers start NAN.
 * Returns 0, or -1 when anything was reported. */
static int walk_mapping(struct loader *ld, yaml_node_t *map, const char *path,
                        const struct mapping_spec *spec, void *obj)
{
    for (size_t r = 0; r < spec->n_keys; r++)
        if (spec->keys[r].parse == parse_number)
            *(double *)((char *)obj + spec->keys[r].offset) = NAN;
    if (spec->init && spec->init(ld, obj))
        return -1;
    if (!expect_type(ld, map, path, YAML_MAPPING_NODE))
        return -1;

    int rc = 0;
    struct seen seen[MAX_KEYS] = {0};
    struct name_list known = {spec->keys, spec->n_keys, key_at};
    for (size_t i = 0; i < pair_count(map); i++) {
        yaml_node_t *key = first_key(ld, map, i, path);
        if (!key) {
            rc = -1;
            continue;
        }
        size_t r = 0;
        while (r < spec->n_keys && strcmp(spec->keys[r].name, text_of(key)) != 0)
            r++;
        if (r == spec->n_keys) {
            report_unknown(ld, key, path, "key", &known);
            rc = -1;
            continue;
        }
        seen[r].key = key;
        seen[r].value = node_at(ld, map->data.mapping.pairs.start[i].value);
    }
    for (size_t r = 0; r < spec->n_keys; r++) {
        const struct key *k = &spec->keys[r];
        if (!seen[r].value) {
            if (k->required) {
                error_at(ld, map->start_mark, path, "missing required key \"%s\"", k->name);
                rc = -1;
            }
            continue;
        }
        char child[PATH_LEN];
        child_path(child, path, k->name);
        int failed = k->parse(ld, seen[r].value, child, k, (char *)obj + k->offset);
        seen[r].state = failed ? KEY_INVALID : KEY_VALID;
        rc |= failed;
    }
    if (spec->check && spec->check(ld, map, path, seen, obj))
        rc = -1;
    return rc;
}

/* Checks that seq is a sequence and allocates one zeroed spec item per entry. */
static void *new_items(struct loader *ld, yaml_node_t *seq, const char *path,
                       const struct mapping_spec *spec)
{
    if (!expect_type(ld, seq, path, YAML_SEQUENCE_NODE))
        return NULL;
    return ld_calloc(ld, item_count(seq), spec->size);
}

/* Reports each item of seq whose value for a unique key (a row with same)
 * repeats an earlier item's, at the later one. items holds count items. */
static int report_repeats(struct loader *ld, yaml_node_t *seq, const char *path,
                          const struct mapping_spec *spec, const char *items, size_t count)
{
    int rc = 0;
    for (const struct key *k = spec->keys; k < spec->keys + spec->n_keys; k++) {
        if (!k->same)
            continue;
        for (size_t i = 1; i < count; i++) {
            size_t j = 0;
            while (j < i && !k->same(items + i * spec->size + k->offset,
                                     items + j * spec->size + k->offset))
                j++;
            if (j == i)
                continue;
            /* A set field means its key is present in both items. */
            yaml_node_t *repeat = mapping_value(ld, item_at(ld, seq, i), k->name);
            yaml_mark_t first = mapping_value(ld, item_at(ld, seq, j), k->name)->start_mark;
            char item[PATH_LEN], at[PATH_LEN];
            item_path(item, path, i);
            child_path(at, item, k->name);
            error_at(ld, repeat->start_mark, at,
                     "duplicate %s %s (first at line %zu, column %zu)", k->name,
                     quote(repeat).s, first.line + 1, first.column + 1);
            rc = -1;
        }
    }
    return rc;
}

/* Reads each entry of seq into the items at base (from new_items), counting
 * them in *count as they are set up, then reports repeated unique keys.
 * Returns 0, or -1 when anything was reported. */
static int walk_items(struct loader *ld, yaml_node_t *seq, const char *path,
                      const struct mapping_spec *spec, void *base, size_t *count)
{
    char *items = base;
    int rc = 0;
    for (size_t i = 0; i < item_count(seq); i++) {
        char child[PATH_LEN];
        item_path(child, path, i);
        (*count)++;
        rc |= walk_mapping(ld, item_at(ld, seq, i), child, spec, items + i * spec->size);
    }
    return report_repeats(ld, seq, path, spec, items, *count) ? -1 : rc;
}

/* Reads one entry of a mapping with free-form keys; path names the entry. */
typedef int entry_fn(struct loader *ld, yaml_node_t *key, yaml_node_t *value, const char *path,
                     const struct key *row, void *ctx);

/* Calls fn for each entry of the mapping map whose key is a first-seen
 * string. Returns 0, or -1 when anything was reported. */
static int walk_entries(struct loader *ld, yaml_node_t *map, const char *path, entry_fn *fn,
                        const struct key *row, void *ctx)
{
    int rc = 0;
    for (size_t i = 0; i < pair_count(map); i++) {
        yaml_node_t *key = first_key(ld, map, i, path);
        if (!key) {
            rc = -1;
            continue;
        }
        char child[PATH_LEN];
        child_path(child, path, text_of(key));
        rc |= fn(ld, key, node_at(ld, map->data.mapping.pairs.start[i].value), child, row, ctx);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Scalar values                                                       */

static void format_bound(double v, bool duration, char *buf, size_t size)
{
    if (duration)
        duration_format((int64_t)v, buf, size);
    else
        snprintf(buf, size, "%.15g", v);
}

/* Reports the scalar n (whose value is v) unless v is within range. */
static int check_range(struct loader *ld, const yaml_node_t *n, const char *path,
                       const struct range *range, double v, bool duration)
{
    if (v >= range->min && v <= range->max && !(range->min_open && v == range->min))
        return 0;
    char lo[32], hi[32];
    format_bound(range->min, duration, lo, sizeof(lo));
    if (isinf(range->max)) {
        error_at(ld, n->start_mark, path, "%s is out of range (expected %s %s)", text_of(n),
                 range->min_open ? ">" : ">=", lo);
        return -1;
    }
    format_bound(range->max, duration, hi, sizeof(hi));
    error_at(ld, n->start_mark, path, "%s is out of range (expected %s..%s)", text_of(n), lo, hi);
    return -1;
}

/* A plain-scalar number (or integer) within key's range into *out. */
static int read_number(struct loader *ld, yaml_node_t *n, const char *path,
                       const struct key *key, bool integer, double *out)
{
    const char *what = integer ? "an integer" : "a number";
    const char *s = scalar(ld, n, path, what);
    if (!s)
        return -1;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        error_at(ld, n->start_mark, path, "%s is quoted (expected %s without quotes)",
                 quote(n).s, what);
        return -1;
    }
    if (number_parse(s, n->data.scalar.length, out) || (integer && strpbrk(s, ".eE"))) {
        error_at(ld, n->start_mark, path, "%s is not %s (expected %s)", quote(n).s, what,
                 integer ? "digits only, e.g. 2025" : "e.g. 0.85 or 280000");
        return -1;
    }
    return check_range(ld, n, path, &key->range, *out, false);
}

static int parse_number(struct loader *ld, yaml_node_t *value, const char *path,
                        const struct key *key, void *field)
{
    return read_number(ld, value, path, key, false, field);
}

static int parse_int(struct loader *ld, yaml_node_t *value, const char *path,
                     const struct key *key, void *field)
{
    double v;
    if (read_number(ld, value, path, key, true, &v))
        return -1;
    *(int *)field = (int)v;
    return 0;
}

static int parse_u64(struct loader *ld, yaml_node_t *value, const char *path,
                     const struct key *key, void *field)
{
    double v;
    if (read_number(ld, value, path, key, true, &v))
        return -1;
    *(uint64_t *)field = (uint64_t)v;
    return 0;
}

static int parse_duration(struct loader *ld, yaml_node_t *value, const char *path,
                          const struct key *key, void *field)
{
    const char *s = scalar(ld, value, path, "a duration");
    if (!s)
        return -1;
    int64_t ms;
    if (duration_parse(s, &ms)) {
        error_at(ld, value->start_mark, path,
                 "%s is not a duration (expected e.g. 30s, 5m, 1h)", quote(value).s);
        return -1;
    }
    if (check_range(ld, value, path, &key->range, (double)ms, true))
        return -1;
    *(int64_t *)field = ms;
    return 0;
}

static int parse_date(struct loader *ld, yaml_node_t *value, const char *path,
                      const struct key *key, void *field)
{
    (void)key;
    const char *s = scalar(ld, value, path, "a date");
    if (!s)
        return -1;
    if (civil_parse_date(s, field)) {
        error_at(ld, value->start_mark, path, "%s is not a date (expected YYYY-MM-DD)",
                 quote(value).s);
        return -1;
    }
    return 0;
}

/* A string that problem accepts, or NULL after reporting. */
static const char *read_text(struct loader *ld, const yaml_node_t *n, const char *path,
                             problem_fn *problem)
{
    const char *s = scalar(ld, n, path, "a string");
    if (!s)
        return NULL;
    const char *wrong = problem(s);
    if (wrong) {
        error_at(ld, n->start_mark, path, "%s %s", quote(n).s, wrong);
        return NULL;
    }
    return s;
}

static int parse_text(struct loader *ld, yaml_node_t *value, const char *path,
                      const struct key *key, void *field)
{
    const char *s = read_text(ld, value, path, key->problem);
    return s ? store_string(ld, s, field) : -1;
}

/* Index of the scalar n in names, or -1 after reporting an unknown what. */
static int read_choice(struct loader *ld, const yaml_node_t *n, const char *path,
                       const char *what, const char *const *names, size_t count)
{
    if (!scalar(ld, n, path, "a string"))
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcmp(text_of(n), names[i]) == 0)
            return (int)i;
    struct name_list known = {names, count, choice_at};
    report_unknown(ld, n, path, what, &known);
    return -1;
}

static int parse_format(struct loader *ld, yaml_node_t *value, const char *path,
                        const struct key *key, void *field)
{
    int i = read_choice(ld, value, path, key->name, format_names, ARRAY_LEN(format_names));
    if (i < 0)
        return -1;
    *(enum feed_format *)field = (enum feed_format)i;
    return 0;
}

static int parse_measure(struct loader *ld, yaml_node_t *value, const char *path,
                         const struct key *key, void *field)
{
    int i = read_choice(ld, value, path, key->name, measure_names, ARRAY_LEN(measure_names));
    if (i < 0)
        return -1;
    *(enum initiative_measure *)field = (enum initiative_measure)i;
    return 0;
}

/* ------------------------------------------------------------------ */
/* String rules                                                        */

static bool name_valid(const char *s)
{
    size_t len = strlen(s);
    return len >= 1 && len <= NAME_MAX_LEN && strspn(s, NAME_CHARS) == len;
}

static const char *name_problem(const char *s)
{
    return name_valid(s) ? NULL
                         : "is not a valid name (expected [a-z0-9_]+, at most 64 characters)";
}

static const char *plant_problem(const char *s)
{
    return config_plant_id_valid(s)
               ? NULL
               : "is not a valid plant id (expected [a-z0-9][a-z0-9_-]{0,63})";
}

static const char *url_problem(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7F)
            return "contains a space or a character outside printable ASCII";
    if (strncasecmp(s, "file://", 7) == 0)
        return s[7] == '/' ? NULL : "is not an absolute file path (expected file:///path)";
    size_t scheme = strncasecmp(s, "http://", 7) == 0    ? 7
                    : strncasecmp(s, "https://", 8) == 0 ? 8
                                                         : 0;
    if (scheme == 0)
        return "has an unsupported scheme (expected http://, https:// or file://)";
    if (strcspn(s + scheme, "/?#") == 0)
        return "has no host (expected e.g. https://HOST/PATH)";
    return NULL;
}

static const char *listen_problem(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        char v6[INET6_ADDRSTRLEN];
        struct in6_addr addr;
        size_t len = close ? (size_t)(close - s - 1) : 0;
        if (!close || close[1] != ':' || len == 0 || len >= sizeof(v6))
            return "is not a listen address (expected [IPv6]:PORT)";
        memcpy(v6, s + 1, len);
        v6[len] = '\0';
        if (inet_pton(AF_INET6, v6, &addr) != 1)
            return "has an invalid IPv6 address (expected e.g. [::1]:8467)";
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return "has no port (expected HOST:PORT, [IPv6]:PORT or :PORT)";
        if (strspn(s, HOST_CHARS) != (size_t)(colon - s))
            return "has an invalid host (expected a name or address; IPv6 goes in [])";
    }
    const char *port = colon + 1;
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || port[digits] != '\0' || atoi(port) < 1 || atoi(port) > 65535)
        return "has an invalid port (expected 1..65535)";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Lists of names and per-metal values                                 */

/* Reads a non-empty sequence of at most max unique strings that problem
 * accepts into *out (copies; *n counts them). Returns 0, or -1. */
static int read_string_list(struct loader *ld, yaml_node_t *seq, const char *path,
                            const char *what, problem_fn *problem, size_t max, char ***out,
                            size_t *n)
{
    if (!expect_type(ld, seq, path, YAML_SEQUENCE_NODE))
        return -1;
    if (item_count(seq) == 0) {
        error_at(ld, seq->start_mark, path, "found an empty list, expected at least one %s",
                 what);
        return -1;
    }
    if (!(*out = ld_calloc(ld, item_count(seq), sizeof(**out))))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < item_count(seq); i++) {
        yaml_node_t *item = item_at(ld, seq, i);
        char child[PATH_LEN];
        item_path(child, path, i);
        if (i == max) {
            error_at(ld, item->start_mark, child, "more than %zu %ss", max, what);
            return -1;
        }
        if (!read_text(ld, item, child, problem)) {
            rc = -1;
            continue;
        }
        size_t j = 0;
        while (j < i && !same_text(item_at(ld, seq, j), item))
            j++;
        if (j < i) {
            yaml_mark_t first = item_at(ld, seq, j)->start_mark;
            error_at(ld, item->start_mark, child,
                     "duplicate %s %s (first at line %zu, column %zu)", what, quote(item).s,
                     first.line + 1, first.column + 1);
            rc = -1;
            continue;
        }
        if (!((*out)[*n] = dup_text(ld, text_of(item))))
            return -1;
        (*n)++;
    }
    return rc;
}

static int parse_metals(struct loader *ld, yaml_node_t *value, const char *path,
                        const struct key *key, void *field)
{
    (void)key;
    struct config *cfg = field;
    int rc = read_string_list(ld, value, path, "metal", name_problem, CONFIG_MAX_METALS,
                              &cfg->metals, &cfg->n_metals);
    ld->metals_ok = rc == 0;
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_plants(struct loader *ld, yaml_node_t *value, const char *path,
                        const struct key *key, void *field)
{
    (void)key;
    struct config_feed *feed = field;
    int rc = read_string_list(ld, value, path, "plant id", plant_problem, SIZE_MAX,
                              &feed->plants, &feed->n_plants);
    if (feed->n_plants)
        qsort(feed->plants, feed->n_plants, sizeof(*feed->plants), compare_strings);
    return rc;
}

/* One "metal: number" entry into the per-metal array ctx. */
static int metal_entry(struct loader *ld, yaml_node_t *key, yaml_node_t *value, const char *path,
                       const struct key *row, void *ctx)
{
    double v;
    int rc = read_number(ld, value, path, row, false, &v);
    int metal = config_metal_index(ld->cfg, text_of(key));
    if (metal < 0) {
        /* Without a clean metals list the name may well be right. */
        if (ld->metals_ok) {
            struct name_list known = {ld->cfg->metals, ld->cfg->n_metals, metal_at};
            report_unknown(ld, key, path, "metal", &known);
        }
        return -1;
    }
    if (rc == 0)
        ((double *)ctx)[metal] = v;
    return rc;
}

/* A mapping metal -> number into the double[n_metals] *field points to. */
static int parse_metal_map(struct loader *ld, yaml_node_t *value, const char *path,
                           const struct key *key, void *field)
{
    if (!expect_type(ld, value, path, YAML_MAPPING_NODE))
        return -1;
    return walk_entries(ld, value, path, metal_entry, key, *(double **)field);
}

/* ------------------------------------------------------------------ */
/* Mapping kinds                                                       */

static int parse_mapping(struct loader *ld, yaml_node_t *value, const char *path,
                         const struct key *key, void *field)
{
    return walk_mapping(ld, value, path, key->spec, field);
}

static bool same_name(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return x && y && strcmp(x, y) == 0;
}

/* Years are 1..9999; 0 means not read. */
static bool same_year(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x != 0 && x == y;
}

/* --- feeds --- */

enum { FEED_NAME, FEED_URL, FEED_FORMAT, FEED_INTERVAL, FEED_TIMEOUT, FEED_MAX_BODY,
       FEED_PLANTS, FEED_KEY_COUNT };

static const struct key feed_keys[] = {
    [FEED_NAME] = {.name = "name", .required = true, .parse = parse_text,
                   .offset = offsetof(struct config_feed, name), .problem = name_problem,
                   .same = same_name},
    [FEED_URL] = {.name = "url", .required = true, .parse = parse_text,
                  .offset = offsetof(struct config_feed, url), .problem = url_problem},
    [FEED_FORMAT] = {.name = "format", .required = true, .parse = parse_format,
                     .offset = offsetof(struct config_feed, format)},
    [FEED_INTERVAL] = {.name = "interval", .parse = parse_duration,
                       .offset = offsetof(struct config_feed, interval_ms),
                       .range = AT_LEAST(1000)},
    [FEED_TIMEOUT] = {.name = "timeout", .parse = parse_duration,
                      .offset = offsetof(struct config_feed, timeout_ms), .range = ABOVE(0)},
    [FEED_MAX_BODY] = {.name = "max_body_bytes", .parse = parse_u64,
                       .offset = offsetof(struct config_feed, max_body_bytes),
                       .range = BETWEEN(1, 1u << 30)},
    [FEED_PLANTS] = {.name = "plants", .required = true, .parse = parse_plants},
};
_Static_assert(ARRAY_LEN(feed_keys) == FEED_KEY_COUNT, "a row per FEED_ index");
FITS_SEEN(feed_keys);

static int feed_init(struct loader *ld, void *obj)
{
    (void)ld;
    struct config_feed *feed = obj;
    feed->interval_ms = DEFAULT_FEED_INTERVAL_MS;
    feed->max_body_bytes = DEFAULT_MAX_BODY_BYTES;
    return 0;
}

/* The timeout defaults to min(30s, interval) and may not exceed the interval. */
static int feed_check(struct loader *ld, yaml_node_t *map, const char *path,
                      const struct seen *seen, void *obj)
{
    (void)map;
    struct config_feed *feed = obj;
    const struct seen *timeout = &seen[FEED_TIMEOUT];
    if (timeout->state == KEY_ABSENT) {
        feed->timeout_ms = feed->interval_ms < DEFAULT_FEED_TIMEOUT_MS ? feed->interval_ms
                                                                       : DEFAULT_FEED_TIMEOUT_MS;
        return 0;
    }
    if (timeout->state != KEY_VALID || seen[FEED_INTERVAL].state == KEY_INVALID ||
        feed->timeout_ms <= feed->interval_ms)
        return 0;
    char child[PATH_LEN], interval[32];
    child_path(child, path, "timeout");
    duration_format(feed->interval_ms, interval, sizeof(interval));
    error_at(ld, timeout->value->start_mark, child,
             "%s is longer than the interval %s (expected at most the interval)",
             text_of(timeout->value), interval);
    return -1;
}

static const struct mapping_spec feed_spec = {
    .keys = feed_keys, .n_keys = ARRAY_LEN(feed_keys), .size = sizeof(struct config_feed),
    .init = feed_init, .check = feed_check,
};

static int parse_feeds(struct loader *ld, yaml_node_t *value, const char *path,
                       const struct key *key, void *field)
{
    struct config *cfg = field;
    cfg->feeds = new_items(ld, value, path, key->spec);
    return cfg->feeds ? walk_items(ld, value, path, key->spec, cfg->feeds, &cfg->n_feeds) : -1;
}

/* --- target years and benchmarks --- */

/* Keys a year and a benchmark share. */
#define INTENSITY_KEYS(type)                                                                   \
    {.name = "co2_intensity_tonnes_per_tonne", .parse = parse_number,                         \
     .offset = offsetof(type, co2_intensity_tonnes_per_tonne), .range = AT_LEAST(0)},         \
    {.name = "energy_intensity_mwh_per_tonne", .parse = parse_number,                         \
     .offset = offsetof(type, energy_intensity_mwh_per_tonne), .range = AT_LEAST(0)},         \
    {.name = "waste_recycling_ratio", .parse = parse_number,                                  \
     .offset = offsetof(type, waste_recycling_ratio), .range = BETWEEN(0, 1)}

static const struct key year_keys[] = {
    {.name = "year", .required = true, .parse = parse_int,
     .offset = offsetof(struct config_target_year, year), .range = BETWEEN(1, 9999),
     .same = same_year},
    {.name = "output_vs_baseline", .parse = parse_number,
     .offset = offsetof(struct config_target_year, output_vs_baseline), .range = ABOVE(0)},
    {.name = "production_tonnes", .parse = parse_metal_map,
     .offset = offsetof(struct config_target_year, production_tonnes), .range = AT_LEAST(0)},
    {.name = "growth", .parse = parse_metal_map,
     .offset = offsetof(struct config_target_year, growth), .range = ABOVE(-1)},
    INTENSITY_KEYS(struct config_target_year),
};
FITS_SEEN(year_keys);

/* A double[n_metals] of NAN. */
static double *nan_array(struct loader *ld)
{
    double *values = ld_calloc(ld, ld->cfg->n_metals, sizeof(*values));
    for (size_t i = 0; values && i < ld->cfg->n_metals; i++)
        values[i] = NAN;
    return values;
}

static int year_init(struct loader *ld, void *obj)
{
    struct config_target_year *year = obj;
    year->production_tonnes = nan_array(ld);
    year->growth = nan_array(ld);
    return year->production_tonnes && year->growth ? 0 : -1;
}

static const struct mapping_spec year_spec = {
    .keys = year_keys, .n_keys = ARRAY_LEN(year_keys),
    .size = sizeof(struct config_target_year), .init = year_init,
};

static int compare_years(const void *a, const void *b)
{
    const struct config_target_year *x = a, *y = b;
    return (x->year > y->year) - (x->year < y->year);
}

static int parse_years(struct loader *ld, yaml_node_t *value, const char *path,
                       const struct key *key, void *field)
{
    struct config *cfg = field;
    if (!(cfg->years = new_items(ld, value, path, key->spec)))
        return -1;
    int rc = walk_items(ld, value, path, key->spec, cfg->years, &cfg->n_years);
    qsort(cfg->years, cfg->n_years, sizeof(*cfg->years), compare_years);
    return rc;
}

static const struct key benchmark_keys[] = {
    INTENSITY_KEYS(struct config_benchmark),
};

FITS_SEEN(benchmark_keys);

static const struct mapping_spec benchmark_spec = {
    .keys = benchmark_keys, .n_keys = ARRAY_LEN(benchmark_keys),
};

/* One "name: {values}" entry into the next benchmark of the config ctx. */
static int benchmark_entry(struct loader *ld, yaml_node_t *key, yaml_node_t *value,
                           const char *path, const struct key *row, void *ctx)
{
    struct config *cfg = ctx;
    struct config_benchmark *bench = &cfg->benchmarks[cfg->n_benchmarks++];
    int rc = walk_mapping(ld, value, path, row->spec, bench);
    const char *name = read_text(ld, key, path, name_problem);
    return name && store_string(ld, name, &bench->name) == 0 ? rc : -1;
}

static int parse_benchmarks(struct loader *ld, yaml_node_t *value, const char *path,
                            const struct key *key, void *field)
{
    struct config *cfg = field;
    if (!expect_type(ld, value, path, YAML_MAPPING_NODE))
        return -1;
    if (!(cfg->benchmarks = ld_calloc(ld, pair_count(value), sizeof(*cfg->benchmarks))))
        return -1;
    return walk_entries(ld, value, path, benchmark_entry, key, cfg);
}

/* --- initiatives --- */

enum { INIT_NAME, INIT_MEASURE, INIT_BASELINE, INIT_TARGET, INIT_START, INIT_DEADLINE,
       INIT_KEY_COUNT };

static const struct key initiative_keys[] = {
    [INIT_NAME] = {.name = "name", .required = true, .parse = parse_text,
                   .offset = offsetof(struct config_initiative, name), .problem = name_problem,
                   .same = same_name},
    [INIT_MEASURE] = {.name = "measure", .required = true, .parse = parse_measure,
                      .offset = offsetof(struct config_initiative, measure)},
    [INIT_BASELINE] = {.name = "baseline", .parse = parse_number,
                       .offset = offsetof(struct config_initiative, baseline),
                       .range = ABOVE(0)},
    [INIT_TARGET] = {.name = "target", .required = true, .parse = parse_number,
                     .offset = offsetof(struct config_initiative, target), .range = ABOVE(0)},
    [INIT_START] = {.name = "start", .required = true, .parse = parse_date,
                    .offset = offsetof(struct config_initiative, start)},
    [INIT_DEADLINE] = {.name = "deadline", .required = true, .parse = parse_date,
                       .offset = offsetof(struct config_initiative, deadline)},
};
_Static_assert(ARRAY_LEN(initiative_keys) == INIT_KEY_COUNT, "a row per INIT_ index");
FITS_SEEN(initiative_keys);

/* baseline belongs to capacity_increase_ratio alone; deadline follows start. */
static int initiative_check(struct loader *ld, yaml_node_t *map, const char *path,
                            const struct seen *seen, void *obj)
{
    struct config_initiative *in = obj;
    const struct seen *baseline = &seen[INIT_BASELINE];
    int rc = 0;
    if (seen[INIT_MEASURE].state == KEY_VALID) {
        bool wants = in->measure == INITIATIVE_CAPACITY_INCREASE_RATIO;
        const char *name = measure_names[in->measure];
        if (wants && baseline->state == KEY_ABSENT) {
            error_at(ld, map->start_mark, path,
                     "missing required key \"baseline\" (measure %s needs it)", name);
            rc = -1;
        } else if (!wants && baseline->state != KEY_ABSENT) {
            error_at(ld, baseline->key->start_mark, path,
                     "key \"baseline\" is only for measure %s (this one is %s)",
                     measure_names[INITIATIVE_CAPACITY_INCREASE_RATIO], name);
            rc = -1;
        }
    }
    if (seen[INIT_START].state == KEY_VALID && seen[INIT_DEADLINE].state == KEY_VALID &&
        in->deadline <= in->start) {
        char child[PATH_LEN];
        child_path(child, path, "deadline");
        error_at(ld, seen[INIT_DEADLINE].value->start_mark, child,
                 "%s is not after start %s", text_of(seen[INIT_DEADLINE].value),
                 text_of(seen[INIT_START].value));
        rc = -1;
    }
    return rc;
}

static const struct mapping_spec initiative_spec = {
    .keys = initiative_keys, .n_keys = ARRAY_LEN(initiative_keys),
    .size = sizeof(struct config_initiative), .check = initiative_check,
};

static int parse_initiatives(struct loader *ld, yaml_node_t *value, const char *path,
                             const struct key *key, void *field)
{
    struct config *cfg = field;
    cfg->initiatives = new_items(ld, value, path, key->spec);
    return cfg->initiatives
               ? walk_items(ld, value, path, key->spec, cfg->initiatives, &cfg->n_initiatives)
               : -1;
}

/* --- targets, web and the top level (all fill struct config) --- */

static const struct key targets_keys[] = {
    {.name = "baseline_year", .parse = parse_int,
     .offset = offsetof(struct config, baseline_year), .range = BETWEEN(1, 9999)},
    {.name = "years", .parse = parse_years, .spec = &year_spec},
    {.name = "benchmarks", .parse = parse_benchmarks, .spec = &benchmark_spec},
    {.name = "initiatives", .parse = parse_initiatives, .spec = &initiative_spec},
};

FITS_SEEN(targets_keys);

static const struct mapping_spec targets_spec = {
    .keys = targets_keys, .n_keys = ARRAY_LEN(targets_keys),
};

static const struct key web_keys[] = {
    {.name = "listen_address", .parse = parse_text,
     .offset = offsetof(struct config, listen_address), .problem = listen_problem},
};

FITS_SEEN(web_keys);

static const struct mapping_spec web_spec = {.keys = web_keys, .n_keys = ARRAY_LEN(web_keys)};

/* metals comes before targets: production and growth keys are metals. */
static const struct key top_keys[] = {
    {.name = "web", .parse = parse_mapping, .spec = &web_spec},
    {.name = "evaluation_interval", .parse = parse_duration,
     .offset = offsetof(struct config, evaluation_interval_ms),
     .range = BETWEEN(1000, 86400000)},
    {.name = "metals", .required = true, .parse = parse_metals},
    {.name = "feeds", .parse = parse_feeds, .spec = &feed_spec},
    {.name = "targets", .parse = parse_mapping, .spec = &targets_spec},
};

FITS_SEEN(top_keys);

static int top_init(struct loader *ld, void *obj)
{
    struct config *cfg = obj;
    cfg->evaluation_interval_ms = DEFAULT_EVALUATION_INTERVAL_MS;
    return store_string(ld, CONFIG_DEFAULT_LISTEN_ADDRESS, &cfg->listen_address);
}

static const struct mapping_spec top_spec = {
    .keys = top_keys, .n_keys = ARRAY_LEN(top_keys), .init = top_init,
};

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* Reads the whole file (at most FILE_MAX_BYTES) into *text. */
static int read_file(struct loader *ld, const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_file(ld, "%s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = -1;
    for (;;) {
        if (n == cap) {
            char *grown = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!grown) {
                out_of_memory(ld);
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > FILE_MAX_BYTES) {
            error_file(ld, "%s (the limit is %u bytes)", strerror(EFBIG), FILE_MAX_BYTES);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                error_file(ld, "%s", strerror(errno));
            else
                rc = 0;
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return -1;
    }
    *text = buf;
    *len = n;
    return 0;
}

/* Reports libyaml's error. Reader errors (bad encoding) carry only a byte
 * offset, turned into a line and column here. */
static void report_parser(struct loader *ld, const yaml_parser_t *parser, const char *text)
{
    const char *problem = parser->problem ? parser->problem : "out of memory";
    yaml_mark_t mark = parser->problem_mark;
    if (parser->error == YAML_READER_ERROR) {
        mark.line = mark.column = 0;
        for (size_t i = 0; i < parser->problem_offset; i++) {
            mark.column++;
            if (text[i] == '\n') {
                mark.line++;
                mark.column = 0;
            }
        }
    }
    error_at(ld, mark, "", "%s%s%s", problem, parser->context ? " " : "",
             parser->context ? parser->context : "");
}

/* Parses text and, when it holds one document, reads it into a new config
 * (returned even when errors were reported, for config_free). */
static struct config *load_text(struct loader *ld, const char *path, const char *text,
                                size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    struct config *cfg = NULL;
    if (!yaml_parser_initialize(&parser)) {
        out_of_memory(ld);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        report_parser(ld, &parser, text);
        yaml_parser_delete(&parser);
        return NULL;
    }
    ld->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        yaml_mark_t start = {0};
        error_at(ld, start, "", "the file holds no YAML document (expected a mapping)");
    } else if ((cfg = calloc(1, sizeof(*cfg))) && (cfg->path = strdup(path))) {
        ld->cfg = cfg;
        walk_mapping(ld, root, "", &top_spec, cfg);
    } else {
        out_of_memory(ld);
    }
    if (!yaml_parser_load(&parser, &extra)) {
        report_parser(ld, &parser, text);
    } else {
        if (yaml_document_get_root_node(&extra))
            error_at(ld, extra.start_mark, "",
                     "a second YAML document starts here (expected exactly one)");
        yaml_document_delete(&extra);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    ld->doc = NULL;
    return cfg;
}

struct config *config_load(const char *path, struct config_errors *errors)
{
    struct loader ld = {.file = path};
    struct config *cfg = NULL;
    char *text;
    size_t len;
    errors->messages = NULL;
    errors->count = 0;
    if (read_file(&ld, path, &text, &len) == 0) {
        cfg = load_text(&ld, path, text, len);
        free(text);
    }
    finish_errors(&ld, errors);
    if (ld.failed) {
        config_free(cfg);
        return NULL;
    }
    return cfg;
}

void config_free(struct config *config)
{
    if (!config)
        return;
    free(config->path);
    free(config->listen_address);
    for (size_t i = 0; i < config->n_metals; i++)
        free(config->metals[i]);
    free(config->metals);
    for (size_t i = 0; i < config->n_feeds; i++) {
        struct config_feed *feed = &config->feeds[i];
        free(feed->name);
        free(feed->url);
        for (size_t j = 0; j < feed->n_plants; j++)
            free(feed->plants[j]);
        free(feed->plants);
    }
    free(config->feeds);
    for (size_t i = 0; i < config->n_years; i++) {
        free(config->years[i].production_tonnes);
        free(config->years[i].growth);
    }
    free(config->years);
    for (size_t i = 0; i < config->n_benchmarks; i++)
        free(config->benchmarks[i].name);
    free(config->benchmarks);
    for (size_t i = 0; i < config->n_initiatives; i++)
        free(config->initiatives[i].name);
    free(config->initiatives);
    free(config);
}

void config_errors_free(struct config_errors *errors)
{
    if (!errors)
        return;
    for (size_t i = 0; i < errors->count; i++)
        free(errors->messages[i]);
    free(errors->messages);
    errors->messages = NULL;
    errors->count = 0;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

int config_metal_index(const struct config *config, const char *metal)
{
    for (size_t i = 0; i < config->n_metals; i++)
        if (strcmp(config->metals[i], metal) == 0)
            return (int)i;
    return -1;
}

const struct config_feed *config_feed_find(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->n_feeds; i++)
        if (strcmp(config->feeds[i].name, name) == 0)
            return &config->feeds[i];
    return NULL;
}

bool config_feed_allows_plant(const struct config_feed *feed, const char *plant)
{
    return bsearch(&plant, feed->plants, feed->n_plants, sizeof(*feed->plants),
                   compare_strings) != NULL;
}

bool config_plant_id_valid(const char *id)
{
    size_t len = strlen(id);
    return len >= 1 && len <= NAME_MAX_LEN && id[0] != '_' && id[0] != '-' &&
           strspn(id, PLANT_CHARS) == len;
}

const char *config_measure_name(enum initiative_measure measure)
{
    return (size_t)measure < ARRAY_LEN(measure_names) ? measure_names[measure] : "unknown";
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */

static void format_date(int64_t t, char *buf, size_t size)
{
    int y, m, d;
    civil_date_from_time(t, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* Prints the configured number and per-metal rows of spec's table for obj. */
static void print_values(FILE *out, const struct config *cfg, const struct mapping_spec *spec,
                         const void *obj)
{
    for (const struct key *k = spec->keys; k < spec->keys + spec->n_keys; k++) {
        const char *field = (const char *)obj + k->offset;
        if (k->parse == parse_number && !isnan(*(const double *)field)) {
            fprintf(out, "      %-32s %.15g\n", k->name, *(const double *)field);
        } else if (k->parse == parse_metal_map) {
            const double *values = *(double *const *)field;
            const char *sep = "";
            for (size_t i = 0; i < cfg->n_metals; i++) {
                if (isnan(values[i]))
                    continue;
                if (!*sep)
                    fprintf(out, "      %-32s ", k->name);
                fprintf(out, "%s%s %.15g", sep, cfg->metals[i], values[i]);
                sep = ", ";
            }
            if (*sep)
                fputc('\n', out);
        }
    }
}

void config_print_summary(const struct config *config, FILE *out)
{
    char a[32], b[32];
    fprintf(out, "configuration %s\n", config->path);
    fprintf(out, "  listen address       %s\n", config->listen_address);
    duration_format(config->evaluation_interval_ms, a, sizeof(a));
    fprintf(out, "  evaluation interval  %s\n", a);
    fprintf(out, "  metals               ");
    for (size_t i = 0; i < config->n_metals; i++)
        fprintf(out, "%s%s", i ? ", " : "", config->metals[i]);
    fprintf(out, "\n  feeds                %zu\n", config->n_feeds);
    for (size_t i = 0; i < config->n_feeds; i++) {
        const struct config_feed *feed = &config->feeds[i];
        duration_format(feed->interval_ms, a, sizeof(a));
        duration_format(feed->timeout_ms, b, sizeof(b));
        fprintf(out, "    %s: %s every %s, timeout %s, body <= %" PRIu64 " bytes, %zu plant%s\n",
                feed->name, format_names[feed->format], a, b, feed->max_body_bytes,
                feed->n_plants, feed->n_plants == 1 ? "" : "s");
        fprintf(out, "      %s\n", feed->url);
    }
    if (config->baseline_year)
        fprintf(out, "  baseline year        %d\n", config->baseline_year);
    for (size_t i = 0; i < config->n_years; i++) {
        fprintf(out, "  target year %d\n", config->years[i].year);
        print_values(out, config, &year_spec, &config->years[i]);
    }
    for (size_t i = 0; i < config->n_benchmarks; i++) {
        fprintf(out, "  benchmark %s\n", config->benchmarks[i].name);
        print_values(out, config, &benchmark_spec, &config->benchmarks[i]);
    }
    for (size_t i = 0; i < config->n_initiatives; i++) {
        const struct config_initiative *in = &config->initiatives[i];
        format_date(in->start, a, sizeof(a));
        format_date(in->deadline, b, sizeof(b));
        fprintf(out, "  initiative %s: %s target %.15g", in->name, measure_names[in->measure],
                in->target);
        if (!isnan(in->baseline))
            fprintf(out, " (baseline %.15g)", in->baseline);
        fprintf(out, ", %s..%s\n", a, b);
    }
}
