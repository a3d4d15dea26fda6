#include "core/json_strict.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

/* The most digits after the decimal point PostgreSQL's numeric keeps (NUMERIC_DSCALE_MAX): a
 * number with more, or with a larger exponent, is out of range (number()). */
#define NUMBER_SCALE_MAX 16383L

/* A member name, unescaped, in the parser's key buffer. */
struct key {
    const char *p;
    size_t n;
};

/* One step of the path to the current value: a member name or an array index. */
struct seg {
    struct key key;
    long index; /* -1 for a member */
};

struct parser {
    const char *s;
    size_t n, i;
    const char *const *nullable;
    struct json_strict_error *err;
    int nesting;
    struct seg segs[JSON_STRICT_MAX_DEPTH + 1];
    int nsegs;
    char *buf; /* unescaped member names; never more bytes than the input */
    size_t buf_used;
    struct key *keys; /* member names of the objects being parsed, innermost last */
    size_t nkeys, keys_cap;
};

static int
fail(struct parser *p, const char *fmt, ...)
{
    if (p->err->message[0] == '\0') {
        char what[120];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        p->err->offset = p->i;
        snprintf(p->err->message, sizeof(p->err->message), "malformed JSON: %s at byte %zu", what, p->i);
    }
    return -1;
}

/* The path of the current value: a.b[2].c; U+0000 in a name is shown as \u0000. */
static char *
path_of(const struct parser *p)
{
    size_t cap = 1;
    for (int k = 0; k < p->nsegs; k++) {
        cap += p->segs[k].index >= 0 ? 24 : p->segs[k].key.n * 6 + 1;
    }
    char *out = malloc(cap), *o = out;
    if (out == NULL) {
        return NULL;
    }
    for (int k = 0; k < p->nsegs; k++) {
        const struct seg *g = &p->segs[k];
        if (g->index >= 0) {
            o += sprintf(o, "[%ld]", g->index);
            continue;
        }
        if (k > 0) {
            *o++ = '.';
        }
        for (size_t j = 0; j < g->key.n; j++) {
            if (g->key.p[j] == '\0') {
                memcpy(o, "\\u0000", 6);
                o += 6;
            } else {
                *o++ = g->key.p[j];
            }
        }
    }
    *o = '\0';
    return out;
}

static void
problem(struct parser *p, const char *phrase)
{
    struct json_strict_error *e = p->err;
    if (e->nproblems < JSON_STRICT_MAX_PROBLEMS) {
        char *path = path_of(p);
        if (path != NULL) {
            e->problems[e->nproblems].path = path;
            e->problems[e->nproblems].problem = phrase;
            e->nproblems++;
        }
    }
}

static void
skip_ws(struct parser *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available), 0 when ill-formed.
 * RFC 3629 section 4: the second byte's range depends on the first. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) {
            lo = 0xA0; /* overlong below U+0800 */
        } else if (c == 0xED) {
            hi = 0x9F; /* U+D800..U+DFFF, the surrogates */
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) {
            lo = 0x90; /* overlong below U+10000 */
        } else if (c == 0xF4) {
            hi = 0x8F; /* above U+10FFFF */
        }
    } else {
        return 0; /* C0, C1 (overlong), F5..FF, or a continuation byte */
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t k = 2; k < len; k++) {
        if (s[k] < 0x80 || s[k] > 0xBF) {
            return 0;
        }
    }
    return len;
}

int
json_strict_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(u + i, n - i);
        if (len == 0) {
            return 0;
        }
        i += len;
    }
    return 1;
}

static int
hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

