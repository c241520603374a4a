/*
 * test_fetch: the fetcher against real servers. Each test gets a fresh
 * event_base with an evhttp server on 127.0.0.1 (an ephemeral port) and a
 * fetcher on the same base, plus file:// URLs on temporary files. The loop
 * runs until the expected callbacks arrived, bounded by a safety timer that
 * fails the test. The retry policy (fetch_backoff_ms) and secret files
 * (fetch_read_secret) are plain functions, tested without a server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fetch.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OK_BODY "{\"plants\":[{\"id\":\"p1\"}]}\n"
#define GZIP_TEXT "plant,metal,production_tonnes\np1,steel,12.5\n"
#define LIMIT 1024
#define SLOW_REPLY_SECONDS 5
#define SAFETY_SECONDS 10
#define N_GATHER 5
#define MAX_TEMP_FILES 4

struct harness;

/* A /slow request, answered only after SLOW_REPLY_SECONDS (or at teardown). */
struct slow_reply {
    struct harness *h;
    struct evhttp_request *req;
    struct event *timer;
    struct slow_reply *next;
};

struct harness {
    struct event_base *base;
    struct evhttp *http;
    struct fetcher *fetcher;
    int port;
    int expected;    /* callbacks to wait for */
    int arrived;
    int timed_out;   /* the safety timer fired */
    int slow_wanted; /* break the loop once this many /slow requests arrived */
    int slow_seen;
    struct slow_reply *slow;
    struct evhttp_request *gathered[N_GATHER];
    int n_gathered;
    char user_agent[128];
    char accept_encoding[128];
    char if_none_match[128];
    char if_modified_since[128];
    char temp_files[MAX_TEMP_FILES][64];
    int n_temp_files;
};

/* What one fetch's callback saw, and what it does when called. */
struct outcome {
    struct harness *h;
    struct fetch *handle;
    int calls;
    int ok;
    enum fetch_outcome result;
    char etag[FETCH_VALIDATOR_SIZE];
    char last_modified[FETCH_VALIDATOR_SIZE];
    long status;
    char *body;
    size_t body_len;
    int body_terminated;
    char *error;
    double duration;
    struct outcome *cancel_on_done;  /* fetch_cancel this one, if still pending */
    int free_fetcher_on_done;
    const char *then_path;           /* start a fetch of this path ... */
    struct outcome *then;            /* ... recorded here */
};

static void start(struct outcome *o, const char *target, int64_t timeout_ms);

/* The validators of /etag, and what /echo answers for. */
#define ETAG "\"v1\""
#define LAST_MODIFIED "Tue, 01 Jul 2025 00:00:00 GMT"

/* ---- server ---- */

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text,
                       size_t len)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, text, len);
    evhttp_send_reply(req, code, reason, NULL);
}

static void ok_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    const char *ua = evhttp_find_header(headers, "User-Agent");
    const char *ae = evhttp_find_header(headers, "Accept-Encoding");
    snprintf(h->user_agent, sizeof(h->user_agent), "%s", ua ? ua : "");
    snprintf(h->accept_encoding, sizeof(h->accept_encoding), "%s", ae ? ae : "");
    reply_text(req, HTTP_OK, "OK", OK_BODY, strlen(OK_BODY));
}

/* A body of n 'x' bytes with status code. */
static void reply_filled(struct evhttp_request *req, int code, const char *reason, size_t n)
{
    char *fill = malloc(n);
    assert_non_null(fill);
    memset(fill, 'x', n);
    reply_text(req, code, reason, fill, n);
    free(fill);
}

/* 304 when the request carries /etag's ETag or Last-Modified, else 200
 * with both; the conditional headers seen are kept. */
static void etag_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *inm = evhttp_find_header(in, "If-None-Match");
    const char *ims = evhttp_find_header(in, "If-Modified-Since");
    snprintf(h->if_none_match, sizeof(h->if_none_match), "%s", inm ? inm : "");
    snprintf(h->if_modified_since, sizeof(h->if_modified_since), "%s", ims ? ims : "");
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "ETag", ETAG);
    evhttp_add_header(out, "Last-Modified", LAST_MODIFIED);
    if ((inm && strcmp(inm, ETAG) == 0) || (ims && strcmp(ims, LAST_MODIFIED) == 0))
        evhttp_send_reply(req, 304, "Not Modified", NULL);
    else
        reply_text(req, HTTP_OK, "OK", OK_BODY, strlen(OK_BODY));
}

/* Last-Modified is the answer's own Date: too fresh to be a validator. */
static void fresh_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    char now[64];
    time_t t = time(NULL);
    struct tm tm;
    strftime(now, sizeof(now), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Date", now);
    evhttp_add_header(out, "Last-Modified", now);
    evhttp_add_header(out, "ETag", ETAG);
    reply_text(req, HTTP_OK, "OK", OK_BODY, strlen(OK_BODY));
}

