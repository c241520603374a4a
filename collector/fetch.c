/*
 * fetch: feed retrieval with libcurl's multi socket interface on a libevent
 * base, in the shape of curl's docs/examples/multi-event.c. A fetcher owns one
 * CURLM, the event that stands for curl's timer, one event per socket curl
 * asks us to watch, and every fetch it started; a fetch owns its easy handle
 * and the body it accumulates. Finished transfers are first collected (their
 * results read and their handles removed from the multi handle) and only
 * then handed to their callbacks, so a callback may start, cancel or free
 * anything. libcurl's global state is set up by the first fetcher and
 * released by fetch_global_cleanup. The daemon is single-threaded and nothing
 * here is thread-safe.
 *
 * Every answer is classified once, in fetch_describe, into the bounded set of
 * enum fetch_outcome: a final status of 400 or more wins over what happened
 * to the transfer afterwards, then our own body limit, then curl's code.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef INGOT_VERSION
#define INGOT_VERSION "dev"
#endif

#define FETCH_CONNECT_TIMEOUT_MS 10000
#define FETCH_MAX_REDIRECTS 5L
#define FETCH_BODY_MIN_CAPACITY 4096

/* A socket curl asked us to watch, and the event watching it. */
struct fetch_socket {
    struct fetcher *fetcher;
    struct fetch_socket *prev, *next;
    struct event *event;
};

const char *const fetch_outcome_names[FETCH_OUTCOME_COUNT] = {
    [FETCH_OK] = "ok",
    [FETCH_NOT_MODIFIED] = "not_modified",
    [FETCH_TIMEOUT] = "timeout",
    [FETCH_CONNECT_ERROR] = "connect_error",
    [FETCH_HTTP_4XX] = "http_4xx",
    [FETCH_HTTP_5XX] = "http_5xx",
    [FETCH_TLS_ERROR] = "tls_error",
    [FETCH_BODY_TOO_LARGE] = "body_too_large",
    [FETCH_PARSE_ERROR] = "parse_error",
};

enum fetch_body_state {
    FETCH_BODY_OK,
    FETCH_BODY_TOO_BIG,
    FETCH_BODY_NO_MEMORY,
    FETCH_BODY_ERROR_PAGE, /* a non-2xx answer started its body: aborted, the status says it */
};

struct fetch {
    struct fetcher *fetcher;
    struct fetch **list; /* &fetcher->active or &fetcher->finished; NULL in its callback */
    struct fetch *prev, *next;
    CURL *easy;          /* NULL once the transfer is over */
    fetch_done_cb done;
    void *arg;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    size_t max_body;
    int hide_detail;     /* the URL carries credentials: keep curl's detail out */
    int conditional;     /* If-None-Match or If-Modified-Since was sent */
    enum fetch_body_state body_state;
    char *body;          /* NUL-terminated once anything arrived */
    size_t body_len, body_cap;
    struct curl_slist *headers;    /* CURLOPT_HTTPHEADER; freed after the easy handle */
    struct curl_slist *connect_to; /* CURLOPT_CONNECT_TO (tls server_name) */
    struct fetch_result result;
    char etag[FETCH_VALIDATOR_SIZE];
    char last_modified[FETCH_VALIDATOR_SIZE];
    char error_body[FETCH_ERROR_BODY_BYTES + 1]; /* the start of an error page */
    size_t error_body_len;
    char error[512];
    char curl_error[CURL_ERROR_SIZE];
};

struct fetcher {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct fetch *active;   /* transfers in the multi handle */
    struct fetch *finished; /* results waiting for their callbacks */
    struct fetch_socket *sockets;
    int dispatching;        /* callbacks are running: fetcher_free must not free f */
    int freed;              /* fetcher_free ran during the callbacks */
};

static void fetch_link(struct fetch **list, struct fetch *fetch)
{
    fetch->list = list;
    fetch->prev = NULL;
    fetch->next = *list;
    if (*list != NULL)
        (*list)->prev = fetch;
    *list = fetch;
}

static void fetch_unlink(struct fetch *fetch)
{
    if (fetch->prev != NULL)
        fetch->prev->next = fetch->next;
    else
        *fetch->list = fetch->next;
    if (fetch->next != NULL)
        fetch->next->prev = fetch->prev;
    fetch->list = NULL;
    fetch->prev = fetch->next = NULL;
}

