/*
 * test_push: push sources' tokens (first line trimmed, compared as
 * digests, re-read when the file changes, revoked when it goes) and the
 * ingest of pushed documents: counts, rejection indices, the truncated
 * list, the 400 and 403 outcomes that apply nothing, and the counters and
 * staleness each outcome leaves in feeds.
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
#include <time.h>
#include <unistd.h>

#include "push.h"
#include "test_config_fixture.h"

static char *plants_a[] = {"kz-a"};
static char *plants_b[] = {"kz-b"};

struct fixture {
    char dir[64];
    char path[3][96];
    struct config_feed sources[3];
    struct config config;
    struct event_base *base;
    struct store *store;
    struct feeds *feeds;
    struct eval_clock clock;
    struct push *push;
    int changes;
};

static void write_file(const char *path, const char *text)
{
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0); /* a new inode: seen as changed */
}

static void changed(void *arg)
{
    struct fixture *fx = arg;
    fx->changes++;
}

/* Sources a (kz-a) and b (kz-b), c (kz-a) with the same token as a. */
static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    strcpy(fx->dir, "/tmp/test_push.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    static const char *const names[] = {"push_a", "push_b", "push_c"};
    static const char *const tokens[] = {"  tok-a \r\nignored second line\n", "tok-b", "tok-a\n"};
    for (int i = 0; i < 3; i++) {
        snprintf(fx->path[i], sizeof(fx->path[i]), "%s/%s.token", fx->dir, names[i]);
        write_file(fx->path[i], tokens[i]);
        fx->sources[i] = (struct config_feed){
            .name = (char *)names[i], .format = FEED_FORMAT_JSON, .stale_after_ms = 86400000,
            .plants = i == 1 ? plants_b : plants_a, .n_plants = 1, .token_file = fx->path[i],
        };
    }
    fx->config = fixture_config;
    fx->config.feeds = NULL;
    fx->config.n_feeds = 0;
    fx->config.push_sources = fx->sources;
    fx->config.n_push_sources = 3;
    fx->clock = (struct eval_clock){.fixed = true, .at = FIXTURE_NOW};
    fx->base = event_base_new();
    fx->store = store_new();
    fx->feeds = feeds_new(fx->base, fx->store, &fx->clock, changed, fx);
    assert_int_equal(feeds_configure(fx->feeds, &fx->config), 0);
    fx->push = push_new(fx->store, fx->feeds, &fx->clock);
    assert_int_equal(push_configure(fx->push, &fx->config), 0);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    push_free(fx->push);
    feeds_free(fx->feeds);
    store_free(fx->store);
    event_base_free(fx->base);
    for (int i = 0; i < 3; i++)
        unlink(fx->path[i]);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static int auth(struct fixture *fx, const char *token)
{
    return push_authenticate(fx->push, token, strlen(token));
}

static void test_tokens(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(auth(fx, "tok-a"), 0); /* trimmed first line; a before c */
    assert_int_equal(auth(fx, "tok-b"), 1);
    assert_int_equal(auth(fx, "tok-"), -1);
    assert_int_equal(auth(fx, "tok-a "), -1);
    assert_int_equal(auth(fx, "tok-ab"), -1);
    assert_int_equal(auth(fx, "ignored second line"), -1);
    assert_int_equal(auth(fx, ""), -1);
    assert_string_equal(push_source_name(fx->push, 1), "push_b");
}

static void test_token_rotation_and_revocation(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path[1], "tok-b2\n");
    assert_int_equal(auth(fx, "tok-b"), -1);
    assert_int_equal(auth(fx, "tok-b2"), 1);
    write_file(fx->path[1], "\n  \nsecond\n"); /* an empty first line: revoked */
    assert_int_equal(auth(fx, "tok-b2"), -1);
    assert_int_equal(auth(fx, "second"), -1);
    write_file(fx->path[1], "tok b3\n"); /* a space inside: no client could send it */
    assert_int_equal(auth(fx, "tok"), -1);
    write_file(fx->path[1], "tok-b3");
    assert_int_equal(auth(fx, "tok-b3"), 1);
    unlink(fx->path[1]); /* gone: revoked */
    assert_int_equal(auth(fx, "tok-b3"), -1);
    write_file(fx->path[1], "tok-b4");
    assert_int_equal(auth(fx, "tok-b4"), 1);
    /* a went away: c, with the same token, now owns it. */
    unlink(fx->path[0]);
    assert_int_equal(auth(fx, "tok-a"), 2);
}

static void test_oversized_token_file(void **state)
{
    struct fixture *fx = *state;
    char *big = malloc(PUSH_MAX_TOKEN_FILE_BYTES + 2);
    memset(big, 'x', PUSH_MAX_TOKEN_FILE_BYTES + 1);
    big[PUSH_MAX_TOKEN_FILE_BYTES + 1] = '\0';
    write_file(fx->path[1], big);
    big[PUSH_MAX_TOKEN_FILE_BYTES] = '\0';
    assert_int_equal(push_authenticate(fx->push, big, PUSH_MAX_TOKEN_FILE_BYTES), -1);
    free(big);
}

