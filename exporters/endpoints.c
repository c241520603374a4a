/*
 * endpoints: routing, the metrics cache and the request metrics.
 *
 * The domain exposition is rendered at most once per data change and
 * format, gzipped once, and lent to every scrape by reference. A scrape
 * adds only a small tail rendered on the spot (request and process
 * metrics, render cost, sizes, "# EOF" for OpenMetrics), gzipped as a
 * second gzip member when the client accepts gzip: a scrape costs the
 * bytes it sends, whatever the size of the fleet.
 */
#include "endpoints.h"

#include <event2/buffer.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exposition.h"
#include "gzip.h"
#include "negotiate.h"
#include "process_metrics.h"
#include "push_api.h"
#include "status_page.h"

#define N(array) (sizeof(array) / sizeof((array)[0]))

/* Label values of ingot_http_requests_total{handler}; "none" is the server's own answers. */
enum handler { H_METRICS, H_LANDING, H_HEALTHY, H_READY, H_RELOAD, H_SNAPSHOT, H_INGEST,
               H_NOT_FOUND, H_NONE, H_COUNT };
static const char *const handler_names[H_COUNT] = {
    [H_METRICS] = "metrics", [H_LANDING] = "landing",   [H_HEALTHY] = "healthy",
    [H_READY] = "ready",     [H_RELOAD] = "reload",     [H_SNAPSHOT] = "snapshot",
    [H_INGEST] = "ingest",   [H_NOT_FOUND] = "not_found", [H_NONE] = "none",
};

/* Every status ingotd answers with: a bounded label set. */
static const int codes[] = {200, 202, 304, 400, 401, 403, 404, 405, 408, 413, 415, 431, 500, 503};

static const double duration_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                         0.01,   0.025,   0.05,   0.1,   0.25,   0.5, 1};
#define N_BOUNDS N(duration_bounds)

/* One format's cached render. */
struct cached {
    struct exposition *plain;
    struct exposition *gzip; /* made on the first gzip scrape */
    size_t series;
    double render_seconds;
};

/* The snapshot as /snapshot serves it, made once per data change. */
struct cached_snapshot {
    struct exposition *plain;
    struct exposition *gzip; /* made on the first gzip request */
    char etag[2 + 2 * 16 + 1]; /* "\"" + 128 bits of its SHA-256 in hex + "\"" */
    char etag_gzip[sizeof("\"\"") + 2 * 16 + sizeof("-gzip")]; /* its own: RFC 9110 8.8.3 */
};

struct endpoints {
    struct endpoints_options options;
    char *telemetry_path;
    struct cached cache[2]; /* by enum expo_format */
    struct cached_snapshot snapshot;
    struct exposition *status; /* the status page, rendered once per data change */
    uint64_t requests[H_COUNT][N(codes)];
    uint64_t buckets[H_COUNT][N_BOUNDS]; /* cumulative at render time, not here */
    uint64_t observations[H_COUNT];
    double duration_sum[H_COUNT];
    struct expo *tail[2]; /* per-scrape writers, by enum expo_format */
    struct gzipper *gzip_body; /* level 6: once per data change */
    struct gzipper *gzip_tail; /* level 1: every gzip scrape */
};

struct endpoints *endpoints_new(const struct endpoints_options *options)
{
    struct endpoints *e = calloc(1, sizeof(*e));
    if (!e || !(e->telemetry_path = strdup(options->telemetry_path))) {
        free(e);
        return NULL;
    }
    e->options = *options;
    e->options.telemetry_path = e->telemetry_path;
    e->gzip_body = gzip_new(6);
    e->gzip_tail = gzip_new(1);
    if (!e->gzip_body || !e->gzip_tail) {
        endpoints_free(e);
        return NULL;
    }
    return e;
}

void endpoints_invalidate(struct endpoints *e)
{
    for (size_t f = 0; f < N(e->cache); f++) {
        exposition_unref(e->cache[f].plain);
        exposition_unref(e->cache[f].gzip);
        e->cache[f] = (struct cached){0};
    }
    exposition_unref(e->snapshot.plain);
    exposition_unref(e->snapshot.gzip);
    e->snapshot = (struct cached_snapshot){0};
    exposition_unref(e->status);
    e->status = NULL;
}

void endpoints_free(struct endpoints *e)
{
    if (!e)
        return;
    endpoints_invalidate(e);
    expo_free(e->tail[EXPO_FORMAT_TEXT]);
    expo_free(e->tail[EXPO_FORMAT_OPENMETRICS]);
    gzip_free(e->gzip_body);
    gzip_free(e->gzip_tail);
    free(e->telemetry_path);
    free(e);
}

