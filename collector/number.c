/*
 * number: the strict decimal grammar, checked by hand, then strtod for a
 * correctly rounded value. The decimal-comma form is rewritten into the
 * plain one (groups joined, the comma a point) and read by the same code.
 */
#include "number.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Index just past an optional sign at s[i]. */
static size_t skip_sign(const char *s, size_t len, size_t i)
{
    return i < len && (s[i] == '+' || s[i] == '-') ? i + 1 : i;
}

/* Index just past the run of digits at s[i]; equal to i when there is none. */
static size_t skip_digits(const char *s, size_t len, size_t i)
{
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

int number_parse_short(const char *s, size_t len, double *out)
{
#if FLT_EVAL_METHOD == 0
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    size_t i = skip_sign(s, len, 0);
    bool negative = i > 0 && s[0] == '-';
    uint64_t digits = 0;
    int n_digits = 0, fraction = 0;
    bool point = false;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (++n_digits > 15)
                return -1;
            digits = digits * 10 + (uint64_t)(s[i] - '0');
            fraction += point;
        } else if (s[i] == '.' && !point && n_digits > 0 && i + 1 < len) {
            point = true;
        } else {
            return -1;
        }
    }
    if (n_digits == 0)
        return -1;
    double v = (double)digits / pow10[fraction];
    *out = negative ? -v : v;
    return 0;
#else
    (void)s;
    (void)len;
    (void)out;
    return -1;
#endif
}

int number_parse(const char *s, size_t len, double *out)
{
    if (len > NUMBER_MAX_LEN)
        return -1;
    size_t i = skip_sign(s, len, 0);
    size_t end = skip_digits(s, len, i);
    if (end == i)
        return -1;
    i = end;
    if (i < len && s[i] == '.') {
        end = skip_digits(s, len, ++i);
        if (end == i)
            return -1;
        i = end;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i = skip_sign(s, len, i + 1);
        end = skip_digits(s, len, i);
        if (end == i)
            return -1;
        i = end;
    }
    if (i != len)
        return -1;

    if (number_parse_short(s, len, out) == 0)
        return 0;
    /* The grammar is checked, so strtod reads all of the copy. */
    char text[NUMBER_MAX_LEN + 1];
    memcpy(text, s, len);
    text[len] = '\0';
    double value = strtod(text, NULL);
    if (isinf(value))
        return -1;
    *out = value;
    return 0;
}

int number_parse_decimal_comma(const char *s, size_t len, double *out)
{
    if (len > NUMBER_MAX_LEN)
        return -1;
    char text[NUMBER_MAX_LEN];
    size_t k = 0;
    size_t i = skip_sign(s, len, 0);
    memcpy(text, s, i);
    k = i;
    size_t end = skip_digits(s, len, i);
    if (end < len && s[end] == '.' && (end == i || end - i > 3))
        return -1; /* a group separator after no digits, or after more than three */
    memcpy(text + k, s + i, end - i);
    k += end - i;
    i = end;
    while (i < len && s[i] == '.') {
        end = skip_digits(s, len, i + 1);
        if (end - (i + 1) != 3)
            return -1;
        memcpy(text + k, s + i + 1, 3);
        k += 3;
        i = end;
    }
    if (i < len && s[i] == ',') {
        text[k++] = '.';
        i++;
    }
    /* The fraction's digits and the exponent, checked by number_parse. */
    for (; i < len; i++) {
        if (s[i] == '.' || s[i] == ',')
            return -1;
        text[k++] = s[i];
    }
    return number_parse(text, k, out);
}
