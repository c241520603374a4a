/*
 * yaml_walk: the generic half of ingot's YAML config loaders. It reads a
 * file with libyaml's document API, walks mappings against tables of key
 * rows (one row per key: name, required, parser, field offset, bounds,
 * validator, nested table), and collects every problem as
 * "file:line:column: key.path: message", sorted into file order at the end.
 * Unknown keys get a "did you mean" from the table. config.c (the main
 * config) and web_config.c (--web.config.file) are tables over this.
 *
 * A loader's own parse functions take the same arguments as the ones here,
 * reach their context through walk->user, and report with
 * yaml_walk_error_at(). Every report sets walk->failed, so a loader only
 * needs to look at that flag once at the end.
 */
#ifndef INGOT_YAML_WALK_H
#define INGOT_YAML_WALK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

struct config_errors; /* config.h: the error list every loader hands back */

#define YAML_WALK_PATH_LEN 256  /* a key path in a message: "targets.years[2].growth.zinc" */
#define YAML_WALK_MAX_KEYS 24   /* rows in the largest key table */
#define YAML_WALK_FILE_MAX_BYTES (4u << 20)

#define YAML_WALK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct yaml_walk_pending; /* one error before sorting */

/* One load. Set up with yaml_walk_init(), finish with yaml_walk_finish(). */
struct yaml_walk {
    const char *file;      /* named in every message */
    yaml_document_t *doc;  /* during yaml_walk_file()'s callback */
    void *user;            /* the loader's context, for its parse functions */
    bool failed;           /* set by every report, even one whose text could not be kept */
    struct yaml_walk_pending *errors;
    size_t n_errors, cap_errors;
};

void yaml_walk_init(struct yaml_walk *walk, const char *file, void *user);
/* Sorts the errors into file order and moves their texts into out (which
 * is emptied first; release it with config_errors_free). Returns 0 when
 * nothing was reported, else -1. */
int yaml_walk_finish(struct yaml_walk *walk, struct config_errors *out);

/* Called with the root node of the file's one document. */
typedef void yaml_walk_root_fn(struct yaml_walk *walk, yaml_node_t *root);
/* Reads walk->file (at most YAML_WALK_FILE_MAX_BYTES) and, when it parses
 * to at least one document, calls root with that document's root node; an
 * unreadable file, a parse error, an empty file and a second document are
 * reported. */
void yaml_walk_file(struct yaml_walk *walk, yaml_walk_root_fn *root);

/* ---- Reporting ---------------------------------------------------- */

/* An error at a libyaml mark (0-based, reported 1-based) about path: the
 * message becomes "file:line:column: path: text" ("file:line:column: text"
 * when path is empty). */
