/*
 * push: push sources' tokens and the ingest of their documents.
 *
 * A token is kept only as its SHA-256, beside the identity (device, inode,
 * size, mtime, ctime) of the file it was read from; each authentication
 * stats the token files and reads again the ones that changed. A document
 * goes through ingest_document_with_listener like a pulled feed's, with a
 * listener that collects each rejection's record index for the answer.
 */
#include "push.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define DIGEST_LEN 32 /* SHA-256 */

struct push_token {
    bool valid;     /* digest holds a token */
    bool stat_ok;   /* the file could be stat'ed last time */
    struct stat seen; /* its identity then (when stat_ok) */
    unsigned char digest[DIGEST_LEN];
};

struct push {
    struct store *store;
    struct feeds *feeds;
    const struct eval_clock *clock;
    const struct config *config;
    struct push_token *tokens; /* [n_tokens]: config->push_sources, or none after ENOMEM */
    size_t n_tokens;
};

struct push *push_new(struct store *store, struct feeds *feeds, const struct eval_clock *clock)
{
    struct push *push = calloc(1, sizeof(*push));
    if (push)
        *push = (struct push){.store = store, .feeds = feeds, .clock = clock};
    return push;
}

void push_free(struct push *push)
{
    if (!push)
        return;
    free(push->tokens);
    free(push);
}

const char *push_source_name(const struct push *push, size_t i)
{
    return push->config->push_sources[i].name;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The token in the first line of text (len bytes): surrounding spaces,
 * tabs and CR trimmed. Sets *start and returns its length (0: none). */
static size_t first_line_token(const char *text, size_t len, const char **start)
{
    const char *nl = memchr(text, '\n', len);
    size_t end = nl ? (size_t)(nl - text) : len;
    size_t begin = 0;
    while (begin < end && blank(text[begin]))
        begin++;
    while (end > begin && blank(text[end - 1]))
        end--;
    *start = text + begin;
    return end - begin;
}

/* True when a client can send token in "Authorization: Bearer <token>":
 * printable ASCII without spaces. */
static bool sendable(const char *token, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (token[i] <= ' ' || token[i] >= 0x7f)
            return false;
    return true;
}

/* Reads the token at path into t. Returns 0, or -1 with the reason in err
 * (t->valid false). */
static int read_token(const char *path, struct push_token *t, char *err, size_t err_size)
{
    t->valid = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "%s", strerror(errno));
        return -1;
    }
    char buf[PUSH_MAX_TOKEN_FILE_BYTES + 1];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, err_size, "%s", strerror(errno));
            close(fd);
            return -1;
        }
        len += (size_t)n;
    }
    close(fd);
    const char *token = NULL;
    size_t token_len = 0;
    if (len > PUSH_MAX_TOKEN_FILE_BYTES)
        snprintf(err, err_size, "longer than %d bytes", PUSH_MAX_TOKEN_FILE_BYTES);
    else if ((token_len = first_line_token(buf, len, &token)) == 0)
        snprintf(err, err_size, "its first line is empty");
    else if (!sendable(token, token_len))
        snprintf(err, err_size, "the token holds a character other than printable ASCII "
                                "(spaces included), which no client can send");
    else if (EVP_Digest(token, token_len, t->digest, NULL, EVP_sha256(), NULL) != 1)
        snprintf(err, err_size, "cannot hash it");
    else
        t->valid = true;
    OPENSSL_cleanse(buf, sizeof(buf));
    return t->valid ? 0 : -1;
}

/* Reads source i's token file again when it changed since it was read (or
 * when forced), logging what happened. */
static void refresh_token(struct push *push, size_t i, bool force)
{
    const struct config_feed *source = &push->config->push_sources[i];
    struct push_token *t = &push->tokens[i];
    struct log_fields fields = {.feed = source->name};
    struct stat st;
    char err[128];
    if (stat(source->token_file, &st) != 0) {
        if (force || t->stat_ok || t->valid)
            log_with(LOG_LEVEL_ERROR, &fields,
                     "push source cannot authenticate: token_file %s: %s", source->token_file,
                     strerror(errno));
        t->stat_ok = false;
        t->valid = false;
        return;
    }
    if (!force && t->stat_ok && same_file(&st, &t->seen))
        return;
    bool was_valid = t->valid;
    t->seen = st;
    t->stat_ok = true;
    if (read_token(source->token_file, t, err, sizeof(err)) != 0)
        log_with(LOG_LEVEL_ERROR, &fields, "push source cannot authenticate: token_file %s: %s",
                 source->token_file, err);
    else if (!force)
        log_with(LOG_LEVEL_INFO, &fields, "push source token %s from %s",
                 was_valid ? "re-read" : "read", source->token_file);
}

