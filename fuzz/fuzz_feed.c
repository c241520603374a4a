/*
 * fuzz_feed: libFuzzer target for a feed document's whole way through
 * ingotd. Each input is ingested as a JSON feed and then as a CSV feed
 * (the fixture config's "prod" and "csv" feeds, which may write kz-a and
 * kz-b) into one fresh store at a fixed instant; the store is then
 * evaluated and rendered as /metrics would render it, as text 0.0.4 and as
 * OpenMetrics. The checks are the contracts that hold for any document: of
 * ingest.h (a failed document applies nothing and counts nothing; a
 * document read twice hands on the same records), store.h (plants sorted,
 * only allowed ones), evaluation.h and metrics.h/expo.h
 * (fuzz_check_exposition, in both formats).
 *
 * Logging is off below "error" unless INGOT_FUZZ_LOG names a level (e.g.
 * INGOT_FUZZ_LOG=debug, which also covers the rejection log lines, and
 * INGOT_FUZZ_LOG_FORMAT=json their JSON form; run with -close_fd_mask=2
 * then, or the log floods the terminal).
 */
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation.h"
#include "feeds.h"
#include "fuzz_check.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "test_config_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The feed stats metrics_render reads. Set up once, its loop never run:
 * no fetch ever starts, so every feed shows its initial stats. */
static struct event_base *idle_base;
static struct store *idle_store; /* the feeds' store, never written */
static const struct eval_clock fixed_clock = {.fixed = true, .at = FIXTURE_NOW};
static struct feeds *idle_feeds;

static void feeds_changed(void *arg)
{
    (void)arg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    enum log_level level = LOG_LEVEL_ERROR;
    const char *wanted = getenv("INGOT_FUZZ_LOG");
    if (wanted && log_level_parse(wanted, &level) != 0)
        fuzz_fail("INGOT_FUZZ_LOG=%s is not debug, info, warn or error", wanted);
    log_set_level(level);
    enum log_format format = LOG_FORMAT_PLAIN;
    const char *wanted_format = getenv("INGOT_FUZZ_LOG_FORMAT");
    if (wanted_format && log_format_parse(wanted_format, &format) != 0)
        fuzz_fail("INGOT_FUZZ_LOG_FORMAT=%s is not plain, journal or json", wanted_format);
    log_set_format(format);

    idle_base = event_base_new();
    idle_store = store_new();
    FUZZ_REQUIRE(idle_base && idle_store);
    idle_feeds = feeds_new(idle_base, idle_store, &fixed_clock, feeds_changed, NULL);
    FUZZ_REQUIRE(idle_feeds && feeds_configure(idle_feeds, &fixture_config) == 0);
    return 0;
}

static uint64_t handed_on(const struct ingest_counts *c)
{
    uint64_t n = c->accepted;
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        n += c->rejected[r];
    return n;
}

static bool counted_nothing(const struct ingest_counts *c)
{
    return handed_on(c) == 0 && c->changed == 0;
}

/* Ingests the document twice through feed and checks what ingest.h
 * promises whatever the document and the store hold. */
static void ingest_twice(struct store *store, const struct config_feed *feed, const char *body,
                         size_t len)
{
    struct ingest_counts first = {0}, second = {0};
    char err[256] = "";
    size_t plants_before = store_plant_count(store);
    int rc = ingest_document(store, &fixture_config, feed, FIXTURE_NOW, body, len, &first, err,
                             sizeof(err));
    if (rc == -1) {
        /* Failed as a whole: a reason, nothing applied, nothing counted. */
        FUZZ_REQUIRE(err[0] != '\0');
        FUZZ_REQUIRE(counted_nothing(&first));
        FUZZ_REQUIRE(store_plant_count(store) == plants_before);
    } else {
        FUZZ_REQUIRE(rc == 0);
        FUZZ_REQUIRE(first.changed <= first.accepted);
    }

    /* The parse does not depend on the store: the same document fails or
     * succeeds alike, and hands on the same records and attributes, each
     * counted once (accepted, or rejected for exactly one reason). */
    int again = ingest_document(store, &fixture_config, feed, FIXTURE_NOW, body, len, &second,
                                err, sizeof(err));
    FUZZ_REQUIRE(again == rc);
    FUZZ_REQUIRE(handed_on(&second) == handed_on(&first));
    FUZZ_REQUIRE(second.changed <= second.accepted);
}

/* Plants are kept sorted by id, and only plants some fixture feed may
 * write are ever created. */
static void check_store(const struct store *store)
{
    size_t n = store_plant_count(store);
    for (size_t i = 0; i < n; i++) {
        const struct store_plant *plant = store_plant_at(store, i);
        FUZZ_REQUIRE(plant && plant->id);
        FUZZ_REQUIRE(config_feed_allows_plant(&fixture_feeds[0], plant->id) ||
                     config_feed_allows_plant(&fixture_feeds[1], plant->id));
        FUZZ_REQUIRE(store_plant_find(store, plant->id) == plant);
        if (i > 0)
            FUZZ_REQUIRE(strcmp(store_plant_at(store, i - 1)->id, plant->id) < 0);
        FUZZ_REQUIRE(plant->green_operational >= -1 && plant->green_operational <= 1);
    }
}

static void check_evaluation(const struct evaluation *ev)
{
    FUZZ_REQUIRE(ev != NULL);
    FUZZ_REQUIRE(ev->now == FIXTURE_NOW);
    for (size_t i = 1; i < ev->n_years; i++)
        FUZZ_REQUIRE(ev->years[i - 1].year < ev->years[i].year);
    for (size_t i = 0; i < fixture_config.n_initiatives; i++)
        FUZZ_REQUIRE(ev->initiatives[i].on_track == 0 || ev->initiatives[i].on_track == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    struct store *store = store_new();
    FUZZ_REQUIRE(store != NULL);
    /* JSON first, then CSV, into the same store: each pass runs whether
     * or not the other read the document. */
    for (size_t f = 0; f < fixture_config.n_feeds; f++)
        ingest_twice(store, &fixture_feeds[f], body, size);
    check_store(store);

    struct evaluation *ev = evaluation_run(store, &fixture_config, FIXTURE_NOW);
    check_evaluation(ev);
    for (int format = EXPO_FORMAT_TEXT; format <= EXPO_FORMAT_OPENMETRICS; format++) {
        size_t len = 0;
        char *text = metrics_render(&fixture_config, store, ev, idle_feeds,
                                    (enum expo_format)format, &len);
        FUZZ_REQUIRE(text != NULL);
        fuzz_check_exposition((enum expo_format)format, text, len);
        free(text);
    }
    evaluation_free(ev);
    store_free(store);
    return 0;
}
