/* routes.h — the one route table of the HTTP API, shared by the command and query roles. */
#ifndef MK_ROUTES_H
#define MK_ROUTES_H

#include <stddef.h>

#include "core/router.h"

extern const struct route routes[];
extern const size_t routes_count;

#endif
