/*
 * qstr.h — the strict rules for values of the query string (API.md, "Strict input"):
 * RFC 3629 UTF-8, and numbers written in decimal only. strtol and strtod take far more
 * ("+5", " 5", "0x10", "inf", "nan", "1e400"), which a parameter must not.
 */
#ifndef MK_QSTR_H
#define MK_QSTR_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is UTF-8 as RFC 3629 defines it: no overlong forms, no encoded
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence. */
bool qstr_utf8_valid(const char *s, size_t len);

/* An integer in [lo, hi] written as -?[0-9]+ (no sign '+', white space, hex or exponent).
 * True with *out set, false otherwise (*out untouched). */
bool qstr_int(const char *s, long long lo, long long hi, long long *out);

/* A number in [lo, hi] written as -?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)? (the decimal
 * forms of JSON, leading zeros allowed; no '+', white space, hex, inf or nan). True with
 * *out set, false otherwise. */
bool qstr_decimal(const char *s, double lo, double hi, double *out);

#endif