static size_t
utf8_encode(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * A string at p->i (on the opening quote). When key is not NULL, the unescaped text is
 * appended to p->buf and described by *key. *nul tells whether it holds U+0000.
 */
static int
string(struct parser *p, struct key *key, bool *nul)
{
    const unsigned char *u = (const unsigned char *)p->s;
    char *o = key != NULL ? p->buf + p->buf_used : NULL;
    size_t olen = 0;
    *nul = false;
    p->i++; /* the quote */
    for (;;) {
        if (p->i >= p->n) {
            return fail(p, "unterminated string");
        }
        unsigned char c = u[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) {
            return fail(p, "raw control character 0x%02X in a string (escape it)", c);
        }
        if (c == '\\') {
            if (p->i + 1 >= p->n) {
                return fail(p, "unterminated escape");
            }
            char e = p->s[p->i + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e != '\0' && simple != NULL) {
                if (o != NULL) {
                    static const char decoded[] = "\"\\/\b\f\n\r\t";
                    o[olen++] = decoded[simple - "\"\\/bfnrt"];
                }
                p->i += 2;
                continue;
            }
            unsigned cp, lo;
            if (e != 'u' || p->i + 6 > p->n || hex4(p->s + p->i + 2, &cp) != 0) {
                return fail(p, "bad escape in a string");
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(p, "lone low surrogate escape \\u%04X", cp);
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->i + 12 > p->n || p->s[p->i + 6] != '\\' || p->s[p->i + 7] != 'u' ||
                    hex4(p->s + p->i + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
                    return fail(p, "lone high surrogate escape \\u%04X", cp);
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p->i += 6;
            }
            *nul = *nul || cp == 0;
            if (o != NULL) {
                olen += utf8_encode(cp, o + olen);
            }
            p->i += 6;
            continue;
        }
        size_t len = utf8_seq(u + p->i, p->n - p->i);
        if (len == 0) {
            return fail(p, "invalid UTF-8 in a string");
        }
        if (o != NULL) {
            memcpy(o + olen, p->s + p->i, len);
            olen += len;
        }
        p->i += len;
    }
    if (key != NULL) {
        key->p = o;
        key->n = olen;
        p->buf_used += olen;
    }
    return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number(struct parser *p)
{
    size_t start = p->i;
    bool integer = true;
    if (p->s[p->i] == '-') {
        p->i++;
    }
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') {
        return fail(p, "a number needs digits");
    }
    if (p->s[p->i] == '0') {
        p->i++;
        if (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            return fail(p, "a number must not start with 0");
        }
    } else {
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            p->i++;
        }
    }
    size_t int_end = p->i;
    size_t frac_digits = 0;
    if (p->i < p->n && p->s[p->i] == '.') {
        integer = false;
        p->i++;
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') {
            return fail(p, "a digit must follow the decimal point");
        }
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            p->i++;
            frac_digits++;
        }
    }
    long exponent = 0; /* stops growing once past NUMBER_SCALE_MAX: only the bound matters */
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        integer = false;
        p->i++;
        bool negative_exp = false;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) {
            negative_exp = p->s[p->i] == '-';
            p->i++;
        }
        if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') {
            return fail(p, "a digit must follow the exponent");
        }
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
            if (exponent <= NUMBER_SCALE_MAX) {
                exponent = exponent * 10 + (p->s[p->i] - '0');
            }
            p->i++;
        }
        if (negative_exp) {
            exponent = -exponent;
        }
    }
    if (integer) {
        /* json-c clamps integers outside int64 silently: refuse them instead. */
        bool negative = p->s[start] == '-';
        const char *digits = p->s + start + negative;
        size_t nd = int_end - start - negative;
        const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
        if (nd > 19 || (nd == 19 && memcmp(digits, limit, 19) > 0)) {
            problem(p, "is a number out of range");
        }
    } else {
        char small[64];
        size_t len = p->i - start;
        char *text = len < sizeof(small) ? small : malloc(len + 1);
        if (text == NULL) {
            return fail(p, "out of memory");
        }
        memcpy(text, p->s + start, len);
        text[len] = '\0';
        /* A double must hold it (strtod's ERANGE: beyond ±1.8e308, or so near zero that it
         * would become 0 or lose its precision), and so must PostgreSQL's numeric, where a
         * listing's attributes are kept as jsonb: at most NUMBER_SCALE_MAX digits after the
         * point, counting what a negative exponent shifts there ("1.0e-16383" is 16,384). */
        errno = 0;
        (void)strtod(text, NULL);
        long scale = (long)frac_digits - exponent;
        if (errno == ERANGE || scale > NUMBER_SCALE_MAX || exponent > NUMBER_SCALE_MAX) {
            problem(p, "is a number out of range");
        }
        if (text != small) {
            free(text);
        }
    }
    return 0;
}

static bool
literal(struct parser *p, const char *word)
{
    size_t len = strlen(word);
    if (p->n - p->i >= len && memcmp(p->s + p->i, word, len) == 0) {
        p->i += len;
        return true;
    }
    return false;
}

static bool
null_allowed(const struct parser *p)
{
    if (p->nullable == NULL) {
        return false;
    }
    char *path = path_of(p);
    bool ok = false;
    for (const char *const *a = p->nullable; path != NULL && *a != NULL && !ok; a++) {
        ok = strcmp(*a, path) == 0;
    }
    free(path);
    return ok;
}

static int
compare_keys(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c != 0 ? c : (x->n > y->n) - (x->n < y->n);
}

/* Refuse a name given twice among the members keys[from..]. */
static int
check_duplicates(struct parser *p, size_t from)
{
    size_t count = p->nkeys - from;
    if (count < 2) {
        return 0;
    }
    struct key *sorted = malloc(count * sizeof(*sorted));
    if (sorted == NULL) {
        return fail(p, "out of memory");
    }
    memcpy(sorted, p->keys + from, count * sizeof(*sorted));
    qsort(sorted, count, sizeof(*sorted), compare_keys);
    int rc = 0;
    for (size_t k = 1; k < count && rc == 0; k++) {
        if (compare_keys(&sorted[k - 1], &sorted[k]) == 0) {
            char shown[48];
            size_t m = 0;
            for (size_t j = 0; j < sorted[k].n && m < sizeof(shown) - 4; j++) {
                unsigned char c = (unsigned char)sorted[k].p[j];
                shown[m++] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? (char)c : '?';
            }
            shown[m] = '\0';
            rc = fail(p, "the member name \"%s\" appears twice", shown);
        }
    }
    free(sorted);
    return rc;
}

static int value(struct parser *p);

