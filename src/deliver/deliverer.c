#include "deliver/deliverer.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "domain/notify.h"
#include "domain/webhook.h"
#include "store/outcall.h"
#include "worker.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

const char *
deliverer_outcome(long status_code, bool transport_error)
{
    if (transport_error) {
        return "retry";   /* time-out or connection error */
    }
    if (status_code >= 200 && status_code < 300) {
        return "succeeded";
    }
    if (status_code >= 500 || status_code == 408 || status_code == 429) {
        return "retry";
    }
    return "failed";
}

/* Send one claimed delivery and record the attempt. */
static int
deliver(struct worker *w, arena_t *a, const struct webhook_claim *c)
{
    const struct config *cfg = w->cfg;
    struct outcall_result res = {0};
    bool transport_error = false, refused = false;
    unsigned char secret[WEBHOOK_SECRET_BYTES];
    struct webhook_dest dest;
    const char *problem = NULL;
    if (webhook_unseal(cfg->webhook_secret_key, c->sealed, secret) != MK_OK) {
        res.error = "the webhook's secret cannot be opened (webhook_secret_key changed?)";
        refused = true;
    } else if (webhook_check_url(a, cfg, c->url, &dest, &problem) != MK_OK) {
        /* checked again at every attempt: a host that now resolves to a refused address
         * ends the delivery; one that does not resolve is retried like a connection error */
        res.error = arena_sprintf(a, "url: %s", problem);
        refused = strstr(problem, "does not resolve") == NULL;
        transport_error = !refused;
    } else {
        long long ts = (long long)time(NULL);
        const char *headers[] = {
            arena_sprintf(a, "webhook-id: %s", c->notification_id),
            arena_sprintf(a, "webhook-timestamp: %lld", ts),
            arena_sprintf(a, "webhook-signature: %s",
                          webhook_signature(a, secret, sizeof(secret), c->notification_id, ts, c->body)),
            NULL,
        };
        struct outcall_request q = {c->url, dest.host, dest.port, dest.address, headers, c->body, cfg->webhook_timeout_ms};
        transport_error = outcall_post(a, &q, &res) != MK_OK;
    }
    memset(secret, 0, sizeof(secret));
    const char *outcome = refused ? "failed" : deliverer_outcome(res.status, transport_error);
    const char *status = outcome;
    long long delay_ms = -1;
    if (strcmp(outcome, "retry") == 0) {
        long delay = notify_retry_delay_s(c->attempts + 1, c->since_first_s);
        status = delay < 0 ? "failed" : "pending";
        delay_ms = delay < 0 ? -1 : (long long)delay * 10LL * cfg->webhook_backoff_scale_pct;
    }
    log_info("deliverer: delivery %s attempt %d: %ld %s -> %s", c->id, c->attempts + 1, res.status,
             res.error != NULL ? res.error : "", status);
    return webhook_record(&w->pg, a, c, res.status, res.error, res.duration_ms, status, delay_ms);
}

static void
pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int
deliverer_main(const struct config *cfg)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct worker w;
    worker_open(&w, cfg, "deliverer");
    arena_t *a = arena_create(64 * 1024);
    const void *listening = NULL;
    int lease_s = cfg->webhook_timeout_ms / 1000 + 10;
    log_info("deliverer: started");
    while (!stop_requested) {
        arena_reset(a);
        if (pg_conn(&w.pg) == NULL) {
            pause_ms(500);
            continue;
        }
        if (listening != w.pg.conn) {
            if (pg_simple(&w.pg, "LISTEN webhook_deliveries") != MK_OK) {
                pause_ms(500);
                continue;
            }
            listening = w.pg.conn;
        }
        struct webhook_claim c;
        int rc = webhook_claim(&w.pg, a, lease_s, &c);
        if (rc == MK_OK) {
            deliver(&w, a, &c);
            continue;
        }
        long long due = -1;
        int wait = cfg->deliverer_poll_ms;
        if (rc == MK_ENOTFOUND && webhook_next_due_ms(&w.pg, a, &due) == MK_OK && due >= 0 && due < wait) {
            wait = (int)due + 1;
        }
        if (rc != MK_ENOTFOUND || pg_wait_notify(&w.pg, wait, NULL, NULL) < 0) {
            pause_ms(rc != MK_ENOTFOUND ? 500 : wait);
        }
    }
    log_info("deliverer: stopped");
    arena_destroy(a);
    worker_close(&w);
    return 0;
}
