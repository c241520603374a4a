/*
 * metrics: renders the domain families. Families that differ only in which
 * figure they show are rows of a table (name, help, where the value is), so
 * each labelling scheme is written once.
 */
#include "metrics.h"

#include <math.h>
#include <stdio.h>

#include "expo.h"

#ifndef INGOT_VERSION
#define INGOT_VERSION "dev"
#endif
#ifndef INGOT_REVISION
#define INGOT_REVISION "unknown"
#endif

struct render {
    struct expo *out;
    const struct config *config;
    const struct store *store;
    const struct evaluation *ev;
    const struct feeds *feeds;
};

#define FIELD(type, member) offsetof(type, member)

static double at(const void *base, size_t offset)
{
    return *(const double *)((const char *)base + offset);
}

struct figure {
    const char *name;
    const char *help;
    size_t offset;
};

/* Families labelled {metal, year}: fields of struct eval_metal_year. */
static const struct figure metal_year_figures[] = {
    {"ingot_national_production_tonnes",
     "Production of the metal summed over all plants and all periods of the year.",
     FIELD(struct eval_metal_year, production)},
    {"ingot_national_production_growth_ratio",
     "Like-for-like growth: production in the months of the year some plant reported, over the "
     "same months of the previous year, minus 1.",
     FIELD(struct eval_metal_year, growth)},
    {"ingot_national_production_projected_tonnes",
     "Current year only: production so far / months reported x 12.",
     FIELD(struct eval_metal_year, projected)},
    {"ingot_national_plants_reporting",
     "Plants that reported production of the metal for some period of the year: how many "
     "plants the national total is made of.",
     FIELD(struct eval_metal_year, plants_reporting)},
    {"ingot_target_production_tonnes", "National production target of the metal for the year.",
     FIELD(struct eval_metal_year, target_production)},
    {"ingot_target_growth_ratio", "National growth target of the metal for the year.",
     FIELD(struct eval_metal_year, target_growth)},
    {"ingot_target_progress_ratio", "National production of the year / its production target.",
     FIELD(struct eval_metal_year, target_progress)},
};

/* Families labelled {year}: fields of struct eval_year. */
static const struct figure year_figures[] = {
    {"ingot_national_output_vs_baseline_ratio",
     "Production of all metals in the year / production of all metals in the baseline year.",
     FIELD(struct eval_year, output_vs_baseline)},
    {"ingot_target_output_vs_baseline_ratio",
     "Target of output against the baseline year (2 = double output).",
     FIELD(struct eval_year, target_output_vs_baseline)},
    {"ingot_national_co2_intensity_tonnes_per_tonne",
     "Sum of CO2 / sum of production, over the year's records that carry both.",
     FIELD(struct eval_year, co2_intensity)},
    {"ingot_national_energy_intensity_mwh_per_tonne",
     "Sum of energy / sum of production, over the year's records that carry both.",
     FIELD(struct eval_year, energy_intensity)},
    {"ingot_national_waste_recycling_ratio",
     "Sum of waste recycled / sum of waste, over the year's records that carry both.",
     FIELD(struct eval_year, waste_recycling)},
    {"ingot_national_emissions_coverage_ratio",
     "Production in the year's records that also carry CO2 / all production of the year, over "
     "every metal: the share of output the CO2 intensity covers.",
     FIELD(struct eval_year, emissions_coverage)},
    {"ingot_target_co2_intensity_tonnes_per_tonne", "Target CO2 intensity for the year.",
     FIELD(struct eval_year, target_co2_intensity)},
    {"ingot_target_energy_intensity_mwh_per_tonne", "Target energy intensity for the year.",
     FIELD(struct eval_year, target_energy_intensity)},
    {"ingot_target_waste_recycling_ratio", "Target waste recycling ratio for the year.",
     FIELD(struct eval_year, target_waste_recycling)},
};

