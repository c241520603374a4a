/*
 * http_server: connections, parsing, limits and framing.
 *
 * A connection is a bufferevent (plain, or OpenSSL accepting) and an
 * http-parser. Bytes are fed to the parser as they arrive; the request
 * line, the headers the server needs and the body are copied into
 * per-connection buffers bounded by the limits. When a request is complete
 * the parser is paused, the request is answered synchronously (the answer
 * goes to the output buffer, by reference where the handler lent its
 * body), and parsing resumes with whatever the client pipelined.
 *
 * Every connection is always under one deadline: from accept (covering the
 * TLS handshake) and from the first byte of each request until the request
 * is complete (read_header_timeout), or while idle between requests
 * (idle_timeout). At max_connections, accepting a new client drops the
 * connection whose unfinished request is oldest, then the oldest idle one:
 * a slow client can never lock out a scrape.
 */
#include "http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "web_security.h"

const char *const http_drop_reason_names[HTTP_DROP_REASON_COUNT] = {
    [HTTP_DROP_MAX_CONNECTIONS] = "max_connections",
    [HTTP_DROP_READ_HEADER_TIMEOUT] = "read_header_timeout",
    [HTTP_DROP_WRITE_TIMEOUT] = "write_timeout",
    [HTTP_DROP_TLS_HANDSHAKE] = "tls_handshake",
};

/* The request headers the server keeps; others are skipped. */
enum wanted_header { H_ACCEPT, H_ACCEPT_ENCODING, H_AUTHORIZATION, H_CONTENT_TYPE,
                     H_IF_NONE_MATCH, H_COUNT, H_NONE = H_COUNT };
static const char *const wanted_names[H_COUNT] = {
    [H_ACCEPT] = "accept",
    [H_ACCEPT_ENCODING] = "accept-encoding",
    [H_AUTHORIZATION] = "authorization",
    [H_CONTENT_TYPE] = "content-type",
    [H_IF_NONE_MATCH] = "if-none-match",
};

enum conn_phase {
    PHASE_HANDSHAKE, /* TLS not yet established, or no byte of a request yet */
    PHASE_REQUEST,   /* a request has started and is not complete */
    PHASE_IDLE,      /* between requests on a kept-alive connection */
    PHASE_CLOSING,   /* the last answer is being written */
};

struct conn {
    struct http_server *server;
    struct bufferevent *bev;
    struct event *deadline;
    http_parser parser;
    enum conn_phase phase;
    bool tls_established; /* the handshake completed (TLS only) */
    struct timespec request_started;
    struct conn *prev, *next; /* server->conns, oldest first */

    /* The current request: url and wanted header values live in head. */
    char *head;
    size_t head_len, head_cap;
    size_t head_bytes; /* bytes of request line and headers seen */
    size_t url_off, url_len;
    size_t value_off[H_COUNT], value_len[H_COUNT];
    bool have[H_COUNT];
    enum wanted_header current; /* header whose value is arriving */
    char field[24];
    size_t field_len;
    bool field_done; /* the current field name is complete */
    struct evbuffer *body;
    int error_status; /* a limit was hit: answer this and close */
    bool complete;
};

struct http_server {
    struct event_base *base;
    struct evconnlistener *listener;
    struct http_server_options options;
    struct http_limits limits;
    struct http_server_stats stats;
    struct conn *oldest, *newest;
};

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

void http_response_header(struct http_response *response, const char *name, const char *value)
{
    if (response->n_headers < HTTP_RESPONSE_MAX_HEADERS) {
        response->headers[response->n_headers].name = name;
        response->headers[response->n_headers].value = value;
        response->n_headers++;
    }
}

/* ---- connection lifetime --------------------------------------------- */

static void conn_free(struct conn *c)
{
    struct http_server *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->oldest = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        s->newest = c->prev;
    s->stats.open_connections--;
    if (c->deadline)
        event_free(c->deadline);
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->body)
        evbuffer_free(c->body);
    free(c->head);
    free(c);
}

static void arm_deadline(struct conn *c, int64_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    evtimer_add(c->deadline, &tv);
}

