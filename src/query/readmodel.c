#include "query/readmodel.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/numfmt.h"
#include "core/qstr.h"
#include "worker.h"

/* One lookup by _id: MK_OK with *out (arena-owned), MK_ENOTFOUND (*out NULL), or an error. */
static int
find_once(struct request *r, const char *collection, const char *id, const bson_t **out)
{
    bson_t *filter = mongo_own(r->arena, BCON_NEW("_id", BCON_UTF8(id)));
    return mongo_find_one(&r->worker->mongo, r->arena, collection, filter, NULL, out);
}

int
readmodel_fail(struct request *r, int rc)
{
    return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
}

int
readmodel_min_seq(struct request *r, long long *min_seq)
{
    const char *h = http_header(r, "X-Min-Seq");
    *min_seq = 0;
    if (h != NULL && !qstr_int(h, 0, LLONG_MAX, min_seq)) {
        return http_fail(r, MK_EBADPARAM, "X-Min-Seq must be a non-negative integer in decimal digits");
    }
    return MK_OK;
}

int
readmodel_get(struct request *r, const char *collection, const char *id, const bson_t **doc)
{
    struct worker *w = r->worker;
    long long min_seq;
    int rc0 = readmodel_min_seq(r, &min_seq);
    if (rc0 != MK_OK) {
        return rc0;
    }
    double deadline = clock_mono() + w->cfg->min_seq_wait_ms / 1000.0;
    long pause_us = 1000;
    const bson_t *found;
    for (;;) {
        int rc = find_once(r, collection, id, &found);
        if (rc != MK_OK && rc != MK_ENOTFOUND) {
            return readmodel_fail(r, rc);
        }
        if (min_seq == 0 || (found != NULL && readmodel_int(found, "seq") >= min_seq)) {
            break;
        }
        if (clock_mono() >= deadline) {
            http_set_header(r, "X-Read-Stale", "1");
            break;
        }
        struct timespec ts = {0, pause_us * 1000};
        nanosleep(&ts, NULL);
        pause_us = pause_us * 2 > 50000 ? 50000 : pause_us * 2;
    }
    if (readmodel_rebuilding(r)) {
        if (found == NULL) {
            r->retry_after = 2;
            return http_fail(r, MK_EUNAVAILABLE, "the read model is being rebuilt; retry shortly");
        }
        http_set_header(r, "X-Read-Stale", "1");
    }
    if (found == NULL) {
        return http_fail(r, MK_ENOTFOUND, NULL);
    }
    *doc = found;
    return MK_OK;
}

bool
readmodel_rebuilding(struct request *r)
{
    struct worker *w = r->worker;
    double now = clock_mono();
    if (now - w->rebuilding_at < 1.0) {
        return w->rebuilding;
    }
    w->rebuilding_at = now;
    const bson_t *doc;
    int rc = find_once(r, "projector_state", "checkpoint", &doc);
    if (rc == MK_OK) {
        bson_iter_t it;
        w->rebuilding = bson_iter_init_find(&it, doc, "rebuilding") && bson_iter_as_bool(&it);
    } else if (rc == MK_ENOTFOUND) {
        w->rebuilding = true;   /* no marker: an empty read model waiting for its rebuild */
    }                           /* an error: keep the last answer */
    return w->rebuilding;
}

/* Find field, which may be a dotted path ("rating.count"). */
static bool
find_field(const bson_t *doc, const char *field, bson_iter_t *out)
{
    bson_iter_t it;
    if (strchr(field, '.') == NULL) {
        return bson_iter_init_find(out, doc, field);
    }
    return bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, field, out);
}

const char *
readmodel_str(const bson_t *doc, const char *field)
{
    bson_iter_t it;
    if (find_field(doc, field, &it) && BSON_ITER_HOLDS_UTF8(&it)) {
        return bson_iter_utf8(&it, NULL);
    }
    return NULL;
}

long long
readmodel_int(const bson_t *doc, const char *field)
{
    bson_iter_t it;
    if (find_field(doc, field, &it) && BSON_ITER_HOLDS_NUMBER(&it)) {
        return (long long)bson_iter_as_int64(&it);
    }
    return 0;
}