/* Frees a fetch whose easy handle is already gone and which is in no list. */
static void fetch_destroy(struct fetch *fetch)
{
    curl_slist_free_all(fetch->headers);
    curl_slist_free_all(fetch->connect_to);
    free(fetch->body);
    free(fetch);
}

/* Formats a limit the way the configuration spells it: "30s" or "300ms". */
static void format_limit(char *buf, size_t size, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(buf, size, "%" PRId64 "s", ms / 1000);
    else
        snprintf(buf, size, "%" PRId64 "ms", ms);
}

/* Whether url names a user or a password; unparseable URLs count as yes. */
static int url_has_credentials(const char *url)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return 1;
    int has = 1;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
        static const CURLUPart parts[] = {CURLUPART_USER, CURLUPART_PASSWORD};
        has = 0;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            char *part;
            if (curl_url_get(u, parts[i], &part, 0) == CURLUE_OK) {
                has = 1;
                curl_free(part);
            }
        }
    }
    curl_url_cleanup(u);
    return has;
}

/* Makes room for need bytes (the NUL included); need <= max_body + 1. */
static int fetch_body_reserve(struct fetch *fetch, size_t need)
{
    if (need <= fetch->body_cap)
        return 0;
    size_t cap = fetch->body_cap > 0 ? fetch->body_cap : FETCH_BODY_MIN_CAPACITY;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > fetch->max_body + 1)
        cap = fetch->max_body + 1;
    char *body = realloc(fetch->body, cap);
    if (body == NULL)
        return -1;
    fetch->body = body;
    fetch->body_cap = cap;
    return 0;
}

/* Whether the answer being received is a 2xx (file:// has no status). */
static int fetch_status_ok(struct fetch *fetch)
{
    long status = 0;
    curl_easy_getinfo(fetch->easy, CURLINFO_RESPONSE_CODE, &status);
    return status == 0 || (status >= 200 && status <= 299);
}

