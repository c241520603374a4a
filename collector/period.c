/*
 * period: parsing, keys and start times of feed reporting periods.
 */
#include "period.h"

#include <stdio.h>
#include <string.h>

#include "civil_time.h"

int period_parse(const char *s, struct period *out)
{
    size_t len = strlen(s);
    int64_t instant;
    if (len > 10 && civil_parse_rfc3339(s, &instant) == 0)
        len = 10; /* the date as written; the time and offset were checked */
    else if (len != 7 && len != 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int dash = (i == 4 || i == 7);
        if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return -1;
    }
    struct period p = {
        .year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'),
        .month = (s[5] - '0') * 10 + (s[6] - '0'),
        .day = len == 10 ? (s[8] - '0') * 10 + (s[9] - '0') : 0,
    };
    if (!civil_date_valid(p.year, p.month, p.day ? p.day : 1))
        return -1;
    *out = p;
    return 0;
}

int32_t period_key(const struct period *p)
{
    return p->year * 10000 + p->month * 100 + p->day;
}

struct period period_from_key(int32_t key)
{
    return (struct period){.year = key / 10000, .month = key / 100 % 100, .day = key % 100};
}

int64_t period_start(const struct period *p)
{
    return civil_days_from_date(p->year, p->month, p->day ? p->day : 1) * 86400;
}

void period_format(const struct period *p, char *buf, unsigned long size)
{
    if (p->day)
        snprintf(buf, size, "%04d-%02d-%02d", p->year, p->month, p->day);
    else
        snprintf(buf, size, "%04d-%02d", p->year, p->month);
}