void endpoints_observe(void *arg, const char *handler, int status, double seconds)
{
    struct endpoints *e = arg;
    size_t h = H_NONE;
    for (size_t i = 0; i < H_COUNT; i++)
        if (strcmp(handler, handler_names[i]) == 0)
            h = i;
    for (size_t c = 0; c < N(codes); c++)
        if (codes[c] == status)
            e->requests[h][c]++;
    for (size_t b = 0; b < N_BOUNDS; b++)
        if (seconds <= duration_bounds[b]) {
            e->buckets[h][b]++;
            break;
        }
    e->observations[h]++;
    e->duration_sum[h] += seconds;
}

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Samples in an exposition: its lines that are not comments. */
static size_t count_series(const char *text, size_t len)
{
    size_t n = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (*p != '#')
            n++;
        p = nl ? nl + 1 : end;
    }
    return n;
}

/* The cached render of format (and its gzip when asked), made if missing. */
static struct cached *cached_render(struct endpoints *e, enum expo_format format, bool gzip)
{
    struct cached *c = &e->cache[format];
    if (!c->plain) {
        double start = monotonic_seconds();
        size_t len = 0;
        char *text = e->options.hooks.render(e->options.hooks.arg, format, &len);
        if (!text || !(c->plain = exposition_new(text, len)))
            return NULL;
        c->series = count_series(c->plain->text, c->plain->len);
        c->render_seconds = monotonic_seconds() - start;
    }
    if (gzip && !c->gzip) {
        size_t len = 0;
        char *packed = gzip_compress(e->gzip_body, c->plain->text, c->plain->len, &len);
        if (!packed || !(c->gzip = exposition_new(packed, len)))
            return NULL;
    }
    return c;
}

/* The per-scrape families, and "# EOF" in OpenMetrics. */
static void render_tail(struct endpoints *e, struct expo *out, const struct cached *c)
{
    char code[8];
    expo_family(out, "ingot_http_requests", EXPO_COUNTER, "HTTP requests answered, by handler and status code.");
    for (size_t h = 0; h < H_COUNT; h++) {
        for (size_t i = 0; i < N(codes); i++) {
            if (!e->requests[h][i])
                continue;
            snprintf(code, sizeof(code), "%d", codes[i]);
            struct expo_label labels[] = {{"handler", handler_names[h]}, {"code", code}};
            expo_sample(out, labels, 2, (double)e->requests[h][i]);
        }
    }
    expo_family(out, "ingot_http_request_duration_seconds", EXPO_HISTOGRAM,
                "Time from the first byte of a request to its answer being queued.");
    for (size_t h = 0; h < H_COUNT; h++) {
        if (!e->observations[h])
            continue;
        uint64_t cumulative[N_BOUNDS], sum = 0;
        for (size_t b = 0; b < N_BOUNDS; b++)
            cumulative[b] = sum += e->buckets[h][b];
        struct expo_label label = {"handler", handler_names[h]};
        expo_histogram(out, &label, 1, duration_bounds, cumulative, N_BOUNDS,
                       e->observations[h], e->duration_sum[h]);
    }
    expo_family(out, "ingot_exposition_render_seconds", EXPO_GAUGE,
                "How long the last render of the domain metrics in this format took.");
    expo_sample(out, NULL, 0, c->render_seconds);
    expo_family(out, "ingot_exposition_bytes", EXPO_GAUGE,
                "Size of the last render of the domain metrics in this format.");
    struct expo_label identity = {"encoding", "identity"}, gzip = {"encoding", "gzip"};
    expo_sample(out, &identity, 1, (double)c->plain->len);
    if (c->gzip)
        expo_sample(out, &gzip, 1, (double)c->gzip->len);
    expo_family(out, "ingot_series", EXPO_GAUGE, "Domain series in the last render.");
    expo_sample(out, NULL, 0, (double)c->series);
    e->options.hooks.render_self(e->options.hooks.arg, out);
    process_metrics_render(out);
    expo_eof(out);
}

static void release_exposition(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    exposition_unref(arg);
}

static void reply_text(struct http_response *r, int status, const char *text)
{
    r->status = status;
    r->content_type = "text/plain; charset=utf-8";
    evbuffer_add(r->body, text, strlen(text));
}