/* Families labelled {benchmark}: fields of struct config_benchmark. */
static const struct figure benchmark_figures[] = {
    {"ingot_benchmark_co2_intensity_tonnes_per_tonne", "CO2 intensity of the benchmark.",
     FIELD(struct config_benchmark, co2_intensity_tonnes_per_tonne)},
    {"ingot_benchmark_energy_intensity_mwh_per_tonne", "Energy intensity of the benchmark.",
     FIELD(struct config_benchmark, energy_intensity_mwh_per_tonne)},
    {"ingot_benchmark_waste_recycling_ratio", "Waste recycling ratio of the benchmark.",
     FIELD(struct config_benchmark, waste_recycling_ratio)},
};

#define N(array) (sizeof(array) / sizeof((array)[0]))

static void render_national(struct render *r)
{
    char year[16];
    for (size_t f = 0; f < N(metal_year_figures); f++) {
        expo_family(r->out, metal_year_figures[f].name, EXPO_GAUGE, metal_year_figures[f].help);
        for (size_t m = 0; m < r->config->n_metals; m++) {
            for (size_t y = 0; y < r->ev->n_years; y++) {
                snprintf(year, sizeof(year), "%d", r->ev->years[y].year);
                struct expo_label labels[] = {{"metal", r->config->metals[m]}, {"year", year}};
                expo_sample(r->out, labels, 2,
                            at(&r->ev->years[y].metals[m], metal_year_figures[f].offset));
            }
        }
    }
    for (size_t f = 0; f < N(year_figures); f++) {
        expo_family(r->out, year_figures[f].name, EXPO_GAUGE, year_figures[f].help);
        for (size_t y = 0; y < r->ev->n_years; y++) {
            snprintf(year, sizeof(year), "%d", r->ev->years[y].year);
            struct expo_label label = {"year", year};
            expo_sample(r->out, &label, 1, at(&r->ev->years[y], year_figures[f].offset));
        }
    }
    for (size_t f = 0; f < N(benchmark_figures); f++) {
        expo_family(r->out, benchmark_figures[f].name, EXPO_GAUGE, benchmark_figures[f].help);
        for (size_t b = 0; b < r->config->n_benchmarks; b++) {
            struct expo_label label = {"benchmark", r->config->benchmarks[b].name};
            expo_sample(r->out, &label, 1,
                        at(&r->config->benchmarks[b], benchmark_figures[f].offset));
        }
    }
}

enum initiative_figure { INIT_VALUE, INIT_TARGET, INIT_PROGRESS, INIT_ON_TRACK, INIT_DEADLINE };

static const struct {
    const char *name;
    const char *help;
} initiative_figures[] = {
    [INIT_VALUE] = {"ingot_initiative_value",
                    "Current value of the initiative's measure, computed from plant attributes."},
    [INIT_TARGET] = {"ingot_initiative_target", "Target value of the initiative's measure."},
    [INIT_PROGRESS] = {"ingot_initiative_progress_ratio", "Value / target."},
    [INIT_ON_TRACK] = {"ingot_initiative_on_track",
                       "1 when progress is at least the elapsed share of start..deadline (at "
                       "least 1 after the deadline), else 0."},
    [INIT_DEADLINE] = {"ingot_initiative_deadline_timestamp_seconds",
                       "Deadline of the initiative, 00:00 UTC, as a Unix timestamp."},
};

static void render_initiatives(struct render *r)
{
    for (size_t f = 0; f < N(initiative_figures); f++) {
        expo_family(r->out, initiative_figures[f].name, EXPO_GAUGE, initiative_figures[f].help);
        for (size_t i = 0; i < r->config->n_initiatives; i++) {
            const struct config_initiative *ci = &r->config->initiatives[i];
            const struct eval_initiative *ei = &r->ev->initiatives[i];
            double values[] = {
                [INIT_VALUE] = ei->value,
                [INIT_TARGET] = ci->target,
                [INIT_PROGRESS] = ei->progress,
                [INIT_ON_TRACK] = ei->on_track,
                [INIT_DEADLINE] = (double)ci->deadline,
            };
            struct expo_label label = {"initiative", ci->name};
            expo_sample(r->out, &label, 1, values[f]);
        }
    }
}

