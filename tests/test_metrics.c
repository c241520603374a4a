/*
 * test_metrics: the domain exposition as a whole: every family once, with
 * HELP before TYPE before its samples and all its samples together; exact
 * sample lines for national figures, targets, plants (with a name that
 * needs escaping) and feeds; no sample whose value is not finite.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation.h"
#include "feeds.h"
#include "ingest.h"
#include "metrics.h"
#include "test_config_fixture.h"

static const char fleet[] =
    "{\"schema\":\"ingot.feed.v1\",\"plants\":["
    "{\"id\":\"kz-a\",\"name\":\"Kazzinc \\\"Ridder\\\" \\\\ complex\",\"region\":\"East\","
    "\"capacity_tonnes_per_year\":750,\"green_operational\":true,"
    "\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\",\"production_tonnes\":9800.5,"
    "\"co2_tonnes\":9300.25,\"energy_mwh\":45000}]},"
    "{\"id\":\"kz-b\",\"records\":[{\"metal\":\"copper\",\"period\":\"2024-01\","
    "\"production_tonnes\":9000}]}]}";

static void noop(void *arg)
{
    (void)arg;
}

struct rendered {
    char *text;
    size_t len;
};

static int setup(void **state)
{
    struct store *store = store_new();
    struct ingest_counts c = {0};
    char err[256];
    assert_int_equal(ingest_document(store, &fixture_config, &fixture_feeds[0], FIXTURE_NOW,
                                     fleet, strlen(fleet), &c, err, sizeof(err)),
                     0);
    struct event_base *base = event_base_new();
    struct eval_clock clock = {.fixed = true, .at = FIXTURE_NOW};
    struct feeds *feeds = feeds_new(base, store, &clock, noop, NULL);
    assert_int_equal(feeds_configure(feeds, &fixture_config), 0);
    struct evaluation *ev = evaluation_run(store, &fixture_config, FIXTURE_NOW);
    struct rendered *r = calloc(1, sizeof(*r));
    r->text = metrics_render(&fixture_config, store, ev, feeds, EXPO_FORMAT_TEXT, &r->len);
    evaluation_free(ev);
    feeds_free(feeds);
    event_base_free(base);
    store_free(store);
    *state = r;
    return r->text ? 0 : -1;
}

static int teardown(void **state)
{
    struct rendered *r = *state;
    free(r->text);
    free(r);
    return 0;
}

static void assert_line(const struct rendered *r, const char *line)
{
    char needle[512];
    snprintf(needle, sizeof(needle), "\n%s\n", line);
    if (!strstr(r->text, needle))
        fail_msg("missing line: %s", line);
}

static void test_sample_lines(void **state)
{
    const struct rendered *r = *state;
    assert_line(r, "ingot_national_production_tonnes{metal=\"copper\",year=\"2025\"} 9800.5");
    assert_line(r, "ingot_national_production_tonnes{metal=\"zinc\",year=\"2023\"} 0");
    assert_line(r, "ingot_national_production_growth_ratio{metal=\"copper\",year=\"2025\"} "
                   "0.08894444444444449");
    assert_line(r, "ingot_national_production_projected_tonnes{metal=\"copper\",year=\"2025\"} "
                   "117606");
    assert_line(r, "ingot_target_production_tonnes{metal=\"aluminum\",year=\"2025\"} 320000");
    assert_line(r, "ingot_target_growth_ratio{metal=\"copper\",year=\"2025\"} 0.085");
    assert_line(r, "ingot_national_co2_intensity_tonnes_per_tonne{year=\"2025\"} "
                   "0.9489566858833733");
    assert_line(r, "ingot_target_output_vs_baseline_ratio{year=\"2025\"} 2");
    assert_line(r, "ingot_benchmark_energy_intensity_mwh_per_tonne{benchmark=\"global_leader_avg\"} 5");
    assert_line(r, "ingot_initiative_deadline_timestamp_seconds{initiative=\"green_plants\"} "
                   "1743379200");
    assert_line(r, "ingot_initiative_target{initiative=\"smelting_capacity\"} 0.4");
    assert_line(r, "ingot_plant_info{plant=\"kz-a\",plant_name=\"Kazzinc \\\"Ridder\\\" \\\\ "
                   "complex\",plant_region=\"East\"} 1");
    assert_line(r, "ingot_plant_info{plant=\"kz-b\"} 1");
    assert_line(r, "ingot_plant_production_tonnes{plant=\"kz-a\",metal=\"copper\",year=\"2025\"} "
                   "9800.5");
    assert_line(r, "ingot_plant_co2_tonnes{plant=\"kz-a\",metal=\"copper\",year=\"2025\"} 9300.25");
    assert_line(r, "ingot_plant_green_operational{plant=\"kz-a\"} 1");
    /* Latest periods 2025-01 and 2024-01; no feed ever succeeded: stale. */
    assert_line(r, "ingot_plant_last_period_timestamp_seconds{plant=\"kz-a\",metal=\"copper\"} "
                   "1735689600");
    assert_line(r, "ingot_plant_last_period_timestamp_seconds{plant=\"kz-b\",metal=\"copper\"} "
                   "1704067200");
    assert_line(r, "ingot_plant_stale{plant=\"kz-a\"} 1");
    assert_line(r, "ingot_feed_interval_seconds{feed=\"prod\"} 60");
    assert_line(r, "ingot_feed_up{feed=\"prod\"} 0");
    assert_line(r, "ingot_feed_records_rejected_total{feed=\"csv\",reason=\"granularity_conflict\"} 0");
    /* Every result of the bounded set, 0 before any fetch. */
    for (int o = 0; o < FETCH_OUTCOME_COUNT; o++) {
        char line[128];
        snprintf(line, sizeof(line), "ingot_feed_fetches_total{feed=\"prod\",result=\"%s\"} 0",
                 fetch_outcome_names[o]);
        assert_line(r, line);
    }
    assert_null(strstr(r->text, "result=\"error\""));
    assert_line(r, "ingot_feed_consecutive_failures{feed=\"prod\"} 0");
    assert_line(r, "# TYPE ingot_feed_consecutive_failures gauge");
    /* Data quality: kz-a reported copper in 2025 (with CO2), kz-b in 2024 (without). */
    assert_line(r, "ingot_national_plants_reporting{metal=\"copper\",year=\"2025\"} 1");
    assert_line(r, "ingot_national_plants_reporting{metal=\"copper\",year=\"2024\"} 1");
    assert_line(r, "ingot_national_plants_reporting{metal=\"zinc\",year=\"2025\"} 0");
    assert_line(r, "ingot_national_emissions_coverage_ratio{year=\"2025\"} 1");
    assert_line(r, "ingot_national_emissions_coverage_ratio{year=\"2024\"} 0");
    assert_line(r, "# TYPE ingot_feed_records_accepted_total counter");
}

