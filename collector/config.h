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

#define CONFIG_DEFAULT_LISTEN_ADDRESS ":8467"
#define CONFIG_DEFAULT_STATE_DIR "/var/lib/ingot"
#define CONFIG_MAX_METALS 64

enum feed_format { FEED_FORMAT_JSON, FEED_FORMAT_CSV, FEED_FORMAT_INGOT_SNAPSHOT };

struct config_feed {
    char *name;      /* [a-z0-9_]+, unique */
    char *url;       /* http://, https:// or file:// */
    enum feed_format format;
    int64_t interval_ms;     /* default 5m, at least 1s */
    int64_t timeout_ms;      /* default min(30s, interval), at most interval */
    uint64_t max_body_bytes; /* default 8 MiB */
    char **plants;           /* plants this feed may write, sorted, unique */
    size_t n_plants;
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
    int64_t plant_stale_after_ms;   /* a plant whose latest period began longer ago is stale; default 62d */
    char **metals;               /* [a-z0-9_]+, unique, in config order */
    size_t n_metals;
    struct config_feed *feeds;
    size_t n_feeds;
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

/* Index of metal in config->metals, or -1. */
int config_metal_index(const struct config *config, const char *metal);
/* The feed named name, or NULL. */
const struct config_feed *config_feed_find(const struct config *config, const char *name);
bool config_feed_allows_plant(const struct config_feed *feed, const char *plant);
/* True when id matches [a-z0-9][a-z0-9_-]{0,63}. */
bool config_plant_id_valid(const char *id);
const char *config_measure_name(enum initiative_measure measure);

/* Writes the one-screen summary --check-config prints. */
void config_print_summary(const struct config *config, FILE *out);

#endif
