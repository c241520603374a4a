/*
 * test_config: config_load on YAML written to temporary files: a full valid
 * file with every value checked, defaults, lookups and the summary, and a
 * table of broken files, each with the one "file:line:column: path: message"
 * it must produce.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "civil_time.h"
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes len bytes of text to a new temporary file; its path goes to path. */
static void write_temp(const void *text, size_t len, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/test_config_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* config_load on yaml, through a temporary file that is removed again. */
static struct config *load_yaml(const char *yaml, struct config_errors *errors)
{
    char path[512];
    write_temp(yaml, strlen(yaml), path, sizeof(path));
    struct config *cfg = config_load(path, errors);
    unlink(path);
    return cfg;
}

/* Exact comparison of doubles, naming the expression on failure. */
#define assert_number(got, want)                                                               \
    do {                                                                                       \
        double got_ = (got), want_ = (want);                                                   \
        if (got_ != want_)                                                                     \
            fail_msg("%s is %.17g, expected %.17g", #got, got_, want_);                        \
    } while (0)

static void print_errors(const struct config_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        print_message("  %s\n", errors->messages[i]);
}

/* Loads yaml and fails unless it loads cleanly. */
static struct config *load_ok(const char *yaml)
{
    struct config_errors errors;
    struct config *cfg = load_yaml(yaml, &errors);
    if (!cfg || errors.count) {
        print_errors(&errors);
        fail_msg("expected the config to load");
    }
    config_errors_free(&errors);
    return cfg;
}

static int64_t date(const char *s)
{
    int64_t t;
    assert_int_equal(civil_parse_date(s, &t), 0);
    return t;
}

/* ------------------------------------------------------------------ */

static const char full_yaml[] =
    "web: {listen_address: \"127.0.0.1:9100\"}\n"
    "evaluation_interval: 2m\n"
    "metals: [copper, zinc, aluminum]\n"
    "feeds:\n"
    "  - name: balkhash\n"
    "    url: https://plant.example/feed.json\n"
    "    format: json\n"
    "    interval: 10m\n"
    "    timeout: 45s\n"
    "    max_body_bytes: 1048576\n"
    "    plants: [kz-balkhash-cu, kz-abc, kz-zhezkazgan_2]\n"
    "  - name: erg_csv\n"
    "    url: file:///var/lib/ingot/erg.csv\n"
    "    format: csv\n"
    "    interval: 10s\n"
    "    plants: [erg-1]\n"
    "targets:\n"
    "  baseline_year: 2023\n"
    "  years:\n"
    "    - year: 2030\n"
    "      growth: {zinc: -0.5}\n"
    "    - year: 2025\n"
    "      output_vs_baseline: 2.0\n"
    "      production_tonnes: {copper: 280000, zinc: 150000, aluminum: 3.2e5}\n"
    "      growth: {copper: 0.085, zinc: 0.068, aluminum: 0.072}\n"
    "      co2_intensity_tonnes_per_tonne: 0.9\n"
    "      energy_intensity_mwh_per_tonne: 4.2\n"
    "      waste_recycling_ratio: 0.85\n"
    "  benchmarks:\n"
    "    global_leader_avg: {co2_intensity_tonnes_per_tonne: 1.2, "
    "energy_intensity_mwh_per_tonne: 5.0, waste_recycling_ratio: 0.75}\n"
    "    partial: {waste_recycling_ratio: 1}\n"
    "  initiatives:\n"
    "    - {name: smelting_capacity, measure: capacity_increase_ratio, baseline: 1000000, "
    "target: 0.40, start: 2023-01-01, deadline: 2024-09-30}\n"
    "    - {name: green_plants, measure: green_plants_operational, target: 5, "
    "start: 2023-01-01, deadline: 2025-03-31}\n"
    "    - {name: workforce_certification, measure: workers_certified, target: 10000, "
    "start: \"2023-01-01\", deadline: 2025-12-31}\n";

static void test_full_config(void **state)
{
    (void)state;
    struct config *cfg = load_ok(full_yaml);

    assert_string_equal(cfg->listen_address, "127.0.0.1:9100");
    assert_int_equal(cfg->evaluation_interval_ms, 120000);
    assert_int_equal(cfg->n_metals, 3);
    assert_string_equal(cfg->metals[0], "copper");
    assert_string_equal(cfg->metals[1], "zinc");
    assert_string_equal(cfg->metals[2], "aluminum");

    assert_int_equal(cfg->n_feeds, 2);
    const struct config_feed *f = &cfg->feeds[0];
    assert_string_equal(f->name, "balkhash");
    assert_string_equal(f->url, "https://plant.example/feed.json");
    assert_int_equal(f->format, FEED_FORMAT_JSON);
    assert_int_equal(f->interval_ms, 600000);
    assert_int_equal(f->timeout_ms, 45000);
    assert_int_equal(f->max_body_bytes, 1048576);
    assert_int_equal(f->n_plants, 3);
    assert_string_equal(f->plants[0], "kz-abc");
    assert_string_equal(f->plants[1], "kz-balkhash-cu");
    assert_string_equal(f->plants[2], "kz-zhezkazgan_2");
    f = &cfg->feeds[1];
    assert_string_equal(f->name, "erg_csv");
    assert_string_equal(f->url, "file:///var/lib/ingot/erg.csv");
    assert_int_equal(f->format, FEED_FORMAT_CSV);
    assert_int_equal(f->interval_ms, 10000);
    assert_int_equal(f->timeout_ms, 10000); /* min(30s, interval) */
    assert_int_equal(f->max_body_bytes, 8388608);
    assert_int_equal(f->n_plants, 1);
    assert_string_equal(f->plants[0], "erg-1");

    assert_int_equal(cfg->baseline_year, 2023);
    assert_int_equal(cfg->n_years, 2);
    const struct config_target_year *y = &cfg->years[0]; /* sorted */
    assert_int_equal(y->year, 2025);
    assert_number(y->output_vs_baseline, 2.0);
    assert_number(y->production_tonnes[0], 280000);
    assert_number(y->production_tonnes[1], 150000);
    assert_number(y->production_tonnes[2], 320000);
    assert_number(y->growth[0], 0.085);
    assert_number(y->growth[1], 0.068);
    assert_number(y->growth[2], 0.072);
    assert_number(y->co2_intensity_tonnes_per_tonne, 0.9);
    assert_number(y->energy_intensity_mwh_per_tonne, 4.2);
    assert_number(y->waste_recycling_ratio, 0.85);
    y = &cfg->years[1];
    assert_int_equal(y->year, 2030);
    assert_true(isnan(y->output_vs_baseline));
    for (int m = 0; m < 3; m++)
        assert_true(isnan(y->production_tonnes[m]));
    assert_true(isnan(y->growth[0]));
    assert_number(y->growth[1], -0.5);
    assert_true(isnan(y->growth[2]));
    assert_true(isnan(y->co2_intensity_tonnes_per_tonne));
    assert_true(isnan(y->energy_intensity_mwh_per_tonne));
    assert_true(isnan(y->waste_recycling_ratio));

    assert_int_equal(cfg->n_benchmarks, 2);
    assert_string_equal(cfg->benchmarks[0].name, "global_leader_avg");
    assert_number(cfg->benchmarks[0].co2_intensity_tonnes_per_tonne, 1.2);
    assert_number(cfg->benchmarks[0].energy_intensity_mwh_per_tonne, 5.0);
    assert_number(cfg->benchmarks[0].waste_recycling_ratio, 0.75);
    assert_string_equal(cfg->benchmarks[1].name, "partial");
    assert_true(isnan(cfg->benchmarks[1].co2_intensity_tonnes_per_tonne));
    assert_true(isnan(cfg->benchmarks[1].energy_intensity_mwh_per_tonne));
    assert_number(cfg->benchmarks[1].waste_recycling_ratio, 1);

    assert_int_equal(cfg->n_initiatives, 3);
    const struct config_initiative *in = &cfg->initiatives[0];
    assert_string_equal(in->name, "smelting_capacity");
    assert_int_equal(in->measure, INITIATIVE_CAPACITY_INCREASE_RATIO);
    assert_number(in->baseline, 1000000);
    assert_number(in->target, 0.40);
    assert_int_equal(in->start, date("2023-01-01"));
    assert_int_equal(in->deadline, date("2024-09-30"));
    in = &cfg->initiatives[1];
    assert_string_equal(in->name, "green_plants");
    assert_int_equal(in->measure, INITIATIVE_GREEN_PLANTS_OPERATIONAL);
    assert_true(isnan(in->baseline));
    assert_number(in->target, 5);
    assert_int_equal(in->start, 1672531200); /* 2023-01-01T00:00:00Z */
    assert_int_equal(in->deadline, date("2025-03-31"));
    in = &cfg->initiatives[2];
    assert_string_equal(in->name, "workforce_certification");
    assert_int_equal(in->measure, INITIATIVE_WORKERS_CERTIFIED);
    assert_true(isnan(in->baseline));
    assert_number(in->target, 10000);
    assert_int_equal(in->start, date("2023-01-01"));
    assert_int_equal(in->deadline, date("2025-12-31"));

    config_free(cfg);
}

static void test_defaults(void **state)
{
    (void)state;
    struct config *cfg = load_ok("metals: [copper]\n"
                                 "feeds:\n"
                                 "  - {name: a, url: \"http://h\", format: json, plants: [p]}\n");
    assert_string_equal(cfg->listen_address, CONFIG_DEFAULT_LISTEN_ADDRESS);
    assert_string_equal(cfg->listen_address, ":8467");
    assert_int_equal(cfg->evaluation_interval_ms, 60000);
    assert_int_equal(cfg->n_feeds, 1);
    assert_int_equal(cfg->feeds[0].interval_ms, 300000);
    assert_int_equal(cfg->feeds[0].timeout_ms, 30000);
    assert_int_equal(cfg->feeds[0].max_body_bytes, 8388608);
    assert_int_equal(cfg->baseline_year, 0);
    assert_int_equal(cfg->n_years, 0);
    assert_int_equal(cfg->n_benchmarks, 0);
    assert_int_equal(cfg->n_initiatives, 0);
    config_free(cfg);

    cfg = load_ok("metals: [copper]\nfeeds: []\ntargets: {}\nweb: {}\n");
    assert_int_equal(cfg->n_feeds, 0);
    assert_string_equal(cfg->listen_address, ":8467");
    assert_string_equal(cfg->state_dir, "/var/lib/ingot");
    assert_int_equal(cfg->snapshot.interval_ms, 60000);
    assert_int_equal(cfg->snapshot.keep, 3);
    config_free(cfg);
}

/* Every key of a feed's fetching, auth and mapping, and a push source. */
static void test_feed_options(void **state)
{
    (void)state;
    struct config *cfg = load_ok(
        "metals: [copper]\n"
        "feeds:\n"
        "  - name: mapped\n"
        "    url: https://plant.example/export.json\n"
        "    format: json\n"
        "    interval: 1m\n"
        "    min_backoff: 2s\n"
        "    max_backoff: 10m\n"
        "    tls_config: {ca_file: ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem,\n"
        "                 server_name: plant.example, insecure_skip_verify: false}\n"
        "    basic_auth: {username: ingot, password_file: secret}\n"
        "    headers: {X-Api-Version: \"2\", Accept-Language: en}\n"
        "    mapping:\n"
        "      records: /data/rows\n"
        "      plant: {pointer: /site}\n"
        "      metal: {value: copper}\n"
        "      period: {pointer: /month}\n"
        "      production_tonnes: {pointer: /output/kt, unit: kt}\n"
        "      energy_mwh: {pointer: /energy, unit: GWh}\n"
        "    plants: [kz-a]\n"
        "  - name: sheet\n"
        "    url: file:///srv/sheet.csv\n"
        "    format: csv\n"
        "    bearer_token_file: /etc/token\n"
        "    mapping: {delimiter: \";\", decimal_comma: true, plant: {value: kz-b},\n"
        "              metal: {column: Metal}, period: {column: Month},\n"
        "              co2_tonnes: {column: CO2 kg, unit: kg}}\n"
        "    plants: [kz-b]\n"
        "push_sources:\n"
        "  - {name: pusher, token_file: push.token, plants: [kz-c]}\n");
    const struct config_feed *f = &cfg->feeds[0];
    assert_int_equal(f->connect_timeout_ms, 10000);
    assert_int_equal(f->min_backoff_ms, 2000);
    assert_int_equal(f->max_backoff_ms, 600000);
    assert_int_equal(f->stale_after_ms, 180000);
    assert_string_equal(f->tls.ca_file, "/tmp/ca.pem");
    assert_string_equal(f->tls.cert_file, "/etc/c.pem");
    assert_string_equal(f->tls.server_name, "plant.example");
    assert_false(f->tls.insecure_skip_verify);
    assert_string_equal(f->basic_auth.username, "ingot");
    assert_string_equal(f->basic_auth.password_file, "/tmp/secret");
    assert_int_equal(f->n_headers, 2);
    assert_string_equal(f->headers[1].name, "Accept-Language");
    assert_string_equal(f->headers[1].value, "en");
    assert_non_null(f->mapping);
    assert_string_equal(f->mapping->records, "/data/rows");
    assert_int_equal(f->mapping->fields[MAPPING_PLANT].source, MAPPING_POINTER);
    assert_string_equal(f->mapping->fields[MAPPING_METAL].text, "copper");
    assert_int_equal(f->mapping->fields[MAPPING_METAL].source, MAPPING_VALUE);
    assert_number(f->mapping->fields[MAPPING_QUANTITY + RECORD_PRODUCTION_TONNES].scale, 1000);
    assert_number(f->mapping->fields[MAPPING_QUANTITY + RECORD_ENERGY_MWH].scale, 1000);
    assert_int_equal(f->mapping->fields[MAPPING_QUANTITY + RECORD_CO2_TONNES].source,
                     MAPPING_ABSENT);
    f = &cfg->feeds[1];
    assert_string_equal(f->bearer_token_file, "/etc/token");
    assert_int_equal(f->mapping->delimiter, ';');
    assert_true(f->mapping->decimal_comma);
    assert_int_equal(f->mapping->fields[MAPPING_METAL].source, MAPPING_COLUMN);
    assert_number(f->mapping->fields[MAPPING_QUANTITY + RECORD_CO2_TONNES].scale, 0.001);
    assert_int_equal(cfg->n_push_sources, 1);
    const struct config_feed *push = config_push_source_find(cfg, "pusher");
    assert_non_null(push);
    assert_null(push->url);
    assert_string_equal(push->token_file, "/tmp/push.token");
    assert_int_equal(push->stale_after_ms, 86400000);
    assert_true(config_feed_allows_plant(push, "kz-c"));
    assert_null(config_push_source_find(cfg, "mapped"));
    config_free(cfg);
}

/* remote_write: every key, the defaults, and names made from the URL
 * without credentials or query. */
static void test_remote_write(void **state)
{
    (void)state;
    struct config *cfg = load_ok(
        "metals: [copper]\n"
        "remote_write:\n"
        "  - url: https://vm.example:8428/api/v1/write\n"
        "    name: vm_cluster\n"
        "    timeout: 10s\n"
        "    tls_config: {ca_file: ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem}\n"
        "    basic_auth: {username: ingot, password_file: rw.password}\n"
        "    headers: {X-Scope-OrgID: ministry}\n"
        "    external_labels: {region: kz, cluster: national}\n"
        "    batch_max_samples: 500\n"
        "    batch_deadline: 2s\n"
        "    queue_max_samples: 5000\n"
        "    min_backoff: 100ms\n"
        "    max_backoff: 1m\n"
        "    retry_on_http_429: true\n"
        "  - url: https://user:pw@mimir.example:9009/api/v1/push?tenant=1#x\n"
        "    bearer_token_file: /etc/ingot/mimir.token\n"
        "  - url: http://127.0.0.1:9090/api/v1/write\n");
    assert_int_equal(cfg->n_remote_writes, 3);
    const struct config_remote_write *rw = &cfg->remote_writes[0];
    assert_string_equal(rw->name, "vm_cluster");
    assert_string_equal(rw->url, "https://vm.example:8428/api/v1/write");
    assert_int_equal(rw->timeout_ms, 10000);
    assert_string_equal(rw->tls.ca_file, "/tmp/ca.pem");
    assert_string_equal(rw->tls.key_file, "/etc/k.pem");
    assert_string_equal(rw->basic_auth.username, "ingot");
    assert_string_equal(rw->basic_auth.password_file, "/tmp/rw.password");
    assert_null(rw->bearer_token_file);
    assert_int_equal(rw->n_headers, 1);
    assert_string_equal(rw->headers[0].name, "X-Scope-OrgID");
    assert_string_equal(rw->headers[0].value, "ministry");
    assert_int_equal(rw->n_external_labels, 2); /* sorted by name */
    assert_string_equal(rw->external_labels[0].name, "cluster");
    assert_string_equal(rw->external_labels[0].value, "national");
    assert_string_equal(rw->external_labels[1].name, "region");
    assert_int_equal(rw->batch_max_samples, 500);
    assert_int_equal(rw->batch_deadline_ms, 2000);
    assert_int_equal(rw->queue_max_samples, 5000);
    assert_int_equal(rw->min_backoff_ms, 100);
    assert_int_equal(rw->max_backoff_ms, 60000);
    assert_true(rw->retry_on_http_429);

    rw = &cfg->remote_writes[1];
    assert_string_equal(rw->name, "mimir.example:9009/api/v1/push");
    assert_string_equal(rw->bearer_token_file, "/etc/ingot/mimir.token");
    assert_int_equal(rw->timeout_ms, 30000);
    assert_int_equal(rw->batch_max_samples, 2000);
    assert_int_equal(rw->batch_deadline_ms, 5000);
    assert_int_equal(rw->queue_max_samples, 100000);
    assert_int_equal(rw->min_backoff_ms, 30);
    assert_int_equal(rw->max_backoff_ms, 5000);
    assert_false(rw->retry_on_http_429);
    assert_int_equal(rw->n_external_labels, 0);
    assert_string_equal(cfg->remote_writes[2].name, "127.0.0.1:9090/api/v1/write");

    /* The summary names remotes, never their URLs (credentials). */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    config_print_summary(cfg, out);
    fclose(out);
    assert_non_null(strstr(text, "  remote write         3\n"));
    assert_non_null(strstr(text, "    vm_cluster: batches of 500 samples within 2s, timeout 10s, "
                                 "queue 5000, 2 external labels\n"));
    assert_null(strstr(text, "pw@"));
    free(text);
    config_free(cfg);

    cfg = load_ok("metals: [copper]\nremote_write: []\n");
    assert_int_equal(cfg->n_remote_writes, 0);
    config_free(cfg);
}

/* state_dir: absolute as written, relative from the config file's
 * directory (the tests' files are written in /tmp); snapshot settings. */
static void test_state_dir(void **state)
{
    (void)state;
    struct config *cfg = load_ok("metals: [copper]\nstate_dir: /srv/ingot\n"
                                 "snapshot: {interval: 30s, keep: 1}\n");
    assert_string_equal(cfg->state_dir, "/srv/ingot");
    assert_int_equal(cfg->snapshot.interval_ms, 30000);
    assert_int_equal(cfg->snapshot.keep, 1);
    config_free(cfg);
    cfg = load_ok("metals: [copper]\nstate_dir: state/ingot\n"
                  "feeds: [{name: n, url: \"http://h/s\", format: ingot-snapshot, plants: [p]}]\n");
    assert_string_equal(cfg->state_dir, "/tmp/state/ingot");
    assert_int_equal(cfg->feeds[0].format, FEED_FORMAT_INGOT_SNAPSHOT);
    config_free(cfg);
}

/* Accepted spellings at the edges of each rule. */
static void test_accepted_values(void **state)
{
    (void)state;
    static const char *const listen[] = {":1", "0.0.0.0:65535", "[::1]:8467", "[::]:80",
                                         "exporter.local:9100"};
    for (size_t i = 0; i < sizeof(listen) / sizeof(listen[0]); i++) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml), "metals: [a]\nweb: {listen_address: \"%s\"}\n", listen[i]);
        struct config *cfg = load_ok(yaml);
        assert_string_equal(cfg->listen_address, listen[i]);
        config_free(cfg);
    }
    struct config *cfg = load_ok(
        "metals: [a, b_2, '9']\n"
        "evaluation_interval: 1d\n"
        "feeds:\n"
        "  - {name: f, url: HTTPS://h:8443/x?y=1, format: csv, interval: 1s, timeout: 1ms,\n"
        "     max_body_bytes: 1073741824, plants: [0, a-_b]}\n"
        "  - {name: g, url: 'file:///x', format: json, max_body_bytes: 1, timeout: 5m,\n"
        "     plants: [x]}\n"
        "targets:\n"
        "  baseline_year: 1\n"
        "  years:\n"
        "    - {year: 9999, output_vs_baseline: 1e-3, waste_recycling_ratio: 0,\n"
        "       growth: {a: -0.999}, production_tonnes: {a: 0, b_2: +5, '9': 1E+2}}\n"
        "  benchmarks: {}\n"
        "  initiatives: []\n");
    assert_int_equal(cfg->evaluation_interval_ms, 86400000);
    assert_int_equal(cfg->feeds[0].interval_ms, 1000);
    assert_int_equal(cfg->feeds[0].timeout_ms, 1);
    assert_int_equal(cfg->feeds[0].max_body_bytes, 1073741824);
    assert_string_equal(cfg->feeds[0].plants[0], "0");
    assert_int_equal(cfg->feeds[1].max_body_bytes, 1);
    assert_int_equal(cfg->feeds[1].timeout_ms, 300000); /* equal to the interval */
    assert_int_equal(cfg->baseline_year, 1);
    assert_int_equal(cfg->years[0].year, 9999);
    assert_number(cfg->years[0].output_vs_baseline, 0.001);
    assert_number(cfg->years[0].growth[0], -0.999);
    assert_number(cfg->years[0].production_tonnes[1], 5);
    assert_number(cfg->years[0].production_tonnes[2], 100);
    config_free(cfg);
}

