/*
 * config: reads ingotd's YAML file with libyaml's document API into an
 * immutable struct config, checking every value and reporting every problem
 * as "file:line:column: path: message" in one pass, sorted into file order.
 *
 * The file, key by key ([default]; a name is [a-z0-9_]+, at most 64 chars):
 *
 *   web:
 *     listen_address      HOST:PORT, [IPv6]:PORT or :PORT, port 1..65535 [":8467"]
 *   state_dir             directory for snapshots ["/var/lib/ingot"]; a relative
 *                         path is taken from the config file's directory
 *   snapshot:
 *     interval            duration 1s..1d [1m]: how often the state is written
 *                         to state_dir when it changed
 *     keep                integer 1..1000 [3]: snapshot files kept
 *   evaluation_interval   duration 1s..1d [1m]
 *   plant_stale_after     no longer supported: see feeds[].stale_after
 *   metals                required non-empty list of unique names, at most
 *                         CONFIG_MAX_METALS, kept in file order
 *   feeds                 list (may be empty) of mappings:
 *     name                required name, unique among feeds
 *     url                 required: http:// or https:// with a host, or
 *                         file:// with an absolute path (file:///path)
 *     format              required: json | csv | ingot-snapshot
 *     interval            duration >= 1s [5m]
 *     timeout             duration > 0 and <= interval [min(30s, interval)]
 *     max_body_bytes      integer 1..1073741824 [8388608]
 *     connect_timeout     duration > 0 and <= timeout [min(10s, timeout)]
 *     min_backoff         duration 100ms..1d [1s]: first retry after a failure
 *     max_backoff         duration >= min_backoff, <= 7d [5m]: cap of the doubling
 *     stale_after         duration 1s..3650d [3 x interval]: its plants are stale
 *                         when no feed that may write them succeeded this long
 *     plants              required non-empty list of unique plant ids
 *                         [a-z0-9][a-z0-9_-]{0,63}, kept sorted
 *     tls_config:         ca_file, cert_file + key_file (both or neither),
 *                         server_name, insecure_skip_verify (bool) [false]
 *     bearer_token_file   path; not with basic_auth
 *     basic_auth:         username (required), password_file (required path)
 *     headers             mapping of HTTP header name -> value (printable
 *                         ASCII); not Authorization, Host, Content-Length
 *     mapping:            the plant's own format (not for ingot-snapshot):
 *       records           json: required pointer to the records array ("" root)
 *       delimiter         csv: one character [","]
 *       decimal_comma     csv: bool [false]
 *       plant, metal      required: {pointer|column: ...} or {value: constant}
 *       period            required: {pointer|column: ...}
 *       production_tonnes, co2_tonnes, energy_mwh, waste_tonnes,
 *       waste_recycled_tonnes   {pointer|column: ..., unit: ...}; at least one
 *   push_sources          list (may be empty) of mappings:
 *     name                required name, unique among feeds and push sources
 *     token_file          required path: the bearer token the source presents
 *     plants              required, as for feeds
 *     stale_after         duration 1s..3650d [1d]
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
 *   remote_write          list (may be empty) of Prometheus remote write receivers:
 *     url                 required: http:// or https:// with a host
 *     name                name, the remote label [the URL's HOST[:PORT]/PATH];
 *                         unique among remote writes
 *     timeout             duration 1ms..1h [30s]: one request
 *     tls_config, bearer_token_file, basic_auth, headers   as for feeds
 *     external_labels     mapping label name [a-zA-Z_][a-zA-Z0-9_]* (not __*) ->
 *                         non-empty value, added to every series
 *     batch_max_samples   integer 1..100000 [2000]: samples per request
 *     batch_deadline      duration 10ms..1h [5s]: longest wait for a batch to fill
 *     queue_max_samples   integer 1..100000000, >= batch_max_samples [100000]:
 *                         samples waiting; beyond it the oldest are dropped
 *     min_backoff         duration 1ms..1h [30ms]: first retry
 *     max_backoff         duration >= min_backoff, <= 1d [5s]: cap of the doubling
 *     retry_on_http_429   bool [false]: retry a 429 (honouring Retry-After)
 *                         instead of dropping its batch
 *
 * Numbers are plain (unquoted) decimal scalars: optional sign, digits,
 * optional fraction and exponent; integers have neither. Metal keys must be
 * configured metals. An absent optional number is NAN. Strings, durations and
 * dates may be quoted. A null value (empty, ~, null) is never accepted.
 *
 * How: each mapping kind is a table of struct yaml_walk_key rows (name,
 * required, parser, field offset, bounds), walked by yaml_walk.c, which
 * finds unknown and duplicate keys in document order, then runs the rows in
 * table order, so a row may rely on the rows above it: metals are known
 * before targets are read, wherever they sit in the file. This file holds
 * what is particular to ingotd's config: the tables, the string rules, the
 * per-metal values and the checks across keys.
 */
#include "config.h"

#include "civil_time.h"
#include "duration.h"
#include "log.h"
#include "yaml_walk.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_LEN(a) YAML_WALK_ARRAY_LEN(a)

#define NAME_MAX_LEN 64

#define SECOND_MS 1000LL
#define DEFAULT_EVALUATION_INTERVAL_MS (60 * SECOND_MS)
#define DEFAULT_FEED_INTERVAL_MS (5 * 60 * SECOND_MS)
#define DEFAULT_FEED_TIMEOUT_MS (30 * SECOND_MS)
#define DEFAULT_MAX_BODY_BYTES (8u << 20)
#define DEFAULT_CONNECT_TIMEOUT_MS (10 * SECOND_MS)
#define DEFAULT_MIN_BACKOFF_MS (1 * SECOND_MS)
#define DEFAULT_MAX_BACKOFF_MS (5 * 60 * SECOND_MS)
#define DEFAULT_PUSH_STALE_AFTER_MS (86400 * SECOND_MS)
#define DEFAULT_RW_TIMEOUT_MS (30 * SECOND_MS)
#define DEFAULT_RW_BATCH_MAX_SAMPLES 2000
#define DEFAULT_RW_BATCH_DEADLINE_MS (5 * SECOND_MS)
#define DEFAULT_RW_QUEUE_MAX_SAMPLES 100000
#define DEFAULT_RW_MIN_BACKOFF_MS 30
#define DEFAULT_RW_MAX_BACKOFF_MS (5 * SECOND_MS)

