/*
 * metrics.h — Prometheus counters shared by all processes of a role.
 *
 * Each role (command, query, projector) owns one segment: a file under run_dir mapped
 * MAP_SHARED by its master and every worker, updated with relaxed atomic adds. The query
 * role's GET /metrics maps every role's segment read-only and renders them all, so one
 * scrape sees the whole node. Route names come from the shared route table.
 */
#ifndef MK_METRICS_H
#define MK_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/router.h"

#define METRICS_ROUTES 96      /* the last slot counts unmatched requests */
#define METRICS_STATUSES 24
#define METRICS_BUCKETS 12
#define METRICS_CACHE_STATUSES 7

/* The $upstream_cache_status values counted in nginx_cache[], in order. */
extern const char *const metrics_cache_status_names[METRICS_CACHE_STATUSES];

struct metrics_route {
    uint64_t status_count[METRICS_STATUSES];
    uint64_t bucket[METRICS_BUCKETS];   /* per bucket, not cumulative */
    uint64_t count;
    uint64_t sum_us;
};

struct metrics_segment {
    uint32_t magic;
    uint32_t version;
    char role[16];
    int64_t started_at;
    uint64_t worker_starts;
    uint64_t worker_crashes;     /* deaths other than a clean recycle or stop */
    uint64_t worker_recycles;    /* clean exits after max_requests */
    int64_t workers_configured;
    int64_t workers_alive;
    uint64_t cache_hits;         /* Redis cache-aside, by the query role */
    uint64_t cache_misses;
    /* projector */
    int64_t projector_active;    /* 1 while this process holds the advisory lock */
    int64_t projector_applied_seq;
    int64_t projector_head_seq;
    int64_t projector_pending;
    int64_t projector_lag_ms;    /* age of the oldest event not yet applied; 0 when caught up */
    uint64_t projector_events_applied;
    uint64_t projector_events_skipped;
    uint64_t projector_rebuilds;
    uint64_t logins_ok;          /* POST /sessions outcomes, by the command role */
    uint64_t logins_failed;
    uint64_t logins_throttled;
    uint64_t nginx_cache[7];     /* nginx cache outcomes (projector, from the access log) */
    uint64_t private_reads[3];   /* query role: private reads from the replica at once, from the
                                  * replica after waiting for it, from the primary */
    int64_t watchdog_deadline_ms[8]; /* per worker slot of a watched role (core/pool.h): clock_mono
                                      * milliseconds by which the worker must show progress; 0: none */
    uint64_t page_purges[2];     /* projector: nginx page purges sent, skipped while rebuilding
                                  * (taken from reserved: every field before keeps its offset) */
    int64_t reserved[9];
    struct metrics_route routes[METRICS_ROUTES];
};

/*
 * Map the segment of role under run_dir. create: make the file when it is missing or of
 * another layout (masters and the projector at start); otherwise map an existing file
 * read-write (workers) or read-only (the /metrics renderer).
 * Returns NULL (and logs) on failure; the mapping lives until the process exits.
 */
struct metrics_segment *metrics_open(const char *run_dir, const char *role, bool create, bool writable);

/* Count one request: route index (-1 = unmatched), HTTP status, latency in microseconds. */
void metrics_observe(struct metrics_segment *m, int route_index, int status, uint64_t latency_us);

/* Atomic helpers for the other fields. */
#define metrics_add(field, n) __atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)
#define metrics_set(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

/* Render every role's segment found under run_dir in the Prometheus text format. */
char *metrics_render(arena_t *a, const char *run_dir, const struct route *routes, size_t nroutes);

#endif
