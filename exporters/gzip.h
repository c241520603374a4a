/*
 * gzip: gzip compression (zlib, RFC 1952 framing) of whole buffers with a
 * reusable deflate stream, so a small per-scrape body does not pay for
 * setting up zlib's state each time. Concatenated gzip members are one
 * valid gzip stream, which lets a cached body and a small per-request tail
 * be compressed separately.
 */
#ifndef INGOT_GZIP_H
#define INGOT_GZIP_H

#include <stddef.h>

struct gzipper;

/* A compressor at level (1..9); NULL on ENOMEM. Free with gzip_free. */
struct gzipper *gzip_new(int level);
void gzip_free(struct gzipper *g);

/* Compresses in[0..len) into one gzip member in a new buffer owned by the
 * caller (free()), its length in *out_len. NULL on failure. */
char *gzip_compress(struct gzipper *g, const char *in, size_t len, size_t *out_len);

#endif