/* Whether an announced length is over the limit (-1: none announced). */
static int fetch_announced_too_big(struct fetch *fetch)
{
    curl_off_t announced = -1;
    curl_easy_getinfo(fetch->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
    return announced > 0 && (uint64_t)announced > fetch->max_body;
}

/* CURLOPT_HEADERFUNCTION: at the end of a 2xx answer's headers, refuses an
 * announced Content-Length over max_body before any of the body arrives (a
 * server announcing 1 GB and sending nothing is dropped at once). With a
 * Content-Encoding this is the encoded length. */
static size_t fetch_header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct fetch *fetch = userdata;
    size_t n = size * nmemb;
    int blank = (n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n');
    if (!blank || !fetch_status_ok(fetch))
        return n;
    if (fetch_announced_too_big(fetch)) {
        fetch->body_state = FETCH_BODY_TOO_BIG;
        return 0;
    }
    return n;
}

/* CURLOPT_WRITEFUNCTION: appends to the body; a short count aborts the
 * transfer once the announced or received size passes max_body. curl hands
 * over decoded bytes (gzip, deflate, br, zstd) at most CURL_MAX_WRITE_SIZE
 * at a time, so a compression bomb is stopped after max_body decoded bytes
 * and never held. The body of an error page is not read at all. */
static size_t fetch_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct fetch *fetch = userdata;
    size_t n = size * nmemb;

    if (!fetch_status_ok(fetch)) {
        /* The status is what counts; the start of the page is kept for the
         * caller's log (a receiver says why it refused), the rest not read. */
        fetch->body_state = FETCH_BODY_ERROR_PAGE;
        size_t room = FETCH_ERROR_BODY_BYTES - fetch->error_body_len;
        memcpy(fetch->error_body + fetch->error_body_len, data, n < room ? n : room);
        fetch->error_body_len += n < room ? n : room;
        fetch->error_body[fetch->error_body_len] = '\0';
        return n <= room ? n : 0;
    }

    if (fetch->body_len == 0) {
        /* file:// announces its size without a header callback. */
        if (fetch_announced_too_big(fetch)) {
            fetch->body_state = FETCH_BODY_TOO_BIG;
            return 0;
        }
        /* An announced size is taken at its word (it is within max_body), so
         * a large document is held once, not in a doubled buffer. */
        curl_off_t announced = -1;
        curl_easy_getinfo(fetch->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
        if (announced > 0 && fetch_body_reserve(fetch, (size_t)announced + 1) != 0) {
            fetch->body_state = FETCH_BODY_NO_MEMORY;
            return 0;
        }
    }
    if (n > fetch->max_body - fetch->body_len) {
        fetch->body_state = FETCH_BODY_TOO_BIG;
        return 0;
    }
    if (fetch_body_reserve(fetch, fetch->body_len + n + 1) != 0) {
        fetch->body_state = FETCH_BODY_NO_MEMORY;
        return 0;
    }
    memcpy(fetch->body + fetch->body_len, data, n);
    fetch->body_len += n;
    fetch->body[fetch->body_len] = '\0';
    return n;
}

/* Appends "name: value" to *list. Returns 0, or -1 out of memory. */
static int header_append(struct curl_slist **list, const char *name, const char *value)
{
    char *line = NULL;
    if (asprintf(&line, "%s: %s", name, value) < 0)
        return -1;
    struct curl_slist *grown = curl_slist_append(*list, line);
    free(line);
    if (grown == NULL)
        return -1;
    *list = grown;
    return 0;
}

/* tls server_name: curl verifies the certificate against, and sends as SNI,
 * the host of the URL it requests. So the request goes to server_name and
 * CURLOPT_CONNECT_TO points that name at the URL's real host and port (it
 * changes only where curl connects, not the TLS name), while a Host header
 * keeps the URL's own host for the server. curl drops a custom Host header
 * on a redirect to another host. Writes the URL to request into *out (NULL:
 * the configured one). Returns 0, or -1 when the URL does not parse or out
 * of memory. */
static int fetch_server_name(struct fetch *fetch, const char *url, const char *server_name,
                             char **out)
{
    *out = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *explicit_port = NULL, *entry = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto done;
    if (strcasecmp(scheme, "https") != 0 || strcasecmp(host, server_name) == 0) {
        rc = 0; /* plain http has no TLS name; the same name needs nothing */
        goto done;
    }
    (void)curl_url_get(u, CURLUPART_PORT, &explicit_port, 0); /* CURLUE_NO_PORT: none */
    char host_header[300];
    snprintf(host_header, sizeof(host_header), "%s%s%s", host, explicit_port ? ":" : "",
             explicit_port ? explicit_port : "");
    if (asprintf(&entry, "%s:%s:%s:%s", server_name, port, host, port) < 0) {
        entry = NULL;
        goto done;
    }
    struct curl_slist *list = curl_slist_append(fetch->connect_to, entry);
    if (list == NULL)
        goto done;
    fetch->connect_to = list;
    if (header_append(&fetch->headers, "Host", host_header) != 0 ||
        curl_url_set(u, CURLUPART_HOST, server_name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, out, 0) != CURLUE_OK)
        goto done;
    rc = 0;
done:
    free(entry);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(explicit_port);
    curl_url_cleanup(u);
    return rc;
}

/* The request headers: the feed's own, the validators, (Host from
 * fetch_server_name). Returns 0, or -1 out of memory. */
static int fetch_headers(struct fetch *fetch, const struct fetch_options *o)
{
    for (size_t i = 0; i < o->n_headers; i++)
        if (header_append(&fetch->headers, o->headers[i].name, o->headers[i].value) != 0)
            return -1;
    if (o->etag != NULL && o->etag[0] != '\0') {
        if (header_append(&fetch->headers, "If-None-Match", o->etag) != 0)
            return -1;
        fetch->conditional = 1;
    }
    if (o->last_modified != NULL && o->last_modified[0] != '\0') {
        if (header_append(&fetch->headers, "If-Modified-Since", o->last_modified) != 0)
            return -1;
        fetch->conditional = 1;
    }
    return 0;
}

/* TLS: verification on unless told otherwise, TLS 1.2 at least, the feed's
 * CA (instead of the system's), client certificate and key. */
static int fetch_tls(CURL *e, const struct config_tls *tls)
{
    long verify = tls != NULL && tls->insecure_skip_verify ? 0L : 1L;
    if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK)
        return -1;
    if (tls == NULL)
        return 0;
    if (tls->ca_file != NULL && (curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca_file) != CURLE_OK ||
                                 curl_easy_setopt(e, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK))
        return -1;
    if (tls->cert_file != NULL && curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert_file) != CURLE_OK)
        return -1;
    if (tls->key_file != NULL && curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key_file) != CURLE_OK)
        return -1;
    return 0;
}

/* Sets every option of the transfer. Returns 0, or -1 if curl refused one
 * or out of memory. */
