/*
 * test_remote_write: remote write end to end within one process. An evhttp
 * receiver on 127.0.0.1 (an ephemeral port) captures every request and
 * answers from a script (500, 429 with Retry-After, 400 with a message,
 * then 204); the remotes run on the same event_base. Each captured body is
 * snappy-decompressed with libsnappy itself and read by rw_wire.h, which
 * shares nothing with the encoder. Checked: the headers and framing of a
 * request; the series of a record (labels sorted, __name__, external labels
 * where the series has none, the period start) and of a restatement (only
 * the changed field); the evaluated families (own labels win, empty values
 * left out); retries of the same batch after 5xx and 429; a 400 dropping
 * and counting its batch; the queue bound; batches split at
 * batch_max_samples; pending samples saved at the end and sent first by the
 * next remote; the retry delay and the pending file name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "period.h"
#include "remote_write.h"
#include "rw_wire.h"

#define MAX_REQUESTS 32
#define MAX_SCRIPT 8
#define SAFETY_SECONDS 10.0

struct answer {
    int status;
    const char *retry_after; /* NULL: none */
    const char *body;
};

struct captured {
    uint8_t *body; /* as sent (compressed) */
    size_t len;
    char content_encoding[32], content_type[64], version[16], user_agent[64];
    char authorization[128], org_id[64];
    double at; /* monotonic seconds */
};

struct harness {
    struct event_base *base;
    struct evhttp *http;
    int port;
    struct answer script[MAX_SCRIPT];
    size_t n_script, next_answer;
    struct captured req[MAX_REQUESTS];
    size_t n_req;
    struct remote_write *rw;
    struct config config;
    struct config_remote_write remote;
    struct config_label external[2];
    struct config_header header;
    char state_dir[64];
    char token_file[96];
    const char *render_text; /* the evaluated families the render hook gives */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void copy_header(struct evkeyvalq *headers, const char *name, char *out, size_t size)
{
    const char *v = evhttp_find_header(headers, name);
    snprintf(out, size, "%s", v ? v : "");
}

static void write_handler(struct evhttp_request *req, void *arg)
{
    struct harness *h = arg;
    assert_true(h->n_req < MAX_REQUESTS);
    struct captured *c = &h->req[h->n_req++];
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    copy_header(in, "Content-Encoding", c->content_encoding, sizeof(c->content_encoding));
    copy_header(in, "Content-Type", c->content_type, sizeof(c->content_type));
    copy_header(in, "X-Prometheus-Remote-Write-Version", c->version, sizeof(c->version));
    copy_header(in, "User-Agent", c->user_agent, sizeof(c->user_agent));
    copy_header(in, "Authorization", c->authorization, sizeof(c->authorization));
    copy_header(in, "X-Scope-OrgID", c->org_id, sizeof(c->org_id));
    assert_int_equal(evhttp_request_get_command(req), EVHTTP_REQ_POST);
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    c->len = evbuffer_get_length(body);
    c->body = malloc(c->len ? c->len : 1);
    evbuffer_remove(body, c->body, c->len);
    c->at = now_s();

    struct answer a = {204, NULL, NULL};
    if (h->next_answer < h->n_script)
        a = h->script[h->next_answer++];
    if (a.retry_after)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", a.retry_after);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (a.body)
        evbuffer_add(out, a.body, strlen(a.body));
    evhttp_send_reply(req, a.status, "whatever", NULL);
}

static char *render(void *arg, size_t *len)
{
    struct harness *h = arg;
    *len = strlen(h->render_text);
    return strdup(h->render_text);
}

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));
    h->base = event_base_new();
    h->http = evhttp_new(h->base);
    evhttp_set_cb(h->http, "/api/v1/write", write_handler, h);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(h->http, "127.0.0.1", 0);
    assert_non_null(bound);
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &sl),
                     0);
    h->port = ntohs(sin.sin_port);

    snprintf(h->state_dir, sizeof(h->state_dir), "/tmp/test_remote_write_XXXXXX");
    assert_non_null(mkdtemp(h->state_dir));
    snprintf(h->token_file, sizeof(h->token_file), "%s/token", h->state_dir);
    FILE *f = fopen(h->token_file, "w");
    fputs("s3cret\n", f);
    fclose(f);

    static char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/write", h->port);
    h->external[0] = (struct config_label){"country", "kz"};
    h->external[1] = (struct config_label){"plant", "never-overrides"};
    h->header = (struct config_header){"X-Scope-OrgID", "ministry"};
    h->remote = (struct config_remote_write){
        .name = "vm",
        .url = url,
        .timeout_ms = 5000,
        .bearer_token_file = h->token_file,
        .headers = &h->header,
        .n_headers = 1,
        .external_labels = h->external,
        .n_external_labels = 2,
        .batch_max_samples = 100,
        .batch_deadline_ms = 50,
        .queue_max_samples = 1000,
        .min_backoff_ms = 20,
        .max_backoff_ms = 200,
    };
    h->config.remote_writes = &h->remote;
    h->config.n_remote_writes = 1;
    h->render_text = "";
    *state = h;
    return 0;
}