static const struct {
    const char *name;
    const char *help;
} plant_year_figures[ROLLUP_PLANT_SUM_COUNT] = {
    [ROLLUP_PLANT_PRODUCTION] = {"ingot_plant_production_tonnes",
                                 "Production of the plant and metal summed over the year."},
    [ROLLUP_PLANT_CO2] = {"ingot_plant_co2_tonnes",
                          "CO2 emitted by the plant for the metal summed over the year."},
    [ROLLUP_PLANT_ENERGY] = {"ingot_plant_energy_mwh",
                             "Energy used by the plant for the metal summed over the year."},
};

static void render_plant_years(struct render *r)
{
    char year[16];
    for (int f = 0; f < ROLLUP_PLANT_SUM_COUNT; f++) {
        expo_family(r->out, plant_year_figures[f].name, EXPO_GAUGE, plant_year_figures[f].help);
        for (size_t p = 0; p < store_plant_count(r->store); p++) {
            const struct store_plant *plant = store_plant_at(r->store, p);
            for (size_t m = 0; m < r->config->n_metals; m++) {
                int metal_id = store_metal_find(r->store, r->config->metals[m]);
                for (size_t y = 0; metal_id >= 0 && y < r->ev->n_years; y++) {
                    const struct rollup_plant_year *py =
                        store_plant_year(plant, metal_id, r->ev->years[y].year);
                    if (!py || py->records[f] == 0)
                        continue;
                    snprintf(year, sizeof(year), "%d", r->ev->years[y].year);
                    struct expo_label labels[] = {
                        {"plant", plant->id}, {"metal", r->config->metals[m]}, {"year", year}};
                    expo_sample(r->out, labels, 3, fixed_to_double(py->sum[f]));
                }
            }
        }
    }
}

static void render_freshness(struct render *r)
{
    size_t n = store_plant_count(r->store);
    expo_family(r->out, "ingot_plant_last_period_timestamp_seconds", EXPO_GAUGE,
                "Start of the latest period the plant reported for the metal (00:00 UTC).");
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        for (size_t m = 0; m < r->config->n_metals; m++) {
            int32_t key =
                store_latest_period(plant, store_metal_find(r->store, r->config->metals[m]));
            struct period period = period_from_key(key);
            struct expo_label labels[] = {{"plant", plant->id}, {"metal", r->config->metals[m]}};
            expo_sample(r->out, labels, 2, key ? (double)period_start(&period) : NAN);
        }
    }
    expo_family(r->out, "ingot_plant_stale", EXPO_GAUGE,
                "1 when no feed that may write the plant succeeded within its stale_after, "
                "else 0. Stale data still counts in the totals.");
    double now = (double)time(NULL);
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        struct expo_label label = {"plant", plant->id};
        expo_sample(r->out, &label, 1, feeds_plant_stale(r->feeds, plant->id, now));
    }
}

static void render_plants(struct render *r)
{
    size_t n = store_plant_count(r->store);
    expo_family(r->out, "ingot_plant_info", EXPO_GAUGE,
                "Plant attributes as labels; always 1. Name and region as the feeds last "
                "reported them.");
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        struct expo_label labels[3] = {{"plant", plant->id}};
        size_t n_labels = 1;
        if (plant->name)
            labels[n_labels++] = (struct expo_label){"plant_name", plant->name};
        if (plant->region)
            labels[n_labels++] = (struct expo_label){"plant_region", plant->region};
        expo_sample(r->out, labels, n_labels, 1);
    }
    expo_family(r->out, "ingot_plant_capacity_tonnes_per_year", EXPO_GAUGE,
                "Production capacity the plant reports.");
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        struct expo_label label = {"plant", plant->id};
        expo_sample(r->out, &label, 1, plant->has_capacity ? plant->capacity_tonnes_per_year : NAN);
    }
    expo_family(r->out, "ingot_plant_green_operational", EXPO_GAUGE,
                "1 when the plant reports green metallurgy operational, else 0.");
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        struct expo_label label = {"plant", plant->id};
        expo_sample(r->out, &label, 1,
                    plant->green_operational >= 0 ? plant->green_operational : NAN);
    }
    expo_family(r->out, "ingot_plant_workers_certified", EXPO_GAUGE,
                "Workers the plant reports as certified.");
    for (size_t p = 0; p < n; p++) {
        const struct store_plant *plant = store_plant_at(r->store, p);
        struct expo_label label = {"plant", plant->id};
        expo_sample(r->out, &label, 1, plant->has_workers ? plant->workers_certified : NAN);
    }
}