bool
readmodel_double(const bson_t *doc, const char *field, double *out)
{
    bson_iter_t it;
    if (find_field(doc, field, &it) && BSON_ITER_HOLDS_NUMBER(&it)) {
        *out = bson_iter_as_double(&it);
        return true;
    }
    return false;
}

bool
readmodel_double_pair(const bson_t *doc, const char *parent, const char *a, double *out_a, const char *b, double *out_b)
{
    bson_iter_t root, it, child;
    if (!bson_iter_init(&root, doc) || !bson_iter_find_descendant(&root, parent, &it) ||
        !(BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)) || !bson_iter_recurse(&it, &child)) {
        return false;
    }
    bool seen_a = false, seen_b = false, got_a = false, got_b = false;   /* the first member of each name */
    while (!(seen_a && seen_b) && bson_iter_next(&child)) {
        const char *key = bson_iter_key(&child);
        if (!seen_a && strcmp(key, a) == 0) {
            seen_a = true;
            if ((got_a = BSON_ITER_HOLDS_NUMBER(&child))) {
                *out_a = bson_iter_as_double(&child);
            }
        } else if (!seen_b && strcmp(key, b) == 0) {
            seen_b = true;
            if ((got_b = BSON_ITER_HOLDS_NUMBER(&child))) {
                *out_b = bson_iter_as_double(&child);
            }
        }
    }
    return got_a && got_b;
}

/* Doubles parsed from libbson's text keep its 20-digit spelling; new ones print as the
 * shortest text that reads back as the same double (numfmt_json), so 52.52 reads back as 52.52. */
static void
respell_doubles(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val) {
            if (json_object_is_type(val, json_type_double)) {
                json_object_object_add(o, key, numfmt_json(json_object_get_double(val)));
            } else {
                respell_doubles(val);
            }
        }
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *val = json_object_array_get_idx(o, i);
            if (json_object_is_type(val, json_type_double)) {
                json_object_array_put_idx(o, i, numfmt_json(json_object_get_double(val)));
            } else {
                respell_doubles(val);
            }
        }
    }
}

json_object *
readmodel_to_json_text(const bson_t *doc)
{
    size_t len;
    char *text = bson_as_relaxed_extended_json(doc, &len);
    if (text == NULL) {
        return NULL;
    }
    json_object *o = json_tokener_parse(text);
    bson_free(text);
    respell_doubles(o);
    return o;
}

static bool direct_members(bson_iter_t *it, json_object *into, bool array);

/* Whether s[0..n) is ASCII: then it is UTF-8 (most of a listing's strings are; libbson's
 * validation decodes character by character). */
static bool
ascii(const char *s, size_t n)
{
    uint64_t any = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        any |= w;
    }
    for (; i < n; i++) {
        any |= (unsigned char)s[i];
    }
    return (any & UINT64_C(0x8080808080808080)) == 0;
}

/* A UTF-8 string value that JSON can carry (NULs allowed), or NULL. */
static const char *
plain_utf8(const bson_iter_t *it, uint32_t *n)
{
    const char *s = bson_iter_utf8(it, n);
    return *n <= INT_MAX && (ascii(s, *n) || bson_utf8_validate(s, *n, true)) ? s : NULL;
}

/* One BSON value as json-c makes it from relaxed extended JSON, or false for a value whose
 * relaxed form is not a plain JSON value (dates, ObjectIds, non-finite doubles, binary ...)
 * or a string that is not UTF-8 (libbson's text refuses it). */
