/*
 * fuzz_config: libFuzzer target for the YAML config loader. Each input is
 * written to one temporary file (created once under $TMPDIR, rewritten per
 * input, removed at exit) and loaded with config_load. The checks are
 * config.h's contract: a failed load reports at least one error and every
 * error starts with the path and ':' ("path: reason" or
 * "path:line:column: ..."); a successful load reports none, and its config
 * keeps the promises written beside each field (names, uniqueness, sorted
 * lists, bounds). A loaded config is also summarised (into /dev/null),
 * evaluated against an empty store and rendered in both exposition
 * formats, and the renderings checked like fuzz_feed's.
 */
#include <event2/event.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "evaluation.h"
#include "feeds.h"
#include "fuzz_check.h"
#include "metrics.h"
#include "store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2025-07-15T00:00:00Z, as the unit tests' fixture. */
#define FUZZ_NOW 1752537600

static const char NAME_CHARS[] = "abcdefghijklmnopqrstuvwxyz0123456789_";

static char config_path[4096];
static int config_fd = -1;
static FILE *dev_null;

/* For rendering a loaded config; the loop is never run, so no feed is ever
 * fetched. Between inputs the feeds are configured with no_feeds, so they
 * never point into a config that was freed. */
static struct event_base *idle_base;
static struct store *idle_store;
static const struct eval_clock fixed_clock = {.fixed = true, .at = FUZZ_NOW};
static struct feeds *idle_feeds;
static const struct config no_feeds;

static void feeds_changed(void *arg)
{
    (void)arg;
}

static void remove_config_file(void)
{
    if (config_fd >= 0)
        close(config_fd);
    unlink(config_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int n = snprintf(config_path, sizeof(config_path), "%s/ingot-fuzz-config-XXXXXX.yaml", dir);
    FUZZ_REQUIRE(n > 0 && (size_t)n < sizeof(config_path));
    config_fd = mkstemps(config_path, 5);
    if (config_fd < 0)
        fuzz_fail("cannot create %s", config_path);
    atexit(remove_config_file);

    dev_null = fopen("/dev/null", "w");
    idle_base = event_base_new();
    idle_store = store_new();
    FUZZ_REQUIRE(dev_null && idle_base && idle_store);
    idle_feeds = feeds_new(idle_base, idle_store, &fixed_clock, feeds_changed, NULL);
    FUZZ_REQUIRE(idle_feeds && feeds_configure(idle_feeds, &no_feeds) == 0);
    return 0;
}

/* Replaces the temporary file's content with data. */
static void write_config(const uint8_t *data, size_t size)
{
    FUZZ_REQUIRE(ftruncate(config_fd, 0) == 0);
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(config_fd, data + done, size - done, (off_t)done);
        FUZZ_REQUIRE(n > 0);
        done += (size_t)n;
    }
}

static bool is_name(const char *s)
{
    return s && *s && strspn(s, NAME_CHARS) == strlen(s);
}

/* Skips a 1-based count ("1", "27": digits, no leading zero) at *p. */
static bool skip_count(const char **p)
{
    const char *s = *p;
    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p > s && *s != '0';
}

/* "path: reason" or "path:line:column: message", line and column 1-based. */
static void check_error(const char *message)
{
    size_t n = strlen(config_path);
    if (strncmp(message, config_path, n) != 0 || message[n] != ':')
        fuzz_fail("config error does not start with \"%s:\": %s", config_path, message);
    const char *p = message + n + 1;
    if (*p == ' ')
        return;
    if (!skip_count(&p) || *p++ != ':' || !skip_count(&p) || *p++ != ':' || *p != ' ')
        fuzz_fail("config error is neither \"path: ...\" nor \"path:line:column: ...\": %s",
                  message);
}

/* NAN (not configured), or finite within lo..hi, lo excluded when open. */
static bool unset_or_within(double v, double lo, bool open, double hi)
{
    return isnan(v) || (isfinite(v) && v >= lo && v <= hi && !(open && v == lo));
}

/* URL schemes are case-insensitive (RFC 3986), and so is the loader. */
static bool has_scheme(const char *url, const char *scheme)
{
    return strncasecmp(url, scheme, strlen(scheme)) == 0;
}

static void check_feed(const struct config *cfg, const struct config_feed *feed)
{
    FUZZ_REQUIRE(is_name(feed->name) && config_feed_find(cfg, feed->name) == feed);
    FUZZ_REQUIRE(feed->url && (has_scheme(feed->url, "http://") ||
                               has_scheme(feed->url, "https://") ||
                               has_scheme(feed->url, "file://")));
    FUZZ_REQUIRE(feed->format == FEED_FORMAT_JSON || feed->format == FEED_FORMAT_CSV);
    FUZZ_REQUIRE(feed->interval_ms >= 1000);
    FUZZ_REQUIRE(feed->timeout_ms > 0 && feed->timeout_ms <= feed->interval_ms);
    FUZZ_REQUIRE(feed->max_body_bytes >= 1);
    FUZZ_REQUIRE(feed->n_plants >= 1);
    for (size_t j = 0; j < feed->n_plants; j++) {
        FUZZ_REQUIRE(config_plant_id_valid(feed->plants[j]));
        FUZZ_REQUIRE(config_feed_allows_plant(feed, feed->plants[j]));
        if (j > 0)
            FUZZ_REQUIRE(strcmp(feed->plants[j - 1], feed->plants[j]) < 0);
    }
}

