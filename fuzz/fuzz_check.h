/*
 * fuzz_check: what the fuzz targets share: fuzz_fail(), which reports a
 * broken invariant and stops the run so that libFuzzer keeps the input as a
 * crash artifact, and the check of a rendered exposition against its
 * format's rules and expo.h's contract.
 */
#ifndef INGOT_FUZZ_CHECK_H
#define INGOT_FUZZ_CHECK_H

#include <stddef.h>

#include "expo.h"

/* Prints "fuzz: invariant broken: <message>" to stderr and traps. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Fails with the condition's text and place unless cond holds. */
#define FUZZ_REQUIRE(cond)                                                                        \
    ((cond) ? (void)0 : fuzz_fail("%s:%d: %s", __FILE__, __LINE__, #cond))

/* Checks text (len bytes) as metrics_render returned it in format:
 * NUL-terminated at len with no NUL before, ending in '\n', and made of
 * families, each announced once and followed by its own samples only:
 *   text 0.0.4:  # HELP <family> <help>      (escapes \\ \n)
 *                # TYPE <family> gauge|counter|histogram
 *   OpenMetrics: # TYPE <family> gauge|counter|histogram
 *                [# UNIT <family> <unit>]    (<family> ends in _<unit>)
 *                # HELP <family> <help>      (escapes \\ \" \n)
 *   samples:     <name>[{<label>="<escaped value>",...}] <finite number>
 * where <name> is the family's (text: the TYPE name as is; OpenMetrics:
 * <family>_total for a counter), or <family>_bucket, _sum or _count for a
 * histogram. A sample value of NaN or +-Inf fails: ingot never exports
 * one. (Label values are free text from the feeds, so the words "NaN" and
 * "Inf" may appear there.) No "# EOF": metrics_render leaves it to the
 * caller. Fails through fuzz_fail. */
void fuzz_check_exposition(enum expo_format format, const char *text, size_t len);

#endif
