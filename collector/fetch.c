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
 */
#include "fetch.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum fetch_body_state { FETCH_BODY_OK, FETCH_BODY_TOO_BIG, FETCH_BODY_NO_MEMORY };

struct fetch {
    struct fetcher *fetcher;
    struct fetch **list; /* &fetcher->active or &fetcher->finished; NULL in its callback */
    struct fetch *prev, *next;
    CURL *easy;          /* NULL once the transfer is over */
    fetch_done_cb done;
    void *arg;
    int64_t timeout_ms;
    size_t max_body;
    int hide_detail;     /* the URL carries credentials: keep curl's detail out */
    enum fetch_body_state body_state;
    char *body;          /* NUL-terminated once anything arrived */
    size_t body_len, body_cap;
    struct fetch_result result;
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

/* CURLOPT_WRITEFUNCTION: appends to the body; a short count aborts the
 * transfer once the announced or received size passes max_body. */
static size_t fetch_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct fetch *fetch = userdata;
    size_t n = size * nmemb;

    long status = 0;
    curl_easy_getinfo(fetch->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0 && (status < 200 || status > 299))
        return n; /* an error page: the status is all the caller gets */

    if (fetch->body_len == 0) {
        curl_off_t announced = -1;
        curl_easy_getinfo(fetch->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
        if (announced > 0 && (uint64_t)announced > fetch->max_body) {
            fetch->body_state = FETCH_BODY_TOO_BIG;
            return 0;
        }
        /* An announced size is taken at its word (it is within max_body), so
         * a large document is held once, not in a doubled buffer. */
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

/* Sets every option of the transfer. Returns 0, or -1 if curl refused one. */
static int fetch_configure(struct fetch *fetch, const char *url)
{
    CURL *e = fetch->easy;
    long timeout = fetch->timeout_ms > LONG_MAX ? LONG_MAX : (long)fetch->timeout_ms;
    long connect_timeout = timeout < FETCH_CONNECT_TIMEOUT_MS ? timeout : FETCH_CONNECT_TIMEOUT_MS;
    curl_write_callback write_cb = fetch_write_cb;

    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, FETCH_MAX_REDIRECTS) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "ingot/" INGOT_VERSION) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, fetch->curl_error) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)fetch) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)fetch) != CURLE_OK)
        return -1;
    return 0;
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

    r->http_status = status;
    r->duration_seconds = (double)total_us / 1e6;
    r->body = "";
    r->body_len = 0;
    r->ok = 0;
    r->error = fetch->error;

    char limit[32];
    if (fetch->body_state == FETCH_BODY_TOO_BIG) {
        snprintf(fetch->error, sizeof(fetch->error),
                 "body exceeds max_body_bytes (%zu bytes)", fetch->max_body);
    } else if (fetch->body_state == FETCH_BODY_NO_MEMORY) {
        snprintf(fetch->error, sizeof(fetch->error), "out of memory for the body");
    } else if (code == CURLE_OPERATION_TIMEDOUT && request_bytes == 0) {
        format_limit(limit, sizeof(limit), fetch->timeout_ms < FETCH_CONNECT_TIMEOUT_MS
                                               ? fetch->timeout_ms
                                               : FETCH_CONNECT_TIMEOUT_MS);
        snprintf(fetch->error, sizeof(fetch->error), "connect failed: timeout after %s", limit);
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        format_limit(limit, sizeof(limit), fetch->timeout_ms);
        snprintf(fetch->error, sizeof(fetch->error), "timeout after %s", limit);
    } else if (code != CURLE_OK) {
        int connect = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                      code == CURLE_COULDNT_RESOLVE_PROXY;
        int detail = !fetch->hide_detail && fetch->curl_error[0] != '\0';
        snprintf(fetch->error, sizeof(fetch->error), "%s%s%s%s",
                 connect ? "connect failed: " : "", curl_easy_strerror(code),
                 detail ? ": " : "", detail ? fetch->curl_error : "");
    } else if (status != 0 && (status < 200 || status > 299)) {
        snprintf(fetch->error, sizeof(fetch->error), "HTTP %ld", status);
    } else {
        /* Only http, https and file are allowed, and only file:// completes
         * without a status. */
        r->ok = 1;
        r->error = NULL;
        if (fetch->body != NULL) {
            r->body = fetch->body;
            r->body_len = fetch->body_len;
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
        fetch->result = (struct fetch_result){.body = "", .error = fetch->error};
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
    fetch->max_body = options->max_body_bytes < SIZE_MAX ? (size_t)options->max_body_bytes
                                                         : SIZE_MAX - 1;
    fetch->hide_detail = url_has_credentials(options->url);
    fetch->easy = curl_easy_init();
    if (fetch->easy == NULL || fetch_configure(fetch, options->url) != 0 ||
        curl_multi_add_handle(f->multi, fetch->easy) != CURLM_OK) {
        curl_easy_cleanup(fetch->easy);
        free(fetch);
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