static int fetch_configure(struct fetch *fetch, const struct fetch_options *o)
{
    CURL *e = fetch->easy;
    long timeout = fetch->timeout_ms > LONG_MAX ? LONG_MAX : (long)fetch->timeout_ms;
    long connect_timeout = (long)fetch->connect_timeout_ms;
    long stall_seconds = (long)((fetch->connect_timeout_ms + 999) / 1000);
    curl_write_callback write_cb = fetch_write_cb;
    curl_write_callback header_cb = fetch_header_cb;
    char *url = NULL;
    int rc = -1;

    if (o->tls != NULL && o->tls->server_name != NULL &&
        fetch_server_name(fetch, o->url, o->tls->server_name, &url) != 0)
        goto done;
    if (fetch_headers(fetch, o) != 0 || fetch_tls(e, o->tls) != 0)
        goto done;
    /* A POST: its body copied, kept across a redirect, and sent at once
     * (an empty Expect drops curl's "100-continue" wait for large bodies). */
    if (o->post_body != NULL &&
        (header_append(&fetch->headers, "Expect", "") != 0 ||
         curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->post_len) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->post_body) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL) != CURLE_OK))
        goto done;
    if (curl_easy_setopt(e, CURLOPT_URL, url != NULL ? url : o->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_STALL_BYTES_PER_SECOND) !=
            CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_seconds) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "ingot/" INGOT_VERSION) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, fetch->curl_error) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)fetch) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)fetch) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)fetch) != CURLE_OK)
        goto done;
    if (fetch->headers != NULL &&
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, fetch->headers) != CURLE_OK)
        goto done;
    if (fetch->connect_to != NULL &&
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, fetch->connect_to) != CURLE_OK)
        goto done;
    /* Secrets: curl keeps its own copies, sends them only to the URL's host
     * (not across a redirect to another one) and never puts them in its
     * error text; CURLOPT_VERBOSE stays off. */
    if (o->bearer_token != NULL &&
        (curl_easy_setopt(e, CURLOPT_HTTPAUTH, (unsigned long)CURLAUTH_BEARER) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, o->bearer_token) != CURLE_OK))
        goto done;
    if (o->username != NULL &&
        (curl_easy_setopt(e, CURLOPT_HTTPAUTH, (unsigned long)CURLAUTH_BASIC) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_USERNAME, o->username) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_PASSWORD, o->password ? o->password : "") != CURLE_OK))
        goto done;
    rc = 0;
done:
    curl_free(url);
    return rc;
}

/* Turns error into one line: control characters become spaces and trailing
 * spaces go. */
static void one_line(char *error)
{
    size_t len = 0;
    for (char *p = error; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
        if (*p != ' ')
            len = (size_t)(p - error) + 1;
    }
    error[len] = '\0';
}

/* Whether this transfer made a TLS handshake and the connection then ended
 * before any answer arrived. */
static int fetch_dropped_after_handshake(const struct fetch *fetch)
{
    curl_off_t handshake_us = 0;
    long status = 0;
    curl_easy_getinfo(fetch->easy, CURLINFO_APPCONNECT_TIME_T, &handshake_us);
    curl_easy_getinfo(fetch->easy, CURLINFO_RESPONSE_CODE, &status);
    return handshake_us > 0 && status == 0;
}

/* The outcome of a transfer curl ended with code (not CURLE_OK), when
 * neither a status >= 400 nor our body limit explains it. */
static enum fetch_outcome outcome_of_code(const struct fetch *fetch, CURLcode code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return FETCH_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return FETCH_TLS_ERROR;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        /* A TLS 1.3 server refuses a client certificate after the client
         * finished its handshake: the client sees the alert, or just the
         * closed connection, when it sends its request or reads the answer. */
        return fetch_dropped_after_handshake(fetch) ? FETCH_TLS_ERROR : FETCH_CONNECT_ERROR;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
        return FETCH_HTTP_4XX; /* answered, with a redirect we will not follow */
    case CURLE_FILESIZE_EXCEEDED:
        return FETCH_BODY_TOO_LARGE;
    case CURLE_BAD_CONTENT_ENCODING:
        return FETCH_PARSE_ERROR;
    default:
        return FETCH_CONNECT_ERROR;
    }
}

/* The HTTP class of a final status that is not 2xx. */
static enum fetch_outcome outcome_of_status(long status)
{
    return status >= 500 ? FETCH_HTTP_5XX : FETCH_HTTP_4XX;
}

/* Copies header name of the last answer into buf when it is printable
 * ASCII and fits; else leaves buf empty. */