/* A 304 nobody asked for. */
static void unasked304_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_reply(req, 304, "Not Modified", NULL);
}

static void status404_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_text(req, HTTP_NOTFOUND, "Not Found", "no\n", 3);
}

/* Answers with the request's Authorization and X-Api-Version headers. */
static void echo_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *auth = evhttp_find_header(in, "Authorization");
    const char *version = evhttp_find_header(in, "X-Api-Version");
    char body[256];
    int len = snprintf(body, sizeof(body), "%s|%s", auth ? auth : "", version ? version : "");
    reply_text(req, HTTP_OK, "OK", body, (size_t)len);
}

static void exact_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_filled(req, HTTP_OK, "OK", LIMIT);
}

static void big_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_filled(req, HTTP_OK, "OK", LIMIT + 1);
}

/* No Content-Length: two chunks that together pass the limit. */
static void big_chunked_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    char fill[LIMIT / 2 + 1];
    memset(fill, 'x', sizeof(fill));
    struct evbuffer *chunk = evbuffer_new();
    assert_non_null(chunk);
    evhttp_send_reply_start(req, HTTP_OK, "OK");
    for (int i = 0; i < 2; i++) {
        evbuffer_add(chunk, fill, sizeof(fill));
        evhttp_send_reply_chunk(req, chunk);
    }
    evhttp_send_reply_end(req);
    evbuffer_free(chunk);
}

/* The error page is bigger than the limit: the status must still win. */
static void status503_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    reply_filled(req, HTTP_SERVUNAVAIL, "Service Unavailable", 2 * LIMIT);
}

static void redirect_to(struct evhttp_request *req, const char *location)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    evhttp_send_reply(req, HTTP_MOVETEMP, "Found", NULL);
}

static void redirect_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    redirect_to(req, "/ok");
}

static void loop_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    redirect_to(req, "/loop");
}

static void redirect_ftp_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    char location[64];
    snprintf(location, sizeof(location), "ftp://127.0.0.1:%d/feed.csv", h->port);
    redirect_to(req, location);
}

/* Points at a readable file: following it would leak local files. */
static void redirect_file_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    char location[128];
    assert_true(h->n_temp_files > 0);
    snprintf(location, sizeof(location), "file://%s", h->temp_files[0]);
    redirect_to(req, location);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* GZIP_TEXT as a gzip member (RFC 1952) whose deflate stream is one stored
 * block (RFC 1951 3.2.4): valid gzip without linking zlib. */
static void gzip_handler(struct evhttp_request *req, void *arg)
{
    (void)arg;
    static const char text[] = GZIP_TEXT;
    const size_t n = sizeof(text) - 1;
    unsigned char gz[10 + 5 + sizeof(text) - 1 + 8] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    unsigned char *p = gz + 10;
    *p++ = 0x01; /* BFINAL, stored */
    *p++ = (unsigned char)(n & 0xff);
    *p++ = (unsigned char)(n >> 8);
    *p++ = (unsigned char)(~n & 0xff);
    *p++ = (unsigned char)((~n >> 8) & 0xff);
    memcpy(p, text, n);
    p += n;
    put_le32(p, crc32_of((const unsigned char *)text, n));
    put_le32(p + 4, (uint32_t)n);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Encoding", "gzip");
    reply_text(req, HTTP_OK, "OK", (const char *)gz, sizeof(gz));
}

static void slow_reply_cb(evutil_socket_t fd, short what, void *arg)
{
    struct slow_reply *s = arg;
    struct slow_reply **link = &s->h->slow;
    (void)fd;
    (void)what;
    while (*link != s)
        link = &(*link)->next;
    *link = s->next;
    reply_text(s->req, HTTP_OK, "OK", "late\n", 5);
    event_free(s->timer);
    free(s);
}

static void slow_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    struct slow_reply *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->h = h;
    s->req = req;
    s->timer = evtimer_new(h->base, slow_reply_cb, s);
    assert_non_null(s->timer);
    struct timeval tv = {SLOW_REPLY_SECONDS, 0};
    evtimer_add(s->timer, &tv);
    s->next = h->slow;
    h->slow = s;
    if (++h->slow_seen == h->slow_wanted)
        event_base_loopbreak(h->base);
}

/* Holds requests until N_GATHER are in, then answers each with its query:
 * only concurrent fetches can complete. */
