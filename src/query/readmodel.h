/*
 * readmodel.h — single-document reads from the MongoDB read model, with the X-Min-Seq
 * contract of API.md: when the client sends X-Min-Seq: N, wait (at most min_seq_wait_ms)
 * until the document's `seq` (the highest outbox position applied to it) reaches N; if it
 * does not, answer from what there is and add X-Read-Stale: 1.
 */
#ifndef MK_READMODEL_H
#define MK_READMODEL_H

#include "core/http.h"
#include "store/mongo.h"

/*
 * True while the projector rebuilds the read model (its marker document in
 * `projector_state` says so), or when there is no marker at all (an emptied MongoDB that a
 * rebuild is about to refill). Looked up at most once a second per worker. Single reads
 * then answer what exists with X-Read-Stale: 1, and 503 instead of 404 for what does not
 * exist yet; lists say X-Read-Stale: 1; nothing read meanwhile is cached.
 */
bool readmodel_rebuilding(struct request *r);

/* A failed read-model operation's answer: MK_EUNAVAILABLE with "the read model is
 * unavailable; retry later" recorded on r; any other rc returned as it is. */
int readmodel_fail(struct request *r, int rc);

/* The request's X-Min-Seq (0 when absent); MK_EBADPARAM when it is not a number. */
int readmodel_min_seq(struct request *r, long long *min_seq);

/*
 * Find the document _id = id in collection. *doc (arena-owned) receives it. Returns
 * MK_OK, MK_ENOTFOUND, MK_EBADPARAM for a bad X-Min-Seq, or MK_EUNAVAILABLE.
 */
int readmodel_get(struct request *r, const char *collection, const char *id, const bson_t **doc);

/* Convenience readers of a document's fields, which may be dotted paths ("rating.count");
 * NULL / 0 when absent or of another type. */
const char *readmodel_str(const bson_t *doc, const char *field);
long long readmodel_int(const bson_t *doc, const char *field);

/* The whole document as JSON (relaxed extended JSON parsed by json-c): a new reference,
 * or NULL. */
json_object *readmodel_to_json(const bson_t *doc);
/* The same through libbson's relaxed extended JSON text (the reference, and the path for
 * types JSON has no plain value for). */
json_object *readmodel_to_json_text(const bson_t *doc);

/* Append the JSON value v to b as key, as libbson's JSON reader reads json-c's text of it
 * (what bson_new_from_json of {key: v} gives): walked straight from the json-c objects,
 * through the text (readmodel_append_json_text, the reference) when v holds what libbson
 * would read otherwise (an extended-JSON "$" key, a NUL in a string). False when libbson
 * refuses the text. */
bool readmodel_append_json(bson_t *b, const char *key, json_object *v);
bool readmodel_append_json_text(bson_t *b, const char *key, json_object *v);

/* A read-model listing in the API's shape (members in the API's order). New reference. */
json_object *readmodel_listing_json(const bson_t *doc);
/* The same listing (with "distance_km": *distance_km last when not NULL) as an item of a
 * page: a json-c value whose serialization (JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE, as http.c writes) is the text readmodel_listing_json's
 * object would give, written from the BSON without making those objects. Only for
 * serializing: it holds no members. New reference. */
json_object *readmodel_listing_item(const bson_t *doc, const double *distance_km);
/* A text being written: appends are a bounds check and a memcpy; p is malloc'ed (the
 * owner frees it); failed after an allocation failure (the text is then incomplete). */
struct readmodel_text {
    char *p;
    size_t len, cap;
    bool failed;
};
/* readmodel_listing_item's text appended to t. */
void readmodel_listing_text(struct readmodel_text *t, const bson_t *doc, const double *distance_km);
/* A page {"items":[...],"next_cursor":...} written as one text, the bytes json-c writes for
 * that object (items from readmodel_listing_item, next_cursor a string or NULL for null):
 * begin (t is initialised, sized for `items` listings), each item in order (index from 0),
 * end (false when an allocation failed). */
void readmodel_page_begin(struct readmodel_text *t, size_t items);
void readmodel_page_item(struct readmodel_text *t, size_t index, const bson_t *doc, const double *distance_km);
bool readmodel_page_end(struct readmodel_text *t, json_object *next_cursor);
/* The stored listing fields readmodel_listing_json shows (NULL-terminated), for a
 * projection that leaves the rest in the database. */
const char *const *readmodel_listing_fields(void);

/* A number field: true with *out, or false when absent, null or not a number. */
bool readmodel_double(const bson_t *doc, const char *field, double *out);
/* readmodel_double of "parent.a" into *out_a and of "parent.b" into *out_b (each left as it
 * was when that gives false), in one walk to parent (which may be dotted) and one over its
 * members: true when both were numbers (browse's distance of each item, the similar items'
 * coordinates: two dotted searches were 2 % of a miss in the query pool). a != b. */
bool readmodel_double_pair(const bson_t *doc, const char *parent, const char *a, double *out_a, const char *b,
                           double *out_b);

#endif
