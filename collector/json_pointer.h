/*
 * json_pointer: RFC 6901 JSON Pointers ("/report/rows/0", "/a~1b" for the
 * member "a/b", "/m~0n" for "m~n"), decoded once into reference tokens that
 * a streaming reader matches against the keys and indices it meets: the
 * mapped JSON feeds (feed_mapped.h) find their records and each record's
 * fields this way without building a tree of the document.
 */
#ifndef INGOT_JSON_POINTER_H
#define INGOT_JSON_POINTER_H

#include <stdbool.h>
#include <stddef.h>

/* One decoded reference token. */
struct json_pointer_token {
    const char *name; /* decoded ("~1" is "/", "~0" is "~"), NUL-terminated */
    size_t len;
    long long index; /* the array index it names, or -1 when it names none */
};

struct json_pointer {
    struct json_pointer_token *tokens;
    size_t n; /* 0: the pointer "" names the whole value */
    const char *text; /* the pointer as written (borrowed), for messages */
    char *names;      /* owns the tokens' decoded names */
};

/* Decodes text ("" or "/"-separated tokens, NUL-terminated, borrowed by
 * *out until json_pointer_free). Each token is decoded ~1 -> "/" and then
 * ~0 -> "~", so "~01" names the member "~1". A token names the array index
 * given by "0" or by digits without a leading zero (below 2^62); "-" (the
 * element past the end, which never exists), "01", "+1", "1e0" and "x" name
 * no index, only object members. Returns 0, or -1 (*out empty) when text is
 * malformed (not "" and not starting with "/", or a "~" not followed by 0
 * or 1) or memory runs out. */
int json_pointer_parse(const char *text, struct json_pointer *out);
void json_pointer_free(struct json_pointer *p);

/* Whether the token names the object member key (len bytes, which may
 * hold a NUL: such a key never matches). */
bool json_pointer_token_is_key(const struct json_pointer_token *t, const unsigned char *key,
                               size_t len);
/* Whether the token names the array element at index. */
bool json_pointer_token_is_index(const struct json_pointer_token *t, size_t index);

/* The length of the text of p's first n tokens, as written: for
 * "/a~1b/c", 5 for n = 1 ("/a~1b"), 0 for n = 0. */
size_t json_pointer_prefix_len(const struct json_pointer *p, size_t n);

#endif