static const char NAME_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
static const char PLANT_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
static const char HOST_CHARS[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

static const char *const format_names[] = {
    [FEED_FORMAT_JSON] = "json",
    [FEED_FORMAT_CSV] = "csv",
    [FEED_FORMAT_INGOT_SNAPSHOT] = "ingot-snapshot",
};

static const char *const measure_names[] = {
    [INITIATIVE_CAPACITY_INCREASE_RATIO] = "capacity_increase_ratio",
    [INITIATIVE_GREEN_PLANTS_OPERATIONAL] = "green_plants_operational",
    [INITIATIVE_WORKERS_CERTIFIED] = "workers_certified",
};

/* ------------------------------------------------------------------ */
/* The loader's context (walk->user) and the tables' short names       */

struct loader {
    struct config *cfg; /* being built */
    bool metals_ok;     /* metals read without error: metal keys can be checked */
};

static struct loader *loader_of(const struct yaml_walk *w)
{
    return w->user;
}

/* The key tables below name yaml_walk's row parsers and bounds by these. */
#define parse_number yaml_walk_parse_number
#define parse_int yaml_walk_parse_int
#define parse_u64 yaml_walk_parse_u64
#define parse_duration yaml_walk_parse_duration
#define parse_date yaml_walk_parse_date
#define parse_text yaml_walk_parse_text
#define parse_mapping yaml_walk_parse_mapping
#define same_name yaml_walk_same_string
#define ABOVE(x) YAML_WALK_ABOVE(x)
#define AT_LEAST(x) YAML_WALK_AT_LEAST(x)
#define BETWEEN(x, y) YAML_WALK_BETWEEN(x, y)
#define FITS_SEEN(keys) YAML_WALK_FITS(keys)

/* ------------------------------------------------------------------ */
/* Choices                                                             */

static int parse_format(struct yaml_walk *w, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    int i =
        yaml_walk_read_choice(w, value, path, key->name, format_names, ARRAY_LEN(format_names));
    if (i < 0)
        return -1;
    *(enum feed_format *)field = (enum feed_format)i;
    return 0;
}

static int parse_measure(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    int i =
        yaml_walk_read_choice(w, value, path, key->name, measure_names, ARRAY_LEN(measure_names));
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

static int parse_metals(struct yaml_walk *w, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    (void)key;
    struct config *cfg = field;
    int rc = yaml_walk_read_string_list(w, value, path, "metal", name_problem, CONFIG_MAX_METALS,
                                        &cfg->metals, &cfg->n_metals);
    loader_of(w)->metals_ok = rc == 0;
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_plants(struct yaml_walk *w, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, void *field)
{
    (void)key;
    struct config_feed *feed = field;
    int rc = yaml_walk_read_string_list(w, value, path, "plant id", plant_problem, SIZE_MAX,
                                        &feed->plants, &feed->n_plants);
    if (feed->n_plants)
        qsort(feed->plants, feed->n_plants, sizeof(*feed->plants), compare_strings);
    return rc;
}

/* One "metal: number" entry into the per-metal array ctx. */
static int metal_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value, const char *path,
                       const struct yaml_walk_key *row, void *ctx)
{
    const struct loader *ld = loader_of(w);
    double v;
    int rc = yaml_walk_read_number(w, value, path, row, false, &v);
    int metal = config_metal_index(ld->cfg, yaml_walk_text(key));
    if (metal < 0) {
        /* Without a clean metals list the name may well be right. */
        if (ld->metals_ok) {
            struct yaml_walk_names known = {ld->cfg->metals, ld->cfg->n_metals,
                                            yaml_walk_string_at};
            yaml_walk_report_unknown(w, key, path, "metal", &known);
        }
        return -1;
    }
    if (rc == 0)
        ((double *)ctx)[metal] = v;
    return rc;
}

/* A mapping metal -> number into the double[n_metals] *field points to. */
static int parse_metal_map(struct yaml_walk *w, yaml_node_t *value, const char *path,
                           const struct yaml_walk_key *key, void *field)
{
    if (!yaml_walk_expect_type(w, value, path, YAML_MAPPING_NODE))
        return -1;
    return yaml_walk_entries(w, value, path, metal_entry, key, *(double **)field);
}

/* ------------------------------------------------------------------ */
/* Mapping kinds                                                       */

/* Years are 1..9999; 0 means not read. */
static bool same_year(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x != 0 && x == y;
}

/* --- paths, auth, headers --- */

/* RFC 9110 token characters. */
static const char TOKEN_CHARS[] = "!#$%&'*+-.^_`|~0123456789"
                                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static const char *header_name_problem(const char *s)
{
    static const char *const reserved[] = {"authorization", "host", "content-length",
                                           "transfer-encoding", "connection"};
    if (s[0] == '\0' || strspn(s, TOKEN_CHARS) != strlen(s))
        return "is not an HTTP header name";
    for (size_t i = 0; i < ARRAY_LEN(reserved); i++)
        if (strcasecmp(s, reserved[i]) == 0)
            return "is set by ingotd itself (use bearer_token_file or basic_auth for "
                   "Authorization)";
    return NULL;
}

static const char *header_value_problem(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < ' ' && *p != '\t') || *p >= 0x7F)
            return "contains a control character or a character outside printable ASCII";
    return NULL;
}

static const char *host_problem(const char *s)
{
    return s[0] != '\0' && strspn(s, HOST_CHARS) == strlen(s) ? NULL : "is not a host name";
}

static const char *path_problem(const char *s)
{
    return s[0] != '\0' ? NULL : "is empty (expected a path)";
}

/* A file or directory path; a relative one is taken from the config file's
 * directory, as Prometheus does with the paths in its config. */
static int parse_path(struct yaml_walk *w, yaml_node_t *value, const char *path,
                      const struct yaml_walk_key *key, void *field)
{
    char **out = field;
    if (parse_text(w, value, path, key, field) != 0)
        return -1;
    if ((*out)[0] == '/')
        return 0;
    const char *slash = strrchr(w->file, '/');
    char *resolved = NULL;
    if (asprintf(&resolved, "%.*s/%s", slash ? (int)(slash - w->file) : 1,
                 slash ? w->file : ".", *out) < 0) {
        yaml_walk_out_of_memory(w);
        return -1;
    }
    free(*out);
    *out = resolved;
    return 0;
}

static const struct yaml_walk_key tls_keys[] = {
    {.name = "ca_file", .parse = parse_path, .offset = offsetof(struct config_tls, ca_file),
     .problem = path_problem},
    {.name = "cert_file", .parse = parse_path, .offset = offsetof(struct config_tls, cert_file),
     .problem = path_problem},
    {.name = "key_file", .parse = parse_path, .offset = offsetof(struct config_tls, key_file),
     .problem = path_problem},
    {.name = "server_name", .parse = parse_text,
     .offset = offsetof(struct config_tls, server_name), .problem = host_problem},
    {.name = "insecure_skip_verify", .parse = yaml_walk_parse_bool,
     .offset = offsetof(struct config_tls, insecure_skip_verify)},
};
FITS_SEEN(tls_keys);

/* A client certificate needs its key, and the other way round. */
static int tls_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                     const struct yaml_walk_seen *seen, void *obj)
{
    (void)obj;
    bool cert = seen[1].state != YAML_WALK_ABSENT, key = seen[2].state != YAML_WALK_ABSENT;
    if (cert == key)
        return 0;
    yaml_walk_error_at(w, map->start_mark, path, "%s is set without %s (expected both or neither)",
                       cert ? "cert_file" : "key_file", cert ? "key_file" : "cert_file");
    return -1;
}

static const struct yaml_walk_spec tls_spec = {
    .keys = tls_keys, .n_keys = ARRAY_LEN(tls_keys), .check = tls_check,
};

static const struct yaml_walk_key basic_auth_keys[] = {
    {.name = "username", .required = true, .parse = parse_text,
     .offset = offsetof(struct config_basic_auth, username), .problem = header_value_problem},
    {.name = "password_file", .required = true, .parse = parse_path,
     .offset = offsetof(struct config_basic_auth, password_file), .problem = path_problem},
};
FITS_SEEN(basic_auth_keys);

static const struct yaml_walk_spec basic_auth_spec = {
    .keys = basic_auth_keys, .n_keys = ARRAY_LEN(basic_auth_keys),
};

/* Where header_entry appends: a feed's or a remote write's headers. */
struct header_list {
    struct config_header **items;
    size_t *count;
};

/* One "Name: value" of headers into the struct header_list ctx. */
static int header_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value,
                        const char *path, const struct yaml_walk_key *row, void *ctx)
{
    (void)row;
    struct header_list *list = ctx;
    const char *name = yaml_walk_text(key);
    if (header_name_problem(name)) {
        yaml_walk_error_at(w, key->start_mark, path, "%s %s", yaml_walk_quote(key).s,
                           header_name_problem(name));
        return -1;
    }
    const char *text = yaml_walk_read_text(w, value, path, header_value_problem);
    if (!text)
        return -1;
    struct config_header *grown =
        realloc(*list->items, (*list->count + 1) * sizeof(**list->items));
    if (!grown) {
        yaml_walk_out_of_memory(w);
        return -1;
    }
    *list->items = grown;
    struct config_header *h = &grown[*list->count];
    *h = (struct config_header){yaml_walk_strdup(w, name), yaml_walk_strdup(w, text)};
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return -1;
    }
    (*list->count)++;
    return 0;
}

static int read_headers(struct yaml_walk *w, yaml_node_t *value, const char *path,
                        const struct yaml_walk_key *key, struct header_list list)
{
    if (!yaml_walk_expect_type(w, value, path, YAML_MAPPING_NODE))
        return -1;
    return yaml_walk_entries(w, value, path, header_entry, key, &list);
}

/* headers: into the feed itself (the field is the struct config_feed). */
static int parse_headers(struct yaml_walk *w, yaml_node_t *value, const char *path,
                         const struct yaml_walk_key *key, void *field)
{
    struct config_feed *feed = field;
    return read_headers(w, value, path, key,
                        (struct header_list){&feed->headers, &feed->n_headers});
}

