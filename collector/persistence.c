/*
 * persistence: the snapshot timer on the loop and the one worker thread
 * that writes. The loop hands the worker one encoded snapshot at a time in
 * a single slot: a newer snapshot replaces one the worker has not started,
 * so a slow disk costs at most one pending copy of the state, and the worker
 * always writes the newest. Stats are shared under the same mutex.
 */
#include "persistence.h"

#include <errno.h>
#include <inttypes.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "snapshot.h"
#include "snapshot_file.h"

struct persistence_job {
    uint8_t *payload; /* NULL: none */
    size_t len;
    int64_t taken_at_ms;
};

struct persistence {
    persistence_encode_fn encode;
    void *encode_arg;
    struct event *timer;
    bool changed; /* since the last snapshot handed to the worker */
    char *dir;

    pthread_t worker;
    bool worker_started;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t wake;
    struct persistence_job pending;
    bool quit;
    unsigned keep;
    bool retry; /* the last write failed: write again at the next interval */
    int64_t last_name_ms; /* the newest file name's time: names only grow */
    struct persistence_stats stats;
};

static void *worker_main(void *arg)
{
    struct persistence *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->pending.payload && !p->quit)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->pending.payload)
            break; /* quit, with nothing left to write */
        struct persistence_job job = p->pending;
        p->pending = (struct persistence_job){0};
        unsigned keep = p->keep;
        pthread_mutex_unlock(&p->lock);

        /* Named after the newest file even when the clock went back, so the
         * last snapshot written is the one restored. */
        int64_t name_ms = job.taken_at_ms > p->last_name_ms ? job.taken_at_ms
                                                            : p->last_name_ms + 1;

        char err[512];
        int rc = snapshot_file_write(p->dir, name_ms, job.payload, job.len, keep, err,
                                     sizeof(err));
        if (rc == 0)
            p->last_name_ms = name_ms;
        if (rc != 0)
            log_error("snapshot not written to %s: %s", p->dir, err);
        else
            log_debug("snapshot of %zu bytes written to %s", job.len, p->dir);
        free(job.payload);

        pthread_mutex_lock(&p->lock);
        if (rc == 0) {
            p->stats.writes_ok++;
            p->stats.last_success = (double)time(NULL);
            p->stats.last_bytes = job.len;
            p->retry = false;
        } else {
            p->stats.writes_failed++;
            p->retry = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Encodes the state now and hands it to the worker. */
static void snapshot_now(struct persistence *p)
{
    struct persistence_job job = {0};
    if (p->encode(p->encode_arg, &job.payload, &job.len, &job.taken_at_ms) != 0) {
        log_error("out of memory encoding a snapshot");
        return; /* still changed: tried again at the next interval */
    }
    pthread_mutex_lock(&p->lock);
    free(p->pending.payload); /* not started: the newer state replaces it */
    p->pending = job;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    p->changed = false;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct persistence *p = arg;
    pthread_mutex_lock(&p->lock);
    bool retry = p->retry;
    pthread_mutex_unlock(&p->lock);
    if (p->changed || retry)
        snapshot_now(p);
}

static void arm_timer(struct persistence *p, int64_t interval_ms)
{
    struct timeval tv = {.tv_sec = interval_ms / 1000, .tv_usec = (interval_ms % 1000) * 1000};
    event_add(p->timer, &tv);
}

/* Makes sure dir exists; false (logged) when it cannot be used. */
static bool usable_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return true;
        log_error("state_dir %s is not a directory: snapshots disabled, nothing will survive "
                  "a restart", dir);
        return false;
    }
    if (errno == ENOENT && mkdir(dir, 0750) == 0) {
        log_info("created state_dir %s", dir);
        return true;
    }
    log_error("state_dir %s cannot be used (%s): snapshots disabled, nothing will survive a "
              "restart", dir, strerror(errno));
    return false;
}

struct persistence *persistence_new(struct event_base *base, const struct config *config,
                                    persistence_encode_fn encode, void *arg)
{
    struct persistence *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->encode = encode;
    p->encode_arg = arg;
    p->keep = (unsigned)config->snapshot.keep;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (!(p->dir = strdup(config->state_dir)) ||
        !(p->timer = event_new(base, -1, EV_PERSIST, on_timer, p))) {
        persistence_free(p);
        return NULL;
    }
    p->stats.enabled = usable_dir(p->dir);
    if (!p->stats.enabled)
        return p;
    p->last_name_ms = snapshot_file_newest_ms(p->dir);
    int rc = pthread_create(&p->worker, NULL, worker_main, p);
    if (rc != 0) {
        log_error("cannot start the snapshot writer: %s", strerror(rc));
        persistence_free(p);
        return NULL;
    }
    p->worker_started = true;
    arm_timer(p, config->snapshot.interval_ms);
    return p;
}

struct restore_context {
    struct store *store;
    struct snapshot_info info;
};

static int accept_snapshot(void *arg, const char *path, const uint8_t *payload, size_t len,
                           char *err, size_t err_size)
{
    (void)path;
    struct restore_context *ctx = arg;
    return snapshot_restore(ctx->store, payload, len, &ctx->info, err, err_size);
}

int persistence_restore(struct persistence *p, struct store *store)
{
    if (!p->stats.enabled)
        return 0;
    struct restore_context ctx = {.store = store};
    char err[512];
    int rc = snapshot_file_load_newest(p->dir, accept_snapshot, &ctx, err, sizeof(err));
    if (rc < 0) {
        log_error("state_dir %s: %s: starting empty", p->dir, err);
        return -1;
    }
    if (rc == 0) {
        log_info("no snapshot in %s: starting empty", p->dir);
        return 0;
    }
    char when[40] = "an unknown time";
    time_t taken = (time_t)(ctx.info.taken_at_ms / 1000);
    struct tm tm;
    if (gmtime_r(&taken, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    log_info("restored %" PRIu64 " records of %" PRIu64 " plants from the snapshot taken at %s "
             "by ingot %s", ctx.info.records, ctx.info.plants, when,
             ctx.info.version[0] ? ctx.info.version : "(unknown)");
    pthread_mutex_lock(&p->lock);
    p->stats.restored_records = ctx.info.records;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void persistence_changed(struct persistence *p)
{
    p->changed = true;
}

void persistence_configure(struct persistence *p, const struct config *config)
{
    if (strcmp(config->state_dir, p->dir) != 0)
        log_warn("state_dir changed to %s: takes effect at the next restart", config->state_dir);
    pthread_mutex_lock(&p->lock);
    p->keep = (unsigned)config->snapshot.keep;
    pthread_mutex_unlock(&p->lock);
    if (p->stats.enabled)
        arm_timer(p, config->snapshot.interval_ms);
}

void persistence_stats(struct persistence *p, struct persistence_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    pthread_mutex_unlock(&p->lock);
}

void persistence_free(struct persistence *p)
{
    if (!p)
        return;
    if (p->worker_started) {
        if (p->changed)
            snapshot_now(p);
        pthread_mutex_lock(&p->lock);
        p->quit = true;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->worker, NULL);
    }
    free(p->pending.payload);
    if (p->timer)
        event_free(p->timer);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p->dir);
    free(p);
}
