/*
 * marketd — the marketplace backend. One binary, three roles:
 *
 *   marketd --role command   --config FILE   FastCGI pool for writes (POST/PATCH/PUT/DELETE)
 *   marketd --role query     --config FILE   FastCGI pool for reads (GET/HEAD)
 *   marketd --role projector --config FILE   outbox → MongoDB read model
 *   marketd --role deliverer --config FILE   webhook deliveries (deliver/deliverer.h)
 *   marketd --migrate        --config FILE   apply pending SQL migrations and exit
 *   marketd --role projector --rebuild       rebuild the read model and exit
 *   marketd --check-config   --config FILE   print the effective configuration and exit
 *   marketd --metrics        --config FILE   print this node's metrics (every role's segment
 *                                            under run_dir, as /metrics renders them) and exit
 *
 * MARKET_<KEY> environment variables override the file's keys.
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/pool.h"
#include "core/server.h"
#include "deliver/deliverer.h"
#include "domain/migrate.h"
#include "projector/projector.h"
#include "routes.h"
#include "worker.h"

extern char **environ;

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: marketd --role command|query|projector|deliverer [--config FILE]\n"
            "       marketd --migrate [--config FILE]\n"
            "       marketd --role projector --rebuild [--config FILE]\n"
            "       marketd --check-config [--config FILE]\n"
            "       marketd --metrics [--config FILE]\n"
            "Settings come from FILE (key = value) and MARKET_<KEY> environment variables.\n");
}

static int
run_worker(const struct config *cfg, const char *role, int listen_fd)
{
    struct worker w;
    worker_open(&w, cfg, role);
    w.routes = routes;
    w.nroutes = routes_count;
    struct server s = {
        .routes = routes,
        .nroutes = routes_count,
        .role = strcmp(role, "command") == 0 ? ROUTE_COMMAND : ROUTE_QUERY,
        .arena = arena_create(64 * 1024),
        .metrics = w.metrics,
        .worker = &w,
        .admit = worker_admit,
    };
    int rc = pool_worker_run(listen_fd, cfg->max_requests, server_serve, worker_idle, &s);
    arena_destroy(s.arena);
    worker_close(&w);
    return rc;
}

/* What the process takes from its configuration beyond the struct: the ETag and cursor keys,
 * the log's role and level. At start-up, and again in a master on SIGHUP (the workers forked
 * after it inherit them). */
static void
apply_settings(const struct config *cfg, const char *log_role)
{
    http_etag_init(cfg->cursor_secret);
    log_init(log_role, cfg->log_level);
}

/* What a pool's master hands its forked workers, and reloads on SIGHUP. */
struct master_ctx {
    struct config *cfg;
    const char *config_path;
    const char *role;
};

/* A worker's body, in the child forked by the pool's master (core/pool.h). */
static int
worker_entry(void *ctx, int slot, int listen_fd)
{
    struct master_ctx *mc = ctx;
    if (strcmp(mc->role, "projector") == 0) {
        return projector_main(mc->cfg, slot);
    }
    if (strcmp(mc->role, "deliverer") == 0) {
        return deliverer_main(mc->cfg);
    }
    return run_worker(mc->cfg, mc->role, listen_fd);
}

/* SIGHUP: the configuration read again (file and MARKET_<KEY>); the workers forked after it
 * get it. A configuration that does not load keeps the running one. The pool's own settings
 * (its socket, size, graceful timeout, watchdog) stay as they started: those need a restart. */
static bool
master_reload(void *ctx)
{
    struct master_ctx *mc = ctx;
    struct config fresh;
    char err[512];
    config_defaults(&fresh);
    if (config_load(&fresh, mc->config_path, environ, err, sizeof(err)) != MK_OK) {
        log_error("SIGHUP: configuration error, keeping the running configuration: %s", err);
        config_free(&fresh);
        return false;
    }
    config_free(mc->cfg);
    *mc->cfg = fresh;
    apply_settings(mc->cfg, mc->role);
    log_info("SIGHUP: configuration reloaded%s%s", mc->config_path != NULL ? " from " : "",
             mc->config_path != NULL ? mc->config_path : "");
    return true;
}