static void fetch_validator(struct fetch *fetch, const char *name, char *buf, size_t size)
{
    struct curl_header *h = NULL;
    buf[0] = '\0';
    if (curl_easy_header(fetch->easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || h == NULL)
        return;
    size_t len = strlen(h->value);
    if (len == 0 || len >= size)
        return;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)h->value[i] < 0x20 || (unsigned char)h->value[i] > 0x7e)
            return;
    memcpy(buf, h->value, len + 1);
}

/* Whether the answer's Last-Modified may serve as a validator: only when it
 * is at least a second before the answer's Date (RFC 9110 8.8.2.2). A
 * document changed again within the second it was fetched in keeps its
 * Last-Modified, and If-Modified-Since would then hide the change. */
static int fetch_last_modified_strong(struct fetch *fetch)
{
    char date[FETCH_VALIDATOR_SIZE];
    if (fetch->last_modified[0] == '\0')
        return 0;
    fetch_validator(fetch, "Date", date, sizeof(date));
    time_t modified = curl_getdate(fetch->last_modified, NULL);
    time_t now = date[0] != '\0' ? curl_getdate(date, NULL) : -1;
    return modified != -1 && now != -1 && now - modified >= 1;
}

/* Fills fetch->result from the finished transfer. Reads the easy handle, so
 * it runs before curl_multi_remove_handle. */
