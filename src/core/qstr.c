#include "core/qstr.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool
qstr_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;   /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) {
                lo = 0xA0;                    /* overlong below U+0800 */
            } else if (c == 0xED) {
                hi = 0x9F;                    /* surrogates U+D800..U+DFFF */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) {
                lo = 0x90;                    /* overlong below U+10000 */
            } else if (c == 0xF4) {
                hi = 0x8F;                    /* above U+10FFFF */
            }
        } else {
            return false;                     /* 80..C1 (continuation, overlong), F5..FF */
        }
        if (len - i <= n || p[i + 1] < lo || p[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n + 1;
    }
    return true;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of -?D+(.D+)?([eE][+-]?D+)? at s (fraction and exponent only when decimal), or 0. */
static size_t
number_len(const char *s, bool decimal)
{
    size_t i = 0;
    if (s[i] == '-') {
        i++;
    }
    size_t d = i;
    while (is_digit(s[i])) {
        i++;
    }
    if (i == d) {
        return 0;
    }
    if (!decimal) {
        return i;
    }
    if (s[i] == '.') {
        size_t f = ++i;
        while (is_digit(s[i])) {
            i++;
        }
        if (i == f) {
            return 0;
        }
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-') {
            i++;
        }
        size_t e = i;
        while (is_digit(s[i])) {
            i++;
        }
        if (i == e) {
            return 0;
        }
    }
    return i;
}

bool
qstr_int(const char *s, long long lo, long long hi, long long *out)
{
    size_t n = s != NULL ? number_len(s, false) : 0;
    if (n == 0 || s[n] != '\0') {
        return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

bool
qstr_decimal(const char *s, double lo, double hi, double *out)
{
    size_t n = s != NULL ? number_len(s, true) : 0;
    if (n == 0 || s[n] != '\0') {
        return false;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE && v != 0) {
        return false;                         /* overflow; an underflow to 0 is just 0 */
    }
    if (*end != '\0' || !isfinite(v) || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}
