/*
 * push: the config's push sources, plants that cannot be pulled (behind
 * NAT, say) and POST their documents instead. It knows whose bearer token
 * is whose, and ingests what a source sends through the same rules, store
 * and counters as a pulled feed's document (ingest.h, feeds.h): a pushed
 * record is merged, validated and counted exactly like a pulled one. The
 * HTTP side is exporters/push_api.c.
 *
 * Not thread-safe: one event loop thread calls everything.
 */
#ifndef INGOT_PUSH_H
#define INGOT_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "eval_clock.h"
#include "feeds.h"
#include "ingest.h"
#include "store.h"

/* The rejections a push answer lists at most; the counts cover them all. */
#define PUSH_MAX_LISTED_REJECTIONS 1000

/* The longest token file read (a token is its first line). */
#define PUSH_MAX_TOKEN_FILE_BYTES 4096

struct push;

/* A push ingester writing into store and reporting to feeds (which keeps
 * every push source's counters and staleness). The caller keeps store,
 * feeds and clock alive until push_free. NULL on ENOMEM. */
struct push *push_new(struct store *store, struct feeds *feeds, const struct eval_clock *clock);
void push_free(struct push *push);

/* Takes config's push sources (config must stay alive until the next
 * push_configure or push_free) and reads the token file of each: its first
 * line, without surrounding spaces, tabs and CR, is the token; only its
 * SHA-256 is kept. A file that cannot be read, is longer than
 * PUSH_MAX_TOKEN_FILE_BYTES, holds an empty first line or a token that is
 * not printable ASCII without spaces (what a client can send) is logged at error
 * level, and that source cannot authenticate until the file is fixed.
 * Two sources with the same token are logged at warn: the first one owns
 * it. Called at start and at every reload. Returns 0, or -1 on ENOMEM
 * (logged; then no token is accepted until the next push_configure). */
int push_configure(struct push *push, const struct config *config);

/* The push source that token (len bytes) belongs to: its index in
 * config->push_sources, or -1 (an empty or unknown token). Token files that
 * changed since they were read (device, inode, size, mtime or ctime) are
 * read again first, so a token rotates, or is revoked by emptying or
 * removing its file, without a reload. The token's SHA-256 is compared with
 * every source's by CRYPTO_memcmp, so the time taken does not depend on how
 * much of a token is right. */
int push_authenticate(struct push *push, const char *token, size_t len);

/* The name of push source i, for logs. */
const char *push_source_name(const struct push *push, size_t i);

struct push_rejection {
    size_t index; /* 0-based record index in the document */
    enum ingest_reason reason;
};

enum push_result {
    PUSH_APPLIED,    /* read; every record judged (202) */
    PUSH_UNREADABLE, /* the document failed as a whole, error says why; nothing applied (400) */
    PUSH_FOREIGN,    /* every record (at least one) is for a plant the source may not write,
                      * and no plant entry is one it may: nothing applied (403) */
};

struct push_outcome {
    enum push_result result;
    uint64_t accepted;   /* records accepted */
    uint64_t rejected;   /* records rejected */
    struct push_rejection *rejections; /* the first PUSH_MAX_LISTED_REJECTIONS, in order */
    size_t n_rejections;
    bool truncated;      /* rejections holds fewer than rejected */
    char error[256];     /* PUSH_UNREADABLE: the parser's one line */
};

/* Ingests body (len bytes, in format: JSON v1 or CSV) from push source
 * source (an index push_authenticate returned) as of the evaluation clock,
 * and fills *out (release with push_outcome_release). Counters go to
 * feeds_push_delivered: for PUSH_APPLIED, with the push as the source's
 * last success; for PUSH_FOREIGN, the rejections only. A PUSH_UNREADABLE
 * document changes nothing and is logged at warn; so is a PUSH_FOREIGN one. */
void push_ingest(struct push *push, size_t source, enum feed_format format, const char *body,
                 size_t len, struct push_outcome *out);
void push_outcome_release(struct push_outcome *out);

#endif
