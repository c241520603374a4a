/*
 * test_status_page: the HTML status page of a small fleet delivered by a
 * real feed (a file:// document fetched on the event loop): a plant name,
 * region and feed name full of HTML metacharacters come out escaped and
 * never raw; every data-metric element carries exactly the value and
 * labels of a sample line of /metrics rendered from the same state (and
 * a few are checked by hand); series /metrics omits are not on the page;
 * no external URL; the page stays under 64 KB; an empty store renders.
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
#include <unistd.h>

#include "evaluation.h"
#include "feeds.h"
#include "fetch.h"
#include "metrics.h"
#include "status_page.h"
#include "test_config_fixture.h"

#define HOSTILE_PLANT "<script>alert(\"x\")</script> & 'Co'"
#define HOSTILE_PLANT_HTML "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"
#define HOSTILE_FEED "f<i>\"&amp;"
#define HOSTILE_FEED_HTML "f&lt;i&gt;&quot;&amp;amp;"

/* kz-a: copper 2025-01 and 2024-01 (growth 9800.5 / 9000 - 1), CO2 and
 * energy; kz-b: copper 2024-02 only. One record of an unknown metal is
 * rejected. */
static const char fleet[] =
    "{\"schema\":\"ingot.feed.v1\",\"plants\":["
    "{\"id\":\"kz-a\",\"name\":\"<script>alert(\\\"x\\\")</script> & 'Co'\","
    "\"region\":\"<b>East</b>\",\"capacity_tonnes_per_year\":750,\"green_operational\":true,"
    "\"workers_certified\":1200,"
    "\"records\":[{\"metal\":\"copper\",\"period\":\"2025-01\",\"production_tonnes\":9800.5,"
    "\"co2_tonnes\":9300.25,\"energy_mwh\":45000},"
    "{\"metal\":\"copper\",\"period\":\"2024-01\",\"production_tonnes\":9000},"
    "{\"metal\":\"gold\",\"period\":\"2025-01\",\"production_tonnes\":1}]},"
    "{\"id\":\"kz-b\",\"records\":[{\"metal\":\"copper\",\"period\":\"2024-02\","
    "\"production_tonnes\":500}]}]}";

struct fixture {
    char path[64];
    char url[96];
    struct config_feed feeds[2];
    struct config config;
    char *page;
    size_t page_len;
    char *metrics; /* with a leading newline, so every line is "\n...\n" */
};

static void on_changed(void *arg)
{
    event_base_loopbreak(arg);
}

/* Renders the page and the metrics of config after its first feed
 * delivered the fleet document. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/test_status_page.XXXXXX");
    int fd = mkstemp(f->path);
    if (fd < 0 || write(fd, fleet, strlen(fleet)) != (ssize_t)strlen(fleet))
        return -1;
    close(fd);
    snprintf(f->url, sizeof(f->url), "file://%s", f->path);
    memcpy(f->feeds, fixture_feeds, sizeof(f->feeds));
    f->feeds[0].name = HOSTILE_FEED;
    f->feeds[0].url = f->url;
    f->feeds[1].interval_ms = 3600000; /* /dev/null: fetched once, down */
    f->config = fixture_config;
    f->config.feeds = f->feeds;

    struct event_base *base = event_base_new();
    struct store *store = store_new();
    struct eval_clock clock = {.fixed = true, .at = FIXTURE_NOW};
    struct feeds *feeds = feeds_new(base, store, &clock, on_changed, base);
    assert_int_equal(feeds_configure(feeds, &f->config), 0);
    struct timeval limit = {.tv_sec = 10};
    event_base_loopexit(base, &limit);
    while (feeds_stats(feeds, 0)->fetches_ok == 0 && !event_base_got_exit(base))
        event_base_dispatch(base);
    assert_int_equal(feeds_stats(feeds, 0)->fetches_ok, 1);

    struct evaluation *ev = evaluation_run(store, &f->config, FIXTURE_NOW);
    struct status_page_input in = {.config = &f->config, .store = store, .evaluation = ev,
                                   .feeds = feeds, .telemetry_path = "/metrics"};
    f->page = status_page_render(&in, &f->page_len);
    size_t len = 0;
    char *metrics = metrics_render(&f->config, store, ev, feeds, EXPO_FORMAT_TEXT, &len);
    f->metrics = malloc(len + 2);
    f->metrics[0] = '\n';
    memcpy(f->metrics + 1, metrics, len + 1);
    free(metrics);
    evaluation_free(ev);
    feeds_free(feeds);
    store_free(store);
    event_base_free(base);
    *state = f;
    return f->page ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    free(f->page);
    free(f->metrics);
    free(f);
    fetch_global_cleanup();
    return 0;
}

