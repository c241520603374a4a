/*
 * civil_time: calendar conversions (Howard Hinnant's days_from_civil
 * algorithm, public domain arithmetic) and strict parsers for dates and
 * RFC 3339 instants. Parsers accept exactly the documented forms: no
 * surrounding space, no locale, no time zone database.
 */
#include "civil_time.h"

#include <stdio.h>
#include <string.h>

int64_t civil_days_from_date(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_date_from_time(int64_t t, int *year, int *month, int *day)
{
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

int civil_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 29;
    return days[month - 1];
}

bool civil_date_valid(int year, int month, int day)
{
    return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
           day <= civil_days_in_month(year, month);
}

/* Reads exactly n decimal digits from s into *out. Returns 0, or -1. */
static int read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Parses "YYYY-MM-DD" at the start of s; the caller checks what follows. */
static int parse_date_prefix(const char *s, int *y, int *m, int *d)
{
    if (read_digits(s, 4, y) || s[4] != '-' || read_digits(s + 5, 2, m) || s[7] != '-' ||
        read_digits(s + 8, 2, d))
        return -1;
    return civil_date_valid(*y, *m, *d) ? 0 : -1;
}

int civil_parse_date(const char *s, int64_t *out)
{
    int y, m, d;
    if (strlen(s) != 10 || parse_date_prefix(s, &y, &m, &d))
        return -1;
    *out = civil_days_from_date(y, m, d) * 86400;
    return 0;
}

int civil_parse_rfc3339(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20 || parse_date_prefix(s, &y, &mo, &d))
        return -1;
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || read_digits(s + 11, 2, &h) ||
        s[13] != ':' || read_digits(s + 14, 2, &mi) || s[16] != ':' ||
        read_digits(s + 17, 2, &sec))
        return -1;
    if (h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t offset = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (read_digits(p + 1, 2, &oh) || read_digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (sec == 60)
        sec = 59; /* a leap second names the last second of its minute */
    *out = civil_days_from_date(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

void civil_format_rfc3339(int64_t t, char *buf, unsigned long size)
{
    int y, mo, d;
    civil_date_from_time(t, &y, &mo, &d);
    int64_t rem = t - civil_days_from_date(y, mo, d) * 86400;
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}
