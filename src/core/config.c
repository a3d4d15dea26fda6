#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL, OPT_OCTAL };

struct opt {
    const char *key;
    enum opt_type type;
    size_t offset;
    const char *def;
    long min, max;   /* for integers */
    bool secret;
};

#define S(k, d) {#k, OPT_STR, offsetof(struct config, k), d, 0, 0, false}
#define SECRET(k, d) {#k, OPT_STR, offsetof(struct config, k), d, 0, 0, true}
#define I(k, d, lo, hi) {#k, OPT_INT, offsetof(struct config, k), #d, lo, hi, false}
#define B(k, d) {#k, OPT_BOOL, offsetof(struct config, k), #d, 0, 1, false}

static const struct opt opts[] = {
    /* The pools and their sockets */
    S(command_listen, "unix:var/run/command.sock"),
    S(query_listen, "unix:var/run/query.sock"),
    I(command_workers, 4, 1, 256),
    I(query_workers, 8, 1, 256),
    I(max_requests, 100000, 0, INT_MAX),
    I(graceful_timeout_s, 30, 0, 3600),
    I(listen_backlog, 1024, 1, 65535),
    {"socket_mode", OPT_OCTAL, offsetof(struct config, socket_mode), "0666", 0, 0777, false},
    /* Files and logging */
    S(run_dir, "var/run"),
    S(sql_dir, "sql"),
    S(log_level, "info"),
    /* PostgreSQL: the write model, and its replica for private reads */
    SECRET(pg_dsn, "host=127.0.0.1 port=15432 dbname=market user=market"),
    SECRET(pg_replica_dsn, ""),
    I(pg_statement_timeout_ms, 5000, 0, 600000),
    B(pg_transaction_pooling, 0),
    I(replica_wait_ms, 2000, 0, 30000),
    /* MongoDB: the read model */
    S(mongo_uri, "mongodb://127.0.0.1:27117/?appname=marketd"),
    S(mongo_db, "market"),
    /* Redis: sessions, rate limits, caches */
    S(redis_host, "127.0.0.1"),
    I(redis_port, 16379, 1, 65535),
    S(redis_socket, ""),
    I(redis_timeout_ms, 500, 1, 60000),
    /* The object store (S3 API, SigV4) */
    S(s3_endpoint, "http://127.0.0.1:18081"),
    S(s3_region, "us-east-1"),
    S(s3_bucket, "market"),
    S(s3_access_key, "test:tester"),
    SECRET(s3_secret_key, "testing"),
    B(s3_path_style, 1),
    S(s3_public_base_url, "https://localhost:8443/media"),
    S(s3_presign_endpoint, ""),
    I(s3_timeout_ms, 3000, 1, 600000),
    /* Accounts and sessions */
    S(public_origin, "https://localhost:8443"),
    I(session_ttl_s, 2592000, 60, 31536000),
    I(login_max_failures, 5, 1, 1000),
    I(login_window_s, 900, 1, 86400),
    I(api_rate_per_s, 50, 1, 1000000),
    I(api_rate_burst, 100, 0, 1000000),
    I(password_opslimit, 2, 2, 20),
    I(password_memlimit_kib, 65536, 65536, 4194304),
    /* Reads: read-your-writes, cursors, caches (Redis and nginx) */
    I(min_seq_wait_ms, 2000, 0, 30000),
    SECRET(cursor_secret, "marketd-default-cursor-secret: set your own"),
    I(cache_listing_ttl_s, 60, 0, 86400),
    I(cache_search_ttl_s, 30, 0, 3600),
    I(cache_search_min_uses, 2, 1, 2),
    I(http_cache_ttl_s, 5, 0, 3600),
    S(nginx_purge_url, ""),
    S(nginx_access_log, ""),
    /* Offers */
    I(offer_ttl_s, 172800, 1, 31536000),
    I(reservation_ttl_s, 86400, 1, 31536000),
    /* The projector */
    I(projector_poll_ms, 1000, 10, 600000),
    I(projector_batch, 500, 1, 100000),
    I(projector_processes, 2, 1, 8),
    I(projector_watchdog_s, 60, 0, 86400),
    /* Webhooks and their deliverers */
    S(webhook_allow_hosts, ""),
    SECRET(webhook_secret_key, "6d61726b6574642d64656661756c742d776562686f6f6b2d6b65793a73657421"),
    I(webhook_timeout_ms, 10000, 100, 60000),
    I(webhook_backoff_scale_pct, 100, 1, 100),
    I(deliverer_processes, 2, 1, 8),
    I(deliverer_poll_ms, 1000, 10, 60000),
    /* Insights */
    I(views_fold_ms, 10000, 100, 60000),
    I(insights_cache_ttl_s, 30, 0, 60),
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const struct opt *
find_opt(const char *key)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (strcmp(opts[i].key, key) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

static int
set_opt(struct config *c, const struct opt *o, const char *value, char *err, size_t errlen)
{
    void *field = (char *)c + o->offset;
    char *end;
    long v;

    switch (o->type) {
    case OPT_STR: {
        char *copy = strdup(value);
        if (copy == NULL) {
            snprintf(err, errlen, "%s: out of memory", o->key);
            return MK_EINTERNAL;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return MK_OK;
    }
    case OPT_INT:
    case OPT_OCTAL:
        errno = 0;
        v = strtol(value, &end, o->type == OPT_OCTAL ? 8 : 10);
        if (errno != 0 || end == value || *end != '\0' || v < o->min || v > o->max) {
            snprintf(err, errlen, "%s: '%s' is not %s from %ld to %ld", o->key, value,
                     o->type == OPT_OCTAL ? "an octal number" : "a whole number", o->min, o->max);
            return MK_EBADPARAM;
        }
        *(int *)field = (int)v;
        return MK_OK;
    case OPT_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
            strcmp(value, "on") == 0) {
            *(bool *)field = true;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                   strcmp(value, "no") == 0 || strcmp(value, "off") == 0) {
            *(bool *)field = false;
        } else {
            snprintf(err, errlen, "%s: '%s' is not a boolean (true/false)", o->key, value);
            return MK_EBADPARAM;
        }
        return MK_OK;
    }
    return MK_EINTERNAL;
}

int
config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct opt *o = find_opt(key);
    if (o == NULL) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return MK_EBADPARAM;
    }
    return set_opt(c, o, value, err, errlen);
}

