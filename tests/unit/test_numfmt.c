/* numfmt_g15 writes a double as json-c does under the worker's "%.15g" (worker.c), or
 * declines (0) and lets json-c write it: every answer it gives must be json-c's, byte for
 * byte, and the values the read model holds (coordinates, distances, ratings) must take it. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
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