enum feed_figure { FEED_UP, FEED_LAST_SUCCESS, FEED_DURATION, FEED_INTERVAL, FEED_ACCEPTED };

static const struct {
    const char *name;
    enum expo_type type;
    const char *help;
} feed_figures[] = {
    [FEED_UP] = {"ingot_feed_up", EXPO_GAUGE, "1 when the feed's last fetch succeeded, else 0."},
    [FEED_LAST_SUCCESS] = {"ingot_feed_last_success_timestamp_seconds", EXPO_GAUGE,
                           "When the feed was last fetched and read successfully."},
    [FEED_DURATION] = {"ingot_feed_fetch_duration_seconds", EXPO_GAUGE,
                       "Duration of the feed's last fetch."},
    [FEED_INTERVAL] = {"ingot_feed_interval_seconds", EXPO_GAUGE,
                       "How often the feed is fetched, as configured (plus up to 10% jitter)."},
    [FEED_ACCEPTED] = {"ingot_feed_records_accepted", EXPO_COUNTER,
                       "Records accepted from the feed, counted at every delivery."},
};

/* A push source in the feed families that are not about fetching: last
 * success and records accepted (feed = the push source's name). */
static void render_push_figure(struct render *r, enum feed_figure f)
{
    for (size_t i = 0; i < r->config->n_push_sources; i++) {
        const struct feed_stats *s = feeds_push_stats(r->feeds, i);
        struct expo_label label = {"feed", r->config->push_sources[i].name};
        if (f == FEED_LAST_SUCCESS)
            expo_sample(r->out, &label, 1, s->last_success > 0 ? s->last_success : NAN);
        else if (f == FEED_ACCEPTED)
            expo_sample(r->out, &label, 1, (double)s->records.accepted);
    }
}

/* Push sources' records rejected, every reason (0 included). */
static void render_push_rejected(struct render *r)
{
    for (size_t i = 0; i < r->config->n_push_sources; i++) {
        for (int reason = 0; reason < INGEST_REASON_COUNT; reason++) {
            struct expo_label labels[] = {{"feed", r->config->push_sources[i].name},
                                          {"reason", ingest_reason_names[reason]}};
            expo_sample(r->out, labels, 2,
                        (double)feeds_push_stats(r->feeds, i)->records.rejected[reason]);
        }
    }
}