static void fetch_describe(struct fetch *fetch, CURLcode code)
{
    struct fetch_result *r = &fetch->result;
    long status = 0, request_bytes = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(fetch->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(fetch->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    /* No request sent means the connect timeout fired (a reused connection
     * reports no connect time, so CURLINFO_CONNECT_TIME_T cannot tell). */
    curl_easy_getinfo(fetch->easy, CURLINFO_REQUEST_SIZE, &request_bytes);

    curl_off_t retry_after = 0;
    curl_easy_getinfo(fetch->easy, CURLINFO_RETRY_AFTER, &retry_after);

    *r = (struct fetch_result){
        .http_status = status,
        .duration_seconds = (double)total_us / 1e6,
        .body = "",
        .error = fetch->error,
        .error_body = status >= 200 && status <= 299 ? NULL : fetch->error_body,
        .retry_after_s = retry_after > 0 && retry_after < LONG_MAX ? (long)retry_after : 0,
    };

    char limit[32];
    if (status >= 400 || fetch->body_state == FETCH_BODY_ERROR_PAGE) {
        r->outcome = outcome_of_status(status);
        snprintf(fetch->error, sizeof(fetch->error), "HTTP %ld", status);
    } else if (fetch->body_state == FETCH_BODY_TOO_BIG) {
        r->outcome = FETCH_BODY_TOO_LARGE;
        snprintf(fetch->error, sizeof(fetch->error),
                 "body exceeds max_body_bytes (%zu bytes)", fetch->max_body);
    } else if (fetch->body_state == FETCH_BODY_NO_MEMORY) {
        r->outcome = FETCH_BODY_TOO_LARGE;
        snprintf(fetch->error, sizeof(fetch->error), "out of memory for the body");
    } else if (code == CURLE_OPERATION_TIMEDOUT && request_bytes == 0) {
        r->outcome = FETCH_TIMEOUT;
        format_limit(limit, sizeof(limit), fetch->connect_timeout_ms);
        snprintf(fetch->error, sizeof(fetch->error), "connect failed: timeout after %s", limit);
    } else if (code == CURLE_OPERATION_TIMEDOUT &&
               strncmp(fetch->curl_error, "Operation too slow", 18) == 0) {
        r->outcome = FETCH_TIMEOUT;
        format_limit(limit, sizeof(limit), (fetch->connect_timeout_ms + 999) / 1000 * 1000);
        snprintf(fetch->error, sizeof(fetch->error),
                 "stalled: under %d bytes/s for %s", FETCH_STALL_BYTES_PER_SECOND, limit);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        r->outcome = FETCH_TIMEOUT;
        format_limit(limit, sizeof(limit), fetch->timeout_ms);
        snprintf(fetch->error, sizeof(fetch->error), "timeout after %s", limit);
    } else if (code != CURLE_OK) {
        r->outcome = outcome_of_code(fetch, code);
        int connect = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                      code == CURLE_COULDNT_RESOLVE_PROXY;
        int detail = !fetch->hide_detail && fetch->curl_error[0] != '\0';
        int dropped = r->outcome == FETCH_TLS_ERROR && (code == CURLE_RECV_ERROR ||
                                                        code == CURLE_SEND_ERROR ||
                                                        code == CURLE_GOT_NOTHING);
        snprintf(fetch->error, sizeof(fetch->error), "%s%s%s%s",
                 connect ? "connect failed: "
                 : dropped ? "TLS connection closed right after the handshake (client "
                             "certificate refused?): "
                           : "",
                 curl_easy_strerror(code), detail ? ": " : "", detail ? fetch->curl_error : "");
    } else if (status == 304 && fetch->conditional) {
        r->outcome = FETCH_NOT_MODIFIED;
        r->error = NULL;
        return;
    } else if (status != 0 && (status < 200 || status > 299)) {
        /* A 3xx curl did not follow (no Location, 300, 304 unasked), a 1xx. */
        r->outcome = FETCH_HTTP_4XX;
        snprintf(fetch->error, sizeof(fetch->error), "HTTP %ld%s", status,
                 status == 304 ? " to an unconditional request" : " not followed");
    } else {
        /* Only http, https and file are allowed, and only file:// completes
         * without a status. */
        r->outcome = FETCH_OK;
        r->ok = 1;
        r->error = NULL;
        if (fetch->body != NULL) {
            r->body = fetch->body;
            r->body_len = fetch->body_len;
        }
        if (status != 0) {
            fetch_validator(fetch, "ETag", fetch->etag, sizeof(fetch->etag));
            fetch_validator(fetch, "Last-Modified", fetch->last_modified,
                            sizeof(fetch->last_modified));
            if (!fetch_last_modified_strong(fetch))
                fetch->last_modified[0] = '\0';
            r->etag = fetch->etag[0] != '\0' ? fetch->etag : NULL;
            r->last_modified = fetch->last_modified[0] != '\0' ? fetch->last_modified : NULL;
        }
        return;
    }
    one_line(fetch->error);
}

/* Takes the transfer out of the multi handle and queues the fetch for its
 * callback. */
static void fetch_retire(struct fetch *fetch)
{
    struct fetcher *f = fetch->fetcher;
    /* Fails only for a handle that is not in f->multi, and curl_easy_cleanup
     * detaches such a handle itself: nothing to act on. */
    (void)curl_multi_remove_handle(f->multi, fetch->easy);
    curl_easy_cleanup(fetch->easy);
    fetch->easy = NULL;
    fetch_unlink(fetch);
    fetch_link(&f->finished, fetch);
}

/* Collects every finished transfer, fails the remaining ones if the multi
 * handle reported mc != CURLM_OK (it would not drive them any more), then
 * runs the callbacks. May free f (when a callback called fetcher_free). */
static void fetcher_process(struct fetcher *f, CURLMcode mc)
{
    CURLMsg *msg;
    int pending;
    while ((msg = curl_multi_info_read(f->multi, &pending)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        struct fetch *fetch = (struct fetch *)(void *)priv;
        fetch_describe(fetch, code);
        fetch_retire(fetch);
    }
    while (mc != CURLM_OK && f->active != NULL) {
        struct fetch *fetch = f->active;
        snprintf(fetch->error, sizeof(fetch->error), "curl multi: %s", curl_multi_strerror(mc));
        fetch->result = (struct fetch_result){
            .outcome = FETCH_CONNECT_ERROR, .body = "", .error = fetch->error};
        fetch_retire(fetch);
    }

    f->dispatching = 1;
    while (!f->freed && f->finished != NULL) {
        struct fetch *fetch = f->finished;
        fetch_unlink(fetch);
        fetch->done(&fetch->result, fetch->arg);
        fetch_destroy(fetch);
    }
    f->dispatching = 0;
    if (f->freed)
        free(f);
}

/* libevent: curl's timer expired. */
static void fetcher_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct fetcher *f = arg;
    int running;
    (void)fd;
    (void)what;
    fetcher_process(f, curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running));
}

/* libevent: a socket curl watches is ready. The fetch_socket may be freed
 * inside curl_multi_socket_action, so only f is used afterwards. */
static void fetcher_socket_event_cb(evutil_socket_t fd, short what, void *arg)
{
    struct fetch_socket *sock = arg;
    struct fetcher *f = sock->fetcher;
    int flags = 0, running;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    fetcher_process(f, curl_multi_socket_action(f->multi, fd, flags, &running));
}

static struct fetch_socket *fetch_socket_new(struct fetcher *f, curl_socket_t s)
{
    struct fetch_socket *sock = calloc(1, sizeof(*sock));
    if (sock == NULL)
        return NULL;
    sock->event = event_new(f->base, s, 0, fetcher_socket_event_cb, sock);
    if (sock->event == NULL) {
        free(sock);
        return NULL;
    }
    sock->fetcher = f;
    sock->next = f->sockets;
    if (f->sockets != NULL)
        f->sockets->prev = sock;
    f->sockets = sock;
    return sock;
}

static void fetch_socket_free(struct fetch_socket *sock)
{
    struct fetcher *f = sock->fetcher;
    if (sock->prev != NULL)
        sock->prev->next = sock->next;
    else
        f->sockets = sock->next;
    if (sock->next != NULL)
        sock->next->prev = sock->prev;
    event_free(sock->event); /* event_free deletes a pending event first */
    free(sock);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching s. */
static int fetcher_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct fetcher *f = userp;
    struct fetch_socket *sock = socketp;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        if (sock != NULL)
            fetch_socket_free(sock);
        return 0;
    }
    if (sock == NULL) {
        sock = fetch_socket_new(f, s);
        if (sock == NULL)
            return -1;
        if (curl_multi_assign(f->multi, s, sock) != CURLM_OK) {
            fetch_socket_free(sock);
            return -1;
        }
    }
    short events = EV_PERSIST;
    if (what & CURL_POLL_IN)
        events |= EV_READ;
    if (what & CURL_POLL_OUT)
        events |= EV_WRITE;
    /* event_assign on a pending event corrupts libevent: delete it first. */
    event_del(sock->event);
    if (event_assign(sock->event, f->base, s, events, fetcher_socket_event_cb, sock) != 0 ||
        event_add(sock->event, NULL) != 0)
        return -1;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: (re)arm or stop the single timer curl wants. */
static int fetcher_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct fetcher *f = userp;
    (void)multi;
    if (timeout_ms < 0)
        return event_del(f->timer) == 0 ? 0 : -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(f->timer, &tv) == 0 ? 0 : -1;
}

