/*
 * error_text: formatting a failure into the caller's buffer.
 */
#include "error_text.h"

#include <stdarg.h>
#include <stdio.h>

int error_text(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return -1;
}
