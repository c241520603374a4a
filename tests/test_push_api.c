/*
 * test_push_api: the ingest endpoint's parsing of Authorization and
 * Content-Type, and its answers end to end through push_api_serve: 202
 * with counts and indices, 400 with the parser's line, 401 with the
 * Bearer challenge, 403 and 415, each as JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "push_api.h"
#include "test_config_fixture.h"

static void test_bearer(void **state)
{
    (void)state;
    const char *token;
    size_t len;
    assert_int_equal(push_api_bearer("Bearer abc.DEF-_~+/=", &token, &len), 0);
    assert_int_equal(len, 13);
    assert_memory_equal(token, "abc.DEF-_~+/=", 13);
    assert_int_equal(push_api_bearer("bearer   x \t", &token, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(*token, 'x');
    assert_int_equal(push_api_bearer("BEARER t0k3n", &token, &len), 0);
    static const char *const bad[] = {
        "", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz", "Bearerx abc",
        "Bearer a b", "Bearer a\tb", "Bearer tok\xc3\xa9n", "Token abc", " Bearer abc",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (push_api_bearer(bad[i], &token, &len) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(push_api_bearer(NULL, &token, &len), -1);
}

static void test_content_type(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int rc;
        enum feed_format format;
    } cases[] = {
        {"application/json", 0, FEED_FORMAT_JSON},
        {"Application/JSON; charset=utf-8", 0, FEED_FORMAT_JSON},
        {"application/json;charset=\"UTF-8\"", 0, FEED_FORMAT_JSON},
        {"application/json ; charset=us-ascii ;", 0, FEED_FORMAT_JSON},
        {"text/csv", 0, FEED_FORMAT_CSV},
        {"text/csv; header=present; charset=utf-8", 0, FEED_FORMAT_CSV},
        {"TEXT/CSV;charset=UTF-8", 0, FEED_FORMAT_CSV},
        {"text/plain", -1, 0},
        {"text/csvx", -1, 0},
        {"application/jsonp", -1, 0},
        {"application/x-protobuf", -1, 0},
        {"application/json; charset=latin1", -1, 0},
        {"text/csv; charset=\"utf-16\"", -1, 0},
        {"application/json; charset", -1, 0},
        {"application/json; charset=\"utf-8", -1, 0},
        {"application/json, text/csv", -1, 0},
        {"application", -1, 0},
        {"/json", -1, 0},
        {"", -1, 0},
    };
    char err[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum feed_format format = FEED_FORMAT_INGOT_SNAPSHOT;
        int rc = push_api_content_type(cases[i].value, &format, err, sizeof(err));
        if (rc != cases[i].rc)
            fail_msg("\"%s\": %d, expected %d", cases[i].value, rc, cases[i].rc);
        if (rc == 0 && format != cases[i].format)
            fail_msg("\"%s\": wrong format", cases[i].value);
    }
    assert_int_equal(push_api_content_type(NULL, &(enum feed_format){0}, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no Content-Type"));
    assert_int_equal(push_api_content_type("application/json; charset=koi8-r",
                                           &(enum feed_format){0}, err, 0), -1);
}

/* ---- answers --------------------------------------------------------- */

static char *plants_a[] = {"kz-a"};

struct fixture {
    char dir[64], token_path[96];
    struct config_feed source;
    struct config config;
    struct event_base *base;
    struct store *store;
    struct feeds *feeds;
    struct eval_clock clock;
    struct push *push;
};