/* The remote write of h's config (re)started with the remote as it is. */
static void start(struct harness *h)
{
    h->rw = remote_write_new(h->base, h->state_dir, render, h);
    assert_non_null(h->rw);
    assert_int_equal(remote_write_configure(h->rw, &h->config), 0);
}

static int teardown(void **state)
{
    struct harness *h = *state;
    remote_write_free(h->rw);
    for (size_t i = 0; i < h->n_req; i++)
        free(h->req[i].body);
    evhttp_free(h->http);
    event_base_free(h->base);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", h->state_dir);
    assert_int_equal(system(cmd), 0);
    free(h);
    return 0;
}

struct wait {
    struct harness *h;
    int (*done)(struct harness *h, void *arg);
    void *arg;
    double deadline;
};

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct wait *w = arg;
    if (w->done(w->h, w->arg) || now_s() > w->deadline)
        event_base_loopexit(w->h->base, NULL);
}

/* Runs the loop until done says so; fails after SAFETY_SECONDS. */
static void run_until(struct harness *h, int (*done)(struct harness *, void *), void *arg)
{
    struct wait w = {h, done, arg, now_s() + SAFETY_SECONDS};
    struct event *poll = event_new(h->base, -1, EV_PERSIST, poll_cb, &w);
    struct timeval tv = {0, 5000};
    event_add(poll, &tv);
    event_base_dispatch(h->base);
    event_free(poll);
    assert_true(done(h, arg));
}

/* Runs the loop for seconds. */
static void run_for(struct harness *h, double seconds)
{
    struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - (time_t)seconds) * 1e6)};
    event_base_loopexit(h->base, &tv);
    event_base_dispatch(h->base);
}

static int requests_at_least(struct harness *h, void *arg)
{
    return h->n_req >= (size_t)(uintptr_t)arg;
}

static struct remote_write_stats stats(struct harness *h)
{
    struct remote_write_stats st;
    assert_int_equal(remote_write_count(h->rw), 1);
    remote_write_stats(h->rw, 0, &st);
    return st;
}

static int all_settled(struct harness *h, void *arg)
{
    struct remote_write_stats st = stats(h);
    return st.pending == 0 && st.sent + st.failed >= (uint64_t)(uintptr_t)arg;
}

/* Request i decompressed (libsnappy) and read. */
static void decode(struct harness *h, size_t i, struct wire_request *out)
{
    const struct captured *c = &h->req[i];
    size_t plain_len = 0;
    assert_int_equal(snappy_uncompressed_length((const char *)c->body, c->len, &plain_len),
                     SNAPPY_OK);
    char *plain = malloc(plain_len ? plain_len : 1);
    assert_int_equal(snappy_uncompress((const char *)c->body, c->len, plain, &plain_len),
                     SNAPPY_OK);
    assert_int_equal(wire_request_parse(out, (const uint8_t *)plain, plain_len), 0);
    free(plain);
}

static void assert_sorted(const struct wire_series *ts)
{
    for (size_t i = 1; i < ts->n_labels; i++)
        assert_true(strcmp(ts->labels[i - 1].name, ts->labels[i].name) < 0);
    for (size_t i = 0; i < ts->n_labels; i++)
        assert_true(ts->labels[i].value[0] != '\0');
}

static struct rollup_values values(double production, double co2)
{
    struct rollup_values v = rollup_values_none();
    if (!isnan(production)) {
        v.value[RECORD_PRODUCTION_TONNES] = production;
    }
    if (!isnan(co2)) {
        v.value[RECORD_CO2_TONNES] = co2;
    }
    return v;
}

static int32_t key_of(const char *period)
{
    struct period p;
    assert_int_equal(period_parse(period, &p), 0);
    return period_key(&p);
}

