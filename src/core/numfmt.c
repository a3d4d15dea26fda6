#include "core/numfmt.h"

#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Powers of ten that are exact doubles. */
static const double P10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The decimal N / 10^k (N < 10^15) in fixed notation with json-c's ".0" for a whole number. */
static size_t
fixed(char *buf, bool neg, uint64_t n, int k)
{
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    /* digits[] is least significant first; drop the fraction's trailing zeros. */
    int lo = 0;
    while (k > 0 && lo < nd - 1 && digits[lo] == '0') {
        lo++;
        k--;
    }
    size_t len = 0;
    if (neg) {
        buf[len++] = '-';
    }
    if (k == 0) {
        for (int i = nd - 1; i >= lo; i--) {
            buf[len++] = digits[i];
        }
        buf[len++] = '.';
        buf[len++] = '0';
        return len;
    }
    int sig = nd - lo;   /* the digits written, the last k of them after the point */
    if (sig <= k) {
        buf[len++] = '0';
        buf[len++] = '.';
        for (int i = 0; i < k - sig; i++) {
            buf[len++] = '0';
        }
        for (int i = nd - 1; i >= lo; i--) {
            buf[len++] = digits[i];
        }
        return len;
    }
    for (int i = nd - 1; i >= lo; i--) {
        if (i - lo + 1 == k) {
            buf[len++] = '.';
        }
        buf[len++] = digits[i];
    }
    return len;
}

size_t
numfmt_g15(char *buf, double d)
{
    if (d == 0) {
        /* "%.15g" gives "0" or "-0", json-c adds ".0". */
        return signbit(d) ? (memcpy(buf, "-0.0", 4), 4) : (memcpy(buf, "0.0", 3), 3);
    }
    bool neg = d < 0;
    double a = neg ? -d : d;
    if (!(a >= 1e-4 && a < 1e15)) {
        return 0;   /* exponent notation, too large, NaN or infinite */
    }
    for (int k = 0; k <= 22; k++) {
        double scaled = a * P10[k];
        if (scaled >= 1e15) {
            break;
        }
        double r = nearbyint(scaled);
        /* r < 1e15 < 2^53 and 10^k are exact, so r / 10^k is the double nearest to the
         * decimal r / 10^k (IEEE division rounds correctly): S rounds to a exactly. */
        if (r / P10[k] == a) {
            return fixed(buf, neg, (uint64_t)r, k);
        }
    }
    return 0;
}

size_t
numfmt_double(char *buf, double d)
{
    size_t n = numfmt_g15(buf, d);
    if (n > 0) {
        return n;
    }
    char tmp[NUMFMT_MAX];
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d) {
            break;
        }
    }
    if (strchr(tmp, '.') == NULL && strchr(tmp, 'e') == NULL && len + 2 < (int)sizeof(tmp)) {
        memcpy(tmp + len, ".0", 2);
        len += 2;
    }
    memcpy(buf, tmp, (size_t)len);
    return (size_t)len;
}

struct json_object *
numfmt_json(double d)
{
    char buf[NUMFMT_MAX + 1];
    size_t n = numfmt_double(buf, d);
    buf[n] = '\0';
    return json_object_new_double_s(d, buf);
}
