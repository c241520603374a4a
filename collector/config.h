/*
 * config: ingotd's YAML configuration, loaded and validated in one pass into
 * an immutable struct config. Every problem is reported as
 * "file:line:column: message" (1-based), and all of them at once. A loaded
 * config is never modified; a reload builds a new one and swaps it in.
 */
#ifndef INGOT_CONFIG_H
#define INGOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "feed_record.h"

#define CONFIG_DEFAULT_LISTEN_ADDRESS ":8467"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/ingot"
#define CONFIG_MAX_METALS 64

enum feed_format { FEED_FORMAT_JSON, FEED_FORMAT_CSV, FEED_FORMAT_INGOT_SNAPSHOT };

/* tls_config of a feed, as Prometheus spells it. Paths are absolute (a
 * relative one is resolved against the config file's directory). */
struct config_tls {
    char *ca_file;   /* NULL: the system's CAs */
    char *cert_file; /* client certificate for mTLS; set together with key_file */
    char *key_file;
    char *server_name; /* NULL: the URL's host */
    bool insecure_skip_verify;
};

/* basic_auth of a feed: both set, or neither. */
struct config_basic_auth {
    char *username;
    char *password_file; /* absolute; its first line is the password */
};

/* One extra request header of a feed. */
struct config_header {
    char *name;  /* an HTTP token; not Authorization (use the auth keys) */
    char *value; /* printable ASCII */
};

/* Where a mapped field comes from. */
enum mapping_source {
    MAPPING_ABSENT,  /* not mapped */
    MAPPING_POINTER, /* JSON: an RFC 6901 pointer relative to a record */
    MAPPING_COLUMN,  /* CSV: a header name */
    MAPPING_VALUE,   /* a constant (plant and metal only) */
};

/* The fields a mapping fills: plant, metal, period, then the quantities in
 * enum record_field order. */
enum mapping_slot {
    MAPPING_PLANT,
    MAPPING_METAL,
    MAPPING_PERIOD,
    MAPPING_QUANTITY, /* + enum record_field */
    MAPPING_SLOT_COUNT = MAPPING_QUANTITY + 5,
};

struct config_mapping_field {
    enum mapping_source source;
    char *text;   /* the pointer, the column name, or the constant */
    char *unit;   /* quantities: a unit of config_unit_scale; NULL: the field's own */
    double scale; /* quantities: multiplies the value into the field's unit; 1 */
};

/* mapping: a plant's own document format, read without changing its export. */
struct config_mapping {
    char *records;      /* JSON: pointer to the array of records ("" the root) */
    char delimiter;     /* CSV: default ',' */
    bool decimal_comma; /* CSV: "1.234,5" style numbers */
    struct config_mapping_field fields[MAPPING_SLOT_COUNT];
};

struct config_feed {
    char *name;      /* [a-z0-9_]+, unique among feeds and push sources */
    char *url;       /* http://, https:// or file://; NULL for a push source */
    enum feed_format format;
    int64_t interval_ms;     /* default 5m, at least 1s */
    int64_t timeout_ms;      /* default min(30s, interval), at most interval */
    int64_t connect_timeout_ms; /* default min(10s, timeout), at most timeout */
    int64_t min_backoff_ms;  /* first retry after a failure, default 1s */
    int64_t max_backoff_ms;  /* cap of the doubling retries, default 5m, >= min_backoff */
    int64_t stale_after_ms;  /* its plants are stale without a success this long;
                              * default 3 x interval (push sources: 1d) */
    uint64_t max_body_bytes; /* default 8 MiB */
    char **plants;           /* plants this feed may write, sorted, unique */
    size_t n_plants;
    struct config_tls tls;
    char *bearer_token_file; /* Authorization: Bearer <the file's first line> */
    struct config_basic_auth basic_auth;
    struct config_header *headers;
    size_t n_headers;
    struct config_mapping *mapping; /* NULL: the feed's native format */
    char *token_file; /* push sources only: the bearer token they present */
};

/* One year of national targets. Every double is NAN when not configured. */
struct config_target_year {
    int year;
    double output_vs_baseline;
    double *production_tonnes; /* [n_metals], by config metal index */
    double *growth;            /* [n_metals] */
    double co2_intensity_tonnes_per_tonne;
    double energy_intensity_mwh_per_tonne;
    double waste_recycling_ratio;
};

struct config_benchmark {
    char *name; /* [a-z0-9_]+ */
    double co2_intensity_tonnes_per_tonne; /* NAN when not configured */
    double energy_intensity_mwh_per_tonne;
    double waste_recycling_ratio;
};

enum initiative_measure {
    INITIATIVE_CAPACITY_INCREASE_RATIO,
    INITIATIVE_GREEN_PLANTS_OPERATIONAL,
    INITIATIVE_WORKERS_CERTIFIED,
};

struct config_initiative {
    char *name; /* [a-z0-9_]+, unique */
    enum initiative_measure measure;
    double baseline; /* capacity_increase_ratio only (> 0); NAN otherwise */
    double target;   /* > 0 */
    int64_t start;   /* Unix seconds, 00:00 UTC of the date */
    int64_t deadline;
};

