/*
 * yaml_walk: the machinery shared by ingot's YAML loaders (config.c,
 * web_config.c): the error list and its sorting, reading and parsing the
 * file, node helpers, "did you mean" suggestions, the key-table walkers and
 * the scalar row parsers. Nothing here knows any particular key; see
 * yaml_walk.h for the contracts.
 */
#include "yaml_walk.h"

#include "civil_time.h"
#include "config.h"
#include "duration.h"
#include "number.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_LEN 1024 /* one message, before the "file:line:column: " prefix */
#define LIST_LEN 320     /* "expected one of: ..." */
#define SUGGEST_DISTANCE 2
#define SUGGEST_MAX_LEN 64 /* longer known names are never suggested */

/* ------------------------------------------------------------------ */
/* The error list                                                      */

struct yaml_walk_pending {
    size_t line, column; /* 1-based; 0 for a message about the whole file */
    size_t seq;          /* discovery order, to keep sorting stable */
    char *text;
};

void yaml_walk_init(struct yaml_walk *walk, const char *file, void *user)
{
    *walk = (struct yaml_walk){.file = file, .user = user};
}

/* Records one error. line 0 gives "file: message". */
static void report(struct yaml_walk *walk, size_t line, size_t column, const char *path,
                   const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static void report(struct yaml_walk *walk, size_t line, size_t column, const char *path,
                   const char *fmt, va_list ap)
{
    walk->failed = true;
    if (walk->n_errors == walk->cap_errors) {
        size_t cap = walk->cap_errors ? 2 * walk->cap_errors : 8;
        struct yaml_walk_pending *grown = realloc(walk->errors, cap * sizeof(*grown));
        if (!grown)
            return;
        walk->errors = grown;
        walk->cap_errors = cap;
    }
    char msg[MESSAGE_LEN];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char *text;
    int rc = line ? asprintf(&text, "%s:%zu:%zu: %s%s%s", walk->file, line, column, path,
                             *path ? ": " : "", msg)
                  : asprintf(&text, "%s: %s", walk->file, msg);
    if (rc < 0)
        return;
    walk->errors[walk->n_errors] = (struct yaml_walk_pending){line, column, walk->n_errors, text};
    walk->n_errors++;
}

void yaml_walk_error_at(struct yaml_walk *walk, yaml_mark_t mark, const char *path,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(walk, mark.line + 1, mark.column + 1, path, fmt, ap);
    va_end(ap);
}

void yaml_walk_error_file(struct yaml_walk *walk, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(walk, 0, 0, "", fmt, ap);
    va_end(ap);
}

static int by_position(const void *a, const void *b)
{
    const struct yaml_walk_pending *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->column != y->column)
        return x->column < y->column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int yaml_walk_finish(struct yaml_walk *walk, struct config_errors *out)
{
    out->messages = NULL;
    out->count = 0;
    if (walk->n_errors) {
        qsort(walk->errors, walk->n_errors, sizeof(*walk->errors), by_position);
        out->messages = calloc(walk->n_errors, sizeof(*out->messages));
    }
    for (size_t i = 0; i < walk->n_errors; i++) {
        if (out->messages)
            out->messages[out->count++] = walk->errors[i].text;
        else
            free(walk->errors[i].text);
    }
    free(walk->errors);
    walk->errors = NULL;
    walk->n_errors = walk->cap_errors = 0;
    return walk->failed ? -1 : 0;
}

void yaml_walk_out_of_memory(struct yaml_walk *walk)
{
    yaml_walk_error_file(walk, "out of memory");
}

void *yaml_walk_calloc(struct yaml_walk *walk, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        yaml_walk_out_of_memory(walk);
    return p;
}

char *yaml_walk_strdup(struct yaml_walk *walk, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        yaml_walk_out_of_memory(walk);
    return copy;
}

int yaml_walk_store_string(struct yaml_walk *walk, const char *s, void *field)
{
    char **dst = field;
    char *copy = yaml_walk_strdup(walk, s);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */

yaml_node_t *yaml_walk_node(const struct yaml_walk *walk, int index)
{
    return yaml_document_get_node(walk->doc, index);
}

size_t yaml_walk_pair_count(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

size_t yaml_walk_item_count(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *yaml_walk_item(const struct yaml_walk *walk, const yaml_node_t *seq, size_t i)
{
    return yaml_walk_node(walk, seq->data.sequence.items.start[i]);
}

const char *yaml_walk_text(const yaml_node_t *scalar)
{
    return (const char *)scalar->data.scalar.value;
}

bool yaml_walk_same_text(const yaml_node_t *a, const yaml_node_t *b)
{
    return a->type == YAML_SCALAR_NODE && b->type == YAML_SCALAR_NODE &&
           a->data.scalar.length == b->data.scalar.length &&
           memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

yaml_node_t *yaml_walk_mapping_value(const struct yaml_walk *walk, const yaml_node_t *map,
                                     const char *key)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_walk_node(walk, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(yaml_walk_text(k), key) == 0)
            return yaml_walk_node(walk, p->value);
    }
    return NULL;
}

bool yaml_walk_is_null(const yaml_node_t *n)
{
    static const char *const spellings[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < YAML_WALK_ARRAY_LEN(spellings); i++)
        if (strcmp(yaml_walk_text(n), spellings[i]) == 0)
            return true;
    return false;
}

struct yaml_walk_quoted yaml_walk_quote(const yaml_node_t *scalar)
{
    struct yaml_walk_quoted q;
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

void yaml_walk_wrong_type(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                          const char *expected)
{
    if (yaml_walk_is_null(n))
        yaml_walk_error_at(walk, n->start_mark, path, "found an empty value, expected %s",
                           expected);
    else if (n->type == YAML_SCALAR_NODE)
        yaml_walk_error_at(walk, n->start_mark, path, "found %s, expected %s",
                           yaml_walk_quote(n).s, expected);
    else
        yaml_walk_error_at(walk, n->start_mark, path, "found a %s, expected %s",
                           n->type == YAML_MAPPING_NODE ? "mapping" : "sequence", expected);
}

bool yaml_walk_expect_type(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                           yaml_node_type_t type)
{
    if (n->type == type)
        return true;
    yaml_walk_wrong_type(walk, n, path, type == YAML_MAPPING_NODE ? "a mapping" : "a sequence");
    return false;
}

const char *yaml_walk_scalar(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                             const char *expected)
{
    if (n->type != YAML_SCALAR_NODE || yaml_walk_is_null(n)) {
        yaml_walk_wrong_type(walk, n, path, expected);
        return NULL;
    }
    if (strlen(yaml_walk_text(n)) != n->data.scalar.length) {
        yaml_walk_error_at(walk, n->start_mark, path, "%s contains a NUL character (expected %s)",
                           yaml_walk_quote(n).s, expected);
        return NULL;
    }
    return yaml_walk_text(n);
}

void yaml_walk_child_path(char *buf, const char *path, const char *key)
{
    snprintf(buf, YAML_WALK_PATH_LEN, *path ? "%s.%s" : "%s%s", path, key);
}

void yaml_walk_item_path(char *buf, const char *path, size_t i)
{
    snprintf(buf, YAML_WALK_PATH_LEN, "%s[%zu]", path, i);
}

/* ------------------------------------------------------------------ */
/* Suggestions: "did you mean" and "expected one of"                   */

const char *yaml_walk_string_at(const void *base, size_t i)
{
    return ((const char *const *)base)[i];
}

/* Levenshtein distance, or SIZE_MAX when it is surely over SUGGEST_DISTANCE. */
static size_t edit_distance(const char *word, const char *known)
{
    size_t lw = strlen(word), lk = strlen(known);
    if (lk > SUGGEST_MAX_LEN || (lw > lk ? lw - lk : lk - lw) > SUGGEST_DISTANCE)
        return SIZE_MAX;
    size_t row[SUGGEST_MAX_LEN + 1];
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
static void join_names(const struct yaml_walk_names *names, char *buf, size_t size)
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

void yaml_walk_report_unknown(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                              const char *what, const struct yaml_walk_names *known)
{
    const char *best = NULL;
    size_t best_distance = SUGGEST_DISTANCE + 1;
    for (size_t i = 0; i < known->n; i++) {
        size_t d = edit_distance(yaml_walk_text(n), known->at(known->base, i));
        if (d < best_distance) {
            best_distance = d;
            best = known->at(known->base, i);
        }
    }
    if (best) {
        yaml_walk_error_at(walk, n->start_mark, path, "unknown %s %s (did you mean \"%s\"?)",
                           what, yaml_walk_quote(n).s, best);
        return;
    }
    char list[LIST_LEN];
    join_names(known, list, sizeof(list));
    yaml_walk_error_at(walk, n->start_mark, path, "unknown %s %s (expected one of: %s)", what,
                       yaml_walk_quote(n).s, list);
}

/* ------------------------------------------------------------------ */
/* Key tables and the walkers                                          */

/* The key node of pair i of map when it is a string not used by an earlier
 * pair; otherwise reports and returns NULL. */
static yaml_node_t *first_key(struct yaml_walk *walk, yaml_node_t *map, size_t i,
                              const char *path)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    yaml_node_t *key = yaml_walk_node(walk, pairs[i].key);
    if (!yaml_walk_scalar(walk, key, path, "a string key"))
        return NULL;
    for (size_t j = 0; j < i; j++) {
        yaml_node_t *earlier = yaml_walk_node(walk, pairs[j].key);
        if (yaml_walk_same_text(earlier, key)) {
            yaml_walk_error_at(walk, key->start_mark, path,
                               "duplicate key %s (first at line %zu, column %zu)",
                               yaml_walk_quote(key).s, earlier->start_mark.line + 1,
                               earlier->start_mark.column + 1);
            return NULL;
        }
    }
    return key;
}

int yaml_walk_mapping(struct yaml_walk *walk, yaml_node_t *map, const char *path,
                      const struct yaml_walk_spec *spec, void *obj)
{
    for (size_t r = 0; r < spec->n_keys; r++)
        if (spec->keys[r].parse == yaml_walk_parse_number)
            *(double *)((char *)obj + spec->keys[r].offset) = NAN;
    if (spec->init && spec->init(walk, obj))
        return -1;
    if (!yaml_walk_expect_type(walk, map, path, YAML_MAPPING_NODE))
        return -1;

    int rc = 0;
    struct yaml_walk_seen seen[YAML_WALK_MAX_KEYS] = {0};
    /* What an unknown key may have meant: the keys not refused. */
    const char *names[YAML_WALK_MAX_KEYS];
    struct yaml_walk_names known = {names, 0, yaml_walk_string_at};
    for (size_t r = 0; r < spec->n_keys; r++)
        if (!spec->keys[r].unsupported)
            names[known.n++] = spec->keys[r].name;
    for (size_t i = 0; i < yaml_walk_pair_count(map); i++) {
        yaml_node_t *key = first_key(walk, map, i, path);
        if (!key) {
            rc = -1;
            continue;
        }
        size_t r = 0;
        while (r < spec->n_keys && strcmp(spec->keys[r].name, yaml_walk_text(key)) != 0)
            r++;
        if (r == spec->n_keys) {
            yaml_walk_report_unknown(walk, key, path, "key", &known);
            rc = -1;
            continue;
        }
        if (spec->keys[r].unsupported) {
            yaml_walk_error_at(walk, key->start_mark, path, "key %s is not supported (%s)",
                               yaml_walk_quote(key).s, spec->keys[r].unsupported);
            rc = -1;
            continue;
        }
        seen[r].key = key;
        seen[r].value = yaml_walk_node(walk, map->data.mapping.pairs.start[i].value);
    }
    for (size_t r = 0; r < spec->n_keys; r++) {
        const struct yaml_walk_key *k = &spec->keys[r];
        if (!seen[r].value) {
            if (k->required) {
                yaml_walk_error_at(walk, map->start_mark, path, "missing required key \"%s\"",
                                   k->name);
                rc = -1;
            }
            continue;
        }
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_child_path(child, path, k->name);
        int failed = k->parse(walk, seen[r].value, child, k, (char *)obj + k->offset);
        seen[r].state = failed ? YAML_WALK_INVALID : YAML_WALK_VALID;
        rc |= failed;
    }
    if (spec->check && spec->check(walk, map, path, seen, obj))
        rc = -1;
    return rc;
}

void *yaml_walk_new_items(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                          const struct yaml_walk_spec *spec)
{
    if (!yaml_walk_expect_type(walk, seq, path, YAML_SEQUENCE_NODE))
        return NULL;
    return yaml_walk_calloc(walk, yaml_walk_item_count(seq), spec->size);
}

/* Reports each item of seq whose value for a unique key (a row with same)
 * repeats an earlier item's, at the later one. items holds count items. */
static int report_repeats(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                          const struct yaml_walk_spec *spec, const char *items, size_t count)
{
    int rc = 0;
    for (const struct yaml_walk_key *k = spec->keys; k < spec->keys + spec->n_keys; k++) {
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
            yaml_node_t *repeat =
                yaml_walk_mapping_value(walk, yaml_walk_item(walk, seq, i), k->name);
            yaml_mark_t first =
                yaml_walk_mapping_value(walk, yaml_walk_item(walk, seq, j), k->name)->start_mark;
            char item[YAML_WALK_PATH_LEN], at[YAML_WALK_PATH_LEN];
            yaml_walk_item_path(item, path, i);
            yaml_walk_child_path(at, item, k->name);
            yaml_walk_error_at(walk, repeat->start_mark, at,
                               "duplicate %s %s (first at line %zu, column %zu)", k->name,
                               yaml_walk_quote(repeat).s, first.line + 1, first.column + 1);
            rc = -1;
        }
    }
    return rc;
}

int yaml_walk_items(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                    const struct yaml_walk_spec *spec, void *base, size_t *count)
{
    char *items = base;
    int rc = 0;
    for (size_t i = 0; i < yaml_walk_item_count(seq); i++) {
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_item_path(child, path, i);
        (*count)++;
        rc |= yaml_walk_mapping(walk, yaml_walk_item(walk, seq, i), child, spec,
                                items + i * spec->size);
    }
    return report_repeats(walk, seq, path, spec, items, *count) ? -1 : rc;
}

int yaml_walk_entries(struct yaml_walk *walk, yaml_node_t *map, const char *path,
                      yaml_walk_entry_fn *fn, const struct yaml_walk_key *row, void *ctx)
{
    int rc = 0;
    for (size_t i = 0; i < yaml_walk_pair_count(map); i++) {
        yaml_node_t *key = first_key(walk, map, i, path);
        if (!key) {
            rc = -1;
            continue;
        }
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_child_path(child, path, yaml_walk_text(key));
        rc |= fn(walk, key, yaml_walk_node(walk, map->data.mapping.pairs.start[i].value), child,
                 row, ctx);
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
static int check_range(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                       const struct yaml_walk_range *range, double v, bool duration)
{
    if (v >= range->min && v <= range->max && !(range->min_open && v == range->min))
        return 0;
    char lo[32], hi[32];
    format_bound(range->min, duration, lo, sizeof(lo));
    if (isinf(range->max)) {
        yaml_walk_error_at(walk, n->start_mark, path, "%s is out of range (expected %s %s)",
                           yaml_walk_text(n), range->min_open ? ">" : ">=", lo);
        return -1;
    }
    format_bound(range->max, duration, hi, sizeof(hi));
    yaml_walk_error_at(walk, n->start_mark, path, "%s is out of range (expected %s..%s)",
                       yaml_walk_text(n), lo, hi);
    return -1;
}

int yaml_walk_read_number(struct yaml_walk *walk, yaml_node_t *n, const char *path,
                          const struct yaml_walk_key *key, bool integer, double *out)
{
    const char *what = integer ? "an integer" : "a number";
    const char *s = yaml_walk_scalar(walk, n, path, what);
    if (!s)
        return -1;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        yaml_walk_error_at(walk, n->start_mark, path, "%s is quoted (expected %s without quotes)",
                           yaml_walk_quote(n).s, what);
        return -1;
    }
    if (number_parse(s, n->data.scalar.length, out) || (integer && strpbrk(s, ".eE"))) {
        yaml_walk_error_at(walk, n->start_mark, path, "%s is not %s (expected %s)",
                           yaml_walk_quote(n).s, what,
                           integer ? "digits only, e.g. 2025" : "e.g. 0.85 or 280000");
        return -1;
    }
    return check_range(walk, n, path, &key->range, *out, false);
}

int yaml_walk_parse_number(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                           const struct yaml_walk_key *key, void *field)
{
    return yaml_walk_read_number(walk, value, path, key, false, field);
}

int yaml_walk_parse_int(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    double v;
    if (yaml_walk_read_number(walk, value, path, key, true, &v))
        return -1;
    *(int *)field = (int)v;
    return 0;
}

int yaml_walk_parse_u64(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    double v;
    if (yaml_walk_read_number(walk, value, path, key, true, &v))
        return -1;
    *(uint64_t *)field = (uint64_t)v;
    return 0;
}

int yaml_walk_parse_duration(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                             const struct yaml_walk_key *key, void *field)
{
    const char *s = yaml_walk_scalar(walk, value, path, "a duration");
    if (!s)
        return -1;
    int64_t ms;
    if (duration_parse(s, &ms)) {
        yaml_walk_error_at(walk, value->start_mark, path,
                           "%s is not a duration (expected e.g. 30s, 5m, 1h)",
                           yaml_walk_quote(value).s);
        return -1;
    }
    if (check_range(walk, value, path, &key->range, (double)ms, true))
        return -1;
    *(int64_t *)field = ms;
    return 0;
}

int yaml_walk_parse_date(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    (void)key;
    const char *s = yaml_walk_scalar(walk, value, path, "a date");
    if (!s)
        return -1;
    if (civil_parse_date(s, field)) {
        yaml_walk_error_at(walk, value->start_mark, path, "%s is not a date (expected YYYY-MM-DD)",
                           yaml_walk_quote(value).s);
        return -1;
    }
    return 0;
}

const char *yaml_walk_read_text(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                                yaml_walk_problem_fn *problem)
{
    const char *s = yaml_walk_scalar(walk, n, path, "a string");
    if (!s)
        return NULL;
    const char *wrong = problem ? problem(s) : NULL;
    if (wrong) {
        yaml_walk_error_at(walk, n->start_mark, path, "%s %s", yaml_walk_quote(n).s, wrong);
        return NULL;
    }
    return s;
}

int yaml_walk_parse_text(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    const char *s = yaml_walk_read_text(walk, value, path, key->problem);
    return s ? yaml_walk_store_string(walk, s, field) : -1;
}

int yaml_walk_read_choice(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                          const char *what, const char *const *names, size_t count)
{
    if (!yaml_walk_scalar(walk, n, path, "a string"))
        return -1;
    for (size_t i = 0; i < count; i++)
        if (strcmp(yaml_walk_text(n), names[i]) == 0)
            return (int)i;
    struct yaml_walk_names known = {names, count, yaml_walk_string_at};
    yaml_walk_report_unknown(walk, n, path, what, &known);
    return -1;
}

int yaml_walk_read_bool(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                        bool *out)
{
    static const char *const spellings[] = {
        "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
        "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF",
    };
    const char *s = yaml_walk_scalar(walk, n, path, "true or false");
    if (!s)
        return -1;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        yaml_walk_error_at(walk, n->start_mark, path,
                           "%s is quoted (expected true or false without quotes)",
                           yaml_walk_quote(n).s);
        return -1;
    }
    for (size_t i = 0; i < YAML_WALK_ARRAY_LEN(spellings); i++) {
        if (strcmp(s, spellings[i]) == 0) {
            *out = i < YAML_WALK_ARRAY_LEN(spellings) / 2;
            return 0;
        }
    }
    yaml_walk_error_at(walk, n->start_mark, path, "found %s, expected true or false",
                       yaml_walk_quote(n).s);
    return -1;
}

int yaml_walk_parse_bool(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    (void)key;
    return yaml_walk_read_bool(walk, value, path, field);
}

int yaml_walk_parse_mapping(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                            const struct yaml_walk_key *key, void *field)
{
    return yaml_walk_mapping(walk, value, path, key->spec, field);
}

bool yaml_walk_same_string(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return x && y && strcmp(x, y) == 0;
}

int yaml_walk_read_string_list(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                               const char *what, yaml_walk_problem_fn *problem, size_t max,
                               char ***out, size_t *n)
{
    if (!yaml_walk_expect_type(walk, seq, path, YAML_SEQUENCE_NODE))
        return -1;
    if (yaml_walk_item_count(seq) == 0) {
        yaml_walk_error_at(walk, seq->start_mark, path,
                           "found an empty list, expected at least one %s", what);
        return -1;
    }
    if (!(*out = yaml_walk_calloc(walk, yaml_walk_item_count(seq), sizeof(**out))))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < yaml_walk_item_count(seq); i++) {
        yaml_node_t *item = yaml_walk_item(walk, seq, i);
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_item_path(child, path, i);
        if (i == max) {
            yaml_walk_error_at(walk, item->start_mark, child, "more than %zu %ss", max, what);
            return -1;
        }
        if (!yaml_walk_read_text(walk, item, child, problem)) {
            rc = -1;
            continue;
        }
        size_t j = 0;
        while (j < i && !yaml_walk_same_text(yaml_walk_item(walk, seq, j), item))
            j++;
        if (j < i) {
            yaml_mark_t first = yaml_walk_item(walk, seq, j)->start_mark;
            yaml_walk_error_at(walk, item->start_mark, child,
                               "duplicate %s %s (first at line %zu, column %zu)", what,
                               yaml_walk_quote(item).s, first.line + 1, first.column + 1);
            rc = -1;
            continue;
        }
        if (!((*out)[*n] = yaml_walk_strdup(walk, yaml_walk_text(item))))
            return -1;
        (*n)++;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

/* Reads the whole file (at most YAML_WALK_FILE_MAX_BYTES) into *text. */
static int read_file(struct yaml_walk *walk, char **text, size_t *len)
{
    FILE *f = fopen(walk->file, "rb");
    if (!f) {
        yaml_walk_error_file(walk, "%s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = -1;
    for (;;) {
        if (n == cap) {
            char *grown = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!grown) {
                yaml_walk_out_of_memory(walk);
                break;
            }
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > YAML_WALK_FILE_MAX_BYTES) {
            yaml_walk_error_file(walk, "%s (the limit is %u bytes)", strerror(EFBIG),
                                 YAML_WALK_FILE_MAX_BYTES);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                yaml_walk_error_file(walk, "%s", strerror(errno));
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
static void report_parser(struct yaml_walk *walk, const yaml_parser_t *parser, const char *text)
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
    yaml_walk_error_at(walk, mark, "", "%s%s%s", problem, parser->context ? " " : "",
                       parser->context ? parser->context : "");
}

/* Parses text and, when it holds a document, hands its root to root. */
static void load_text(struct yaml_walk *walk, const char *text, size_t len,
                      yaml_walk_root_fn *root)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    if (!yaml_parser_initialize(&parser)) {
        yaml_walk_out_of_memory(walk);
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        report_parser(walk, &parser, text);
        yaml_parser_delete(&parser);
        return;
    }
    walk->doc = &doc;
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top) {
        yaml_mark_t start = {0};
        yaml_walk_error_at(walk, start, "", "the file holds no YAML document (expected a mapping)");
    } else {
        root(walk, top);
    }
    if (!yaml_parser_load(&parser, &extra)) {
        report_parser(walk, &parser, text);
    } else {
        if (yaml_document_get_root_node(&extra))
            yaml_walk_error_at(walk, extra.start_mark, "",
                               "a second YAML document starts here (expected exactly one)");
        yaml_document_delete(&extra);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    walk->doc = NULL;
}

void yaml_walk_file(struct yaml_walk *walk, yaml_walk_root_fn *root)
{
    char *text;
    size_t len;
    if (read_file(walk, &text, &len) == 0) {
        load_text(walk, text, len, root);
        free(text);
    }
}