/* Targets may come before metals; anchors and aliases are resolved. */
static void test_order_and_aliases(void **state)
{
    (void)state;
    struct config *cfg = load_ok("targets:\n"
                                 "  years:\n"
                                 "    - year: 2025\n"
                                 "      production_tonnes: &p {zinc: 1, copper: 2}\n"
                                 "    - year: 2024\n"
                                 "      production_tonnes: *p\n"
                                 "metals: [copper, zinc]\n");
    assert_int_equal(cfg->years[0].year, 2024);
    assert_number(cfg->years[0].production_tonnes[0], 2);
    assert_number(cfg->years[0].production_tonnes[1], 1);
    assert_number(cfg->years[1].production_tonnes[1], 1);
    config_free(cfg);
}

static void test_lookups(void **state)
{
    (void)state;
    struct config *cfg = load_ok(full_yaml);
    assert_int_equal(config_metal_index(cfg, "copper"), 0);
    assert_int_equal(config_metal_index(cfg, "aluminum"), 2);
    assert_int_equal(config_metal_index(cfg, "lead"), -1);
    assert_int_equal(config_metal_index(cfg, "Copper"), -1);

    const struct config_feed *f = config_feed_find(cfg, "balkhash");
    assert_ptr_equal(f, &cfg->feeds[0]);
    assert_ptr_equal(config_feed_find(cfg, "erg_csv"), &cfg->feeds[1]);
    assert_null(config_feed_find(cfg, "nope"));

    assert_true(config_feed_allows_plant(f, "kz-abc"));
    assert_true(config_feed_allows_plant(f, "kz-balkhash-cu"));
    assert_true(config_feed_allows_plant(f, "kz-zhezkazgan_2"));
    assert_false(config_feed_allows_plant(f, "kz-b"));
    assert_false(config_feed_allows_plant(f, "erg-1"));
    assert_false(config_feed_allows_plant(f, ""));

    assert_true(config_plant_id_valid("a"));
    assert_true(config_plant_id_valid("0"));
    assert_true(config_plant_id_valid("kz-balkhash_cu-2"));
    char id[70];
    memset(id, 'a', sizeof(id));
    id[64] = '\0';
    assert_true(config_plant_id_valid(id));
    id[64] = 'a';
    id[65] = '\0';
    assert_false(config_plant_id_valid(id));
    assert_false(config_plant_id_valid(""));
    assert_false(config_plant_id_valid("-a"));
    assert_false(config_plant_id_valid("_a"));
    assert_false(config_plant_id_valid("Kz"));
    assert_false(config_plant_id_valid("a b"));
    assert_false(config_plant_id_valid("a.b"));

    assert_string_equal(config_measure_name(INITIATIVE_CAPACITY_INCREASE_RATIO),
                        "capacity_increase_ratio");
    assert_string_equal(config_measure_name(INITIATIVE_GREEN_PLANTS_OPERATIONAL),
                        "green_plants_operational");
    assert_string_equal(config_measure_name(INITIATIVE_WORKERS_CERTIFIED), "workers_certified");
    config_free(cfg);
    config_free(NULL);
}

