/*
 * location.h — a place: {"city", "country", "lat", "lon"}, as users and listings carry it.
 * country is an ISO 3166-1 alpha-2 code (upper case); lat ∈ [-90, 90], lon ∈ [-180, 180].
 */
#ifndef MK_LOCATION_H
#define MK_LOCATION_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/http.h"

#define LOCATION_CITY_MAX 100

/*
 * Validate v as a location. Problems are reported with http_field_error under
 * "<field>.<member>" (or "<field>" when v is not an object). require_all: every member
 * must be present (listings); otherwise each is optional but lat and lon come together
 * (user profiles). On success *out is a normalised copy owned by the request's arena.
 * Returns MK_OK or MK_EVALIDATION.
 */
int location_parse(struct request *r, const char *field, json_object *v, bool require_all, json_object **out);

#endif
