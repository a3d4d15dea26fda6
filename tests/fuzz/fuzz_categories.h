/*
 * fuzz_categories.h — the small category tree the catalogue parsers are fuzzed against:
 * every attribute type (string, integer, number, boolean, enum), a child inheriting its
 * parent's attributes, and a second root. Shared by the drivers that parse listing bodies
 * and browse parameters.
 */
#ifndef MK_FUZZ_CATEGORIES_H
#define MK_FUZZ_CATEGORIES_H

#include <stdlib.h>

#include "core/errors.h"
#include "domain/category.h"

static inline struct category_set *
fuzz_categories(void)
{
    static struct category_set *set;
    if (set == NULL) {
        const char *json =
            "{\"categories\":[{\"slug\":\"electronics\",\"name\":\"Electronics\",\"parent\":null,"
            "\"attributes\":[{\"name\":\"brand\",\"type\":\"string\",\"required\":true}]},"
            "{\"slug\":\"phones\",\"name\":\"Phones\",\"parent\":\"electronics\",\"attributes\":["
            "{\"name\":\"storage_gb\",\"type\":\"integer\",\"required\":true},"
            "{\"name\":\"screen_in\",\"type\":\"number\",\"required\":false},"
            "{\"name\":\"unlocked\",\"type\":\"boolean\",\"required\":false},"
            "{\"name\":\"color\",\"type\":\"enum\",\"required\":false,\"values\":[\"red\",\"blue\"]}]},"
            "{\"slug\":\"books\",\"name\":\"Books\",\"parent\":null,\"attributes\":["
            "{\"name\":\"pages\",\"type\":\"integer\",\"required\":false}]}]}";
        if (category_parse_json(json, &set, NULL, 0) != MK_OK) {
            abort();
        }
    }
    return set;
}

#endif