static bool
direct_value(bson_iter_t *it, json_object **out)
{
    *out = NULL;
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8: {
        uint32_t n;
        const char *s = plain_utf8(it, &n);
        if (s == NULL) {
            return false;
        }
        *out = json_object_new_string_len(s, (int)n);
        return true;
    }
    case BSON_TYPE_INT32:
        *out = json_object_new_int64(bson_iter_int32(it));
        return true;
    case BSON_TYPE_INT64:
        *out = json_object_new_int64(bson_iter_int64(it));
        return true;
    case BSON_TYPE_DOUBLE: {
        double d = bson_iter_double(it);
        if (!isfinite(d)) {
            return false;
        }
        *out = numfmt_json(d);
        return true;
    }
    case BSON_TYPE_BOOL:
        *out = json_object_new_boolean(bson_iter_bool(it));
        return true;
    case BSON_TYPE_NULL:
        return true;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
        bool array = bson_iter_type(it) == BSON_TYPE_ARRAY;
        bson_iter_t child;
        if (!bson_iter_recurse(it, &child)) {
            return false;
        }
        *out = array ? json_object_new_array() : json_object_new_object();
        if (!direct_members(&child, *out, array)) {
            json_object_put(*out);
            *out = NULL;
            return false;
        }
        return true;
    }
    default:
        return false;
    }
}

static bool
direct_members(bson_iter_t *it, json_object *into, bool array)
{
    while (bson_iter_next(it)) {
        json_object *v;
        if (!direct_value(it, &v)) {
            return false;
        }
        if (array) {
            json_object_array_add(into, v);
        } else {
            json_object_object_add(into, bson_iter_key(it), v);
        }
    }
    return true;
}

/* The BSON walked straight into json-c objects: the same JSON as readmodel_to_json_text
 * (tests/unit/test_readmodel.c compares them), without writing libbson's text character by
 * character and parsing it back (most of a browse page's CPU in the query pool). A document
 * holding any other type goes through the text. */
json_object *
readmodel_to_json(const bson_t *doc)
{
    bson_iter_t it;
    if (bson_iter_init(&it, doc)) {
        json_object *o = json_object_new_object();
        if (direct_members(&it, o, false)) {
            return o;
        }
        json_object_put(o);
    }
    return readmodel_to_json_text(doc);
}

bool
readmodel_append_json_text(bson_t *b, const char *key, json_object *v)
{
    json_object *wrap = json_object_new_object();
    json_object_object_add(wrap, "v", json_object_get(v));
    bson_t *doc = bson_new_from_json((const uint8_t *)json_object_to_json_string_ext(wrap, JSON_C_TO_STRING_PLAIN), -1,
                                     NULL);
    json_object_put(wrap);
    if (doc == NULL) {
        return false;
    }
    bson_iter_t it;
    bool ok = bson_iter_init_find(&it, doc, "v") && bson_append_iter(b, key, -1, &it);
    bson_destroy(doc);
    return ok;
}

/* Whether libbson reads json-c's text of v as the plain value: no "$" key (extended JSON),
 * no NUL in a string or key, numbers within their type (json-c clamps beyond int64), or an
 * integer json-c keeps as uint64 beyond int64, which libbson cannot read and append_plain
 * keeps as a double. */
static bool
plain_json(json_object *v, int depth)
{
    if (depth > 64) {
        return false;
    }
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object_object_foreach(v, k, m) {
            if (k[0] == '$' || !plain_json(m, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (!plain_json(json_object_array_get_idx(v, i), depth + 1)) {
                return false;
            }
        }
        return true;
    case json_type_string:
        return strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
    case json_type_int:
        return json_object_get_int64(v) != INT64_MIN &&
               (json_object_get_int64(v) != INT64_MAX || json_object_get_uint64(v) > (uint64_t)INT64_MAX);
    case json_type_double:
        return isfinite(json_object_get_double(v));
    default:
        return true;
    }
}

static void
append_plain(bson_t *b, const char *key, json_object *v)
{
    bson_t child;
    switch (json_object_get_type(v)) {
    case json_type_null:
        bson_append_null(b, key, -1);
        break;
    case json_type_boolean:
        bson_append_bool(b, key, -1, json_object_get_boolean(v));
        break;
    case json_type_double:
        bson_append_double(b, key, -1, json_object_get_double(v));
        break;
    case json_type_int: {
        int64_t n = json_object_get_int64(v);
        if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
            /* A whole number beyond int64 (jsonb's numeric writes 1e19 as 10000000000000000000;
             * API.md no longer accepts one, events written before may hold one): a double, so
             * the event is applied rather than skipped. */
            bson_append_double(b, key, -1, (double)json_object_get_uint64(v));
        } else if (n >= INT32_MIN && n <= INT32_MAX) {
            bson_append_int32(b, key, -1, (int32_t)n);
        } else {
            bson_append_int64(b, key, -1, n);
        }
        break;
    }
    case json_type_string:
        bson_append_utf8(b, key, -1, json_object_get_string(v), json_object_get_string_len(v));
        break;
    case json_type_object: {
        bson_append_document_begin(b, key, -1, &child);
        json_object_object_foreach(v, k, m) {
            append_plain(&child, k, m);
        }
        bson_append_document_end(b, &child);
        break;
    }
    case json_type_array:
        bson_append_array_begin(b, key, -1, &child);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            char kb[16];
            const char *k;
            bson_uint32_to_string((uint32_t)i, &k, kb, sizeof(kb));
            append_plain(&child, k, json_object_array_get_idx(v, i));
        }
        bson_append_array_end(b, &child);
        break;
    }
}