static void enter_phase(struct conn *c, enum conn_phase phase)
{
    c->phase = phase;
    if (phase == PHASE_IDLE)
        arm_deadline(c, c->server->limits.idle_timeout_ms);
    else if (phase == PHASE_REQUEST || phase == PHASE_HANDSHAKE)
        arm_deadline(c, c->server->limits.read_header_timeout_ms);
    else
        evtimer_del(c->deadline);
}

/* Closes once everything queued has been written. */
static void close_after_write(struct conn *c)
{
    enter_phase(c, PHASE_CLOSING);
    bufferevent_disable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
}

/* ---- responses ------------------------------------------------------- */

static void write_response(struct conn *c, enum http_request_method method,
                           struct http_response *r, bool keep_alive)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);

    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", r->status, reason_phrase(r->status),
                        date);
    /* A 304 has no body, and a Content-Length would have to be the 200's. */
    if (r->status != 304)
        evbuffer_add_printf(out, "Content-Length: %zu\r\n", evbuffer_get_length(r->body));
    if (r->content_type)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", r->content_type);
    if (!keep_alive)
        evbuffer_add_printf(out, "Connection: close\r\n");
    evbuffer_add_printf(out, "X-Content-Type-Options: nosniff\r\n");
    for (size_t i = 0; i < r->n_headers; i++)
        evbuffer_add_printf(out, "%s: %s\r\n", r->headers[i].name, r->headers[i].value);
    const struct web_header *extra = NULL;
    size_t n_extra = c->server->options.security
                         ? web_security_headers(c->server->options.security, &extra)
                         : 0;
    for (size_t i = 0; i < n_extra; i++)
        evbuffer_add_printf(out, "%s: %s\r\n", extra[i].name, extra[i].value);
    evbuffer_add(out, "\r\n", 2);
    /* Moves the chains: a body lent by reference is not copied. */
    if (method != REQUEST_HEAD)
        evbuffer_add_buffer(out, r->body);
}

/* Answers an error the server detected itself, then closes. */
static void fail_request(struct conn *c, int status, const char *text)
{
    struct http_response r = {.status = status, .content_type = "text/plain; charset=utf-8",
                              .handler = "none", .body = evbuffer_new()};
    if (r.body) {
        evbuffer_add_printf(r.body, "%d %s: %s\n", status, reason_phrase(status), text);
        write_response(c, REQUEST_GET, &r, false);
        evbuffer_free(r.body);
    }
    if (c->server->options.observe)
        c->server->options.observe(c->server->options.arg, "none", status,
                                   seconds_since(&c->request_started));
    close_after_write(c);
}

static enum http_request_method method_kind(unsigned method)
{
    switch (method) {
    case HTTP_GET: return REQUEST_GET;
    case HTTP_HEAD: return REQUEST_HEAD;
    case HTTP_POST: return REQUEST_POST;
    case HTTP_PUT: return REQUEST_PUT;
    default: return REQUEST_OTHER;
    }
}

static const char *wanted(const struct conn *c, enum wanted_header h)
{
    return c->have[h] ? c->head + c->value_off[h] : NULL;
}

