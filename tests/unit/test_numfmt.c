/* numfmt_g15 writes a double as json-c does under the worker's "%.15g" (worker.c), or
 * declines (0) and lets json-c write it: every answer it gives must be json-c's, byte for
 * byte, and the values the read model holds (coordinates, distances, ratings) must take it. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/numfmt.h"

static void
setup(void)
{
    json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);   /* as worker.c */
}

TestSuite(numfmt, .init = setup);

static const char *
json_c_text(double d)
{
    static json_object *o;
    if (o == NULL) {
        o = json_object_new_double(d);
    }
    json_object_set_double(o, d);
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Whether numfmt_g15 wrote d; asserts that what it wrote is json-c's text. */
static bool
same(double d)
{
    char buf[NUMFMT_MAX + 1];
    size_t n = numfmt_g15(buf, d);
    cr_assert_leq(n, NUMFMT_MAX);
    if (n == 0) {
        return false;
    }
    buf[n] = '\0';
    cr_assert_str_eq(buf, json_c_text(d), "%.17g", d);
    return true;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

Test(numfmt, the_values_of_the_read_model_take_the_fast_path)
{
    static const double taken[] = {
        0.0,   -0.0,  52.52,  -0.16459, 51.52469, 13.404954, 0.5,   2.5,  100,  4.35, 0.1,   0.2, 0.3,
        1e-4,  -1e-4, 0.05,   0.15,     12.345,   999999999999999.0, 123456789012345.0, 12345678901234.5,
        0.000123456789012345, 1e14,     4.5,      -179.99999, 89.99999,
    };
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        cr_expect(same(taken[i]), "%.17g should take the fast path", taken[i]);
    }
}

Test(numfmt, json_c_writes_what_needs_sixteen_digits_or_an_exponent)
{
    static const double declined[] = {
        1.0 / 3, 2.0 / 3, 0.1 + 0.2, 9.99999999999999e-5, 1e-5, 1e15, 999999999999999.9, 99999999999999.95,
        5e-324, DBL_MIN, DBL_MAX, 1e300, -1e-300, NAN, INFINITY, -INFINITY,
    };
    for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++) {
        cr_expect_not(same(declined[i]), "%.17g should be left to json-c", declined[i]);
    }
}

/* Random decimals of 1 to 15 digits at every scale, their neighbours one ulp away (which
 * need 16-17 digits: %.15g rounds them, and the fast path must decline or agree), and
 * random bit patterns. */
Test(numfmt, random_decimals_their_neighbours_and_bit_patterns_agree_with_json_c)
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20};
    long in_range = 0;
    for (int i = 0; i < 200000; i++) {
        int digits = 1 + (int)(next() % 15), k = (int)(next() % 21);
        double d = (double)(next() % (uint64_t)p10[digits]) / p10[k];
        if (next() & 1) {
            d = -d;
        }
        /* A decimal of at most 15 digits in %.15g's fixed range always takes the fast path
         * (its scaled value is within 0.22 of the integer); the rest may or may not. */
        bool fast = same(d);
        if (fabs(d) >= 1e-4 && fabs(d) < 1e15) {
            in_range++;
            cr_assert(fast, "%.17g (%d digits / 1e%d) should take the fast path", d, digits, k);
        }
        same(nextafter(d, INFINITY));
        same(nextafter(d, -INFINITY));
        uint64_t bits = next();
        double r;
        memcpy(&r, &bits, sizeof(r));
        same(r);
    }
    cr_expect_gt(in_range, 100000, "only %ld decimals in the fixed range", in_range);
}

/* Ties at the 15th digit and values that round up into another power of ten. */
Test(numfmt, rounding_at_the_fifteenth_digit_agrees_with_json_c)
{
    for (int e = -4; e <= 14; e++) {
        double p = pow(10, e);
        for (int j = -3; j <= 3; j++) {
            double d = p;
            for (int s = 0; s < abs(j); s++) {
                d = nextafter(d, j < 0 ? 0 : INFINITY);
            }
            same(d);
            same(-d);
            same(p * 0.999999999999999);
            same(p * 9.999999999999995);
            same(p * 1.000000000000005);
        }
    }
}

/* The text numfmt_double writes for d, as a C string. */
static const char *
shortest(double d)
{
    static char buf[NUMFMT_MAX + 1];
    buf[numfmt_double(buf, d)] = '\0';
    return buf;
}

/* What a client sends comes back as the same double, in as few digits as that takes: %.15g
 * alone made 89.99999999999999 a 90 (the pole) and 0.30000000000000004 a 0.3. */
Test(numfmt, the_shortest_text_reads_back_as_the_same_double)
{
    cr_assert_str_eq(shortest(52.52), "52.52");
    cr_assert_str_eq(shortest(89.99999999999999), "89.99999999999999");
    cr_assert_str_eq(shortest(0.1 + 0.2), "0.30000000000000004");
    cr_assert_eq(strtod(shortest(13.123456789012345), NULL), 13.123456789012345, "17 digits: %s", shortest(13.123456789012345));
    cr_assert_str_eq(shortest(1e19), "1e+19");
    cr_assert_str_eq(shortest(-0.0), "-0.0");
    cr_assert_str_eq(shortest(4.0), "4.0");
    cr_assert_str_eq(shortest(DBL_MAX), "1.7976931348623157e+308");
    cr_assert_str_eq(shortest(5e-324), "4.94065645841247e-324"); /* 15 digits read back */
    /* numfmt_json writes the same, and json-c's reader gets d back */
    srand(11);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
        double d;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d)) {
            continue;
        }
        const char *s = shortest(d);
        cr_assert(strtod(s, NULL) == d && signbit(strtod(s, NULL)) == signbit(d), "%a: %s", d, s);
        json_object *o = numfmt_json(d);
        cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), s);
        json_object *back = json_tokener_parse(s);
        cr_assert(back != NULL && json_object_get_double(back) == d, "%s", s);
        json_object_put(back);
        json_object_put(o);
        /* where %.15g already reads back, that is the text (json-c's, as before) */
        char g15[40];
        snprintf(g15, sizeof(g15), "%.15g", d);
        if (strtod(g15, NULL) == d) {
            cr_assert_str_eq(s, json_c_text(d), "%a", d);
        }
    }
}