/* Reads the HTML-escaped text at *s up to stop into out, unescaped. */
static void unescape_until(const char **s, char stop, char *out, size_t size)
{
    static const struct {
        const char *entity;
        char c;
    } entities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
    size_t o = 0;
    while (**s && **s != stop) {
        char c = **s;
        size_t skip = 1;
        for (size_t i = 0; c == '&' && i < sizeof(entities) / sizeof(entities[0]); i++)
            if (strncmp(*s, entities[i].entity, strlen(entities[i].entity)) == 0) {
                c = entities[i].c;
                skip = strlen(entities[i].entity);
            }
        if (o + 1 < size)
            out[o++] = c;
        *s += skip;
    }
    out[o] = '\0';
}

/* Appends value to line as an exposition label value (\\, \" and \n escaped). */
static void append_label_value(char *line, size_t size, const char *value)
{
    size_t o = strlen(line);
    for (; *value && o + 3 < size; value++) {
        if (*value == '\\' || *value == '"' || *value == '\n')
            line[o++] = '\\';
        line[o++] = *value == '\n' ? 'n' : *value;
    }
    line[o] = '\0';
}

/* The exposition line the data-metric element at s stands for:
 * "name{label="value",...} value", as metrics_render writes it. Returns
 * the end of the element. */
static const char *element_line(const char *s, char *line, size_t size)
{
    char name[128], value[512];
    s += strlen("data-metric=\"");
    unescape_until(&s, '"', name, sizeof(name));
    snprintf(line, size, "%s", name);
    s++;
    int labels = 0;
    while (*s == ' ' && strncmp(s + 1, "data-", 5) == 0) {
        s += 6;
        unescape_until(&s, '=', name, sizeof(name));
        assert_true(s[0] == '=' && s[1] == '"');
        s += 2;
        unescape_until(&s, '"', value, sizeof(value));
        s++;
        strncat(line, labels++ ? "," : "{", size - strlen(line) - 1);
        strncat(line, name, size - strlen(line) - 1);
        strncat(line, "=\"", size - strlen(line) - 1);
        append_label_value(line, size, value);
        strncat(line, "\"", size - strlen(line) - 1);
    }
    assert_int_equal(*s, '>');
    s++;
    if (labels)
        strncat(line, "}", size - strlen(line) - 1);
    strncat(line, " ", size - strlen(line) - 1);
    unescape_until(&s, '<', value, sizeof(value));
    strncat(line, value, size - strlen(line) - 1);
    assert_true(strncmp(s, "</span>", 7) == 0);
    return s;
}

static void test_escaping(void **state)
{
    const struct fixture *f = *state;
    assert_non_null(strstr(f->page, "<td>" HOSTILE_PLANT_HTML "</td>"));
    assert_non_null(strstr(f->page, "<td>&lt;b&gt;East&lt;/b&gt;</td>"));
    assert_non_null(strstr(f->page, "<th scope=\"row\">" HOSTILE_FEED_HTML "</th>"));
    assert_non_null(strstr(f->page, "data-feed=\"" HOSTILE_FEED_HTML "\""));
    assert_null(strstr(f->page, "<script"));
    assert_null(strstr(f->page, "<b>"));
    assert_null(strstr(f->page, "<i>"));
    assert_null(strstr(f->page, HOSTILE_PLANT));
    assert_null(strstr(f->page, HOSTILE_FEED));
}

/* Every data-metric element is a sample line of /metrics, value and all. */
static void test_elements_match_metrics(void **state)
{
    const struct fixture *f = *state;
    size_t n = 0;
    char line[1024], needle[1040];
    for (const char *s = f->page; (s = strstr(s, "data-metric=\"")) != NULL; n++) {
        s = element_line(s, line, sizeof(line));
        snprintf(needle, sizeof(needle), "\n%s\n", line);
        if (!strstr(f->metrics, needle))
            fail_msg("page element not in /metrics: %s", line);
    }
    /* Production 7 + 5 + 5 (plants reporting included; zinc and aluminum:
     * no projection, no growth), output 1 (its target), intensities
     * 3 + 3 + 2 (no waste reported) and the CO2 coverage 1,
     * initiatives 3 x 5, feeds 6 + 4 (csv: no success), plants 2. */
    assert_int_equal(n, 52);
}

static void assert_element(const struct fixture *f, const char *attributes, const char *value)
{
    char needle[512];
    snprintf(needle, sizeof(needle), "%s>%s</span>", attributes, value);
    if (!strstr(f->page, needle))
        fail_msg("missing element: %s", needle);
}

