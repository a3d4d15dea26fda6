/*
 * numfmt.h — a double as JSON text, the bytes json-c writes under the worker's number
 * format ("%.15g", set in worker.c; json-c adds ".0" to a result without a point or an
 * exponent), without snprintf for the common case.
 */
#ifndef MK_NUMFMT_H
#define MK_NUMFMT_H

#include <stddef.h>

enum { NUMFMT_MAX = 32 };   /* buf's size for numfmt_g15 and numfmt_double */

/*
 * Write d into buf (NUMFMT_MAX bytes, no NUL) as json-c with "%.15g" writes it and return
 * the length, or 0 when the fast path does not apply (the caller then asks json-c): d is
 * written only when some decimal S = N / 10^k (N < 10^15, k <= 22) rounds to d exactly —
 * then %.15g of d is S (d lies within half an ulp of S, under a quarter of a unit in the
 * 15th digit) — and S is in [1e-4, 1e15) (%.15g's fixed notation), or d is zero.
 */
size_t numfmt_g15(char *buf, double d);

/*
 * Write finite d into buf (NUMFMT_MAX bytes, no NUL) as the shortest JSON number that reads
 * back as d: numfmt_g15's text where it applies, else the first of "%.15g", "%.16g" and
 * "%.17g" that strtod turns back into d (with json-c's ".0" for a whole number). "%.15g"
 * alone lost what a client sent: 89.99999999999999 came back as 90, 0.30000000000000004 as
 * 0.3. Returns the length.
 */
size_t numfmt_double(char *buf, double d);

/* A new json-c double that writes itself as numfmt_double spells d (d finite). */
struct json_object *numfmt_json(double d);

#endif