/* The projector's documents are made of JSON payloads: printing each member and parsing it
 * back (a new parser per call) was most of the projector's CPU per listing event. */
bool
readmodel_append_json(bson_t *b, const char *key, json_object *v)
{
    if (!plain_json(v, 0)) {
        return readmodel_append_json_text(b, key, v);
    }
    append_plain(b, key, v);
    return true;
}

/* The members of a read-model listing that the API shows, in the API's order. */
static const char *const LISTING_FIELDS[] = {
    "id",       "seller_id",  "title",  "description", "category", "condition",  "price_minor", "currency",
    "location", "attributes", "images", "status",      "version",  "created_at", "updated_at",  "seller",
    "favorites", "views", NULL,
};

const char *const *
readmodel_listing_fields(void)
{
    return LISTING_FIELDS;
}

/* Where each shown member of a listing is (its first occurrence): one pass over the
 * document, a copy of the iterator on each member put in its field's slot (not one search
 * of the whole document per field, nor the element decoded again from its offset). */
enum { NFIELDS = sizeof(LISTING_FIELDS) / sizeof(LISTING_FIELDS[0]) - 1 };

struct shown_members {
    struct {
        bson_iter_t it;   /* on the member: a copy of the walk's iterator (the wrapper because */
    } at[NFIELDS];        /* libbson's type is over-aligned: no arrays of it) */
    bool have[NFIELDS];
};

/* The names by length, once per process: a key is compared only with the (at most three)
 * names of its length, first byte then bytes (bson_iter_key_len is a subtraction), instead of
 * strcmp with each of the 18 names in turn (find_shown was a tenth of a browse miss's
 * instructions in the query pool). */
enum { FIELD_MAX_LEN = 15, FIELDS_PER_LEN = 4 };
static uint32_t field_len[NFIELDS];
static uint8_t by_len[FIELD_MAX_LEN + 1][FIELDS_PER_LEN], by_len_n[FIELD_MAX_LEN + 1];
static char field_key[NFIELDS][FIELD_MAX_LEN + 5];   /* ,"name": as the text writes it */

static void
field_lens(void)
{
    if (field_len[0] != 0) {
        return;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        field_len[i] = (uint32_t)strlen(LISTING_FIELDS[i]);
        uint32_t l = field_len[i];
        snprintf(field_key[i], sizeof(field_key[i]), ",\"%s\":", LISTING_FIELDS[i]);
        if (l <= FIELD_MAX_LEN && by_len_n[l] < FIELDS_PER_LEN) {   /* else a build-time mistake: */
            by_len[l][by_len_n[l]++] = (uint8_t)i;                   /* test_readmodel finds it */
        }
    }
}