/* bearer_token_file and basic_auth, of a feed or a remote write: one kind. */
static int auth_check(struct yaml_walk *w, const char *path, const struct yaml_walk_seen *bearer,
                      const struct yaml_walk_seen *basic_auth)
{
    if (bearer->state == YAML_WALK_ABSENT || basic_auth->state == YAML_WALK_ABSENT)
        return 0;
    yaml_walk_error_at(w, basic_auth->key->start_mark, path,
                       "bearer_token_file and basic_auth are both set (expected one)");
    return -1;
}

/* --- mapping: a plant's own format --- */

static const char *const mapping_slot_names[MAPPING_SLOT_COUNT] = {
    [MAPPING_PLANT] = "plant",
    [MAPPING_METAL] = "metal",
    [MAPPING_PERIOD] = "period",
    [MAPPING_QUANTITY + RECORD_PRODUCTION_TONNES] = "production_tonnes",
    [MAPPING_QUANTITY + RECORD_CO2_TONNES] = "co2_tonnes",
    [MAPPING_QUANTITY + RECORD_ENERGY_MWH] = "energy_mwh",
    [MAPPING_QUANTITY + RECORD_WASTE_TONNES] = "waste_tonnes",
    [MAPPING_QUANTITY + RECORD_WASTE_RECYCLED_TONNES] = "waste_recycled_tonnes",
};

/* RFC 6901: "" or "/" followed by reference tokens, "~" only as ~0 or ~1. */
static const char *pointer_problem(const char *s)
{
    if (s[0] != '\0' && s[0] != '/')
        return "is not a JSON Pointer (expected \"\" or a path starting with /)";
    for (const char *t = strchr(s, '~'); t; t = strchr(t + 1, '~'))
        if (t[1] != '0' && t[1] != '1')
            return "has a ~ that is not ~0 or ~1 (RFC 6901)";
    return NULL;
}

static const char *column_problem(const char *s)
{
    return s[0] != '\0' ? NULL : "is empty (expected a column name)";
}

enum { MAP_FIELD_POINTER, MAP_FIELD_COLUMN, MAP_FIELD_VALUE, MAP_FIELD_UNIT };

static const struct yaml_walk_key mapping_field_keys[] = {
    [MAP_FIELD_POINTER] = {.name = "pointer", .parse = parse_text,
                           .offset = offsetof(struct config_mapping_field, text),
                           .problem = pointer_problem},
    [MAP_FIELD_COLUMN] = {.name = "column", .parse = parse_text,
                          .offset = offsetof(struct config_mapping_field, text),
                          .problem = column_problem},
    [MAP_FIELD_VALUE] = {.name = "value", .parse = parse_text,
                         .offset = offsetof(struct config_mapping_field, text),
                         .problem = column_problem},
    [MAP_FIELD_UNIT] = {.name = "unit", .parse = parse_text,
                        .offset = offsetof(struct config_mapping_field, unit)},
};
FITS_SEEN(mapping_field_keys);

/* Exactly one of pointer, column and value says where the field is. */
static int mapping_field_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                               const struct yaml_walk_seen *seen, void *obj)
{
    struct config_mapping_field *f = obj;
    int sources = 0;
    for (int k = MAP_FIELD_POINTER; k <= MAP_FIELD_VALUE; k++) {
        if (seen[k].state != YAML_WALK_ABSENT) {
            sources++;
            f->source = k == MAP_FIELD_POINTER  ? MAPPING_POINTER
                        : k == MAP_FIELD_COLUMN ? MAPPING_COLUMN
                                                : MAPPING_VALUE;
        }
    }
    if (sources == 1)
        return 0;
    yaml_walk_error_at(w, map->start_mark, path,
                       "%s (expected exactly one of pointer, column and value)",
                       sources ? "more than one source" : "no source");
    return -1;
}

static int mapping_field_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    ((struct config_mapping_field *)obj)->scale = 1;
    return 0;
}

static const struct yaml_walk_spec mapping_field_spec = {
    .keys = mapping_field_keys, .n_keys = ARRAY_LEN(mapping_field_keys),
    .init = mapping_field_init, .check = mapping_field_check,
};

static const char *delimiter_problem(const char *s)
{
    return strlen(s) == 1 && s[0] != '"' && s[0] != '\n' && s[0] != '\r'
               ? NULL
               : "is not one character other than a quote or a line break";
}

static int parse_delimiter(struct yaml_walk *w, yaml_node_t *value, const char *path,
                           const struct yaml_walk_key *key, void *field)
{
    (void)key;
    const char *text = yaml_walk_read_text(w, value, path, delimiter_problem);
    if (!text)
        return -1;
    *(char *)field = text[0];
    return 0;
}

enum { MAP_RECORDS, MAP_DELIMITER, MAP_DECIMAL_COMMA, MAP_FIELDS };

/* The row of a mapped field; name is mapping_slot_names[slot], spelt out
 * because an initialiser cannot read that array. */
#define MAPPING_FIELD_KEY(slot, key)                                                           \
    {.name = key, .parse = parse_mapping, .spec = &mapping_field_spec,                        \
     .offset = offsetof(struct config_mapping, fields) +                                       \
               (slot) * sizeof(struct config_mapping_field)}

static const struct yaml_walk_key mapping_keys[] = {
    [MAP_RECORDS] = {.name = "records", .parse = parse_text,
                     .offset = offsetof(struct config_mapping, records),
                     .problem = pointer_problem},
    [MAP_DELIMITER] = {.name = "delimiter", .parse = parse_delimiter,
                       .offset = offsetof(struct config_mapping, delimiter)},
    [MAP_DECIMAL_COMMA] = {.name = "decimal_comma", .parse = yaml_walk_parse_bool,
                           .offset = offsetof(struct config_mapping, decimal_comma)},
    MAPPING_FIELD_KEY(MAPPING_PLANT, "plant"),
    MAPPING_FIELD_KEY(MAPPING_METAL, "metal"),
    MAPPING_FIELD_KEY(MAPPING_PERIOD, "period"),
    MAPPING_FIELD_KEY(MAPPING_QUANTITY + RECORD_PRODUCTION_TONNES, "production_tonnes"),
    MAPPING_FIELD_KEY(MAPPING_QUANTITY + RECORD_CO2_TONNES, "co2_tonnes"),
    MAPPING_FIELD_KEY(MAPPING_QUANTITY + RECORD_ENERGY_MWH, "energy_mwh"),
    MAPPING_FIELD_KEY(MAPPING_QUANTITY + RECORD_WASTE_TONNES, "waste_tonnes"),
    MAPPING_FIELD_KEY(MAPPING_QUANTITY + RECORD_WASTE_RECYCLED_TONNES, "waste_recycled_tonnes"),
};
FITS_SEEN(mapping_keys);
_Static_assert(ARRAY_LEN(mapping_keys) == MAP_FIELDS + MAPPING_SLOT_COUNT,
               "a row per mapping slot");

/* The rules of a mapping that do not depend on the feed's format: plant,
 * metal and period are mapped, at least one quantity is, constants only for
 * plant and metal, units known for their field. */
static int mapping_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                         const struct yaml_walk_seen *seen, void *obj)
{
    struct config_mapping *m = obj;
    int rc = 0, quantities = 0;
    char child[YAML_WALK_PATH_LEN];
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        const struct yaml_walk_seen *at = &seen[MAP_FIELDS + slot];
        struct config_mapping_field *f = &m->fields[slot];
        if (at->state != YAML_WALK_VALID)
            continue;
        yaml_walk_child_path(child, path, mapping_slot_names[slot]);
        if (slot >= MAPPING_QUANTITY)
            quantities++;
        if (f->source == MAPPING_VALUE && slot != MAPPING_PLANT && slot != MAPPING_METAL) {
            yaml_walk_error_at(w, at->value->start_mark, child,
                               "a constant value is only for plant and metal");
            rc = -1;
        }
        if (f->unit && slot < MAPPING_QUANTITY) {
            yaml_walk_error_at(w, at->value->start_mark, child, "a unit is only for quantities");
            rc = -1;
        } else if (f->unit && !(f->scale = config_unit_scale(slot - MAPPING_QUANTITY, f->unit))) {
            yaml_walk_error_at(w, at->value->start_mark, child,
                               "unknown unit \"%s\" (expected one of: %s)", f->unit,
                               slot == MAPPING_QUANTITY + RECORD_ENERGY_MWH ? "MWh, kWh, GWh"
                                                                            : "t, kg, kt, Mt");
            rc = -1;
        }
    }
    for (int slot = MAPPING_PLANT; slot <= MAPPING_PERIOD; slot++) {
        if (seen[MAP_FIELDS + slot].state == YAML_WALK_ABSENT) {
            yaml_walk_error_at(w, map->start_mark, path, "missing required key \"%s\"",
                               mapping_slot_names[slot]);
            rc = -1;
        }
    }
    if (quantities == 0 && rc == 0) {
        yaml_walk_error_at(w, map->start_mark, path,
                           "maps no quantity (expected at least one of production_tonnes, "
                           "co2_tonnes, energy_mwh, waste_tonnes, waste_recycled_tonnes)");
        rc = -1;
    }
    return rc;
}

