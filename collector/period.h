/*
 * period: the reporting periods feeds use, a calendar month "YYYY-MM" or a
 * day "YYYY-MM-DD" (also written as an RFC 3339 timestamp), and their
 * ordering key. A period's key sorts a month just before its own days:
 * 2025-01 is 20250100, 2025-01-31 is 20250131.
 */
#ifndef INGOT_PERIOD_H
#define INGOT_PERIOD_H

#include <stdint.h>

struct period {
    int year;
    int month;
    int day; /* 1..31, or 0 for the whole month */
};

/* Parses into *out one of the forms plants write a period in:
 *     "YYYY-MM"                    a month
 *     "YYYY-MM-DD"                 a day
 *     an RFC 3339 timestamp        the day of its date part, as written
 *     ("2025-03-14T08:00:00Z", "2025-03-15T00:30:00.5+05:00")
 * A timestamp names the date the plant wrote, in its own offset: the
 * instant is not converted to UTC first, so "2025-03-15T00:30:00+05:00" is
 * 2025-03-15 (although it is still 2025-03-14 in UTC). The whole timestamp
 * must be valid (civil_parse_rfc3339: time, fraction, "Z" or "+HH:MM"), and
 * the date real (year 1..9999). Returns 0, or -1 when malformed or
 * impossible. */
int period_parse(const char *s, struct period *out);

int32_t period_key(const struct period *p);
struct period period_from_key(int32_t key);
/* 00:00 UTC of the period's first day, in Unix seconds. */
int64_t period_start(const struct period *p);
/* Formats as the feed spells it; buf holds at least 11 bytes. */
void period_format(const struct period *p, char *buf, unsigned long size);

#endif