static void gather_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    h->gathered[h->n_gathered++] = req;
    if (h->n_gathered < N_GATHER)
        return;
    for (int i = 0; i < N_GATHER; i++) {
        const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(h->gathered[i]));
        char body[64];
        int len = snprintf(body, sizeof(body), "body %s", query ? query : "");
        reply_text(h->gathered[i], HTTP_OK, "OK", body, (size_t)len);
    }
    h->n_gathered = 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->base = event_base_new();
    assert_non_null(h->base);
    h->http = evhttp_new(h->base);
    assert_non_null(h->http);
    evhttp_set_max_headers_size(h->http, 8192);
    evhttp_set_max_body_size(h->http, 4096);
    evhttp_set_timeout(h->http, SAFETY_SECONDS);

    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(h->http, "127.0.0.1", 0);
    assert_non_null(bound);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len),
                     0);
    h->port = ntohs(sin.sin_port);

    static const struct {
        const char *path;
        void (*cb)(struct evhttp_request *, void *);
    } routes[] = {
        {"/ok", ok_handler},
        {"/exact", exact_handler},
        {"/big", big_handler},
        {"/bigchunked", big_chunked_handler},
        {"/status503", status503_handler},
        {"/redirect", redirect_handler},
        {"/loop", loop_handler},
        {"/redirect_ftp", redirect_ftp_handler},
        {"/redirect_file", redirect_file_handler},
        {"/gzip", gzip_handler},
        {"/slow", slow_handler},
        {"/gather", gather_handler},
        {"/etag", etag_handler},
        {"/fresh", fresh_handler},
        {"/unasked304", unasked304_handler},
        {"/status404", status404_handler},
        {"/echo", echo_handler},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        assert_int_equal(evhttp_set_cb(h->http, routes[i].path, routes[i].cb, h), 0);

    h->fetcher = fetcher_new(h->base);
    assert_non_null(h->fetcher);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    fetcher_free(h->fetcher);
    /* Answer what the server still holds, so evhttp frees every request. */
    while (h->slow != NULL) {
        struct slow_reply *s = h->slow;
        h->slow = s->next;
        event_free(s->timer);
        evhttp_send_reply(s->req, HTTP_OK, "OK", NULL);
        free(s);
    }
    for (int i = 0; i < h->n_gathered; i++)
        evhttp_send_reply(h->gathered[i], HTTP_OK, "OK", NULL);
    evhttp_free(h->http);
    event_base_free(h->base);
    for (int i = 0; i < h->n_temp_files; i++)
        unlink(h->temp_files[i]);
    free(h);
    return 0;
}