/* Answers the complete request in c. Returns false when c was freed. */
static bool dispatch(struct conn *c)
{
    struct http_server *s = c->server;
    bool keep_alive = http_should_keep_alive(&c->parser);
    enum http_request_method method = method_kind(c->parser.method);

    struct http_parser_url u;
    http_parser_url_init(&u);
    const char *url = c->head + c->url_off;
    char path[2048] = "/";
    if (http_parser_parse_url(url, c->url_len, 0, &u) == 0 && (u.field_set & (1 << UF_PATH)) &&
        u.field_data[UF_PATH].len < sizeof(path)) {
        memcpy(path, url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
        path[u.field_data[UF_PATH].len] = '\0';
    } else {
        fail_request(c, 400, "the request target is not a path");
        return false;
    }

    /* Basic auth, unless the handler authenticates this path itself. */
    if (s->options.security &&
        !(s->options.own_auth && s->options.own_auth(s->options.arg, path)) &&
        web_security_check(s->options.security, wanted(c, H_AUTHORIZATION)) != 0) {
        struct http_response r = {.status = 401, .content_type = "text/plain; charset=utf-8",
                                  .handler = "none", .body = evbuffer_new()};
        if (!r.body)
            return conn_free(c), false;
        evbuffer_add_printf(r.body, "401 Unauthorized\n");
        http_response_header(&r, "WWW-Authenticate", "Basic realm=\"ingot\"");
        write_response(c, method, &r, keep_alive);
        evbuffer_free(r.body);
        if (s->options.observe)
            s->options.observe(s->options.arg, "none", 401, seconds_since(&c->request_started));
    } else {
        size_t body_len = evbuffer_get_length(c->body);
        struct http_request req = {
            .method = method,
            .method_name = http_method_str((enum http_method)c->parser.method),
            .path = path,
            .accept = wanted(c, H_ACCEPT),
            .accept_encoding = wanted(c, H_ACCEPT_ENCODING),
            .if_none_match = wanted(c, H_IF_NONE_MATCH),
            .authorization = wanted(c, H_AUTHORIZATION),
            .content_type = wanted(c, H_CONTENT_TYPE),
            .body = body_len ? (const char *)evbuffer_pullup(c->body, -1) : "",
            .body_len = body_len,
        };
        struct http_response r = {.status = 200, .handler = "none", .body = evbuffer_new()};
        if (!r.body)
            return conn_free(c), false;
        s->options.handler(s->options.arg, &req, &r);
        write_response(c, method, &r, keep_alive);
        evbuffer_free(r.body);
        if (s->options.observe)
            s->options.observe(s->options.arg, r.handler, r.status,
                               seconds_since(&c->request_started));
    }
    if (!keep_alive) {
        close_after_write(c);
        return false;
    }
    return true;
}

/* ---- parsing --------------------------------------------------------- */

/* Counts bytes of the request line and headers; false past the limit. */
static bool head_count(struct conn *c, size_t len)
{
    c->head_bytes += len;
    return c->head_bytes <= c->head_cap;
}

/* Appends bytes to the head buffer; false when the head limit is hit. */
static bool head_append(struct conn *c, const char *at, size_t len)
{
    if (c->head_len + len + 1 > c->head_cap)
        return false;
    memcpy(c->head + c->head_len, at, len);
    c->head_len += len;
    c->head[c->head_len] = '\0';
    return true;
}

static void reset_request(struct conn *c)
{
    c->head_len = 0;
    c->head_bytes = 0;
    c->url_len = 0;
    c->url_off = 0;
    memset(c->have, 0, sizeof(c->have));
    c->current = H_NONE;
    c->field_len = 0;
    c->field_done = false;
    c->complete = false;
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    reset_request(c);
    clock_gettime(CLOCK_MONOTONIC, &c->request_started);
    if (c->phase != PHASE_REQUEST)
        enter_phase(c, PHASE_REQUEST);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->url_len == 0)
        c->url_off = c->head_len;
    c->url_len += len;
    if (!head_count(c, len) || !head_append(c, at, len)) {
        c->error_status = 431;
        return -1;
    }
    return 0;
}