static void test_exact_values(void **state)
{
    const struct fixture *f = *state;
    assert_element(f, "data-metric=\"ingot_national_production_tonnes\" data-metal=\"copper\" "
                      "data-year=\"2025\"", "9800.5");
    assert_element(f, "data-metric=\"ingot_target_production_tonnes\" data-metal=\"aluminum\" "
                      "data-year=\"2025\"", "320000");
    /* 9800.5 / 9000 - 1 and 9800.5 / 280000, as Go's ParseFloat reads them back. */
    assert_element(f, "data-metric=\"ingot_national_production_growth_ratio\" "
                      "data-metal=\"copper\" data-year=\"2025\"", "0.08894444444444449");
    assert_element(f, "data-metric=\"ingot_target_progress_ratio\" data-metal=\"copper\" "
                      "data-year=\"2025\"", "0.035001785714285714");
    assert_element(f, "data-metric=\"ingot_national_production_projected_tonnes\" "
                      "data-metal=\"copper\" data-year=\"2025\"", "117606");
    assert_element(f, "data-metric=\"ingot_national_co2_intensity_tonnes_per_tonne\" "
                      "data-year=\"2025\"", "0.9489566858833733");
    assert_element(f, "data-metric=\"ingot_target_output_vs_baseline_ratio\" data-year=\"2025\"",
                   "2");
    assert_element(f, "data-metric=\"ingot_benchmark_energy_intensity_mwh_per_tonne\" "
                      "data-benchmark=\"global_leader_avg\"", "5");
    assert_element(f, "data-metric=\"ingot_initiative_deadline_timestamp_seconds\" "
                      "data-initiative=\"green_plants\"", "1743379200");
    assert_element(f, "data-metric=\"ingot_initiative_value\" "
                      "data-initiative=\"workforce_certification\"", "1200");
    assert_element(f, "data-metric=\"ingot_feed_up\" data-feed=\"" HOSTILE_FEED_HTML "\"", "1");
    assert_element(f, "data-metric=\"ingot_feed_up\" data-feed=\"csv\"", "0");
    assert_element(f, "data-metric=\"ingot_feed_records_accepted_total\" data-feed=\""
                      HOSTILE_FEED_HTML "\"", "3");
    assert_element(f, "data-metric=\"ingot_feed_records_rejected_total\" data-feed=\""
                      HOSTILE_FEED_HTML "\" data-reason=\"unknown_metal\"", "1");
    /* Data quality: one plant made copper in 2025, with its CO2. */
    assert_element(f, "data-metric=\"ingot_national_plants_reporting\" data-metal=\"copper\" "
                      "data-year=\"2025\"", "1");
    assert_element(f, "data-metric=\"ingot_national_plants_reporting\" data-metal=\"zinc\" "
                      "data-year=\"2025\"", "0");
    assert_element(f, "data-metric=\"ingot_national_emissions_coverage_ratio\" "
                      "data-year=\"2025\"", "1");
    /* The hostile feed, which may write kz-b, succeeded just now. */
    assert_element(f, "data-metric=\"ingot_plant_stale\" data-plant=\"kz-b\"", "0");
    /* The national picture shows the current and target year (2025 only). */
    assert_null(strstr(f->page, "data-year=\"2024\""));
    assert_non_null(strstr(f->page, "<h2>2025 <span class=\"note\">current year, 53.4% elapsed"));
    /* No output in the baseline year: no ratio against it, and no element. */
    assert_null(strstr(f->page, "data-metric=\"ingot_national_output_vs_baseline_ratio\""));
}

static void test_self_contained(void **state)
{
    const struct fixture *f = *state;
    assert_int_equal(strlen(f->page), f->page_len);
    assert_true(f->page_len < 64 * 1024);
    assert_null(strstr(f->page, "http://"));
    assert_null(strstr(f->page, "https://"));
    assert_null(strstr(f->page, "<script"));
    assert_null(strstr(f->page, "<link"));
    assert_null(strstr(f->page, "<img"));
    assert_null(strstr(f->page, " style=\""));
    assert_null(strstr(f->page, "NaN"));
    assert_null(strstr(f->page, "Inf<"));
    assert_true(strncmp(f->page, "<!DOCTYPE html>\n", 16) == 0);
    assert_non_null(strstr(f->page, "<meta name=\"viewport\""));
    assert_non_null(strstr(f->page, "href=\"/metrics\""));
    assert_non_null(strstr(f->page, "href=\"/snapshot\""));
    assert_non_null(strstr(f->page, "/usr/share/doc/ingot/"));
    assert_true(strcmp(f->page + f->page_len - 15, "</body></html>\n") == 0);
}

/* Nothing reported, no feed configured: the page still renders. */
static void test_empty(void **state)
{
    (void)state;
    struct config config = fixture_config;
    config.n_feeds = 0;
    struct store *store = store_new();
    struct evaluation *ev = evaluation_run(store, &config, FIXTURE_NOW);
    struct status_page_input in = {.config = &config, .store = store, .evaluation = ev,
                                   .telemetry_path = "/m\"<"};
    size_t len = 0;
    char *page = status_page_render(&in, &len);
    assert_non_null(page);
    assert_non_null(strstr(page, "No plant has reported yet."));
    assert_non_null(strstr(page, "href=\"/m&quot;&lt;\""));
    assert_null(strstr(page, "id=\"feeds\""));
    assert_non_null(strstr(page, "data-metric=\"ingot_national_production_tonnes\" "
                                 "data-metal=\"zinc\" data-year=\"2025\">0</span>"));
    free(page);
    evaluation_free(ev);
    store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_elements_match_metrics),
        cmocka_unit_test(test_exact_values),
        cmocka_unit_test(test_self_contained),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