#define DOC(plants) "{\"schema\":\"ingot.feed.v1\",\"plants\":[" plants "]}"
#define REC(metal, period, production) \
    "{\"metal\":\"" metal "\",\"period\":\"" period "\",\"production_tonnes\":" production "}"

static double production(struct fixture *fx, const char *plant, const char *period)
{
    struct period p;
    const struct store_plant *sp = store_plant_find(fx->store, plant);
    int metal = store_metal_find(fx->store, "copper");
    if (!sp || metal < 0 || period_parse(period, &p) != 0)
        return -1;
    const struct store_record *r = store_record_find(sp, metal, period_key(&p));
    return r ? r->values.value[RECORD_PRODUCTION_TONNES] : -1;
}

static void push_doc(struct fixture *fx, size_t source, enum feed_format format, const char *doc,
                     struct push_outcome *out)
{
    push_ingest(fx->push, source, format, doc, strlen(doc), out);
}

static void test_applied_with_indices(void **state)
{
    struct fixture *fx = *state;
    struct push_outcome out;
    double now = (double)time(NULL);
    assert_true(feeds_plant_stale(fx->feeds, "kz-a", now));
    /* Records 0..4 across two plants: ok, future, foreign, ok, bad metal. */
    push_doc(fx, 0, FEED_FORMAT_JSON,
             DOC("{\"id\":\"kz-a\",\"records\":[" REC("copper", "2025-01", "10") ","
                 REC("copper", "2026-01", "1") "]},"
                 "{\"id\":\"kz-b\",\"records\":[" REC("copper", "2025-01", "5") "]},"
                 "{\"id\":\"kz-a\",\"records\":[" REC("copper", "2025-02", "20") ","
                 REC("tin", "2025-02", "1") "]}"),
             &out);
    assert_int_equal(out.result, PUSH_APPLIED);
    assert_int_equal(out.accepted, 2);
    assert_int_equal(out.rejected, 3);
    assert_false(out.truncated);
    assert_int_equal(out.n_rejections, 3);
    assert_int_equal(out.rejections[0].index, 1);
    assert_int_equal(out.rejections[0].reason, INGEST_FUTURE_PERIOD);
    assert_int_equal(out.rejections[1].index, 2);
    assert_int_equal(out.rejections[1].reason, INGEST_PLANT_NOT_ALLOWED);
    assert_int_equal(out.rejections[2].index, 4);
    assert_int_equal(out.rejections[2].reason, INGEST_UNKNOWN_METAL);
    push_outcome_release(&out);
    assert_true(production(fx, "kz-a", "2025-02") == 20);
    assert_null(store_plant_find(fx->store, "kz-b"));

    const struct feed_stats *s = feeds_push_stats(fx->feeds, 0);
    assert_int_equal(s->records.accepted, 2);
    assert_int_equal(s->records.rejected[INGEST_PLANT_NOT_ALLOWED], 1);
    assert_true(s->last_success >= now);
    assert_int_equal(fx->changes, 1);
    assert_false(feeds_plant_stale(fx->feeds, "kz-a", now));
    assert_true(feeds_plant_stale(fx->feeds, "kz-b", now)); /* b never pushed */
    /* Past a's stale_after (1 day), kz-a is stale again. */
    assert_true(feeds_plant_stale(fx->feeds, "kz-a", now + 86400 + 10));

    /* The same document again: accepted again, nothing changes. */
    push_doc(fx, 0, FEED_FORMAT_CSV,
             "plant,metal,period,production_tonnes\n"
             "kz-a,copper,2025-02,20\n"
             "kz-a,copper,2025-02,-1\n"
             "kz-a,copper,2025-03,30,extra\n",
             &out);
    assert_int_equal(out.result, PUSH_APPLIED);
    assert_int_equal(out.accepted, 1);
    assert_int_equal(out.rejected, 2);
    assert_int_equal(out.rejections[0].index, 1);
    assert_int_equal(out.rejections[0].reason, INGEST_NEGATIVE_VALUE);
    assert_int_equal(out.rejections[1].index, 2);
    assert_int_equal(out.rejections[1].reason, INGEST_INVALID_VALUE);
    push_outcome_release(&out);
    assert_int_equal(feeds_push_stats(fx->feeds, 0)->records.accepted, 3);
    assert_int_equal(feeds_push_stats(fx->feeds, 0)->records.changed, 2);
}

