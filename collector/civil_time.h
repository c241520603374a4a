/*
 * civil_time: proleptic Gregorian calendar arithmetic in UTC, and the strict
 * textual forms ingot accepts for instants and dates. Everything is Unix
 * seconds (int64_t); nothing here reads the clock or the time zone.
 */
#ifndef INGOT_CIVIL_TIME_H
#define INGOT_CIVIL_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Days since 1970-01-01 of the given date (may be negative). */
int64_t civil_days_from_date(int year, int month, int day);
/* Splits Unix seconds into a UTC date. */
void civil_date_from_time(int64_t t, int *year, int *month, int *day);
int civil_days_in_month(int year, int month);
bool civil_date_valid(int year, int month, int day);

/* "YYYY-MM-DD" exactly, a real date: 00:00 UTC of that day into *out.
 * Returns 0, or -1 when malformed or impossible. */
int civil_parse_date(const char *s, int64_t *out);

/* RFC 3339 date-time ("2025-06-30T12:00:00Z", fractional seconds and a
 * numeric offset allowed): the instant, truncated to seconds, into *out.
 * Returns 0, or -1. */
int civil_parse_rfc3339(const char *s, int64_t *out);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
void civil_format_rfc3339(int64_t t, char *buf, unsigned long size);

#endif