static void test_omitted_series(void **state)
{
    const struct rendered *r = *state;
    /* No output in the baseline year: no ratio against it. */
    assert_null(strstr(r->text, "ingot_national_output_vs_baseline_ratio{"));
    /* No production in 2023: no coverage. */
    assert_null(strstr(r->text, "ingot_national_emissions_coverage_ratio{year=\"2023\"}"));
    /* kz-b reported no CO2; kz-b has no capacity; no feed has succeeded. */
    assert_null(strstr(r->text, "ingot_plant_co2_tonnes{plant=\"kz-b\""));
    assert_null(strstr(r->text, "ingot_plant_capacity_tonnes_per_year{plant=\"kz-b\""));
    assert_null(strstr(r->text, "ingot_feed_last_success_timestamp_seconds{"));
    assert_null(strstr(r->text, "ingot_plant_last_period_timestamp_seconds{plant=\"kz-a\",metal=\"zinc\""));
    assert_null(strstr(r->text, "NaN"));
    assert_null(strstr(r->text, "Inf"));
}

/* Every family: one HELP, then one TYPE, then only its own samples. */
static void test_families_grouped(void **state)
{
    const struct rendered *r = *state;
    char seen[64][96];
    size_t n_seen = 0;
    char current[96] = "";
    const char *line = r->text;
    assert_true(r->len > 0 && r->text[r->len - 1] == '\n');
    assert_int_equal(strlen(r->text), r->len);
    while (*line) {
        const char *end = strchr(line, '\n');
        char name[96];
        if (strncmp(line, "# HELP ", 7) == 0) {
            sscanf(line + 7, "%95s", name);
            for (size_t i = 0; i < n_seen; i++)
                if (strcmp(seen[i], name) == 0)
                    fail_msg("family %s twice", name);
            assert_true(n_seen < 64);
            strcpy(seen[n_seen++], name);
            strcpy(current, name);
            assert_true(strncmp(end + 1, "# TYPE ", 7) == 0);
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            sscanf(line + 7, "%95s", name);
            assert_string_equal(name, current);
        } else {
            size_t len = strcspn(line, "{ ");
            assert_int_equal(len, strlen(current));
            assert_memory_equal(line, current, len);
        }
        line = end + 1;
    }
    assert_int_equal(n_seen, 42);
}

