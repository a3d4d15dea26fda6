#include "projector/prefetch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "projector/projections.h"
#include "store/pg.h"

struct prefetch {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pg pg;              /* the thread's own connection */
    bool stop;
    unsigned long asked;       /* the request's number: a newer one drops an older one's result */
    bool wanted;               /* a request is open */
    struct outbox_pos after;   /* its position */
    int limit;
    struct fetched *ready;     /* its result, once read (NULL: still reading, or it failed) */
    bool done;                 /* the open request was answered (ready, or NULL on failure) */
};

void
fetched_parse(arena_t *arena, const struct outbox_row *rows, json_object **payloads, int n)
{
    for (int i = 0; i < n; i++) {
        payloads[i] = json_tokener_parse(rows[i].payload);
        if (payloads[i] != NULL) {
            arena_cleanup_add(arena, (arena_cleanup_fn)(void (*)(void))json_object_put, payloads[i]);
        }
    }
}

void
fetched_free(void *arg)
{
    struct fetched *f = arg;
    if (f != NULL) {
        arena_destroy(f->arena);
        free(f);
    }
}

/* Read and parse one batch; NULL when the read failed. */
static struct fetched *
fetch(struct prefetch *pf, const struct outbox_pos *after, int limit)
{
    struct fetched *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return NULL;
    }
    f->arena = arena_create(64 * 1024);
    if (outbox_read(&pf->pg, f->arena, after, limit, &f->rows, &f->n) != MK_OK) {
        fetched_free(f);
        return NULL;
    }
    f->payloads = arena_alloc(f->arena, ((size_t)f->n + 1) * sizeof(*f->payloads));
    fetched_parse(f->arena, f->rows, f->payloads, f->n);
    return f;
}

static void *
prefetch_main(void *arg)
{
    struct prefetch *pf = arg;
    pthread_mutex_lock(&pf->mu);
    while (!pf->stop) {
        if (!pf->wanted || pf->done) {
            pthread_cond_wait(&pf->cv, &pf->mu);
            continue;
        }
        unsigned long asked = pf->asked;
        struct outbox_pos after = pf->after;
        int limit = pf->limit;
        pthread_mutex_unlock(&pf->mu);
        struct fetched *f = fetch(pf, &after, limit);
        pthread_mutex_lock(&pf->mu);
        if (pf->wanted && pf->asked == asked) {
            pf->ready = f;
            pf->done = true;
            pthread_cond_broadcast(&pf->cv);
        } else {
            fetched_free(f);   /* asked for another position meanwhile */
        }
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

int
prefetch_start(struct prefetch **out, const struct config *cfg)
{
    struct prefetch *pf = calloc(1, sizeof(*pf));
    if (pf == NULL) {
        return MK_EINTERNAL;
    }
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    pg_init(&pf->pg, cfg->pg_dsn, cfg->pg_statement_timeout_ms);
    int rc = projector_thread_start(&pf->thread, prefetch_main, pf, "projector prefetch");
    if (rc != MK_OK) {
        pg_close(&pf->pg);
        free(pf);
        return rc;
    }
    *out = pf;
    return MK_OK;
}

/* Drop the open request (its result, or the one still being read). With pf->mu held. */
static void
drop(struct prefetch *pf)
{
    fetched_free(pf->ready);
    pf->ready = NULL;
    pf->wanted = false;
    pf->done = false;
}

void
prefetch_ask(struct prefetch *pf, const struct outbox_pos *after, int limit)
{
    pthread_mutex_lock(&pf->mu);
    drop(pf);
    pf->asked++;
    pf->wanted = true;
    pf->after = *after;
    pf->limit = limit;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
}

struct fetched *
prefetch_take(struct prefetch *pf, const struct outbox_pos *after)
{
    struct fetched *f = NULL;
    pthread_mutex_lock(&pf->mu);
    if (pf->wanted && pf->after.seq == after->seq && strcmp(pf->after.txid, after->txid) == 0) {
        while (!pf->done && !pf->stop) {
            pthread_cond_wait(&pf->cv, &pf->mu);
        }
        f = pf->ready;
        pf->ready = NULL;
    }
    drop(pf);
    pthread_mutex_unlock(&pf->mu);
    return f;
}

void
prefetch_stop(struct prefetch *pf)
{
    if (pf == NULL) {
        return;
    }
    pthread_mutex_lock(&pf->mu);
    pf->stop = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->thread, NULL);
    drop(pf);
    pg_close(&pf->pg);
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    free(pf);
}
