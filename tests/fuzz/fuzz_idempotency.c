/*
 * fuzz_idempotency — the Idempotency-Key header (idem_key_problem) and the request hash
 * (idem_request_hash) of domain/idempotency.c, as POST /api/v1/orders uses them.
 * Input: the key on the first line; then method, path and body separated by newlines.
 *
 * Promises checked:
 *   - a key is valid exactly when it is 1..255 bytes of printable ASCII (0x20..0x7E) and
 *     neither starts nor ends with a space (reference written from API.md);
 *   - the request hash is 64 lower-case hex digits, the same for the same request, and
 *     differs when a byte moves from the path to the body (each part is
 *     length-prefixed), or when the body changes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "domain/idempotency.h"

#define FUZZ_NAME "idempotency"
#include "fuzz_main.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz", "error");
    return 0;
}

static int
ref_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255 || k[0] == ' ' || k[n - 1] == ' ') {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)k[i] < 0x20 || (unsigned char)k[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static void
check_hash(const char *h)
{
    FUZZ_ASSERT(strlen(h) == IDEM_HASH_HEX, "64 hex digits");
    for (const char *c = h; *c != '\0'; c++) {
        FUZZ_ASSERT((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'), "lower-case hex");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    char *f[4];
    fuzz_fields(s, '\n', f, 4);
    const char *problem = idem_key_problem(f[0]);
    FUZZ_ASSERT((problem == NULL) == (ref_key_ok(f[0]) != 0), "a key is valid exactly as API.md says");
    FUZZ_ASSERT(idem_key_problem(NULL) != NULL, "no key is no valid key");

    const char *method = f[1], *path = f[2], *body = f[3];
    size_t blen = strlen(body);
    char h1[IDEM_HASH_HEX + 1], h2[IDEM_HASH_HEX + 1];
    idem_request_hash(method, path, body, blen, h1);
    check_hash(h1);
    idem_request_hash(method, path, body, blen, h2);
    FUZZ_ASSERT(strcmp(h1, h2) == 0, "the same request, the same hash");
    size_t plen = strlen(path);
    if (plen > 0) {
        /* the path's last byte moved to the front of the body */
        char *p2 = strndup(path, plen - 1);
        char *b2 = malloc(blen + 2);
        b2[0] = path[plen - 1];
        memcpy(b2 + 1, body, blen + 1);
        idem_request_hash(method, p2, b2, blen + 1, h2);
        FUZZ_ASSERT(strcmp(h1, h2) != 0, "moving a byte between the parts changes the hash");
        free(p2);
        free(b2);
    }
    if (blen > 0) {
        char *b3 = strdup(body);
        b3[blen - 1] ^= 1;
        idem_request_hash(method, path, b3, blen, h2);
        FUZZ_ASSERT(strcmp(h1, h2) != 0, "another body, another hash");
        free(b3);
    }
    free(s);
    return 0;
}