/* Whether curl_global_init ran without a matching curl_global_cleanup. The
 * daemon is single-threaded, as curl_global_init requires. */
static int curl_ready;

struct fetcher *fetcher_new(struct event_base *base)
{
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = 1;
    }
    struct fetcher *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->base = base;
    f->timer = evtimer_new(base, fetcher_timer_event_cb, f);
    f->multi = curl_multi_init();
    curl_socket_callback socket_cb = fetcher_socket_cb;
    curl_multi_timer_callback timer_cb = fetcher_timer_cb;
    if (f->timer == NULL || f->multi == NULL ||
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, (void *)f) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, (void *)f) != CURLM_OK)
        goto fail;
    return f;

fail:
    if (f->multi != NULL)
        curl_multi_cleanup(f->multi);
    if (f->timer != NULL)
        event_free(f->timer);
    free(f);
    return NULL;
}

void fetcher_free(struct fetcher *f)
{
    if (f == NULL)
        return;
    while (f->active != NULL)
        fetch_cancel(f->active);
    while (f->finished != NULL)
        fetch_cancel(f->finished);
    curl_multi_cleanup(f->multi);
    f->multi = NULL;
    /* curl does not promise a CURL_POLL_REMOVE for every socket before
     * curl_multi_cleanup returns. */
    while (f->sockets != NULL)
        fetch_socket_free(f->sockets);
    event_free(f->timer);
    f->timer = NULL;
    if (f->dispatching)
        f->freed = 1; /* fetcher_process frees f once the callback returns */
    else
        free(f);
}

struct fetch *fetch_start(struct fetcher *f, const struct fetch_options *options,
                          fetch_done_cb done, void *arg)
{
    if (options->url == NULL || options->timeout_ms <= 0 || done == NULL)
        return NULL;
    struct fetch *fetch = calloc(1, sizeof(*fetch));
    if (fetch == NULL)
        return NULL;
    fetch->fetcher = f;
    fetch->done = done;
    fetch->arg = arg;
    fetch->timeout_ms = options->timeout_ms;
    fetch->connect_timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
                                                                : FETCH_CONNECT_TIMEOUT_MS;
    if (fetch->connect_timeout_ms > fetch->timeout_ms)
        fetch->connect_timeout_ms = fetch->timeout_ms;
    fetch->max_body = options->max_body_bytes < SIZE_MAX ? (size_t)options->max_body_bytes
                                                         : SIZE_MAX - 1;
    fetch->hide_detail = url_has_credentials(options->url);
    fetch->easy = curl_easy_init();
    if (fetch->easy == NULL || fetch_configure(fetch, options) != 0 ||
        curl_multi_add_handle(f->multi, fetch->easy) != CURLM_OK) {
        curl_easy_cleanup(fetch->easy);
        fetch_destroy(fetch);
        return NULL;
    }
    fetch_link(&f->active, fetch);
    return fetch;
}

