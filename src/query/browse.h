/*
 * browse.h — the aggregation pipelines of GET /api/v1/listings (query/browse.c), exposed for
 * tests/unit/test_browse_pipeline.c, which pins the exact commands of every browse shape.
 */
#ifndef MK_BROWSE_H
#define MK_BROWSE_H

#include <stdbool.h>

#include <bson/bson.h>

#include "domain/search.h"

/* The pipeline of q as {pipeline: [...]} (caller destroys; NULL for a cursor that does not
 * fit the sort): for relevance, tier t's (resume: inside the cursor's tier; limit documents),
 * else the whole query's (t, resume and limit unused). */
bson_t *browse_pipeline(const struct search_query *q, int t, bool resume, int limit);

#endif