/* A temporary file holding len bytes of content; returns its path. */
static const char *temp_file(struct harness *h, const char *content, size_t len)
{
    assert_true(h->n_temp_files < MAX_TEMP_FILES);
    char *path = h->temp_files[h->n_temp_files++];
    snprintf(path, sizeof(h->temp_files[0]), "/tmp/ingot-test-fetch-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return path;
}

/* A port on 127.0.0.1 that nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, len), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* ---- running the loop ---- */

static void record_cb(const struct fetch_result *r, void *arg)
{
    struct outcome *o = arg;
    struct harness *h = o->h;
    if (++o->calls == 1) {
        o->ok = r->ok;
        o->result = r->outcome;
        snprintf(o->etag, sizeof(o->etag), "%s", r->etag ? r->etag : "");
        snprintf(o->last_modified, sizeof(o->last_modified), "%s",
                 r->last_modified ? r->last_modified : "");
        o->status = r->http_status;
        o->body_len = r->body_len;
        o->body_terminated = r->body != NULL && r->body[r->body_len] == '\0';
        o->body = malloc(r->body_len + 1);
        if (o->body != NULL && r->body != NULL) {
            memcpy(o->body, r->body, r->body_len);
            o->body[r->body_len] = '\0';
        }
        o->error = r->error != NULL ? strdup(r->error) : NULL;
        o->duration = r->duration_seconds;
    }
    if (o->cancel_on_done != NULL && o->cancel_on_done->calls == 0) {
        fetch_cancel(o->cancel_on_done->handle);
        o->cancel_on_done->handle = NULL;
    }
    if (o->free_fetcher_on_done) {
        fetcher_free(h->fetcher);
        h->fetcher = NULL;
    }
    if (o->then_path != NULL)
        start(o->then, o->then_path, 2000);
    if (++h->arrived == h->expected)
        event_base_loopbreak(h->base);
}

/* Starts fetching target (a path on the test server, or a whole URL) with
 * options (url and callback filled in here). */
static void start_with(struct outcome *o, const char *target, struct fetch_options options)
{
    char url[256];
    if (target[0] == '/')
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", o->h->port, target);
    else
        snprintf(url, sizeof(url), "%s", target);
    options.url = url;
    o->handle = fetch_start(o->h->fetcher, &options, record_cb, o);
    assert_non_null(o->handle);
}

static void start_limited(struct outcome *o, const char *target, int64_t timeout_ms,
                          uint64_t max_body)
{
    start_with(o, target,
               (struct fetch_options){.timeout_ms = timeout_ms, .max_body_bytes = max_body});
}

static void start(struct outcome *o, const char *target, int64_t timeout_ms)
{
    start_limited(o, target, timeout_ms, LIMIT);
}

static void safety_cb(evutil_socket_t fd, short what, void *arg)
{
    struct harness *h = arg;
    (void)fd;
    (void)what;
    h->timed_out = 1;
    event_base_loopbreak(h->base);
}

/* Runs the loop until loopbreak, failing the test after SAFETY_SECONDS. */
static void run_bounded(struct harness *h)
{
    struct event *safety = evtimer_new(h->base, safety_cb, h);
    assert_non_null(safety);
    struct timeval tv = {SAFETY_SECONDS, 0};
    evtimer_add(safety, &tv);
    event_base_dispatch(h->base);
    event_free(safety);
    assert_false(h->timed_out);
}

/* Runs the loop until n more callbacks arrived. */
static void wait_callbacks(struct harness *h, int n)
{
    h->expected = h->arrived + n;
    run_bounded(h);
    assert_int_equal(h->arrived, h->expected);
}

/* Runs the loop until the server holds n /slow requests. */
static void wait_slow_requests(struct harness *h, int n)
{
    h->slow_wanted = n;
    run_bounded(h);
    assert_int_equal(h->slow_seen, n);
}

/* Runs the loop for ms milliseconds, whatever happens. */
static void run_for(struct harness *h, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(h->base, &tv);
    event_base_dispatch(h->base);
}

static void outcome_clear(struct outcome *o)
{
    free(o->body);
    free(o->error);
}

/* Waits for the one callback of the fetch o started, and checks what
 * every result promises. */
static void wait_one(struct harness *h, struct outcome *o)
{
    wait_callbacks(h, 1);
    run_for(h, 20); /* a second callback would show here */
    assert_int_equal(o->calls, 1);
    assert_true(o->body_terminated);
    assert_int_equal(o->ok, o->result == FETCH_OK);
    if (o->result == FETCH_OK || o->result == FETCH_NOT_MODIFIED)
        assert_null(o->error);
    else
        assert_non_null(o->error);
    if (!o->ok)
        assert_int_equal(o->body_len, 0);
}

/* Fetches target alone and waits for its one callback. */
static void fetch_one(struct harness *h, struct outcome *o, const char *target, int64_t timeout_ms,
                      uint64_t max_body)
{
    o->h = h;
    start_limited(o, target, timeout_ms, max_body);
    wait_one(h, o);
}

/* Fetches target alone with options and waits for its one callback. */
static void fetch_with(struct harness *h, struct outcome *o, const char *target,
                       struct fetch_options options)
{
    o->h = h;
    start_with(o, target, options);
    wait_one(h, o);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (haystack == NULL || strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

/* ---- http ---- */

static void test_ok(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/ok", 2000, LIMIT);
    assert_true(o.ok);
    assert_int_equal(o.result, FETCH_OK);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, OK_BODY);
    assert_int_equal(o.body_len, strlen(OK_BODY));
    assert_string_equal(o.etag, ""); /* none sent */
    assert_true(o.duration > 0 && o.duration < SAFETY_SECONDS);
    assert_true(strncmp(h->user_agent, "ingot/", 6) == 0);
    assert_contains(h->accept_encoding, "gzip");
    outcome_clear(&o);
}

static void test_body_at_limit(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/exact", 2000, LIMIT);
    assert_true(o.ok);
    assert_int_equal(o.body_len, LIMIT);
    assert_int_equal(strspn(o.body, "x"), LIMIT);
    outcome_clear(&o);
}

static void test_body_over_announced_limit(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/big", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_BODY_TOO_LARGE);
    assert_string_equal(o.error, "body exceeds max_body_bytes (1024 bytes)");
    assert_int_equal(o.body_len, 0);
    outcome_clear(&o);
}

static void test_body_over_limit_chunked(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/bigchunked", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_BODY_TOO_LARGE);
    assert_string_equal(o.error, "body exceeds max_body_bytes (1024 bytes)");
    outcome_clear(&o);
}

static void test_status_503(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/status503", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_HTTP_5XX);
    assert_int_equal(o.status, 503);
    assert_string_equal(o.error, "HTTP 503");
    assert_int_equal(o.body_len, 0);
    outcome_clear(&o);
}

static void test_redirect(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/redirect", 2000, LIMIT);
    assert_true(o.ok);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, OK_BODY);
    outcome_clear(&o);
}

static void test_redirect_loop(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/loop", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_HTTP_4XX);
    assert_contains(o.error, "Maximum (5) redirects followed");
    outcome_clear(&o);
}

static void test_redirect_to_ftp_refused(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/redirect_ftp", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_HTTP_4XX);
    assert_contains(o.error, "Unsupported protocol");
    outcome_clear(&o);
}

static void test_redirect_to_file_refused(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    temp_file(h, "secret\n", 7);
    fetch_one(h, &o, "/redirect_file", 2000, LIMIT);
    assert_false(o.ok);
    assert_contains(o.error, "Unsupported protocol");
    assert_int_equal(o.body_len, 0);
    outcome_clear(&o);
}

static void test_gzip_decoded(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/gzip", 2000, LIMIT);
    assert_true(o.ok);
    assert_string_equal(o.body, GZIP_TEXT);
    outcome_clear(&o);
}

static void test_timeout(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/slow", 300, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_TIMEOUT);
    assert_string_equal(o.error, "timeout after 300ms");
    assert_int_equal(o.status, 0);
    assert_true(o.duration >= 0.25 && o.duration < 3);
    outcome_clear(&o);
}

/* A reused connection has no connect phase; the timeout is still the
 * transfer's. */
static void test_timeout_on_reused_connection(void **state)
{
    struct harness *h = *state;
    struct outcome first = {0}, second = {0};
    fetch_one(h, &first, "/ok", 2000, LIMIT);
    assert_true(first.ok);
    fetch_one(h, &second, "/slow", 300, LIMIT);
    assert_false(second.ok);
    assert_string_equal(second.error, "timeout after 300ms");
    outcome_clear(&first);
    outcome_clear(&second);
}

static void test_connect_refused(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    int port = closed_port();
    char url[64], detail[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
    snprintf(detail, sizeof(detail), "Failed to connect to 127.0.0.1 port %d", port);
    fetch_one(h, &o, url, 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_CONNECT_ERROR);
    assert_int_equal(o.status, 0);
    assert_true(strncmp(o.error, "connect failed: Couldn't connect to server: ", 44) == 0);
    assert_contains(o.error, detail);
    outcome_clear(&o);
}

/* The listener's accept queue is full, so the handshake never completes. */
static void test_connect_timeout(void **state)
{
    struct harness *h = *state;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(listener >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_int_equal(bind(listener, (struct sockaddr *)&sin, len), 0);
    assert_int_equal(listen(listener, 0), 0);
    assert_int_equal(getsockname(listener, (struct sockaddr *)&sin, &len), 0);
    int fillers[2];
    for (int i = 0; i < 2; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fillers[i] >= 0);
        connect(fillers[i], (struct sockaddr *)&sin, len);
    }

    struct outcome o = {0};
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", ntohs(sin.sin_port));
    fetch_one(h, &o, url, 300, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_TIMEOUT);
    assert_string_equal(o.error, "connect failed: timeout after 300ms");
    outcome_clear(&o);
    for (int i = 0; i < 2; i++)
        close(fillers[i]);
    close(listener);
}

/* curl's detail (host, port) is dropped when the URL carries credentials. */
static void test_credentials_not_in_error(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    char url[96];
    snprintf(url, sizeof(url), "http://alice:s3cret@127.0.0.1:%d/ok", closed_port());
    fetch_one(h, &o, url, 2000, LIMIT);
    assert_false(o.ok);
    assert_string_equal(o.error, "connect failed: Couldn't connect to server");
    outcome_clear(&o);
}

/* Unsupported schemes start and fail through the callback, like every other
 * problem with a URL. */
static void test_unsupported_scheme(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    char url[64];
    snprintf(url, sizeof(url), "ftp://127.0.0.1:%d/feed.csv", h->port);
    fetch_one(h, &o, url, 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.status, 0);
    assert_contains(o.error, "Unsupported protocol");
    assert_contains(o.error, "ftp");
    outcome_clear(&o);
}

static void test_invalid_options(void **state)
{
    struct harness *h = *state;
    struct outcome o = {.h = h};
    struct fetch_options options = {.url = "http://127.0.0.1/", .timeout_ms = 0, .max_body_bytes = 1};
    assert_null(fetch_start(h->fetcher, &options, record_cb, &o));
    options.timeout_ms = -1;
    assert_null(fetch_start(h->fetcher, &options, record_cb, &o));
    options.timeout_ms = 1000;
    assert_null(fetch_start(h->fetcher, &options, NULL, &o));
    options.url = NULL;
    assert_null(fetch_start(h->fetcher, &options, record_cb, &o));
    run_for(h, 20);
    assert_int_equal(o.calls, 0);
}

static void test_status_404(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/status404", 2000, LIMIT);
    assert_int_equal(o.result, FETCH_HTTP_4XX);
    assert_string_equal(o.error, "HTTP 404");
    outcome_clear(&o);
}

/* A 200 hands over its validators; sending them back gets a 304, which is
 * not_modified with no body and no error. */
static void test_conditional(void **state)
{
    struct harness *h = *state;
    struct outcome first = {0}, by_etag = {0}, by_date = {0};
    fetch_one(h, &first, "/etag", 2000, LIMIT);
    assert_int_equal(first.result, FETCH_OK);
    assert_string_equal(first.body, OK_BODY);
    assert_string_equal(first.etag, ETAG);
    assert_string_equal(first.last_modified, LAST_MODIFIED);
    assert_string_equal(h->if_none_match, "");
    assert_string_equal(h->if_modified_since, "");

    fetch_with(h, &by_etag, "/etag",
               (struct fetch_options){.timeout_ms = 2000, .max_body_bytes = LIMIT, .etag = ETAG});
    assert_int_equal(by_etag.result, FETCH_NOT_MODIFIED);
    assert_int_equal(by_etag.status, 304);
    assert_int_equal(by_etag.body_len, 0);
    assert_string_equal(by_etag.etag, "");
    assert_string_equal(h->if_none_match, ETAG);

    fetch_with(h, &by_date, "/etag",
               (struct fetch_options){
                   .timeout_ms = 2000, .max_body_bytes = LIMIT, .last_modified = LAST_MODIFIED});
    assert_int_equal(by_date.result, FETCH_NOT_MODIFIED);
    assert_string_equal(h->if_modified_since, LAST_MODIFIED);
    assert_string_equal(h->if_none_match, "");
    outcome_clear(&first);
    outcome_clear(&by_etag);
    outcome_clear(&by_date);
}

/* A Last-Modified in the second of the answer is not handed over: a change
 * later in that second would keep it. */
static void test_fresh_last_modified_not_kept(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/fresh", 2000, LIMIT);
    assert_int_equal(o.result, FETCH_OK);
    assert_string_equal(o.etag, ETAG);
    assert_string_equal(o.last_modified, "");
    outcome_clear(&o);
}

static void test_unasked_304(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "/unasked304", 2000, LIMIT);
    assert_int_equal(o.result, FETCH_HTTP_4XX);
    assert_string_equal(o.error, "HTTP 304 to an unconditional request");
    outcome_clear(&o);
}

static void test_bearer_and_headers(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    struct config_header headers[] = {{.name = "X-Api-Version", .value = "2"}};
    fetch_with(h, &o, "/echo",
               (struct fetch_options){.timeout_ms = 2000, .max_body_bytes = LIMIT,
                                      .bearer_token = "tok-123", .headers = headers,
                                      .n_headers = 1});
    assert_int_equal(o.result, FETCH_OK);
    assert_string_equal(o.body, "Bearer tok-123|2");
    outcome_clear(&o);
}

static void test_basic_auth(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_with(h, &o, "/echo",
               (struct fetch_options){.timeout_ms = 2000, .max_body_bytes = LIMIT,
                                      .username = "ingot", .password = "pa:ss"});
    assert_int_equal(o.result, FETCH_OK);
    assert_string_equal(o.body, "Basic aW5nb3Q6cGE6c3M=|");
    outcome_clear(&o);
}

/* Nothing arrives: the stall check ends the fetch after connect_timeout,
 * long before the total timeout. */
static void test_stalled(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_with(h, &o, "/slow",
               (struct fetch_options){.timeout_ms = 4000, .connect_timeout_ms = 1000,
                                      .max_body_bytes = LIMIT});
    assert_int_equal(o.result, FETCH_TIMEOUT);
    assert_string_equal(o.error, "stalled: under 100 bytes/s for 1s");
    assert_true(o.duration >= 0.9 && o.duration < 3.5);
    outcome_clear(&o);
}

/* ---- pure functions ---- */

static void test_outcome_names(void **state)
{
    (void)state;
    static const char *const want[] = {"ok", "not_modified", "timeout", "connect_error",
                                       "http_4xx", "http_5xx", "tls_error", "body_too_large",
                                       "parse_error"};
    assert_int_equal(FETCH_OUTCOME_COUNT, sizeof(want) / sizeof(want[0]));
    for (int i = 0; i < FETCH_OUTCOME_COUNT; i++)
        assert_string_equal(fetch_outcome_names[i], want[i]);
}

/* xorshift64, so the spread is exercised with well-mixed bits. */
static uint64_t test_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_backoff(void **state)
{
    (void)state;
    const int64_t min = 1000, max = 60000;
    /* The ends of the spread: never below min_backoff, never above max. */
    assert_int_equal(fetch_backoff_ms(min, max, 1, 0), min);
    assert_int_equal(fetch_backoff_ms(min, max, 1, 200), 1100);
    assert_int_equal(fetch_backoff_ms(min, max, 2, 0), 1800);
    assert_int_equal(fetch_backoff_ms(min, max, 2, 400), 2200);
    assert_int_equal(fetch_backoff_ms(min, max, 3, 0), 3600);
    assert_int_equal(fetch_backoff_ms(min, max, 7, 0), 54000);   /* 64 s capped at 60 */
    assert_int_equal(fetch_backoff_ms(min, max, 7, 6000), max);
    assert_int_equal(fetch_backoff_ms(min, max, 1000, 0), 54000);
    int64_t far = fetch_backoff_ms(min, max, UINT64_MAX, UINT64_MAX);
    assert_true(far >= 54000 && far <= max);
    assert_int_equal(fetch_backoff_ms(min, min, 5, 77), min);      /* min == max */
    assert_int_equal(fetch_backoff_ms(100, 7LL * 86400 * 1000, 200, 0), 7LL * 86400 * 900);

    /* Doubling within +-10 %, and the spread covers its range. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (uint64_t n = 1; n <= 12; n++) {
        int64_t base = min << (n - 1) < max ? min << (n - 1) : max;
        int64_t lo = INT64_MAX, hi = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t d = fetch_backoff_ms(min, max, n, test_random(&x));
            assert_true(d >= min && d <= max);
            assert_true(d >= base - base / 10 && d <= base + base / 10);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        assert_true(lo < base - base / 20 || lo == min);
        assert_true(hi > base + base / 20 || hi == max);
    }
}

/* Writes content into a fresh temporary file whose path goes into path. */
static void secret_file(char *path, size_t size, const char *content)
{
    snprintf(path, size, "/tmp/ingot-test-secret-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static void test_read_secret(void **state)
{
    (void)state;
    static const struct {
        const char *content;
        const char *want; /* NULL: an error containing this is expected in err */
        const char *err;
    } cases[] = {
        {"tok-123\n", "tok-123", NULL},
        {"tok-123", "tok-123", NULL},
        {"  tok-123 \r\nsecond line\n", "tok-123", NULL},
        {"pass word\n", "pass word", NULL},
        {"\n", NULL, "the first line is empty"},
        {"", NULL, "the first line is empty"},
        {"tok\x01x\n", NULL, "control character"},
        {"0123456789abcdef\n", NULL, "longer than 15 bytes"},
        {"0123456789abcde\n", "0123456789abcde", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[64], buf[16], err[256] = "";
        secret_file(path, sizeof(path), cases[i].content);
        int rc = fetch_read_secret(path, buf, sizeof(buf), err, sizeof(err));
        if (cases[i].want != NULL) {
            assert_int_equal(rc, 0);
            assert_string_equal(buf, cases[i].want);
        } else {
            assert_int_equal(rc, -1);
            assert_contains(err, cases[i].err);
            assert_contains(err, path);
            assert_string_equal(buf, "");
        }
        unlink(path);
    }
    char buf[16], err[256];
    assert_int_equal(fetch_read_secret("/nonexistent/ingot/token", buf, sizeof(buf), err,
                                       sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/ingot/token: No such file or directory");
    assert_int_equal(fetch_read_secret("/tmp", buf, sizeof(buf), err, sizeof(err)), -1);
    assert_string_equal(err, "/tmp: not a regular file");
    /* A first line longer than the reader's own buffer is refused, not cut. */
    char path[64];
    char *long_line = malloc(10000);
    assert_non_null(long_line);
    memset(long_line, 'a', 9999);
    long_line[9999] = '\0';
    secret_file(path, sizeof(path), long_line);
    char big[8192];
    assert_int_equal(fetch_read_secret(path, big, sizeof(big), err, sizeof(err)), -1);
    assert_contains(err, "longer than");
    unlink(path);
    free(long_line);
}

/* ---- file:// ---- */

static void test_file_ok(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, GZIP_TEXT, strlen(GZIP_TEXT)));
    fetch_one(h, &o, url, 2000, LIMIT);
    assert_true(o.ok);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.body, GZIP_TEXT);
    outcome_clear(&o);
}

static void test_file_empty(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, "", 0));
    fetch_one(h, &o, url, 2000, LIMIT);
    assert_true(o.ok);
    assert_int_equal(o.body_len, 0);
    assert_string_equal(o.body, "");
    outcome_clear(&o);
}

static void test_file_missing(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    fetch_one(h, &o, "file:///nonexistent/ingot/feed.json", 2000, LIMIT);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_CONNECT_ERROR);
    assert_contains(o.error, "Couldn't read a file");
    outcome_clear(&o);
}

static void test_file_over_limit(void **state)
{
    struct harness *h = *state;
    struct outcome o = {0};
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, GZIP_TEXT, strlen(GZIP_TEXT)));
    fetch_one(h, &o, url, 2000, 10);
    assert_false(o.ok);
    assert_int_equal(o.result, FETCH_BODY_TOO_LARGE);
    assert_string_equal(o.error, "body exceeds max_body_bytes (10 bytes)");
    outcome_clear(&o);
}

