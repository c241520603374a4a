/*
 * exposition: one rendered /metrics body, immutable and reference counted,
 * so a scrape can hand it to the socket by reference while a newer render
 * replaces it for the next scrape.
 */
#ifndef INGOT_EXPOSITION_H
#define INGOT_EXPOSITION_H

#include <stddef.h>

struct exposition {
    const char *text;
    size_t len;
    unsigned refs; /* the holder of each reference calls exposition_unref once */
};

/* Wraps text (malloc'd; ownership moves here) with one reference. Returns
 * NULL on ENOMEM, then text is freed. */
struct exposition *exposition_new(char *text, size_t len);
struct exposition *exposition_ref(struct exposition *e);
void exposition_unref(struct exposition *e);

#endif