static void
find_shown(const bson_t *doc, struct shown_members *m)
{
    memset(m->have, 0, sizeof(m->have));
    field_lens();
    bson_iter_t it;
    if (!bson_iter_init(&it, doc)) {
        return;
    }
    while (bson_iter_next(&it)) {
        uint32_t len = bson_iter_key_len(&it);
        if (len > FIELD_MAX_LEN) {
            continue;
        }
        const char *key = bson_iter_key(&it);
        for (size_t j = 0; j < by_len_n[len]; j++) {
            size_t i = by_len[len][j];
            if (!m->have[i] && key[0] == LISTING_FIELDS[i][0] && memcmp(key, LISTING_FIELDS[i], len) == 0) {
                m->at[i].it = it;
                m->have[i] = true;
                break;
            }
        }
    }
}

/* Only those members go through the JSON text (the words arrays, the GeoJSON point, the
 * category path and the rest of a stored listing are most of its bytes: converting them
 * and throwing them away was most of a browse request's CPU in the query pool). */
json_object *
readmodel_listing_json(const bson_t *doc)
{
    struct shown_members m;
    find_shown(doc, &m);
    bson_t shown = BSON_INITIALIZER;
    for (size_t i = 0; i < NFIELDS; i++) {
        if (m.have[i]) {
            bson_append_iter(&shown, LISTING_FIELDS[i], -1, &m.at[i].it);
        }
    }
    json_object *out = readmodel_to_json(&shown);
    bson_destroy(&shown);
    return out != NULL ? out : json_object_new_object();
}

/* ---- a listing's JSON text written straight from its BSON ------------------------------
 * The text json-c writes (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, as
 * http.c) for what readmodel_listing_json makes of the document, without making it: a
 * browse page built every listing as json-c objects, serialized them and freed them (half
 * of the query pool's CPU per page). Strings are escaped as json-c does; doubles are written
 * by json-c itself (the worker's number format); a member readmodel_to_json would take
 * through the text (dates, ObjectIds, non-finite doubles, strings that are not UTF-8), or a
 * document with a repeated key (json-c keeps the last value in the first place), makes the
 * whole listing take the json-c path. tests/unit/test_readmodel.c compares both. */

#define TEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* The item's text: a buffer whose appends are a bounds check and a memcpy. json-c's
 * printbuf_memappend per piece (a call, a check, a copy for every quote and comma) and its
 * growth from 32 bytes by reallocation were a fifth of a browse miss's CPU in the query pool. */
enum { TEXT_ITEM_SIZE = 1024 };   /* a shown listing is 0.6-1 KB */