/* ---- several fetches, cancelling, freeing ---- */

static void test_concurrent(void **state)
{
    struct harness *h = *state;
    struct outcome o[N_GATHER] = {{0}};
    for (int i = 0; i < N_GATHER; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/gather?%d", i);
        o[i].h = h;
        start(&o[i], path, 5000);
    }
    wait_callbacks(h, N_GATHER);
    for (int i = 0; i < N_GATHER; i++) {
        char want[32];
        snprintf(want, sizeof(want), "body %d", i);
        assert_int_equal(o[i].calls, 1);
        assert_true(o[i].ok);
        assert_string_equal(o[i].body, want);
        outcome_clear(&o[i]);
    }
}

static void test_cancel_in_flight(void **state)
{
    struct harness *h = *state;
    struct outcome slow = {.h = h}, ok = {.h = h};
    start(&slow, "/slow", 5000);
    wait_slow_requests(h, 1);
    fetch_cancel(slow.handle);
    /* The fetcher still works, and the cancelled fetch stays silent. */
    start(&ok, "/ok", 2000);
    wait_callbacks(h, 1);
    run_for(h, 100);
    assert_int_equal(slow.calls, 0);
    assert_int_equal(ok.calls, 1);
    assert_true(ok.ok);
    outcome_clear(&ok);
}

