/*
 * fetch: asynchronous retrieval of feed documents (http://, https://,
 * file://) through libcurl's multi socket interface, driven by a libevent
 * base. Nothing here blocks the loop and no thread is started.
 */
#ifndef INGOT_FETCH_H
#define INGOT_FETCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct fetcher;
struct fetch;

struct fetch_result {
    int ok;               /* 1: complete 2xx body (or file read) in body */
    const char *body;     /* NUL-terminated; valid only during the callback;
                           * "" (body_len 0) when !ok */
    size_t body_len;
    long http_status;     /* the last status received: 0 for file:// and
                           * when no response arrived */
    const char *error;    /* !ok: one line saying why ("timeout after 30s",
                           * "HTTP 503", "connect failed: ...", "body exceeds
                           * max_body_bytes (N bytes)", curl's text); never
                           * the URL or its credentials. NULL when ok. */
    double duration_seconds;
};

/* Called exactly once per started fetch, on the loop, unless the fetch was
 * cancelled first. The fetch handle is invalid once the callback returns. */
typedef void (*fetch_done_cb)(const struct fetch_result *result, void *arg);

struct fetch_options {
    const char *url;         /* http://, https:// or file:// */
    int64_t timeout_ms;      /* whole transfer, > 0; connecting gets min(this, 10 s) */
    uint64_t max_body_bytes; /* limits the announced length and the decoded body */
};

/* A fetcher bound to base; release with fetcher_free (which cancels every
 * fetch in flight without calling their callbacks) before freeing base.
 * fetcher_free may be called from a done callback. The first fetcher_new
 * initialises libcurl's global state (curl_global_init), which needs the
 * process to be single-threaded, as ingotd is. Returns NULL on failure. */
struct fetcher *fetcher_new(struct event_base *base);
void fetcher_free(struct fetcher *f);

/* Releases libcurl's global state (curl_global_cleanup). Call once at exit,
 * after every fetcher is freed; a later fetcher_new sets it up again.
 * Does nothing if no fetcher was ever created. */
void fetch_global_cleanup(void);

/* Starts fetching; the options are copied. Returns a handle usable with
 * fetch_cancel until done is called, or NULL if it could not start (then
 * done is not called): no url or done, timeout_ms <= 0, or out of memory.
 * Everything about the URL itself, an unsupported scheme (ftp://...)
 * included, is reported through done, never synchronously. */
struct fetch *fetch_start(struct fetcher *f, const struct fetch_options *options,
                          fetch_done_cb done, void *arg);
/* Aborts a fetch in flight; its callback is not called. May be called from
 * a done callback for any other fetch of the same fetcher. */
void fetch_cancel(struct fetch *fetch);

#endif