/* Ends the value of the header being read, if one is kept. */
static bool end_value(struct conn *c)
{
    if (c->current != H_NONE) {
        c->have[c->current] = true;
        if (!head_append(c, "", 0))
            return false;
        c->head_len++; /* keep the terminating NUL */
    }
    c->current = H_NONE;
    return true;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->field_done) { /* a new field: the previous value is complete */
        if (!end_value(c)) {
            c->error_status = 431;
            return -1;
        }
        c->field_len = 0;
        c->field_done = false;
    }
    if (!head_count(c, len)) {
        c->error_status = 431;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (c->field_len + 1 < sizeof(c->field))
            c->field[c->field_len] = (char)(at[i] | 0x20);
        c->field_len++;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (!head_count(c, len)) {
        c->error_status = 431;
        return -1;
    }
    if (!c->field_done) {
        c->field_done = true;
        c->current = H_NONE;
        for (int h = 0; h < H_COUNT && c->field_len < sizeof(c->field); h++) {
            if (strlen(wanted_names[h]) == c->field_len &&
                memcmp(c->field, wanted_names[h], c->field_len) == 0) {
                c->current = (enum wanted_header)h;
                /* A repeated header: the last one wins. */
                c->value_off[h] = c->head_len;
                c->value_len[h] = 0;
            }
        }
    }
    if (c->current != H_NONE) {
        c->value_len[c->current] += len;
        if (!head_append(c, at, len)) {
            c->error_status = 431;
            return -1;
        }
    }
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;
    if (!end_value(c)) {
        c->error_status = 431;
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->server->limits.max_body_bytes) {
        c->error_status = 413;
        return -1;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (evbuffer_get_length(c->body) + len > c->server->limits.max_body_bytes) {
        c->error_status = 413;
        return -1;
    }
    evbuffer_add(c->body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    c->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* Feeds what has arrived to the parser and answers complete requests. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (c->phase != PHASE_CLOSING && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec chunk;
        if (evbuffer_peek(in, -1, NULL, &chunk, 1) < 1)
            break;
        size_t used = http_parser_execute(&c->parser, &parser_settings, chunk.iov_base,
                                          chunk.iov_len);
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        evbuffer_drain(in, used);
        if (c->error_status) {
            fail_request(c, c->error_status,
                         c->error_status == 431 ? "request line and headers too large"
                                                : "request body too large");
            return;
        }
        if (err == HPE_PAUSED && c->complete) {
            http_parser_pause(&c->parser, 0);
            if (!dispatch(c))
                return;
            enter_phase(c, PHASE_IDLE);
            continue;
        }
        if (err != HPE_OK) {
            fail_request(c, 400, http_errno_description(err));
            return;
        }
    }
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (c->phase == PHASE_CLOSING)
        conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) { /* an OpenSSL bufferevent finished its handshake */
        c->tls_established = true;
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        c->server->stats.dropped[HTTP_DROP_WRITE_TIMEOUT]++;
    else if ((what & BEV_EVENT_ERROR) && !c->tls_established &&
             bufferevent_get_openssl_error(c->bev))
        c->server->stats.dropped[HTTP_DROP_TLS_HANDSHAKE]++;
    conn_free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct conn *c = arg;
    if (c->phase == PHASE_IDLE) {
        conn_free(c);
        return;
    }
    c->server->stats.dropped[HTTP_DROP_READ_HEADER_TIMEOUT]++;
    if (c->phase == PHASE_REQUEST) {
        fail_request(c, 408, "the request did not arrive in time");
        return;
    }
    conn_free(c); /* the TLS handshake or the first byte never came */
}

/* ---- accepting ------------------------------------------------------- */

/* Frees the connection a new client may replace: the oldest unfinished
 * request, else the oldest idle connection. False when every connection
 * is busy answering. */
static bool started_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool evict_one(struct http_server *s)
{
    struct conn *victim = NULL;
    for (struct conn *c = s->oldest; c; c = c->next)
        if ((c->phase == PHASE_REQUEST || c->phase == PHASE_HANDSHAKE) &&
            (!victim || started_before(&c->request_started, &victim->request_started)))
            victim = c;
    for (struct conn *c = s->oldest; c && !victim; c = c->next)
        if (c->phase == PHASE_IDLE)
            victim = c;
    if (!victim)
        return false;
    s->stats.dropped[HTTP_DROP_MAX_CONNECTIONS]++;
    conn_free(victim);
    return true;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    (void)listener;
    (void)sa;
    (void)socklen;
    struct http_server *s = arg;
    if (s->stats.open_connections >= s->limits.max_connections && !evict_one(s)) {
        s->stats.dropped[HTTP_DROP_MAX_CONNECTIONS]++;
        evutil_closesocket(fd);
        return;
    }
    /* Headers and body may leave as separate writes (TLS records): without
     * this, the second waits ~40 ms for the client's delayed ACK. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SSL *ssl = NULL;
    if (s->options.security) {
        web_security_refresh(s->options.security);
        SSL_CTX *ctx = web_security_tls(s->options.security);
        if (ctx && !(ssl = SSL_new(ctx))) {
            evutil_closesocket(fd);
            return;
        }
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c) {
        c->server = s;
        c->head_cap = s->limits.max_header_bytes;
        c->head = malloc(c->head_cap + 1);
        c->body = evbuffer_new();
        c->deadline = evtimer_new(s->base, on_deadline, c);
        c->bev = ssl ? bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                      BEV_OPT_CLOSE_ON_FREE)
                     : bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!c || !c->head || !c->body || !c->deadline || !c->bev) {
        log_error("out of memory accepting a connection");
        if (c && c->bev)
            bufferevent_free(c->bev);
        else if (ssl)
            SSL_free(ssl), evutil_closesocket(fd);
        else
            evutil_closesocket(fd);
        if (c) {
            if (c->deadline)
                event_free(c->deadline);
            if (c->body)
                evbuffer_free(c->body);
            free(c->head);
            free(c);
        }
        return;
    }
    c->prev = s->newest;
    if (s->newest)
        s->newest->next = c;
    else
        s->oldest = c;
    s->newest = c;
    s->stats.open_connections++;

    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->current = H_NONE;
    clock_gettime(CLOCK_MONOTONIC, &c->request_started);
    enter_phase(c, PHASE_HANDSHAKE);
    struct timeval write_tv = {.tv_sec = s->limits.write_timeout_ms / 1000,
                               .tv_usec = (s->limits.write_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, NULL, &write_tv);
    /* libevent writes 16 KiB per loop round by default; a 2 MB exposition
     * would take over a hundred rounds. */
    bufferevent_set_max_single_write(c->bev, 1 << 20);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
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

/* A listener on address; an empty host is every interface, dual-stack
 * where IPv6 exists. */
static struct evconnlistener *listen_on(struct http_server *s, const char *address, char *err,
                                        size_t err_size)
{
    char host[256];
    unsigned short port;
    if (http_parse_listen_address(address, host, sizeof(host), &port) != 0) {
        snprintf(err, err_size, "listen address \"%s\" is not HOST:PORT", address);
        return NULL;
    }
    const char *hosts[2] = {host, NULL};
    if (!host[0]) {
        hosts[0] = "::";
        hosts[1] = "0.0.0.0";
    }
    for (size_t i = 0; i < 2 && hosts[i]; i++) {
        struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                        .ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV};
        struct evutil_addrinfo *ai = NULL;
        char service[8];
        snprintf(service, sizeof(service), "%u", port);
        if (evutil_getaddrinfo(hosts[i], service, &hints, &ai) != 0)
            continue;
        struct evconnlistener *l = evconnlistener_new_bind(
            s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128, ai->ai_addr,
            (int)ai->ai_addrlen);
        evutil_freeaddrinfo(ai);
        if (l)
            return l;
    }
    snprintf(err, err_size, "cannot listen on %s: %m", address);
    return NULL;
}

struct http_server *http_server_new(struct event_base *base,
                                    const struct http_server_options *options, char *err,
                                    size_t err_size)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s->base = base;
    s->options = *options;
    s->limits = options->limits;
    if (options->listen_fd >= 0)
        s->listener = evconnlistener_new(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, 128,
                                         options->listen_fd);
    else
        s->listener = listen_on(s, options->listen_address, err, err_size);
    if (!s->listener) {
        if (options->listen_fd >= 0)
            snprintf(err, err_size, "cannot serve the socket systemd passed");
        free(s);
        return NULL;
    }
    return s;
}

void http_server_free(struct http_server *server)
{
    if (!server)
        return;
    while (server->oldest)
        conn_free(server->oldest);
    evconnlistener_free(server->listener);
    free(server);
}

void http_server_set_limits(struct http_server *server, const struct http_limits *limits)
{
    server->limits = *limits;
}

const struct http_server_stats *http_server_stats(const struct http_server *server)
{
    return &server->stats;
}
