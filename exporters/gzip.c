/*
 * gzip: one zlib deflate stream (windowBits 31: gzip framing) per
 * compressor, reset between buffers.
 */
#include "gzip.h"

#include <stdlib.h>
#include <zlib.h>

struct gzipper {
    z_stream zs;
};

struct gzipper *gzip_new(int level)
{
    struct gzipper *g = calloc(1, sizeof(*g));
    if (g && deflateInit2(&g->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return NULL;
    }
    return g;
}

void gzip_free(struct gzipper *g)
{
    if (!g)
        return;
    deflateEnd(&g->zs);
    free(g);
}

char *gzip_compress(struct gzipper *g, const char *in, size_t len, size_t *out_len)
{
    if (deflateReset(&g->zs) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&g->zs, (uLong)len);
    char *out = malloc(bound);
    if (!out)
        return NULL;
    g->zs.next_in = (Bytef *)in;
    g->zs.avail_in = (uInt)len;
    g->zs.next_out = (Bytef *)out;
    g->zs.avail_out = (uInt)bound;
    if (deflate(&g->zs, Z_FINISH) != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    *out_len = g->zs.total_out;
    /* The bound is for incompressible input; keep only what was written. */
    char *fitted = realloc(out, *out_len ? *out_len : 1);
    return fitted ? fitted : out;
}
