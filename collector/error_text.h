/*
 * error_text: the one way a module reports a failure to its caller, as the
 * style asks: a line in the caller's buffer and -1 to return.
 */
#ifndef INGOT_ERROR_TEXT_H
#define INGOT_ERROR_TEXT_H

#include <stddef.h>

/* Formats one line into err (err_size bytes; 0 is fine: nothing written)
 * and returns -1, so a function can end with `return error_text(...)`. */
int error_text(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
