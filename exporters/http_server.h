/*
 * http_server: ingotd's HTTP endpoint on libevent's evhttp: the telemetry
 * path, a landing page at /, and the /-/healthy and /-/ready probes, with
 * explicit limits on headers, bodies and idle time.
 */
#ifndef INGOT_HTTP_SERVER_H
#define INGOT_HTTP_SERVER_H

#include <stddef.h>

#include "exposition.h"

struct event_base;
struct http_server;

/* Returns the current exposition with a reference the server releases, or
 * NULL when none can be rendered (the scrape then gets 500). */
typedef struct exposition *(*http_exposition_cb)(void *arg);

struct http_server_options {
    const char *listen_address; /* "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces) */
    int listen_fd;              /* >= 0: serve this listening socket instead of binding */
    const char *telemetry_path; /* e.g. "/metrics" */
    http_exposition_cb exposition;
    void *arg;
};

/* Binds and starts serving on base. Returns NULL with the reason in err on
 * failure (bad address, port in use). */
struct http_server *http_server_new(struct event_base *base,
                                    const struct http_server_options *options, char *err,
                                    size_t err_size);
void http_server_free(struct http_server *server);

/* Splits "HOST:PORT" into host (copied into host, "" for ":PORT") and port.
 * Returns 0, or -1 when malformed. */
int http_parse_listen_address(const char *address, char *host, size_t host_size,
                              unsigned short *port);

#endif
