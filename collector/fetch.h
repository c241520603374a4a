/*
 * fetch: asynchronous retrieval of feed documents (http://, https://,
 * file://) through libcurl's multi socket interface, driven by a libevent
 * base. Nothing here blocks the loop and no thread is started. It also owns
 * the retry policy of failed fetches (fetch_backoff_ms) and reading the
 * secrets a request carries (fetch_read_secret).
 */
#ifndef INGOT_FETCH_H
#define INGOT_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct event_base;
struct fetcher;
struct fetch;

/* What became of a fetch: the `result` label of ingot_feed_fetches_total.
 * FETCH_PARSE_ERROR comes from fetch only for a body whose Content-Encoding
 * does not decode; otherwise it is the caller's verdict on the document. */
enum fetch_outcome {
    FETCH_OK,             /* a complete 2xx body (or file) */
    FETCH_NOT_MODIFIED,   /* 304 to a conditional request: nothing to read */
    FETCH_TIMEOUT,        /* connect timeout, total timeout, or a stalled transfer */
    FETCH_CONNECT_ERROR,  /* no usable answer: resolve, connect, reset, empty reply,
                           * a truncated body, an unreadable file or secret */
    FETCH_HTTP_4XX,       /* 4xx, or an answer not followed: too many redirects, a
                           * redirect to another scheme, any other 1xx/3xx */
    FETCH_HTTP_5XX,       /* 5xx */
    FETCH_TLS_ERROR,      /* handshake, certificate verification, client certificate */
    FETCH_BODY_TOO_LARGE, /* announced or decoded body over max_body_bytes */
    FETCH_PARSE_ERROR,    /* the document does not parse */
    FETCH_OUTCOME_COUNT
};

/* The label values: "ok", "not_modified", "timeout", ... */
extern const char *const fetch_outcome_names[FETCH_OUTCOME_COUNT];

/* Validators longer than this (the NUL included) are not remembered. */
#define FETCH_VALIDATOR_SIZE 256

struct fetch_result {
    enum fetch_outcome outcome;
    int ok;               /* outcome == FETCH_OK: the complete body is in body */
    const char *body;     /* NUL-terminated; valid only during the callback;
                           * "" (body_len 0) when !ok */
    size_t body_len;
    long http_status;     /* the last status received: 0 for file:// and
                           * when no response arrived */
    const char *error;    /* one line saying why ("timeout after 30s", "HTTP 503",
                           * "connect failed: ...", "body exceeds max_body_bytes
                           * (N bytes)", curl's text); never the URL, its
                           * credentials or a secret. NULL for OK and NOT_MODIFIED. */
    const char *etag;     /* OK over http(s): the answer's ETag, when present and
                           * printable; else NULL */
    const char *last_modified; /* likewise its Last-Modified, only when at least a
                                * second before its Date (else a change within
                                * that second would pass for unmodified) */
    double duration_seconds;
    const char *error_body; /* a non-2xx answer: the first FETCH_ERROR_BODY_BYTES
                             * of its body (a receiver's message), NUL-terminated,
                             * "" when none; NULL for a 2xx. Valid during the callback. */
    long retry_after_s;   /* the answer's Retry-After in seconds (either form); 0: none */
};

#define FETCH_ERROR_BODY_BYTES 512

/* Called exactly once per started fetch, on the loop, unless the fetch was
 * cancelled first. The fetch handle is invalid once the callback returns. */
typedef void (*fetch_done_cb)(const struct fetch_result *result, void *arg);

struct fetch_options {
    const char *url;            /* http://, https:// or file:// */
    int64_t timeout_ms;         /* whole transfer, > 0 */
    int64_t connect_timeout_ms; /* connecting, and the stall window (below);
                                 * <= 0: min(timeout_ms, 10 s) */
    uint64_t max_body_bytes;    /* limits the announced length and the decoded body */
    const char *etag;           /* sent as If-None-Match; NULL: none */
    const char *last_modified;  /* sent as If-Modified-Since; NULL: none */
    const struct config_tls *tls;          /* NULL: verify against the system CAs */
    const char *bearer_token;   /* Authorization: Bearer; NULL: none */
    const char *username;       /* with password: basic auth; NULL: none */
    const char *password;
    const struct config_header *headers;   /* extra request headers */
    size_t n_headers;
    const void *post_body;      /* non-NULL: POST these post_len bytes (copied; http(s)
                                 * only), following a redirect with the same POST */
    size_t post_len;
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

/* Starts fetching; the options (strings included) are copied, so secrets
 * may be wiped as soon as it returns. Returns a handle usable with
 * fetch_cancel until done is called, or NULL if it could not start (then
 * done is not called): no url or done, timeout_ms <= 0, or out of memory.
 * Everything about the URL itself, an unsupported scheme (ftp://...)
 * included, is reported through done, never synchronously.
 *
 * Limits: at most 5 redirects, to http and https only; TLS 1.2 or later,
 * verified unless tls->insecure_skip_verify; a transfer receiving under
 * FETCH_STALL_BYTES_PER_SECOND for connect_timeout (whole seconds, rounded
 * up) is aborted as a timeout. */
struct fetch *fetch_start(struct fetcher *f, const struct fetch_options *options,
                          fetch_done_cb done, void *arg);
/* Aborts a fetch in flight; its callback is not called. May be called from
 * a done callback for any other fetch of the same fetcher. */
void fetch_cancel(struct fetch *fetch);

#define FETCH_STALL_BYTES_PER_SECOND 100

/* The delay before the next attempt after the failures-th failure in a row
 * (>= 1): min_ms doubled failures-1 times, capped at max_ms, then spread by
 * +-10 % with random (any value; uniform bits give a uniform spread) and
 * kept within [min_ms, max_ms]. Needs 0 < min_ms <= max_ms. */
int64_t fetch_backoff_ms(int64_t min_ms, int64_t max_ms, uint64_t failures, uint64_t random);

/* The secret in the first line of the file at path (a bearer token or a
 * password), without its line end, into buf of size bytes. Returns 0, or
 * -1 with a one-line reason in err that names path but never the content:
 * the file cannot be read, its first line is empty, longer than size - 1,
 * or holds a control character. */
int fetch_read_secret(const char *path, char *buf, size_t size, char *err, size_t err_size);

/* The secrets of one request, read from their files for one attempt (so a
 * rotated file takes effect at once) and kept on the caller's stack only
 * until fetch_start has copied them. */
struct fetch_secrets {
    char token[4096];
    char password[4096];
};

/* Reads bearer_token_file (NULL: none) and, when basic_auth has a username,
 * its password_file into *s, and points options at them. Returns 0, or -1
 * with err naming the key and the file, never the content. Either way, call
 * fetch_secrets_wipe(s) once fetch_start has returned. */
int fetch_secrets_load(struct fetch_secrets *s, const char *bearer_token_file,
                       const struct config_basic_auth *basic_auth, struct fetch_options *options,
                       char *err, size_t err_size);
void fetch_secrets_wipe(struct fetch_secrets *s);

#endif
