/* params.h — the query string rules shared by the list endpoints of the query role. */
#ifndef MK_QUERY_PARAMS_H
#define MK_QUERY_PARAMS_H

#include "core/http.h"

#define QUERY_DEFAULT_LIMIT 20
#define QUERY_MAX_LIMIT 100

/* Every parameter of r must be named in allowed (NULL-terminated) and appear at most once.
 * MK_OK, or MK_EBADPARAM with a message naming the parameter ("colour: unknown parameter").
 * (Names and values are valid UTF-8 already: http_request_init refuses others, naming them.) */
int query_params_check(struct request *r, const char *const *allowed);

/* limit: an integer from 1 to 100 in decimal digits (qstr_int), QUERY_DEFAULT_LIMIT when absent. MK_OK or MK_EBADPARAM. */
int query_limit(struct request *r, int *limit);

#endif