static void serve_metrics(struct endpoints *e, const struct http_request *req,
                          struct http_response *r)
{
    enum expo_format format = negotiate_format(req->accept);
    bool gzip = negotiate_gzip(req->accept_encoding);
    struct cached *c = cached_render(e, format, gzip);
    if (!e->tail[format])
        e->tail[format] = expo_new(format);
    if (!c || !e->tail[format]) {
        reply_text(r, 500, "500 could not render the metrics\n");
        return;
    }
    render_tail(e, e->tail[format], c);
    size_t tail_len = 0;
    char *tail = expo_take(e->tail[format], &tail_len);
    char *packed_tail = NULL;
    size_t packed_len = 0;
    if (tail && gzip)
        packed_tail = gzip_compress(e->gzip_tail, tail, tail_len, &packed_len);
    struct exposition *body = gzip ? c->gzip : c->plain;
    if (!tail || (gzip && !packed_tail) ||
        evbuffer_add_reference(r->body, body->text, body->len, release_exposition,
                               exposition_ref(body)) != 0) {
        free(tail);
        free(packed_tail);
        reply_text(r, 500, "500 could not render the metrics\n");
        return;
    }
    if (gzip)
        evbuffer_add(r->body, packed_tail, packed_len);
    else
        evbuffer_add(r->body, tail, tail_len);
    free(tail);
    free(packed_tail);
    r->content_type = negotiate_content_type(format);
    http_response_header(r, "Vary", "Accept, Accept-Encoding");
    if (gzip)
        http_response_header(r, "Content-Encoding", "gzip");
}

/* The cached snapshot (and its gzip when asked), made if missing. */
static struct cached_snapshot *cached_snapshot(struct endpoints *e, bool gzip)
{
    struct cached_snapshot *c = &e->snapshot;
    if (!c->plain) {
        size_t len = 0;
        uint8_t *bytes = e->options.hooks.render_snapshot(e->options.hooks.arg, &len);
        unsigned char digest[EVP_MAX_MD_SIZE];
        if (!bytes)
            return NULL;
        if (EVP_Digest(bytes, len, digest, NULL, EVP_sha256(), NULL) != 1) {
            free(bytes);
            return NULL;
        }
        if (!(c->plain = exposition_new((char *)bytes, len)))
            return NULL;
        char *p = c->etag;
        *p++ = '"';
        for (size_t i = 0; i < 16; i++)
            p += sprintf(p, "%02x", digest[i]);
        *p++ = '"';
        *p = '\0';
        snprintf(c->etag_gzip, sizeof(c->etag_gzip), "%.*s-gzip\"", 2 * 16 + 1, c->etag);
    }
    if (gzip && !c->gzip) {
        size_t len = 0;
        char *packed = gzip_compress(e->gzip_body, c->plain->text, c->plain->len, &len);
        if (!packed || !(c->gzip = exposition_new(packed, len)))
            return NULL;
    }
    return c;
}

/* True when an If-None-Match value names etag (or is "*"): the entity tags
 * are compared weakly, as RFC 9110 asks for If-None-Match. */
static bool etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return false;
    const char *p = if_none_match;
    size_t etag_len = strlen(etag);
    while (*p) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == etag_len && memcmp(p, etag, len) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

/* GET /snapshot: the state as one ingot.v1.Snapshot, with an ETag so a
 * poller that has it already gets 304. */
static void serve_snapshot(struct endpoints *e, const struct http_request *req,
                           struct http_response *r)
{
    bool gzip = negotiate_gzip(req->accept_encoding);
    struct cached_snapshot *c = cached_snapshot(e, gzip);
    if (!c) {
        reply_text(r, 500, "500 could not encode the snapshot\n");
        return;
    }
    const char *etag = gzip ? c->etag_gzip : c->etag;
    http_response_header(r, "ETag", etag);
    http_response_header(r, "Vary", "Accept-Encoding");
    http_response_header(r, "Cache-Control", "no-cache");
    if (etag_matches(req->if_none_match, etag)) {
        r->status = 304;
        return;
    }
    struct exposition *body = gzip ? c->gzip : c->plain;
    if (evbuffer_add_reference(r->body, body->text, body->len, release_exposition,
                               exposition_ref(body)) != 0) {
        exposition_unref(body); /* the reference the body did not take */
        reply_text(r, 500, "500 could not encode the snapshot\n");
        return;
    }
    r->content_type = "application/x-protobuf";
    if (gzip)
        http_response_header(r, "Content-Encoding", "gzip");
}

/* The status page: rendered once per data change (endpoints_invalidate
 * drops it) and lent to every request by reference. */
static void serve_status(struct endpoints *e, struct http_response *r)
{
    size_t len = 0;
    char *html;
    if (!e->status && (html = e->options.hooks.render_status(e->options.hooks.arg, &len)))
        e->status = exposition_new(html, len);
    if (!e->status || evbuffer_add_reference(r->body, e->status->text, e->status->len,
                                             release_exposition, exposition_ref(e->status)) != 0) {
        if (e->status)
            exposition_unref(e->status); /* the reference the body did not take */
        reply_text(r, 500, "500 could not render the status page\n");
        return;
    }
    r->content_type = "text/html; charset=utf-8";
    http_response_header(r, "Cache-Control", "no-cache");
    http_response_header(r, "Content-Security-Policy", STATUS_PAGE_CSP);
}