void fetch_cancel(struct fetch *fetch)
{
    if (fetch == NULL)
        return;
    if (fetch->easy != NULL) {
        (void)curl_multi_remove_handle(fetch->fetcher->multi, fetch->easy);
        curl_easy_cleanup(fetch->easy);
    }
    fetch_unlink(fetch);
    fetch_destroy(fetch);
}

void fetch_global_cleanup(void)
{
    if (curl_ready) {
        curl_global_cleanup();
        curl_ready = 0;
    }
}

int64_t fetch_backoff_ms(int64_t min_ms, int64_t max_ms, uint64_t failures, uint64_t random)
{
    if (min_ms < 1)
        min_ms = 1;
    if (max_ms < min_ms)
        max_ms = min_ms;
    int64_t base = min_ms;
    for (uint64_t i = 1; i < failures && base < max_ms; i++)
        base = base > max_ms / 2 ? max_ms : base * 2;
    int64_t spread = base / 10;
    int64_t delay = base - spread + (int64_t)(random % (uint64_t)(2 * spread + 1));
    return delay < min_ms ? min_ms : delay > max_ms ? max_ms : delay;
}

int fetch_read_secret(const char *path, char *buf, size_t size, char *err, size_t err_size)
{
    char chunk[4096];
    size_t have = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s: not a regular file", path);
        goto fail;
    }
    /* Only the first line counts: read until a line end or size bytes. */
    while (have < sizeof(chunk) && have < size + 1 && memchr(chunk, '\n', have) == NULL) {
        ssize_t n = read(fd, chunk + have, sizeof(chunk) - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_size, "%s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    fd = -1;
    const char *end = memchr(chunk, '\n', have);
    if (end == NULL && have == sizeof(chunk)) {
        snprintf(err, err_size, "%s: the first line is longer than %zu bytes", path,
                 size > 0 ? size - 1 : 0);
        goto fail;
    }
    /* Surrounding blanks go (and the CR of a CRLF), as Prometheus trims. */
    size_t start = 0, len = end != NULL ? (size_t)(end - chunk) : have;
    while (start < len && (chunk[start] == ' ' || chunk[start] == '\t'))
        start++;
    while (len > start &&
           (chunk[len - 1] == ' ' || chunk[len - 1] == '\t' || chunk[len - 1] == '\r'))
        len--;
    len -= start;
    if (len == 0) {
        snprintf(err, err_size, "%s: the first line is empty", path);
        goto fail;
    }
    if (len >= size) {
        snprintf(err, err_size, "%s: the first line is longer than %zu bytes", path,
                 size > 0 ? size - 1 : 0);
        goto fail;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)chunk[start + i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, err_size, "%s: the first line holds a control character", path);
            goto fail;
        }
    }
    memcpy(buf, chunk + start, len);
    buf[len] = '\0';
    explicit_bzero(chunk, sizeof(chunk));
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    explicit_bzero(chunk, sizeof(chunk));
    if (size > 0)
        buf[0] = '\0';
    return -1;
}

int fetch_secrets_load(struct fetch_secrets *s, const char *bearer_token_file,
                       const struct config_basic_auth *basic_auth, struct fetch_options *options,
                       char *err, size_t err_size)
{
    char why[300];
    if (bearer_token_file) {
        if (fetch_read_secret(bearer_token_file, s->token, sizeof(s->token), why,
                              sizeof(why)) != 0) {
            snprintf(err, err_size, "bearer_token_file %s", why);
            return -1;
        }
        options->bearer_token = s->token;
    }
    if (basic_auth->username) {
        if (fetch_read_secret(basic_auth->password_file, s->password, sizeof(s->password), why,
                              sizeof(why)) != 0) {
            snprintf(err, err_size, "basic_auth.password_file %s", why);
            return -1;
        }
        options->username = basic_auth->username;
        options->password = s->password;
    }
    return 0;
}

void fetch_secrets_wipe(struct fetch_secrets *s)
{
    explicit_bzero(s, sizeof(*s));
}