int push_configure(struct push *push, const struct config *config)
{
    size_t n = config->n_push_sources;
    free(push->tokens);
    push->config = config;
    push->n_tokens = 0;
    push->tokens = calloc(n ? n : 1, sizeof(*push->tokens));
    if (!push->tokens) {
        log_error("out of memory reading the push sources' tokens: every push is refused");
        return -1;
    }
    push->n_tokens = n;
    for (size_t i = 0; i < n; i++)
        refresh_token(push, i, true);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (push->tokens[i].valid && push->tokens[j].valid &&
                CRYPTO_memcmp(push->tokens[i].digest, push->tokens[j].digest, DIGEST_LEN) == 0)
                log_warn("push sources %s and %s have the same token: its pushes are taken as %s's",
                         config->push_sources[i].name, config->push_sources[j].name,
                         config->push_sources[i].name);
    return 0;
}

int push_authenticate(struct push *push, const char *token, size_t len)
{
    unsigned char digest[DIGEST_LEN];
    if (len == 0 || EVP_Digest(token, len, digest, NULL, EVP_sha256(), NULL) != 1)
        return -1;
    int found = -1;
    for (size_t i = 0; i < push->n_tokens; i++) {
        refresh_token(push, i, false);
        /* Every source is compared, matched or not. */
        int equal = CRYPTO_memcmp(digest, push->tokens[i].digest, DIGEST_LEN) == 0;
        if (equal && push->tokens[i].valid && found < 0)
            found = (int)i;
    }
    return found;
}

/* ---- ingest ---------------------------------------------------------- */

struct collector {
    struct push_outcome *out;
    size_t cap;
    uint64_t records;           /* records judged */
    uint64_t not_allowed;       /* of them, rejected as plant_not_allowed */
    bool wrote_allowed_plant;   /* a plant entry the source may write */
};

static void on_record(void *arg, size_t index, enum ingest_reason reason)
{
    struct collector *c = arg;
    struct push_outcome *out = c->out;
    c->records++;
    if (reason == INGEST_REASON_COUNT) {
        out->accepted++;
        return;
    }
    out->rejected++;
    c->not_allowed += reason == INGEST_PLANT_NOT_ALLOWED;
    if (out->n_rejections == PUSH_MAX_LISTED_REJECTIONS) {
        out->truncated = true;
        return;
    }
    if (out->n_rejections == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        if (cap > PUSH_MAX_LISTED_REJECTIONS)
            cap = PUSH_MAX_LISTED_REJECTIONS;
        struct push_rejection *grown = realloc(out->rejections, cap * sizeof(*grown));
        if (!grown) {
            out->truncated = true; /* the counts stay exact */
            return;
        }
        out->rejections = grown;
        c->cap = cap;
    }
    out->rejections[out->n_rejections++] = (struct push_rejection){index, reason};
}

static void on_plant(void *arg, const char *plant)
{
    (void)plant;
    struct collector *c = arg;
    c->wrote_allowed_plant = true;
}

void push_ingest(struct push *push, size_t source, enum feed_format format, const char *body,
                 size_t len, struct push_outcome *out)
{
    *out = (struct push_outcome){.result = PUSH_APPLIED};
    /* The source's rules, with the format its Content-Type named. */
    struct config_feed as_sent = push->config->push_sources[source];
    as_sent.format = format;
    struct log_fields fields = {.feed = as_sent.name};
    struct collector c = {.out = out};
    struct ingest_listener listener = {.record = on_record, .plant = on_plant, .arg = &c};
    struct ingest_counts counts = {0};
    bool first = feeds_push_stats(push->feeds, source)->last_success == 0;

    if (ingest_document_with_listener(push->store, push->config, &as_sent,
                                      eval_clock_now(push->clock), body, len, &listener, &counts,
                                      out->error, sizeof(out->error)) != 0) {
        out->result = PUSH_UNREADABLE;
        log_with(LOG_LEVEL_WARN, &fields, "pushed document rejected: %s", out->error);
        return;
    }
    if (c.records > 0 && c.not_allowed == c.records && !c.wrote_allowed_plant) {
        out->result = PUSH_FOREIGN;
        log_with(LOG_LEVEL_WARN, &fields,
                 "push refused: all %llu records are for plants the source may not write",
                 (unsigned long long)c.records);
        feeds_push_delivered(push->feeds, source, &counts, false);
        return;
    }
    log_with(first ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, &fields,
             "push: %llu records accepted, %llu changed data, %llu rejected",
             (unsigned long long)out->accepted, (unsigned long long)counts.changed,
             (unsigned long long)out->rejected);
    feeds_push_delivered(push->feeds, source, &counts, true);
}

void push_outcome_release(struct push_outcome *out)
{
    free(out->rejections);
    out->rejections = NULL;
    out->n_rejections = 0;
}
