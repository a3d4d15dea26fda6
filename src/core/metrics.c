#include "core/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define METRICS_MAGIC 0x4d4b544du /* "MKTM" */
#define METRICS_VERSION 4   /* 4: page_purges (45b76ba had them at another offset under 3) */

static const int status_slots[METRICS_STATUSES - 1] = {
    200, 201, 202, 204, 301, 304, 400, 401, 403, 404, 405, 409,
    412, 413, 415, 422, 428, 429, 500, 502, 503, 504, 499,
};

static const double bucket_bounds[METRICS_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

static const char *const roles[] = {"command", "query", "projector"};

struct metrics_segment *
metrics_open(const char *run_dir, const char *role, bool create, bool writable)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/metrics-%s.shm", run_dir, role);
    int flags = create ? O_RDWR | O_CREAT : (writable ? O_RDWR : O_RDONLY);
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (create || errno != ENOENT) {
            log_error("metrics: cannot open %s: %s", path, strerror(errno));
        }
        return NULL;
    }
    size_t size = sizeof(struct metrics_segment);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return NULL;
    }
    bool fresh = false;
    if ((size_t)st.st_size != size) {
        if (!create || ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0) {
            close(fd);
            return NULL;
        }
        fresh = true;
    }
    void *p = mmap(NULL, size, writable || create ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        log_error("metrics: cannot map %s: %s", path, strerror(errno));
        return NULL;
    }
    struct metrics_segment *m = p;
    bool valid = __atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) == METRICS_MAGIC && m->version == METRICS_VERSION;
    if (create && (fresh || !valid)) {
        /* A new segment, or one left by another build: start from zero. An existing one is
         * kept, so counters survive a restart of the role and a standby projector sharing it. */
        memset(m, 0, size);
        snprintf(m->role, sizeof(m->role), "%s", role);
        m->started_at = (int64_t)time(NULL);
        m->version = METRICS_VERSION;
        __atomic_store_n(&m->magic, METRICS_MAGIC, __ATOMIC_RELEASE);
    } else if (!valid) {
        munmap(p, size);
        return NULL;
    }
    return m;
}

static int
status_slot(int status)
{
    for (int i = 0; i < METRICS_STATUSES - 1; i++) {
        if (status_slots[i] == status) {
            return i;
        }
    }
    return METRICS_STATUSES - 1;
}

void
metrics_observe(struct metrics_segment *m, int route_index, int status, uint64_t latency_us)
{
    if (m == NULL) {
        return;
    }
    int ri = route_index < 0 || route_index >= METRICS_ROUTES - 1 ? METRICS_ROUTES - 1 : route_index;
    struct metrics_route *r = &m->routes[ri];
    double secs = (double)latency_us / 1e6;
    int b = 0;
    while (b < METRICS_BUCKETS - 1 && secs > bucket_bounds[b]) {
        b++;
    }
    metrics_add(r->status_count[status_slot(status)], 1);
    metrics_add(r->bucket[b], 1);
    metrics_add(r->count, 1);
    metrics_add(r->sum_us, latency_us);
}

/* A growable text buffer in the arena. */
struct textbuf {
    arena_t *a;
    char *p;
    size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
tb_printf(struct textbuf *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap + (size_t)n) * 2;
        char *np = arena_alloc(t->a, ncap);
        memcpy(np, t->p, t->len);
        t->p = np;
        t->cap = ncap;
    }
}

static void
route_label(const struct route *routes, size_t nroutes, int i, const char **method, const char **pattern)
{
    if (i < (int)nroutes && i < METRICS_ROUTES - 1) {
        *method = routes[i].method;
        *pattern = routes[i].pattern;
    } else {
        *method = "-";
        *pattern = "unmatched";
    }
}

