#include "domain/location.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include "core/errors.h"
#include "core/numfmt.h"

static const char *
member_field(struct request *r, const char *field, const char *member)
{
    return arena_sprintf(r->arena, "%s.%s", field, member);
}

/* A JSON number (integer or double) within [lo, hi]; json-c has no NaN in strict JSON. */
static bool
number_in(json_object *v, double lo, double hi, double *out)
{
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
        return false;
    }
    double d = json_object_get_double(v);
    if (!isfinite(d) || d < lo || d > hi) {
        return false;
    }
    *out = d;
    return true;
}

int
location_parse(struct request *r, const char *field, json_object *v, bool require_all, json_object **out)
{
    static const char *const members[] = {"city", "country", "lat", "lon", NULL};
    *out = NULL;
    if (!json_object_is_type(v, json_type_object)) {
        return http_field_error(r, field, "must be an object with city, country, lat and lon");
    }
    bool bad = false;
    json_object_object_foreach(v, key, val) {
        (void)val;
        bool known = false;
        for (const char *const *m = members; *m != NULL; m++) {
            known = known || strcmp(*m, key) == 0;
        }
        if (!known) {
            http_field_error(r, member_field(r, field, key), "is not a member of a location");
            bad = true;
        }
    }
    json_object *result = http_json_own(r, json_object_new_object());
    json_object *m;
    if (json_object_object_get_ex(v, "city", &m)) {
        const char *city = NULL;
        if (!json_object_is_type(m, json_type_string)) {
            bad = http_field_error(r, member_field(r, field, "city"), "must be a string") != MK_OK;
        } else if ((city = http_json_text(r, member_field(r, field, "city"), json_object_get_string(m), 1,
                                          LOCATION_CITY_MAX, false)) == NULL) {
            bad = true;
        } else {
            json_object_object_add(result, "city", json_object_new_string(city));
        }
    } else if (require_all) {
        bad = http_field_error(r, member_field(r, field, "city"), "is required") != MK_OK;
    }
    if (json_object_object_get_ex(v, "country", &m)) {
        const char *c = json_object_is_type(m, json_type_string) ? json_object_get_string(m) : "";
        if (strlen(c) != 2 || !isupper((unsigned char)c[0]) || !isupper((unsigned char)c[1])) {
            bad = http_field_error(r, member_field(r, field, "country"),
                                   "must be an ISO 3166-1 alpha-2 code in upper case, like \"DE\"") != MK_OK;
        } else {
            json_object_object_add(result, "country", json_object_new_string(c));
        }
    } else if (require_all) {
        bad = http_field_error(r, member_field(r, field, "country"), "is required") != MK_OK;
    }
    static const struct {
        const char *name;
        double lo, hi;
        const char *problem;
    } coords[] = {
        {"lat", -90, 90, "must be a number from -90 to 90"},
        {"lon", -180, 180, "must be a number from -180 to 180"},
    };
    int ncoords = 0;
    for (int i = 0; i < 2; i++) {
        double d;
        if (!json_object_object_get_ex(v, coords[i].name, &m)) {
            if (require_all) {
                bad = http_field_error(r, member_field(r, field, coords[i].name), "is required") != MK_OK;
            }
            continue;
        }
        ncoords++;
        if (!number_in(m, coords[i].lo, coords[i].hi, &d)) {
            bad = http_field_error(r, member_field(r, field, coords[i].name), coords[i].problem) != MK_OK;
        } else {
            json_object_object_add(result, coords[i].name, numfmt_json(d));
        }
    }
    if (ncoords == 1 && !require_all) {
        bad = http_field_error(r, member_field(r, field, json_object_object_get_ex(v, "lat", NULL) ? "lon" : "lat"),
                               "lat and lon come together") != MK_OK;
    }
    if (bad) {
        return MK_EVALIDATION;
    }
    *out = result;
    return MK_OK;
}