/* After a member or an element: ',' (1: another follows), the closing bracket close (0: the
 * end), or a failure saying expected (negative). */
static int
next_or_close(struct parser *p, char close, const char *expected)
{
    skip_ws(p);
    if (p->i < p->n && (p->s[p->i] == ',' || p->s[p->i] == close)) {
        return p->s[p->i++] == ',' ? 1 : 0;
    }
    return fail(p, "%s", expected);
}

static int
object(struct parser *p)
{
    size_t from = p->nkeys;
    p->i++; /* { */
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != '"') {
            return fail(p, "a member name (a string) is expected");
        }
        struct key k;
        bool nul;
        if (string(p, &k, &nul) != 0) {
            return -1;
        }
        if (p->nkeys == p->keys_cap) {
            size_t cap = p->keys_cap == 0 ? 16 : p->keys_cap * 2;
            struct key *keys = realloc(p->keys, cap * sizeof(*keys));
            if (keys == NULL) {
                return fail(p, "out of memory");
            }
            p->keys = keys;
            p->keys_cap = cap;
        }
        p->keys[p->nkeys++] = k;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            return fail(p, "':' is expected after a member name");
        }
        p->i++;
        p->segs[p->nsegs++] = (struct seg){.key = k, .index = -1};
        if (nul) {
            problem(p, "has a member name that contains U+0000");
        }
        int rc = value(p);
        p->nsegs--;
        if (rc == 0) {
            rc = next_or_close(p, '}', "',' or '}' is expected in an object");
        }
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            break;
        }
    }
    int rc = check_duplicates(p, from);
    p->nkeys = from;
    return rc;
}

static int
array(struct parser *p)
{
    p->i++; /* [ */
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') {
        p->i++;
        return 0;
    }
    for (long index = 0;; index++) {
        p->segs[p->nsegs++] = (struct seg){.index = index};
        int rc = value(p);
        p->nsegs--;
        if (rc == 0) {
            rc = next_or_close(p, ']', "',' or ']' is expected in an array");
        }
        if (rc <= 0) {
            return rc;
        }
    }
}

static int
value(struct parser *p)
{
    skip_ws(p);
    if (p->i >= p->n) {
        return fail(p, "unexpected end of input");
    }
    char c = p->s[p->i];
    if (c == '{' || c == '[') {
        if (p->nesting >= JSON_STRICT_MAX_DEPTH) {
            return fail(p, "nested deeper than %d levels", JSON_STRICT_MAX_DEPTH);
        }
        p->nesting++;
        int rc = c == '{' ? object(p) : array(p);
        p->nesting--;
        return rc;
    }
    if (c == '"') {
        bool nul;
        if (string(p, NULL, &nul) != 0) {
            return -1;
        }
        if (nul) {
            problem(p, "must not contain U+0000");
        }
        return 0;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        return number(p);
    }
    if (literal(p, "true") || literal(p, "false")) {
        return 0;
    }
    if (literal(p, "null")) {
        if (p->nsegs > 0 && !null_allowed(p)) {
            problem(p, "must not be null");
        }
        return 0;
    }
    return fail(p, "unexpected character");
}

void
json_strict_error_free(struct json_strict_error *err)
{
    for (size_t k = 0; k < err->nproblems; k++) {
        free(err->problems[k].path);
    }
    err->nproblems = 0;
}

int
json_strict_parse(const char *s, size_t n, const char *const *nullable, json_object **out,
                  struct json_strict_error *err)
{
    memset(err, 0, sizeof(*err));
    *out = NULL;
    if (n > INT_MAX) {
        snprintf(err->message, sizeof(err->message), "malformed JSON: too long");
        return MK_EMALFORMED;
    }
    struct parser p = {.s = s, .n = n, .nullable = nullable, .err = err};
    p.buf = malloc(n + 1);
    if (p.buf == NULL) {
        snprintf(err->message, sizeof(err->message), "malformed JSON: out of memory");
        return MK_EMALFORMED;
    }
    int rc = value(&p);
    if (rc == 0) {
        skip_ws(&p);
        if (p.i < p.n) {
            rc = fail(&p, "data after the document");
        }
    }
    free(p.buf);
    free(p.keys);
    if (rc != 0) {
        json_strict_error_free(err);
        return MK_EMALFORMED;
    }
    if (err->nproblems > 0) {
        return MK_EVALIDATION;
    }
    /* The grammar holds: json-c builds the tree (a depth above ours, so ours decides). */
    json_tokener *tok = json_tokener_new_ex(JSON_STRICT_MAX_DEPTH + 2);
    if (tok == NULL) {
        snprintf(err->message, sizeof(err->message), "malformed JSON: out of memory");
        return MK_EMALFORMED;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *obj = json_tokener_parse_ex(tok, s, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (obj == NULL && jerr == json_tokener_continue) {
        /* A bare number at the top level: the terminating NUL tells json-c it ended. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        snprintf(err->message, sizeof(err->message), "malformed JSON: %s",
                 jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
        return MK_EMALFORMED;
    }
    *out = obj;
    return MK_OK;
}