static void test_summary(void **state)
{
    (void)state;
    struct config *cfg = load_ok(full_yaml);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    config_print_summary(cfg, out);
    assert_int_equal(fclose(out), 0);
    static const char *const expected[] = {
        "listen address       127.0.0.1:9100\n",
        "evaluation interval  2m\n",
        "metals               copper, zinc, aluminum\n",
        "feeds                2\n",
        "balkhash: json every 10m, timeout 45s, body <= 1048576 bytes, 3 plants\n",
        "      https://plant.example/feed.json\n",
        "erg_csv: csv every 10s, timeout 10s, body <= 8388608 bytes, 1 plant\n",
        "baseline year        2023\n",
        "target year 2025\n",
        "production_tonnes                copper 280000, zinc 150000, aluminum 320000\n",
        "waste_recycling_ratio            0.85\n",
        "target year 2030\n      growth                           zinc -0.5\n",
        "benchmark global_leader_avg\n",
        "benchmark partial\n      waste_recycling_ratio            1\n",
        "initiative smelting_capacity: capacity_increase_ratio target 0.4 (baseline 1000000), "
        "2023-01-01..2024-09-30\n",
        "initiative green_plants: green_plants_operational target 5, 2023-01-01..2025-03-31\n",
        "initiative workforce_certification: workers_certified target 10000, "
        "2023-01-01..2025-12-31\n",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        if (!strstr(text, expected[i]))
            fail_msg("summary lacks \"%s\":\n%s", expected[i], text);
    }
    free(text);
    config_free(cfg);
}

