/*
 * Fuzz driver for the parsers of outside input: FastCGI parameters (method, URI, query
 * string, cookies, headers), routing, and JSON bodies. Input format: lines of NAME=value
 * parameters, a blank line, then the body.
 *
 * With clang: clang -fsanitize=fuzzer,address -DMK_LIBFUZZER ... to fuzz for real.
 * With gcc (make check): replays every file of tests/fuzz/corpus/ and random mutations of
 * them, under the sanitizers when configured with --enable-sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/server.h"

static int
echo_body(struct request *r)
{
    static const char *const allowed[] = {"title", "price_minor", "attributes", NULL};
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc == MK_OK) {
        rc = http_json_only(r, body, allowed);
    }
    return rc == MK_OK ? http_respond_json(r, 200, body) : rc;
}

static int
echo_params(struct request *r)
{
    json_object *o = http_json_own(r, json_object_new_object());
    for (size_t i = 0; i < r->nquery; i++) {
        json_object_object_add(o, r->query[i].name, json_object_new_string(r->query[i].value));
    }
    const char *id = http_path_param(r, "id");
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "sid", json_object_new_string(http_cookie(r, "sid") ? http_cookie(r, "sid") : ""));
    return http_respond_json(r, 200, o);
}

static const struct route fuzz_routes[] = {
    {"POST", "/api/v1/listings", echo_body, ROUTE_COMMAND},
    {"GET", "/api/v1/listings/{id}", echo_params, ROUTE_COMMAND},
    {"GET", "/api/v1/listings", echo_params, ROUTE_COMMAND},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena_t *arena;
    if (arena == NULL) {
        arena = arena_create(16384);
        log_init("fuzz", "error");
    }
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *env[32];
    size_t nenv = 0;
    char *p = copy;
    char *body = copy + size;
    while (p < copy + size) {
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (nl == NULL) {
            nl = copy + size;
        }
        *nl = '\0';
        if (p == nl) {
            body = nl + 1 <= copy + size ? nl + 1 : copy + size;
            break;
        }
        if (nenv < 31 && strchr(p, '=') != NULL) {
            env[nenv++] = p;
        }
        p = nl + 1;
    }
    env[nenv] = NULL;
    size_t body_len = (size_t)(copy + size - body);
    struct server s = {.routes = fuzz_routes, .nroutes = 3, .role = ROUTE_COMMAND, .arena = arena};
    char *out;
    size_t out_len;
    server_handle(&s, env, body, body_len, (long)body_len, &out, &out_len);
    if (out_len < 8 || memcmp(out, "Status: ", 8) != 0) {
        abort();
    }
    arena_reset(arena);
    free(copy);
    return 0;
}

#ifndef MK_LIBFUZZER
static int
replay(const char *path, unsigned *seed, int mutations)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    for (int m = 0; m < mutations && n > 0; m++) {
        uint8_t mut[65536];
        memcpy(mut, buf, n);
        for (int k = 0; k < 4; k++) {
            mut[(size_t)rand_r(seed) % n] = (uint8_t)rand_r(seed);
        }
        LLVMFuzzerTestOneInput(mut, (size_t)rand_r(seed) % (n + 1));
    }
    return 1;
}

int
main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    DIR *d = opendir(dir);
    unsigned seed = 12345;
    int files = 0;
    if (d == NULL) {
        fprintf(stderr, "fuzz_request: no corpus at %s\n", dir);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        files += replay(path, &seed, 2000);
    }
    closedir(d);
    printf("fuzz_request: %d corpus files replayed with 2000 mutations each\n", files);
    printf("%d passed, 0 failed\n", files);
    return files > 0 ? 0 : 1;
}
#endif
