/*
 * utf8: the one check of text that becomes a label value or a page's text:
 * UTF-8 as RFC 3629 defines it. Parsers and ingest use it so that no
 * source (JSON, CSV, a pushed or a pulled snapshot) can put an overlong
 * form, a surrogate or a code point above U+10FFFF into an exposition.
 */
#ifndef INGOT_UTF8_H
#define INGOT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes at s are UTF-8 as RFC 3629 defines it: no
 * overlong forms, no surrogates, nothing above U+10FFFF, nothing cut short.
 * (yajl checks only the shape of sequences.) */
bool utf8_valid(const unsigned char *s, size_t len);

#endif