/* ------------------------------------------------------------------ */
/* Broken files: each produces exactly one error containing expect.     */

struct error_case {
    const char *yaml;
    const char *expect; /* a part of the message, from ":line:column:" on */
};

#define METALS "metals: [copper, zinc]\n"
/* A valid feed on lines 2-6; lines 7 on add keys to it. */
#define FEED                                                                                   \
    METALS "feeds:\n"                                                                          \
           "  - name: f\n"                                                                     \
           "    url: https://h/x\n"                                                            \
           "    format: json\n"                                                                \
           "    plants: [p1]\n"
/* A feed on lines 2-5 without plants; line 6 adds them. */
#define FEED_NO_PLANTS                                                                         \
    METALS "feeds:\n"                                                                          \
           "  - name: f\n"                                                                     \
           "    url: https://h/x\n"                                                            \
           "    format: json\n"
/* A feed on lines 2-3 with a given url. */
#define FEED_URL(url) METALS "feeds:\n  - {name: f, format: json, plants: [p],\n     url: " url "}\n"
#define LISTEN(addr) METALS "web:\n  listen_address: " addr "\n"
/* A target year on lines 2-4; line 5 adds keys to it. */
#define YEAR METALS "targets:\n  years:\n    - year: 2025\n"
/* An initiative on lines 2-5, then its keys at line 6 ("      ", column 7). */
#define INITIATIVE                                                                             \
    METALS "targets:\n"                                                                        \
           "  initiatives:\n"                                                                  \
           "    - name: i\n"                                                                   \
           "      target: 1\n"
