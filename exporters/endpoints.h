/*
 * endpoints: what ingotd's HTTP paths mean. The telemetry path with
 * content negotiation (text 0.0.4 or OpenMetrics, gzip), cached renders
 * and cheap per-scrape self-metrics; the status page on "/" (cached
 * like the metrics); /snapshot (the state as protobuf, cached, with an
 * ETag); /-/healthy, /-/ready and /-/reload; POST /api/v1/ingest
 * (handed to the ingest hook); 404 and 405 for
 * the rest. It also keeps the request counters and duration histograms it
 * exports.
 */
#ifndef INGOT_ENDPOINTS_H
#define INGOT_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expo.h"
#include "http_server.h"

struct endpoints;

/* What the endpoints ask the daemon. */
struct endpoints_hooks {
    /* The domain families in format, without "# EOF": new text (free()),
     * its length in *len; NULL on ENOMEM. Called once per data change and
     * format, never per scrape. */
    char *(*render)(void *arg, enum expo_format format, size_t *len);
    /* Families that change without a data change (config reload status,
     * connection counts), written on every scrape: keep them few. */
    void (*render_self)(void *arg, struct expo *e);
    /* True once every feed has been fetched once (or has timed out). */
    bool (*ready)(void *arg);
    /* Reloads the config as SIGHUP does: 0, or -1 with the reason in err. */
    int (*reload)(void *arg, char *err, size_t err_size);
    /* The status page served on "/" (status_page.h): new HTML (free()),
     * its length in *len; NULL on ENOMEM. Called once per data change,
     * like render. NULL: "/" is a bare list of links. */
    char *(*render_status)(void *arg, size_t *len);
    /* The state as a serialised ingot.v1.Snapshot for /snapshot: new bytes
     * (free()), their length in *len; NULL on ENOMEM. Called once per data
     * change, like render. */
    uint8_t *(*render_snapshot)(void *arg, size_t *len);
    /* Answers a POST to /api/v1/ingest (push_api.h), which it
     * authenticates itself (endpoints_own_auth). NULL: that path is 404. */
    void (*ingest)(void *arg, const struct http_request *request,
                   struct http_response *response);
    void *arg;
};

struct endpoints_options {
    const char *telemetry_path;
    bool enable_lifecycle; /* POST/PUT /-/reload allowed */
    struct endpoints_hooks hooks;
};

/* NULL on ENOMEM; the options are copied (telemetry_path too). */
struct endpoints *endpoints_new(const struct endpoints_options *options);
void endpoints_free(struct endpoints *endpoints);
/* The data changed: the next scrape renders again. */
void endpoints_invalidate(struct endpoints *endpoints);

/* The http_handler_cb and http_observe_cb of the server; arg is the
 * struct endpoints. */
void endpoints_handle(void *arg, const struct http_request *request,
                      struct http_response *response);
void endpoints_observe(void *arg, const char *handler, int status, double seconds);
/* The own_auth of the server: true for /api/v1/ingest when the ingest hook
 * is set (push sources' bearer tokens, not the web config's basic auth). */
bool endpoints_own_auth(void *arg, const char *path);

#endif