static void test_cancel_before_loop(void **state)
{
    struct harness *h = *state;
    struct outcome o = {.h = h};
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, "x", 1));
    start(&o, url, 2000);
    fetch_cancel(o.handle);
    run_for(h, 50);
    assert_int_equal(o.calls, 0);
}

static void test_fetcher_free_in_flight(void **state)
{
    struct harness *h = *state;
    struct outcome slow[3] = {{.h = h}, {.h = h}, {.h = h}}, file = {.h = h};
    for (int i = 0; i < 3; i++)
        start(&slow[i], "/slow", 5000);
    wait_slow_requests(h, 3);
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, "x", 1));
    start(&file, url, 2000);
    fetcher_free(h->fetcher);
    h->fetcher = NULL;
    run_for(h, 100);
    for (int i = 0; i < 3; i++)
        assert_int_equal(slow[i].calls, 0);
    assert_int_equal(file.calls, 0);
}

static void test_fetcher_free_from_callback(void **state)
{
    struct harness *h = *state;
    struct outcome slow = {.h = h}, ok = {.h = h, .free_fetcher_on_done = 1};
    start(&slow, "/slow", 5000);
    wait_slow_requests(h, 1);
    start(&ok, "/ok", 2000);
    wait_callbacks(h, 1);
    assert_null(h->fetcher);
    run_for(h, 100);
    assert_int_equal(ok.calls, 1);
    assert_true(ok.ok);
    assert_int_equal(slow.calls, 0);
    outcome_clear(&ok);
}