#define DATES "      start: 2023-01-01\n      deadline: 2024-01-01\n"
/* A remote write on lines 2-3; lines 4 on add keys to it ("    ", column 5). */
#define RW METALS "remote_write:\n  - url: http://vm:8428/api/v1/write\n"
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A56 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct error_case error_cases[] = {
    /* YAML itself */
    {"metals: [copper\n", ":2:1: did not find expected ',' or ']' while parsing a flow sequence"},
    {METALS "foo: : x\n", ":2:6: mapping values are not allowed in this context"},
    {"metals: [\xff]\n", ":1:10: invalid leading UTF-8 octet"},
    {"metals: [a]\n\tx: 1\n", ":2:1: found character that cannot start any token"},
    {"metals: *nowhere\n", ":1:9: found undefined alias"},
    {"", ":1:1: the file holds no YAML document (expected a mapping)"},
    {"# nothing but a comment\n", ":1:1: the file holds no YAML document"},
    {METALS "---\nmetals: [zinc]\n",
     ":2:1: a second YAML document starts here (expected exactly one)"},
    {"- copper\n", ":1:1: found a sequence, expected a mapping"},
    {"copper\n", ":1:1: found \"copper\", expected a mapping"},
    {METALS "? [a]\n: 1\n", ":2:3: found a sequence, expected a string key"},
    {METALS "~: 1\n", ":2:1: found an empty value, expected a string key"},
    /* keys */
    {METALS "metals: [zinc]\n", ":2:1: duplicate key \"metals\" (first at line 1, column 1)"},
    {METALS "evaluation_intervall: 1m\n",
     ":2:1: unknown key \"evaluation_intervall\" (did you mean \"evaluation_interval\"?)"},
    {METALS "metal: [a]\n", ":2:1: unknown key \"metal\" (did you mean \"metals\"?)"},
    {METALS "colour: red\n", ":2:1: unknown key \"colour\" (expected one of: web, state_dir, "
                             "snapshot, evaluation_interval, metals, feeds, push_sources, "
                             "targets, remote_write)"},
    {METALS "plant_stale_after: 62d\n", ":2:1: key \"plant_stale_after\" is not supported"},
    /* state_dir and snapshot */
    {METALS "state_dir: \"\"\n", ":2:12: state_dir: \"\" is empty (expected a path)"},
    {METALS "state_dir: [a]\n", ":2:12: state_dir: found a sequence, expected a string"},
    {METALS "snapshot: {keep: 0}\n", ":2:18: snapshot.keep: 0 is out of range"},
    {METALS "snapshot: {interval: 0s}\n", ":2:22: snapshot.interval: 0s is out of range"},
    {METALS "snapshot: {every: 1m}\n",
     ":2:12: snapshot: unknown key \"every\" (expected one of: interval, keep)"},
    {METALS "\"say \\\"hi\\\"\": 1\n", ":2:1: unknown key \"say \\\"hi\\\"\" (expected one of:"},
    {"evaluation_interval: 1m\n", ":1:1: missing required key \"metals\""},
    {"web: {}\n\nevaluation_interval: 1m\n", ":1:1: missing required key \"metals\""},
    /* web */
    {METALS "web: [a]\n", ":2:6: web: found a sequence, expected a mapping"},
    {METALS "web: {listen_address: {a: 1}}\n",
     ":2:23: web.listen_address: found a mapping, expected a string"},
    {METALS "web: {listen_addr: \":1\"}\n",
     ":2:7: web: unknown key \"listen_addr\" (expected one of: listen_address, max_connections, max_header_bytes, max_request_body_bytes, read_header_timeout, idle_timeout, write_timeout)"},
    {LISTEN("localhost"), ":3:19: web.listen_address: \"localhost\" has no port"},
    {LISTEN("\":0\""), ":3:19: web.listen_address: \":0\" has an invalid port (expected 1..65535)"},
    {LISTEN("\"h:65536\""), ":3:19: web.listen_address: \"h:65536\" has an invalid port"},
    {LISTEN("\"h:\""), ":3:19: web.listen_address: \"h:\" has an invalid port"},
    {LISTEN("\"h:+80\""), ":3:19: web.listen_address: \"h:+80\" has an invalid port"},
    {LISTEN("\"::1:80\""), ":3:19: web.listen_address: \"::1:80\" has an invalid host"},
    {LISTEN("\"a b:80\""), ":3:19: web.listen_address: \"a b:80\" has an invalid host"},
    {LISTEN("\"[::g]:80\""), ":3:19: web.listen_address: \"[::g]:80\" has an invalid IPv6 address"},
    {LISTEN("\"[::1]\""), ":3:19: web.listen_address: \"[::1]\" is not a listen address"},
    {LISTEN("\"[]:80\""), ":3:19: web.listen_address: \"[]:80\" is not a listen address"},
    {LISTEN(""), ":3:18: web.listen_address: found an empty value, expected a string"},
    /* feed fetching, auth and headers */
    {FEED "    connect_timeout: 1m\n",
     ":7:22: feeds[0].connect_timeout: 1m is longer than the timeout 30s"},
    {FEED "    min_backoff: 10s\n    max_backoff: 5s\n",
     ":8:18: feeds[0].max_backoff: 5s is shorter than min_backoff"},
    {FEED "    bearer_token_file: t\n    basic_auth: {username: u, password_file: p}\n",
     ":8:5: feeds[0]: bearer_token_file and basic_auth are both set (expected one)"},
    {FEED "    basic_auth: {username: u}\n",
     ":7:17: feeds[0].basic_auth: missing required key \"password_file\""},
    {FEED "    tls_config: {cert_file: c}\n",
     ":7:17: feeds[0].tls_config: cert_file is set without key_file"},
    {FEED "    tls_config: {insecure_skip_verify: maybe}\n",
     ":7:40: feeds[0].tls_config.insecure_skip_verify: found \"maybe\", expected true or false"},
    {FEED "    headers: {Authorization: x}\n", ":7:15: feeds[0].headers.Authorization: \"Authorization\" is set "
                                                "by ingotd itself"},
    {FEED "    headers: {\"X A\": x}\n", ":7:15: feeds[0].headers.X A: \"X A\" is not an HTTP header name"},
    {FEED "    headers: {X-A: \"a\\nb\"}\n", ":7:20: feeds[0].headers.X-A: \"a\\x0ab\" contains a control"},
    /* mapping */
    {FEED "    mapping: {records: /r, plant: {column: P}, metal: {value: copper},\n"
          "              period: {pointer: /m}, production_tonnes: {pointer: /p}}\n",
     ":7:14: feeds[0].mapping: plant: a column is not for format json"},
    {FEED "    mapping: {plant: {pointer: /p}, metal: {value: copper},\n"
          "              period: {pointer: /m}, production_tonnes: {pointer: /p}}\n",
     ":7:14: feeds[0].mapping: missing required key \"records\""},
    {FEED "    mapping: {records: r, plant: {pointer: /p}, metal: {value: copper},\n"
          "              period: {pointer: /m}, production_tonnes: {pointer: /p}}\n",
     ":7:24: feeds[0].mapping.records: \"r\" is not a JSON Pointer"},
    {FEED "    mapping: {records: /r, plant: {pointer: /p}, metal: {value: copper},\n"
          "              period: {pointer: /m}, production_tonnes: {pointer: /p, unit: lb}}\n",
     ":8:57: feeds[0].mapping.production_tonnes: unknown unit \"lb\" (expected one of: t, kg, kt, Mt)"},
    {FEED "    mapping: {records: /r, plant: {pointer: /p}, metal: {value: copper},\n"
          "              period: {value: 2025-01}, energy_mwh: {pointer: /e, unit: GWh}}\n",
     ":8:23: feeds[0].mapping.period: a constant value is only for plant and metal"},
    {FEED "    mapping: {records: /r, plant: {pointer: /p, column: P}, metal: {value: copper},\n"
          "              period: {pointer: /m}, production_tonnes: {pointer: /p}}\n",
     ":7:35: feeds[0].mapping.plant: more than one source"},
    {FEED "    mapping: {records: /r, plant: {pointer: /p}, metal: {value: copper},\n"
          "              period: {pointer: /m}}\n",
     ":7:14: feeds[0].mapping: maps no quantity"},
    {FEED "    mapping: {records: /r, metal: {value: copper}, period: {pointer: /m},\n"
          "              co2_tonnes: {pointer: /c}}\n",
     ":7:14: feeds[0].mapping: missing required key \"plant\""},
    /* push sources */
    {FEED "push_sources:\n  - {name: f, token_file: t, plants: [p]}\n",
     ": push_sources[0].name: \"f\" is also a feed's name"},
    {METALS "push_sources:\n  - {name: p, plants: [p]}\n",
     ":3:5: push_sources[0]: missing required key \"token_file\""},
    /* evaluation_interval */
    {METALS "evaluation_interval: 1 minute\n",
     ":2:22: evaluation_interval: \"1 minute\" is not a duration (expected e.g. 30s, 5m, 1h)"},
    {METALS "evaluation_interval: 60\n", ":2:22: evaluation_interval: \"60\" is not a duration"},
    {METALS "evaluation_interval: 500ms\n",
     ":2:22: evaluation_interval: 500ms is out of range (expected 1s..1d)"},
    {METALS "evaluation_interval: 1d1s\n",
     ":2:22: evaluation_interval: 1d1s is out of range (expected 1s..1d)"},
    {METALS "evaluation_interval:\n", ":2:21: evaluation_interval: found an empty value, "
                                      "expected a duration"},
    {METALS "evaluation_interval: [1m]\n",
     ":2:22: evaluation_interval: found a sequence, expected a duration"},
    /* metals */
    {"metals: []\n", ":1:9: metals: found an empty list, expected at least one metal"},
    {"metals: copper\n", ":1:9: metals: found \"copper\", expected a sequence"},
    {"metals:\n", ":1:8: metals: found an empty value, expected a sequence"},
    {"metals: [copper, Zinc]\n", ":1:18: metals[1]: \"Zinc\" is not a valid name "
                                 "(expected [a-z0-9_]+, at most 64 characters)"},
    {"metals: [" A64 "a]\n", ":1:10: metals[0]: \"aaaa"},
    {"metals: [\"\"]\n", ":1:10: metals[0]: \"\" is not a valid name"},
    /* a long value is cut to 83 characters in the message */
    {"metals: [" A64 A64 "]\n", ":1:10: metals[0]: \"" A64 "aaaaaaaaaaaaaaaaaaa...\" is not"},
    {"metals: [zinc, zinc]\n",
     ":1:16: metals[1]: duplicate metal \"zinc\" (first at line 1, column 10)"},
    {"metals: [\"a\\0b\"]\n", ":1:10: metals[0]: \"a\\x00b\" contains a NUL character"},
    {"metals: [{a: 1}]\n", ":1:10: metals[0]: found a mapping, expected a string"},
    /* feeds */
    {METALS "feeds: {}\n", ":2:8: feeds: found a mapping, expected a sequence"},
    {METALS "feeds:\n", ":2:7: feeds: found an empty value, expected a sequence"},
    {METALS "feeds: [5]\n", ":2:9: feeds[0]: found \"5\", expected a mapping"},
    {METALS "feeds:\n  - name: f\n    format: json\n    plants: [p]\n",
     ":3:5: feeds[0]: missing required key \"url\""},
    {METALS "feeds: [{name: f, url: \"http://h\", plants: [p]}]\n",
     ":2:9: feeds[0]: missing required key \"format\""},
    {FEED_NO_PLANTS, ":3:5: feeds[0]: missing required key \"plants\""},
    {FEED "    intervall: 5m\n",
     ":7:5: feeds[0]: unknown key \"intervall\" (did you mean \"interval\"?)"},
    {FEED "    url: https://h/y\n",
     ":7:5: feeds[0]: duplicate key \"url\" (first at line 4, column 5)"},
    {METALS "feeds:\n  - name: Bad-Name\n    url: https://h\n    format: csv\n    plants: [p]\n",
     ":3:11: feeds[0].name: \"Bad-Name\" is not a valid name"},
    {METALS "feeds:\n  - name: " A64 "a\n    url: https://h\n    format: csv\n    plants: [p]\n",
     ":3:11: feeds[0].name: \"aaaa"},
    {FEED "  - name: f\n    url: https://h/y\n    format: csv\n    plants: [p2]\n",
     ":7:11: feeds[1].name: duplicate name \"f\" (first at line 3, column 11)"},
    {FEED_URL("ftp://h/x"), ":4:11: feeds[0].url: \"ftp://h/x\" has an unsupported scheme "
                            "(expected http://, https:// or file://)"},
    {FEED_URL("h/x"), ":4:11: feeds[0].url: \"h/x\" has an unsupported scheme"},
    {FEED_URL("\"http:///x\""), ":4:11: feeds[0].url: \"http:///x\" has no host"},
    {FEED_URL("\"https://\""), ":4:11: feeds[0].url: \"https://\" has no host"},
    {FEED_URL("\"file://x.json\""), ":4:11: feeds[0].url: \"file://x.json\" is not an absolute "
                                    "file path (expected file:///path)"},
    {FEED_URL("\"https://h/a b\""), ":4:11: feeds[0].url: \"https://h/a b\" contains a space"},
    {FEED_URL("\"https://h/\\tb\""), ":4:11: feeds[0].url: \"https://h/\\x09b\" contains a space"},
    {METALS "feeds:\n  - name: f\n    url: https://h/x\n    format: xml\n    plants: [p1]\n",
     ":5:13: feeds[0].format: unknown format \"xml\" (expected one of: json, csv, ingot-snapshot)"},
    {METALS "feeds:\n  - name: f\n    url: https://h/x\n    format: jsn\n    plants: [p1]\n",
     ":5:13: feeds[0].format: unknown format \"jsn\" (did you mean \"json\"?)"},
    {METALS "feeds:\n  - name: f\n    url: https://h/x\n    format: [json]\n    plants: [p1]\n",
     ":5:13: feeds[0].format: found a sequence, expected a string"},
    {FEED "    interval: 5 minutes\n",
     ":7:15: feeds[0].interval: \"5 minutes\" is not a duration (expected e.g. 30s, 5m, 1h)"},
    {FEED "    interval: 500ms\n",
     ":7:15: feeds[0].interval: 500ms is out of range (expected >= 1s)"},
    {FEED "    interval: 1m1h\n", ":7:15: feeds[0].interval: \"1m1h\" is not a duration"},
    {FEED "    timeout: 0\n", ":7:14: feeds[0].timeout: 0 is out of range (expected > 0s)"},
    {FEED "    timeout: -1s\n", ":7:14: feeds[0].timeout: \"-1s\" is not a duration"},
    {FEED "    interval: 10s\n    timeout: 30s\n",
     ":8:14: feeds[0].timeout: 30s is longer than the interval 10s "
     "(expected at most the interval)"},
    {FEED "    timeout: 6m\n",
     ":7:14: feeds[0].timeout: 6m is longer than the interval 5m"},
    {FEED "    max_body_bytes: 1.5\n", ":7:21: feeds[0].max_body_bytes: \"1.5\" is not an integer "
                                        "(expected digits only, e.g. 2025)"},
    {FEED "    max_body_bytes: 1e6\n",
     ":7:21: feeds[0].max_body_bytes: \"1e6\" is not an integer"},
    {FEED "    max_body_bytes: 8MiB\n",
     ":7:21: feeds[0].max_body_bytes: \"8MiB\" is not an integer"},
    {FEED "    max_body_bytes: 0\n",
     ":7:21: feeds[0].max_body_bytes: 0 is out of range (expected 1..1073741824)"},
    {FEED "    max_body_bytes: 1073741825\n",
     ":7:21: feeds[0].max_body_bytes: 1073741825 is out of range (expected 1..1073741824)"},
    {FEED "    max_body_bytes: \"1024\"\n", ":7:21: feeds[0].max_body_bytes: \"1024\" is quoted "
                                             "(expected an integer without quotes)"},
    {FEED_NO_PLANTS "    plants: []\n",
     ":6:13: feeds[0].plants: found an empty list, expected at least one plant id"},
    {FEED_NO_PLANTS "    plants: p1\n",
     ":6:13: feeds[0].plants: found \"p1\", expected a sequence"},
    {FEED_NO_PLANTS "    plants: [KZ-1]\n", ":6:14: feeds[0].plants[0]: \"KZ-1\" is not a valid "
                                            "plant id (expected [a-z0-9][a-z0-9_-]{0,63})"},
    {FEED_NO_PLANTS "    plants: [ok, -ab]\n",
     ":6:18: feeds[0].plants[1]: \"-ab\" is not a valid plant id"},
    {FEED_NO_PLANTS "    plants: [" A64 "a]\n", ":6:14: feeds[0].plants[0]: \"aaaa"},
    {FEED_NO_PLANTS "    plants: [a, b, a]\n",
     ":6:20: feeds[0].plants[2]: duplicate plant id \"a\" (first at line 6, column 14)"},
    /* targets */
    {METALS "targets: []\n", ":2:10: targets: found a sequence, expected a mapping"},
    {METALS "targets: {baseline_yr: 2023}\n",
     ":2:11: targets: unknown key \"baseline_yr\" (did you mean \"baseline_year\"?)"},
    {METALS "targets: {baseline_year: 0}\n",
     ":2:26: targets.baseline_year: 0 is out of range (expected 1..9999)"},
    {METALS "targets: {baseline_year: 2023.5}\n",
     ":2:26: targets.baseline_year: \"2023.5\" is not an integer"},
    {METALS "targets: {baseline_year: '2023'}\n",
     ":2:26: targets.baseline_year: \"2023\" is quoted"},
    {METALS "targets: {years: {year: 2025}}\n",
     ":2:18: targets.years: found a mapping, expected a sequence"},
    {METALS "targets:\n  years:\n    - output_vs_baseline: 2\n",
     ":4:7: targets.years[0]: missing required key \"year\""},
    {METALS "targets:\n  years:\n    - year: 10000\n",
     ":4:13: targets.years[0].year: 10000 is out of range (expected 1..9999)"},
    {METALS "targets:\n  years:\n    - year: twenty\n",
     ":4:13: targets.years[0].year: \"twenty\" is not an integer"},
    {YEAR "    - year: 2024\n    - year: 2025\n",
     ":6:13: targets.years[2].year: duplicate year \"2025\" (first at line 4, column 13)"},
    {YEAR "      output_vs_baseline: 0\n",
     ":5:27: targets.years[0].output_vs_baseline: 0 is out of range (expected > 0)"},
    {YEAR "      production_tonnes: {coper: 1}\n",
     ":5:27: targets.years[0].production_tonnes.coper: unknown metal \"coper\" "
     "(did you mean \"copper\"?)"},
    {YEAR "      production_tonnes: {lead: 1}\n",
     ":5:27: targets.years[0].production_tonnes.lead: unknown metal \"lead\" "
     "(expected one of: copper, zinc)"},
    {YEAR "      production_tonnes: {zinc: -1}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: -1 is out of range (expected >= 0)"},
    {YEAR "      production_tonnes: {zinc: \"5\"}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"5\" is quoted "
     "(expected a number without quotes)"},
    {YEAR "      production_tonnes: {zinc: abc}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"abc\" is not a number "
     "(expected e.g. 0.85 or 280000)"},
    {YEAR "      production_tonnes: {zinc: .5}\n", ":5:33: targets.years[0]."
                                                   "production_tonnes.zinc: \".5\" is not a number"},
    {YEAR "      production_tonnes: {zinc: 5.}\n", ":5:33: targets.years[0]."
                                                   "production_tonnes.zinc: \"5.\" is not a number"},
    {YEAR "      production_tonnes: {zinc: 0x10}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"0x10\" is not a number"},
    {YEAR "      production_tonnes: {zinc: 1_000}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"1_000\" is not a number"},
    {YEAR "      production_tonnes: {zinc: .inf}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \".inf\" is not a number"},
    {YEAR "      production_tonnes: {zinc: 1e999}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"1e999\" is not a number"},
    {YEAR "      production_tonnes: {zinc: 1e}\n",
     ":5:33: targets.years[0].production_tonnes.zinc: \"1e\" is not a number"},
    {YEAR "      production_tonnes: {zinc: }\n",
     ":5:33: targets.years[0].production_tonnes.zinc: found an empty value, expected a number"},
    {YEAR "      production_tonnes: [1, 2]\n",
     ":5:26: targets.years[0].production_tonnes: found a sequence, expected a mapping"},
    {YEAR "      production_tonnes: {zinc: 1, zinc: 2}\n",
     ":5:36: targets.years[0].production_tonnes: duplicate key \"zinc\" "
     "(first at line 5, column 27)"},
    {YEAR "      growth: {zinc: -1}\n",
     ":5:22: targets.years[0].growth.zinc: -1 is out of range (expected > -1)"},
    {YEAR "      waste_recycling_ratio: 1.5\n",
     ":5:30: targets.years[0].waste_recycling_ratio: 1.5 is out of range (expected 0..1)"},
    {YEAR "      co2_intensity_tonnes_per_tonne: -0.1\n",
     ":5:39: targets.years[0].co2_intensity_tonnes_per_tonne: -0.1 is out of range "
     "(expected >= 0)"},
    {YEAR "      energy_intensity_mwh_per_tonne: x\n",
     ":5:39: targets.years[0].energy_intensity_mwh_per_tonne: \"x\" is not a number"},
    {YEAR "      co2_intensity: 1\n", ":5:7: targets.years[0]: unknown key \"co2_intensity\""},
    /* targets referring to metals that come later in the file */
    {"targets:\n  years:\n    - year: 2025\n      growth: {lead: 0.1}\nmetals: [copper]\n",
     ":4:16: targets.years[0].growth.lead: unknown metal \"lead\" (expected one of: copper)"},
    /* a long list of candidates is cut short */
    {"metals: [" A56 "_1, " A56 "_2, " A56 "_3, " A56 "_4, " A56 "_5, " A56 "_6]\n"
     "targets: {years: [{year: 2025, growth: {lead: 1}}]}\n",
     ":2:41: targets.years[0].growth.lead: unknown metal \"lead\" (expected one of: " A56
     "_1, " A56 "_2, " A56 "_3, " A56 "_4, " A56 "_5, ...)"},
    /* benchmarks */
    {METALS "targets: {benchmarks: [a]}\n",
     ":2:23: targets.benchmarks: found a sequence, expected a mapping"},
    {METALS "targets:\n  benchmarks:\n    Leader: {waste_recycling_ratio: 1}\n",
     ":4:5: targets.benchmarks.Leader: \"Leader\" is not a valid name"},
    {METALS "targets:\n  benchmarks:\n    leader: {co2: 1}\n",
     ":4:14: targets.benchmarks.leader: unknown key \"co2\" (expected one of: "
     "co2_intensity_tonnes_per_tonne, energy_intensity_mwh_per_tonne, waste_recycling_ratio)"},
    {METALS "targets:\n  benchmarks:\n    leader: 5\n",
     ":4:13: targets.benchmarks.leader: found \"5\", expected a mapping"},
    {METALS "targets:\n  benchmarks:\n    leader: {}\n    leader: {}\n",
     ":5:5: targets.benchmarks: duplicate key \"leader\" (first at line 4, column 5)"},
    {METALS "targets:\n  benchmarks:\n    leader: {waste_recycling_ratio: -0.5}\n",
     ":4:37: targets.benchmarks.leader.waste_recycling_ratio: -0.5 is out of range "
     "(expected 0..1)"},
    /* initiatives */
    {METALS "targets: {initiatives: {}}\n",
     ":2:24: targets.initiatives: found a mapping, expected a sequence"},
    {INITIATIVE "      measure: capacity_increase_ratio\n" DATES,
     ":4:7: targets.initiatives[0]: missing required key \"baseline\" "
     "(measure capacity_increase_ratio needs it)"},
    {INITIATIVE "      measure: workers_certified\n      baseline: 100\n" DATES,
     ":7:7: targets.initiatives[0]: key \"baseline\" is only for measure "
     "capacity_increase_ratio (this one is workers_certified)"},
    {INITIATIVE "      measure: green_plants_operational\n      baseline: 5\n" DATES,
     ":7:7: targets.initiatives[0]: key \"baseline\" is only for measure"},
    {INITIATIVE "      measure: capacity_increase_ratio\n      baseline: 0\n" DATES,
     ":7:17: targets.initiatives[0].baseline: 0 is out of range (expected > 0)"},
    {INITIATIVE "      measure: worker_certified\n" DATES,
     ":6:16: targets.initiatives[0].measure: unknown measure \"worker_certified\" "
     "(did you mean \"workers_certified\"?)"},
    {INITIATIVE "      measure: more_copper\n" DATES,
     ":6:16: targets.initiatives[0].measure: unknown measure \"more_copper\" (expected one of: "
     "capacity_increase_ratio, green_plants_operational, workers_certified)"},
    {INITIATIVE "      measure: workers_certified\n      start: 2023-01-01\n",
     ":4:7: targets.initiatives[0]: missing required key \"deadline\""},
    {INITIATIVE "      measure: workers_certified\n"
                "      start: 2023-02-30\n      deadline: 2024-01-01\n",
     ":7:14: targets.initiatives[0].start: \"2023-02-30\" is not a date (expected YYYY-MM-DD)"},
    {INITIATIVE "      measure: workers_certified\n"
                "      start: 2023-01-01\n      deadline: 2024-1-1\n",
     ":8:17: targets.initiatives[0].deadline: \"2024-1-1\" is not a date"},
    {INITIATIVE "      measure: workers_certified\n"
                "      start: 2023-01-01T00:00:00Z\n      deadline: 2024-01-01\n",
     ":7:14: targets.initiatives[0].start: \"2023-01-01T00:00:00Z\" is not a date"},
    {INITIATIVE "      measure: workers_certified\n"
                "      start: 2024-01-01\n      deadline: 2023-12-31\n",
     ":8:17: targets.initiatives[0].deadline: 2023-12-31 is not after start 2024-01-01"},
    {INITIATIVE "      measure: workers_certified\n"
                "      start: 2024-01-01\n      deadline: 2024-01-01\n",
     ":8:17: targets.initiatives[0].deadline: 2024-01-01 is not after start 2024-01-01"},
    {METALS "targets:\n  initiatives:\n"
            "    - {name: i, measure: workers_certified, target: 1, start: 2023-01-01,\n"
            "       deadline: 2024-01-01}\n"
            "    - {name: i, measure: workers_certified, target: 2, start: 2023-01-01,\n"
            "       deadline: 2024-01-01}\n",
     ":6:14: targets.initiatives[1].name: duplicate name \"i\" (first at line 4, column 14)"},
    {METALS "targets:\n  initiatives:\n    - name: i\n"
            "      measure: workers_certified\n" DATES,
     ":4:7: targets.initiatives[0]: missing required key \"target\""},
    {INITIATIVE "      measure: workers_certified\n" DATES "      owner: me\n",
     ":9:7: targets.initiatives[0]: unknown key \"owner\""},
    /* remote_write */
    {METALS "remote_write:\n  - name: vm\n",
     ":3:5: remote_write[0]: missing required key \"url\""},
    {METALS "remote_write:\n  - url: file:///srv/x\n",
     ":3:10: remote_write[0].url: \"file:///srv/x\" is a file URL (expected http:// or "
     "https://)"},
    {RW "    external_labels: {__name__: x}\n",
     ":4:23: remote_write[0].external_labels.__name__: \"__name__\" starts with __, which "
     "Prometheus reserves (__name__ is the metric name)"},
    {RW "    external_labels: {1dc: x}\n",
     ":4:23: remote_write[0].external_labels.1dc: \"1dc\" is not a label name (expected "
     "[a-zA-Z_][a-zA-Z0-9_]*)"},
    {RW "    external_labels: {dc: \"\"}\n",
     ":4:27: remote_write[0].external_labels.dc: \"\" is empty (remote write sends no empty "
     "label values)"},
    {RW "    batch_max_samples: 500\n    queue_max_samples: 100\n",
     ":5:24: remote_write[0].queue_max_samples: 100 is less than batch_max_samples 500 "
     "(expected at least one batch)"},
    {RW "    min_backoff: 1s\n    max_backoff: 500ms\n",
     ":5:18: remote_write[0].max_backoff: 500ms is shorter than min_backoff"},
    {RW "    bearer_token_file: t\n    basic_auth: {username: u, password_file: p}\n",
     ":5:5: remote_write[0]: bearer_token_file and basic_auth are both set (expected one)"},
    {RW "    headers: {Authorization: x}\n",
     ":4:15: remote_write[0].headers.Authorization: \"Authorization\" is set by ingotd"},
    {RW "    timeout: 0s\n", ":4:14: remote_write[0].timeout: 0s is out of range"},
    {RW "    batch_max_samples: 0\n",
     ":4:24: remote_write[0].batch_max_samples: 0 is out of range (expected 1..100000)"},
    {RW "    retry_on_http_429: sometimes\n", ":4:24: remote_write[0].retry_on_http_429:"},
    {RW "    queue_capacity: 10\n", ":4:5: remote_write[0]: unknown key \"queue_capacity\""},
    {RW "    name: VM\n", ":4:11: remote_write[0].name: \"VM\" is not a valid name"},
    {RW "  - url: http://vm:8428/api/v1/write\n",
     ":4:10: remote_write[1].url: remote name \"vm:8428/api/v1/write\" is also "
     "remote_write[0]'s (expected unique names: give one a name)"},
    {RW "    name: a\n  - {url: http://other/api/v1/write, name: a}\n",
     ":5:44: remote_write[1].name: remote name \"a\" is also remote_write[0]'s (expected "
     "unique names)"},
};

