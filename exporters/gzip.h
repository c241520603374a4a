/*
 * gzip: one-shot gzip compression (zlib, RFC 1952 framing) of a buffer.
 * Concatenated gzip members are one valid gzip stream, which lets a cached
 * body and a small per-request tail be compressed separately.
 */
#ifndef INGOT_GZIP_H
#define INGOT_GZIP_H

#include <stddef.h>

/* Compresses in[0..len) at level (1..9) into a new buffer owned by the
 * caller (free()), its length in *out_len. NULL on failure. */
char *gzip_compress(const char *in, size_t len, int level, size_t *out_len);

#endif
