/*
 * http_server: routing and replies. Every request ends in exactly one
 * evhttp_send_reply through reply(); bodies the server builds are owned by
 * the buffer passed there, and an exposition is lent by reference and
 * released when libevent has written it out.
 */
#include "http_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Limits a scraper never comes near and an attacker cannot exceed. */
#define HTTP_MAX_HEADERS_BYTES 16384
#define HTTP_MAX_BODY_BYTES 65536
#define HTTP_IDLE_TIMEOUT_SECONDS 30

struct http_server {
    struct evhttp *http;
    char *telemetry_path;
    http_exposition_cb exposition;
    void *arg;
};

#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
#define CONTENT_TYPE_EXPOSITION "text/plain; version=0.0.4; charset=utf-8"

/* Sends one reply; body (may be NULL) stays the caller's to free. */
static void reply(struct evhttp_request *req, int code, const char *reason,
                  const char *content_type, struct evbuffer *body)
{
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    if (content_type)
        evhttp_add_header(headers, "Content-Type", content_type);
    evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
    evhttp_send_reply(req, code, reason, body);
}

/* Replies with a short text body. */
static void reply_text(struct evhttp_request *req, int code, const char *reason,
                       const char *text)
{
    struct evbuffer *body = evbuffer_new();
    if (body)
        evbuffer_add(body, text, strlen(text));
    reply(req, code, reason, CONTENT_TYPE_TEXT, body);
    if (body)
        evbuffer_free(body);
}

static void release_exposition(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    exposition_unref(arg);
}

static void serve_metrics(struct http_server *s, struct evhttp_request *req)
{
    struct exposition *e = s->exposition(s->arg);
    struct evbuffer *body = e ? evbuffer_new() : NULL;
    if (!body ||
        evbuffer_add_reference(body, e->text, e->len, release_exposition, e) != 0) {
        if (body)
            evbuffer_free(body);
        else
            exposition_unref(e);
        reply_text(req, 500, "Internal Server Error", "could not render the metrics\n");
        return;
    }
    reply(req, 200, "OK", CONTENT_TYPE_EXPOSITION, body);
    evbuffer_free(body);
}

static void serve_landing(struct http_server *s, struct evhttp_request *req)
{
    struct evbuffer *body = evbuffer_new();
    if (body)
        evbuffer_add_printf(body,
                            "<!DOCTYPE html>\n<html><head><title>ingot</title></head>\n"
                            "<body><h1>ingot</h1>\n"
                            "<p>Plant production and emissions against national targets.</p>\n"
                            "<p><a href=\"%s\">Metrics</a></p>\n</body></html>\n",
                            s->telemetry_path);
    reply(req, 200, "OK", "text/html; charset=utf-8", body);
    if (body)
        evbuffer_free(body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    enum evhttp_cmd_type method = evhttp_request_get_command(req);

    enum { ROUTE_METRICS, ROUTE_LANDING, ROUTE_HEALTHY, ROUTE_READY, ROUTE_NONE } route;
    if (strcmp(path, s->telemetry_path) == 0)
        route = ROUTE_METRICS;
    else if (strcmp(path, "/") == 0)
        route = ROUTE_LANDING;
    else if (strcmp(path, "/-/healthy") == 0)
        route = ROUTE_HEALTHY;
    else if (strcmp(path, "/-/ready") == 0)
        route = ROUTE_READY;
    else
        route = ROUTE_NONE;

    if (route == ROUTE_NONE) {
        reply_text(req, 404, "Not Found", "404 page not found\n");
        return;
    }
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        reply_text(req, 405, "Method Not Allowed", "405 method not allowed: use GET or HEAD\n");
        return;
    }
    switch (route) {
    case ROUTE_METRICS:
        serve_metrics(s, req);
        break;
    case ROUTE_LANDING:
        serve_landing(s, req);
        break;
    case ROUTE_HEALTHY:
        reply_text(req, 200, "OK", "Healthy\n");
        break;
    case ROUTE_READY:
    case ROUTE_NONE:
        reply_text(req, 200, "OK", "Ready\n");
        break;
    }
}

int http_parse_listen_address(const char *address, char *host, size_t host_size,
                              unsigned short *port)
{
    const char *colon = strrchr(address, ':');
    if (!colon)
        return -1;
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen && h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return -1;
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return -1; /* an IPv6 address needs brackets */
    }
    if (hlen >= host_size)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || p < 1 || p > 65535)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (unsigned short)p;
    return 0;
}

struct http_server *http_server_new(struct event_base *base,
                                    const struct http_server_options *options, char *err,
                                    size_t err_size)
{
    char host[256];
    unsigned short port;
    if (options->listen_fd < 0 &&
        http_parse_listen_address(options->listen_address, host, sizeof(host), &port) != 0) {
        snprintf(err, err_size, "listen address \"%s\" is not HOST:PORT", options->listen_address);
        return NULL;
    }
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s || !(s->http = evhttp_new(base)) ||
        !(s->telemetry_path = strdup(options->telemetry_path))) {
        snprintf(err, err_size, "out of memory");
        http_server_free(s);
        return NULL;
    }
    s->exposition = options->exposition;
    s->arg = options->arg;
    evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS_BYTES);
    evhttp_set_max_body_size(s->http, HTTP_MAX_BODY_BYTES);
    evhttp_set_timeout(s->http, HTTP_IDLE_TIMEOUT_SECONDS);
    /* Let every method reach on_request, which answers 405 itself. */
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(s->http, on_request, s);

    int bound;
    if (options->listen_fd >= 0)
        bound = evhttp_accept_socket(s->http, options->listen_fd);
    else if (host[0])
        bound = evhttp_bind_socket(s->http, host, port);
    else /* every interface: dual-stack where IPv6 exists */
        bound = evhttp_bind_socket(s->http, "::", port) == 0 ||
                        evhttp_bind_socket(s->http, "0.0.0.0", port) == 0
                    ? 0
                    : -1;
    if (bound != 0) {
        snprintf(err, err_size, "cannot listen on %s: %m", options->listen_address);
        http_server_free(s);
        return NULL;
    }
    return s;
}

void http_server_free(struct http_server *server)
{
    if (!server)
        return;
    if (server->http)
        evhttp_free(server->http);
    free(server->telemetry_path);
    free(server);
}