static void test_error_cases(void **state)
{
    (void)state;
    size_t failures = 0;
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct config_errors errors;
        struct config *cfg = load_yaml(c->yaml, &errors);
        if (cfg || errors.count != 1 || !strstr(errors.messages[0], c->expect)) {
            print_message("case %zu: expected one error with \"%s\", got %zu:\n", i, c->expect,
                          errors.count);
            print_errors(&errors);
            failures++;
        }
        config_free(cfg);
        config_errors_free(&errors);
    }
    assert_int_equal(failures, 0);
}

/* Every message starts with the path it was loaded from. */
static void test_error_prefix(void **state)
{
    (void)state;
    char path[512], expected[600];
    write_temp("metals: [A]\n", 12, path, sizeof(path));
    struct config_errors errors;
    assert_null(config_load(path, &errors));
    unlink(path);
    assert_int_equal(errors.count, 1);
    snprintf(expected, sizeof(expected), "%s:1:10: metals[0]: \"A\" is not a valid name", path);
    assert_int_equal(strncmp(errors.messages[0], expected, strlen(expected)), 0);
    config_errors_free(&errors);
    assert_int_equal(errors.count, 0);
    config_errors_free(&errors); /* twice is harmless */
}

/* Everything wrong in one file is reported at once, in file order. */
static void test_many_errors(void **state)
{
    (void)state;
    static const char yaml[] =
        "targets:\n"                                            /* 1 */
        "  years:\n"                                            /* 2 */
        "    - year: 2025\n"                                    /* 3 */
        "      growth: {coper: 0.1, zinc: -2}\n"                /* 4 */
        "    - year: 2025\n"                                    /* 5 */
        "metals: [copper, zinc]\n"                              /* 6 */
        "evaluation_interval: 5 minutes\n"                      /* 7 */
        "feeds:\n"                                              /* 8 */
        "  - name: f\n"                                         /* 9 */
        "    url: gopher://h\n"                                 /* 10 */
        "    format: json\n"                                    /* 11 */
        "    timeout: 10m\n"                                    /* 12 */
        "    plants: [Bad]\n"                                   /* 13 */
        "  - name: f\n"                                         /* 14 */
        "    url: https://h\n"                                  /* 15 */
        "    format: csv\n"                                     /* 16 */
        "    plants: [a]\n"                                     /* 17 */
        "    plant: [b]\n"                                      /* 18 */
        "web: {listen_address: nowhere}\n"                      /* 19 */
        "web: {}\n";                                            /* 20 */
    static const char *const expected[] = {
        ":4:16: targets.years[0].growth.coper: unknown metal \"coper\" (did you mean \"copper\"?)",
        ":4:34: targets.years[0].growth.zinc: -2 is out of range",
        ":5:13: targets.years[1].year: duplicate year \"2025\"",
        ":7:22: evaluation_interval: \"5 minutes\" is not a duration",
        ":10:10: feeds[0].url: \"gopher://h\" has an unsupported scheme",
        ":12:14: feeds[0].timeout: 10m is longer than the interval 5m",
        ":13:14: feeds[0].plants[0]: \"Bad\" is not a valid plant id",
        ":14:11: feeds[1].name: duplicate name \"f\"",
        ":18:5: feeds[1]: unknown key \"plant\" (did you mean \"plants\"?)",
        ":19:23: web.listen_address: \"nowhere\" has no port",
        ":20:1: duplicate key \"web\" (first at line 19, column 1)",
    };
    struct config_errors errors;
    assert_null(load_yaml(yaml, &errors));
    if (errors.count != sizeof(expected) / sizeof(expected[0]))
        print_errors(&errors);
    assert_int_equal(errors.count, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < errors.count; i++)
        if (!strstr(errors.messages[i], expected[i]))
            fail_msg("message %zu is \"%s\", expected \"%s\"", i, errors.messages[i],
                     expected[i]);
    config_errors_free(&errors);
}