static void render_feeds(struct render *r)
{
    const size_t n = r->config->n_feeds;
    for (size_t f = 0; f < N(feed_figures); f++) {
        expo_family(r->out, feed_figures[f].name, feed_figures[f].type, feed_figures[f].help);
        for (size_t i = 0; i < n; i++) {
            const struct feed_stats *s = feeds_stats(r->feeds, i);
            double values[] = {
                [FEED_UP] = s->up,
                [FEED_LAST_SUCCESS] = s->last_success > 0 ? s->last_success : NAN,
                [FEED_DURATION] = s->last_duration_seconds,
                [FEED_INTERVAL] = (double)r->config->feeds[i].interval_ms / 1000,
                [FEED_ACCEPTED] = (double)s->records.accepted,
            };
            struct expo_label label = {"feed", r->config->feeds[i].name};
            expo_sample(r->out, &label, 1, values[f]);
        }
        render_push_figure(r, (enum feed_figure)f);
    }
    expo_family(r->out, "ingot_feed_records_rejected", EXPO_COUNTER,
                "Records rejected from the feed, by the first rule they broke.");
    for (size_t i = 0; i < n; i++) {
        for (int reason = 0; reason < INGEST_REASON_COUNT; reason++) {
            struct expo_label labels[] = {{"feed", r->config->feeds[i].name},
                                          {"reason", ingest_reason_names[reason]}};
            expo_sample(r->out, labels, 2, (double)feeds_stats(r->feeds, i)->records.rejected[reason]);
        }
    }
    render_push_rejected(r);
    expo_family(r->out, "ingot_feed_fetches", EXPO_COUNTER,
                "Fetches of the feed, by result: ok, not_modified (a 304, nothing read), "
                "timeout, connect_error, http_4xx, http_5xx, tls_error, body_too_large, "
                "parse_error.");
    for (size_t i = 0; i < n; i++) {
        const struct feed_stats *s = feeds_stats(r->feeds, i);
        for (int o = 0; o < FETCH_OUTCOME_COUNT; o++) {
            struct expo_label labels[] = {{"feed", r->config->feeds[i].name},
                                          {"result", fetch_outcome_names[o]}};
            expo_sample(r->out, labels, 2, (double)s->fetches[o]);
        }
    }
    expo_family(r->out, "ingot_feed_consecutive_failures", EXPO_GAUGE,
                "Failed fetches of the feed since its last success; the retry waits "
                "min_backoff doubled per failure, up to max_backoff.");
    for (size_t i = 0; i < n; i++) {
        struct expo_label label = {"feed", r->config->feeds[i].name};
        expo_sample(r->out, &label, 1, (double)feeds_stats(r->feeds, i)->consecutive_failures);
    }
}

/* The families of the evaluation: national figures, targets, benchmarks and
 * initiatives (what remote write sends at each evaluation). */
static void render_evaluated(struct render *r)
{
    render_national(r);
    render_initiatives(r);
}

char *metrics_render_evaluation(const struct config *config, const struct evaluation *evaluation,
                                size_t *len)
{
    struct render r = {.out = expo_new(EXPO_FORMAT_TEXT), .config = config, .ev = evaluation};
    if (!r.out)
        return NULL;
    render_evaluated(&r);
    char *text = expo_take(r.out, len);
    expo_free(r.out);
    return text;
}

char *metrics_render(const struct config *config, const struct store *store,
                     const struct evaluation *evaluation, const struct feeds *feeds,
                     enum expo_format format, size_t *len)
{
    struct render r = {
        .out = expo_new(format), .config = config, .store = store, .ev = evaluation, .feeds = feeds,
    };
    if (!r.out)
        return NULL;
    render_evaluated(&r);
    render_plant_years(&r);
    render_plants(&r);
    render_freshness(&r);
    render_feeds(&r);
    expo_family(r.out, "ingot_build_info", EXPO_GAUGE,
                "Version and git revision ingotd was built from; always 1.");
    struct expo_label build[] = {{"version", INGOT_VERSION}, {"revision", INGOT_REVISION}};
    expo_sample(r.out, build, 2, 1);
    char *text = expo_take(r.out, len);
    expo_free(r.out);
    return text;
}

/* How the state is kept across restarts (persistence.h). */
static void render_snapshots(struct expo *e, const struct persistence_stats *st)
{
    expo_family(e, "ingot_snapshot_enabled", EXPO_GAUGE,
                "1 when state_dir is usable and snapshots are written, else 0.");
    expo_sample(e, NULL, 0, st->enabled);
    expo_family(e, "ingot_snapshot_writes", EXPO_COUNTER,
                "Snapshot files written to state_dir, by result.");
    struct expo_label ok = {"result", "ok"}, error = {"result", "error"};
    expo_sample(e, &ok, 1, (double)st->writes_ok);
    expo_sample(e, &error, 1, (double)st->writes_failed);
    if (st->last_success > 0) {
        expo_family(e, "ingot_snapshot_last_write_success_timestamp_seconds", EXPO_GAUGE,
                    "When a snapshot file was last written.");
        expo_sample(e, NULL, 0, st->last_success);
        expo_family(e, "ingot_snapshot_last_write_bytes", EXPO_GAUGE,
                    "Size of the last snapshot written.");
        expo_sample(e, NULL, 0, (double)st->last_bytes);
    }
    expo_family(e, "ingot_snapshot_restored_records", EXPO_GAUGE,
                "Records restored from state_dir at start.");
    expo_sample(e, NULL, 0, (double)st->restored_records);
}

