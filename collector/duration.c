/*
 * duration: parsing and formatting of Prometheus durations.
 */
#include "duration.h"

#include <stdio.h>
#include <string.h>

struct duration_unit {
    const char *suffix;
    int64_t ms;
};

/* Largest first; "ms" before "m" so the longer suffix wins. */
static const struct duration_unit units[] = {
    {"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},       {"h", 3600LL * 1000},
    {"m", 60LL * 1000},              {"s", 1000},
    {"ms", 1},
};
#define N_UNITS (sizeof(units) / sizeof(units[0]))
#define DURATION_MAX_MS (100LL * 365 * 24 * 3600 * 1000)

/* Index of the unit at p ("ms" is tried before "m"), or -1. */
static int unit_at(const char *p, size_t *len)
{
    if (p[0] == 'm' && p[1] == 's') {
        *len = 2;
        return (int)N_UNITS - 1;
    }
    for (size_t i = 0; i + 1 < N_UNITS; i++) {
        if (p[0] == units[i].suffix[0]) {
            *len = 1;
            return (int)i;
        }
    }
    return -1;
}

int duration_parse(const char *s, int64_t *out_ms)
{
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    const char *p = s;
    int64_t total = 0;
    int last_unit = -1;
    if (*p == '\0')
        return -1;
    while (*p) {
        if (*p < '0' || *p > '9')
            return -1;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > DURATION_MAX_MS)
                return -1;
            p++;
        }
        size_t len;
        int u = unit_at(p, &len);
        if (u < 0 || u <= last_unit)
            return -1;
        last_unit = u;
        if (n > DURATION_MAX_MS / units[u].ms)
            return -1;
        total += n * units[u].ms;
        if (total > DURATION_MAX_MS)
            return -1;
        p += len;
    }
    *out_ms = total;
    return 0;
}

void duration_format(int64_t ms, char *buf, unsigned long size)
{
    if (ms <= 0) {
        snprintf(buf, size, "0s");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_UNITS && ms > 0; i++) {
        if (ms < units[i].ms)
            continue;
        int64_t n = ms / units[i].ms;
        ms -= n * units[i].ms;
        int w = snprintf(buf + used, size - used, "%lld%s", (long long)n, units[i].suffix);
        if (w < 0 || (size_t)w >= size - used)
            return;
        used += (size_t)w;
    }
}