/* A broken metals list silences "unknown metal": the name may be right. */
static void test_bad_metals_skip_metal_checks(void **state)
{
    (void)state;
    struct config_errors errors;
    assert_null(load_yaml("metals: [copper, Zinc]\n"
                          "targets: {years: [{year: 2025, growth: {Zinc: 1, zinc: x}}]}\n",
                          &errors));
    assert_int_equal(errors.count, 2);
    assert_non_null(strstr(errors.messages[0], ":1:18: metals[1]: \"Zinc\" is not a valid name"));
    assert_non_null(strstr(errors.messages[1], ":2:56: targets.years[0].growth.zinc: \"x\" is not "
                                               "a number"));
    config_errors_free(&errors);
}

/* "metals: [m00, m01, ...]" with n metals. */
static void metals_yaml(char *buf, size_t size, int n)
{
    size_t used = (size_t)snprintf(buf, size, "metals: [");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, size - used, "%sm%02d", i ? ", " : "", i);
    snprintf(buf + used, size - used, "]\n");
}

static void test_too_many_metals(void **state)
{
    (void)state;
    char yaml[1024];
    metals_yaml(yaml, sizeof(yaml), CONFIG_MAX_METALS);
    struct config *cfg = load_ok(yaml);
    assert_int_equal(cfg->n_metals, CONFIG_MAX_METALS);
    config_free(cfg);

    metals_yaml(yaml, sizeof(yaml), CONFIG_MAX_METALS + 1);
    struct config_errors errors;
    assert_null(load_yaml(yaml, &errors));
    assert_int_equal(errors.count, 1);
    /* "metals: [" is 9 columns, each earlier "mNN, " 5 more. */
    char expected[64];
    snprintf(expected, sizeof(expected), ":1:%d: metals[%d]: more than %d metals",
             10 + 5 * CONFIG_MAX_METALS, CONFIG_MAX_METALS, CONFIG_MAX_METALS);
    assert_non_null(strstr(errors.messages[0], expected));
    config_errors_free(&errors);
}