/* Remote write (remote_write.h): the families are written even without a
 * remote, with no samples then. */
static void render_remote_write(struct expo *e, const struct remote_write *rw)
{
    static const char *const results[] = {"sent", "failed", "dropped"};
    size_t n = remote_write_count(rw);
    struct remote_write_stats st;
    expo_family(e, "ingot_remote_write_samples", EXPO_COUNTER,
                "Samples by what became of them: sent (a receiver accepted them), failed "
                "(their batch was refused and dropped), dropped (the queue was full).");
    for (size_t i = 0; i < n; i++) {
        remote_write_stats(rw, i, &st);
        double values[] = {(double)st.sent, (double)st.failed, (double)st.dropped};
        for (size_t k = 0; k < 3; k++) {
            struct expo_label labels[] = {{"remote", st.name}, {"result", results[k]}};
            expo_sample(e, labels, 2, values[k]);
        }
    }
    expo_family(e, "ingot_remote_write_queue_samples", EXPO_GAUGE,
                "Samples waiting to be sent, the batch in flight included.");
    for (size_t i = 0; i < n; i++) {
        remote_write_stats(rw, i, &st);
        struct expo_label label = {"remote", st.name};
        expo_sample(e, &label, 1, (double)st.pending);
    }
    expo_family(e, "ingot_remote_write_last_success_timestamp_seconds", EXPO_GAUGE,
                "When the receiver last accepted a batch; absent before.");
    for (size_t i = 0; i < n; i++) {
        remote_write_stats(rw, i, &st);
        struct expo_label label = {"remote", st.name};
        expo_sample(e, &label, 1, st.last_success > 0 ? st.last_success : NAN);
    }
    expo_family(e, "ingot_remote_write_request_duration_seconds", EXPO_HISTOGRAM,
                "Duration of remote write requests, answered or failed.");
    for (size_t i = 0; i < n; i++) {
        remote_write_stats(rw, i, &st);
        struct expo_label label = {"remote", st.name};
        expo_histogram(e, &label, 1, remote_write_duration_bounds, st.duration_counts,
                       REMOTE_WRITE_DURATION_BUCKETS, st.duration_count, st.duration_sum);
    }
}

void metrics_render_daemon(struct expo *e, const struct metrics_daemon *daemon)
{
    expo_family(e, "ingot_config_last_reload_successful", EXPO_GAUGE,
                "1 when the last configuration (re)load succeeded, else 0.");
    expo_sample(e, NULL, 0, daemon->last_reload_successful);
    expo_family(e, "ingot_config_last_reload_success_timestamp_seconds", EXPO_GAUGE,
                "When the configuration was last loaded successfully.");
    expo_sample(e, NULL, 0, daemon->last_reload_success_timestamp);
    render_snapshots(e, &daemon->snapshots);
    render_remote_write(e, daemon->remote_write);
    if (!daemon->http)
        return;
    expo_family(e, "ingot_http_open_connections", EXPO_GAUGE, "HTTP connections open now.");
    expo_sample(e, NULL, 0, (double)daemon->http->open_connections);
    expo_family(e, "ingot_http_connections_dropped", EXPO_COUNTER,
                "HTTP connections closed early, by reason.");
    for (int reason = 0; reason < HTTP_DROP_REASON_COUNT; reason++) {
        struct expo_label label = {"reason", http_drop_reason_names[reason]};
        expo_sample(e, &label, 1, (double)daemon->http->dropped[reason]);
    }
}