/* One sample of plant kz-x, metal copper, at ts ms. */
static void one_sample(struct harness *h, int64_t day, double v)
{
    struct store_plant plant = {.id = "kz-x"};
    struct rollup_values after = values(v, NAN);
    char period[32];
    snprintf(period, sizeof(period), "2025-01-%02d", (int)day);
    remote_write_record(h->rw, &plant, "copper", key_of(period), NULL, &after);
}

static void test_request_format(void **state)
{
    struct harness *h = *state;
    start(h);
    struct store_plant plant = {.id = "kz-balkhash-cu"};
    struct rollup_values first = values(11630.6, 12707.3), restated = values(11700, 12707.3);
    remote_write_record(h->rw, &plant, "copper", key_of("2025-01"), NULL, &first);
    remote_write_record(h->rw, &plant, "copper", key_of("2025-02-03"), NULL, &first);
    run_until(h, requests_at_least, (void *)1);

    const struct captured *c = &h->req[0];
    assert_string_equal(c->content_encoding, "snappy");
    assert_string_equal(c->content_type, "application/x-protobuf");
    assert_string_equal(c->version, "0.1.0");
    assert_string_equal(c->user_agent, "ingot/" INGOT_VERSION);
    assert_string_equal(c->authorization, "Bearer s3cret");
    assert_string_equal(c->org_id, "ministry");

    struct wire_request r;
    decode(h, 0, &r);
    assert_int_equal(r.n_series, 4);
    for (size_t i = 0; i < r.n_series; i++) {
        assert_sorted(&r.series[i]);
        assert_int_equal(r.series[i].n_labels, 5); /* __name__ country granularity metal plant */
        assert_string_equal(wire_label_value(&r.series[i], "country"), "kz");
        assert_string_equal(wire_label_value(&r.series[i], "plant"), "kz-balkhash-cu");
    }
    const char *month[] = {"__name__", "ingot_plant_production_tonnes", "granularity", "month",
                           NULL};
    const struct wire_series *ts = wire_find(&r, month);
    assert_non_null(ts);
    assert_string_equal(ts->labels[0].name, "__name__");
    assert_int_equal(ts->n_samples, 1);
    assert_int_equal(ts->samples[0].timestamp_ms, 1735689600000); /* 2025-01-01 */
    assert_true(ts->samples[0].value == 11630.6);
    const char *day[] = {"__name__", "ingot_plant_co2_tonnes", "granularity", "day", NULL};
    ts = wire_find(&r, day);
    assert_non_null(ts);
    assert_int_equal(ts->samples[0].timestamp_ms, 1738540800000); /* 2025-02-03 */
    assert_true(ts->samples[0].value == 12707.3);
    wire_request_free(&r);

    /* A restatement sends the changed field only; the same values nothing. */
    remote_write_record(h->rw, &plant, "copper", key_of("2025-01"), &first, &restated);
    remote_write_record(h->rw, &plant, "copper", key_of("2025-01"), &restated, &restated);
    run_until(h, requests_at_least, (void *)2);
    run_for(h, 0.15);
    assert_int_equal(h->n_req, 2);
    decode(h, 1, &r);
    assert_int_equal(r.n_series, 1);
    assert_string_equal(wire_label_value(&r.series[0], "__name__"),
                        "ingot_plant_production_tonnes");
    assert_true(r.series[0].samples[0].value == 11700);
    assert_int_equal(r.series[0].samples[0].timestamp_ms, 1735689600000);
    wire_request_free(&r);

    struct remote_write_stats st = stats(h);
    assert_int_equal(st.sent, 5);
    assert_int_equal(st.failed + st.dropped + st.pending, 0);
    assert_true(st.last_success > 0);
    assert_int_equal(st.duration_count, 2);
}