static void test_unreadable_file(void **state)
{
    (void)state;
    struct config_errors errors;
    assert_null(config_load("/nonexistent/ingot.yaml", &errors));
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.messages[0], "/nonexistent/ingot.yaml: No such file or directory");
    config_errors_free(&errors);

    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/test_config_dir_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    assert_null(config_load(dir, &errors));
    rmdir(dir);
    assert_int_equal(errors.count, 1);
    assert_non_null(strstr(errors.messages[0], ": Is a directory"));
    config_errors_free(&errors);
}

static void test_file_too_large(void **state)
{
    (void)state;
    size_t len = (4u << 20) + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '#', len);
    char path[512];
    write_temp(text, len, path, sizeof(path));
    free(text);
    struct config_errors errors;
    assert_null(config_load(path, &errors));
    unlink(path);
    assert_int_equal(errors.count, 1);
    assert_non_null(strstr(errors.messages[0], ": File too large (the limit is 4194304 bytes)"));
    config_errors_free(&errors);
}

/* The file the project ships, when a colleague has written it. */
static void test_shipped_config(void **state)
{
    (void)state;
    const char *path = INGOT_SOURCE_DIR "/conf/ingot.yaml";
    struct stat st;
    if (stat(path, &st) != 0)
        skip();
    struct config_errors errors;
    struct config *cfg = config_load(path, &errors);
    print_errors(&errors);
    assert_non_null(cfg);
    assert_int_equal(errors.count, 0);
    assert_true(cfg->n_metals > 0);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_state_dir),
        cmocka_unit_test(test_feed_options),
        cmocka_unit_test(test_remote_write),
        cmocka_unit_test(test_accepted_values),
        cmocka_unit_test(test_order_and_aliases),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_error_cases),
        cmocka_unit_test(test_error_prefix),
        cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_bad_metals_skip_metal_checks),
        cmocka_unit_test(test_too_many_metals),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_file_too_large),
        cmocka_unit_test(test_shipped_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