static int mapping_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    struct config_mapping *m = obj;
    m->delimiter = ',';
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++)
        m->fields[slot].scale = 1;
    return 0;
}

static const struct yaml_walk_spec mapping_spec = {
    .keys = mapping_keys, .n_keys = ARRAY_LEN(mapping_keys), .init = mapping_init,
    .check = mapping_check,
};

/* mapping: a new struct config_mapping into the feed's *field. */
static int parse_feed_mapping(struct yaml_walk *w, yaml_node_t *value, const char *path,
                              const struct yaml_walk_key *key, void *field)
{
    struct config_mapping **out = field;
    if (!(*out = yaml_walk_calloc(w, 1, sizeof(**out))))
        return -1;
    return parse_mapping(w, value, path, key, *out);
}

/* --- feeds --- */

enum { FEED_NAME, FEED_URL, FEED_FORMAT, FEED_INTERVAL, FEED_TIMEOUT, FEED_CONNECT_TIMEOUT,
       FEED_MIN_BACKOFF, FEED_MAX_BACKOFF, FEED_STALE_AFTER, FEED_MAX_BODY, FEED_PLANTS,
       FEED_TLS, FEED_BEARER, FEED_BASIC_AUTH, FEED_HEADERS, FEED_MAPPING, FEED_KEY_COUNT };

static const struct yaml_walk_key feed_keys[] = {
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
    [FEED_CONNECT_TIMEOUT] = {.name = "connect_timeout", .parse = parse_duration,
                              .offset = offsetof(struct config_feed, connect_timeout_ms),
                              .range = ABOVE(0)},
    [FEED_MIN_BACKOFF] = {.name = "min_backoff", .parse = parse_duration,
                          .offset = offsetof(struct config_feed, min_backoff_ms),
                          .range = BETWEEN(100, 86400000)},
    [FEED_MAX_BACKOFF] = {.name = "max_backoff", .parse = parse_duration,
                          .offset = offsetof(struct config_feed, max_backoff_ms),
                          .range = BETWEEN(100, 7 * 86400000.0)},
    [FEED_STALE_AFTER] = {.name = "stale_after", .parse = parse_duration,
                          .offset = offsetof(struct config_feed, stale_after_ms),
                          .range = BETWEEN(1000, 3650.0 * 86400000)},
    [FEED_MAX_BODY] = {.name = "max_body_bytes", .parse = parse_u64,
                       .offset = offsetof(struct config_feed, max_body_bytes),
                       .range = BETWEEN(1, 1u << 30)},
    [FEED_PLANTS] = {.name = "plants", .required = true, .parse = parse_plants},
    [FEED_TLS] = {.name = "tls_config", .parse = parse_mapping, .spec = &tls_spec,
                  .offset = offsetof(struct config_feed, tls)},
    [FEED_BEARER] = {.name = "bearer_token_file", .parse = parse_path,
                     .offset = offsetof(struct config_feed, bearer_token_file),
                     .problem = path_problem},
    [FEED_BASIC_AUTH] = {.name = "basic_auth", .parse = parse_mapping, .spec = &basic_auth_spec,
                         .offset = offsetof(struct config_feed, basic_auth)},
    [FEED_HEADERS] = {.name = "headers", .parse = parse_headers},
    [FEED_MAPPING] = {.name = "mapping", .parse = parse_feed_mapping, .spec = &mapping_spec,
                      .offset = offsetof(struct config_feed, mapping)},
};
_Static_assert(ARRAY_LEN(feed_keys) == FEED_KEY_COUNT, "a row per FEED_ index");
FITS_SEEN(feed_keys);

static int feed_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    struct config_feed *feed = obj;
    feed->interval_ms = DEFAULT_FEED_INTERVAL_MS;
    feed->max_body_bytes = DEFAULT_MAX_BODY_BYTES;
    feed->min_backoff_ms = DEFAULT_MIN_BACKOFF_MS;
    feed->max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
    return 0;
}

/* The mapping's keys that the feed's format reads: pointers and "records"
 * for JSON, columns, "delimiter" and "decimal_comma" for CSV; none for
 * ingot-snapshot. Reported at the mapping. */
static int mapping_fits_format(struct yaml_walk *w, const char *path,
                               const struct yaml_walk_seen *at, const struct config_feed *feed)
{
    char child[YAML_WALK_PATH_LEN];
    yaml_walk_child_path(child, path, "mapping");
    const struct config_mapping *m = feed->mapping;
    const char *format = format_names[feed->format];
    if (feed->format == FEED_FORMAT_INGOT_SNAPSHOT) {
        yaml_walk_error_at(w, at->key->start_mark, path,
                           "mapping is not for format ingot-snapshot (its schema is fixed)");
        return -1;
    }
    bool json = feed->format == FEED_FORMAT_JSON;
    enum mapping_source foreign = json ? MAPPING_COLUMN : MAPPING_POINTER;
    int rc = 0;
    for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
        if (m->fields[slot].source == foreign) {
            yaml_walk_error_at(w, at->value->start_mark, child,
                               "%s: a %s is not for format %s (expected %s)",
                               mapping_slot_names[slot], json ? "column" : "pointer", format,
                               json ? "pointer or value" : "column or value");
            rc = -1;
        }
    }
    if (json && !m->records) {
        yaml_walk_error_at(w, at->value->start_mark, child,
                           "missing required key \"records\" (a JSON Pointer to the records)");
        rc = -1;
    }
    if (!json && m->records) {
        yaml_walk_error_at(w, at->value->start_mark, child, "records is not for format csv");
        rc = -1;
    }
    if (json && (m->delimiter != ',' || m->decimal_comma)) {
        yaml_walk_error_at(w, at->value->start_mark, child,
                           "delimiter and decimal_comma are not for format json");
        rc = -1;
    }
    return rc;
}

/* Reports at the value of row that it must be at most what "limit" is. */
static int feed_not_above(struct yaml_walk *w, const char *path, const struct yaml_walk_seen *row,
                          const char *name, const char *limit_name, int64_t limit_ms)
{
    char child[YAML_WALK_PATH_LEN], limit[32];
    yaml_walk_child_path(child, path, name);
    duration_format(limit_ms, limit, sizeof(limit));
    yaml_walk_error_at(w, row->value->start_mark, child,
                       "%s is longer than the %s %s (expected at most the %s)",
                       yaml_walk_text(row->value), limit_name, limit, limit_name);
    return -1;
}

/* The timeout defaults to min(30s, interval) and may not exceed the
 * interval, the connect timeout to min(10s, timeout); stale_after to three
 * intervals. Auth is one kind; a mapping fits the format. */
