/*
 * thumb_loader.c — thumb_global_init() and thumb_make() for marketd: the libvips code
 * (thumb.c) is a module, marketd-thumb.so, that only the processes making thumbnails (the
 * projector's media thread) load. Query and command workers never map libvips and the
 * forty-odd libraries it pulls in (about 11 MB of each worker's RSS).
 *
 * The module is looked for at $MARKET_THUMB_MODULE, next to the running binary (the build
 * tree), then in the install directory. Unit tests and fuzz drivers link thumb.c directly.
 */
#include "media/thumb.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"

#ifndef MK_PKGLIBEXECDIR
#define MK_PKGLIBEXECDIR "/usr/local/libexec/marketd"
#endif
#define THUMB_MODULE "marketd-thumb.so"

typedef int (*thumb_init_fn)(const char *argv0);
typedef int (*thumb_make_fn)(arena_t *a, const void *bytes, size_t len, int max_side, struct thumb_result *out);

static thumb_make_fn module_make;

static void *
open_module(char *path, size_t cap)
{
    const char *env = getenv("MARKET_THUMB_MODULE");
    if (env != NULL && *env != '\0') {
        snprintf(path, cap, "%s", env);
        return dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(path, cap, "%s/%s", exe, THUMB_MODULE);
            void *h = access(path, R_OK) == 0 ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
            if (h != NULL) {
                return h;
            }
        }
    }
    snprintf(path, cap, "%s/%s", MK_PKGLIBEXECDIR, THUMB_MODULE);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

int
thumb_global_init(const char *argv0)
{
    if (module_make != NULL) {
        return MK_OK;
    }
    char path[PATH_MAX + 32];
    void *h = open_module(path, sizeof(path));
    if (h == NULL) {
        log_error("thumbnails: cannot load %s: %s", path, dlerror());
        return MK_EINTERNAL;
    }
    thumb_init_fn init = (thumb_init_fn)dlsym(h, "thumb_global_init");
    thumb_make_fn make = (thumb_make_fn)dlsym(h, "thumb_make");
    if (init == NULL || make == NULL) {
        log_error("thumbnails: %s lacks thumb_global_init or thumb_make", path);
        dlclose(h);
        return MK_EINTERNAL;
    }
    int rc = init(argv0);
    if (rc != MK_OK) {
        return rc;
    }
    module_make = make;   /* the module stays loaded for the life of the process */
    return MK_OK;
}

int
thumb_make(arena_t *a, const void *bytes, size_t len, int max_side, struct thumb_result *out)
{
    if (module_make == NULL) {
        memset(out, 0, sizeof(*out));
        out->error = "thumbnails are not initialised (thumb_global_init)";
        return MK_EINTERNAL;
    }
    return module_make(a, bytes, len, max_side, out);
}