static void test_start_from_callback(void **state)
{
    struct harness *h = *state;
    struct outcome second = {.h = h};
    struct outcome first = {.h = h, .then_path = "/redirect", .then = &second};
    start(&first, "/ok", 2000);
    wait_callbacks(h, 2);
    assert_int_equal(first.calls, 1);
    assert_int_equal(second.calls, 1);
    assert_true(first.ok);
    assert_true(second.ok);
    assert_string_equal(second.body, OK_BODY);
    outcome_clear(&first);
    outcome_clear(&second);
}

/* Two file:// fetches finish together; whichever callback runs first cancels
 * the other, which must then stay silent. */
static void test_cancel_finished_from_callback(void **state)
{
    struct harness *h = *state;
    struct outcome a = {.h = h}, b = {.h = h};
    a.cancel_on_done = &b;
    b.cancel_on_done = &a;
    char url[128];
    snprintf(url, sizeof(url), "file://%s", temp_file(h, "x", 1));
    start(&a, url, 2000);
    start(&b, url, 2000);
    wait_callbacks(h, 1);
    run_for(h, 100);
    assert_int_equal(a.calls + b.calls, 1);
    outcome_clear(&a);
    outcome_clear(&b);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ok),
        T(test_body_at_limit),
        T(test_body_over_announced_limit),
        T(test_body_over_limit_chunked),
        T(test_status_503),
        T(test_redirect),
        T(test_redirect_loop),
        T(test_redirect_to_ftp_refused),
        T(test_redirect_to_file_refused),
        T(test_gzip_decoded),
        T(test_timeout),
        T(test_timeout_on_reused_connection),
        T(test_connect_refused),
        T(test_connect_timeout),
        T(test_credentials_not_in_error),
        T(test_unsupported_scheme),
        T(test_invalid_options),
        T(test_file_ok),
        T(test_file_empty),
        T(test_file_missing),
        T(test_file_over_limit),
        T(test_concurrent),
        T(test_cancel_in_flight),
        T(test_cancel_before_loop),
        T(test_fetcher_free_in_flight),
        T(test_fetcher_free_from_callback),
        T(test_start_from_callback),
        T(test_cancel_finished_from_callback),
        T(test_status_404),
        T(test_conditional),
        T(test_fresh_last_modified_not_kept),
        T(test_unasked_304),
        T(test_bearer_and_headers),
        T(test_basic_auth),
        T(test_stalled),
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_read_secret),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();
    return failed;
}