void yaml_walk_error_at(struct yaml_walk *walk, yaml_mark_t mark, const char *path,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An error about the whole file: "file: text". */
void yaml_walk_error_file(struct yaml_walk *walk, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void yaml_walk_out_of_memory(struct yaml_walk *walk);

/* calloc of at least one element (so an empty list still gets an array),
 * and strdup; both report running out of memory. */
void *yaml_walk_calloc(struct yaml_walk *walk, size_t n, size_t size);
char *yaml_walk_strdup(struct yaml_walk *walk, const char *s);
/* Replaces the string in *field (a char *) with a copy of s. 0 or -1. */
int yaml_walk_store_string(struct yaml_walk *walk, const char *s, void *field);

/* ---- Nodes -------------------------------------------------------- */

yaml_node_t *yaml_walk_node(const struct yaml_walk *walk, int index);
size_t yaml_walk_pair_count(const yaml_node_t *map);
size_t yaml_walk_item_count(const yaml_node_t *seq);
yaml_node_t *yaml_walk_item(const struct yaml_walk *walk, const yaml_node_t *seq, size_t i);
/* The text of a scalar node (NUL-terminated; may hold NULs, see
 * yaml_walk_scalar). */
const char *yaml_walk_text(const yaml_node_t *scalar);
bool yaml_walk_same_text(const yaml_node_t *a, const yaml_node_t *b);
/* The value of the first key spelled key in the mapping map, or NULL. */
yaml_node_t *yaml_walk_mapping_value(const struct yaml_walk *walk, const yaml_node_t *map,
                                     const char *key);
/* A plain scalar YAML reads as null: empty, ~ or null. */
bool yaml_walk_is_null(const yaml_node_t *n);

/* A scalar's text in double quotes for a message: quotes, backslashes and
 * control bytes escaped, long text cut at a character boundary with "...". */
struct yaml_walk_quoted {
    char s[96];
};
struct yaml_walk_quoted yaml_walk_quote(const yaml_node_t *scalar);

/* Reports that n is not what was expected ("a mapping", "a string", ...). */
void yaml_walk_wrong_type(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                          const char *expected);
/* True when n is a mapping or sequence as type says; reports otherwise. */
bool yaml_walk_expect_type(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                           yaml_node_type_t type);
/* The text of a non-null scalar without NUL bytes, or NULL after reporting
 * that expected was expected. */
const char *yaml_walk_scalar(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                             const char *expected);

/* "path.key" (or "key" at the top) and "path[i]" into a YAML_WALK_PATH_LEN buffer. */
void yaml_walk_child_path(char *buf, const char *path, const char *key);
void yaml_walk_item_path(char *buf, const char *path, size_t i);

/* ---- Suggestions -------------------------------------------------- */

/* A list of known names, read through at(). */
struct yaml_walk_names {
    const void *base;
    size_t n;
    const char *(*at)(const void *base, size_t i);
};
/* at() for an array of strings (const char *const[] or char *[]). */
const char *yaml_walk_string_at(const void *base, size_t i);
/* Reports the scalar n as an unknown what ("key", "metal", ...), suggesting
 * the closest known name (at most 2 edits away) or listing them all. */
void yaml_walk_report_unknown(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                              const char *what, const struct yaml_walk_names *known);

/* ---- Key tables --------------------------------------------------- */

struct yaml_walk_key;
struct yaml_walk_spec;

/* Reads value into field (the row's offset in the mapping's struct).
 * Returns 0, or -1 after reporting. */
typedef int yaml_walk_parse_fn(struct yaml_walk *walk, yaml_node_t *value, const char *path,
                               const struct yaml_walk_key *key, void *field);
/* NULL when s is acceptable, else what is wrong ("has no host (...)"). */
typedef const char *yaml_walk_problem_fn(const char *s);
/* True when two list items' fields hold the same set value. */
typedef bool yaml_walk_same_fn(const void *a, const void *b);

/* Bounds; an upper bound is always inclusive and never combined with an
 * exclusive lower one. */
struct yaml_walk_range {
    double min, max;
    bool min_open;
};
#define YAML_WALK_ABOVE(x) {.min = (x), .max = INFINITY, .min_open = true}
#define YAML_WALK_AT_LEAST(x) {.min = (x), .max = INFINITY}
#define YAML_WALK_BETWEEN(x, y) {.min = (x), .max = (y)}

struct yaml_walk_key {
    const char *name;
    bool required;
    yaml_walk_parse_fn *parse;
    size_t offset;                      /* of the field parse fills */
    struct yaml_walk_range range;       /* numbers, integers, durations */
    yaml_walk_problem_fn *problem;      /* yaml_walk_parse_text: what the string must be */
    const struct yaml_walk_spec *spec;  /* nested mapping, or the items of a list */
    yaml_walk_same_fn *same;            /* set when unique across the items of a list */
    /* Set for a key that is known but refused: its presence is reported at
     * the key as `key "name" is not supported (unsupported)`; parse is not
     * called and may be NULL. Never offered for an unknown key. */
    const char *unsupported;
};

enum yaml_walk_state { YAML_WALK_ABSENT, YAML_WALK_VALID, YAML_WALK_INVALID };

/* What yaml_walk_mapping() found for one row. */
struct yaml_walk_seen {
    yaml_node_t *key, *value; /* NULL when absent */
    enum yaml_walk_state state;
};

struct yaml_walk_spec {
    const struct yaml_walk_key *keys;
    size_t n_keys;
    size_t size; /* of one item, for lists of this kind */
    /* Sets defaults before any key is read. Returns 0, or -1 after reporting. */
    int (*init)(struct yaml_walk *walk, void *obj);
    /* Rules across keys, after every key is read; seen is indexed like keys. */
    int (*check)(struct yaml_walk *walk, yaml_node_t *map, const char *path,
                 const struct yaml_walk_seen *seen, void *obj);
};

/* yaml_walk_mapping() keeps a struct yaml_walk_seen per row on the stack. */
#define YAML_WALK_FITS(keys)                                                                   \
    _Static_assert(YAML_WALK_ARRAY_LEN(keys) <= YAML_WALK_MAX_KEYS,                            \
                   #keys " exceeds YAML_WALK_MAX_KEYS")

/* Reads map into obj by spec: unknown and duplicate keys are reported in
 * document order, then rows run in table order (so a row may rely on the
 * rows above it). Fields of yaml_walk_parse_number rows start NAN.
 * Returns 0, or -1 when anything was reported. */
int yaml_walk_mapping(struct yaml_walk *walk, yaml_node_t *map, const char *path,
                      const struct yaml_walk_spec *spec, void *obj);
/* Checks that seq is a sequence and allocates one zeroed spec item per
 * entry (at least one), or returns NULL after reporting. */
void *yaml_walk_new_items(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                          const struct yaml_walk_spec *spec);
/* Reads each entry of seq into the items at base (from yaml_walk_new_items),
 * counting them in *count as they are set up, then reports items repeating
 * an earlier item's value of a unique key (a row with same). Returns 0, or
 * -1 when anything was reported. */
int yaml_walk_items(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                    const struct yaml_walk_spec *spec, void *base, size_t *count);

/* Reads one entry of a mapping with free-form keys; path names the entry. */
typedef int yaml_walk_entry_fn(struct yaml_walk *walk, yaml_node_t *key, yaml_node_t *value,
                               const char *path, const struct yaml_walk_key *row, void *ctx);
/* Calls fn for each entry of the mapping map whose key is a string not
 * used by an earlier entry (others are reported). The caller has checked
 * that map is a mapping. Returns 0, or -1 when anything was reported. */
int yaml_walk_entries(struct yaml_walk *walk, yaml_node_t *map, const char *path,
                      yaml_walk_entry_fn *fn, const struct yaml_walk_key *row, void *ctx);

/* ---- Values ------------------------------------------------------- */

/* A plain-scalar number (integer: digits only) within key's range into
 * *out. 0, or -1 after reporting. */
int yaml_walk_read_number(struct yaml_walk *walk, yaml_node_t *n, const char *path,
                          const struct yaml_walk_key *key, bool integer, double *out);
/* A string that problem accepts (NULL: any), or NULL after reporting. */
const char *yaml_walk_read_text(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                                yaml_walk_problem_fn *problem);
/* Index of the scalar n in names, or -1 after reporting an unknown what. */
int yaml_walk_read_choice(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                          const char *what, const char *const *names, size_t count);
/* A plain true/false (also True, TRUE, yes, no, on, off in those three
 * spellings, as YAML 1.1 and Go's yaml.v2 read them). 0, or -1. */
int yaml_walk_read_bool(struct yaml_walk *walk, const yaml_node_t *n, const char *path,
                        bool *out);
/* Reads a non-empty sequence of at most max unique strings that problem
 * accepts into *out (copies; *n counts them). Returns 0, or -1. */
int yaml_walk_read_string_list(struct yaml_walk *walk, yaml_node_t *seq, const char *path,
                               const char *what, yaml_walk_problem_fn *problem, size_t max,
                               char ***out, size_t *n);

/* Row parsers. number: double (optional ones start NAN); int: int;
 * u64: uint64_t; duration: int64_t milliseconds; date: int64_t Unix seconds
 * of YYYY-MM-DD 00:00 UTC; text: char * the row's problem accepts; bool:
 * bool; mapping: the row's spec into the field (the field is the struct). */
yaml_walk_parse_fn yaml_walk_parse_number;
yaml_walk_parse_fn yaml_walk_parse_int;
yaml_walk_parse_fn yaml_walk_parse_u64;
yaml_walk_parse_fn yaml_walk_parse_duration;
yaml_walk_parse_fn yaml_walk_parse_date;
yaml_walk_parse_fn yaml_walk_parse_text;
yaml_walk_parse_fn yaml_walk_parse_bool;
yaml_walk_parse_fn yaml_walk_parse_mapping;

/* same for a char * field: both set and equal. */
bool yaml_walk_same_string(const void *a, const void *b);

#endif