static void
render_segment(struct textbuf *t, const struct metrics_segment *m, const struct route *routes, size_t nroutes,
               int pass)
{
    const char *role = m->role;
    for (int i = 0; i < METRICS_ROUTES; i++) {
        const struct metrics_route *r = &m->routes[i];
        uint64_t count = __atomic_load_n(&r->count, __ATOMIC_RELAXED);
        if (count == 0) {
            continue;
        }
        const char *method, *pattern;
        route_label(routes, nroutes, i, &method, &pattern);
        if (pass == 0) {
            for (int s = 0; s < METRICS_STATUSES; s++) {
                uint64_t c = __atomic_load_n(&r->status_count[s], __ATOMIC_RELAXED);
                if (c == 0) {
                    continue;
                }
                char status[16] = "other";   /* the last slot counts every other status */
                if (s < METRICS_STATUSES - 1) {
                    snprintf(status, sizeof(status), "%d", status_slots[s]);
                }
                tb_printf(t, "market_http_requests_total{role=\"%s\",method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                          role, method, pattern, status, (unsigned long long)c);
            }
        } else {
            uint64_t cum = 0;
            for (int b = 0; b < METRICS_BUCKETS; b++) {
                cum += __atomic_load_n(&r->bucket[b], __ATOMIC_RELAXED);
                char le[32] = "+Inf";
                if (b < METRICS_BUCKETS - 1) {
                    snprintf(le, sizeof(le), "%g", bucket_bounds[b]);
                }
                tb_printf(t, "market_http_request_duration_seconds_bucket{role=\"%s\",method=\"%s\",route=\"%s\",le=\"%s\"} %llu\n",
                          role, method, pattern, le, (unsigned long long)cum);
            }
            tb_printf(t, "market_http_request_duration_seconds_sum{role=\"%s\",method=\"%s\",route=\"%s\"} %.6f\n",
                      role, method, pattern, (double)__atomic_load_n(&r->sum_us, __ATOMIC_RELAXED) / 1e6);
            tb_printf(t, "market_http_request_duration_seconds_count{role=\"%s\",method=\"%s\",route=\"%s\"} %llu\n",
                      role, method, pattern, (unsigned long long)count);
        }
    }
}

#define LOAD(x) ((long long)__atomic_load_n(&(x), __ATOMIC_RELAXED))

const char *const metrics_cache_status_names[METRICS_CACHE_STATUSES] = {
    "HIT", "MISS", "BYPASS", "EXPIRED", "STALE", "UPDATING", "REVALIDATED",
};

char *
metrics_render(arena_t *a, const char *run_dir, const struct route *routes, size_t nroutes)
{
    struct textbuf t = {a, arena_alloc(a, 16384), 0, 16384};
    const struct metrics_segment *segs[3] = {NULL, NULL, NULL};
    for (int i = 0; i < 3; i++) {
        segs[i] = metrics_open(run_dir, roles[i], false, false);
    }

    tb_printf(&t, "# HELP market_http_requests_total Requests answered, by role, route and status.\n"
                  "# TYPE market_http_requests_total counter\n");
    for (int i = 0; i < 3; i++) {
        if (segs[i] != NULL) {
            render_segment(&t, segs[i], routes, nroutes, 0);
        }
    }
    tb_printf(&t, "# HELP market_http_request_duration_seconds Time from request read to response written.\n"
                  "# TYPE market_http_request_duration_seconds histogram\n");
    for (int i = 0; i < 3; i++) {
        if (segs[i] != NULL) {
            render_segment(&t, segs[i], routes, nroutes, 1);
        }
    }

    static const struct {
        const char *name, *type, *help;
        size_t offset;
        bool pools_only;
    } gauges[] = {
#define G(n, ty, h, f, p) {n, ty, h, offsetof(struct metrics_segment, f), p}
        G("market_pool_workers_configured", "gauge", "Workers the pool keeps running.", workers_configured, true),
        G("market_pool_workers_alive", "gauge", "Workers alive now.", workers_alive, true),
        G("market_pool_worker_starts_total", "counter", "Workers started.", worker_starts, true),
        G("market_pool_worker_restarts_total", "counter", "Workers that died and were replaced.", worker_crashes, true),
        G("market_pool_worker_recycles_total", "counter", "Workers recycled after max_requests.", worker_recycles, true),
        G("market_cache_hits_total", "counter", "Redis cache-aside hits.", cache_hits, true),
        G("market_cache_misses_total", "counter", "Redis cache-aside misses.", cache_misses, true),
        G("market_logins_total", "counter", "Successful logins.", logins_ok, true),
        G("market_login_failures_total", "counter", "Logins refused for wrong credentials.", logins_failed, true),
        G("market_login_throttled_total", "counter", "Logins refused with 429 (too many failures).",
          logins_throttled, true),
#undef G
    };
    for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
        tb_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", gauges[g].name, gauges[g].help, gauges[g].name, gauges[g].type);
        for (int i = 0; i < 2; i++) {
            if (segs[i] != NULL) {
                const int64_t *v = (const int64_t *)((const char *)segs[i] + gauges[g].offset);
                tb_printf(&t, "%s{role=\"%s\"} %lld\n", gauges[g].name, roles[i],
                          (long long)__atomic_load_n(v, __ATOMIC_RELAXED));
            }
        }
    }

    const struct metrics_segment *q = segs[1];
    if (q != NULL) {
        tb_printf(&t, "# HELP market_private_reads_total Private reads (users/me, orders, balances, offers) by where they "
                      "were served: the replica at once, the replica after waiting for it to replay the user's last "
                      "write, or the primary.\n# TYPE market_private_reads_total counter\n"
                      "market_private_reads_total{source=\"replica\"} %lld\n"
                      "market_private_reads_total{source=\"replica_waited\"} %lld\n"
                      "market_private_reads_total{source=\"primary\"} %lld\n",
                  LOAD(q->private_reads[0]), LOAD(q->private_reads[1]), LOAD(q->private_reads[2]));
    }
    const struct metrics_segment *p = segs[2];
    if (p != NULL) {
        tb_printf(&t,
                  "# HELP market_projector_active 1 while a projector holds the advisory lock.\n"
                  "# TYPE market_projector_active gauge\nmarket_projector_active %lld\n"
                  "# HELP market_outbox_applied_seq Highest outbox seq applied to the read model.\n"
                  "# TYPE market_outbox_applied_seq gauge\nmarket_outbox_applied_seq %lld\n"
                  "# HELP market_outbox_head_seq Highest outbox seq committed, as last seen by the projector.\n"
                  "# TYPE market_outbox_head_seq gauge\nmarket_outbox_head_seq %lld\n"
                  "# HELP market_outbox_pending_events Committed events not yet applied.\n"
                  "# TYPE market_outbox_pending_events gauge\nmarket_outbox_pending_events %lld\n"
                  "# HELP market_outbox_lag_seconds Age of the oldest committed event not yet applied.\n"
                  "# TYPE market_outbox_lag_seconds gauge\nmarket_outbox_lag_seconds %.3f\n"
                  "# HELP market_projector_events_applied_total Events applied to the read model.\n"
                  "# TYPE market_projector_events_applied_total counter\nmarket_projector_events_applied_total %lld\n"
                  "# HELP market_projector_events_skipped_total Events skipped as older than the document.\n"
                  "# TYPE market_projector_events_skipped_total counter\nmarket_projector_events_skipped_total %lld\n"
                  "# HELP market_projector_rebuilds_total Read-model rebuilds.\n"
                  "# TYPE market_projector_rebuilds_total counter\nmarket_projector_rebuilds_total %lld\n"
                  "# HELP market_projector_page_purges_total nginx page purges: sent, or skipped while rebuilding.\n"
                  "# TYPE market_projector_page_purges_total counter\n"
                  "market_projector_page_purges_total{result=\"sent\"} %lld\n"
                  "market_projector_page_purges_total{result=\"skipped_rebuilding\"} %lld\n",
                  LOAD(p->projector_active), LOAD(p->projector_applied_seq), LOAD(p->projector_head_seq),
                  LOAD(p->projector_pending), (double)LOAD(p->projector_lag_ms) / 1000.0,
                  LOAD(p->projector_events_applied), LOAD(p->projector_events_skipped), LOAD(p->projector_rebuilds),
                  LOAD(p->page_purges[0]), LOAD(p->page_purges[1]));
        tb_printf(&t, "# HELP market_nginx_cache_total nginx micro-cache outcomes, from its access log.\n"
                      "# TYPE market_nginx_cache_total counter\n");
        for (int i = 0; i < METRICS_CACHE_STATUSES; i++) {
            tb_printf(&t, "market_nginx_cache_total{status=\"%s\"} %lld\n", metrics_cache_status_names[i],
                      LOAD(p->nginx_cache[i]));
        }
    }
    for (int i = 0; i < 3; i++) {
        if (segs[i] != NULL) {
            munmap((void *)segs[i], sizeof(struct metrics_segment));
        }
    }
    return t.p;
}