/* text_put when the buffer is too small: grown by doubling, then the copy. */
static void __attribute__((noinline))
text_put_grow(struct readmodel_text *t, const char *s, size_t n)
{
    size_t cap = t->cap > 0 ? t->cap : TEXT_ITEM_SIZE;
    while (cap - t->len < n) {
        cap *= 2;
    }
    char *p = t->failed ? NULL : realloc(t->p, cap);
    if (p == NULL) {
        t->failed = true;
        return;
    }
    t->p = p;
    t->cap = cap;
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

/* Inlined at every call: the quotes, colons, commas and brackets (most appends) become a
 * store of a constant instead of a call of memcpy (7 % of a browse miss in the query pool,
 * nearly all of it for one or two bytes). */
static inline __attribute__((always_inline)) void
text_put(struct readmodel_text *t, const char *s, size_t n)
{
    if (__builtin_expect(t->cap - t->len < n, 0)) {
        text_put_grow(t, s, n);
        return;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

static inline __attribute__((always_inline)) void
text_append(struct readmodel_text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

/* What a string's byte asks of text_string: 0 nothing, 1 an escape (control characters, '"'
 * and '\\', as json-c escapes them with JSON_C_TO_STRING_NOSLASHESCAPE), 2 a UTF-8 check
 * (a byte above ASCII). */
#define CLASS_ROW(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const unsigned char BYTE_CLASS[256] = {
    CLASS_ROW(1), CLASS_ROW(1),                                   /* 0x00-0x1F */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,               /* 0x20-0x2F: '"' */
    CLASS_ROW(0),                                                 /* 0x30-0x3F */
    CLASS_ROW(0),                                                 /* 0x40-0x4F */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,               /* 0x50-0x5F: '\\' */
    CLASS_ROW(0), CLASS_ROW(0),                                   /* 0x60-0x7F */
    CLASS_ROW(2), CLASS_ROW(2), CLASS_ROW(2), CLASS_ROW(2),       /* 0x80-0xFF */
    CLASS_ROW(2), CLASS_ROW(2), CLASS_ROW(2), CLASS_ROW(2),
};
#undef CLASS_ROW

/* Sixteen bytes as one vector (GCC's generic vectors: SSE2 on x86-64, NEON on arm64). */
typedef unsigned char bytes16 __attribute__((vector_size(16)));

/* Whether one of the 16 bytes at p asks for something: below 0x20, '"' or '\\', or (with
 * above_ascii 0x60) of 0x80 or above. c - 0x20 wraps below 0x20 to 0xE0-0xFF, and puts 0x80-0xFF
 * at 0x60-0xDF: at least 0x60 for either, at least 0xE0 only for a control character. */
static inline __attribute__((always_inline)) bool
asks16(const char *p, bytes16 limit)
{
    bytes16 v;
    memcpy(&v, p, 16);
    bytes16 hit = (bytes16)((bytes16)(v - 0x20) >= limit) | (bytes16)(v == '"') | (bytes16)(v == '\\');
    uint64_t w[2];
    memcpy(w, &hit, 16);
    return (w[0] | w[1]) != 0;
}

/* A string as json-c escapes it with JSON_C_TO_STRING_NOSLASHESCAPE: the runs between
 * escapes copied whole. Returns whether it holds a byte above ASCII (then only
 * bson_utf8_validate says whether it is UTF-8). One pass does both: the escapes' scan and
 * the ASCII test plain_utf8 made before it, eight bytes at a time, and a loop that went back
 * to the word test after every byte of a short string (keys, cities, codes) were a quarter
 * of a browse miss's instructions in the query pool. */
static bool
text_string(struct readmodel_text *t, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bytes16 limit = (bytes16){0} + 0x60;   /* until the first byte above ASCII, then 0xE0 */
    unsigned char asks = 3;                /* the classes that stop the byte loop: then 1 */
    size_t start = 0, i = 0;
    if (n < 16 && t->cap - t->len >= n + 2) {
        /* A short string (keys, codes, cities: most strings of a listing) copied while its
         * bytes' classes are gathered, kept when none is an escape. */
        char *d = t->p + t->len;
        unsigned char any = 0;
        d[0] = '"';
        for (size_t j = 0; j < n; j++) {
            unsigned char c = (unsigned char)s[j];
            d[j + 1] = (char)c;
            any |= BYTE_CLASS[c];
        }
        if ((any & 1) == 0) {
            d[n + 1] = '"';
            t->len += n + 2;
            return any != 0;
        }
    }
    text_put(t, "\"", 1);
    for (;;) {
        /* Sixteen bytes at a time while none asks for anything (the usual case: a
         * description's run between escapes is hundreds of bytes); the last sixteen at once
         * (some checked before) when they are clean. */
        while (i + 16 <= n && !asks16(s + i, limit)) {
            i += 16;
        }
        if (i + 16 > n && (i == n || (n >= 16 && !asks16(s + n - 16, limit)))) {
            break;
        }
        /* Then byte by byte (i < n here) to the one that asks, or to the end. */
        unsigned char c, k;
        while ((k = BYTE_CLASS[c = (unsigned char)s[i]] & asks) == 0 && ++i < n) {
        }
        if (i == n) {
            break;
        }
        i++;
        if (k == 2) {   /* the first byte above ASCII: from now on only escapes are looked for */
            limit = (bytes16){0} + 0xE0;
            asks = 1;
            continue;
        }
        char esc[7] = {'\\', 0};
        size_t len = 2;
        switch (c) {
        case '\b': esc[1] = 'b'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\f': esc[1] = 'f'; break;
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            len = 6;
        }
        text_put(t, s + start, i - 1 - start);
        text_put(t, esc, len);
        start = i;
    }
    text_put(t, s + start, n - start);
    text_put(t, "\"", 1);
    return asks == 1;
}

/* A double as numfmt_double spells it: numfmt_g15's fast path for the values a listing holds
 * (glibc's snprintf of a double was a tenth of a browse miss's CPU in the query pool), the
 * shortest text that reads back as d otherwise. */
static void
text_double(struct readmodel_text *t, double d)
{
    char buf[NUMFMT_MAX];
    text_put(t, buf, numfmt_double(buf, d));
}

static bool text_members(struct readmodel_text *t, bson_iter_t *it, bool array);

/* One value, as readmodel_to_json's object of it serializes; false where that is not plain
 * (a string that is not UTF-8 is found once written: the caller drops the listing's text).
 * `it` is on an element bson_iter_next or bson_iter_recurse accepted, so libbson's inline
 * accessors without the checks (the _unsafe ones: the type is the switch's) read it. */
static bool
text_value(struct readmodel_text *t, bson_iter_t *it)
{
    char num[32];
    bson_type_t type = bson_iter_type_unsafe(it);
    switch (type) {
    case BSON_TYPE_UTF8: {
        size_t n;
        const char *s = bson_iter_utf8_unsafe(it, &n);
        return n <= INT_MAX && (!text_string(t, s, n) || bson_utf8_validate(s, n, true));
    }
    case BSON_TYPE_INT32:
    case BSON_TYPE_INT64: {
        /* "%" PRId64, as json-c writes integers, without the formatter. */
        int64_t v = type == BSON_TYPE_INT32 ? bson_iter_int32_unsafe(it) : bson_iter_int64_unsafe(it);
        uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        char *p = num + sizeof(num);
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (v < 0) {
            *--p = '-';
        }
        text_put(t, p, (size_t)(num + sizeof(num) - p));
        return true;
    }
    case BSON_TYPE_DOUBLE: {
        double d = bson_iter_double_unsafe(it);
        if (!isfinite(d)) {
            return false;
        }
        text_double(t, d);
        return true;
    }
    case BSON_TYPE_BOOL:
        text_append(t, bson_iter_bool_unsafe(it) ? "true" : "false");
        return true;
    case BSON_TYPE_NULL: text_append(t, "null"); return true;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
        bool array = type == BSON_TYPE_ARRAY;
        bson_iter_t child;
        return bson_iter_recurse(it, &child) && text_members(t, &child, array);
    }
    default: return false;
    }
}

/* A key seen earlier in the same document (json-c would keep one member). */
static bool
repeated_key(bson_iter_t *it)
{
    bson_iter_t earlier;
    const char *key = bson_iter_key(it);
    uint32_t at = bson_iter_offset(it);
    if (!bson_iter_init_from_data(&earlier, it->raw, it->len)) {
        return true;
    }
    while (bson_iter_next(&earlier) && bson_iter_offset(&earlier) < at) {
        if (strcmp(bson_iter_key(&earlier), key) == 0) {
            return true;
        }
    }
    return false;
}

/* A key among the n earlier ones kept (a document's first keys: comparing them is cheaper
 * than walking the document again for each member); past those, repeated_key. */
enum { KEPT_KEYS = 16 };

static bool
seen_key(const char *const *kept, const uint32_t *lens, size_t n, bson_iter_t *it, const char *key, uint32_t len)
{
    if (n > KEPT_KEYS) {
        return repeated_key(it);
    }
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == len && memcmp(kept[i], key, len) == 0) {
            return true;
        }
    }
    return false;
}