static int feed_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                      const struct yaml_walk_seen *seen, void *obj)
{
    struct config_feed *feed = obj;
    int rc = 0;
    bool interval_ok = seen[FEED_INTERVAL].state != YAML_WALK_INVALID;
    if (seen[FEED_TIMEOUT].state == YAML_WALK_ABSENT)
        feed->timeout_ms = feed->interval_ms < DEFAULT_FEED_TIMEOUT_MS ? feed->interval_ms
                                                                       : DEFAULT_FEED_TIMEOUT_MS;
    else if (seen[FEED_TIMEOUT].state == YAML_WALK_VALID && interval_ok &&
             feed->timeout_ms > feed->interval_ms)
        rc = feed_not_above(w, path, &seen[FEED_TIMEOUT], "timeout", "interval",
                            feed->interval_ms);
    if (seen[FEED_CONNECT_TIMEOUT].state == YAML_WALK_ABSENT)
        feed->connect_timeout_ms = feed->timeout_ms < DEFAULT_CONNECT_TIMEOUT_MS
                                       ? feed->timeout_ms
                                       : DEFAULT_CONNECT_TIMEOUT_MS;
    else if (seen[FEED_CONNECT_TIMEOUT].state == YAML_WALK_VALID &&
             seen[FEED_TIMEOUT].state != YAML_WALK_INVALID &&
             feed->connect_timeout_ms > feed->timeout_ms)
        rc = feed_not_above(w, path, &seen[FEED_CONNECT_TIMEOUT], "connect_timeout", "timeout",
                            feed->timeout_ms);
    if (seen[FEED_MAX_BACKOFF].state == YAML_WALK_VALID &&
        seen[FEED_MIN_BACKOFF].state != YAML_WALK_INVALID &&
        feed->max_backoff_ms < feed->min_backoff_ms) {
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_child_path(child, path, "max_backoff");
        yaml_walk_error_at(w, seen[FEED_MAX_BACKOFF].value->start_mark, child,
                           "%s is shorter than min_backoff (expected at least min_backoff)",
                           yaml_walk_text(seen[FEED_MAX_BACKOFF].value));
        rc = -1;
    }
    if (seen[FEED_STALE_AFTER].state == YAML_WALK_ABSENT)
        feed->stale_after_ms = 3 * feed->interval_ms;
    if (auth_check(w, path, &seen[FEED_BEARER], &seen[FEED_BASIC_AUTH]) != 0)
        rc = -1;
    if (seen[FEED_MAPPING].state == YAML_WALK_VALID && seen[FEED_FORMAT].state == YAML_WALK_VALID)
        rc |= mapping_fits_format(w, path, &seen[FEED_MAPPING], feed);
    (void)map;
    return rc;
}

static const struct yaml_walk_spec feed_spec = {
    .keys = feed_keys, .n_keys = ARRAY_LEN(feed_keys), .size = sizeof(struct config_feed),
    .init = feed_init, .check = feed_check,
};

/* --- push sources --- */

enum { PUSH_NAME, PUSH_TOKEN_FILE, PUSH_PLANTS, PUSH_STALE_AFTER, PUSH_KEY_COUNT };

static const struct yaml_walk_key push_keys[] = {
    [PUSH_NAME] = {.name = "name", .required = true, .parse = parse_text,
                   .offset = offsetof(struct config_feed, name), .problem = name_problem,
                   .same = same_name},
    [PUSH_TOKEN_FILE] = {.name = "token_file", .required = true, .parse = parse_path,
                         .offset = offsetof(struct config_feed, token_file),
                         .problem = path_problem},
    [PUSH_PLANTS] = {.name = "plants", .required = true, .parse = parse_plants},
    [PUSH_STALE_AFTER] = {.name = "stale_after", .parse = parse_duration,
                          .offset = offsetof(struct config_feed, stale_after_ms),
                          .range = BETWEEN(1000, 3650.0 * 86400000)},
};
_Static_assert(ARRAY_LEN(push_keys) == PUSH_KEY_COUNT, "a row per PUSH_ index");
FITS_SEEN(push_keys);

static int push_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    struct config_feed *source = obj;
    source->format = FEED_FORMAT_JSON;
    source->stale_after_ms = DEFAULT_PUSH_STALE_AFTER_MS;
    source->max_body_bytes = DEFAULT_MAX_BODY_BYTES;
    return 0;
}

static const struct yaml_walk_spec push_spec = {
    .keys = push_keys, .n_keys = ARRAY_LEN(push_keys), .size = sizeof(struct config_feed),
    .init = push_init,
};

static int parse_push_sources(struct yaml_walk *w, yaml_node_t *value, const char *path,
                              const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    cfg->push_sources = yaml_walk_new_items(w, value, path, key->spec);
    return cfg->push_sources ? yaml_walk_items(w, value, path, key->spec, cfg->push_sources,
                                               &cfg->n_push_sources)
                             : -1;
}

static int parse_feeds(struct yaml_walk *w, yaml_node_t *value, const char *path,
                       const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    cfg->feeds = yaml_walk_new_items(w, value, path, key->spec);
    return cfg->feeds ? yaml_walk_items(w, value, path, key->spec, cfg->feeds, &cfg->n_feeds) : -1;
}

/* --- remote write --- */

static const char *remote_url_problem(const char *s)
{
    if (strncasecmp(s, "file://", 7) == 0)
        return "is a file URL (expected http:// or https://)";
    return url_problem(s);
}

/* Prometheus' label names, without its reserved "__" prefix. */
static const char *label_name_problem(const char *s)
{
    static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    if (s[0] == '\0' || !strchr(first, s[0]) ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != strlen(s))
        return "is not a label name (expected [a-zA-Z_][a-zA-Z0-9_]*)";
    if (strncmp(s, "__", 2) == 0)
        return "starts with __, which Prometheus reserves (__name__ is the metric name)";
    return NULL;
}

static const char *label_value_problem(const char *s)
{
    return s[0] != '\0' ? NULL : "is empty (remote write sends no empty label values)";
}

static int compare_labels(const void *a, const void *b)
{
    return strcmp(((const struct config_label *)a)->name, ((const struct config_label *)b)->name);
}

/* One "name: value" of external_labels into the config_remote_write ctx. */
static int external_label_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value,
                                const char *path, const struct yaml_walk_key *row, void *ctx)
{
    (void)row;
    struct config_remote_write *rw = ctx;
    const char *name = yaml_walk_text(key);
    if (label_name_problem(name)) {
        yaml_walk_error_at(w, key->start_mark, path, "%s %s", yaml_walk_quote(key).s,
                           label_name_problem(name));
        return -1;
    }
    const char *text = yaml_walk_read_text(w, value, path, label_value_problem);
    if (!text)
        return -1;
    struct config_label *grown = realloc(rw->external_labels, (rw->n_external_labels + 1) *
                                                                  sizeof(*rw->external_labels));
    if (!grown) {
        yaml_walk_out_of_memory(w);
        return -1;
    }
    rw->external_labels = grown;
    struct config_label *l = &grown[rw->n_external_labels];
    *l = (struct config_label){yaml_walk_strdup(w, name), yaml_walk_strdup(w, text)};
    if (!l->name || !l->value) {
        free(l->name);
        free(l->value);
        return -1;
    }
    rw->n_external_labels++;
    return 0;
}

/* external_labels: into the remote write itself, sorted by name. */
static int parse_external_labels(struct yaml_walk *w, yaml_node_t *value, const char *path,
                                 const struct yaml_walk_key *key, void *field)
{
    struct config_remote_write *rw = field;
    if (!yaml_walk_expect_type(w, value, path, YAML_MAPPING_NODE))
        return -1;
    int rc = yaml_walk_entries(w, value, path, external_label_entry, key, rw);
    if (rw->n_external_labels > 1)
        qsort(rw->external_labels, rw->n_external_labels, sizeof(*rw->external_labels),
              compare_labels);
    return rc;
}

/* headers: into the remote write itself. */
static int parse_remote_headers(struct yaml_walk *w, yaml_node_t *value, const char *path,
                                const struct yaml_walk_key *key, void *field)
{
    struct config_remote_write *rw = field;
    return read_headers(w, value, path, key, (struct header_list){&rw->headers, &rw->n_headers});
}

enum { RW_URL, RW_NAME, RW_TIMEOUT, RW_TLS, RW_BEARER, RW_BASIC_AUTH, RW_HEADERS,
       RW_EXTERNAL_LABELS, RW_BATCH_MAX, RW_BATCH_DEADLINE, RW_QUEUE_MAX, RW_MIN_BACKOFF,
       RW_MAX_BACKOFF, RW_RETRY_429, RW_KEY_COUNT };

