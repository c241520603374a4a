/*
 * exposition: reference counting of rendered bodies. The daemon is single
 * threaded, so a plain counter suffices.
 */
#include "exposition.h"

#include <stdlib.h>

struct exposition *exposition_new(char *text, size_t len)
{
    struct exposition *e = malloc(sizeof(*e));
    if (!e) {
        free(text);
        return NULL;
    }
    *e = (struct exposition){.text = text, .len = len, .refs = 1};
    return e;
}

struct exposition *exposition_ref(struct exposition *e)
{
    e->refs++;
    return e;
}

void exposition_unref(struct exposition *e)
{
    if (e && --e->refs == 0) {
        free((char *)e->text);
        free(e);
    }
}