static bool
text_members(struct readmodel_text *t, bson_iter_t *it, bool array)
{
    const char *kept[KEPT_KEYS];
    uint32_t lens[KEPT_KEYS];
    size_t n = 0;
    bool first = true;
    text_put(t, array ? "[" : "{", 1);
    while (bson_iter_next(it)) {
        if (!first) {
            text_put(t, ",", 1);
        }
        first = false;
        if (!array) {
            const char *key = bson_iter_key_unsafe(it);
            uint32_t len = bson_iter_key_len(it);
            if (seen_key(kept, lens, n, it, key, len)) {
                return false;
            }
            if (n < KEPT_KEYS) {
                kept[n] = key;
                lens[n] = len;
            }
            n++;
            text_string(t, key, len);   /* keys are not checked for UTF-8 (nor by json-c's path) */
            text_put(t, ":", 1);
        }
        if (!text_value(t, it)) {
            return false;
        }
    }
    text_put(t, array ? "]" : "}", 1);
    return true;
}

/* The shown members of a listing as JSON text, ending in `,"distance_km":D` when given. */
static bool
listing_text(struct readmodel_text *t, const bson_t *doc, const double *distance_km)
{
    struct shown_members m;
    find_shown(doc, &m);
    bool first = true;
    text_put(t, "{", 1);
    for (size_t i = 0; i < NFIELDS; i++) {
        if (!m.have[i]) {
            continue;
        }
        text_put(t, field_key[i] + first, field_len[i] + 4 - first);   /* no comma before the first */
        first = false;
        if (!text_value(t, &m.at[i].it)) {
            return false;
        }
    }
    if (distance_km != NULL) {
        text_append(t, first ? "\"distance_km\":" : ",\"distance_km\":");
        text_double(t, *distance_km);
    }
    text_put(t, "}", 1);
    return true;
}