static int
run_master(struct config *cfg, const char *config_path, const char *role)
{
    bool command = strcmp(role, "command") == 0, projector = strcmp(role, "projector") == 0;
    bool deliverer = strcmp(role, "deliverer") == 0;
    struct master_ctx mc = {.cfg = cfg, .config_path = config_path, .role = role};
    /* The master's own copy: a reload frees the configuration the socket's spec came from. */
    char *listen = projector || deliverer ? NULL : strdup(command ? cfg->command_listen : cfg->query_listen);
    if (!projector && !deliverer && listen == NULL) {
        fprintf(stderr, "marketd: out of memory\n");
        return 2;
    }
    struct pool_options o = {
        .role = role,
        .listen = listen,
        .workers = projector   ? cfg->projector_processes
                   : deliverer ? cfg->deliverer_processes
                   : command   ? cfg->command_workers
                               : cfg->query_workers,
        .backlog = cfg->listen_backlog,
        .socket_mode = cfg->socket_mode,
        .graceful_timeout_s = cfg->graceful_timeout_s,
        .worker_main = worker_entry,
        .reload = master_reload,
        .ctx = &mc,
        .metrics = metrics_open(cfg->run_dir, role, true, true),
        .watchdog_s = projector ? cfg->projector_watchdog_s : 0,
    };
    if (o.metrics == NULL) {
        fprintf(stderr, "marketd: cannot create the metrics segment under %s\n", cfg->run_dir);
        free(listen);
        return 2;
    }
    if (projector) {
        /* A segment kept from a run that was killed may still say a process of it held the
         * lock; none of this run does yet. */
        metrics_set(o.metrics->projector_active, 0);
    }
    int rc = pool_master_run(&o);
    free(listen);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"role", required_argument, NULL, 'r'},     {"config", required_argument, NULL, 'c'},
        {"migrate", no_argument, NULL, 'm'},        {"rebuild", no_argument, NULL, 'R'},
        {"check-config", no_argument, NULL, 'k'},   {"help", no_argument, NULL, 'h'},
        {"metrics", no_argument, NULL, 'M'},        {NULL, 0, NULL, 0},
    };
    const char *role = NULL, *config_path = NULL;
    bool migrate = false, rebuild = false, check = false, metrics = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "r:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': role = optarg; break;
        case 'c': config_path = optarg; break;
        case 'm': migrate = true; break;
        case 'R': rebuild = true; break;
        case 'k': check = true; break;
        case 'M': metrics = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    /* libsodium picks its fastest implementations (AVX2 BLAKE2b, SHA-256, ...) only once
     * initialised; without it every hash took the portable code. Same results. */
    if (sodium_init() < 0) {
        fprintf(stderr, "marketd: libsodium cannot be initialised\n");
        return 1;
    }
    struct config cfg;
    char err[512];
    config_defaults(&cfg);
    if (config_load(&cfg, config_path, environ, err, sizeof(err)) != MK_OK) {
        fprintf(stderr, "marketd: configuration error: %s\n", err);
        return 2;
    }
    if (check) {
        config_dump(&cfg, STDOUT_FILENO);
        return 0;
    }
    if (metrics) {
        /* Read-only: the segments' files, also of a host whose processes are gone. */
        arena_t *a = arena_create(64 * 1024);
        fputs(metrics_render(a, cfg.run_dir, routes, routes_count), stdout);
        arena_destroy(a);
        return 0;
    }
    apply_settings(&cfg, role != NULL ? role : (migrate ? "migrate" : "marketd"));

    if (migrate) {
        struct pg pg;
        int applied = 0;
        pg_init(&pg, cfg.pg_dsn, 0);
        int rc = migrate_run(&pg, cfg.sql_dir, &applied);
        pg_close(&pg);
        if (rc == MK_OK) {
            fprintf(stderr, "migrate: %d migration(s) applied; the schema is current\n", applied);
        }
        return rc == MK_OK ? 0 : 1;
    }
    if (role == NULL) {
        usage(stderr);
        return 2;
    }
    if (strcmp(role, "projector") == 0) {
        /* The master supervises projector_processes processes (one holds the advisory lock,
         * the others stand by) and replaces any that dies, like the pools' workers. */
        return rebuild ? projector_rebuild(&cfg, 120) : run_master(&cfg, config_path, role);
    }
    if (strcmp(role, "deliverer") == 0) {
        if (rebuild) {
            fprintf(stderr, "marketd: --rebuild goes with --role projector\n");
            return 2;
        }
        /* Supervised like the projector: the master keeps deliverer_processes running. */
        return run_master(&cfg, config_path, role);
    }
    if (strcmp(role, "command") != 0 && strcmp(role, "query") != 0) {
        fprintf(stderr, "marketd: unknown role '%s' (command, query, projector or deliverer)\n", role);
        return 2;
    }
    if (rebuild) {
        fprintf(stderr, "marketd: --rebuild goes with --role projector\n");
        return 2;
    }
    return run_master(&cfg, config_path, role);
}