void
config_defaults(struct config *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTS; i++) {
        if (set_opt(c, &opts[i], opts[i].def, err, sizeof(err)) != MK_OK) {
            fprintf(stderr, "config: bad built-in default: %s\n", err);
            abort();
        }
    }
}

static char *
trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

static int
load_file(struct config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return MK_EBADPARAM;
    }
    char line[4096];
    char msg[512];
    int lineno = 0;
    int rc = MK_OK;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = MK_EBADPARAM;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = MK_EBADPARAM;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        rc = config_set(c, key, value, msg, sizeof(msg));
        if (rc != MK_OK) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            break;
        }
    }
    fclose(f);
    return rc;
}

static int
load_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
    static const char prefix[] = "MARKET_";
    char msg[512];
    for (char *const *e = envp; *e != NULL; e++) {
        if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0) {
            continue;
        }
        const char *name = *e + sizeof(prefix) - 1;
        const char *eq = strchr(name, '=');
        if (eq == NULL || (size_t)(eq - name) >= 64) {
            continue;
        }
        char key[64];
        size_t n = (size_t)(eq - name);
        for (size_t i = 0; i < n; i++) {
            key[i] = (char)tolower((unsigned char)name[i]);
        }
        key[n] = '\0';
        /* MARKET_* also names settings of the scripts (MARKET_VAR, ports ...): only
         * variables that name a marketd key are taken. */
        const struct opt *o = find_opt(key);
        if (o == NULL) {
            continue;
        }
        int rc = set_opt(c, o, eq + 1, msg, sizeof(msg));
        if (rc != MK_OK) {
            snprintf(err, errlen, "environment MARKET_%.*s: %s", (int)n, name, msg);
            return rc;
        }
    }
    return MK_OK;
}

static int
validate(const struct config *c, char *err, size_t errlen)
{
    static const char *levels[] = {"debug", "info", "warn", "error"};
    bool ok = false;
    for (size_t i = 0; i < 4; i++) {
        ok = ok || strcmp(c->log_level, levels[i]) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "log_level: '%s' is not one of debug, info, warn, error", c->log_level);
        return MK_EBADPARAM;
    }
    const char *listens[] = {c->command_listen, c->query_listen};
    const char *names[] = {"command_listen", "query_listen"};
    for (size_t i = 0; i < 2; i++) {
        const char *l = listens[i];
        if (strncmp(l, "unix:", 5) == 0 ? l[5] == '\0' : strrchr(l, ':') == NULL) {
            snprintf(err, errlen, "%s: '%s' is neither unix:/path nor host:port", names[i], l);
            return MK_EBADPARAM;
        }
    }
    if (strncmp(c->s3_endpoint, "http://", 7) != 0 && strncmp(c->s3_endpoint, "https://", 8) != 0) {
        snprintf(err, errlen, "s3_endpoint: '%s' must start with http:// or https://", c->s3_endpoint);
        return MK_EBADPARAM;
    }
    size_t klen = strlen(c->webhook_secret_key);
    if (klen != 64 || strspn(c->webhook_secret_key, "0123456789abcdefABCDEF") != klen) {
        snprintf(err, errlen, "webhook_secret_key: must be 64 hex digits (32 bytes)");
        return MK_EBADPARAM;
    }
    if (c->public_origin[0] == '\0') {
        snprintf(err, errlen, "public_origin: must be set (e.g. https://market.example)");
        return MK_EBADPARAM;
    }
    return MK_OK;
}

int
config_load(struct config *c, const char *path, char *const *envp, char *err, size_t errlen)
{
    int rc;
    if (path != NULL && (rc = load_file(c, path, err, errlen)) != MK_OK) {
        return rc;
    }
    if (envp != NULL && (rc = load_env(c, envp, err, errlen)) != MK_OK) {
        return rc;
    }
    return validate(c, err, errlen);
}

void
config_free(struct config *c)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].type == OPT_STR) {
            char **field = (char **)((char *)c + opts[i].offset);
            free(*field);
            *field = NULL;
        }
    }
}

void
config_dump(const struct config *c, int fd)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const void *field = (const char *)c + opts[i].offset;
        switch (opts[i].type) {
        case OPT_STR:
            dprintf(fd, "%s = %s\n", opts[i].key,
                    opts[i].secret && **(char *const *)field ? "(set)" : *(char *const *)field);
            break;
        case OPT_INT:
            dprintf(fd, "%s = %d\n", opts[i].key, *(const int *)field);
            break;
        case OPT_OCTAL:
            dprintf(fd, "%s = %04o\n", opts[i].key, *(const int *)field);
            break;
        case OPT_BOOL:
            dprintf(fd, "%s = %s\n", opts[i].key, *(const bool *)field ? "true" : "false");
            break;
        }
    }
}