static int
print_text(json_object *o, struct printbuf *pb, int level, int flags)
{
    (void)level;
    (void)flags;
    const struct readmodel_text *t = json_object_get_userdata(o);
    return printbuf_memappend(pb, t->p, (int)t->len);
}

static void
free_text(json_object *o, void *userdata)
{
    (void)o;
    struct readmodel_text *t = userdata;
    free(t->p);
    free(t);
}

/* json-c's text of o appended to t. */
static void
text_json(struct readmodel_text *t, json_object *o)
{
    size_t len;
    const char *s = json_object_to_json_string_length(o, TEXT_FLAGS, &len);
    text_put(t, s, len);
}

void
readmodel_listing_text(struct readmodel_text *t, const bson_t *doc, const double *distance_km)
{
    size_t start = t->len;
    if (!listing_text(t, doc, distance_km) && !t->failed) {
        /* The json-c path, written to the same text. */
        t->len = start;
        json_object *item = readmodel_listing_json(doc);
        if (distance_km != NULL) {
            json_object_object_add(item, "distance_km", numfmt_json(*distance_km));
        }
        text_json(t, item);
        json_object_put(item);
    }
}

void
readmodel_page_begin(struct readmodel_text *t, size_t items)
{
    memset(t, 0, sizeof(*t));
    /* One allocation for a page of shown listings (0.6-1 KB each) in most cases. */
    t->cap = (items + 1) * TEXT_ITEM_SIZE;
    if ((t->p = malloc(t->cap)) == NULL) {
        t->cap = 0;
        t->failed = true;
        return;
    }
    text_append(t, "{\"items\":[");
}

void
readmodel_page_item(struct readmodel_text *t, size_t index, const bson_t *doc, const double *distance_km)
{
    if (index > 0) {
        text_put(t, ",", 1);
    }
    readmodel_listing_text(t, doc, distance_km);
}

bool
readmodel_page_end(struct readmodel_text *t, json_object *next_cursor)
{
    text_append(t, "],\"next_cursor\":");
    if (next_cursor != NULL) {
        text_json(t, next_cursor);
    } else {
        text_append(t, "null");
    }
    text_put(t, "}\0", 2);   /* NUL-terminated, the NUL not counted */
    t->len--;
    return !t->failed;
}

json_object *
readmodel_listing_item(const bson_t *doc, const double *distance_km)
{
    struct readmodel_text *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    readmodel_listing_text(t, doc, distance_km);
    json_object *o = t->failed || t->len > INT_MAX ? NULL : json_object_new_boolean(0);
    if (o == NULL) {
        free_text(NULL, t);
        return NULL;
    }
    json_object_set_serializer(o, print_text, t, free_text);
    return o;
}