static const struct yaml_walk_key remote_write_keys[] = {
    [RW_URL] = {.name = "url", .required = true, .parse = parse_text,
                .offset = offsetof(struct config_remote_write, url),
                .problem = remote_url_problem},
    [RW_NAME] = {.name = "name", .parse = parse_text,
                 .offset = offsetof(struct config_remote_write, name), .problem = name_problem},
    [RW_TIMEOUT] = {.name = "timeout", .parse = parse_duration,
                    .offset = offsetof(struct config_remote_write, timeout_ms),
                    .range = BETWEEN(1, 3600 * SECOND_MS)},
    [RW_TLS] = {.name = "tls_config", .parse = parse_mapping, .spec = &tls_spec,
                .offset = offsetof(struct config_remote_write, tls)},
    [RW_BEARER] = {.name = "bearer_token_file", .parse = parse_path,
                   .offset = offsetof(struct config_remote_write, bearer_token_file),
                   .problem = path_problem},
    [RW_BASIC_AUTH] = {.name = "basic_auth", .parse = parse_mapping, .spec = &basic_auth_spec,
                       .offset = offsetof(struct config_remote_write, basic_auth)},
    [RW_HEADERS] = {.name = "headers", .parse = parse_remote_headers},
    [RW_EXTERNAL_LABELS] = {.name = "external_labels", .parse = parse_external_labels},
    [RW_BATCH_MAX] = {.name = "batch_max_samples", .parse = parse_u64,
                      .offset = offsetof(struct config_remote_write, batch_max_samples),
                      .range = BETWEEN(1, 100000)},
    [RW_BATCH_DEADLINE] = {.name = "batch_deadline", .parse = parse_duration,
                           .offset = offsetof(struct config_remote_write, batch_deadline_ms),
                           .range = BETWEEN(10, 3600 * SECOND_MS)},
    [RW_QUEUE_MAX] = {.name = "queue_max_samples", .parse = parse_u64,
                      .offset = offsetof(struct config_remote_write, queue_max_samples),
                      .range = BETWEEN(1, 100000000)},
    [RW_MIN_BACKOFF] = {.name = "min_backoff", .parse = parse_duration,
                        .offset = offsetof(struct config_remote_write, min_backoff_ms),
                        .range = BETWEEN(1, 3600 * SECOND_MS)},
    [RW_MAX_BACKOFF] = {.name = "max_backoff", .parse = parse_duration,
                        .offset = offsetof(struct config_remote_write, max_backoff_ms),
                        .range = BETWEEN(1, 86400 * SECOND_MS)},
    [RW_RETRY_429] = {.name = "retry_on_http_429", .parse = yaml_walk_parse_bool,
                      .offset = offsetof(struct config_remote_write, retry_on_http_429)},
};
_Static_assert(ARRAY_LEN(remote_write_keys) == RW_KEY_COUNT, "a row per RW_ index");
FITS_SEEN(remote_write_keys);

static int remote_write_init(struct yaml_walk *w, void *obj)
{
    (void)w;
    *(struct config_remote_write *)obj = (struct config_remote_write){
        .timeout_ms = DEFAULT_RW_TIMEOUT_MS,
        .batch_max_samples = DEFAULT_RW_BATCH_MAX_SAMPLES,
        .batch_deadline_ms = DEFAULT_RW_BATCH_DEADLINE_MS,
        .queue_max_samples = DEFAULT_RW_QUEUE_MAX_SAMPLES,
        .min_backoff_ms = DEFAULT_RW_MIN_BACKOFF_MS,
        .max_backoff_ms = DEFAULT_RW_MAX_BACKOFF_MS,
    };
    return 0;
}

/* The remote label of a remote write without a name: the URL without its
 * scheme, credentials, query and fragment ("HOST[:PORT]/PATH"). */
static char *name_from_url(struct yaml_walk *w, const char *url)
{
    const char *host = strstr(url, "://") + 3;
    size_t authority = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority);
    if (at)
        host = at + 1;
    char *name = strndup(host, strcspn(host, "?#"));
    if (!name)
        yaml_walk_out_of_memory(w);
    return name;
}

/* The name defaults to one made from the URL; the queue holds at least a
 * batch; max_backoff is not below min_backoff; auth is one kind. */
static int remote_write_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                              const struct yaml_walk_seen *seen, void *obj)
{
    (void)map;
    struct config_remote_write *rw = obj;
    int rc = auth_check(w, path, &seen[RW_BEARER], &seen[RW_BASIC_AUTH]);
    char child[YAML_WALK_PATH_LEN];
    if (seen[RW_NAME].state == YAML_WALK_ABSENT && seen[RW_URL].state == YAML_WALK_VALID &&
        !(rw->name = name_from_url(w, rw->url)))
        rc = -1;
    if (seen[RW_QUEUE_MAX].state == YAML_WALK_VALID &&
        seen[RW_BATCH_MAX].state != YAML_WALK_INVALID &&
        rw->queue_max_samples < rw->batch_max_samples) {
        yaml_walk_child_path(child, path, "queue_max_samples");
        yaml_walk_error_at(w, seen[RW_QUEUE_MAX].value->start_mark, child,
                           "%s is less than batch_max_samples %" PRIu64
                           " (expected at least one batch)",
                           yaml_walk_text(seen[RW_QUEUE_MAX].value), rw->batch_max_samples);
        rc = -1;
    }
    if (seen[RW_MAX_BACKOFF].state == YAML_WALK_VALID &&
        seen[RW_MIN_BACKOFF].state != YAML_WALK_INVALID &&
        rw->max_backoff_ms < rw->min_backoff_ms) {
        yaml_walk_child_path(child, path, "max_backoff");
        yaml_walk_error_at(w, seen[RW_MAX_BACKOFF].value->start_mark, child,
                           "%s is shorter than min_backoff (expected at least min_backoff)",
                           yaml_walk_text(seen[RW_MAX_BACKOFF].value));
        rc = -1;
    }
    return rc;
}

static const struct yaml_walk_spec remote_write_spec = {
    .keys = remote_write_keys, .n_keys = ARRAY_LEN(remote_write_keys),
    .size = sizeof(struct config_remote_write), .init = remote_write_init,
    .check = remote_write_check,
};

/* remote_write: the list, with names (given or made from the URL) unique:
 * a repeat is reported at its name, or at its URL when the name was made. */