static void test_evaluated_families(void **state)
{
    struct harness *h = *state;
    h->render_text = "# HELP a x\n# TYPE a gauge\n"
                     "a{metal=\"zinc\",plant=\"own\",year=\"2025\",empty=\"\"} 5\n"
                     "b 0.25\n";
    start(h);
    struct timespec before;
    clock_gettime(CLOCK_REALTIME, &before);
    remote_write_evaluate(h->rw);
    remote_write_evaluate(h->rw); /* coalesced */
    run_until(h, requests_at_least, (void *)1);
    run_for(h, 0.2);
    assert_int_equal(h->n_req, 1);
    struct wire_request r;
    decode(h, 0, &r);
    assert_int_equal(r.n_series, 2);
    const char *a[] = {"__name__", "a", NULL};
    const struct wire_series *ts = wire_find(&r, a);
    assert_non_null(ts);
    assert_sorted(ts);
    assert_int_equal(ts->n_labels, 5); /* __name__ country metal plant year */
    assert_string_equal(wire_label_value(ts, "plant"), "own"); /* not the external label */
    assert_string_equal(wire_label_value(ts, "country"), "kz");
    assert_null(wire_label_value(ts, "empty"));
    int64_t ms = (int64_t)before.tv_sec * 1000 + before.tv_nsec / 1000000;
    assert_true(ts->samples[0].timestamp_ms >= ms && ts->samples[0].timestamp_ms < ms + 5000);
    const char *b[] = {"__name__", "b", NULL};
    ts = wire_find(&r, b);
    assert_non_null(ts);
    assert_int_equal(ts->n_labels, 3); /* __name__ country plant(external) */
    assert_string_equal(wire_label_value(ts, "plant"), "never-overrides");
    assert_true(ts->samples[0].value == 0.25);
    wire_request_free(&r);
}

static void test_retry_5xx_same_batch(void **state)
{
    struct harness *h = *state;
    h->script[0] = (struct answer){500, NULL, "storage unavailable"};
    h->script[1] = (struct answer){503, NULL, NULL};
    h->n_script = 2;
    start(h);
    for (int d = 1; d <= 3; d++)
        one_sample(h, d, d);
    run_until(h, all_settled, (void *)3);
    assert_int_equal(h->n_req, 3);
    for (size_t i = 1; i < 3; i++) {
        assert_int_equal(h->req[i].len, h->req[0].len);
        assert_memory_equal(h->req[i].body, h->req[0].body, h->req[0].len);
    }
    /* min_backoff 20ms, then doubled (+-10 %; libevent measures timers from
     * the time its loop woke, so allow a little less). */
    assert_true(h->req[1].at - h->req[0].at >= 0.015);
    assert_true(h->req[2].at - h->req[1].at >= 0.030);
    struct remote_write_stats st = stats(h);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.duration_count, 3);
}

static void test_429(void **state)
{
    struct harness *h = *state;
    h->script[0] = (struct answer){429, "1", "slow down"};
    h->script[1] = (struct answer){429, NULL, "slow down"};
    h->n_script = 2;
    h->remote.retry_on_http_429 = true;
    start(h);
    one_sample(h, 1, 1);
    run_until(h, all_settled, (void *)1);
    assert_int_equal(h->n_req, 3);
    assert_true(h->req[1].at - h->req[0].at >= 0.95); /* Retry-After: 1 */
    assert_true(h->req[2].at - h->req[1].at < 0.9);   /* no Retry-After: backoff */
    assert_int_equal(stats(h).sent, 1);
    remote_write_free(h->rw);

    /* Not retried unless configured: dropped and counted like a 400. */
    h->script[2] = (struct answer){429, "1", "slow down"};
    h->n_script = 3;
    h->remote.retry_on_http_429 = false;
    start(h);
    one_sample(h, 1, 1);
    run_until(h, all_settled, (void *)1);
    one_sample(h, 2, 2);
    run_until(h, all_settled, (void *)2);
    struct remote_write_stats st = stats(h);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(h->n_req, 5);
}

static void test_400_dropped(void **state)
{
    struct harness *h = *state;
    h->script[0] = (struct answer){400, NULL, "out of order sample\nsecond line"};
    h->n_script = 1;
    start(h);
    for (int d = 1; d <= 4; d++)
        one_sample(h, d, d);
    run_until(h, all_settled, (void *)4);
    run_for(h, 0.1);
    assert_int_equal(h->n_req, 1);
    one_sample(h, 5, 5);
    run_until(h, all_settled, (void *)5);
    struct remote_write_stats st = stats(h);
    assert_int_equal(st.failed, 4);
    assert_int_equal(st.sent, 1);
    assert_int_equal(h->n_req, 2);
}

static int pending_is(struct harness *h, void *arg)
{
    return stats(h).pending == (uint64_t)(uintptr_t)arg;
}

static void test_queue_bound(void **state)
{
    struct harness *h = *state;
    for (size_t i = 0; i < MAX_SCRIPT; i++)
        h->script[i] = (struct answer){503, "10", NULL};
    h->n_script = MAX_SCRIPT;
    h->remote.batch_max_samples = 2;
    h->remote.queue_max_samples = 5;
    start(h);
    for (int d = 1; d <= 10; d++)
        one_sample(h, d, d);
    /* 2 in the batch being retried, 5 waiting: 3 dropped, oldest first. */
    run_until(h, requests_at_least, (void *)1);
    struct remote_write_stats st = stats(h);
    assert_int_equal(st.pending, 7);
    assert_int_equal(st.dropped, 3);
    assert_int_equal(st.sent + st.failed, 0);
}