static void noop(void *arg)
{
    (void)arg;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    strcpy(fx->dir, "/tmp/test_push_api.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->token_path, sizeof(fx->token_path), "%s/token", fx->dir);
    FILE *f = fopen(fx->token_path, "w");
    fputs("s3cret\n", f);
    fclose(f);
    fx->source = (struct config_feed){.name = "push_a", .format = FEED_FORMAT_JSON,
                                      .stale_after_ms = 86400000, .plants = plants_a,
                                      .n_plants = 1, .token_file = fx->token_path};
    fx->config = fixture_config;
    fx->config.feeds = NULL;
    fx->config.n_feeds = 0;
    fx->config.push_sources = &fx->source;
    fx->config.n_push_sources = 1;
    fx->clock = (struct eval_clock){.fixed = true, .at = FIXTURE_NOW};
    fx->base = event_base_new();
    fx->store = store_new();
    fx->feeds = feeds_new(fx->base, fx->store, &fx->clock, noop, NULL);
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
    unlink(fx->token_path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

struct answer {
    int status;
    const char *content_type;
    const char *challenge; /* WWW-Authenticate, or NULL */
    char body[4096];
};

static void serve(struct fixture *fx, const char *authorization, const char *content_type,
                  const char *body, struct answer *a)
{
    struct http_request req = {
        .method = REQUEST_POST, .method_name = "POST", .path = PUSH_API_PATH,
        .authorization = authorization, .content_type = content_type, .body = body,
        .body_len = strlen(body),
    };
    struct http_response r = {.status = 200, .handler = "ingest", .body = evbuffer_new()};
    push_api_serve(fx->push, &req, &r);
    a->status = r.status;
    a->content_type = r.content_type;
    a->challenge = NULL;
    for (size_t i = 0; i < r.n_headers; i++)
        if (strcmp(r.headers[i].name, "WWW-Authenticate") == 0)
            a->challenge = r.headers[i].value;
    size_t len = evbuffer_get_length(r.body);
    assert_true(len < sizeof(a->body));
    evbuffer_remove(r.body, a->body, len);
    a->body[len] = '\0';
    evbuffer_free(r.body);
}

#define JSON "application/json; charset=utf-8"
#define DOC(records) \
    "{\"schema\":\"ingot.feed.v1\",\"plants\":[{\"id\":\"kz-a\",\"records\":[" records "]}]}"

static void test_answers(void **state)
{
    struct fixture *fx = *state;
    struct answer a;
    serve(fx, "Bearer s3cret", JSON,
          DOC("{\"metal\":\"copper\",\"period\":\"2025-01\",\"production_tonnes\":5},"
              "{\"metal\":\"copper\",\"period\":\"2025-13\"}"),
          &a);
    assert_int_equal(a.status, 202);
    assert_string_equal(a.content_type, "application/json");
    assert_string_equal(a.body, "{\"accepted\": 1, \"rejected\": 1, \"rejections\": [{\"index\": "
                                "1, \"reason\": \"invalid_period\"}], \"truncated\": false}\n");
    assert_null(a.challenge);

    serve(fx, "Bearer s3cret", "text/csv", "plant,metal,period\nkz-a,copper,2025-02\n", &a);
    assert_int_equal(a.status, 202);
    assert_string_equal(a.body, "{\"accepted\": 1, \"rejected\": 0, \"rejections\": [], "
                                "\"truncated\": false}\n");

    serve(fx, "Bearer s3cret", JSON, "{\"schema\": \"ingot.feed.v1\", \"plants\": [}", &a);
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "{\"error\": \"document rejected, nothing applied: line 1"));

    serve(fx, "Bearer s3cret", "text/csv", "plant,metal\n", &a);
    assert_int_equal(a.status, 400);

    serve(fx, NULL, JSON, DOC(""), &a);
    assert_int_equal(a.status, 401);
    assert_string_equal(a.challenge, "Bearer realm=\"ingot\"");
    assert_string_equal(a.content_type, "application/json");
    serve(fx, "Basic dXNlcjpwYXNz", JSON, DOC(""), &a);
    assert_int_equal(a.status, 401);
    serve(fx, "Bearer wrong", JSON, DOC(""), &a);
    assert_int_equal(a.status, 401);
    assert_string_equal(a.challenge, "Bearer realm=\"ingot\", error=\"invalid_token\"");
    /* A bad token is refused before the media type is looked at. */
    serve(fx, "Bearer wrong", "text/plain", "x", &a);
    assert_int_equal(a.status, 401);

    serve(fx, "Bearer s3cret", "text/plain", DOC(""), &a);
    assert_int_equal(a.status, 415);
    serve(fx, "Bearer s3cret", NULL, DOC(""), &a);
    assert_int_equal(a.status, 415);

    const char *foreign =
        "{\"schema\":\"ingot.feed.v1\",\"plants\":[{\"id\":\"kz-b\",\"records\":["
        "{\"metal\":\"copper\",\"period\":\"2025-01\",\"production_tonnes\":5}]}]}";
    serve(fx, "Bearer s3cret", JSON, foreign, &a);
    assert_int_equal(a.status, 403);
    assert_non_null(strstr(a.body, "push source push_a may not write"));
}

/* Control characters and bytes outside ASCII in a parser's message stay
 * valid JSON. */
static void test_error_escaped(void **state)
{
    struct fixture *fx = *state;
    struct answer a;
    serve(fx, "Bearer s3cret", JSON, "{\"schema\": \"ingot.feed.v1\", \"plants\": \"\xff\"}",
          &a);
    assert_int_equal(a.status, 400);
    for (const unsigned char *p = (const unsigned char *)a.body; *p; p++)
        assert_true((*p >= 0x20 && *p < 0x7f) || *p == '\n');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test_setup_teardown(test_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_escaped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
