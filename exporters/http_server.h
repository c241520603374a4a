/*
 * http_server: a small HTTP/1.1 server on libevent bufferevents, with
 * requests parsed by http-parser. It owns connections and their limits
 * (how many, how large, how slow), TLS (through libevent's OpenSSL
 * bufferevents), basic auth, keep-alive and response framing; what a
 * request means is the handler's business.
 *
 * libevent 2.1's evhttp cannot count or cut off connections that never
 * finish a request (a client sending one byte a second keeps resetting its
 * read timeout), which is why ingot does not use it.
 */
#ifndef INGOT_HTTP_SERVER_H
#define INGOT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;
struct http_server;
struct web_security;

enum http_request_method { REQUEST_GET, REQUEST_HEAD, REQUEST_POST, REQUEST_PUT, REQUEST_OTHER };

/* A complete request; everything is valid only during the handler call. */
struct http_request {
    enum http_request_method method;
    const char *method_name;    /* "GET", "DELETE", ... */
    const char *path;           /* the raw path, not percent-decoded, without the query */
    const char *accept;         /* NULL when the header is absent */
    const char *accept_encoding;
    const char *if_none_match;
    const char *authorization; /* only meaningful on paths the handler authenticates (own_auth) */
    const char *content_type;
    const char *body;
    size_t body_len;
};

#define HTTP_RESPONSE_MAX_HEADERS 6

/* What a handler answers. The server sets status 200, an empty body
 * buffer it owns, and handler "none"; the handler changes what it needs.
 * Header names and values must stay valid until the handler returns. */
struct http_response {
    int status;
    const char *content_type;
    const char *handler; /* label value for request metrics */
    struct evbuffer *body;
    struct {
        const char *name;
        const char *value;
    } headers[HTTP_RESPONSE_MAX_HEADERS];
    size_t n_headers;
};

/* Appends a header to a response (ignored beyond HTTP_RESPONSE_MAX_HEADERS). */
void http_response_header(struct http_response *response, const char *name, const char *value);

typedef void (*http_handler_cb)(void *arg, const struct http_request *request,
                                struct http_response *response);
/* Told about every response sent, also those the server makes itself
 * (handler "none": malformed, unauthorized, too large or too slow requests). */
typedef void (*http_observe_cb)(void *arg, const char *handler, int status, double seconds);

struct http_limits {
    size_t max_connections;        /* at the limit, the slowest unfinished request is dropped */
    size_t max_header_bytes;       /* request line and headers: larger gets 431 */
    size_t max_body_bytes;         /* larger gets 413 */
    int64_t read_header_timeout_ms; /* a request not complete by then gets 408 */
    int64_t idle_timeout_ms;       /* a keep-alive connection waiting is closed */
    int64_t write_timeout_ms;      /* a client not reading its answer is closed */
};

struct http_server_options {
    const char *listen_address; /* "HOST:PORT", "[V6]:PORT" or ":PORT" (every interface) */
    int listen_fd;              /* >= 0: serve this listening socket instead of binding */
    struct http_limits limits;
    struct web_security *security; /* TLS, basic auth, extra headers; NULL for none */
    http_handler_cb handler;
    http_observe_cb observe;
    /* True when the handler authenticates requests to path itself (NULL:
     * never): the web config's basic auth is then not asked for them; TLS
     * and client certificates still apply. */
    bool (*own_auth)(void *arg, const char *path);
    void *arg;
};

/* Why connections were closed early; counted for /metrics. */
enum http_drop_reason {
    HTTP_DROP_MAX_CONNECTIONS,
    HTTP_DROP_READ_HEADER_TIMEOUT,
    HTTP_DROP_WRITE_TIMEOUT,
    HTTP_DROP_TLS_HANDSHAKE,
    HTTP_DROP_REASON_COUNT
};
extern const char *const http_drop_reason_names[HTTP_DROP_REASON_COUNT];

struct http_server_stats {
    size_t open_connections;
    uint64_t dropped[HTTP_DROP_REASON_COUNT];
};

/* Listens and serves on base. options->security stays the caller's and
 * must outlive the server. Returns NULL with the reason in err. */
struct http_server *http_server_new(struct event_base *base,
                                    const struct http_server_options *options, char *err,
                                    size_t err_size);
/* Closes every connection and the listener. */
void http_server_free(struct http_server *server);
/* New limits, applied to connections accepted from now on. */
void http_server_set_limits(struct http_server *server, const struct http_limits *limits);
const struct http_server_stats *http_server_stats(const struct http_server *server);

/* Splits "HOST:PORT" into host (copied into host, "" for ":PORT") and port.
 * Returns 0, or -1 when malformed. */
int http_parse_listen_address(const char *address, char *host, size_t host_size,
                              unsigned short *port);

#endif