static void check_year(const struct config *cfg, const struct config_target_year *y)
{
    FUZZ_REQUIRE(y->year >= 1 && y->year <= 9999);
    FUZZ_REQUIRE(unset_or_within(y->output_vs_baseline, 0, true, INFINITY));
    FUZZ_REQUIRE(y->production_tonnes && y->growth);
    for (size_t m = 0; m < cfg->n_metals; m++) {
        FUZZ_REQUIRE(unset_or_within(y->production_tonnes[m], 0, false, INFINITY));
        FUZZ_REQUIRE(unset_or_within(y->growth[m], -1, true, INFINITY));
    }
    FUZZ_REQUIRE(unset_or_within(y->co2_intensity_tonnes_per_tonne, 0, false, INFINITY));
    FUZZ_REQUIRE(unset_or_within(y->energy_intensity_mwh_per_tonne, 0, false, INFINITY));
    FUZZ_REQUIRE(unset_or_within(y->waste_recycling_ratio, 0, false, 1));
}

static void check_initiative(const struct config *cfg, const struct config_initiative *in)
{
    FUZZ_REQUIRE(is_name(in->name));
    for (const struct config_initiative *other = cfg->initiatives; other < in; other++)
        FUZZ_REQUIRE(strcmp(other->name, in->name) != 0);
    FUZZ_REQUIRE(in->measure == INITIATIVE_CAPACITY_INCREASE_RATIO ||
                 in->measure == INITIATIVE_GREEN_PLANTS_OPERATIONAL ||
                 in->measure == INITIATIVE_WORKERS_CERTIFIED);
    if (in->measure == INITIATIVE_CAPACITY_INCREASE_RATIO)
        FUZZ_REQUIRE(!isnan(in->baseline) && unset_or_within(in->baseline, 0, true, INFINITY));
    else
        FUZZ_REQUIRE(isnan(in->baseline));
    FUZZ_REQUIRE(!isnan(in->target) && unset_or_within(in->target, 0, true, INFINITY));
    FUZZ_REQUIRE(in->deadline > in->start);
}

static void check_config(const struct config *cfg)
{
    FUZZ_REQUIRE(cfg->path && cfg->listen_address);
    FUZZ_REQUIRE(cfg->evaluation_interval_ms >= 1000 &&
                 cfg->evaluation_interval_ms <= 86400000);
    FUZZ_REQUIRE(cfg->n_metals >= 1 && cfg->n_metals <= CONFIG_MAX_METALS);
    for (size_t m = 0; m < cfg->n_metals; m++)
        FUZZ_REQUIRE(is_name(cfg->metals[m]) &&
                     config_metal_index(cfg, cfg->metals[m]) == (int)m);
    for (size_t i = 0; i < cfg->n_feeds; i++)
        check_feed(cfg, &cfg->feeds[i]);
    FUZZ_REQUIRE(cfg->baseline_year >= 0 && cfg->baseline_year <= 9999);
    for (size_t i = 0; i < cfg->n_years; i++) {
        check_year(cfg, &cfg->years[i]);
        if (i > 0)
            FUZZ_REQUIRE(cfg->years[i - 1].year < cfg->years[i].year);
    }
    for (size_t i = 0; i < cfg->n_benchmarks; i++) {
        const struct config_benchmark *b = &cfg->benchmarks[i];
        FUZZ_REQUIRE(is_name(b->name));
        FUZZ_REQUIRE(unset_or_within(b->co2_intensity_tonnes_per_tonne, 0, false, INFINITY));
        FUZZ_REQUIRE(unset_or_within(b->energy_intensity_mwh_per_tonne, 0, false, INFINITY));
        FUZZ_REQUIRE(unset_or_within(b->waste_recycling_ratio, 0, false, 1));
    }
    for (size_t i = 0; i < cfg->n_initiatives; i++)
        check_initiative(cfg, &cfg->initiatives[i]);
}

/* What ingotd does with a config it loaded: summary, evaluation, render. */
static void use_config(const struct config *cfg)
{
    config_print_summary(cfg, dev_null);
    FUZZ_REQUIRE(feeds_configure(idle_feeds, cfg) == 0);
    struct evaluation *ev = evaluation_run(idle_store, cfg, FUZZ_NOW);
    FUZZ_REQUIRE(ev != NULL);
    for (int format = EXPO_FORMAT_TEXT; format <= EXPO_FORMAT_OPENMETRICS; format++) {
        size_t len = 0;
        char *text =
            metrics_render(cfg, idle_store, ev, idle_feeds, (enum expo_format)format, &len);
        FUZZ_REQUIRE(text != NULL);
        fuzz_check_exposition((enum expo_format)format, text, len);
        free(text);
    }
    evaluation_free(ev);
    FUZZ_REQUIRE(feeds_configure(idle_feeds, &no_feeds) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_config(data, size);
    struct config_errors errors;
    struct config *cfg = config_load(config_path, &errors);
    if (cfg) {
        FUZZ_REQUIRE(errors.count == 0);
        check_config(cfg);
        use_config(cfg);
        config_free(cfg);
    } else {
        FUZZ_REQUIRE(errors.count >= 1);
        for (size_t i = 0; i < errors.count; i++) {
            FUZZ_REQUIRE(errors.messages[i] != NULL);
            check_error(errors.messages[i]);
        }
        config_errors_free(&errors);
    }
    return 0;
}