static void test_unreadable_applies_nothing(void **state)
{
    struct fixture *fx = *state;
    struct push_outcome out;
    push_doc(fx, 0, FEED_FORMAT_JSON,
             DOC("{\"id\":\"kz-a\",\"records\":[" REC("copper", "2025-01", "10") "]}") "x", &out);
    assert_int_equal(out.result, PUSH_UNREADABLE);
    assert_non_null(strstr(out.error, "line 1"));
    push_outcome_release(&out);
    assert_null(store_plant_find(fx->store, "kz-a"));
    assert_int_equal(feeds_push_stats(fx->feeds, 0)->last_success, 0);
    assert_int_equal(fx->changes, 0);
    /* A CSV body sent as JSON fails too. */
    push_doc(fx, 0, FEED_FORMAT_JSON, "plant,metal,period\nkz-a,copper,2025-01\n", &out);
    assert_int_equal(out.result, PUSH_UNREADABLE);
    push_outcome_release(&out);
}

static void test_foreign_applies_nothing(void **state)
{
    struct fixture *fx = *state;
    struct push_outcome out;
    /* b may write kz-b only; the plant entry of kz-a is not b's either. */
    push_doc(fx, 1, FEED_FORMAT_JSON,
             DOC("{\"id\":\"kz-a\",\"capacity_tonnes_per_year\":5,\"records\":["
                 REC("copper", "2025-01", "10") "," REC("copper", "2025-02", "10") "]}"),
             &out);
    assert_int_equal(out.result, PUSH_FOREIGN);
    assert_int_equal(out.rejected, 2);
    push_outcome_release(&out);
    assert_null(store_plant_find(fx->store, "kz-a"));
    const struct feed_stats *s = feeds_push_stats(fx->feeds, 1);
    assert_int_equal(s->records.rejected[INGEST_PLANT_NOT_ALLOWED], 2);
    assert_true(s->last_success == 0);

    /* One plant entry it may write makes it a push like any other. */
    push_doc(fx, 1, FEED_FORMAT_JSON,
             DOC("{\"id\":\"kz-b\",\"capacity_tonnes_per_year\":5},"
                 "{\"id\":\"kz-a\",\"records\":[" REC("copper", "2025-01", "10") "]}"),
             &out);
    assert_int_equal(out.result, PUSH_APPLIED);
    assert_int_equal(out.rejected, 1);
    push_outcome_release(&out);
    assert_true(store_plant_find(fx->store, "kz-b")->capacity_tonnes_per_year == 5);
    assert_true(feeds_push_stats(fx->feeds, 1)->last_success > 0);

    /* A document without records is a heartbeat: applied, nothing to judge. */
    push_doc(fx, 0, FEED_FORMAT_JSON, DOC(""), &out);
    assert_int_equal(out.result, PUSH_APPLIED);
    assert_int_equal(out.accepted + out.rejected, 0);
    push_outcome_release(&out);
    assert_false(feeds_plant_stale(fx->feeds, "kz-a", (double)time(NULL)));
}

static void test_rejection_list_truncated(void **state)
{
    struct fixture *fx = *state;
    size_t n = PUSH_MAX_LISTED_REJECTIONS + 5;
    size_t cap = 64 + n * 32;
    char *csv = malloc(cap), *p = csv;
    p += sprintf(p, "plant,metal,period,production_tonnes\nkz-a,copper,2025-01,1\n");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "kz-a,tin,2025-01,%zu\n", i);
    struct push_outcome out;
    push_doc(fx, 0, FEED_FORMAT_CSV, csv, &out);
    free(csv);
    assert_int_equal(out.result, PUSH_APPLIED);
    assert_int_equal(out.accepted, 1);
    assert_int_equal(out.rejected, n);
    assert_int_equal(out.n_rejections, PUSH_MAX_LISTED_REJECTIONS);
    assert_true(out.truncated);
    assert_int_equal(out.rejections[0].index, 1);
    assert_int_equal(out.rejections[PUSH_MAX_LISTED_REJECTIONS - 1].index,
                     PUSH_MAX_LISTED_REJECTIONS);
    push_outcome_release(&out);
    assert_int_equal(feeds_push_stats(fx->feeds, 0)->records.rejected[INGEST_UNKNOWN_METAL], n);
}

static void test_reconfigure_keeps_counters(void **state)
{
    struct fixture *fx = *state;
    struct push_outcome out;
    push_doc(fx, 1, FEED_FORMAT_CSV, "plant,metal,period\nkz-b,copper,2025-01\n", &out);
    push_outcome_release(&out);
    /* A reload without push_a: push_b keeps its counters and its token. */
    fx->config.push_sources = fx->sources + 1;
    fx->config.n_push_sources = 2;
    assert_int_equal(feeds_configure(fx->feeds, &fx->config), 0);
    assert_int_equal(push_configure(fx->push, &fx->config), 0);
    assert_int_equal(feeds_push_stats(fx->feeds, 0)->records.accepted, 1);
    assert_int_equal(auth(fx, "tok-b"), 0);
    assert_int_equal(auth(fx, "tok-a"), 1); /* now push_c's */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_rotation_and_revocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_applied_with_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_applies_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejection_list_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconfigure_keeps_counters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