static void test_daemon_families(void **state)
{
    (void)state;
    struct http_server_stats http = {.open_connections = 3,
                                     .dropped = {[HTTP_DROP_READ_HEADER_TIMEOUT] = 7}};
    struct metrics_daemon daemon = {.last_reload_successful = 0,
                                    .last_reload_success_timestamp = 1752537600, .http = &http};
    struct expo *e = expo_new(EXPO_FORMAT_TEXT);
    metrics_render_daemon(e, &daemon);
    size_t len;
    struct rendered r = {.text = expo_take(e, &len)};
    r.len = len;
    expo_free(e);
    char *text = r.text;
    r.text = malloc(len + 2);
    r.text[0] = '\n';
    memcpy(r.text + 1, text, len + 1);
    free(text);
    assert_line(&r, "ingot_config_last_reload_successful 0");
    assert_line(&r, "ingot_config_last_reload_success_timestamp_seconds 1752537600");
    assert_line(&r, "ingot_http_open_connections 3");
    assert_line(&r, "ingot_http_connections_dropped_total{reason=\"read_header_timeout\"} 7");
    assert_line(&r, "ingot_http_connections_dropped_total{reason=\"max_connections\"} 0");
    free(r.text);
}

/* A push source is in the feed families that are not about fetching, and
 * in none of the others; its delivery keeps its plant fresh. */
static void test_push_source_families(void **state)
{
    (void)state;
    static char *plants[] = {"kz-a"};
    struct config_feed source = {.name = "pusher", .format = FEED_FORMAT_JSON,
                                 .stale_after_ms = 86400000, .plants = plants, .n_plants = 1,
                                 .token_file = "/dev/null"};
    struct config config = fixture_config;
    config.push_sources = &source;
    config.n_push_sources = 1;
    struct store *store = store_new();
    struct event_base *base = event_base_new();
    struct eval_clock clock = {.fixed = true, .at = FIXTURE_NOW};
    struct feeds *feeds = feeds_new(base, store, &clock, noop, NULL);
    assert_int_equal(feeds_configure(feeds, &config), 0);
    struct ingest_counts c = {0};
    char err[256];
    assert_int_equal(ingest_document(store, &config, &source, FIXTURE_NOW, fleet, strlen(fleet),
                                     &c, err, sizeof(err)), 0);
    feeds_push_delivered(feeds, 0, &c, true);
    /* kz-b's records come from "prod", which never succeeded. */
    struct ingest_counts pulled = {0};
    assert_int_equal(ingest_document(store, &config, &fixture_feeds[0], FIXTURE_NOW, fleet,
                                     strlen(fleet), &pulled, err, sizeof(err)), 0);
    struct evaluation *ev = evaluation_run(store, &config, FIXTURE_NOW);
    struct rendered r;
    r.text = metrics_render(&config, store, ev, feeds, EXPO_FORMAT_TEXT, &r.len);
    assert_non_null(r.text);
    assert_line(&r, "ingot_feed_records_accepted_total{feed=\"pusher\"} 1");
    assert_line(&r, "ingot_feed_records_rejected_total{feed=\"pusher\",reason=\"plant_not_allowed\"} 1");
    assert_line(&r, "ingot_feed_records_rejected_total{feed=\"pusher\",reason=\"invalid_plant\"} 0");
    assert_non_null(strstr(r.text, "\ningot_feed_last_success_timestamp_seconds{feed=\"pusher\"} "));
    assert_null(strstr(r.text, "ingot_feed_up{feed=\"pusher\"}"));
    assert_null(strstr(r.text, "ingot_feed_interval_seconds{feed=\"pusher\"}"));
    assert_null(strstr(r.text, "ingot_feed_fetch_duration_seconds{feed=\"pusher\"}"));
    assert_null(strstr(r.text, "ingot_feed_fetches_total{feed=\"pusher\""));
    assert_line(&r, "ingot_plant_stale{plant=\"kz-a\"} 0");
    assert_line(&r, "ingot_plant_stale{plant=\"kz-b\"} 1");
    free(r.text);
    evaluation_free(ev);
    feeds_free(feeds);
    event_base_free(base);
    store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_lines),
        cmocka_unit_test(test_omitted_series),
        cmocka_unit_test(test_families_grouped),
        cmocka_unit_test(test_daemon_families),
        cmocka_unit_test(test_push_source_families),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