static void test_batches_split(void **state)
{
    struct harness *h = *state;
    h->remote.batch_max_samples = 3;
    h->remote.batch_deadline_ms = 300;
    start(h);
    double t0 = now_s();
    for (int d = 1; d <= 7; d++)
        one_sample(h, d, d);
    run_until(h, all_settled, (void *)7);
    assert_int_equal(h->n_req, 3);
    size_t sizes[3];
    for (size_t i = 0; i < 3; i++) {
        struct wire_request r;
        decode(h, i, &r);
        sizes[i] = r.series[0].n_samples;
        for (size_t j = 1; j < r.series[0].n_samples; j++)
            assert_true(r.series[0].samples[j - 1].timestamp_ms <
                        r.series[0].samples[j].timestamp_ms);
        wire_request_free(&r);
    }
    assert_int_equal(sizes[0], 3);
    assert_int_equal(sizes[1], 3);
    assert_int_equal(sizes[2], 1);
    assert_true(h->req[1].at - t0 < 0.25);  /* full batches go at once */
    assert_true(h->req[2].at - t0 >= 0.28); /* the rest at the deadline */
}

static void test_pending_saved_and_restored(void **state)
{
    struct harness *h = *state;
    for (size_t i = 0; i < MAX_SCRIPT; i++)
        h->script[i] = (struct answer){503, "10", NULL};
    h->n_script = MAX_SCRIPT;
    h->remote.batch_max_samples = 2;
    start(h);
    for (int d = 1; d <= 5; d++)
        one_sample(h, d, d);
    run_until(h, pending_is, (void *)5);
    run_until(h, requests_at_least, (void *)1);
    remote_write_free(h->rw); /* a clean stop: saved */
    h->rw = NULL;

    char path[160];
    snprintf(path, sizeof(path), "%s/remote-write-vm.pending", h->state_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    char magic[9] = "";
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, magic, 8), 8);
    close(fd);
    assert_string_equal(magic, "INGOTRW1");

    /* The next start sends them first, in order, and removes the file. */
    h->n_script = 0;
    size_t before = h->n_req;
    start(h);
    assert_int_not_equal(stat(path, &st), 0);
    one_sample(h, 6, 6);
    run_until(h, all_settled, (void *)6);
    int64_t last = 0;
    size_t seen = 0;
    for (size_t i = before; i < h->n_req; i++) {
        struct wire_request r;
        decode(h, i, &r);
        for (size_t j = 0; j < r.series[0].n_samples; j++, seen++) {
            assert_true(r.series[0].samples[j].timestamp_ms > last);
            last = r.series[0].samples[j].timestamp_ms;
        }
        wire_request_free(&r);
    }
    assert_int_equal(seen, 6);
    assert_int_equal(stats(h).sent, 6);
}

static void test_retry_delay(void **state)
{
    (void)state;
    struct config_remote_write c = {.min_backoff_ms = 30, .max_backoff_ms = 5000};
    for (uint64_t random = 0; random < 200; random += 7) {
        int64_t d1 = remote_write_retry_delay_ms(&c, 1, 0, random);
        int64_t d5 = remote_write_retry_delay_ms(&c, 5, 0, random);
        int64_t d20 = remote_write_retry_delay_ms(&c, 20, 0, random);
        assert_true(d1 >= 30 && d1 <= 33);
        assert_true(d5 >= 432 && d5 <= 528); /* 30 x 2^4 +- 10 % */
        assert_true(d20 >= 4500 && d20 <= 5000);
    }
    assert_int_equal(remote_write_retry_delay_ms(&c, 3, 7, 0), 7000);
    assert_int_equal(remote_write_retry_delay_ms(&c, 3, 999999, 0), 3600000);
}

static void test_pending_name(void **state)
{
    (void)state;
    char *name = remote_write_pending_name("127.0.0.1:8428/api/v1/write");
    assert_string_equal(name, "remote-write-127.0.0.1%3A8428%2Fapi%2Fv1%2Fwrite.pending");
    free(name);
    name = remote_write_pending_name("vm_cluster");
    assert_string_equal(name, "remote-write-vm_cluster.pending");
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evaluated_families, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_5xx_same_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_400_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_saved_and_restored, setup, teardown),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_pending_name),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fetch_global_cleanup();
    return rc;
}