/* "/": the status page, or a bare list of links without its hook. */
static void serve_landing(struct endpoints *e, struct http_response *r)
{
    if (e->options.hooks.render_status) {
        serve_status(e, r);
        return;
    }
    r->content_type = "text/html; charset=utf-8";
    evbuffer_add_printf(r->body,
                        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ingot</title>"
                        "</head>\n<body><h1>ingot</h1>\n"
                        "<p>Plant production and emissions against national targets.</p>\n"
                        "<ul><li><a href=\"%s\">Metrics</a></li>\n"
                        "<li><a href=\"/snapshot\">Snapshot</a></li>\n"
                        "<li><a href=\"/-/healthy\">Health</a></li>\n"
                        "<li><a href=\"/-/ready\">Readiness</a></li></ul>\n</body></html>\n",
                        e->telemetry_path);
}

static void serve_reload(struct endpoints *e, struct http_response *r)
{
    if (!e->options.enable_lifecycle) {
        reply_text(r, 403, "Lifecycle API is not enabled: start ingotd with --web.enable-lifecycle\n");
        return;
    }
    char err[1024];
    if (e->options.hooks.reload(e->options.hooks.arg, err, sizeof(err)) != 0) {
        r->status = 500;
        r->content_type = "text/plain; charset=utf-8";
        evbuffer_add_printf(r->body, "failed to reload config: %s\n", err);
        return;
    }
    reply_text(r, 200, "config reloaded\n");
}

void endpoints_handle(void *arg, const struct http_request *req, struct http_response *r)
{
    struct endpoints *e = arg;
    static const struct {
        const char *path;
        enum handler handler;
    } routes[] = {
        {"/", H_LANDING},
        {"/-/healthy", H_HEALTHY},
        {"/-/ready", H_READY},
        {"/-/reload", H_RELOAD},
        {"/snapshot", H_SNAPSHOT},
        {PUSH_API_PATH, H_INGEST},
    };
    enum handler h = H_NOT_FOUND;
    if (strcmp(req->path, e->telemetry_path) == 0)
        h = H_METRICS;
    for (size_t i = 0; i < N(routes) && h == H_NOT_FOUND; i++)
        if (strcmp(req->path, routes[i].path) == 0)
            h = routes[i].handler;
    if (h == H_INGEST && !e->options.hooks.ingest)
        h = H_NOT_FOUND;
    r->handler = handler_names[h];

    if (h == H_NOT_FOUND) {
        reply_text(r, 404, "404 page not found\n");
        return;
    }
    bool reading = req->method == REQUEST_GET || req->method == REQUEST_HEAD;
    bool writing = req->method == REQUEST_POST || req->method == REQUEST_PUT;
    if (h == H_INGEST && req->method != REQUEST_POST) {
        http_response_header(r, "Allow", "POST");
        reply_text(r, 405, "405 method not allowed: use POST\n");
        return;
    }
    if (h != H_INGEST && (h == H_RELOAD ? !writing : !reading)) {
        http_response_header(r, "Allow", h == H_RELOAD ? "POST, PUT" : "GET, HEAD");
        reply_text(r, 405, h == H_RELOAD ? "405 method not allowed: use POST or PUT\n"
                                         : "405 method not allowed: use GET or HEAD\n");
        return;
    }
    switch (h) {
    case H_METRICS:
        serve_metrics(e, req, r);
        break;
    case H_LANDING:
        serve_landing(e, r);
        break;
    case H_HEALTHY:
        reply_text(r, 200, "Healthy\n");
        break;
    case H_READY:
        if (e->options.hooks.ready(e->options.hooks.arg))
            reply_text(r, 200, "Ready\n");
        else
            reply_text(r, 503, "Not ready: waiting for the first fetch of every feed\n");
        break;
    case H_RELOAD:
        serve_reload(e, r);
        break;
    case H_SNAPSHOT:
        serve_snapshot(e, req, r);
        break;
    case H_INGEST:
        e->options.hooks.ingest(e->options.hooks.arg, req, r);
        break;
    case H_NOT_FOUND:
    case H_NONE:
    case H_COUNT:
        break;
    }
}

bool endpoints_own_auth(void *arg, const char *path)
{
    const struct endpoints *e = arg;
    return e->options.hooks.ingest && strcmp(path, PUSH_API_PATH) == 0;
}
