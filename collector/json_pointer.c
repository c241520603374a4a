/*
 * json_pointer: RFC 6901 pointers decoded into tokens, in two allocations
 * (the token array and one buffer holding every decoded name).
 */
#include "json_pointer.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_MAX (1LL << 62)

/* The index a decoded name gives: "0", or digits without a leading zero,
 * below INDEX_MAX; -1 otherwise. */
static long long index_of(const char *s, size_t n)
{
    if (n == 0 || (s[0] == '0' && n > 1))
        return -1;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        int digit = s[i] - '0';
        if (v > (INDEX_MAX - 1 - digit) / 10) /* v * 10 + digit >= INDEX_MAX */
            return -1;
        v = v * 10 + digit;
    }
    return v;
}

int json_pointer_parse(const char *text, struct json_pointer *out)
{
    *out = (struct json_pointer){.text = text};
    if (text[0] != '\0' && text[0] != '/')
        return -1;
    size_t len = strlen(text), n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '/';
    if (n == 0)
        return 0;
    struct json_pointer_token *tokens = calloc(n, sizeof(*tokens));
    char *names = malloc(len + 1); /* decoding never lengthens; one NUL per token */
    if (tokens == NULL || names == NULL) {
        free(tokens);
        free(names);
        return -1;
    }
    char *w = names;
    const char *p = text;
    for (size_t t = 0; t < n; t++) {
        p++; /* the '/' */
        tokens[t].name = w;
        for (; *p != '\0' && *p != '/'; p++) {
            if (*p != '~') {
                *w++ = *p;
            } else if (p[1] == '0' || p[1] == '1') {
                *w++ = *++p == '0' ? '~' : '/';
            } else {
                free(tokens);
                free(names);
                return -1;
            }
        }
        tokens[t].len = (size_t)(w - tokens[t].name);
        *w++ = '\0';
        tokens[t].index = index_of(tokens[t].name, tokens[t].len);
    }
    *out = (struct json_pointer){.tokens = tokens, .n = n, .text = text, .names = names};
    return 0;
}

void json_pointer_free(struct json_pointer *p)
{
    free(p->tokens);
    free(p->names);
    *p = (struct json_pointer){0};
}

bool json_pointer_token_is_key(const struct json_pointer_token *t, const unsigned char *key,
                               size_t len)
{
    return t->len == len && memcmp(t->name, key, len) == 0;
}

bool json_pointer_token_is_index(const struct json_pointer_token *t, size_t index)
{
    return t->index >= 0 && (unsigned long long)t->index == index;
}

size_t json_pointer_prefix_len(const struct json_pointer *p, size_t n)
{
    size_t at = 0;
    for (size_t t = 0; t < n && p->text[at] == '/'; t++)
        at += 1 + strcspn(p->text + at + 1, "/");
    return at;
}