/* web: the HTTP endpoint's limits. */
struct config_web {
    uint64_t max_connections;       /* default 512; beyond it the slowest is dropped */
    uint64_t max_header_bytes;      /* request line and headers, default 16 KiB */
    uint64_t max_request_body_bytes; /* default 1 MiB */
    int64_t read_header_timeout_ms; /* until a request is complete, default 10s */
    int64_t idle_timeout_ms;        /* a keep-alive connection waiting, default 60s */
    int64_t write_timeout_ms;       /* a client not reading the answer, default 30s */
};

/* One of a remote write's external_labels. */
struct config_label {
    char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with __ */
    char *value; /* not empty */
};

/* remote_write: one Prometheus remote write 1.0 receiver. TLS, auth and
 * headers as a feed's. */
struct config_remote_write {
    char *name;       /* the remote label: [a-z0-9_]+, or derived from url
                       * ("HOST[:PORT]/PATH"); unique */
    char *url;        /* http:// or https:// */
    int64_t timeout_ms;        /* of one request, default 30s */
    struct config_tls tls;
    char *bearer_token_file;
    struct config_basic_auth basic_auth;
    struct config_header *headers;
    size_t n_headers;
    struct config_label *external_labels; /* sorted by name, unique */
    size_t n_external_labels;
    uint64_t batch_max_samples; /* samples per request, default 2000 */
    int64_t batch_deadline_ms;  /* a sample waits at most this long for its batch, default 5s */
    uint64_t queue_max_samples; /* waiting samples kept, default 100000, >= batch_max_samples */
    int64_t min_backoff_ms;     /* first retry, default 30ms */
    int64_t max_backoff_ms;     /* cap of the doubling, default 5s */
    bool retry_on_http_429;     /* default false: a 429 drops the batch like a 400 */
};

/* snapshot: how often the state is written to state_dir, and how many. */
struct config_snapshot {
    int64_t interval_ms; /* default 1m: written when data changed since the last */
    uint64_t keep;       /* files kept, default 3 */
};

struct config {
    char *path;
    char *listen_address;        /* web.listen_address, "HOST:PORT" */
    struct config_web web;
    char *state_dir;             /* absolute; a relative one is resolved against the
                                  * config file's directory */
    struct config_snapshot snapshot;
    int64_t evaluation_interval_ms; /* default 1m */
    char **metals;               /* [a-z0-9_]+, unique, in config order */
    size_t n_metals;
    struct config_feed *feeds;
    size_t n_feeds;
    struct config_feed *push_sources; /* url NULL, token_file set, format JSON */
    size_t n_push_sources;
    struct config_remote_write *remote_writes; /* names unique */
    size_t n_remote_writes;
    int baseline_year;           /* 0 when not configured */
    struct config_target_year *years; /* sorted by year, unique */
    size_t n_years;
    struct config_benchmark *benchmarks;
    size_t n_benchmarks;
    struct config_initiative *initiatives;
    size_t n_initiatives;
};

/* Every problem found by one load, in file order. */
struct config_errors {
    char **messages;
    size_t count;
};

/* Reads and validates the file at path. On success returns a config owned by
 * the caller (release with config_free) and leaves errors empty. On failure
 * returns NULL and fills errors (release with config_errors_free): an
 * unreadable file gives one "path: reason" message; otherwise each message
 * is "path:line:column: what was found and what was expected". */
struct config *config_load(const char *path, struct config_errors *errors);
void config_free(struct config *config);
void config_errors_free(struct config_errors *errors);

/* The factor that turns a value in unit into the unit of field (tonnes or
 * MWh), or 0 when unit is not one of that field's: t, kg, kt, Mt for
 * tonnes; MWh, kWh, GWh for MWh. */
double config_unit_scale(int field, const char *unit);

/* Index of metal in config->metals, or -1. */
int config_metal_index(const struct config *config, const char *metal);
/* The feed named name, or NULL. */
const struct config_feed *config_feed_find(const struct config *config, const char *name);
/* The push source named name, or NULL. */
const struct config_feed *config_push_source_find(const struct config *config, const char *name);
bool config_feed_allows_plant(const struct config_feed *feed, const char *plant);
/* True when id matches [a-z0-9][a-z0-9_-]{0,63}. */
bool config_plant_id_valid(const char *id);
const char *config_measure_name(enum initiative_measure measure);

/* Writes the one-screen summary --check-config prints. */
void config_print_summary(const struct config *config, FILE *out);

/* Logs each message of errors at error level as "config: MESSAGE" (log.h:
 * on stderr, in the configured log format). */
void config_errors_log(const struct config_errors *errors);

/* The config check of `ingotd --check-config` and `ingotctl check-config`:
 * loads the file at path; when it is valid, writes the summary
 * (config_print_summary) to out and returns 0; otherwise logs every error
 * (config_errors_log), writes "PATH: invalid configuration" to errors and
 * returns 1. The result is the process's exit status. */
int config_check(const char *path, FILE *out, FILE *errors);

#endif