static int parse_remote_writes(struct yaml_walk *w, yaml_node_t *value, const char *path,
                               const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    cfg->remote_writes = yaml_walk_new_items(w, value, path, key->spec);
    if (!cfg->remote_writes)
        return -1;
    int rc = yaml_walk_items(w, value, path, key->spec, cfg->remote_writes,
                             &cfg->n_remote_writes);
    for (size_t i = 1; i < cfg->n_remote_writes; i++) {
        const char *name = cfg->remote_writes[i].name;
        for (size_t j = 0; name && j < i; j++) {
            if (!cfg->remote_writes[j].name || strcmp(cfg->remote_writes[j].name, name))
                continue;
            yaml_node_t *item = yaml_walk_item(w, value, i);
            yaml_node_t *at = yaml_walk_mapping_value(w, item, "name");
            const char *row = at ? "name" : "url";
            char child[YAML_WALK_PATH_LEN], item_path[YAML_WALK_PATH_LEN];
            yaml_walk_item_path(item_path, path, i);
            yaml_walk_child_path(child, item_path, row);
            yaml_walk_error_at(w, (at ? at : yaml_walk_mapping_value(w, item, "url"))->start_mark,
                               child,
                               "remote name \"%s\" is also remote_write[%zu]'s (expected unique "
                               "names%s)",
                               name, j, at ? "" : ": give one a name");
            rc = -1;
            break;
        }
    }
    return rc;
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

static const struct yaml_walk_key year_keys[] = {
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
static double *nan_array(struct yaml_walk *w)
{
    size_t n = loader_of(w)->cfg->n_metals;
    double *values = yaml_walk_calloc(w, n, sizeof(*values));
    for (size_t i = 0; values && i < n; i++)
        values[i] = NAN;
    return values;
}

static int year_init(struct yaml_walk *w, void *obj)
{
    struct config_target_year *year = obj;
    year->production_tonnes = nan_array(w);
    year->growth = nan_array(w);
    return year->production_tonnes && year->growth ? 0 : -1;
}

static const struct yaml_walk_spec year_spec = {
    .keys = year_keys, .n_keys = ARRAY_LEN(year_keys),
    .size = sizeof(struct config_target_year), .init = year_init,
};

static int compare_years(const void *a, const void *b)
{
    const struct config_target_year *x = a, *y = b;
    return (x->year > y->year) - (x->year < y->year);
}

static int parse_years(struct yaml_walk *w, yaml_node_t *value, const char *path,
                       const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    if (!(cfg->years = yaml_walk_new_items(w, value, path, key->spec)))
        return -1;
    int rc = yaml_walk_items(w, value, path, key->spec, cfg->years, &cfg->n_years);
    qsort(cfg->years, cfg->n_years, sizeof(*cfg->years), compare_years);
    return rc;
}

static const struct yaml_walk_key benchmark_keys[] = {
    INTENSITY_KEYS(struct config_benchmark),
};

FITS_SEEN(benchmark_keys);

static const struct yaml_walk_spec benchmark_spec = {
    .keys = benchmark_keys, .n_keys = ARRAY_LEN(benchmark_keys),
};

/* One "name: {values}" entry into the next benchmark of the config ctx. */
static int benchmark_entry(struct yaml_walk *w, yaml_node_t *key, yaml_node_t *value,
                           const char *path, const struct yaml_walk_key *row, void *ctx)
{
    struct config *cfg = ctx;
    struct config_benchmark *bench = &cfg->benchmarks[cfg->n_benchmarks++];
    int rc = yaml_walk_mapping(w, value, path, row->spec, bench);
    const char *name = yaml_walk_read_text(w, key, path, name_problem);
    return name && yaml_walk_store_string(w, name, &bench->name) == 0 ? rc : -1;
}

static int parse_benchmarks(struct yaml_walk *w, yaml_node_t *value, const char *path,
                            const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    if (!yaml_walk_expect_type(w, value, path, YAML_MAPPING_NODE))
        return -1;
    if (!(cfg->benchmarks =
              yaml_walk_calloc(w, yaml_walk_pair_count(value), sizeof(*cfg->benchmarks))))
        return -1;
    return yaml_walk_entries(w, value, path, benchmark_entry, key, cfg);
}

/* --- initiatives --- */

enum { INIT_NAME, INIT_MEASURE, INIT_BASELINE, INIT_TARGET, INIT_START, INIT_DEADLINE,
       INIT_KEY_COUNT };

static const struct yaml_walk_key initiative_keys[] = {
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
static int initiative_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                            const struct yaml_walk_seen *seen, void *obj)
{
    struct config_initiative *in = obj;
    const struct yaml_walk_seen *baseline = &seen[INIT_BASELINE];
    int rc = 0;
    if (seen[INIT_MEASURE].state == YAML_WALK_VALID) {
        bool wants = in->measure == INITIATIVE_CAPACITY_INCREASE_RATIO;
        const char *name = measure_names[in->measure];
        if (wants && baseline->state == YAML_WALK_ABSENT) {
            yaml_walk_error_at(w, map->start_mark, path,
                               "missing required key \"baseline\" (measure %s needs it)", name);
            rc = -1;
        } else if (!wants && baseline->state != YAML_WALK_ABSENT) {
            yaml_walk_error_at(w, baseline->key->start_mark, path,
                               "key \"baseline\" is only for measure %s (this one is %s)",
                               measure_names[INITIATIVE_CAPACITY_INCREASE_RATIO], name);
            rc = -1;
        }
    }
    if (seen[INIT_START].state == YAML_WALK_VALID && seen[INIT_DEADLINE].state == YAML_WALK_VALID &&
        in->deadline <= in->start) {
        char child[YAML_WALK_PATH_LEN];
        yaml_walk_child_path(child, path, "deadline");
        yaml_walk_error_at(w, seen[INIT_DEADLINE].value->start_mark, child,
                           "%s is not after start %s", yaml_walk_text(seen[INIT_DEADLINE].value),
                           yaml_walk_text(seen[INIT_START].value));
        rc = -1;
    }
    return rc;
}

static const struct yaml_walk_spec initiative_spec = {
    .keys = initiative_keys, .n_keys = ARRAY_LEN(initiative_keys),
    .size = sizeof(struct config_initiative), .check = initiative_check,
};

static int parse_initiatives(struct yaml_walk *w, yaml_node_t *value, const char *path,
                             const struct yaml_walk_key *key, void *field)
{
    struct config *cfg = field;
    cfg->initiatives = yaml_walk_new_items(w, value, path, key->spec);
    return cfg->initiatives
               ? yaml_walk_items(w, value, path, key->spec, cfg->initiatives, &cfg->n_initiatives)
               : -1;
}

/* --- targets, web and the top level (all fill struct config) --- */

static const struct yaml_walk_key targets_keys[] = {
    {.name = "baseline_year", .parse = parse_int,
     .offset = offsetof(struct config, baseline_year), .range = BETWEEN(1, 9999)},
    {.name = "years", .parse = parse_years, .spec = &year_spec},
    {.name = "benchmarks", .parse = parse_benchmarks, .spec = &benchmark_spec},
    {.name = "initiatives", .parse = parse_initiatives, .spec = &initiative_spec},
};

FITS_SEEN(targets_keys);

static const struct yaml_walk_spec targets_spec = {
    .keys = targets_keys, .n_keys = ARRAY_LEN(targets_keys),
};

static const struct yaml_walk_key web_keys[] = {
    {.name = "listen_address", .parse = parse_text,
     .offset = offsetof(struct config, listen_address), .problem = listen_problem},
    {.name = "max_connections", .parse = parse_u64,
     .offset = offsetof(struct config, web.max_connections), .range = BETWEEN(1, 65536)},
    {.name = "max_header_bytes", .parse = parse_u64,
     .offset = offsetof(struct config, web.max_header_bytes), .range = BETWEEN(1024, 1u << 20)},
    {.name = "max_request_body_bytes", .parse = parse_u64,
     .offset = offsetof(struct config, web.max_request_body_bytes),
     .range = BETWEEN(0, 1u << 30)},
    {.name = "read_header_timeout", .parse = parse_duration,
     .offset = offsetof(struct config, web.read_header_timeout_ms),
     .range = BETWEEN(100, 3600 * SECOND_MS)},
    {.name = "idle_timeout", .parse = parse_duration,
     .offset = offsetof(struct config, web.idle_timeout_ms),
     .range = BETWEEN(100, 3600 * SECOND_MS)},
    {.name = "write_timeout", .parse = parse_duration,
     .offset = offsetof(struct config, web.write_timeout_ms),
     .range = BETWEEN(100, 3600 * SECOND_MS)},
};

FITS_SEEN(web_keys);

static const struct yaml_walk_spec web_spec = {.keys = web_keys, .n_keys = ARRAY_LEN(web_keys)};

static const struct yaml_walk_key snapshot_keys[] = {
    {.name = "interval", .parse = parse_duration,
     .offset = offsetof(struct config, snapshot.interval_ms), .range = BETWEEN(1000, 86400000)},
    {.name = "keep", .parse = parse_u64, .offset = offsetof(struct config, snapshot.keep),
     .range = BETWEEN(1, 1000)},
};

FITS_SEEN(snapshot_keys);

static const struct yaml_walk_spec snapshot_spec = {
    .keys = snapshot_keys, .n_keys = ARRAY_LEN(snapshot_keys),
};

/* metals comes before targets: production and growth keys are metals. */
static const struct yaml_walk_key top_keys[] = {
    {.name = "web", .parse = parse_mapping, .spec = &web_spec},
    {.name = "state_dir", .parse = parse_path, .offset = offsetof(struct config, state_dir),
     .problem = path_problem},
    {.name = "snapshot", .parse = parse_mapping, .spec = &snapshot_spec},
    {.name = "evaluation_interval", .parse = parse_duration,
     .offset = offsetof(struct config, evaluation_interval_ms),
     .range = BETWEEN(1000, 86400000)},
    {.name = "plant_stale_after",
     .unsupported = "since 0.2, a plant is stale when its feeds have not succeeded for their "
                    "stale_after"},
    {.name = "metals", .required = true, .parse = parse_metals},
    {.name = "feeds", .parse = parse_feeds, .spec = &feed_spec},
    {.name = "push_sources", .parse = parse_push_sources, .spec = &push_spec},
    {.name = "targets", .parse = parse_mapping, .spec = &targets_spec},
    {.name = "remote_write", .parse = parse_remote_writes, .spec = &remote_write_spec},
};

FITS_SEEN(top_keys);

static int top_init(struct yaml_walk *w, void *obj)
{
    struct config *cfg = obj;
    cfg->evaluation_interval_ms = DEFAULT_EVALUATION_INTERVAL_MS;
    cfg->web = (struct config_web){
        .max_connections = 512,
        .max_header_bytes = 16u << 10,
        .max_request_body_bytes = 1u << 20,
        .read_header_timeout_ms = 10 * SECOND_MS,
        .idle_timeout_ms = 60 * SECOND_MS,
        .write_timeout_ms = 30 * SECOND_MS,
    };
    cfg->snapshot = (struct config_snapshot){.interval_ms = 60 * SECOND_MS, .keep = 3};
    if (yaml_walk_store_string(w, CONFIG_DEFAULT_STATE_DIR, &cfg->state_dir) != 0)
        return -1;
    return yaml_walk_store_string(w, CONFIG_DEFAULT_LISTEN_ADDRESS, &cfg->listen_address);
}

/* Feeds and push sources share one namespace: the feed label. */
static int top_check(struct yaml_walk *w, yaml_node_t *map, const char *path,
                     const struct yaml_walk_seen *seen, void *obj)
{
    (void)map;
    (void)path;
    (void)seen;
    const struct config *cfg = obj;
    int rc = 0;
    for (size_t i = 0; i < cfg->n_push_sources; i++) {
        const struct config_feed *source = &cfg->push_sources[i];
        if (source->name && config_feed_find(cfg, source->name)) {
            yaml_walk_error_file(w, "push_sources[%zu].name: \"%s\" is also a feed's name "
                                    "(expected names unique among feeds and push sources)",
                                 i, source->name);
            rc = -1;
        }
    }
    return rc;
}

static const struct yaml_walk_spec top_spec = {
    .keys = top_keys, .n_keys = ARRAY_LEN(top_keys), .init = top_init, .check = top_check,
};

/* Loading                                                             */

/* Reads the document's root mapping into a new config, kept in the loader
 * even when errors were reported (for config_free). */
static void read_root(struct yaml_walk *w, yaml_node_t *root)
{
    struct loader *ld = loader_of(w);
    if (!(ld->cfg = calloc(1, sizeof(*ld->cfg))) || !(ld->cfg->path = strdup(w->file))) {
        yaml_walk_out_of_memory(w);
        return;
    }
    yaml_walk_mapping(w, root, "", &top_spec, ld->cfg);
}

struct config *config_load(const char *path, struct config_errors *errors)
{
    struct loader ld = {0};
    struct yaml_walk w;
    yaml_walk_init(&w, path, &ld);
    yaml_walk_file(&w, read_root);
    if (yaml_walk_finish(&w, errors)) {
        config_free(ld.cfg);
        return NULL;
    }
    return ld.cfg;
}

/* Everything a feed or push source owns, not the struct itself. */
/* What a feed's or a remote write's TLS, auth and headers own. */
static void client_release(struct config_tls *tls, char *bearer_token_file,
                           struct config_basic_auth *basic_auth, struct config_header *headers,
                           size_t n_headers)
{
    free(tls->ca_file);
    free(tls->cert_file);
    free(tls->key_file);
    free(tls->server_name);
    free(bearer_token_file);
    free(basic_auth->username);
    free(basic_auth->password_file);
    for (size_t j = 0; j < n_headers; j++) {
        free(headers[j].name);
        free(headers[j].value);
    }
    free(headers);
}

static void feed_release(struct config_feed *feed)
{
    free(feed->name);
    free(feed->url);
    for (size_t j = 0; j < feed->n_plants; j++)
        free(feed->plants[j]);
    free(feed->plants);
    client_release(&feed->tls, feed->bearer_token_file, &feed->basic_auth, feed->headers,
                   feed->n_headers);
    if (feed->mapping) {
        free(feed->mapping->records);
        for (int slot = 0; slot < MAPPING_SLOT_COUNT; slot++) {
            free(feed->mapping->fields[slot].text);
            free(feed->mapping->fields[slot].unit);
        }
        free(feed->mapping);
    }
    free(feed->token_file);
}

void config_free(struct config *config)
{
    if (!config)
        return;
    free(config->path);
    free(config->listen_address);
    free(config->state_dir);
    for (size_t i = 0; i < config->n_metals; i++)
        free(config->metals[i]);
    free(config->metals);
    for (size_t i = 0; i < config->n_feeds; i++)
        feed_release(&config->feeds[i]);
    free(config->feeds);
    for (size_t i = 0; i < config->n_push_sources; i++)
        feed_release(&config->push_sources[i]);
    free(config->push_sources);
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
    for (size_t i = 0; i < config->n_remote_writes; i++) {
        struct config_remote_write *rw = &config->remote_writes[i];
        free(rw->name);
        free(rw->url);
        client_release(&rw->tls, rw->bearer_token_file, &rw->basic_auth, rw->headers,
                       rw->n_headers);
        for (size_t j = 0; j < rw->n_external_labels; j++) {
            free(rw->external_labels[j].name);
            free(rw->external_labels[j].value);
        }
        free(rw->external_labels);
    }
    free(config->remote_writes);
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

const struct config_feed *config_push_source_find(const struct config *config, const char *name)
{
    for (size_t i = 0; i < config->n_push_sources; i++)
        if (strcmp(config->push_sources[i].name, name) == 0)
            return &config->push_sources[i];
    return NULL;
}

double config_unit_scale(int field, const char *unit)
{
    static const struct {
        const char *unit;
        double scale;
    } tonnes[] = {{"t", 1}, {"kg", 1e-3}, {"kt", 1e3}, {"Mt", 1e6}},
      mwh[] = {{"MWh", 1}, {"kWh", 1e-3}, {"GWh", 1e3}};
    bool energy = field == RECORD_ENERGY_MWH;
    size_t n = energy ? ARRAY_LEN(mwh) : ARRAY_LEN(tonnes);
    for (size_t i = 0; i < n; i++)
        if (strcmp(unit, energy ? mwh[i].unit : tonnes[i].unit) == 0)
            return energy ? mwh[i].scale : tonnes[i].scale;
    return 0;
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
static void print_values(FILE *out, const struct config *cfg, const struct yaml_walk_spec *spec,
                         const void *obj)
{
    for (const struct yaml_walk_key *k = spec->keys; k < spec->keys + spec->n_keys; k++) {
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
    duration_format(config->snapshot.interval_ms, a, sizeof(a));
    fprintf(out, "  state directory      %s (snapshot every %s when changed, keep %" PRIu64 ")\n",
            config->state_dir, a, config->snapshot.keep);
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
    if (config->n_remote_writes)
        fprintf(out, "  remote write         %zu\n", config->n_remote_writes);
    for (size_t i = 0; i < config->n_remote_writes; i++) {
        /* The name, never the URL, which may carry credentials. */
        const struct config_remote_write *rw = &config->remote_writes[i];
        duration_format(rw->batch_deadline_ms, a, sizeof(a));
        duration_format(rw->timeout_ms, b, sizeof(b));
        fprintf(out,
                "    %s: batches of %" PRIu64 " samples within %s, timeout %s, queue %" PRIu64
                ", %zu external label%s\n",
                rw->name, rw->batch_max_samples, a, b, rw->queue_max_samples,
                rw->n_external_labels, rw->n_external_labels == 1 ? "" : "s");
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

void config_errors_log(const struct config_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        log_error("config: %s", errors->messages[i]);
}

int config_check(const char *path, FILE *out, FILE *errors)
{
    struct config_errors found = {0};
    struct config *config = config_load(path, &found);
    if (config) {
        config_print_summary(config, out);
    } else {
        config_errors_log(&found);
        fprintf(errors, "%s: invalid configuration\n", path);
    }
    config_errors_free(&found);
    int rc = config ? 0 : 1;
    config_free(config);
    return rc;
}
