/* ids.h — UUID identifiers: random version-4 UUIDs from libsodium, and validation. */
#ifndef MK_IDS_H
#define MK_IDS_H

#include <stdbool.h>

#define UUID_STR_LEN 36

/* Write a new random UUID (lower-case, 36 characters + NUL) into out. */
void uuid_new(char out[UUID_STR_LEN + 1]);

/* True when s is a UUID in the canonical 8-4-4-4-12 hex form (any case). */
bool uuid_valid(const char *s);

#endif
